# A dv push and a dv gc --remote at once, for the directory (test_gc_remote.sh) and the S3
# (test_s3_gc_race.sh) tests. Sourced after lib.sh; the test has made $T/git.git (the git
# remote) and $T/a (the author's clone, whose dv remote is origin and whose gc runs), and
# defines:
#   race_age      make what is on the remote old enough for the author's gc to delete
#   race_hold OP  make the next OP (delete, or upload) on the remote wait: create $T/mark
#                 when it starts and go on once $T/go exists; set HOLD to the command prefix
#                 the holding process runs under (empty when the remote's side holds it)
HOLD=()
wait_for() { local i; for i in $(seq 1 1500); do [ -e "$1" ] && return 0; sleep 0.02; done; fail "timed out waiting for $1"; }

# race_prepare SEED: a branch of the author pushes old<SEED>.bin, then is deleted (its pack is
# now unreachable for the author's gc, and old); a pusher clone $T/p<SEED> adds the same bytes
# plus new ones under race<SEED>/ on a branch the author's gc does not see until race_check.
race_prepare() {
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
    race_age
}

# race_check SEED: a third clone pulls what the push named, byte for byte; the remote checks
# whole; the author's clone learns the branch (its later gcs keep it).
race_check() {
    cd "$T/p$1" && git push -q origin "race$1"
    rm -rf "$T/v$1" && git clone -q -b "race$1" "$T/git.git" "$T/v$1" && cd "$T/v$1"
    assert_exit 0 "$DV" pull
    assert_eq "$race_list" "$(cd "race$1" && sha256sum old.bin new.bin)" "race$1 in a third clone"
    assert_exit 0 "$DV" fsck --remote --full
    assert_contains "$OUT" " 0 problems"
    cd "$T/a"
    git fetch -q origin "race$1:race$1"
}

# race_push_during_gc SEED: the push runs whole while the gc waits to delete (it finds the
# gc's lock and sends again what the gc may take).
race_push_during_gc() {
    race_prepare "$1"
    cd "$T/a"
    rm -f "$T/mark" "$T/go"
    race_hold delete
    "${HOLD[@]}" "$DV" gc --remote --expire-reflog now >"$T/gc.out" 2>&1 &
    local gc_pid=$!
    track_bg $gc_pid
    wait_for "$T/mark"
    cd "$T/p$1" && assert_exit 0 "$DV" push
    touch "$T/go"
    wait $gc_pid || fail "gc failed: $(cat "$T/gc.out")"
    grep -q "deleted pack" "$T/gc.out" || fail "the gc deleted nothing: $(cat "$T/gc.out")"
    ok "the gc deleted the old pack while the push ran"
    race_check "$1"
}

# race_gc_during_push SEED: the gc runs whole between the push's listing and its upload.
race_gc_during_push() {
    race_prepare "$1"
    rm -f "$T/mark" "$T/go"
    race_hold upload
    cd "$T/p$1"
    "${HOLD[@]}" "$DV" push >"$T/push.out" 2>&1 &
    local push_pid=$!
    track_bg $push_pid
    wait_for "$T/mark"
    cd "$T/a" && assert_exit 0 "$DV" gc --remote --expire-reflog now
    assert_contains "$OUT" "deleted pack"
    touch "$T/go"
    wait $push_pid || fail "push failed: $(cat "$T/push.out")"
    race_check "$1"
}
