#!/usr/bin/env bash
# A pack deleted from under its index: dv fsck says which objects are lost, the repair
# it advises (dv add again) clears the problem, and the index left behind is reported
# as a leftover to remove, by path, not as corruption that no repair clears.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"
gen_random a.bin 300000 1
gen_random b.bin 300000 2
b_sha=$(sha_of b.bin)
assert_exit 0 "$DV" add a.bin
git commit -qm a
before=$(ls .dv/cache/packs/*.pack)
assert_exit 0 "$DV" add b.bin
git commit -qm b
b_pack=$(comm -13 <(printf '%s\n' $before) <(ls .dv/cache/packs/*.pack))
[ -n "$b_pack" ] || fail "no new pack for b.bin"
b_idx=${b_pack%.pack}.idx
idx_name=$(basename "$b_idx")

step "the pack holding b.bin is deleted; its index stays"
rm "$b_pack"
assert_exit 1 "$DV" fsck
assert_match "$OUT" "^missing pack for index $idx_name: ([0-9]+) of the \\1 objects it lists are in no other pack$"
assert_contains "$OUT" "to repair: dv fsck --repair fetches good copies from the remote, or dv add the affected paths again"
assert_not_contains "$OUT" "bad pack"

step "the advised repair: dv add b.bin again, with a new file (so into another pack)"
gen_random c.bin 300000 3
assert_exit 0 "$DV" add b.bin c.bin
[ ! -e "$b_pack" ] || fail "the lost pack came back under its own name; nothing is left over"
assert_exit 0 "$DV" fsck
assert_match "$OUT" "^leftover index $idx_name: its pack is gone, but all [0-9]+ objects it lists are in other packs \\(remove it: rm .*$idx_name\\)$"
assert_match "$OUT" ": 0 problems, 1 leftover file$"
assert_exit 0 "$DV" fsck -q
assert_contains "$OUT" "leftover index $idx_name"

step "removing the leftover as told: fsck says nothing more"
rm "$b_idx"
assert_exit 0 "$DV" fsck
assert_not_contains "$OUT" "leftover"
assert_exit 0 "$DV" fsck -q
assert_empty "$OUT"

step "b.bin is restored from the store"
rm b.bin
assert_exit 0 "$DV" checkout
assert_file_sha b.bin "$b_sha" "b.bin"
