#!/usr/bin/env bash
# dv log against git log over a generated history (not part of CI). git fast-import makes
# COMMITS commits (default 1,000), one hour apart: every commit edits src/notes.txt; about
# one in ten changes data.dv (a directory of about 100 files), one in twenty model.bin.dv,
# one in ten one of the 100 pointer files of sets/. The pointer files are well formed but
# name no stored content: dv log reads only git's objects. hyperfine then times
#   dv log data          against  git log --oneline -- data.dv
#   dv log sets          against  git log --oneline -- sets
#   dv log               against  git log --oneline -- '*.dv'
# after checking that dv log shows exactly the changes the generator made, and /usr/bin/time
# gives dv log's peak RSS. The markdown tables go to WORKDIR/log-COMMITS.md.
#
# usage: tests/bench/log.sh [DV] [COMMITS] [WORKDIR]   (DV default build/dv)
set -euo pipefail
DV=$(realpath "${1:-build/dv}")
COMMITS=${2:-1000}
WORK=${3:-${DV_BENCH_DIR:-/var/tmp/dv-bench}/log}
command -v hyperfine >/dev/null || { echo "log.sh: hyperfine is not installed (tests/bench/setup.sh)" >&2; exit 2; }
[ -x "$DV" ] || { echo "log.sh: no dv binary at $DV" >&2; exit 2; }

REPO=$WORK/repo-$COMMITS
rm -rf "$REPO"
mkdir -p "$REPO"
git -C "$REPO" init -q -b main
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

# The fast-import stream, and what it changed: $WORK/expect-COMMITS.txt holds the number of
# (commit, pointer) changes for data, model.bin and sets.
t0=$(date +%s.%N)
python3 - "$COMMITS" "$WORK/expect-$COMMITS.txt" <<'PYEOF' | git -C "$REPO" fast-import --quiet
import hashlib, random, sys

commits, expect_path = int(sys.argv[1]), sys.argv[2]
r = random.Random(1)
out = sys.stdout.buffer
counter = 0

def oid():
    global counter
    counter += 1
    return hashlib.sha256(b"bench %d" % counter).hexdigest()

def pointer(kind, size, files=None):
    text = "dv: 1\nkind: %s\noid: sha256:%s\nsize: %d\n" % (kind, oid(), size)
    if files is not None:
        text += "files: %d\n" % files
    return text.encode()

def put(path, data):
    out.write(b"M 100644 inline %s\ndata %d\n" % (path.encode(), len(data)))
    out.write(data + b"\n")

data_files, data_bytes = 100, 100 * 1000000
changes = {"data": 0, "model.bin": 0, "sets": 0}
when = 1700000000
for i in range(1, commits + 1):
    when += 3600
    message = b"commit %d" % i
    out.write(b"commit refs/heads/main\nmark :%d\n" % i)
    out.write(b"committer bench <bench@example.invalid> %d +0000\n" % when)
    out.write(b"data %d\n%s\n" % (len(message), message))
    if i > 1:
        out.write(b"from :%d\n" % (i - 1))
    put("src/notes.txt", b"notes of commit %d" % i)
    if i == 1:
        put("data.dv", pointer("dir", data_bytes, data_files))
        put("model.bin.dv", pointer("file", 500000000))
        for k in range(100):
            put("sets/p%03d.bin.dv" % k, pointer("file", r.randrange(1, 1 << 30)))
        changes = {"data": 1, "model.bin": 1, "sets": 100}
        continue
    if r.random() < 0.1:
        data_files = max(1, data_files + r.randrange(-3, 6))
        data_bytes = max(1, data_bytes + r.randrange(-10**7, 3 * 10**7))
        put("data.dv", pointer("dir", data_bytes, data_files))
        changes["data"] += 1
    if r.random() < 0.05:
        put("model.bin.dv", pointer("file", r.randrange(10**8, 10**9)))
        changes["model.bin"] += 1
    if r.random() < 0.1:
        put("sets/p%03d.bin.dv" % r.randrange(100), pointer("file", r.randrange(1, 1 << 30)))
        changes["sets"] += 1
with open(expect_path, "w") as f:
    for k, v in changes.items():
        f.write("%s %d\n" % (k, v))
PYEOF
git -C "$REPO" reset -q --hard main
"$DV" -C "$REPO" init >/dev/null
t1=$(date +%s.%N)
printf 'log.sh: %d commits made in %.1f s in %s\n' "$COMMITS" "$(echo "$t1 - $t0" | bc)" "$REPO"

# dv log shows what the generator changed, and no more.
check() { # check WHAT WANT GOT
    [ "$2" = "$3" ] || { echo "log.sh: $1: expected $2, got $3" >&2; exit 1; }
    echo "log.sh: $1: $3, as generated"
}
want() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/expect-$COMMITS.txt"; }
check "dv log data lines" "$(want data)" "$("$DV" -C "$REPO" log data | wc -l)"
check "git log -- data.dv commits" "$(want data)" "$(git -C "$REPO" log --oneline -- data.dv | wc -l)"
check "dv log model.bin lines" "$(want model.bin)" "$("$DV" -C "$REPO" log model.bin | wc -l)"
check "dv log sets lines" "$(want sets)" "$("$DV" -C "$REPO" log sets | wc -l)"
all=$(($(want data) + $(want model.bin) + $(want sets)))
check "dv log lines" "$all" "$("$DV" -C "$REPO" log | wc -l)"

OUT_MD=$WORK/log-$COMMITS.md
: >"$OUT_MD"
bench() { # bench NAME DV_ARGS GIT_ARGS [hyperfine arguments...]
    local name=$1 dv_args=$2 git_args=$3
    shift 3
    hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-markdown "$WORK/.part.md" \
        -n "dv log $name" "$DV -C $REPO log $dv_args" \
        -n "git log --oneline -- $git_args" "git -C $REPO log --oneline -- $git_args" "$@"
    cat "$WORK/.part.md" >>"$OUT_MD"
    echo >>"$OUT_MD"
}
# With what every dv command costs before its work (starting the process with its shared
# libraries; then opening the repository and resolving HEAD), to tell them from the walk.
bench data data data.dv -n "dv --version" "$DV --version" -n "dv log -n 0 data" "$DV -C $REPO log -n 0 data"
bench sets sets sets
bench "(all)" "" "*.dv"

for args in data ""; do
    rss=$( { /usr/bin/time -f %M "$DV" -C "$REPO" log $args >/dev/null; } 2>&1 | tail -n 1)
    echo "log.sh: peak RSS of dv log ${args:-(all)} over $COMMITS commits: $rss KiB" | tee -a "$OUT_MD"
done
rss=$( { /usr/bin/time -f %M git -C "$REPO" log --oneline -- data.dv >/dev/null; } 2>&1 | tail -n 1)
echo "log.sh: peak RSS of git log --oneline -- data.dv over $COMMITS commits: $rss KiB" | tee -a "$OUT_MD"
echo "log.sh: tables in $OUT_MD"
