#!/usr/bin/env bash
# dv pull / fetch from a read-only HTTP mirror of a directory remote, served by a real nginx
# (autoindex on, byte ranges) on loopback: byte-exact restores, also from a mirror under a
# path prefix (with or without a trailing '/'), only what is missing moves, pushes are
# refused, and a server without listings (404, or nginx with autoindex off), with a damaged
# pack, or one that ignores Range (Python's http.server) gives a clear error with nothing
# partial in the work tree.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

MODEL=$((3 * 1024 * 1024))

stat_field() { # stat_field KEY: a counter from the --stats line in $ERR
    sed -n "s/.*requests.* $1=\([0-9]*\).*/\1/p" "$ERR" | tail -n1
}

# untrack_bg PID...: processes that have ended (and were waited for): keep their pids, which
# may be reused, out of the SIGKILL in lib.sh's cleanup (the list track_bg adds to).
untrack_bg() {
    local p
    for p in "${!E2E_BG_PIDS[@]}"; do
        case " $* " in *" ${E2E_BG_PIDS[$p]} "*) unset "E2E_BG_PIDS[$p]" ;; esac
    done
}

free_port() { # a port nothing listens on right now (the kernel picks it)
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- nginx
# The mirror is a real nginx (Debian's package), run by this test as a foreground master
# ("daemon off") in the background, from a config, logs, pid file and temp dirs all in $T
# (-p $T -e ...: nothing under /var/log/nginx or /var/lib/nginx, works as root or not).
#   PORT      $T/store at /, also at /mirror/project/ (alias), and at /nolist/ with
#             autoindex off (a listing is refused: 403)
#   BAD_PORT  $T/store-bad at / (created later; nginx only looks at files per request)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || fail "nginx is not installed (tests/install-deps.sh --test installs it)"
NGINX_LOG=$T/nginx-error.log
NGINX_ACCESS=$T/nginx-access.log

write_nginx_conf() {
    local user_line=""
    # As root, workers would run as nobody and could not read $T (mode 0700).
    [ "$(id -u)" -ne 0 ] || user_line="user root;"
    mkdir -p "$T/nginx-tmp"
    cat >"$T/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
$user_line
pid $T/nginx.pid;
error_log $NGINX_LOG notice;
events { worker_connections 256; }
http {
    default_type application/octet-stream;
    log_format dv '\$request_method \$request_uri \$status range=\$http_range bytes=\$body_bytes_sent';
    access_log $NGINX_ACCESS dv;
    client_body_temp_path $T/nginx-tmp/client_body;
    proxy_temp_path $T/nginx-tmp/proxy;
    fastcgi_temp_path $T/nginx-tmp/fastcgi;
    uwsgi_temp_path $T/nginx-tmp/uwsgi;
    scgi_temp_path $T/nginx-tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        root $T/store;
        autoindex on;
        location /mirror/project/ {
            alias $T/store/;
            autoindex on;
        }
        location /nolist/ {
            alias $T/store/;
            autoindex off;
        }
    }
    server {
        listen 127.0.0.1:$BAD_PORT;
        root $T/store-bad;
        autoindex on;
    }
}
EOF
}

# start_nginx: sets PORT, BAD_PORT, NGINX_PID, NGINX_WORKERS. Retries with new ports if one was taken
# between free_port and nginx's bind().
start_nginx() {
    local attempt i
    for attempt in 1 2 3 4 5; do
        PORT=$(free_port)
        BAD_PORT=$(free_port)
        [ "$PORT" != "$BAD_PORT" ] || continue
        write_nginx_conf
        "$NGINX" -e "$NGINX_LOG" -p "$T" -c "$T/nginx.conf" >>"$T/nginx.out" 2>&1 &
        NGINX_PID=$!
        track_bg "$NGINX_PID"
        for i in $(seq 1 100); do
            kill -0 "$NGINX_PID" 2>/dev/null || break
            if curl -s -o /dev/null "http://127.0.0.1:$PORT/" &&
                curl -s -o /dev/null "http://127.0.0.1:$BAD_PORT/"; then
                # The cleanup in lib.sh SIGKILLs tracked pids; a worker outlives a SIGKILLed
                # master (and keeps the port), so track the workers too.
                NGINX_WORKERS=$(sed -n 's/.*start worker process \([0-9][0-9]*\).*/\1/p' "$NGINX_LOG")
                if [ -z "$NGINX_WORKERS" ]; then
                    kill -TERM "$NGINX_PID" 2>/dev/null || true  # the master stops its workers
                    fail "no 'start worker process' line in $NGINX_LOG"
                fi
                local w
                for w in $NGINX_WORKERS; do track_bg "$w"; done
                note "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') (pid $NGINX_PID) on ports $PORT and $BAD_PORT"
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$NGINX_PID" 2>/dev/null; then
            kill -TERM "$NGINX_PID" 2>/dev/null || true  # the master stops its workers
            wait "$NGINX_PID" 2>/dev/null || true
            sed 's/^/   | /' "$NGINX_LOG" "$T/nginx.out" >&2 || true
            fail "nginx did not answer on port $PORT within 10 s"
        fi
        wait "$NGINX_PID" 2>/dev/null || true
        untrack_bg "$NGINX_PID"
        grep -q "Address already in use" "$NGINX_LOG" "$T/nginx.out" 2>/dev/null || {
            sed 's/^/   | /' "$NGINX_LOG" "$T/nginx.out" >&2 || true
            fail "nginx did not start (log above)"
        }
        note "port $PORT or $BAD_PORT was taken, trying others"
        : >"$NGINX_LOG"
        : >"$T/nginx.out"
    done
    fail "nginx: no free port pair after 5 attempts"
}

