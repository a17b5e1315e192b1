#!/usr/bin/env bash
# dv diff against what a user would reach for today (not part of CI):
#   1. a one-file change in a 100,000-file dataset (gen.py tree: 100 directories of 1,000
#      files of 1-16 KiB), committed twice with one file appended to:
#        dv diff tree-v1 tree-v2   and   dv diff tree-v1 -- tree (the work tree, 100,000
#        files stat'ed, against the first commit)
#      against  git diff --no-index --stat  of the two versions checked out side by side;
#   2. the CSV pair gen.py writes (default 500 MiB; ~0.5% of rows changed, 2% appended),
#      committed twice:  dv diff --key id  (time and peak RSS)  against  diff  of the files;
#   3. the first 1,000,000 rows of each CSV: dv diff --key id against daff (npm) --id id.
# Before timing, each dv result is checked against what the generator wrote: the one path
# changed, and the CSV row counts computed here from the two files.
# Markdown tables go to WORKDIR/diff.md.
#
# usage: tests/bench/diff.sh [DV] [CSV_MIB] [WORKDIR]   (DV default build/dv, CSV_MIB 500)
set -euo pipefail
DV=$(realpath "${1:-build/dv}")
CSV_MIB=${2:-500}
WORK=${3:-${DV_BENCH_DIR:-/var/tmp/dv-bench}/diff}
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-3}
for tool in hyperfine /usr/bin/time python3 git npm; do
  command -v "$tool" >/dev/null || { echo "diff.sh: $tool is not installed (tests/bench/setup.sh)" >&2; exit 2; }
