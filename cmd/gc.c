/* dv gc: delete from the store what no kept revision needs. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/gc.h"
#include "core/ops/gc_remote.h"
#include "core/repo/remoteconf.h"
#include "core/repo/settings.h"
#include "remotes/remote_lock.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct gc_options {
    int workspace, all_branches, all_tags, all_commits, dry_run, verbose, repack_only;
    cmd_values revs;
    const char *expire, *remote, *pushed;
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
    CMD_VALUE_OPTIONAL(gc_options, pushed, "pushed", "<remote>", "",
                       "also drop from the store every root's content that the\nremote "
                       "(default: core.remote) holds, checked against its pack indexes"),
    CMD_VALUE_OPTIONAL(gc_options, remote, "remote", "<name>", "",
                       "delete from a remote instead (default: core.remote): packs\nolder "
                       "than gc.pruneExpire that hold nothing kept"),
    CMD_FLAG(gc_options, dry_run, "dry-run", 'n', "say what would be deleted, delete nothing"),
    CMD_FLAG(gc_options, verbose, "verbose", 'v',
             "also list the roots read, and the pointers of the history whose\ndata goes"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_gc_syntax = {
    "usage: dv gc [--workspace] [--all-branches] [--all-tags] [--all-commits] [--rev <rev>]...\n"
    "             [--expire-reflog <when>] [--pushed[=<remote>]] [--remote[=<name>]] [-n]\n"
    "             [-v]\n"
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
    "nothing.\n"
    "\n"
    "With --remote, delete from a remote instead: the same roots, plus everything in\n"
    "packs younger than gc.pruneExpire (14 days) and all they name. A lock object\n"
    "locks/<id> keeps two gcs apart; pushes go on meanwhile. Rewritten packs are\n"
    "uploaded from the local store before the old ones go.\n",
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

static const char *fate_name(int fate, int dry_run)
{
    switch (fate) {
    case DV_GC_REMOTE_DELETE:
        return dry_run ? "would delete" : "deleted";
    case DV_GC_REMOTE_REWRITE:
        return dry_run ? "would rewrite" : "rewrote";
    default:
        return dry_run ? "would delete" : "deleted";
    }
}

typedef struct remote_printer {
    const dv_remote *remote;
    int dry_run;
} remote_printer;

static void print_pack(void *ctx, const dv_oid *pack, int fate, uint64_t objects_freed,
                       uint64_t objects_missing, uint64_t file_bytes)
{
    const remote_printer *p = ctx;
    if (fate == DV_GC_REMOTE_SHORT) {
        cmd_warn("pack %s on remote %s is kept whole: %" PRIu64 " object%s it should keep %s not "
                 "in the local store (run dv fetch --all-branches --all-tags, then dv gc "
                 "--remote again)",
                 dv_oid_hex(pack), p->remote->name, objects_missing,
                 objects_missing == 1 ? "" : "s", objects_missing == 1 ? "is" : "are");
        return;
    }
    if (fate == DV_GC_REMOTE_ORPHAN) {
        printf("%s pack %s (no index, %" PRIu64 " bytes)\n", fate_name(fate, p->dry_run),
               dv_oid_hex(pack), file_bytes);
        return;
    }
    printf("%s pack %s (%" PRIu64 " object%s freed, %" PRIu64 " bytes)\n",
           fate_name(fate, p->dry_run), dv_oid_hex(pack), objects_freed,
           objects_freed == 1 ? "" : "s", file_bytes);
}

static int gc_remote(cmd_context *ctx, const gc_options *o, const dv_gc_options *gc)
{
    dv_gc_remote_options opts;
    dv_gc_remote_result result;
    dv_remote *remote = NULL;
    int rc = 0, error;
    memset(&opts, 0, sizeof(opts));
    memset(&result, 0, sizeof(result));
    opts.gc = *gc;
    opts.gc.dropped = NULL;
    if ((error = dv_gc_remote_prune_expire(&opts.prune_expire, ctx->repo)) < 0 ||
        (error = dv_remoteconf_open(&remote, ctx->repo, o->remote[0] ? o->remote : NULL)) < 0)
        return cmd_fail(error);
    remote_printer printer = {remote, o->dry_run};
    opts.pack = print_pack;
    opts.ctx = &printer;
    error = dv_gc_remote(&result, ctx->repo, remote, &opts);
    for (size_t i = 0; i < result.bad.n; i++)
        fprintf(stderr, "dv: error: %s\n", result.bad.paths[i]);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (result.missing)
        cmd_warn("%" PRIu64 " tree%s or manifest%s reachable from the roots %s neither in the "
                 "store nor on remote %s; nothing below %s was looked for",
                 result.missing, result.missing == 1 ? "" : "s", result.missing == 1 ? "" : "s",
                 result.missing == 1 ? "is" : "are", remote->name,
                 result.missing == 1 ? "it" : "them");
    const char *would = o->dry_run ? "would be " : "";
    if (o->verbose)
        printf("roots: %" PRIu64 " pointer%s, %zu worktree%s, %zu commit%s of HEADs, stashes "
               "and reflogs, %" PRIu64 " pack%s younger than gc.pruneExpire; %" PRIu64
               " object%s read from the remote\n",
               result.roots, result.roots == 1 ? "" : "s", result.worktrees,
               result.worktrees == 1 ? "" : "s", result.history_commits,
               result.history_commits == 1 ? "" : "s", result.packs_young,
               result.packs_young == 1 ? "" : "s", result.objects_read,
               result.objects_read == 1 ? "" : "s");
    printf("remote %s: %skept: %" PRIu64 " object%s\n", remote->name, would, result.objects_kept,
           result.objects_kept == 1 ? "" : "s");
    printf("remote %s: %sfreed: %" PRIu64 " object%s, %" PRIu64 " bytes (%s) in packs removed, "
           "%" PRIu64 " bytes (%s) uploaded\n",
           remote->name, would, result.objects_freed, result.objects_freed == 1 ? "" : "s",
           result.bytes_freed, cmd_human_bytes(result.bytes_freed), result.bytes_uploaded,
           cmd_human_bytes(result.bytes_uploaded));
    printf("remote %s: packs%s: %" PRIu64 " unchanged, %" PRIu64 " rewritten, %" PRIu64
           " deleted, %" PRIu64 " written\n",
           remote->name, o->dry_run ? " would be" : "", result.packs_kept, result.packs_rewritten,
           result.packs_deleted + result.packs_orphan, result.packs_written);
done:
    dv_gc_remote_result_free(&result);
    dv_remote_free(remote);
    return rc;
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
    if (o->remote)
        return gc_remote(ctx, o, &opts);
    if (o->verbose && o->dry_run) {
        opts.dropped = print_dropped;
        opts.ctx = &quoted;
    }
    if (o->repack_only && (o->pushed || o->workspace || o->all_branches || o->all_tags ||
                           o->all_commits || o->revs.n || o->expire || o->verbose))
        return cmd_usage_error(ctx->command, "--repack-only reads no roots and takes only -n");
    opts.repack_only = o->repack_only;
    if (o->pushed) {
        cmd_transfer_args args;
        int jobs;
        memset(&args, 0, sizeof(args));
        args.remote_name = o->pushed[0] ? o->pushed : NULL;
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
                 "here, or dropped); nothing below %s was looked for",
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
    if (result.partial_bytes)
        printf("%s: %" PRIu64 " bytes (%s) that dv diff fetched for itself\n",
               o->dry_run ? "would be cleared" : "cleared", result.partial_bytes,
               cmd_human_bytes(result.partial_bytes));
done:
    dv_remote_free(remote);
    dv_gc_result_free(&result);
    dv_buf_release(&quoted);
    return rc;
}
