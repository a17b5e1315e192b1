#!/usr/bin/env bash
# dv checkout of a directory the work tree lacks builds it in .dv/tmp and renames it into
# place (its files written under their own names, by the pool's workers): every kind of
# entry comes back byte for byte with its mode, the stat cache trusts the files at once,
# nothing is left in .dv/tmp; a directory an interrupted checkout left in .dv/tmp is
# removed by the next checkout; killed at any moment, a checkout leaves the directory
# absent or whole, never part of it in the work tree.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "a directory of every kind of entry, added, committed and removed"
new_repo "$T/repo"
mkdir -p data/a/deep/er data/b data/empty data/only/one
for d in a a/deep a/deep/er b; do
    for i in 1 2 3 4 5; do gen_random "data/$d/f$i.bin" $((i * 3001)) "$i"; done
done
: >data/b/empty.txt
gen_random data/b/run.sh 777 9
chmod +x data/b/run.sh
ln -s ../a/f1.bin data/b/link
ln -s nowhere data/dangling
gen_random data/big.bin $((8 << 20)) 7 # more chunks than one group: read a group at a time
gen_random data/only/one/file 100 3
want=$(snapshot data "$T/want")
assert_exit 0 "$DV" add data
git commit -qm data
rm -rf data

step "dv checkout restores it whole, with modes and links, and leaves nothing in .dv/tmp"
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/want" "restored data"
assert_eq "" "$(ls -A .dv/tmp)" ".dv/tmp after the checkout"
assert_exit 0 "$DV" status
assert_contains "$OUT" "clean"

step "the stat cache trusts what was written: dv add reads nothing"
assert_exit 0 "$DV" add data
amount=$(grep -oE "[0-9][0-9.]* ?[A-Za-z]* read" "$ALL" | head -n1 | sed 's/ read$//')
[[ "$amount" =~ ^0(\.0+)?( ?[A-Za-z]+)?$ ]] || fail "dv add read $amount of files checkout had just written"
ok "dv add read $amount"

step "a new directory below an existing one is built the same way"
rm -rf data/a/deep data/only
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/want" "restored subdirectories"
assert_eq "" "$(ls -A .dv/tmp)" ".dv/tmp after the checkout"

step "a directory an interrupted checkout left in .dv/tmp is removed by the next one"
rm -rf data
mkdir -p .dv/tmp/restore-dir-left/x/y
echo partial >.dv/tmp/restore-dir-left/x/y/f
ln -s / .dv/tmp/restore-dir-left/x/root
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/want" "restored after the leftover"
assert_eq "" "$(ls -A .dv/tmp)" ".dv/tmp after the checkout"
[ -d / ] || fail "the leftover's symlink to / was followed"

step "killed at any moment, the checkout leaves data absent or whole"
for delay in 0.01 0.03 0.06 0.1 0.15 0.25; do
    rm -rf data
    "$DV" checkout >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -e data ]; then
        assert_tree_matches data "$T/want" "data after a kill at ${delay}s"
    else
        ok "no data after a kill at ${delay}s"
    fi
    assert_exit 0 "$DV" checkout
    assert_tree_matches data "$T/want" "data after checkout again"
    assert_eq "" "$(ls -A .dv/tmp)" ".dv/tmp after checkout again"
done
