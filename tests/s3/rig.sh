#!/usr/bin/env bash
# The S3 test rig: s3rver (a local S3-compatible server) on 127.0.0.1 behind a proxy that
# checks SigV4 signatures and counts requests (count-proxy.js).
#
#   rig.sh start <dir> [--rate <tc rate>] [--latency <ms>]
#                               start both (installing the npm packages on first use);
#                               writes <dir>/env to source. With --rate (e.g. 500mbit) the
#                               rig is a modelled WAN: both run in a network namespace of
#                               their own, reached through a veth pair whose two directions
#                               tc (tbf) limits to that rate, and the proxy answers
#                               "Expect: 100-continue" as S3 does. --latency holds back the
#                               first byte of every answer that long (default 0; 25 is a
#                               region some way off). Needs root (ip netns, tc).
#   rig.sh stop <dir>           stop both (and remove the namespace)
#   rig.sh counts <dir> [pfx]   print the proxy's request counts as JSON (for one prefix)
#   rig.sh reset-counts <dir>   zero the counts
#   rig.sh fault <dir> <prefix> <status|drop> [code] [count]
#                               fail the next requests under a key prefix
set -euo pipefail

RIG_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUCKET="dv-test"
ACCESS_KEY_ID="S3RVER"
SECRET_ACCESS_KEY="S3RVER"
START_TIMEOUT_SECONDS=60

die() {
    echo "rig: $*" >&2
    exit 1
}

usage() {
    echo "usage: rig.sh start|stop|counts|reset-counts|fault <dir> [...]" >&2
    exit 2
}

# The namespace, veth names and /30 subnet of the WAN rig in a directory: derived from the
# directory's path, so that rigs in two directories do not collide.
wan_names() {
    local sum
    sum="$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
    WAN_NS="dvwan$((sum % 100000))"
    WAN_HOST_IF="dvw$((sum % 100000))h"
    WAN_NS_IF="dvw$((sum % 100000))n"
    local net=$(((sum / 100000) % 16000))
    WAN_HOST_ADDR="10.$((200 + net / 4000)).$(((net % 4000) / 16)).$(((net % 16) * 16 + 1))"
    WAN_NS_ADDR="${WAN_HOST_ADDR%.*}.$(((net % 16) * 16 + 2))"
}

# Is the namespace of this directory's WAN rig there?
wan_exists() {
    wan_names "$1"
    ip netns list 2>/dev/null | grep -q "^$WAN_NS\b"
}

wan_remove() {
    wan_exists "$1" || return 0
    ip netns delete "$WAN_NS" 2>/dev/null || true
    ip link delete "$WAN_HOST_IF" 2>/dev/null || true
}

# Make the namespace and the veth pair, rate-limited both ways; prints why it cannot.
wan_create() {
    local dir="$1" rate="$2"
    command -v ip >/dev/null || die "the WAN rig needs ip (on Debian: apt-get install iproute2)"
    command -v tc >/dev/null || die "the WAN rig needs tc (on Debian: apt-get install iproute2)"
    wan_remove "$dir"
    wan_names "$dir"
    ip netns add "$WAN_NS" || die "cannot make a network namespace (ip netns add needs root)"
    if ! {
        ip link add "$WAN_HOST_IF" type veth peer name "$WAN_NS_IF" &&
            ip link set "$WAN_NS_IF" netns "$WAN_NS" &&
            ip addr add "$WAN_HOST_ADDR/28" dev "$WAN_HOST_IF" &&
            ip link set "$WAN_HOST_IF" up &&
            ip -n "$WAN_NS" addr add "$WAN_NS_ADDR/28" dev "$WAN_NS_IF" &&
            ip -n "$WAN_NS" link set "$WAN_NS_IF" up &&
            ip -n "$WAN_NS" link set lo up &&
            # tbf: the rate, a burst of 256 KiB, and a queue of at most 50 ms at that rate
            tc qdisc add dev "$WAN_HOST_IF" root tbf rate "$rate" burst 256kb latency 50ms &&
            tc -n "$WAN_NS" qdisc add dev "$WAN_NS_IF" root tbf rate "$rate" burst 256kb latency 50ms
    }; then
        wan_remove "$dir"
        die "cannot set up the veth pair and tc of the WAN rig"
    fi
}

need_node() {
    command -v node >/dev/null || die "node is not installed (on Debian: apt-get install nodejs npm)"
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    [ "$major" -ge 14 ] || die "node $(node --version) is too old; s3rver needs node 14 or newer"
}

install_deps() {
    [ -d "$RIG_HOME/node_modules/s3rver" ] && return 0
    command -v npm >/dev/null || die "npm is not installed (on Debian: apt-get install npm)"
    echo "rig: installing s3rver into $RIG_HOME/node_modules" >&2
    if ! (cd "$RIG_HOME" && npm ci --no-audit --no-fund --loglevel=error >&2); then
        rm -rf "$RIG_HOME/node_modules"
        die "npm ci failed in $RIG_HOME (is the npm registry reachable?)"
    fi
}

# Is process pid running? A zombie (exited, not yet reaped by init) is not.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# The pid recorded in a state file ("<pid> <port>"), if that process is still alive.
live_pid() {
    local file="$1" pid
    [ -f "$file" ] || return 1
    read -r pid _ <"$file" || return 1
    [ -n "$pid" ] && alive "$pid" && echo "$pid"
}

port_of() {
    local file="$1" port
    read -r _ port <"$file"
    echo "$port"
}

