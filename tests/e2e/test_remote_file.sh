#!/usr/bin/env bash
# dv push / fetch / pull against a directory remote, next to real git: packs go up whole
# with their indexes, only what is missing moves, and damage or loss on the remote is
# caught before anything reaches the work tree.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

REMOTE_DIR=$T/remote-store
remote_url=$REMOTE_DIR
remote_add_opts=()
remote_ls() { (cd "$REMOTE_DIR" && find packs -type f ! -name '.*' 2>/dev/null | sort); }
remote_get() { cp "$REMOTE_DIR/$1" "$2"; }
remote_put() { cp "$1" "$REMOTE_DIR/$2"; }
remote_rm() { rm -f "$REMOTE_DIR/$1"; }

. "$HERE/remote_scenario.sh"

step "directory remote: no temp files are left behind"
leftovers=$(find "$REMOTE_DIR" -name '.*tmp*' | wc -l)
assert_eq 0 "$leftovers" "temp files on the remote"
