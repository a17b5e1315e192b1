#!/usr/bin/env bash
# A push to S3 killed with SIGKILL at several moments leaves nothing half-written: dv uploads
# each pack and index with one PUT (no multipart upload, so no incomplete upload can be left
# behind to abort), every object the bucket lists has exactly the size of the local file it
# came from, the next push completes, and a fresh clone pulls everything with dv fsck clean.
# Runs under the S3 rig (tests/s3), like test_s3_remote.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

if [ -z "${DV_TEST_S3_ENDPOINT:-}" ]; then
    echo "SKIP: no S3 test rig (run through ctest, or: tests/s3/rig.sh start DIR; . DIR/env)"
    exit 0
fi

PREFIX="kill-$$-$RANDOM"
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
list_sizes() { # "<name> <size>" of every object under the prefix, sorted
    curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $EMPTY_SHA" \
        "$DV_TEST_S3_ENDPOINT/$DV_TEST_S3_BUCKET/?list-type=2&prefix=$PREFIX%2F" |
        "$PY" -c 'import re, sys
x = sys.stdin.read()
for key, size in sorted(re.findall(r"<Contents>.*?<Key>([^<]*)</Key>.*?<Size>(\d+)</Size>", x, re.S)):
    print(key.split("/")[-1], size)'
}
# every listed object has the size of the local file of that name
check_whole() {
    local name size local_size n=0
    while read -r name size; do
        local_size=$(stat -c %s ".dv/cache/packs/$name") || fail "$name on the remote is not in the store"
        [ "$size" = "$local_size" ] || fail "$name is listed with $size bytes, the store has $local_size"
        n=$((n + 1))
    done < <(list_sizes)
    ok "$n objects listed, each whole"
}

step "a store of several packs, pushed to S3 and killed at several moments"
new_repo "$T/origin"
printf '[pack]\n\ttargetSize = 16777216\n' >>.dv/config
gen_random big.bin $((96 * 1024 * 1024)) 11
assert_exit 0 "$DV" add big.bin
assert_exit 0 "$DV" remote add --default --endpoint "$DV_TEST_S3_ENDPOINT" --path-style \
    --region us-east-1 origin "s3://$DV_TEST_S3_BUCKET/$PREFIX"
git add -A && git commit -q -m data
note "$(pack_count) local packs"
for delay in 0.2 0.5 0.9 1.4; do
    "$DV" push -j 2 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    note "killed after ${delay}s: $(list_sizes | wc -l | tr -d ' ') objects on the remote"
    check_whole
done

step "no multipart upload was ever started (dv makes one PUT per object)"
counts=$T/counts.json
bash "$HERE/../s3/rig.sh" counts "$DV_TEST_S3_RIG" "$PREFIX" >"$counts"
note "$(cat "$counts")"
assert_eq 0 "$(json_get "$counts" 'j.get("methods", {}).get("POST", 0)')" "POST requests"

step "the next push completes; a fresh clone pulls everything, dv fsck is clean"
assert_exit 0 "$DV" push
check_whole
assert_eq "$((2 * $(pack_count)))" "$(list_sizes | wc -l | tr -d ' ')" "objects on the remote"
git clone -q "$T/origin" "$T/fresh"
cd "$T/fresh"
assert_exit 0 "$DV" pull
assert_file_sha big.bin "$(sha_of "$T/origin/big.bin")" "big.bin"
assert_exit 0 "$DV" fsck
