#!/usr/bin/env bash
# Seeded kill loop for dv push to a directory remote: with v1 and v2 committed and
# stored (256 MiB file + 300 small files), SIGKILL `dv push` to a new, empty remote at a
# random moment, then
#   - dv fsck is clean and the work tree is still exactly v2;
#   - re-running dv push succeeds, and a third push has nothing to send;
#   - no temp file is left after it: none in the work tree, .dv/tmp or the store, and no
#     packs/.*tmp* on the remote; every name in the remote's packs/ is <id>.pack or <id>.idx;
#   - a fresh git clone + dv pull from that remote restores exactly the v2 bytes.
# 3 kills by default (about a minute here), 30 with DV_KILL_LONG=1; seed DV_KILL_SEED
# (default 1), replay one kill with DV_KILL_ITER=<k>. See kill_loop.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/kill_loop.sh"

kill_remote_add() { assert_exit 0 "$DV" remote add "$1" "$T/remote-$2"; }
kill_remote_drop() { rm -rf "$T/remote-$1"; }
kill_remote_dir() { echo "$T/remote-$1"; }
kill_remote_check() {
    local dir=$T/remote-$1 found
    found=$(find "$dir" -path "$dir/packs/.*tmp*" | sed "s|^$dir/||")
    [ -z "$found" ] || fail "$KILL_CONTEXT: temp files left on the remote: $(kill_list "$found")"
    found=$(find "$dir/packs" -mindepth 1 | sed "s|^$dir/||" |
        grep -vE '^packs/[0-9a-f]{64}\.(pack|idx)$' || true)
    [ -z "$found" ] || fail "$KILL_CONTEXT: names on the remote that are not packs or indexes: $(kill_list "$found")"
    ok "remote $1 holds only packs and indexes"
}

step "two versions of the data, hashed when made, both committed"
kill_make_data "$T/v1" 1
kill_make_data "$T/v2" 2
R=$T/r
new_repo "$R"
kill_place_data 1
assert_exit 0 "$DV" add big.bin small
git commit -qm v1
kill_place_data 2
assert_exit 0 "$DV" add big.bin small
git commit -qm v2
rm -rf "$T/v1" "$T/v2"

kill_push_loop "dv push (directory remote)"
