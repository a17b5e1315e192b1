#!/usr/bin/env bash
# A file that changes while dv add reads it: dv either stores a version the file really
# had (checked by restoring it and comparing with every version written) or refuses
# with a message naming the file; it never stores a mix of two versions.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"

# The writer rewrites big.bin in place, one write(2) per version, each version longer
# than the one before (so a write under way also moves the size), with short pauses in
# which a read can finish. Each version's sha256 goes to versions.txt before its write.
cat >"$T/writer.py" <<'EOF_PY'
import hashlib, os, sys, time
path, versions, stop, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = bytearray(open("/dev/urandom", "rb").read(24 << 20))
v = first
while not os.path.exists(stop):
    data = bytearray(base)
    for off in range(0, len(data), 1 << 20):
        data[off:off + 8] = v.to_bytes(8, "big")
    data += base[: v * 4096]
    with open(versions, "a") as f:
        f.write(hashlib.sha256(data).hexdigest() + "\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    os.pwrite(fd, data, 0)
    os.close(fd)
    v += 1
    time.sleep(0.005 * (v % 7))
EOF_PY

stored=0 refused=0
for round in 1 2 3 4 5 6; do
    step "round $round: dv add while big.bin is rewritten"
    rm -f "$T/stop" big.bin
    "$PY" "$T/writer.py" big.bin "$T/versions.txt" "$T/stop" $((round * 1000)) &
    writer=$!
    track_bg "$writer"
    while [ ! -s big.bin ]; do sleep 0.01; done
    sleep 0.05
    run "$DV" add big.bin
    touch "$T/stop"
    wait "$writer"
    if [ "$RC" = 0 ]; then
        stored=$((stored + 1))
        git commit -qm "round $round" --allow-empty
        rm big.bin
        assert_exit 0 "$DV" checkout
        got=$(sha_of big.bin)
        grep -qx "$got" "$T/versions.txt" ||
            fail "round $round: the stored big.bin (sha256 $got) is none of the versions written"
        ok "the stored big.bin is one of the $(wc -l <"$T/versions.txt") versions written"
    else
        refused=$((refused + 1))
        assert_eq 5 "$RC" "exit status"
        assert_contains "$ERR" "big.bin changed while it was read (3 times in a row)"
        [ -z "$(git status --porcelain big.bin.dv)" ] || fail "the pointer changed"
        ok "the pointer file is as it was"
    fi
done
note "stored $stored times, refused $refused times"

step "the store is sound"
assert_exit 0 "$DV" fsck
