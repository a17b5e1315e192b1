#!/usr/bin/env bash
# dv log shows the commits where tracked data changed, newest first, with the change in
# files and bytes: a dataset that gains, changes and loses files, a model that changes on a
# branch merged back, a commit that touches no pointer, a pointer file moved with git mv
# (--follow), -n, --json, a subdirectory, a shallow clone, a damaged commit, a reader that
# goes away, and bad input. Every expected value is recorded as the commit is made: ids
# from git rev-parse, file counts and byte sizes from find and stat, content ids from the
# pointer file committed, dates and subjects from git log.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

REC=$T/rec
mkdir -p "$REC"
CLOCK=1763632800 # 2025-11-20 10:00:00 UTC; one day between commits

# state PATH: "<files> <bytes>" of the data at PATH (a directory, or a file).
state() {
    if [ -d "$1" ]; then
        printf '%s %s\n' "$(find "$1" -type f | wc -l | tr -d ' ')" \
            "$(find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s + 0 }')"
    else
        printf '1 %s\n' "$(stat -c %s "$1")"
    fi
}

# commit NAME MESSAGE: commit what is staged one day after the last, then record its id,
# parent, date and subject, and for each pointer file of it "<files> <bytes> <oid>" of the
# data as it is in the work tree now, as $REC/NAME.<pointer path with / as _>.
commit() {
    local name=$1 message=$2
    CLOCK=$((CLOCK + 86400))
    GIT_AUTHOR_DATE="$CLOCK +0100" GIT_COMMITTER_DATE="$CLOCK +0100" git commit -q -m "$message"
    record "$name"
}

record() {
    local name=$1 p data
    git rev-parse HEAD >"$REC/$name.id"
    git rev-parse HEAD^1 >"$REC/$name.parent" 2>/dev/null || : >"$REC/$name.parent"
    git log -1 --format=%cI HEAD >"$REC/$name.iso"
    git log -1 --format=%cd --date=short HEAD >"$REC/$name.day"
    git log -1 --format=%s HEAD >"$REC/$name.subject"
    git ls-tree -r --name-only HEAD | grep '\.dv$' | grep -v '^\.dv/' | while IFS= read -r p; do
        data=${p%.dv}
        printf '%s %s\n' "$(state "$data")" \
            "$(git show "HEAD:$p" | sed -n 's/^oid: sha256://p')" >"$REC/$name.${data//\//_}"
    done
}

step "a history: sets/train gains, changes and loses files; model.bin changes on a branch"
new_repo "$T/repo"
mkdir -p sets/train/deep
gen_text sets/train/a.csv 2000 1
gen_random sets/train/b.bin 300000 2
gen_random sets/train/deep/c.bin 5000 3
gen_random model.bin 3000000 4
assert_exit 0 "$DV" add sets/train model.bin
commit c1 "add the training set and the model"

gen_text sets/train/a.csv 3000 5
gen_random sets/train/d.bin 700000 6
gen_random sets/train/deep/e.bin 1234 7
assert_exit 0 "$DV" add sets/train
commit c2 "grow the training set"

echo "what the data is" >NOTES.txt
git add NOTES.txt
commit c3 "notes, no data"

git checkout -q -b side
gen_random model.bin 3100000 8
assert_exit 0 "$DV" add model.bin
commit s1 "side: retrain"

git checkout -q main
assert_exit 0 "$DV" checkout model.bin # main's model.bin, so what is recorded is what it has
rm sets/train/b.bin
assert_exit 0 "$DV" add sets/train
commit c4 "drop b.bin"

CLOCK=$((CLOCK + 86400))
GIT_AUTHOR_DATE="$CLOCK +0100" GIT_COMMITTER_DATE="$CLOCK +0100" \
    git merge -q --no-ff -m "merge side" side
assert_exit 0 "$DV" checkout model.bin
record m

git mv model.bin.dv weights.bin.dv
mv model.bin weights.bin
commit c5 "rename the model"

gen_random weights.bin 2500000 9
assert_exit 0 "$DV" add weights.bin
commit c6 "retrain the weights"
note "commits: $(for c in c1 c2 c3 s1 c4 m c5 c6; do printf '%s=%s ' $c "$(cut -c1-7 "$REC/$c.id")"; done)"

