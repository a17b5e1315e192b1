#!/usr/bin/env bash
# dv benchmark suite (not part of CI). See docs/benchmarks.md.
#
# Usage: tests/bench/run.sh [--scale small|full] [--runs N] [--only NAME,...]
#                           [--dv PATH] [--out FILE] [--workdir DIR] [--timeout SEC] [--keep]
#
#   --scale    data set size: full (default; 1 GiB model, 100,000 files, 500 MiB CSV)
#              or small (~1/32: 32 MiB model, 3,000 files, 16 MiB CSV) for quick checks
#   --runs     repetitions of every measurement (default 3); median, min and max are reported
#   --only     comma-separated benchmark groups, or GROUP:TOOL for one tool of a group:
#              bounds, model, checkout, status, smallfiles, csv, s3, rev
#              tools: dv git-lfs restic casync borg git cat openssl cp aws dv-direct aws-direct
#   --dv       dv binary (default: build/dv of this checkout); skipped when it does not work
#   --out      write the markdown report here (default: stdout and tests/bench/results/latest.md)
#   --workdir  data and scratch directory (default: $DV_BENCH_DIR or /var/tmp/dv-bench)
#   --timeout  per-command time limit in seconds (default: 300 small, 1800 full)
#   --keep     keep the scratch repositories (for debugging)
#
# Anchors are installed by tests/bench/setup.sh; a missing one is reported "not installed".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CMDLINE=$(printf '%q ' "$0" "$@"); CMDLINE=${CMDLINE% }

SCALE=full
RUNS=3
ONLY=""
DV="$ROOT/build/dv"
OUT=""
WORK=${DV_BENCH_DIR:-/var/tmp/dv-bench}
TIMEOUT=""
KEEP=0

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;      --scale=*) SCALE=${1#*=}; shift ;;
    --runs) RUNS=$2; shift 2 ;;        --runs=*) RUNS=${1#*=}; shift ;;
    --only) ONLY=$2; shift 2 ;;        --only=*) ONLY=${1#*=}; shift ;;
    --dv) DV=$2; shift 2 ;;            --dv=*) DV=${1#*=}; shift ;;
    --out) OUT=$2; shift 2 ;;          --out=*) OUT=${1#*=}; shift ;;
    --workdir) WORK=$2; shift 2 ;;     --workdir=*) WORK=${1#*=}; shift ;;
    --timeout) TIMEOUT=$2; shift 2 ;;  --timeout=*) TIMEOUT=${1#*=}; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$SCALE" in
  full) : "${TIMEOUT:=1800}" ;;
  small) : "${TIMEOUT:=300}" ;;
  *) echo "run.sh: --scale must be small or full" >&2; exit 2 ;;
esac
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --runs must be a positive integer" >&2; exit 2; }
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --timeout must be a positive integer" >&2; exit 2; }
GROUPS_ALL="bounds model checkout status smallfiles csv s3 rev"
if [ -n "$ONLY" ]; then
  for item in ${ONLY//,/ }; do
    case " $GROUPS_ALL " in
      *" ${item%%:*} "*) ;;
      *) echo "run.sh: unknown benchmark group '${item%%:*}' (groups: $GROUPS_ALL)" >&2; exit 2 ;;
    esac
  done
