#!/usr/bin/env bash
# dv checkout over a file whose content is in the store takes the chunks the two
# versions share from that file (checked against their ids), not from the packs: with
# the old version's pack damaged, switching to the new version still restores it
# exactly, while a restore that must read the damaged pack fails and says so.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

SIZE=$((8 * 1024 * 1024))

step "v1: 8 MiB of random bytes; v2: the same with its last 64 KiB rewritten"
new_repo "$T/repo"
gen_random data.bin "$SIZE" 1
sha1=$(sha_of data.bin)
assert_exit 0 "$DV" add data.bin
git commit -q -m v1
pack1=$(find .dv/cache/packs -name '*.pack')
[ "$(pack_count)" = 1 ] || fail "expected one pack after the first add, found $(pack_count)"
gen_random "$T/tail" 65536 2
"$PY" - data.bin "$T/tail" <<'EOF'
import sys
data, tail = sys.argv[1], open(sys.argv[2], "rb").read()
with open(data, "r+b") as f:
    f.seek(-len(tail), 2)
    f.write(tail)
EOF
sha2=$(sha_of data.bin)
assert_ne "$sha1" "$sha2" "v2 differs from v1"
assert_exit 0 "$DV" add data.bin
git commit -q -m v2
[ "$(pack_count)" = 2 ] || fail "expected a second pack for v2's new chunks, found $(pack_count)"
ok "v1's chunks in $(basename "$pack1"), v2's new ones in a second pack"

step "back to v1, then damage v1's pack in the middle (a chunk v2 shares)"
git checkout -q HEAD~1 -- data.bin.dv
assert_exit 0 "$DV" checkout
assert_file_sha data.bin "$sha1" "v1 restored"
psize=$(stat -c %s "$pack1")
chmod u+w "$pack1"
flip_byte "$pack1" $((psize / 2))

step "switch to v2: the shared chunks come from data.bin as it is, the rest from v2's pack"
git checkout -q HEAD -- data.bin.dv
assert_exit 0 "$DV" checkout
assert_file_sha data.bin "$sha2" "v2 restored over v1 despite the damaged pack"
assert_exit 0 "$DV" status

step "without v1 in the work tree the restore needs the damaged pack: it fails and names it"
rm data.bin
assert_exit_ge 2 "$DV" checkout
assert_contains "$ALL" "$(basename "$pack1" .pack)"
[ ! -e data.bin ] || fail "a failed restore left data.bin behind"
ok "no half-written data.bin"
