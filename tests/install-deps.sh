#!/usr/bin/env bash
# Install what building dv needs (and, with --test, what its tests need; with --fuzz,
# what tests/fuzz needs) from Debian's packages. Runs apt-get only for packages that are
# missing.
set -euo pipefail

packages=(build-essential cmake pkg-config git libgit2-dev libzstd-dev libssl-dev libcurl4-openssl-dev libarchive-dev)
want_test=0 want_fuzz=0
for arg in "$@"; do
    case "$arg" in
    --test) want_test=1 ;;
    --fuzz) want_fuzz=1 ;;
    *) echo "usage: install-deps.sh [--test] [--fuzz]" >&2; exit 2 ;;
    esac
done
if [ "$want_test" = 1 ]; then
    packages+=(libcriterion-dev openssl util-linux python3 curl)
    # tests/e2e/test_export.sh extracts with the system's tools and fakes the clock.
    packages+=(tar libarchive-tools unzip zstd xz-utils gzip faketime)
    # tests/e2e/test_remote_http.sh serves its HTTP mirror with nginx (run by the test, from
    # its own config and temp dir; the system service is not needed).
    packages+=(nginx)
    # The S3 test rig (tests/s3) runs on node; rig.sh installs its npm packages on first start.
    command -v node >/dev/null || packages+=(nodejs npm)
fi
if [ "$want_fuzz" = 1 ]; then
    # libFuzzer and the sanitizer runtimes come with clang's compiler-rt, packaged apart.
    packages+=(clang libclang-rt-14-dev)
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

# Debian's nginx postinst runs "invoke-rc.d nginx start" (the default site, on port 80 and
# [::]:80, as root) and fails the whole apt-get install if that start fails (no IPv6, the
# port taken on one address family, ...), with systemd or with /etc/init.d. The tests do
# not need that service, so while installing, a policy-rc.d (see invoke-rc.d(8)) denies
# starting nginx - unless the system already has a policy-rc.d, which then decides.
policy=/usr/sbin/policy-rc.d
if [[ " ${missing[*]} " == *" nginx "* ]] && [ ! -e "$policy" ]; then
    trap '$sudo rm -f "$policy"' EXIT
    trap 'exit 130' INT TERM
    # Other services: what invoke-rc.d does without a policy-rc.d (block only if no init).
    printf '%s\n' '#!/bin/sh' \
        '# Temporary, from dv tests/install-deps.sh: do not start nginx while it installs.' \
        'while [ $# -gt 0 ]; do case "$1" in --*) shift ;; *) break ;; esac; done' \
        'case "$1" in nginx|nginx.service) exit 101 ;; esac' \
        '[ -e /sbin/init ] || exit 101' 'exit 0' |
        $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
fi

echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
