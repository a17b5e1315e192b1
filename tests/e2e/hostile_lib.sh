# Helpers for the hostile-repository scenarios (tests/e2e/test_hostile_*.sh), sourced
# after lib.sh and e2e_init. A hostile repository or remote is one an attacker made:
# its pointer files, committed files and packs are valid by the letter of
# docs/formats.md but point outside the work tree. The helpers plant such states
# with hostile.py and check that dv refused without touching anything outside.
#
#   $HOSTILE        python3 hostile.py (run it as: $HOSTILE plant ...)
#   $SENTINEL       $T/outside/sentinel: files, a symlink and a subdirectory that
#                   must stay byte-identical whatever dv is asked to do
#   $REMOTE         $T/remote: a directory remote (packs/ below it)
#   $WORK           the victim's work tree (set by hostile_clone)

HOSTILE_PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/hostile.py
HOSTILE="$PY $HOSTILE_PY"
SENTINEL=$T/outside/sentinel
SECRET=s3cr3t-0f-the-v1ct1m-$$
REMOTE=$T/remote

# hostile_sentinel: create the sentinel directory outside every work tree.
hostile_sentinel() {
    if [ -d "$T/outside" ]; then chmod -R u+rwx "$T/outside"; rm -rf "$T/outside"; fi
    mkdir -p "$SENTINEL/sub" "$REMOTE/packs"
    printf 'keep me\n' >"$SENTINEL/a.txt"
    printf '%s\n' "$SECRET" >"$SENTINEL/secret.txt"
    head -c 3000 /dev/urandom >"$SENTINEL/b.bin"
    printf 'deeper\n' >"$SENTINEL/sub/c.txt"
    ln -s a.txt "$SENTINEL/link"
}

# outside_listing: every path below $T except the victim's work tree ($WORK) and the
# helpers' own scratch files, with the sha256 of each file and the target of each
# symlink: whatever changes here, dv wrote, truncated or deleted outside.
outside_listing() {
    "$PY" - "$T" "${WORK:-/nonexistent}" <<'EOF'
import hashlib, os, stat, sys
top, work = os.fsencode(sys.argv[1]), os.fsencode(os.path.realpath(sys.argv[2]))
rows = []
def walk(d):
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if d == top and name.startswith(b".") or p == work:
            continue
        st = os.lstat(p)
        rel = os.path.relpath(p, top).decode("utf-8", "backslashreplace")
        if stat.S_ISLNK(st.st_mode):
            rows.append("%s\tl %s" % (rel, os.readlink(p).decode("utf-8", "backslashreplace")))
        elif stat.S_ISDIR(st.st_mode):
            rows.append("%s\td %o" % (rel, st.st_mode & 0o7777))
            walk(p)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                rows.append("%s\tf %o %s" % (rel, st.st_mode & 0o7777,
                                             hashlib.sha256(f.read()).hexdigest()))
        else:
            rows.append("%s\to" % rel)
walk(top)
print("\n".join(rows))
EOF
}

# snap_outside: remember the state outside the work tree (call once the hostile state
# is planted, right before the dv commands under test).
snap_outside() {
    outside_listing >"$T/.outside.before"
    [ -d "$WORK/.git" ] && git -C "$WORK" config --list --local | LC_ALL=C sort >"$T/.gitconfig.before"
    if [ -f "$WORK/.dv/config" ]; then sha_of "$WORK/.dv/config" >"$T/.dvconfig.before"; else : >"$T/.dvconfig.before"; fi
}

# assert_outside_intact: nothing outside the work tree was written, truncated, deleted
# or created since snap_outside; the sentinel is still all there.
assert_outside_intact() {
    outside_listing >"$T/.outside.after"
    if ! cmp -s "$T/.outside.before" "$T/.outside.after"; then
        echo "   --- changes outside the work tree (- before, + after):" >&2
        diff -u "$T/.outside.before" "$T/.outside.after" | tail -n +3 | grep -E '^[-+]' |
            head -n 30 | sed 's/^/   | /' >&2 || true
        fail "${1:-dv} changed something outside the work tree"
    fi
    [ -f "$SENTINEL/a.txt" ] && [ -L "$SENTINEL/link" ] && [ -d "$SENTINEL/sub" ] ||
        fail "the sentinel directory is damaged"
    ok "${1:-dv}: nothing outside the work tree changed"
}

