#!/usr/bin/env bash
# dv against git on a million small files (not part of CI).
#
# The tree (gen.py million: 1,000 directories of 1,000 files of 0-8 KiB, ~4 GiB) is generated
# once into WORKDIR/data and reused while WORKDIR/data.stamp matches. Each run links it
# (cp -al: the same inodes, so neither tool pays for a copy) into a fresh git repository and
# a fresh dv repository, then times, with /usr/bin/time (wall time, peak RSS):
#   git add tree                       against  dv add tree
# then commits in both and times, alternating, ADD_RUNS x STATUS_RUNS times each:
#   git status (unchanged)             against  dv status (unchanged)
# Then one file of the dv repository is appended to (through a copy, so the linked inode
# stays as it was), dv add tree, commit, and hyperfine times
#   dv diff HEAD~1 HEAD, dv diff HEAD~1 -- tree (the work tree), dv ls -r HEAD tree
# against git ls-tree -r HEAD tree in the git repository. What each dv command says is
# checked first: status clean, ls -r lists the million files, diff names the one file.
# Page cache warm: the tree is read once before the adds, and every timed command
# follows a sync. The markdown tables go to WORKDIR/million.md.
#
# Each run first removes the previous run's repositories: about three million files (git's
# loose objects and both work trees' links), which takes minutes on its own.
#
# usage: tests/bench/million.sh [DV] [WORKDIR]   (DV default build/dv)
# environment: ADD_RUNS (default 1), STATUS_RUNS (default 3), NDIRS, NFILES (default 1000)
set -euo pipefail
DV=$(realpath "${1:-build/dv}")
WORK=${2:-${DV_BENCH_DIR:-/var/tmp/dv-bench}/million}
HERE=$(cd "$(dirname "$0")" && pwd)
ADD_RUNS=${ADD_RUNS:-1}
STATUS_RUNS=${STATUS_RUNS:-3}
NDIRS=${NDIRS:-1000}
NFILES=${NFILES:-1000}
NTOTAL=$((NDIRS * NFILES))
for tool in hyperfine /usr/bin/time python3 git openssl; do
  command -v "$tool" >/dev/null || { echo "million.sh: $tool is not installed (tests/bench/setup.sh)" >&2; exit 2; }
done
[ -x "$DV" ] || { echo "million.sh: no dv binary at $DV" >&2; exit 2; }
log() { echo "million.sh: $*" >&2; }
mkdir -p "$WORK"
REPORT=$WORK/million.md
export HOME=$WORK/home # no user configuration
mkdir -p "$HOME"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

# ---- the data ------------------------------------------------------------------------------
STAMP="gen=1 million=${NDIRS}x$NFILES"
if [ ! -d "$WORK/data" ] || [ "$(cat "$WORK/data.stamp" 2>/dev/null)" != "$STAMP" ]; then
  log "generating $NDIRS x $NFILES files into $WORK/data"
  rm -rf "$WORK/data" "$WORK/data.stamp"
  python3 "$HERE/gen.py" million "$WORK/data" "$NDIRS" "$NFILES"
  echo "$STAMP" >"$WORK/data.stamp"
