/* dv install-hooks: git hooks that keep the data in line; dv hook: what they run. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/hooks.h"

#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct install_hooks_options {
    int pre_push, uninstall, quiet;
} install_hooks_options;

static const cmd_option install_hooks_option_table[] = {
    CMD_FLAG(install_hooks_options, pre_push, "pre-push", 0,
             "also a pre-push hook that runs dv push first"),
    CMD_FLAG(install_hooks_options, uninstall, "uninstall", 0,
             "remove dv's hooks and put back the ones they chained"),
    CMD_FLAG(install_hooks_options, quiet, "quiet", 'q', "print only errors"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_install_hooks_syntax = {
    "usage: dv install-hooks [--pre-push] [--uninstall] [-q]\n"
    "\n"
    "Install git hooks (post-checkout, post-merge, post-rewrite) that make the data\n"
    "follow the pointer files after git switch, git pull, git merge and git rebase,\n"
    "fetching what the store lacks from the default remote. --pre-push adds a hook\n"
    "that runs dv push before git push sends anything. A hook that was there keeps\n"
    "running after dv's; --uninstall puts it back as it was.\n",
    install_hooks_option_table,
    sizeof(install_hooks_options),
    0,
    0,
    "dv install-hooks takes no arguments",
    CMD_COMPLETE_NONE,
};

/* The hook command: git's arguments, passed on untouched. */
const cmd_syntax cmd_hook_syntax = {
    "usage: dv hook <hook-name> [<git's arguments>...]\n"
    "\n"
    "What the hooks of dv install-hooks run; not meant to be run by hand.\n",
    NULL,
    0,
    1,
    -1,
    "dv hook needs the name of a hook",
    CMD_COMPLETE_NONE,
};

/* The absolute path of the running dv, which the hooks call when dv is not on PATH. */
static int own_path(dv_buf *out)
{
    char path[PATH_MAX + 1];
    ssize_t n = readlink("/proc/self/exe", path, PATH_MAX);
    if (n < 0)
        return dv_error_errno("cannot find the path of the dv binary (/proc/self/exe)");
    path[n] = '\0';
    return dv_buf_set(out, path);
}

static const char *action_text(int action)
{
    switch (action) {
    case DV_HOOK_INSTALLED:
        return "installed";
    case DV_HOOK_CHAINED:
        return "installed, runs the hook that was there after it:";
    case DV_HOOK_UPDATED:
        return "updated";
    case DV_HOOK_UNCHANGED:
        return "already installed";
    case DV_HOOK_REMOVED:
        return "removed";
    case DV_HOOK_RESTORED:
        return "removed, and put back the hook it ran:";
    case DV_HOOK_NOT_OURS:
        return "left alone (not dv's)";
    default:
        return NULL;
    }
}

static void print_report(const dv_hooks_report *report)
{
    for (size_t i = 0; i < report->n; i++) {
        const char *text = action_text(report->hooks[i].action);
        if (!text)
            continue;
        printf("%s/%s: %s", report->dir, report->hooks[i].name, text);
        if (report->hooks[i].action == DV_HOOK_CHAINED ||
            report->hooks[i].action == DV_HOOK_RESTORED)
            printf(" %s%s", report->hooks[i].name,
                   report->hooks[i].action == DV_HOOK_CHAINED ? DV_HOOKS_CHAINED_SUFFIX : "");
        printf("\n");
    }
}

int cmd_install_hooks(cmd_context *ctx)
{
    const install_hooks_options *opts = ctx->options;
    dv_hooks_report report = {0};
    dv_buf dv_bin = DV_BUF_INIT;
    int error;
    if (opts->uninstall && opts->pre_push)
        return cmd_usage_error(ctx->command, "--pre-push and --uninstall do not go together "
                                             "(--uninstall removes every dv hook)");
    if (opts->uninstall)
        error = dv_hooks_uninstall(&report, ctx->repo);
    else if (!(error = own_path(&dv_bin)))
        error = dv_hooks_install(&report, ctx->repo, opts->pre_push, dv_bin.ptr);
    if (!opts->quiet)
        print_report(&report);
    int rc = error < 0 ? cmd_fail(error) : 0;
    dv_hooks_report_free(&report);
    dv_buf_release(&dv_bin);
    return rc;
}

/* ------------------------------------------------------------- dv hook */

static void print_paths(dv_repo *repo, const dv_path_list *list)
{
    dv_buf shown = DV_BUF_INIT;
    for (size_t i = 0; i < list->n; i++)
        fprintf(stderr, "    %s\n", cmd_show_path(&shown, repo, list->paths[i]));
    dv_buf_release(&shown);
}

