/* dv gc: delete from the store what no kept revision needs. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/gc.h"
#include "core/repo/settings.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct gc_options {
    int workspace, all_branches, all_tags, all_commits, dry_run, verbose, repack_only, pushed;
    cmd_values revs;
    const char *expire, *remote_name;
} gc_options;

static const cmd_option gc_option_table[] = {
    CMD_FLAG(gc_options, workspace, "workspace", 0,
             "keep only what is always kept: the worktrees' pointer files and\ngit indexes, "
             "HEADs, stashes and recent reflog entries"),
    CMD_FLAG(gc_options, all_branches, "all-branches", 0, "keep the data of every branch"),
    CMD_FLAG(gc_options, all_tags, "all-tags", 0, "keep the data of every tag"),
    CMD_FLAG(gc_options, all_commits, "all-commits", 0,
             "keep the data of every commit reachable from a reference"),
    CMD_VALUES(gc_options, revs, "rev", 0, "<rev>",
               "keep the data of this revision too (repeatable)", CMD_COMPLETE_NONE),
    CMD_VALUE(gc_options, expire, "expire-reflog", 0, "<when>",
              "reflog entries older than this keep nothing: now, never or\na number of days "
              "(default: gc.reflogExpire, or 90)",
              CMD_COMPLETE_NONE),
    CMD_FLAG(gc_options, repack_only, "repack-only", 0,
             "only merge small packs (pack.minSize) into packs of\npack.targetSize; "
             "delete no object, read no roots"),
    CMD_FLAG(gc_options, pushed, "pushed", 0,
             "also drop from the store every root's content that the\nremote holds "
             "(checked against its pack indexes)"),
    CMD_VALUE(gc_options, remote_name, "remote", 'r', "<name>",
              "the remote for --pushed (default: core.remote, or the only one)",
              CMD_COMPLETE_REMOTES),
    CMD_FLAG(gc_options, dry_run, "dry-run", 'n', "say what would be deleted, delete nothing"),
    CMD_FLAG(gc_options, verbose, "verbose", 'v',
             "also list the roots read, and the pointers of the history whose\ndata goes"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_gc_syntax = {
    "usage: dv gc [--workspace] [--all-branches] [--all-tags] [--all-commits] [--rev <rev>]...\n"
    "             [--expire-reflog <when>] [--pushed [-r <remote>]] [-n] [-v]\n"
    "   or: dv gc --repack-only [-n]\n"
    "\n"
    "Delete from the local store every object that no kept revision needs. Always\n"
    "kept: the pointer files of every worktree (its files and git's index), each\n"
    "worktree's HEAD, the stashes, and the commits of reflog entries younger than\n"
    "gc.reflogExpire. Without --workspace, --all-branches, --all-tags, --all-commits\n"
    "or --rev, every branch and tag is kept too; with them, only what they name.\n"
    "Packs holding anything else are rewritten, and packs smaller than\n"
    "pack.minSize are merged; nothing is deleted when a root cannot be read.\n"
    "With --pushed, the content of every root that the remote holds goes too\n"
    "(dv drop for all of it). --repack-only merges small packs and deletes\n"
    "nothing.\n",
    gc_option_table,
    sizeof(gc_options),
    0,
    0,
    "dv gc takes no paths",
    CMD_COMPLETE_NONE,
};

static int print_dropped(void *ctx, const char *data_relpath, const dv_pointer *pointer)
{
    dv_buf *quoted = ctx;
    printf("would drop %s%s (%s %s)\n", cmd_quote_path(quoted, data_relpath), DV_POINTER_SUFFIX,
           dv_pointer_kind_name(pointer->kind), dv_oid_hex(&pointer->oid));
    return 0;
}

int cmd_gc(cmd_context *ctx)
{
    const gc_options *o = ctx->options;
    dv_gc_options opts;
    dv_gc_result result;
    dv_buf quoted = DV_BUF_INIT;
    dv_remote *remote = NULL;
    char *configured = NULL;
    int rc = 0, error;
    memset(&opts, 0, sizeof(opts));
    memset(&result, 0, sizeof(result));

    if (o->all_branches)
        opts.refs |= DV_REVSET_BRANCHES;
    if (o->all_tags)
        opts.refs |= DV_REVSET_TAGS;
    if (o->all_commits)
        opts.refs |= DV_REVSET_COMMITS;
    if (!o->workspace && !opts.refs && !o->revs.n)
        opts.refs = DV_REVSET_BRANCHES | DV_REVSET_TAGS;
    opts.revs = o->revs.v;
    opts.n_revs = (size_t)o->revs.n;
    opts.dry_run = o->dry_run;
    opts.expire_days = DV_EXPIRE_DAYS_DEFAULT;
    if (o->expire) {
        if (dv_settings_parse_expire(&opts.expire_days, "--expire-reflog", o->expire) < 0)
            return cmd_usage_error(ctx->command, "%s", dv_error_last());
    } else {
        if ((error = dv_config_get_string(&configured, ctx->repo->config, "gc.reflogExpire")) < 0)
            return cmd_fail(error);
        if (configured && (error = dv_settings_parse_expire(&opts.expire_days,
                                                            "gc.reflogExpire "
                                                            "in dv configuration",
                                                            configured)) < 0) {
            free(configured);
            return cmd_fail(error);
        }
        free(configured);
    }
    if (o->verbose && o->dry_run) {
        opts.dropped = print_dropped;
        opts.ctx = &quoted;
    }
    if (o->repack_only && (o->pushed || o->workspace || o->all_branches || o->all_tags ||
                           o->all_commits || o->revs.n || o->expire || o->verbose))
        return cmd_usage_error(ctx->command, "--repack-only reads no roots and takes only -n");
    if (o->remote_name && !o->pushed)
        return cmd_usage_error(ctx->command, "-r names the remote of --pushed");
    opts.repack_only = o->repack_only;
    if (o->pushed) {
        cmd_transfer_args args;
        int jobs;
        memset(&args, 0, sizeof(args));
        args.remote_name = o->remote_name;
        if ((rc = cmd_transfer_open(&remote, &jobs, ctx->repo, &args)))
            goto done;
        opts.drop_pushed = 1;
        opts.remote = remote;
    }

    error = dv_gc(&result, ctx->repo, &opts);
    for (size_t i = 0; i < result.bad.n; i++)
        fprintf(stderr, "dv: error: %s\n", result.bad.paths[i]);
    for (size_t i = 0; i < result.unpushed.n; i++)
        fprintf(stderr, "dv: error: %s: not all of its content is on %s\n",
                cmd_quote_path(&quoted, result.unpushed.paths[i]), remote ? remote->name : "");
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (result.missing)
        cmd_warn("%" PRIu64 " object%s reachable from the roots %s not in the store (never fetched "
                 "here); nothing below %s was looked for",
                 result.missing, result.missing == 1 ? "" : "s", result.missing == 1 ? "is" : "are",
                 result.missing == 1 ? "it" : "them");
    const dv_repack_result *r = &result.repack;
    if (o->verbose)
        printf("roots: %" PRIu64 " pointer%s, %zu worktree%s, %zu commit%s of HEADs, stashes "
               "and reflogs\n",
               result.roots, result.roots == 1 ? "" : "s", result.worktrees,
               result.worktrees == 1 ? "" : "s", result.history_commits,
               result.history_commits == 1 ? "" : "s");
    if (o->pushed)
        printf("%sdropped: %" PRIu64 " root%s that %s holds\n", o->dry_run ? "would be " : "",
               result.dropped_roots, result.dropped_roots == 1 ? "" : "s", remote->name);
    cmd_print_repack(r, o->dry_run);
done:
    dv_remote_free(remote);
    dv_gc_result_free(&result);
    dv_buf_release(&quoted);
    return rc;
}