stop_one() {
    local file="$1" pid i
    if pid="$(live_pid "$file")"; then
        kill "$pid" 2>/dev/null || true
        for i in $(seq 50); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$file"
}

# GET or POST a rig endpoint of the proxy; prints the body, fails unless the status is 200.
proxy_call() {
    local dir="$1" method="$2" path="$3" port
    [ -f "$dir/proxy.state" ] || die "no rig running in $dir (run rig.sh start $dir)"
    port="$(port_of "$dir/proxy.state")"
    node -e '
        const [host, port, method, path] = process.argv.slice(1);
        const req = require("http").request({ host, port, method, path }, res => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", d => (body += d));
            res.on("end", () => {
                process.stdout.write(body);
                process.exit(res.statusCode === 200 ? 0 : 1);
            });
        });
        req.on("error", err => { console.error(err.message); process.exit(1); });
        req.end();
    ' "$(cat "$dir/address" 2>/dev/null || echo 127.0.0.1)" "$port" "$method" "$path"
}

wait_for_state() {
    local file="$1" log="$2" what="$3" deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    while [ ! -s "$file" ]; do
        if [ $SECONDS -ge $deadline ]; then
            die "$what did not start within ${START_TIMEOUT_SECONDS}s; its log ($log):
$(tail -n 20 "$log" 2>/dev/null)"
        fi
        sleep 0.1
    done
}

cmd_start() {
    local dir="$1" rate="" latency=0
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
        --rate) rate="$2"; shift 2 ;;
        --latency) latency="$2"; shift 2 ;;
        *) usage ;;
        esac
    done
    [[ "$latency" =~ ^[0-9]+$ ]] || die "--latency takes milliseconds, not $latency"
    need_node
    install_deps
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    stop_one "$dir/proxy.state"
    stop_one "$dir/server.state"
    wan_remove "$dir"
    rm -rf "$dir/env" "$dir/data" "$dir/spool" "$dir/address"

    local in_ns=() address=127.0.0.1 cont=0
    if [ -n "$rate" ]; then
        wan_create "$dir" "$rate"
        in_ns=(ip netns exec "$WAN_NS")
        address="$WAN_NS_ADDR"
        cont=1
    fi
    echo "$address" >"$dir/address"

    nohup "${in_ns[@]}" node "$RIG_HOME/server.js" "$dir/data" "$BUCKET" "$dir/server.state" \
        </dev/null >"$dir/server.log" 2>&1 &
    wait_for_state "$dir/server.state" "$dir/server.log" "s3rver"
    local server_port
    server_port="$(port_of "$dir/server.state")"

    RIG_ACCESS_KEY_ID="$ACCESS_KEY_ID" RIG_SECRET_ACCESS_KEY="$SECRET_ACCESS_KEY" \
        RIG_LATENCY_MS="$latency" RIG_CONTINUE="$cont" RIG_LISTEN_ADDRESS="$address" \
        nohup "${in_ns[@]}" node "$RIG_HOME/count-proxy.js" "$server_port" "$dir/spool" "$dir/proxy.state" \
        </dev/null >"$dir/proxy.log" 2>&1 &
    wait_for_state "$dir/proxy.state" "$dir/proxy.log" "the counting proxy"
    local proxy_port deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    proxy_port="$(port_of "$dir/proxy.state")"

    until proxy_call "$dir" GET /__dv_health >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            die "s3rver on port $server_port does not answer; logs: $dir/server.log $dir/proxy.log"
        fi
        sleep 0.1
    done

    cat >"$dir/env.tmp" <<EOF
export DV_TEST_S3_ENDPOINT=http://$address:$proxy_port
export DV_TEST_S3_BUCKET=$BUCKET
export DV_TEST_S3_RIG=$dir
export AWS_ACCESS_KEY_ID=$ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE
${rate:+export DV_TEST_S3_WAN_NS=$WAN_NS DV_TEST_S3_WAN_HOST_IF=$WAN_HOST_IF DV_TEST_S3_WAN_NS_IF=$WAN_NS_IF
}export NO_PROXY="$address,127.0.0.1,localhost\${NO_PROXY:+,\$NO_PROXY}"
export no_proxy="\$NO_PROXY"
EOF
    mv "$dir/env.tmp" "$dir/env"
    echo "rig: s3rver on port $server_port behind the proxy on $address:$proxy_port" \
        "(bucket $BUCKET${rate:+, link $rate}${latency:+, answers ${latency} ms late});" \
        "source $dir/env"
}

cmd_stop() {
    local dir="$1"
    [ -d "$dir" ] || return 0
    stop_one "$dir/proxy.state"
    stop_one "$dir/server.state"
    wan_remove "$dir"
    rm -f "$dir/env" "$dir/address"
}

[ $# -ge 2 ] || usage
case "$1" in
start) shift; cmd_start "$@" ;;
stop) cmd_stop "$2" ;;
counts)
    if [ $# -ge 3 ]; then
        proxy_call "$2" GET "/__dv_counts?prefix=$(node -p 'encodeURIComponent(process.argv[1])' "$3")"
    else
        proxy_call "$2" GET /__dv_counts
    fi
    ;;
reset-counts) proxy_call "$2" POST /__dv_counts/reset >/dev/null ;;
fault)
    [ $# -ge 4 ] || usage
    proxy_call "$2" POST "/__dv_faults?$(node -p '
        const [prefix, status, code, count] = process.argv.slice(1);
        new URLSearchParams({ prefix, status, code: code || "InternalError", count: count || "1" }).toString()
    ' "$3" "$4" "${5:-}" "${6:-}")" >/dev/null
    ;;
*) usage ;;
esac