step "origin: data and a 3 MiB model, pushed to a directory remote"
new_repo "$T/origin"
mkdir -p data/sub
gen_text data/a.csv 20000 1
gen_random data/sub/b.bin 700000 2
gen_random model.bin "$MODEL" 3
printf 'small\n' >data/small.txt
assert_exit 0 "$DV" remote add --default store "$T/store"
assert_exit 0 "$DV" add data model.bin
git commit -q -m data
assert_exit 0 "$DV" push
snapshot data "$T/data.list" >/dev/null
msha=$(sha_of model.bin)

step "the directory remote is served over HTTP by nginx (autoindex)"
start_nginx
MIRROR=http://127.0.0.1:$PORT
assert_exit 0 curl -fsS "$MIRROR/packs/"
assert_contains "$OUT" "<title>Index of /packs/</title>"
assert_match "$OUT" 'href="[0-9a-f]{64}\.idx"'
# nginx shortens a long name in the link text ("..&gt;"): only the href has the whole name.
# (nginx ends these lines with CRLF.)
assert_match "$OUT" '^<a href="[0-9a-f]{64}\.pack">[0-9a-f]+\.\.&gt;</a> +[0-9]{2}-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2} +[0-9]+[[:space:]]*$'
assert_exit 0 curl -fsS -r 0-15 -o "$T/range.out" -w '%{http_code}' "$MIRROR/packs/$(ls "$T/store/packs" | grep -m1 '\.pack$')"
assert_eq 206 "$(cat "$OUT")" "HTTP status of a Range request"
assert_eq 16 "$(stat -c %s "$T/range.out")" "bytes in a 16-byte range"

step "a fresh clone pulls from the mirror: byte-exact"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" remote add --default mirror "$MIRROR/"
assert_exit 0 "$DV" remote list -v
assert_contains "$OUT" "$MIRROR"
assert_exit 0 "$DV" pull --stats
assert_contains "$OUT" "fetched"
note "$(grep requests "$ERR")"
assert_eq 1 "$(stat_field list)" "list requests"
assert_eq 0 "$(stat_field put)" "put requests"
assert_file_sha model.bin "$msha" "model.bin"
assert_tree_matches data "$T/data.list"
assert_exit 0 "$DV" fsck
assert_match "$NGINX_ACCESS" '^GET /packs/ 200 '
assert_match "$NGINX_ACCESS" '^GET /packs/[0-9a-f]{64}\.pack 206 range=bytes=[0-9]+-[0-9]+ '

step "a mirror under a path prefix (nginx alias), without and with a trailing '/'"
n=0
for url in "$MIRROR/mirror/project" "$MIRROR/mirror/project/"; do
    n=$((n + 1))
    git clone -q "$T/origin" "$T/clone-prefix$n"
    cd "$T/clone-prefix$n"
    assert_exit 0 "$DV" remote add --default prefixed "$url"
    assert_exit 0 "$DV" remote list -v
    assert_contains "$OUT" "$MIRROR/mirror/project"
    assert_exit 0 "$DV" pull --stats
    note "$(grep requests "$ERR")"
    assert_eq 1 "$(stat_field list)" "list requests"
    assert_file_sha model.bin "$msha" "model.bin via $url"
    assert_tree_matches data "$T/data.list" "data via $url"
    assert_exit 0 "$DV" fsck
    assert_exit 0 "$DV" pull --stats
    assert_eq 0 "$(stat_field get)" "get requests once up to date"
done
assert_match "$NGINX_ACCESS" '^GET /mirror/project/packs/ 200 '
assert_match "$NGINX_ACCESS" '^GET /mirror/project/packs/[0-9a-f]{64}\.pack 206 '
assert_not_contains "$NGINX_ACCESS" "//packs/"

step "pull again: nothing to fetch, no GET"
cd "$T/clone"
assert_exit 0 "$DV" pull --stats
assert_eq 0 "$(stat_field get)" "get requests"

step "after an edit upstream, only what is missing comes over HTTP"
cd "$T/origin"
printf 'small, edited\n' >data/small.txt
assert_exit 0 "$DV" add data
git commit -q -m edit
assert_exit 0 "$DV" push
cd "$T/clone"
git pull -q
assert_exit 0 "$DV" pull --stats
note "$(grep requests "$ERR")"
received=$(stat_field received)
[ "$received" -lt 100000 ] || fail "received $received bytes for a one-line edit"
ok "received $received bytes"
assert_eq "small, edited" "$(cat data/small.txt)" "data/small.txt"
assert_exit 0 "$DV" pull --stats
assert_eq 0 "$(stat_field get)" "get requests once up to date"

