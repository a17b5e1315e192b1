#!/usr/bin/env bash
# dv checkout of the 100,000-file tree into an empty work tree against tar -xf of a tar of
# the same files, each onto a fresh ext4 file system (not part of CI).
#
# The tree is gen.sh's (WORKDIR/data-SCALE/tree: 100 directories of 1,000 files of 1-16 KiB
# at full scale). Once: a repository with the tree added and committed, then the tree
# removed from its work tree, and an uncompressed GNU tar of the same files. Then RUNS
# times, interleaved (which of the two goes first alternates from run to run):
#   dv checkout tree   in a copy of that repository (.git, .dv with the store, tree.dv, no
#                      tree/) on a fresh ext4 file system
#   tar -xf tree.tar   onto another fresh ext4 file system
# Each file system is made for its run on a loop device (truncate'd image under WORKDIR,
# mkfs.ext4 -q with the inode tables and journal initialised at once, so no lazy-init
# thread writes during the timing, mount -o loop), so the age of the disk's file system
# does not decide. Warm cache for both: the repository copy is written, synced and its
# packs read once, so dv reads its store from the page cache; the tar file is read once
# before each tar run. Before each timed command a 2 GiB scratch file is written and
# deleted and everything is synced (recycled pages, see "Method" in docs/benchmarks.md).
# Timed with /usr/bin/time (wall, user, sys, peak RSS); the sync of the written file
# system after the command is timed apart, as information (neither command syncs).
# Once, before the timings, both results are checked against the SHA-256 of the tree.
# Medians (min-max) and dv / tar against the target 0.8 go to WORKDIR/checkout_fresh.md.
# Skips (exit 0, with a message) when loop devices cannot be made; the images are
# unmounted and deleted at the end and on interrupt.
#
# usage: tests/bench/checkout_fresh.sh [DV] [RUNS] [SCALE] [WORKDIR]
#        (defaults: build-rel/dv 5 full; WORKDIR $DV_BENCH_DIR or /var/tmp/dv-bench)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DV=$(realpath "${1:-build-rel/dv}")
RUNS=${2:-5}
SCALE=${3:-full}
BENCH=${4:-${DV_BENCH_DIR:-/var/tmp/dv-bench}}
WORK=$BENCH/checkout_fresh
DATA=$BENCH/data-$SCALE
for tool in /usr/bin/time git tar sha256sum mkfs.ext4 losetup mount umount python3; do
  command -v "$tool" >/dev/null || { echo "checkout_fresh.sh: $tool is not installed" >&2; exit 2; }
done
[ -x "$DV" ] || { echo "checkout_fresh.sh: no dv binary at $DV" >&2; exit 2; }
[ -f "$DATA/MANIFEST" ] || { echo "checkout_fresh.sh: no data set at $DATA (run tests/bench/gen.sh --scale $SCALE)" >&2; exit 2; }
log() { echo "checkout_fresh.sh: $*" >&2; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
SRC=$WORK/src IMG=$WORK/fs.img MNT=$WORK/mnt
mkdir -p "$WORK"

# The file system of a run, and its removal on any exit.
cleanup() {
  if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT" || umount -l "$MNT" || true; fi
  rm -f "$IMG" "$WORK/prime.tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Image size: the store and the tree (each about the size of the data), their metadata,
# and room to spare.
TREE_KIB=$(du -sk "$DATA/tree" | cut -f1)
IMG_BYTES=$(((TREE_KIB * 3 + (1 << 20)) * 1024))
fresh_fs() {
  cleanup
  mkdir -p "$MNT"
  truncate -s "$IMG_BYTES" "$IMG"
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$IMG"
  mount -o loop "$IMG" "$MNT"
}
if ! (fresh_fs) 2>"$WORK/loop.err"; then
  log "skipped: cannot make an ext4 file system on a loop device here ($(tail -1 "$WORK/loop.err"))"
  cleanup
  exit 0
fi
cleanup

# digest DIR: sha256 of "sha256  path" lines of every file below DIR (as gen.sh's MANIFEST).
digest() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1); }

