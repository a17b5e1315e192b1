#!/usr/bin/env bash
# dv gc --remote on a directory remote: with the default gc.pruneExpire nothing young goes;
# --dry-run changes nothing and names what would go; a live lock object makes gc refuse (exit
# 3), a stale one is ignored; a remote that fails half-way (removals refused by an LD_PRELOAD
# shim) ends with a clear message and every kept revision still pulls byte for byte; with
# gc.pruneExpire now a deleted branch's exclusive pack goes, a pack shared with a kept file is
# rewritten, fsck --remote --full is clean and a fresh clone pulls every kept revision byte for
# byte. Then pushes from another clone that rely on old unreachable packs, racing a gc in
# three orders (push before gc; push while gc is about to delete; gc between the push's
# listing and its uploads), lose nothing: a third clone pulls the pushed data byte for byte.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
e2e_init "$@"

REMOTE=$T/remote
listing() { (cd "$REMOTE" && find . -type f -printf '%p %s %T@\n' | sort); }
remote_files() { (cd "$REMOTE" && { find packs locks -type f ! -name '.*' 2>/dev/null || true; } | sort); }
backdate() { find "$REMOTE" -exec touch -h -d '30 days ago' {} +; }

# A shim that makes one call (unlink or rename) on a path containing SHIM_MATCH fail
# (SHIM_MODE=fail: every matching call after SHIM_SKIP of them) or wait (SHIM_MODE=wait: the
# first one creates SHIM_MARK and waits until SHIM_GO exists).
cat >"$T/shim.c" <<'CEOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
static int hits;
static int hit(const char *func, const char *path)
{
    const char *f = getenv("SHIM_FUNC"), *m = getenv("SHIM_MATCH"), *mode = getenv("SHIM_MODE");
    if (!f || !m || !mode || strcmp(f, func) || !strstr(path, m))
        return 0;
    if (!strcmp(mode, "fail")) {
        const char *skip = getenv("SHIM_SKIP");
        return hits++ >= (skip ? atoi(skip) : 0) ? -1 : 0;
    }
    if (hits++)
        return 0;
    close(open(getenv("SHIM_MARK"), O_CREAT | O_WRONLY, 0644));
    while (access(getenv("SHIM_GO"), F_OK) != 0)
        usleep(20000);
    return 0;
}
int unlink(const char *path)
{
    static int (*real)(const char *);
    if (!real)
        real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    if (hit("unlink", path) < 0) {
        errno = EIO;
        return -1;
    }
    return real(path);
}
int rename(const char *from, const char *to)
{
    static int (*real)(const char *, const char *);
    if (!real)
        real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    if (hit("rename", to) < 0) {
        errno = EIO;
        return -1;
    }
    return real(from, to);
}
CEOF
cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl || fail "cannot build the shim"
SHIM=$T/shim.so

step "author: main keeps keep.bin and k2.bin; branch gone adds gone.bin and k2.bin in one push"
git init -q --bare "$T/git.git"
new_repo "$T/a"
git config user.email a@example.com && git config user.name a
assert_exit 0 "$DV" remote add origin "$REMOTE"
gen_random keep.bin $((1 << 20)) 1
assert_exit 0 "$DV" add keep.bin
git add -A && git commit -qm keep
assert_exit 0 "$DV" push
git remote add origin "$T/git.git" && git push -q origin HEAD:main
git tag v1
git push -q origin v1
git checkout -qb gone
gen_random gone.bin $((1 << 20)) 2
gen_random k2.bin $((1 << 20)) 3
assert_exit 0 "$DV" add gone.bin k2.bin
git add -A && git commit -qm gone
assert_exit 0 "$DV" push
gen_random gone2.bin $((1 << 20)) 4
assert_exit 0 "$DV" add gone2.bin
git add -A && git commit -qm gone2
assert_exit 0 "$DV" push
git push -q origin gone
k2_sha=$(sha_of k2.bin) keep_sha=$(sha_of keep.bin)
git checkout -q main
git checkout -q gone -- k2.bin.dv .gitignore
assert_exit 0 "$DV" checkout k2.bin
assert_eq "$k2_sha" "$(sha_of k2.bin)" "k2.bin on main"
git add -A && git commit -qm k2
assert_exit 0 "$DV" push
git push -q origin HEAD:main
git branch -D gone >/dev/null && git push -q origin :gone
before=$(remote_files | grep -c '\.pack$')
assert_eq 3 "$before" "packs on the remote"

