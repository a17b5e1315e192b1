#!/usr/bin/env bash
# Seeded kill loop for dv gc: a store with two versions of a 48 MiB file sharing a third of
# their chunks, in packs of 1 MiB, the old version on a branch that is deleted; dv gc
# --expire-reflog now is SIGKILLed at a random moment while it rewrites and deletes packs,
# then
#   - dv fsck is clean (a pack without its index is no part of the store);
#   - the kept version restores byte for byte (digest recorded when it was made);
#   - dv gc run again succeeds, frees what the first run would have freed, and leaves no
#     temp file.
# 3 kills by default, 30 with DV_KILL_LONG=1; seed DV_KILL_SEED (default 1), replay one
# kill with DV_KILL_ITER=<k>. See kill_loop.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
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