# expect_row COMMIT PATH CHANGE BEFORE AFTER [OLD_PATH]: one line of the expected log;
# BEFORE and AFTER are recorded states "<commit>.<key>" or "-" for none.
expect_row() {
    local before="- - -" after="- - -"
    [ "$4" = - ] || before=$(cat "$REC/$4")
    [ "$5" = - ] || after=$(cat "$REC/$5")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(cat "$REC/$1.id")" \
        "$(cat "$REC/$1.parent")" "$(cat "$REC/$1.iso")" "$(cat "$REC/$1.day")" \
        "$(cat "$REC/$1.subject")" "$2" "$3" "${6:--}" "$before" "$after" \
        "$([ -d "$T/repo/$2" ] && echo dir || echo file)"
}

# check_log MODE EXPECTED ACTUAL: the output of dv log (MODE human or json) is exactly the
# expected rows, in order.
check_log() {
    "$PY" - "$@" <<'PYEOF'
import json, sys
mode, want_path, got_path = sys.argv[1:4]
want = [l.rstrip("\n").split("\t") for l in open(want_path) if l.strip()]
got = [l.rstrip("\n") for l in open(got_path)]
def human(n):
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    if n < 1024:
        return "%d B" % n
    v, u = float(n), 0
    while v >= 1024 and u < 5:
        v /= 1024
        u += 1
    return "%.1f %s" % (v, units[u])
def signed(d, text):
    return ("+" if d > 0 else "-" if d < 0 else "") + text
def side(s):
    f, b, oid = s.split(" ")
    return (0, 0, "") if f == "-" else (int(f), int(b), oid)
if len(got) != len(want):
    sys.exit("expected %d lines, got %d:\n%s" % (len(want), len(got), "\n".join(got)))
for i, (w, g) in enumerate(zip(want, got)):
    cid, parent, iso, day, subject, path, change, old, before, after, kind = w
    fb, bb, ib = side(before)
    fa, ba, ia = side(after)
    if mode == "json":
        o = json.loads(g)
        exp = {"commit": cid, "parent": parent, "date": iso, "subject": subject, "path": path}
        if old != "-":
            exp["old_path"] = old
        exp.update({"change": change, "kind": kind, "files_before": fb, "files_after": fa,
                    "bytes_before": bb, "bytes_after": ba, "id_before": ib, "id_after": ia})
        if o != exp or list(o) != list(exp):
            sys.exit("line %d:\n got  %s\n want %s" % (i + 1, json.dumps(o), json.dumps(exp)))
        continue
    short, rest = g.split(" ", 1)
    if len(short) < 7 or not cid.startswith(short):
        sys.exit("line %d: %r is not an abbreviation of %s" % (i + 1, short, cid))
    shown = path + ("/" if kind == "dir" else "")
    parts = [day + " " + shown]
    if change in ("added", "deleted"):
        parts.append(change)
    elif change == "renamed":
        parts.append("renamed from " + old)
    if kind == "dir":
        d = fa - fb
        parts.append(signed(d, "{:,}".format(abs(d)) + (" file" if abs(d) == 1 else " files")))
    parts.append(signed(ba - bb, human(abs(ba - bb))))
    parts.append(subject)
    line = "  ".join(parts)
    if rest != line:
        sys.exit("line %d:\n got  %s\n want %s %s" % (i + 1, g, short, line))
print("%d lines as recorded" % len(got))
PYEOF
}

# assert_log MODE WHAT: $OUT is the expected log in $T/want.tsv.
assert_log() {
    local result
    result=$(check_log "$1" "$T/want.tsv" "$OUT" 2>&1) || fail "$2: $result"
    ok "$2: $result"
}

