#!/usr/bin/env bash
# The data of every revision of a history with two branches, a tag and a merge: dv checkout
# <rev> restores exactly what was added at each commit (types and modes too), dv ls and dv
# cat agree with what was recorded then, and dv pull --rev <tag> <dir> in a fresh clone
# with an empty store downloads that directory alone. The same from a subdirectory and a
# linked worktree; and each bad input gets its message and exit code.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

DATA_PATHS="data model.bin aux models"

# record N: copy the work tree's data as it is now (made by the test, before dv sees it)
# to $T/rec/N and list it; then dv add and commit it as commit N.
record() {
    local n=$1 msg=$2
    shift 2
    mkdir -p "$T/rec/$n"
    for p in $DATA_PATHS; do
        [ -e "$p" ] && cp -a "$p" "$T/rec/$n/"
    done
    tree_listing "$T/rec/$n" >"$T/rec/$n.tree"
    assert_exit 0 "$DV" add -q "$@"
    git commit -q -m "$msg"
    git rev-parse HEAD >"$T/rec/$n.commit"
}

# data_listing: the listing of the work tree's data paths, as record makes it (git's own
# files beside the data, pointer files and .gitignore, left out).
data_listing() {
    rm -rf "$T/now"
    mkdir -p "$T/now"
    for p in $DATA_PATHS; do
        [ -e "$p" ] && cp -a "$p" "$T/now/"
    done
    find "$T/now" -mindepth 2 \( -name '*.dv' -o -name .gitignore \) -delete
    find "$T/now" -mindepth 1 -type d -empty -delete
    tree_listing "$T/now"
}

# The files and symlinks of a recorded listing, as dv ls names them.
recorded_files() { awk -F'\t' '$2 !~ /^d/ { print $1 }' "$T/rec/$1.tree"; }

step "a history: two branches, a tag, a merge; data gains, changes, renames and loses files"
new_repo "$T/repo"
git config user.name "Test" && git config user.email "test@example.com"
mkdir -p data/sub
gen_text data/a.csv 2000 1
gen_random data/sub/b.bin 300000 2
gen_random data/sub/c.bin 5000 3
gen_random model.bin 3000000 4
record 1 "first data" data model.bin

gen_text data/a.csv 3000 5
gen_random data/sub/d.bin 700000 6
gen_random model.bin 3100000 7
record 2 "more data" data model.bin
git tag v1.2

git switch -q -c feature
mv data/sub/c.bin data/sub/c-renamed.bin
mkdir -p data/new
gen_text data/new/run.sh 20 8
chmod +x data/new/run.sh
ln -s ../sub/d.bin data/new/link-to-d
record 3 "rename c, add an executable and a link" data

mkdir -p aux
gen_random aux/x.bin 40000 9
record 4 "aux data" aux

git switch -q master 2>/dev/null || git switch -q main
MAIN=$(git branch --show-current)
assert_exit 0 "$DV" checkout -q
rm -rf aux # git switch took aux.dv away; its data stays, as untracked files do in git
gen_random model.bin 3200000 11
record 5 "a model on $MAIN" model.bin

step "merge feature: data and aux from feature, the model from $MAIN"
git merge -q --no-edit feature
git rev-parse HEAD >"$T/rec/6.commit"
mkdir -p "$T/rec/6"
cp -a "$T/rec/4/data" "$T/rec/4/aux" "$T/rec/6/"  # feature's
cp -a "$T/rec/5/model.bin" "$T/rec/6/"
tree_listing "$T/rec/6" >"$T/rec/6.tree"
assert_exit 0 "$DV" checkout -q
assert_eq "$(cat "$T/rec/6.tree")" "$(data_listing)" "the merge's data, restored after git merge"

step "commit 7: model.bin moves to models/, data loses a file"
mkdir -p models
mv model.bin models/model.bin
git rm -q --cached model.bin.dv && rm model.bin.dv
rm data/sub/b.bin
record 7 "move the model; drop b" data models/model.bin
assert_git_clean

step "dv checkout <rev> restores exactly each commit's data, pointer files and index"
for n in 7 1 4 2 6 3 5 7; do
    rev=$(cat "$T/rec/$n.commit")
    assert_exit 0 "$DV" checkout "$rev"
    assert_eq "$(cat "$T/rec/$n.tree")" "$(data_listing)" "data at commit $n"
    git diff --cached --quiet "$rev" -- '*.dv' || fail "index pointers differ from commit $n"
    git diff --quiet -- '*.dv' || fail "work-tree pointers differ from the index at commit $n"
    ok "pointer files and index are commit $n's"
    assert_exit 0 "$DV" ls -r "$rev"
    LC_ALL=C sort "$OUT" >"$T/ls.txt"
    assert_eq "$(recorded_files "$n")" "$(cat "$T/ls.txt")" "dv ls -r at commit $n"
