#!/usr/bin/env bash
# dv ls lists the files inside tracked data at each commit of a history, from the store's
# trees alone, and refuses what is not there with a message naming it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/history_lib.sh"
e2e_init "$@"

step "make three commits of data/ and model.bin, recording every file"
make_history

for n in 1 2 3; do
    rev=$(cat "$T/rec/$n.commit")
    step "commit $n: dv ls lists exactly the recorded paths, with their sizes"
    assert_exit 0 "$DV" ls "$rev"
    LC_ALL=C sort "$OUT" >"$T/ls.txt"
    cut -f1 "$T/rec/$n.files" >"$T/want.txt"
    assert_eq "$(cat "$T/want.txt")" "$(cat "$T/ls.txt")" "paths at commit $n"
    assert_exit 0 "$DV" ls -l "$rev"
    awk -F'\t' '{ split($1, f, " +"); print $2 "\t" f[2] }' "$OUT" | LC_ALL=C sort >"$T/got.txt"
    cut -f1,2 "$T/rec/$n.files" >"$T/want.txt"
    assert_eq "$(cat "$T/want.txt")" "$(cat "$T/got.txt")" "paths and sizes at commit $n"
    assert_exit 0 "$DV" ls --json "$rev"
    "$PY" - "$OUT" >"$T/got.txt" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert o["kind"] == "file" and o["mode"] == "100644" and len(o["id"]) == 64, o
    print("%s\t%d" % (o["path"], o["size"]))
PYEOF
    LC_ALL=C sort -o "$T/got.txt" "$T/got.txt"
    assert_eq "$(cat "$T/want.txt")" "$(cat "$T/got.txt")" "JSON paths and sizes at commit $n"
done

step "the work tree is the default; revisions by name too"
assert_exit 0 "$DV" ls
LC_ALL=C sort "$OUT" >"$T/ls.txt"
assert_eq "$(cut -f1 "$T/rec/3.files")" "$(cat "$T/ls.txt")" "work tree listing"
assert_exit 0 "$DV" ls HEAD~2 model.bin
assert_eq "model.bin" "$(cat "$OUT")" "one file"
assert_exit 0 "$DV" ls -l HEAD~2 model.bin
assert_eq "$(grep '^model.bin' "$T/rec/1.files" | cut -f2)" \
    "$(awk '{ print $2 }' "$OUT")" "model.bin size at HEAD~2"

step "a directory named is listed one level, or all of it with -r"
assert_exit 0 "$DV" ls HEAD~1 data/sub
assert_eq "$(printf 'data/sub/b.bin\ndata/sub/c.bin\ndata/sub/d.bin')" "$(cat "$OUT")" "one level"
assert_exit 0 "$DV" ls HEAD~1 data
assert_contains "$OUT" "data/deep"
assert_not_contains "$OUT" "data/deep/er"
assert_exit 0 "$DV" ls --json HEAD~1 data
assert_contains "$OUT" '"path": "data/deep", "kind": "dir", "mode": "040000"'
assert_exit 0 "$DV" ls -r HEAD~1 data
assert_contains "$OUT" "data/deep/er/e with space.txt"
assert_exit 0 "$DV" ls HEAD~1 "data/deep/er/e with space.txt"
assert_eq "data/deep/er/e with space.txt" "$(cat "$OUT")" "a file inside a directory"
(cd data && assert_exit 0 "$DV" ls HEAD~1 sub/c.bin && assert_eq "data/sub/c.bin" "$(cat "$OUT")" "from a subdirectory")

step "bad inputs: unknown revision, untracked path, tree not in the store"
assert_exit 2 "$DV" ls no-such-rev
assert_contains "$ERR" "no-such-rev"
assert_contains "$ERR" "unknown revision 'no-such-rev'"
assert_exit 2 "$DV" ls no-such-rev data
assert_contains "$ERR" "no-such-rev"
assert_exit 2 "$DV" ls HEAD~2 data/deep
assert_contains "$ERR" "data/deep is not tracked by dv at revision HEAD~2"
assert_exit 2 "$DV" ls HEAD nothing-here
assert_contains "$ERR" "nothing-here is not tracked"
rm -rf .dv/cache
assert_exit 5 "$DV" ls HEAD~1 data
assert_contains "$ERR" "data/: its tree"
assert_contains "$ERR" "run dv fetch"
assert_exit 5 "$DV" ls HEAD~1 model.bin
assert_contains "$ERR" "model.bin: its manifest"
assert_contains "$ERR" "run dv fetch"

step "done"
