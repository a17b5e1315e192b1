#!/usr/bin/env bash
# dv checkout never overwrites or removes data that is not in the store, unless --force.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "set up: model.bin and other.bin, two committed versions"
new_repo "$T/repo"
gen_random model.bin 300000 1
gen_random other.bin 200000 2
m1=$(sha_of model.bin); o1=$(sha_of other.bin)
assert_exit 0 "$DV" add model.bin other.bin
git commit -q -m v1
c1=$(git rev-parse HEAD)
gen_random model.bin 310000 3
gen_random other.bin 210000 4
m2=$(sha_of model.bin); o2=$(sha_of other.bin)
assert_exit 0 "$DV" add model.bin other.bin
git commit -q -m v2
c2=$(git rev-parse HEAD)

step "modify model.bin without dv add; git checkout v1; dv checkout must refuse (exit 4)"
printf 'unsaved edit' | dd of=model.bin bs=1 seek=1000 conv=notrunc status=none
m3=$(sha_of model.bin)
git checkout -q "$c1"
assert_exit 4 "$DV" checkout
assert_contains "$ALL" "model.bin"
assert_file_sha model.bin "$m3" "model.bin keeps the unsaved edit"
assert_file_sha other.bin "$o2" "other.bin untouched (nothing changed on refusal)"

step "dv checkout of only the clean path works; the modified one is still refused"
assert_exit 0 "$DV" checkout other.bin
assert_file_sha other.bin "$o1" "other.bin restored to v1"
assert_exit 4 "$DV" checkout model.bin.dv
assert_contains "$ALL" "model.bin"
assert_file_sha model.bin "$m3" "model.bin still keeps the unsaved edit"

step "dv checkout --force overwrites and says which path"
assert_exit 0 "$DV" checkout --force
assert_contains "$ALL" "model.bin"
assert_file_sha model.bin "$m1" "model.bin forced back to v1"
assert_exit 0 "$DV" status

step "back to v2 without local edits: no refusal"
git checkout -q main
assert_exit 0 "$DV" checkout
assert_file_sha model.bin "$m2" "model.bin v2"
assert_file_sha other.bin "$o2" "other.bin v2"

step "dv checkout -q prints nothing on success"
git checkout -q "$c1"
assert_exit 0 "$DV" checkout -q
assert_empty "$OUT"
assert_empty "$ERR"
assert_file_sha model.bin "$m1" "model.bin v1"
git checkout -q main
assert_exit 0 "$DV" checkout -q
assert_file_sha model.bin "$m2" "model.bin v2"

step "the same with -f on one path"
printf 'edit again' | dd of=model.bin bs=1 seek=5 conv=notrunc status=none
assert_exit 4 "$DV" checkout model.bin
assert_exit 0 "$DV" checkout -f model.bin
assert_contains "$ALL" "model.bin"
assert_file_sha model.bin "$m2" "model.bin forced back to v2"

step "a tracked directory: committed version"
mkdir -p data/sub
gen_text data/a.csv 2000 1
gen_text data/sub/b.csv 2000 2
printf 'keep me\n' >data/c.txt
assert_exit 0 "$DV" add data
git commit -q -m "data"
d1=$(snapshot data "$T/d1.list")

step "an untracked new file inside data/ (not in the store) is not deleted without --force"
printf 'precious, never added\n' >data/sub/untracked-new.txt
assert_exit 4 "$DV" checkout
assert_contains "$ALL" "untracked-new.txt"
[ -f data/sub/untracked-new.txt ] || fail "dv checkout deleted an untracked file"
assert_file_sha data/sub/untracked-new.txt "$(printf 'precious, never added\n' | sha256sum | cut -d' ' -f1)" "untracked file intact"
assert_exit 4 "$DV" checkout data
[ -f data/sub/untracked-new.txt ] || fail "dv checkout data deleted an untracked file"
ok "still there after dv checkout data"

step "a modified file inside data/ is not overwritten without --force"
printf 'local edit\n' >>data/a.csv
a_edit=$(sha_of data/a.csv)
assert_exit 4 "$DV" checkout data
assert_contains "$ALL" "a.csv"
assert_contains "$ALL" "untracked-new.txt"
assert_file_sha data/a.csv "$a_edit" "data/a.csv keeps the local edit"
[ -f data/sub/untracked-new.txt ] || fail "refused checkout deleted a file"
ok "refused checkout changed nothing"

step "dv checkout --force data: both discarded, both named"
assert_exit 0 "$DV" checkout --force data
assert_contains "$ALL" "untracked-new.txt"
assert_contains "$ALL" "a.csv"
[ ! -e data/sub/untracked-new.txt ] || fail "--force did not remove the untracked file"
assert_tree_matches data "$T/d1.list" "data/ after --force"

step "an extra file whose content is in the store may be removed without --force"
cp data/c.txt data/copy-of-c.txt
assert_exit 0 "$DV" checkout data
[ ! -e data/copy-of-c.txt ] || fail "extra file whose content is in the store was not removed"
assert_tree_matches data "$T/d1.list" "data/ after removing a stored extra file"
assert_exit 0 "$DV" status

step "a path created by hand where a later commit tracks one: not overwritten without --force"
git checkout -q main
printf 'added later\n' >later.bin
mkdir -p laterdir && printf 'dir added later\n' >laterdir/f.txt
assert_exit 0 "$DV" add later.bin laterdir
git commit -q -m "later"
git checkout -q HEAD~1
rm -rf later.bin laterdir
printf 'my own file\n' >later.bin
mkdir -p laterdir && printf 'my own dir file\n' >laterdir/mine.txt
git checkout -q main
assert_exit 4 "$DV" checkout
assert_contains "$ALL" "later.bin"
assert_contains "$ALL" "laterdir/mine.txt"
assert_file_sha later.bin "$(printf 'my own file\n' | sha256sum | cut -d' ' -f1)" "later.bin keeps its own bytes"
[ -f laterdir/mine.txt ] || fail "laterdir/mine.txt was removed"
ok "laterdir/mine.txt intact"
assert_exit 0 "$DV" checkout --force
assert_file_sha later.bin "$(printf 'added later\n' | sha256sum | cut -d' ' -f1)" "later.bin after --force"
[ ! -e laterdir/mine.txt ] && [ -f laterdir/f.txt ] || fail "laterdir not restored by --force"
ok "laterdir restored by --force"