done
assert_git_clean

step "dv cat at a revision gives the bytes recorded then; dv ls -l the modes"
assert_exit 0 "$DV" cat "$(cat "$T/rec/1.commit")":data/sub/c.bin
cmp -s "$OUT" "$T/rec/1/data/sub/c.bin" || fail "dv cat of c.bin at commit 1"
ok "c.bin at commit 1"
assert_exit 0 "$DV" cat v1.2:model.bin
cmp -s "$OUT" "$T/rec/2/model.bin" || fail "dv cat v1.2:model.bin"
ok "model.bin at v1.2"
assert_exit 0 "$DV" cat feature:data/new/run.sh
cmp -s "$OUT" "$T/rec/4/data/new/run.sh" || fail "dv cat feature:data/new/run.sh"
ok "run.sh on feature"
assert_exit 0 "$DV" ls -l feature data/new
assert_match "$OUT" '^100755 .*data/new/run.sh$'
assert_match "$OUT" '^120000 .*data/new/link-to-d$'

step "a revision the work tree does not match: refused without --force, nothing written"
gen_random data/a.csv 1000 99
before=$(git rev-parse :data.dv)
assert_exit 4 "$DV" checkout v1.2
assert_contains "$ERR" "data"
assert_eq "$before" "$(git rev-parse :data.dv)" "staged data.dv untouched"
assert_exit 0 "$DV" checkout -f v1.2 data
assert_eq "$(cat "$T/rec/2.tree" | grep -E '^data' )" "$(data_listing | grep -E '^data')" "data at v1.2 after --force"
assert_exit 0 "$DV" checkout -q HEAD

step "from a subdirectory, paths are relative to it"
cd data/sub
assert_exit 0 "$DV" checkout "$(cat "$T/rec/1.commit")" -- ../../aux
cd "$T/repo"
[ ! -e aux ] || fail "aux still exists after checking out commit 1's aux (it had none)"
ok "aux removed: commit 1 does not track it"
[ ! -e aux.dv ] || fail "aux.dv still exists"
assert_exit 0 "$DV" checkout -q HEAD
assert_eq "$(cat "$T/rec/7.tree")" "$(data_listing)" "back at HEAD"

step "a linked worktree shares the store"
git worktree add -q "$T/linked" "$(cat "$T/rec/3.commit")"
cd "$T/linked"
assert_exit 0 "$DV" checkout
assert_eq "$(cat "$T/rec/3.tree")" "$(data_listing)" "commit 3 restored in the linked worktree"
assert_exit 0 "$DV" checkout v1.2
assert_eq "$(cat "$T/rec/2.tree")" "$(data_listing)" "v1.2 restored in the linked worktree"
[ -z "$(ls -A .dv/cache 2>/dev/null)" ] || fail "the linked worktree made a store of its own"
ok "no store of its own"
cd "$T/repo"

step "push every commit's data; a fresh clone pulls v1.2's data/ alone"
mkdir -p "$T/remote"
assert_exit 0 "$DV" remote add origin "$T/remote"
git add .dv/config && git commit -q -m "remote"
assert_exit 0 "$DV" push data
assert_exit 1 "$DV" status -c --json
assert_eq "all" "$(json_get "$OUT" '[p["remote"]["state"] for p in j["paths"] if p["path"] == "data"][0]')" "data on the remote"
assert_eq "none 3200000 3200000" "$(json_get "$OUT" '" ".join(str(x) for x in [[p["remote"]["state"], p["remote"]["bytes"], p["remote"]["missing_bytes"]] for p in j["paths"] if p["path"] == "models/model.bin"][0])')" "the model, not pushed"
assert_exit 1 "$DV" status -c
assert_match "$OUT" '^    none +models/model.bin'
assert_exit 0 "$DV" push --all-commits
assert_exit 0 "$DV" status -c
assert_match "$OUT" '^    all +models/model.bin'
git clone -q "$T/repo" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" pull --stats --rev v1.2 data
assert_eq "$(grep -E '^data' "$T/rec/2.tree")" "$(data_listing | grep -E '^data')" "data at v1.2 in the clone"
git diff --cached --quiet v1.2 -- data.dv || fail "data.dv is not v1.2's"
ok "data.dv is v1.2's"
received=$(sed -n 's/.* received=\([0-9]*\).*/\1/p' "$ERR")
data_bytes=$(du -sb "$T/rec/2/data" | cut -f1)
[ -n "$received" ] && [ "$received" -le $((data_bytes + 65536)) ] ||
    fail "pulled $received bytes for a data/ of $data_bytes"
