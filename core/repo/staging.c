/* staging: a command's private directory in the cache, swept when its owner died. */
#include "core/repo/staging.h"

#include "core/base/fs.h"
#include "core/base/wtfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Remove the staging directories under base that nobody holds (killed commands' leftovers). */
static void sweep_staging(const char *base)
{
    int base_fd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (base_fd < 0)
        return;
    DIR *dir = fdopendir(base_fd);
    if (!dir) {
        close(base_fd);
        return;
    }
    struct dirent *de;
    time_t now = time(NULL);
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            continue;
        if (fstat(fd, &st) == 0 && now - st.st_mtime >= DV_STAGING_STALE_SECONDS &&
            flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            dv_wtfs_remove_tree(dirfd(dir), de->d_name, de->d_name) < 0)
            dv_error_clear(); /* the next command tries again */
        close(fd);
    }
    closedir(dir);
}

int dv_staging_make(dv_staging *s, dv_repo *repo, const char *kind)
{
    int error;
    if ((error = dv_buf_joinpath(&s->base, repo->cache_dir.ptr, kind)) < 0 ||
        (error = dv_fs_mkdir_p(s->base.ptr, 0755)) < 0)
        return error;
    sweep_staging(s->base.ptr);
    if ((error = dv_buf_printf(&s->dir, "%s/XXXXXX", s->base.ptr)) < 0)
        return error;
    if (!mkdtemp(s->dir.ptr)) {
        error = dv_error_errno("cannot create a directory in %s", s->base.ptr);
        dv_buf_clear(&s->dir);
        return error;
    }
    s->lock_fd = open(s->dir.ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX) < 0)
        return dv_error_errno("cannot lock %s", s->dir.ptr);
    return 0;
}

void dv_staging_remove(dv_staging *s)
{
    if (s->dir.len) {
        const char *name = strrchr(s->dir.ptr, '/') + 1;
        int base_fd = open(s->base.ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        dv_error_state kept;
        int code = dv_error_state_capture(&kept, dv_error_last_code());
        if (base_fd >= 0 && dv_wtfs_remove_tree(base_fd, name, s->dir.ptr) < 0) {
            /* left for the sweep of a later command; the command's own message stays */
        }
        if (!code || dv_error_state_restore(&kept) == 0)
            dv_error_clear();
        if (base_fd >= 0)
            close(base_fd);
    }
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    dv_buf_release(&s->base);
    dv_buf_release(&s->dir);
}
