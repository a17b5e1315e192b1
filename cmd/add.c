/* dv add: store paths and write their pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/add.h"

#include <stdlib.h>
#include <string.h>

const char cmd_add_usage[] =
    "usage: dv add [-q] [--no-progress] <path>...\n"
    "\n"
    "Chunk, deduplicate, compress and store files and directories, write\n"
    "<path>.dv pointer files, add the paths to .gitignore and stage both in git.\n"
    "Unchanged files are not read again.\n"
    "\n"
    "  -q, --quiet      no progress bar and no summary line\n"
    "  --no-progress    no progress bar\n";

static void warn_skip(void *ctx, const char *relpath, const char *why)
{
    (void)ctx;
    cmd_warn("skipping %s: %s", relpath, why);
}

int cmd_add(int argc, char **argv)
{
    struct {
        int quiet, no_progress;
    } opts = {0, 0};
    const cmd_flag flags[] = {{"quiet", 'q', &opts.quiet, NULL},
                              {"no-progress", 0, &opts.no_progress, NULL},
                              {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_add_usage, flags);
    if (rc >= 0)
        return rc;
    int n = argc - first;
    if (n == 0)
        return cmd_usage_error(cmd_add_usage, "nothing to add: name files or directories");

    dv_repo *repo = NULL;
    char **paths = NULL;
    rc = cmd_open_repo(&repo);
    if (rc)
        return rc;
    if ((rc = cmd_relpaths(&paths, repo, n, argv + first)) || (rc = cmd_lock_repo(repo)))
        goto done;

    cmd_progress progress;
    uint64_t total = 0;
    cmd_progress_start(&progress, "adding", 0, opts.quiet || opts.no_progress);
    if (progress.enabled &&
        dv_add_measure(&total, repo, (const char *const *)paths, (size_t)n) == 0)
        progress.total = total;
    dv_add_options add_opts = {cmd_progress_update, &progress, warn_skip, NULL};
    dv_add_result result;
    int error = dv_add(&result, repo, (const char *const *)paths, (size_t)n, &add_opts);
    cmd_progress_end(&progress);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!opts.quiet)
        printf("added %llu path%s (%llu file%s, %s): %s read, %s new in store, %s reused\n",
               (unsigned long long)result.paths, result.paths == 1 ? "" : "s",
               (unsigned long long)result.files, result.files == 1 ? "" : "s",
               cmd_human_bytes(result.bytes), cmd_human_bytes(result.bytes_read),
               cmd_human_bytes(result.bytes_stored), cmd_human_bytes(result.bytes_reused));
done:
    cmd_relpaths_free(paths, n);
    dv_repo_free(repo);
    return rc;
}
