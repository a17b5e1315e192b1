/* import: an archive stored as a tracked directory, all of it or nothing (import.h). */
#include "core/ops/import.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/pathname.h"
#include "core/base/pool.h"
#include "core/base/wtfs.h"
#include "core/data/archive_read.h"
#include "core/data/ingest.h"
#include "core/object/pointer.h"
#include "core/ops/status.h"
#include "core/repo/staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the destination ---- */

/* What dv add would refuse of the path itself (it need not exist). */
static int check_trackable(dv_repo *repo, const char *dest)
{
    size_t len = strlen(dest), suffix = strlen(DV_POINTER_SUFFIX);
    if (!len)
        return dv_error_set(DV_EUSAGE, "cannot import into the top of the work tree; name a "
                                       "directory to import into");
    if (len > suffix && !strcmp(dest + len - suffix, DV_POINTER_SUFFIX))
        return dv_error_set(
            DV_EUSAGE, "%s looks like a pointer file; name the directory to import into", dest);
    size_t bad_at, bad_len;
    const char *problem = dv_pathname_check_path(dest, &bad_at, &bad_len);
    if (problem)
        return dv_error_set(DV_EUSAGE, "cannot import into %s: '%.*s' %s", dest, (int)bad_len,
                            dest + bad_at, problem);
    int error = 0;
    dv_buf parent = DV_BUF_INIT;
    for (size_t cut = len; cut > 0 && !error; cut--) {
        if (dest[cut - 1] != '/')
            continue;
        dv_buf_clear(&parent);
        if ((error = dv_buf_put(&parent, dest, cut - 1)) < 0 ||
            (error = dv_buf_puts(&parent, DV_POINTER_SUFFIX)) < 0)
            break;
        int inside = dv_repo_git_tracks(repo, parent.ptr);
        if (inside < 0) {
            error = inside;
        } else if (inside) {
            parent.ptr[cut - 1] = '\0';
            error = dv_error_set(DV_EUSAGE, "%s is inside %s, which dv already tracks", dest,
                                 parent.ptr);
        }
    }
    dv_buf_release(&parent);
    if (error < 0)
        return error;
    int tracked = dv_repo_git_tracks(repo, dest);
    if (tracked < 0)
        return tracked;
    if (tracked)
        return dv_error_set(DV_EUSAGE,
                            "%s is tracked by git; run 'git rm -r --cached %s' first so that "
                            "dv can track it instead",
                            dest, dest);
    return 0;
}

/* 1 when the tracked path dest's work-tree data is what its pointer names (or absent). */
static int unchanged(dv_repo *repo, const char *dest)
{
    dv_status_report report = {NULL, 0, 0};
    const char *filters[] = {dest};
    int error = dv_status(&report, repo, filters, 1);
    if (error < 0)
        return error;
    int same = 1;
    for (size_t i = 0; i < report.n; i++) {
        int state = report.paths[i].state;
        if (strcmp(report.paths[i].path, dest) ||
            (state != DV_STATE_CLEAN && state != DV_STATE_MISSING && state != DV_STATE_ON_REMOTE))
            same = 0;
    }
    if (!report.n)
        same = 0;
    dv_status_report_free(&report);
    return same;
}

int dv_import_check_dest(dv_repo *repo, const char *dest, int force)
{
    int error;
    if ((error = check_trackable(repo, dest)) < 0)
        return error;
    struct stat st;
    dv_buf pointer = DV_BUF_INIT;
    int exists = 0, pointer_exists = 0, tracked = 0;
    /* a symlink on the way is refused here, as dv add refuses to add beyond one */
    error = dv_wtfs_lstat(&st, repo->workdir_fd, dest);
    if (error == 0)
        exists = 1;
    else if (error == DV_ENOTFOUND)
        dv_error_clear();
    else
        goto done;
    if ((error = dv_buf_printf(&pointer, "%s%s", dest, DV_POINTER_SUFFIX)) < 0)
        goto done;
    error = dv_wtfs_lstat(&st, repo->workdir_fd, pointer.ptr);
    if (error == 0)
        pointer_exists = 1;
    else if (error == DV_ENOTFOUND)
        dv_error_clear();
    else
        goto done;
    if ((tracked = dv_repo_git_tracks(repo, pointer.ptr)) < 0) {
        error = tracked;
        goto done;
    }
    error = 0;
    if ((!exists && !pointer_exists && !tracked) || force)
        goto done;
    if (!tracked) {
        error = dv_error_set(DV_ECONFLICT,
                             "%s already exists and dv does not track it (move it away, or use "
                             "--force to replace it)",
                             exists ? dest : pointer.ptr);
        goto done;
    }
    int same = unchanged(repo, dest);
    if (same < 0) {
        error = same;
        goto done;
    }
    if (!same)
        error = dv_error_set(DV_ECONFLICT,
                             "%s has changes that %s does not record (run dv add %s to keep them, "
                             "or use --force to replace them)",
                             dest, pointer.ptr, dest);
done:
    dv_buf_release(&pointer);
    return error;
}

/* ---- the import ---- */

/*
 * The archive at fd into a tree. A pipe is read as it comes, but for a zip archive: its
 * entries' types and modes (symlinks, exec bits) are only in the central directory at its
 * end, so it is first copied whole into the staging directory and read from there.
 */
