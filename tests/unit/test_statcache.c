/* Tests for core/statcache.c: lookups, the racy rule, removal, the file format and its checks. */
#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/object/hash.h"
#include "core/repo/statcache.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL

/* ---- helpers ---- */

static char temp_dir[64];
static char index_path[128];

static void make_temp_dir(void)
{
    snprintf(temp_dir, sizeof(temp_dir), "/tmp/dv-test-statcache-XXXXXX");
    cr_assert_not_null(mkdtemp(temp_dir));
    snprintf(index_path, sizeof(index_path), "%s/index", temp_dir);
}

/* The directory is flat: remove its files, then it. */
static void remove_temp_dir(void)
{
    DIR *dir = opendir(temp_dir);
    if (!dir)
        return;
    struct dirent *d;
    while ((d = readdir(dir))) {
        if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", temp_dir, d->d_name);
        unlink(path);
    }
    closedir(dir);
    rmdir(temp_dir);
}

TestSuite(statcache, .init = make_temp_dir, .fini = remove_temp_dir);

static struct stat fake_stat(uint64_t seed)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_size = (off_t)(seed * 7919 + 1);
    st.st_mtim.tv_sec = (time_t)(1700000000 + seed);
    st.st_mtim.tv_nsec = (long)(seed * 104729 % NS_PER_S);
    st.st_ctim.tv_sec = (time_t)(1700000100 + seed);
    st.st_ctim.tv_nsec = (long)(seed * 1299709 % NS_PER_S);
    st.st_ino = (ino_t)(1000 + seed);
    st.st_mode = S_IFREG | 0644;
    return st;
}

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * NS_PER_S + st->st_mtim.tv_nsec;
}

/* A hashed_ns comfortably outside the racy window. */
static int64_t settled(const struct stat *st)
{
    return mtime_ns(st) + 5 * NS_PER_S;
}

static dv_oid oid_for(uint64_t seed)
{
    dv_oid oid;
    cr_assert_eq(dv_hash_buffer(&oid, &seed, sizeof(seed)), 0);
    return oid;
}

