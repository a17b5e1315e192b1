/* dv drop: delete from the store the content of tracked paths that a remote holds. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/gc.h"
#include "core/repo/settings.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct drop_options {
    int force, dry_run;
    const char *remote_name;
} drop_options;

static const cmd_option drop_option_table[] = {
    CMD_VALUE(drop_options, remote_name, "remote", 'r', "<name>",
              "the remote that must hold the content (default: core.remote,\nor the only one)",
              CMD_COMPLETE_REMOTES),
    CMD_FLAG(drop_options, force, "force", 'f',
             "drop content that the remote does not hold too (it is then\nnowhere but in "
             "the work tree)"),
    CMD_FLAG(drop_options, dry_run, "dry-run", 'n', "say what would be deleted, delete nothing"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_drop_syntax = {
    "usage: dv drop [-r <remote>] [-f] [-n] [<path>...]\n"
    "\n"
    "Delete from the local store the content of the tracked paths given (all of\n"
    "them when none is), once the remote's pack indexes show that it holds every\n"
    "object that would be deleted. The work tree keeps its files; dv status says\n"
    "the content is on the remote, and dv checkout fetches it again. Objects that\n"
    "other kept data shares (other paths, other versions that dv gc keeps) stay.\n"
    "Content the remote lacks is refused, naming the paths, unless --force.\n",
    drop_option_table,
    sizeof(drop_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

int cmd_drop(cmd_context *ctx)
{
    const drop_options *o = ctx->options;
    dv_gc_options opts;
    dv_gc_result result;
    dv_remote *remote = NULL;
    dv_buf quoted = DV_BUF_INIT;
    const char *everything = "";
    int rc = 0, error, jobs;
    memset(&opts, 0, sizeof(opts));
    memset(&result, 0, sizeof(result));

    cmd_transfer_args args;
    memset(&args, 0, sizeof(args));
    args.remote_name = o->remote_name;
    if ((rc = cmd_transfer_open(&remote, &jobs, ctx->repo, &args)))
        goto done;
    /* the roots gc keeps by default: every worktree, HEADs, stashes, reflogs, branches, tags */
    opts.refs = DV_REVSET_BRANCHES | DV_REVSET_TAGS;
    opts.expire_days = DV_EXPIRE_DAYS_DEFAULT;
    opts.dry_run = o->dry_run;
    opts.drop_paths = ctx->n_args ? (const char *const *)ctx->paths : &everything;
    opts.n_drop_paths = ctx->n_args ? (size_t)ctx->n_args : 1;
    opts.remote = remote;
    opts.force = o->force;

    error = dv_gc(&result, ctx->repo, &opts);
    for (size_t i = 0; i < result.bad.n; i++)
        fprintf(stderr, "dv: error: %s\n", result.bad.paths[i]);
    for (size_t i = 0; i < result.unpushed.n; i++) {
        if (error < 0)
            fprintf(stderr, "dv: error: %s: not all of its content is on %s\n",
                    cmd_quote_path(&quoted, result.unpushed.paths[i]), remote->name);
        else
            cmd_warn("%s: dropped content that %s does not hold (--force)",
                     cmd_quote_path(&quoted, result.unpushed.paths[i]), remote->name);
    }
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    for (size_t i = 0; i < result.dropped.n; i++)
        printf("%s %s (on %s)\n", o->dry_run ? "would drop" : "dropped",
               cmd_quote_path(&quoted, result.dropped.paths[i]), remote->name);
    cmd_print_repack(&result.repack, o->dry_run);
done:
    dv_gc_result_free(&result);
    dv_remote_free(remote);
    dv_buf_release(&quoted);
    return rc;
}
