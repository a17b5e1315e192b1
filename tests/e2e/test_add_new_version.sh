#!/usr/bin/env bash
# dv add of a new version of a large file cuts it along the previous version's chunks
# (and dv status hashes it the same way). That must never change the result: the new
# version gets exactly the pointer, and stores exactly the bytes, that a repository
# without the previous version gives it, for an edit, for unrelated content under the
# same name, and when the stat cache is gone; and every version is restored exactly.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

SIZE=$((24 * 1024 * 1024))

# edit FILE SEED: 12 scattered 8 KiB overwrites, a 3 KiB insertion and a 5 KiB deletion
edit() {
    "$PY" - "$1" "$2" <<'EOF'
import random, sys
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
data = bytearray(open(path, "rb").read())
for _ in range(12):
    at = rng.randrange(len(data) - 8192)
    data[at:at + 8192] = rng.randbytes(8192)
at = len(data) // 3
data[at:at] = rng.randbytes(3072)
at = 2 * len(data) // 3
del data[at:at + 5120]
with open(path, "wb") as f:
    f.write(data)
EOF
}

# oid_of POINTER: the content id a pointer file names
oid_of() { sed -n 's/^oid: //p' "$1"; }

# fresh_oid FILE: the pointer id and the new store bytes FILE gets in a repository of its own
fresh_oid() {
    local dir src
    dir=$(mktemp -d "$T/fresh.XXXXXX")
    src=$(realpath "$1")
    (new_repo "$dir" >/dev/null && cp "$src" "$dir/data.bin" &&
        "$DV" add -q data.bin && printf '%s %s\n' "$(oid_of data.bin.dv)" "$(store_bytes)")
}

step "v1: 24 MiB of random bytes, added and committed"
new_repo "$T/repo"
gen_random data.bin "$SIZE" 1
sha1=$(sha_of data.bin)
assert_exit 0 "$DV" add data.bin
git commit -q -m v1
rev1=$(git rev-parse HEAD)
ok "v1 stored"

step "v1 touched: dv status hashes it again, along v1's chunks, and says clean"
touch -d '2001-01-01 00:00:00' data.bin
assert_exit 0 "$DV" status data.bin
assert_contains "$ALL" "clean"

step "v2: an edit of v1; dv status hashes it and says modified"
edit data.bin 2
sha2=$(sha_of data.bin)
assert_ne "$sha1" "$sha2" "v2 differs from v1"
assert_exit 1 "$DV" status data.bin
assert_contains "$ALL" "modified"

step "dv add of v2 gives the pointer and the new bytes of a repository without v1"
before=$(store_bytes)
assert_exit 0 "$DV" add data.bin
git commit -q -m v2
rev2=$(git rev-parse HEAD)
grown=$(( $(store_bytes) - before ))
read -r want_oid _ < <(fresh_oid data.bin)
assert_eq "$want_oid" "$(oid_of data.bin.dv)" "v2's id with v1 as the previous version"
[ "$grown" -lt $((SIZE / 10)) ] || fail "v2 stored $grown new bytes, more than 10% of the file"
ok "same id as a fresh add; the edit stored $grown new bytes"

step "v3: unrelated bytes under the same name; then v4 with the stat cache removed"
gen_random data.bin "$SIZE" 3
assert_exit 0 "$DV" add data.bin
read -r want_oid _ < <(fresh_oid data.bin)
assert_eq "$want_oid" "$(oid_of data.bin.dv)" "v3's id"
git commit -q -m v3
rev3=$(git rev-parse HEAD)
sha3=$(sha_of data.bin)
edit data.bin 4
rm -f .dv/index
assert_exit 0 "$DV" add data.bin
read -r want_oid _ < <(fresh_oid data.bin)
assert_eq "$want_oid" "$(oid_of data.bin.dv)" "v4's id without a stat cache"
git commit -q -m v4
ok "unrelated content and a missing stat cache give the fresh ids too"

step "a large file in an added directory: dv status, then dv add of an edit"
mkdir -p models/run1
gen_random models/run1/weights.bin "$SIZE" 5
printf 'small\n' >models/notes.txt
assert_exit 0 "$DV" add models
git commit -q -m "models v1"
edit models/run1/weights.bin 6
assert_exit 1 "$DV" status models
assert_exit 0 "$DV" add models
dir=$(mktemp -d "$T/fresh.XXXXXX")
cp -r models "$dir/models"
(new_repo "$dir" >/dev/null && "$DV" add -q models) || fail "fresh add of models failed"
assert_eq "$(oid_of "$dir/models.dv")" "$(oid_of models.dv)" "the directory's tree id"
git commit -q -m "models v2"
ok "the edited file under a directory pointer gets a fresh add's ids"

step "every version restores exactly"
for rev_sha in "$rev1 $sha1" "$rev2 $sha2" "$rev3 $sha3"; do
    read -r rev sha <<<"$rev_sha"
    git checkout -q "$rev" -- data.bin.dv
    assert_exit 0 "$DV" checkout data.bin
    assert_file_sha data.bin "$sha" "data.bin at $rev"
done
assert_exit 0 "$DV" fsck
ok "v1, v2 and v3 restored byte-exact; fsck clean"

