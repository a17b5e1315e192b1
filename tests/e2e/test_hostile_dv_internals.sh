#!/usr/bin/env bash
# A hostile repository commits dv's own local files: .dv/lock as a symlink to an
# outside file (taking the lock writes the pid into it, truncating it), .dv/tmp as a
# symlink to an outside directory (emptied by add and checkout), .dv/cache as a
# symlink (the store would live outside), cache.dir in the committed .dv/config (dv
# would write packs into, and clean, a directory of the attacker's choosing), and a
# .gitignore that is a symlink to an outside file (dv add appends to it and stages
# its content).
#
# Strict reading of the safe behaviour:
# - .dv/lock, .dv/tmp, .dv/cache that are symlinks: every command that would use
#   them refuses (exit 2..127), naming the path and saying to remove (or delete) it;
#   nothing is opened through the link. dv status need not take the lock, but must
#   not write through it either, and exits below 128.
# - cache.dir is honoured only from .dv/config.local, ~/.config/dv/config or the
#   environment, never from the committed .dv/config: there it is ignored (a warning
#   is fine) and dv add stores into .dv/cache as usual.
# - .gitignore (at the top or beside the added path) that is a symlink: dv add
#   refuses, naming it; the index never gets the outside file's content.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

# committed NAME SETUP: an origin with a data pointer (objects on the remote), where
# the function SETUP commits the hostile state; the victim clones it into $T/w/NAME,
# has the objects in its store and a new file new.txt to add.
committed() {
    local name=$1 setup=$2
    cd "$T"
    hostile_sentinel
    mkdir -p "$SENTINEL/tmp" "$SENTINEL/packs"
    printf 'leftover\n' >"$SENTINEL/tmp/leftover"
    printf 'leftover\n' >"$SENTINEL/packs/junk"
    hostile_origin "$T/o/$name"
    plant_pointers '{"pointers": {"data.dv": {"file": "tracked data\n"}}}'
    "$setup"
    git commit -q -m hostile
    hostile_clone "$T/o/$name" "$T/w/$name"
    if [ ! -L .dv/cache ]; then
        # The objects are already in the victim's store (an earlier dv fetch).
        $HOSTILE plant --root "$T/scratch-$name" --packs .dv/cache/packs - >/dev/null \
            <<<'{"pointers": {"data.dv": {"file": "tracked data\n"}}}'
    fi
    printf 'new data\n' >new.txt
}

setup_lock() { ln -s "$SENTINEL/a.txt" .dv/lock; git add -f .dv/lock; }
setup_tmp() { ln -s "$SENTINEL" .dv/tmp; git add -f .dv/tmp; }
setup_cache() { ln -s "$SENTINEL" .dv/cache; git add -f .dv/cache; }
setup_cachedir() { git config -f .dv/config cache.dir "$SENTINEL"; git add .dv/config; }
setup_gitignore() { ln -s "$SENTINEL/secret.txt" .gitignore; git add .gitignore; }
setup_sub_gitignore() {
    mkdir sub
    printf 'sub\n' >sub/keep
    ln -s "$SENTINEL/secret.txt" sub/.gitignore
    git add sub
}

# link_refused NAME SETUP PATH CMD...: with the hostile state, dv CMD refuses naming PATH.
link_refused() {
    local name=$1 setup=$2 path=$3; shift 3
    step "$name: committed $path, dv $*"
    committed "$name" "$setup"
    snap_outside
    run_dv 60 "$@"
    assert_outside_intact "dv $*"
    assert_nothing_planted
    assert_rc_refused
    assert_err_names "$path"
    assert_match "$ERR" '[Rr]emov|[Dd]elet|rm '
}

for cmd in "add new.txt" checkout pull; do
    n=${cmd%% *}
    hostile_case "lock-$n" link_refused "lock-$n" setup_lock .dv/lock $cmd
    hostile_case "tmp-$n" link_refused "tmp-$n" setup_tmp .dv/tmp $cmd
    hostile_case "cache-$n" link_refused "cache-$n" setup_cache .dv/cache $cmd
done

lock_status() {
    step "lock-status: committed .dv/lock, dv status"
    committed lock-status setup_lock
    snap_outside
    run_dv 60 status
    assert_outside_intact "dv status"
    assert_nothing_planted
    [ "$RC" -lt 128 ] || fail "dv status died of a signal (exit $RC)"
    ok "dv status exit $RC"
}
hostile_case lock-status lock_status

cachedir_committed() {
    step "cachedir: cache.dir in the committed .dv/config is not honoured"
    committed cachedir setup_cachedir
    snap_outside
    local before
    before=$(pack_count)
    run_dv 60 add new.txt
    assert_outside_intact "dv add"
    assert_eq 0 "$RC" "exit of dv add"
    [ "$(pack_count)" -gt "$before" ] || fail "dv add stored nothing in .dv/cache"
    ok "dv add stored into .dv/cache ($(pack_count) pack)"
    run_dv 60 pull
    assert_outside_intact "dv pull"
    assert_eq 0 "$RC" "exit of dv pull"
    assert_eq "tracked data" "$(cat data)" "data"
    assert_nothing_planted
}
hostile_case cachedir cachedir_committed

cachedir_local() {
    step "cachedir-local: cache.dir in .dv/config.local and ~/.config/dv/config is honoured"
    committed cachedir-local setup_cachedir
    git config -f .dv/config.local cache.dir "$T/mycache"
    snap_outside
    local before
    before=$(pack_count)
    run_dv 60 add new.txt
    assert_eq 0 "$RC" "exit of dv add"
    [ -n "$(find "$T/mycache/packs" -name '*.pack' 2>/dev/null)" ] || fail "no pack in the cache.dir of .dv/config.local"
    [ "$(pack_count)" = "$before" ] || fail "dv add stored into .dv/cache despite .dv/config.local"
    ok "stored into $T/mycache"
    rm .dv/config.local
    export HOME=$T/home-cachedir-local   # this case's own, so the setting stays here
    mkdir -p "$HOME/.config/dv"
    cp "$T/home/.gitconfig" "$HOME/"
    git config -f "$HOME/.config/dv/config" cache.dir "$T/mycache2"
    printf 'more\n' >more.txt
    run_dv 60 add more.txt
    assert_eq 0 "$RC" "exit of dv add"
    [ -n "$(find "$T/mycache2/packs" -name '*.pack' 2>/dev/null)" ] || fail "no pack in the cache.dir of ~/.config/dv/config"
    ok "stored into $T/mycache2"
}
hostile_case cachedir-local cachedir_local

# gitignore NAME SETUP ADD-PATH IGNORE-PATH
gitignore_case() {
    local name=$1 setup=$2 add=$3 ign=$4
    step "$name: $ign is a symlink to an outside file, dv add $add"
    committed "$name" "$setup"
    [ -e "$add" ] || printf 'new data\n' >"$add"
    snap_outside
    run_dv 60 add "$add"
    assert_outside_intact "dv add"
    assert_nothing_planted
    if git show ":$ign" 2>/dev/null | grep -qF "$SECRET"; then
        fail "the index holds the outside file's content as $ign"
    fi
    ok "the index does not hold the secret"
    git ls-files -s "$ign" | grep -q '^120000' || fail "$ign is no longer staged as a symlink"
    assert_rc_refused
    assert_err_names "$ign"
    assert_not_contains "$ALL" "$SECRET"
}
hostile_case gitignore gitignore_case gitignore setup_gitignore new.txt .gitignore
hostile_case sub-gitignore gitignore_case sub-gitignore setup_sub_gitignore sub/new.txt sub/.gitignore
hostile_finish