static dv_statcache *load_ok(void)
{
    dv_statcache *c = NULL;
    cr_assert_eq(dv_statcache_load(&c, index_path), 0, "%s", dv_error_last());
    cr_assert_not_null(c);
    return c;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static void read_index(dv_buf *out)
{
    cr_assert_eq(dv_fs_read_file(out, index_path, SIZE_MAX), 0, "%s", dv_error_last());
}

static void assert_hit(dv_statcache *c, const char *path, const struct stat *st, const dv_oid *want)
{
    dv_oid got;
    memset(&got, 0, sizeof(got));
    cr_assert_eq(dv_statcache_lookup(&got, c, path, st), 1, "lookup of '%s' should hit", path);
    cr_assert_eq(dv_oid_cmp(&got, want), 0, "wrong id for '%s'", path);
}

static void assert_miss(dv_statcache *c, const char *path, const struct stat *st)
{
    dv_oid got;
    cr_assert_eq(dv_statcache_lookup(&got, c, path, st), 0, "lookup of '%s' should miss", path);
}

/* Load index_path and expect it to be thrown away as damaged. */
static void assert_discarded(const char *what)
{
    dv_statcache *c = NULL;
    cr_assert_eq(dv_statcache_load(&c, index_path), 0, "%s: %s", what, dv_error_last());
    cr_assert_eq(dv_statcache_count(c), 0, "%s: should load as empty", what);
    cr_assert_eq(dv_statcache_was_discarded(c), 1, "%s: should be marked discarded", what);
    dv_statcache_free(c);
}

/* Wall-clock and CPU time in ms, for the timing printed by the scale test. */
struct stopwatch {
    double wall_ms;
    double cpu_ms;
};

static struct stopwatch stopwatch_now(void)
{
    struct timespec wall, cpu;
    clock_gettime(CLOCK_MONOTONIC, &wall);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    struct stopwatch t = {(double)wall.tv_sec * 1e3 + (double)wall.tv_nsec / 1e6,
                          (double)cpu.tv_sec * 1e3 + (double)cpu.tv_nsec / 1e6};
    return t;
}

/* ---- lookups ---- */

Test(statcache, lookup_hits_exact_stat_and_misses_unknown_path)
{
    dv_statcache *c = load_ok();
    struct stat st = fake_stat(1);
    dv_oid id = oid_for(1);
    cr_assert_eq(dv_statcache_update(c, "data/a.bin", &st, &id, settled(&st)), 0);
    assert_hit(c, "data/a.bin", &st, &id);
    assert_miss(c, "data/a.bi", &st);
    assert_miss(c, "data/a.bin2", &st);
    assert_miss(c, "Data/a.bin", &st);
    cr_assert_eq(dv_statcache_count(c), 1);
    dv_statcache_free(c);
}

Test(statcache, lookup_misses_when_any_stat_field_differs)
{
    dv_statcache *c = load_ok();
    struct stat base = fake_stat(42);
    dv_oid id = oid_for(42);
    cr_assert_eq(dv_statcache_update(c, "f", &base, &id, settled(&base)), 0);
    assert_hit(c, "f", &base, &id);

    struct stat st = base;
    st.st_size += 1;
    assert_miss(c, "f", &st);
    st = base;
    st.st_mtim.tv_sec -= 1;
    assert_miss(c, "f", &st);
    st = base;
    st.st_mtim.tv_nsec += 1;
    assert_miss(c, "f", &st);
    st = base;
    st.st_ctim.tv_sec += 1;
    assert_miss(c, "f", &st);
    st = base;
    st.st_ctim.tv_nsec -= 1;
    assert_miss(c, "f", &st);
    st = base;
    st.st_ino += 1;
    assert_miss(c, "f", &st);
    st = base;
    st.st_mode = S_IFREG | 0755; /* chmod +x */
    assert_miss(c, "f", &st);
    st = base;
    st.st_mode = S_IFLNK | 0644; /* replaced by a symlink */
    assert_miss(c, "f", &st);
    /* Fields the cache does not key on do not matter. */
    st = base;
    st.st_atim.tv_sec += 100;
    st.st_nlink = 3;
    assert_hit(c, "f", &st, &id);
    dv_statcache_free(c);
}

Test(statcache, update_replaces_the_entry)
{
    dv_statcache *c = load_ok();
    struct stat old_st = fake_stat(5), new_st = fake_stat(6);
    dv_oid old_id = oid_for(5), new_id = oid_for(6);
    cr_assert_eq(dv_statcache_update(c, "x", &old_st, &old_id, settled(&old_st)), 0);
    cr_assert_eq(dv_statcache_update(c, "x", &new_st, &new_id, settled(&new_st)), 0);
    cr_assert_eq(dv_statcache_count(c), 1);
    assert_miss(c, "x", &old_st);
    assert_hit(c, "x", &new_st, &new_id);
    dv_statcache_free(c);
}

Test(statcache, update_rejects_empty_and_overlong_paths)
{
    dv_statcache *c = load_ok();
    struct stat st = fake_stat(1);
    dv_oid id = oid_for(1);
    cr_assert_eq(dv_statcache_update(c, "", &st, &id, settled(&st)), DV_EUSAGE);

    size_t len = DV_STATCACHE_MAX_PATH_BYTES + 1;
    char *path = malloc(len + 1);
    cr_assert_not_null(path);
    memset(path, 'p', len);
    path[len] = '\0';
    cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), DV_EUSAGE);
    path[len - 1] = '\0'; /* exactly the limit is fine */
    cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), 0);
    cr_assert_eq(dv_statcache_count(c), 1);
    free(path);
    dv_statcache_free(c);
}

/* ---- the racy rule ---- */

Test(statcache, racy_entries_miss_and_settled_entries_hit)
{
    dv_statcache *c = load_ok();
    struct stat st = fake_stat(7);
    dv_oid id = oid_for(7);

    /* Hashed in the same instant as the last write, and just under the window after it. */
    cr_assert_eq(dv_statcache_update(c, "racy", &st, &id, mtime_ns(&st)), 0);
    assert_miss(c, "racy", &st);
    cr_assert_eq(dv_statcache_update(c, "racy", &st, &id, mtime_ns(&st) + DV_STATCACHE_RACY_NS - 1),
                 0);
    assert_miss(c, "racy", &st);
    /* Hashed before the file's mtime (a clock step, or a write during hashing). */
    cr_assert_eq(dv_statcache_update(c, "racy", &st, &id, mtime_ns(&st) - NS_PER_S), 0);
    assert_miss(c, "racy", &st);

    /* The racy entry is still stored, and survives a save and load. */
    cr_assert_eq(dv_statcache_count(c), 1);
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);
    c = load_ok();
    cr_assert_eq(dv_statcache_count(c), 1);
    assert_miss(c, "racy", &st);

    /* Rehashed later: exactly at the window's edge it is trusted. */
    cr_assert_eq(dv_statcache_update(c, "racy", &st, &id, mtime_ns(&st) + DV_STATCACHE_RACY_NS), 0);
    assert_hit(c, "racy", &st, &id);
    dv_statcache_free(c);
}

Test(statcache, absurd_timestamps_do_not_overflow)
{
    dv_statcache *c = load_ok();
    struct stat st = fake_stat(8);
    dv_oid id = oid_for(8);
    cr_assert_eq(dv_statcache_update(c, "old", &st, &id, INT64_MIN), 0);
    assert_miss(c, "old", &st);
    cr_assert_eq(dv_statcache_update(c, "new", &st, &id, INT64_MAX), 0);
    assert_hit(c, "new", &st, &id);
    dv_statcache_free(c);
}

