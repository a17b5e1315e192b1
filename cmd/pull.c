/* dv pull: fetch, then make the work tree match the pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"

const cmd_syntax cmd_pull_syntax = CMD_TRANSFER_SYNTAX(
    "usage: dv pull [-r <remote>] [-j <n>] [-f] [-q] [--stats] [--rev <rev>] [<path>...]\n"
    "\n"
    "dv fetch, then dv checkout: download what the store lacks of the data the\n"
    "pointer files name (all, or those under the paths) and restore it in the work\n"
    "tree. With --rev, the data of that revision, whose pointer files are written as\n"
    "dv checkout <rev> writes them. Refuses to overwrite changes whose content is\n"
    "not in the store.\n",
    CMD_TRANSFER_REMOTE, CMD_TRANSFER_JOBS("requests"), CMD_TRANSFER_FORCE, CMD_TRANSFER_QUIET,
    CMD_TRANSFER_STATS, CMD_TRANSFER_REV);

int cmd_pull(cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    size_t n_bad = 0; /* reported by the restore, which skips them too */
    dv_rev *rev = NULL;
    if (args->revs.n > 1)
        return cmd_usage_error(ctx->command, "dv pull checks out one revision: give --rev once "
                                             "(dv fetch takes many)");
    int error = args->revs.n ? dv_rev_resolve(&rev, ctx->repo, args->revs.v[0]) : 0;
    if (error < 0)
        return cmd_fail(error);
    int rc = cmd_transfer_fetch(ctx, 0, &n_bad);
    if (!rc)
        rc = cmd_restore(ctx->repo, rev, (const char *const *)ctx->paths, (size_t)ctx->n_args,
                         args->force, args->quiet);
    dv_rev_free(rev);
    return rc;
}
