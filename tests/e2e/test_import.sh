#!/usr/bin/env bash
# dv import (dv-import(1)): archives made by GNU tar, bsdtar, zip and Python's tarfile and
# zipfile become a tracked directory whose files, exec bits and symlinks are those the test
# recorded before any archive was made; the pointer is staged; --no-checkout, standard
# input, compressed tars, entries out of order, hard links, an existing destination. A
# hostile archive of each kind is refused naming the entry, with the store, the work tree
# and git's index left exactly as they were.
GEN=$(realpath "$(dirname "${BASH_SOURCE[0]}")/import_archives.py")
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "the data set, recorded before any tool sees it"
"$PY" "$GEN" tree "$T/src"
snapshot "$T/src" "$T/src.listing" >/dev/null
n_src=$(wc -l <"$T/src.listing")
note "$n_src entries recorded"

step "archives of it"
A=$T/archives
mkdir -p "$A"
(cd "$T/src" && tar --format=gnu -cf "$A/gnu.tar" .)
(cd "$T/src" && tar --format=pax -cf "$A/pax.tar" .)
(cd "$T/src" && tar -czf "$A/tar.tar.gz" .)
(cd "$T/src" && tar --zstd -cf "$A/tar.tar.zst" .)
(cd "$T/src" && tar -cJf "$A/tar.tar.xz" .)
(cd "$T/src" && bsdtar -cf "$A/bsdtar.tar" .)
(cd "$T/src" && zip -qry "$A/zip.zip" .)
"$PY" "$GEN" pytar pax "$T/src" "$A/pytar-pax.tar"
"$PY" "$GEN" pytar gnu "$T/src" "$A/pytar-gnu.tar"
"$PY" "$GEN" pyzip "$T/src" "$A/pyzip64.zip"
ls "$A" | sed 's/^/   /'

step "a repository"
new_repo "$T/repo"
printf 'keep\n' >keep.txt
git add keep.txt
git commit -q -m base

# state: everything a refused import must leave as it was: the store's files, the work
# tree (outside .git) and git's index. Not the stat cache (.dv/index): the check of a
# tracked destination is a dv status, which may remember the hashes it computed there.
state() {
    {
        find .dv/cache -type f -printf '%P %s\n' | LC_ALL=C sort
        tree_listing . | grep -v '^\.git/' | grep -v '^\.git	' | grep -v '^\.dv/index	'
        git ls-files -s --debug | sha256sum
        sha256sum <.git/index
    } >"$1"
}
assert_state_is() {
    state "$T/.state.now"
    if ! cmp -s "$1" "$T/.state.now"; then
        diff -u "$1" "$T/.state.now" | head -30 >&2
        fail "$2: the store, the work tree or git's index changed"
    fi
    ok "$2: store, work tree and index unchanged"
}

