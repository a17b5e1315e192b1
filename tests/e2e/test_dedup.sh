#!/usr/bin/env bash
# Identical content is stored once, whatever its name or directory; re-adding
# unchanged data reads nothing (stat cache) and writes nothing.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

SIZE=$((16 * 1024 * 1024))

# read_bytes_field: the "<n> <unit> read" part of the add summary line.
summary_field() { # summary_field WORD  -> e.g. "0 B" for WORD=read
    grep -oE "[0-9][0-9.]* ?[A-Za-z]* $1" "$ALL" | head -n1 | sed "s/ $1\$//"
}
is_zero_amount() { [[ "$1" =~ ^0(\.0+)?( ?[A-Za-z]+)?$ ]]; }

step "set up a repository; the same 16 MiB under several names and directories"
new_repo "$T/repo"
mkdir -p a b/deep
gen_random a/one.bin "$SIZE" 1
cp a/one.bin a/two.bin
cp a/one.bin b/deep/three.bin
cp a/one.bin single.bin
gen_text a/notes.csv 20000 5
cp a/notes.csv b/notes-copy.csv
# so the stat cache can trust the entries made by the first add (no racy timestamps)
sleep 1.2

step "dv add single.bin: the content enters the store once"
s0=$(store_bytes)
assert_exit 0 "$DV" add single.bin
s1=$(store_bytes)
note "summary: $(tr '\n' ' ' <"$ALL")"
note "store: $s0 -> $s1 bytes"
[ "$s1" -ge "$SIZE" ] || fail "store holds only $s1 bytes after adding $SIZE random bytes"
ok "store holds the random content ($s1 bytes)"

step "dv add a (one.bin, two.bin: same content again, twice): growth < 1% of the content"
assert_exit 0 "$DV" add a
s2=$(store_bytes)
note "summary: $(tr '\n' ' ' <"$ALL")"
g=$((s2 - s1))
note "growth $g bytes (notes.csv is new and compressible)"
notes=$(stat -c %s a/notes.csv)
[ "$g" -lt $((SIZE / 100 + notes)) ] || fail "store grew by $g bytes; duplicate content was stored again"
ok "growth $g < 1% of $SIZE + size of the one new file ($notes)"

step "dv add b (same content in another directory, copy of notes.csv): growth < 1%"
assert_exit 0 "$DV" add b
s3=$(store_bytes)
note "summary: $(tr '\n' ' ' <"$ALL")"
g=$((s3 - s2))
note "growth $g bytes"
[ "$g" -lt $((SIZE / 100)) ] || fail "store grew by $g bytes for content it already had"
ok "growth $g < 1% of $SIZE"
git commit -q -m data
assert_git_clean
assert_exit 0 "$DV" status

step "re-add unchanged data: nothing read (stat cache), nothing written"
# let the entries written by the previous adds age past the racy window too
sleep 1.2
p3=$(pack_count)
ls -l .dv/cache/packs >"$T/packs.before"
assert_exit 0 "$DV" add single.bin a b
note "summary: $(tr '\n' ' ' <"$ALL")"
s4=$(store_bytes)
assert_eq "$s3" "$s4" "store bytes after re-add"
assert_eq "$p3" "$(pack_count)" "pack count after re-add"
ls -l .dv/cache/packs >"$T/packs.after"
cmp -s "$T/packs.before" "$T/packs.after" || fail "pack directory changed after re-adding unchanged data"
ok "pack directory unchanged"
rd=$(summary_field read)
[ -n "$rd" ] || fail "summary line has no '<n> read' field"
is_zero_amount "$rd" || fail "summary reports '$rd read' for unchanged data, expected 0"
ok "summary reports '$rd read'"
nw=$(summary_field "new in store")
[ -n "$nw" ] || fail "summary line has no '<n> new in store' field"
is_zero_amount "$nw" || fail "summary reports '$nw new in store' for unchanged data, expected 0"
ok "summary reports '$nw new in store'"
assert_git_clean

step "-q prints nothing; --no-progress is accepted"
assert_exit 0 "$DV" add -q single.bin a b
assert_empty "$OUT"
assert_empty "$ERR"
assert_exit 0 "$DV" add --no-progress single.bin
assert_eq "$s3" "$(store_bytes)" "store bytes"

step "a changed file is read again: summary reports a non-zero read"
printf 'x' | dd of=b/notes-copy.csv bs=1 seek=100 conv=notrunc status=none
assert_exit 0 "$DV" add b
note "summary: $(tr '\n' ' ' <"$ALL")"
rd=$(summary_field read)
is_zero_amount "$rd" && fail "summary reports '$rd read' after a file changed"
ok "summary reports '$rd read'"

step "the store is intact"
assert_exit 0 "$DV" fsck -q
