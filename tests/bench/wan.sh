#!/usr/bin/env bash
# dv against aws s3 over a modelled WAN (not part of CI).
#
# The S3 rig of tests/s3 runs in a network namespace of its own, reached through a veth
# pair limited by tc (tbf) to RATE each way, its proxy holding back the first byte of every
# answer LATENCY ms and answering "Expect: 100-continue" as S3 does (rig.sh start --rate).
# Each run, all against the same rig:
#   link     aws s3 cp of the 1 GiB model: shows whether the rig reaches the link rate
#   push1    dv push of the model's first version; aws s3 sync of the same store directory
#   pull1    dv pull of it into a fresh clone; aws s3 sync of it down into an empty folder
#   push2    dv push of the 1%-edited version; aws s3 sync of the changed file
#   pull2    dv pull of the edited version over the first; aws s3 sync of the changed file down
#   tree     (once, with --tree) the 100,000-file tree and a 10 MiB file in it pushed, pulled
#            into a fresh clone; in another whose index cache is warm, dv pull of that one
#            file: its requests (a failure is recorded, not fatal)
# Before every timed command 2 GiB are written and deleted (recycled pages). For every
# timed command: wall seconds, CPU and peak RSS of the client (/usr/bin/time), the
# rig's request counts and body bytes, the rig's CPU seconds, and the bytes tc sent each way.
# The bound of a transfer is bytes x 8 / RATE; the report (WORKDIR/wan.md) puts each wall
# time beside it. Every pulled file is checked against the SHA-256 of the data set.
#
# usage: tests/bench/wan.sh [--dv PATH] [--rate 500mbit] [--latency 25] [--runs 1]
#                           [--jobs N] [--tree] [--workdir DIR]
# Needs root (ip netns, tc), Debian's awscli, node; the data set of tests/bench/gen.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DV=$ROOT/build/dv RATE=500mbit LATENCY=25 RUNS=1 TREE=0 JOBS=""
WORK=${DV_BENCH_DIR:-/var/tmp/dv-bench}/wan
while [ $# -gt 0 ]; do
  case "$1" in
    --dv) DV=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --latency) LATENCY=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --tree) TREE=1; shift ;;
    --workdir) WORK=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "wan.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
DV=$(realpath "$DV")
AWS=/usr/bin/aws
log() { echo "wan.sh: $*" >&2; }
die() { log "$*"; exit 2; }
[ -x "$DV" ] || die "no dv binary at $DV"
[ -x "$AWS" ] || die "Debian's awscli is not installed (apt-get install awscli)"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"
[ "$(id -u)" = 0 ] || die "the WAN rig needs root (ip netns, tc)"
ip netns add dvwan-probe-$$ 2>/dev/null && ip netns delete dvwan-probe-$$ ||
  die "skipped: network namespaces cannot be made here"
case "$RATE" in
  *gbit) RATE_BPS=$(( ${RATE%gbit} * 1000000000 )) ;;
  *mbit) RATE_BPS=$(( ${RATE%mbit} * 1000000 )) ;;
  *kbit) RATE_BPS=$(( ${RATE%kbit} * 1000 )) ;;
  *) die "--rate is <n>gbit, <n>mbit or <n>kbit" ;;
