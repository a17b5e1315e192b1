#!/usr/bin/env bash
# dv config reads and writes .dv/config and .dv/config.local as git config does: values
# are checked with the rules dv reads them by before anything is written, unknown keys
# name the nearest known one, and credentials stay out of the committed file.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"
git commit -qm init

step "set, then get, round-trips; the file holds the value and is staged"
printf '# kept comment\n' >>.dv/config
assert_exit 0 "$DV" config transfer.jobs 16
assert_exit 0 "$DV" config transfer.jobs
assert_eq 16 "$(cat "$OUT")" "transfer.jobs read back"
assert_eq 16 "$(git config -f .dv/config transfer.jobs)" "transfer.jobs in .dv/config"
grep -q '# kept comment' .dv/config || fail "the comment of .dv/config was lost"
ok "the comment is kept"
assert_eq 16384 "$(git config -f .dv/config chunking.min)" "the other keys are kept"
assert_eq "M  .dv/config" "$(git status --porcelain .dv/config)" "staged"
assert_exit 0 "$DV" config pack.targetSize 32m
assert_exit 0 "$DV" config remote.origin.path-style yes
assert_exit 0 "$DV" status
ok "the repository opens with the values written"
[ -z "$(find .dv -name '*.tmp*' -o -name '*.lock')" ] || fail "temp files left in .dv"
ok "no temp files left"

step "an unset key reads as exit 1, with nothing printed"
assert_exit 1 "$DV" config transfer.timeout
assert_empty "$OUT"

step "--unset removes the key"
assert_exit 0 "$DV" config --unset transfer.jobs
assert_exit 1 "$DV" config transfer.jobs
git config -f .dv/config transfer.jobs >/dev/null && fail "transfer.jobs is still in .dv/config"
ok "transfer.jobs is gone from .dv/config"
assert_exit 1 "$DV" config --unset transfer.jobs
assert_contains "$ERR" "transfer.jobs is not set in .dv/config"

step "an unknown key is refused, naming the nearest known one"
cp .dv/config "$T/before"
assert_exit 2 "$DV" config transfer.job 8
assert_contains "$ERR" "'transfer.job' is not a dv setting; did you mean 'transfer.jobs'?"
assert_exit 2 "$DV" config core.locktimout 5
assert_contains "$ERR" "did you mean 'core.lockTimeout'?"
assert_exit 2 "$DV" config remote.origin.ulr x
assert_contains "$ERR" "did you mean 'remote.origin.url'?"
assert_exit 2 "$DV" config totally.unrelated
assert_contains "$ERR" "'totally.unrelated' is not a dv setting"
assert_not_contains "$ERR" "did you mean"
cmp -s .dv/config "$T/before" || fail ".dv/config changed"
ok ".dv/config unchanged"

step "a credential is refused in the committed file, accepted with --local"
assert_exit 2 "$DV" config remote.origin.secret-access-key SECRETEXAMPLE
assert_contains "$ERR" "dv config --local"
assert_exit 2 "$DV" config remote.origin.access-key-id AKEXAMPLE
assert_contains "$ERR" "dv config --local"
assert_exit 2 "$DV" config cache.dir /tmp/elsewhere
assert_contains "$ERR" "dv config --local"
grep -q EXAMPLE .dv/config && fail "a credential reached .dv/config"
ok "no credential in .dv/config"
assert_exit 0 "$DV" config --local remote.origin.secret-access-key SECRETEXAMPLE
assert_exit 0 "$DV" config --local remote.origin.access-key-id AKEXAMPLE
assert_eq SECRETEXAMPLE "$(git config -f .dv/config.local remote.origin.secret-access-key)" \
    "the secret in .dv/config.local"
grep -q SECRETEXAMPLE .dv/config && fail "the secret is in .dv/config"
ok "the secret is not in .dv/config"
assert_exit 0 "$DV" config --local remote.origin.secret-access-key
assert_eq SECRETEXAMPLE "$(cat "$OUT")" "--local reads .dv/config.local"
assert_exit 0 "$DV" config remote.origin.secret-access-key
assert_eq SECRETEXAMPLE "$(cat "$OUT")" "a read without --local sees .dv/config.local"
chmod 600 .dv/config.local
assert_exit 0 "$DV" config --local remote.origin.region eu-west-1
assert_eq 600 "$(stat -c %a .dv/config.local)" "the mode of .dv/config.local is kept"

step "an invalid value is refused and the file is unchanged"
before=$(sha_of .dv/config)
assert_exit 2 "$DV" config transfer.jobs many
assert_contains "$ERR" "transfer.jobs in dv configuration must be a number from 1 to 64 (got 'many')"
assert_exit 2 "$DV" config transfer.jobs 65
assert_contains "$ERR" "transfer.jobs in dv configuration must be 1..64 (got 65)"
assert_exit 2 "$DV" config core.lockTimeout -1
assert_exit 2 "$DV" config pack.compressionLevel 23
assert_exit 2 "$DV" config pack.targetSize 5g
assert_exit 2 "$DV" config remote.origin.path-style maybe
assert_contains "$ERR" "must be a boolean"
assert_exit 2 "$DV" config core.remote 'not a name'
assert_contains "$ERR" "is not a valid remote name"
assert_exit 2 "$DV" config remote.origin.url ftp://example.com/x
assert_exit 2 "$DV" config chunking.min 4096
assert_contains "$ERR" "written by dv init"
assert_eq "$before" "$(sha_of .dv/config)" "sha256 of .dv/config"

step "--list prints key=value lines"
assert_exit 0 "$DV" config transfer.timeout 60
assert_exit 0 "$DV" config --list
assert_contains "$OUT" "core.version=1"
assert_contains "$OUT" "transfer.timeout=60"
assert_contains "$OUT" "remote.origin.secret-access-key=SECRETEXAMPLE"
assert_exit 0 "$DV" config --local --list
assert_contains "$OUT" "remote.origin.secret-access-key=SECRETEXAMPLE"
assert_not_contains "$OUT" "core.version"
assert_exit 2 "$DV" config --list transfer.timeout

step "usage errors"
assert_exit 2 "$DV" config
assert_exit 2 "$DV" config --unset
assert_exit 2 "$DV" config --unset transfer.timeout 5
assert_exit 0 "$DV" config --help
assert_contains "$OUT" "usage: dv config"

step "a bad value written by hand can be read and mended with dv config"
git config -f .dv/config core.lockTimeout forever
assert_exit 2 "$DV" status
assert_contains "$ERR" "core.lockTimeout in dv configuration must be"
assert_exit 0 "$DV" config core.lockTimeout
assert_eq forever "$(cat "$OUT")" "the bad value read back"
assert_exit 0 "$DV" config core.lockTimeout 10
assert_exit 0 "$DV" status
git config -f .dv/config core.lockTimeout forever
assert_exit 0 "$DV" config --unset core.lockTimeout
assert_exit 0 "$DV" status
