/* add: store work-tree paths and record them in pointer files. */
#include "core/ops/add.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/pathname.h"
#include "core/base/wtfs.h"
#include "core/object/pointer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int measure(uint64_t *bytes, dv_buf *path)
{
    struct stat st;
    if (lstat(path->ptr, &st) < 0)
        return 0;
    if (S_ISREG(st.st_mode)) {
        *bytes += (uint64_t)st.st_size;
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0;
    DIR *dir = opendir(path->ptr);
    if (!dir)
        return 0;
    size_t len = path->len;
    struct dirent *de;
    int error = 0;
    while (!error && (de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            dv_worktree_skip_name(de->d_name))
            continue;
        if ((error = dv_buf_printf(path, "/%s", de->d_name)) < 0)
            break;
        error = measure(bytes, path);
        dv_buf_truncate(path, len);
    }
    closedir(dir);
    return error;
}

int dv_add_measure(uint64_t *bytes, dv_repo *repo, const char *const *relpaths, size_t n)
{
    dv_buf path = DV_BUF_INIT;
    int error = 0;
    *bytes = 0;
    for (size_t i = 0; i < n && !error; i++)
        if (!(error = dv_repo_abspath(&path, repo, relpaths[i])))
            error = measure(bytes, &path);
    dv_buf_release(&path);
    return error;
}

static int check_addable(dv_repo *repo, const char *relpath, struct stat *st)
{
    int error = 0;
    size_t len = strlen(relpath);
    size_t suffix = strlen(DV_POINTER_SUFFIX);
    if (!len) {
        error = dv_error_set(DV_EUSAGE, "cannot add the top of the work tree itself; "
                                        "add the files or directories in it");
        goto done;
    }
    if (len > suffix && !strcmp(relpath + len - suffix, DV_POINTER_SUFFIX)) {
        error = dv_error_set(
            DV_EUSAGE, "%s looks like a pointer file; add the data path it names instead", relpath);
        goto done;
    }
    size_t bad_at, bad_len;
    const char *problem = dv_pathname_check_path(relpath, &bad_at, &bad_len);
    if (problem) {
        error = dv_error_set(DV_EUSAGE, "cannot add %s: '%.*s' %s", relpath, (int)bad_len,
                             relpath + bad_at, problem);
        goto done;
    }
    /* As git refuses to add a path beyond a symbolic link: what is stored and the pointer
     * and .gitignore written beside it stay inside the work tree. */
    error = dv_wtfs_lstat(st, repo->workdir_fd, relpath);
    if (error == DV_ENOTFOUND)
        error = dv_error_set(DV_EUSAGE, "%s does not exist", relpath);
    if (error < 0)
        goto done;
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode)) {
        error = dv_error_set(DV_EUSAGE, "%s is not a regular file, directory or symlink", relpath);
        goto done;
    }
    /* A path inside a tracked directory belongs to that directory's pointer. */
    for (size_t cut = len; cut > 0; cut--) {
        if (relpath[cut - 1] != '/')
            continue;
        dv_buf parent = DV_BUF_INIT;
        if ((error = dv_buf_put(&parent, relpath, cut - 1)) < 0 ||
            (error = dv_buf_puts(&parent, DV_POINTER_SUFFIX)) < 0) {
            dv_buf_release(&parent);
            goto done;
        }
        int inside = dv_repo_git_tracks(repo, parent.ptr);
        if (inside > 0) {
            parent.ptr[cut - 1] = '\0';
            error = dv_error_set(DV_EUSAGE,
                                 "%s is inside %s, which dv already tracks; run dv add %s instead",
                                 relpath, parent.ptr, parent.ptr);
        }
        dv_buf_release(&parent);
        if (error < 0 || inside < 0) {
            error = error < 0 ? error : inside;
            goto done;
        }
    }
    int tracked = dv_repo_git_tracks(repo, relpath);
    if (tracked < 0) {
        error = tracked;
        goto done;
    }
    if (tracked)
        error = dv_error_set(DV_EUSAGE,
                             "%s is tracked by git; run 'git rm -r --cached %s' first so that "
                             "dv can track it instead",
                             relpath, relpath);
done:
    return error;
}

/* Write <relpath>.dv unless it already says exactly this. */
static int write_pointer(int *written, dv_repo *repo, const char *relpath, const dv_pointer *p)
{
    dv_buf text = DV_BUF_INIT, path = DV_BUF_INIT;
    int error;
    if ((error = dv_pointer_format(&text, p)) == 0 && (error = dv_buf_puts(&path, relpath)) == 0 &&
        (error = dv_buf_puts(&path, DV_POINTER_SUFFIX)) == 0)
        error = dv_repo_write_pointer_text(written, repo, path.ptr, text.ptr, text.len, 0);
    dv_buf_release(&text);
    dv_buf_release(&path);
    return error;
}

