#!/usr/bin/env bash
# A hostile repository restores a symlink and then a path below it: pointer evil.dv
# (kind symlink) whose target is a directory outside the work tree, and pointer
# evil/x.dv (kind file). Written in that order, x lands outside. Likewise a directory
# pointer d.dv whose tree holds a symlink s to outside, with a pointer d/s/x.dv; and
# a pointer below the symlink whose restore would first remove what is already
# there (an outside directory must not be deleted through the link).
#
# git always creates evil/ (the directory holding evil/x.dv), so without --force dv
# already refuses to replace it (unsaved changes); the --force runs are the ones that
# reach the hole.
#
# Strict reading of the safe behaviour: dv checkout and dv pull look at every path
# they are going to write before writing any, and refuse (exit 2..127) when a path
# to be written lies below a path that is (or will be) a symlink, naming that path.
# Nothing is written: no file outside the work tree, no symlink evil in the work
# tree, no tracked file (evil/x.dv) removed to make room for one, even with --force
# (a pointer below another tracked path is an inconsistent repository, not an
# unsaved change).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

# refused NAME SPEC CMD...: a fresh origin holding SPEC and a victim clone of it with
# the objects in its store; run dv CMD there and check the refusal.
refused() {
    local name=$1 spec=$2; shift 2
    step "$name: dv $*"
    cd "$T"
    hostile_origin "$T/o/$name"
    plant_pointers "$spec"
    hostile_clone "$T/o/$name" "$T/w/$name"
    if [ "$1" = checkout ]; then
        # The objects are already in the victim's store (an earlier dv fetch).
        printf '%s' "$spec" | $HOSTILE plant --root "$T/scratch-$name" --packs .dv/cache/packs - >/dev/null
    fi
    hostile_sentinel
    snap_outside
    run_dv 60 "$@"
    assert_outside_intact "dv $*"
    assert_nothing_planted
    assert_rc_refused
    git ls-files --deleted | grep -q . && fail "dv removed tracked files: $(git ls-files --deleted | tr '\n' ' ')"
    ok "no tracked file removed"
}

# link_case NAME LINK SPEC CMD...: refused, and LINK was not created as a symlink.
link_case() {
    local link=$2
    refused "$1" "$3" "${@:4}"
    assert_err_names "$link"
    [ ! -L "$link" ] || fail "dv created the symlink $link although it refused"
    ok "no symlink $link in the work tree"
}

abs_spec='{"pointers": {"evil.dv": {"symlink": "'$SENTINEL'"}, "evil/x.dv": {"file": "pwned\n"}}}'
rel_spec='{"pointers": {"evil.dv": {"symlink": "../../outside/sentinel"}, "evil/x.dv": {"file": "pwned\n"}}}'
# A directory pointer whose tree holds the symlink.
tree_spec='{"pointers": {"d.dv": {"dir": {"s": {"symlink": "'$SENTINEL'"}, "f": {"file": "ok\n"}}},
                         "d/s/x.dv": {"file": "pwned\n"}}}'
# The item below the link exists outside (the directory sentinel/sub): restoring a
# file, or a different directory, there would first remove it through the link.
rm_file_spec='{"pointers": {"evil.dv": {"symlink": "'$SENTINEL'"}, "evil/sub.dv": {"file": "pwned\n"}}}'
rm_dir_spec='{"pointers": {"evil.dv": {"symlink": "'$SENTINEL'"}, "evil/sub.dv": {"dir": {"other": {"file": "pwned\n"}}}}}'

for cmd in checkout "checkout --force" pull "pull --force"; do
    n=${cmd// /}
    hostile_case "abs-$n" link_case "abs-$n" evil "$abs_spec" $cmd
    hostile_case "rel-$n" link_case "rel-$n" evil "$rel_spec" $cmd
    hostile_case "tree-$n" link_case "tree-$n" d/s "$tree_spec" $cmd
    hostile_case "rm-file-$n" link_case "rm-file-$n" evil "$rm_file_spec" $cmd
    hostile_case "rm-dir-$n" link_case "rm-dir-$n" evil "$rm_dir_spec" $cmd
done

# A symlink that was checked out earlier (legitimately) and is now to become a
# directory: dv replaces the link itself. It must not look through it (status and
# checkout would see the outside files as unsaved changes below e/) nor remove what
# is behind it. The link is clean (its target is in the store), so the safe checkout
# succeeds without --force.
relink_case() {
    step "relink: a checked-out symlink e -> outside becomes a directory"
    cd "$T"
    hostile_origin "$T/o/relink"
    plant_pointers '{"pointers": {"e.dv": {"symlink": "'$SENTINEL'"}}}'
    hostile_clone "$T/o/relink" "$T/w/relink"
    hostile_sentinel
    assert_exit 0 "$DV" pull
    [ -L e ] || fail "e was not restored as a symlink"
    (cd "$T/o/relink" && plant_pointers '{"pointers": {"e.dv": {"dir": {"sub": {"file": "pwned\n"}}}}}')
    git pull -q
    snap_outside
    run_dv 60 status
    assert_not_contains "$ALL" c.txt
    run_dv 60 pull
    assert_outside_intact "dv pull"
    assert_nothing_planted
    assert_eq 0 "$RC" "exit of dv pull"
    assert_not_contains "$ALL" c.txt
    [ -d e ] && [ ! -L e ] && [ -f e/sub ] || fail "e is not the directory of the new pointer"
    ok "e replaced by the directory"
}
hostile_case relink relink_case
hostile_finish
