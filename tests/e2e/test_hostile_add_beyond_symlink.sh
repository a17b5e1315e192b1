#!/usr/bin/env bash
# dv add link/x, where link is a symlink in the work tree to a directory outside it,
# would store the outside file and write x.dv and a .gitignore line beside it, that
# is outside the work tree. git refuses the same path ("beyond a symbolic link").
#
# Strict reading of the safe behaviour: dv add refuses (exit 2..127) any path with a
# symlink among its leading components inside the work tree, naming the path, before
# it stores or writes anything; the same holds for a symlink deeper down (real/ln/x)
# and for the path spelled ./link/x or absolute. Adding the symlink itself (dv add
# link) is fine and records a symlink.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

# beyond NAME ARG: dv add ARG in a fresh repository with link -> sentinel and
# real/ln -> sentinel/sub.
beyond() {
    local name=$1 arg=$2
    step "$name: dv add $arg"
    cd "$T"
    hostile_sentinel
    printf 'outside data\n' >"$SENTINEL/x"
    printf 'outside data\n' >"$SENTINEL/sub/x"
    new_repo "$T/w/$name"
    WORK=$PWD
    git commit -q -m init
    ln -s "$SENTINEL" link
    mkdir real
    ln -s "$SENTINEL/sub" real/ln
    run git add "${arg//\$WORK/$WORK}"
    [ "$RC" != 0 ] || fail "git itself accepted $arg"
    snap_outside
    run_dv 60 add "${arg//\$WORK/$WORK}"
    assert_outside_intact "dv add $arg"
    assert_nothing_planted
    assert_rc_refused
    local shown=${arg#./}
    shown=${shown#\$WORK/}
    assert_err_names "$shown"
    [ -z "$(git diff --cached --name-only)" ] || fail "dv add staged: $(git diff --cached --name-only | tr '\n' ' ')"
    ok "nothing staged"
    [ ! -e .gitignore ] || fail "dv add wrote .gitignore"
    [ "$(pack_count)" = 0 ] || fail "dv add stored packs"
    ok "no .gitignore, no pack"
}

hostile_case link-x beyond link-x link/x
hostile_case dot-link-x beyond dot-link-x ./link/x
hostile_case abs-link-x beyond abs-link-x '$WORK/link/x'
hostile_case link-sub beyond link-sub link/sub
hostile_case deeper beyond deeper real/ln/x

adds_link() {
    step "dv add link adds the symlink itself"
    cd "$T"
    hostile_sentinel
    new_repo "$T/w/adds-link"
    WORK=$PWD
    git commit -q -m init
    ln -s "$SENTINEL" link
    snap_outside
    run_dv 60 add link
    assert_outside_intact "dv add link"
    assert_eq 0 "$RC" "exit of dv add link"
    assert_contains link.dv "kind: symlink"
    assert_nothing_planted
}
hostile_case adds-link adds_link
hostile_finish
