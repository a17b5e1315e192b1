#!/usr/bin/env bash
# dv install-hooks: with the real git, git switch, git merge, git rebase and git push alone keep
# the data in line with the pointer files; hooks that were there still run (with their
# arguments and stdin) and come back byte for byte on --uninstall; core.hooksPath is honoured;
# missing data or a missing dv never undoes git's own operation.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

# record NAME: what the data holds now (tree listing of data/, sha256 of model.bin).
record() {
    tree_listing data >"$T/rec.$1.data"
    sha_of model.bin >"$T/rec.$1.model"
}
# assert_data NAME: the work tree's data is what record NAME saw.
assert_data() {
    assert_tree_matches data "$T/rec.$1.data" "data/ as on $1"
    assert_file_sha model.bin "$(cat "$T/rec.$1.model")" "model.bin as on $1"
}
hooks_digest() { (cd "$1" && for f in $(ls | sort); do printf '%s %s\n' "$f" "$(sha_of "$f")"; done); }

step "a repository with a post-checkout hook of its own"
new_repo "$T/repo"
cat >.git/hooks/post-checkout <<EOF
#!/bin/sh
echo "post-checkout \$*" >>"$T/user-hook.log"
EOF
chmod 0755 .git/hooks/post-checkout
cp -p .git/hooks/post-checkout "$T/user-post-checkout"
mkdir -p data/sub
gen_text data/a.csv 400 1
gen_random data/sub/b.bin 150000 2
gen_random model.bin 300000 3
record A
assert_exit 0 "$DV" add data model.bin
git commit -q -m "A"

step "install: dv's hooks, the one that was there kept beside it"
assert_exit 0 "$DV" install-hooks
assert_contains "$OUT" "post-checkout.dv-chained"
for h in post-checkout post-merge post-rewrite; do
    [ -x ".git/hooks/$h" ] || fail ".git/hooks/$h is not executable"
    assert_eq 755 "$(stat -c %a ".git/hooks/$h")" "mode of $h"
    assert_eq "# dv-hook: 1" "$(sed -n 2p ".git/hooks/$h")" "$h is dv's"
done
[ ! -e .git/hooks/pre-push ] || fail "pre-push installed without --pre-push"
cmp .git/hooks/post-checkout.dv-chained "$T/user-post-checkout" || fail "chained hook changed"
ok "the user's hook is kept as post-checkout.dv-chained, byte for byte"
before=$(hooks_digest .git/hooks)
assert_exit 0 "$DV" install-hooks
assert_contains "$OUT" "already installed"
assert_eq "$before" "$(hooks_digest .git/hooks)" "hooks after a second install"

step "branch B holds other data; git switch alone moves the data"
git switch -q -c B
gen_text data/a.csv 900 4
rm data/sub/b.bin
gen_random data/sub/c.bin 120000 5
gen_random model.bin 310000 6
record B
assert_exit 0 "$DV" add data model.bin
git commit -q -m "B"
b_commit=$(git rev-parse B)
a_commit=$(git rev-parse main)
: >"$T/user-hook.log"
assert_exit 0 git switch main
assert_data A
assert_contains "$ERR" "restored"
assert_exit 0 git switch B
assert_data B
assert_exit 0 "$DV" status
assert_eq "$(printf 'post-checkout %s %s 1\npost-checkout %s %s 1' "$b_commit" "$a_commit" \
    "$a_commit" "$b_commit")" "$(cat "$T/user-hook.log")" "the user's hook ran with git's arguments"
assert_exit 0 git checkout main -- .gitignore
assert_data B
ok "a checkout of files (third argument 0) leaves the data alone"

step "a data change not in the store is never overwritten; the switch still happens"
gen_random model.bin 320000 7
unsaved=$(sha_of model.bin)
assert_exit 0 git switch main
assert_eq "refs/heads/main" "$(git symbolic-ref HEAD)" "HEAD"
assert_contains "$ERR" "changes that are not in the store"
assert_file_sha model.bin "$unsaved" "model.bin kept"
assert_tree_matches data "$T/rec.A.data" "data/ moved to A all the same"
assert_exit 0 "$DV" checkout --force model.bin
assert_data A

