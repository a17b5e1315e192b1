#!/usr/bin/env bash
# dv remote modify sets one setting of a remote, checked as dv remote add checks it;
# dv remote rename moves the remote's keys, its credentials in .dv/config.local and
# core.remote, and the remote keeps working under its new name.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"
gen_random data.bin 200000 7
assert_exit 0 "$DV" add data.bin
git commit -qm data
assert_exit 0 "$DV" remote add --default minio s3://bucket-a/prefix
assert_exit 0 "$DV" remote add disk "$T/store"
assert_exit 0 "$DV" config --local remote.minio.access-key-id AKEXAMPLE
assert_exit 0 "$DV" config --local remote.minio.secret-access-key SECRETEXAMPLE

step "modify sets the S3 settings of an S3 remote"
assert_exit 0 "$DV" remote modify minio endpoint http://127.0.0.1:9000
assert_exit 0 "$DV" remote modify minio region eu-west-1
assert_exit 0 "$DV" remote modify minio profile ci
assert_exit 0 "$DV" remote modify minio path-style true
assert_eq http://127.0.0.1:9000 "$(git config -f .dv/config remote.minio.endpoint)" "endpoint"
assert_eq eu-west-1 "$(git config -f .dv/config remote.minio.region)" "region"
assert_eq ci "$(git config -f .dv/config remote.minio.profile)" "profile"
assert_eq true "$(git config -f .dv/config remote.minio.path-style)" "path-style"
assert_match <(git status --porcelain .dv/config) '^[AM]  \.dv/config$'

step "modify refuses what it cannot set, leaving .dv/config as it was"
before=$(sha_of .dv/config)
assert_exit 2 "$DV" remote modify disk region eu-west-1
assert_contains "$ERR" "region is for s3:// remotes only"
assert_exit 2 "$DV" remote modify minio path-style maybe
assert_contains "$ERR" "must be a boolean"
assert_exit 2 "$DV" remote modify minio jobs 4
assert_contains "$ERR" "dv remote modify cannot set 'jobs'"
assert_exit 2 "$DV" remote modify minio url ftp://example.com/x
assert_exit 2 "$DV" remote modify nosuch region eu-west-1
assert_contains "$ERR" "there is no remote called nosuch"
assert_exit 2 "$DV" remote modify minio region
assert_eq "$before" "$(sha_of .dv/config)" "sha256 of .dv/config"

step "modify url and default"
assert_exit 0 "$DV" remote modify disk url "$T/store2"
assert_eq "$T/store2" "$(git config -f .dv/config remote.disk.url)" "the new url"
assert_exit 0 "$DV" remote modify disk default true
assert_eq disk "$(git config -f .dv/config core.remote)" "core.remote"
assert_exit 0 "$DV" push
[ -n "$(ls "$T/store2/packs")" ] || fail "nothing was pushed to the new url"
ok "dv push went to the new url of the default remote"
assert_exit 0 "$DV" remote modify disk default false
git config -f .dv/config core.remote >/dev/null && fail "core.remote is still set"
ok "core.remote removed"
assert_exit 0 "$DV" remote modify minio default yes

step "rename moves the settings, the credentials and core.remote"
assert_exit 0 "$DV" remote rename minio archive
assert_exit 0 "$DV" remote list -v
assert_contains "$OUT" "archive	s3://bucket-a/prefix	(default)"
assert_not_contains "$OUT" "minio"
assert_eq archive "$(git config -f .dv/config core.remote)" "core.remote"
assert_eq http://127.0.0.1:9000 "$(git config -f .dv/config remote.archive.endpoint)" "endpoint"
assert_eq true "$(git config -f .dv/config remote.archive.path-style)" "path-style"
assert_eq SECRETEXAMPLE "$(git config -f .dv/config.local remote.archive.secret-access-key)" \
    "the secret moved in .dv/config.local"
assert_eq AKEXAMPLE "$(git config -f .dv/config.local remote.archive.access-key-id)" \
    "the key id moved in .dv/config.local"
git config -f .dv/config.local --get-regexp '^remote\.minio\.' && fail "minio keys left locally"
git config -f .dv/config --get-regexp '^remote\.minio\.' && fail "minio keys left"
ok "no key of minio is left"
grep -q EXAMPLE .dv/config && fail "a credential reached .dv/config"
ok "no credential in .dv/config"
assert_match <(git status --porcelain .dv/config) '^[AM]  \.dv/config$'

step "rename of a remote that is not the default leaves core.remote alone"
assert_exit 0 "$DV" remote rename disk backup
assert_eq archive "$(git config -f .dv/config core.remote)" "core.remote"
assert_exit 0 "$DV" push -r backup
assert_exit 0 "$DV" fsck

step "rename refuses a taken name, a missing remote and a bad name"
before=$(sha_of .dv/config)
assert_exit 2 "$DV" remote rename backup archive
assert_contains "$ERR" "remote archive already exists"
assert_exit 2 "$DV" remote rename nosuch other
assert_contains "$ERR" "there is no remote called nosuch"
assert_exit 2 "$DV" remote rename backup 'bad name'
assert_contains "$ERR" "is not a valid remote name"
assert_exit 2 "$DV" remote rename backup
assert_eq "$before" "$(sha_of .dv/config)" "sha256 of .dv/config"
[ -z "$(find .dv -maxdepth 1 -name '*.tmp*' -o -maxdepth 1 -name '*.lock')" ] ||
    fail "temp files left in .dv"
ok "no temp files left"
