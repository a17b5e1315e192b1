#!/usr/bin/env bash
# Seeded kill loop for dv gc: a store with two versions of a 48 MiB file sharing a third of
# their chunks, in packs of 1 MiB, the old version on a branch that is deleted; dv gc
# --expire-reflog now is SIGKILLed at a random moment while it rewrites and deletes packs,
# then
#   - dv fsck is clean (a pack without its index is no part of the store);
#   - the kept version restores byte for byte (digest recorded when it was made);
#   - dv gc run again succeeds, frees what the first run would have freed, and leaves no
#     temp file.
# Then the same for dv gc --repack-only merging 24 small packs.
# 10 kills by default, 50 with DV_KILL_LONG=1; seed DV_KILL_SEED (default 1), replay one
# kill with DV_KILL_ITER=<k>. See kill_loop.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
# gc deletes: 10 kills a command by default, 50 in the long mode (DV_KILL_COUNT still wins)
if [ -z "${DV_KILL_COUNT:-}" ]; then
    if [ "${DV_KILL_LONG:-0}" != 0 ]; then DV_KILL_COUNT=50; else DV_KILL_COUNT=10; fi
fi
. "$HERE/kill_loop.sh"

step "two versions, the old one on a branch, in packs of 1 MiB"
P=$T/pristine
new_repo "$P"
assert_exit 0 "$DV" config pack.targetSize 1m
git commit -qm config
gen_random shared.part $((16 << 20)) 1
gen_random old.part $((32 << 20)) 2
gen_random new.part $((32 << 20)) 3
git checkout -qb old
cat shared.part old.part >big.bin
assert_exit 0 "$DV" add big.bin
git commit -qm old
git checkout -q main
cat shared.part new.part >big.bin
new_sha=$(sha_of big.bin)
assert_exit 0 "$DV" add big.bin
git commit -qm new
rm -f shared.part old.part new.part big.bin
git branch -qD old

# fresh_copy: R is a copy of the pristine repository.
fresh_copy() {
    cd "$T"
    rm -rf "$T/r"
    cp -a "$P" "$T/r"
    cd "$T/r"
}
check_kept() {
    assert_exit 0 "$DV" fsck
    assert_eq "$new_sha" "$("$DV" cat main:big.bin | sha256sum | cut -d' ' -f1)" "main:big.bin"
}

step "dv gc: measure an unkilled run"
fresh_copy
assert_exit 0 "$DV" gc --expire-reflog now -n
grep -E '^would be (kept|freed):' "$OUT" | sed 's/^would be //' >"$T/expected"
kill_measure "$DV" gc --expire-reflog now
assert_eq "$(cat "$T/expected")" "$(grep -E '^(kept|freed):' "$OUT")" "the run's counts"
check_kept
R=$T/r
kill_assert_no_temps "$R"

for k in $(kill_iterations); do
    fresh_copy
    kill_run "dv gc" "$k" "$DV" gc --expire-reflog now
    kill_note_leftovers "$R"
    check_kept
    assert_exit 0 "$DV" gc --expire-reflog now
    assert_eq "$(sed -n 's/^kept: //p' "$T/expected")" "$(sed -n 's/^kept: //p' "$OUT")" \
        "what is kept once gc ran again"
    check_kept
    kill_assert_no_temps "$R"
done
kill_summary "dv gc"

# The merge of small packs, killed: 24 adds of 600 KiB (one pack each) merged by
# dv gc --repack-only. After a kill: dv fsck is clean, every file restores byte for byte,
# and the next run keeps the same objects and ends with the packs an unkilled run leaves.
step "dv gc --repack-only: 24 small packs"
M=$T/merge-pristine
new_repo "$M"
git commit -qm init
for i in $(seq 1 24); do
    gen_random "f$i.bin" $((600 << 10)) $((500 + i))
    printf 'f%s.bin %s\n' "$i" "$(sha_of "f$i.bin")" >>"$T/merge-shas"
    "$DV" add "f$i.bin" >/dev/null || fail "dv add f$i.bin"
done
git commit -qm files
rm -f f*.bin
merge_copy() {
    cd "$T"
    rm -rf "$T/m"
    cp -a "$M" "$T/m"
    cd "$T/m"
}
check_merged() {
    assert_exit 0 "$DV" fsck
    while read -r f sha; do
        assert_eq "$sha" "$("$DV" cat "HEAD:$f" | sha256sum | cut -d' ' -f1)" "$f" >/dev/null
    done <"$T/merge-shas"
    ok "every file restores byte for byte"
}
merge_copy
assert_exit 0 "$DV" gc --repack-only -n
kept_line=$(sed -n 's/^would be kept: \([0-9]* objects\).*/\1/p' "$OUT")
kill_measure "$DV" gc --repack-only
packs_after=$(pack_count)
check_merged
KILL_MISSED=0
for k in $(kill_iterations); do
    merge_copy
    kill_run "dv gc --repack-only" "$k" "$DV" gc --repack-only
    kill_note_leftovers "$T/m"
    check_merged
    assert_exit 0 "$DV" gc --repack-only
    assert_contains "$OUT" "kept: $kept_line"
    assert_eq "$packs_after" "$(pack_count)" "packs once the merge ran again"
    check_merged
    kill_assert_no_temps "$T/m"
done
kill_summary "dv gc --repack-only"
