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
# for: A, D, M by path and sha256; a deletion whose sha256 was added elsewhere is a rename;
# an addition whose sha256 (not an empty file's) a changed file had is a copy of it; with a
# third argument -C, so is one whose sha256 any file of OLD had (the first such path).
expected() {
    "$PY" - "$T/rec/$1.files" "$T/rec/$2.files" "${3:-}" <<'PYEOF'
import sys
def load(p):
    return {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(p) if l.strip()}
old, new = load(sys.argv[1]), load(sys.argv[2])
added = {p for p in new if p not in old}
deleted = {p for p in old if p not in new}
out = []
modified = [p for p in sorted(old.keys() & new.keys()) if old[p][1] != new[p][1]]
out += ["M\t" + p for p in modified]
for d in sorted(deleted):
    twin = sorted(a for a in added if new[a][1] == old[d][1])
    if twin:
        added.discard(twin[0])
        out.append("R100\t%s\t%s" % (d, twin[0]))
    else:
        out.append("D\t" + d)
changed = sorted(set(modified) | deleted)
for a in sorted(added):
    src = [p for p in changed if old[p][1] == new[a][1]]
    if sys.argv[3] == "-C":
        src += [p for p in sorted(old) if old[p][1] == new[a][1]]
    if src and int(new[a][0]):
        out.append("C100\t%s\t%s" % (src[0], a))
    else:
        out.append("A\t" + a)
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

step "a rename with changes (-M) and a copy, in every output form"
gen_random data/big.bin 3000000 40
record 5
mkdir -p data/moved
# 100 bytes changed in the middle: at most two chunks (256 KiB each at most) differ, so the
# two versions share at least 83% of their bytes
"$PY" - data/big.bin data/moved/big.bin <<'PYEOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[1500000:1500100] = bytes(100)
open(sys.argv[2], "wb").write(b)
PYEOF
rm data/big.bin
cp data/sub/d.bin data/copy.bin
gen_text data/a.csv 90 41
rm data/sub/c-moved.bin
gen_text data/new.txt 10 42
record 6
a=$(cat "$T/rec/5.commit")
b=$(cat "$T/rec/6.commit")
expected 5 6 >"$T/want.txt"
assert_exit 0 "$DV" diff --name-status "$a" "$b"
assert_eq "$(cat "$T/want.txt")" "$(cat "$OUT")" "without -M: a deletion and an addition"
assert_contains "$OUT" "A	data/copy.bin"
expected 5 6 -C >"$T/want.txt"
assert_exit 0 "$DV" diff -C --name-status "$a" "$b"
assert_eq "$(cat "$T/want.txt")" "$(cat "$OUT")" "with -C: the copy of an unchanged file"
assert_contains "$OUT" "C100	data/sub/d.bin	data/copy.bin"
assert_exit 0 "$DV" diff -M -C --name-status "$a" "$b"
assert_match "$OUT" $'^R0(8[3-9]|9[0-9])\tdata/big.bin\tdata/moved/big.bin$'
grep -v -e $'\tdata/big.bin$' -e $'\tdata/moved/big.bin$' "$T/want.txt" >"$T/want-m.txt"
assert_eq "$(cat "$T/want-m.txt")" "$(grep -v $'\tdata/moved/big.bin$' "$OUT")" \
    "with -M: the rest is the same"
assert_exit 0 "$DV" diff -M -C --json "$a" "$b"
"$PY" - "$OUT" "$T/rec/5.files" "$T/rec/6.files" <<'PYEOF' || fail "the JSON of -M does not match the record"
import json, sys
j = json.load(open(sys.argv[1]))
def load(p):
    return {l.split("\t")[0]: l.rstrip("\n").split("\t")[1:] for l in open(p) if l.strip()}
old, new = load(sys.argv[2]), load(sys.argv[3])
f = {x["path"]: x for x in j["files"]}
assert sorted(f) == ["data/a.csv", "data/copy.bin", "data/moved/big.bin", "data/new.txt",
                     "data/sub/c-moved.bin"], sorted(f)
want = {"data/a.csv": "modified", "data/copy.bin": "copied", "data/moved/big.bin": "renamed",
        "data/new.txt": "added", "data/sub/c-moved.bin": "deleted"}
for p, st in want.items():
    assert f[p]["status"] == st, (p, f[p]["status"])
c, r = f["data/copy.bin"], f["data/moved/big.bin"]
assert c["old_path"] == "data/sub/d.bin" and c["similarity"] == 100, c
assert c["old"]["id"] == c["new"]["id"] and c["new"]["size"] == int(new["data/copy.bin"][0]), c
assert r["old_path"] == "data/big.bin" and 83 <= r["similarity"] <= 99, r
assert r["old"]["size"] == int(old["data/big.bin"][0]) == 3000000, r
assert r["new"]["size"] == int(new["data/moved/big.bin"][0]) == 3000000, r
assert r["old"]["id"] != r["new"]["id"], r
assert f["data/sub/c-moved.bin"]["old"]["size"] == int(old["data/sub/c-moved.bin"][0])
assert f["data/new.txt"]["new"]["size"] == int(new["data/new.txt"][0])
assert "old_path" not in f["data/a.csv"] and "similarity" not in f["data/a.csv"]
s = j["summary"]
assert (s["added"], s["deleted"], s["modified"], s["renamed"], s["copied"]) == (1, 1, 1, 1, 1), s
print("ok")
PYEOF
ok "statuses, sources, similarity and sizes match the record"
assert_exit 0 "$DV" diff -MC --md "$a" "$b"
assert_contains "$OUT" '| `data/copy.bin` | copied from `data/sub/d.bin` |'
assert_match "$OUT" '^\| `data/moved/big.bin` \| renamed from `data/big.bin` \((8[3-9]|9[0-9])% similar\) \|'
assert_contains "$OUT" '| `data/new.txt` | added |'
assert_contains "$OUT" '| `data/sub/c-moved.bin` | deleted |'
assert_contains "$OUT" '| `data/a.csv` | modified |'
assert_contains "$OUT" '| copied | 1 |'
assert_contains "$OUT" '| renamed | 1 |'
assert_exit 0 "$DV" diff -M -C "$a" "$b"
assert_match "$OUT" '^copied: +data/sub/d.bin → data/copy.bin  \('
assert_match "$OUT" '^renamed: +data/big.bin → data/moved/big.bin  \(2.9 MiB → 2.9 MiB, (8[3-9]|9[0-9])% similar'
assert_match "$OUT" '^5 files changed: 1 added, 1 modified, 1 deleted, 1 renamed, 1 copied'
assert_exit 0 "$DV" diff -M -C --stat "$a" "$b"
assert_contains "$OUT" ' data/sub/d.bin → data/copy.bin | '
assert_exit 2 "$DV" diff --rename-threshold 101 "$a" "$b"
assert_contains "$ERR" "--rename-threshold wants a percent from 1 to 100"
assert_exit 0 "$DV" diff -C --rename-threshold 100 --name-status "$a" "$b"
assert_eq "$(cat "$T/want.txt")" "$(cat "$OUT")" "at 100% the changed file is no rename"

step "done"
