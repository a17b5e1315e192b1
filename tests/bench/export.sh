#!/usr/bin/env bash
# dv export as tar.zst against tar --zstd -cf of the same checked-out files (not part of CI).
#
# The 1 GiB model (gen.py model) and the 100,000-file tree (gen.py tree: TREE_DIRS x
# TREE_FILES files of 1-16 KiB), the data set of gen.sh, are added and committed; then, RUNS
# times, interleaved, each of these is timed with /usr/bin/time (wall, CPU, peak RSS):
#   tar --zstd -cf OUT model.bin              (tar piping to a zstd process, level 3)
#   tar --zstd -cf OUT model.bin && sync OUT  (the same, made durable as dv makes its file)
#   dv export HEAD model.bin -o OUT.tar.zst   (from the store; the file fsynced, renamed)
#   dv export HEAD model.bin -o - > OUT       (the same bytes to standard output, no fsync)
# and the same four for tree. Before each command: sync, and the inputs read once (the
# files for tar, the store's packs for dv), so both start from a warm page cache. Once,
# before the timings, every archive dv writes is extracted and checked against the SHA-256
# of the files taken before dv saw them. Medians and the ratio dv / tar go to WORKDIR/export.md.
#
# usage: tests/bench/export.sh [DV] [RUNS] [MODEL_MIB] [TREE_DIRS] [TREE_FILES] [WORKDIR]
#        (defaults: build-rel/dv 5 1024 100 1000, the data set of gen.sh --scale full)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DV=$(realpath "${1:-build-rel/dv}")
RUNS=${2:-5}
MODEL_MIB=${3:-1024}
TREE_DIRS=${4:-100}
TREE_FILES=${5:-1000}
WORK=${6:-${DV_BENCH_DIR:-/var/tmp/dv-bench}/export}
for tool in /usr/bin/time python3 git tar zstd sha256sum; do
  command -v "$tool" >/dev/null || { echo "export.sh: $tool is not installed (tests/bench/setup.sh)" >&2; exit 2; }
done
[ -x "$DV" ] || { echo "export.sh: no dv binary at $DV" >&2; exit 2; }
log() { echo "export.sh: $*" >&2; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
REPO=$WORK/repo OUTDIR=$WORK/out
STAMP="model=$MODEL_MIB tree=${TREE_DIRS}x$TREE_FILES"

# digest DIR: sha256 of "sha256  path" lines of every file below DIR (as gen.sh's MANIFEST).
digest() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1); }

if [ ! -f "$WORK/.stamp" ] || [ "$(cat "$WORK/.stamp")" != "$STAMP" ]; then
  rm -rf "$WORK"
  mkdir -p "$REPO"
  cd "$REPO"
  git init -q -b main
  "$DV" init >/dev/null
  log "generating a ${MODEL_MIB} MiB model and a ${TREE_DIRS}x${TREE_FILES}-file tree"
  python3 "$HERE/gen.py" model model.bin $((MODEL_MIB << 20))
  python3 "$HERE/gen.py" tree tree "$TREE_DIRS" "$TREE_FILES"
  sha256sum <model.bin | cut -d' ' -f1 >"$WORK/model.sha"
  digest tree >"$WORK/tree.sha"
  "$DV" add -q model.bin tree
  git add -A && git commit -qm data
  echo "$STAMP" >"$WORK/.stamp"
fi
cd "$REPO"
mkdir -p "$OUTDIR"

