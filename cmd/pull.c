/* dv pull: fetch, then make the work tree match the pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"

const char cmd_pull_usage[] =
    "usage: dv pull [-r <remote>] [-j <n>] [-f] [-q] [--stats] [<path>...]\n"
    "\n"
    "dv fetch, then dv checkout: download what the store lacks of the data the\n"
    "pointer files name (all, or those under the paths) and restore it in the work\n"
    "tree. Refuses to overwrite changes whose content is not in the store.\n"
    "\n"
    "  -r, --remote <name>  the remote (default: core.remote, or the only one)\n"
    "  -j, --jobs <n>       requests in flight (default: transfer.jobs, or 4)\n"
    "  -f, --force          overwrite unsaved changes (and say which)\n"
    "  -q, --quiet          print only warnings and errors\n"
    "      --stats          print the requests made to the remote\n";

int cmd_pull(int argc, char **argv)
{
    cmd_transfer_args args = {0};
    const cmd_flag flags[] = {
        {"remote", 'r', NULL, &args.remote_name}, {"jobs", 'j', NULL, &args.jobs_text},
        {"force", 'f', &args.force, NULL},        {"quiet", 'q', &args.quiet, NULL},
        {"stats", 0, &args.stats, NULL},          {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_pull_usage, flags);
    if (rc >= 0)
        return rc;
    int n = argc - first, jobs;
    size_t n_bad = 0; /* reported by the restore, which skips them too */
    dv_repo *repo = NULL;
    dv_remote *remote = NULL;
    char **paths = NULL;
    if ((rc = cmd_open_repo(&repo)))
        return rc;
    if (!(rc = cmd_relpaths(&paths, repo, n, argv + first)) && !(rc = cmd_lock_repo(repo)) &&
        !(rc = cmd_transfer_open(&remote, &jobs, repo, &args)) &&
        !(rc = cmd_transfer_fetch(repo, remote, (const char *const *)paths, (size_t)n, jobs, &args,
                                  0, &n_bad)))
        rc = cmd_restore(repo, (const char *const *)paths, (size_t)n, args.force, args.quiet);
    dv_remote_free(remote);
    cmd_relpaths_free(paths, n);
    dv_repo_free(repo);
    return rc;
}
