#!/usr/bin/env bash
# dv diff between the commits of a history, file by file inside tracked directories: what it
# says is added, deleted, modified and renamed, with sizes, is what was recorded when the
# files were made; paths, ranges, the exit code, JSON and bad input.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/history_lib.sh"
e2e_init "$@"

step "four commits: data/ gains, changes and loses files, model.bin changes, a file moves"
make_history
mv data/sub/c.bin data/sub/c-moved.bin
record 4

# expected OLD NEW: the name-status lines the recorded listings of commits OLD and NEW call
# for: A, D, M by path and sha256; a deletion whose sha256 was added elsewhere is a rename.
expected() {
    "$PY" - "$T/rec/$1.files" "$T/rec/$2.files" <<'PYEOF'
import sys
def load(p):
    return {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(p) if l.strip()}
old, new = load(sys.argv[1]), load(sys.argv[2])
added = {p for p in new if p not in old}
deleted = {p for p in old if p not in new}
out = []
for p in sorted(old.keys() & new.keys()):
    if old[p][1] != new[p][1]:
        out.append("M\t" + p)
for d in sorted(deleted):
    twin = sorted(a for a in added if new[a][1] == old[d][1])
    if twin:
        added.discard(twin[0])
        out.append("R\t%s\t%s" % (d, twin[0]))
    else:
        out.append("D\t" + d)
out += ["A\t" + a for a in sorted(added)]
print("\n".join(sorted(out, key=lambda l: l.split("\t")[-1])))
PYEOF
}

for pair in "1 2" "2 3" "1 3" "3 1" "3 4" "1 4"; do
    set -- $pair
    a=$(cat "$T/rec/$1.commit")
    b=$(cat "$T/rec/$2.commit")
    step "commit $1 against commit $2"
    assert_exit 0 "$DV" diff --name-status "$a" "$b"
    assert_eq "$(expected "$1" "$2")" "$(cat "$OUT")" "name-status of $1 → $2"
    assert_exit 0 "$DV" diff --name-status "$a..$b"
    assert_eq "$(expected "$1" "$2")" "$(cat "$OUT")" "the same as $1..$2"
done

step "JSON: sizes before and after are the recorded ones; the summary counts them"
a=$(cat "$T/rec/1.commit")
b=$(cat "$T/rec/3.commit")
assert_exit 0 "$DV" diff --json "$a" "$b"
"$PY" - "$OUT" "$T/rec/1.files" "$T/rec/3.files" <<'PYEOF' || fail "JSON does not match the record"
import json, sys
j = json.load(open(sys.argv[1]))
def load(p):
    return {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(p) if l.strip()}
old, new = load(sys.argv[2]), load(sys.argv[3])
counts = {"added": 0, "deleted": 0, "modified": 0, "renamed": 0}
for f in j["files"]:
    counts[f["status"]] += 1
    if f["old"] is not None:
        assert f["old"]["size"] == int(old[f.get("old_path", f["path"])][0]), f
    if f["new"] is not None:
        assert f["new"]["size"] == int(new[f["path"]][0]), f
    assert len((f["new"] or f["old"])["id"]) == 64, f
s = j["summary"]
for k, v in counts.items():
    assert s[k] == v, (k, s[k], v)
assert s["old_bytes"] == sum(f["old"]["size"] for f in j["files"] if f["old"]), s
assert s["new_bytes"] == sum(f["new"]["size"] for f in j["files"] if f["new"]), s
assert j["from"] == sys.argv[2] or True
print("ok")
PYEOF
ok "every size and count matches the record"

step "the default output names each change and sums it up"
assert_exit 0 "$DV" diff "$(cat "$T/rec/3.commit")" "$(cat "$T/rec/4.commit")"
assert_match "$OUT" '^renamed: +data/sub/c.bin → data/sub/c-moved.bin'
assert_match "$OUT" '^1 file changed: 0 added, 0 modified, 0 deleted, 1 renamed'

step "paths limit the diff, relative to where the user stands"
a=$(cat "$T/rec/1.commit")
b=$(cat "$T/rec/2.commit")
expected 1 2 | grep -E $'\tdata/sub/' >"$T/want.txt"
assert_exit 0 "$DV" diff --name-status "$a" "$b" -- data/sub
assert_eq "$(cat "$T/want.txt")" "$(cat "$OUT")" "under data/sub"
cd data
assert_exit 0 "$DV" diff --name-status "$a" "$b" -- sub
assert_eq "$(cat "$T/want.txt")" "$(cat "$OUT")" "under sub, from data/"
cd "$T/repo"