static int read_archive(dv_archive_result *ar, dv_staging *s, int fd, const char *name, dv_ingest *ing,
                        dv_odb *stage_odb)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) >= 0)
        return dv_archive_read_fd(ar, fd, name, ing, stage_odb);
    uint8_t start[DV_ARCHIVE_MAGIC_BYTES];
    size_t got = 0;
    int error = dv_fs_read_full(fd, start, sizeof(start), &got, name);
    if (error < 0)
        return error;
    if (!dv_archive_is_zip(start, got))
        return dv_archive_read_stream(ar, start, got, fd, name, ing, stage_odb);
    dv_buf path = DV_BUF_INIT;
    int copy = -1;
    uint8_t *buf = malloc(1u << 20);
    if (!buf) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = dv_buf_printf(&path, "%s/archive.zip", s->dir.ptr)) < 0)
        goto done;
    copy = open(path.ptr, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (copy < 0) {
        error = dv_error_errno("cannot create %s", path.ptr);
        goto done;
    }
    if ((error = dv_fs_write_all(copy, start, got, path.ptr)) < 0)
        goto done;
    for (;;) {
        size_t n = 0;
        if ((error = dv_fs_read_full(fd, buf, 1u << 20, &n, name)) < 0 ||
            (error = dv_fs_write_all(copy, buf, n, path.ptr)) < 0 || n < (1u << 20))
            break;
    }
    if (error == 0 && lseek(copy, 0, SEEK_SET) < 0)
        error = dv_error_errno("cannot read %s", path.ptr);
    if (error == 0)
        error = dv_archive_read_fd(ar, copy, name, ing, stage_odb);
done:
    if (copy >= 0)
        close(copy);
    free(buf);
    dv_buf_release(&path);
    return error;
}

static int write_pointer(int *written, dv_repo *repo, const char *dest, const dv_archive_result *ar)
{
    dv_pointer p = {0};
    p.version = DV_POINTER_VERSION;
    p.kind = DV_KIND_DIR;
    p.oid = ar->id;
    p.size = ar->size;
    p.files = ar->files;
    dv_buf text = DV_BUF_INIT, path = DV_BUF_INIT;
    int error;
    if ((error = dv_pointer_format(&text, &p)) == 0 &&
        (error = dv_buf_printf(&path, "%s%s", dest, DV_POINTER_SUFFIX)) == 0)
        error =
            dv_repo_write_pointer_text(written, repo, path.ptr, text.ptr, text.len, DV_WTFS_CREATE);
    dv_buf_release(&text);
    dv_buf_release(&path);
    return error;
}

static int stage(dv_repo *repo, const char *dest)
{
    dv_buf pointer = DV_BUF_INIT, ignore = DV_BUF_INIT;
    int changed, error;
    if ((error = dv_buf_printf(&pointer, "%s%s", dest, DV_POINTER_SUFFIX)) == 0 &&
        (error = dv_repo_ignore(&changed, &ignore, repo, dest)) == 0) {
        const char *paths[] = {pointer.ptr, ignore.ptr};
        error = dv_repo_stage(repo, paths, ignore.len ? 2 : 1);
    }
    dv_buf_release(&pointer);
    dv_buf_release(&ignore);
    return error;
}

int dv_import(dv_import_result *result, dv_repo *repo, int fd, const char *name, const char *dest,
              const dv_import_options *opts)
{
    int error;
    dv_odb *odb = NULL, *stage_odb = NULL;
    dv_pool *pool = NULL;
    dv_ingest *ing = NULL;
    dv_staging s = DV_STAGING_INIT;
    dv_archive_result ar;
    memset(result, 0, sizeof(*result));

    if ((error = dv_import_check_dest(repo, dest, opts && opts->force)) < 0 ||
        (error = dv_repo_odb(&odb, repo)) < 0 || (error = dv_odb_remove_stale_tmp(odb)) < 0 ||
        (error = dv_repo_clean_tmp(repo)) < 0 || (error = dv_staging_make(&s, repo, DV_IMPORT_STAGING_DIR)) < 0)
        goto done;
    /* Everything the archive brings goes to a store of its own; what the store has already
     * is found there and not stored again. */
    dv_odb_options stage_opts = {repo->compression_level, repo->pack_target_bytes};
    if ((error = dv_odb_open(&stage_odb, s.dir.ptr, &stage_opts)) < 0)
        goto done;
    dv_odb_set_alternate(stage_odb, odb, NULL, NULL);
    if ((error = dv_pool_new(&pool, dv_pool_default_threads())) < 0 ||
        (error = dv_ingest_new(&ing, stage_odb, &repo->chunk_params, pool)) < 0)
        goto done;
    if ((error = read_archive(&ar, &s, fd, name, ing, stage_odb)) < 0 ||
        (error = dv_odb_flush(stage_odb)) < 0)
        goto done;
    dv_odb_stats st;
    dv_odb_stats_get(stage_odb, &st);
    /* The commit point of the store: the packs join it whole, each index after its pack. */
    result->stored = 1;
    if ((error = dv_odb_adopt_packs(odb, stage_odb)) < 0 ||
        (error = write_pointer(&result->pointer_written, repo, dest, &ar)) < 0 ||
        (error = stage(repo, dest)) < 0)
        goto done;
    result->entries = ar.entries;
    result->files = ar.files;
    result->dirs = ar.dirs;
    result->bytes = ar.size;
    result->bytes_stored = st.stored_bytes_added;
done:
    dv_ingest_free(ing);
    dv_pool_free(pool);
    dv_odb_free(stage_odb);
    dv_staging_remove(&s);
    return error;
}
