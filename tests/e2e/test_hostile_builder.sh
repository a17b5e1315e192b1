#!/usr/bin/env bash
# hostile.py, the builder of crafted store objects the hostile-repository scenarios
# use, is written from docs/formats.md alone. Pin it: its encoders reproduce the
# worked examples of formats.md, and dv reads what it writes (a pack and index in the
# local store and in a directory remote, pointer files of every kind) as valid.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"
. "$HERE/hostile_lib.sh"

step "the encoders match the worked examples of docs/formats.md"
assert_exit 0 $HOSTILE selfcheck
assert_contains "$OUT" "ok: manifest id of hello\n"
assert_contains "$OUT" "ok: tree id of {hello.txt}"
assert_contains "$OUT" "ok: crc32c('123456789')"
printf '123456789' >"$T/crc.in"
assert_eq e3069283 "$($HOSTILE crc32c "$T/crc.in")" "CRC-32C of 123456789"

spec='{"pointers": {
  "hello.txt.dv": {"file": "hello\n"},
  "tool.dv": {"file": "#!/bin/sh\n", "exec": true},
  "ln.dv": {"symlink": "hello.txt"},
  "d.dv": {"dir": {"hello.txt": {"file": "hello\n"}}},
  "big.dv": {"file_hex": "'$(head -c 70000 /dev/zero | tr '\0' 'z' | od -An -v -tx1 | tr -d ' \n')'"},
  "t.dv": {"dir": {"a b": {"file": "1\n"}, "a": {"file": "2\n"}, "a-": {"file": "3\n"},
                   "l": {"symlink": "../x"}, "e": {"dir": {}}, "x": {"file": "", "exec": true},
                   "s": {"dir": {"deep": {"dir": {"f": {"file": "deep\n"}}}}}}}}}'

step "dv checkout restores what hostile.py planted in the local store"
new_repo "$T/local"
printf '%s' "$spec" | $HOSTILE plant --root . --packs .dv/cache/packs - >"$T/planted.json"
assert_eq 0be872127b5caefb113454d6b096e9b520636f70660c00171505a483b6887704 \
    "$(json_get "$T/planted.json" "j['d.dv']")" "tree id of d"
assert_eq 5c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34ee7e045139 \
    "$(json_get "$T/planted.json" "j['hello.txt.dv']")" "manifest id of hello.txt"
git add -A
git commit -q -m planted
assert_exit 0 "$DV" fsck
assert_match "$ALL" " 0 problems"
assert_exit 0 "$DV" checkout
assert_eq "hello" "$(cat hello.txt)" "hello.txt"
assert_eq "hello" "$(cat d/hello.txt)" "d/hello.txt"
[ -x tool ] || fail "tool lost its executable bit"
assert_eq hello.txt "$(readlink ln)" "ln"
assert_eq 70000 "$(stat -c %s big)" "size of big (two chunks)"
assert_eq "../x" "$(readlink t/l)" "t/l"
[ -d t/e ] && [ -x t/x ] && [ "$(cat t/s/deep/f)" = deep ] && [ "$(cat 't/a b')" = 1 ] ||
    fail "t/ not restored as planted"
ok "every kind of entry restored"
assert_exit 0 "$DV" status
assert_exit 0 "$DV" fsck

step "dv pull reads what hostile.py planted in a directory remote"
hostile_origin "$T/origin"
printf '%s' "$spec" | $HOSTILE plant --root . --packs "$REMOTE/packs" - >/dev/null
git add -A
git commit -q -m planted
git clone -q "$T/origin" "$T/clone"
cd "$T/clone"
assert_exit 0 "$DV" pull
assert_eq "hello" "$(cat d/hello.txt)" "d/hello.txt from the remote"
assert_eq "deep" "$(cat t/s/deep/f)" "t/s/deep/f from the remote"
assert_exit 0 "$DV" status
assert_exit 0 "$DV" fsck
