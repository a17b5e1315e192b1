#include "core/base/error.h"
#include "core/repo/repo.h"
#include "core/repo/worktree.h"
#include "testrepo.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <unistd.h>

static char root[256];
static dv_repo *repo;

static void write_file(const char *relpath, const void *data, size_t len)
{
    testrepo_write_file(root, relpath, data, len);
}

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "worktree");
    repo = testrepo_init(root);
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(worktree, .init = setup, .fini = teardown);

/* A writer that rewrites the file, in place and with another size, after the first
 * `times` reads of it. */
typedef struct rewriter {
    int times, calls;
    uint8_t *data;
    size_t len;
} rewriter;

static void rewrite(void *ctx, const char *relpath)
{
    rewriter *r = ctx;
    if (r->calls++ >= r->times)
        return;
    r->data[0]++;
    r->len += 1000;
    write_file(relpath, r->data, r->len);
}

static int file_id(dv_oid *id, dv_worktree *wt, const char *relpath)
{
    char path[512];
    struct stat st;
    uint64_t size;
    snprintf(path, sizeof(path), "%s/%s", root, relpath);
    cr_assert_eq(lstat(path, &st), 0);
    return dv_worktree_file_id(id, &size, wt, relpath, &st);
}

Test(worktree, a_file_changed_while_read_is_read_again)
{
    static uint8_t data[3 << 20];
    fill_random(data, sizeof(data), 1);
    rewriter r = {1, 0, data, 1 << 20};
    write_file("model.bin", data, r.len);
    dv_worktree_options opts = {.store = 1, .after_read = rewrite, .after_read_ctx = &r};
    dv_worktree *wt;
    cr_assert_eq(dv_worktree_open(&wt, repo, &opts), 0, "%s", dv_error_last());
    dv_oid id, expected;
    cr_assert_eq(file_id(&id, wt, "model.bin"), 0, "%s", dv_error_last());
    cr_assert_eq(r.calls, 2, "read %d times", r.calls);
    /* The id is that of the version the second read saw, which is what is there now. */
    write_file("copy.bin", data, r.len);
    cr_assert_eq(file_id(&expected, wt, "copy.bin"), 0);
    cr_assert_eq(dv_oid_cmp(&id, &expected), 0, "the id is not that of the file as it is now");
    dv_worktree_free(wt);
}

Test(worktree, a_file_that_keeps_changing_is_refused_by_name)
{
    static uint8_t data[3 << 20];
    fill_random(data, sizeof(data), 2);
    rewriter r = {1000, 0, data, 1 << 20};
    write_file("busy.bin", data, r.len);
    dv_worktree_options opts = {.store = 1, .after_read = rewrite, .after_read_ctx = &r};
    dv_worktree *wt;
    cr_assert_eq(dv_worktree_open(&wt, repo, &opts), 0, "%s", dv_error_last());
    dv_oid id;
    cr_assert_lt(file_id(&id, wt, "busy.bin"), 0);
    cr_assert_eq(r.calls, DV_WORKTREE_READ_ATTEMPTS);
    cr_assert(strstr(dv_error_last(), "busy.bin changed while it was read"), "%s", dv_error_last());
    dv_worktree_free(wt);
}

static void touch_back(void *ctx, const char *relpath)
{
    /* Same size and the old mtime put back, as rsync or touch -r would: only the ctime
     * tells that the bytes changed. */
    int *calls = ctx;
    if ((*calls)++)
        return;
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", root, relpath);
    cr_assert_eq(stat(path, &st), 0);
    int fd = open(path, O_WRONLY);
    cr_assert_eq(pwrite(fd, "X", 1, 10), 1);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    cr_assert_eq(futimens(fd, times), 0);
    close(fd);
}

Test(worktree, a_change_that_keeps_size_and_mtime_is_seen_by_the_ctime)
{
    static uint8_t data[1 << 20];
    fill_random(data, sizeof(data), 3);
    write_file("same.bin", data, sizeof(data));
    int calls = 0;
    dv_worktree_options opts = {.store = 1, .after_read = touch_back, .after_read_ctx = &calls};
    dv_worktree *wt;
    cr_assert_eq(dv_worktree_open(&wt, repo, &opts), 0, "%s", dv_error_last());
    dv_oid id, expected;
    cr_assert_eq(file_id(&id, wt, "same.bin"), 0, "%s", dv_error_last());
    cr_assert_eq(calls, 2, "read %d times", calls);
    data[10] = 'X';
    write_file("copy.bin", data, sizeof(data));
    cr_assert_eq(file_id(&expected, wt, "copy.bin"), 0);
    cr_assert_eq(dv_oid_cmp(&id, &expected), 0);
    dv_worktree_free(wt);
}