step "dv log: every commit that changed a pointer, newest first; the notes commit is not there"
{
    expect_row c6 weights.bin modified c5.weights.bin c6.weights.bin
    expect_row c5 model.bin deleted m.model.bin -
    expect_row c5 weights.bin added - c5.weights.bin
    expect_row m model.bin modified c4.model.bin m.model.bin
    expect_row c4 sets/train modified c2.sets_train c4.sets_train
    expect_row s1 model.bin modified c3.model.bin s1.model.bin
    expect_row c2 sets/train modified c1.sets_train c2.sets_train
    expect_row c1 model.bin added - c1.model.bin
    expect_row c1 sets/train added - c1.sets_train
} >"$T/want.tsv"
assert_exit 0 "$DV" log
assert_empty "$ERR"
assert_log human "dv log"
assert_exit 0 "$DV" log --json
assert_log json "dv log --json"
assert_not_contains "$OUT" "\"commit\": \"$(cat "$REC/c3.id")\""

step "the recorded states agree with what was generated"
assert_eq 3 "$(cut -d' ' -f1 "$REC/c1.sets_train")" "c1 sets/train files"
assert_eq 5 "$(cut -d' ' -f1 "$REC/c2.sets_train")" "c2 sets/train files"
assert_eq 4 "$(cut -d' ' -f1 "$REC/c4.sets_train")" "c4 sets/train files"
assert_eq "1 3000000" "$(cut -d' ' -f1,2 "$REC/c4.model.bin")" "c4 model.bin"
assert_eq "1 3100000" "$(cut -d' ' -f1,2 "$REC/m.model.bin")" "merge model.bin"

step "a path: the merge that took side's model.bin is not shown, side is walked"
{
    expect_row c5 model.bin deleted m.model.bin -
    expect_row s1 model.bin modified c3.model.bin s1.model.bin
    expect_row c1 model.bin added - c1.model.bin
} >"$T/want.tsv"
assert_exit 0 "$DV" log -- model.bin
assert_log human "dv log -- model.bin"
assert_exit 0 "$DV" log --json -- model.bin
assert_log json "dv log --json -- model.bin"

step "--follow: weights.bin's history goes on as model.bin before the git mv"
{
    expect_row c6 weights.bin modified c5.weights.bin c6.weights.bin
    expect_row c5 weights.bin renamed m.model.bin c5.weights.bin model.bin
    expect_row s1 model.bin modified c3.model.bin s1.model.bin
    expect_row c1 model.bin added - c1.model.bin
} >"$T/want.tsv"
assert_exit 0 "$DV" log --follow weights.bin
assert_log human "dv log --follow weights.bin"
assert_exit 0 "$DV" log --follow --json weights.bin
assert_log json "dv log --follow --json weights.bin"
assert_exit 0 "$DV" log weights.bin
assert_eq 2 "$(wc -l <"$OUT")" "without --follow, weights.bin starts at the rename"
assert_contains "$OUT" "weights.bin  added"

step "the dataset: gains, changes, loses files; a directory above it means the same"
{
    expect_row c4 sets/train modified c2.sets_train c4.sets_train
    expect_row c2 sets/train modified c1.sets_train c2.sets_train
    expect_row c1 sets/train added - c1.sets_train
} >"$T/want.tsv"
assert_exit 0 "$DV" log sets/train
assert_log human "dv log sets/train"
assert_contains "$OUT" "sets/train/  -1 file  -293.0 KiB  drop b.bin"
assert_exit 0 "$DV" log sets
assert_log human "dv log sets"

step "from a subdirectory, paths are relative to it"
(
    cd sets
    assert_exit 0 "$DV" log train
    assert_log human "in sets/: dv log train"
    assert_exit 0 "$DV" log .
    assert_log human "in sets/: dv log ."
    assert_exit 0 "$DV" log --json -- ../model.bin
    "$PY" -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["path"] for r in rows] == ["model.bin"] * 3, rows' "$OUT" || fail "in sets/: ../model.bin"
    ok "in sets/: ../model.bin is model.bin"
)

