#!/usr/bin/env bash
# dv cat writes each file of each commit of a history byte for byte from the store, byte
# ranges too, stops quietly when its reader goes away, and refuses what it cannot write.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/history_lib.sh"
e2e_init "$@"

step "make three commits of data/ and model.bin, recording every file"
make_history

for n in 1 2 3; do
    rev=$(cat "$T/rec/$n.commit")
    step "commit $n: every file's bytes match the sha256 recorded when it was made"
    while IFS=$'\t' read -r path size sha; do
        got=$("$DV" cat "$rev:$path" | sha256sum | cut -d' ' -f1)
        assert_eq "$sha" "$got" "sha256 of $rev:$path"
    done <"$T/rec/$n.files"
done

step "byte ranges match dd and tail | head of the recorded file"
rev1=$(cat "$T/rec/1.commit")
kept=$T/rec/1/model.bin
for range in "0 10" "1 1" "12345 1000000" "2999990 100" "2500000 0" "3000000 5" "4000000 5"; do
    set -- $range
    want=$({ tail -c +$(($1 + 1)) "$kept" || true; } | head -c "$2" | sha256sum | cut -d' ' -f1)
    got=$("$DV" cat --offset "$1" --length "$2" "$rev1:model.bin" | sha256sum | cut -d' ' -f1)
    assert_eq "$want" "$got" "model.bin at commit 1, offset $1 length $2"
done
want=$(dd if="$T/rec/2/data/sub/d.bin" bs=1000 skip=7 count=13 status=none | sha256sum | cut -d' ' -f1)
got=$("$DV" cat --offset 7000 --length 13000 HEAD~1:data/sub/d.bin | sha256sum | cut -d' ' -f1)
assert_eq "$want" "$got" "data/sub/d.bin at HEAD~1 bytes 7000..20000 (dd)"
want=$(tail -c +100001 "$T/rec/3/model.bin" | sha256sum | cut -d' ' -f1)
got=$("$DV" cat --offset 100000 model.bin | sha256sum | cut -d' ' -f1)
assert_eq "$want" "$got" "model.bin in the work tree's pointers from offset 100000 to the end"
got=$("$DV" cat ":data/deep/er/e with space.txt" | sha256sum | cut -d' ' -f1)
assert_eq "$(sha_of "$T/rec/3/data/deep/er/e with space.txt")" "$got" "a file inside data, staged"
got=$(cd data/sub && "$DV" cat c.bin | sha256sum | cut -d' ' -f1)
assert_eq "$(sha_of "$T/rec/3/data/sub/c.bin")" "$got" "a path from a subdirectory"

step "a closed pipe stops dv cat early: exit 0, no message"
set +o pipefail
rcs=$( { "$DV" cat "$rev1:model.bin" 2>"$T/pipe.err"; echo "rc=$?" >"$T/pipe.rc"; } | head -c 10 | wc -c)
set -o pipefail
assert_eq "10" "$(echo $rcs)" "bytes head read"
assert_eq "rc=0" "$(cat "$T/pipe.rc")" "exit status of dv cat"
assert_empty "$T/pipe.err"

step "bad inputs give their messages and non-zero exits"
assert_exit 2 "$DV" cat no-such-rev:model.bin
assert_contains "$ERR" "no-such-rev"
assert_exit 2 "$DV" cat "$rev1:data/sub/d.bin"
assert_contains "$ERR" "data/sub/d.bin is not tracked by dv at revision $rev1"
assert_exit 2 "$DV" cat HEAD:data/sub
assert_contains "$ERR" "data/sub is a directory"
assert_exit 2 "$DV" cat HEAD:data
assert_contains "$ERR" "data is a directory"
assert_exit 2 "$DV" cat --offset x HEAD:model.bin
assert_contains "$ERR" "--offset wants a number"
assert_exit 2 "$DV" cat
rm -rf .dv/cache
assert_exit 5 "$DV" cat HEAD:model.bin
assert_contains "$ERR" "model.bin: its manifest"
assert_contains "$ERR" "run dv fetch"
assert_exit 5 "$DV" cat HEAD:data/a.csv
assert_contains "$ERR" "run dv fetch"

step "done"
