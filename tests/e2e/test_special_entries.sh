#!/usr/bin/env bash
# What dv add records inside a directory beyond plain files (dv-add(1)): empty
# directories are kept; special files (FIFOs) are skipped with a warning; directories
# named .git or .dv inside an added directory are skipped, and never removed by checkout.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# list_tree DIR: sorted relative paths of everything below DIR.
list_tree() { (cd "$1" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort); }

step "set up a git repository with dv"
new_repo "$T/repo"

step "empty directories are recorded and restored"
mkdir -p e/empty/deeper e/k
printf 'keep\n' >e/k/keep.txt
assert_exit 0 "$DV" add e
assert_contains e.dv "files: 1"
git commit -q -m e
rm -rf e
assert_exit 0 "$DV" checkout
assert_eq "empty
empty/deeper
k
k/keep.txt" "$(list_tree e)" "restored e/"
assert_exit 0 "$DV" status

step "a nested .git directory is skipped, and never removed by dv checkout"
mkdir -p g/.git g/sub/.git g/k
printf 'HEAD\n' >g/.git/HEAD
printf 'HEAD\n' >g/sub/.git/HEAD
printf 'keep\n' >g/k/keep.txt
assert_exit 0 "$DV" add g
assert_contains g.dv "files: 1"
git commit -q -m g
assert_exit 0 "$DV" status
assert_exit 0 "$DV" checkout --force g
[ -f g/.git/HEAD ] && [ -f g/sub/.git/HEAD ] || fail "dv checkout --force removed a nested .git"
ok "nested .git directories intact after checkout --force"
mv g "$T/g.saved"
assert_exit 0 "$DV" checkout
assert_eq "k
k/keep.txt
sub" "$(list_tree g)" "restored g/ (no .git)"

step "a nested .dv directory is skipped, and never removed by dv checkout"
mkdir -p h/.dv h/sub/.dv h/k
printf 'x\n' >h/.dv/config
printf 'x\n' >h/sub/.dv/config
printf 'keep\n' >h/k/keep.txt
assert_exit 0 "$DV" add h
assert_contains h.dv "files: 1"
git commit -q -m h
assert_exit 0 "$DV" checkout --force h
[ -f h/.dv/config ] && [ -f h/sub/.dv/config ] || fail "dv checkout --force removed a nested .dv"
ok "nested .dv directories intact after checkout --force"
mv h "$T/h.saved"
assert_exit 0 "$DV" checkout
assert_eq "k
k/keep.txt
sub" "$(list_tree h)" "restored h/ (no .dv)"

step "a FIFO is skipped with a warning naming it"
mkdir -p f/sub
printf 'keep\n' >f/sub/keep.txt
mkfifo f/sub/pipe
assert_exit 0 "$DV" add f
assert_contains "$ERR" "f/sub/pipe"
assert_contains f.dv "files: 1"
git commit -q -m f
assert_exit 0 "$DV" status
assert_exit 0 "$DV" checkout f
[ -p f/sub/pipe ] || fail "dv checkout removed the FIFO it had skipped"
ok "FIFO left alone by checkout"
rm -rf f
assert_exit 0 "$DV" checkout
assert_eq "sub
sub/keep.txt" "$(list_tree f)" "restored f/"
