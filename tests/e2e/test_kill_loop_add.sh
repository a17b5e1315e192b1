#!/usr/bin/env bash
# Seeded kill loop for dv add: SIGKILL `dv add big.bin small` (v2 over a committed v1,
# 256 MiB + 300 small files) at a random moment, then
#   - dv fsck is clean;
#   - the data in the work tree is untouched (v2), and each pointer file is byte for byte
#     its v1 or its v2 version; a v2 pointer left by the killed add restores its data;
#   - re-running dv add succeeds and writes the v2 pointers;
#   - no temp file is left after that add (work tree, .dv/tmp, the store's tmp/ and packs/).
# Each kill starts again from the committed v1 (the .dv directory restored from a copy).
# 3 kills by default (about a minute here), 30 with DV_KILL_LONG=1; seed DV_KILL_SEED
# (default 1), replay one kill with DV_KILL_ITER=<k>. See kill_loop.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/kill_loop.sh"

step "two versions of the data, hashed when made"
kill_make_data "$T/v1" 1
kill_make_data "$T/v2" 2
R=$T/r
new_repo "$R"
kill_place_data 1
assert_exit 0 "$DV" add big.bin small
git commit -qm v1
git tag v1
mkdir -p "$T/pointers-1"
cp big.bin.dv small.dv "$T/pointers-1/"
cp -a .dv "$T/base.dv"
kill_place_data 2

# add_reset: the state before each add: v1 committed and stored, v2 in the work tree.
add_reset() {
    cd "$R"
    rm -rf .dv
    cp -a "$T/base.dv" .dv
    git reset -q --hard v1
}

# pointer_is P: which version pointer file P is (1, 2, or "neither").
pointer_is() {
    if cmp -s "$1" "$T/pointers-1/$1"; then echo 1
    elif cmp -s "$1" "$T/pointers-2/$1"; then echo 2
    else echo neither
    fi
}

step "dv add: measure an unkilled add of v2"
kill_measure "$DV" add big.bin small
mkdir -p "$T/pointers-2"
cp big.bin.dv small.dv "$T/pointers-2/"
cmp -s big.bin.dv "$T/pointers-1/big.bin.dv" && fail "the v2 pointer of big.bin equals the v1 pointer"
kill_check_tree "$R" 2 "work tree after the add"
kill_assert_no_temps "$R"

for k in $(kill_iterations); do
    add_reset
    kill_run "dv add" "$k" "$DV" add big.bin small
    kill_note_leftovers "$R"
    assert_exit 0 "$DV" fsck
    kill_check_tree "$R" 2 "work tree after the killed add (dv add never writes the data)"
    for p in big.bin.dv small.dv; do
        v=$(pointer_is "$p")
        [ "$v" != neither ] || fail "$KILL_CONTEXT: $p is neither its v1 nor its v2 version"
        ok "$p is the v$v pointer"
        if [ "$v" = 2 ]; then
            # The pointer names v2: the store must be able to restore it.
            data=${p%.dv}
            rm -rf "$T/aside"
            mkdir "$T/aside"
            mv "$data" "$T/aside/"
            assert_exit 0 "$DV" checkout "$data"
            rm -rf "$T/aside"
        fi
    done
    kill_check_tree "$R" 2 "work tree before the next add"
    assert_exit 0 "$DV" add big.bin small
    for p in big.bin.dv small.dv; do
        assert_eq 2 "$(pointer_is "$p")" "version of $p after the add was run again"
    done
    kill_assert_no_temps "$R"
    assert_exit 0 "$DV" fsck
done
kill_summary "dv add"
