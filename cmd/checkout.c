/* dv checkout: make the work tree match the pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"

#include <stdlib.h>
#include <string.h>

const char cmd_checkout_usage[] =
    "usage: dv checkout [-f] [-q] [<path>...]\n"
    "\n"
    "Restore tracked data so that it matches the pointer files (after git\n"
    "checkout, git pull or a clone). Files that already match are not touched.\n"
    "Refuses to overwrite changes whose content is not in the store.\n"
    "\n"
    "  -f, --force  overwrite unsaved changes (and say which)\n"
    "  -q, --quiet  print only warnings and errors\n";

int cmd_checkout(int argc, char **argv)
{
    struct {
        int force, quiet;
    } opts = {0, 0};
    const cmd_flag flags[] = {{"force", 'f', &opts.force, NULL},
                              {"quiet", 'q', &opts.quiet, NULL},
                              {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_checkout_usage, flags);
    if (rc >= 0)
        return rc;
    int n = argc - first;
    dv_repo *repo = NULL;
    char **paths = NULL;
    rc = cmd_open_repo(&repo);
    if (rc)
        return rc;
    if ((rc = cmd_relpaths(&paths, repo, n, argv + first)) || (rc = cmd_lock_repo(repo)))
        goto done;
    rc = cmd_restore(repo, (const char *const *)paths, (size_t)n, opts.force, opts.quiet);
done:
    cmd_relpaths_free(paths, n);
    dv_repo_free(repo);
    return rc;
}
