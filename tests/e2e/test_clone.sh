#!/usr/bin/env bash
# A fresh git clone has pointer files but no store: dv status says missing, dv checkout
# names the missing object (exit 5); data present without its content in the store is
# "not in store"; with cache.dir pointing at the first clone's store, checkout restores.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "origin: data/ and model.bin, committed"
new_repo "$T/origin"
mkdir -p data/sub
gen_text data/a.csv 3000 1
gen_random data/sub/b.bin 300000 2
gen_random model.bin 500000 3
assert_exit 0 "$DV" add data model.bin
git commit -q -m data
snapshot data "$T/data.list" >/dev/null
msha=$(sha_of model.bin)
doid=$(sed -n 's/^oid: sha256:\([0-9a-f]\{64\}\)$/\1/p' data.dv)
[ -n "$doid" ] || fail "no oid in data.dv"

step "fresh clone: dv status reports missing (exit 1)"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
[ -f .dv/config ] && [ -f data.dv ] || fail "clone lacks .dv/config or data.dv"
ok "clone has .dv/config and the pointer files"
assert_exit 0 "$DV" init
assert_match "$ALL" "[Aa]lready"
assert_exit 1 "$DV" status
assert_contains "$OUT" "missing"
assert_exit 1 "$DV" status --json
assert_eq missing "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'data'][0]")" "state of data"

step "dv checkout without the content: exit 5, names the missing object"
assert_exit 5 "$DV" checkout
note "$(head -n1 "$ERR")"
assert_contains "$ERR" "$doid"
[ ! -e data ] && [ ! -e model.bin ] || note "some data was restored before the error"

step "data present but its content not in this store: not-in-store"
cp "$T/origin/model.bin" model.bin
assert_exit 1 "$DV" status --json model.bin
assert_eq not-in-store "$(json_get "$OUT" "j['paths'][0]['state']")" "state of model.bin"
assert_exit 1 "$DV" status model.bin
assert_contains "$OUT" "not in store"
rm model.bin

step "cache.dir in .dv/config.local shares the origin's store: checkout restores exactly"
git config -f .dv/config.local cache.dir "$T/origin/.dv/cache"
assert_exit 0 "$DV" checkout
assert_tree_matches data "$T/data.list" "data/ in the clone"
assert_file_sha model.bin "$msha" "model.bin in the clone"
assert_exit 0 "$DV" status
assert_exit 0 "$DV" fsck -q
[ ! -d .dv/cache/packs ] || [ -z "$(ls -A .dv/cache/packs)" ] || fail "the clone wrote packs to its own .dv/cache although cache.dir is set"
ok "no packs in the clone's own .dv/cache"

step "dv add in the clone writes to the shared store"
before=$(store_bytes "$T/origin")
gen_random data/new.bin 200000 9
assert_exit 0 "$DV" add data
after=$(store_bytes "$T/origin")
[ "$after" -gt "$before" ] || fail "shared store did not grow ($before -> $after)"
ok "shared store grew $before -> $after"
[ -z "$(git status --porcelain --untracked-files=all -- .dv)" ] || fail ".dv/config.local shows up in git status"
ok ".dv/config.local is ignored by git"
