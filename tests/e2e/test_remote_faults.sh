#!/usr/bin/env bash
# Faults of HTTP remotes are bounded: a server that accepts connections and never answers
# makes dv fetch fail within a few seconds with transfer.timeout=2, naming the URL and the
# setting; answers cut short (a ranged GET whose connection closes early, with or without a
# Content-Length, and an index cut short) are retried and the pull succeeds byte for byte; a
# redirect on the same host is followed, one to another host is refused; transfer.timeout out
# of range is a usage error. The servers are small Python programs on loopback.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

cat >"$T/server.py" <<'PYEOF'
# usage: server.py <mode> <root> <port file> [faults file]
#   silent: accept connections, read requests, never answer
#   serve:  serve <root> as a read-only mirror (HTML listing of packs/, byte ranges), with the
#           faults named in <faults file> (one per line; each applies once):
#             cut-pack-length    a ranged GET of a .pack: Content-Length of the whole range,
#                                half the bytes, then the connection closes
#             cut-pack-nolength  the same without Content-Length (206 and Content-Range only)
#             cut-idx            a GET of an .idx: Content-Length, half the bytes, closed
#           /moved/<path> redirects (302) to /<path>; /away/<path> to http://localhost:<port>/<path>
import http.server, os, re, socket, sys, threading, time

mode, root, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
faults_file = sys.argv[4] if len(sys.argv) > 4 else None
lock = threading.Lock()

def take_fault(name):
    if not faults_file:
        return False
    with lock:
        try:
            lines = open(faults_file).read().split()
        except FileNotFoundError:
            return False
        if name not in lines:
            return False
        lines.remove(name)
        open(faults_file, "w").write("\n".join(lines) + "\n")
        with open(faults_file + ".log", "a") as log:
            log.write(name + "\n")
        return True

def publish(port):
    tmp = port_file + ".tmp"
    open(tmp, "w").write(str(port))
    os.rename(tmp, port_file)

if mode == "silent":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    publish(s.getsockname()[1])
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)  # read nothing, answer nothing, close nothing

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        path = self.path.split("?")[0]
        for prefix, where in (("/moved/", "/"), ("/away/", "http://localhost:%d/" % port)):
            if path.startswith(prefix):
                self.send_response(302)
                self.send_header("Location", where + path[len(prefix):])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        local = os.path.join(root, path.lstrip("/"))
        if path.endswith("/") and os.path.isdir(local):
            names = sorted(os.listdir(local))
            body = "".join('<a href="%s">%s</a>\n' % (n, n) for n in names).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not os.path.isfile(local):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(local, "rb").read()
        m = re.match(r"bytes=(\d+)-(\d+)$", self.headers.get("Range", ""))
        if m:
            first, last = int(m.group(1)), min(int(m.group(2)), len(data) - 1)
            part = data[first:last + 1]
            cut_length = path.endswith(".pack") and take_fault("cut-pack-length")
            cut_nolength = not cut_length and path.endswith(".pack") and take_fault("cut-pack-nolength")
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, len(data)))
            if cut_nolength:
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            if cut_length or cut_nolength:
                self.wfile.write(part[:len(part) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(part)
            return
        cut = path.endswith(".idx") and take_fault("cut-idx")
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if cut:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
port = server.server_address[1]
publish(port)
server.serve_forever()
PYEOF

# start_server NAME MODE [ROOT [FAULTS]]: sets PORT
start_server() {
    local port_file=$T/$1.port
    rm -f "$port_file"
    "$PY" "$T/server.py" "$2" "${3:-$T}" "$port_file" ${4:+"$4"} 2>>"$T/$1.log" &
    track_bg $!
    for _ in $(seq 1 100); do [ -s "$port_file" ] && break; sleep 0.05; done
    [ -s "$port_file" ] || fail "the $1 server did not start: $(cat "$T/$1.log")"
    PORT=$(cat "$port_file")
    note "$1 server ($2) on port $PORT"
}

step "a store pushed to a directory remote, to be served over HTTP"
new_repo "$T/origin"
printf '[pack]\n\ttargetSize = 1048576\n' >>.dv/config
gen_random data.bin $((6 * 1024 * 1024)) 7
gen_text notes.csv 20000 8
assert_exit 0 "$DV" add data.bin notes.csv
assert_exit 0 "$DV" remote add --default store "$T/store"
git add -A && git commit -q -m data
assert_exit 0 "$DV" push
n_packs=$(find "$T/store/packs" -name '*.pack' | wc -l | tr -d ' ')
note "$n_packs packs on the remote"

clone() { # clone NAME URL: a fresh clone whose default remote is URL
    git clone -q "$T/origin" "$T/$1"
    cd "$T/$1"
    assert_exit 0 "$DV" remote add --default mirror "$2"
}

step "a server that accepts and never answers: the fetch fails within seconds, with a message"
start_server silent silent
clone silent "http://127.0.0.1:$PORT"
git config -f .dv/config.local transfer.timeout 2
started=$(now_ms)
assert_exit_ge 2 "$DV" fetch
elapsed=$(($(now_ms) - started))
note "failed after $elapsed ms"
[ "$elapsed" -lt 20000 ] || fail "the fetch took $elapsed ms against a silent server"
ok "failed in under 20 s (two attempts of 2 s and a backoff)"
assert_contains "$ERR" "127.0.0.1:$PORT"
assert_contains "$ERR" "transfer.timeout"
note "$(cat "$ERR")"
[ ! -e data.bin ] || fail "data.bin appeared"

step "transfer.timeout out of range or not a number is a usage error naming it"
for bad in 0 3601 -5 soon; do
    git config -f .dv/config.local transfer.timeout "$bad"
    assert_exit 2 "$DV" fetch
    assert_contains "$ERR" "transfer.timeout"
done
git config -f .dv/config.local --unset transfer.timeout

step "answers cut short are retried: the pull succeeds byte for byte"
faults=$T/faults
printf 'cut-idx\ncut-pack-length\ncut-pack-nolength\n' >"$faults"
start_server mirror serve "$T/store" "$faults"
MIRROR_PORT=$PORT
clone cut "http://127.0.0.1:$MIRROR_PORT"
assert_exit 0 "$DV" pull --stats
cp "$ERR" "$T/pull.err"
assert_file_sha data.bin "$(sha_of "$T/origin/data.bin")" "data.bin"
assert_file_sha notes.csv "$(sha_of "$T/origin/notes.csv")" "notes.csv"
assert_exit 0 "$DV" fsck
assert_eq "cut-idx cut-pack-length cut-pack-nolength" "$(sort "$faults.log" | tr '\n' ' ' | sed 's/ $//')" \
    "faults the server injected"
retries=$(sed -n 's/.*retries=\([0-9]*\).*/\1/p' "$T/pull.err" | tail -n1)
note "$(grep -o 'requests.*' "$T/pull.err" | tail -n1)"
[ "${retries:-0}" -ge 3 ] || fail "expected at least 3 retries, got ${retries:-none}"
ok "each cut answer was retried"

step "a redirect to the same server is followed; one to another host is refused"
clone moved "http://127.0.0.1:$MIRROR_PORT/moved"
assert_exit 0 "$DV" pull
assert_file_sha data.bin "$(sha_of "$T/origin/data.bin")" "data.bin through a redirect"
clone away "http://127.0.0.1:$MIRROR_PORT/away"
assert_exit_ge 2 "$DV" pull
assert_contains "$ERR" "redirects to http://localhost:$MIRROR_PORT"
assert_contains "$ERR" "same scheme, host and port"
[ ! -e data.bin ] || fail "data.bin appeared although the redirect was refused"
ok "nothing restored"
