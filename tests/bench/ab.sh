#!/usr/bin/env bash
# Interleaved A/B run of two dv binaries on the benchmark's 1 GiB model (not part of CI):
# `dv add model.bin` into a fresh repository, then `dv checkout` of it after the file was
# removed, A and B taking turns so that both see the same machine. Each restored file is
# compared with the original. Prints one line per run and a median/min/max summary.
#
# usage: tests/bench/ab.sh A_DV B_DV [RUNS] [WORKDIR]   (RUNS default 5)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 2 ] || { echo "usage: ab.sh A_DV B_DV [RUNS] [WORKDIR]" >&2; exit 2; }
A=$(realpath "$1") B=$(realpath "$2") RUNS=${3:-5} WORK=${4:-${DV_BENCH_DIR:-/var/tmp/dv-bench}/ab}
mkdir -p "$WORK"
MODEL=$WORK/model.bin
SIZE=$((1 << 30))
if [ "$(stat -c %s "$MODEL" 2>/dev/null || echo 0)" != "$SIZE" ]; then
    python3 "$HERE/gen.py" model "$MODEL" "$SIZE"
fi
WANT=$(sha256sum "$MODEL" | cut -d' ' -f1)

now() { date +%s.%N; }
run_one() { # label binary -> "label add_s checkout_s"
    local label=$1 dv=$2 ws=$WORK/ws-$1
    rm -rf "$ws"
    mkdir -p "$ws"
    git -C "$ws" init -q
    "$dv" -C "$ws" init >/dev/null
    cp "$MODEL" "$ws/model.bin"
    sync
    local t0 t1 t2
    t0=$(now)
    "$dv" -C "$ws" add model.bin >/dev/null
    t1=$(now)
    rm -f "$ws/model.bin"
    sync
    local t3
    t2=$(now)
    "$dv" -C "$ws" checkout >/dev/null
    t3=$(now)
    [ "$(sha256sum "$ws/model.bin" | cut -d' ' -f1)" = "$WANT" ] ||
        { echo "ab.sh: $label restored a model.bin that differs from the original" >&2; exit 1; }
    awk -v l="$label" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {printf "%s %.3f %.3f\n", l, b - a, d - c}'
    rm -rf "$ws"
}

results=$WORK/results.txt
: >"$results"
for i in $(seq 1 "$RUNS"); do
    run_one A "$A" | tee -a "$results"
    run_one B "$B" | tee -a "$results"
done
python3 - "$results" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for label in ("A", "B"):
    for col, name in ((1, "add"), (2, "checkout")):
        v = sorted(float(r[col]) for r in rows if r[0] == label)
        print(f"{label} {name:8s} median {statistics.median(v):.2f} s  min {v[0]:.2f}  max {v[-1]:.2f}  (n={len(v)})")
EOF
