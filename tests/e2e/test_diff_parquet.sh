#!/usr/bin/env bash
# dv diff of two Parquet files DuckDB wrote (tests/data/parquet/make.sh records what each
# holds): v1 has 1,000 rows of id, name, score, day; v2 has 1,500 rows and a boolean flag
# column. The diff reads the footers alone and must report those changes in every form,
# against a commit and against the work tree; a file that is not Parquet is named, with
# the file-level diff still shown and exit code 6.
DATA="$(cd "$(dirname "${BASH_SOURCE[0]}")/../data/parquet" && pwd)"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "two commits of a Parquet file"
new_repo "$T/repo"
mkdir data
cp "$DATA/v1.parquet" data/train.parquet
assert_exit 0 "$DV" add data
git commit -qm one
cp "$DATA/v2.parquet" data/train.parquet
assert_exit 0 "$DV" add data
git commit -qm two

step "--json: rows, row groups, the added column and each column's footer statistics"
assert_exit 0 "$DV" diff --json HEAD~1 HEAD
"$PY" - "$OUT" <<'PYEOF' || fail "the JSON Parquet report does not match make.sh's record"
import json, sys
j = json.load(open(sys.argv[1]))
(f,) = j["files"]
assert f["path"] == "data/train.parquet" and f["status"] == "modified", f
p = f["content"]
assert p["kind"] == "parquet", p["kind"]
assert (p["old"]["rows"], p["new"]["rows"]) == (1000, 1500), (p["old"], p["new"])
assert (p["old"]["columns"], p["new"]["columns"]) == (4, 5)
assert p["old"]["row_groups"] >= 1 and p["new"]["row_groups"] >= 1
assert p["schema_changed"] and not p["columns_reordered"]
cols = {c["name"]: c for c in p["columns"]}
assert list(cols) == ["id", "name", "score", "day", "flag"], list(cols)
flag = cols["flag"]
assert flag["status"] == "added" and flag["old"] is None, flag
assert flag["new"]["type"] == "boolean" and flag["new"]["nulls"] == 15, flag["new"]
assert (flag["new"]["min"], flag["new"]["max"]) == ("false", "true"), flag["new"]
want = {  # column: (old nulls, min, max), (new nulls, min, max)
    "id": ((0, "1", "1000"), (0, "1", "1500")),
    "name": ((0, "name_0000", "name_0999"), (0, "name_0000", "name_1499")),
    "score": ((11, "0.5", "499.5"), (16, "0.5", "749.5")),
    "day": ((0, "2024-01-01", "2026-09-26"), (0, "2024-01-01", "2028-02-08")),
}
types = {"id": "int64", "name": "string", "score": "double", "day": "date"}
for name, (old, new) in want.items():
    c = cols[name]
    assert c["status"] == "stats_changed", (name, c["status"])
    for side, w in (("old", old), ("new", new)):
        s = c[side]
        assert (s["nulls"], s["min"], s["max"]) == w, (name, side, s)
        assert s["type"] == types[name], (name, s["type"])
        assert s["compressed_bytes"] > 0 and s["uncompressed_bytes"] > 0
PYEOF
ok "1,000 → 1,500 rows, flag added, statistics as written"

step "for people and as Markdown: the same changes"
assert_exit 0 "$DV" diff HEAD~1 HEAD
assert_contains "$OUT" "modified:  data/train.parquet"
assert_contains "$OUT" "parquet: 1,000 → 1,500 rows (+500)"
assert_contains "$OUT" "columns: added flag (boolean)"
assert_contains "$OUT" "~ score: nulls 11 → 16; max 499.5 → 749.5"
assert_contains "$OUT" "~ day: max 2026-09-26 → 2028-02-08"
assert_contains "$OUT" "+ flag: boolean, 15 nulls, false … true"
assert_exit 0 "$DV" diff --md HEAD~1 HEAD
assert_contains "$OUT" '| `data/train.parquet` | modified | '
assert_contains "$OUT" '| +500 rows, schema changed |'
assert_contains "$OUT" '| rows | 1,000 | 1,500 |'
assert_contains "$OUT" '| columns | 4 | 5 |'
assert_contains "$OUT" '**Schema:** added `flag` (boolean)'
assert_match "$OUT" '^\| `score` \| double, 11 nulls, `0\.5` … `499\.5`, .* \| double, 16 nulls, `0\.5` … `749\.5`, '

step "against the work tree: the old version back in place reads as rows removed"
cp "$DATA/v1.parquet" data/train.parquet
assert_exit 0 "$DV" diff
assert_contains "$OUT" "parquet: 1,500 → 1,000 rows (-500)"
assert_contains "$OUT" "columns: removed flag"
assert_exit 0 "$DV" diff --json
"$PY" - "$OUT" <<'PYEOF' || fail "work tree JSON"
import json, sys
p = json.load(open(sys.argv[1]))["files"][0]["content"]
cols = {c["name"]: c for c in p["columns"]}
assert cols["flag"]["status"] == "removed" and cols["flag"]["new"] is None, cols["flag"]
assert (p["old"]["rows"], p["new"]["rows"]) == (1500, 1000)
PYEOF
ok "work tree compared from its file's footer"

step "a file that is not Parquet: named, the file-level diff still shown, exit 6"
head -c 5000 "$DATA/v2.parquet" >data/train.parquet
assert_exit 6 "$DV" diff
assert_contains "$OUT" "modified:  data/train.parquet"
assert_contains "$OUT" "data/train.parquet (work tree): Parquet footer"
assert_contains "$ERR" "data/train.parquet (work tree)"
assert_exit 6 "$DV" diff --json
"$PY" - "$OUT" <<'PYEOF' || fail "error JSON"
import json, sys
c = json.load(open(sys.argv[1]))["files"][0]["content"]
assert c["kind"] == "error" and "Parquet footer" in c["error"], c
PYEOF
printf 'PAR1 not really\n' >data/train.parquet
assert_exit 6 "$DV" diff
assert_contains "$OUT" "data/train.parquet (work tree)"
ok "a truncated file and a tiny one are refused by name"
