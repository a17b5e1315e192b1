#!/usr/bin/env bash
# dv gc --remote and dv push at once against the S3 rig (tests/s3), the proxy holding one
# request of one side until the other has run: a push while the gc is about to delete (the
# push finds the lock and sends again what the gc may take), and a gc run whole between a
# push's listing and its upload; a third clone then pulls what each push named, byte for
# byte. And a remote that stops answering half-way through a gc's deletions: a clear
# message, every kept revision still pulls, and the next gc finishes the work.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

. "$HERE/s3_lib.sh"

step "author: main keeps keep.bin, pushed; a gc of the remote needs no age"
git init -q --bare "$T/git.git"
new_repo "$T/a"
assert_exit 0 "$DV" remote add --default "${remote_add_opts[@]}" origin "$remote_url"
assert_exit 0 "$DV" config --local gc.pruneExpire now
gen_random keep.bin $((1 << 20)) 1
keep_sha=$(sha_of keep.bin)
assert_exit 0 "$DV" add keep.bin
git add -A && git commit -qm keep
assert_exit 0 "$DV" push
git remote add origin "$T/git.git" && git push -q origin HEAD:main

. "$HERE/gc_race_lib.sh"
race_age() { sleep 2; } # remote times are whole seconds: older than the gc's cutoff (now)
race_hold() {
    local op=delete
    [ "$1" = upload ] && op=put
    s3_fault status=hold op=$op count=1 "mark=$T/mark" "go=$T/go"
    HOLD=()
}

step "race 1: the push runs while the gc is about to delete (the push finds the lock)"
race_push_during_gc 21

step "race 2: the gc runs whole between the push's listing and its upload"
race_gc_during_push 22

step "the remote stops answering after the gc's first deletion: clear message, nothing lost"
cd "$T/a"
for b in 1 2; do
    git checkout -q -b "gone$b"
    gen_random "gone$b.bin" 500000 "$((40 + b))"
    assert_exit 0 "$DV" add "gone$b.bin"
    git add -A && git commit -qm "gone$b"
    assert_exit 0 "$DV" push
    git checkout -q - && git branch -D "gone$b" >/dev/null
    rm -f "gone$b.bin"
done
sleep 2
files_before=$(remote_ls | wc -l)
s3_fault status=drop op=delete skip=1 count=1000
assert_exit 5 "$DV" gc --remote --expire-reflog now
assert_contains "$ERR" "from remote origin"
s3_fault status=drop op=delete count=0
[ "$(remote_ls | wc -l)" -lt "$files_before" ] || fail "the gc deleted nothing before the fault"
rm -rf "$T/c" && git clone -q "$T/git.git" "$T/c" && cd "$T/c"
assert_exit 0 "$DV" pull
assert_eq "$keep_sha" "$(sha_of keep.bin)" "keep.bin after the failed gc"
cd "$T/a"
assert_exit 0 "$DV" gc --remote --expire-reflog now
assert_contains "$OUT" "deleted pack"
assert_exit 0 "$DV" gc --remote --dry-run --expire-reflog now
assert_contains "$OUT" "0 deleted"
assert_exit 0 "$DV" fsck --remote --full
assert_contains "$OUT" " 0 problems"
for s in 21 22; do
    rm -rf "$T/v$s" && git clone -q -b "race$s" "$T/git.git" "$T/v$s" && cd "$T/v$s"
    assert_exit 0 "$DV" pull
    assert_eq "$(cd "$T/p$s/race$s" && sha256sum old.bin new.bin)" \
        "$(cd "race$s" && sha256sum old.bin new.bin)" "race$s after the last gc (its data only on the remote)"
done
