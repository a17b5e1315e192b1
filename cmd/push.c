/* dv push: send the data named by the pointer files to a remote. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/transfer.h"

#include <stdio.h>

const cmd_syntax cmd_push_syntax = CMD_TRANSFER_SYNTAX(
    "usage: dv push [-r <remote>] [-j <n>] [-q] [--stats] [--rev <rev>]... [--all-branches]\n"
    "               [--all-tags] [--all-commits] [<path>...]\n"
    "\n"
    "Send to the remote the data that the pointer files in git's index name (all,\n"
    "or those under the paths), or those of the revisions given, and that the\n"
    "remote does not have yet. Packs are\n"
    "uploaded whole, each before its index, so an interrupted push leaves nothing\n"
    "a reader would use.\n",
    CMD_TRANSFER_REMOTE, CMD_TRANSFER_JOBS("uploads"), CMD_TRANSFER_QUIET, CMD_TRANSFER_STATS,
    CMD_TRANSFER_REVS);

int cmd_push(cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    dv_remote *remote = NULL;
    dv_transfer_result result;
    int error, rc = cmd_transfer_run(&result, &error, &remote, ctx, "uploading", dv_push);
    if (rc)
        return rc;
    cmd_warn_bad_pointers(&result.bad_pointers);
    if (result.bad_pointers.n)
        rc = DV_EXIT_FAILURE;
    dv_transfer_result_free(&result);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (args->quiet)
        goto done;
    if (result.packs_moved)
        printf("pushed %llu object%s in %llu pack%s (%s) to %s\n",
               (unsigned long long)result.objects_moved, result.objects_moved == 1 ? "" : "s",
               (unsigned long long)result.packs_moved, result.packs_moved == 1 ? "" : "s",
               cmd_human_bytes(result.bytes_moved), remote->name);
    else
        printf("%s already has all %llu object%s\n", remote->name,
               (unsigned long long)result.objects_reachable,
               result.objects_reachable == 1 ? "" : "s");
done:
    dv_remote_free(remote);
    return rc;
}
