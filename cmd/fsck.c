/* dv fsck: verify the store. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/ops/fsck.h"
#include "core/ops/repair.h"
#include "core/ops/transfer.h"
#include "core/repo/remoteconf.h"
#include "core/repo/settings.h"
#include "remotes/remote_check.h"

#include <string.h>

typedef struct fsck_options {
    int quiet, full;
    const char *remote, *jobs, *repair;
} fsck_options;

static const cmd_option fsck_option_table[] = {
    CMD_FLAG(fsck_options, quiet, "quiet", 'q', "print only the problems"),
    CMD_VALUE_OPTIONAL(fsck_options, remote, "remote", "<name>", "",
                       "check a remote's packs and indexes instead (default: core.remote)"),
    CMD_FLAG(fsck_options, full, "full", 0,
             "with --remote: download every pack and verify every object"),
    CMD_VALUE_OPTIONAL(fsck_options, repair, "repair", "<remote>", "",
                       "fetch good copies of what is damaged or missing from the remote"),
    CMD_VALUE(fsck_options, jobs, "jobs", 'j', "<n>",
              "with --remote: packs checked at once (default: transfer.jobs, or 4)",
              CMD_COMPLETE_NONE),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_fsck_syntax = {
    "usage: dv fsck [-q] [--repair[=<remote>]]\n"
    "       dv fsck --remote[=<name>] [--full] [-j <n>] [-q]\n"
    "\n"
    "Re-read every pack: check its checksum and index, decompress every object\n"
    "and verify its SHA-256, and check that every manifest's chunks and every\n"
    "tree's entries exist. Exit status 1 if anything is wrong.\n"
    "\n"
    "With --repair, fetch good copies of the damaged and missing objects from the\n"
    "remote (the default one, or the one named), verified, into a new pack, then\n"
    "retire each damaged pack once its sound objects are copied; then check again.\n"
    "\n"
    "With --remote, check a remote instead: download every pack index again and\n"
    "verify it, and compare each pack's size and trailer with its index and name;\n"
    "with --full, also download every pack and verify every object in it.\n",
    fsck_option_table,
    sizeof(fsck_options),
    0,
    0,
    "dv fsck takes no paths",
    CMD_COMPLETE_NONE,
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void problem(void *ctx, const char *pack_path, const dv_oid *object, int type,
                    const char *message)
{
    (void)ctx;
    if (object)
        printf("bad %s %s in pack %s: %s\n", type ? dv_object_type_name(type) : "object",
               dv_oid_hex(object), base_name(pack_path), message);
    else if (pack_path[0])
        printf("bad pack %s: %s\n", base_name(pack_path), message);
    else
        printf("bad pack: %s\n", message);
}

typedef struct fsck_output {
    dv_buf quoted;
    uint64_t missing_packs; /* indexes whose pack held objects now lost */
    dv_oidset bad;          /* the objects damaged or missing */
    int error;              /* of adding to bad */
    uint64_t paths;         /* affected paths printed */
} fsck_output;

static void note_bad(void *ctx, const char *pack_path, const dv_oid *id, int type)
{
    fsck_output *o = ctx;
    (void)pack_path;
    (void)type;
    if (id && !o->error && dv_oidset_add(&o->bad, id) < 0)
        o->error = DV_ENOMEM;
}

static int print_path(void *ctx, const char *path, const dv_oid *id, int type)
{
    fsck_output *o = ctx;
    o->paths++;
    printf("affected: %s (needs %s %s)\n", cmd_quote_path(&o->quoted, path),
           dv_object_type_name(type), dv_oid_short(id));
    return 0;
}

