#!/usr/bin/env bash
# One file of a tracked directory of many, pulled alone from S3 once the remote's indexes
# are cached: a list of the packs, the directory's tree, the subdirectory's tree, the file's
# manifest and its chunks (one ranged read) — five requests, every byte right, and nothing
# else of the directory in the store.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

. "$HERE/s3_lib.sh"

step "origin: tree/ of 20 directories of 25 small files, and a 10 MiB file among them, pushed"
new_repo "$T/origin"
for d in $(seq -w 0 19); do
    mkdir -p "tree/d0$d"
    for f in $(seq 1 25); do
        printf 'file %s of d0%s\n' "$f" "$d" >"tree/d0$d/f$f.txt"
    done
done
gen_random tree/d004/big.bin $((10 << 20)) 41
big=$(sha_of tree/d004/big.bin)
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url"
assert_exit 0 "$DV" add tree
git commit -q -m tree
assert_exit 0 "$DV" push

step "a fresh clone: one small file first (the indexes cached), then the 10 MiB file"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" remote list
assert_exit 0 "$DV" pull tree/d011/f3.txt
assert_eq "file 3 of d011" "$(cat tree/d011/f3.txt)" "tree/d011/f3.txt"
assert_exit 0 "$DV" pull --stats tree/d004/big.bin
stats=$(grep requests "$ERR")
note "$stats"
total=$(sed -n 's/.*list=\([0-9]*\) get=\([0-9]*\) put=\([0-9]*\) other=\([0-9]*\).*/\1 \2 \3 \4/p' \
    <<<"$stats" | awk '{print $1 + $2 + $3 + $4}')
[ -n "$total" ] && [ "$total" -le 5 ] || fail "the pull of one file made ${total:-?} requests: $stats"
assert_file_sha tree/d004/big.bin "$big" "tree/d004/big.bin"
assert_eq "tree/d004/big.bin tree/d011/f3.txt" \
    "$(find tree -type f | sort | tr '\n' ' ' | sed 's/ $//')" "the files in the work tree"
assert_exit 0 "$DV" fsck
ok "$total requests for one file of 501"
