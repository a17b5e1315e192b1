#!/usr/bin/env bash
# Seeded kill loop for dv checkout: with v1 and v2 committed and stored (256 MiB file +
# 300 small files, an executable, a symlink, a file only in each version), git checkout
# the other version and SIGKILL `dv checkout` at a random moment, then
#   - dv fsck is clean;
#   - every user file (and symlink) is byte for byte its old or its new version, or
#     absent where that version has no such path;
#   - re-running dv checkout succeeds and leaves exactly the new version;
#   - no temp file is left after it (.*.tmp-* and .dv-link-* in the work tree, .dv/tmp,
#     the store's tmp/).
# Kills alternate between v1 -> v2 and v2 -> v1.
# 3 kills by default (under a minute here), 30 with DV_KILL_LONG=1; seed DV_KILL_SEED
# (default 1), replay one kill with DV_KILL_ITER=<k>. See kill_loop.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/kill_loop.sh"

step "two versions of the data, hashed when made, both committed"
kill_make_data "$T/v1" 1
kill_make_data "$T/v2" 2
R=$T/r
new_repo "$R"
kill_place_data 1
assert_exit 0 "$DV" add big.bin small
git commit -qm v1
git tag v1
kill_place_data 2
assert_exit 0 "$DV" add big.bin small
git commit -qm v2
git tag v2
rm -rf "$T/v1" "$T/v2" # the manifests are enough from here on

step "dv checkout: measure an unkilled checkout of v1 over v2"
git checkout -q v1
kill_measure "$DV" checkout
kill_check_tree "$R" 1 "work tree after the checkout of v1"
kill_assert_no_temps "$R"

for k in $(kill_iterations); do
    cd "$R"
    if [ $((k % 2)) = 1 ]; then to=2; else to=1; fi
    git checkout -q "v$to"
    kill_run "dv checkout (to v$to)" "$k" "$DV" checkout
    kill_note_leftovers "$R"
    assert_exit 0 "$DV" fsck
    kill_check_tree "$R" either "work tree after the killed checkout"
    assert_exit 0 "$DV" checkout
    kill_check_tree "$R" "$to" "work tree after the checkout was run again"
    kill_assert_no_temps "$R"
done
kill_summary "dv checkout"