esac
DATA=$(bash "$HERE/gen.sh" --scale full)
MODEL=$DATA/model.bin MODEL2=$DATA/model-edited.bin
sha_of() { awk -F'\t' -v f="$1" '$1 == f {print $3}' "$DATA/MANIFEST"; }
SHA1=$(sha_of model.bin) SHA2=$(sha_of model-edited.bin)

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
export AWS_EC2_METADATA_DISABLED=true
rm -rf "$WORK"
mkdir -p "$WORK/logs"
RIG=$WORK/rig
rig() { bash "$ROOT/tests/s3/rig.sh" "$@"; }
trap 'rig stop "$RIG" >/dev/null 2>&1 || true' EXIT
rig start "$RIG" --rate "$RATE" --latency "$LATENCY" >&2
# shellcheck disable=SC1091
. "$RIG/env"
EP=$DV_TEST_S3_ENDPOINT BUCKET=$DV_TEST_S3_BUCKET
export AWS_CONFIG_FILE=$WORK/aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/aws-credentials
# aws as shipped (8 MiB parts, 10 requests in flight), path-style addressing
printf '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n' >"$AWS_CONFIG_FILE"
NS=$DV_TEST_S3_WAN_NS HOST_IF=$DV_TEST_S3_WAN_HOST_IF NS_IF=$DV_TEST_S3_WAN_NS_IF