static void report_sync(dv_repo *repo, const dv_hooks_sync_result *r)
{
    for (size_t i = 0; i < r->problems.n; i++)
        cmd_warn("%s", r->problems.paths[i]);
    if (r->objects_fetched)
        fprintf(stderr, "dv: fetched %llu object%s (%s) from %s\n",
                (unsigned long long)r->objects_fetched, r->objects_fetched == 1 ? "" : "s",
                cmd_human_bytes(r->bytes_fetched), r->remote);
    if (r->fetch_error)
        cmd_warn("cannot fetch the data the store lacks%s%s: %s", r->remote ? " from " : "",
                 r->remote ? r->remote : "", r->fetch_error);
    const dv_checkout_result *c = &r->checkout;
    if (c->files_restored || c->removed)
        fprintf(stderr, "dv: restored %llu file%s (%s), %llu removed, to match the pointer files\n",
                (unsigned long long)c->files_restored, c->files_restored == 1 ? "" : "s",
                cmd_human_bytes(c->bytes_restored), (unsigned long long)c->removed);
    if (r->checkout_error)
        cmd_warn("cannot bring the data in line with the pointer files: %s (run dv checkout)",
                 r->checkout_error);
    if (r->conflicts.n) {
        fprintf(stderr, "dv: these paths have changes that are not in the store, so they were "
                        "left as they are (dv add keeps them, dv checkout --force drops them):\n");
        print_paths(repo, &r->conflicts);
    }
    if (r->lacking.n) {
        fprintf(stderr, "dv: the store lacks the data of these paths, so they were left as "
                        "they are:\n");
        print_paths(repo, &r->lacking);
        if (r->no_remote)
            fprintf(stderr, "dv: no dv remote is configured to fetch it from: add one (dv remote "
                            "add <name> <url>), then run dv pull (or dv fetch, then dv "
                            "checkout)\n");
        else
            fprintf(stderr, "dv: run dv pull once the data can be fetched\n");
    }
}

/* 1 if text is a commit id of git's, all zeros (nothing: a new or deleted ref) or not. */
static int is_commit_hex(const char *text)
{
    size_t n = strspn(text, "0123456789abcdef");
    return !text[n] && (n == GIT_OID_HEXSZ || n == 64);
}

static int is_zero_hex(const char *text)
{
    return !text[strspn(text, "0")];
}

/* The commits a git push sends, from the lines git writes to pre-push's stdin:
 * "<local ref> <local id> <remote ref> <remote id>". A ref being deleted sends nothing; a
 * new one sends what no remote-tracking branch of that remote has. */
static int pushed_commits(dv_revset *set, const char *remote_name, FILE *in, int *n_ranges)
{
    char line[4096], hide[512];
    int error = 0;
    *n_ranges = 0;
    snprintf(hide, sizeof(hide), "refs/remotes/%s/*", remote_name);
    while (!error && fgets(line, sizeof(line), in)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (!len)
            continue;
        char local_ref[1024], local_id[128], remote_ref[1024], remote_id[128];
        if (len >= sizeof(line) - 1 ||
            sscanf(line, "%1023s %127s %1023s %127s", local_ref, local_id, remote_ref, remote_id) !=
                4 ||
            !is_commit_hex(local_id) || !is_commit_hex(remote_id))
            return dv_error_set(DV_EUSAGE,
                                "pre-push: a line git wrote is not "
                                "\"<ref> <id> <ref> <id>\": %.80s",
                                line);
        if (is_zero_hex(local_id))
            continue;
        error = dv_revset_add_range(set, local_id, is_zero_hex(remote_id) ? NULL : remote_id,
                                    strchr(remote_name, '/') ? NULL : hide);
        (*n_ranges)++;
    }
    return error;
}

static int run_pre_push(cmd_context *ctx)
{
    cmd_transfer_args args = {0};
    cmd_context push = *ctx;
    dv_revset *set = NULL;
    int n_ranges = 0;
    const char *remote_name = ctx->n_args > 1 ? ctx->args[1] : "origin";
    int error = dv_revset_new(&set, ctx->repo);
    if (!error)
        error = pushed_commits(set, remote_name, stdin, &n_ranges);
    if (error < 0) {
        dv_revset_free(set);
        return cmd_fail(error);
    }
    int rc = 0;
    if (n_ranges) { /* nothing pushed (only deletions): nothing to send */
        args.preset = set;
        push.options = &args;
        push.args = NULL;
        push.n_args = 0;
        push.paths = NULL;
        rc = cmd_push(&push);
    }
    if (rc)
        fprintf(stderr, "dv: the data could not be pushed, so git push stops here; fix that and "
                        "push again, or skip this check with git push --no-verify\n");
    dv_revset_free(set);
    return rc;
}

int cmd_hook(cmd_context *ctx)
{
    if (ctx->n_args < 1)
        return cmd_usage_error(NULL, "%s", cmd_hook_syntax.args_error);
    const char *name = ctx->args[0];
    const char *const *args = (const char *const *)ctx->args + 1;
    int n = ctx->n_args - 1, sync = 0;
    if (!strcmp(name, "pre-push"))
        return run_pre_push(ctx);
    int error = dv_hooks_should_sync(&sync, ctx->repo, name, n, args);
    if (error < 0)
        return cmd_fail(error);
    if (!sync)
        return 0;
    dv_hooks_sync_result result;
    if ((error = dv_hooks_sync(&result, ctx->repo)) < 0)
        return cmd_fail(error);
    report_sync(ctx->repo, &result);
    dv_hooks_sync_result_free(&result);
    /* git's own operation is done: a hook's failure would only make git report one. */
    return 0;
}
