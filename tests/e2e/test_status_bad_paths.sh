#!/usr/bin/env bash
# One bad tracked path does not hide the others from dv status: a pointer file that
# cannot be read (here a symlink loop) or one that names the wrong kind of object is
# reported by its path, every other path is still compared, and the exit status says
# there was an error (5).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

new_repo "$T/r"
mkdir dir
gen_random dir/a.bin 20000 1
gen_random b.bin 20000 2
gen_random c.bin 20000 3
gen_random d.bin 20000 4
assert_exit 0 "$DV" add dir b.bin c.bin d.bin
git commit -qm data
printf 'x' >>d.bin # d.bin is modified: status must still say so

step "b.bin.dv is a symlink to itself (open fails with ELOOP)"
rm b.bin.dv
ln -s b.bin.dv b.bin.dv
assert_exit 5 "$DV" status
assert_contains "$ERR" "b.bin.dv"
assert_match "$ERR" "^dv: error: .*b\.bin\.dv.*\\(fix or restore the pointer file"
assert_match "$OUT" "modified: +d\.bin"
assert_exit 5 "$DV" status --json
assert_eq bad-pointer "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'b.bin'][0]")" "state of b.bin"
assert_eq clean "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'c.bin'][0]")" "state of c.bin"
assert_eq modified "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'd.bin'][0]")" "state of d.bin"
assert_eq clean "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'dir'][0]")" "state of dir"
rm b.bin.dv
git checkout -q -- b.bin.dv

step "b.bin.dv is a FIFO: refused, not waited on"
rm b.bin.dv
mkfifo b.bin.dv
assert_exit 5 timeout 20 "$DV" status
assert_contains "$ERR" "b.bin.dv: not a regular file; expected a pointer file"
assert_match "$OUT" "modified: +d\.bin"
rm b.bin.dv
git checkout -q -- b.bin.dv

step "dir.dv names a file's manifest as its tree"
file_oid=$(sed -n 's/^oid: //p' c.bin.dv)
sed -i "s/^oid: .*/oid: $file_oid/" dir.dv
assert_exit 5 "$DV" status
assert_match "$ERR" "^dv: error: cannot compare dir with its pointer file: "
assert_match "$OUT" "modified: +d\.bin"
assert_exit 5 "$DV" status --json
assert_eq error "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'dir'][0]")" "state of dir"
assert_contains "$OUT" "cannot compare dir with its pointer file"
assert_eq modified "$(json_get "$OUT" "[p['state'] for p in j['paths'] if p['path'] == 'd.bin'][0]")" "state of d.bin"
assert_eq 4 "$(json_get "$OUT" "len(j['paths'])")" "paths reported"
git checkout -q -- dir.dv

step "with the pointer files restored: modified, exit 1"
assert_exit 1 "$DV" status
