# Shared helpers for the end-to-end scenarios in tests/e2e/test_*.sh.
#
# Usage, at the top of a scenario:
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#     e2e_init "$@"          # $1 = path of the dv binary
#
# After e2e_init:
#   $DV        absolute path of the dv binary
#   $T         a private temp dir (removed on exit); HOME is $T/home
#   $OUT $ERR  stdout / stderr of the last assert_exit / run_dv ($ALL = both)
#   $PY        a python3 interpreter (used for digests, JSON and data generation)
#
# Set DV_E2E_KEEP=1 to keep the temp dir of a run for inspection.

set -euo pipefail

E2E_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
E2E_BG_PIDS=()

# ---------------------------------------------------------------- reporting

step() { printf '\n== %s\n' "$*"; }
ok()   { printf '   ok: %s\n' "$*"; }
note() { printf '   .. %s\n' "$*"; }

# Print the last command's output (trimmed) to help read a failure.
_show_last() {
    local f
    for f in "$OUT" "$ERR"; do
        [ -n "${f:-}" ] && [ -s "$f" ] || continue
        printf -- '   --- %s (last 40 lines):\n' "$(basename "$f")" >&2
        tail -n 40 "$f" | sed 's/^/   | /' >&2
    done
}

fail() {
    printf '\nFAIL [%s]: %s\n' "$E2E_NAME" "$*" >&2
    if [ -n "${E2E_LAST_CMD:-}" ]; then
        printf '   last command: %s (exit %s)\n' "$E2E_LAST_CMD" "${E2E_LAST_RC:-?}" >&2
        _show_last
    fi
    exit 1
}

# ---------------------------------------------------------------- setup

_e2e_cleanup() {
    local rc=$?
    local p
    for p in "${E2E_BG_PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "${T:-}" ] && [ -d "$T" ]; then
        if [ -n "${DV_E2E_KEEP:-}" ]; then
            printf '   (kept %s because DV_E2E_KEEP is set)\n' "$T" >&2
        else
            chmod -R u+rwx "$T" 2>/dev/null || true
            rm -rf "$T"
        fi
    fi
    if [ "$rc" -eq 0 ]; then
        printf '\nPASS [%s]\n' "$E2E_NAME"
    fi
    exit "$rc"
}

# Remember a background process so it is killed on exit.
track_bg() { E2E_BG_PIDS+=("$1"); }

