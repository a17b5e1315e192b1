/* dv push: send the data named by the pointer files to a remote. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/repair.h"
#include "core/ops/transfer.h"

#include <stdio.h>

const cmd_syntax cmd_push_syntax = CMD_TRANSFER_SYNTAX(
    "usage: dv push [-r <remote>] [-j <n>] [-q] [--stats] [--rev <rev>]... [--all-branches]\n"
    "               [--all-tags] [--all-commits] [<path>...]\n"
    "       dv push --repair [-r <remote>] [-j <n>] [-q] [--stats]\n"
    "\n"
    "Send to the remote the data that the pointer files in git's index name (all,\n"
    "or those under the paths), or those of the revisions given, and that the\n"
    "remote does not have yet. Packs are\n"
    "uploaded whole, each before its index, so an interrupted push leaves nothing\n"
    "a reader would use.\n"
    "\n"
    "With --repair, check every pack on the remote in full (dv fsck --remote --full)\n"
    "and replace each damaged one: by the store's pack of the same id, or by new packs\n"
    "holding good copies of what it held (from the store, or verified objects of the\n"
    "damaged pack), uploaded before the damaged pack is removed.\n",
    CMD_TRANSFER_REMOTE, CMD_TRANSFER_JOBS("uploads"), CMD_TRANSFER_QUIET, CMD_TRANSFER_STATS,
    CMD_TRANSFER_REVS,
    CMD_TRANSFER_REPAIR("replace the remote's damaged packs with good copies (nothing else)"));

static void print_note(void *ctx, const char *message)
{
    (void)ctx;
    printf("%s\n", message);
}

/* dv push --repair. */
static int push_repair(cmd_context *ctx, const cmd_transfer_args *args)
{
    if (ctx->n_args || args->revs.n || args->all_branches || args->all_tags || args->all_commits)
        return cmd_usage_error(ctx->command, "--repair takes no paths or revisions");
    dv_remote *remote = NULL;
    int jobs, rc = cmd_transfer_open(&remote, &jobs, ctx->repo, args);
    if (rc)
        return rc;
    dv_transfer_options opts = {.jobs = jobs};
    dv_repair_result result;
    int error = dv_push_repair(&result, ctx->repo, remote, &opts, print_note, NULL);
    cmd_transfer_stats(remote, args);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!result.packs_bad) {
        if (!args->quiet)
            printf("remote %s: every pack verified, nothing to repair\n", remote->name);
        goto done;
    }
    printf("remote %s: %llu damaged pack%s, %llu replaced (%llu object%s uploaded, %s)%s\n",
           remote->name, (unsigned long long)result.packs_bad, result.packs_bad == 1 ? "" : "s",
           (unsigned long long)result.packs_replaced, (unsigned long long)result.objects_uploaded,
           result.objects_uploaded == 1 ? "" : "s", cmd_human_bytes(result.bytes_uploaded),
           result.objects_lost ? "; the others are kept, see above" : "");
    rc = result.objects_lost ? DV_EXIT_FAILURE : DV_EXIT_OK;
done:
    dv_remote_free(remote);
    return rc;
}

int cmd_push(cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    if (args->repair)
        return push_repair(ctx, args);
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
    if (result.objects_at_risk)
        cmd_warn("%llu object%s this push relies on %s not in the local store, and remote %s "
                 "holds %s only in packs a dv gc --remote running there may delete (run dv "
                 "fetch, then dv push again once the gc ends)",
                 (unsigned long long)result.objects_at_risk, result.objects_at_risk == 1 ? "" : "s",
                 result.objects_at_risk == 1 ? "is" : "are", remote->name,
                 result.objects_at_risk == 1 ? "it" : "them");
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
