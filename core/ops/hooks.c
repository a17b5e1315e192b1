/* hooks: installing dv's git hooks, and the work they do when git runs them. */
#include "core/ops/hooks.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/object/pointer.h"
#include "core/ops/status.h"
#include "core/ops/transfer.h"
#include "core/repo/remoteconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const dv_hooks_names[DV_HOOKS_COUNT] = {"post-checkout", "post-merge", "post-rewrite",
                                                    "pre-push"};

/* The second line of every hook dv writes; what tells dv's hooks from others. */
#define HOOK_MARK "# dv-hook: "

void dv_hooks_report_free(dv_hooks_report *report)
{
    if (!report)
        return;
    free(report->dir);
    memset(report, 0, sizeof(*report));
}

/* ------------------------------------------------------------ where, what */

int dv_hooks_dir(dv_buf *out, dv_repo *repo)
{
    git_config *cfg = NULL;
    git_buf value = {0};
    int error = 0;
    dv_buf_clear(out);
    if (git_repository_config_snapshot(&cfg, repo->git) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot read git's configuration");
    int rc = git_config_get_path(&value, cfg, "core.hooksPath");
    if (rc < 0 && rc != GIT_ENOTFOUND) {
        error = dv_repo_git_error(DV_EUSAGE, "core.hooksPath");
        goto done;
    }
    if (rc == 0 && value.size) {
        /* git runs hooks from the top of the work tree: a relative path starts there. */
        error = value.ptr[0] == '/' ? dv_buf_puts(out, value.ptr)
                                    : dv_buf_joinpath(out, repo->workdir.ptr, value.ptr);
    } else {
        git_buf_dispose(&value);
        if (git_repository_item_path(&value, repo->git, GIT_REPOSITORY_ITEM_HOOKS) < 0) {
            error = dv_repo_git_error(DV_ERROR, "cannot find git's hooks directory");
            goto done;
        }
        error = dv_buf_puts(out, value.ptr);
    }
    while (!error && out->len > 1 && out->ptr[out->len - 1] == '/')
        dv_buf_truncate(out, out->len - 1);
done:
    git_buf_dispose(&value);
    git_config_free(cfg);
    return error;
}

/* The shell's single-quoted form of s. */
static int shell_quote(dv_buf *out, const char *s)
{
    dv_buf_putc(out, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            dv_buf_puts(out, "'\\''");
        else
            dv_buf_putc(out, *s);
    }
    return dv_buf_putc(out, '\'');
}

int dv_hooks_script(dv_buf *out, const char *name, const char *dv_bin)
{
    if (dv_bin[0] != '/')
        return dv_error_set(DV_EUSAGE, "dv's own path %s is not absolute", dv_bin);
    for (const unsigned char *p = (const unsigned char *)dv_bin; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return dv_error_set(DV_EUSAGE, "dv's own path holds a control character; install "
                                           "dv where its path has none");
    int blocking = !strcmp(name, "pre-push");
    dv_buf_clear(out);
    dv_buf_printf(
        out,
        "#!/bin/sh\n" HOOK_MARK "%d\n"
        "# Written by dv install-hooks; dv install-hooks --uninstall removes it and puts\n"
        "# back the hook it replaced. Runs \"dv hook %s\" with git's arguments, then\n"
        "# %s" DV_HOOKS_CHAINED_SUFFIX " (the hook that was here before, if any) with the\n"
        "# same arguments and stdin.\n"
        "dv_installed=",
        DV_HOOKS_FORMAT, name, name);
    shell_quote(out, dv_bin);
    dv_buf_puts(out, "\n"
                     "if command -v dv >/dev/null 2>&1; then\n"
                     "    dv_bin=dv\n"
                     "elif [ -x \"$dv_installed\" ]; then\n"
                     "    dv_bin=$dv_installed\n"
                     "else\n"
                     "    dv_bin=\n"
                     "fi\n");
    if (blocking)
        dv_buf_printf(out,
                      "if [ -z \"$dv_bin\" ]; then\n"
                      "    echo \"dv: error: dv is not on PATH, nor at $dv_installed, so the data "
                      "cannot be pushed (git push --no-verify skips this hook)\" >&2\n"
                      "    exit 1\n"
                      "fi\n"
                      "dv_refs=$(cat)\n"
                      "{ [ -z \"$dv_refs\" ] || printf '%%s\\n' \"$dv_refs\"; } | \"$dv_bin\" hook "
                      "%s \"$@\" || exit $?\n",
                      name);
    else
        dv_buf_printf(out,
                      "if [ -n \"$dv_bin\" ]; then\n"
                      "    \"$dv_bin\" hook %s \"$@\" </dev/null\n"
                      "else\n"
                      "    echo \"dv: warning: dv is not on PATH, nor at $dv_installed; the data "
                      "was not updated (run dv checkout)\" >&2\n"
                      "fi\n",
                      name);
    dv_buf_puts(out, "chained=\"$0" DV_HOOKS_CHAINED_SUFFIX "\"\n"
                     "if [ -f \"$chained\" ] && [ -x \"$chained\" ]; then\n");
    dv_buf_puts(out, blocking ? "    { [ -z \"$dv_refs\" ] || printf '%s\\n' \"$dv_refs\"; } | "
                                "exec \"$chained\" \"$@\"\n"
                                "    exit $?\n"
                              : "    exec \"$chained\" \"$@\"\n");
    dv_buf_puts(out, "fi\n"
                     "exit 0\n");
    return dv_buf_oom(out) ? dv_error_set(DV_ENOMEM, "out of memory") : 0;
}

int dv_hooks_is_ours(const char *data, size_t len)
{
    static const char head[] = "#!/bin/sh\n" HOOK_MARK;
    size_t n = sizeof(head) - 1;
    return len > n && !memcmp(data, head, n) && data[n] >= '0' && data[n] <= '9';
}

/* -------------------------------------------------------- install, remove */

/* What lies at path: 0 nothing, 1 a hook dv wrote (its bytes in content), 2 anything else. */
static int hook_kind(int *kind, dv_buf *content, const char *path)
{
    struct stat st;
    *kind = 0;
    dv_buf_clear(content);
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return dv_error_errno("cannot stat %s", path);
    }
    if (S_ISDIR(st.st_mode))
        return dv_error_set(DV_EUSAGE, "%s is a directory, not a hook (move it away)", path);
    *kind = 2;
    if (!S_ISREG(st.st_mode) || st.st_size > DV_HOOKS_MAX_BYTES)
        return 0;
    int error = dv_fs_read_file(content, path, DV_HOOKS_MAX_BYTES);
    if (error == DV_EUSAGE) { /* grew past the limit: not ours */
        dv_error_clear();
        return 0;
    }
    if (error < 0)
        return error;
    if (dv_hooks_is_ours(content->ptr, content->len))
        *kind = 1;
    return 0;
}

/* Write a hook file: temp file beside it, mode 0755 whatever the umask, fsync, rename. */
static int write_hook(const char *path, const dv_buf *script)
{
    dv_buf tmp = DV_BUF_INIT;
    int fd = -1, error;
    if ((error = dv_fs_tmpfile(&fd, &tmp, path, 0755)) < 0)
        goto done;
    if (fchmod(fd, 0755) < 0) {
        error = dv_error_errno("cannot make %s executable", tmp.ptr);
        close(fd);
        dv_fs_tmp_discard(tmp.ptr);
        goto done;
    }
    if ((error = dv_fs_write_all(fd, script->ptr, script->len, tmp.ptr)) < 0) {
        close(fd);
        dv_fs_tmp_discard(tmp.ptr);
        goto done;
    }
    error = dv_fs_commit_tmp(fd, tmp.ptr, path, DV_FS_DURABLE);
done:
    dv_buf_release(&tmp);
    return error;
}

static int rename_durably(const char *from, const char *to)
{
    if (rename(from, to) < 0)
        return dv_error_errno("cannot rename %s to %s", from, to);
    return dv_fs_fsync_parent(to);
}

static int install_one(int *action, const char *dir, const char *name, const char *dv_bin)
{
    dv_buf path = DV_BUF_INIT, chained = DV_BUF_INIT, content = DV_BUF_INIT, script = DV_BUF_INIT;
    int error, kind, chained_kind;
    if ((error = dv_buf_joinpath(&path, dir, name)) < 0 ||
        (error = dv_buf_printf(&chained, "%s" DV_HOOKS_CHAINED_SUFFIX, path.ptr)) < 0 ||
        (error = dv_hooks_script(&script, name, dv_bin)) < 0 ||
        (error = hook_kind(&kind, &content, path.ptr)) < 0)
        goto done;
    if (kind == 1) {
        if (content.len == script.len && !memcmp(content.ptr, script.ptr, script.len)) {
            *action = DV_HOOK_UNCHANGED;
            goto done;
        }
        *action = DV_HOOK_UPDATED;
    } else if (kind == 2) {
        if ((error = hook_kind(&chained_kind, &content, chained.ptr)) < 0)
            goto done;
        if (chained_kind) {
            error = dv_error_set(DV_EEXISTS,
                                 "%s is not dv's hook and %s exists too; move one of them away, "
                                 "then run dv install-hooks again",
                                 path.ptr, chained.ptr);
            goto done;
        }
        if ((error = rename_durably(path.ptr, chained.ptr)) < 0)
            goto done;
        *action = DV_HOOK_CHAINED;
    } else {
        *action = DV_HOOK_INSTALLED;
    }
    if ((error = write_hook(path.ptr, &script)) < 0 && *action == DV_HOOK_CHAINED) {
        /* Put the user's hook back where it was: no hook lost, none half installed. */
        int saved = error;
        if (rename_durably(chained.ptr, path.ptr) < 0)
            error = dv_error_wrap(saved, "%s is now at %s", path.ptr, chained.ptr);
        else
            error = saved;
    }
done:
    dv_buf_release(&path);
    dv_buf_release(&chained);
    dv_buf_release(&content);
    dv_buf_release(&script);
    return error;
}

static int report_start(dv_hooks_report *out, dv_repo *repo)
{
    dv_buf dir = DV_BUF_INIT;
    memset(out, 0, sizeof(*out));
    int error = dv_hooks_dir(&dir, repo);
    if (!error && !(out->dir = dv_buf_detach(&dir)))
        error = dv_error_set(DV_ENOMEM, "out of memory");
    dv_buf_release(&dir);
    return error;
}

int dv_hooks_install(dv_hooks_report *out, dv_repo *repo, int pre_push, const char *dv_bin)
{
    int error = report_start(out, repo);
    if (!error)
        error = dv_fs_mkdir_p(out->dir, 0755);
    for (size_t i = 0; i < DV_HOOKS_COUNT && !error; i++) {
        const char *name = dv_hooks_names[i];
        if (!strcmp(name, "pre-push") && !pre_push)
            continue;
        int action = 0;
        if ((error = install_one(&action, out->dir, name, dv_bin)) < 0)
            break;
        out->hooks[out->n].name = name;
        out->hooks[out->n++].action = action;
    }
    return error;
}

static int uninstall_one(int *action, const char *dir, const char *name)
{
    dv_buf path = DV_BUF_INIT, chained = DV_BUF_INIT, content = DV_BUF_INIT;
    int error, kind;
    struct stat st;
    if ((error = dv_buf_joinpath(&path, dir, name)) < 0 ||
        (error = dv_buf_printf(&chained, "%s" DV_HOOKS_CHAINED_SUFFIX, path.ptr)) < 0 ||
        (error = hook_kind(&kind, &content, path.ptr)) < 0)
        goto done;
    if (kind == 2) {
        *action = DV_HOOK_NOT_OURS;
        goto done;
    }
    int has_chained = lstat(chained.ptr, &st) == 0;
    if (!has_chained && errno != ENOENT) {
        error = dv_error_errno("cannot stat %s", chained.ptr);
        goto done;
    }
    if (has_chained) {
        /* rename over dv's hook: at no instant is there no hook */
        if ((error = rename_durably(chained.ptr, path.ptr)) < 0)
            goto done;
        *action = DV_HOOK_RESTORED;
    } else if (kind == 1) {
        if (unlink(path.ptr) < 0) {
            error = dv_error_errno("cannot remove %s", path.ptr);
            goto done;
        }
        error = dv_fs_fsync_parent(path.ptr);
        *action = DV_HOOK_REMOVED;
    } else {
        *action = DV_HOOK_ABSENT;
    }
done:
    dv_buf_release(&path);
    dv_buf_release(&chained);
    dv_buf_release(&content);
    return error;
}

int dv_hooks_uninstall(dv_hooks_report *out, dv_repo *repo)
{
    int error = report_start(out, repo);
    for (size_t i = 0; i < DV_HOOKS_COUNT && !error; i++) {
        int action = 0;
        if ((error = uninstall_one(&action, out->dir, dv_hooks_names[i])) < 0)
            break;
        out->hooks[out->n].name = dv_hooks_names[i];
        out->hooks[out->n++].action = action;
    }
    return error;
}

/* ------------------------------------------------------------ when to run */

static int is_pointer_path(const char *path)
{
    size_t len = path ? strlen(path) : 0, suffix = strlen(DV_POINTER_SUFFIX);
    return len > suffix && !strcmp(path + len - suffix, DV_POINTER_SUFFIX) &&
           strncmp(path, DV_DIR_NAME "/", strlen(DV_DIR_NAME) + 1);
}

static int is_null_id(const char *rev)
{
    size_t len = strlen(rev);
    if (len != GIT_OID_HEXSZ && len != 64)
        return 0;
    return strspn(rev, "0") == len;
}

int dv_hooks_pointers_changed(int *changed, dv_repo *repo, const char *rev)
{
    git_object *before = NULL;
    git_tree *tree = NULL;
    git_index *index = NULL;
    git_diff *diff = NULL;
    git_diff_options opts;
    int error = 0;
    *changed = 1;
    if (is_null_id(rev))
        return 0;
    if (git_revparse_single(&before, repo->git, rev) < 0 ||
        git_object_peel((git_object **)&tree, before, GIT_OBJECT_TREE) < 0) {
        /* Not a commit we can read: compare with nothing, so every pointer counts. */
        dv_error_clear();
        goto done;
    }
    if (git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION) < 0 ||
        git_repository_index(&index, repo->git) < 0 || git_index_read(index, 0) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot read git's index");
        goto done;
    }
    opts.flags |= GIT_DIFF_IGNORE_SUBMODULES;
    if (git_diff_tree_to_index(&diff, repo->git, tree, index, &opts) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot compare git's index with a commit");
        goto done;
    }
    *changed = 0;
    size_t n = git_diff_num_deltas(diff);
    for (size_t i = 0; i < n && !*changed; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        *changed = is_pointer_path(d->old_file.path) || is_pointer_path(d->new_file.path);
    }
done:
    git_diff_free(diff);
    git_index_free(index);
    git_tree_free(tree);
    git_object_free(before);
    return error;
}

