#!/usr/bin/env bash
# dv status: exit codes, the text report, --json (fields from dv-status(1)), missing
# data, path arguments, and running from a subdirectory.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

check_json() { # check_json FILE: parses, with the documented shape
    "$PY" - "$1" <<'EOF' || fail "dv status --json output does not parse or lacks documented fields"
import json, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j, dict), "not an object"
assert isinstance(j["clean"], bool), "clean is not a bool"
assert isinstance(j["paths"], list), "paths is not a list"
for p in j["paths"]:
    assert isinstance(p["path"], str) and isinstance(p["pointer"], str), p
    assert p["state"] in ("clean", "modified", "missing", "not-in-store"), p
    for c in p.get("changes", []):
        assert isinstance(c["path"], str), c
        assert c["change"] in ("added", "modified", "removed"), c
EOF
    ok "--json parses and has clean, paths[].path/pointer/state, changes[].path/change"
}
# jq-like helpers over $OUT
state_of() { json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == '$1'][0]"; }
pointer_of() { json_get "$OUT" "[p['pointer'] for p in j['paths'] if p['path'] == '$1'][0]"; }
changes_of() { # sorted "change path" lines for tracked path $1
    json_get "$OUT" "'\\n'.join(sorted(c['change'] + ' ' + c['path'] for p in j['paths'] if p['path'] == '$1' for c in p.get('changes', [])))"
}

step "set up: data/ (directory), model.pt (file), sub/inner.bin (file in a subdirectory)"
new_repo "$T/repo"
mkdir -p data/x sub
gen_text data/a.csv 1000 1
gen_text data/b.csv 1000 2
gen_text data/x/c.csv 1000 3
gen_random model.pt 100000 4
gen_random sub/inner.bin 50000 5
assert_exit 0 "$DV" add data model.pt sub/inner.bin
git commit -q -m data

step "clean workspace: exit 0"
assert_exit 0 "$DV" status
note "status: $(tr '\n' ' ' <"$ALL" | cut -c1-200)"
assert_exit 0 "$DV" status -q
assert_empty "$OUT"
assert_exit 0 "$DV" status --json
check_json "$OUT"
assert_eq true "$(json_get "$OUT" "j['clean']")" "json clean"
assert_eq 3 "$(json_get "$OUT" "len(j['paths'])")" "json number of paths"
assert_eq clean "$(state_of data)" "state of data"
assert_eq data.dv "$(pointer_of data)" "pointer of data"
assert_eq clean "$(state_of sub/inner.bin)" "state of sub/inner.bin"
assert_eq sub/inner.bin.dv "$(pointer_of sub/inner.bin)" "pointer of sub/inner.bin"

step "modify a file in data/ (same size): exit 1, listed as modified"
printf 'Z' | dd of=data/a.csv bs=1 seek=10 conv=notrunc status=none
assert_exit 1 "$DV" status
note "status: $(tr '\n' ' ' <"$ALL" | cut -c1-300)"
assert_contains "$OUT" "data/a.csv"
assert_match "$OUT" "M[[:space:]]+data/a\.csv"
assert_not_contains "$OUT" "data/b.csv"
assert_exit 1 "$DV" status -q
assert_empty "$OUT"
assert_exit 1 "$DV" status --json
check_json "$OUT"
assert_eq false "$(json_get "$OUT" "j['clean']")" "json clean"
assert_eq modified "$(state_of data)" "state of data"
assert_eq clean "$(state_of model.pt)" "state of model.pt"
assert_eq "modified data/a.csv" "$(changes_of data)" "changes of data"

step "add a file and remove one: listed as added / removed"
printf 'new\n' >data/x/new.txt
rm data/b.csv
assert_exit 1 "$DV" status
assert_match "$OUT" "A[[:space:]]+data/x/new\.txt"
assert_match "$OUT" "D[[:space:]]+data/b\.csv"
assert_match "$OUT" "M[[:space:]]+data/a\.csv"
assert_exit 1 "$DV" status --json
check_json "$OUT"
assert_eq "added data/x/new.txt
modified data/a.csv
removed data/b.csv" "$(changes_of data)" "changes of data"

step "path arguments: only the given paths are checked"
assert_exit 0 "$DV" status model.pt
assert_exit 0 "$DV" status model.pt.dv
assert_exit 1 "$DV" status data
assert_exit 1 "$DV" status data.dv
assert_exit 0 "$DV" status --json model.pt
check_json "$OUT"
assert_eq 1 "$(json_get "$OUT" "len(j['paths'])")" "json paths for one argument"

step "a modified single file"
printf 'tail' >>model.pt
assert_exit 1 "$DV" status model.pt
assert_contains "$OUT" "model.pt"
assert_exit 1 "$DV" status --json model.pt
assert_eq modified "$(state_of model.pt)" "state of model.pt"

