#!/usr/bin/env bash
# dv diff inside tables between two commits: a CSV whose rows were appended, deleted and
# changed (quoted fields with commas and newlines among them), a column added, one renamed,
# one retyped, one whose mean moved; the counts are those the generator recorded when it
# wrote the two versions. Also JSON Lines, a text file, and tables that do not parse.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "two versions of a table, and what changed between them, recorded as they are made"
new_repo "$T/repo"
mkdir data
"$PY" - data/sales.csv "$T/v2.csv" "$T/expect.json" <<'PYEOF'
import json, random, sys
v1, v2, expect = sys.argv[1:4]
rng = random.Random(7)
n = 4000
rows = []
for i in range(n):
    note = "plain" if i % 5 else 'has, comma\nand "quotes" %d' % i
    rows.append({"id": str(i), "note": note, "amount": "%.4f" % rng.gauss(100, 10),
                 "stable": "%.4f" % rng.random(), "ref": "r%05d" % (i * 7), "qty": str(i % 50)})
def q(v):
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v
with open(v1, "w", newline="") as f:
    f.write("id,note,amount,stable,ref,qty\n")
    for r in rows:
        f.write(",".join(q(r[k]) for k in ["id", "note", "amount", "stable", "ref", "qty"]) + "\n")
deleted = set(range(10, n, 97))
changed = set(i for i in range(3, n, 53) if i not in deleted)
appended = 120
out = []
rng2 = random.Random(8)
for i, r in enumerate(rows):
    if i in deleted:
        continue
    r = dict(r)
    # the mean of amount moves by two standard deviations in every row: drift
    r["amount"] = "%.4f" % (float(r["amount"]) + 20)
    if i in changed:
        r["note"] = r["note"] + ", edited\nline"
    r["qty"] = r["qty"] + ".5" if i % 50 == 1 else r["qty"]
    out.append(r)
for i in range(n, n + appended):
    out.append({"id": str(i), "note": "new", "amount": "%.4f" % rng2.gauss(120, 10),
                "stable": "%.4f" % rng2.random(), "ref": "r%05d" % (i * 7), "qty": "1"})
with open(v2, "w", newline="") as f:
    # ref renamed to reference, flag added, columns in another order
    f.write("reference,id,note,amount,stable,qty,flag\n")
    for r in out:
        f.write(",".join(q(x) for x in [r["ref"], r["id"], r["note"], r["amount"], r["stable"],
                                        r["qty"], "true"]) + "\r\n")
# With --key id every kept row changed (amount moved), so keyed: changed = kept rows.
kept = n - len(deleted)
json.dump({"old_rows": n, "new_rows": kept + appended, "added": appended,
           "removed": len(deleted), "changed": kept, "note_changed": len(changed),
           "qty_changed": len([i for i in range(n) if i % 50 == 1 and i not in deleted]),
           "unkeyed_added": kept + appended, "unkeyed_removed": n},
          open(expect, "w"))
PYEOF
printf 'line one\nline two\n' >data/readme.txt
printf '{"k": 1, "v": "a"}\n{"k": 2, "v": "b"}\n' >data/events.jsonl
assert_exit 0 "$DV" add data
git commit -qm one
cp "$T/v2.csv" data/sales.csv
printf 'line one\nline 2\n' >data/readme.txt
printf '{"k": 1, "v": "a"}\n{"k": 2, "v": "B"}\n{"k": 3, "v": "c"}\n' >data/events.jsonl
assert_exit 0 "$DV" add data
git commit -qm two

step "--key id --json: the row counts, the schema and the drift are the recorded ones"
assert_exit 0 "$DV" diff --json --key id HEAD~1 HEAD -- data/sales.csv
"$PY" - "$OUT" "$T/expect.json" <<'PYEOF' || fail "the JSON table report does not match the record"
import json, sys
j = json.load(open(sys.argv[1]))
e = json.load(open(sys.argv[2]))
(f,) = j["files"]
t = f["content"]
assert f["path"] == "data/sales.csv" and f["status"] == "modified", f["path"]
assert t["kind"] == "table" and t["format"] == "csv" and t["key"] == ["id"], t["kind"]
rows = t["rows"]
for k in ["old", "new", "added", "removed", "changed"]:
    want = e[k + "_rows"] if k in ("old", "new") else e[k]
    assert rows[k] == want, (k, rows[k], want)
cols = {c["name"]: c for c in t["columns"]}
assert cols["flag"]["status"] == "added", cols["flag"]["status"]
assert cols["flag"]["new"]["type"] == "boolean"
assert cols["reference"]["status"] == "renamed" and cols["reference"]["old_name"] == "ref"
assert "ref" not in cols
assert cols["qty"]["type_changed"] and cols["qty"]["old"]["type"] == "integer" \
    and cols["qty"]["new"]["type"] == "float"
