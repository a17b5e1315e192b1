#!/usr/bin/env bash
# dv gc merges small packs: many small dv adds (one pack each) end as a few packs after
# dv gc --repack-only, which deletes no object; every version restores byte for byte
# (digests recorded when the data was made), dv fsck is clean, a dry run counts what the
# run does without changing the store, and a pack at least pack.minSize stays where it was
# in the order of writing, between the packs merged before and after it.
# 60 adds by default, 1000 with DV_KILL_LONG=1 (or DV_MERGE_ADDS=<n>).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

if [ -n "${DV_MERGE_ADDS:-}" ]; then
    N=$DV_MERGE_ADDS
elif [ "${DV_KILL_LONG:-0}" != 0 ]; then
    N=1000
else
    N=60
fi
PACKS=.dv/cache/packs
store_state() { (cd .dv/cache && find packs -type f -printf '%p %s %T@\n' | sort && cat packs/*) | sha256sum; }
counts() { sed -e 's/^would be //' -e 's/^packs would be:/packs:/' "$1" | grep -E '^(kept|freed|packs):'; }
mtime_of() { stat -c %.9Y "$PACKS/$1.pack"; }

new_repo "$T/r"
git commit -qm init

step "$N small adds, one dv add each: a new file, or a new version of model.bin, committed"
start=$(now_ms)
export DV
"$PY" - "$N" "$T/versions" <<'EOF'
import hashlib, os, random, subprocess, sys
n, out = int(sys.argv[1]), sys.argv[2]
dv = os.environ["DV"]
os.makedirs("files", exist_ok=True)
with open(out, "w") as f:
    for i in range(n):
        r = random.Random(i)
        data = r.randbytes(r.randrange(1, 3000))
        path = "model.bin" if i % 3 == 0 else "files/f%04d.bin" % i
        with open(path, "wb") as g:
            g.write(data)
        subprocess.run([dv, "add", path], check=True, stdout=subprocess.DEVNULL)
        if i % 3 == 0:
            subprocess.run(["git", "commit", "-qm", "v%d" % i], check=True)
            rev = subprocess.run(["git", "rev-parse", "HEAD"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        else:
            rev = ""
        f.write("%s %s %s\n" % (path, hashlib.sha256(data).hexdigest(), rev))
EOF
git commit -qm files
note "$N adds took $(($(now_ms) - start)) ms"
assert_eq "$N" "$(pack_count)" "packs after $N adds"

# check_versions: dv fsck is clean, every file at HEAD restores by dv checkout (after its
# work-tree copy is removed), every version of model.bin by dv cat at its commit.
check_versions() {
    assert_exit 0 "$DV" fsck
    find files -name "*.bin" -delete
    rm -f model.bin ./*.txt big.bin
    assert_exit 0 "$DV" checkout
    local bad
    bad=$("$PY" - "$T/versions" <<'EOF'
import hashlib, os, subprocess, sys
dv = os.environ["DV"]
bad, head = 0, {}
for line in open(sys.argv[1]):
    path, sha, rev = (line.split() + [""])[:3]
    head[path] = sha
    if rev:
        got = subprocess.run([dv, "cat", "%s:%s" % (rev, path)], capture_output=True)
        if got.returncode != 0 or hashlib.sha256(got.stdout).hexdigest() != sha:
            print("%s at %s" % (path, rev))
            bad += 1
for path, sha in head.items():
    if hashlib.sha256(open(path, "rb").read()).hexdigest() != sha:
        print(path)
        bad += 1
sys.exit(1 if bad else 0)
EOF
) || fail "versions that do not restore: $bad"
    ok "every version restores byte for byte"
}

step "dv gc --repack-only --dry-run counts and changes nothing"
objects=$("$DV" gc --repack-only -n | sed -n 's/^would be kept: \([0-9]*\) objects.*/\1/p')
state=$(store_state)
assert_exit 0 "$DV" gc --repack-only -n
cp "$OUT" "$T/dry"
assert_contains "$OUT" "would be freed: 0 objects"
assert_match "$OUT" "packs would be: 0 unchanged, $N merged, 0 rewritten, 0 deleted, 1 written"
assert_eq "$state" "$(store_state)" "store after --dry-run"

step "dv gc --repack-only merges them into one pack, deleting no object"
before_bytes=$(store_bytes)
assert_exit 0 "$DV" gc --repack-only
assert_eq "$(counts "$T/dry")" "$(counts "$OUT")" "dry run's counts and the run's"
assert_contains "$OUT" "kept: $objects objects"
assert_contains "$OUT" "freed: 0 objects"
[ "$(pack_count)" -le 3 ] || fail "$(pack_count) packs after dv gc --repack-only"
ok "$(pack_count) pack(s) left of $N"
freed=$(sed -n 's/^freed: 0 objects, \([0-9]*\) bytes.*/\1/p' "$OUT")
assert_eq $((before_bytes - freed)) "$(store_bytes)" "store bytes after the merge"
ls .dv/cache/tmp | grep . && fail "temp files left in the store" || true
check_versions

step "a second run finds nothing to merge"
state=$(store_state)
assert_exit 0 "$DV" gc --repack-only
assert_contains "$OUT" "packs: 1 unchanged, 0 merged, 0 rewritten, 0 deleted, 0 written"
assert_eq "$state" "$(store_state)" "store after a run with nothing to merge"

step "plain dv gc merges new small packs too"
for i in 1 2 3 4 5; do
    printf 'late %s\n' "$i" >"late$i.txt"
    printf 'late%s.txt %s \n' "$i" "$(sha_of "late$i.txt")" >>"$T/versions"
    assert_exit 0 "$DV" add "late$i.txt"
done
git commit -qm late
assert_exit 0 "$DV" gc
assert_contains "$OUT" "freed: 0 objects"
assert_contains "$OUT" "6 merged"
assert_eq 1 "$(pack_count)" "packs after dv gc"
assert_exit 0 "$DV" fsck

step "a pack of pack.minSize or more stays, in its place in the order of writing"
assert_exit 0 "$DV" config pack.minSize 1m
git commit -qm minsize
old=$(ls $PACKS | sed -n 's/\.pack$//p')
gen_random big.bin $((2 << 20)) 7
printf 'big.bin %s \n' "$(sha_of big.bin)" >>"$T/versions"
before=$(ls $PACKS | sed -n 's/\.pack$//p')
assert_exit 0 "$DV" add big.bin
big=$(comm -13 <(echo "$before") <(ls $PACKS | sed -n 's/\.pack$//p'))
assert_eq 1 "$(echo "$big" | wc -l)" "big.bin's pack"
for i in 1 2 3; do
    printf 'after %s\n' "$i" >"after$i.txt"
    printf 'after%s.txt %s \n' "$i" "$(sha_of "after$i.txt")" >>"$T/versions"
    assert_exit 0 "$DV" add "after$i.txt"
done
git commit -qm after
assert_exit 0 "$DV" gc --repack-only
assert_contains "$OUT" "packs: 2 unchanged, 3 merged, 0 rewritten, 0 deleted, 1 written"
[ -e "$PACKS/$big.pack" ] && [ -e "$PACKS/$old.pack" ] || fail "a pack that stays was rewritten"
merged=$(ls $PACKS | sed -n 's/\.pack$//p' | grep -v -e "$big" -e "$old")
"$PY" -c 'import sys; a, b, c = map(float, sys.argv[1:]); sys.exit(0 if a <= b <= c else 1)' \
    "$(mtime_of "$old")" "$(mtime_of "$big")" "$(mtime_of "$merged")" ||
    fail "the merged pack is not after the packs it came after"
ok "old merged pack, big.bin's pack, then the new merged pack, in the order of writing"
check_versions
