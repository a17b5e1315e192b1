#!/usr/bin/env bash
# dv import of a tarball against what a user does without it (not part of CI): tar -x into
# the work tree, then dv add. Two tarballs of the benchmark data set (gen.py): the 1 GiB
# model (one file) and the 100,000-file tree (100 directories of 1,000 files of 1-16 KiB),
# uncompressed tars made by GNU tar. Each run starts from a fresh repository (git init,
# dv init: nothing in the store to deduplicate against), with the tarball in the page
# cache; both ways end with the files in the work tree and their content in the store.
# Also timed: dv import --no-checkout (the store and the pointer only).
# Before timing, the result is checked once: the tree id dv import records is the one
# dv add records for the files tar extracted, and those files are the generated ones.
# Medians (and ranges) go to WORKDIR/import.md.
#
# usage: tests/bench/import.sh [DV] [WORKDIR]   (DV default build-rel/dv; RUNS=5)
set -euo pipefail
DV=$(realpath "${1:-build-rel/dv}")
WORK=${2:-${DV_BENCH_DIR:-/var/tmp/dv-bench}/import}
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-5}
for tool in /usr/bin/time python3 git tar; do
  command -v "$tool" >/dev/null || { echo "import.sh: $tool is not installed" >&2; exit 2; }
done
[ -x "$DV" ] || { echo "import.sh: no dv binary at $DV" >&2; exit 2; }
mkdir -p "$WORK"
REPORT=$WORK/import.md
log() { echo "import.sh: $*" >&2; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid

if [ ! -f "$WORK/model.tar" ]; then
  log "generating the 1 GiB model and its tarball"
  mkdir -p "$WORK/model-src"
  python3 "$HERE/gen.py" model "$WORK/model-src/model.bin" $((1 << 30))
  tar -C "$WORK/model-src" -cf "$WORK/model.tar.tmp" . && mv "$WORK/model.tar.tmp" "$WORK/model.tar"
fi
if [ ! -f "$WORK/tree.tar" ]; then
  log "generating the 100,000-file tree and its tarball"
  rm -rf "$WORK/tree-src"
  python3 "$HERE/gen.py" tree "$WORK/tree-src" 100 1000
  tar -C "$WORK/tree-src" -cf "$WORK/tree.tar.tmp" . && mv "$WORK/tree.tar.tmp" "$WORK/tree.tar"
fi

fresh_repo() {
  rm -rf "$WORK/repo"
  mkdir -p "$WORK/repo"
  (cd "$WORK/repo" && git init -q . && "$DV" init >/dev/null)
}

# timed OUT CMD...: run CMD in the repository, append "wall user sys maxrss_kib" to OUT.
timed() {
  local out=$1; shift
  (cd "$WORK/repo" && /usr/bin/time -f '%e %U %S %M' -o "$WORK/.time" "$@" >/dev/null)
  cat "$WORK/.time" >>"$out"
}

oid_of() { sed -n 's/^oid: //p' "$WORK/repo/$1.dv"; }

median() { # median FILE COLUMN
  awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
range() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {print lo "–" hi}'; }

for set in model tree; do
  tarball=$WORK/$set.tar
  cat "$tarball" >/dev/null # into the page cache, for both ways
  log "$set: checking once"
  fresh_repo
  (cd "$WORK/repo" && "$DV" import -q "$tarball" data)
  imported=$(oid_of data)
  fresh_repo
  (cd "$WORK/repo" && mkdir data && tar -xf "$tarball" -C data && "$DV" add -q data)
  added=$(oid_of data)
  [ "$imported" = "$added" ] || { log "$set: dv import recorded $imported, dv add $added"; exit 1; }
  diff -r "$WORK/$set-src" "$WORK/repo/data" >/dev/null || { log "$set: tar -x differs from the data"; exit 1; }
  log "$set: both record $imported"
  for way in import import-nocheckout tar-add tar; do : >"$WORK/times.$set.$way"; done
  for run in $(seq "$RUNS"); do
    log "$set: run $run of $RUNS"
    fresh_repo
    timed "$WORK/times.$set.import" "$DV" import -q "$tarball" data
    fresh_repo
    timed "$WORK/times.$set.import-nocheckout" "$DV" import -q --no-checkout "$tarball" data
    fresh_repo
    timed "$WORK/times.$set.tar" bash -c "mkdir data && tar -xf '$tarball' -C data"
    timed "$WORK/times.$set.tar-add" "$DV" add -q data
  done
done
rm -rf "$WORK/repo"

{
  echo "| data set | \`dv import\` | \`dv import --no-checkout\` | \`tar -x\` | then \`dv add\` | \`tar -x\` + \`dv add\` | import / (tar + add) |"
  echo "|---|---|---|---|---|---|---|"
  for set in model tree; do
    paste -d' ' "$WORK/times.$set.tar" "$WORK/times.$set.tar-add" | awk '{print $1 + $5}' >"$WORK/times.$set.both"
    i=$(median "$WORK/times.$set.import" 1); n=$(median "$WORK/times.$set.import-nocheckout" 1)
    t=$(median "$WORK/times.$set.tar" 1); a=$(median "$WORK/times.$set.tar-add" 1); b=$(median "$WORK/times.$set.both" 1)
    ratio=$(awk -v i="$i" -v b="$b" 'BEGIN {printf "%.2f", i / b}')
    printf '| %s | %s s [%s] (CPU %s+%s s, %s MiB) | %s s [%s] | %s s | %s s | %s s [%s] | **%s** |\n' \
      "$set" "$i" "$(range "$WORK/times.$set.import" 1)" "$(median "$WORK/times.$set.import" 2)" \
      "$(median "$WORK/times.$set.import" 3)" "$(($(median "$WORK/times.$set.import" 4) / 1024))" \
      "$n" "$(range "$WORK/times.$set.import-nocheckout" 1)" "$t" "$a" "$b" \
      "$(range "$WORK/times.$set.both" 1)" "$ratio"
  done
} >"$REPORT"
cat "$REPORT"
