#!/usr/bin/env bash
# dv drop and dv gc --pushed, with a directory remote: what goes is what only the dropped
# paths reach and the remote holds; the store shrinks by the bytes recorded when the data
# was added; chunks shared with kept data stay; dv status says the content is on the remote
# only; dv checkout fetches it back byte for byte; unpushed content is refused (the store
# untouched) unless --force; dv fsck is clean after each step.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

PACKS=.dv/cache/packs
pack_ids() { mkdir -p "$PACKS"; find "$PACKS" -name '*.pack' -printf '%f\n' | sed 's/\.pack$//' | sort; }
new_packs() { comm -13 <(printf '%s\n' "$1") <(pack_ids); }
pack_bytes() {
    local s=0 id
    for id in $1; do
        s=$((s + $(stat -c %s "$PACKS/$id.pack") + $(stat -c %s "$PACKS/$id.idx")))
    done
    echo "$s"
}
store_state() { (cd .dv/cache && find packs -type f -printf '%p %s\n' | sort && cat packs/*) | sha256sum; }

new_repo "$T/r"
mkdir "$T/remote"
assert_exit 0 "$DV" remote add origin "$T/remote"
git commit -qm init

step "shared.bin, then data/ (a.bin = shared.bin's bytes, and b.bin of its own), keep.bin"
mkdir data
gen_random shared.bin $((2 << 20)) 1
gen_random data/b.bin $((1 << 20)) 2
cp shared.bin data/a.bin
a_sha=$(sha_of data/a.bin)
b_sha=$(sha_of data/b.bin)
before=$(pack_ids)
assert_exit 0 "$DV" add shared.bin
shared_packs=$(new_packs "$before")
# data/'s own pack: b.bin's chunks and manifest and the tree (a.bin's are shared.bin's)
before=$(pack_ids)
assert_exit 0 "$DV" add data
data_packs=$(new_packs "$before")
gen_random keep.bin $((1 << 20)) 3
assert_exit 0 "$DV" add keep.bin
git commit -qm data
assert_exit 0 "$DV" push

step "dv drop of content the remote lacks is refused, nothing deleted"
gen_random local.bin $((1 << 20)) 4
local_sha=$(sha_of local.bin)
before=$(pack_ids)
assert_exit 0 "$DV" add local.bin
local_packs=$(new_packs "$before")
local_bytes=$(pack_bytes "$local_packs")
git commit -qm local
state=$(store_state)
assert_exit 4 "$DV" drop local.bin
assert_contains "$ERR" "local.bin"
assert_contains "$ERR" "nothing was deleted"
assert_eq "$state" "$(store_state)" "store files after the refusal"
assert_exit 2 "$DV" drop no-such-path
assert_contains "$ERR" "no-such-path"
assert_eq "$state" "$(store_state)" "store files after a path that names nothing"

step "dv drop data: the dry run counts, the run frees data/'s own bytes, shared chunks stay"
bytes_before=$(store_bytes)
data_bytes=$(pack_bytes "$data_packs")
assert_exit 0 "$DV" drop -n data
assert_contains "$OUT" "would drop data (on origin)"
assert_eq "$state" "$(store_state)" "store files after --dry-run"
grep -E '^would be (kept|freed):' "$OUT" | sed 's/^would be //' >"$T/expected"
assert_exit 0 "$DV" drop data
assert_contains "$OUT" "dropped data (on origin)"
assert_eq "$(cat "$T/expected")" "$(grep -E '^(kept|freed):' "$OUT")" "dry run's counts and the run's"
# data/'s pack went whole; shared.bin's, which holds a.bin's chunks, stays.
for id in $data_packs; do [ ! -e "$PACKS/$id.pack" ] || fail "data/'s pack $id is still there"; done
assert_eq $((bytes_before - data_bytes)) "$(store_bytes)" "store bytes after the drop"
assert_contains "$OUT" "freed: "
assert_contains "$OUT" " $data_bytes bytes"
for id in $shared_packs; do [ -e "$PACKS/$id.pack" ] || fail "shared.bin's pack $id went"; done
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" cat HEAD:shared.bin
assert_eq "$a_sha" "$(sha256sum <"$OUT" | cut -d' ' -f1)" "shared.bin from the store"

step "dv status: data is on origin only, and counts as clean"
assert_exit 0 "$DV" status
assert_contains "$OUT" "on origin only:  data"
assert_exit 0 "$DV" status --json
assert_eq 'on-remote' "$(json_get "$OUT" '[p["state"] for p in j["paths"] if p["path"] == "data"][0]')" "data's state"
assert_eq 'origin' "$(json_get "$OUT" '[p["content_on"] for p in j["paths"] if p["path"] == "data"][0]')" "where data's content is"

step "dv checkout data, its work-tree copy removed, fetches it back byte for byte"
rm -rf data
assert_exit 1 "$DV" status
assert_contains "$OUT" "fetches its content from origin"
assert_exit 0 "$DV" checkout data
assert_contains "$OUT" "fetched "
assert_file_sha data/a.bin "$a_sha" "data/a.bin"
assert_file_sha data/b.bin "$b_sha" "data/b.bin"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" status
assert_contains "$OUT" "all clean"

step "without a remote, dv checkout of dropped content says to run dv fetch"
assert_exit 0 "$DV" drop data
git -C . config --file .dv/config --remove-section remote.origin
rm -rf data
assert_exit_ge 2 "$DV" checkout data
assert_contains "$ERR" "dv fetch"
git checkout -q -- .dv/config
assert_exit 0 "$DV" checkout data
assert_file_sha data/b.bin "$b_sha" "data/b.bin"

step "--force drops what the remote lacks"
bytes_before=$(store_bytes)
assert_exit 0 "$DV" drop --force local.bin
assert_contains "$ERR" "local.bin"
assert_eq $((bytes_before - local_bytes)) "$(store_bytes)" "store bytes after the forced drop"
assert_exit 0 "$DV" fsck
assert_file_sha local.bin "$local_sha" "the work tree keeps local.bin"
assert_exit 0 "$DV" add local.bin
assert_exit 0 "$DV" push

step "dv gc --pushed drops everything the remote holds"
assert_exit 0 "$DV" gc --pushed -n
state=$(store_state)
assert_exit 0 "$DV" gc --pushed
assert_contains "$OUT" "dropped: "
assert_eq 0 "$(pack_count)" "packs after dv gc --pushed"
assert_exit 0 "$DV" fsck
assert_exit 0 "$DV" status
for f in data keep.bin shared.bin local.bin; do
    assert_contains "$OUT" "on origin only:  $f"
done
rm -rf data keep.bin shared.bin local.bin
assert_exit 0 "$DV" checkout
assert_file_sha data/a.bin "$a_sha" "data/a.bin"
assert_file_sha shared.bin "$a_sha" "shared.bin"
assert_file_sha local.bin "$local_sha" "local.bin"
assert_exit 0 "$DV" fsck
