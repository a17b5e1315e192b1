#!/usr/bin/env bash
# The repository lock: a second mutating command waits up to the timeout, then fails
# with exit 3; a holder that died (kill -9) leaves no lock behind.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# hold_lock SECONDS: hold an flock on .dv/lock in one background process (sets HOLDER).
hold_lock() {
    flock -F .dv/lock sleep "$1" &
    HOLDER=$!
    track_bg "$HOLDER"
    local i
    for i in $(seq 100); do
        if ! flock -n .dv/lock true 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    fail "the background holder did not take .dv/lock"
}

step "set up a repository with some data"
new_repo "$T/repo"
gen_random a.bin 200000 1
gen_random b.bin 200000 2
assert_exit 0 "$DV" add a.bin
git commit -q -m a
[ -e .dv/lock ] || note ".dv/lock does not exist after a command (created on demand)"

step "another process holds .dv/lock: dv add with DV_LOCK_TIMEOUT=1 fails with exit 3"
hold_lock 60
note "holder pid $HOLDER"
t0=$(now_ms)
assert_exit 3 env DV_LOCK_TIMEOUT=1 "$DV" add b.bin
t1=$(now_ms)
assert_match "$ERR" "[Ll]ock"
note "message: $(head -n2 "$ERR" | tr '\n' ' ')"
elapsed=$((t1 - t0))
note "gave up after $elapsed ms"
[ "$elapsed" -ge 900 ] || fail "gave up after $elapsed ms, before the 1 s timeout"
[ "$elapsed" -lt 10000 ] || fail "took $elapsed ms, far beyond the 1 s timeout"
ok "waited about the timeout (${elapsed} ms)"
[ ! -e b.bin.dv ] || fail "a pointer was written although the lock was not taken"
ok "no pointer written"

step "dv checkout is a mutating command too: exit 3"
rm a.bin
assert_exit 3 env DV_LOCK_TIMEOUT=1 "$DV" checkout
assert_match "$ERR" "[Ll]ock"
[ ! -e a.bin ] || fail "dv checkout restored a file without holding the lock"
ok "nothing restored"

step "core.lockTimeout from .dv/config.local is used when DV_LOCK_TIMEOUT is unset"
git config -f .dv/config.local core.lockTimeout 1
t0=$(now_ms)
assert_exit 3 "$DV" add b.bin
t1=$(now_ms)
[ $((t1 - t0)) -lt 10000 ] || fail "core.lockTimeout=1 ignored (waited $((t1 - t0)) ms)"
ok "gave up after $((t1 - t0)) ms"
git config -f .dv/config.local --unset core.lockTimeout

step "the holder is killed with -9: the next command succeeds (stale lock recovered)"
kill -9 "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
[ -e .dv/lock ] && note ".dv/lock file is still there (expected: flock is released by the kernel)"
assert_exit 0 env DV_LOCK_TIMEOUT=1 "$DV" add b.bin
[ -f b.bin.dv ] || fail "no pointer after a successful add"
assert_exit 0 env DV_LOCK_TIMEOUT=1 "$DV" checkout
[ -f a.bin ] || fail "a.bin not restored"
ok "a.bin restored"

step "a short-lived holder: dv waits for it instead of failing"
hold_lock 2
gen_random c.bin 100000 3
t0=$(now_ms)
assert_exit 0 env DV_LOCK_TIMEOUT=20 "$DV" add c.bin
t1=$(now_ms)
note "waited $((t1 - t0)) ms for the holder to finish"
[ $((t1 - t0)) -ge 500 ] || fail "dv add did not wait for the lock holder ($((t1 - t0)) ms)"
ok "dv add waited and then succeeded"
[ -f c.bin.dv ] || fail "no pointer for c.bin"
ok "c.bin.dv written"

step "reading commands do not need the lock: dv status works while it is held"
hold_lock 60
assert_exit 0 env DV_LOCK_TIMEOUT=1 "$DV" status
kill -9 "$HOLDER"; wait "$HOLDER" 2>/dev/null || true

step "a dv add killed with -9 in the middle leaves a consistent store; the next add succeeds"
gen_random big.bin $((96 * 1024 * 1024)) 4
"$DV" add -q big.bin >"$T/bg.out" 2>&1 &
bg=$!
track_bg "$bg"
sleep 0.4
kill -9 "$bg" 2>/dev/null || true
wait "$bg" 2>/dev/null || true
if [ -e big.bin.dv ]; then note "the add had already finished"; else note "the add was killed mid-way"; fi
assert_exit 0 "$DV" fsck -q
assert_exit 0 env DV_LOCK_TIMEOUT=5 "$DV" add big.bin
assert_exit 0 "$DV" status
assert_exit 0 "$DV" fsck -q
big=$(sha_of big.bin)
rm big.bin
assert_exit 0 "$DV" checkout big.bin
assert_file_sha big.bin "$big" "big.bin restored after the crash"
