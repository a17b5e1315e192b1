#!/usr/bin/env bash
# Repair against the real S3-compatible server of tests/s3: a flipped byte in a local pack
# is mended by dv fsck --repair from the bucket; a flipped byte in a pack in the bucket is
# found by dv fsck --remote --full (not by the default check, which reads indexes and
# trailers) and replaced by dv push --repair; after each, the data restores byte-exact.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/s3_lib.sh"

step "origin: data pushed to the bucket"
new_repo "$T/origin"
mkdir data
for f in 1 2 3; do gen_random "data/f$f.bin" 400000 "$f"; done
gen_text data/t.csv 20000 4
assert_exit 0 "$DV" add data
git commit -q -m data
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url"
git commit -q -m remote .dv/config
assert_exit 0 "$DV" push
snapshot data "$T/data.list" >/dev/null

step "a flipped byte in a local pack: dv fsck --repair fetches it from the bucket"
pack=$(find .dv/cache/packs -name '*.pack' -printf '%s %p\n' | sort -n | tail -n1 | cut -d' ' -f2)
victim=$(pack_entry "$pack" 1 id)
chmod u+w "$pack"
flip_byte "$pack" "$(( $(pack_entry "$pack" 1 stored) + 2 ))"
assert_exit 1 "$DV" fsck
assert_exit 0 "$DV" fsck --repair
assert_contains "$OUT" "fetched 1 object"
assert_contains "$OUT" "checked again: 0 problems"
rm -rf data
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/data.list" "data/ after the local repair"

step "a flipped byte in a pack in the bucket: found by --full, replaced by dv push --repair"
name=$(remote_ls | grep '\.pack$' | head -n1)
remote_get "$name" "$T/remote.pack"
victim=$(pack_entry "$T/remote.pack" 0 id)
flip_byte "$T/remote.pack" "$(( $(pack_entry "$T/remote.pack" 0 stored) + 9 ))"
remote_put "$T/remote.pack" "$name"
assert_exit 0 "$DV" fsck --remote
assert_exit 1 "$DV" fsck --remote --full
assert_contains "$OUT" "$victim"
assert_exit 0 "$DV" push --repair
assert_exit 0 "$DV" fsck --remote --full
assert_contains "$OUT" ": 0 problems"

step "a fresh clone pulls the data byte-exact from the mended bucket"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" pull
assert_tree_matches data "$T/data.list" "data/ pulled from the bucket"
