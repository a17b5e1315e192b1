#!/usr/bin/env bash
# git diff and git log -p of pointer files through dv diff --textconv, as docs/formats.md
# says to set it up (*.dv diff=dv, diff.dv.textconv): git shows the files that changed
# inside a tracked directory, with their sizes, not two hashes; from a subdirectory too;
# and a pointer whose trees the store lacks still converts, saying so.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "two commits of a directory: a file grown, one added, one left alone"
new_repo "$T/repo"
mkdir -p data/sub
printf 'alpha\n' >data/a.txt
printf 'beta\n' >data/sub/b.txt
assert_exit 0 "$DV" add data
git commit -qm one
printf 'alpha, longer\n' >data/a.txt
printf 'gamma!\n' >data/c.txt
assert_exit 0 "$DV" add data
git commit -qm two
echo '*.dv diff=dv' >.gitattributes
git config diff.dv.textconv "$DV diff --textconv"

step "git diff shows the files inside the pointer's data"
run git diff HEAD~1 HEAD -- data.dv
assert_contains "$OUT" "-dv dir: 11 B (11 bytes), "
assert_contains "$OUT" "+dv dir: 26 B (26 bytes), "
assert_match "$OUT" '^-100644 +6 [0-9a-f]{64}	a\.txt$'
assert_match "$OUT" '^\+100644 +14 [0-9a-f]{64}	a\.txt$'
assert_match "$OUT" '^\+100644 +7 [0-9a-f]{64}	c\.txt$'
assert_match "$OUT" '^ 100644 +5 [0-9a-f]{64}	sub/b\.txt$'
assert_not_contains "$OUT" "-oid"
ok "one line a file, the unchanged one as context"

step "git log -p from a subdirectory, the same lines"
(cd data/sub && git log -p --format=%s -1 -- ../../data.dv) >"$T/log.txt"
assert_match "$T/log.txt" '^\+100644 +7 [0-9a-f]{64}	c\.txt$'
assert_contains "$T/log.txt" "two"

step "dv diff --textconv of the pointer itself, of one whose trees are not here, of junk"
assert_exit 0 "$DV" diff --textconv data.dv
assert_eq 4 "$(wc -l <"$OUT")" "lines of the listing"
git show HEAD:data.dv | sed 's/[0-9a-f]\{64\}/'"$(printf '%064d' 0 | tr 0 a)"'/' >"$T/elsewhere.dv"
assert_exit 0 "$DV" diff --textconv "$T/elsewhere.dv"
assert_contains "$OUT" "(the files are not listed: "
assert_contains "$OUT" "dv fetch"
printf 'not a pointer\n' >"$T/junk.dv"
assert_exit_ge 1 "$DV" diff --textconv "$T/junk.dv"
assert_contains "$ERR" "junk.dv"
assert_exit 2 "$DV" diff --textconv data.dv HEAD
ok "converted, or refused by name"
