#!/usr/bin/env bash
# dv fsck finds a flipped byte in a pack and in a pack index, and names what is bad.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# object_ids_in_output IDX PACKID: the 64-hex ids in $ALL, other than the pack id, that the
# index file lists (as raw 32-byte ids).
object_ids_in_output() {
    "$PY" - "$ALL" "$1" "$2" <<'EOF'
import re, sys
out = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
idx = open(sys.argv[2], "rb").read()
pack = sys.argv[3]
for h in sorted(set(re.findall(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", out))):
    if h != pack and bytes.fromhex(h) in idx:
        print(h)
EOF
}

step "set up: a few MiB of random data and some text, added"
new_repo "$T/repo"
gen_random model.bin $((6 * 1024 * 1024)) 11
msha=$(sha_of model.bin)
mkdir data
gen_text data/t.csv 30000 3
gen_random data/r.bin 500000 12
assert_exit 0 "$DV" add model.bin data
git commit -q -m data

step "dv fsck on an intact store exits 0"
assert_exit 0 "$DV" fsck
note "fsck: $(tr '\n' ' ' <"$ALL" | cut -c1-200)"
assert_exit 0 "$DV" fsck -q
assert_empty "$OUT"

packs=(.dv/cache/packs/*.pack)
[ -f "${packs[0]}" ] || fail "no pack file in .dv/cache/packs"
assert_eq 1 "${#packs[@]}" "number of packs after one add"
pack=${packs[0]}
packid=$(basename "$pack" .pack)
idx=.dv/cache/packs/$packid.idx
[ -f "$idx" ] || fail "pack $packid has no index"
ok "pack $packid with its index"
[[ "$packid" =~ ^[0-9a-f]{64}$ ]] || fail "pack name is not 64 hex: $packid"
ok "pack named by its 64-hex id"
for f in "$pack" "$idx"; do
    m=$(stat -c %a "$f")
    (( (8#$m & 8#222) == 0 )) || fail "$(basename "$f") has mode $m; packs and indexes are read-only"
done
ok "pack and index are read-only (mode $(stat -c %a "$pack"))"
cp "$pack" "$T/pack.orig"; cp "$idx" "$T/idx.orig"

step "flip one byte in the middle of the pack: dv fsck exits 1, names the object and the pack"
psize=$(stat -c %s "$pack")
chmod u+w "$pack"
flip_byte "$pack" $((psize / 2))
assert_exit 1 "$DV" fsck
note "fsck: $(tr '\n' ' ' <"$ALL" | cut -c1-300)"
assert_contains "$ALL" "$packid"
ids=$(object_ids_in_output "$idx" "$packid")
[ -n "$ids" ] || fail "fsck output names no object id (64 hex) that the pack holds"
ok "fsck names object $(printf '%s' "$ids" | head -n1)"
assert_exit 1 "$DV" fsck -q
assert_contains "$ALL" "$packid"

step "a byte flipped inside data/r.bin's stored bytes: fsck names that path, and only it"
cp "$T/pack.orig" "$pack"
# r.bin is random, so its chunks are stored raw: find 64 of its bytes in the pack
off=$("$PY" - data/r.bin "$pack" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
pack = open(sys.argv[2], "rb").read()
at = pack.find(data[200000:200064])
assert at > 0, "r.bin's bytes are not stored raw"
print(at + 10)
EOF
) || fail "cannot find data/r.bin's bytes in the pack"
flip_byte "$pack" "$off"
assert_exit 1 "$DV" fsck
assert_contains "$OUT" "affected: data/r.bin (needs chunk "
assert_eq 1 "$(grep -c '^affected: ' "$OUT")" "affected paths"
cp "$T/pack.orig" "$pack"
flip_byte "$pack" $((psize / 2))

step "dv checkout with a damaged object refuses to write wrong bytes (exit 5)"
rsha=$(sha_of data/r.bin); tsha=$(sha_of data/t.csv)
rm -rf model.bin data
assert_exit 5 "$DV" checkout
note "checkout: $(tr '\n' ' ' <"$ALL" | cut -c1-300)"
assert_match "$ALL" "[0-9a-f]{64}"
absent=0
for pair in "model.bin:$msha" "data/r.bin:$rsha" "data/t.csv:$tsha"; do
    f=${pair%%:*}; want=${pair#*:}
    if [ -e "$f" ]; then
        [ "$(sha_of "$f")" = "$want" ] || fail "dv checkout wrote $f with wrong bytes from a corrupt store"
    else
        absent=$((absent + 1))
    fi
done
[ "$absent" -ge 1 ] || fail "every file was restored although one object is corrupt"
ok "no file written with wrong bytes ($absent not restored)"

step "restore the pack: fsck is clean again and checkout works"
cp "$T/pack.orig" "$pack"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" checkout
assert_file_sha model.bin "$msha" "model.bin restored"
assert_file_sha data/r.bin "$rsha" "data/r.bin restored"
assert_exit 0 "$DV" status

step "flip one byte in the middle of the index: dv fsck exits 1 and names the pack"
isize=$(stat -c %s "$idx")
chmod u+w "$idx"
flip_byte "$idx" $((isize / 2))
assert_exit 1 "$DV" fsck
note "fsck: $(tr '\n' ' ' <"$ALL" | cut -c1-300)"
assert_contains "$ALL" "$packid"

step "flip a byte in the index trailer region (last byte): also reported"
cp "$T/idx.orig" "$idx"
chmod u+w "$idx"
assert_exit 0 "$DV" fsck
flip_byte "$idx" $((isize - 1))
assert_exit 1 "$DV" fsck
assert_contains "$ALL" "$packid"

step "flip the last byte of the pack (its trailing checksum): reported"
cp "$T/idx.orig" "$idx"
flip_byte "$pack" $((psize - 1))
assert_exit 1 "$DV" fsck
assert_contains "$ALL" "$packid"
cp "$T/pack.orig" "$pack"
assert_exit 0 "$DV" fsck