log "checking what dv writes against the files' SHA-256"
rm -rf "$OUTDIR"/*
"$DV" export HEAD model.bin -o "$OUTDIR/check.tar.zst"
mkdir "$OUTDIR/x" && tar --zstd -xf "$OUTDIR/check.tar.zst" -C "$OUTDIR/x"
[ "$(sha256sum <"$OUTDIR/x/model.bin" | cut -d' ' -f1)" = "$(cat "$WORK/model.sha")" ] ||
  { echo "export.sh: the exported model differs from the original" >&2; exit 1; }
rm -rf "$OUTDIR"/*
"$DV" export HEAD tree -o - --format tar.zst >"$OUTDIR/check.tar.zst"
mkdir "$OUTDIR/x" && tar --zstd -xf "$OUTDIR/check.tar.zst" -C "$OUTDIR/x"
[ "$(digest "$OUTDIR/x/tree")" = "$(cat "$WORK/tree.sha")" ] ||
  { echo "export.sh: the exported tree differs from the original" >&2; exit 1; }
rm -rf "$OUTDIR"/*

# warm WHAT: write and delete a scratch file of 2 GiB (on this VM a page the guest has not
# used before costs a fault on the host: writing a GiB into new page-cache pages took 2-3 s
# of system time against 0.2-0.3 s into recycled ones; see "Recycled memory" in
# docs/benchmarks.md), sync, and read the inputs once.
warm() {
  head -c $((2 << 30)) /dev/zero >"$WORK/prime.tmp"
  rm -f "$WORK/prime.tmp"
  sync
  case "$1" in
  tar-model*) cat model.bin >/dev/null ;;
  tar-tree*) tar -cf /dev/null tree ;;
  dv-*) cat .dv/cache/packs/* >/dev/null ;;
  esac
}

# timed NAME CMD...: one run into $WORK/times/NAME (wall user sys maxrss_kb, a line a run).
mkdir -p "$WORK/times"
rm -f "$WORK/times/"*
timed() {
  local name=$1
  shift
  warm "$name"
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/times/$name.last" "$@"
  cat "$WORK/times/$name.last" >>"$WORK/times/$name"
  rm -f "$OUTDIR"/*
}

for run in $(seq 1 "$RUNS"); do
  log "run $run of $RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for what in model.bin tree; do
    key=${what%.bin}
    timed "tar-$key" tar --zstd -cf "$OUTDIR/tar.tar.zst" "$what"
    timed "tar-$key-sync" sh -c 'tar --zstd -cf "$1" "$2" && sync "$1"' _ "$OUTDIR/tar.tar.zst" "$what"
    timed "dv-$key" "$DV" export HEAD "$what" -o "$OUTDIR/dv.tar.zst"
    timed "dv-$key-stdout" sh -c '"$1" export HEAD "$2" -o - --format tar.zst >"$3"' _ "$DV" "$what" "$OUTDIR/dv.tar.zst"
  done
done

python3 - "$WORK/times" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF' | tee "$WORK/export.md"
import statistics, sys
d, runs, load = sys.argv[1], sys.argv[2], sys.argv[3]
def rows(name):
    return [tuple(float(x) for x in line.split()) for line in open(f"{d}/{name}")]
def med(name, i):
    return statistics.median(r[i] for r in rows(name))
print(f"{runs} runs each, interleaved; median wall (min-max), median CPU (user+sys), peak RSS; load at the end {load}")
print()
print("| data | command | wall s | CPU s | peak RSS | / tar |")
print("|---|---|---:|---:|---:|---:|")
for key, what in [("model", "1 GiB model"), ("tree", "100,000-file tree")]:
    tar = med(f"tar-{key}", 0)
    for name, cmd in [(f"tar-{key}", "`tar --zstd -cf`"), (f"tar-{key}-sync", "`tar --zstd -cf` + `sync file`"),
                      (f"dv-{key}", "`dv export -o file.tar.zst`"),
                      (f"dv-{key}-stdout", "`dv export -o - --format tar.zst > file`")]:
        r = rows(name)
        walls = [x[0] for x in r]
        cpu = statistics.median(x[1] + x[2] for x in r)
        rss = max(x[3] for x in r) / 1024
        print(f"| {what} | {cmd} | {med(name, 0):.2f} ({min(walls):.2f}-{max(walls):.2f}) | {cpu:.2f} | {rss:.0f} MiB | {med(name, 0) / tar:.2f} |")
EOF
