/* repo: the repository context and the git glue. */
#include "core/repo/repo.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/tempfile.h"
#include "core/base/wtfs.h"
#include "core/object/pointer.h"
#include "core/repo/settings.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static int git_init_result;

static void git_init_once(void)
{
    git_init_result = git_libgit2_init();
    /* dv writes pointer files and indexes itself; libgit2's fsync of objects is unneeded
     * here and strict object creation checks cost time on every stage. */
}

int dv_repo_global_init(void)
{
    pthread_once(&git_once, git_init_once);
    if (git_init_result < 0)
        return dv_error_set(DV_ERROR, "cannot initialise libgit2");
    return 0;
}

int dv_repo_git_error(int code, const char *what)
{
    const git_error *e = git_error_last();
    return dv_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int dv_repo_discover_git(git_repository **out, const char *start_dir)
{
    int error;
    if ((error = dv_repo_global_init()) < 0)
        return error;
    git_repository *repo = NULL;
    int rc = git_repository_open_ext(&repo, start_dir, 0, NULL);
    if (rc == GIT_ENOTFOUND)
        return dv_error_set(DV_ENOREPO,
                            "not inside a git repository (run git init first, then dv init)");
    if (rc < 0)
        return dv_repo_git_error(DV_ENOREPO, "cannot open the git repository");
    if (git_repository_is_bare(repo)) {
        git_repository_free(repo);
        return dv_error_set(DV_ENOREPO,
                            "this is a bare git repository; dv needs a work tree (clone it first)");
    }
    *out = repo;
    return 0;
}

static int workdir_of(dv_buf *out, git_repository *git)
{
    const char *wd = git_repository_workdir(git);
    if (!wd)
        return dv_error_set(DV_ENOREPO, "the git repository has no work tree");
    char *real = realpath(wd, NULL);
    if (!real)
        return dv_error_errno("cannot resolve %s", wd);
    dv_buf_clear(out);
    int error = dv_buf_puts(out, real);
    free(real);
    while (!error && out->len > 1 && out->ptr[out->len - 1] == '/')
        dv_buf_truncate(out, out->len - 1);
    return error;
}

/* git add of the work-tree paths, or with unstage git rm --cached, in one index write. */
static int stage_paths(git_repository *git, const char *const *relpaths, size_t n, int unstage)
{
    git_index *index = NULL;
    int error = 0;
    if (git_repository_index(&index, git) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot open git's index");
    if (git_index_read(index, 0) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot read git's index");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unstage ? git_index_remove_bypath(index, relpaths[i])
                     : git_index_add_bypath(index, relpaths[i])) < 0) {
            error = dv_repo_git_error(DV_ERROR, relpaths[i]);
            error = dv_error_wrap(error, unstage ? "cannot remove from git's index"
                                                 : "cannot stage in git");
            goto done;
        }
    }
    if (git_index_write(index) < 0)
        error = dv_repo_git_error(DV_ERROR, "cannot write git's index");
done:
    git_index_free(index);
    return error;
}

static const char DV_GITIGNORE_TEXT[] = "# dv: local-only parts of .dv (the store, caches, locks)\n"
                                        "/cache/\n"
                                        "/tmp/\n"
                                        "/index\n"
                                        "/lock\n"
                                        "/config.local\n";

