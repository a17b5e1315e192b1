# Seeded kill loops, shared by test_kill_loop_*.sh and test_s3_kill_loop.sh: run a dv
# command, SIGKILL it after a seeded random delay, then check what a crash may leave.
# Sourced after lib.sh's e2e_init.
#
#   DV_KILL_SEED=<n>   seed of the kill delays (default 1); printed by every run
#   DV_KILL_LONG=1     30 kills per command instead of 3
#   DV_KILL_COUNT=<n>  exactly n kills per command (overrides both)
#   DV_KILL_ITER=<k>   run only kill k of the loop (to replay one failure)
#
# Kill k of command C sleeps fraction(seed, C, k) * D before SIGKILL, where the
# fraction is uniform in [0, 1) and D is the wall time of an unkilled run of C measured
# at the start. The fraction depends only on the seed, C and k, so a failure replays
# with the same DV_KILL_SEED (and DV_KILL_ITER), up to the machine's timing.
#
# The data (two versions, both hashed with Python's hashlib when made, before dv sees
# them): big.bin (256 MiB of random bytes, different in each version) and small/, 300
# files of 0-24 KiB in 10 directories (every other one different in v2), an executable,
# a file only in v1, one only in v2 and a symlink whose target changes.

KILL_SEED=${DV_KILL_SEED:-1}
if [ -n "${DV_KILL_COUNT:-}" ]; then
    KILL_COUNT=$DV_KILL_COUNT
elif [ "${DV_KILL_LONG:-0}" != 0 ]; then
    KILL_COUNT=30
else
    KILL_COUNT=3
fi
KILL_BIG_BYTES=$((256 << 20))
KILL_CONTEXT="setup"
KILL_LANDED=0
KILL_MISSED=0

# On failure, say which kill it was and how to replay it.
_kill_on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '   failed at: %s\n' "$KILL_CONTEXT" >&2
        printf '   replay:    DV_KILL_SEED=%s DV_KILL_ITER=%s bash %s %s\n' "$KILL_SEED" \
            "${KILL_ITER:-?}" "tests/e2e/$E2E_NAME.sh" "$DV" >&2
    fi
    (exit "$rc")
    _e2e_cleanup
}
trap _kill_on_exit EXIT

printf '== kill loop: DV_KILL_SEED=%s, %s kills per command%s\n' "$KILL_SEED" "$KILL_COUNT" \
    "${DV_KILL_ITER:+ (only kill $DV_KILL_ITER)}"

# kill_iterations: the kill numbers to run, one per line.
kill_iterations() {
    if [ -n "${DV_KILL_ITER:-}" ]; then
        echo "$DV_KILL_ITER"
    else
        seq 1 "$KILL_COUNT"
    fi
}

# kill_fraction WHAT K: the seeded fraction in [0, 1) of kill K of WHAT.
kill_fraction() {
    "$PY" -c 'import random, sys
print("%.6f" % random.Random("%s:%s:%s" % tuple(sys.argv[1:4])).random())' \
        "$KILL_SEED" "$1" "$2"
}

# ---------------------------------------------------------------- data