/* ---- removal ---- */

Test(statcache, remove_forgets_one_path)
{
    dv_statcache *c = load_ok();
    struct stat st = fake_stat(1);
    dv_oid id = oid_for(1);
    cr_assert_eq(dv_statcache_update(c, "a", &st, &id, settled(&st)), 0);
    cr_assert_eq(dv_statcache_update(c, "b", &st, &id, settled(&st)), 0);
    cr_assert_eq(dv_statcache_remove(c, "a"), 1);
    cr_assert_eq(dv_statcache_remove(c, "a"), 0);
    cr_assert_eq(dv_statcache_remove(c, "zzz"), 0);
    assert_miss(c, "a", &st);
    assert_hit(c, "b", &st, &id);
    cr_assert_eq(dv_statcache_count(c), 1);
    dv_statcache_free(c);
}

static void numbered_path(char *out, size_t size, uint64_t i)
{
    snprintf(out, size, "d%llu/f%llu", (unsigned long long)(i % 7), (unsigned long long)i);
}

/* Many removals, then more insertions: the table and the memory of removed entries are
 * reorganised, and every remaining entry must still be found, before and after a save. */
Test(statcache, remove_keeps_the_other_entries_reachable)
{
    enum { N = 20000 };
    dv_statcache *c = load_ok();
    char path[64];
    for (uint64_t i = 0; i < N; i++) {
        struct stat st = fake_stat(i);
        dv_oid id = oid_for(i);
        numbered_path(path, sizeof(path), i);
        cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), 0);
    }
    size_t n_kept = 0;
    for (uint64_t i = 0; i < N; i++) {
        numbered_path(path, sizeof(path), i);
        if (i % 3 != 0)
            cr_assert_eq(dv_statcache_remove(c, path), 1, "%s", path);
        else
            n_kept++;
    }
    cr_assert_eq(dv_statcache_count(c), n_kept);
    for (uint64_t i = N; i < 2 * N; i++) {
        struct stat st = fake_stat(i);
        dv_oid id = oid_for(i);
        numbered_path(path, sizeof(path), i);
        cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), 0);
    }
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(dv_statcache_count(c), n_kept + N);
        for (uint64_t i = 0; i < 2 * N; i++) {
            struct stat st = fake_stat(i);
            dv_oid id = oid_for(i);
            numbered_path(path, sizeof(path), i);
            if (i < N && i % 3 != 0)
                assert_miss(c, path, &st);
            else
                assert_hit(c, path, &st, &id);
        }
        /* Same again after a save and load. */
        cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
        dv_statcache_free(c);
        c = load_ok();
    }
    dv_statcache_free(c);
}

/* Loaded entries removed, changed, re-added, and new ones sorting between them, all saved. */
Test(statcache, save_merges_loaded_removed_and_new_entries)
{
    enum { N = 2000 };
    char path[64];
    dv_statcache *c = load_ok();
    for (uint64_t i = 0; i < N; i += 2) { /* even numbers first */
        snprintf(path, sizeof(path), "f%05llu", (unsigned long long)i);
        struct stat st = fake_stat(i);
        dv_oid id = oid_for(i);
        cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), 0);
    }
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);

    /* Expected state per i: 0 absent, else the seed its entry was recorded with. */
    static uint64_t want[N];
    c = load_ok();
    for (uint64_t i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "f%05llu", (unsigned long long)i);
        struct stat st = fake_stat(i + N);
        dv_oid id = oid_for(i + N);
        want[i] = i % 2 == 0 ? i + 1 : 0;
        if (i % 2 == 1 && i % 3 != 0) { /* new, between loaded ones */
            cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), 0);
            want[i] = i + N + 1;
        } else if (i % 2 == 0 && i % 5 == 0) { /* loaded, removed */
            cr_assert_eq(dv_statcache_remove(c, path), 1);
            want[i] = 0;
            if (i % 3 == 0) { /* and added back */
                cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), 0);
                want[i] = i + N + 1;
            }
        } else if (i % 2 == 0 && i % 7 == 0) { /* loaded, changed in place */
            cr_assert_eq(dv_statcache_update(c, path, &st, &id, settled(&st)), 0);
            want[i] = i + N + 1;
        }
    }
    size_t count = dv_statcache_count(c);
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);

    c = load_ok();
    cr_assert_eq(dv_statcache_was_discarded(c), 0);
    cr_assert_eq(dv_statcache_count(c), count);
    size_t n_present = 0;
    for (uint64_t i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "f%05llu", (unsigned long long)i);
        if (!want[i]) {
            struct stat st = fake_stat(i);
            assert_miss(c, path, &st);
            cr_assert_eq(dv_statcache_remove(c, path), 0, "%s should be absent", path);
            continue;
        }
        n_present++;
        struct stat st = fake_stat(want[i] - 1);
        dv_oid id = oid_for(want[i] - 1);
        assert_hit(c, path, &st, &id);
    }
    cr_assert_eq(n_present, count);
    dv_statcache_free(c);
}

