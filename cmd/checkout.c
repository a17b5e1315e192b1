/* dv checkout: make the work tree match the pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct checkout_options {
    int force, quiet;
} checkout_options;

static const cmd_option checkout_option_table[] = {
    CMD_FLAG(checkout_options, force, "force", 'f', "overwrite unsaved changes (and say which)"),
    CMD_FLAG(checkout_options, quiet, "quiet", 'q', "print only warnings and errors"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_checkout_syntax = {
    "usage: dv checkout [-f] [-q] [<rev>] [--] [<path>...]\n"
    "\n"
    "Restore tracked data so that it matches the pointer files (after git\n"
    "checkout, git pull or a clone). Files that already match are not touched.\n"
    "With <rev> (a branch, tag, commit, HEAD~3, ...), the pointer files of that\n"
    "revision are written and staged first, as git checkout <rev> -- <pointer files>\n"
    "would, and a tracked path that revision lacks is removed. Refuses to overwrite\n"
    "changes whose content is not in the store, and writes nothing when the store\n"
    "lacks data the revision names.\n",
    checkout_option_table,
    sizeof(checkout_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

int cmd_checkout(cmd_context *ctx)
{
    const checkout_options *opts = ctx->options;
    dv_rev *rev = NULL;
    char **paths = NULL;
    int n_paths = 0;
    int rc = cmd_take_rev(&rev, ctx);
    if (rc)
        return rc;
    n_paths = ctx->n_args - (rev ? 1 : 0);
    if (!(rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + (rev ? 1 : 0))))
        rc = cmd_restore(ctx->repo, rev, (const char *const *)paths, (size_t)n_paths, opts->force,
                         opts->quiet);
    cmd_relpaths_free(paths, n_paths);
    dv_rev_free(rev);
    return rc;
}