static void orphan(void *ctx, const char *idx_path, uint64_t objects, uint64_t lost,
                   const char *message)
{
    fsck_output *o = ctx;
    const char *shown = cmd_quote_path(&o->quoted, idx_path);
    if (message) {
        printf("bad pack index %s, whose pack is missing: %s (remove it: rm %s)\n",
               base_name(idx_path), message, shown);
    } else if (lost) {
        o->missing_packs++;
        printf("missing pack for index %s: %llu of the %llu objects it lists are in no other "
               "pack\n",
               base_name(idx_path), (unsigned long long)lost, (unsigned long long)objects);
    } else {
        printf("leftover index %s: its pack is gone, but all %llu objects it lists are in "
               "other packs (remove it: rm %s)\n",
               base_name(idx_path), (unsigned long long)objects, shown);
    }
}

static void remote_problem(void *ctx, const dv_oid *pack, const dv_oid *object, int type,
                           const char *message)
{
    const dv_remote *remote = ctx;
    char pack_hex[DV_OID_HEX_CHARS + 1];
    dv_oid_tohex(pack_hex, pack);
    if (object)
        printf("bad %s %s in pack %s on remote %s: %s\n",
               type ? dv_object_type_name(type) : "object", dv_oid_hex(object), pack_hex,
               remote->name, message);
    else
        printf("bad pack %s on remote %s: %s\n", pack_hex, remote->name, message);
}

typedef struct remote_progress {
    cmd_progress bar;
    const dv_remote *remote;
} remote_progress;

static void remote_problem_of(void *ctx, const dv_oid *pack, const dv_oid *object, int type,
                              const char *message)
{
    remote_problem((void *)((remote_progress *)ctx)->remote, pack, object, type, message);
}

static void remote_planned(void *ctx, uint64_t total)
{
    cmd_progress_set_total(&((remote_progress *)ctx)->bar, total);
}

static void remote_read(void *ctx, uint64_t done)
{
    cmd_progress_update(&((remote_progress *)ctx)->bar, done);
}

/* dv fsck --remote: the remote's packs and indexes. */
static int fsck_remote(cmd_context *ctx, const fsck_options *o)
{
    dv_remote *remote = NULL;
    dv_pool *pool = NULL;
    int jobs = 0, rc = 0, error;
    if (o->jobs) {
        char *end;
        long n = strtol(o->jobs, &end, 10);
        if (*end || end == o->jobs || n < 1 || n > DV_TRANSFER_JOBS_MAX)
            return cmd_usage_error(ctx->command, "--jobs needs a number from 1 to %d, not '%s'",
                                   DV_TRANSFER_JOBS_MAX, o->jobs);
        jobs = (int)n;
    }
    if ((error = dv_transfer_jobs(&jobs, ctx->repo, jobs)) < 0)
        return cmd_fail(error);
    if ((error = dv_remoteconf_open(&remote, ctx->repo, o->remote[0] ? o->remote : NULL)) < 0 ||
        (error = dv_pool_new(&pool, jobs)) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    remote_progress progress = {{0}, remote};
    cmd_progress_start(&progress.bar, "verifying", 0, o->quiet || !o->full);
    dv_remote_check_options opts = {
        o->full,     ctx->repo->cache_dir.ptr, pool,     remote_problem_of,
        remote_read, remote_planned,           &progress};
    dv_remote_check_result result;
    error = dv_remote_check(&result, remote, &opts);
    cmd_progress_end(&progress.bar);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!o->quiet || result.problems)
        printf("checked %llu pack%s on remote %s, %llu objects (%s%s): %llu problem%s%s\n",
               (unsigned long long)result.packs, result.packs == 1 ? "" : "s", remote->name,
               (unsigned long long)result.objects, cmd_human_bytes(result.bytes),
               o->full ? ", every object read" : ", indexes and trailers",
               (unsigned long long)result.problems, result.problems == 1 ? "" : "s",
               result.leftovers ? ", and packs without an index (uploads interrupted or "
                                  "running)"
                                : "");
    if (result.problems)
        printf("to repair: dv push --repair from a clone whose store holds the objects\n");
    rc = result.problems ? DV_EXIT_NO : DV_EXIT_OK;
done:
    dv_pool_free(pool);
    dv_remote_free(remote);
    return rc;
}

static void print_note(void *ctx, const char *message)
{
    (void)ctx;
    printf("%s\n", message);
}

