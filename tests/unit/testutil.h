/*
 * testutil: helpers shared by the unit tests: a scratch directory removed after
 * the suite, a store in it, and deterministic pseudo-random bytes.
 */
#ifndef DV_TESTUTIL_H
#define DV_TESTUTIL_H

#include "core/base/error.h"
#include "storage/odb.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int testutil_remove_entry(const char *path, const struct stat *st, int flag,
                                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/** Make /var/tmp/dv-test-<name>-XXXXXX (on disk, not tmpfs: O_DIRECT works there). */
static inline void testutil_make_root(char *root, size_t size, const char *name)
{
    snprintf(root, size, "/var/tmp/dv-test-%s-XXXXXX", name);
    cr_assert_not_null(mkdtemp(root));
}

/** Open (making it) the store root/name. */
static inline dv_odb *testutil_open_odb(const char *root, const char *name)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/%s", root, name);
    dv_odb *odb;
    cr_assert_eq(dv_odb_open(&odb, dir, NULL), 0, "%s", dv_error_last());
    return odb;
}

static inline void testutil_remove_tree(const char *root)
{
    if (root[0])
        nftw(root, testutil_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/** len deterministic pseudo-random bytes from seed. */
static inline void fill_random(uint8_t *p, size_t len, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = splitmix64(&state);
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(p + i, &v, n);
    }
}

/** Text that zstd shrinks a lot but not to nothing. */
static inline void fill_text(uint8_t *p, size_t len, uint64_t seed)
{
    uint64_t state = seed;
    size_t i = 0;
    while (i < len) {
        char line[80];
        int n = snprintf(line, sizeof(line), "object %llu line %llu value %llu\n",
                         (unsigned long long)seed, (unsigned long long)i,
                         (unsigned long long)(splitmix64(&state) % 1000));
        size_t take = len - i < (size_t)n ? len - i : (size_t)n;
        memcpy(p + i, line, take);
        i += take;
    }
}

/** What a remote's list (or a listing parser) reported, for the remote tests: up to 16
 *  names and sizes; a non-zero stop_after makes the callback stop the listing (return 7)
 *  after that many. */
typedef struct testutil_listed {
    char names[16][128];
    uint64_t sizes[16];
    int n;
    int stop_after;
} testutil_listed;

/** A dv_remote_entry_fn that fills a testutil_listed. */
static inline int testutil_listed_add(void *ctx, const char *name, uint64_t size, int64_t modified)
{
    (void)modified;
    testutil_listed *s = ctx;
    cr_assert_lt(s->n, 16);
    snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
    s->sizes[s->n++] = size;
    return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

/** Where name is in s, or -1. */
static inline int testutil_listed_find(const testutil_listed *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return i;
    return -1;
}

#endif