static const char *const tree_paths[] = {
    "data/a", "data/sub/b", "data", "data2/x", "data.txt", "dat/x", "other/data/x", "data-x/y",
};
#define N_TREE_PATHS (sizeof(tree_paths) / sizeof(tree_paths[0]))

static dv_statcache *load_tree(void)
{
    dv_statcache *c = load_ok();
    for (size_t i = 0; i < N_TREE_PATHS; i++) {
        struct stat st = fake_stat(i);
        dv_oid id = oid_for(i);
        cr_assert_eq(dv_statcache_update(c, tree_paths[i], &st, &id, settled(&st)), 0);
    }
    return c;
}

static void assert_tree_after_removing_data(dv_statcache *c)
{
    cr_assert_eq(dv_statcache_count(c), N_TREE_PATHS - 2);
    for (size_t i = 0; i < N_TREE_PATHS; i++) {
        struct stat st = fake_stat(i);
        dv_oid id = oid_for(i);
        if (!strncmp(tree_paths[i], "data/", 5))
            assert_miss(c, tree_paths[i], &st);
        else
            assert_hit(c, tree_paths[i], &st, &id);
    }
}

Test(statcache, remove_under_removes_only_paths_below_the_directory)
{
    dv_statcache *c = load_tree();
    cr_assert_eq(dv_statcache_remove_under(c, "data"), 0);
    assert_tree_after_removing_data(c);
    /* Nothing left below it: a no-op. */
    cr_assert_eq(dv_statcache_remove_under(c, "data"), 0);
    assert_tree_after_removing_data(c);
    dv_statcache_free(c);

    c = load_tree();
    cr_assert_eq(dv_statcache_remove_under(c, "data/"), 0);
    assert_tree_after_removing_data(c);
    dv_statcache_free(c);

    c = load_tree();
    cr_assert_eq(dv_statcache_remove_under(c, "data/sub"), 0);
    cr_assert_eq(dv_statcache_count(c), N_TREE_PATHS - 1);
    struct stat st = fake_stat(1);
    assert_miss(c, "data/sub/b", &st);
    dv_statcache_free(c);

    c = load_tree();
    cr_assert_eq(dv_statcache_remove_under(c, ""), 0);
    cr_assert_eq(dv_statcache_count(c), 0);
    dv_statcache_free(c);

    /* Removing loaded entries (nothing added) is saved too. */
    c = load_tree();
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);
    c = load_ok();
    cr_assert_eq(dv_statcache_remove_under(c, "data"), 0);
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);
    c = load_ok();
    assert_tree_after_removing_data(c);
    dv_statcache_free(c);
}

/* ---- the file ---- */

Test(statcache, round_trip_many_entries_with_odd_path_bytes)
{
    enum { N = 3000 };
    static char paths[N][40];
    dv_statcache *c = load_ok();
    for (int i = 0; i < N; i++) {
        /* Every byte value but NUL, in every position, plus separators and spaces. */
        char *p = paths[i];
        size_t len = (size_t)(1 + i % 30);
        for (size_t k = 0; k < len; k++)
            p[k] = (char)(1 + (i * 31 + (int)k * 17) % 255);
        snprintf(p + len, sizeof(paths[i]) - len, "/%d", i); /* unique */
        struct stat st = fake_stat((uint64_t)i);
        dv_oid id = oid_for((uint64_t)i);
        cr_assert_eq(dv_statcache_update(c, p, &st, &id, settled(&st)), 0);
    }
    const char *extra[] = {"\xff", "\x01",      "a b/c\td\ne", "caf\xc3\xa9/\xe2\x82\xac.csv",
                           "/abs", "trailing/", ".",           "..",
                           "a//b"};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        struct stat st = fake_stat(N + i);
        dv_oid id = oid_for(N + i);
        cr_assert_eq(dv_statcache_update(c, extra[i], &st, &id, settled(&st)), 0);
    }
    size_t count = dv_statcache_count(c);
    cr_assert_eq(count, N + sizeof(extra) / sizeof(extra[0]));
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);

    c = load_ok();
    cr_assert_eq(dv_statcache_was_discarded(c), 0);
    cr_assert_eq(dv_statcache_count(c), count);
    for (int i = 0; i < N; i++) {
        struct stat st = fake_stat((uint64_t)i);
        dv_oid id = oid_for((uint64_t)i);
        assert_hit(c, paths[i], &st, &id);
    }
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        struct stat st = fake_stat(N + i);
        dv_oid id = oid_for(N + i);
        assert_hit(c, extra[i], &st, &id);
    }
    dv_statcache_free(c);

    /* Read the file independently: entries strictly sorted by path bytes, checksum at the end. */
    dv_buf file = DV_BUF_INIT;
    read_index(&file);
    const uint8_t *b = (const uint8_t *)file.ptr;
    cr_assert(file.len > 44);
    cr_assert_eq(memcmp(b, "DVSC", 4), 0);
    cr_assert_eq(dv_get_be32(b + 4), 1);
    cr_assert_eq(dv_get_be32(b + 8), count);
    size_t pos = 12;
    const uint8_t *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < count; i++) {
        size_t len = dv_get_be32(b + pos);
        const uint8_t *p = b + pos + 4;
        if (prev) {
            size_t common = prev_len < len ? prev_len : len;
            int rc = memcmp(prev, p, common);
            cr_assert(rc < 0 || (rc == 0 && prev_len < len), "entry %zu out of order", i);
        }
        prev = p;
        prev_len = len;
        pos += 4 + len + 76;
    }
    cr_assert_eq(pos + 32, file.len);
    dv_oid sum;
    cr_assert_eq(dv_hash_buffer(&sum, b, pos), 0);
    cr_assert_eq(memcmp(sum.id, b + pos, 32), 0);
    dv_buf_release(&file);
}

