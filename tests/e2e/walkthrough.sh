#!/usr/bin/env bash
# A short walkthrough of dv on generated data in a temporary git repository:
# init, add a directory and a large file, commit, change a few files and 1% of
# the large file, add again, status, then go back to the first commit with
# git checkout + dv checkout and prove the bytes match.
# usage: walkthrough.sh [path/to/dv] [large-file-MiB]
set -euo pipefail
dv=$(realpath "${1:-$(dirname "$0")/../../build/dv}")
large_mib=${2:-256}
work=$(mktemp -d "${TMPDIR:-/tmp}/dv-walkthrough.XXXXXX")
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=dv GIT_AUTHOR_EMAIL=dv@example.invalid
export GIT_COMMITTER_NAME=dv GIT_COMMITTER_EMAIL=dv@example.invalid
export DV_NO_PROGRESS=1

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# Deterministic random bytes; the reader stops early, so ignore the broken pipe.
keystream() { openssl enc -aes-128-ctr -nosalt -K "$(printf '%032x' "$1")" -iv 0 < /dev/zero 2>/dev/null || true; }
digest() { (cd "$1" && find . -type f ! -path './.git/*' ! -path './.dv/*' ! -name '*.dv' ! -name .gitignore -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64; }
pack_bytes() { find .dv/cache/packs -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}'; }

cd "$work"
step "a git repository with dv"
run git init -q -b main repo
cd repo
run "$dv" init

step "generate data: 1000 small files in data/ and a ${large_mib} MiB model.bin"
mkdir -p data
keystream 1 | head -c $((1000 * 4096)) > "$work/pool"
for i in $(seq 0 999); do
    d=data/part$((i % 10)); mkdir -p "$d"
    dd if="$work/pool" of="$d/file$i.bin" bs=4096 skip="$i" count=1 status=none
done
keystream 2 | head -c $((large_mib * 1024 * 1024)) > model.bin

step "add and commit the first version"
run "$dv" add data model.bin
run git commit -q -m "data v1"
v1=$(git rev-parse HEAD)
digest_v1=$(digest .)
stored_v1=$(pack_bytes)

step "change 3 files, add 1, and edit 1% of model.bin in 40 places"
keystream 3 | head -c 100 > data/part1/file1.bin
keystream 4 | head -c 5000 > data/part2/file2.bin
rm data/part3/file3.bin
echo "a new file" > data/part4/new.txt
size=$(stat -c %s model.bin)
edit_bytes=$(( size / 100 / 40 ))
for i in $(seq 1 40); do
    off=$(( (i * 2654435761) % (size - edit_bytes) ))
    keystream $((100 + i)) | head -c "$edit_bytes" | dd of=model.bin oflag=seek_bytes seek="$off" conv=notrunc status=none
done
run "$dv" status || true

step "add and commit the second version"
run "$dv" add data model.bin
run "$dv" status
run git commit -q -m "data v2"
digest_v2=$(digest .)
stored_v2=$(pack_bytes)

step "back to the first commit"
run git checkout -q "$v1"
run "$dv" checkout
run "$dv" status
if [ "$(digest .)" != "$digest_v1" ]; then
    echo "walkthrough: FAILED: the restored first version differs from the original" >&2
    exit 1
fi
echo "the work tree matches the first version byte for byte (sha256 of every file)"

step "and forward again"
run git checkout -q main
run "$dv" checkout
[ "$(digest .)" = "$digest_v2" ] || { echo "walkthrough: FAILED: second version differs" >&2; exit 1; }
echo "the work tree matches the second version byte for byte"

step "the store"
run "$dv" fsck
logical=$(( 2 * ($(du -sb --apparent-size data | cut -f1) + size) ))
echo "two versions of the data:   $logical bytes"
echo "stored after version 1:     $stored_v1 bytes"
echo "stored after version 2:     $stored_v2 bytes (+$((stored_v2 - stored_v1)) for the second version)"
echo "deduplicated:               $((logical - stored_v2)) bytes"

step "push to a directory remote, and pull into a fresh clone"
run "$dv" remote add --default backup "$work/remote"
run git commit -q -m "remote" .dv/config
run "$dv" push
run git clone -q "$PWD" "$work/clone"
cd "$work/clone"
run "$dv" pull
[ "$(digest .)" = "$digest_v2" ] || { echo "walkthrough: FAILED: the pulled clone differs" >&2; exit 1; }
echo "the clone matches the second version byte for byte"
