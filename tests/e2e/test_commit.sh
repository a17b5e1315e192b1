#!/usr/bin/env bash
# dv commit: the data that changed is added and a git commit of git's index is made through
# libgit2, checked with the real git: subject, files, parent, reflog, identity, the editor,
# and the cases that make no commit.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

# The content a committed pointer names, read back at a revision: dv cat's bytes.
committed_sha() { "$DV" cat "$1" | sha256sum | cut -d' ' -f1; }

step "first commit: dv add, then dv commit on an unborn branch"
new_repo "$T/repo"
mkdir -p data/sub
gen_text data/a.csv 500 1
gen_random data/sub/b.bin 200000 2
gen_random model.bin 400000 3
a1=$(sha_of data/a.csv)
m1=$(sha_of model.bin)
assert_exit 0 "$DV" add data model.bin
assert_exit 0 "$DV" commit -m "first data"
assert_match "$OUT" '^\[main \(root-commit\) [0-9a-f]{7}\] first data$'
assert_eq "first data" "$(git log -1 --format=%s)" "subject"
assert_eq "dv e2e <e2e@example.invalid>" "$(git log -1 --format='%an <%ae>')" "author"
assert_eq "dv e2e <e2e@example.invalid>" "$(git log -1 --format='%cn <%ce>')" "committer"
assert_eq "commit (initial): first data" "$(git reflog -1 --format=%gs)" "reflog"
assert_eq 1 "$(git rev-list --count HEAD)" "one commit, no parent"
assert_eq "$m1" "$(committed_sha HEAD:model.bin)" "committed model.bin"
assert_eq "$a1" "$(committed_sha HEAD:data/a.csv)" "committed data/a.csv"
assert_git_clean
first=$(git rev-parse HEAD)

step "changed data is added and committed; the pointer files are what the commit changes"
gen_random model.bin 410000 4
gen_text data/a.csv 600 5
m2=$(sha_of model.bin)
a2=$(sha_of data/a.csv)
assert_exit 0 "$DV" commit -m "second data"
assert_match "$OUT" '^\[main [0-9a-f]{7}\] second data$'
assert_contains "$OUT" "modified  model.bin"
assert_contains "$OUT" "modified  data/"
assert_eq "second data" "$(git log -1 --format=%s)" "subject"
assert_eq "$first" "$(git rev-parse HEAD~1)" "parent"
assert_eq "commit: second data" "$(git reflog -1 --format=%gs)" "reflog"
assert_eq "$(printf 'data.dv\nmodel.bin.dv')" "$(git show --name-only --format= HEAD | sort)" \
    "files of the commit"
assert_eq "$m2" "$(committed_sha HEAD:model.bin)" "committed model.bin"
assert_eq "$a2" "$(committed_sha HEAD:data/a.csv)" "committed data/a.csv"
assert_eq "$m1" "$(committed_sha HEAD~1:model.bin)" "model.bin one commit back"
assert_exit 0 "$DV" status
assert_git_clean

step "what the user staged goes in too, as git commit would take it"
echo "notes" >notes.txt
git add notes.txt
gen_random model.bin 420000 6
m3=$(sha_of model.bin)
assert_exit 0 "$DV" commit -m "notes and model"
assert_eq "$(printf 'model.bin.dv\nnotes.txt')" "$(git show --name-only --format= HEAD | sort)" \
    "files of the commit"
assert_eq "$m3" "$(committed_sha HEAD:model.bin)" "committed model.bin"

step "paths are relative to the current directory and limit what is added"
gen_random model.bin 430000 7
gen_text data/a.csv 700 8
m4=$(sha_of model.bin)
cd data
assert_exit 0 "$DV" commit -m "model only" ../model.bin
cd ..
assert_eq "model.bin.dv" "$(git show --name-only --format= HEAD)" "files of the commit"
assert_eq "$m4" "$(committed_sha HEAD:model.bin)" "committed model.bin"
assert_eq "$a2" "$(committed_sha HEAD:data/a.csv)" "data/a.csv as committed before"
assert_exit 1 "$DV" status -q
assert_exit 0 "$DV" commit -q -m "the rest"
assert_empty "$OUT"
assert_eq "data.dv" "$(git show --name-only --format= HEAD)" "files of the commit"

step "nothing changed: exit 1, no commit"
before=$(git rev-parse HEAD)
assert_exit 1 "$DV" commit -m "nothing"
assert_contains "$OUT" "nothing to commit"
assert_eq "$before" "$(git rev-parse HEAD)" "HEAD"

step "no user.name / user.email: a clear error, nothing added, no commit"
gen_random model.bin 440000 9
mkdir -p "$T/empty-home"
run env -u GIT_AUTHOR_NAME -u GIT_AUTHOR_EMAIL -u GIT_COMMITTER_NAME -u GIT_COMMITTER_EMAIL \
    -u EMAIL HOME="$T/empty-home" GIT_CONFIG_NOSYSTEM=1 "$DV" commit -m "who"