fi
case "$DV" in /*) ;; *) DV="$PWD/$DV" ;; esac
if [ -n "$OUT" ]; then case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac; fi

for t in /usr/bin/time timeout python3 openssl git; do
  command -v "$t" >/dev/null 2>&1 || { echo "run.sh: $t is required (run tests/bench/setup.sh)" >&2; exit 1; }
done

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# ---------------------------------------------------------------- selection
# want GROUP [TOOL]: is this group (or this tool of it) selected by --only?
want() {
  local g=$1 t=${2:-} item
  [ -z "$ONLY" ] && return 0
  for item in ${ONLY//,/ }; do
    [ "$item" = "$g" ] && return 0
    [ -n "$t" ] && [ "$item" = "$g:$t" ] && return 0
    [ -z "$t" ] && [ "${item%%:*}" = "$g" ] && return 0
  done
  return 1
}

# ---------------------------------------------------------------- data
mkdir -p "$WORK"
DATA=$("$HERE/gen.sh" --scale "$SCALE" --workdir "$WORK")
MODEL=$DATA/model.bin
MODEL2=$DATA/model-edited.bin
TREE=$DATA/tree
CSV1=$DATA/data.csv
CSV2=$DATA/data-v2.csv
TREE_FILES=$(find "$TREE" -type f | wc -l)

# ---------------------------------------------------------------- scratch + environment
RUN_DIR=$(mktemp -d "$WORK/run.XXXXXX")
RIG=""  # the directory of the running S3 test rig (bench_s3), stopped on exit
cleanup() {
  cd /
  if [ -n "$RIG" ]; then bash "$ROOT/tests/s3/rig.sh" stop "$RIG" >/dev/null 2>&1 || true; RIG=""; fi
  if [ "$KEEP" = 1 ]; then log "kept scratch directory $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# an isolated HOME so that no user configuration or cache leaks in (git, restic, borg)
export HOME=$RUN_DIR/home
export XDG_CACHE_HOME=$HOME/.cache XDG_CONFIG_HOME=$HOME/.config
mkdir -p "$HOME"
export GIT_CONFIG_NOSYSTEM=1
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
cat > "$HOME/.gitconfig" <<'EOF'
[user]
	name = dv bench
	email = bench@example.invalid
[init]
	defaultBranch = main
[advice]
	detachedHead = false
[gc]
	auto = 0
EOF
export RESTIC_PASSWORD=dv-bench
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export LC_ALL=C

TSV=$RUN_DIR/results.tsv     # one line per measurement
META=$RUN_DIR/meta.tsv       # header facts
FAILS=$RUN_DIR/failures.txt  # tails of failed commands' output
: > "$TSV"; : > "$META"; : > "$FAILS"
LOGS=$RUN_DIR/logs
mkdir -p "$LOGS"

meta() { printf '%s\t%s\n' "$1" "$2" >> "$META"; }

# bytes in regular files under a directory (0 when it does not exist)
dir_bytes() {
  [ -e "$1" ] || { echo 0; return; }
  find "$1" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {printf "%d\n", s}'
}

# ---------------------------------------------------------------- tools
HAVE_LFS=0 HAVE_RESTIC=0 HAVE_CASYNC=0 HAVE_BORG=0 HAVE_DV=0 HAVE_AWS=0
git lfs version >/dev/null 2>&1 && HAVE_LFS=1
command -v restic >/dev/null 2>&1 && HAVE_RESTIC=1
command -v casync >/dev/null 2>&1 && HAVE_CASYNC=1
command -v borg >/dev/null 2>&1 && HAVE_BORG=1
# Debian's awscli (the anchor of the s3 group), before any other aws on PATH
AWS_BIN=/usr/bin/aws
[ -x "$AWS_BIN" ] || AWS_BIN=$(command -v aws 2>/dev/null || echo /usr/bin/aws)
"$AWS_BIN" --version >/dev/null 2>&1 && HAVE_AWS=1

# dv works when it runs --version and can init a scratch git repo
DV_WHY=""
if [ ! -x "$DV" ]; then
  DV_WHY="not built ($DV missing)"
elif ! "$DV" --version >/dev/null 2>&1; then
  DV_WHY="not working ($DV --version failed)"
else
  probe=$RUN_DIR/dv-probe
  mkdir -p "$probe"
  if (cd "$probe" && git init -q && timeout 60 "$DV" init) > "$LOGS/dv-probe.log" 2>&1; then
    HAVE_DV=1
  else
    DV_WHY="not working (dv init failed: $(tail -n 1 "$LOGS/dv-probe.log"))"
  fi
  rm -rf "$probe"
fi
[ "$HAVE_DV" = 1 ] && log "dv: $DV" || log "dv: $DV_WHY; dv benchmarks are skipped"

# have TOOL: 0 when the tool is usable
have() {
  case "$1" in
    dv) [ "$HAVE_DV" = 1 ] ;;
    git-lfs) [ "$HAVE_LFS" = 1 ] ;;
    restic) [ "$HAVE_RESTIC" = 1 ] ;;
    casync) [ "$HAVE_CASYNC" = 1 ] ;;
    borg) [ "$HAVE_BORG" = 1 ] ;;
    aws) [ "$HAVE_AWS" = 1 ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}
why_not() { [ "$1" = dv ] && echo "$DV_WHY" || echo "not installed"; }
dv() { "$DV" "$@"; }

version_of() {
  case "$1" in
    dv) [ "$HAVE_DV" = 1 ] && "$DV" --version 2>&1 | head -n 1 || echo "$DV_WHY" ;;
    git) git --version ;;
    git-lfs) git lfs version 2>/dev/null || echo "not installed" ;;
    restic) restic version 2>/dev/null || echo "not installed" ;;
    casync) casync --version 2>/dev/null | head -n 1 || echo "not installed" ;;
    borg) borg --version 2>/dev/null || echo "not installed" ;;
    openssl) openssl version ;;
    aws) [ "$HAVE_AWS" = 1 ] && "$AWS_BIN" --version 2>&1 | head -n 1 || echo "not installed" ;;
    node) node --version 2>/dev/null || echo "not installed" ;;
    s3rver) python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
              "$ROOT/tests/s3/node_modules/s3rver/package.json" 2>/dev/null || echo "not installed" ;;
  esac
}

# ---------------------------------------------------------------- header facts
meta command "$CMDLINE"
meta date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
meta scale "$SCALE"
meta runs "$RUNS"
meta host_nproc "$(nproc)"
meta host_cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
meta host_ram "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
meta host_kernel "$(uname -sr)"
meta host_os "$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
meta host_fs "$(df -PT "$WORK" | awk 'NR == 2 {print $2 " on " $1}')"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
for t in dv git git-lfs restic casync borg openssl; do meta "version_$t" "$(version_of "$t")"; done
if want s3; then for t in aws node s3rver; do meta "version_$t" "$(version_of "$t")"; done; fi
meta dv_path "$DV"
# the build type, when the binary sits in a CMake build directory
meta dv_build "$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$DV")/CMakeCache.txt" 2>/dev/null | head -n 1)"
meta data_dir "$DATA"
meta size_model "$(stat -c %s "$MODEL")"
meta size_model2 "$(stat -c %s "$MODEL2")"
meta size_csv1 "$(stat -c %s "$CSV1")"
meta size_csv2 "$(stat -c %s "$CSV2")"
meta size_tree "$(dir_bytes "$TREE")"
meta tree_files "$TREE_FILES"
meta timeout "$TIMEOUT"

# ---------------------------------------------------------------- measuring

# read inputs once so that timed commands see a warm page cache; flush dirty pages first
warm() {
  sync
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then
      find "$p" -type f -print0 | xargs -0 -r cat > /dev/null
    else
      cat "$p" > /dev/null
    fi
  done
}

# prime_pages BYTES: write and delete a scratch file of BYTES in the scratch directory, so
# that the next timed command that writes that much gets memory the VM has used before.
# On this kind of VM the first use of a guest page costs a fault on the host (writing a
# GiB into new page-cache pages took 2-3 s of system time against 0.2-0.3 s into
# recycled ones), and which tool meets new pages otherwise depends on the order of the
# runs: in the s3 group, aws's pulls came right after dv's run was deleted and reused its
# pages, while dv's pulls came after the rig had just taken GiBs of new pages for pushes.
# measure primes twice the input size (at most 4 GiB) before every command of 64 MiB or
# more, whichever the tool.
prime_pages() {
  local f=$RUN_DIR/prime.tmp
  head -c "$1" /dev/zero > "$f" 2>/dev/null || true
  rm -f "$f"
  sync
}

record() {  # ID TOOL RUN STATUS WALL CPU RSS_KB BYTES INPUT_BYTES
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$TSV"
}

# skip ID TOOL REASON: one line saying why a tool was not measured
skip() { record "$1" "$2" 0 "$3" "" "" "" "" ""; }

# measure ID TOOL RUN STORE INPUT_BYTES -- COMMAND...
#   runs COMMAND in the current directory under GNU time (CPU, max RSS) and a timeout;
#   wall time from bash's microsecond clock; bytes stored = growth of STORE ('-': none)
LAST_OK=0
measure() {
  local id=$1 tool=$2 run=$3 store=$4 input=$5
  shift 6
  local tf=$RUN_DIR/time.out lf=$LOGS/$id.$tool.$run.log rc=0 before=0 bytes="" t0 t1
  [ "$store" != - ] && before=$(dir_bytes "$store")
  if [ "${input:-0}" -ge $((64 << 20)) ] 2>/dev/null; then
    local prime=$((2 * input)); [ "$prime" -le $((4 << 30)) ] || prime=$((4 << 30))
    prime_pages "$prime"
  fi
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%U %S %M' -o "$tf" timeout "$TIMEOUT" "$@" > "$lf" 2>&1 || rc=$?
  t1=$EPOCHREALTIME
  [ "$store" != - ] && bytes=$(( $(dir_bytes "$store") - before ))
  local wall cpu rss status=ok
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')
  read -r cpu rss < <(tail -n 1 "$tf" | awk 'NF == 3 {printf "%.2f %d\n", $1 + $2, $3}') || true
  if [ "$rc" = 124 ]; then status="timeout (${TIMEOUT}s)"
  elif [ "$rc" != 0 ]; then status="failed (exit $rc)"; fi
  if [ "$status" = ok ]; then
    LAST_OK=1
  else
    LAST_OK=0
    log "  $id/$tool run $run: $status: $(printf '%q ' "$@")"
    { echo "### $id / $tool, run $run: $status"; echo '```'; echo "\$ $(printf '%q ' "$@")"; tail -n 8 "$lf"; echo '```'; } >> "$FAILS"
  fi
  record "$id" "$tool" "$run" "$status" "$wall" "$cpu" "$rss" "$bytes" "$input"
}

# mark the last record of ID/TOOL as failed (e.g. restored data does not match)
mark_last() {
  local id=$1 tool=$2 status=$3
  python3 - "$TSV" "$id" "$tool" "$status" <<'EOF'
import sys
path, id_, tool, status = sys.argv[1:]
lines = open(path).read().splitlines()
for i in range(len(lines) - 1, -1, -1):
    f = lines[i].split("\t")
    if f[0] == id_ and f[1] == tool:
        f[3] = status
        lines[i] = "\t".join(f)
        break
open(path, "w").write("\n".join(lines) + "\n")
EOF
}

# untimed setup step; on failure record it and return 1
setup_step() {  # ID TOOL RUN -- COMMAND...
  local id=$1 tool=$2 run=$3; shift 4
  local lf=$LOGS/$id.$tool.$run.setup.log
  # run through bash so that COMMAND may be one of the exported shell functions
  if ! timeout "$TIMEOUT" bash -c '"$@"' bash "$@" >> "$lf" 2>&1; then
    log "  $id/$tool run $run: setup failed: $(printf '%q ' "$@")"
    { echo "### $id / $tool, run $run: setup failed"; echo '```'; echo "\$ $(printf '%q ' "$@")"; tail -n 8 "$lf"; echo '```'; } >> "$FAILS"
    record "$id" "$tool" "$run" "setup failed" "" "" "" "" ""
    return 1
  fi
}

git_repo() {  # DIR: a fresh git repository with one empty commit
  mkdir -p "$1" && git -C "$1" init -q && git -C "$1" commit -q --allow-empty -m init
}

# ---------------------------------------------------------------- tools' add steps
# Each tool: setup_T DIR (untimed; creates DIR/ws as the working directory),
# add_T DIR VERSION FILE (sets CMD, the timed command, run in DIR/ws), store_T DIR,
# between_T DIR (untimed, between the two versions).
setup_dv() { git_repo "$1/ws" && (cd "$1/ws" && dv init); }
add_dv() { CMD=("$DV" add "$3"); }
store_dv() { if [ -d "$1/ws/.dv/cache" ] || [ ! -d "$1/ws/.dv" ]; then echo "$1/ws/.dv/cache"; else echo "$1/ws/.dv"; fi; }
between_dv() { git -C "$1/ws" commit -q -m v1 || true; }

setup_git-lfs() {
  git_repo "$1/ws" && (cd "$1/ws" && git lfs install --local >/dev/null &&
    git lfs track '*.bin' '*.csv' >/dev/null && git add .gitattributes && git commit -q -m lfs)
}
add_git-lfs() { CMD=(git add "$3"); }
store_git-lfs() { echo "$1/ws/.git/lfs/objects"; }
between_git-lfs() { git -C "$1/ws" commit -q -m v1 || true; }

setup_restic() { mkdir -p "$1/ws" && restic init -q --repo "$1/repo"; }
add_restic() { CMD=(restic backup -q --repo "$1/repo" "$3"); }
store_restic() { echo "$1/repo"; }
between_restic() { :; }

setup_casync() { mkdir -p "$1/ws" "$1/store"; }
add_casync() { CMD=(casync make --store="$1/store" "$1/v$2.caibx" "$3"); }
store_casync() { echo "$1/store"; }
between_casync() { :; }

setup_borg() { mkdir -p "$1/ws" && borg init -e none "$1/repo"; }
add_borg() { CMD=(borg create "$1/repo::v$2" "$3"); }
store_borg() { echo "$1/repo"; }
between_borg() { :; }

# ---------------------------------------------------------------- benchmarks
# add two versions of one file with every tool: ID-add (fresh) and ID-edit (next version).
# Run k of every tool comes before run k+1 of any, so that dv and the anchors meet the
# machine in the same state (its speed drifts over minutes).
bench_versions() {  # GROUP FILE1 FILE2 NAME TOOLS...
  local group=$1 f1=$2 f2=$3 name=$4; shift 4
  local tool run d s1 s2 tools=()
  s1=$(stat -c %s "$f1"); s2=$(stat -c %s "$f2")
  for tool in "$@"; do
    want "$group" "$tool" || continue
    if ! have "$tool"; then
      skip "$group-add" "$tool" "$(why_not "$tool")"; skip "$group-edit" "$tool" "$(why_not "$tool")"
      continue
    fi
    tools+=("$tool")
  done
  for run in $(seq 1 "$RUNS"); do
    for tool in ${tools[@]+"${tools[@]}"}; do
      log "$group: $tool run $run/$RUNS"
      d=$RUN_DIR/$group-$tool-$run
      mkdir -p "$d"
      if setup_step "$group-add" "$tool" "$run" -- "setup_$tool" "$d"; then
        cp "$f1" "$d/ws/$name"
        warm "$d/ws/$name"
        cd "$d/ws"
        "add_$tool" "$d" 1 "$name"
        measure "$group-add" "$tool" "$run" "$(store_$tool "$d")" "$s1" -- "${CMD[@]}"
        if [ "$LAST_OK" = 1 ]; then
          "between_$tool" "$d" > /dev/null 2>&1
          rm -f "$name"; cp "$f2" "$name"
          warm "$name"
          "add_$tool" "$d" 2 "$name"
          measure "$group-edit" "$tool" "$run" "$(store_$tool "$d")" "$s2" -- "${CMD[@]}"
        else
          record "$group-edit" "$tool" "$run" "not run (first add failed)" "" "" "" "" ""
        fi
        cd "$RUN_DIR"
      fi
      rm -rf "$d"
    done
  done
}

bench_bounds() {
  local size run
  size=$(stat -c %s "$MODEL")
  for run in $(seq 1 "$RUNS"); do
    if want bounds cat; then
      warm "$MODEL"
      measure bounds-cat cat "$run" - "$size" -- sh -c 'cat "$1" > /dev/null' sh "$MODEL"
    fi
    if want bounds openssl; then
      warm "$MODEL"
      measure bounds-sha256 openssl "$run" - "$size" -- openssl dgst -sha256 "$MODEL"
    fi
    if want bounds cp || want checkout; then
      rm -f "$RUN_DIR/cp.bin"; warm "$MODEL"
      measure bounds-cp cp "$run" - "$size" -- cp "$MODEL" "$RUN_DIR/cp.bin"
      rm -f "$RUN_DIR/cp.bin"
    fi
  done
}

bench_checkout() {
  want checkout dv || return 0
  have dv || { skip checkout dv "$(why_not dv)"; return 0; }
  local run d size
  size=$(stat -c %s "$MODEL")
  for run in $(seq 1 "$RUNS"); do
    log "checkout: dv run $run/$RUNS"
    d=$RUN_DIR/checkout-$run
    if setup_step checkout dv "$run" -- setup_dv "$d" &&
       cp "$MODEL" "$d/ws/model.bin" &&
       setup_step checkout dv "$run" -- sh -c 'cd "$1" && "$2" add model.bin && git commit -q -m model' sh "$d/ws" "$DV"; then
      rm -f "$d/ws/model.bin"
      # cp of the same file into the same directory just before, so that both meet
      # the machine in the same state (the cost of new page-cache pages varies
      # several-fold over minutes on a virtual machine)
      rm -f "$d/ws/cp.bin"; warm "$MODEL"; sync
      measure checkout-cp cp "$run" - "$size" -- cp "$MODEL" "$d/ws/cp.bin"
      rm -f "$d/ws/cp.bin"; sync
      warm "$d/ws/.dv"
      cd "$d/ws"
      measure checkout dv "$run" - "$size" -- "$DV" checkout
      if [ "$LAST_OK" = 1 ] && ! cmp -s "$MODEL" "$d/ws/model.bin"; then
        log "  checkout: restored model.bin differs from the original"
        mark_last checkout dv "wrong data restored"
      fi
      cd "$RUN_DIR"
    fi
    rm -rf "$d"
  done
}

# Both repositories are set up first and their status runs alternate, so that git and dv
# meet the machine in the same state.
bench_status() {
  local run g="" d=""
  if want status git; then
    log "status: setting up a git repository with $TREE_FILES files committed"
    if setup_step status-tree git 0 -- git_repo "$RUN_DIR/status-git" &&
       cp -a "$TREE" "$RUN_DIR/status-git/tree" &&
       setup_step status-tree git 0 -- sh -c 'cd "$1" && git add -A && git commit -q -m tree && git status --porcelain >/dev/null' sh "$RUN_DIR/status-git"; then
      g=$RUN_DIR/status-git
    fi
  fi
  if want status dv; then
    if ! have dv; then
      skip status-tree dv "$(why_not dv)"
    else
      log "status: setting up a dv repository with $TREE_FILES files added"
      if setup_step status-tree dv 0 -- setup_dv "$RUN_DIR/status-dv" &&
         cp -a "$TREE" "$RUN_DIR/status-dv/ws/tree" &&
         setup_step status-tree dv 0 -- sh -c 'cd "$1" && "$2" add tree && git commit -q -m tree && "$2" status' sh "$RUN_DIR/status-dv/ws" "$DV"; then
        d=$RUN_DIR/status-dv
      fi
    fi
  fi
  for run in $(seq 1 "$RUNS"); do
    if [ -n "$g" ]; then
      log "status: git run $run/$RUNS"
      cd "$g" && measure status-tree git "$run" - "" -- git status
    fi
    if [ -n "$d" ]; then
      log "status: dv run $run/$RUNS"
      cd "$d/ws" && measure status-tree dv "$run" - "" -- "$DV" status
    fi
  done
  cd "$RUN_DIR"
  rm -rf "$RUN_DIR/status-git" "$RUN_DIR/status-dv"
}
bench_smallfiles() {
  local tool run d bytes tools=()
  bytes=$(dir_bytes "$TREE")
  for tool in dv git-lfs; do
    want smallfiles "$tool" || continue
    if ! have "$tool"; then skip smallfiles-add "$tool" "$(why_not "$tool")"; continue; fi
    tools+=("$tool")
  done
  for run in $(seq 1 "$RUNS"); do  # run k of each tool before run k+1 of any
    for tool in ${tools[@]+"${tools[@]}"}; do
      log "smallfiles: $tool run $run/$RUNS"
      d=$RUN_DIR/smallfiles-$tool-$run
      mkdir -p "$d"
      if setup_step smallfiles-add "$tool" "$run" -- "setup_$tool" "$d"; then
        cp -a "$TREE" "$d/ws/tree"
        warm "$d/ws/tree"
        cd "$d/ws"
        "add_$tool" "$d" 1 tree
        measure smallfiles-add "$tool" "$run" "$(store_$tool "$d")" "$bytes" -- "${CMD[@]}"
        cd "$RUN_DIR"
      fi
      rm -rf "$d"
    done
  done
}

# ---------------------------------------------------------------- reading an old revision
# A dv repository with the tree and the model committed (tag v1), then three more commits:
# each rewrites 1 in 100 files of the tree and adds 100 (gen.py touch), and the first of
# them also replaces the model with the edited one. A git repository holds the same tree
# files committed and changed the same way (then repacked), so that v1 there is a git tree
# of the same 100,000 entries. Timed, each after reading its inputs once: the listings of v1 (dv ls
# against git ls-tree) and dv cat of v1:model.bin (against cat of the model file), to
# /dev/null and through a pipe. Listings take a fraction of a second, so they are
# repeated 5x --runs times.
REV_ROUNDS="2 3 4"
rev_setup_dv() {  # DIR
  git_repo "$1/ws" && cd "$1/ws" && dv init && cp -a "$TREE" tree && cp "$MODEL" model.bin &&
    dv add tree model.bin && git commit -q -m v1 && git tag v1 || return 1
  local round
  for round in $REV_ROUNDS; do
    python3 "$HERE/gen.py" touch tree "$round" || return 1
    if [ "$round" = 2 ]; then rm -f model.bin && cp "$MODEL2" model.bin && dv add model.bin || return 1; fi
    dv add tree && git commit -q -m "v$round" || return 1
  done
  git tag -l | grep -qx v1
}
rev_setup_git() {  # DIR
  git_repo "$1" && cd "$1" && cp -a "$TREE" tree && git add -A && git commit -q -m v1 &&
    git tag v1 || return 1
  local round
  for round in $REV_ROUNDS; do
    python3 "$HERE/gen.py" touch tree "$round" && git add -A && git commit -q -m "v$round" || return 1
  done
  # packed, as a clone has it (and as dv's store is), rather than 100,000 loose objects
  git repack -adq
}

bench_rev() {
  local run ls_runs=$((5 * RUNS)) d="" g="" size n
  size=$(stat -c %s "$MODEL")
  if want rev dv; then
    if ! have dv; then
      for id in rev-ls rev-ls-long rev-ls-dir rev-cat rev-cat-pipe; do skip "$id" dv "$(why_not dv)"; done
    else
      log "rev: setting up a dv repository with $TREE_FILES files and the model at v1, three commits after"
      local t0=$SECONDS
      if setup_step rev-ls dv 0 -- rev_setup_dv "$RUN_DIR/rev-dv"; then
        d=$RUN_DIR/rev-dv/ws
        meta rev_setup_dv "$((SECONDS - t0)) s"
      fi
    fi
  fi
  if want rev git; then
    log "rev: setting up a git repository with the same $TREE_FILES files and commits"
    local t0=$SECONDS
    if setup_step rev-ls git 0 -- rev_setup_git "$RUN_DIR/rev-git"; then
      g=$RUN_DIR/rev-git
      meta rev_setup_git "$((SECONDS - t0)) s"
    fi
  fi
  # what the timed commands answer, checked once (untimed) against what was made
  if [ -n "$d" ]; then
    n=$(cd "$d" && "$DV" ls -r v1 tree | wc -l)
    [ "$n" = "$TREE_FILES" ] || { log "rev: dv ls -r v1 tree listed $n files, not $TREE_FILES"; d=""; record rev-ls dv 0 "wrong listing ($n files)" "" "" "" "" ""; }
  fi
  if [ -n "$d" ] && [ "$(cd "$d" && "$DV" cat v1:model.bin | openssl dgst -sha256 -r | cut -d' ' -f1)" != "$(data_sha "$MODEL")" ]; then
    log "rev: dv cat v1:model.bin differs from the model"; record rev-cat dv 0 "wrong data" "" "" "" "" ""; d=""
  fi
  if [ -n "$g" ]; then
    n=$(git -C "$g" ls-tree -r v1 tree | wc -l)
    [ "$n" = "$TREE_FILES" ] || { log "rev: git ls-tree -r v1 tree listed $n entries, not $TREE_FILES"; g=""; }
  fi
  for run in $(seq 1 "$ls_runs"); do
    log "rev: listings, run $run/$ls_runs"
    if [ -n "$g" ]; then
      cd "$g"; warm "$g/.git"
      measure rev-ls git "$run" - "" -- sh -c 'git ls-tree -r v1 tree > /dev/null'
      warm "$g/.git"
      measure rev-ls-names git "$run" - "" -- sh -c 'git ls-tree -r --name-only v1 tree > /dev/null'
      warm "$g/.git"
      measure rev-ls-dir git "$run" - "" -- sh -c 'git ls-tree v1 tree/ > /dev/null'
    fi
    if [ -n "$d" ]; then
      cd "$d"; warm "$d/.dv" "$d/.git"
      measure rev-ls dv "$run" - "" -- sh -c '"$1" ls -r v1 tree > /dev/null' sh "$DV"
      warm "$d/.dv" "$d/.git"
      measure rev-ls-long dv "$run" - "" -- sh -c '"$1" ls -r -l v1 tree > /dev/null' sh "$DV"
      warm "$d/.dv" "$d/.git"
      measure rev-ls-dir dv "$run" - "" -- sh -c '"$1" ls v1 tree/ > /dev/null' sh "$DV"
    fi
  done
  for run in $(seq 1 "$RUNS"); do
    log "rev: cat of the model, run $run/$RUNS"
    cd "$RUN_DIR"
    if want rev cat; then
      warm "$MODEL"
      measure rev-cat cat "$run" - "$size" -- sh -c 'cat "$1" > /dev/null' sh "$MODEL"
    fi
    if [ -n "$d" ]; then
      cd "$d"; warm "$d/.dv" "$d/.git"
      measure rev-cat dv "$run" - "$size" -- sh -c '"$1" cat v1:model.bin > /dev/null' sh "$DV"
      cd "$RUN_DIR"
    fi
    if want rev cat; then
      warm "$MODEL"
      measure rev-cat-pipe cat "$run" - "$size" -- sh -c 'cat "$1" | cat > /dev/null' sh "$MODEL"
    fi
    if [ -n "$d" ]; then
      cd "$d"; warm "$d/.dv" "$d/.git"
      measure rev-cat-pipe dv "$run" - "$size" -- sh -c '"$1" cat v1:model.bin | cat > /dev/null' sh "$DV"
      cd "$RUN_DIR"
    fi
  done
  cd "$RUN_DIR"
  rm -rf "$RUN_DIR/rev-dv" "$RUN_DIR/rev-git"
}

# ---------------------------------------------------------------- S3: push and pull
# The model pair pushed to and pulled from the S3 test rig of tests/s3 (s3rver on loopback
# behind a proxy that checks signatures and counts requests), with dv and with
# `aws s3 sync`. The rig is started once for the group and stopped at its end (and on exit).
# dv-direct and aws-direct push the same files straight to s3rver, past the proxy: the proxy
# never answers "Expect: 100-continue", so aws waits a second before each PUT's body there
# (dv does not wait), and it stores each PUT's body on disk before forwarding it.
S3_REQS=$RUN_DIR/requests.tsv  # one line per timed S3 command: the rig's counts for it
: > "$S3_REQS"
S3_BUCKET="" S3_EP="" S3_DIRECT="" S3_TICKS0=0
S3_IDS="s3-push-v1 s3-push-v2 s3-pull-v1 s3-pull-v2"
S3_PUSH_IDS="s3-push-v1 s3-push-v2"

s3_ids_of() { case "$1" in *-direct) echo "$S3_PUSH_IDS" ;; *) echo "$S3_IDS" ;; esac; }
rig() { bash "$ROOT/tests/s3/rig.sh" "$@"; }

# CPU time of the rig's two processes (s3rver and the proxy) so far, in clock ticks
s3_rig_ticks() {
  local f pid sum=0 t
  for f in "$RIG/server.state" "$RIG/proxy.state"; do
    read -r pid _ < "$f" 2>/dev/null || continue
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || t=0
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}

# before a timed command: flush dirty pages, zero the rig's counts, note its CPU time
s3_reset() {
  sync
  rig reset-counts "$RIG" > /dev/null 2>&1 || log "  s3: could not reset the rig's counts"
  S3_TICKS0=$(s3_rig_ticks)
}

# after a timed command: the rig's counts for PREFIX (its first key segment), the rig's CPU
# seconds, and the "dv: remote ...: requests ..." line of dv --stats from the command's log
s3_requests() {  # ID TOOL RUN PREFIX
  local id=$1 tool=$2 run=$3 prefix=$4 json ticks
  ticks=$(( $(s3_rig_ticks) - S3_TICKS0 ))
  json=$(rig counts "$RIG" "$prefix" 2> /dev/null) || json='{}'
  python3 - "$json" "$LOGS/$id.$tool.$run.log" "$id" "$tool" "$run" \
      "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')" \
      >> "$S3_REQS" <<'PY'
import json, re, sys
counts, log, id_, tool, run, rig_cpu = sys.argv[1:]
try:
    c = json.loads(counts)
except ValueError:
    c = {}
ops = c.get("ops", {})
row = [id_, tool, run] + [str(ops.get(k, "")) for k in ("list", "get", "head", "put", "delete", "other")]
row += [str(c.get(k, "")) for k in ("requests", "bytes_in", "bytes_out", "expect_100_continue",
                                    "expect_wait_ms_max")]
row.append(rig_cpu)
try:
    text = open(log, errors="replace").read()
except OSError:
    text = ""
m = re.findall(r"requests list=(\d+) get=(\d+) put=(\d+) other=(\d+) retries=(\d+) "
               r"sent=(\d+) received=(\d+)", text)
row += list(m[-1]) if m else [""] * 7
print("\t".join(row))
PY
}

# start the rig in the scratch directory and take its environment (endpoint, bucket, keys)
s3_start_rig() {
  local port
  RIG=$RUN_DIR/s3-rig
  if ! rig start "$RIG" > "$LOGS/s3-rig.log" 2>&1 || [ ! -f "$RIG/env" ]; then
    { echo "### s3: the S3 test rig did not start"; echo '```'; echo "\$ tests/s3/rig.sh start $RIG"
      tail -n 12 "$LOGS/s3-rig.log"; echo '```'; } >> "$FAILS"
    rig stop "$RIG" > /dev/null 2>&1 || true
    RIG=""
    return 1
  fi
  # shellcheck disable=SC1091
  . "$RIG/env"
  S3_BUCKET=$DV_TEST_S3_BUCKET S3_EP=$DV_TEST_S3_ENDPOINT
  read -r _ port < "$RIG/server.state"
  S3_DIRECT=http://127.0.0.1:$port
  # aws: path-style addressing, region us-east-1, no shared credentials (they come from the
  # rig's environment); everything else as shipped (8 MiB parts, 10 requests in flight)
  export AWS_CONFIG_FILE=$RUN_DIR/aws-config AWS_SHARED_CREDENTIALS_FILE=$RUN_DIR/aws-credentials
  printf '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n' > "$AWS_CONFIG_FILE"
  rm -f "$AWS_SHARED_CREDENTIALS_FILE"
  meta s3_endpoint "$S3_EP (proxy) / $S3_DIRECT (s3rver)"
}

s3_stop_rig() {
  [ -n "$RIG" ] && rig stop "$RIG" > /dev/null 2>&1
  RIG=""
}

# the SHA-256 of a data file, from the MANIFEST when it has it
data_sha() {
  local sha
  sha=$(awk -F'\t' -v f="$(basename "$1")" '$1 == f {print $3}' "$DATA/MANIFEST" 2>/dev/null)
  [ -n "$sha" ] && echo "$sha" || openssl dgst -sha256 -r "$1" | cut -d' ' -f1
}
# check_pulled ID TOOL FILE SHA: mark the last run failed when FILE does not hold SHA
check_pulled() {
  if [ "$LAST_OK" = 1 ] && [ "$(openssl dgst -sha256 -r "$3" 2>/dev/null | cut -d' ' -f1)" != "$4" ]; then
    log "  $1/$2: the pulled model.bin differs from the original"
    mark_last "$1" "$2" "wrong data pulled"
  fi
}
# not_run TOOL RUN REASON ID...: record IDs as not run
not_run() {
  local tool=$1 run=$2 why=$3 id; shift 3
  for id in "$@"; do record "$id" "$tool" "$run" "not run ($why)" "" "" "" "" ""; done
}

# dv: a repository with the first version committed and the remote as its default
s3_setup_dv() {  # DIR ENDPOINT URL
  git_repo "$1/ws" && cd "$1/ws" && dv init && \
    dv remote add --default --endpoint "$2" --path-style --region us-east-1 bench "$3" && \
    cp "$MODEL" model.bin && dv add model.bin && git commit -q -m v1
}
s3_edit_dv() { cd "$1/ws" && rm -f model.bin && cp "$MODEL2" model.bin && dv add model.bin && git commit -q -m v2; }
s3_clone_dv() { git clone -q "$1/ws" "$1/clone" && git -C "$1/clone" checkout -q HEAD~1; }

s3_run_dv() {  # TOOL RUN ENDPOINT PULLS(0|1)
  local tool=$1 run=$2 ep=$3 pulls=$4 d prefix store
  d=$RUN_DIR/s3-$tool-$run prefix=bench-$run-$tool
  store=$RIG/data/$S3_BUCKET/$prefix
  mkdir -p "$d"
  if ! setup_step s3-push-v1 "$tool" "$run" -- s3_setup_dv "$d" "$ep" "s3://$S3_BUCKET/$prefix"; then
    not_run "$tool" "$run" "setup failed" $(s3_ids_of "$tool" | cut -d' ' -f2-)
    rm -rf "$d"; return
  fi
  cd "$d/ws"
  warm "$d/ws/.dv"; s3_reset
  measure s3-push-v1 "$tool" "$run" "$store" "$S3_SIZE1" -- "$DV" push --stats
  [ "$pulls" = 1 ] && s3_requests s3-push-v1 "$tool" "$run" "$prefix"
  if [ "$LAST_OK" != 1 ]; then
    not_run "$tool" "$run" "first push failed" $(s3_ids_of "$tool" | cut -d' ' -f2-)
  elif setup_step s3-push-v2 "$tool" "$run" -- s3_edit_dv "$d"; then
    warm "$d/ws/.dv"; s3_reset
    measure s3-push-v2 "$tool" "$run" "$store" "$S3_SIZE2" -- "$DV" push --stats
    [ "$pulls" = 1 ] && s3_requests s3-push-v2 "$tool" "$run" "$prefix"
    if [ "$pulls" = 1 ] && [ "$LAST_OK" != 1 ]; then
      not_run "$tool" "$run" "second push failed" s3-pull-v1 s3-pull-v2
    elif [ "$pulls" = 1 ] && setup_step s3-pull-v1 "$tool" "$run" -- s3_clone_dv "$d"; then
      cd "$d/clone"
      s3_reset
      measure s3-pull-v1 "$tool" "$run" - "$S3_SIZE1" -- "$DV" pull --stats
      s3_requests s3-pull-v1 "$tool" "$run" "$prefix"
      check_pulled s3-pull-v1 "$tool" "$d/clone/model.bin" "$S3_SHA1"
      if [ "$LAST_OK" != 1 ]; then
        not_run "$tool" "$run" "first pull failed" s3-pull-v2
      elif setup_step s3-pull-v2 "$tool" "$run" -- git -C "$d/clone" checkout -q -; then
        s3_reset
        measure s3-pull-v2 "$tool" "$run" - "$S3_SIZE2" -- "$DV" pull --stats
        s3_requests s3-pull-v2 "$tool" "$run" "$prefix"
        check_pulled s3-pull-v2 "$tool" "$d/clone/model.bin" "$S3_SHA2"
      fi
    elif [ "$pulls" = 1 ]; then
      not_run "$tool" "$run" "setup failed" s3-pull-v2
    fi
  elif [ "$pulls" = 1 ]; then
    not_run "$tool" "$run" "setup failed" s3-pull-v1 s3-pull-v2
  fi
  cd "$RUN_DIR"
  rm -rf "$d" "$store"
}

# aws s3 sync: the first version and then the second, from the same directory, each into
# its own prefix (v1/, v2/; sync uploads a changed file whole either way); then both back
# into one directory, the second over the first
s3_run_aws() {  # TOOL RUN ENDPOINT PULLS(0|1)
  local tool=$1 run=$2 ep=$3 pulls=$4 d prefix store url
  d=$RUN_DIR/s3-$tool-$run prefix=bench-$run-$tool
  store=$RIG/data/$S3_BUCKET/$prefix url=s3://$S3_BUCKET/$prefix
  mkdir -p "$d/up" "$d/down"
  cp "$MODEL" "$d/up/model.bin"
  cd "$d"
  warm "$d/up/model.bin"; s3_reset
  measure s3-push-v1 "$tool" "$run" "$store" "$S3_SIZE1" -- "$AWS_BIN" --endpoint-url "$ep" s3 sync up "$url/v1"
  [ "$pulls" = 1 ] && s3_requests s3-push-v1 "$tool" "$run" "$prefix"
  if [ "$LAST_OK" != 1 ]; then
    not_run "$tool" "$run" "first push failed" $(s3_ids_of "$tool" | cut -d' ' -f2-)
  else
    rm -f "$d/up/model.bin"; cp "$MODEL2" "$d/up/model.bin"
    warm "$d/up/model.bin"; s3_reset
    measure s3-push-v2 "$tool" "$run" "$store" "$S3_SIZE2" -- "$AWS_BIN" --endpoint-url "$ep" s3 sync up "$url/v2"
    if [ "$pulls" = 1 ]; then
      s3_requests s3-push-v2 "$tool" "$run" "$prefix"
      if [ "$LAST_OK" != 1 ]; then
        not_run "$tool" "$run" "second push failed" s3-pull-v1 s3-pull-v2
      else
        s3_reset
        measure s3-pull-v1 "$tool" "$run" - "$S3_SIZE1" -- "$AWS_BIN" --endpoint-url "$ep" s3 sync "$url/v1" down
        s3_requests s3-pull-v1 "$tool" "$run" "$prefix"
        check_pulled s3-pull-v1 "$tool" "$d/down/model.bin" "$S3_SHA1"
        if [ "$LAST_OK" != 1 ]; then
          not_run "$tool" "$run" "first pull failed" s3-pull-v2
        else
          s3_reset
          measure s3-pull-v2 "$tool" "$run" - "$S3_SIZE2" -- "$AWS_BIN" --endpoint-url "$ep" s3 sync "$url/v2" down
          s3_requests s3-pull-v2 "$tool" "$run" "$prefix"
          check_pulled s3-pull-v2 "$tool" "$d/down/model.bin" "$S3_SHA2"
        fi
      fi
    fi
  fi
  cd "$RUN_DIR"
  rm -rf "$d" "$store"
}

bench_s3() {
  local tool run tools=() id
  for tool in dv aws dv-direct aws-direct; do
    want s3 "$tool" || continue
    if ! have "${tool%-direct}"; then
      for id in $(s3_ids_of "$tool"); do skip "$id" "$tool" "$(why_not "${tool%-direct}")"; done
      continue
    fi
    tools+=("$tool")
  done
  [ "${#tools[@]}" -gt 0 ] || return 0
  S3_SIZE1=$(stat -c %s "$MODEL") S3_SIZE2=$(stat -c %s "$MODEL2")
  S3_SHA1=$(data_sha "$MODEL") S3_SHA2=$(data_sha "$MODEL2")
  log "s3: starting the S3 test rig in $RUN_DIR/s3-rig"
  if ! s3_start_rig; then
    log "s3: the S3 test rig did not start (see $LOGS/s3-rig.log); s3 benchmarks are skipped"
    for tool in "${tools[@]}"; do
      for id in $(s3_ids_of "$tool"); do skip "$id" "$tool" "S3 test rig did not start"; done
    done
    return 0
  fi
  for run in $(seq 1 "$RUNS"); do  # run k of each tool before run k+1 of any
    for tool in "${tools[@]}"; do
      log "s3: $tool run $run/$RUNS"
      case "$tool" in
        dv) s3_run_dv dv "$run" "$S3_EP" 1 ;;
        aws) s3_run_aws aws "$run" "$S3_EP" 1 ;;
        dv-direct) s3_run_dv dv-direct "$run" "$S3_DIRECT" 0 ;;
        aws-direct) s3_run_aws aws-direct "$run" "$S3_DIRECT" 0 ;;
      esac
    done
  done
  s3_stop_rig
}

export -f dv git_repo setup_dv setup_git-lfs setup_restic setup_casync setup_borg
export -f s3_setup_dv s3_edit_dv s3_clone_dv rev_setup_dv rev_setup_git
export DV MODEL MODEL2 TREE HERE REV_ROUNDS
CMD=()

# ---------------------------------------------------------------- run
START=$SECONDS
log "scale=$SCALE runs=$RUNS data=$DATA scratch=$RUN_DIR"
# bounds also measures cp when only checkout is selected (its target compares with cp)
if want bounds || want checkout; then bench_bounds; fi
want model && bench_versions model "$MODEL" "$MODEL2" model.bin dv git-lfs restic casync borg
want checkout && bench_checkout
want status && bench_status
want smallfiles && bench_smallfiles
want csv && bench_versions csv "$CSV1" "$CSV2" data.csv dv restic casync borg
want s3 && bench_s3
want rev && bench_rev
meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta elapsed "$((SECONDS - START)) s"

# ---------------------------------------------------------------- report
REPORT=$RUN_DIR/report.md
python3 "$HERE/report.py" "$META" "$TSV" "$FAILS" "$S3_REQS" > "$REPORT"
if [ -n "$OUT" ]; then
  mkdir -p "$(dirname "$OUT")"
  cp "$REPORT" "$OUT"
  log "report written to $OUT"
else
  mkdir -p "$HERE/results"
  cp "$REPORT" "$HERE/results/latest.md"
  cat "$REPORT"
  log "report written to $HERE/results/latest.md"
fi
log "done in $((SECONDS - START)) s"