# kill_make_data DIR VERSION: write version 1 or 2 of big.bin and small/ into DIR and
# record each entry in $T/manifest-VERSION.json: path -> ["f", sha256, exec] or ["l", target].
kill_make_data() {
    mkdir -p "$1"
    gen_random "$1/big.bin" "$KILL_BIG_BYTES" $((1000 + $2))
    "$PY" - "$1" "$2" "$T/manifest-$2.json" <<'EOF'
import hashlib, json, os, random, stat, sys
root, version, manifest_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def write(rel, data, mode=0o644):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    os.chmod(p, mode)
for i in range(300):
    # Every other file differs between the versions; the rest are the same bytes.
    v = version if i % 2 == 0 else 1
    r = random.Random("small:%d:%d" % (i, v))
    size = 0 if i == 0 else r.randrange(1, 24 * 1024)
    write("small/d%d/f%03d.bin" % (i % 10, i), r.randbytes(size))
write("small/run.sh", b"#!/bin/sh\necho version %d\n" % version, 0o755)
write("small/only-v%d.txt" % version, b"only in version %d\n" % version)
os.symlink("d%d/f%03d.bin" % (version, version), os.path.join(root, "small/link"))
def digest(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for blk in iter(lambda: f.read(1 << 20), b""):
            h.update(blk)
    return h.hexdigest()
manifest = {"big.bin": ["f", digest(os.path.join(root, "big.bin")), False]}
for dirpath, dirnames, filenames in os.walk(os.path.join(root, "small")):
    for name in filenames:  # the symlink names a file, so os.walk lists it here
        p = os.path.join(dirpath, name)
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            manifest[rel] = ["l", os.readlink(p)]
        else:
            manifest[rel] = ["f", digest(p), bool(st.st_mode & stat.S_IXUSR)]
with open(manifest_path, "w") as f:
    json.dump(manifest, f, indent=0, sort_keys=True)
print("%d entries" % len(manifest))
EOF
}

# kill_place_data VERSION: make big.bin and small/ in the current directory a copy of
# that version (as a user would, outside dv).
kill_place_data() {
    rm -rf big.bin small
    cp -a "$T/v$1/big.bin" "$T/v$1/small" .
}

# kill_check_tree ROOT MODE [what]: every entry of big.bin and small/ below ROOT is
# byte for byte as recorded. MODE "either": each path is as in v1 or as in v2 (absent
# counts as a state; dv's temp names are reported, not judged: kill_assert_no_temps
# does that after the next command). MODE 1 or 2: exactly that version, nothing else.
kill_check_tree() {
    if ! "$PY" - "$1" "$2" "$T/manifest-1.json" "$T/manifest-2.json" \
        "${3:-work tree}" <<'EOF'; then
import hashlib, json, os, re, stat, sys
root, mode = sys.argv[1], sys.argv[2]
versions = {1: json.load(open(sys.argv[3])), 2: json.load(open(sys.argv[4]))}
temp = re.compile(r"^\..*\.tmp-|^\.dv-link-")
now, temps = {}, []
def record(p, rel):
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode):
        now[rel] = ["l", os.readlink(p)]
    elif stat.S_ISREG(st.st_mode):
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for blk in iter(lambda: f.read(1 << 20), b""):
                h.update(blk)
        now[rel] = ["f", h.hexdigest(), bool(st.st_mode & stat.S_IXUSR)]
    else:
        now[rel] = ["other"]
for top in ("big.bin", "small"):
    p = os.path.join(root, top)
    if os.path.lexists(p) and not (os.path.isdir(p) and not os.path.islink(p)):
        record(p, top)
        continue
    for dirpath, dirnames, filenames in os.walk(p):
        for d in list(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                filenames.append(d)
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if mode == "either" and temp.match(name):
                temps.append(rel)
                continue
            record(full, rel)
def show(s):
    if s is None:
        return "absent"
    if s[0] == "f":
        return "file %s%s" % (s[1][:16], " +x" if s[2] else "")
    return " ".join(map(str, s))
bad = []
for rel in sorted(set(now) | set(versions[1]) | set(versions[2])):
    cur = now.get(rel)
    if mode == "either":
        if cur != versions[1].get(rel) and cur != versions[2].get(rel):
            bad.append("%s: %s; v1 %s, v2 %s" % (rel, show(cur), show(versions[1].get(rel)),
                                                  show(versions[2].get(rel))))
    elif cur != versions[int(mode)].get(rel):
        bad.append("%s: %s; expected %s" % (rel, show(cur), show(versions[int(mode)].get(rel))))
same = sum(1 for r in now if now[r] == versions[1].get(r) == versions[2].get(r))
n1 = sum(1 for r in now if now[r] == versions[1].get(r) != versions[2].get(r))
n2 = sum(1 for r in now if now[r] == versions[2].get(r) != versions[1].get(r))
if temps:
    print("temp files beside the data: %s" % " ".join(temps[:5]))
if bad:
    for line in bad[:20]:
        print("   | " + line, file=sys.stderr)
    print("%d of %d paths are neither version" % (len(bad), len(set(now) | set(versions[1]) | set(versions[2]))), file=sys.stderr)
    sys.exit(1)
print("   ok: %s: %d paths the same in both versions, %d as in v1 only, %d as in v2 only"
      % (sys.argv[5], same, n1, n2))
EOF
        fail "$KILL_CONTEXT: ${3:-work tree}: a user file is not byte for byte the expected version ($2)"
    fi
}

# ---------------------------------------------------------------- temp files

# kill_list TEXT: the lines of TEXT on one line, cut short for a message.
kill_list() { printf '%s' "$1" | tr '\n' ' ' | cut -c1-800; }

# kill_assert_no_temps REPO: none of dv's temp names in the work tree or below .dv (the
# store included), and .dv/tmp and the store's tmp/ empty.
kill_assert_no_temps() {
    local repo=$1 found
    found=$(find "$repo" -path "$repo/.git" -prune -o \( -name '.*.tmp-*' -o -name '.dv-link-*' \) \
        -print | sed "s|^$repo/||")
    [ -z "$found" ] || fail "$KILL_CONTEXT: temp files left in the work tree or .dv: $(kill_list "$found")"
    found=$({ find "$repo/.dv/tmp" "$repo/.dv/cache/tmp" -mindepth 1 2>/dev/null || true; } |
        sed "s|^$repo/||")
    [ -z "$found" ] || fail "$KILL_CONTEXT: files left in .dv/tmp or the store's tmp/: $(kill_list "$found")"
    found=$({ find "$repo/.dv/cache/packs" -name '.*' 2>/dev/null || true; } | sed "s|^$repo/||")
    [ -z "$found" ] || fail "$KILL_CONTEXT: hidden files left in the store's packs/: $(kill_list "$found")"
    ok "no temp files left in the work tree, .dv/tmp or the store"
}

# kill_note_leftovers REPO [REMOTE_DIR]: say what the kill left (not judged: the next
# command is what must clean up).
kill_note_leftovers() {
    local repo=$1 remote=${2:-} n_tree n_tmp n_remote=0
    n_tree=$(find "$repo" -path "$repo/.git" -prune -o \( -name '.*.tmp-*' -o -name '.dv-link-*' \) \
        -print | wc -l)
    n_tmp=$({ find "$repo/.dv/tmp" "$repo/.dv/cache/tmp" -mindepth 1 2>/dev/null || true; } | wc -l)
    [ -z "$remote" ] ||
        n_remote=$({ find "$remote" -path "$remote/packs/.*tmp*" 2>/dev/null || true; } | wc -l)
    note "left by the kill: $n_tree temp names in the work tree and .dv, $n_tmp in .dv/tmp" \
        "and the store's tmp/${remote:+, $n_remote on the remote}"
}

# ---------------------------------------------------------------- killing

# kill_measure CMD...: run CMD unkilled, assert exit 0, set KILL_DURATION_MS.
kill_measure() {
    local start
    start=$(now_ms)
    assert_exit 0 "$@"
    KILL_DURATION_MS=$(($(now_ms) - start))
    note "unkilled run took $KILL_DURATION_MS ms"
}

# kill_run WHAT K CMD...: start CMD, SIGKILL it after kill K's delay; KILL_LANDED=1 if
# the signal killed it, 0 if it finished first (then it must have succeeded).
kill_run() {
    local what=$1 k=$2 fraction delay_ms pid rc=0
    shift 2
    fraction=$(kill_fraction "$what" "$k")
    delay_ms=$("$PY" -c 'import sys; print(int(float(sys.argv[1]) * int(sys.argv[2])))' \
        "$fraction" "$KILL_DURATION_MS")
    KILL_ITER=$k
    KILL_CONTEXT="$what, kill $k of $KILL_COUNT (DV_KILL_SEED=$KILL_SEED: fraction $fraction of $KILL_DURATION_MS ms = $delay_ms ms)"
    step "$KILL_CONTEXT"
    E2E_LAST_CMD="$* (killed after $delay_ms ms)"
    "$@" >"$OUT" 2>"$ERR" &
    pid=$!
    track_bg "$pid"
    sleep "$("$PY" -c 'import sys; print("%.3f" % (int(sys.argv[1]) / 1000))' "$delay_ms")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" || rc=$?
    E2E_BG_PIDS=() # reaped: its pid may be reused by an unrelated process
    E2E_LAST_RC=$rc
    if [ "$rc" = 137 ]; then
        KILL_LANDED=1
        KILL_LANDED_TOTAL=$((${KILL_LANDED_TOTAL:-0} + 1))
        ok "killed by SIGKILL after $delay_ms ms"
    else
        [ "$rc" = 0 ] || fail "$KILL_CONTEXT: the command failed on its own (exit $rc) before the kill"
        KILL_LANDED=0
        KILL_MISSED=$((KILL_MISSED + 1))
        note "finished before the kill (exit 0)"
    fi
}

# kill_summary WHAT: how many kills landed.
kill_summary() {
    KILL_CONTEXT="$1: after the loop"
    step "$1: $((KILL_COUNT - KILL_MISSED)) of $KILL_COUNT runs killed mid-way," \
        "$KILL_MISSED finished first (DV_KILL_SEED=$KILL_SEED)"
}

# ---------------------------------------------------------------- push loop

# kill_push_loop: the push scenario, for a repository $R whose HEAD is v2 and whose
# store has both versions. The sourcing test defines:
#   kill_remote_add NAME K    dv remote add NAME for a new, empty remote number K
#   kill_remote_check K       assert nothing but sealed packs and indexes on remote K
#   kill_remote_drop K        delete remote K
#   kill_remote_dir K         the directory of remote K, or nothing if it is not one
kill_push_loop() {
    local k what=$1
    cd "$R"
    step "$what: measure an unkilled push of v2 to an empty remote"
    kill_remote_add kill0 0
    kill_measure "$DV" push -r kill0
    kill_remote_check 0
    kill_remote_drop 0
    KILL_MISSED=0
    for k in $(kill_iterations); do
        cd "$R"
        kill_remote_add "kill$k" "$k"
        kill_run "$what" "$k" "$DV" push -r "kill$k"
        kill_note_leftovers "$R" "$(kill_remote_dir "$k")"
        assert_exit 0 "$DV" fsck
        kill_check_tree "$R" 2 "work tree after the killed push"
        assert_exit 0 "$DV" push -r "kill$k"
        kill_assert_no_temps "$R"
        kill_remote_check "$k"
        assert_exit 0 "$DV" push -r "kill$k"
        assert_contains "$OUT" "already has all"
        step "$what, kill $k: a fresh clone pulls exactly v2"
        rm -rf "$T/clone"
        git clone -q "$R" "$T/clone"
        cd "$T/clone"
        kill_remote_add "kill$k" "$k"
        assert_exit 0 "$DV" pull -r "kill$k"
        kill_check_tree "$T/clone" 2 "clone after dv pull"
        cd "$T"
        rm -rf "$T/clone"
        kill_remote_drop "$k"
    done
    kill_summary "$what"
}
