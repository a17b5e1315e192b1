# The S3 rig as the e2e tests reach it: skip the test when ctest did not start the rig;
# the remote's URL and options for dv remote add (a fresh prefix per test run); s3, a
# request to the rig signed by curl's own SigV4, and the remote_* helpers built on it.
# Sourced after lib.sh and e2e_init.
if [ -z "${DV_TEST_S3_ENDPOINT:-}" ]; then
    echo "SKIP: no S3 test rig (run through ctest, or: tests/s3/rig.sh start DIR; . DIR/env)"
    exit 0
fi

PREFIX="e2e-$$-$RANDOM"
remote_url="s3://$DV_TEST_S3_BUCKET/$PREFIX"
remote_add_opts=(--endpoint "$DV_TEST_S3_ENDPOINT" --path-style --region us-east-1)
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

s3() { # s3 METHOD KEY [FILE]: a signed request to the rig, body from FILE
    local method=$1 key=$2 body=${3:-} sha=$EMPTY_SHA
    local args=(-sS --fail --aws-sigv4 "aws:amz:us-east-1:s3"
        --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X "$method")
    if [ -n "$body" ]; then
        sha=$(sha_of "$body")
        args+=(--data-binary "@$body" -H "Content-Type: application/octet-stream")
    fi
    curl "${args[@]}" -H "x-amz-content-sha256: $sha" \
        "$DV_TEST_S3_ENDPOINT/$DV_TEST_S3_BUCKET/$key"
}
remote_ls() {
    s3 GET "?list-type=2&prefix=$PREFIX%2Fpacks%2F" |
        grep -oE "<Key>[^<]*</Key>" | sed -e 's/<Key>//' -e 's/<\/Key>//' -e "s|^$PREFIX/||" | sort
}
remote_get() { s3 GET "$PREFIX/$1" >"$2"; }
remote_put() { s3 PUT "$PREFIX/$2" "$1" >/dev/null; }
remote_rm() { s3 DELETE "$PREFIX/$1" >/dev/null; }
# s3_fault KEY=VALUE...: a fault for this test's prefix in the rig's proxy (tests/s3/count-proxy.js,
# /__dv_faults): status=503|drop|hold, count, op, skip, and for hold mark=<file> go=<file>.
s3_fault() {
    local args=(-sS --fail -G -X POST --data-urlencode "prefix=$PREFIX") kv
    for kv in "$@"; do args+=(--data-urlencode "$kv"); done
    curl "${args[@]}" "$DV_TEST_S3_ENDPOINT/__dv_faults" >/dev/null
}