step "dv add brings it back to clean; exec bit change alone is a modification"
assert_exit 0 "$DV" add data model.pt
assert_exit 0 "$DV" status
chmod +x data/x/c.csv
assert_exit 1 "$DV" status --json
assert_eq modified "$(state_of data)" "state of data after chmod +x"
assert_eq "modified data/x/c.csv" "$(changes_of data)" "changes after chmod +x"
chmod -x data/x/c.csv
assert_exit 0 "$DV" status

step "deleted data: state missing, exit 1"
rm -rf data model.pt
assert_exit 1 "$DV" status
assert_contains "$OUT" "data"
assert_contains "$OUT" "missing"
assert_exit 1 "$DV" status --json
check_json "$OUT"
assert_eq missing "$(state_of data)" "state of data"
assert_eq missing "$(state_of model.pt)" "state of model.pt"
assert_eq clean "$(state_of sub/inner.bin)" "state of sub/inner.bin"
assert_exit 0 "$DV" checkout
assert_exit 0 "$DV" status

step "status from a subdirectory"
cd sub
assert_exit 0 "$DV" status
assert_exit 0 "$DV" status inner.bin
assert_exit 0 "$DV" status --json
assert_eq 3 "$(json_get "$OUT" "len(j['paths'])")" "paths seen from sub/"
assert_eq clean "$(state_of sub/inner.bin)" "json path relative to the top"
printf 'x' >>inner.bin
assert_exit 1 "$DV" status inner.bin
assert_contains "$OUT" "inner.bin"
assert_exit 1 "$DV" status --json
assert_eq modified "$(state_of sub/inner.bin)" "state of sub/inner.bin from sub/"
assert_exit 0 "$DV" status ../model.pt
cd "$T/repo"
assert_exit 1 "$DV" status

step "an edit that keeps size and mtime is still seen (the stat cache compares ctime too)"
printf 'aaaaaaaaaaaaaaaa' >same.bin
touch -d '2020-01-01 00:00:00' same.bin
touch -r same.bin "$T/ref"
assert_exit 0 "$DV" add same.bin
assert_exit 0 "$DV" status same.bin
printf 'bbbbbbbbbbbbbbbb' >same.bin
touch -r "$T/ref" same.bin
assert_exit 1 "$DV" status same.bin
assert_contains "$OUT" "same.bin"

step "status of an untracked path is an error"
assert_exit_ge 2 "$DV" status no-such-thing
assert_contains "$ALL" "no-such-thing"

step "--json with awkward file names: quotes, backslash, newline, tab, control byte, UTF-8, non-UTF-8"
mkdir -p names
printf 'a\n' >names/plain
assert_exit 0 "$DV" add names
git commit -q -m names
printf 'x' >"names/q\"uote\\back"$'\n'"nl"$'\t'"tab ü"
printf 'y' >$'names/ctl\x01x'
assert_exit 1 "$DV" status --json names
# JSON text must be UTF-8 (RFC 8259 8.1): decode strictly, then parse
"$PY" - "$OUT" <<'PYEOF' || fail "dv status --json output is not valid UTF-8 JSON, or names are not escaped exactly"
import json, sys
j = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
got = sorted(c["path"] for p in j["paths"] for c in p["changes"])
want = sorted(["names/q\"uote\\back\nnl\ttab \u00fc", "names/ctl\x01x"])
assert got == want, (got, want)
PYEOF
ok "names with quotes, backslash, newline, tab, control byte and UTF-8 come back exactly"
rm -f names/q* names/ctl*
printf 'z' >$'names/bad\xffbyte'
assert_exit 1 "$DV" status --json names
"$PY" - "$OUT" <<'PYEOF' || fail "dv status --json prints a non-UTF-8 file name as raw bytes: the output is not valid UTF-8 JSON"
import json, sys
j = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
assert len([c for p in j["paths"] for c in p["changes"]]) == 1
PYEOF
ok "a non-UTF-8 file name still gives valid UTF-8 JSON"

step "a directory of 9,000 files (three stat windows, stat'ed in parallel): clean, then one change in each window"
rm -rf names names.dv
mkdir big
for i in $(seq -w 1 9000); do printf '%s\n' "$i"; done | split -l 1 -a 4 - big/f
assert_eq 9000 "$(find big -type f | wc -l | tr -d ' ')" "files made"
assert_exit 0 "$DV" add big
git add -A >/dev/null && git commit -q -m big
assert_exit 0 "$DV" status big
first=$(ls big | sed -n 10p); edge=$(ls big | sed -n 4051p); middle=$(ls big | sed -n 5000p); last=$(ls big | sed -n 8990p)
printf 'x' >>"big/$first"
rm "big/$middle"
printf 'new\n' >big/zzzz-added
chmod +x "big/$last" "big/$edge"
assert_exit 1 "$DV" status --json big
check_json "$OUT"
assert_eq "added big/zzzz-added
modified big/$first
modified big/$edge
modified big/$last
removed big/$middle" "$(changes_of big)" "changes in a 9,000-file directory"