rig_ticks() {
  local f pid sum=0 t
  for f in "$RIG/server.state" "$RIG/proxy.state"; do
    read -r pid _ <"$f" || continue
    t=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || t=0
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
tc_sent() { tc -s ${2:+-n "$2"} qdisc show dev "$1" | awk '/Sent/ {print $2; exit}'; }

ROWS=$WORK/rows.tsv
: >"$ROWS"
# timed NAME TOOL RUN PREFIX -- command...: one row of ROWS
timed() {
  local name=$1 tool=$2 run=$3 prefix=$4 t0 up0 down0 wall cpu rss json
  shift 5
  # 2 GiB written and deleted first, so that what the command writes lands in pages the VM
  # has used before, whichever the tool ("Recycled memory" in docs/benchmarks.md)
  head -c $((2 << 30)) /dev/zero >"$WORK/prime.tmp"
  rm -f "$WORK/prime.tmp"
  sync
  rig reset-counts "$RIG"
  t0=$(rig_ticks) up0=$(tc_sent "$HOST_IF") down0=$(tc_sent "$NS_IF" "$NS")
  if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" "$@" >"$WORK/logs/$name.$tool.$run.log" 2>&1; then
    log "$name/$tool run $run failed: see $WORK/logs/$name.$tool.$run.log"
    tail -5 "$WORK/logs/$name.$tool.$run.log" >&2
    return 1
  fi
  read -r wall u s rss < <(tail -1 "$WORK/time.out")
  cpu=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')
  json=$(rig counts "$RIG" "$prefix")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$tool" "$run" "$wall" "$cpu" \
    "$((rss / 1024))" "$(awk -v t=$(($(rig_ticks) - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}')" \
    "$(($(tc_sent "$HOST_IF") - up0))" "$(($(tc_sent "$NS_IF" "$NS") - down0))" "$json" >>"$ROWS"
  log "$name/$tool run $run: ${wall}s"
}
check() { # FILE SHA
  [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ] || { log "$1 does not hold what was pushed"; exit 1; }
}
awscmd() { "$AWS" --endpoint-url "$EP" "$@"; }

for run in $(seq 1 "$RUNS"); do
  d=$WORK/run$run
  mkdir -p "$d"
  # link: one large object
  timed link aws "$run" "link$run" -- "$AWS" --endpoint-url "$EP" s3 cp --quiet "$MODEL" "s3://$BUCKET/link$run/model.bin"

  # dv: the first version committed, pushed, pulled into a fresh clone
  git init -q "$d/ws" && cd "$d/ws"
  "$DV" init >/dev/null
  "$DV" remote add --default --endpoint "$EP" --path-style --region us-east-1 wan "s3://$BUCKET/dv$run" >/dev/null
  [ -z "$JOBS" ] || "$DV" config transfer.jobs "$JOBS"
  cp "$MODEL" model.bin && "$DV" add -q model.bin && git add -A && git commit -qm v1
  timed push1 dv "$run" "dv$run" -- "$DV" push --stats
  STORE=$(find "$d/ws/.dv" -maxdepth 2 -type d -name packs | head -1)
  timed push1 aws "$run" "aws$run" -- "$AWS" --endpoint-url "$EP" s3 sync --quiet "$STORE" "s3://$BUCKET/aws$run/store"
  git clone -q "$d/ws" "$d/clone"
  cd "$d/clone"
  timed pull1 dv "$run" "dv$run" -- "$DV" pull --stats
  check model.bin "$SHA1"
  mkdir -p "$d/down"
  timed pull1 aws "$run" "aws$run" -- "$AWS" --endpoint-url "$EP" s3 sync --quiet "s3://$BUCKET/aws$run/store" "$d/down"

  # the edited version: dv push/pull against aws s3 sync of the changed file
  cd "$d/ws"
  rm -f model.bin && cp "$MODEL2" model.bin && "$DV" add -q model.bin && git commit -qam v2
  timed push2 dv "$run" "dv$run" -- "$DV" push --stats
  mkdir -p "$d/up" && cp "$MODEL" "$d/up/model.bin"
  awscmd s3 sync --quiet "$d/up" "s3://$BUCKET/awsfile$run" # the first version, not timed
  rm -f "$d/up/model.bin" && cp "$MODEL2" "$d/up/model.bin"
  timed push2 aws "$run" "awsfile$run" -- "$AWS" --endpoint-url "$EP" s3 sync --quiet "$d/up" "s3://$BUCKET/awsfile$run"
  cd "$d/clone" && git pull -q
  timed pull2 dv "$run" "dv$run" -- "$DV" pull --stats
  check model.bin "$SHA2"
  mkdir -p "$d/down2" && cp "$MODEL" "$d/down2/model.bin" && touch -d '2000-01-01' "$d/down2/model.bin"
  timed pull2 aws "$run" "awsfile$run" -- "$AWS" --endpoint-url "$EP" s3 sync --quiet "s3://$BUCKET/awsfile$run" "$d/down2"
  check "$d/down2/model.bin" "$SHA2"
  cd "$WORK"
  rm -rf "$d" "$RIG/data/$BUCKET/aws$run" "$RIG/data/$BUCKET/awsfile$run" "$RIG/data/$BUCKET/link$run" \
    "$RIG/data/$BUCKET/dv$run"
done

if [ "$TREE" = 1 ]; then
  d=$WORK/tree
  git init -q "$d/ws" && cd "$d/ws"
  "$DV" init >/dev/null
  "$DV" remote add --default --endpoint "$EP" --path-style --region us-east-1 wan "s3://$BUCKET/tree" >/dev/null
  cp -r "$DATA/tree" tree
  head -c $((10 << 20)) "$MODEL2" >tree/d042/big.bin
  BIGSHA=$(sha256sum tree/d042/big.bin | cut -d' ' -f1)
  "$DV" add -q tree && git add -A && git commit -qm tree
  timed treepush dv 1 tree -- "$DV" push --stats
  git clone -q "$d/ws" "$d/clone" && cd "$d/clone"
  timed treepull dv 1 tree -- "$DV" pull --stats
  check tree/d042/big.bin "$BIGSHA"
  git clone -q "$d/ws" "$d/clone2" && cd "$d/clone2"
  "$DV" status -c >/dev/null || true # lists the remote: its index cache is warm from here on
  if timed treepull1 dv 1 tree -- "$DV" pull --stats tree/d042/big.bin; then
    check tree/d042/big.bin "$BIGSHA"
  else
    log "dv pull of one file inside a tracked directory failed: $(tail -1 "$WORK/logs/treepull1.dv.1.log")"
  fi
fi

python3 - "$ROWS" "$RATE_BPS" "$RATE" "$LATENCY" "$(git -C "$ROOT" rev-parse --short HEAD)" "$TREE" >"$WORK/wan.md" <<'PY'
import json, statistics, sys
rows_file, rate, rate_name, latency, commit, tree = sys.argv[1:]
rate = int(rate)
rows = {}
for line in open(rows_file):
    name, tool, run, wall, cpu, rss, rig_cpu, up, down, counts = line.rstrip("\n").split("\t")
    c = json.loads(counts)
    rows.setdefault((name, tool), []).append(dict(
        wall=float(wall), cpu=float(cpu), rss=int(rss), rig=float(rig_cpu), up=int(up), down=int(down),
        puts=c["ops"]["put"], gets=c["ops"]["get"], reqs=c["requests"],
        sent=c["bytes_in"], recv=c["bytes_out"]))
def med(name, tool, key):
    v = [r[key] for r in rows.get((name, tool), [])]
    return statistics.median(v) if v else None
print(f"link {rate_name}, {latency} ms before each answer, commit {commit}; medians of "
      f"{max(len(v) for v in rows.values())} run(s)\n")
print("| step | tool | wall s | bytes ÷ link s | CPU s | RSS MiB | rig CPU s | requests (PUT/GET) | body bytes up / down |")
print("|---|---|---|---|---|---|---|---|---|")
for (name, tool), v in rows.items():
    wall = med(name, tool, "wall")
    moved = med(name, tool, "sent") + med(name, tool, "recv")
    print(f"| {name} | {tool} | {wall:.2f} | {moved * 8 / rate:.2f} | {med(name, tool, 'cpu'):.2f} | "
          f"{med(name, tool, 'rss'):.0f} | {med(name, tool, 'rig'):.2f} | {med(name, tool, 'reqs'):.0f} "
          f"({med(name, tool, 'puts'):.0f}/{med(name, tool, 'gets'):.0f}) | "
          f"{med(name, tool, 'sent'):.0f} / {med(name, tool, 'recv'):.0f} |")
print()
def verdict(ok):
    return "PASS" if ok else "FAIL"
if ("link", "aws") in rows:
    w, b = med("link", "aws", "wall"), med("link", "aws", "sent")
    print(f"- link check: aws s3 cp of {b} bytes in {w:.2f} s = {b * 8 / w / 1e6:.0f} Mbit/s "
          f"of {rate / 1e6:.0f} ({b * 8 / w / rate:.0%} of the link)")
for name, key in (("push1", "sent"), ("pull1", "recv")):
    if (name, "dv") in rows:
        w, b = med(name, "dv", "wall"), med(name, "dv", key)
        bound = 1.15 * b * 8 / rate + 1
        print(f"- {name}: dv {w:.2f} s, target ≤ 1.15 × {b * 8 / rate:.2f} + 1 = {bound:.2f} s: {verdict(w <= bound)}")
if ("push1", "aws") in rows and ("push1", "dv") in rows:
    r = med("push1", "dv", "wall") / med("push1", "aws", "wall")
    print(f"- push1: dv ÷ aws s3 sync of the store = {r:.2f}, target ≤ 0.9: {verdict(r <= 0.9)}")
for name in ("push2", "pull2"):
    if (name, "aws") in rows and (name, "dv") in rows:
        r = med(name, "aws", "wall") / med(name, "dv", "wall")
        print(f"- {name}: aws s3 sync of the changed file ÷ dv = {r:.1f}, target ≥ 20: {verdict(r >= 20)}")
for name in ("push1", "push2"):
    if (name, "dv") in rows:
        p, b = med(name, "dv", "puts"), med(name, "dv", "sent")
        budget = b / (32 << 20) + 10
        print(f"- {name}: {p:.0f} PUTs, budget {budget:.1f}: {verdict(p <= budget)}")
if ("treepull1", "dv") in rows:
    n = med("treepull1", "dv", "reqs")
    print(f"- one 10 MiB file of the 100,000-file tree, index cache warm: {n:.0f} requests, target ≤ 5: {verdict(n <= 5)}")
elif tree == "1":
    print("- one 10 MiB file of the 100,000-file tree: dv pull of a path inside a tracked directory failed (logs/treepull1.dv.1.log): FAIL")
PY
cat "$WORK/wan.md"
