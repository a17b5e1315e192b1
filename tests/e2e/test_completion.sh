#!/usr/bin/env bash
# Shell completion: the bash script the build writes (build/completion/dv) completes dv's
# commands, a command's long options, remote names from dv remote list, and the data paths
# of the tracked pointer files; the zsh script parses; cmake --install puts both in place.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

BUILD_DIR=$(dirname "$DV")
SCRIPT=$BUILD_DIR/completion/dv
# The script runs the dv of the command line, as a user's shell finds it.
mkdir -p "$T/bin"
ln -s "$DV" "$T/bin/dv"
export PATH=$T/bin:$PATH

step "the build wrote the bash script, and it is what the binary writes now"
[ -f "$SCRIPT" ] || fail "no completion script at $SCRIPT (built with cmake --build?)"
assert_exit 0 "$DV" completion bash
cmp -s "$OUT" "$SCRIPT" || fail "$SCRIPT differs from dv completion bash (rebuild)"
ok "$SCRIPT is up to date"
bash -n "$SCRIPT" || fail "the bash script does not parse"
ok "bash -n accepts it"

# complete WORD...: run _dv in a fresh bash as readline would for these words, the last one
# being completed; print the candidates sorted, one a line.
complete() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dv
             [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' _ "$SCRIPT" "$@" |
        LC_ALL=C sort
}

# expect WHAT WANT WORD...: the candidates, joined by '|', are WANT.
expect() {
    local what=$1 want=$2
    shift 2
    assert_eq "$want" "$(complete "$@" | paste -sd'|')" "$what"
}

step "command names"
expect "dv <TAB>" "add|bundle|cat|checkout|commit|config|diff|drop|export|fetch|fsck|gc|help|import|init|install-hooks|log|ls|pull|push|remote|status" dv ""
expect "dv pu<TAB>" "pull|push" dv pu
expect "dv -C dir st<TAB>" "status" dv -C "$T" st
expect "dv help ch<TAB>" "checkout" dv help ch
expect "dv --v<TAB>" "--version" dv --v

step "a command's long options"
expect "dv push --<TAB>" "--all-branches|--all-commits|--all-tags|--help|--jobs|--quiet|--remote|--repair|--rev|--stats" dv push --
expect "dv pull --f<TAB>" "--force" dv pull --f
expect "dv init --chunk-m<TAB>" "--chunk-max|--chunk-min" dv init --chunk-m
expect "dv add --no<TAB>" "--no-progress" dv add --no
expect "dv status --j<TAB>" "--json" dv status --j
expect "dv remote <TAB>" "add|list|modify|remove|rename" dv remote ""
expect "dv remote add --p<TAB>" "--path-style|--profile" dv remote add --p
expect "dv remote list --<TAB>" "--help|--verbose" dv remote list --
expect "dv bundle <TAB>" "create|list|unbundle|verify" dv bundle ""
expect "dv bundle create --<TAB>" "--all-branches|--all-tags|--help|--quiet|--rev|--since" dv bundle create --

step "remote names come from the repository's remotes"
new_repo "$T/repo"
assert_exit 0 "$DV" remote add origin "$T/remote-origin"
assert_exit 0 "$DV" remote add backup "$T/remote-backup"
assert_exit 0 "$DV" remote add --default offsite "$T/remote-offsite"
expect "dv push -r <TAB>" "backup|offsite|origin" dv push -r ""
expect "dv fetch --remote o<TAB>" "offsite|origin" dv fetch --remote o
expect "dv pull -r b<TAB>" "backup" dv pull -r b
expect "dv remote remove <TAB>" "backup|offsite|origin" dv remote remove ""
assert_exit 0 "$DV" remote remove backup
expect "dv push -r <TAB> after dv remote remove backup" "offsite|origin" dv push -r ""
expect "dv push --jobs <TAB> (a number: nothing)" "" dv push --jobs ""
cd "$T"
expect "dv -C repo push -r <TAB> from outside" "offsite|origin" dv -C "$T/repo" push -r ""
expect "dv push -r <TAB> outside a repository" "" dv push -r ""
cd "$T/repo"

step "tracked paths are the data paths of the pointer files git has"
mkdir -p data/nested models
gen_random data/nested/a.bin 1000 1
gen_random "models/big model.pt" 1000 2
gen_random loose.bin 1000 3
gen_random untracked.bin 1000 4
assert_exit 0 "$DV" add -q data "models/big model.pt" loose.bin
expect "dv status <TAB>" "data|loose.bin|models/big model.pt" dv status ""
expect "dv checkout m<TAB>" "models/big model.pt" dv checkout m
expect "dv push -r origin l<TAB>" "loose.bin" dv push -r origin l
git rm -q --cached loose.bin.dv
expect "dv fetch <TAB> after git rm --cached loose.bin.dv" "data|models/big model.pt" dv fetch ""
cd models
expect "dv pull <TAB> in models/" "big model.pt" dv pull ""
cd ..

step "dv add completes files of the work tree"
expect "dv add unt<TAB>" "untracked.bin" dv add unt

step "the hidden command is not offered"
[ -z "$(complete dv comp)" ] || fail "dv comp<TAB> offers the hidden completion command"
ok "dv comp<TAB>: nothing"

step "the zsh script parses"
if command -v zsh >/dev/null; then
    zsh -n "$BUILD_DIR/completion/_dv" || fail "the zsh script does not parse"
    ok "zsh -n accepts it"
else
    note "no zsh on this machine; only its presence is checked"
    [ -s "$BUILD_DIR/completion/_dv" ] || fail "no zsh script at $BUILD_DIR/completion/_dv"
fi
head -n1 "$BUILD_DIR/completion/_dv" | grep -qx '#compdef dv' || fail "_dv does not start with #compdef dv"
ok "_dv starts with #compdef dv"

step "cmake --install puts both scripts where bash-completion and zsh look"
if [ -f "$BUILD_DIR/cmake_install.cmake" ] && command -v cmake >/dev/null; then
    cmake --install "$BUILD_DIR" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
        { tail "$T/install.log" >&2; fail "cmake --install failed"; }
    cmp -s "$SCRIPT" "$T/prefix/share/bash-completion/completions/dv" ||
        fail "bash script not installed to share/bash-completion/completions/dv"
    cmp -s "$BUILD_DIR/completion/_dv" "$T/prefix/share/zsh/site-functions/_dv" ||
        fail "zsh script not installed to share/zsh/site-functions/_dv"
    ok "share/bash-completion/completions/dv and share/zsh/site-functions/_dv"
else
    note "not a cmake build directory: $BUILD_DIR"
fi
