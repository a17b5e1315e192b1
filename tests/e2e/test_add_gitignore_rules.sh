#!/usr/bin/env bash
# dv add asks git whether a path is already ignored: a rule such as /data/ or *.bin in any
# .gitignore (or info/exclude) is respected and no line is appended; a path that no rule
# ignores (also one a negation takes back) gets its "/<name>" line beside it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# assert_staged_not_untracked POINTER DATA: git shows the pointer staged as added and does
# not show the data as untracked.
assert_staged_not_untracked() {
    local s
    s=$(git status --porcelain --untracked-files=all)
    printf '%s\n' "$s" | grep -qxF "A  $1" || fail "$1 is not staged (git status: $s)"
    if printf '%s\n' "$s" | grep -q "^?? $2"; then fail "$2 shows as untracked (git status: $s)"; fi
    ok "$1 staged, $2 not untracked"
}

step "a directory rule at the top: /data/ in .gitignore, dv add data/x.bin"
new_repo "$T/dirrule"
printf '/data/\n' >.gitignore
git add .gitignore
git commit -q -m ignore
mkdir data
gen_random data/x.bin 100000 1
cp .gitignore "$T/dirrule.before"
assert_exit 0 "$DV" add data/x.bin
cmp -s .gitignore "$T/dirrule.before" || fail ".gitignore changed: $(cat .gitignore)"
[ ! -e data/.gitignore ] || fail "dv add wrote data/.gitignore: $(cat data/.gitignore)"
ok "no line appended, no data/.gitignore written"
assert_staged_not_untracked data/x.bin.dv data/x.bin

step "a pattern rule in a parent directory: *.bin at the top, dv add sub/y.bin"
new_repo "$T/pattern"
printf '# data\n*.bin\n' >.gitignore
git add .gitignore
git commit -q -m ignore
mkdir sub
gen_random sub/y.bin 100000 2
printf 'keep\n' >sub/.gitignore
git add sub/.gitignore
git commit -q -m "sub ignore"
cp .gitignore "$T/pattern.top.before"
cp sub/.gitignore "$T/pattern.sub.before"
assert_exit 0 "$DV" add sub/y.bin
cmp -s .gitignore "$T/pattern.top.before" || fail ".gitignore changed: $(cat .gitignore)"
cmp -s sub/.gitignore "$T/pattern.sub.before" || fail "sub/.gitignore changed: $(cat sub/.gitignore)"
ok "neither .gitignore has a line appended"
assert_staged_not_untracked sub/y.bin.dv sub/y.bin

step "the same at the top: dv add z.bin with *.bin in .gitignore"
gen_random z.bin 50000 3
assert_exit 0 "$DV" add z.bin
cmp -s .gitignore "$T/pattern.top.before" || fail ".gitignore changed: $(cat .gitignore)"
ok "no line appended"
assert_staged_not_untracked z.bin.dv z.bin
git commit -q -m data
assert_git_clean

step "a rule in .git/info/exclude"
printf '/excluded.dat\n' >>.git/info/exclude
gen_random excluded.dat 50000 4
assert_exit 0 "$DV" add excluded.dat
cmp -s .gitignore "$T/pattern.top.before" || fail ".gitignore changed: $(cat .gitignore)"
ok "no line appended"
assert_staged_not_untracked excluded.dat.dv excluded.dat

step "not ignored: dv add plain.dat appends /plain.dat and stages .gitignore"
new_repo "$T/plain"
printf '*.bin\n' >.gitignore
git add .gitignore
git commit -q -m ignore
gen_random plain.dat 50000 5
assert_exit 0 "$DV" add plain.dat
assert_eq "$(printf '*.bin\n/plain.dat')" "$(cat .gitignore)" ".gitignore after dv add"
s=$(git status --porcelain --untracked-files=all)
printf '%s\n' "$s" | grep -qxF "M  .gitignore" || fail ".gitignore is not staged (git status: $s)"
ok ".gitignore staged"
assert_staged_not_untracked plain.dat.dv plain.dat

step "taken back by a negation: *.bin then !keep.bin, dv add keep.bin appends /keep.bin"
printf '!keep.bin\n' >>.gitignore
git add .gitignore
git commit -q -m negate
gen_random keep.bin 50000 6
assert_exit 0 "$DV" add keep.bin
assert_eq "$(printf '*.bin\n/plain.dat\n!keep.bin\n/keep.bin')" "$(cat .gitignore)" \
    ".gitignore after dv add"
assert_staged_not_untracked keep.bin.dv keep.bin

step "adding again appends nothing"
cp .gitignore "$T/plain.before"
assert_exit 0 "$DV" add plain.dat keep.bin
cmp -s .gitignore "$T/plain.before" || fail ".gitignore changed: $(cat .gitignore)"
ok "no line appended"
git commit -q -m data
assert_git_clean

step "a symlink to a directory is not a directory to git: /link/ does not ignore it"
new_repo "$T/link"
mkdir target
printf 'x\n' >target/f
git add target
git commit -q -m target
ln -s target link
printf '/link/\n' >.gitignore
git add .gitignore
git commit -q -m ignore
assert_exit 0 "$DV" add link
assert_eq "$(printf '/link/\n/link')" "$(cat .gitignore)" ".gitignore after dv add"
assert_staged_not_untracked link.dv link
git commit -q -m data
assert_git_clean
