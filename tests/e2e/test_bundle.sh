#!/usr/bin/env bash
# dv bundle: a bundle carried to a fresh clone with an empty store and no remote restores an
# old revision exactly; an incremental bundle (--since) holds only the new objects and,
# after the full one, restores the newer revision, while alone it is refused naming the
# base; a bundle serves as -r for dv fetch and dv pull; a flipped byte (pack data, header,
# trailer) and a truncated bundle fail verify and unbundle clearly and add nothing.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

# The store's files, with their sizes: what a failed unbundle must leave as it was.
store_files() {
    [ -d "$1/.dv/cache" ] || return 0
    (cd "$1/.dv/cache" && find . -type f ! -path ./gc.lock -printf '%p %s\n' | sort)
}

# bundle_data_offset FILE: where the first pack of a bundle starts (16 + header length).
bundle_data_offset() {
    "$PY" - "$1" <<'PYEOF'
import struct, sys
d = open(sys.argv[1], "rb").read(16)
print(16 + struct.unpack(">I", d[12:16])[0])
PYEOF
}

# fix_trailer FILE: rewrite the trailer as the SHA-256 of the bytes before it.
fix_trailer() {
    "$PY" - "$1" <<'PYEOF'
import hashlib, sys
p = sys.argv[1]
d = open(p, "rb").read()
open(p, "wb").write(d[:-32] + hashlib.sha256(d[:-32]).digest())
PYEOF
}

step "origin: v1 and v2 of data/ and model.bin, their sums recorded before dv saw them"
new_repo "$T/origin"
mkdir -p data/sub
gen_text data/a.csv 4000 1
gen_random data/sub/b.bin 300000 2
gen_random model.bin 3000000 3
snapshot data "$T/v1.data.list" >/dev/null
v1_model=$(sha_of model.bin)
assert_exit 0 "$DV" add data model.bin
git commit -q -m v1 && git tag v1
gen_text data/a.csv 5000 4
gen_random data/sub/c.bin 200000 5
gen_random "$T/tail" 400000 6
cat "$T/tail" >>model.bin
snapshot data "$T/v2.data.list" >/dev/null
v2_model=$(sha_of model.bin)
assert_exit 0 "$DV" add data model.bin
git commit -q -m v2 && git tag v2

step "dv bundle create: full bundle of v1, incremental bundle of v2 since v1"
assert_exit 0 "$DV" bundle create "$T/v1.dvbundle" --rev v1
assert_exit 0 "$DV" bundle create "$T/v2.dvbundle" --rev v2 --since v1
assert_exit 0 "$DV" bundle create "$T/all.dvbundle" --all-tags
assert_exit 0 "$DV" bundle create "$T/data-v2.dvbundle" --rev v2 data
assert_exit 2 "$DV" bundle create "$T/none.dvbundle"
assert_contains "$ERR" "--rev"
assert_exit 2 "$DV" bundle create "$T/none.dvbundle" --rev v2 nosuchpath
assert_contains "$ERR" "nosuchpath"
[ ! -e "$T/none.dvbundle" ] || fail "a refused create left a file"
ls "$T"/.*.tmp-* 2>/dev/null && fail "a temp file was left beside the bundles"
ok "refusals write nothing"
[ -z "$(ls -A .dv/tmp 2>/dev/null)" ] || fail "dv bundle create left files in .dv/tmp: $(ls -A .dv/tmp)"
ok "the packs built for the bundles are gone from .dv/tmp"
full=$(stat -c %s "$T/v1.dvbundle")
incr=$(stat -c %s "$T/v2.dvbundle")
[ "$incr" -lt "$full" ] || fail "incremental bundle ($incr bytes) not smaller than the full one ($full)"
ok "incremental $incr bytes < full $full bytes"

