#!/usr/bin/env bash
# dv fsck --repair mends the local store from a directory remote: a flipped byte in a
# pack is replaced by a good copy fetched from the remote and the damaged pack is retired
# with its sound objects kept; a pack lost with its index left behind is fetched back and
# the leftover index removed; an object the remote lacks too keeps its pack and is named.
# Every time, the data checks out byte-exact afterwards (digests recorded when it was made).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

biggest_pack() { find .dv/cache/packs -name '*.pack' -printf '%s %p\n' | sort -n | tail -n1 | cut -d' ' -f2; }
recheckout() { # recheckout: remove data/ and restore it from the store
    rm -rf data
    assert_exit 0 "$DV" checkout
    assert_tree_matches data "$T/data.list" "data/ after the repair"
}

step "origin: data pushed to a directory remote"
new_repo "$T/origin"
mkdir data
for f in 1 2 3; do gen_random "data/f$f.bin" 500000 "$f"; done
gen_text data/t.csv 30000 4
assert_exit 0 "$DV" add data
git commit -q -m data
assert_exit 0 "$DV" remote add --default origin "$T/remote"
assert_exit 0 "$DV" push
snapshot data "$T/data.list" >/dev/null

step "an intact store: nothing to repair"
assert_exit 0 "$DV" fsck --repair
assert_contains "$OUT" "nothing to repair"
assert_exit 2 "$DV" fsck --repair --remote

step "a flipped byte in a local pack: fetched again, the damaged pack retired"
pack=$(biggest_pack)
victim=$(pack_entry "$pack" 2 id)
chmod u+w "$pack"
flip_byte "$pack" "$(( $(pack_entry "$pack" 2 stored) + 3 ))"
n_objects=$(find .dv/cache/packs -name '*.idx' -printf '%s\n' | awk '{n += ($1 - 44 - 1024 - 32) / 52} END {print n}')
assert_exit 1 "$DV" fsck
assert_contains "$OUT" "$victim"
assert_exit 0 "$DV" fsck --repair
assert_contains "$OUT" "fetched 1 object"
assert_contains "$OUT" "retired 1 damaged pack"
assert_contains "$OUT" "checked again: 0 problems"
[ ! -e "$pack" ] && [ ! -e "${pack%.pack}.idx" ] || fail "the damaged pack is still in the store"
assert_exit 0 "$DV" fsck
assert_contains "$OUT" ", $n_objects objects"
ok "the store holds the same $n_objects objects, once each"
recheckout

step "a pack file lost, its index left: dv fetch --repair fetches it back, removes the index"
pack=$(biggest_pack)
idx=${pack%.pack}.idx
rm -f "$pack"
assert_exit 1 "$DV" fsck
assert_contains "$OUT" "missing pack"
assert_exit 2 "$DV" fetch --repair data
assert_exit 0 "$DV" fetch --repair
assert_contains "$OUT" "checked again: 0 problems"
[ ! -e "$idx" ] || fail "the leftover index is still there"
assert_exit 0 "$DV" fsck
assert_not_contains "$OUT" "leftover"
recheckout

step "an object the remote lacks too: named, its pack kept, exit 1"
gen_random data/unpushed.bin 300000 77
assert_exit 0 "$DV" add data
snapshot data "$T/data.list" >/dev/null
newest=$(ls -t .dv/cache/packs/*.pack | head -n1)
victim=$(pack_entry "$newest" 0 id)
chmod u+w "$newest"
flip_byte "$newest" "$(( $(pack_entry "$newest" 0 stored) + 5 ))"
assert_exit 1 "$DV" fsck --repair
assert_contains "$OUT" "$victim"
assert_contains "$OUT" "lacks it too"
assert_contains "$OUT" "is kept"
[ -e "$newest" ] || fail "the pack holding the only copy was removed"
ok "the damaged pack stays for a person to look at"

step "no remote configured: usage error"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
git config -f .dv/config --remove-section remote.origin 2>/dev/null || true
git config -f .dv/config --unset core.remote 2>/dev/null || true
assert_exit 2 "$DV" fsck --repair