/* The exact bytes of a one-entry file, written out field by field from docs/formats.md. */
Test(statcache, file_bytes_match_the_documented_format)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_size = 0x0102030405060708LL;
    st.st_mtim.tv_sec = -1; /* before 1970: a negative mtime_ns */
    st.st_mtim.tv_nsec = 999999999;
    st.st_ctim.tv_sec = 2;
    st.st_ctim.tv_nsec = 3;
    st.st_ino = (ino_t)0x1112131415161718ULL;
    st.st_mode = S_IFREG | 0755;
    dv_oid id;
    memset(id.id, 0xab, sizeof(id.id));

    dv_statcache *c = load_ok();
    cr_assert_eq(dv_statcache_update(c, "d/f", &st, &id, 0x2122232425262728LL), 0);
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);

    uint8_t want[12 + 4 + 3 + 76 + 32];
    uint8_t *p = want;
    memcpy(p, "DVSC\0\0\0\1\0\0\0\1", 12);
    p += 12;
    memcpy(p, "\0\0\0\3d/f", 7);
    p += 7;
    memcpy(p, "\x01\x02\x03\x04\x05\x06\x07\x08", 8); /* size */
    p += 8;
    memcpy(p, "\xff\xff\xff\xff\xff\xff\xff\xff", 8); /* mtime_ns: -1 s + 999999999 ns = -1 */
    p += 8;
    dv_put_be64(p, 2000000003); /* ctime_ns */
    p += 8;
    memcpy(p, "\x11\x12\x13\x14\x15\x16\x17\x18", 8); /* inode */
    p += 8;
    dv_put_be32(p, S_IFREG | 0755); /* st_mode = 0100755 */
    cr_assert_eq(memcmp(p, "\0\0\x81\xed", 4), 0);
    p += 4;
    memcpy(p, "\x21\x22\x23\x24\x25\x26\x27\x28", 8); /* hashed_ns */
    p += 8;
    memset(p, 0xab, 32);
    p += 32;
    dv_oid sum;
    cr_assert_eq(dv_hash_buffer(&sum, want, (size_t)(p - want)), 0);
    memcpy(p, sum.id, 32);

    dv_buf file = DV_BUF_INIT;
    read_index(&file);
    cr_assert_eq(file.len, sizeof(want));
    cr_assert_eq(memcmp(file.ptr, want, sizeof(want)), 0);
    dv_buf_release(&file);
}

Test(statcache, empty_cache_round_trips)
{
    dv_statcache *c = load_ok();
    struct stat st = fake_stat(1);
    dv_oid id = oid_for(1);
    cr_assert_eq(dv_statcache_update(c, "a", &st, &id, settled(&st)), 0);
    cr_assert_eq(dv_statcache_remove(c, "a"), 1);
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);

    dv_buf file = DV_BUF_INIT;
    read_index(&file);
    cr_assert_eq(file.len, 12 + 32);
    dv_buf_release(&file);
    c = load_ok();
    cr_assert_eq(dv_statcache_count(c), 0);
    cr_assert_eq(dv_statcache_was_discarded(c), 0);
    dv_statcache_free(c);
}

Test(statcache, missing_file_loads_empty_and_is_not_discarded)
{
    dv_statcache *c = load_ok();
    cr_assert_eq(dv_statcache_count(c), 0);
    cr_assert_eq(dv_statcache_was_discarded(c), 0);
    struct stat st = fake_stat(1);
    assert_miss(c, "anything", &st);
    /* Nothing changed, so nothing is written. */
    cr_assert_eq(dv_statcache_save(c, index_path), 0);
    cr_assert_eq(dv_fs_exists(index_path), 0);
    dv_statcache_free(c);
}

