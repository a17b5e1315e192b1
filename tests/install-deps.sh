#!/usr/bin/env bash
# Install what building dv needs (and, with --test, what its tests need) from
# Debian's packages. Runs apt-get only for packages that are missing.
set -euo pipefail

packages=(build-essential cmake pkg-config git libgit2-dev libzstd-dev libssl-dev libcurl4-openssl-dev)
if [ "${1:-}" = "--test" ]; then
    packages+=(libcriterion-dev openssl util-linux python3 curl)
    # The S3 test rig (tests/s3) runs on node; rig.sh installs its npm packages on first start.
    command -v node >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
