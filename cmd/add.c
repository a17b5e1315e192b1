/* dv add: store paths and write their pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/add.h"

#include <stdlib.h>
#include <string.h>

typedef struct add_options {
    int quiet, no_progress;
} add_options;

static const cmd_option add_option_table[] = {
    CMD_FLAG(add_options, quiet, "quiet", 'q', "no progress bar and no summary line"),
    CMD_FLAG(add_options, no_progress, "no-progress", 0, "no progress bar"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_add_syntax = {
    "usage: dv add [-q] [--no-progress] <path>...\n"
    "\n"
    "Chunk, deduplicate, compress and store files and directories, write\n"
    "<path>.dv pointer files, add the paths to .gitignore and stage both in git.\n"
    "Unchanged files are not read again.\n",
    add_option_table,
    sizeof(add_options),
    1,
    -1,
    "nothing to add: name files or directories",
    CMD_COMPLETE_FILES,
};

static void warn_skip(void *ctx, const char *relpath, const char *why)
{
    (void)ctx;
    cmd_warn("skipping %s: %s", relpath, why);
}

int cmd_add(cmd_context *ctx)
{
    const add_options *opts = ctx->options;
    dv_repo *repo = ctx->repo;
    const char *const *paths = (const char *const *)ctx->paths;
    size_t n = (size_t)ctx->n_args;
    cmd_progress progress;
    uint64_t total = 0;
    cmd_progress_start(&progress, "adding", 0, opts->quiet || opts->no_progress);
    if (progress.enabled && dv_add_measure(&total, repo, paths, n) == 0)
        progress.total = total;
    dv_add_options add_opts = {cmd_progress_update, &progress, warn_skip, NULL};
    dv_add_result result;
    int error = dv_add(&result, repo, paths, n, &add_opts);
    cmd_progress_end(&progress);
    if (error < 0)
        return cmd_fail(error);
    if (!opts->quiet)
        printf("added %llu path%s (%llu file%s, %s): %s read, %s new in store, %s reused\n",
               (unsigned long long)result.paths, result.paths == 1 ? "" : "s",
               (unsigned long long)result.files, result.files == 1 ? "" : "s",
               cmd_human_bytes(result.bytes), cmd_human_bytes(result.bytes_read),
               cmd_human_bytes(result.bytes_stored), cmd_human_bytes(result.bytes_reused));
    return 0;
}
