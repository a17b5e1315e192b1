#!/usr/bin/env bash
# dv diff in a clone whose store lacks the revisions' data: the trees and manifests a
# file-level diff needs, and the two files' chunks a content diff needs, are fetched from
# the default remote (only those: the dataset's other chunks never move) into the store's
# partial/ beside it, so the store itself still holds nothing and dv status still says
# missing; --offline refuses instead; what was fetched serves the next diff offline.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

partial_bytes() { # bytes of the packs in the store's partial/
    local d=.dv/cache/partial/packs
    if [ ! -d "$d" ]; then echo 0; return; fi
    find "$d" -type f -name '*.pack' -printf '%s\n' | awk '{s+=$1} END {printf "%d\n", s+0}'
}

step "origin: 30 directories of random files and a table; v2 changes one file and the table"
new_repo "$T/origin"
for d in $(seq 1 30); do
    mkdir -p "data/d$d"
    for f in 1 2 3; do gen_random "data/d$d/f$f.bin" 40000 $((d * 10 + f)); done
done
"$PY" - data/t.csv <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,name,score\n")
    for i in range(20000):
        f.write("%d,n%d,%d\n" % (i, i % 97, i * 7 % 1000))
PYEOF
assert_exit 0 "$DV" add data
git commit -q -m v1
git tag v1
gen_random data/d7/f2.bin 40000 999
gen_random data/d12/new.bin 5000 998
rm data/d20/f3.bin
"$PY" - data/t.csv <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,name,score\n")
    for i in range(20000):
        score = i * 7 % 1000
        if i in (5, 500):
            score += 1          # two rows changed
        if i == 77:
            continue            # one row removed
        f.write("%d,n%d,%d\n" % (i, i % 97, score))
    for i in range(20000, 20003):
        f.write("%d,new,%d\n" % (i, i))  # three rows added
PYEOF
assert_exit 0 "$DV" add data
git commit -q -m v2
git tag v2
data_bytes=$(du -sb data | cut -f1)
assert_exit 0 "$DV" remote add --default origin "$T/remote"
git commit -q -m remote .dv/config
assert_exit 0 "$DV" push --rev v1 --rev v2
expected=$(printf 'D\tdata/d20/f3.bin\nA\tdata/d12/new.bin\nM\tdata/d7/f2.bin\nM\tdata/t.csv' | sort -k2)

step "a fresh clone with an empty store: --offline refuses, naming what is missing"
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 5 "$DV" diff --offline --name-status v1 v2
note "$(head -n1 "$ERR")"
assert_contains "$ERR" "not in the"
assert_contains "$ERR" "dv fetch"
assert_eq 0 "$(store_bytes)" "store bytes after --offline"
[ ! -e .dv/cache/partial ] || fail "--offline created the partial store"
ok "--offline wrote nothing"

step "the file-level diff fetches trees only: exact entries, the store itself still empty"
assert_exit 0 "$DV" diff --name-status v1 v2
assert_eq "$expected" "$(sort -k2 "$OUT")" "name-status entries"
# the two sides' top trees, and the two trees of each of the 3 directories that changed:
# nothing of the other 27 directories, no manifest, no chunk
assert_contains "$ERR" "fetched 8 objects"
assert_contains "$ERR" "from remote origin"
assert_eq 0 "$(store_bytes)" "store bytes after the diff"
tree_bytes=$(partial_bytes)
[ "$tree_bytes" -gt 0 ] && [ "$tree_bytes" -lt $((data_bytes / 20)) ] ||
    fail "partial store holds $tree_bytes bytes of $data_bytes: more than the trees"
ok "fetched $tree_bytes bytes for $data_bytes of data"
assert_exit 1 "$DV" status
assert_contains "$OUT" "missing"

step "what was fetched serves the next diff offline"
assert_exit 0 "$DV" diff --offline --name-status v1 v2
assert_eq "$expected" "$(sort -k2 "$OUT")" "name-status entries offline"
assert_not_contains "$ERR" "fetched"

step "a content diff fetches the table's two versions, not the dataset"
before=$(partial_bytes)
assert_exit 0 "$DV" diff --json --key id v1 v2 -- data/t.csv
assert_eq 3 "$(json_get "$OUT" "j['files'][0]['content']['rows']['added']")" "rows added"
assert_eq 1 "$(json_get "$OUT" "j['files'][0]['content']['rows']['removed']")" "rows removed"
assert_eq 2 "$(json_get "$OUT" "j['files'][0]['content']['rows']['changed']")" "rows changed"
grown=$(($(partial_bytes) - before))
csv_bytes=$(stat -c %s "$T/origin/data/t.csv")
[ "$grown" -gt 0 ] && [ "$grown" -lt $((data_bytes / 4)) ] ||
    fail "the content diff fetched $grown bytes (table $csv_bytes, data $data_bytes)"
ok "fetched $grown bytes for a table of $csv_bytes (data $data_bytes)"
assert_eq 0 "$(store_bytes)" "store bytes after the content diff"

step "the whole diff with sizes of new content works offline now for what it fetched"
assert_exit 0 "$DV" diff v1 v2
assert_contains "$OUT" "4 files changed: 1 added, 2 modified, 1 deleted"

step "dv gc clears what dv diff fetched for itself; the diff then works online only"
partial=$(find .dv/cache/partial -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
[ "$partial" -gt 0 ] || fail "nothing in .dv/cache/partial after the diffs"
assert_exit 0 "$DV" gc -n
assert_contains "$OUT" "would be cleared: $partial bytes"
[ -n "$(find .dv/cache/partial -type f)" ] || fail "the dry run cleared the diff's objects"
assert_exit 0 "$DV" gc
assert_contains "$OUT" "cleared: $partial bytes"
[ ! -e .dv/cache/partial ] || fail ".dv/cache/partial is still there: $(find .dv/cache/partial)"
assert_exit 5 "$DV" diff --offline --name-status v1 v2
assert_exit 0 "$DV" diff v1 v2
assert_contains "$OUT" "4 files changed: 1 added, 2 modified, 1 deleted"

step "dv pull afterwards restores v2 exactly"
assert_exit 0 "$DV" pull
assert_exit 0 "$DV" status
assert_file_sha data/d7/f2.bin "$(sha_of "$T/origin/data/d7/f2.bin")" "data/d7/f2.bin"
assert_file_sha data/t.csv "$(sha_of "$T/origin/data/t.csv")" "data/t.csv"
assert_exit 0 "$DV" fsck -q

step "a remote that lacks the objects: the error names the object and the remote"
git clone -q "$T/origin" "$T/clone2"
cd "$T/clone2"
mkdir "$T/empty-remote"
assert_exit 0 "$DV" remote add empty "$T/empty-remote"
assert_exit 5 "$DV" diff -r empty --name-status v1 v2
note "$(head -n1 "$ERR")"
assert_contains "$ERR" "remote empty"
assert_contains "$ERR" "--offline"

step "-r names a remote that is not configured: exit 2; with --offline: exit 2"
assert_exit 2 "$DV" diff -r nowhere v1 v2
assert_exit 2 "$DV" diff -r origin --offline v1 v2

step "no remote configured: nothing is fetched, the message says dv fetch"
assert_exit 0 "$DV" remote remove empty
assert_exit 0 "$DV" remote remove origin
assert_exit 5 "$DV" diff --name-status v1 v2
assert_contains "$ERR" "dv fetch"
