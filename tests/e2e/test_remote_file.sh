#!/usr/bin/env bash
# dv push / fetch / pull against a directory remote, next to real git: packs go up whole
# with their indexes, only what is missing moves, and damage or loss on the remote is
# caught before anything reaches the work tree.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

REMOTE_DIR=$T/remote-store
remote_url=$REMOTE_DIR
remote_add_opts=()
remote_ls() { (cd "$REMOTE_DIR" && find packs -type f ! -name '.*' 2>/dev/null | sort); }
remote_get() { cp "$REMOTE_DIR/$1" "$2"; }
remote_put() { cp "$1" "$REMOTE_DIR/$2"; }
remote_rm() { rm -f "$REMOTE_DIR/$1"; }

. "$HERE/remote_scenario.sh"

step "directory remote: no temp files are left behind"
leftovers=$(find "$REMOTE_DIR" -name '.*tmp*' | wc -l)
assert_eq 0 "$leftovers" "temp files on the remote"

step "kill -9 during push and during pull: remote and store stay consistent, then finish"
cd "$T/origin"
assert_exit 0 "$DV" remote add --default origin "$remote_url"
gen_random big.bin $((96 * 1024 * 1024)) 21
assert_exit 0 "$DV" add big.bin
git commit -q -m big
"$DV" push -j 1 >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
note "remote after the killed push: $(remote_ls | wc -l) names"
git clone -q "$T/origin" "$T/clone5"
cd "$T/clone5"
run "$DV" pull big.bin
note "pull against the half-pushed remote: exit $RC"
[ "$RC" = 0 ] || [ ! -e big.bin ] || fail "big.bin exists although the pull failed"
cd "$T/origin"
assert_exit 0 "$DV" push
cd "$T/clone5"
"$DV" pull -j 1 big.bin >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ ! -e big.bin ] || [ "$(sha_of big.bin)" = "$(sha_of "$T/origin/big.bin")" ] ||
    fail "a partial big.bin is in the work tree after kill -9"
ok "no partial big.bin in the work tree"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" pull big.bin
assert_file_sha big.bin "$(sha_of "$T/origin/big.bin")" "big.bin after the pull was finished"
assert_exit 0 "$DV" fsck