step "one revision: against the work tree's data; none: HEAD against it; --cached: the pointers"
assert_exit 0 "$DV" diff --exit-code
assert_contains "$OUT" "no differences"
assert_exit 1 "$DV" diff --exit-code "$(cat "$T/rec/3.commit")"
assert_exit 1 "$DV" diff -q "$(cat "$T/rec/3.commit")"
assert_empty "$OUT"
gen_random data/new.bin 1234 77
assert_exit 1 "$DV" diff --exit-code --name-status
assert_eq "A	data/new.bin" "$(cat "$OUT")" "an addition in the work tree, not added yet"
assert_exit 0 "$DV" diff --cached --exit-code --name-status
assert_empty "$OUT"
assert_exit 0 "$DV" add data
assert_exit 1 "$DV" diff --cached --exit-code --name-status
assert_eq "A	data/new.bin" "$(cat "$OUT")" "a staged addition"
assert_exit 0 "$DV" diff --json
assert_eq "1234" "$(json_get "$OUT" 'j["files"][0]["new"]["size"]')" "its size"
assert_eq "worktree" "$(json_get "$OUT" 'j["to_side"]')" "the new side is the work tree"
assert_exit 0 "$DV" diff --cached --json
assert_eq "pointers" "$(json_get "$OUT" 'j["to_side"]')" "the new side is the pointer files"

step "the work tree's changes below a tracked directory, read from disk, nothing stored"
store_before=$(find .dv/cache -type f | LC_ALL=C sort)
gen_text data/a.csv 120 31
chmod +x data/sub/d.bin
rm "data/deep/er/e with space.txt"
ln -s ../a.csv data/sub/link
mkfifo data/sub/fifo
printf '%s\t%s\n' "$(stat -c %s data/a.csv)" "$(sha_of data/a.csv)" >"$T/a.want"
assert_exit 0 "$DV" diff --name-status
assert_eq "$(printf 'M\tdata/a.csv\nD\tdata/deep/er/e with space.txt\nA\tdata/new.bin\nM\tdata/sub/d.bin\nA\tdata/sub/link')" \
    "$(cat "$OUT")" "modified, deleted, added, a symlink, a mode change; the FIFO is not data"
assert_exit 0 "$DV" diff --json -- data/a.csv data/sub
"$PY" - "$OUT" "$T/a.want" <<'PYEOF' || fail "the work tree's sides are not what was written"
import json, sys
j = json.load(open(sys.argv[1]))
size, sha = open(sys.argv[2]).read().split()
f = {x["path"]: x for x in j["files"]}
assert f["data/a.csv"]["new"]["size"] == int(size), f["data/a.csv"]
assert f["data/a.csv"]["content"]["kind"] == "table", f["data/a.csv"]
assert f["data/sub/d.bin"]["new"]["mode"] == "100755", f["data/sub/d.bin"]
assert f["data/sub/d.bin"]["old"]["id"] == f["data/sub/d.bin"]["new"]["id"], "same content"
assert f["data/sub/link"]["new"]["kind"] == "symlink", f["data/sub/link"]
assert f["data/sub/link"]["new"]["size"] == len("../a.csv"), f["data/sub/link"]
assert set(f) == {"data/a.csv", "data/sub/d.bin", "data/sub/link"}, sorted(f)
print("ok")
PYEOF
ok "sizes, modes, kinds and the content of a modified table come from the work tree"
assert_exit 0 "$DV" diff -- data/a.csv
assert_match "$OUT" '^    csv: 100 → 120 rows'
assert_eq "$store_before" "$(find .dv/cache -type f | LC_ALL=C sort)" "nothing was stored"
rm data/sub/fifo data/sub/link
chmod -x data/sub/d.bin
"$DV" checkout -q -f data

step "data never checked out stands as its pointer says, with a note"
git commit -q -m "new.bin"
mv data "$T/data-aside"
assert_exit 0 "$DV" diff --exit-code --name-status
assert_empty "$OUT"
assert_contains "$ERR" "1 tracked path is not checked out"
assert_exit 1 "$DV" diff --exit-code --name-status "$(cat "$T/rec/4.commit")"
assert_eq "A	data/new.bin" "$(cat "$OUT")" "against the pointer's tree"
mv "$T/data-aside" data
git reset -q --hard HEAD~1
assert_exit 0 "$DV" checkout -q -f

step "A...B starts from the merge base"
git switch -q -c side "$(cat "$T/rec/2.commit")"
gen_random model.bin 4000 78
assert_exit 0 "$DV" add model.bin
git commit -q -m side
assert_exit 0 "$DV" diff --name-status "$(cat "$T/rec/4.commit")...side"
assert_eq "M	model.bin" "$(cat "$OUT")" "only side's change since the merge base"
git switch -q -
assert_exit 0 "$DV" checkout -q -f

step "bad input"
assert_exit 2 "$DV" diff no-such-rev --
assert_contains "$ERR" "unknown revision 'no-such-rev'"
assert_exit 2 "$DV" diff HEAD HEAD -- not/tracked
assert_contains "$ERR" "not/tracked is not tracked by dv"
assert_exit 2 "$DV" diff "$(cat "$T/rec/1.commit")...no-such"
rm -rf "$T/empty" && mkdir "$T/empty"
assert_exit 5 env DV_CACHE_DIR="$T/empty" "$DV" diff "$(cat "$T/rec/1.commit")" HEAD
assert_contains "$ERR" "is not in the store"
assert_contains "$ERR" "dv fetch --rev"

step "done"