int dv_add(dv_add_result *result, dv_repo *repo, const char *const *relpaths, size_t n,
           const dv_add_options *opts)
{
    int error = 0;
    dv_worktree *wt = NULL;
    dv_worktree_item *items = NULL;
    dv_buf *stage = NULL;
    size_t n_stage = 0;
    memset(result, 0, sizeof(*result));
    dv_odb_stats before, after;

    if (!(items = calloc(n ? n : 1, sizeof(*items))) ||
        !(stage = calloc(2 * n + 1, sizeof(*stage)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < 2 * n + 1; i++)
        stage[i] = (dv_buf)DV_BUF_INIT;

    /* Check every path before storing anything. */
    struct stat *stats = calloc(n ? n : 1, sizeof(*stats));
    if (!stats) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n && !error; i++)
        error = check_addable(repo, relpaths[i], &stats[i]);
    if (error < 0) {
        free(stats);
        goto done;
    }

    dv_worktree_options wopts = {.store = 1,
                                 .progress = opts ? opts->progress : NULL,
                                 .progress_ctx = opts ? opts->progress_ctx : NULL,
                                 .warn = opts ? opts->warn : NULL,
                                 .warn_ctx = opts ? opts->warn_ctx : NULL};
    if ((error = dv_worktree_open(&wt, repo, &wopts)) < 0) {
        free(stats);
        goto done;
    }
    if ((error = dv_odb_remove_stale_tmp(dv_worktree_odb(wt))) < 0 ||
        (error = dv_repo_clean_tmp(repo)) < 0) {
        free(stats);
        goto done;
    }
    dv_odb_stats_get(dv_worktree_odb(wt), &before);
    for (size_t i = 0; i < n && !error; i++) {
        error = dv_worktree_scan(&items[i], wt, relpaths[i], &stats[i]);
        if (error < 0)
            error = dv_error_wrap(error, "cannot add %s", relpaths[i]);
    }
    free(stats);
    if (error < 0)
        goto done;
    /* Content first, durably; only then the pointers that name it. */
    if ((error = dv_odb_flush(dv_worktree_odb(wt))) < 0)
        goto done;
    dv_odb_stats_get(dv_worktree_odb(wt), &after);

    for (size_t i = 0; i < n; i++) {
        dv_pointer p = {0};
        p.version = DV_POINTER_VERSION;
        p.oid = items[i].id;
        p.size = items[i].size;
        switch (items[i].mode) {
        case DV_MODE_DIR:
            p.kind = DV_KIND_DIR;
            p.files = items[i].files;
            break;
        case DV_MODE_SYMLINK:
            p.kind = DV_KIND_SYMLINK;
            break;
        default:
            p.kind = DV_KIND_FILE;
            p.exec = items[i].mode == DV_MODE_EXEC;
        }
        int written, changed;
        if ((error = write_pointer(&written, repo, relpaths[i], &p)) < 0)
            goto done;
        result->pointers_written += (uint64_t)written;
        if ((error = dv_buf_printf(&stage[n_stage++], "%s%s", relpaths[i], DV_POINTER_SUFFIX)) <
                0 ||
            (error = dv_repo_ignore(&changed, &stage[n_stage], repo, relpaths[i])) < 0)
            goto done;
        if (stage[n_stage].len) /* else ignored by a rule in no .gitignore beside it */
            n_stage++;
        result->files += items[i].files;
        result->bytes += items[i].size;
    }
    const char **stage_paths = calloc(n_stage ? n_stage : 1, sizeof(*stage_paths));
    if (!stage_paths) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_stage; i++)
        stage_paths[i] = stage[i].ptr;
    error = dv_repo_stage(repo, stage_paths, n_stage);
    free(stage_paths);
    if (error < 0)
        goto done;
    if ((error = dv_worktree_save(wt)) < 0)
        goto done;

    dv_ingest_stats ist;
    dv_worktree_stats(wt, &ist);
    result->paths = n;
    result->bytes_read = ist.bytes_read;
    result->bytes_stored = after.stored_bytes_added - before.stored_bytes_added;
    result->bytes_reused = result->bytes > ist.bytes_new ? result->bytes - ist.bytes_new : 0;
done:
    dv_worktree_free(wt);
    free(items);
    if (stage)
        for (size_t i = 0; i < 2 * n + 1; i++)
            dv_buf_release(&stage[i]);
    free(stage);
    return error;
}