int dv_repo_init(int *already, dv_buf *top, const char *start_dir, const dv_chunk_params *params)
{
    int error;
    git_repository *git = NULL;
    dv_buf dv_dir = DV_BUF_INIT, path = DV_BUF_INIT, tmp = DV_BUF_INIT;
    *already = 0;
    if ((error = dv_chunk_params_check(params)) < 0)
        return error;
    if ((error = dv_repo_discover_git(&git, start_dir)) < 0)
        return error;
    if ((error = workdir_of(top, git)) < 0 ||
        (error = dv_buf_joinpath(&dv_dir, top->ptr, DV_DIR_NAME)) < 0 ||
        (error = dv_buf_joinpath(&path, dv_dir.ptr, "config")) < 0)
        goto done;
    if ((error = dv_fs_exists(path.ptr)) < 0)
        goto done;
    if (error == 1) {
        *already = 1;
        error = 0;
        goto done;
    }
    if ((error = dv_fs_mkdir_p(dv_dir.ptr, 0755)) < 0)
        goto done;
    /* Build the config in a temp file, then rename: a crash leaves no half config. */
    int fd;
    if ((error = dv_fs_tmpfile(&fd, &tmp, path.ptr, 0644)) < 0)
        goto done;
    close(fd);
    if ((error = dv_config_set_int_in_file(tmp.ptr, "core.version", DV_FORMAT_VERSION)) < 0 ||
        (error = dv_config_set_int_in_file(tmp.ptr, "chunking.min", params->min)) < 0 ||
        (error = dv_config_set_int_in_file(tmp.ptr, "chunking.avg", params->avg)) < 0 ||
        (error = dv_config_set_int_in_file(tmp.ptr, "chunking.max", params->max)) < 0) {
        dv_fs_tmp_discard(tmp.ptr);
        goto done;
    }
    if (rename(tmp.ptr, path.ptr) < 0) {
        error = dv_error_errno("cannot create %s", path.ptr);
        dv_fs_tmp_discard(tmp.ptr);
        goto done;
    }
    dv_tempfile_forget(tmp.ptr);
    if ((error = dv_buf_joinpath(&path, dv_dir.ptr, ".gitignore")) < 0 ||
        (error = dv_fs_write_atomic(path.ptr, DV_GITIGNORE_TEXT, sizeof(DV_GITIGNORE_TEXT) - 1,
                                    0644, DV_FS_DURABLE)) < 0 ||
        (error = dv_fs_fsync_dir(dv_dir.ptr)) < 0)
        goto done;
    const char *staged[] = {DV_DIR_NAME "/config", DV_DIR_NAME "/.gitignore"};
    error = stage_paths(git, staged, 2, 0);
done:
    dv_buf_release(&dv_dir);
    dv_buf_release(&path);
    dv_buf_release(&tmp);
    git_repository_free(git);
    return error;
}

/*
 * dv's own directories (.dv, .dv/cache, .dv/tmp) are its own: a symlink there, which a
 * commit can carry, would send dv's writes and deletes anywhere. Missing is fine unless
 * required; anything but a real directory is an error that says what to remove.
 */
static int own_dir(const char *path, const char *shown, int required)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT && !required)
            return 0;
        if (errno == ENOENT)
            return dv_error_set(DV_ENOREPO, "%s does not exist (run dv init)", path);
        return dv_error_errno("cannot stat %s", path);
    }
    if (S_ISDIR(st.st_mode))
        return 0;
    return dv_error_set(DV_EUSAGE,
                        "%s is %s, not a directory; dv keeps its own files there (remove %s; "
                        "to share a store between clones set cache.dir in .dv/config.local)",
                        path, S_ISLNK(st.st_mode) ? "a symbolic link" : "a file", shown);
}

/* The store of a linked worktree (git worktree add) is its main worktree's: one store for
 * every worktree of a repository, as git has one object database. 1 with out set when
 * start is a linked worktree whose main worktree has .dv, else 0. */
static int linked_worktree_store(dv_buf *out, git_repository *git)
{
    if (!git_repository_is_worktree(git))
        return 0;
    dv_buf main = DV_BUF_INIT;
    struct stat st;
    int error = dv_buf_puts(&main, git_repository_commondir(git));
    while (!error && main.len > 1 && main.ptr[main.len - 1] == '/')
        dv_buf_truncate(&main, main.len - 1);
    char *slash = error ? NULL : strrchr(main.ptr, '/');
    if (!slash || slash == main.ptr) {
        dv_buf_release(&main);
        return error;
    }
    dv_buf_truncate(&main, (size_t)(slash - main.ptr));
    if (!(error = dv_buf_joinpath(out, main.ptr, DV_DIR_NAME)) && lstat(out->ptr, &st) == 0 &&
        S_ISDIR(st.st_mode) && !(error = dv_buf_puts(out, "/cache")))
        error = 1;
    else if (!error)
        dv_buf_truncate(out, 0);
    dv_buf_release(&main);
    return error;
}