step "-n and a revision"
{
    expect_row c6 weights.bin modified c5.weights.bin c6.weights.bin
    expect_row c5 model.bin deleted m.model.bin -
    expect_row c5 weights.bin added - c5.weights.bin
} >"$T/want.tsv"
assert_exit 0 "$DV" log -n 2
assert_log human "dv log -n 2"
assert_exit 0 "$DV" log --max-count=2 --json
assert_log json "dv log --max-count=2 --json"
{
    expect_row s1 model.bin modified c3.model.bin s1.model.bin
    expect_row c2 sets/train modified c1.sets_train c2.sets_train
    expect_row c1 model.bin added - c1.model.bin
    expect_row c1 sets/train added - c1.sets_train
} >"$T/want.tsv"
assert_exit 0 "$DV" log side
assert_log human "dv log side"
{
    expect_row c4 sets/train modified c2.sets_train c4.sets_train
} >"$T/want.tsv"
assert_exit 0 "$DV" log -n1 "$(cat "$REC/m.id")" sets/train
assert_log human "dv log -n1 <merge> sets/train"

step "a reader that goes away ends the output without an error"
set +e
"$DV" log 2>"$T/pipe.err" | head -n 1 >"$T/pipe.out"
rcs=("${PIPESTATUS[@]}")
set -e
assert_eq "0 0" "${rcs[*]}" "exit codes of dv log | head -n 1"
assert_empty "$T/pipe.err"
assert_eq 1 "$(wc -l <"$T/pipe.out")" "lines through head"
# A pipe whose reader is gone before dv writes: the write fails with EPIPE every time.
"$PY" - "$DV" <<'PYEOF' || fail "dv log into a closed pipe"
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], "log"], stdout=w, stderr=subprocess.PIPE)
os.close(w)
if p.returncode != 0 or p.stderr:
    sys.exit("exit %d, stderr %r" % (p.returncode, p.stderr))
PYEOF
ok "dv log into a closed pipe: exit 0, nothing on stderr"

step "bad input"
assert_exit 2 "$DV" log no-such-rev
assert_contains "$ERR" "unknown revision 'no-such-rev'"
assert_exit 2 "$DV" log no-such-rev -- sets/train
assert_contains "$ERR" "unknown revision 'no-such-rev'"
assert_empty "$OUT"
assert_exit 2 "$DV" log -- nothing/here
assert_contains "$ERR" "nothing/here is not tracked by dv at any commit walked from HEAD"
assert_exit 2 "$DV" log -- sets/train nothing
assert_contains "$ERR" "nothing is not tracked by dv"
assert_eq 3 "$(wc -l <"$OUT")" "the tracked path's history is shown before the error"
assert_exit 2 "$DV" log sets/train/a.csv
assert_contains "$ERR" "sets/train/a.csv lies inside sets/train/"
assert_exit 2 "$DV" log --follow sets
assert_contains "$ERR" "sets is a directory"
assert_exit 2 "$DV" log --follow
assert_contains "$ERR" "--follow takes exactly one path"
assert_exit 2 "$DV" log --follow weights.bin sets/train
assert_exit 2 "$DV" log -n lots
assert_contains "$ERR" "-n wants a number of commits, not 'lots'"
assert_exit 2 "$DV" log -n -1

step "a shallow clone: the history ends at its boundary, with a note"
git clone -q --depth 2 "file://$T/repo" "$T/shallow"
(
    cd "$T/shallow"
    [ -f .git/shallow ] || fail "the clone is not shallow"
    {
        expect_row c6 weights.bin modified c5.weights.bin c6.weights.bin
    } >"$T/want.tsv"
    assert_exit 0 "$DV" log
    assert_log human "shallow: dv log"
    assert_contains "$ERR" "history ends at $(cut -c1-12 "$REC/c5.id")"
    assert_contains "$ERR" "its parent $(cut -c1-12 "$REC/m.id") is not in this repository"
)

step "a commit that cannot be read: an error naming it"
cp -r "$T/repo" "$T/damaged"
(
    cd "$T/damaged"
    c3=$(cat "$REC/c3.id")
    obj=.git/objects/${c3:0:2}/${c3:2}
    [ -f "$obj" ] || fail "commit c3 is not a loose object"
    chmod u+w "$obj"
    printf 'this is not a zlib stream' >"$obj"
    assert_exit 5 "$DV" log
    assert_contains "$ERR" "cannot read commit $c3"
    assert_contains "$OUT" "merge side"
)

step "done"
