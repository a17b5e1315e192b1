#!/usr/bin/env bash
# dv push --repair replaces what fails verification on a directory remote: a pack the
# store holds under the same id is uploaded again; a pack the store does not hold as such
# (a clone's store is made of fetched packs) is rebuilt from good copies of its objects,
# uploaded, and only then removed; an object with no good copy anywhere keeps its pack and
# is named. After each repair, dv fsck --remote --full is clean and a fresh clone pulls the
# data byte-exact.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

R=$T/remote
biggest_pack() { find "$R/packs" -name '*.pack' -printf '%s %p\n' | sort -n | tail -n1 | cut -d' ' -f2; }
damage_first_object() { # damage_first_object PACK: flip a stored byte of its first entry
    chmod u+w "$1"
    flip_byte "$1" "$(( $(pack_entry "$1" 0 stored) + 7 ))"
}
pull_matches() { # pull_matches DIR: a fresh clone of origin pulls data/ as recorded
    git clone -q "$T/origin" "$1"
    (cd "$1" && "$DV" pull -q >/dev/null 2>"$T/pull.err") || { cat "$T/pull.err" >&2; fail "pull into $1 failed"; }
    assert_tree_matches "$1/data" "$T/data.list" "data/ pulled into $(basename "$1")"
}

step "origin: data pushed to a directory remote"
new_repo "$T/origin"
mkdir data
for f in 1 2 3; do gen_random "data/f$f.bin" 400000 "$f"; done
gen_text data/t.csv 20000 4
assert_exit 0 "$DV" add data
git commit -q -m data
assert_exit 0 "$DV" remote add --default origin "$R"
git commit -q -m remote .dv/config
assert_exit 0 "$DV" push
snapshot data "$T/data.list" >/dev/null

step "nothing to repair on an intact remote"
assert_exit 0 "$DV" push --repair
assert_contains "$OUT" "nothing to repair"
assert_exit 2 "$DV" push --repair data

step "a damaged pack the store holds as such: uploaded again, the same name"
pack=$(biggest_pack)
good_sum=$(sha_of ".dv/cache/packs/$(basename "$pack")")
damage_first_object "$pack"
assert_exit 1 "$DV" fsck --remote --full
assert_exit 0 "$DV" push --repair
assert_contains "$OUT" "uploaded again from the local store"
assert_eq "$good_sum" "$(sha_of "$pack")" "the remote pack after the repair"
assert_exit 0 "$DV" fsck --remote --full
pull_matches "$T/clone1"

step "an index whose pack is gone: the origin's pack of that id goes up again"
cd "$T/origin"
pack=
for p in "$R"/packs/*.pack; do
    [ -e ".dv/cache/packs/$(basename "$p")" ] && pack=$p
done
[ -n "$pack" ] || fail "no remote pack is also in the origin's store"
rm -f "$pack"
assert_exit 1 "$DV" fsck --remote
assert_exit 0 "$DV" push --repair
[ -e "$pack" ] || fail "the pack was not uploaded again"
assert_exit 0 "$DV" fsck --remote --full
pull_matches "$T/clone0"


step "a clone whose store was fetched: the damaged pack is rebuilt from its objects"
cd "$T/clone1"
pack=$(biggest_pack)
pack_id=$(basename "$pack" .pack)
[ ! -e ".dv/cache/packs/$pack_id.pack" ] || fail "the clone holds the remote's pack as such"
victim=$(pack_entry "$pack" 0 id)
damage_first_object "$pack"
before=$(find "$R/packs" -name '*.pack' | wc -l)
assert_exit 0 "$DV" push --repair
assert_contains "$OUT" "bad "
assert_contains "$OUT" "$victim"
assert_contains "$OUT" "replaced, and removed"
[ ! -e "$pack" ] && [ ! -e "$R/packs/$pack_id.idx" ] || fail "the damaged pack is still on the remote"
assert_eq "$before" "$(find "$R/packs" -name '*.pack' | wc -l)" "packs on the remote (one out, one in)"
assert_exit 0 "$DV" fsck --remote --full
pull_matches "$T/clone2"

step "an object with no good copy anywhere: its pack stays, the object is named, exit 5"
git clone -q "$T/origin" "$T/empty"
cd "$T/empty"
pack=$(biggest_pack)
victim=$(pack_entry "$pack" 0 id)
damage_first_object "$pack"
damaged_sum=$(sha_of "$pack")
assert_exit 5 "$DV" push --repair
assert_contains "$OUT" "$victim"
assert_contains "$OUT" "has no good copy"
assert_eq "$damaged_sum" "$(sha_of "$pack")" "the damaged pack, kept"
[ -e "${pack%.pack}.idx" ] || fail "the damaged pack's index was removed"
ok "nothing was removed"

step "the clone that has the object repairs it"
cd "$T/clone2"
assert_exit 0 "$DV" push --repair
assert_exit 0 "$DV" fsck --remote --full
pull_matches "$T/clone3"

