#!/usr/bin/env bash
# dv drop and dv gc --pushed against the S3 rig (tests/s3): content the bucket lacks is
# refused (the store untouched); dropped content is on the remote only for dv status; dv
# checkout fetches it back byte for byte, of the work tree and of an old revision; dv fsck
# is clean after each step.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

. "$HERE/s3_lib.sh"
store_state() { (cd .dv/cache && find packs -type f -printf '%p %s\n' | sort && cat packs/*) | sha256sum; }
pack_count() { find .dv/cache/packs -name '*.pack' 2>/dev/null | wc -l; }

step "v1: data/ and model.bin pushed to the bucket; v2 changes model.bin"
new_repo "$T/r"
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url"
mkdir data
gen_random data/a.bin $((1 << 20)) 1
gen_random data/b.bin 300000 2
gen_random model.bin $((2 << 20)) 3
a_sha=$(sha_of data/a.bin)
b_sha=$(sha_of data/b.bin)
m1_sha=$(sha_of model.bin)
assert_exit 0 "$DV" add data model.bin
git add -A && git commit -qm v1 && git tag v1
gen_random model.bin $((2 << 20)) 4
m2_sha=$(sha_of model.bin)
assert_exit 0 "$DV" add model.bin
git add -A && git commit -qm v2
assert_exit 0 "$DV" push --all-tags
assert_exit 0 "$DV" push

step "unpushed content is refused, nothing deleted"
gen_random local.bin 200000 5
assert_exit 0 "$DV" add local.bin
state=$(store_state)
assert_exit 4 "$DV" drop local.bin
assert_contains "$ERR" "local.bin"
assert_eq "$state" "$(store_state)" "store files after the refusal"

step "dv drop data: on origin only; dv checkout fetches it from the bucket"
assert_exit 0 "$DV" drop data
assert_contains "$OUT" "dropped data (on origin)"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" status
assert_contains "$OUT" "on origin only:  data"
rm -rf data
assert_exit 0 "$DV" checkout data
assert_contains "$OUT" "fetched "
assert_file_sha data/a.bin "$a_sha" "data/a.bin"
assert_file_sha data/b.bin "$b_sha" "data/b.bin"
assert_exit 0 "$DV" fsck

step "dv gc --pushed: everything the bucket holds goes; local.bin stays"
assert_exit 0 "$DV" gc --pushed
assert_contains "$OUT" "dropped: "
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" cat local.bin
assert_exit 0 "$DV" status
assert_contains "$OUT" "on origin only:  model.bin"

step "dv checkout v1 fetches the old model from the bucket, then back to main"
assert_exit 0 "$DV" checkout v1 -- model.bin
assert_contains "$OUT" "fetched "
assert_file_sha model.bin "$m1_sha" "model.bin at v1"
assert_exit 0 "$DV" checkout HEAD -- model.bin
assert_file_sha model.bin "$m2_sha" "model.bin at HEAD"
assert_exit 0 "$DV" fsck

step "content dropped with --force (not on the bucket) is still never overwritten"
local_sha=$(sha_of local.bin)
assert_exit 0 "$DV" drop --force local.bin
assert_exit 4 "$DV" checkout v1
assert_contains "$ERR" "local.bin"
assert_file_sha local.bin "$local_sha" "local.bin kept"
assert_file_sha model.bin "$m2_sha" "model.bin untouched by the refused checkout"
