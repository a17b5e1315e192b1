/* dv pull: fetch, then make the work tree match the pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/pull.h"

const cmd_syntax cmd_pull_syntax = CMD_TRANSFER_SYNTAX(
    "usage: dv pull [-r <remote>] [-j <n>] [-f] [-q] [--stats] [--rev <rev>] [<path>...]\n"
    "\n"
    "dv fetch and dv checkout: download what the store lacks of the data the\n"
    "pointer files name (all, or those under the paths) and restore it in the work\n"
    "tree, each file as soon as its chunks have arrived. With --rev, the data of that\n"
    "revision, whose pointer files are written as dv checkout <rev> writes them,\n"
    "once all of it is in the store. A path inside a tracked directory pulls that\n"
    "path alone (dv pull tree/d042/big.bin): the trees down to it, then its data.\n"
    "Refuses to overwrite changes whose content is not in the store.\n",
    CMD_TRANSFER_REMOTE, CMD_TRANSFER_JOBS("requests"), CMD_TRANSFER_FORCE, CMD_TRANSFER_QUIET,
    CMD_TRANSFER_STATS, CMD_TRANSFER_REV);

/* The pointer files staged in git: the fetch and the restore at once (core/ops/pull). */
static int pull_staged(cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    dv_remote *remote = NULL;
    int jobs, rc = cmd_transfer_open(&remote, &jobs, ctx->repo, args);
    if (rc) {
        dv_remote_free(remote);
        return rc;
    }
    dv_transfer_result fetched;
    dv_checkout_result restored;
    cmd_progress progress;
    cmd_progress_start(&progress, "downloading", 0, args->quiet);
    dv_transfer_options topts = {.jobs = jobs,
                                 .progress = cmd_progress_update,
                                 .progress_ctx = &progress,
                                 .planned = cmd_progress_set_total};
    dv_checkout_options copts = {.force = args->force};
    int restore_error;
    int error = dv_pull(&fetched, &restored, &restore_error, ctx->repo, remote,
                        (const char *const *)ctx->paths, (size_t)ctx->n_args, &topts, &copts);
    cmd_progress_end(&progress);
    cmd_transfer_stats(remote, args);
    rc = cmd_fetch_report(&fetched, remote, error, args->quiet);
    if (!rc)
        rc = cmd_restore_report(ctx->repo, NULL, &restored, restore_error, args->quiet);
    dv_transfer_result_free(&fetched);
    dv_checkout_result_free(&restored);
    dv_remote_free(remote);
    return rc;
}

int cmd_pull(cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    size_t n_bad = 0; /* reported by the restore, which skips them too */
    dv_rev *rev = NULL;
    if (args->revs.n > 1)
        return cmd_usage_error(ctx->command, "dv pull checks out one revision: give --rev once "
                                             "(dv fetch takes many)");
    if (!args->revs.n)
        return pull_staged(ctx);
    int error = dv_rev_resolve(&rev, ctx->repo, args->revs.v[0]);
    if (error < 0)
        return cmd_fail(error);
    int rc = cmd_transfer_fetch(ctx, 0, &n_bad);
    if (!rc)
        rc = cmd_restore(ctx->repo, rev, (const char *const *)ctx->paths, (size_t)ctx->n_args,
                         args->force, args->quiet);
    dv_rev_free(rev);
    return rc;
}
