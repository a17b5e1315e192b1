/* dv gc: delete from the store what no kept revision needs. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/gc.h"
#include "core/repo/settings.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct gc_options {
    int workspace, all_branches, all_tags, all_commits, dry_run, verbose;
    cmd_values revs;
    const char *expire;
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
    CMD_FLAG(gc_options, dry_run, "dry-run", 'n', "say what would be deleted, delete nothing"),
    CMD_FLAG(gc_options, verbose, "verbose", 'v',
             "also list the roots read, and the pointers of the history whose\ndata goes"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_gc_syntax = {
    "usage: dv gc [--workspace] [--all-branches] [--all-tags] [--all-commits] [--rev <rev>]...\n"
    "             [--expire-reflog <when>] [-n] [-v]\n"
    "\n"
    "Delete from the local store every object that no kept revision needs. Always\n"
    "kept: the pointer files of every worktree (its files and git's index), each\n"
    "worktree's HEAD, the stashes, and the commits of reflog entries younger than\n"
    "gc.reflogExpire. Without --workspace, --all-branches, --all-tags, --all-commits\n"
    "or --rev, every branch and tag is kept too; with them, only what they name.\n"
    "Packs holding anything else are rewritten; nothing is deleted when a root\n"
    "cannot be read.\n",
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

    error = dv_gc(&result, ctx->repo, &opts);
    for (size_t i = 0; i < result.bad.n; i++)
        fprintf(stderr, "dv: error: %s\n", result.bad.paths[i]);
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
    const char *would = o->dry_run ? "would be " : "";
    if (o->verbose)
        printf("roots: %" PRIu64 " pointer%s, %zu worktree%s, %zu commit%s of HEADs, stashes "
               "and reflogs\n",
               result.roots, result.roots == 1 ? "" : "s", result.worktrees,
               result.worktrees == 1 ? "" : "s", result.history_commits,
               result.history_commits == 1 ? "" : "s");
    printf("%skept: %" PRIu64 " object%s, %" PRIu64 " bytes (%s)\n", would, r->objects_kept,
           r->objects_kept == 1 ? "" : "s", r->bytes_kept, cmd_human_bytes(r->bytes_kept));
    printf(
        "%sfreed: %" PRIu64 " object%s, %" PRId64 " bytes (%s%s)\n", would, r->objects_freed,
        r->objects_freed == 1 ? "" : "s", r->bytes_freed, r->bytes_freed < 0 ? "-" : "",
        cmd_human_bytes(r->bytes_freed < 0 ? (uint64_t)-r->bytes_freed : (uint64_t)r->bytes_freed));
    printf("packs%s: %" PRIu64 " unchanged, %" PRIu64 " rewritten, %" PRIu64 " deleted, %" PRIu64
           " written\n",
           o->dry_run ? " would be" : "", r->packs_kept, r->packs_rewritten, r->packs_deleted,
           r->packs_written);
done:
    dv_gc_result_free(&result);
    dv_buf_release(&quoted);
    return rc;
}