Test(statcache, unreadable_path_is_an_error)
{
    /* A directory where the file should be is not a damaged cache but a real problem. */
    cr_assert_eq(mkdir(index_path, 0755), 0);
    dv_statcache *c = (dv_statcache *)1;
    cr_assert_lt(dv_statcache_load(&c, index_path), 0);
    cr_assert_null(c);
    cr_assert_eq(rmdir(index_path), 0);
}

/* Save a small cache with three entries and return its bytes. */
static void save_small(dv_buf *out)
{
    dv_statcache *c = load_ok();
    const char *paths[] = {"a", "b/c", "b/d"};
    for (size_t i = 0; i < 3; i++) {
        struct stat st = fake_stat(i);
        dv_oid id = oid_for(i);
        cr_assert_eq(dv_statcache_update(c, paths[i], &st, &id, settled(&st)), 0);
    }
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);
    read_index(out);
}

Test(statcache, flipped_byte_anywhere_discards_the_file)
{
    dv_buf good = DV_BUF_INIT;
    save_small(&good);
    for (size_t off = 0; off < good.len; off++) {
        for (int bit = 0; bit < 8; bit += 7) {
            good.ptr[off] ^= (char)(1 << bit);
            write_file(index_path, good.ptr, good.len);
            good.ptr[off] ^= (char)(1 << bit);
            char what[64];
            snprintf(what, sizeof(what), "bit %d of byte %zu flipped", bit, off);
            assert_discarded(what);
        }
    }
    dv_buf_release(&good);
}

Test(statcache, truncation_at_every_offset_discards_the_file)
{
    dv_buf good = DV_BUF_INIT;
    save_small(&good);
    for (size_t len = 0; len < good.len; len++) {
        write_file(index_path, good.ptr, len);
        char what[64];
        snprintf(what, sizeof(what), "truncated to %zu bytes", len);
        assert_discarded(what);
    }
    /* Extra bytes at the end are damage too. */
    cr_assert_eq(dv_buf_put(&good, "x", 1), 0);
    write_file(index_path, good.ptr, good.len);
    assert_discarded("one byte appended");
    dv_buf_release(&good);
}

/* Write header + body with a correct checksum, so only the structural checks can object. */
static void write_with_checksum(const char *magic, uint32_t version, uint32_t count,
                                const dv_buf *body)
{
    dv_buf file = DV_BUF_INIT;
    cr_assert_eq(dv_buf_put(&file, magic, 4), 0);
    cr_assert_eq(dv_buf_put_be32(&file, version), 0);
    cr_assert_eq(dv_buf_put_be32(&file, count), 0);
    cr_assert_eq(dv_buf_put(&file, body->ptr, body->len), 0);
    dv_oid sum;
    cr_assert_eq(dv_hash_buffer(&sum, file.ptr, file.len), 0);
    cr_assert_eq(dv_buf_put(&file, sum.id, sizeof(sum.id)), 0);
    write_file(index_path, file.ptr, file.len);
    dv_buf_release(&file);
}

static void put_entry(dv_buf *body, uint32_t path_len, const char *path, size_t path_bytes)
{
    cr_assert_eq(dv_buf_put_be32(body, path_len), 0);
    cr_assert_eq(dv_buf_put(body, path, path_bytes), 0);
    uint8_t fixed[76];
    memset(fixed, 0x5a, sizeof(fixed));
    cr_assert_eq(dv_buf_put(body, fixed, sizeof(fixed)), 0);
}