step "git merge: a fast-forward and a true merge bring the merged data"
git switch -q -c C
gen_random model.bin 330000 8
record C
assert_exit 0 "$DV" add model.bin
git commit -q -m "C"
git switch -q main
assert_data A
assert_exit 0 git merge -q --ff-only C
assert_data C
git reset -q --hard "$a_commit"
assert_exit 0 "$DV" checkout
assert_data A
echo "notes" >notes.txt
git add notes.txt
git commit -q -m "notes on main"
assert_exit 0 git merge -q --no-edit C
assert_eq 2 "$(git log -1 --format=%p | wc -w)" "a merge commit"
assert_data C

step "git rebase: the rebased branch's data on top of the new base"
git switch -q -c D "$a_commit"
assert_data A
gen_text data/a.csv 1200 9
assert_exit 0 "$DV" add data
git commit -q -m "D: a.csv"
d_a=$(sha_of data/a.csv)
main_model=$(cat "$T/rec.C.model")
assert_exit 0 git rebase -q main
assert_eq "$(git rev-parse main)" "$(git rev-parse HEAD~1)" "rebased onto main"
assert_file_sha data/a.csv "$d_a" "data/a.csv from D"
assert_file_sha model.bin "$main_model" "model.bin from main"
assert_exit 0 "$DV" status

step "pre-push: dv push to the directory remote first; the user's pre-push gets its stdin"
git switch -q main
git init -q --bare "$T/origin.git"
git remote add origin "$T/origin.git"
assert_exit 0 "$DV" remote add --default store "$T/remote-store"
git add .dv/config
git commit -q -m "the dv remote"
remote_commit=$(git rev-parse HEAD)
cat >.git/hooks/pre-push <<EOF
#!/bin/sh
echo "args \$*" >"$T/pre-push.args"
cat >"$T/pre-push.stdin"
[ ! -e "$T/refuse-push" ]
EOF
chmod 0755 .git/hooks/pre-push
cp -p .git/hooks/pre-push "$T/user-pre-push"
assert_exit 0 "$DV" install-hooks --pre-push
cmp .git/hooks/pre-push.dv-chained "$T/user-pre-push" || fail "chained pre-push changed"
assert_exit 0 git push -q origin main
assert_eq "main" "$(git --git-dir="$T/origin.git" rev-parse --abbrev-ref main)" "main pushed"
[ -n "$(find "$T/remote-store/packs" -name '*.idx')" ] || fail "the remote holds no pack"
ok "the remote holds packs"
assert_eq "args origin $T/origin.git" "$(cat "$T/pre-push.args")" "the user's pre-push arguments"
assert_eq "refs/heads/main $(git rev-parse main) refs/heads/main $(printf '0%.0s' {1..40})" \
    "$(cat "$T/pre-push.stdin")" "the user's pre-push stdin"
git clone -q "$T/origin.git" "$T/clone"
(cd "$T/clone" && "$DV" pull -q) || fail "dv pull in a clone"
cmp "$T/clone/model.bin" model.bin || fail "the clone's model.bin differs"
diff -r "$T/clone/data" data >/dev/null || fail "the clone's data/ differs"
ok "a clone pulls the data the hook pushed"
touch "$T/refuse-push"
echo more >>notes.txt
git commit -q -am "more notes"
assert_exit 1 git push -q origin main
assert_ne "$(git rev-parse main)" "$(git --git-dir="$T/origin.git" rev-parse main)" \
    "the user's failing pre-push blocks the push"
rm "$T/refuse-push"
mv "$T/remote-store" "$T/remote-store.away"
echo "not a directory" >"$T/remote-store"
run git push -q origin main
assert_ne 0 "$RC" "git push when dv push fails"
assert_contains "$ERR" "git push --no-verify"
assert_ne "$(git rev-parse main)" "$(git --git-dir="$T/origin.git" rev-parse main)" \
    "a failed dv push blocks the push"
rm "$T/remote-store"
mv "$T/remote-store.away" "$T/remote-store"
assert_exit 0 git push -q origin main