assert_eq 2 "$RC" "exit code"
assert_contains "$ERR" "identity unknown"
assert_contains "$ERR" 'git config --global user.name "Your Name"'
assert_contains "$ERR" 'git config --global user.email'
assert_eq "$before" "$(git rev-parse HEAD)" "HEAD"
git diff --cached --quiet || fail "dv commit staged something although it could not commit"
ok "nothing staged"

step "GIT_COMMITTER_DATE and GIT_AUTHOR_DATE are honoured"
GIT_AUTHOR_DATE="1112911993 +0200" GIT_COMMITTER_DATE="2005-04-07T22:13:13+0200" \
    assert_exit 0 "$DV" commit -m "dated"
assert_eq "1112911993 +0200" "$(git log -1 --format='%at %ad' --date=format:%z)" "author date"
assert_eq "1112904793" "$(git log -1 --format=%ct)" "committer date"

step "without -m the message is edited: GIT_EDITOR, comments stripped"
cat >"$T/editor.sh" <<EOF
#!/bin/sh
cp "\$1" "$T/template"
printf 'edited subject\n\nthe body\n# a comment line\n' >"\$1"
EOF
chmod +x "$T/editor.sh"
gen_random model.bin 450000 10
m5=$(sha_of model.bin)
GIT_EDITOR="$T/editor.sh" assert_exit 0 "$DV" commit
assert_eq "edited subject" "$(git log -1 --format=%s)" "subject"
assert_eq "the body" "$(git log -1 --format=%b)" "body, comment stripped"
assert_contains "$T/template" "# Please enter the commit message"
assert_contains "$T/template" "modified:   model.bin.dv"
assert_contains "$T/template" "# On branch main"
assert_eq "$m5" "$(committed_sha HEAD:model.bin)" "committed model.bin"
[ -f .git/COMMIT_EDITMSG ] || fail "no .git/COMMIT_EDITMSG"
ok ".git/COMMIT_EDITMSG written"

step "core.editor when GIT_EDITOR is not set"
cat >"$T/editor2.sh" <<'EOF'
#!/bin/sh
echo "from core.editor" >"$1"
EOF
chmod +x "$T/editor2.sh"
git config core.editor "$T/editor2.sh"
gen_random model.bin 460000 11
run env -u GIT_EDITOR -u VISUAL -u EDITOR "$DV" commit
assert_eq 0 "$RC" "exit code"
assert_eq "from core.editor" "$(git log -1 --format=%s)" "subject"
git config --unset core.editor

step "an empty message aborts: exit 1, no commit, the added data stays staged"
gen_random model.bin 470000 12
m6=$(sha_of model.bin)
before=$(git rev-parse HEAD)
GIT_EDITOR=true assert_exit 1 "$DV" commit
assert_contains "$ERR" "empty"
assert_contains "$ERR" "stays stored and staged"
assert_eq "$before" "$(git rev-parse HEAD)" "HEAD"
assert_eq "model.bin.dv" "$(git diff --cached --name-only)" "staged"
assert_exit 1 "$DV" commit -m ""
assert_eq "$before" "$(git rev-parse HEAD)" "HEAD after -m ''"
assert_exit 0 "$DV" commit -m "staged before"
assert_eq "$m6" "$(committed_sha HEAD:model.bin)" "committed model.bin"

step "detached HEAD: the commit moves HEAD alone, as git's"
main_tip=$(git rev-parse main)
git checkout -q --detach
gen_random model.bin 480000 13
m7=$(sha_of model.bin)
assert_exit 0 "$DV" commit -m "on a detached HEAD"
assert_match "$OUT" '^\[detached HEAD [0-9a-f]{7}\] on a detached HEAD$'
assert_eq "$main_tip" "$(git rev-parse HEAD~1)" "parent"
assert_eq "$main_tip" "$(git rev-parse main)" "main not moved"
git symbolic-ref -q HEAD >/dev/null && fail "HEAD became symbolic"
assert_eq "$m7" "$(committed_sha HEAD:model.bin)" "committed model.bin"
assert_eq "commit: on a detached HEAD" "$(git reflog -1 --format=%gs)" "reflog"
git checkout -q main

step "a merge in progress is refused"
git switch -q -c side
echo side >side.txt
git add side.txt
git commit -q -m side
git switch -q main
echo main >main.txt
git add main.txt
git commit -q -m main
git merge -q --no-commit side >/dev/null 2>&1 || true
before=$(git rev-parse HEAD)
assert_exit 2 "$DV" commit -m "merge"
assert_contains "$ERR" "a merge is in progress"
assert_eq "$before" "$(git rev-parse HEAD)" "HEAD"
git merge --abort
