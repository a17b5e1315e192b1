#!/usr/bin/env bash
# dv gc in a repository without a commit yet: nothing to do is not an error; a staged pointer
# file and one in the work tree that git does not track (unstaged after dv add) are roots,
# so their data stays and restores byte for byte; an untracked file named *.dv that is not a
# pointer makes gc refuse, deleting nothing.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"
step "no commit, nothing stored: dv gc has nothing to do"
assert_exit 0 "$DV" gc
assert_contains "$OUT" "freed: 0 objects"

step "a.bin staged, b.bin's pointer written then unstaged: both are roots"
gen_random a.bin 300000 1
gen_random b.bin 400000 2
a_sha=$(sha_of a.bin)
b_sha=$(sha_of b.bin)
assert_exit 0 "$DV" add a.bin b.bin
git rm -q --cached b.bin.dv
[ -f b.bin.dv ] || fail "b.bin.dv is gone from the work tree"
assert_exit 0 "$DV" gc -v --expire-reflog now
assert_contains "$OUT" "freed: 0 objects"
git add b.bin.dv
rm a.bin b.bin
assert_exit 0 "$DV" checkout
assert_file_sha a.bin "$a_sha" "a.bin"
assert_file_sha b.bin "$b_sha" "b.bin"

step "an untracked *.dv that is not a pointer: gc refuses, names it, deletes nothing"
git rm -q --cached b.bin.dv
rm b.bin.dv
echo "not a pointer" >notes.dv
store=$(find .dv/cache/packs -type f | sort | xargs sha256sum)
assert_exit 5 "$DV" gc --expire-reflog now
assert_contains "$ERR" "notes.dv (untracked)"
assert_contains "$ERR" "nothing was deleted"
assert_eq "$store" "$(find .dv/cache/packs -type f | sort | xargs sha256sum)" "store files"
rm notes.dv
assert_exit 0 "$DV" gc --expire-reflog now
assert_contains "$OUT" "freed: "
assert_not_contains "$OUT" "freed: 0 objects"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" cat a.bin
assert_eq "$a_sha" "$(sha256sum <"$OUT" | cut -d' ' -f1)" "a.bin from the store after b.bin's data went"
