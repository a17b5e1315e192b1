#!/usr/bin/env bash
# A directory of 10,000 small files with every kind of entry and odd names goes
# through dv add / git commit / git checkout / dv checkout and comes back byte-exact.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "set up a git repository with dv"
new_repo "$T/repo"

step "generate data/: 10,000 small files in nested directories, empty files, odd names"
"$PY" - data <<'EOF'
import os, random, sys
root = sys.argv[1]
r = random.Random(12345)
os.makedirs(root)
n = 0
for i in range(10000):
    d = os.path.join(root, "d%02d" % (i % 20), "s%02d" % ((i // 20) % 25))
    os.makedirs(d, exist_ok=True)
    size = 0 if i % 997 == 0 else r.randint(0, 4096)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(r.randbytes(size))
    n += 1
# odd names at the top of data/ and one level down
odd = ["with space.txt", "données ü.txt", "-leading-dash", "star*.txt", "question?.txt",
       "br[ack]et.txt", "back\\slash.txt", "#hash.txt", "trailing space ", "tab\tname.txt",
       "日本語.dat", ".hidden"]
for k, name in enumerate(odd):
    for d in (root, os.path.join(root, "d00")):
        with open(os.path.join(d, name), "wb") as f:
            f.write(("odd file %d %s\n" % (k, name)).encode() * (k + 1))
# more empty files, in their own directory too
os.makedirs(os.path.join(root, "empties"))
for k in range(5):
    open(os.path.join(root, "empties", "e%d" % k), "wb").close()
open(os.path.join(root, "empty-top"), "wb").close()
# an executable script
with open(os.path.join(root, "run.sh"), "w") as f:
    f.write("#!/bin/sh\necho hello\n")
os.chmod(os.path.join(root, "run.sh"), 0o755)
# symlinks: relative to a file, to a directory, dangling, absolute-looking dangling
os.symlink("d00/s00/f00000.bin", os.path.join(root, "link-to-file"))
os.symlink("d01", os.path.join(root, "link-to-dir"))
os.symlink("no/such/target", os.path.join(root, "dangling"))
os.symlink("../../d02/s00", os.path.join(root, "d00", "s01", "up-link"))
os.symlink("/nonexistent/absolute", os.path.join(root, "abs-dangling"))
# a file we will turn into a symlink, a symlink we will retarget
with open(os.path.join(root, "becomes-link"), "wb") as f:
    f.write(b"regular file in v1\n")
EOF
# a newline in a file name, if the file system allows it
if touch "data/d00/new"$'\n'"line.txt" 2>/dev/null; then
    printf 'newline name\n' >"data/d00/new"$'\n'"line.txt"
    note "file system allows a newline in a name: included"
else
    note "file system refuses a newline in a name: skipped"
fi
nfiles=$(find data \( -type f -o -type l \) -printf . | wc -c)
note "data/ holds $nfiles files and symlinks, $(du -sb data | cut -f1) bytes"
[ "$nfiles" -gt 10000 ] || fail "generator made only $nfiles entries"
[ -x data/run.sh ] || fail "run.sh is not executable"

step "dv add data (version 1) and git commit"
assert_exit 0 "$DV" add data
note "summary: $(tr '\n' ' ' <"$ALL")"
assert_match "$ALL" "added 1 path"
[ -f data.dv ] || fail "no pointer file data.dv"
ok "pointer file data.dv exists"
assert_contains data.dv "kind: dir"
assert_match data.dv "^oid: sha256:[0-9a-f]{64}$"
assert_contains data.dv "files: $nfiles"
[ -f .gitignore ] || fail "no .gitignore beside data"
assert_eq "/data" "$(grep -xF /data .gitignore)" ".gitignore entry for data"
staged=$(git diff --cached --name-only)
printf '%s\n' "$staged" | grep -qx data.dv || fail "data.dv is not staged (staged: $staged)"
printf '%s\n' "$staged" | grep -qx .gitignore || fail ".gitignore is not staged (staged: $staged)"
ok "data.dv and .gitignore are staged"
git commit -q -m "data v1"
assert_git_clean
c1=$(git rev-parse HEAD)
d1=$(snapshot data "$T/v1.list")
note "v1 tree digest $d1"

step "a trailing slash is the same: dv add data/ changes nothing"
cp data.dv "$T/data.dv.v1"
assert_exit 0 "$DV" add data/
cmp -s data.dv "$T/data.dv.v1" || fail "dv add data/ changed data.dv"
ok "data.dv unchanged"
assert_git_clean
assert_eq 1 "$(grep -cxF /data .gitignore)" "number of /data lines in .gitignore"
assert_exit 0 "$DV" status
ok "dv status is clean after add"

step "change the data: edit 3 files, add one, remove one, chmod one, retarget a link, file -> link, dir -> file"
printf 'changed!' | dd of=data/d03/s04/f02003.bin bs=1 seek=10 conv=notrunc status=none
printf 'appended tail\n' >>data/d05/s00/f00005.bin
: >data/d07/s07/f00147.bin
printf 'a brand new file\n' >data/d09/s09/new-file.txt
rm data/d11/s11/f00231.bin
chmod +x data/d13/s13/f00273.bin
rm data/dangling && ln -s other/target data/dangling
rm data/becomes-link && ln -s d00/s00/f00000.bin data/becomes-link
printf 'v2 odd\n' >"data/données ü.txt"
rm -rf data/d19/s24 && printf 'a file where a directory was\n' >data/d19/s24
d2pre=$(tree_digest data)
assert_ne "$d1" "$d2pre" "tree digest after edits"

step "dv add data (version 2) and git commit"
assert_exit 0 "$DV" add data
note "summary: $(tr '\n' ' ' <"$ALL")"
cmp -s data.dv "$T/data.dv.v1" && fail "data.dv did not change after edits"
ok "data.dv changed"
git diff --cached --name-only | grep -qx data.dv || fail "new data.dv is not staged"
ok "new data.dv is staged"
assert_exit 0 "$DV" status
git commit -q -m "data v2"
assert_git_clean
c2=$(git rev-parse HEAD)
d2=$(snapshot data "$T/v2.list")
assert_eq "$d2pre" "$d2" "v2 digest after add (dv add must not touch the data)"

step "git checkout v1 + dv checkout restores v1 exactly"
git checkout -q "$c1"
assert_exit 1 "$DV" status -q
ok "dv status says not clean before dv checkout"
ino_before=$(stat -c %i data/d15/s15/f00315.bin)
assert_exit 0 "$DV" checkout
note "summary: $(tr '\n' ' ' <"$ALL")"
assert_tree_matches data "$T/v1.list" "v1 restored"
[ -x data/run.sh ] || fail "run.sh lost its executable bit"
[ ! -x data/d13/s13/f00273.bin ] || fail "f00273.bin still executable"
ok "exec bits restored"
[ -L data/link-to-dir ] && [ -L data/dangling ] && [ ! -L data/becomes-link ] || fail "symlink kinds wrong"
ok "symlinks restored as links, file restored over a link"
assert_eq "$ino_before" "$(stat -c %i data/d15/s15/f00315.bin)" "inode of an unchanged file (not rewritten)"
assert_exit 0 "$DV" status
assert_git_clean

step "git checkout main + dv checkout restores v2 exactly"
git checkout -q main
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/v2.list" "v2 restored"
assert_exit 0 "$DV" status

step "dv checkout with nothing to do changes nothing"
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/v2.list" "v2 still"

step "version 3 adds a new subdirectory; going back to v2 removes it"
mkdir -p data/newdir/deeper
printf 'in a new dir\n' >data/newdir/deeper/x.txt
assert_exit 0 "$DV" add data
git commit -q -m "data v3"
d3=$(snapshot data "$T/v3.list")
git checkout -q "$c2"
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/v2.list" "v2 restored from v3 (new directory removed)"
git checkout -q main
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/v3.list" "v3 restored"

step "data deleted entirely: dv checkout brings it back"
rm -rf data
assert_exit 1 "$DV" status -q
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/v3.list" "v3 restored from nothing"
assert_git_clean

step "top-level paths with odd names: .gitignore entries match exactly those names"
printf 'glob\n' >'weird #[x]*.bin'
printf 'lead\n' >' lead space'
printf 'trail\n' >'trail space '
printf 'bang\n' >'!bang'
printf 'hash\n' >'#hash'
ln -s data/run.sh 'link ?.sh'
assert_exit 0 "$DV" add 'weird #[x]*.bin' ' lead space' 'trail space ' '!bang' '#hash' 'link ?.sh'
git commit -q -m "odd names"
assert_git_clean
# a sibling that an unescaped pattern would also match must stay visible to git
printf 'not tracked by dv\n' >'weird #x-y.bin'
s=$(git status --porcelain --untracked-files=all)
[ "$s" = '?? "weird #x-y.bin"' ] || fail "git status shows [$s]; the .gitignore entries are not exact"
ok "a similar name is not ignored by git"
rm 'weird #x-y.bin'
for f in 'weird #[x]*.bin' ' lead space' 'trail space ' '!bang' '#hash'; do
    printf '%s\n' "$f" >>"$T/odd.sha"; sha_of "$f" >>"$T/odd.sha"
done
rm 'weird #[x]*.bin' ' lead space' 'trail space ' '!bang' '#hash' 'link ?.sh'
assert_exit 0 "$DV" checkout
for f in 'weird #[x]*.bin' ' lead space' 'trail space ' '!bang' '#hash'; do
    assert_file_sha "$f" "$(grep -A1 -xF -- "$f" "$T/odd.sha" | tail -n1)" "[$f]"
done
[ "$(readlink 'link ?.sh')" = data/run.sh ] || fail "top-level symlink not restored as a link"
ok "top-level symlink restored as a link"

step "a top-level path that is a file in one commit and a directory in the next"
printf 'a file\n' >thing
assert_exit 0 "$DV" add thing
git commit -q -m "thing is a file"
ca=$(git rev-parse HEAD)
rm thing && mkdir -p thing/a && printf 'inside\n' >thing/a/f
assert_exit 0 "$DV" add thing
assert_contains thing.dv "kind: dir"
git commit -q -m "thing is a directory"
snapshot thing "$T/thing.list" >/dev/null
git checkout -q "$ca"
assert_exit 0 "$DV" checkout
[ -f thing ] && [ ! -L thing ] || fail "thing is not a regular file after checkout of the first commit"
assert_file_sha thing "$(printf 'a file\n' | sha256sum | cut -d' ' -f1)" "thing (file version)"
git checkout -q main
assert_exit 0 "$DV" checkout
assert_tree_matches thing "$T/thing.list" "thing (directory version)"
assert_git_clean
