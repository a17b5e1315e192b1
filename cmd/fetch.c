/* dv fetch: bring the data named by the pointer files into the local store. */
#include "cmd/common.h"

#include "core/base/error.h"

const cmd_syntax cmd_fetch_syntax = CMD_TRANSFER_SYNTAX(
    "usage: dv fetch [-r <remote>] [-j <n>] [-q] [--stats] [--rev <rev>]... [--all-branches]\n"
    "                [--all-tags] [--all-commits] [<path>...]\n"
    "       dv fetch --repair [-r <remote>] [-q]\n"
    "\n"
    "Download into the local store the data that the pointer files in git's index\n"
    "name (all, or those under the paths), or those of the revisions given, and\n"
    "that the store lacks. Only the byte\n"
    "ranges holding missing objects are read; every object is verified by its\n"
    "SHA-256 before it is stored. A path inside a tracked directory fetches that\n"
    "path's data alone. The work tree is not touched (see dv pull).\n"
    "\n"
    "With --repair, do what dv fsck --repair does: check the store, fetch good\n"
    "copies of what is damaged or missing, and retire the damaged packs.\n",
    CMD_TRANSFER_REMOTE, CMD_TRANSFER_JOBS("requests"), CMD_TRANSFER_QUIET, CMD_TRANSFER_STATS,
    CMD_TRANSFER_REVS, CMD_TRANSFER_REPAIR("mend the store: dv fsck --repair"));

int cmd_fetch(cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    if (args->repair) {
        if (ctx->n_args || args->revs.n || args->all_branches || args->all_tags ||
            args->all_commits)
            return cmd_usage_error(ctx->command, "--repair takes no paths or revisions");
        int rc = cmd_lock_store_exclusive(ctx->repo);
        return rc ? rc : cmd_repair_store(ctx->repo, args->remote_name, args->quiet);
    }
    size_t n_bad = 0;
    int rc = cmd_transfer_fetch(ctx, 1, &n_bad);
    return !rc && n_bad ? DV_EXIT_FAILURE : rc;
}
