#!/usr/bin/env bash
# Seeded kill loop for dv push to S3 (the rig in tests/s3, started by ctest's fixture):
# with v1 and v2 committed and stored (256 MiB file + 300 small files), SIGKILL `dv push`
# to a new, empty key prefix at a random moment, then
#   - dv fsck is clean and the work tree is still exactly v2;
#   - re-running dv push succeeds, and a third push has nothing to send;
#   - no temp file is left after it in the work tree, .dv/tmp or the store, and the
#     bucket, listed through the rig, holds nothing under the prefix but
#     packs/<id>.pack and packs/<id>.idx;
#   - a fresh git clone + dv pull from that prefix restores exactly the v2 bytes.
# 3 kills by default (about a minute and a half here), 30 with DV_KILL_LONG=1; seed
# DV_KILL_SEED (default 1), replay one kill with DV_KILL_ITER=<k>. See kill_loop.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

if [ -z "${DV_TEST_S3_ENDPOINT:-}" ]; then
    echo "SKIP: no S3 test rig (run through ctest, or: tests/s3/rig.sh start DIR; . DIR/env)"
    exit 0
fi
. "$HERE/kill_loop.sh"

PREFIX="e2e-kill-$$-$RANDOM"
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

s3() { # s3 METHOD KEY: a signed request to the rig
    curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X "$1" \
        -H "x-amz-content-sha256: $EMPTY_SHA" "$DV_TEST_S3_ENDPOINT/$DV_TEST_S3_BUCKET/$2"
}
# remote_keys K: every key under remote K's prefix, relative to it, sorted.
remote_keys() {
    s3 GET "?list-type=2&prefix=$PREFIX%2Fk$1%2F" |
        grep -oE "<Key>[^<]*</Key>" | sed -e 's/<Key>//' -e 's/<\/Key>//' -e "s|^$PREFIX/k$1/||" |
        sort
}

kill_remote_add() {
    assert_exit 0 "$DV" remote add --endpoint "$DV_TEST_S3_ENDPOINT" --path-style \
        --region us-east-1 "$1" "s3://$DV_TEST_S3_BUCKET/$PREFIX/k$2"
}
kill_remote_dir() { :; }
kill_remote_check() {
    local keys found
    keys=$(remote_keys "$1") || fail "$KILL_CONTEXT: cannot list the bucket through the rig"
    [ -n "$keys" ] || fail "$KILL_CONTEXT: nothing under $PREFIX/k$1 after the push"
    found=$(printf '%s\n' "$keys" | grep -vE '^packs/[0-9a-f]{64}\.(pack|idx)$' || true)
    [ -z "$found" ] || fail "$KILL_CONTEXT: keys under the prefix that are not packs or indexes: $(kill_list "$found")"
    ok "prefix k$1 holds only packs and indexes ($(printf '%s\n' "$keys" | wc -l) keys)"
}
kill_remote_drop() {
    local key
    for key in $(remote_keys "$1"); do
        s3 DELETE "$PREFIX/k$1/$key" >/dev/null
    done
}

step "two versions of the data, hashed when made, both committed"
kill_make_data "$T/v1" 1
kill_make_data "$T/v2" 2
R=$T/r
new_repo "$R"
kill_place_data 1
assert_exit 0 "$DV" add big.bin small
git commit -qm v1
kill_place_data 2
assert_exit 0 "$DV" add big.bin small
git commit -qm v2
rm -rf "$T/v1" "$T/v2"

kill_push_loop "dv push (S3)"
