#!/usr/bin/env bash
# Generate the deterministic benchmark data set once, into DIR/data-SCALE.
# Usage: tests/bench/gen.sh [--scale small|full] [--workdir DIR] [--force]
# Prints the data directory on stdout. Reuses it when its stamp file matches.
#
#   model.bin          random "model" (full: 1 GiB, small: 32 MiB)
#   model-edited.bin   same, NWRITES x 32 KiB overwrites at pseudo-random offsets
#                      (full: 160, small: 5) + a 4 KiB insertion in the middle
#   tree/              NDIRS x NFILES files of 1-16 KiB (full: 100 x 1000, small: 30 x 100)
#   data.csv           CSV rows (full: 500 MiB, small: 16 MiB)
#   data-v2.csv        ~0.5% of the rows changed, 2% rows appended
#   MANIFEST           sizes and sha256 of everything above
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN_VERSION=1
SCALE=full
WORK=${DV_BENCH_DIR:-/var/tmp/dv-bench}
FORCE=0

while [ $# -gt 0 ]; do
  case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --scale=*) SCALE=${1#*=}; shift ;;
    --workdir) WORK=$2; shift 2 ;;
    --workdir=*) WORK=${1#*=}; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "gen.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

case "$SCALE" in
  full)  MODEL_SIZE=$((1 << 30)); NWRITES=160; NDIRS=100; NFILES=1000; CSV_SIZE=$((500 << 20)) ;;
  small) MODEL_SIZE=$((32 << 20)); NWRITES=5;  NDIRS=30;  NFILES=100;  CSV_SIZE=$((16 << 20)) ;;
  *) echo "gen.sh: --scale must be small or full" >&2; exit 2 ;;
esac

for t in python3 openssl; do
  command -v "$t" >/dev/null 2>&1 || { echo "gen.sh: $t is required (run tests/bench/setup.sh)" >&2; exit 1; }
done

DATA=$WORK/data-$SCALE
STAMP_WANT="gen=$GEN_VERSION scale=$SCALE model=$MODEL_SIZE writes=$NWRITES tree=${NDIRS}x$NFILES csv=$CSV_SIZE"

if [ "$FORCE" = 0 ] && [ -f "$DATA/.stamp" ] && [ "$(cat "$DATA/.stamp")" = "$STAMP_WANT" ]; then
  echo "$DATA"
  exit 0
fi

log() { echo "gen.sh: $*" >&2; }

rm -rf "$DATA"
mkdir -p "$DATA"
t0=$SECONDS
log "generating $SCALE data set in $DATA"
log "  model.bin ($MODEL_SIZE bytes)"
python3 "$HERE/gen.py" model "$DATA/model.bin" "$MODEL_SIZE"
log "  model-edited.bin ($NWRITES x 32 KiB writes + 4 KiB insertion)"
python3 "$HERE/gen.py" edit "$DATA/model.bin" "$DATA/model-edited.bin" "$NWRITES"
log "  tree/ ($NDIRS x $NFILES files)"
python3 "$HERE/gen.py" tree "$DATA/tree" "$NDIRS" "$NFILES"
log "  data.csv, data-v2.csv (~$CSV_SIZE bytes)"
python3 "$HERE/gen.py" csv "$DATA/data.csv" "$DATA/data-v2.csv" "$CSV_SIZE"

log "  MANIFEST"
{
  for f in model.bin model-edited.bin data.csv data-v2.csv; do
    printf '%s\t%s\t%s\n' "$f" "$(stat -c %s "$DATA/$f")" \
      "$(openssl dgst -sha256 -r "$DATA/$f" | cut -d' ' -f1)"
  done
  # the tree: file count, total bytes, and the sha256 of "sha256  path" lines sorted by path
  n=$(find "$DATA/tree" -type f | wc -l)
  b=$(find "$DATA/tree" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  h=$(cd "$DATA" && find tree -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
  printf 'tree/\t%s files, %s bytes\t%s\n' "$n" "$b" "$h"
} > "$DATA/MANIFEST"

echo "$STAMP_WANT" > "$DATA/.stamp"
log "done in $((SECONDS - t0)) s"
echo "$DATA"