step "push to the mirror is refused before any work"
echo more >data/more.txt
assert_exit 0 "$DV" add data
assert_exit 2 "$DV" push -r mirror --stats
assert_contains "$ERR" "read-only"
assert_contains "$ERR" "$MIRROR"
assert_not_contains "$ERR" "requests list=1"

step "bad URLs are refused when added"
assert_exit 2 "$DV" remote add broken "http://"
assert_exit 2 "$DV" remote add q "$MIRROR/?x=1"
assert_exit 2 "$DV" remote add --endpoint http://x mirror2 "$MIRROR"
assert_contains "$ERR" "s3://"

step "a server that does not list packs/: a clear error"
git clone -q "$T/origin" "$T/clone2"
cd "$T/clone2"
# pull_fails_unlisted URL: dv pull from the default remote at URL fails, names URL/packs/,
# points at autoindex, and writes nothing into the work tree
pull_fails_unlisted() {
    assert_exit_ge 2 "$DV" pull
    note "$(head -n1 "$ERR")"
    assert_contains "$ERR" "$1/packs/"
    assert_contains "$ERR" "autoindex"
    [ ! -e model.bin ] || fail "model.bin exists after a failed pull"
}
assert_exit 0 "$DV" remote add --default nolist "$MIRROR/nowhere"
pull_fails_unlisted "$MIRROR/nowhere"
note "nginx with autoindex off: the directory exists, its listing is refused (403)"
assert_exit 0 curl -s -o /dev/null -w '%{http_code}' "$MIRROR/nolist/packs/"
assert_eq 403 "$(cat "$OUT")" "HTTP status of /nolist/packs/"
assert_exit 0 "$DV" remote add --default noindex "$MIRROR/nolist"
pull_fails_unlisted "$MIRROR/nolist"

step "a damaged pack served over HTTP is caught; nothing partial lands"
cd "$T/origin"
gen_random bad.bin 500000 12
assert_exit 0 "$DV" add bad.bin
git commit -q -m bad
assert_exit 0 "$DV" push
newest=$(ls -t .dv/cache/packs/*.pack | head -n1)
cp -r "$T/store" "$T/store-bad"
chmod -R u+w "$T/store-bad"
"$PY" - "$T/store-bad/packs/$(basename "$newest")" <<'PYEOF'
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(4096); b = f.read(1); f.seek(4096); f.write(bytes([b[0] ^ 0x55]))
PYEOF
git clone -q "$T/origin" "$T/clone3"
cd "$T/clone3"
assert_exit 0 "$DV" remote add --default bad "http://127.0.0.1:$BAD_PORT"
assert_exit 5 "$DV" pull bad.bin
note "$(head -n1 "$ERR")"
assert_match "$ERR" "CRC|SHA-256|damaged|does not match"
assert_contains "$ERR" "http://127.0.0.1:$BAD_PORT/packs/"
[ ! -e bad.bin ] || fail "bad.bin exists after a failed pull"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" pull model.bin
assert_file_sha model.bin "$msha" "model.bin from the same mirror (undamaged pack)"

step "a server that ignores Range (Python's http.server): a clear error, nothing partial"
PLAIN_PORT=$(free_port)
"$PY" -m http.server --bind 127.0.0.1 --directory "$T/store" "$PLAIN_PORT" \
    2>>"$T/plain-server.log" >/dev/null &
track_bg $!
for i in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PLAIN_PORT/" 2>/dev/null && break
    sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$PLAIN_PORT/" || fail "python3 -m http.server did not start"
git clone -q "$T/origin" "$T/clone4"
cd "$T/clone4"
assert_exit 0 "$DV" remote add --default plain "http://127.0.0.1:$PLAIN_PORT"
assert_exit_ge 2 "$DV" pull model.bin
note "$(head -n1 "$ERR")"
assert_contains "$ERR" "Range"
[ ! -e model.bin ] || fail "model.bin exists after a failed pull"

step "nginx stops cleanly: master and workers gone, no alerts in its log"
kill -QUIT "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null || true
for i in $(seq 1 50); do
    [ -e "$T/nginx.pid" ] || break
    sleep 0.1
done
[ ! -e "$T/nginx.pid" ] || fail "nginx left its pid file after a graceful stop"
for w in $NGINX_WORKERS; do
    # still there, and neither gone nor a zombie nor another program with a reused pid
    if state=$(cat "/proc/$w/stat" 2>/dev/null) && [[ $state == "$w (nginx) "[!ZX]* ]]; then
        fail "nginx worker $w still runs after the master stopped"
    fi
done
ok "master and workers are gone"
untrack_bg "$NGINX_PID" $NGINX_WORKERS
assert_contains "$NGINX_LOG" "exit"
assert_not_contains "$NGINX_LOG" "[emerg]"
assert_not_contains "$NGINX_LOG" "[alert]"
assert_not_contains "$NGINX_LOG" "[crit]"
