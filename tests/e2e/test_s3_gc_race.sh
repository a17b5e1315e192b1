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
wait_for() { local i; for i in $(seq 1 1500); do [ -e "$1" ] && return 0; sleep 0.02; done; fail "timed out waiting for $1"; }

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

# race SEED: a branch of the author pushes old<SEED>.bin, then is deleted (its pack is now
# unreachable for the author's gc); a pusher clone P<SEED> adds the same bytes plus new ones
# under race<SEED>/ on a branch the author's gc never sees.
prepare_race() {
    cd "$T/a"
    git checkout -q -b "old$1"
    gen_random "old$1.bin" $((1 << 20)) "$1"
    assert_exit 0 "$DV" add "old$1.bin"
    git add -A && git commit -qm "old$1"
    assert_exit 0 "$DV" push
    git checkout -q - && git branch -D "old$1" >/dev/null
    rm -f "old$1.bin"
    rm -rf "$T/p$1" && git clone -q "$T/git.git" "$T/p$1" && cd "$T/p$1"
    git config user.email p@example.com && git config user.name p
    git checkout -qb "race$1"
    mkdir "race$1"
    gen_random "race$1/old.bin" $((1 << 20)) "$1"
    gen_random "race$1/new.bin" 300000 "$((1000 + $1))"
    race_list=$(cd "race$1" && sha256sum old.bin new.bin)
    assert_exit 0 "$DV" add "race$1"
    git add -A && git commit -qm "race$1"
    sleep 2 # remote times are whole seconds: the old pack must be older than the gc's cutoff
}
check_race() {
    cd "$T/p$1" && git push -q origin "race$1"
    rm -rf "$T/v$1" && git clone -q -b "race$1" "$T/git.git" "$T/v$1" && cd "$T/v$1"
    assert_exit 0 "$DV" pull
    assert_eq "$race_list" "$(cd "race$1" && sha256sum old.bin new.bin)" "race$1 in a third clone"
    assert_exit 0 "$DV" fsck --remote --full
    assert_contains "$OUT" " 0 problems"
    cd "$T/a"
    git fetch -q origin "race$1:race$1" # from now on the author's gc keeps that branch too
}

step "race 1: the push runs while the gc is about to delete (the push finds the lock)"
prepare_race 21
cd "$T/a"
rm -f "$T/mark" "$T/go"
s3_fault status=hold op=delete count=1 "mark=$T/mark" "go=$T/go"
"$DV" gc --remote --expire-reflog now >"$T/gc.out" 2>&1 &
gc_pid=$!
track_bg $gc_pid
wait_for "$T/mark"
cd "$T/p21" && assert_exit 0 "$DV" push
touch "$T/go"
wait $gc_pid || fail "gc failed: $(cat "$T/gc.out")"
grep -q "deleted pack" "$T/gc.out" || fail "the gc deleted nothing: $(cat "$T/gc.out")"
ok "the gc deleted the old pack while the push ran"
check_race 21

step "race 2: the gc runs whole between the push's listing and its upload"
prepare_race 22
rm -f "$T/mark" "$T/go"
s3_fault status=hold op=put count=1 "mark=$T/mark" "go=$T/go"
cd "$T/p22"
"$DV" push >"$T/push.out" 2>&1 &
push_pid=$!
track_bg $push_pid
wait_for "$T/mark"
cd "$T/a" && assert_exit 0 "$DV" gc --remote --expire-reflog now
assert_contains "$OUT" "deleted pack"
touch "$T/go"
wait $push_pid || fail "push failed: $(cat "$T/push.out")"
check_race 22

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