/* dv fsck --repair: mend the store from a remote, then check it again. */
int cmd_repair_store(dv_repo *repo, const char *remote_name, int quiet)
{
    dv_remote *remote = NULL;
    fsck_output o = {DV_BUF_INIT, 0, DV_OIDSET_INIT, 0, 0}, *out = &o;
    int rc = 0, error;
    if ((error = dv_remoteconf_open(&remote, repo, remote_name)) < 0)
        return cmd_fail(error);
    dv_fsck_repair_result r;
    error = dv_fsck_repair(&r, repo, remote, problem, orphan, print_note, out);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!r.problems) {
        if (!quiet)
            printf("the store is intact: nothing to repair\n");
        goto done;
    }
    printf("repair: fetched %llu object%s (%s) from remote %s, retired %llu damaged pack%s\n",
           (unsigned long long)r.objects_fetched, r.objects_fetched == 1 ? "" : "s",
           cmd_human_bytes(r.bytes_fetched), remote->name, (unsigned long long)r.packs_retired,
           r.packs_retired == 1 ? "" : "s");
    /* the store as it is now, read afresh */
    dv_odb *odb = NULL;
    dv_fsck_result again;
    if ((error = dv_odb_open(&odb, repo->cache_dir.ptr, NULL)) == 0)
        error = dv_fsck(&again, odb, problem, orphan, NULL, out);
    dv_odb_free(odb);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    printf("checked again: %llu problem%s\n", (unsigned long long)again.problems,
           again.problems == 1 ? "" : "s");
    rc = again.problems ? DV_EXIT_NO : DV_EXIT_OK;
done:
    dv_remote_free(remote);
    dv_buf_release(&o.quoted);
    return rc;
}

int cmd_fsck(cmd_context *ctx)
{
    const fsck_options *o = ctx->options;
    int quiet = o->quiet, rc;
    if (o->remote && o->repair)
        return cmd_usage_error(ctx->command,
                               "--repair mends the store; to mend a remote: dv push --repair");
    if (o->remote)
        return fsck_remote(ctx, o);
    if (o->full || o->jobs)
        return cmd_usage_error(ctx->command, "--%s goes with --remote", o->full ? "full" : "jobs");
    dv_odb *odb;
    dv_fsck_result result;
    fsck_output out = {DV_BUF_INIT, 0, DV_OIDSET_INIT, 0, 0};
    if (o->repair)
        return (rc = cmd_lock_repo_mode(ctx->repo, 1))
                   ? rc
                   : cmd_repair_store(ctx->repo, o->repair[0] ? o->repair : NULL, o->quiet);
    int error = dv_repo_odb(&odb, ctx->repo);
    if (!error)
        error = dv_fsck(&result, odb, problem, orphan, note_bad, &out);
    if (!error && out.error)
        error = dv_error_set(out.error, "out of memory");
    if (!error && result.problems)
        error = dv_fsck_paths(ctx->repo, odb, &out.bad, print_path, &out);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!quiet || result.problems || result.leftovers) {
        printf("checked %llu pack%s, %llu objects (%s): %llu problem%s",
               (unsigned long long)result.packs, result.packs == 1 ? "" : "s",
               (unsigned long long)result.objects, cmd_human_bytes(result.bytes),
               (unsigned long long)result.problems, result.problems == 1 ? "" : "s");
        if (result.leftovers)
            printf(", %llu leftover file%s", (unsigned long long)result.leftovers,
                   result.leftovers == 1 ? "" : "s");
        putchar('\n');
    }
    if (result.problems)
        printf("to repair: dv fsck --repair fetches good copies from the remote, or dv add "
               "the affected paths again from a work tree that has them%s\n",
               out.missing_packs ? " (the index of a missing pack is then reported as a "
                                   "leftover, to remove)"
                                 : "");
    rc = result.problems ? DV_EXIT_NO : DV_EXIT_OK;
done:
    dv_oidset_release(&out.bad);
    dv_buf_release(&out.quoted);
    return rc;
}
