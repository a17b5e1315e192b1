#!/usr/bin/env bash
# dv export, then dv import, in every format: a dataset (nested directories, an executable, a
# relative symlink, an empty file and an empty directory, a long name, a file of several
# chunks) comes back byte for byte with its modes and link targets, compared with the listing
# recorded when the data was made; an old revision too, exported and imported without being
# checked out.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"
step "a dataset: nested directories, an executable, a symlink, empty file and directory"
mkdir -p data/a/b data/empty
gen_random data/a/b/big.bin $((3 << 20)) 1
gen_text data/a/t.csv 2000 2
gen_random data/run.sh 5000 3
chmod +x data/run.sh
: >data/a/zero
ln -s a/t.csv data/link
long=$(printf 'n%.0s' $(seq 1 180))
mkdir -p "data/$long"
gen_random "data/$long/$long.bin" 1000 4
tree_listing data >"$T/v1.list"
assert_exit 0 "$DV" add data
git add -A && git commit -qm v1 && git tag v1
step "v2 changes one file"
gen_random data/a/b/big.bin $((3 << 20)) 5
tree_listing data >"$T/v2.list"
assert_exit 0 "$DV" add data
git add -A && git commit -qm v2

for fmt in tar tar.gz tar.zst tar.xz zip; do
    step "$fmt: dv export HEAD, then dv import, byte for byte"
    assert_exit 0 "$DV" export HEAD data --prefix '' -o "$T/v2.$fmt"
    assert_exit 0 "$DV" import "$T/v2.$fmt" "in-$fmt"
    assert_eq "$(cat "$T/v2.list")" "$(tree_listing "in-$fmt")" "in-$fmt against data as it was made"
    git diff --cached --name-only | grep -qx "in-$fmt.dv" || fail "in-$fmt.dv is not staged"
    ok "in-$fmt.dv staged"
done

step "an old revision, never checked out again: v1 exported as tar.zst and imported"
assert_exit 0 "$DV" export v1 data -o "$T/v1.tar.zst"
assert_exit 0 "$DV" import "$T/v1.tar.zst" old
assert_eq "$(cat "$T/v1.list")" "$(tree_listing old/data)" "old/data against v1 as it was made"

step "through a pipe: dv export -o - | dv import -"
"$DV" export v1 data --prefix '' -o - --format tar.gz | "$DV" import - piped ||
    fail "export | import failed"
assert_eq "$(cat "$T/v1.list")" "$(tree_listing piped)" "piped against v1"
assert_exit 0 "$DV" fsck
