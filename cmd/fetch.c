/* dv fetch: bring the data named by the pointer files into the local store. */
#include "cmd/common.h"

#include "core/base/error.h"

const char cmd_fetch_usage[] =
    "usage: dv fetch [-r <remote>] [-j <n>] [-q] [--stats] [<path>...]\n"
    "\n"
    "Download into the local store the data that the pointer files in git's index\n"
    "name (all, or those under the paths) and that the store lacks. Only the byte\n"
    "ranges holding missing objects are read; every object is verified by its\n"
    "SHA-256 before it is stored. The work tree is not touched (see dv pull).\n"
    "\n"
    "  -r, --remote <name>  the remote (default: core.remote, or the only one)\n"
    "  -j, --jobs <n>       requests in flight (default: transfer.jobs, or 4)\n"
    "  -q, --quiet          print only warnings and errors\n"
    "      --stats          print the requests made to the remote\n";

int cmd_fetch(int argc, char **argv)
{
    cmd_transfer_args args = {0};
    const cmd_flag flags[] = {{"remote", 'r', NULL, &args.remote_name},
                              {"jobs", 'j', NULL, &args.jobs_text},
                              {"quiet", 'q', &args.quiet, NULL},
                              {"stats", 0, &args.stats, NULL},
                              {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_fetch_usage, flags);
    if (rc >= 0)
        return rc;
    int n = argc - first, jobs;
    size_t n_bad = 0;
    dv_repo *repo = NULL;
    dv_remote *remote = NULL;
    char **paths = NULL;
    if ((rc = cmd_open_repo(&repo)))
        return rc;
    if (!(rc = cmd_relpaths(&paths, repo, n, argv + first)) && !(rc = cmd_lock_repo(repo)) &&
        !(rc = cmd_transfer_open(&remote, &jobs, repo, &args)) &&
        !(rc = cmd_transfer_fetch(repo, remote, (const char *const *)paths, (size_t)n, jobs, &args,
                                  1, &n_bad)) &&
        n_bad)
        rc = DV_EXIT_FAILURE;
    dv_remote_free(remote);
    cmd_relpaths_free(paths, n);
    dv_repo_free(repo);
    return rc;
}