done
[ -x "$DV" ] || { echo "diff.sh: no dv binary at $DV" >&2; exit 2; }
mkdir -p "$WORK"
REPORT=$WORK/diff.md
log() { echo "diff.sh: $*" >&2; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

# ---- the data ------------------------------------------------------------------------------
[ -d "$WORK/tree" ] || { log "generating the 100,000-file tree"; python3 "$HERE/gen.py" tree "$WORK/tree" 100 1000; }
CSV_BYTES=$((CSV_MIB << 20))
if [ ! -f "$WORK/csv-$CSV_MIB/data.csv" ]; then
  log "generating the ${CSV_MIB} MiB CSV pair"
  mkdir -p "$WORK/csv-$CSV_MIB"
  python3 "$HERE/gen.py" csv "$WORK/csv-$CSV_MIB/data.csv" "$WORK/csv-$CSV_MIB/data-v2.csv" "$CSV_BYTES"
fi
CSV1=$WORK/csv-$CSV_MIB/data.csv
CSV2=$WORK/csv-$CSV_MIB/data-v2.csv
head -n 1000001 "$CSV1" >"$WORK/sample.csv"
head -n 1000001 "$CSV2" >"$WORK/sample-v2.csv"

# ---- the repository: the tree, then one file appended to; the CSVs; the samples ------------
REPO=$WORK/repo
rm -rf "$REPO" "$WORK/tree-v2"
mkdir -p "$REPO"
cd "$REPO"
git init -q -b main
"$DV" init >/dev/null
cp -r "$WORK/tree" tree
log "dv add of the tree"
"$DV" add tree >/dev/null
git commit -qm tree
git tag tree-v1
CHANGED=tree/d042/f00421.bin
printf 'one more line\n' >>"$CHANGED"
"$DV" add tree >/dev/null
git commit -qm "one file"
git tag tree-v2
cp -r "$REPO/tree" "$WORK/tree-v2"
got=$("$DV" diff --name-status HEAD~1 HEAD)
[ "$got" = "$(printf 'M\t%s' "$CHANGED")" ] || { echo "diff.sh: dv diff said [$got], not M $CHANGED" >&2; exit 1; }
got=$("$DV" diff --name-status HEAD~1)
[ "$got" = "$(printf 'M\t%s' "$CHANGED")" ] || { echo "diff.sh: dv diff HEAD~1 said [$got]" >&2; exit 1; }
# The work tree against tree-v1 as it is timed below, once the CSV commits are on top.

mkdir -p csv
cp "$CSV1" csv/data.csv
cp "$WORK/sample.csv" csv/sample.csv
log "dv add of the CSVs"
"$DV" add csv >/dev/null
git commit -qm csv
cp "$CSV2" csv/data.csv
cp "$WORK/sample-v2.csv" csv/sample.csv
"$DV" add csv >/dev/null
git commit -qm "csv v2"

# What the diff must say, from the files themselves: rows by id, added, removed, changed.
expect() {
  python3 - "$1" "$2" <<'PYEOF'
import sys
def rows(path):
    with open(path) as f:
        next(f)
        for line in f:
            yield line.split(",", 1)[0], line
a = dict(rows(sys.argv[1]))
added = changed = same = 0
seen = 0
for k, line in rows(sys.argv[2]):
    old = a.get(k)
    if old is None:
        added += 1
    else:
        seen += 1
        if old == line:
            same += 1
        else:
            changed += 1
print(len(a), added, len(a) - seen, changed, same)
PYEOF
}
check_csv() { # path expected-line
  "$DV" diff --json --key id HEAD~1 HEAD -- "$1" >"$WORK/out.json"
  got=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["files"][0]["content"]["rows"]; print(r["old"], r["added"], r["removed"], r["changed"], r["same"])' "$WORK/out.json")
  [ "$got" = "$2" ] || { echo "diff.sh: dv diff of $1 said [$got], the files say [$2]" >&2; exit 1; }
  log "$1: old added removed changed same = $got (as the files say)"
}
check_csv csv/sample.csv "$(expect "$WORK/sample.csv" "$WORK/sample-v2.csv")"
check_csv csv/data.csv "$(expect "$CSV1" "$CSV2")"

# ---- timings -------------------------------------------------------------------------------
{
  echo "### dv diff (\`tests/bench/diff.sh\`, $(date -u +%Y-%m-%d), commit $(git -C "$HERE" rev-parse --short HEAD))"
  echo
  echo "One-file change in the 100,000-file tree (hyperfine, 2 warm-up runs, 10 runs):"
  echo
} >"$REPORT"
hyperfine -N -w 2 -r 10 --export-markdown "$WORK/tree.md" \
  -n 'dv diff tree-v1 tree-v2' "$DV diff tree-v1 tree-v2" \
  -n 'dv diff tree-v1 -- tree (the work tree against a revision)' "$DV diff tree-v1 -- tree" \
  -n 'git diff --no-index --stat (two checked-out trees)' \
  "git diff --no-index --stat $WORK/tree $WORK/tree-v2" -i >/dev/null
cat "$WORK/tree.md" >>"$REPORT"

# seconds and peak KiB of one command, the median of RUNS runs by time
measure() {
  local i out=() line
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err.txt" || {
      [ "${1##*/}" = diff ] || { cat "$WORK/err.txt" >&2; return 1; }
    }
    out+=("$(tail -n 1 "$WORK/time.txt")")
  done
  printf '%s\n' "${out[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}
row() { # name input-bytes "seconds kib"
  local s=${3% *} k=${3#* }
  awk -v n="$1" -v b="$2" -v s="$s" -v k="$k" \
    'BEGIN { printf "| %s | %.2f | %.0f | %.0f |\n", n, s, (s > 0 ? b / s / 1e6 : 0), k / 1024 }' >>"$REPORT"
}
BOTH=$(($(stat -c %s "$CSV1") + $(stat -c %s "$CSV2")))
SAMPLE=$(($(stat -c %s "$WORK/sample.csv") + $(stat -c %s "$WORK/sample-v2.csv")))
{
  echo
  echo "CSV pairs (median of $RUNS runs; MB/s is both files' bytes over the time):"
  echo
  echo "| what | s | MB/s | peak RSS MiB |"
  echo "|---|---:|---:|---:|"
} >>"$REPORT"
log "timing the ${CSV_MIB} MiB pair"
row "dv diff --key id (${CSV_MIB} MiB pair)" "$BOTH" "$(measure "$DV" diff --key id HEAD~1 HEAD -- csv/data.csv)"
row "dv diff (whole rows, ${CSV_MIB} MiB pair)" "$BOTH" "$(measure "$DV" diff HEAD~1 HEAD -- csv/data.csv)"
row "diff data.csv data-v2.csv" "$BOTH" "$(measure diff "$CSV1" "$CSV2")"
row "dv diff --key id (1,000,000 rows)" "$SAMPLE" "$(measure "$DV" diff --key id HEAD~1 HEAD -- csv/sample.csv)"
if [ ! -x "$WORK/npm/node_modules/.bin/daff" ]; then
  log "installing daff from npm into $WORK/npm"
  mkdir -p "$WORK/npm"
  (cd "$WORK/npm" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund daff@1.4.2 >/dev/null) ||
    log "daff could not be installed; its row is left out"
fi
if [ -x "$WORK/npm/node_modules/.bin/daff" ]; then
  log "timing daff on the 1,000,000-row sample"
  row "daff --id id (1,000,000 rows)" "$SAMPLE" \
    "$(RUNS=1 measure "$WORK/npm/node_modules/.bin/daff" --id id --output "$WORK/daff.out" "$WORK/sample.csv" "$WORK/sample-v2.csv")"
fi
cat "$REPORT"
