/* dv checkout: make the work tree match the pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/transfer.h"
#include "core/repo/remoteconf.h"

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
    "changes whose content is not in the store. What the store lacks of the data\n"
    "to restore (content dv drop deleted, or never fetched) is fetched from the\n"
    "default remote first; without one, nothing is written when the store lacks it.\n"
    "A path inside a tracked directory restores that path alone (its directory's\n"
    "pointer file is left as it is).\n",
    checkout_option_table,
    sizeof(checkout_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

typedef struct missing_roots {
    dv_odb *odb;
    size_t n;
} missing_roots;

static int note_missing(void *ctx, const char *data_relpath, const dv_pointer *pointer)
{
    missing_roots *m = ctx;
    (void)data_relpath;
    m->n += !dv_odb_has(m->odb, &pointer->oid);
    return 0;
}

/* Content the store lacks (dropped, or never fetched here) comes from the default remote
 * first, when one is configured: only what is missing, level by level, as dv fetch does; of
 * the work tree's pointer files, or of rev's (spelled spec) when one is given. A pointer
 * that cannot be read is left to the checkout, which reports it. */
static int fetch_missing(dv_repo *repo, dv_rev *rev, const char *spec, const char *const *paths,
                         size_t n, int quiet)
{
    missing_roots m = {NULL, 0};
    dv_remote *remote = NULL;
    dv_revset *revs = NULL;
    char *name = NULL;
    dv_transfer_result result;
    int error;
    memset(&result, 0, sizeof(result));
    if (dv_repo_odb(&m.odb, repo) < 0 ||
        (rev ? dv_rev_each_pointer(rev, paths, n, note_missing, &m)
             : dv_rev_each_worktree_pointer(repo, paths, n, note_missing, &m)) < 0 ||
        !m.n) {
        dv_error_clear();
        return 0;
    }
    if (dv_remoteconf_default(&name, repo) < 0) {
        dv_error_clear();
        return 0; /* the checkout says what the store lacks, and to run dv fetch */
    }
    free(name);
    if ((error = dv_remoteconf_open(&remote, repo, NULL)) < 0)
        return cmd_fail(error);
    dv_transfer_options topts = {0};
    if (rev &&
        ((error = dv_revset_new(&revs, repo)) < 0 || (error = dv_revset_add(revs, spec)) < 0)) {
        dv_revset_free(revs);
        dv_remote_free(remote);
        return cmd_fail(error);
    }
    topts.revs = revs;
    error = dv_fetch(&result, repo, remote, paths, n, &topts);
    dv_revset_free(revs);
    if (error < 0) {
        error = dv_error_wrap(error, "cannot fetch from %s what the checkout needs", remote->name);
    } else if (!quiet && result.objects_moved) {
        printf("fetched %llu object%s (%s) from %s\n", (unsigned long long)result.objects_moved,
               result.objects_moved == 1 ? "" : "s", cmd_human_bytes(result.bytes_moved),
               remote->name);
    }
    dv_transfer_result_free(&result);
    dv_remote_free(remote);
    return error < 0 ? cmd_fail(error) : 0;
}

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
    if (!(rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + (rev ? 1 : 0))) &&
        !(rc = fetch_missing(ctx->repo, rev, rev ? ctx->args[0] : NULL, (const char *const *)paths,
                             (size_t)n_paths, opts->quiet)))
        rc = cmd_restore(ctx->repo, rev, (const char *const *)paths, (size_t)n_paths, opts->force,
                         opts->quiet);
    cmd_relpaths_free(paths, n_paths);
    dv_rev_free(rev);
    return rc;
}
