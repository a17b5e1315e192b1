#!/usr/bin/env bash
# dv gc: a history of a dataset on two branches and a tag, a staged file, a stash, a
# linked worktree and a commit only in the reflog. Every digest and pack size asserted
# was recorded when the data was made, before gc ran.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

PACKS=.dv/cache/packs
# new_packs BEFORE: the pack ids in the store that are not in the list BEFORE.
pack_ids() { find "$PACKS" -name '*.pack' -printf '%f\n' | sed 's/\.pack$//' | sort; }
new_packs() { comm -13 <(printf '%s\n' "$1") <(pack_ids); }
# pack_bytes IDS: bytes of the .pack and .idx files of those packs.
pack_bytes() {
    local s=0 id
    for id in $1; do
        s=$((s + $(stat -c %s "$PACKS/$id.pack") + $(stat -c %s "$PACKS/$id.idx")))
    done
    echo "$s"
}
# pack_objects IDS: entries in their indexes (docs/formats.md: 44 + 1024 + 52 n + 32 bytes).
pack_objects() {
    local n=0 id
    for id in $1; do n=$((n + ($(stat -c %s "$PACKS/$id.idx") - 1100) / 52)); done
    echo "$n"
}
store_state() { (cd .dv/cache && find packs tmp -type f -printf '%p %s\n' | sort && cat packs/*) | sha256sum; }
# counts FILE: the kept/freed lines of a gc report without the dry run's "would be".
counts() { sed -e 's/^would be //' -e 's/^packs would be:/packs:/' "$1" | grep -E '^(kept|freed|packs):'; }

new_repo "$T/r"
R=$T/r
# No merging of small packs here (test_gc_merge.sh has it): the counts below are those of
# the packs that hold something unreachable.
assert_exit 0 "$DV" config pack.minSize 0
echo small >small.txt
assert_exit 0 "$DV" add small.txt
git commit -qm start

step "feature branch: an exclusive file, and ds.bin = A + C"
gen_random A.part $((1 << 20)) 11
gen_random B.part $((1 << 20)) 12
gen_random C.part $((1 << 20)) 13
git checkout -qb feature
before=$(pack_ids)
gen_random feat.bin $((2 << 20)) 21
feat_sha=$(sha_of feat.bin)
assert_exit 0 "$DV" add feat.bin
feat_packs=$(new_packs "$before")
feat_bytes=$(pack_bytes "$feat_packs")
feat_objects=$(pack_objects "$feat_packs")
cat A.part C.part >ds.bin
dsAC_sha=$(sha_of ds.bin)
before=$(pack_ids)
assert_exit 0 "$DV" add ds.bin
ac_packs=$(new_packs "$before")
ac_bytes=$(pack_bytes "$ac_packs")
git commit -qm "feature data"

step "main: ds.bin = A + B (A's chunks dedupe against the feature's pack), a tag"
git checkout -q main
cat A.part B.part >ds.bin
dsAB_sha=$(sha_of ds.bin)
before=$(pack_ids)
assert_exit 0 "$DV" add ds.bin
ab_packs=$(new_packs "$before")
[ "$(pack_bytes "$ab_packs")" -lt $((3 << 19)) ] || fail "ds.bin A+B should share A's chunks"
ok "A + B stored about one new MiB: A's chunks are the feature's"
git commit -qm "main data"
gen_random tagged.bin $((1 << 20)) 31
tagged_sha=$(sha_of tagged.bin)
assert_exit 0 "$DV" add tagged.bin
git commit -qm tagged
git tag -a v1 -m v1
git rm -q --cached tagged.bin.dv && rm tagged.bin.dv # only the tag names it now
git commit -qm "untrack tagged.bin"

step "a commit made on a branch that is then deleted (kept by the reflog)"
git checkout -qb scratch
before=$(pack_ids)
gen_random scratch.bin $((1 << 20)) 41
scratch_sha=$(sha_of scratch.bin)
assert_exit 0 "$DV" add scratch.bin
scratch_packs=$(new_packs "$before")
scratch_bytes=$(pack_bytes "$scratch_packs")
scratch_objects=$(pack_objects "$scratch_packs")
git commit -qm scratch
scratch_commit=$(git rev-parse HEAD)
git checkout -q main
git branch -qD scratch

step "a stash, a staged file and a linked worktree's staged file"
gen_random stash.bin $((1 << 20)) 51
stash_sha=$(sha_of stash.bin)
assert_exit 0 "$DV" add stash.bin
git stash -q
rm -f stash.bin
gen_random staged.bin $((1 << 20)) 61
staged_sha=$(sha_of staged.bin)
assert_exit 0 "$DV" add staged.bin
git worktree add -q "$T/wt2" -b wt2
(cd "$T/wt2" && gen_random wt.bin $((1 << 20)) 71 && "$DV" add wt.bin >/dev/null)
wt_sha=$(sha_of "$T/wt2/wt.bin")
rm -f "$T/wt2/wt.bin" staged.bin

# check_kept: every kept revision restores byte for byte.
check_kept() {
    assert_exit 0 "$DV" fsck
    assert_eq "$dsAB_sha" "$("$DV" cat main:ds.bin | sha256sum | cut -d' ' -f1)" "main:ds.bin"
    assert_eq "$tagged_sha" "$("$DV" cat v1:tagged.bin | sha256sum | cut -d' ' -f1)" "v1:tagged.bin"
    assert_eq "$stash_sha" "$("$DV" cat 'stash@{0}:stash.bin' | sha256sum | cut -d' ' -f1)" \
        "the stash's stash.bin"
    assert_exit 0 "$DV" checkout staged.bin
    assert_file_sha staged.bin "$staged_sha" "the staged staged.bin"
    rm -f staged.bin
    (cd "$T/wt2" && assert_exit 0 "$DV" checkout wt.bin && assert_file_sha wt.bin "$wt_sha" \
        "the linked worktree's wt.bin" && rm -f wt.bin)
}

step "refusals: a bad --rev, an unreadable pointer, a root in another worktree"
state=$(store_state)
assert_exit 2 "$DV" gc --rev no-such-rev
assert_contains "$ERR" "no-such-rev"
assert_exit 2 "$DV" gc --expire-reflog soon
assert_contains "$ERR" "--expire-reflog"
cp small.txt.dv small.keep
printf 'dv: 1\nkind: file\noid: sha256:nothex\n' >small.txt.dv
assert_exit 5 "$DV" gc --expire-reflog now
assert_contains "$ERR" "small.txt.dv"
assert_contains "$ERR" "nothing was deleted"
mv small.keep small.txt.dv
printf 'garbage\n' >"$T/wt2/small.txt.dv"
assert_exit 5 "$DV" gc --expire-reflog now
assert_contains "$ERR" "$T/wt2/small.txt.dv"
git -C "$T/wt2" checkout -q -- small.txt.dv
assert_eq "$state" "$(store_state)" "store files after the refusals"

step "the store's gc lock: gc waits for a writer, a writer waits for gc"
flock -s .dv/cache/gc.lock sleep 5 &
track_bg $!
sleep 0.3
DV_LOCK_TIMEOUT=1 assert_exit 3 "$DV" gc
assert_contains "$ERR" "waiting for the other dv commands using the store"
wait $! || true
flock -x .dv/cache/gc.lock sleep 5 &
track_bg $!
sleep 0.3
echo more >more.txt
DV_LOCK_TIMEOUT=1 assert_exit 3 "$DV" add more.txt
assert_contains "$ERR" "waiting for dv gc"
wait $! || true
rm more.txt

step "gc with the default expiry keeps the deleted branch's commit (in the reflog)"
assert_exit 0 "$DV" gc
assert_contains "$OUT" "freed: 0 objects, 0 bytes"
assert_eq "$scratch_sha" "$("$DV" cat "$scratch_commit:scratch.bin" | sha256sum | cut -d' ' -f1)" \
    "the reflog-only commit's scratch.bin"
check_kept

step "--expire-reflog now: the deleted branch's pack goes, to the byte"
bytes_before=$(store_bytes)
state=$(store_state)
assert_exit 0 "$DV" gc --expire-reflog now -n -v
cp "$OUT" "$T/dry1"
assert_contains "$OUT" "would drop scratch.bin.dv"
assert_eq "$state" "$(store_state)" "store files after --dry-run"
assert_exit 0 "$DV" gc --expire-reflog now
assert_eq "$(counts "$T/dry1")" "$(counts "$OUT")" "dry run's counts and the run's"
assert_contains "$OUT" "freed: $scratch_objects objects, $scratch_bytes bytes"
assert_eq $((bytes_before - scratch_bytes)) "$(store_bytes)" "store bytes after gc"
for id in $scratch_packs; do [ ! -e "$PACKS/$id.pack" ] || fail "pack $id is still there"; done
assert_exit_ge 2 "$DV" cat "$scratch_commit:scratch.bin"
check_kept

step "deleting the feature branch frees its exclusive data, keeps the chunks main shares"
git branch -qD feature
assert_exit 0 "$DV" gc -n
cp "$OUT" "$T/dry2"
assert_contains "$OUT" "freed: 0 objects"
bytes_before=$(store_bytes)
state=$(store_state)
assert_exit 0 "$DV" gc --expire-reflog now --dry-run
cp "$OUT" "$T/dry3"
assert_eq "$state" "$(store_state)" "store files after --dry-run"
assert_exit 0 "$DV" gc --expire-reflog now
assert_eq "$(counts "$T/dry3")" "$(counts "$OUT")" "dry run's counts and the run's"
freed=$((bytes_before - $(store_bytes)))
[ "$freed" -gt "$feat_bytes" ] && [ "$freed" -lt $((feat_bytes + ac_bytes)) ] ||
    fail "freed $freed bytes: expected more than the feature's own pack ($feat_bytes) and less than with the A+C pack ($((feat_bytes + ac_bytes)))"
ok "freed $freed bytes: feat.bin's pack and C's chunks, not A's"
assert_match "$OUT" "freed: [0-9]+ objects, $freed bytes"
assert_match "$OUT" "packs: [0-9]+ unchanged, 0 merged, 1 rewritten, 1 deleted, 1 written"
for id in $feat_packs $ac_packs; do [ ! -e "$PACKS/$id.pack" ] || fail "pack $id is still there"; done
check_kept

step "--all-commits keeps every commit of a reference; --workspace only the always-kept roots"
assert_exit 0 "$DV" gc --all-commits -n
assert_contains "$OUT" "would be freed: 0 objects"
assert_exit 0 "$DV" gc --workspace --expire-reflog now -n
assert_match "$OUT" "would be freed: [1-9][0-9]* objects"

step "leftovers: a temp pack nobody holds goes, one a writer holds stays"
printf 'x' >.dv/cache/tmp/pack-killed
touch -d '2 hours ago' .dv/cache/tmp/pack-old
printf 'y' >.dv/cache/tmp/pack-held
flock -s .dv/cache/tmp/pack-held sleep 5 &
track_bg $!
sleep 0.3
assert_exit 0 "$DV" gc
[ ! -e .dv/cache/tmp/pack-killed ] && [ ! -e .dv/cache/tmp/pack-old ] ||
    fail "leftovers of killed writers are still there"
[ -e .dv/cache/tmp/pack-held ] || fail "the pack a live writer holds was removed"
ok "killed writers' leftovers removed, the held one kept"
wait $! || true
assert_exit 0 "$DV" gc
[ ! -e .dv/cache/tmp/pack-held ] || fail "the released leftover is still there"
ok "once released, it goes"
check_kept