int dv_hooks_should_sync(int *sync, dv_repo *repo, const char *name, int argc,
                         const char *const *args)
{
    *sync = 0;
    if (!strcmp(name, "post-checkout")) {
        if (argc != 3)
            return dv_error_set(DV_EUSAGE, "post-checkout takes three arguments, not %d", argc);
        if (strcmp(args[2], "1")) /* a checkout of files, not of a branch */
            return 0;
        return dv_hooks_pointers_changed(sync, repo, args[0]);
    }
    if (!strcmp(name, "post-merge")) {
        if (argc != 1)
            return dv_error_set(DV_EUSAGE, "post-merge takes one argument, not %d", argc);
        return dv_hooks_pointers_changed(sync, repo, "ORIG_HEAD");
    }
    if (!strcmp(name, "post-rewrite")) {
        if (argc < 1)
            return dv_error_set(DV_EUSAGE, "post-rewrite takes the command that rewrote");
        /* After a rebase, ORIG_HEAD is the old tip, but the rebase's own post-checkout
         * already moved the data to the new base: only the work tree can say what is left. */
        if (!strcmp(args[0], "rebase"))
            *sync = 1;
        else if (strcmp(args[0], "amend"))
            return dv_error_set(DV_EUSAGE, "post-rewrite after '%s'?", args[0]);
        return 0;
    }
    return dv_error_set(DV_EUSAGE, "'%s' is not a hook dv runs", name);
}

