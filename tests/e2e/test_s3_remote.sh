#!/usr/bin/env bash
# dv push / fetch / pull against a real S3-compatible server on loopback (the rig in
# tests/s3, started by ctest's fixture; its environment gives the endpoint, bucket and
# credentials). The remote is inspected and damaged with curl's own SigV4 signing.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

. "$HERE/s3_lib.sh"

step "the rig rejects a request signed with the wrong secret"
assert_exit_ge 1 curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$AWS_ACCESS_KEY_ID:wrong-secret" -H "x-amz-content-sha256: $EMPTY_SHA" \
    "$DV_TEST_S3_ENDPOINT/$DV_TEST_S3_BUCKET/?list-type=2"

. "$HERE/remote_scenario.sh"

step "wrong credentials: push fails with a message about credentials"
cd "$T/origin"
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" again "$remote_url"
AWS_SECRET_ACCESS_KEY=wrong assert_exit 5 "$DV" push
note "$(head -n1 "$ERR")"
assert_match "$ERR" "credential|AWS_SECRET_ACCESS_KEY|403"

step "no credentials at all: a clear error saying what to set"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    HOME="$T/nohome" "$DV" push >"$OUT" 2>"$ERR" && fail "push without credentials succeeded"
assert_contains "$ERR" "AWS_ACCESS_KEY_ID"
ok "push without credentials names AWS_ACCESS_KEY_ID"

step "credentials from .dv/config.local; refused in the committed .dv/config"
cd "$T/origin"
git config -f .dv/config.local remote.again.access-key-id "$AWS_ACCESS_KEY_ID"
git config -f .dv/config.local remote.again.secret-access-key "$AWS_SECRET_ACCESS_KEY"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$DV" push -r again >"$OUT" 2>"$ERR" ||
    fail "push with credentials in .dv/config.local failed: $(cat "$ERR")"
ok "push with credentials in .dv/config.local"
git config -f .dv/config remote.again.secret-access-key leaked
assert_exit 2 "$DV" push -r again
assert_contains "$ERR" "config.local"
git config -f .dv/config --unset remote.again.secret-access-key

step "a profile named for the remote wins over the environment"
mkdir -p "$T/aws"
printf '[ci]\naws_access_key_id = %s\naws_secret_access_key = not-the-secret\n' \
    "$AWS_ACCESS_KEY_ID" >"$T/aws/credentials"
git config -f .dv/config.local --unset remote.again.access-key-id
git config -f .dv/config.local --unset remote.again.secret-access-key
git config -f .dv/config remote.again.profile ci
AWS_SHARED_CREDENTIALS_FILE=$T/aws/credentials assert_exit 5 "$DV" push -r again
assert_match "$ERR" "403|credential"
git config -f .dv/config --unset remote.again.profile

step "dv remote -v lists URLs; remove drops the local credentials too"
git config -f .dv/config.local remote.again.access-key-id x
assert_exit 0 "$DV" remote -v
assert_contains "$OUT" "$remote_url"
assert_exit 0 "$DV" remote remove again
[ -z "$(git config -f .dv/config.local --get remote.again.access-key-id)" ] ||
    fail "remote remove left credentials in .dv/config.local"
ok "no credentials left for the removed remote"