step "default gc.pruneExpire (14 days): nothing young goes"
listing >"$T/l0"
assert_exit 0 "$DV" gc --remote --expire-reflog now
assert_contains "$OUT" "0 deleted"
listing | grep -v '^./locks ' >"$T/l1"
grep -v '^./locks ' "$T/l0" | diff - "$T/l1" >/dev/null || fail "a young pack changed"
ok "remote listing unchanged"

backdate
step "--dry-run: names what would go, changes nothing, writes no lock"
listing >"$T/l0"
assert_exit 0 "$DV" gc --remote --dry-run --expire-reflog now
assert_contains "$OUT" "would rewrite pack"
assert_contains "$OUT" "would delete pack"
assert_contains "$OUT" "would be freed:"
listing >"$T/l1"
diff "$T/l0" "$T/l1" >/dev/null || fail "dry run changed the remote: $(diff "$T/l0" "$T/l1")"
ok "remote listing identical"

step "a live lock object makes a second gc refuse (exit 3); a stale one is ignored"
mkdir -p "$REMOTE/locks"
printf 'dv-gc-lock: 1\nhost: elsewhere\npid: 4242\ntime: %s\nprune-expire: 0\n' "$(date +%s)" >"$REMOTE/locks/0123456789abcdef"
listing >"$T/l0"
assert_exit 3 "$DV" gc --remote --expire-reflog now
assert_contains "$ERR" "locked by another dv gc --remote"
assert_contains "$ERR" "elsewhere"
listing >"$T/l1"
diff "$T/l0" "$T/l1" >/dev/null || fail "a refused gc changed the remote"
assert_exit 3 "$DV" gc --remote --dry-run --expire-reflog now
touch -d '2 days ago' "$REMOTE/locks/0123456789abcdef"
assert_exit 0 "$DV" gc --remote --dry-run --expire-reflog now
rm "$REMOTE/locks/0123456789abcdef"

step "a remote that refuses removals half-way: clear message, every kept revision pulls"
SHIM_FUNC=unlink SHIM_MATCH="$REMOTE/packs/" SHIM_MODE=fail SHIM_SKIP=1 LD_PRELOAD=$SHIM \
    run "$DV" gc --remote --expire-reflog now
[ "$RC" -ge 2 ] || fail "expected an error, got $RC"
assert_contains "$ERR" "cannot remove pack"
assert_eq "" "$(ls "$REMOTE/locks")" "locks left"
git clone -q "$T/git.git" "$T/c1" && cd "$T/c1"
assert_exit 0 "$DV" pull
assert_eq "$keep_sha $k2_sha" "$(sha_of keep.bin) $(sha_of k2.bin)" "main after the failed gc"
cd "$T/a"

step "gc.pruneExpire now: the deleted branch's data goes, the shared pack is rewritten"
assert_exit 0 "$DV" config --local gc.pruneExpire now
assert_exit 0 "$DV" gc --remote --expire-reflog now
assert_contains "$OUT" "deleted pack"
assert_eq "" "$(ls "$REMOTE/locks")" "locks left"
assert_exit 0 "$DV" fsck --remote --full
assert_contains "$OUT" "0 problems"
git clone -q "$T/git.git" "$T/c2" && cd "$T/c2"
assert_exit 0 "$DV" pull
assert_eq "$keep_sha $k2_sha" "$(sha_of keep.bin) $(sha_of k2.bin)" "main in a fresh clone"
git checkout -q v1
assert_exit 0 "$DV" pull
assert_eq "$keep_sha" "$(sha_of keep.bin)" "tag v1 in a fresh clone"
cd "$T/a"
assert_exit 0 "$DV" config --local --unset gc.pruneExpire
assert_eq 2 "$(remote_files | grep -c '\.pack$')" "packs left (main's, and the rewritten one)"
assert_eq 2 "$(remote_files | grep -c '\.idx$')" "indexes left"

. "$HERE/gc_race_lib.sh"
race_age() { backdate; } # 30 days old: the default gc.pruneExpire (14 days) takes it
race_hold() {
    local func=unlink
    [ "$1" = upload ] && func=rename # a put to a directory remote ends with a rename
    HOLD=(env SHIM_FUNC=$func SHIM_MATCH="$REMOTE/packs/" SHIM_MODE=wait SHIM_MARK="$T/mark"
        SHIM_GO="$T/go" LD_PRELOAD=$SHIM)
}

step "race 1: the push ends before the gc starts (its young pack keeps what it names)"
race_prepare 11
assert_exit 0 "$DV" push
cd "$T/a" && assert_exit 0 "$DV" gc --remote --expire-reflog now
race_check 11

step "race 2: the push runs while the gc is about to delete (the push sees the lock)"
race_push_during_gc 12

step "race 3: the gc runs whole between the push's listing and its uploads"
race_gc_during_push 13