Test(statcache, structural_damage_with_a_valid_checksum_discards_the_file)
{
    dv_buf body = DV_BUF_INIT;

    /* The well-formed control case loads. */
    put_entry(&body, 1, "a", 1);
    put_entry(&body, 1, "b", 1);
    write_with_checksum("DVSC", 1, 2, &body);
    dv_statcache *c = load_ok();
    cr_assert_eq(dv_statcache_count(c), 2);
    cr_assert_eq(dv_statcache_was_discarded(c), 0);
    dv_statcache_free(c);

    write_with_checksum("DVSX", 1, 2, &body);
    assert_discarded("wrong magic");
    write_with_checksum("DVSC", 2, 2, &body);
    assert_discarded("version 2");
    write_with_checksum("DVSC", 0, 2, &body);
    assert_discarded("version 0");
    write_with_checksum("DVSC", 1, 3, &body);
    assert_discarded("count too large");
    write_with_checksum("DVSC", 1, UINT32_MAX, &body);
    assert_discarded("count absurd");
    write_with_checksum("DVSC", 1, 1, &body);
    assert_discarded("count too small (bytes left over)");

    dv_buf_clear(&body);
    put_entry(&body, 1, "b", 1);
    put_entry(&body, 1, "a", 1);
    write_with_checksum("DVSC", 1, 2, &body);
    assert_discarded("out of order");

    dv_buf_clear(&body);
    put_entry(&body, 2, "ab", 2);
    put_entry(&body, 1, "a", 1);
    write_with_checksum("DVSC", 1, 2, &body);
    assert_discarded("longer before its prefix");

    dv_buf_clear(&body);
    put_entry(&body, 1, "a", 1);
    put_entry(&body, 1, "a", 1);
    write_with_checksum("DVSC", 1, 2, &body);
    assert_discarded("duplicate");

    dv_buf_clear(&body);
    put_entry(&body, 0, "", 0);
    write_with_checksum("DVSC", 1, 1, &body);
    assert_discarded("empty path");

    dv_buf_clear(&body);
    put_entry(&body, 3, "a\0b", 3);
    write_with_checksum("DVSC", 1, 1, &body);
    assert_discarded("NUL in path");

    dv_buf_clear(&body);
    put_entry(&body, 2, "a", 1); /* path_len runs one byte into the fixed fields */
    write_with_checksum("DVSC", 1, 1, &body);
    assert_discarded("path_len one too large");

    dv_buf_clear(&body);
    put_entry(&body, UINT32_MAX, "a", 1);
    write_with_checksum("DVSC", 1, 1, &body);
    assert_discarded("path_len huge");

    /* 65536 bytes is one more than the format allows, even when the bytes are there. */
    char *long_path = malloc(65536);
    cr_assert_not_null(long_path);
    memset(long_path, 'q', 65536);
    dv_buf_clear(&body);
    put_entry(&body, 65536, long_path, 65536);
    write_with_checksum("DVSC", 1, 1, &body);
    assert_discarded("path_len 65536");
    dv_buf_clear(&body);
    put_entry(&body, 65535, long_path, 65535);
    write_with_checksum("DVSC", 1, 1, &body);
    c = load_ok();
    cr_assert_eq(dv_statcache_count(c), 1, "a 65535-byte path is allowed");
    dv_statcache_free(c);
    free(long_path);

    dv_buf_release(&body);
}

Test(statcache, discarded_file_is_replaced_on_save)
{
    write_file(index_path, "garbage", 7);
    dv_statcache *c = load_ok();
    cr_assert_eq(dv_statcache_was_discarded(c), 1);
    /* Even with no changes, save replaces the damaged file. */
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);
    c = load_ok();
    cr_assert_eq(dv_statcache_was_discarded(c), 0);
    cr_assert_eq(dv_statcache_count(c), 0);
    dv_statcache_free(c);
}

Test(statcache, save_is_atomic_and_leaves_no_temp_file)
{
    dv_statcache *c = load_ok();
    for (uint64_t round = 0; round < 3; round++) {
        struct stat st = fake_stat(round);
        dv_oid id = oid_for(round);
        cr_assert_eq(dv_statcache_update(c, "f", &st, &id, settled(&st)), 0);
        cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());

        DIR *dir = opendir(temp_dir);
        cr_assert_not_null(dir);
        struct dirent *d;
        int n_files = 0;
        while ((d = readdir(dir))) {
            if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
                continue;
            cr_assert_str_eq(d->d_name, "index", "unexpected file %s left behind", d->d_name);
            n_files++;
        }
        closedir(dir);
        cr_assert_eq(n_files, 1);

        dv_statcache *loaded = load_ok();
        assert_hit(loaded, "f", &st, &id);
        dv_statcache_free(loaded);
    }
    dv_statcache_free(c);

    /* A save that cannot happen reports an error and creates nothing. */
    char bad_path[256];
    snprintf(bad_path, sizeof(bad_path), "%s/no-such-dir/index", temp_dir);
    c = load_ok();
    struct stat st = fake_stat(9);
    dv_oid id = oid_for(9);
    cr_assert_eq(dv_statcache_update(c, "g", &st, &id, settled(&st)), 0);
    cr_assert_lt(dv_statcache_save(c, bad_path), 0);
    cr_assert(strstr(dv_error_last(), "no-such-dir"), "message: %s", dv_error_last());
    dv_statcache_free(c);
}

Test(statcache, save_without_changes_does_not_rewrite)
{
    dv_statcache *c = load_ok();
    struct stat st = fake_stat(3);
    dv_oid id = oid_for(3);
    cr_assert_eq(dv_statcache_update(c, "f", &st, &id, settled(&st)), 0);
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);

    /* Every save goes through a rename, so an unchanged inode means no write happened. */
    struct stat before, after;
    cr_assert_eq(stat(index_path, &before), 0);
    c = load_ok();
    assert_hit(c, "f", &st, &id);
    cr_assert_eq(dv_statcache_remove(c, "not-there"), 0);
    cr_assert_eq(dv_statcache_remove_under(c, "nowhere"), 0);
    cr_assert_eq(dv_statcache_update(c, "f", &st, &id, settled(&st)), 0); /* same values */
    cr_assert_eq(dv_statcache_save(c, index_path), 0);
    cr_assert_eq(stat(index_path, &after), 0);
    cr_assert_eq(before.st_ino, after.st_ino, "unchanged cache was rewritten");

    /* A fresh hashed_ns is a change. */
    cr_assert_eq(dv_statcache_update(c, "f", &st, &id, settled(&st) + 1), 0);
    cr_assert_eq(dv_statcache_save(c, index_path), 0);
    cr_assert_eq(stat(index_path, &after), 0);
    cr_assert_neq(before.st_ino, after.st_ino, "changed cache was not written");
    dv_statcache_free(c);
}

