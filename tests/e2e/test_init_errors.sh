#!/usr/bin/env bash
# dv init and the error paths of the CLI: exit codes and messages.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "dv init outside a git repository: exit 2, clear message"
mkdir -p "$T/nogit"
cd "$T/nogit"
export GIT_CEILING_DIRECTORIES=$T
assert_exit 2 "$DV" init
assert_match "$ERR" "[Gg]it"
[ ! -e .dv ] || fail "dv init created .dv outside a repository"
ok "nothing created"
for c in status add checkout fsck; do
    args=()
    [ "$c" = add ] && args=(x)
    assert_exit 2 "$DV" "$c" "${args[@]}"
    [ -s "$ERR" ] || fail "dv $c outside a repository printed no message"
done

step "dv init in a bare repository: exit 2"
git init -q --bare "$T/bare.git"
cd "$T/bare.git"
assert_exit 2 "$DV" init
[ -s "$ERR" ] || fail "no message for a bare repository"
ok "message: $(head -n1 "$ERR")"
[ ! -e .dv ] || fail "dv init created .dv in a bare repository"

step "dv init in a fresh repository: exit 0, .dv/config and .dv/.gitignore staged"
mkdir -p "$T/repo"
cd "$T/repo"
git init -q .
assert_exit 0 "$DV" init
[ -f .dv/config ] || fail "no .dv/config"
[ -f .dv/.gitignore ] || fail "no .dv/.gitignore"
ok ".dv/config and .dv/.gitignore exist"
staged=$(git diff --cached --name-only)
printf '%s\n' "$staged" | grep -qx .dv/config || fail ".dv/config not staged (staged: $staged)"
printf '%s\n' "$staged" | grep -qx .dv/.gitignore || fail ".dv/.gitignore not staged (staged: $staged)"
ok "both staged"
assert_eq 16384 "$(git config -f .dv/config chunking.min)" "chunking.min"
assert_eq 65536 "$(git config -f .dv/config chunking.avg)" "chunking.avg"
assert_eq 262144 "$(git config -f .dv/config chunking.max)" "chunking.max"
for e in cache index lock config.local; do
    grep -q "$e" .dv/.gitignore || fail ".dv/.gitignore does not mention $e"
done
ok ".dv/.gitignore covers cache, index, lock, config.local"
git commit -q -m "set up dv"

step "dv init again: exit 0, says already initialised, config unchanged"
cp .dv/config "$T/config.before"
cp .dv/.gitignore "$T/gitignore.before"
assert_exit 0 "$DV" init
assert_match "$ALL" "[Aa]lready"
cmp -s .dv/config "$T/config.before" || fail ".dv/config changed on second init"
cmp -s .dv/.gitignore "$T/gitignore.before" || fail ".dv/.gitignore changed on second init"
ok "config and .gitignore unchanged"
assert_git_clean
assert_exit 0 "$DV" init -q
assert_empty "$OUT"

step "dv init from a subdirectory of an initialised repository"
mkdir -p deep/er
cd deep/er
assert_exit 0 "$DV" init
[ ! -e .dv ] || fail "dv init created .dv in a subdirectory"
ok "no nested .dv"
cd "$T/repo"

step "local files in .dv/ stay out of git"
printf 'x\n' >.dv/config.local
gen_random f.bin 70000 1
assert_exit 0 "$DV" add f.bin
git commit -q -m f
assert_git_clean

step "custom chunking parameters are recorded; invalid ones refused"
mkdir -p "$T/custom" && cd "$T/custom" && git init -q .
assert_exit 0 "$DV" init --chunk-min 4096 --chunk-avg 16384 --chunk-max 65536
assert_eq 4096 "$(git config -f .dv/config chunking.min)" "custom chunking.min"
assert_eq 16384 "$(git config -f .dv/config chunking.avg)" "custom chunking.avg"
assert_eq 65536 "$(git config -f .dv/config chunking.max)" "custom chunking.max"
mkdir -p "$T/badchunk" && cd "$T/badchunk" && git init -q .
assert_exit 2 "$DV" init --chunk-avg 60000
assert_match "$ALL" "avg"
[ ! -e .dv/config ] || fail "invalid chunking parameters still wrote .dv/config"
ok "nothing written"