for archive in gnu.tar pax.tar tar.tar.gz tar.tar.zst tar.tar.xz bsdtar.tar zip.zip pytar-pax.tar pytar-gnu.tar pyzip64.zip; do
    step "import of $archive"
    dest=in/${archive//./-}
    assert_exit 0 "$DV" import "$A/$archive" "$dest"
    assert_contains "$OUT" "imported"
    assert_tree_matches "$dest" "$T/src.listing" "$archive"
    git diff --cached --name-only >"$T/staged"
    assert_contains "$T/staged" "$dest.dv"
    assert_contains "$dest.dv" "kind: dir"
    assert_contains in/.gitignore "/${dest#in/}"
done
n_files=$(grep -c -v '	d ' "$T/src.listing")
assert_contains in/gnu-tar.dv "files: $n_files"
assert_exit 0 "$DV" status in/gnu-tar
assert_exit 0 "$DV" fsck
git commit -q -m imported

step "the same archive again, into another path, stores nothing new"
before=$(store_bytes)
assert_exit 0 "$DV" import "$A/pax.tar" again
assert_tree_matches again "$T/src.listing" "pax.tar again"
assert_eq "$before" "$(store_bytes)" "store bytes after importing the same content"

step "standard input"
assert_exit 0 bash -c "cat '$A/tar.tar.gz' | '$DV' import - from-stdin"
assert_tree_matches from-stdin "$T/src.listing" "tar.gz from standard input"
assert_exit 0 bash -c "cat '$A/zip.zip' | '$DV' import - from-stdin-zip"
assert_tree_matches from-stdin-zip "$T/src.listing" "zip from standard input"

step "--no-checkout leaves the work tree alone"
assert_exit 0 "$DV" import --no-checkout "$A/gnu.tar" later
[ ! -e later ] || fail "--no-checkout wrote later/"
ok "later/ not written"
git diff --cached --name-only >"$T/staged"
assert_contains "$T/staged" "later.dv"
assert_exit 0 "$DV" checkout later
assert_tree_matches later "$T/src.listing" "later, checked out afterwards"

step "entries out of order, without their directories"
"$PY" "$GEN" unordered "$T/unordered.tar"
assert_exit 0 "$DV" import "$T/unordered.tar" unordered
assert_eq "deep" "$(cat unordered/z/y/x/deep.txt)" "z/y/x/deep.txt"
assert_eq "a" "$(cat unordered/a.txt)" "a.txt"
[ -x unordered/m/n.txt ] || fail "m/n.txt lost its exec bit"
ok "m/n.txt is executable"

step "a hard link to an earlier entry is a file of the same content"
"$PY" "$GEN" hardlink "$T/hard.tar"
want=$(tar -xOf "$T/hard.tar" orig/file.bin | sha256sum | cut -d' ' -f1)
assert_exit 0 "$DV" import "$T/hard.tar" hard
assert_file_sha hard/orig/file.bin "$want"
assert_file_sha hard/copy/link.bin "$want"
[ ! hard/copy/link.bin -ef hard/orig/file.bin ] || fail "checked out as one inode"
ok "two files"
git commit -q -m more

step "an existing destination"
mkdir untracked
printf 'mine\n' >untracked/notes.txt
state "$T/state"
assert_exit 4 "$DV" import "$A/pax.tar" untracked
assert_contains "$ERR" "untracked already exists"
assert_contains "$ERR" "nothing was imported"
assert_state_is "$T/state" "untracked destination"
note "a tracked destination whose data is unchanged is replaced"
assert_exit 0 "$DV" import "$T/unordered.tar" in/gnu-tar
assert_eq "deep" "$(cat in/gnu-tar/z/y/x/deep.txt)" "in/gnu-tar replaced"
[ ! -e in/gnu-tar/README.txt ] || fail "the old content of in/gnu-tar is still there"
ok "old files gone"
note "unsaved changes are never overwritten without --force"
printf 'unsaved\n' >>in/pax-tar/README.txt
state "$T/state"
assert_exit 4 "$DV" import "$T/unordered.tar" in/pax-tar
assert_contains "$ERR" "in/pax-tar has changes"
assert_state_is "$T/state" "modified destination"
assert_exit 0 "$DV" import --force "$T/unordered.tar" in/pax-tar
assert_eq "deep" "$(cat in/pax-tar/z/y/x/deep.txt)" "in/pax-tar replaced with --force"
assert_exit 0 "$DV" import --force "$A/pax.tar" untracked
assert_tree_matches untracked "$T/src.listing" "untracked, replaced with --force"
git commit -q -m replaced

step "hostile archives are refused, naming the entry, and change nothing"
# a small pack target, so that the good file before each hostile entry fills sealed packs
assert_exit 0 "$DV" config pack.targetSize 1048576
git commit -q -m config .dv/config
# kind, archive formats, what the message names
refusals="
traversal:gnu pax zip:'../outside.txt' goes up with '..'
absolute:gnu pax zip:is an absolute path
symlink-escape:gnu pax zip:'esc/through.txt' lies below 'esc'
symlink-escape-late:gnu pax zip:'e' is a symlink to 'd/up/..', which is outside the archive
device:gnu pax zip:'null' is a device file
fifo:gnu pax:'pipe' is a named pipe
hardlink-out:gnu pax:'passwd' links to a name that goes up with '..'
hardlink-missing:gnu pax:'gone' is a hard link to 'not/in/archive', which is not an earlier entry
duplicate:gnu pax zip:'good/big.bin' is there twice
dotgit:gnu pax zip:which is a name dv never writes
"
while IFS=: read -r kind formats message; do
    [ -n "$kind" ] || continue
    for format in $formats; do
        ext=tar
        [ "$format" = zip ] && ext=zip
        archive=$T/evil-$kind-$format.$ext
        "$PY" "$GEN" evil "$kind" "$format" "$archive"
        state "$T/state"
        assert_exit 5 "$DV" import "$archive" evil
        assert_contains "$ERR" "$message"
        assert_contains "$ERR" "nothing was imported"
        assert_state_is "$T/state" "$kind ($format)"
        [ -z "$(ls -A .dv/cache/import)" ] || fail "a staging store was left in .dv/cache/import"
        ok "no staging store left"
    done
done <<<"$refusals"
[ ! -e "$T/outside.txt" ] && [ ! -e /tmp/dv-import-absolute.txt ] || fail "a file was written outside"
ok "nothing written outside the work tree"

step "a damaged archive is refused too"
head -c 200000 "$A/tar.tar.gz" >"$T/cut.tar.gz"
state "$T/state"
assert_exit 5 "$DV" import "$T/cut.tar.gz" cut
assert_contains "$ERR" "archive $T/cut.tar.gz"
assert_state_is "$T/state" "truncated tar.gz"
head -c 100 /dev/urandom >"$T/noise.bin"
assert_exit 5 "$DV" import "$T/noise.bin" noise
assert_state_is "$T/state" "not an archive"
assert_exit 2 "$DV" import "$T/missing.tar" x
assert_exit 2 "$DV" import "$A/pax.tar" x.dv
assert_exit 2 "$DV" import "$A/pax.tar" keep.txt
assert_state_is "$T/state" "usage errors"
assert_exit 0 "$DV" fsck

step "a staging store a killed import left is removed by the next import, a live one is not"
mkdir -p .dv/cache/import/killed1/packs .dv/cache/import/young1/packs
printf 'x' >.dv/cache/import/killed1/packs/leftover.pack
touch -d '2 hours ago' .dv/cache/import/killed1
assert_exit 0 "$DV" import "$T/unordered.tar" after-kill
[ ! -e .dv/cache/import/killed1 ] || fail "the killed import's staging store is still there"
ok "killed1 removed"
[ -d .dv/cache/import/young1 ] || fail "a staging store younger than a minute was removed"
ok "young1 kept (its importer may still be starting)"
mkdir -p .dv/cache/import/held1
touch -d '2 hours ago' .dv/cache/import/held1
flock .dv/cache/import/held1 sleep 30 &
track_bg $!
sleep 0.5
assert_exit 0 "$DV" import "$T/unordered.tar" after-held
[ -d .dv/cache/import/held1 ] || fail "a staging store whose lock is held was removed"
ok "held1 kept (its lock is held)"