/* ---- scale ---- */

#define SCALE_PATH_BYTES 64

struct scale_input {
    char (*paths)[SCALE_PATH_BYTES];
    struct stat *stats;
    dv_oid *ids;
};

/* Paths, stat data and ids for n files, made before any timing starts. */
static void scale_input_make(struct scale_input *in, size_t n, uint64_t seed)
{
    in->paths = malloc(n * sizeof(*in->paths));
    in->stats = malloc(n * sizeof(*in->stats));
    in->ids = malloc(n * sizeof(*in->ids));
    cr_assert(in->paths && in->stats && in->ids);
    for (size_t i = 0; i < n; i++) {
        snprintf(in->paths[i], SCALE_PATH_BYTES, "datasets/part-%03zu/sample-%06zu.parquet",
                 i % 1000, i);
        in->stats[i] = fake_stat(seed + i);
        in->ids[i] = oid_for(seed + i);
    }
}

static void scale_input_free(struct scale_input *in)
{
    free(in->paths);
    free(in->stats);
    free(in->ids);
}

Test(statcache, hundred_thousand_entries_load_lookup_update_save)
{
    enum { N = 100000 };
    struct scale_input before, changed;
    scale_input_make(&before, N, 0);
    scale_input_make(&changed, N, N);

    dv_statcache *c = load_ok();
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(dv_statcache_update(c, before.paths[i], &before.stats[i], &before.ids[i],
                                         settled(&before.stats[i])),
                     0);
    cr_assert_eq(dv_statcache_save(c, index_path), 0, "%s", dv_error_last());
    dv_statcache_free(c);

    /* What `dv add` does on a tree where every file changed: load, look each file up, record
     * the new hash, save. For information only: the test does not depend on the timing. */
    struct stopwatch t[5];
    t[0] = stopwatch_now();
    int load_error = dv_statcache_load(&c, index_path);
    cr_assert_eq(load_error, 0, "%s", dv_error_last());
    t[1] = stopwatch_now();
    size_t hits = 0, misses = 0;
    dv_oid got;
    for (size_t i = 0; i < N; i++) {
        hits += (size_t)dv_statcache_lookup(&got, c, before.paths[i], &before.stats[i]);
        misses += (size_t)!dv_statcache_lookup(&got, c, changed.paths[i], &changed.stats[i]);
    }
    t[2] = stopwatch_now();
    int update_errors = 0;
    for (size_t i = 0; i < N; i++)
        update_errors += dv_statcache_update(c, changed.paths[i], &changed.stats[i],
                                             &changed.ids[i], settled(&changed.stats[i])) != 0;
    t[3] = stopwatch_now();
    int save_error = dv_statcache_save(c, index_path);
    t[4] = stopwatch_now();
    fprintf(stderr,
            "statcache: %d entries, wall (cpu) ms: load %.1f (%.1f), %d lookups %.1f (%.1f), "
            "%d updates %.1f (%.1f), save %.1f (%.1f); total %.1f (%.1f)\n",
            N, t[1].wall_ms - t[0].wall_ms, t[1].cpu_ms - t[0].cpu_ms, 2 * N,
            t[2].wall_ms - t[1].wall_ms, t[2].cpu_ms - t[1].cpu_ms, N, t[3].wall_ms - t[2].wall_ms,
            t[3].cpu_ms - t[2].cpu_ms, t[4].wall_ms - t[3].wall_ms, t[4].cpu_ms - t[3].cpu_ms,
            t[4].wall_ms - t[0].wall_ms, t[4].cpu_ms - t[0].cpu_ms);

    cr_assert_eq(hits, N);
    cr_assert_eq(misses, N);
    cr_assert_eq(update_errors, 0);
    cr_assert_eq(save_error, 0, "%s", dv_error_last());
    cr_assert_eq(dv_statcache_count(c), N);
    dv_statcache_free(c);

    c = load_ok();
    cr_assert_eq(dv_statcache_count(c), N);
    for (size_t i = 0; i < N; i++) {
        assert_hit(c, changed.paths[i], &changed.stats[i], &changed.ids[i]);
        assert_miss(c, before.paths[i], &before.stats[i]);
    }
    dv_statcache_free(c);
    scale_input_free(&before);
    scale_input_free(&changed);
}
