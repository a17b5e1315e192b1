#!/usr/bin/env bash
# dv gc --remote against a real S3-compatible server on loopback (the rig in tests/s3): pack
# ages from ListObjectsV2's LastModified, so with the default gc.pruneExpire nothing just
# pushed goes; --dry-run changes nothing; a live lock object makes gc refuse (exit 3); with
# gc.pruneExpire now a deleted branch's pack goes (its index first), no lock is left, fsck
# --remote --full is clean and a fresh clone pulls the kept data byte for byte.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

. "$HERE/s3_lib.sh"
remote_ls_sizes() { # every key under the prefix with its size
    s3 GET "?list-type=2&prefix=$PREFIX%2F" |
        grep -oE "<Key>[^<]*</Key>|<Size>[^<]*</Size>" | sed -e 's/<[^>]*>//g' | paste - - | sort
}

step "main keeps keep.bin; branch gone pushes gone.bin, then is deleted"
git init -q --bare "$T/git.git"
new_repo "$T/a"
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url"
gen_random keep.bin $((1 << 20)) 1
assert_exit 0 "$DV" add keep.bin
git add -A && git commit -qm keep
assert_exit 0 "$DV" push
git remote add origin "$T/git.git" && git push -q origin HEAD:main
keep_sha=$(sha_of keep.bin)
git checkout -qb gone
gen_random gone.bin $((1 << 20)) 2
assert_exit 0 "$DV" add gone.bin
git add -A && git commit -qm gone
assert_exit 0 "$DV" push
git checkout -q main && git branch -D gone >/dev/null
assert_eq 4 "$(remote_ls_sizes | grep -c packs/)" "pack files on the remote"

step "default gc.pruneExpire: packs just pushed are young, nothing goes"
remote_ls_sizes >"$T/l0"
assert_exit 0 "$DV" gc --remote --expire-reflog now
assert_contains "$OUT" "0 deleted"
remote_ls_sizes >"$T/l1"
diff "$T/l0" "$T/l1" >/dev/null || fail "the remote changed: $(diff "$T/l0" "$T/l1")"
ok "remote listing identical"

step "gc.pruneExpire now, --dry-run: names the pack, changes nothing"
assert_exit 0 "$DV" config --local gc.pruneExpire now
sleep 2 # times are whole seconds: a pack of the same second as the cutoff is young
assert_exit 0 "$DV" gc --remote --dry-run --expire-reflog now
assert_contains "$OUT" "would delete pack"
remote_ls_sizes >"$T/l1"
diff "$T/l0" "$T/l1" >/dev/null || fail "the dry run changed the remote"
ok "remote listing identical"

step "a live lock object makes gc refuse (exit 3)"
printf 'dv-gc-lock: 1\nhost: elsewhere\npid: 7\ntime: %s\nprune-expire: 0\n' "$(date +%s)" >"$T/lock"
s3 PUT "$PREFIX/locks/00112233445566778899aabbccddeeff" "$T/lock" >/dev/null
assert_exit 3 "$DV" gc --remote --expire-reflog now
assert_contains "$ERR" "locked by another dv gc --remote"
s3 DELETE "$PREFIX/locks/00112233445566778899aabbccddeeff" >/dev/null

step "gc --remote: the branch's pack goes, the kept data pulls into a fresh clone"
assert_exit 0 "$DV" gc --remote --expire-reflog now
assert_contains "$OUT" "deleted pack"
assert_eq 2 "$(remote_ls_sizes | grep -c packs/)" "pack files left"
assert_eq 0 "$(remote_ls_sizes | grep -c locks/)" "locks left"
assert_exit 0 "$DV" fsck --remote --full
assert_contains "$OUT" "0 problems"
git clone -q "$T/git.git" "$T/c" && cd "$T/c"
assert_exit 0 "$DV" pull
assert_eq "$keep_sha" "$(sha_of keep.bin)" "keep.bin in a fresh clone"