step "dv bundle list: revisions, paths, packs"
assert_exit 0 "$DV" bundle list "$T/v2.dvbundle"
assert_match "$OUT" "^rev +$(git rev-parse v2) v2$"
assert_match "$OUT" "^since $(git rev-parse v1) v1$"
assert_exit 0 "$DV" bundle list --json "$T/data-v2.dvbundle"
assert_eq '["data"]' "$(json_get "$OUT" "j['paths']")" "paths of the data bundle"
assert_eq "$(git rev-parse v2)" "$(json_get "$OUT" "j['revisions'][0]['commit']")" "commit of v2"
assert_exit 0 "$DV" bundle list --json "$T/v1.dvbundle"
v1_objects=$(json_get "$OUT" "j['objects']")
assert_exit 0 "$DV" bundle list --json "$T/v2.dvbundle"
v2_objects=$(json_get "$OUT" "j['objects']")
assert_exit 0 "$DV" bundle list --json "$T/all.dvbundle"
all_objects=$(json_get "$OUT" "j['objects']")
# v1 and v2 share objects (b.bin, most of model.bin): the incremental bundle holds only
# those v1 lacks, so the two together are exactly the bundle of both tags.
assert_eq "$all_objects" "$((v1_objects + v2_objects))" "objects of v1 + objects new in v2"

step "fresh clone, empty store, no remote: unbundle v1, dv checkout v1 restores it exactly"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" init
assert_exit 0 "$DV" remote list
assert_empty "$OUT"
assert_eq 0 "$(pack_count)" "packs in the clone's store"
before=$(store_files .)
assert_exit 5 "$DV" bundle unbundle "$T/v2.dvbundle"
assert_contains "$ERR" "v1"
assert_contains "$ERR" "first"
assert_eq "$before" "$(store_files .)" "store after refusing the incremental bundle alone"
assert_exit 5 "$DV" bundle verify "$T/v2.dvbundle"
assert_contains "$ERR" "v1"
assert_exit 0 "$DV" bundle verify "$T/v1.dvbundle"
assert_eq "$before" "$(store_files .)" "store after verify"
assert_exit 0 "$DV" bundle unbundle "$T/v1.dvbundle"
assert_exit 0 "$DV" checkout v1
assert_tree_matches data "$T/v1.data.list"
assert_file_sha model.bin "$v1_model" "model.bin at v1"
assert_exit 0 "$DV" fsck
assert_exit 5 "$DV" bundle create "$T/v2-from-clone.dvbundle" --rev v2
assert_contains "$ERR" "dv fetch"
[ ! -e "$T/v2-from-clone.dvbundle" ] || fail "a create that lacked data wrote a bundle"
ok "a store without v2's data writes no bundle of v2"
assert_exit 0 "$DV" bundle create "$T/v1-again.dvbundle" --rev v1
assert_exit 0 "$DV" bundle list --json "$T/v1-again.dvbundle"
assert_eq "$v1_objects" "$(json_get "$OUT" "j['objects']")" "objects of v1 bundled again from the clone"
step "unbundling twice is harmless"
after=$(store_files .)
assert_exit 0 "$DV" bundle unbundle "$T/v1.dvbundle"
assert_eq "$after" "$(store_files .)" "store after a second unbundle"

step "the incremental bundle after the full one restores v2"
assert_exit 0 "$DV" bundle unbundle "$T/v2.dvbundle"
assert_exit 0 "$DV" checkout v2
assert_tree_matches data "$T/v2.data.list"
assert_file_sha model.bin "$v2_model" "model.bin at v2"
assert_exit 0 "$DV" fsck

step "a bundle as a remote: dv fetch -r and dv pull -r --rev in fresh clones"
git clone -q "$T/origin" "$T/fetcher"
cd "$T/fetcher"
assert_exit 0 "$DV" init
assert_exit 0 "$DV" fetch -r "$T/all.dvbundle" --rev v1
assert_exit 0 "$DV" checkout v1
assert_tree_matches data "$T/v1.data.list"
assert_file_sha model.bin "$v1_model" "model.bin at v1 through fetch -r"
assert_exit 5 "$DV" fetch -r ./nosuch.dvbundle --rev v1
assert_contains "$ERR" "nosuch.dvbundle"
assert_exit_ge 2 "$DV" push -r "$T/all.dvbundle"
assert_contains "$ERR" "read-only"
git clone -q "$T/origin" "$T/puller"
cd "$T/puller"
assert_exit 0 "$DV" init
cp "$T/all.dvbundle" ./data.dvbundle
assert_exit 0 "$DV" pull -r ./data.dvbundle --rev v2
assert_tree_matches data "$T/v2.data.list"
assert_file_sha model.bin "$v2_model" "model.bin at v2 through pull -r"
rm data.dvbundle

