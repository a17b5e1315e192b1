#!/usr/bin/env bash
# dv fsck --remote checks a directory remote's packs and indexes: by default every index
# downloaded again and verified, each pack's size and trailer against its index and name;
# with --full every pack read whole and every object verified. Each kind of damage made
# here with the remote's own files is reported naming the pack (and the object), exit 1;
# a pack without its index is only a leftover; a damaged index never replaces the good
# copy in the local cache.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

R=$T/remote
type_name() { case $1 in 1) echo chunk ;; 2) echo manifest ;; 3) echo tree ;; esac; }
restore_remote() { rm -rf "$R"; cp -a "$T/remote.good" "$R"; }

step "origin: two versions pushed to a directory remote"
new_repo "$T/origin"
mkdir data
for f in 1 2 3 4; do gen_random "data/f$f.bin" 300000 "$f"; done
assert_exit 0 "$DV" add data
git commit -q -m v1
gen_random data/f5.bin 200000 5
assert_exit 0 "$DV" add data
git commit -q -m v2
assert_exit 0 "$DV" remote add --default origin "$R"
assert_exit 0 "$DV" push
n_packs=$(find "$R/packs" -name '*.pack' | wc -l)
n_objects=$(find "$R/packs" -name '*.idx' -printf '%s\n' | awk '{n += ($1 - 44 - 1024 - 32) / 52} END {print n}')
cp -a "$R" "$T/remote.good"
ok "$n_packs packs, $n_objects objects on the remote"

step "an intact remote: exit 0, the counts of its indexes"
assert_exit 0 "$DV" fsck --remote
assert_contains "$OUT" "checked $n_packs pack"
assert_contains "$OUT" ", $n_objects objects"
assert_contains "$OUT" ": 0 problems"
assert_exit 0 "$DV" fsck --remote=origin --full -j 2
assert_contains "$OUT" "every object read"
assert_contains "$OUT" ": 0 problems"

step "usage: --full and -j go with --remote; an unknown remote is refused"
assert_exit 2 "$DV" fsck --full
assert_exit 2 "$DV" fsck -j 2
assert_exit 2 "$DV" fsck --remote=nowhere
assert_exit 2 "$DV" fsck --remote -j 0

big=$(find "$R/packs" -name '*.pack' -printf '%s %p\n' | sort -n | tail -n1 | cut -d' ' -f2)
big_id=$(basename "$big" .pack)

step "a damaged stored byte: only --full finds it, naming the object and the pack"
victim_id=$(pack_entry "$big" 0 id)
victim_type=$(type_name "$(pack_entry "$big" 0 type)")
chmod u+w "$big"
flip_byte "$big" "$(( $(pack_entry "$big" 0 stored) + 10 ))"
assert_exit 0 "$DV" fsck --remote
assert_exit 1 "$DV" fsck --remote --full
assert_contains "$OUT" "bad $victim_type $victim_id in pack $big_id on remote origin"
assert_contains "$OUT" ": 1 problem"
assert_contains "$OUT" "dv push --repair"
restore_remote

step "a damaged entry header: --full reports the entry and the trailer over the headers"
chmod u+w "$big"
second=$(pack_entry "$big" 1 offset)
flip_byte "$big" $((second + 4)) # its raw_len
assert_exit 1 "$DV" fsck --remote --full
assert_contains "$OUT" "in pack $big_id on remote origin"
assert_contains "$OUT" "a header is damaged"
restore_remote

step "a damaged index: reported; the good copy in the local cache stays"
idx=$R/packs/$big_id.idx
cache_copy=$(find .dv/cache/remotes -name "$big_id.idx")
[ -f "$cache_copy" ] || fail "no cached copy of $big_id.idx"
good_sum=$(sha_of "$cache_copy")
chmod u+w "$idx"
flip_byte "$idx" 60
assert_exit 1 "$DV" fsck --remote
assert_contains "$OUT" "bad pack $big_id on remote origin"
assert_eq "$good_sum" "$(sha_of "$cache_copy")" "cached index after the check"
git clone -q "$T/origin" "$T/fresh"
(cd "$T/fresh" && git config -f .dv/config remote.origin.url "$R" && "$DV" fetch >/dev/null 2>"$T/fetch.err") &&
    fail "a fetch through a damaged index succeeded"
assert_contains "$T/fetch.err" "dv push --repair"
restore_remote

step "a pack cut short: its size against its index"
chmod u+w "$big"
truncate -s -100 "$big"
assert_exit 1 "$DV" fsck --remote
assert_contains "$OUT" "bad pack $big_id on remote origin"
assert_contains "$OUT" "cut short"
restore_remote

step "a pack whose trailer is not its id"
chmod u+w "$big"
flip_byte "$big" $(( $(stat -c %s "$big") - 1 ))
assert_exit 1 "$DV" fsck --remote
assert_contains "$OUT" "its trailer is not its id"
restore_remote

step "an index without its pack: the objects it lists are missing"
rm -f "$big"
assert_exit 1 "$DV" fsck --remote
assert_contains "$OUT" "bad pack $big_id on remote origin: its index is there but the pack is not"
restore_remote

step "a pack without its index is a leftover, not a problem"
rm -f "$idx"
assert_exit 0 "$DV" fsck --remote
assert_contains "$OUT" "packs without an index"
restore_remote
assert_exit 0 "$DV" fsck --remote --full
