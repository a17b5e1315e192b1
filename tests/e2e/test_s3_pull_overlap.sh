#!/usr/bin/env bash
# dv pull restores while it downloads: with one request in flight and the rig's proxy holding
# the ranged read of the second file's last chunks, the first file is already restored whole;
# once the read goes on, the pull finishes with every byte right. A download that fails half
# way leaves whole files or none, a store that fsck finds sound, and a pull that finishes it.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

. "$HERE/s3_lib.sh"

step "origin: a.bin (2 MiB) and b.bin (40 MiB), added at once, pushed as one pack"
# Two pointer files: a directory the work tree lacks is built whole aside and renamed into
# place at its end, so it is files of their own that show the restore's progress.
new_repo "$T/origin"
gen_random a.bin $((2 << 20)) 11
gen_random b.bin $((40 << 20)) 12
asha=$(sha_of a.bin)
bsha=$(sha_of b.bin)
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url"
assert_exit 0 "$DV" add a.bin b.bin
git commit -q -m data
assert_exit 0 "$DV" push
[ "$(remote_ls | grep -c '\.pack$')" = 1 ] || fail "expected one pack on the remote: $(remote_ls)"

clone_fresh() { # clone_fresh DIR
    git clone -q "$T/origin" "$1"
    cd "$1"
    assert_exit 0 "$DV" remote list
}

step "the second ranged read held: a.bin is restored before the download ends"
clone_fresh "$T/clone"
rm -f "$T/mark" "$T/go"
# GETs in order with -j 1: the pack's index, the manifests of a.bin and of b.bin (far
# apart in the pack), then the chunks in ranges of at most 16 MiB, a.bin's and the start
# of b.bin's first; the second range of chunks is held until $T/go exists (well within the
# client's timeout).
s3_fault status=hold op=get skip=4 count=1 "mark=$T/mark" "go=$T/go"
"$DV" pull -j 1 >"$OUT" 2>"$ERR" &
pid=$!
track_bg "$pid"
for _ in $(seq 600); do
    [ -e "$T/mark" ] && break
    sleep 0.1
done
[ -e "$T/mark" ] || fail "the pull never reached its second ranged read"
for _ in $(seq 150); do
    [ -e a.bin ] && break
    sleep 0.1
done
[ -e a.bin ] || fail "a.bin was not restored while the download was held"
assert_file_sha a.bin "$asha" "a.bin, restored during the download"
kill -0 "$pid" 2>/dev/null || fail "the pull ended while its read was held"
[ ! -e b.bin ] || fail "b.bin stands in the work tree before its chunks arrived"
ok "a.bin whole and right while the read of b.bin's chunks waits"
touch "$T/go"
wait "$pid" || fail "the pull failed once the read went on: $(cat "$ERR")"
assert_file_sha a.bin "$asha" "a.bin"
assert_file_sha b.bin "$bsha" "b.bin"
assert_contains "$OUT" "restored 2 files"
assert_exit 0 "$DV" status
assert_exit 0 "$DV" fsck
[ -z "$(ls .dv/cache/pull 2>/dev/null)" ] || fail "the pull left its staging store: $(ls .dv/cache/pull)"
ok "both files right, the store sound, nothing left in .dv/cache/pull"

step "the download fails half way: whole files or none, a sound store, a pull that finishes"
clone_fresh "$T/clone2"
# every GET after the first range of chunks is dropped, retries included
s3_fault status=drop op=get skip=4 count=50
assert_exit_ge 1 "$DV" pull -j 1
note "$(head -n 2 "$ERR")"
assert_match "$ERR" "origin"
[ ! -e b.bin ] || fail "b.bin stands in the work tree though its chunks never arrived"
if [ -e a.bin ]; then
    assert_file_sha a.bin "$asha" "a.bin, restored before the failure"
fi
if ls -A | grep -v '^\(\.git\|\.dv\|\.gitignore\|[ab]\.bin\(\.dv\)\?\)$' | grep -q .; then
    fail "temp files left in the work tree: $(ls -A)"
fi
assert_exit 0 "$DV" fsck
s3_fault status=drop op=get count=0
assert_exit 0 "$DV" pull
assert_file_sha a.bin "$asha" "a.bin"
assert_file_sha b.bin "$bsha" "b.bin"
assert_exit 0 "$DV" fsck
ok "the second pull restored both"

step "a tree of 400 small files comes in a handful of requests"
# Each file's manifest follows its chunk in the pack: the reads of the manifests take the
# chunks between them along (kept, verified), so nothing is left for a read per file.
new_repo "$T/small"
mkdir -p tree/a tree/b
for i in $(seq 1 200); do
    gen_random "tree/a/f$i" $((1000 + i * 37)) $((100 + i))
    gen_random "tree/b/f$i" $((2000 + i * 53)) $((500 + i))
done
snapshot tree "$T/small.list" >/dev/null
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url-small"
assert_exit 0 "$DV" add tree
git commit -q -m tree
assert_exit 0 "$DV" push
git clone -q "$T/small" "$T/small-clone"
cd "$T/small-clone"
assert_exit 0 "$DV" pull --stats
gets=$(sed -n 's/.*requests.* get=\([0-9]*\).*/\1/p' "$ERR")
note "$(grep requests "$ERR")"
# the index, the tree level, the manifests (with the chunks between them): 3 or a few more
[ -n "$gets" ] && [ "$gets" -le 8 ] || fail "the pull of 400 small files made $gets GETs"
assert_tree_matches tree "$T/small.list"
assert_exit 0 "$DV" fsck
ok "$gets GETs for 400 files, every byte right"