step "damaged bundles fail verify and unbundle, and add nothing"
git clone -q "$T/origin" "$T/victim"
cd "$T/victim"
assert_exit 0 "$DV" init
assert_exit 0 "$DV" bundle unbundle "$T/v1.dvbundle"
before=$(store_files .)
[ -n "$before" ] || fail "the store holds nothing after unbundling v1"
off=$(bundle_data_offset "$T/v2.dvbundle")
size=$(stat -c %s "$T/v2.dvbundle")
check_refused() { # check_refused FILE TEXT: verify and unbundle fail naming FILE and TEXT
    assert_exit 5 "$DV" bundle verify "$1"
    assert_contains "$ERR" "$1"
    assert_contains "$ERR" "$2"
    assert_exit 5 "$DV" bundle unbundle "$1"
    assert_contains "$ERR" "$2"
    note "$(head -n1 "$ERR")"
    assert_eq "$before" "$(store_files .)" "store after refusing $(basename "$1")"
    [ ! -e .dv/cache/unbundle ] || fail "unbundle left .dv/cache/unbundle"
}
cp "$T/v2.dvbundle" "$T/pack.dvbundle"
flip_byte "$T/pack.dvbundle" $((off + 200))
check_refused "$T/pack.dvbundle" "checksum"
cp "$T/v2.dvbundle" "$T/header.dvbundle"
flip_byte "$T/header.dvbundle" 20
check_refused "$T/header.dvbundle" "damaged"
cp "$T/v2.dvbundle" "$T/trailer.dvbundle"
flip_byte "$T/trailer.dvbundle" $((size - 1))
check_refused "$T/trailer.dvbundle" "checksum"
head -c $((size - 1000)) "$T/v2.dvbundle" >"$T/short.dvbundle"
check_refused "$T/short.dvbundle" "truncated"
# The header damaged and the checksum made to match: the parser still refuses it.
cp "$T/v2.dvbundle" "$T/length.dvbundle"
flip_byte "$T/length.dvbundle" 13
fix_trailer "$T/length.dvbundle"
check_refused "$T/length.dvbundle" "does not fit"
cp "$T/v2.dvbundle" "$T/table.dvbundle"
flip_byte "$T/table.dvbundle" $((off - 10))
fix_trailer "$T/table.dvbundle"
check_refused "$T/table.dvbundle" "where it should"
# The whole-file checksum made to match: the object's own hash still catches the flip.
cp "$T/pack.dvbundle" "$T/rehashed.dvbundle"
fix_trailer "$T/rehashed.dvbundle"
check_refused "$T/rehashed.dvbundle" "object"
assert_exit 5 "$DV" bundle list "$T/short.dvbundle"
assert_contains "$ERR" "truncated"
printf 'not a bundle at all\n' >"$T/plain.dvbundle"
check_refused "$T/plain.dvbundle" "not a dv bundle"
assert_exit 5 "$DV" fetch -r "$T/short.dvbundle" --rev v2
assert_eq "$before" "$(store_files .)" "store after a fetch from a truncated bundle"


step "the undamaged incremental bundle still applies"
assert_exit 0 "$DV" bundle unbundle "$T/v2.dvbundle"
assert_exit 0 "$DV" checkout v2
assert_tree_matches data "$T/v2.data.list"
assert_file_sha model.bin "$v2_model" "model.bin at v2"

step "dv bundle unbundle killed at four moments: the store stays whole, a rerun completes it"
git clone -q "$T/origin" "$T/killed"
cd "$T/killed"
assert_exit 0 "$DV" init
git clone -q "$T/origin" "$T/timing"
start=$(date +%s%N)
(cd "$T/timing" && "$DV" bundle unbundle -q "$T/all.dvbundle") || fail "unbundle in $T/timing failed"
took_ns=$(($(date +%s%N) - start))
for k in 1 2 3 4; do
    "$DV" bundle unbundle -q "$T/all.dvbundle" >/dev/null 2>&1 &
    pid=$!
    sleep "$("$PY" -c "print($took_ns * $k / 5 / 1e9)")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    assert_exit 0 "$DV" fsck
done
assert_exit 0 "$DV" bundle unbundle "$T/all.dvbundle"
[ ! -e .dv/cache/unbundle ] || fail "the rerun left .dv/cache/unbundle"
assert_exit 0 "$DV" checkout v2
assert_tree_matches data "$T/v2.data.list"
assert_file_sha model.bin "$v2_model" "model.bin at v2 after the killed unbundles"