STAMP="$(sha256sum <"$DATA/MANIFEST" | cut -d' ' -f1) $($DV --version 2>/dev/null | head -1)"
if [ ! -f "$WORK/.stamp" ] || [ "$(cat "$WORK/.stamp")" != "$STAMP" ]; then
  log "making the repository and the tar of $DATA/tree"
  rm -rf "$SRC" "$WORK/tree.tar" "$WORK/.stamp"
  mkdir -p "$SRC"
  digest "$DATA/tree" >"$WORK/tree.sha"
  (cd "$DATA" && tar -cf "$WORK/tree.tar" tree)
  (
    cd "$SRC"
    git init -q -b main
    "$DV" init >/dev/null
    cp -a "$DATA/tree" tree
    "$DV" add -q tree
    git add -A && git commit -qm tree
    rm -rf tree
  )
  echo "$STAMP" >"$WORK/.stamp"
fi

# prepare WAY: a fresh file system holding what the run starts from, synced, inputs read.
prepare() {
  fresh_fs
  case "$1" in
  dv)
    cp -a "$SRC/." "$MNT/repo"
    sync
    cat "$MNT"/repo/.dv/cache/packs/* >/dev/null
    ;;
  tar) mkdir "$MNT/x" ;;
  esac
  head -c $((2 << 30)) /dev/zero >"$WORK/prime.tmp"
  rm -f "$WORK/prime.tmp"
  sync
  [ "$1" = tar ] && cat "$WORK/tree.tar" >/dev/null
  return 0
}

# run_cmd WAY [PREFIX...]: the command of WAY, run through PREFIX (e.g. /usr/bin/time).
run_cmd() {
  local way=$1
  shift
  case "$way" in
  dv) "$@" env -C "$MNT/repo" "$DV" checkout -q tree ;;
  tar) "$@" tar -xf "$WORK/tree.tar" -C "$MNT/x" ;;
  esac
}

result_dir() { case "$1" in dv) echo "$MNT/repo/tree" ;; tar) echo "$MNT/x/tree" ;; esac; }

log "checking what each writes against the tree's SHA-256"
for way in dv tar; do
  prepare "$way"
  run_cmd "$way"
  [ "$(digest "$(result_dir "$way")")" = "$(cat "$WORK/tree.sha")" ] ||
    { log "$way: the files written differ from the tree"; exit 1; }
  [ "$(find "$(result_dir "$way")" -type f | wc -l)" = "$(find "$DATA/tree" -type f | wc -l)" ] ||
    { log "$way: not as many files as the tree"; exit 1; }
done
cleanup

mkdir -p "$WORK/times"
rm -f "$WORK/times/"*
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq 1 "$RUNS"); do
  order="dv tar"
  [ $((run % 2)) = 0 ] && order="tar dv"
  for way in $order; do
    prepare "$way"
    log "run $run of $RUNS: $way (load $(cut -d' ' -f1-3 /proc/loadavg))"
    run_cmd "$way" /usr/bin/time -f '%e %U %S %M' -o "$WORK/times/$way.last"
    start=$(date +%s.%N)
    sync -f "$(result_dir "$way")"
    end=$(date +%s.%N)
    echo "$(cat "$WORK/times/$way.last") $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}') $(cut -d' ' -f1 /proc/loadavg)" >>"$WORK/times/$way"
  done
done
cleanup
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$WORK/times" "$RUNS" "$LOAD_START" "$LOAD_END" <<'EOF' | tee "$WORK/checkout_fresh.md"
import statistics, sys
d, runs, load_start, load_end = sys.argv[1:5]
def rows(name):
    return [[float(x) for x in line.split()] for line in open(f"{d}/{name}")]
def med(r, i):
    return statistics.median(x[i] for x in r)
dv, tar = rows("dv"), rows("tar")
print(f"{runs} runs each, interleaved, each onto a fresh ext4 on a loop device; median wall "
      f"(min-max), median user+sys, peak RSS, then the sync after it (not in the ratio); "
      f"load average {load_start} at the start, {load_end} at the end")
print()
print("| command | wall s | user s | sys s | peak RSS | sync after s | load (1 min) at the end |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, r in [("`dv checkout tree`", dv), ("`tar -xf tree.tar`", tar)]:
    walls = [x[0] for x in r]
    print(f"| {name} | {med(r, 0):.2f} ({min(walls):.2f}-{max(walls):.2f}) | {med(r, 1):.2f} | "
          f"{med(r, 2):.2f} | {max(x[3] for x in r) / 1024:.0f} MiB | {med(r, 4):.2f} | "
          f"{min(x[5] for x in r):.2f}-{max(x[5] for x in r):.2f} |")
ratio = med(dv, 0) / med(tar, 0)
print()
print(f"dv / tar = {ratio:.2f} (target <= 0.80): {'PASS' if ratio <= 0.8 else 'FAIL'}")
EOF
