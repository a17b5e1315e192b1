#!/usr/bin/env bash
# A 256 MiB random file: a 1% scattered edit plus an insertion costs little store
# space (content-defined chunking), and both versions come back byte-exact.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

SIZE=$((256 * 1024 * 1024))

step "set up a git repository with dv and a 256 MiB random file"
new_repo "$T/repo"
gen_random model.bin "$SIZE" 42
sha1=$(sha_of model.bin)
note "model.bin v1 sha256 $sha1"

step "dv add model.bin (v1) and git commit"
s0=$(store_bytes)
t0=$(now_ms)
assert_exit 0 "$DV" add model.bin
t1=$(now_ms)
s1=$(store_bytes)
note "summary: $(tr '\n' ' ' <"$ALL")"
note "first add took $((t1 - t0)) ms; store grew by $((s1 - s0)) bytes"
[ "$s1" -ge "$SIZE" ] || fail "store holds $s1 bytes, less than the $SIZE bytes of random data"
ok "store holds at least the file's size ($s1 bytes; random data does not compress)"
[ "$s1" -lt $((SIZE + SIZE / 20)) ] || fail "store holds $s1 bytes, more than 105% of the file"
ok "store overhead below 5%"
assert_contains model.bin.dv "kind: file"
assert_contains model.bin.dv "size: $SIZE"
assert_eq "/model.bin" "$(grep -xF /model.bin .gitignore)" ".gitignore entry"
git commit -q -m "model v1"
assert_git_clean
c1=$(git rev-parse HEAD)

step "edit 1%: 40 writes of 32 KiB at deterministic random offsets + 4 KiB inserted mid-file"
gen_random "$T/patch" $((40 * 32768)) 7
"$PY" -c 'import random
r = random.Random(2024)
for o in sorted(r.sample(range(0, 256 * 1024 * 1024 - 32768, 4096), 40)): print(o)' >"$T/offsets"
i=0
while read -r off; do
    dd if="$T/patch" of=model.bin bs=32768 count=1 skip="$i" seek="$off" oflag=seek_bytes \
        conv=notrunc status=none
    i=$((i + 1))
done <"$T/offsets"
assert_eq 40 "$i" "number of scattered writes"
gen_random "$T/insert" 4096 99
mid=$((SIZE / 2 + 12345))
{ head -c "$mid" model.bin; cat "$T/insert"; tail -c +"$((mid + 1))" model.bin; } >"$T/model.new"
mv "$T/model.new" model.bin
assert_eq $((SIZE + 4096)) "$(stat -c %s model.bin)" "edited size"
sha2=$(sha_of model.bin)
assert_ne "$sha1" "$sha2" "edited sha256"

step "dv add model.bin (v2): store growth must be < 5% of the file size"
assert_exit 1 "$DV" status -q
assert_exit 0 "$DV" add model.bin
s2=$(store_bytes)
growth=$((s2 - s1))
note "summary: $(tr '\n' ' ' <"$ALL")"
note "store growth from the second add: $growth bytes ($(awk -v g="$growth" -v s="$SIZE" 'BEGIN{printf "%.2f", 100*g/s}')% of $SIZE)"
[ "$growth" -gt 0 ] || fail "store did not grow at all after an edit"
ok "store grew (new chunks were stored)"
[ "$growth" -lt $((SIZE / 20)) ] || fail "store grew by $growth bytes, not < 5% of $SIZE"
ok "growth $growth < $((SIZE / 20)) (5%)"
assert_contains model.bin.dv "size: $((SIZE + 4096))"
git commit -q -m "model v2"
assert_git_clean
c2=$(git rev-parse HEAD)

step "git checkout v1 + dv checkout restores the original bytes"
git checkout -q "$c1"
assert_exit 0 "$DV" checkout
assert_file_sha model.bin "$sha1" "model.bin after checkout of v1"
assert_exit 0 "$DV" status

step "git checkout v2 + dv checkout restores the edited bytes"
git checkout -q "$c2"
assert_exit 0 "$DV" checkout
assert_file_sha model.bin "$sha2" "model.bin after checkout of v2"
assert_exit 0 "$DV" status

step "the store is intact"
assert_exit 0 "$DV" fsck -q
