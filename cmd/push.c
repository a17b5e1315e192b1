/* dv push: send the data named by the pointer files to a remote. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/transfer.h"

#include <stdio.h>

const char cmd_push_usage[] =
    "usage: dv push [-r <remote>] [-j <n>] [-q] [--stats] [<path>...]\n"
    "\n"
    "Send to the remote the data that the pointer files in git's index name (all,\n"
    "or those under the paths) and that the remote does not have yet. Packs are\n"
    "uploaded whole, each before its index, so an interrupted push leaves nothing\n"
    "a reader would use.\n"
    "\n"
    "  -r, --remote <name>  the remote (default: core.remote, or the only one)\n"
    "  -j, --jobs <n>       uploads in flight (default: transfer.jobs, or 4)\n"
    "  -q, --quiet          print only warnings and errors\n"
    "      --stats          print the requests made to the remote\n";

int cmd_push(int argc, char **argv)
{
    cmd_transfer_args args = {0};
    const cmd_flag flags[] = {{"remote", 'r', NULL, &args.remote_name},
                              {"jobs", 'j', NULL, &args.jobs_text},
                              {"quiet", 'q', &args.quiet, NULL},
                              {"stats", 0, &args.stats, NULL},
                              {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_push_usage, flags);
    if (rc >= 0)
        return rc;
    int n = argc - first, jobs;
    dv_repo *repo = NULL;
    dv_remote *remote = NULL;
    char **paths = NULL;
    if ((rc = cmd_open_repo(&repo)))
        return rc;
    if ((rc = cmd_relpaths(&paths, repo, n, argv + first)) || (rc = cmd_lock_repo(repo)) ||
        (rc = cmd_transfer_open(&remote, &jobs, repo, &args)))
        goto done;
    cmd_progress progress;
    cmd_progress_start(&progress, "uploading", 0, args.quiet);
    dv_transfer_options topts = {jobs, cmd_progress_update, &progress, cmd_progress_set_total};
    dv_transfer_result result;
    int error = dv_push(&result, repo, remote, (const char *const *)paths, (size_t)n, &topts);
    cmd_progress_end(&progress);
    cmd_transfer_stats(remote, &args);
    cmd_warn_bad_pointers(&result.bad_pointers);
    if (result.bad_pointers.n)
        rc = DV_EXIT_FAILURE;
    dv_transfer_result_free(&result);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (args.quiet)
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
    cmd_relpaths_free(paths, n);
    dv_repo_free(repo);
    return rc;
}