/* A directory that became a symlink to somewhere outside after the scan saw it: hashing a
 * file or a link below it reads nothing out there. */
Test(worktree, hashing_never_reads_through_a_directory_that_became_a_symlink)
{
    char outside[256], path[600];
    testutil_make_root(outside, sizeof(outside), "worktree-outside");
    snprintf(path, sizeof(path), "%s/secret", outside);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "outside bytes\n", 14), 14);
    close(fd);
    snprintf(path, sizeof(path), "%s/link", outside);
    cr_assert_eq(symlink("target-outside", path), 0);
    snprintf(path, sizeof(path), "%s/d", root);
    cr_assert_eq(symlink(outside, path), 0);

    dv_worktree_options opts = {.store = 1};
    dv_worktree *wt;
    cr_assert_eq(dv_worktree_open(&wt, repo, &opts), 0, "%s", dv_error_last());
    struct stat st;
    snprintf(path, sizeof(path), "%s/secret", outside);
    cr_assert_eq(stat(path, &st), 0);
    dv_oid id;
    uint64_t size = 0;
    cr_assert_eq(dv_worktree_file_id(&id, &size, wt, "d/secret", &st), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "symbolic link"), "%s", dv_error_last());
    cr_assert_eq(dv_worktree_link_id(&id, &size, wt, "d/link"), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "symbolic link"), "%s", dv_error_last());
    dv_worktree_free(wt);
    testutil_remove_tree(outside);
}

static void no_hook(void *ctx, const char *relpath)
{
    (void)ctx;
    (void)relpath;
}

static void scan_tree(dv_oid *id, uint64_t *files, size_t *cached,
                      const dv_worktree_options *opts, const char *relpath)
{
    char path[512];
    struct stat st;
    dv_worktree *wt;
    dv_worktree_item item;
    snprintf(path, sizeof(path), "%s/%s", root, relpath);
    cr_assert_eq(lstat(path, &st), 0);
    cr_assert_eq(dv_worktree_open(&wt, repo, opts), 0, "%s", dv_error_last());
    cr_assert_eq(dv_worktree_scan(&item, wt, relpath, &st), 0, "%s", dv_error_last());
    *cached = dv_statcache_count(dv_worktree_statcache(wt));
    *id = item.id;
    *files = item.files;
    dv_worktree_free(wt);
}

Test(worktree, small_files_read_by_the_workers_get_the_ids_the_usual_path_gives)
{
    /* Sizes around the chunker's minimum, empty files, more files than two windows hold,
     * an executable, a symlink and a subdirectory among them. */
    size_t min = repo->chunk_params.min;
    size_t sizes[] = {0, 1, 100, min - 1, min, min + 1, 3 * min};
    size_t n_sizes = sizeof(sizes) / sizeof(sizes[0]);
    uint8_t *data = malloc(3 * min + 1);
    cr_assert(data);
    for (size_t k = 0; k < 3 * min + 1; k++)
        data[k] = (uint8_t)(k * 2654435761u >> 13);
    char rel[64], path[512];
    snprintf(path, sizeof(path), "%s/d", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/d/sub", root);
    cr_assert_eq(mkdir(path, 0755), 0);
    for (int i = 0; i < 300; i++) {
        snprintf(rel, sizeof(rel), "d/f%03d", i);
        data[0] = (uint8_t)i;
        write_file(rel, data, sizes[i % n_sizes]);
    }
    write_file("d/sub/inner", data, 10);
    snprintf(path, sizeof(path), "%s/d/f007", root);
    cr_assert_eq(chmod(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/d/link", root);
    cr_assert_eq(symlink("f001", path), 0);

    dv_oid workers, usual, again;
    uint64_t files;
    size_t cached;
    dv_worktree_options opts = {.store = 1};
    scan_tree(&workers, &files, &cached, &opts, "d");
    cr_assert_eq(files, 302);
    cr_assert_eq(cached, 301, "every regular file is in the stat cache, not %zu", cached);
    dv_worktree_options hooked = {.store = 1, .after_read = no_hook}; /* the usual path only */
    scan_tree(&usual, &files, &cached, &hooked, "d");
    cr_assert_eq(dv_oid_cmp(&workers, &usual), 0);
    dv_worktree_options hash_only = {0};
    scan_tree(&again, &files, &cached, &hash_only, "d");
    cr_assert_eq(dv_oid_cmp(&workers, &again), 0);
    free(data);
}