# assert_nothing_planted: no repository or dv directory appeared below the work tree
# (any spelling git or a case-insensitive or 8.3 file system would take for one), the
# top .git and .dv are real directories, and git's and dv's config are unchanged.
assert_nothing_planted() {
    local found
    found=$("$PY" - "$WORK" <<'EOF'
import os, sys
top = os.fsencode(sys.argv[1])
def suspicious(name):
    # Windows drops trailing dots and spaces; 8.3 short names look like GIT~1.
    n = name.lower().rstrip(b". ")
    return n in (b".git", b".dv") or n.startswith(b"git~") or n.startswith(b"dv~")
for d, dirs, files in os.walk(top):
    for name in dirs + files:
        p = os.path.join(d, name)
        if d == top and name in (b".git", b".dv"):
            continue
        if suspicious(name):
            print(os.path.relpath(p, top).decode("utf-8", "backslashreplace"))
    if d == top:
        dirs[:] = [x for x in dirs if x not in (b".git", b".dv")]
EOF
)
    [ -z "$found" ] || fail "planted below the work tree: $(echo "$found" | tr '\n' ' ')"
    [ -d "$WORK/.git" ] && [ ! -L "$WORK/.git" ] || fail ".git is no longer a directory"
    [ -d "$WORK/.dv" ] && [ ! -L "$WORK/.dv" ] || fail ".dv is no longer a directory"
    git -C "$WORK" rev-parse --git-dir >/dev/null 2>&1 || fail "git no longer sees the repository"
    if [ -f "$T/.gitconfig.before" ]; then
        git -C "$WORK" config --list --local | LC_ALL=C sort | cmp -s - "$T/.gitconfig.before" ||
            fail ".git/config changed"
    fi
    if [ -s "$T/.dvconfig.before" ]; then
        [ "$(sha_of "$WORK/.dv/config")" = "$(cat "$T/.dvconfig.before")" ] || fail ".dv/config changed"
    fi
    ok "no .git or .dv planted; .git, .git/config and .dv/config intact"
}

# run_dv SECONDS ARGS...: run dv under timeout in the current directory ($RC, $OUT, $ERR).
run_dv() {
    local secs=$1; shift
    run timeout -k 5 "$secs" "$DV" "$@"
    if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
        fail "dv $* did not finish within ${secs}s"
    fi
}

# assert_refused ARGS...: dv ARGS exits with an error (2..127, not a signal).
assert_refused() {
    run_dv 60 "$@"
    assert_rc_refused
}

# assert_rc_refused: the last run_dv exited with an error (2..127, not a signal).
assert_rc_refused() {
    if [ "$RC" -lt 2 ] || [ "$RC" -ge 128 ]; then
        fail "expected $(_short "$E2E_LAST_CMD") to refuse (exit 2..127), got exit $RC"
    fi
    ok "refused with exit $RC: $(_short "$E2E_LAST_CMD")"
}

# assert_err_names TEXT...: stderr names each TEXT (a path or an object id).
assert_err_names() {
    local t
    for t in "$@"; do
        grep -qF -- "$t" "$ERR" || fail "stderr does not name [$t]"
        ok "stderr names [$t]"
    done
}

# hostile_origin DIR: a git repository with dv whose remote is $REMOTE; cd into it.
hostile_origin() {
    new_repo "$1"
    assert_exit 0 "$DV" remote add --default origin "$REMOTE"
    git add -A
    git commit -q -m "dv init"
}

# plant_pointers SPEC-JSON [--packs DIR]...: write the pointers (and their objects, into
# $REMOTE/packs and the given pack directories) into the current repository, commit.
plant_pointers() {
    local spec=$1; shift
    printf '%s' "$spec" | $HOSTILE plant --root . --packs "$REMOTE/packs" "$@" - >"$T/.planted.json" ||
        fail "hostile.py plant failed"
    git add -A
    git commit -q -m "hostile pointers"
}

# hostile_clone ORIGIN DIR: the victim clones ORIGIN into DIR; sets $WORK and cd there.
hostile_clone() {
    git clone -q "$1" "$2"
    WORK=$(realpath "$2")
    cd "$WORK"
}

# oid_of POINTER: the oid hostile.py recorded for a planted pointer.
oid_of() { json_get "$T/.planted.json" "j['$1']"; }

# hostile_case NAME CMD...: run one case in a subshell (its cd and variables stay
# there) and go on with the next case when it fails; hostile_finish reports them all.
HOSTILE_FAILED=()
hostile_case() {
    local name=$1 rc; shift
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    set -e
    [ "$rc" = 0 ] || HOSTILE_FAILED+=("$name")
}

# hostile_finish: fail the scenario when any case failed, listing them.
hostile_finish() {
    if [ "${#HOSTILE_FAILED[@]}" -gt 0 ]; then
        printf '\nFAIL [%s]: %d case(s) failed: %s\n' "$E2E_NAME" "${#HOSTILE_FAILED[@]}" \
            "${HOSTILE_FAILED[*]}" >&2
        exit 1
    fi
}
