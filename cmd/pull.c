/* dv pull: fetch, then make the work tree match the pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"

const cmd_syntax cmd_pull_syntax = CMD_TRANSFER_SYNTAX(
    "usage: dv pull [-r <remote>] [-j <n>] [-f] [-q] [--stats] [<path>...]\n"
    "\n"
    "dv fetch, then dv checkout: download what the store lacks of the data the\n"
    "pointer files name (all, or those under the paths) and restore it in the work\n"
    "tree. Refuses to overwrite changes whose content is not in the store.\n",
    CMD_TRANSFER_REMOTE, CMD_TRANSFER_JOBS("requests"), CMD_TRANSFER_FORCE, CMD_TRANSFER_QUIET,
    CMD_TRANSFER_STATS);

int cmd_pull(cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    size_t n_bad = 0; /* reported by the restore, which skips them too */
    int rc = cmd_transfer_fetch(ctx, 0, &n_bad);
    return rc ? rc
              : cmd_restore(ctx->repo, (const char *const *)ctx->paths, (size_t)ctx->n_args,
                            args->force, args->quiet);
}