ok "received $received bytes for a data/ of $data_bytes (the model alone is 3.1 MB)"
assert_exit 5 "$DV" cat v1.2:model.bin
assert_contains "$ERR" "is not in the store"
assert_contains "$ERR" "dv fetch --rev v1.2"
assert_exit 0 "$DV" fetch --rev origin/feature --rev v1.2
assert_exit 0 "$DV" cat origin/feature:aux/x.bin
cmp -s "$OUT" "$T/rec/4/aux/x.bin" || fail "feature's aux after dv fetch --rev feature"
ok "feature's aux fetched by --rev"
cd "$T/repo"

step "a detached HEAD and a submodule change nothing"
git -c protocol.file.allow=always submodule add -q "$T/repo" sub >/dev/null 2>&1 ||
    fail "git submodule add"
git commit -q -m "a submodule"
git checkout -q --detach HEAD
assert_exit 0 "$DV" checkout v1.2
assert_eq "$(cat "$T/rec/2.tree")" "$(data_listing)" "v1.2 on a detached HEAD"
assert_exit 0 "$DV" checkout HEAD
assert_eq "$(cat "$T/rec/7.tree")" "$(data_listing)" "HEAD again"
assert_exit 0 "$DV" ls -r HEAD
LC_ALL=C sort "$OUT" >"$T/ls.txt"
assert_eq "$(recorded_files 7)" "$(cat "$T/ls.txt")" "dv ls -r beside a submodule"
git checkout -q "$MAIN"

step "a shallow clone says so for a commit beyond its history"
git clone -q --depth 1 "file://$T/repo" "$T/shallow"
cd "$T/shallow"
assert_exit 2 "$DV" ls "$(cat "$T/rec/1.commit")"
assert_contains "$ERR" "shallow clone"
assert_exit 0 env DV_CACHE_DIR="$T/repo/.dv/cache" "$DV" ls -r HEAD # a store shared by clones
LC_ALL=C sort "$OUT" >"$T/ls.txt"
assert_eq "$(recorded_files 7)" "$(cat "$T/ls.txt")" "dv ls -r in the shallow clone"
cd "$T/repo"

step "bad input: each gets one message and its exit code"
assert_exit 2 "$DV" checkout no-such-rev --
assert_contains "$ERR" "unknown revision 'no-such-rev'"
assert_exit 2 "$DV" checkout v1.2 -- nothing/here
assert_contains "$ERR" "nothing/here is not tracked by dv at revision v1.2"
assert_exit 2 "$DV" fetch --rev no-such-rev
assert_contains "$ERR" "unknown revision 'no-such-rev'"
assert_exit 2 "$DV" pull --rev v1.2 --rev feature
assert_contains "$ERR" "give --rev once"
git checkout -q -b broken
printf 'dv: 1\nkind: file\noid: sha256:zz\n' >bad.dv
git add bad.dv && git commit -q -m broken
git checkout -q "$MAIN"
assert_exit 5 "$DV" checkout broken
assert_contains "$ERR" "broken:bad.dv"
assert_eq "$(cat "$T/rec/7.tree")" "$(data_listing)" "nothing written for a bad pointer"
rm -rf "$T/empty-store" && mkdir "$T/empty-store"
mv "$T/remote" "$T/remote.away"
assert_exit 5 env DV_CACHE_DIR="$T/empty-store" "$DV" checkout v1.2
assert_contains "$ERR" "origin"
assert_eq "$(cat "$T/rec/7.tree")" "$(data_listing)" "nothing written when the store lacks the data"
git diff --cached --quiet HEAD -- '*.dv' || fail "pointer files changed although nothing could be restored"
ok "pointer files untouched"
git config --file .dv/config --remove-section remote.origin
assert_exit 5 env DV_CACHE_DIR="$T/empty-store" "$DV" checkout v1.2
assert_contains "$ERR" "dv fetch --rev v1.2"
assert_eq "$(cat "$T/rec/7.tree")" "$(data_listing)" "nothing written without a remote"
git checkout -q -- .dv/config
mv "$T/remote.away" "$T/remote"
assert_exit 0 env DV_CACHE_DIR="$T/empty-store" "$DV" checkout v1.2
assert_contains "$OUT" "fetched "
assert_eq "$(cat "$T/rec/2.tree")" "$(data_listing)" "v1.2 restored from the remote into an empty store"

step "done"
