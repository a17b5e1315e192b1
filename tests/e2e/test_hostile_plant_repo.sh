#!/usr/bin/env bash
# A hostile repository makes dv checkout create a git repository (or a .dv directory)
# inside the work tree: a pointer sub/.git.dv of kind dir whose tree is a git
# directory with core.fsmonitor set to a command, a directory pointer whose tree
# has an entry named .git (or a spelling that a case-insensitive, NTFS or 8.3 file
# system takes for .git: .GIT, .Git, .git., ".git ", GIT~1) or .dv (.DV), or the
# top-level pointers .git.dv and .dv.dv restored with --force over the real ones.
# The next git status in that directory runs the attacker's command.
#
# Strict reading of the safe behaviour: dv refuses such a name when it reads the
# pointer or tree (exit 2..127), naming the path, before it writes anything; it
# does so on every file system, not only where the spelling aliases .git, as git
# does for the names it accepts in its own trees (core.protectNTFS/protectHFS).
# Afterwards git status in the work tree and in the directory runs nothing.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

PWNED=$T/outside/sentinel/pwned
# A git directory git accepts as a repository, with a command to run on git status.
gitdir='{"dir": {"HEAD": {"file": "ref: refs/heads/main\n"},
                 "config": {"file": "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = touch '$PWNED'\n"},
                 "objects": {"dir": {"info": {"dir": {}}, "pack": {"dir": {}}}},
                 "refs": {"dir": {"heads": {"dir": {}}, "tags": {"dir": {}}}}}}'

# planted NAME SPEC DIR-TO-GIT-STATUS NAMED CMD... (NAMED: texts stderr must hold, split at '|')
planted() {
    local name=$1 spec=$2 gdir=$3 named=$4; shift 4
    step "$name: dv $* (expect $named refused)"
    cd "$T"
    hostile_origin "$T/o/$name"
    plant_pointers "$spec"
    hostile_clone "$T/o/$name" "$T/w/$name"
    if [ "$1" = checkout ]; then
        printf '%s' "$spec" | $HOSTILE plant --root "$T/scratch-$name" --packs .dv/cache/packs - >/dev/null
    fi
    hostile_sentinel
    snap_outside
    run_dv 60 "$@"
    local rc=$RC
    (cd "$WORK" && timeout 20 git status >/dev/null 2>&1) || true
    if [ -d "$WORK/$gdir" ]; then
        (cd "$WORK/$gdir" && timeout 20 git status >/dev/null 2>&1) || true
    fi
    [ ! -e "$PWNED" ] || fail "git status ran the planted core.fsmonitor command"
    ok "git status ran nothing"
    assert_outside_intact "dv $*"
    assert_nothing_planted
    RC=$rc
    assert_rc_refused
    local names
    IFS='|' read -ra names <<<"$named"
    assert_err_names "${names[@]}"
}

hostile_case sub-git-checkout planted sub-git-checkout \
    '{"pointers": {"sub.keep.dv": {"file": "x\n"}, "sub/.git.dv": '"$gitdir"'}}' sub sub/.git checkout
hostile_case sub-git-pull planted sub-git-pull \
    '{"pointers": {"sub/.git.dv": '"$gitdir"'}}' sub sub/.git pull

n=0
for entry in .git .GIT .Git .git. ".git " GIT~1 .dv .DV; do
    n=$((n + 1))
    spec='{"pointers": {"d.dv": {"dir": {"f": {"file": "fine\n"}, "'"$entry"'": '"$gitdir"'}}}}'
    hostile_case "entry-$n[$entry]" planted "entry-$n" "$spec" d "d/$entry" checkout
done
# dv pull refuses the tree while fetching, where objects are reached once each whatever
# the path: it names the tree, the pointer it was reached from and the entry.
hostile_case entry-git-pull planted entry-git-pull \
    '{"pointers": {"d.dv": {"dir": {".git": '"$gitdir"'}}}}' d "d.dv|'.git'" pull

hostile_case top-git planted top-git '{"pointers": {".git.dv": '"$gitdir"'}}' . .git checkout --force
hostile_case top-dv planted top-dv \
    '{"pointers": {".dv.dv": {"dir": {"config": {"file": "[core]\n\tversion = 1\n[cache]\n\tdir = '$T/outside/sentinel'\n"}}}}}' \
    . .dv checkout --force
hostile_finish
