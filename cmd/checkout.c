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
    "usage: dv checkout [-f] [-q] [<path>...]\n"
    "\n"
    "Restore tracked data so that it matches the pointer files (after git\n"
    "checkout, git pull or a clone). Files that already match are not touched.\n"
    "Refuses to overwrite changes whose content is not in the store.\n",
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
    return cmd_restore(ctx->repo, (const char *const *)ctx->paths, (size_t)ctx->n_args, opts->force,
                       opts->quiet);
}