assert cols["qty"]["cells_changed"] == e["qty_changed"], cols["qty"]["cells_changed"]
assert cols["note"]["cells_changed"] == e["note_changed"], cols["note"]["cells_changed"]
assert cols["amount"]["drift"]["drifted"], cols["amount"]["drift"]
assert not cols["stable"]["drift"]["drifted"], cols["stable"]["drift"]
assert cols["stable"]["cells_changed"] == 0
assert t["columns_reordered"]
ex = [x for x in t["examples"] if x["kind"] == "changed"]
assert len(ex) == 5, len(ex)
removed = [x for x in t["examples"] if x["kind"] == "removed"]
assert removed and all(int(x["cells"]["id"]) % 97 == 10 for x in removed), removed
PYEOF
ok "counts, schema changes and drift as recorded"

step "without --key: a changed row is one removed and one added"
assert_exit 0 "$DV" diff --json HEAD~1 HEAD -- data/sales.csv
"$PY" - "$OUT" "$T/expect.json" <<'PYEOF' || fail "unkeyed counts do not match the record"
import json, sys
j = json.load(open(sys.argv[1]))
e = json.load(open(sys.argv[2]))
rows = j["files"][0]["content"]["rows"]
assert rows["added"] == e["unkeyed_added"] and rows["removed"] == e["unkeyed_removed"], rows
assert rows["changed"] == 0
PYEOF
ok "unkeyed counts as recorded"

step "for people and as Markdown: the same numbers"
assert_exit 0 "$DV" diff --key id HEAD~1 HEAD -- data/sales.csv data/readme.txt
assert_contains "$OUT" "modified:  data/sales.csv"
assert_contains "$OUT" "+120 added, -42 removed"
assert_contains "$OUT" "renamed ref → reference"
assert_contains "$OUT" "drift: amount PSI"
assert_not_contains "$OUT" "drift: stable"
assert_contains "$OUT" "+line 2"
assert_exit 0 "$DV" diff --md --key id HEAD~1 HEAD -- data/sales.csv data/readme.txt
assert_contains "$OUT" '| `data/sales.csv` | modified |'
assert_contains "$OUT" '| `data/readme.txt` | modified |'
assert_match "$OUT" '^\| \| 4,000 \| 4,0[0-9]{2} \| 120 \| 42 \| '
assert_contains "$OUT" "**Drift:** \`amount\`"

step "JSON Lines by key"
assert_exit 0 "$DV" diff --json --key k HEAD~1 HEAD -- data/events.jsonl
"$PY" - "$OUT" <<'PYEOF' || fail "JSON Lines counts"
import json, sys
rows = json.load(open(sys.argv[1]))["files"][0]["content"]["rows"]
assert (rows["added"], rows["removed"], rows["changed"], rows["same"]) == (1, 0, 1, 1), rows
PYEOF
ok "JSON Lines: 1 added, 1 changed, 1 same"

step "a large file changed in its middle: only the chunks around the change are new"
gen_random data/blob.bin $((4 << 20)) 11
assert_exit 0 "$DV" add data
git commit -qm blob
printf 'CHANGED IN THE MIDDLE' | dd of=data/blob.bin bs=1 seek=$((2 << 20)) conv=notrunc status=none
assert_exit 0 "$DV" add data
git commit -qm blob2
assert_exit 0 "$DV" diff --json HEAD~1 HEAD -- data/blob.bin
"$PY" - "$OUT" <<'PYEOF' || fail "new bytes of a small change"
import json, sys
j = json.load(open(sys.argv[1]))
(f,) = j["files"]
u = f["new_bytes_unique"]
assert f["content"]["kind"] == "binary", f["content"]
# the change touches one or two chunks (at most 256 KiB each), not the 4 MiB file
assert 0 < u <= 512 * 1024, u
assert j["summary"]["new_bytes_unique"] == u
PYEOF
ok "a 21-byte change in 4 MiB is under 512 KiB of new chunks"
assert_exit 0 "$DV" diff HEAD~1 HEAD -- data/blob.bin
assert_match "$OUT" "^new content: .* of 4.0 MiB \\(9[0-9]\\.[0-9]% shared with the old side\\)"

step "a table that does not parse: its message, the file-level diff still shown, exit 6"
printf 'id,v\n1,a\n' >data/bad.csv
assert_exit 0 "$DV" add data
git commit -qm three
printf 'id,v\n1,"a\n2,b,c\n' >data/bad.csv
assert_exit 0 "$DV" add data
git commit -qm four
assert_exit 6 "$DV" diff --key id HEAD~1 HEAD -- data/bad.csv
assert_contains "$OUT" "modified:  data/bad.csv"
assert_contains "$ERR" "data/bad.csv (HEAD): line 2"
assert_contains "$ERR" "quoted field never closed"
assert_exit 6 "$DV" diff --key nope HEAD~5 HEAD~4 -- data/sales.csv
assert_contains "$ERR" "no column nope; its columns are id, note, amount"
step "done"
