#!/usr/bin/env bash
# dv push never spreads damage and never leaves temp files for good on a directory remote:
# a pack with a damaged chunk is refused whole (naming the pack, nothing of it on the
# remote), so is an object copied into a new pack whose bytes no longer hash to its id (CRC
# made to match), and a push killed with SIGKILL at several moments leaves temp files that
# the next push removes, while a temp file another push still holds is left alone; after the
# last push a fresh clone pulls everything and dv fsck finds nothing wrong.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

# damage_entry PACK K [fix-crc]: flip a byte in the middle of the stored bytes of the K-th
# chunk entry of PACK (in file order); with fix-crc, write the entry's CRC-32C again so that
# only the object's SHA-256 shows the damage. Prints the object's id.
damage_entry() {
    "$PY" - "$@" <<'PYEOF'
import struct, sys
path, k = sys.argv[1], int(sys.argv[2])
fix_crc = len(sys.argv) > 3
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table.append(c)
def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = table[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
data = bytearray(open(path, "rb").read())
off, n = 8, 0
while off < len(data) - 32:
    typ, flags, _, raw_len, stored_len = struct.unpack(">BBHII", data[off:off + 12])
    if typ == 1:
        if n == k:
            at = off + 48 + stored_len // 2
            data[at] ^= 0x55
            if fix_crc:
                struct.pack_into(">I", data, off + 44, crc32c(data[off + 48:off + 48 + stored_len]))
            import os
            os.chmod(path, 0o644)
            open(path, "wb").write(data)
            print(data[off + 12:off + 44].hex())
            sys.exit(0)
        n += 1
    off += 48 + stored_len
sys.exit("no chunk entry %d in %s" % (k, path))
PYEOF
}

remote_packs() { find "$1/packs" -name '*.pack' ! -name '.*' 2>/dev/null | wc -l | tr -d ' '; }
remote_temps() { find "$1" -name '.*.tmp-*' 2>/dev/null | wc -l | tr -d ' '; }
only_pack() { ls .dv/cache/packs/*.pack; }

step "a pack with a damaged chunk is refused whole, and nothing of it reaches the remote"
new_repo "$T/damaged"
gen_random data.bin $((3 * 1024 * 1024)) 1
assert_exit 0 "$DV" add data.bin
git add -A && git commit -q -m data
assert_exit 0 "$DV" remote add --default origin "$T/remote-damaged"
pack=$(only_pack)
pack_id=$(basename "$pack" .pack)
object=$(damage_entry "$pack" 3)
assert_exit_ge 2 "$DV" push
assert_contains "$ERR" "$pack_id"
assert_contains "$ERR" "run dv fsck"
assert_contains "$ERR" "CRC-32C"
assert_eq 0 "$(remote_packs "$T/remote-damaged")" "packs on the remote"
assert_eq 0 "$(find "$T/remote-damaged" -name "*$pack_id*" 2>/dev/null | wc -l | tr -d ' ')" \
    "files of pack ${pack_id:0:12} on the remote"
run "$DV" fsck
assert_ne 0 "$RC" "dv fsck exit code"
assert_contains "$ALL" "$object"

step "an object copied into a new pack is hashed: a damage the CRC-32C misses is refused too"
new_repo "$T/copied"
gen_random a.bin $((2 * 1024 * 1024)) 2
gen_random b.bin $((2 * 1024 * 1024)) 3
assert_exit 0 "$DV" add a.bin b.bin
git add -A && git commit -q -m ab
assert_exit 0 "$DV" remote add --default origin "$T/remote-copied"
assert_eq 1 "$(pack_count)" "local packs"
pack=$(only_pack)
pack_id=$(basename "$pack" .pack)
# the first chunk in the pack belongs to a.bin (added first)
object=$(damage_entry "$pack" 0 fix-crc)
assert_exit_ge 2 "$DV" push a.bin
assert_contains "$ERR" "$pack_id"
assert_contains "$ERR" "$object"
assert_contains "$ERR" "run dv fsck"
assert_eq 0 "$(remote_packs "$T/remote-copied")" "packs on the remote"
assert_eq 0 "$(find "$T/remote-copied" -type f 2>/dev/null | wc -l | tr -d ' ')" "files on the remote"
assert_eq 0 "$(find .dv/tmp -type f 2>/dev/null | wc -l | tr -d ' ')" "files left in .dv/tmp"

step "leftover temp files: the next push removes those nobody holds, never a held one"
new_repo "$T/origin"
printf '[pack]\n\ttargetSize = 33554432\n' >>.dv/config
gen_random big.bin $((160 * 1024 * 1024)) 4
gen_random small.bin $((1024 * 1024)) 5
assert_exit 0 "$DV" add big.bin small.bin
git add -A && git commit -q -m data
REMOTE=$T/remote
assert_exit 0 "$DV" remote add --default origin "$REMOTE"
git add -A && git commit -q -m remote
mkdir -p "$REMOTE/packs"
abandoned=$REMOTE/packs/.$(printf '%064d' 1).pack.tmp-AbC123
held=$REMOTE/packs/.$(printf '%064d' 2).pack.tmp-XyZ789
head -c 100000 /dev/urandom >"$abandoned"
head -c 100000 /dev/urandom >"$held"
# another push's upload in progress: a process holding flock on its temp file
"$PY" -c 'import fcntl, sys, time
f = open(sys.argv[1], "rb"); fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(600)' "$held" "$T/held.ready" &
holder=$!
track_bg "$holder"
for _ in $(seq 1 100); do [ -e "$T/held.ready" ] && break; sleep 0.05; done
[ -e "$T/held.ready" ] || fail "the lock holder did not start"
assert_exit 0 "$DV" push small.bin
[ ! -e "$abandoned" ] || fail "the abandoned temp file is still there"
ok "the abandoned temp file was removed"
[ -e "$held" ] || fail "the temp file another push holds was removed"
ok "the temp file another push holds was left alone"
kill "$holder" && wait "$holder" 2>/dev/null || true
assert_exit 0 "$DV" push small.bin
assert_eq 0 "$(remote_temps "$REMOTE")" "temp files once the holder is gone"

step "kill -9 of a push at several moments, then a push that completes"
left_behind=0
for delay in 0.15 0.35 0.6 0.9 1.3; do
    "$DV" push -j 2 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    n=$(remote_temps "$REMOTE")
    note "killed after ${delay}s: $(remote_packs "$REMOTE") packs, $n temp files on the remote"
    left_behind=$((left_behind + n))
    # the next push (killed or not) starts by removing them
done
note "temp files left by the killed pushes, in all: $left_behind"
assert_exit 0 "$DV" push
assert_eq 0 "$(remote_temps "$REMOTE")" "temp files on the remote after a complete push"
if [ "$left_behind" -eq 0 ]; then
    note "no kill landed inside a copy this time; the leftover removal was shown above"
fi

step "a fresh clone pulls everything and dv fsck is clean"
git clone -q "$T/origin" "$T/fresh"
cd "$T/fresh"
assert_exit 0 "$DV" pull
assert_file_sha big.bin "$(sha_of "$T/origin/big.bin")" "big.bin"
assert_file_sha small.bin "$(sha_of "$T/origin/small.bin")" "small.bin"
assert_exit 0 "$DV" fsck