/* ------------------------------------------------------------------ sync */

void dv_hooks_sync_result_free(dv_hooks_sync_result *r)
{
    if (!r)
        return;
    free(r->remote);
    free(r->fetch_error);
    free(r->checkout_error);
    dv_path_list_free(&r->lacking);
    dv_path_list_free(&r->conflicts);
    dv_path_list_free(&r->problems);
    dv_checkout_result_free(&r->checkout);
    memset(r, 0, sizeof(*r));
}

static int differs(const dv_status_path *p)
{
    return p->state == DV_STATE_MISSING || p->state == DV_STATE_MODIFIED;
}

/* The last error's message into *out (malloc'd). */
static int keep_message(char **out)
{
    free(*out);
    if (!(*out = strdup(dv_error_last())))
        return dv_error_set(DV_ENOMEM, "out of memory");
    dv_error_clear();
    return 0;
}

/* Fetch what the store lacks of the paths in lacking from the default remote, if any. */
static int fetch_lacking(dv_hooks_sync_result *out, dv_repo *repo, const dv_path_list *lacking)
{
    char *name = NULL;
    dv_remote *remote = NULL;
    dv_transfer_result tr;
    dv_transfer_options topts = {0};
    int error = dv_remoteconf_default(&name, repo);
    if (error == DV_EUSAGE) {
        out->no_remote = 1;
        dv_error_clear();
        return 0;
    }
    if (error == DV_ENOMEM)
        return error;
    if (error < 0)
        return keep_message(&out->fetch_error);
    out->remote = name;
    if ((error = dv_remoteconf_open(&remote, repo, name)) < 0)
        return error == DV_ENOMEM ? error : keep_message(&out->fetch_error);
    error = dv_fetch(&tr, repo, remote, (const char *const *)lacking->paths, lacking->n, &topts);
    if (error == DV_ENOMEM)
        goto done;
    if (error < 0) {
        error = keep_message(&out->fetch_error);
        goto done;
    }
    out->objects_fetched = tr.objects_moved;
    out->bytes_fetched = tr.bytes_moved;
done:
    dv_transfer_result_free(&tr);
    dv_remote_free(remote);
    return error;
}

