#!/usr/bin/env bash
# The S3 test rig: s3rver (a local S3-compatible server) on 127.0.0.1 behind a proxy that
# checks SigV4 signatures and counts requests (count-proxy.js).
#
#   rig.sh start <dir>          start both (installing the npm packages on first use);
#                               writes <dir>/env to source
#   rig.sh stop <dir>           stop both
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
        const [port, method, path] = process.argv.slice(1);
        const req = require("http").request({ host: "127.0.0.1", port, method, path }, res => {
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
    ' "$port" "$method" "$path"
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
    local dir="$1"
    need_node
    install_deps
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    stop_one "$dir/proxy.state"
    stop_one "$dir/server.state"
    rm -rf "$dir/env" "$dir/data" "$dir/spool"

    nohup node "$RIG_HOME/server.js" "$dir/data" "$BUCKET" "$dir/server.state" \
        </dev/null >"$dir/server.log" 2>&1 &
    wait_for_state "$dir/server.state" "$dir/server.log" "s3rver"
    local server_port
    server_port="$(port_of "$dir/server.state")"

    RIG_ACCESS_KEY_ID="$ACCESS_KEY_ID" RIG_SECRET_ACCESS_KEY="$SECRET_ACCESS_KEY" \
        nohup node "$RIG_HOME/count-proxy.js" "$server_port" "$dir/spool" "$dir/proxy.state" \
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
export DV_TEST_S3_ENDPOINT=http://127.0.0.1:$proxy_port
export DV_TEST_S3_BUCKET=$BUCKET
export DV_TEST_S3_RIG=$dir
export AWS_ACCESS_KEY_ID=$ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$SECRET_ACCESS_KEY
export AWS_DEFAULT_REGION=us-east-1
export AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_PROFILE
export NO_PROXY="127.0.0.1,localhost\${NO_PROXY:+,\$NO_PROXY}"
export no_proxy="\$NO_PROXY"
EOF
    mv "$dir/env.tmp" "$dir/env"
    echo "rig: s3rver on 127.0.0.1:$server_port behind the proxy on 127.0.0.1:$proxy_port" \
        "(bucket $BUCKET); source $dir/env"
}

cmd_stop() {
    local dir="$1"
    [ -d "$dir" ] || return 0
    stop_one "$dir/proxy.state"
    stop_one "$dir/server.state"
    rm -f "$dir/env"
}

[ $# -ge 2 ] || usage
case "$1" in
start) cmd_start "$2" ;;
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
