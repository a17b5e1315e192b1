#!/usr/bin/env bash
# SIGINT and SIGTERM in the middle of dv add and dv checkout: dv says so and leaves no
# temp file in the work tree or the store; the next command succeeds. Under ulimit -f,
# dv add fails with a message naming the file it could not write, and is not killed.
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

# assert_no_temp_files: nothing dv writes before a rename is left anywhere.
assert_no_temp_files() {
    local left
    left=$(find . \( -name '*.tmp-*' -o -path './.dv/cache/tmp/*' -o -path './.dv/tmp/*' \) -print)
    [ -z "$left" ] || fail "temp files left behind: $left"
    ok "no temp file in the work tree or the store"
}

# interrupt SIGNAL GLOB CMD...: run CMD in the background, send SIGNAL once GLOB exists;
# sets INTERRUPTED=1 if it got there, with RC and $ERR of the command.
interrupt() {
    local sig=$1 glob=$2
    shift 2
    "$@" >"$OUT" 2>"$ERR" &
    local pid=$!
    track_bg "$pid"
    INTERRUPTED=0
    if wait_for "$pid" "$glob"; then
        kill -s "$sig" "$pid"
        INTERRUPTED=1
    fi
    RC=0
    wait "$pid" || RC=$?
    E2E_LAST_CMD="$* (sent $sig)"
    E2E_LAST_RC=$RC
    cat "$OUT" "$ERR" >"$ALL"
}

new_repo "$T/r"
gen_random big.bin $((512 << 20)) 1
big_sha=$(sha_of big.bin)

for sig in INT TERM; do
    step "SIG$sig while dv add writes the first pack"
    interrupt "$sig" '.dv/cache/tmp/pack-*' "$DV" add big.bin
    if [ "$INTERRUPTED" = 1 ]; then
        want=$((128 + $(kill -l "$sig")))
        assert_eq "$want" "$RC" "exit status (killed by SIG$sig)"
        if [ "$sig" = INT ]; then
            assert_contains "$ERR" "dv: interrupted; temporary files removed"
        else
            assert_contains "$ERR" "dv: terminated; temporary files removed"
        fi
        [ ! -e big.bin.dv ] || fail "a pointer was written for content that was never sealed"
        assert_no_temp_files
    else
        note "the add finished before it could be interrupted"
        rm -f big.bin.dv .gitignore
        git rm -q --cached --ignore-unmatch big.bin.dv .gitignore
        rm -rf .dv/cache/packs/* .dv/index
    fi
done

step "after the interruptions, dv add stores the file"
assert_exit 0 "$DV" add big.bin
assert_no_temp_files
git commit -qm big

step "SIGINT while dv checkout restores the file"
rm big.bin
interrupt INT '.dv/tmp/restore-*' "$DV" checkout
if [ "$INTERRUPTED" = 1 ]; then
    assert_eq 130 "$RC" "exit status (killed by SIGINT)"
    assert_contains "$ERR" "dv: interrupted; temporary files removed"
    assert_no_temp_files
    [ ! -e big.bin ] || fail "a half-restored big.bin stands in the work tree"
    ok "big.bin is not there half-restored"
else
    note "the checkout finished before it could be interrupted"
fi
assert_exit 0 "$DV" checkout
assert_file_sha big.bin "$big_sha" "big.bin restored after the interruption"
assert_exit 0 "$DV" fsck

step "ulimit -f below the pack size: a message naming the file, no signal, no temp pack"
new_repo "$T/limited"
gen_random data.bin $((24 << 20)) 2
# 8 MiB: the 24 MiB of data do not compress, so the pack cannot be written
run bash -c 'ulimit -f 8192 && exec "$0" add data.bin' "$DV"
assert_eq 5 "$RC" "exit status"
assert_match "$ERR" "dv: error: cannot add data\.bin: .*cannot write .*/\.dv/cache/tmp/pack-[a-z0-9]+: File too large"
assert_contains "$ERR" "at most 8388608 bytes"
assert_contains "$ERR" "ulimit -f"
[ ! -e data.bin.dv ] || fail "a pointer was written for content that was never stored"
assert_no_temp_files
assert_exit 0 "$DV" add data.bin
assert_exit 0 "$DV" fsck