/* Drop from targets each path that holds one of the conflicts. */
static void drop_conflicting(dv_path_list *targets, const dv_path_list *conflicts)
{
    size_t kept = 0;
    for (size_t i = 0; i < targets->n; i++) {
        const char *t = targets->paths[i];
        size_t len = strlen(t);
        int hit = 0;
        for (size_t k = 0; k < conflicts->n && !hit; k++) {
            const char *c = conflicts->paths[k];
            hit = !strncmp(c, t, len) && (c[len] == '\0' || c[len] == '/');
        }
        if (hit)
            free(targets->paths[i]);
        else
            targets->paths[kept++] = targets->paths[i];
    }
    targets->n = kept;
}

/* Check out targets, never forced; paths with unsaved changes are listed and left, and
 * the others are checked out all the same. */
static int checkout_targets(dv_hooks_sync_result *out, dv_repo *repo, dv_path_list *targets)
{
    dv_checkout_options copts = {0};
    int error = 0;
    for (int attempt = 0; attempt < 3 && targets->n; attempt++) {
        dv_checkout_result_free(&out->checkout);
        error = dv_checkout(&out->checkout, repo, (const char *const *)targets->paths, targets->n,
                            &copts);
        if (error != DV_ECONFLICT)
            break;
        for (size_t i = 0; i < out->checkout.conflicts.n && error != DV_ENOMEM; i++)
            if (dv_path_list_add(&out->conflicts, out->checkout.conflicts.paths[i]) < 0)
                error = DV_ENOMEM;
        if (error == DV_ENOMEM)
            return error;
        drop_conflicting(targets, &out->checkout.conflicts);
        dv_checkout_result_free(&out->checkout);
        dv_error_clear();
        error = 0;
    }
    for (size_t i = 0; i < out->checkout.bad_pointers.n && error != DV_ENOMEM; i++)
        if (dv_path_list_add(&out->problems, out->checkout.bad_pointers.paths[i]) < 0)
            error = DV_ENOMEM;
    if (error < 0 && error != DV_ENOMEM)
        error = keep_message(&out->checkout_error);
    return error;
}

