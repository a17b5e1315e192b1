#!/usr/bin/env bash
# dv gc when the disk fills during the repack: a shim makes every write into the store fail
# with ENOSPC once a byte budget is spent (each budget ends the run at another point: the
# first pack, half-way, the index, the last merge). Each failed run ends with a clear message
# and exit 5, and leaves a store in which dv fsck is clean and every kept revision's files read
# back byte for byte (digests recorded when the data was made). Then a gc with room finishes
# the work and leaves no temp file.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

cat >"$T/shim.c" <<'CEOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
/* SHIM_BUDGET bytes may be written to files whose path contains SHIM_MATCH; then ENOSPC. */
static long long budget = -2;
ssize_t writev(int fd, const struct iovec *iov, int n)
{
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real)
        real = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    if (__atomic_load_n(&budget, __ATOMIC_SEQ_CST) == -2) {
        const char *b = getenv("SHIM_BUDGET");
        __atomic_store_n(&budget, b ? atoll(b) : -1, __ATOMIC_SEQ_CST);
    }
    char link[64], path[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t l = readlink(link, path, sizeof(path) - 1);
    if (budget < 0 || l <= 0)
        return real(fd, iov, n);
    path[l] = '\0';
    if (!strstr(path, getenv("SHIM_MATCH")))
        return real(fd, iov, n);
    size_t want = 0;
    for (int i = 0; i < n; i++)
        want += iov[i].iov_len;
    long long left = __atomic_sub_fetch(&budget, (long long)want, __ATOMIC_SEQ_CST);
    if (left >= 0)
        return real(fd, iov, n);
    /* the write that does not fit fails whole (as one to O_DIRECT, which writes whole
     * aligned blocks, would) */
    __atomic_store_n(&budget, 0, __ATOMIC_SEQ_CST);
    errno = ENOSPC;
    return -1;
}
CEOF
cc -shared -fPIC -o "$T/shim.so" "$T/shim.c" -ldl || fail "cannot build the shim"

new_repo "$T/r"
step "history: main keeps keep.bin, ds.bin = A + B and 12 small files added one by one"
gen_random A.part $((1 << 20)) 1
gen_random B.part $((1 << 20)) 2
gen_random C.part $((1 << 20)) 3
gen_random keep.bin $((3 << 20)) 4
cat A.part B.part >ds.bin
keep_sha=$(sha_of keep.bin)
dsAB_sha=$(sha_of ds.bin)
assert_exit 0 "$DV" add keep.bin ds.bin
mkdir small
for i in $(seq 1 12); do
    gen_random "small/f$i.bin" $((20000 + i)) "$((100 + i))"
    assert_exit 0 "$DV" add "small/f$i.bin"
done
(cd small && sha256sum f*.bin) >"$T/small.sums"
git add -A && git commit -qm main && git tag v1
step "a branch replaces ds.bin with A + C and adds gone.bin, then is deleted"
git checkout -qb gone
cat A.part C.part >ds.bin
gen_random gone.bin $((2 << 20)) 5
assert_exit 0 "$DV" add ds.bin gone.bin
git add -A && git commit -qm gone
git checkout -q main && git branch -D gone >/dev/null
assert_exit 0 "$DV" checkout
rm -f A.part B.part C.part

check_kept() { # the kept revisions read back byte for byte from the store
    assert_exit 0 "$DV" fsck
    assert_contains "$OUT" " 0 problems"
    local rev f
    for rev in HEAD v1; do
        assert_eq "$keep_sha" "$("$DV" cat "$rev:keep.bin" | sha256sum | cut -d' ' -f1)" "$rev:keep.bin"
        assert_eq "$dsAB_sha" "$("$DV" cat "$rev:ds.bin" | sha256sum | cut -d' ' -f1)" "$rev:ds.bin"
    done
    while read -r sum f; do
        [ "$("$DV" cat "HEAD:small/$f" | sha256sum | cut -d' ' -f1)" = "$sum" ] ||
            fail "HEAD:small/$f does not read back"
    done <"$T/small.sums"
    ok "HEAD and v1 read back byte for byte"
}

assert_exit 0 "$DV" gc -n --expire-reflog now
assert_contains "$OUT" "freed: "
note "dry run: $(tr '\n' ' ' <"$OUT")"
# the store after the gc: one merged pack and its index, of these many bytes
kept=$(sed -n 's/^would be kept: [0-9]* objects, \([0-9]*\) bytes.*/\1/p' "$OUT")
[ -n "$kept" ] || fail "no kept bytes in the dry run"

# up to the pack's last block, into its index (about 52 bytes an object), and just short of
# the end
for budget in 0 300000 3000000 $((kept - 20000)) $((kept - 100)) $((kept + 1100000)); do
    step "the disk fills after $budget bytes of the gc's writes"
    rc=0
    SHIM_BUDGET=$budget SHIM_MATCH="$T/r/.dv/" LD_PRELOAD="$T/shim.so" \
        "$DV" gc --expire-reflog now >"$T/gc.out" 2>"$T/gc.err" || rc=$?
    if [ "$rc" = 0 ]; then
        note "budget $budget was enough: the gc finished"
        break
    fi
    assert_eq 5 "$rc" "exit status of the gc that ran out of space"
    grep -q "No space left on device" "$T/gc.err" || fail "no clear message: $(cat "$T/gc.err")"
    ok "said: $(head -c 200 "$T/gc.err")"
    check_kept
done

step "with room again, dv gc finishes the work; no temp file is left"
assert_exit 0 "$DV" gc --expire-reflog now
assert_exit 0 "$DV" gc -n --expire-reflog now
assert_contains "$OUT" "freed: 0 objects"
check_kept
left=$(find .dv/cache -name '*.tmp*' -o -path '*/tmp/*' -type f | wc -l)
assert_eq 0 "$left" "temp files left in the store"
