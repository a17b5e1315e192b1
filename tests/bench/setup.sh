#!/usr/bin/env bash
# Install the benchmark anchors from Debian's packages (Debian 12 "bookworm").
# Usage: tests/bench/setup.sh [--no-update]
# Needs root (or sudo). Packages that are not available are reported and skipped;
# run.sh marks the matching benchmarks "not installed".
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup.sh: must run as root (or have sudo)" >&2; exit 1
  fi
fi

if [ "${1:-}" != "--no-update" ]; then
  $SUDO apt-get update
fi

# required: the anchors (awscli for the s3 group) and the measuring tools
required=(git git-lfs restic casync borgbackup awscli time openssl python3 coreutils)
# the S3 test rig (tests/s3, used by the s3 group) runs on node and installs s3rver with npm
# on first use; Debian's node and npm only when there is no node yet (e.g. from NodeSource,
# whose package includes npm and conflicts with Debian's)
if ! command -v node >/dev/null 2>&1; then required+=(nodejs npm); fi
# optional: hyperfine (not used by run.sh, handy for ad-hoc checks)
optional=(hyperfine)

available() {
  # a package is installable when apt-cache policy shows a candidate version
  local cand
  cand=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

want=() missing=()
for p in "${required[@]}" "${optional[@]}"; do
  if available "$p"; then want+=("$p"); else missing+=("$p"); fi
done

if [ "${#want[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${want[@]}"
fi

echo
echo "installed / present:"
for p in "${want[@]}"; do
  printf '  %-12s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo '?')"
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "not available from apt (benchmarks using them are skipped):"
  for p in "${missing[@]}"; do echo "  $p"; done
fi
