#!/usr/bin/env bash
# dv pull of paths inside a tracked directory: only what the path needs is fetched and
# restored (the directories above it made), the trees on the way are kept aside in the
# cache and never make the store look as if it held the whole directory; --rev restores
# the path as it was and leaves the pointer file alone; unsaved changes are refused; dv gc
# keeps what such a pull brought; a later whole pull finishes the directory.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

REMOTE_DIR=$T/remote-store

step "origin: a tracked directory at v1 and v2, pushed"
new_repo "$T/origin"
mkdir -p tree/a/deep tree/b
gen_random tree/a/big $((3 << 20)) 31
gen_text tree/a/x 40 32
gen_random tree/a/deep/z 70000 33
gen_text tree/b/y 20 34
ln -s ../b/y tree/a/ln
x1=$(sha_of tree/a/x)
assert_exit 0 "$DV" remote add --default origin "$REMOTE_DIR"
assert_exit 0 "$DV" add tree
git commit -q -m v1
git tag v1
assert_exit 0 "$DV" push
gen_text tree/a/x 50 35
gen_random tree/b/y 900000 36
assert_exit 0 "$DV" add tree
git commit -q -m v2
assert_exit 0 "$DV" push
big=$(sha_of tree/a/big)
x2=$(sha_of tree/a/x)
z=$(sha_of tree/a/deep/z)
snapshot tree "$T/v2.list" >/dev/null
assert_ne "$x1" "$x2" "tree/a/x at v1 and v2"

step "a fresh clone pulls one file of the directory, and nothing else"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" remote list
assert_exit 0 "$DV" pull tree/a/big
assert_file_sha tree/a/big "$big" "tree/a/big"
assert_eq "tree tree/a tree/a/big" "$(find tree | sort | tr '\n' ' ' | sed 's/ $//')" \
    "what the pull wrote"
# the store has the file's chunks: about 3 MiB, not the 900 kB of tree/b/y as well
bytes=$(store_bytes)
[ "$bytes" -ge $((3 << 20)) ] && [ "$bytes" -lt $(((3 << 20) + 400000)) ] ||
    fail "the store holds $bytes bytes after pulling one 3 MiB file"
assert_exit 0 "$DV" fsck
ok "only tree/a/big was written; the store holds $bytes bytes"

step "with the remote gone, the path is restored again from the store (its trees in the cache)"
mv "$REMOTE_DIR" "$T/away"
rm tree/a/big
assert_exit 0 "$DV" checkout tree/a/big
assert_file_sha tree/a/big "$big" "tree/a/big, restored offline"
# the directory itself is not in the store: its own checkout refuses, naming it
assert_exit_ge 1 "$DV" checkout tree
assert_contains "$ERR" "tree"
assert_file_sha tree/a/big "$big" "tree/a/big after the refused checkout"
[ ! -e tree/b ] || fail "the refused checkout wrote tree/b"
mv "$T/away" "$REMOTE_DIR"

step "a directory and a symbolic link inside, at once"
assert_exit 0 "$DV" pull tree/a/deep tree/a/ln
assert_file_sha tree/a/deep/z "$z" "tree/a/deep/z"
assert_eq "../b/y" "$(readlink tree/a/ln)" "the link's target"
[ ! -e tree/a/x ] && [ ! -e tree/b ] || fail "the pull wrote paths it was not given"
ok "tree/a/deep and tree/a/ln, nothing else"

step "paths the directory does not hold are refused, and nothing is written"
before=$(tree_digest tree)
assert_exit 2 "$DV" pull tree/a/nope
assert_contains "$ERR" "tree/a/nope"
assert_contains "$ERR" "tree/a holds no nope"
assert_exit 2 "$DV" pull tree/a/big/q
assert_contains "$ERR" "tree/a/big is a file"
assert_exit 2 "$DV" pull tree/missing/x
assert_eq "$before" "$(tree_digest tree)" "the work tree after the refused pulls"
assert_exit 2 "$DV" status tree/a/nope
assert_contains "$ERR" "tree/a holds no nope"
# a symbolic link where a directory above the path belongs is never written through
mkdir "$T/outside"
ln -s "$T/outside" tree/b
assert_exit_ge 1 "$DV" pull tree/b/y
assert_contains "$ERR" "tree/b"
[ -z "$(ls -A "$T/outside")" ] || fail "the pull wrote through the symbolic link tree/b"
rm tree/b
ok "nothing written through tree/b -> \$T/outside"

step "dv status of paths inside; an unsaved change to one is refused; --force replaces it"
assert_exit 0 "$DV" status tree/a/big tree/a/deep/z
assert_contains "$OUT" "2 tracked paths, all clean"
printf 'mine\n' >>tree/a/big
mine=$(sha_of tree/a/big)
assert_exit 1 "$DV" status tree/a/big tree/a/deep/z
assert_contains "$OUT" "modified:      tree/a/big"
assert_not_contains "$OUT" "tree/a/deep/z"
rm tree/a/deep/z
assert_exit 4 "$DV" pull tree/a/big
assert_file_sha tree/a/big "$mine" "the changed tree/a/big, kept"
assert_exit 0 "$DV" pull --force tree/a/big
assert_file_sha tree/a/big "$big" "tree/a/big after --force"

step "--rev restores the path as it was, and leaves the pointer file as it is"
pointer=$(sha_of tree.dv)
assert_exit 0 "$DV" pull --rev v1 tree/a/x
assert_file_sha tree/a/x "$x1" "tree/a/x at v1"
assert_eq "$pointer" "$(sha_of tree.dv)" "tree.dv after the pull of a path at v1"
git diff --quiet -- tree.dv && git diff --cached --quiet -- tree.dv ||
    fail "the pull --rev of a path changed tree.dv in git"
assert_exit 0 "$DV" checkout tree/a/x
assert_file_sha tree/a/x "$x2" "tree/a/x back at the staged version"
ok "tree/a/x at v1, then back; tree.dv untouched"

step "dv gc keeps what the pulls of paths brought"
assert_exit 0 "$DV" gc
mv "$REMOTE_DIR" "$T/away"
rm -f tree/a/big tree/a/x
assert_exit 0 "$DV" checkout tree/a/big tree/a/x
assert_file_sha tree/a/big "$big" "tree/a/big after gc, offline"
assert_file_sha tree/a/x "$x2" "tree/a/x after gc, offline"
mv "$T/away" "$REMOTE_DIR"

step "a whole pull finishes the directory; once v1 is whole too, gc lets the cache go"
assert_exit 0 "$DV" pull
assert_tree_matches tree "$T/v2.list" "tree after the whole pull"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" gc
# tree/a/x of v1 is still in the store in part: the trees down to it stay
[ -n "$(find .dv/cache/partial -name '*.pack' 2>/dev/null)" ] ||
    fail "gc removed the trees down to tree/a/x of v1, whose content the store keeps"
assert_exit 0 "$DV" fetch --rev v1
assert_exit 0 "$DV" gc
[ -z "$(find .dv/cache/partial -name '*.pack' 2>/dev/null)" ] ||
    fail "gc kept .dv/cache/partial once the store held the whole directory"
mv "$REMOTE_DIR" "$T/away"
rm -rf tree
assert_exit 0 "$DV" checkout tree
assert_tree_matches tree "$T/v2.list" "tree restored offline after gc"
mv "$T/away" "$REMOTE_DIR"
