#!/usr/bin/env bash
# Pointer files that are not regular files: git can commit p.dv as a symlink, here
# to an outside file holding a secret (dv would read it as the pointer, and its
# parse error would quote it), or q.dv as a symlink to a FIFO (dv would block on
# opening it). dv add p must not write the new pointer through such a link either.
#
# Strict reading of the safe behaviour: a pointer path that is not a regular file is
# reported as a bad pointer by path (dv status: non-zero exit, naming it; dv checkout:
# exit 2..127 naming it), without opening what the link names, so the outside file's
# content never appears in dv's output and a FIFO never blocks. dv add p either
# refuses, naming p.dv, or replaces the link itself with a regular pointer file;
# nothing is written through it.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

# linked NAME POINTER TARGET CMD...: an origin commits POINTER as a symlink to
# TARGET (next to a good pointer); the victim clones it and runs dv CMD.
linked() {
    local name=$1 pointer=$2 target=$3; shift 3
    step "$name: $pointer -> $target, dv $*"
    cd "$T"
    hostile_origin "$T/o/$name"
    plant_pointers '{"pointers": {"good.dv": {"file": "good\n"}}}'
    ln -s "$target" "$pointer"
    git add "$pointer"
    git commit -q -m hostile
    hostile_clone "$T/o/$name" "$T/w/$name"
    $HOSTILE plant --root "$T/scratch-$name" --packs .dv/cache/packs - >/dev/null \
        <<<'{"pointers": {"good.dv": {"file": "good\n"}}}'
    hostile_sentinel
    mkfifo "$SENTINEL/fifo"
    printf 'p data\n' >p
    snap_outside
    run_dv 20 "$@"
    assert_outside_intact "dv $*"
    assert_nothing_planted
    assert_not_contains "$ALL" "$SECRET"
}

bad_pointer() {
    linked "$@"
    local pointer=$2
    [ "$RC" != 0 ] || fail "dv exited 0 with $pointer not a regular file"
    [ "$RC" -lt 128 ] || fail "dv died of a signal (exit $RC)"
    ok "exit $RC"
    assert_err_names "$pointer"
}

for cmd in status checkout; do
    hostile_case "secret-$cmd" bad_pointer "secret-$cmd" p.dv "$T/outside/sentinel/secret.txt" $cmd
    hostile_case "fifo-$cmd" bad_pointer "fifo-$cmd" q.dv "$T/outside/sentinel/fifo" $cmd
done

add_over_link() {
    linked add-over-link p.dv "$T/outside/sentinel/a.txt" add p
    if [ "$RC" = 0 ]; then
        [ -f p.dv ] && [ ! -L p.dv ] || fail "dv add p exited 0 but p.dv is not a regular file"
        assert_contains p.dv "kind: file"
    else
        assert_rc_refused
        assert_err_names p.dv
    fi
}
hostile_case add-over-link add_over_link
hostile_finish