step "commands in a git repository without dv init: exit 2, message mentions dv init"
mkdir -p "$T/plain" && cd "$T/plain" && git init -q .
printf 'x\n' >x
for c in status add checkout fsck; do
    args=()
    [ "$c" = add ] && args=(x)
    assert_exit 2 "$DV" "$c" "${args[@]}"
    assert_contains "$ERR" "dv init"
done
[ ! -e .dv ] || fail "a command other than init created .dv"

step "--version, help, --help, add --help: exit 0"
cd "$T/repo"
assert_exit 0 "$DV" --version
assert_match "$OUT" "[0-9]+\.[0-9]+\.[0-9]+"
assert_exit 0 "$DV" --help
assert_contains "$ALL" "init"
assert_exit 0 "$DV" help
[ -s "$OUT" ] || fail "dv help printed nothing"
ok "dv help printed something"
assert_exit 0 "$DV" help add
assert_exit 0 "$DV" add --help
assert_match "$ALL" "[Uu]sage|add"
for c in init status checkout fsck; do
    assert_exit 0 "$DV" "$c" --help
done

step "usage errors: exit 2"
assert_exit 2 "$DV" frobnicate
assert_contains "$ERR" "frobnicate"
assert_exit 2 "$DV"
assert_exit 2 "$DV" add
assert_exit 2 "$DV" status --no-such-option
assert_contains "$ERR" "no-such-option"
assert_exit 2 "$DV" checkout --bogus
assert_exit 2 "$DV" init --chunk-min
assert_exit 2 "$DV" fsck extra-arg

step "dv add of a missing path: exit >= 2 naming the path"
assert_exit_ge 2 "$DV" add does-not-exist.bin
assert_contains "$ERR" "does-not-exist.bin"
[ ! -e does-not-exist.bin.dv ] || fail "a pointer was written for a missing path"
ok "no pointer written"
assert_exit_ge 2 "$DV" add f.bin does-not-exist.bin
assert_contains "$ERR" "does-not-exist.bin"

step "a malformed pointer file: status and checkout name the file and the line"
fsha=$(sha_of f.bin)
printf 'dv: 1\nkind: file\noid: sha256:not-a-hash\nsize: 5\n' >bad.dv
git add bad.dv
git commit -q -m "bad pointer"
# dv status reports a bad pointer as one more not-clean path (exit 1) and goes on;
# dv-status(1) does not name this state, so any non-zero exit is accepted here.
assert_exit_ge 1 "$DV" status
note "status: $(tr '\n' ' ' <"$ALL" | cut -c1-200)"
assert_contains "$ALL" "bad.dv:3"
assert_exit_ge 1 "$DV" status bad.dv
assert_contains "$ALL" "bad.dv:3"
assert_exit_ge 1 "$DV" status --json
assert_contains "$ALL" "bad.dv:3"
"$PY" -c 'import json,sys; json.load(sys.stdin)' <"$OUT" || fail "status --json with a bad pointer is not JSON"
ok "status --json still parses"
assert_exit_ge 2 "$DV" checkout
assert_contains "$ALL" "bad.dv:3"
assert_file_sha f.bin "$fsha" "f.bin untouched"
printf 'dv: 1\nkind: file\nsize: 5\nbogus line without colon\n' >bad.dv
git add bad.dv
assert_exit_ge 1 "$DV" status
assert_contains "$ALL" "bad.dv:"
assert_exit_ge 2 "$DV" checkout
assert_contains "$ALL" "bad.dv:"

step "a remote whose url has no '=': exit 2 naming the key, not a crash"
cp .dv/config "$T/config.saved"
printf '[remote "half"]\n\turl\n' >>.dv/config
assert_exit 2 "$DV" remote list
assert_contains "$ERR" "remote.half.url has no value"
assert_exit 2 "$DV" fetch
assert_contains "$ERR" "remote.half.url"
cp "$T/config.saved" .dv/config
