#!/usr/bin/env bash
# A tree DAG: 13 levels, each a tree of 10 entries that all name the same tree of
# the level below, over one small file. 15 objects, a few KiB in a pack, but 10^13
# files once expanded. A directory pointer to its root makes a checkout that expands
# it as it goes run out of memory or disk (or take forever).
#
# Strict reading of the safe behaviour: dv checkout and dv pull bound the work
# (entries, bytes) a tree may expand to, and stop early with an error (exit 2..127,
# within 20 s, well inside the 60 s timeout, and 2 GB of address space) that names
# the pointer and says the tree is too large or over a budget or limit ("out of
# memory" is not that answer); it has written little (under 1000 entries, 64 MiB)
# by then. The same holds when the pointer lies (files: 1, size: 2), since the
# pointer's numbers are not checked against the tree.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

VMEM_KB=2000000

# bounded NAME SPEC CMD...: dv CMD under timeout 60 and ulimit -v.
bounded() {
    local name=$1 spec=$2; shift 2
    step "$name: dv $*"
    cd "$T"
    hostile_origin "$T/o/$name"
    plant_pointers "$spec"
    hostile_clone "$T/o/$name" "$T/w/$name"
    if [ "$1" = checkout ]; then
        printf '%s' "$spec" | $HOSTILE plant --root "$T/scratch-$name" --packs .dv/cache/packs - >/dev/null
    fi
    hostile_sentinel
    snap_outside
    local start=$SECONDS
    # AddressSanitizer reserves terabytes of shadow address space, which ulimit -v forbids:
    # under tests/sanitize.sh (ASAN_OPTIONS set) the memory bound is left to the plain suite.
    local vmem="ulimit -v $VMEM_KB && "
    [ -z "${ASAN_OPTIONS:-}" ] || vmem=
    run bash -c "$vmem"'exec timeout -k 5 60 "$@"' dv-under-limits "$DV" "$@"
    ELAPSED=$((SECONDS - start))
    note "dv $* took $ELAPSED s, exit $RC"
    [ "$RC" != 124 ] && [ "$RC" != 137 ] || fail "dv $* did not finish within 60 s"
}

bomb_case() {
    bounded "$@"
    local entries bytes
    entries=$(find "$WORK" -path "$WORK/.git" -prune -o -path "$WORK/.dv" -prune -o -print | wc -l)
    bytes=$(du -sk --exclude=.git "$WORK" | cut -f1)
    note "work tree: $entries entries, $bytes KiB"
    [ "$entries" -lt 1000 ] || fail "dv wrote $entries entries before stopping"
    [ "$bytes" -lt 65536 ] || fail "dv wrote $bytes KiB before stopping"
    ok "wrote little"
    assert_outside_intact "dv $*"
    assert_nothing_planted
    assert_rc_refused
    assert_err_names bomb
    assert_not_contains "$ERR" "out of memory"
    assert_match "$ERR" '[Bb]udget|[Tt]oo (large|big|many)|[Ll]imit|[Ee]xceed'
    [ "$ELAPSED" -lt 20 ] || fail "dv took $ELAPSED s to give up"
    ok "gave up within $ELAPSED s"
}

bomb='{"dag": {"levels": 13, "fanout": 10, "leaf": {"file": "x\n"}}}'
liar='{"dag": {"levels": 13, "fanout": 10, "leaf": {"file": "x\n"}}, "pointer": {"size": 2, "files": 1}}'
hostile_case bomb-checkout bomb_case bomb-checkout '{"pointers": {"bomb.dv": '"$bomb"'}}' checkout
hostile_case bomb-pull bomb_case bomb-pull '{"pointers": {"bomb.dv": '"$bomb"'}}' pull
hostile_case liar-checkout bomb_case liar-checkout '{"pointers": {"bomb.dv": '"$liar"'}}' checkout

# The limits themselves are fine for an honest checkout of a small DAG (3 levels of
# 10: a thousand files).
control() {
    bounded control '{"pointers": {"small.dv": {"dag": {"levels": 3, "fanout": 10, "leaf": {"file": "x\n"}}}}}' checkout
    assert_eq 0 "$RC" "exit of dv checkout"
    assert_eq 1000 "$(find small -type f | wc -l)" "files restored"
}
hostile_case control control
hostile_finish
