#!/usr/bin/env bash
# dv add / status / checkout from a subdirectory with relative paths; -C; paths outside
# the work tree (or inside .git / .dv) are refused.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

step "set up: x.bin at the top, sub/y.bin, sub/deeper/z/ (a directory)"
new_repo "$T/repo"
mkdir -p sub/deeper/z other
gen_random x.bin 150000 1
gen_random sub/y.bin 150000 2
gen_text sub/deeper/z/t1.csv 500 3
gen_text sub/deeper/z/t2.csv 500 4
xs=$(sha_of x.bin); ys=$(sha_of sub/y.bin)
zd=$(snapshot sub/deeper/z "$T/z.list")
mkdir -p "$T/outside"
printf 'outside\n' >"$T/outside/o.txt"

step "from sub/: dv add ../x.bin ./y.bin deeper/z/"
cd "$T/repo/sub"
assert_exit 0 "$DV" add ../x.bin ./y.bin deeper/z/
cd "$T/repo"
for p in x.bin.dv sub/y.bin.dv sub/deeper/z.dv; do
    [ -f "$p" ] || fail "pointer $p not written"
done
ok "pointers x.bin.dv, sub/y.bin.dv, sub/deeper/z.dv written beside their data"
[ ! -e sub/x.bin.dv ] || fail "x.bin.dv written in sub/ instead of the top"
ok "no pointer in the wrong directory"
assert_eq /x.bin "$(grep -xF /x.bin .gitignore)" "top .gitignore entry"
assert_eq /y.bin "$(grep -xF /y.bin sub/.gitignore)" "sub/.gitignore entry"
assert_eq /z "$(grep -xF /z sub/deeper/.gitignore)" "sub/deeper/.gitignore entry"
if grep -q 'y.bin' .gitignore; then fail "top .gitignore mentions y.bin"; fi
ok "entries are in the .gitignore beside each path"
git commit -q -m data
assert_git_clean
assert_exit 0 "$DV" status

step "absolute paths inside the work tree work too"
gen_random other/w.bin 80000 5
assert_exit 0 "$DV" add "$T/repo/other/w.bin"
[ -f other/w.bin.dv ] || fail "no pointer for an absolute path"
ok "other/w.bin.dv written"
git commit -q -m w

step "dv status from sub/ with relative paths"
cd "$T/repo/sub/deeper"
assert_exit 0 "$DV" status
assert_exit 0 "$DV" status ../../x.bin ../y.bin z
printf 'x' >>../../x.bin
assert_exit 1 "$DV" status ../../x.bin
assert_contains "$OUT" "x.bin"
assert_exit 0 "$DV" status z ./z/
assert_exit 1 "$DV" status --json
assert_eq modified "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'x.bin'][0]")" "state of x.bin (json path relative to top)"

step "dv checkout from a subdirectory with relative paths"
assert_exit 0 "$DV" checkout --force ../../x.bin
assert_file_sha "$T/repo/x.bin" "$xs" "x.bin restored"
rm ../y.bin z/t1.csv
assert_exit 0 "$DV" checkout ../y.bin ./z
assert_file_sha "$T/repo/sub/y.bin" "$ys" "sub/y.bin restored"
assert_tree_matches "$T/repo/sub/deeper/z" "$T/z.list" "sub/deeper/z restored"
rm ../y.bin
assert_exit 0 "$DV" checkout ../y.bin.dv
assert_file_sha "$T/repo/sub/y.bin" "$ys" "sub/y.bin restored via its pointer file"
assert_exit 0 "$DV" status

step "paths outside the repository are refused with exit 2"
assert_exit 2 "$DV" add "$T/outside/o.txt"
assert_contains "$ERR" "o.txt"
assert_exit 2 "$DV" add ../../../outside/o.txt
assert_exit 2 "$DV" add ../../..
assert_exit 2 "$DV" status "$T/outside/o.txt"
assert_exit 2 "$DV" checkout "$T/outside/o.txt"
[ ! -e "$T/outside/o.txt.dv" ] || fail "a pointer was written outside the repository"
[ ! -e "$T/.gitignore" ] || fail "a .gitignore was written outside the repository"
ok "nothing written outside"

step "paths inside .dv/ or .git/ are refused with exit 2"
assert_exit 2 "$DV" add ../../.dv/config
assert_exit 2 "$DV" add "$T/repo/.git/config"
assert_exit 2 "$DV" add ../../.dv
[ ! -e "$T/repo/.dv/config.dv" ] || fail "a pointer was written inside .dv"
ok "nothing written inside .dv"

step "the work tree top itself cannot be added"
assert_exit 2 "$DV" add ../..

step "-C runs as if started in another directory"
cd "$T"
assert_exit 0 "$DV" -C "$T/repo" status
assert_exit 0 "$DV" -C "$T/repo/sub" status y.bin
printf 'y' >>"$T/repo/sub/y.bin"
assert_exit 1 "$DV" -C "$T/repo/sub" status y.bin
assert_exit 0 "$DV" -C "$T/repo/sub" add y.bin
assert_exit 0 "$DV" -C "$T/repo" status
assert_exit 2 "$DV" -C "$T/outside" status
cd "$T/repo"
git diff --cached --name-only | grep -qx sub/y.bin.dv || fail "-C add did not stage sub/y.bin.dv"
ok "sub/y.bin.dv staged by dv -C … add"
