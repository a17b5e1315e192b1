#!/usr/bin/env bash
# Lose nothing: kill -9 in the middle of dv add and dv checkout, and a full disk
# under the store and under the work tree. After each, the store passes fsck, no
# pointer names content that is not stored, no half-written file stands where a
# user's file was, and the next command succeeds.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# wait_for PID GLOB: poll (up to 10 s) until GLOB matches a file; returns 1 if the
# process PID ended first (then there is nothing left to interrupt).
wait_for() {
    local i
    for i in $(seq 1 1000); do
        compgen -G "$2" >/dev/null && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.01
    done
    fail "nothing matched $2 within 10 s"
}

new_repo "$T/r"
gen_random big.bin $((384 << 20)) 1
big_sha=$(sha_of big.bin)
echo small > small.txt
assert_exit 0 "$DV" add small.txt
git commit -qm small

step "kill -9 while dv add is writing the first pack"
"$DV" add big.bin >/dev/null 2>&1 &
pid=$!
track_bg "$pid"
if wait_for "$pid" '.dv/cache/tmp/pack-*'; then
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    [ ! -e big.bin.dv ] || fail "a pointer was written for content that was never sealed"
    ok "no pointer file for the interrupted add"
else
    note "the add finished before it could be interrupted"
fi
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" status small.txt

step "kill -9 after some packs are sealed"
packs_before=$(pack_count)
"$DV" add big.bin >/dev/null 2>&1 &
pid=$!
track_bg "$pid"
for i in $(seq 1 1000); do
    [ "$(pack_count)" -gt "$((packs_before + 1))" ] && break
    sleep 0.01
done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
if [ -e big.bin.dv ]; then
    note "the add finished before the kill; the pointer must then be valid"
else
    ok "no pointer file for the interrupted add"
fi
assert_exit 0 "$DV" fsck

step "the next add completes and cleans up"
assert_exit 0 "$DV" add big.bin
assert_exit 0 "$DV" fsck
leftover=$(find .dv/cache/tmp .dv/tmp -type f 2>/dev/null | wc -l)
assert_eq 0 "$leftover" "temp files left in the store"
git commit -qm big

step "kill -9 while dv checkout writes the file"
rm big.bin
"$DV" checkout >/dev/null 2>&1 &
pid=$!
track_bg "$pid"
wait_for "$pid" '.dv/tmp/restore-*' || note "the checkout finished before it could be interrupted"
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
if [ -e big.bin ]; then
    assert_eq "$big_sha" "$(sha_of big.bin)" "big.bin after the kill (complete or absent)"
else
    ok "big.bin absent after the kill (never half-written)"
fi
[ -z "$(find . -maxdepth 1 -name '.big.bin.tmp-*')" ] || fail "temp file left beside big.bin"
assert_exit 0 "$DV" checkout
assert_eq "$big_sha" "$(sha_of big.bin)" "big.bin restored after the interrupted checkout"
assert_eq 0 "$(find .dv/tmp -type f | wc -l)" "files left in .dv/tmp"

step "kill -9 while overwriting a modified file keeps the old bytes or the new, never a mix"
gen_random big.bin $((384 << 20)) 2
edited_sha=$(sha_of big.bin)
assert_exit 0 "$DV" add big.bin
git commit -qm edited
git checkout -q HEAD~1
"$DV" checkout >/dev/null 2>&1 &
pid=$!
track_bg "$pid"
wait_for "$pid" '.dv/tmp/restore-*' || note "the checkout finished before it could be interrupted"
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
now=$(sha_of big.bin)
[ "$now" = "$big_sha" ] || [ "$now" = "$edited_sha" ] || fail "big.bin is neither version after the kill"
ok "big.bin holds one whole version"
assert_exit 0 "$DV" checkout
assert_eq "$big_sha" "$(sha_of big.bin)" "big.bin restored"

# The rest needs a small file system: a tmpfs, which needs root.
mkdir -p "$T/small"
if ! mount -t tmpfs -o size=48m tmpfs "$T/small" 2>/dev/null; then
    note "cannot mount a tmpfs here (not root?): full-disk checks skipped"
    exit 0
fi
# Unmount first (from outside it), then the usual cleanup with the script's own exit code.
trap 'rc=$?; cd "$T"; umount "$T/small" 2>/dev/null || true; (exit $rc); _e2e_cleanup' EXIT

step "a full disk under the store"
git checkout -q main
assert_exit 0 "$DV" checkout
gen_random huge.bin $((96 << 20)) 3
git config -f .dv/config.local cache.dir "$T/small/cache"
assert_exit 5 "$DV" add huge.bin
assert_contains "$ERR" "No space left"
[ ! -e huge.bin.dv ] || fail "a pointer was written although the store is full"
ok "no pointer file"
assert_exit 0 "$DV" fsck
assert_eq 0 "$(find "$T/small/cache/tmp" -type f | wc -l)" "temp packs left on the full disk"
git config -f .dv/config.local --unset cache.dir
assert_exit 0 "$DV" add huge.bin
assert_exit 0 "$DV" fsck

step "a full disk under the work tree during checkout"
git commit -qm huge
mkdir -p "$T/small/wt"
git clone -q "$T/r" "$T/small/wt/clone"
cd "$T/small/wt/clone"
git config -f .dv/config.local cache.dir "$T/r/.dv/cache"
assert_exit 5 "$DV" checkout huge.bin
assert_contains "$ERR" "No space left"
[ ! -e huge.bin ] || fail "a partial huge.bin was left in the work tree"
ok "no partial file in the work tree"
assert_eq 0 "$(find .dv/tmp -type f | wc -l)" "temp files left after the failed checkout"
assert_exit 0 "$DV" checkout small.txt
assert_eq small "$(cat small.txt)" "a file that fits is restored"
