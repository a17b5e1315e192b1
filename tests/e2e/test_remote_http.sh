#!/usr/bin/env bash
# dv pull / fetch from a read-only HTTP mirror of a directory remote, served by a real web
# server on loopback (directory listings, byte ranges): byte-exact restores, only what is
# missing moves, pushes are refused, and a server without listings or with a damaged pack
# gives a clear error with nothing partial in the work tree.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

MODEL=$((3 * 1024 * 1024))
N_SERVERS=0

stat_field() { # stat_field KEY: a counter from the --stats line in $ERR
    sed -n "s/.*requests.* $1=\([0-9]*\).*/\1/p" "$ERR" | tail -n1
}

# serve DIR: start a web server on a free loopback port for DIR; sets PORT.
serve() {
    N_SERVERS=$((N_SERVERS + 1))
    local port_file=$T/server$N_SERVERS.port
    "$PY" "$HERE/range_http_server.py" --bind 127.0.0.1 --directory "$1" \
        --port-file "$port_file" 2>>"$T/server$N_SERVERS.log" &
    track_bg $!
    local i
    for i in $(seq 1 100); do
        [ -s "$port_file" ] && break
        sleep 0.1
    done
    [ -s "$port_file" ] || fail "the web server for $1 did not start"
    PORT=$(cat "$port_file")
    note "serving $1 on http://127.0.0.1:$PORT"
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

step "the directory remote is served over HTTP"
serve "$T/store"
MIRROR=http://127.0.0.1:$PORT
assert_exit 0 curl -fsS "$MIRROR/packs/"
assert_match "$OUT" 'href="[0-9a-f]{64}\.idx"'

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

step "pull again: nothing to fetch, no GET"
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
assert_exit 0 "$DV" remote add --default nolist "$MIRROR/nowhere"
assert_exit_ge 2 "$DV" pull
note "$(head -n1 "$ERR")"
assert_contains "$ERR" "$MIRROR/nowhere/packs/"
assert_contains "$ERR" "autoindex"
[ ! -e model.bin ] || fail "model.bin exists after a failed pull"

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
serve "$T/store-bad"
git clone -q "$T/origin" "$T/clone3"
cd "$T/clone3"
assert_exit 0 "$DV" remote add --default bad "http://127.0.0.1:$PORT"
assert_exit 5 "$DV" pull bad.bin
note "$(head -n1 "$ERR")"
assert_match "$ERR" "CRC|SHA-256|damaged|does not match"
assert_contains "$ERR" "http://127.0.0.1:$PORT/packs/"
[ ! -e bad.bin ] || fail "bad.bin exists after a failed pull"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" pull model.bin
assert_file_sha model.bin "$msha" "model.bin from the same mirror (undamaged pack)"

step "a server that ignores Range: a clear error, nothing partial"
PLAIN_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m http.server --bind 127.0.0.1 --directory "$T/store" "$PLAIN_PORT" \
    2>>"$T/plain-server.log" >/dev/null &
track_bg $!
for i in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PLAIN_PORT/" 2>/dev/null && break
    sleep 0.1
done
git clone -q "$T/origin" "$T/clone4"
cd "$T/clone4"
assert_exit 0 "$DV" remote add --default plain "http://127.0.0.1:$PLAIN_PORT"
assert_exit_ge 2 "$DV" pull model.bin
note "$(head -n1 "$ERR")"
assert_contains "$ERR" "Range"
[ ! -e model.bin ] || fail "model.bin exists after a failed pull"