int dv_hooks_sync(dv_hooks_sync_result *out, dv_repo *repo)
{
    dv_status_report status = {0};
    dv_path_list targets = {0}, lacking = {0};
    int error;
    memset(out, 0, sizeof(*out));
    if ((error = dv_status(&status, repo, NULL, 0)) < 0)
        goto done;
    for (size_t i = 0; i < status.n && !error; i++)
        if (differs(&status.paths[i]) && !status.paths[i].in_store)
            error = dv_path_list_add(&lacking, status.paths[i].path);
    if (error < 0)
        goto done;
    if (lacking.n) {
        if ((error = fetch_lacking(out, repo, &lacking)) < 0)
            goto done;
        dv_status_report_free(&status);
        if ((error = dv_status(&status, repo, NULL, 0)) < 0)
            goto done;
    }
    for (size_t i = 0; i < status.n && !error; i++) {
        const dv_status_path *p = &status.paths[i];
        if (p->state == DV_STATE_BAD_POINTER || p->state == DV_STATE_ERROR)
            error = dv_path_list_add(&out->problems, p->message ? p->message : p->pointer);
        else if (differs(p))
            error = dv_path_list_add(p->in_store ? &targets : &out->lacking, p->path);
    }
    if (error < 0)
        goto done;
    error = checkout_targets(out, repo, &targets);
done:
    dv_status_report_free(&status);
    dv_path_list_free(&targets);
    dv_path_list_free(&lacking);
    if (error < 0)
        dv_hooks_sync_result_free(out);
    return error;
}
