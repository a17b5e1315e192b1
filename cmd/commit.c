/* dv commit: dv add what changed, then a git commit of git's index. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/ops/commit.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct commit_options {
    const char *message;
    int quiet;
} commit_options;

static const cmd_option commit_option_table[] = {
    CMD_VALUE(commit_options, message, "message", 'm', "<msg>",
              "the commit message (default: edit one, as git does)", CMD_COMPLETE_NONE),
    CMD_FLAG(commit_options, quiet, "quiet", 'q', "no progress bar and no summary"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_commit_syntax = {
    "usage: dv commit [-m <msg>] [-q] [<path>...]\n"
    "\n"
    "dv add the tracked paths (all, or those under the paths) whose data changed,\n"
    "then make a git commit of git's index: the pointer files and whatever else is\n"
    "staged. Without -m, the message is edited as git does (GIT_EDITOR, core.editor,\n"
    "VISUAL, EDITOR, vi). Exit status 1 when there is nothing to commit.\n",
    commit_option_table,
    sizeof(commit_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

/* Run the editor on path as git does: through the shell, with the file as its argument,
 * while dv ignores the terminal's interrupt (the editor gets it). */
static int run_editor(const char *editor, const char *path)
{
    if (!strcmp(editor, ":"))
        return 0;
    dv_buf script = DV_BUF_INIT;
    if (dv_buf_printf(&script, "%s \"$@\"", editor) < 0)
        return dv_error_set(DV_ENOMEM, "out of memory");
    struct sigaction ignore, old_int, old_quit;
    memset(&ignore, 0, sizeof(ignore));
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    fflush(stdout);
    fflush(stderr);
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGQUIT, &ignore, &old_quit);
    int error = 0, status = 0;
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        execl("/bin/sh", "sh", "-c", script.ptr, editor, path, (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        error = dv_error_errno("cannot start the editor '%s'", editor);
    while (pid > 0 && waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            error = dv_error_errno("waiting for the editor '%s'", editor);
            break;
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    if (!error && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        error = dv_error_set(DV_ERROR,
                             "there was a problem with the editor '%s' (it %s %d); give the "
                             "message with -m, or set GIT_EDITOR",
                             editor, WIFEXITED(status) ? "exited with" : "was killed by signal",
                             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    dv_buf_release(&script);
    return error;
}

/* The message: -m's, cleaned of spaces, or one edited in .git/COMMIT_EDITMSG, cleaned of
 * comments too. */
static int take_message(dv_buf *message, dv_repo *repo, const dv_commit_plan *plan,
                        const commit_options *opts)
{
    if (opts->message)
        return dv_commit_clean_message(message, opts->message, 0);
    dv_buf path = DV_BUF_INIT, text = DV_BUF_INIT, editor = DV_BUF_INIT;
    int error;
    if ((error = dv_commit_editor(&editor, repo)) < 0 ||
        (error = dv_commit_message_path(&path, repo)) < 0 ||
        (error = dv_commit_template(&text, plan)) < 0 ||
        (error = dv_fs_write_atomic(path.ptr, text.ptr, text.len, 0644, DV_FS_DURABLE)) < 0 ||
        (error = run_editor(editor.ptr, path.ptr)) < 0 ||
        (error = dv_fs_read_file(&text, path.ptr, DV_COMMIT_MESSAGE_MAX_BYTES)) < 0)
        goto done;
    if (memchr(text.ptr, '\0', text.len)) {
        error = dv_error_set(DV_EUSAGE, "%s holds a NUL byte; a commit message cannot", path.ptr);
        goto done;
    }
    error = dv_commit_clean_message(message, text.ptr, 1);
done:
    dv_buf_release(&path);
    dv_buf_release(&text);
    dv_buf_release(&editor);
    return error;
}

/* Say what dv commit could not take along: data missing from the work tree, pointer files
 * that cannot be read. */
static void warn_skipped(dv_repo *repo, const dv_status_report *status)
{
    dv_buf shown = DV_BUF_INIT;
    for (size_t i = 0; i < status->n; i++) {
        const dv_status_path *p = &status->paths[i];
        cmd_show_path(&shown, repo, p->path);
        if (p->state == DV_STATE_MISSING)
            cmd_warn("%s is not in the work tree; its pointer file is committed as it is "
                     "(dv checkout restores the data)",
                     shown.ptr);
        else if (p->state == DV_STATE_BAD_POINTER || p->state == DV_STATE_ERROR)
            cmd_warn("%s", p->message ? p->message : p->pointer);
    }
    dv_buf_release(&shown);
}

static void print_summary(dv_repo *repo, const dv_commit_plan *plan, const git_oid *id)
{
    git_commit *commit = NULL;
    char short_id[8];
    dv_buf shown = DV_BUF_INIT;
    git_oid_tostr(short_id, sizeof(short_id), id);
    const char *subject = "";
    if (git_commit_lookup(&commit, repo->git, id) == 0 && git_commit_summary(commit))
        subject = git_commit_summary(commit);
    printf("[%s%s %s] %s\n", plan->branch ? plan->branch : "detached HEAD",
           plan->parent ? "" : " (root-commit)", short_id, subject);
    for (size_t i = 0; i < plan->n_changes; i++) {
        const dv_commit_change *c = &plan->changes[i];
        if (!c->is_data)
            continue;
        cmd_show_path(&shown, repo, c->path);
        const char *what = c->status == 'A' ? "new" : c->status == 'D' ? "deleted" : "modified";
        if (!c->has_pointer)
            printf(" %-9s %s\n", what, shown.ptr);
        else if (c->pointer.kind == DV_KIND_DIR)
            printf(" %-9s %s/ (%llu file%s, %s)\n", what, shown.ptr,
                   (unsigned long long)c->pointer.files, c->pointer.files == 1 ? "" : "s",
                   cmd_human_bytes(c->pointer.size));
        else
            printf(" %-9s %s (%s)\n", what, shown.ptr, cmd_human_bytes(c->pointer.size));
    }
    size_t n_other = plan->n_changes - plan->n_data_changes;
    printf(" %zu data path%s, %zu other file%s", plan->n_data_changes,
           plan->n_data_changes == 1 ? "" : "s", n_other, n_other == 1 ? "" : "s");
    if (plan->added_done)
        printf("; %s new in the store", cmd_human_bytes(plan->added.bytes_stored));
    printf("\n");
    dv_buf_release(&shown);
    git_commit_free(commit);
}

int cmd_commit(cmd_context *ctx)
{
    const commit_options *opts = ctx->options;
    dv_repo *repo = ctx->repo;
    const char *const *paths = (const char *const *)ctx->paths;
    size_t n = (size_t)ctx->n_args;
    dv_commit_plan plan;
    dv_buf message = DV_BUF_INIT;
    cmd_progress progress;
    int rc = 0;
    cmd_progress_start(&progress, "adding", 0, opts->quiet);
    dv_add_options add_opts = {cmd_progress_update, &progress, NULL, NULL};
    int error = dv_commit_prepare(&plan, repo, paths, n, &add_opts);
    cmd_progress_end(&progress);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    warn_skipped(repo, &plan.status);
    if (!plan.n_changes) {
        printf("nothing to commit: no tracked data changed and git's index matches HEAD\n");
        rc = DV_EXIT_NO;
        goto done;
    }
    if ((error = take_message(&message, repo, &plan, opts)) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!message.len) {
        fprintf(stderr, "dv: aborting the commit: the commit message is empty\n");
        rc = DV_EXIT_NO;
        goto done;
    }
    git_oid id;
    if ((error = dv_commit_create(&id, repo, &plan, message.ptr)) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!opts->quiet)
        print_summary(repo, &plan, &id);
done:
    if (rc && plan.added_done)
        fprintf(stderr,
                "dv: the data dv added stays stored and staged (%zu path%s); commit it with dv "
                "commit or git commit\n",
                plan.added_paths.n, plan.added_paths.n == 1 ? "" : "s");
    dv_commit_plan_free(&plan);
    dv_buf_release(&message);
    return rc;
}