e2e_init() {
    if [ $# -lt 1 ] || [ -z "$1" ]; then
        echo "usage: bash $0 /path/to/dv" >&2
        exit 2
    fi
    DV=$(realpath -m "$1")
    [ -f "$DV" ] && [ -x "$DV" ] || { echo "not an executable: $DV" >&2; exit 2; }
    if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
    T=$(mktemp -d "${TMPDIR:-/tmp}/dv-e2e-$E2E_NAME.XXXXXX")
    T=$(realpath "$T")
    trap _e2e_cleanup EXIT
    trap 'exit 130' INT TERM
    OUT=$T/.last.out
    ERR=$T/.last.err
    ALL=$T/.last.all
    : >"$OUT"; : >"$ERR"; : >"$ALL"
    export HOME=$T/home
    mkdir -p "$HOME"
    export GIT_AUTHOR_NAME="dv e2e" GIT_AUTHOR_EMAIL="e2e@example.invalid"
    export GIT_COMMITTER_NAME="dv e2e" GIT_COMMITTER_EMAIL="e2e@example.invalid"
    export GIT_CONFIG_NOSYSTEM=1
    export NO_COLOR=1 MANPAGER=cat PAGER=cat GIT_PAGER=cat
    export LC_ALL=C.UTF-8
    unset DV_LOCK_TIMEOUT GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE || true
    git config --global init.defaultBranch main
    git config --global advice.detachedHead false
    git config --global core.autocrlf false
    cd "$T"
    printf '== %s: dv=%s tmp=%s\n' "$E2E_NAME" "$DV" "$T"
}

# new_repo DIR: git init + dv init, cd into it.
new_repo() {
    mkdir -p "$1"
    cd "$1"
    git init -q .
    assert_exit 0 "$DV" init
}

# ---------------------------------------------------------------- assertions

assert_eq() { # assert_eq EXPECTED ACTUAL [what]
    if [ "$1" != "$2" ]; then
        fail "${3:-value}: expected [$1], got [$2]"
    fi
    ok "${3:-value} = [$1]"
}

assert_ne() { # assert_ne A B [what]
    if [ "$1" = "$2" ]; then
        fail "${3:-value}: expected something other than [$1]"
    fi
    ok "${3:-value} != [$1]"
}

# run CMD...: run a command, keep its output in $OUT/$ERR/$ALL and its exit code in $RC.
run() {
    E2E_LAST_CMD="$*"
    RC=0
    "$@" >"$OUT" 2>"$ERR" || RC=$?
    E2E_LAST_RC=$RC
    cat "$OUT" "$ERR" >"$ALL"
}

# assert_exit CODE CMD...: run and check the exit code.
assert_exit() {
    local want=$1; shift
    run "$@"
    if [ "$RC" != "$want" ]; then
        fail "expected exit $want, got $RC: $*"
    fi
    ok "exit $want: $(_short "$*")"
}

# assert_exit_ge MIN CMD...: exit code at least MIN (an error).
assert_exit_ge() {
    local min=$1; shift
    run "$@"
    if [ "$RC" -lt "$min" ]; then
        fail "expected exit >= $min, got $RC: $*"
    fi
    ok "exit $RC (>= $min): $(_short "$*")"
}

_short() { local s="$*"; s=${s//$DV/dv}; s=${s//$T/\$T}; printf '%s' "${s:0:160}"; }

# assert_contains FILE TEXT: FILE contains TEXT (fixed string).
assert_contains() {
    if ! grep -qF -- "$2" "$1"; then
        fail "$(basename "$1") does not contain [$2]"
    fi
    ok "output contains [$2]"
}

assert_not_contains() {
    if grep -qF -- "$2" "$1"; then
        fail "$(basename "$1") unexpectedly contains [$2]"
    fi
    ok "output does not contain [$2]"
}

# assert_match FILE ERE: FILE has a line matching the extended regex.
assert_match() {
    if ! grep -qE -- "$2" "$1"; then
        fail "$(basename "$1") has no line matching /$2/"
    fi
    ok "output matches /$2/"
}

assert_file_sha() { # assert_file_sha FILE SHA256 [what]
    [ -f "$1" ] || fail "${3:-$1}: not a regular file"
    local got
    got=$(sha256sum <"$1" | cut -d' ' -f1)
    [ "$got" = "$2" ] || fail "${3:-$1}: sha256 $got, expected $2"
    ok "${3:-$1}: sha256 ${2:0:16}…"
}

assert_empty() { # assert_empty FILE
    if [ -s "$1" ]; then
        fail "$(basename "$1") is not empty"
    fi
    ok "$(basename "$1") is empty"
}

# git_clean: git status --porcelain (untracked included) prints nothing.
assert_git_clean() {
    local s
    s=$(git status --porcelain --untracked-files=all)
    if [ -n "$s" ]; then
        printf '%s\n' "$s" | head -20 >&2
        fail "git status --porcelain is not clean"
    fi
    ok "git status --porcelain is clean"
}

# ---------------------------------------------------------------- data

sha_of() { sha256sum <"$1" | cut -d' ' -f1; }

# gen_random FILE BYTES SEED: BYTES deterministic pseudo-random bytes.
gen_random() {
    local key
    key=$(printf '%032x' "$3")
    { openssl enc -aes-128-ctr -nosalt -K "$key" -iv 00000000000000000000000000000000 \
        </dev/zero 2>/dev/null || true; } | head -c "$2" >"$1"
    local n
    n=$(stat -c %s "$1")
    [ "$n" = "$2" ] || fail "gen_random $1: wrote $n bytes, wanted $2"
}

# gen_text FILE LINES SEED: deterministic, compressible text.
gen_text() {
    "$PY" - "$1" "$2" "$3" <<'EOF'
import random, sys
path, lines, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(seed)
with open(path, "w") as f:
    for i in range(lines):
        f.write("%d,%d,%s,%.6f\n" % (i, r.randrange(10**6), r.choice(["alpha", "beta", "gamma"]), r.random()))
EOF
}

# tree_listing DIR: one line per entry below DIR, sorted by path bytes:
#   <path as escaped bytes> <type> <exec bit> <sha256 of file | symlink target>
# Types: f file, l symlink (never followed), d directory, o other.
tree_listing() {
    "$PY" - "$1" <<'EOF'
import hashlib, os, stat, sys
root = os.fsencode(sys.argv[1])
rows = []
def esc(b):
    return b.decode("utf-8", "backslashreplace").encode("unicode_escape").decode("ascii")
def walk(rel):
    d = os.path.join(root, rel) if rel else root
    for name in os.listdir(d):
        r = os.path.join(rel, name) if rel else name
        p = os.path.join(root, r)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            rows.append((r, "l - " + esc(os.readlink(p))))
        elif stat.S_ISDIR(st.st_mode):
            rows.append((r, "d - -"))
            walk(r)
        elif stat.S_ISREG(st.st_mode):
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for blk in iter(lambda: f.read(1 << 20), b""):
                    h.update(blk)
            x = "x" if st.st_mode & stat.S_IXUSR else "-"
            rows.append((r, "f %s %s %d" % (x, h.hexdigest(), st.st_size)))
        else:
            rows.append((r, "o - -"))
walk(b"")
rows.sort()
out = sys.stdout
for r, rest in rows:
    out.write(esc(r) + "\t" + rest + "\n")
EOF
}

# tree_digest DIR: sha256 of tree_listing DIR.
tree_digest() { tree_listing "$1" | sha256sum | cut -d' ' -f1; }

# snapshot DIR FILE: save the listing (for diffs on failure); prints its digest.
snapshot() { tree_listing "$1" >"$2"; sha256sum <"$2" | cut -d' ' -f1; }

# assert_tree_matches DIR SNAPSHOT_FILE what
assert_tree_matches() {
    local now=$T/.tree.now
    tree_listing "$1" >"$now"
    if ! cmp -s "$now" "$2"; then
        echo "   --- tree differences (- expected, + actual):" >&2
        diff -u "$2" "$now" | tail -n +3 | grep -E '^[-+]' | head -n 40 | sed 's/^/   | /' >&2 || true
        fail "${3:-tree}: $1 does not match the recorded tree ($(sha256sum <"$2" | cut -c1-16) != $(sha256sum <"$now" | cut -c1-16))"
    fi
    ok "${3:-tree}: tree digest $(sha256sum <"$2" | cut -c1-16)… matches exactly"
}

# ---------------------------------------------------------------- store

# flip_byte FILE OFFSET: xor one byte with 0xff in place.
flip_byte() {
    "$PY" - "$1" "$2" <<'EOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xFF]))
EOF
}

# pack_entry FILE N FIELD: a field of the N-th entry (0-based) of a pack, read from its bytes:
# offset, type (1 chunk, 2 manifest, 3 tree), id (hex), stored (offset of its stored bytes)
pack_entry() {
    "$PY" - "$@" <<'PYEOF'
import struct, sys
path, n, field = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
off = 8
for i in range(n + 1):
    typ, flags, _, raw, stored = struct.unpack(">BBHII", data[off:off + 12])
    if i == n:
        break
    off += 48 + stored
print({"offset": off, "type": typ, "id": data[off + 12:off + 44].hex(), "stored": off + 48}[field])
PYEOF
}

# store_bytes [REPO]: total bytes of the files in .dv/cache/packs.
store_bytes() {
    local d=${1:-.}/.dv/cache/packs
    if [ ! -d "$d" ]; then echo 0; return; fi
    find "$d" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%d\n", s+0}'
}

# pack_count [REPO]: number of .pack files in the store.
pack_count() {
    local d=${1:-.}/.dv/cache/packs
    if [ ! -d "$d" ]; then echo 0; return; fi
    find "$d" -type f -name '*.pack' | wc -l | tr -d ' '
}

# json_get FILE EXPR: evaluate a python expression over the JSON in FILE (bound to j).
json_get() {
    "$PY" -c 'import json,sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"
}

now_ms() { date +%s%3N; }