step "pre-push sends the data of the commits pushed, not of the branch checked out"
[ "$(git branch --show-current)" = main ] || fail "not on main"
assert_exit 0 git push -q origin D
git clone -q "$T/origin.git" "$T/clone-d"
(cd "$T/clone-d" && "$DV" pull -q --rev origin/D) || fail "dv pull --rev origin/D in a clone"
assert_file_sha "$T/clone-d/data/a.csv" "$d_a" "D's data/a.csv, pushed from main"

step "in a clone with a remote: git switch fetches what the store lacks"
cd "$T/repo"
git switch -q B
git cherry-pick "$remote_commit" >/dev/null # the dv remote, committed in .dv/config
b_commit=$(git rev-parse B)
assert_exit 0 git push -q origin B
git switch -q main
cd "$T/clone"
git fetch -q origin
assert_exit 0 "$DV" install-hooks
assert_exit 0 git switch B
assert_contains "$ERR" "fetched"
assert_data B

step "missing data and no remote: git switch is done, the hook says what is missing"
git clone -q "$T/repo" "$T/noremote"
cd "$T/noremote"
git checkout -q main
git config -f .dv/config --remove-section remote.store
git config -f .dv/config --unset core.remote || true
assert_exit 0 "$DV" install-hooks
run git switch -c B2 origin/B
assert_eq 0 "$RC" "git switch"
assert_eq "$b_commit" "$(git rev-parse HEAD)" "HEAD moved"
assert_contains "$ERR" "the store lacks the data of these paths"
assert_contains "$ERR" "model.bin"
assert_contains "$ERR" "dv pull"
assert_contains "$ERR" "no dv remote is configured"

step "dv gone: the hook warns, git's switch stands"
cd "$T"
new_repo "$T/gone"
mkdir -p "$T/bin"
cp "$DV" "$T/bin/dv"
gen_random model.bin 1000 10
assert_exit 0 "$DV" add model.bin
git commit -q -m one
assert_exit 0 "$T/bin/dv" install-hooks
grep -qF "dv_installed='$T/bin/dv'" .git/hooks/post-checkout || fail "installing path not recorded"
ok "the hook records the installing binary"
git switch -q -c other
gen_random model.bin 1000 11
assert_exit 0 "$DV" add model.bin
git commit -q -m two
rm "$T/bin/dv"
run git switch main
assert_eq 0 "$RC" "git switch"
assert_eq "refs/heads/main" "$(git symbolic-ref HEAD)" "HEAD"
assert_contains "$ERR" "dv is not on PATH"

step "core.hooksPath: the hooks go there"
new_repo "$T/hookspath"
git config core.hooksPath .githooks
gen_random model.bin 2000 12
assert_exit 0 "$DV" add model.bin
git commit -q -m one
m1=$(sha_of model.bin)
assert_exit 0 "$DV" install-hooks
for h in post-checkout post-merge post-rewrite; do
    [ -x ".githooks/$h" ] || fail ".githooks/$h missing"
    [ ! -e ".git/hooks/$h" ] || fail ".git/hooks/$h written although core.hooksPath is set"
done
ok "hooks in .githooks"
git switch -q -c other
gen_random model.bin 2000 13
assert_exit 0 "$DV" add model.bin
git commit -q -m two
assert_exit 0 git switch main
assert_file_sha model.bin "$m1" "model.bin after git switch main"

step "uninstall: dv's hooks go, the user's come back byte for byte"
cd "$T/repo"
assert_exit 0 "$DV" install-hooks --uninstall
cmp .git/hooks/post-checkout "$T/user-post-checkout" || fail "post-checkout not restored"
cmp .git/hooks/pre-push "$T/user-pre-push" || fail "pre-push not restored"
assert_eq "$(stat -c %a "$T/user-post-checkout")" "$(stat -c %a .git/hooks/post-checkout)" "mode"
for h in post-merge post-rewrite post-checkout.dv-chained pre-push.dv-chained; do
    [ ! -e ".git/hooks/$h" ] || fail ".git/hooks/$h is still there"
done
ok "nothing of dv's is left"
assert_exit 0 "$DV" install-hooks --uninstall
cmp .git/hooks/post-checkout "$T/user-post-checkout" || fail "a second uninstall changed it"
assert_contains "$OUT" "left alone"
assert_exit 2 "$DV" install-hooks --uninstall --pre-push