/* With settings_only, stop once the configuration is open: its values are not checked. */
static int open_repo(dv_repo **out, const char *start_dir, int settings_only)
{
    int error;
    int64_t v;
    char *cache_dir = NULL;
    dv_repo *repo = calloc(1, sizeof(*repo));
    if (!repo)
        return dv_error_set(DV_ENOMEM, "out of memory");
    repo->workdir = (dv_buf)DV_BUF_INIT;
    repo->dv_dir = (dv_buf)DV_BUF_INIT;
    repo->cache_dir = (dv_buf)DV_BUF_INIT;
    repo->workdir_fd = -1;
    if ((error = dv_repo_discover_git(&repo->git, start_dir)) < 0 ||
        (error = workdir_of(&repo->workdir, repo->git)) < 0 ||
        (error = dv_buf_joinpath(&repo->dv_dir, repo->workdir.ptr, DV_DIR_NAME)) < 0)
        goto fail;
    if ((repo->workdir_fd = open(repo->workdir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        error = dv_error_errno("cannot open the work tree %s", repo->workdir.ptr);
        goto fail;
    }
    if ((error = own_dir(repo->dv_dir.ptr, DV_DIR_NAME, 1)) < 0)
        goto fail;
    if ((error = dv_config_open(&repo->config, repo->dv_dir.ptr)) < 0) {
        if (error == DV_ENOREPO)
            error = dv_error_set(DV_ENOREPO, "dv is not initialised in %s (run dv init)",
                                 repo->workdir.ptr);
        goto fail;
    }
    if (settings_only) {
        *out = repo;
        return 0;
    }
    if ((error = dv_config_get_int(&v, repo->config, "core.version", DV_FORMAT_VERSION)) < 0)
        goto fail;
    if (v > DV_FORMAT_VERSION) {
        error = dv_error_set(DV_EUSAGE,
                             "this repository uses dv format %lld; upgrade dv to work with it",
                             (long long)v);
        goto fail;
    }
    dv_chunk_params def = dv_chunk_params_default();
    int64_t min, avg, max, level, target, min_pack, timeout_s;
    int from_env;
    dv_config *cfg = repo->config;
    if ((error = dv_config_get_int_range(&min, cfg, "chunking.min", def.min, DV_CHUNK_MIN_LIMIT,
                                         DV_CHUNK_MAX_LIMIT)) < 0 ||
        (error = dv_config_get_int_range(&avg, cfg, "chunking.avg", def.avg, DV_CHUNK_MIN_LIMIT,
                                         DV_CHUNK_MAX_LIMIT)) < 0 ||
        (error = dv_config_get_int_range(&max, cfg, "chunking.max", def.max, DV_CHUNK_MIN_LIMIT,
                                         DV_CHUNK_MAX_LIMIT)) < 0 ||
        (error = dv_config_get_int_range(&level, cfg, "pack.compressionLevel", 3,
                                         DV_COMPRESSION_LEVEL_MIN, DV_COMPRESSION_LEVEL_MAX)) < 0 ||
        (error = dv_config_get_int_range(&target, cfg, "pack.targetSize",
                                         (int64_t)DV_PACK_TARGET_BYTES_DEFAULT, 0,
                                         DV_PACK_TARGET_BYTES_MAX)) < 0 ||
        (error = dv_config_get_int_range(&min_pack, cfg, "pack.minSize",
                                         (int64_t)DV_PACK_MIN_BYTES_DEFAULT, 0,
                                         DV_PACK_TARGET_BYTES_MAX)) < 0 ||
        (error = dv_config_get_int_range(&timeout_s, cfg, "core.lockTimeout",
                                         DV_LOCK_TIMEOUT_MS_DEFAULT / 1000, 0,
                                         DV_LOCK_TIMEOUT_MAX_SECONDS)) < 0 ||
        (error = dv_config_env_int_range(&timeout_s, &from_env, "DV_LOCK_TIMEOUT", 0,
                                         DV_LOCK_TIMEOUT_MAX_SECONDS)) < 0)
        goto fail;
    repo->chunk_params.min = (uint32_t)min;
    repo->chunk_params.avg = (uint32_t)avg;
    repo->chunk_params.max = (uint32_t)max;
    if ((error = dv_chunk_params_check(&repo->chunk_params)) < 0) {
        error = dv_error_wrap(error, "%s/config", repo->dv_dir.ptr);
        goto fail;
    }
    repo->compression_level = (int)level;
    /* a pack goes to a remote in one request; S3 takes at most 5 GiB per PUT */
    repo->pack_target_bytes = target < (1 << 20) ? (1 << 20) : (uint64_t)target;
    repo->pack_min_bytes = (uint64_t)min_pack;
    repo->lock_timeout_ms = (long)(timeout_s * 1000);
    /* Where the store lives decides where dv writes and deletes: never taken from the
     * committed .dv/config, which anyone who can push to the repository controls. */
    const char *env_cache = getenv("DV_CACHE_DIR");
    if (env_cache && *env_cache && !(cache_dir = strdup(env_cache))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto fail;
    }
    if (!cache_dir &&
        (error = dv_config_get_string_uncommitted(&cache_dir, repo->config, "cache.dir")) < 0)
        goto fail;
    if (cache_dir && cache_dir[0] == '/')
        error = dv_buf_puts(&repo->cache_dir, cache_dir);
    else if (cache_dir)
        error = dv_buf_joinpath(&repo->cache_dir, repo->workdir.ptr, cache_dir);
    else if ((error = linked_worktree_store(&repo->cache_dir, repo->git)) == 1)
        error = own_dir(repo->cache_dir.ptr, "the main worktree's " DV_DIR_NAME "/cache", 0);
    else if (!error && !(error = dv_buf_joinpath(&repo->cache_dir, repo->dv_dir.ptr, "cache")))
        error = own_dir(repo->cache_dir.ptr, DV_DIR_NAME "/cache", 0);
    if (error < 0)
        goto fail;
    free(cache_dir);
    *out = repo;
    return 0;
fail:
    free(cache_dir);
    dv_repo_free(repo);
    return error;
}

int dv_repo_open(dv_repo **out, const char *start_dir)
{
    return open_repo(out, start_dir, 0);
}

int dv_repo_open_settings(dv_repo **out, const char *start_dir)
{
    return open_repo(out, start_dir, 1);
}

void dv_repo_free(dv_repo *repo)
{
    if (!repo)
        return;
    dv_odb_free(repo->odb);
    dv_lock_release(repo->store_lock);
    dv_lock_release(repo->lock);
    dv_config_free(repo->config);
    git_repository_free(repo->git);
    if (repo->workdir_fd >= 0)
        close(repo->workdir_fd);
    dv_buf_release(&repo->workdir);
    dv_buf_release(&repo->dv_dir);
    dv_buf_release(&repo->cache_dir);
    free(repo);
}

int dv_repo_odb(dv_odb **out, dv_repo *repo)
{
    if (!repo->odb) {
        dv_odb_options opts = {repo->compression_level, repo->pack_target_bytes};
        int error = dv_odb_open(&repo->odb, repo->cache_dir.ptr, &opts);
        if (error < 0)
            return error;
    }
    *out = repo->odb;
    return 0;
}

int dv_repo_partial_odb(dv_odb **out, dv_repo *repo, int create)
{
    dv_buf dir = DV_BUF_INIT;
    *out = NULL;
    int error = dv_buf_joinpath(&dir, repo->cache_dir.ptr, "partial");
    int exists = error < 0 || create ? 1 : dv_fs_exists(dir.ptr);
    if (exists < 0)
        error = exists;
    if (!error && exists)
        error = dv_odb_open(out, dir.ptr, NULL);
    dv_buf_release(&dir);
    return error;
}

int dv_repo_tmp_dir(dv_buf *out, dv_repo *repo)
{
    int error = dv_buf_joinpath(out, repo->dv_dir.ptr, "tmp");
    if (!error && mkdir(out->ptr, 0755) < 0 && errno != EEXIST)
        error = dv_error_errno("cannot create %s", out->ptr);
    if (!error)
        error = own_dir(out->ptr, DV_DIR_NAME "/tmp", 1);
    return error;
}

int dv_repo_tmp_fd(int *fd, dv_repo *repo)
{
    dv_buf dir = DV_BUF_INIT;
    int error = dv_repo_tmp_dir(&dir, repo);
    if (!error && (*fd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        error = dv_error_errno("cannot open %s", dir.ptr);
    dv_buf_release(&dir);
    return error;
}

int dv_repo_clean_tmp(dv_repo *repo)
{
    dv_buf dir = DV_BUF_INIT;
    int error = dv_repo_tmp_dir(&dir, repo);
    int fd = error ? -1 : open(dir.ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (!error && fd < 0)
        error = dv_error_errno("cannot open directory %s", dir.ptr);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (fd >= 0 && !d) {
        error = dv_error_errno("cannot read directory %s", dir.ptr);
        close(fd);
    }
    struct dirent *de;
    while (d && !error && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno == EISDIR) /* a directory an interrupted dv checkout was building */
            error = dv_wtfs_remove_tree(dirfd(d), de->d_name, de->d_name);
        else
            error = dv_error_errno("cannot remove %s/%s", dir.ptr, de->d_name);
    }
    if (d)
        closedir(d);
    dv_buf_release(&dir);
    return error;
}

void dv_repo_clean_tmp_after(dv_repo *repo, int error)
{
    dv_error_state kept;
    int code = dv_error_state_capture(&kept, error);
    /* the command's own error, if any, comes back; else the cleaning's is dropped */
    if (dv_repo_clean_tmp(repo) < 0 && dv_error_state_restore(&kept) == 0)
        dv_error_clear();
    (void)code;
}

int dv_repo_lock(dv_repo *repo, dv_lock_wait_fn on_wait, void *ctx)
{
    dv_buf path = DV_BUF_INIT;
    int error = dv_buf_joinpath(&path, repo->dv_dir.ptr, "lock");
    if (!error)
        error = dv_lock_acquire(&repo->lock, path.ptr, repo->lock_timeout_ms, on_wait, ctx);
    dv_buf_release(&path);
    return error;
}

int dv_repo_lock_store(dv_repo *repo, int exclusive, dv_lock_wait_fn on_wait, void *ctx)
{
    dv_buf path = DV_BUF_INIT;
    int error = dv_fs_mkdir_p(repo->cache_dir.ptr, 0755);
    if (!error)
        error = dv_buf_joinpath(&path, repo->cache_dir.ptr, DV_STORE_LOCK_NAME);
    if (!error)
        error = dv_lock_acquire_mode(&repo->store_lock, path.ptr, !exclusive, repo->lock_timeout_ms,
                                     on_wait, ctx);
    dv_buf_release(&path);
    return error;
}

/* Lexically normalise an absolute path: drop ".", "", resolve "..". */
static int normalise(dv_buf *out, const char *abs)
{
    dv_buf result = DV_BUF_INIT;
    int error = 0;
    const char *p = abs;
    while (*p) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - start);
        if (len == 0 || (len == 1 && start[0] == '.'))
            continue;
        if (len == 2 && start[0] == '.' && start[1] == '.') {
            char *slash = strrchr(result.ptr, '/');
            dv_buf_truncate(&result, slash ? (size_t)(slash - result.ptr) : 0);
            continue;
        }
        if ((error = dv_buf_putc(&result, '/')) < 0 ||
            (error = dv_buf_put(&result, start, len)) < 0)
            goto done;
    }
    if (!result.len)
        error = dv_buf_putc(&result, '/');
    if (!error) {
        dv_buf_release(out);
        *out = result;
        return 0;
    }
done:
    dv_buf_release(&result);
    return error;
}

static int cwd_abs(dv_buf *out)
{
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return dv_error_errno("cannot get the current directory");
    int error = dv_buf_set(out, cwd);
    free(cwd);
    return error;
}

/* Work-tree-relative form of an absolute normalised path, or DV_EUSAGE when outside. */
static int strip_workdir(dv_buf *out, const dv_repo *repo, const char *abs, const char *user_path)
{
    size_t wl = repo->workdir.len;
    const char *wd = repo->workdir.ptr;
    if (!strcmp(wd, "/")) {
        return dv_buf_set(out, abs + 1);
    }
    if (strncmp(abs, wd, wl) || (abs[wl] != '\0' && abs[wl] != '/'))
        return dv_error_set(DV_EUSAGE, "%s is outside the repository at %s", user_path, wd);
    return dv_buf_set(out, abs[wl] ? abs + wl + 1 : "");
}

int dv_repo_relpath(dv_buf *out, dv_repo *repo, const char *user_path)
{
    dv_buf abs = DV_BUF_INIT, norm = DV_BUF_INIT;
    int error;
    if (user_path[0] == '/')
        error = dv_buf_set(&abs, user_path);
    else if (!(error = cwd_abs(&abs)))
        error = dv_buf_printf(&abs, "/%s", user_path);
    if (error < 0 || (error = normalise(&norm, abs.ptr)) < 0 ||
        (error = strip_workdir(out, repo, norm.ptr, user_path)) < 0)
        goto done;
    const char *first_end = strchr(out->ptr, '/');
    size_t first_len = first_end ? (size_t)(first_end - out->ptr) : out->len;
    if ((first_len == 4 && !strncmp(out->ptr, ".git", 4)) ||
        (first_len == 3 && !strncmp(out->ptr, DV_DIR_NAME, 3)))
        error = dv_error_set(DV_EUSAGE, "%s is inside %.*s/, which dv does not manage", user_path,
                             (int)first_len, out->ptr);
done:
    dv_buf_release(&abs);
    dv_buf_release(&norm);
    return error;
}

int dv_repo_abspath(dv_buf *out, const dv_repo *repo, const char *relpath)
{
    dv_buf_clear(out);
    if (!relpath[0])
        return dv_buf_puts(out, repo->workdir.ptr);
    return dv_buf_printf(out, "%s/%s", strcmp(repo->workdir.ptr, "/") ? repo->workdir.ptr : "",
                         relpath);
}

int dv_repo_display_path(dv_buf *out, const dv_repo *repo, const char *relpath)
{
    dv_buf cwd = DV_BUF_INIT, cwd_rel = DV_BUF_INIT;
    int error;
    dv_buf_clear(out);
    if ((error = cwd_abs(&cwd)) < 0 || strip_workdir(&cwd_rel, repo, cwd.ptr, cwd.ptr) < 0) {
        /* Outside the work tree: show the work-tree path. */
        error = dv_buf_puts(out, relpath[0] ? relpath : ".");
        goto done;
    }
    /* Drop the leading components both share, then climb out of the rest of cwd. */
    const char *a = cwd_rel.ptr, *b = relpath;
    while (*a && *b) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        if (la != lb || memcmp(a, b, la))
            break;
        a += la + (a[la] == '/');
        b += lb + (b[lb] == '/');
    }
    int ups = 0;
    for (const char *p = a; *p; p += strcspn(p, "/"), p += (*p == '/'))
        ups++;
    for (int k = 0; k < ups && !error; k++)
        error = dv_buf_puts(out, k + 1 < ups || *b ? "../" : "..");
    if (!error && *b)
        error = dv_buf_puts(out, b);
    if (!error && !out->len)
        error = dv_buf_puts(out, ".");
done:
    dv_buf_release(&cwd);
    dv_buf_release(&cwd_rel);
    return error;
}

int dv_repo_stage(dv_repo *repo, const char *const *relpaths, size_t n)
{
    return stage_paths(repo->git, relpaths, n, 0);
}

int dv_repo_git_tracks(dv_repo *repo, const char *relpath)
{
    git_index *index = NULL;
    dv_buf prefix = DV_BUF_INIT;
    int tracked = 0;
    if (git_repository_index(&index, repo->git) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot open git's index");
    if (git_index_read(index, 0) < 0) {
        tracked = dv_repo_git_error(DV_ERROR, "cannot read git's index");
    } else if (git_index_get_bypath(index, relpath, 0)) {
        tracked = 1;
    } else if (dv_buf_printf(&prefix, "%s/", relpath) == 0) {
        size_t pos;
        tracked = git_index_find_prefix(&pos, index, prefix.ptr) == 0;
    }
    dv_buf_release(&prefix);
    git_index_free(index);
    return tracked;
}

static int escape_ignore_name(dv_buf *out, const char *name)
{
    int error = 0;
    size_t len = strlen(name);
    size_t trailing_spaces = 0;
    while (trailing_spaces < len && name[len - 1 - trailing_spaces] == ' ')
        trailing_spaces++;
    for (size_t i = 0; i < len && !error; i++) {
        char c = name[i];
        if (c == '\n' || c == '\r')
            error = dv_buf_putc(out, '?'); /* gitignore lines cannot hold a newline */
        else if (c == '\\' || c == '*' || c == '?' || c == '[' ||
                 (c == ' ' && i >= len - trailing_spaces))
            error = dv_buf_printf(out, "\\%c", c);
        else
            error = dv_buf_putc(out, c);
    }
    return error;
}

/* Does content hold line as one of its lines (CRLF endings too)? */
static int has_line(const dv_buf *content, const dv_buf *line)
{
    const char *p = content->ptr, *end = content->ptr + content->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == line->len && !memcmp(p, line->ptr, n))
            return 1;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int dv_repo_ignore(int *changed, dv_buf *gitignore_relpath, dv_repo *repo, const char *relpath)
{
    dv_buf dir = DV_BUF_INIT, base = DV_BUF_INIT, line = DV_BUF_INIT, content = DV_BUF_INIT;
    int error, dirfd = -1, tmp_fd = -1;
    *changed = 0;
    const char *slash = strrchr(relpath, '/');
    if (slash)
        error = dv_buf_put(&dir, relpath, (size_t)(slash - relpath));
    else
        error = 0;
    if (error < 0 || (error = dv_buf_set(&base, slash ? slash + 1 : relpath)) < 0)
        goto done;
    dv_buf_clear(gitignore_relpath);
    if ((error = dv_buf_printf(gitignore_relpath, "%s%s.gitignore", dir.ptr, dir.len ? "/" : "")) <
            0 ||
        (error = dv_buf_putc(&line, '/')) < 0 || (error = escape_ignore_name(&line, base.ptr)) < 0)
        goto done;
    /* The .gitignore is read and written inside the work tree only: one that is a
     * symlink would copy its target's bytes into what git stages and publishes. */
    mode_t mode = 0644;
    struct stat st;
    int gitignore_exists = 0;
    const char *leaf;
    if ((error = dv_wtfs_open_parent(&dirfd, &leaf, repo->workdir_fd, gitignore_relpath->ptr, 0)) <
        0)
        goto done;
    if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISREG(st.st_mode)) {
            error = dv_error_set(DV_EUSAGE,
                                 "%s is %s; dv only edits a regular .gitignore (replace it "
                                 "with a regular file)",
                                 gitignore_relpath->ptr,
                                 S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
            goto done;
        }
        mode = st.st_mode & 07777;
        gitignore_exists = 1;
        int fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            error = dv_error_errno("cannot read %s", gitignore_relpath->ptr);
            goto done;
        }
        size_t got = 0;
        if ((uint64_t)st.st_size > 64u * 1024 * 1024)
            error = dv_error_set(DV_EUSAGE, "%s is larger than 64 MiB", gitignore_relpath->ptr);
        else if (!(error = dv_buf_grow(&content, (size_t)st.st_size)))
            error =
                dv_fs_read_full(fd, content.ptr, (size_t)st.st_size, &got, gitignore_relpath->ptr);
        close(fd);
        if (error < 0)
            goto done;
        content.len = got;
        content.ptr[got] = '\0';
    } else if (errno != ENOENT) {
        error = dv_error_errno("cannot stat %s", gitignore_relpath->ptr);
        goto done;
    }
    /* Already ignored, by any rule git would apply (any .gitignore on the way down, a
     * directory rule, a negation, info/exclude, core.excludesFile)? Then nothing to add.
     * libgit2 follows a symlink to see if a path is a directory, git does not: for a
     * symlink to a directory, its answer would wrongly apply directory rules, so only
     * the exact line counts there. */
    int ignored = 0;
    struct stat link_st, target_st;
    if (fstatat(dirfd, base.ptr, &link_st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(link_st.st_mode) &&
        fstatat(dirfd, base.ptr, &target_st, 0) == 0 && S_ISDIR(target_st.st_mode)) {
        ignored = has_line(&content, &line);
    } else if (git_ignore_path_is_ignored(&ignored, repo->git, relpath) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot read git's ignore rules");
        goto done;
    }
    if (ignored) {
        if (!gitignore_exists)
            dv_buf_clear(gitignore_relpath); /* nothing beside relpath to stage */
        goto done;
    }
    if (content.len && content.ptr[content.len - 1] != '\n' &&
        (error = dv_buf_putc(&content, '\n')) < 0)
        goto done;
    if ((error = dv_buf_put(&content, line.ptr, line.len)) < 0 ||
        (error = dv_buf_putc(&content, '\n')) < 0 || (error = dv_repo_tmp_fd(&tmp_fd, repo)) < 0 ||
        (error = dv_wtfs_write_atomic(dirfd, leaf, content.ptr, content.len, mode, tmp_fd,
                                      gitignore_relpath->ptr)) < 0)
        goto done;
    *changed = 1;
done:
    if (tmp_fd >= 0)
        close(tmp_fd);
    if (dirfd >= 0)
        close(dirfd);
    dv_buf_release(&dir);
    dv_buf_release(&base);
    dv_buf_release(&line);
    dv_buf_release(&content);
    return error;
}

int dv_repo_each_pointer(dv_repo *repo, dv_repo_pointer_fn fn, void *ctx)
{
    git_index *index = NULL;
    int error = 0;
    if (git_repository_index(&index, repo->git) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot open git's index");
    if (git_index_read(index, 0) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot read git's index");
        goto done;
    }
    size_t n = git_index_entrycount(index);
    size_t suffix_len = strlen(DV_POINTER_SUFFIX);
    for (size_t i = 0; i < n; i++) {
        const git_index_entry *e = git_index_get_byindex(index, i);
        if (!e || GIT_INDEX_ENTRY_STAGE(e) != 0)
            continue;
        size_t len = strlen(e->path);
        if (len <= suffix_len || strcmp(e->path + len - suffix_len, DV_POINTER_SUFFIX))
            continue;
        if (!strncmp(e->path, DV_DIR_NAME "/", 4))
            continue;
        if ((error = fn(ctx, e->path)) < 0)
            break;
    }
done:
    git_index_free(index);
    return error;
}

int dv_repo_read_pointer(dv_pointer *out, dv_repo *repo, const char *pointer_relpath)
{
    int fd = -1;
    memset(out, 0, sizeof(*out));
    int error = dv_wtfs_open_regular(&fd, repo->workdir_fd, pointer_relpath);
    struct stat st;
    if (error == DV_EUSAGE && dv_wtfs_lstat(&st, repo->workdir_fd, pointer_relpath) == 0)
        return dv_error_set(DV_ECORRUPT, "%s: %s; expected a pointer file (a regular file)",
                            pointer_relpath,
                            S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
    if (error == DV_EUSAGE)
        return dv_error_wrap(DV_ECORRUPT, "pointer file");
    if (error < 0)
        return error;
    error = dv_pointer_read_fd(out, fd, pointer_relpath);
    close(fd);
    return error;
}

int dv_repo_write_pointer_text(int *written, dv_repo *repo, const char *pointer_relpath,
                               const char *text, size_t len, int wtfs_flags)
{
    dv_buf old = DV_BUF_INIT;
    int error, dirfd = -1, fd = -1, tmp_fd = -1;
    const char *leaf;
    *written = 0;
    if ((error =
             dv_wtfs_open_parent(&dirfd, &leaf, repo->workdir_fd, pointer_relpath, wtfs_flags)) < 0)
        goto done;
    if ((fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) >= 0) {
        struct stat st;
        size_t got = 0;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == (off_t)len &&
            dv_buf_grow(&old, len) == 0 &&
            dv_fs_read_full(fd, old.ptr, len, &got, pointer_relpath) == 0 && got == len &&
            !memcmp(old.ptr, text, len))
            goto done;
        dv_error_clear();
    }
    if ((error = dv_repo_tmp_fd(&tmp_fd, repo)) < 0 ||
        (error = dv_wtfs_write_atomic(dirfd, leaf, text, len, 0644, tmp_fd, pointer_relpath)) < 0)
        goto done;
    *written = 1;
done:
    if (tmp_fd >= 0)
        close(tmp_fd);
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
    dv_buf_release(&old);
    return error;
}

int dv_repo_unstage(dv_repo *repo, const char *const *relpaths, size_t n)
{
    return stage_paths(repo->git, relpaths, n, 1);
}
