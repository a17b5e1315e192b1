#!/usr/bin/env bash
# One bad pointer among good ones must not stop dv from handling the good ones, nor
# be passed over in silence: a repository may carry a damaged or hostile pointer
# next to the data a user wants.
#
# Strict reading of the safe behaviour: dv status reports every good pointer's state
# and the bad one by path, with a non-zero exit; dv checkout and dv pull restore the
# good pointers, name the bad one, and exit 2..127 (a warning with exit 0 would let
# scripts and CI take a partial checkout for a complete one).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

good='"a.dv": {"file": "alpha\n"}, "z/b.dv": {"dir": {"f": {"file": "beta\n"}, "l": {"symlink": "f"}}}'

# among NAME BAD-TEXT CMD...
among() {
    local name=$1 bad=$2; shift 2
    step "$name: dv $*"
    cd "$T"
    hostile_origin "$T/o/$name"
    local spec='{"pointers": {'"$good"', "m/bad.dv": {"raw": '"$bad"'}}}'
    plant_pointers "$spec"
    hostile_clone "$T/o/$name" "$T/w/$name"
    if [ "$1" != pull ]; then
        printf '%s' "$spec" | $HOSTILE plant --root "$T/scratch-$name" --packs .dv/cache/packs - >/dev/null
    fi
    hostile_sentinel
    snap_outside
    run_dv 60 "$@"
    assert_outside_intact "dv $*"
    assert_nothing_planted
    [ "$RC" != 0 ] || fail "dv $* exited 0 with a bad pointer"
    [ "$RC" -lt 128 ] || fail "dv $* died of a signal (exit $RC)"
    ok "exit $RC"
    assert_err_names m/bad.dv
    if [ "$1" = status ]; then
        grep -q 'z/b' "$OUT" && grep -qE '(^|[^/])a( |$)|: +a\b' "$OUT" ||
            fail "dv status did not report the good pointers a and z/b"
        ok "the good pointers are reported"
    else
        [ "$RC" -ge 2 ] || fail "dv $* exit $RC is not an error"
        assert_eq alpha "$(cat a 2>/dev/null)" "a restored"
        assert_eq beta "$(cat z/b/f 2>/dev/null)" "z/b/f restored"
        assert_eq f "$(readlink z/b/l)" "z/b/l restored"
    fi
}

bad_texts=(
    '"dv: 1\nkind: file\noid: sha256:XYZ\nsize: 3\n"'
    '"dv: 1\nkind: file\nsize: 3\n"'
    '"not a pointer at all\n"'
)
i=0
for bad in "${bad_texts[@]}"; do
    i=$((i + 1))
    for cmd in status checkout pull; do
        hostile_case "bad$i-$cmd" among "bad$i-$cmd" "$bad" $cmd
    done
done
hostile_finish