fi
BYTES=$(find "$WORK/data" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')

# seconds and peak KiB of one command run in directory $1 ("s kib"); its output to $WORK/out.txt
timed() {
  local dir=$1
  shift
  sync
  (cd "$dir" && /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt") ||
    { cat "$WORK/err.txt" >&2; return 1; }
  tail -n 1 "$WORK/time.txt"
}
median() { sort -n | sed -n "$((($1 + 1) / 2))p"; }
uptime_load() { cut -d' ' -f1-3 /proc/loadavg; }

LOAD_START=$(uptime_load)
COMMIT=$(git -C "$HERE" rev-parse --short HEAD)
ADD_GIT=() ADD_DV=() STATUS_GIT=() STATUS_DV=()
for ((run = 1; run <= ADD_RUNS; run++)); do
  rm -rf "$WORK/git" "$WORK/dv"
  mkdir -p "$WORK/git" "$WORK/dv"
  git -C "$WORK/git" init -q -b main
  git -C "$WORK/dv" init -q -b main
  (cd "$WORK/dv" && "$DV" init >/dev/null)
  cp -al "$WORK/data" "$WORK/git/tree"
  cp -al "$WORK/data" "$WORK/dv/tree"
  log "run $run: reading the tree into the page cache"
  find "$WORK/data" -type f -print0 | xargs -0 cat >/dev/null

  log "run $run: git add tree (load $(uptime_load))"
  ADD_GIT+=("$(timed "$WORK/git" git add tree)")
  log "run $run: dv add tree (load $(uptime_load))"
  ADD_DV+=("$(timed "$WORK/dv" "$DV" add -q tree)")
  git -C "$WORK/git" commit -qm tree
  git -C "$WORK/dv" commit -qm tree

  # what both now hold: every file, and nothing to report
  n=$(git -C "$WORK/git" ls-files | wc -l)
  [ "$n" = "$NTOTAL" ] || { echo "million.sh: git holds $n files, not $NTOTAL" >&2; exit 1; }
  n=$(cd "$WORK/dv" && "$DV" ls -r HEAD tree | wc -l)
  [ "$n" = "$NTOTAL" ] || { echo "million.sh: dv ls -r lists $n files, not $NTOTAL" >&2; exit 1; }
  (cd "$WORK/git" && git status --porcelain) >/dev/null # one untimed run each
  (cd "$WORK/dv" && "$DV" status >"$WORK/status.txt") ||
    { echo "million.sh: dv status of the unchanged tree said: $(head -3 "$WORK/status.txt")" >&2; exit 1; }
  for ((k = 1; k <= STATUS_RUNS; k++)); do
    STATUS_GIT+=("$(timed "$WORK/git" git status)")
    STATUS_DV+=("$(timed "$WORK/dv" "$DV" status)")
  done
done
log "adds (s KiB): git ${ADD_GIT[*]}; dv ${ADD_DV[*]}"
log "statuses (s KiB): git ${STATUS_GIT[*]}; dv ${STATUS_DV[*]}"

# ---- one file changed ----------------------------------------------------------------------
CHANGED=tree/d$(printf %03d $((NDIRS / 2)))/f$(printf %04d $((NFILES / 2))).bin
cd "$WORK/dv"
git tag m1
cp "$CHANGED" "$CHANGED.new"
printf 'one more line\n' >>"$CHANGED.new"
mv "$CHANGED.new" "$CHANGED" # a new inode: the linked one in data/ and git/ is untouched
sleep 1 # past the stat cache's racy window, as a change made a while ago is
"$DV" add -q tree
git commit -qm "one file"
got=$("$DV" diff --name-status HEAD~1 HEAD)
[ "$got" = "$(printf 'M\t%s' "$CHANGED")" ] || { echo "million.sh: dv diff said [$got], not M $CHANGED" >&2; exit 1; }
got=$("$DV" diff --name-status HEAD~1 -- tree)
[ "$got" = "$(printf 'M\t%s' "$CHANGED")" ] || { echo "million.sh: dv diff HEAD~1 -- tree said [$got]" >&2; exit 1; }
sync
hyperfine -N -w 2 -r 10 --export-json "$WORK/read.json" \
  -n 'dv diff HEAD~1 HEAD' "$DV diff HEAD~1 HEAD" \
  -n 'dv diff HEAD~1 -- tree' "$DV diff HEAD~1 -- tree" \
  -n 'dv ls -r HEAD tree' "$DV ls -r HEAD tree" \
  -n 'git ls-tree -r HEAD tree' "git -C $WORK/git ls-tree -r HEAD tree" >/dev/null
timed "$WORK/dv" "$DV" ls -r HEAD tree >"$WORK/ls.time"
LOAD_END=$(uptime_load)

# ---- report --------------------------------------------------------------------------------
med_s() { printf '%s\n' "$@" | cut -d' ' -f1 | median $#; }
max_mib() { printf '%s\n' "$@" | cut -d' ' -f2 | sort -n | tail -n 1 | awk '{printf "%.0f", $1 / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "PASS" : "FAIL") }'; }
hf() { python3 -c 'import json, sys; r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}[sys.argv[2]]; print("%.3f %.3f %.3f" % (r["median"], min(r["times"]), max(r["times"])))' "$WORK/read.json" "$1"; }
ga=$(med_s "${ADD_GIT[@]}") da=$(med_s "${ADD_DV[@]}")
gs=$(med_s "${STATUS_GIT[@]}") ds=$(med_s "${STATUS_DV[@]}")
add_ratio=$(ratio "$da" "$ga") status_ratio=$(ratio "$ds" "$gs")
dv_add_mib=$(max_mib "${ADD_DV[@]}")
read -r d1 d1min d1max <<<"$(hf 'dv diff HEAD~1 HEAD')"
read -r d2 d2min d2max <<<"$(hf 'dv diff HEAD~1 -- tree')"
read -r l1 l1min l1max <<<"$(hf 'dv ls -r HEAD tree')"
read -r g1 g1min g1max <<<"$(hf 'git ls-tree -r HEAD tree')"
{
  echo "$NTOTAL files ($NDIRS directories), $BYTES bytes; commit $COMMIT," \
    "$(date -u '+%Y-%m-%d %H:%M UTC'); load average at start $LOAD_START, at end $LOAD_END"
  echo
  echo "| what | git | dv | ratio (dv / git) | target | |"
  echo "|---|---:|---:|---:|---|---|"
  printf '| add of the tree, s (median of %d) | %s | %s | %s | ≤ 0.5 | %s |\n' "$ADD_RUNS" "$ga" "$da" \
    "$add_ratio" "$(verdict "$add_ratio" 0.5)"
  printf '| add, peak RSS MiB | %s | %s | | ≤ 300 MiB | %s |\n' "$(max_mib "${ADD_GIT[@]}")" "$dv_add_mib" \
    "$(verdict "$dv_add_mib" 300)"
  printf '| status of the unchanged tree, s (median of %d) | %s | %s | %s | ≤ 1.5 | %s |\n' \
    $((ADD_RUNS * STATUS_RUNS)) "$gs" "$ds" "$status_ratio" "$(verdict "$status_ratio" 1.5)"
  printf '| status, peak RSS MiB | %s | %s | | | |\n' "$(max_mib "${STATUS_GIT[@]}")" "$(max_mib "${STATUS_DV[@]}")"
  printf '| `dv diff HEAD~1 HEAD`, one file changed, s (median of 10; min–max) | | %s (%s–%s) | | ≤ 0.5 s | %s |\n' \
    "$d1" "$d1min" "$d1max" "$(verdict "$d1" 0.5)"
  printf '| `dv diff HEAD~1 -- tree` (the work tree), s | | %s (%s–%s) | | ≤ 0.5 s | %s |\n' \
    "$d2" "$d2min" "$d2max" "$(verdict "$d2" 0.5)"
  printf '| `dv ls -r HEAD tree` against `git ls-tree -r HEAD tree`, s | %s (%s–%s) | %s (%s–%s) | %s | ≤ 0.5 s | %s |\n' \
    "$g1" "$g1min" "$g1max" "$l1" "$l1min" "$l1max" "$(ratio "$l1" "$g1")" "$(verdict "$l1" 0.5)"
  printf '| `dv ls -r`, peak RSS MiB | | %s | | | |\n' "$(cut -d' ' -f2 "$WORK/ls.time" | awk '{printf "%.0f", $1 / 1024}')"
} | tee "$REPORT"
