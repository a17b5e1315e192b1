#!/usr/bin/env bash
# dv gc against restic forget --prune over the same versions (not part of CI).
#
# A model (gen.py model, MODEL_MIB) and a tree (gen.py tree, TREE_DIRS x TREE_FILES files of
# 1-16 KiB) are committed, then COMMITS commits each change 1% of the model (gen.py edit,
# 32 KiB overwrites) and rewrite 5 files of the tree; the first half go to main, the second
# half to a branch "gone" made from it. Every version is also backed up with restic as a
# snapshot tagged with its branch. Then the branch is deleted and
#   dv gc --expire-reflog now        (every version of gone freed, main's kept)
# is timed against
#   restic forget --prune <the snapshots tagged gone> (the same versions forgotten, pruned)
# with /usr/bin/time (wall time, peak RSS). Before timing, dv gc -n's counts are taken, and
# after it dv fsck must be clean and main's model must read back with the SHA-256 it had
# when it was written. The markdown table goes to WORKDIR/gc.md.
#
# usage: tests/bench/gc.sh [DV] [COMMITS] [MODEL_MIB] [TREE_DIRS] [TREE_FILES] [WORKDIR]
#        (defaults: build/dv 200 256 100 1000, the issue's size)
# GC_BENCH_PHASE=setup makes the history and stops (it takes long; run it when nothing is
# timed); GC_BENCH_PHASE=time then times the gcs over it (once: both delete). Default: both.
set -euo pipefail
DV=$(realpath "${1:-build/dv}")
COMMITS=${2:-200}
MODEL_MIB=${3:-256}
TREE_DIRS=${4:-100}
TREE_FILES=${5:-1000}
WORK=${6:-${DV_BENCH_DIR:-/var/tmp/dv-bench}/gc}
HERE=$(cd "$(dirname "$0")" && pwd)
for tool in restic /usr/bin/time python3 git; do
  command -v "$tool" >/dev/null || { echo "gc.sh: $tool is not installed (tests/bench/setup.sh)" >&2; exit 2; }
done
[ -x "$DV" ] || { echo "gc.sh: no dv binary at $DV" >&2; exit 2; }
log() { echo "gc.sh: $*" >&2; }
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export RESTIC_PASSWORD=bench RESTIC_REPOSITORY=$WORK/restic RESTIC_CACHE_DIR=$WORK/restic-cache

PHASE=${GC_BENCH_PHASE:-all}
case "$PHASE" in setup | time | all) ;; *) echo "gc.sh: GC_BENCH_PHASE is setup, time or all" >&2; exit 2 ;; esac
if [ "$PHASE" = time ]; then
  [ -f "$WORK/setup.done" ] || { echo "gc.sh: no history made by GC_BENCH_PHASE=setup in $WORK" >&2; exit 2; }
  main_sha=$(cat "$WORK/setup.done")
  cd "$WORK/repo"
else
rm -rf "$WORK/repo" "$WORK/restic" "$WORK/restic-cache" "$WORK/setup.done"
mkdir -p "$WORK/repo"
cd "$WORK/repo"
git init -q -b main
"$DV" init >/dev/null
log "generating a ${MODEL_MIB} MiB model and a ${TREE_DIRS}x${TREE_FILES}-file tree"
python3 "$HERE/gen.py" model model.bin $((MODEL_MIB << 20))
python3 "$HERE/gen.py" tree tree "$TREE_DIRS" "$TREE_FILES"
restic init -q
EDITS=$(( (MODEL_MIB << 20) / 100 / (32 << 10) )) # 32 KiB overwrites making 1% of the model
[ "$EDITS" -ge 1 ] || EDITS=1

# version BRANCH: dv add and commit, and a restic snapshot tagged BRANCH
version() {
  "$DV" add -q model.bin tree
  git add -A
  git commit -qm "$1 $(git rev-list --count HEAD 2>/dev/null || echo 0)"
  restic backup -q --host bench --tag "$1" model.bin tree >/dev/null
}
version main
for i in $(seq 1 "$COMMITS"); do
  if [ "$i" = $((COMMITS / 2 + 1)) ]; then
    main_sha=$(sha256sum <model.bin | cut -d' ' -f1)
    git checkout -qb gone
  fi
  branch=$( [ "$i" -le $((COMMITS / 2)) ] && echo main || echo gone )
  python3 "$HERE/gen.py" edit model.bin model.new "$EDITS"
  mv model.new model.bin
  python3 - "$i" "$TREE_DIRS" "$TREE_FILES" <<'PYEOF'
import os, random, sys
i, ndirs, nfiles = (int(a) for a in sys.argv[1:])
r = random.Random(1000 + i)
for k in range(5):
    d, f = r.randrange(ndirs), r.randrange(nfiles)
    names = sorted(os.listdir("tree"))
    sub = os.path.join("tree", names[d % len(names)])
    files = sorted(os.listdir(sub))
    with open(os.path.join(sub, files[f % len(files)]), "wb") as out:
        out.write(r.randbytes(r.randrange(1024, 16384)))
PYEOF
  version "$branch"
  [ $((i % 20)) = 0 ] && log "$i of $COMMITS commits"
done
[ -n "${main_sha:-}" ] || main_sha=$(sha256sum <model.bin | cut -d' ' -f1)
git checkout -q main
git branch -qD gone
echo "$main_sha" >"$WORK/setup.done"
[ "$PHASE" = setup ] && { log "history made in $WORK; now GC_BENCH_PHASE=time"; exit 0; }
fi
rm -f "$WORK/setup.done"
store_before=$(du -sb .dv/cache/packs | cut -f1)
restic_before=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)

"$DV" gc --expire-reflog now -n >"$WORK/gc-dry.txt"
log "timing dv gc"
/usr/bin/time -f '%e %M' -o "$WORK/dv.time" "$DV" gc --expire-reflog now >"$WORK/gc.txt"
"$DV" fsck -q
[ "$("$DV" cat main:model.bin | sha256sum | cut -d' ' -f1)" = "$main_sha" ] ||
  { echo "gc.sh: main's model does not read back after gc" >&2; exit 1; }
store_after=$(du -sb .dv/cache/packs | cut -f1)
log "timing restic forget --prune"
gone_ids=$(restic snapshots -q --tag gone --json | python3 -c 'import json, sys; print(" ".join(s["id"] for s in json.load(sys.stdin)))')
[ -n "$gone_ids" ] || { echo "gc.sh: restic has no snapshot tagged gone" >&2; exit 1; }
# shellcheck disable=SC2086 # one argument a snapshot id
/usr/bin/time -f '%e %M' -o "$WORK/restic.time" restic forget -q --prune $gone_ids >/dev/null
restic_after=$(du -sb "$RESTIC_REPOSITORY" | cut -f1)

read -r dv_s dv_kb <"$WORK/dv.time"
read -r restic_s restic_kb <"$WORK/restic.time"
{
  echo "| what | s | peak RSS | store before | after |"
  echo "|---|---:|---:|---:|---:|"
  printf '| `dv gc --expire-reflog now` | %s | %d MiB | %d MiB | %d MiB |\n' "$dv_s" $((dv_kb / 1024)) \
    $((store_before >> 20)) $((store_after >> 20))
  printf '| `restic forget --prune` (the gone snapshots) | %s | %d MiB | %d MiB | %d MiB |\n' "$restic_s" \
    $((restic_kb / 1024)) $((restic_before >> 20)) $((restic_after >> 20))
  echo
  echo "dv gc's own counts:"
  echo
  sed 's/^/    /' "$WORK/gc.txt"
} | tee "$WORK/gc.md"
