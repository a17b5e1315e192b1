/* dv fetch: bring the data named by the pointer files into the local store. */
#include "cmd/common.h"

#include "core/base/error.h"

const cmd_syntax cmd_fetch_syntax = CMD_TRANSFER_SYNTAX(
    "usage: dv fetch [-r <remote>] [-j <n>] [-q] [--stats] [--rev <rev>]... [--all-branches]\n"
    "                [--all-tags] [--all-commits] [<path>...]\n"
    "\n"
    "Download into the local store the data that the pointer files in git's index\n"
    "name (all, or those under the paths), or those of the revisions given, and\n"
    "that the store lacks. Only the byte\n"
    "ranges holding missing objects are read; every object is verified by its\n"
    "SHA-256 before it is stored. The work tree is not touched (see dv pull).\n",
    CMD_TRANSFER_REMOTE, CMD_TRANSFER_JOBS("requests"), CMD_TRANSFER_QUIET, CMD_TRANSFER_STATS,
    CMD_TRANSFER_REVS);

int cmd_fetch(cmd_context *ctx)
{
    size_t n_bad = 0;
    int rc = cmd_transfer_fetch(ctx, 1, &n_bad);
    return !rc && n_bad ? DV_EXIT_FAILURE : rc;
}
