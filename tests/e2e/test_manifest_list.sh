#!/usr/bin/env bash
# A file of more chunks than one manifest object can list (64 MiB of manifest:
# 1,864,135 chunks) is stored as a manifest list of parts (docs/formats.md,
# "Manifest list"), and comes back byte-exact through checkout, status, push and a
# pull into a fresh clone. Small chunking (64/128/256 bytes) makes such a file
# 477 MiB instead of 120 GiB; the format and the code paths are the same.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "a repository with 64/128/256-byte chunks and a 500 MB file of ~1.95 M chunks"
mkdir -p "$T/repo"
cd "$T/repo"
git init -q
git config user.email dv@example.com
git config user.name dv
assert_exit 0 "$DV" init -q --chunk-min 64 --chunk-avg 128 --chunk-max 256
git commit -q -m init
# Random ends around a sparse run of zeros, which cuts every 256 bytes: 1,953,125
# chunks of zeros alone, more than one manifest holds.
"$PY" -c 'import random
r = random.Random(20261202)
with open("big.bin", "wb") as f:
    f.write(r.randbytes(65536))
    f.truncate(65536 + 500 * 1000 * 1000)
    f.seek(0, 2)
    f.write(r.randbytes(65536))'
sum=$(sha_of big.bin)
note "big.bin sha256 $sum"

step "dv add stores it (one manifest object could not list its chunks)"
assert_exit 0 "$DV" add big.bin
assert_contains big.bin.dv "size: 500131072"
git commit -q -m big
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" status -q

step "dv checkout restores every byte"
rm big.bin
assert_exit 0 "$DV" checkout
assert_file_sha big.bin "$sum" "restored big.bin"
assert_exit 0 "$DV" status -q

step "push to a directory remote, pull into a fresh clone"
assert_exit 0 "$DV" remote add --default backup "$T/remote"
git commit -q -m remote .dv/config
assert_exit 0 "$DV" push
git clone -q "$T/repo" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" pull
assert_file_sha big.bin "$sum" "pulled big.bin"
assert_exit 0 "$DV" fsck
