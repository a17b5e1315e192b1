#!/usr/bin/env bash
# Files restored by dv checkout get stat-cache entries that are trusted at once (their
# content is known), so the next add or status reads nothing; and a same-size change
# made right after the checkout is still seen.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

SIZE=$((8 * 1024 * 1024))
read_amount() { grep -oE "[0-9][0-9.]* ?[A-Za-z]* read" "$ALL" | head -n1 | sed 's/ read$//'; }

step "a repository with one 8 MiB file, removed and restored by dv checkout"
new_repo "$T/repo"
gen_random data.bin "$SIZE" 1
sha=$(sha_of data.bin)
assert_exit 0 "$DV" add data.bin
git commit -q -m data
rm data.bin
assert_exit 0 "$DV" checkout
assert_file_sha data.bin "$sha" "restored data.bin"

step "right after checkout: add reads nothing, status is clean"
assert_exit 0 "$DV" add data.bin
note "$(tr '\n' ' ' <"$ALL")"
amount=$(read_amount)
[[ "$amount" =~ ^0(\.0+)?( ?[A-Za-z]+)?$ ]] || fail "dv add read $amount of a file checkout had just written"
ok "dv add read $amount"
assert_exit 0 "$DV" status

step "a same-size change right after checkout is seen"
for i in 1 2 3; do
    rm data.bin
    assert_exit 0 "$DV" checkout
    # flip one byte in place at once: same size, same inode
    "$PY" -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(4096); b = f.read(1); f.seek(4096); f.write(bytes([b[0] ^ 1])); f.close()' data.bin
    assert_exit 1 "$DV" status
    assert_contains "$OUT" "modified"
    git checkout -q data.bin.dv
    assert_exit 0 "$DV" checkout --force
done

step "3,000 small files in 30 directories, removed and restored side by side"
"$PY" - small <<'PYEOF'
import os, random, sys
r = random.Random(7)
for d in range(30):
    os.makedirs(os.path.join(sys.argv[1], "d%02d" % d))
    for i in range(100):
        with open(os.path.join(sys.argv[1], "d%02d" % d, "f%03d" % i), "wb") as f:
            f.write(r.randbytes(r.randrange(0, 16384)))
    os.chmod(os.path.join(sys.argv[1], "d%02d" % d, "f000"), 0o755)
PYEOF
snapshot small "$T/small.before" >/dev/null
assert_exit 0 "$DV" add small
git commit -q -m small
rm -rf small
assert_exit 0 "$DV" checkout
assert_contains "$OUT" "restored 3000 files"
assert_tree_matches small "$T/small.before" "restored small/"

step "every restored small file has its stat-cache entry: add reads nothing, status is clean"
assert_exit 0 "$DV" add small
amount=$(read_amount)
[[ "$amount" =~ ^0(\.0+)?( ?[A-Za-z]+)?$ ]] || fail "dv add read $amount of files checkout had just written"
ok "dv add read $amount"
assert_exit 0 "$DV" status
