/* worktree: work-tree files and directories as dv objects. */
#include "core/repo/worktree.h"

#include "core/base/pathname.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/wtfs.h"
#include "core/data/objread.h"
#include "core/object/pointer.h"

#include <dirent.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dv_worktree {
    dv_repo *repo;
    dv_worktree_options opts;
    dv_statcache *cache;
    dv_buf cache_path;
    dv_pool *pool;
    dv_ingest *ingest;
    dv_odb *odb;     /* NULL when only hashing */
    dv_odb *history; /* the store, to read earlier versions' manifests from */
    dv_manifest previous;
};

int dv_worktree_open(dv_worktree **out, dv_repo *repo, const dv_worktree_options *opts)
{
    int error;
    dv_worktree *wt = calloc(1, sizeof(*wt));
    if (!wt)
        return dv_error_set(DV_ENOMEM, "out of memory");
    wt->repo = repo;
    wt->cache_path = (dv_buf)DV_BUF_INIT;
    wt->previous = (dv_manifest)DV_MANIFEST_INIT;
    if (opts)
        wt->opts = *opts;
    if ((error = dv_buf_joinpath(&wt->cache_path, repo->dv_dir.ptr, "index")) < 0 ||
        (error = dv_statcache_load(&wt->cache, wt->cache_path.ptr)) < 0)
        goto fail;
    if ((error = dv_repo_odb(&wt->history, repo)) < 0)
        goto fail;
    if (wt->opts.store)
        wt->odb = wt->history;
    if ((error = dv_pool_new(&wt->pool, dv_pool_default_threads())) < 0 ||
        (error = dv_ingest_new(&wt->ingest, wt->odb, &repo->chunk_params, wt->pool)) < 0)
        goto fail;
    dv_ingest_set_progress(wt->ingest, wt->opts.progress, wt->opts.progress_ctx);
    *out = wt;
    return 0;
fail:
    dv_worktree_free(wt);
    return error;
}

void dv_worktree_free(dv_worktree *wt)
{
    if (!wt)
        return;
    dv_ingest_free(wt->ingest);
    dv_pool_free(wt->pool);
    dv_statcache_free(wt->cache);
    dv_buf_release(&wt->cache_path);
    dv_manifest_release(&wt->previous);
    free(wt);
}

dv_statcache *dv_worktree_statcache(dv_worktree *wt)
{
    return wt->cache;
}

dv_odb *dv_worktree_odb(dv_worktree *wt)
{
    return wt->odb;
}

void dv_worktree_save_cache(dv_worktree *wt)
{
    dv_error_state kept;
    int code = dv_error_state_capture(&kept, dv_error_last_code());
    if (dv_worktree_save(wt) < 0) {
        if (code < 0)
            code = dv_error_state_restore(&kept);
        else
            dv_error_clear();
    }
}

void dv_worktree_remember(dv_worktree *wt)
{
    dv_repo *repo = wt->repo;
    if (repo->lock) {
        dv_worktree_save_cache(wt);
    } else if (dv_repo_lock(repo, NULL, NULL) == 0) {
        dv_worktree_save_cache(wt);
        dv_lock_release(repo->lock);
        repo->lock = NULL;
    }
    dv_error_clear();
}

int dv_worktree_save(dv_worktree *wt)
{
    return dv_statcache_save(wt->cache, wt->cache_path.ptr);
}

void dv_worktree_stats(dv_worktree *wt, dv_ingest_stats *out)
{
    dv_ingest_stats_get(wt->ingest, out);
}

int dv_worktree_skip_name(const char *name)
{
    /* A nested repository's own metadata is never data of ours, in any of the forms a
     * file system may fold to its name. */
    return dv_pathname_reserved(name, strlen(name));
}

/* Follow path (components separated by '/') down from the stored tree id to a file's
 * manifest id. */
static int tree_lookup(dv_oid *id, dv_worktree *wt, const dv_oid *tree_id, const char *path)
{
    dv_buf raw = DV_BUF_INIT;
    dv_oid at = *tree_id;
    int found = 0;
    for (;;) {
        dv_tree t = {0, NULL, 0};
        uint8_t type = 0;
        const char *slash = strchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : strlen(path);
        if (dv_odb_read(&raw, &type, wt->history, &at) < 0 || type != DV_OBJ_TREE ||
            dv_tree_decode(&t, raw.ptr, raw.len) < 0)
            break;
        const dv_tree_entry *e = dv_tree_find(&t, path, len);
        int mode = e ? e->mode : 0;
        if (e)
            at = e->id;
        dv_tree_release(&t);
        if (!slash) {
            found = mode == DV_MODE_FILE || mode == DV_MODE_EXEC;
            break;
        }
        if (mode != DV_MODE_DIR)
            break;
        path = slash + 1;
    }
    if (found)
        *id = at;
    dv_buf_release(&raw);
    return found;
}

/* What a pointer file records as relpath's stored version: the path's own pointer (a
 * file), or the tree of a directory pointer above it, followed down by name. */
static int pointer_id(dv_oid *id, dv_worktree *wt, const char *relpath)
{
    dv_buf prefix = DV_BUF_INIT, path = DV_BUF_INIT;
    size_t len = strlen(relpath);
    int found = 0;
    for (size_t cut = 1; cut <= len && !found; cut++) {
        if (cut < len && relpath[cut] != '/')
            continue;
        dv_pointer p;
        dv_buf_clear(&prefix);
        if (dv_buf_put(&prefix, relpath, cut) < 0 || dv_buf_set(&path, prefix.ptr) < 0 ||
            dv_buf_puts(&path, DV_POINTER_SUFFIX) < 0)
            break;
        if (dv_repo_read_pointer(&p, wt->repo, path.ptr) < 0)
            continue;
        if (cut == len && p.kind == DV_KIND_FILE) {
            *id = p.oid;
            found = 1;
        } else if (cut < len && p.kind == DV_KIND_DIR) {
            found = tree_lookup(id, wt, &p.oid, relpath + cut + 1);
        }
        break; /* the outermost pointer decides */
    }
    dv_buf_release(&prefix);
    dv_buf_release(&path);
    dv_error_clear();
    return found;
}

/* The manifest of an earlier version of relpath that the store has, if the file is
 * large enough for it to be worth reading: what relpath held when it was last hashed or
 * written, or else (dv status hashed the new content without storing it) what a
 * pointer file records for it. NULL otherwise: it is only a hint for the ingest, so any failure
 * just means no hint. */
static const dv_manifest *previous_version(dv_worktree *wt, const char *relpath,
                                           const struct stat *st)
{
    dv_oid id;
    if ((uint64_t)st->st_size < DV_INGEST_PREVIOUS_MIN_BYTES)
        return NULL;
    if (!(dv_statcache_last_id(&id, wt->cache, relpath) && dv_odb_has(wt->history, &id)) &&
        !(pointer_id(&id, wt, relpath) && dv_odb_has(wt->history, &id)))
        return NULL;
    dv_buf raw = DV_BUF_INIT;
    dv_manifest_release(&wt->previous);
    int error = dv_manifest_read(&wt->previous, &raw, wt->history, &id, relpath);
    dv_buf_release(&raw);
    if (error < 0) {
        dv_error_clear();
        return NULL;
    }
    return &wt->previous;
}

/* Read the file relpath once, opened through the work tree's directories (never through
 * a symlink). *changed says that it changed while it was read (its
 * size, mtime or ctime moved, or the bytes read are not its size), so what was read may
 * mix two versions and must not be recorded. */
static int read_file_once(int *changed, dv_oid *id, uint64_t *size, dv_worktree *wt,
                          const char *relpath)
{
    int error = 0;
    int64_t hashed_ns = dv_fs_now_ns();
    int fd;
    if ((error = dv_wtfs_open_regular(&fd, wt->repo->workdir_fd, relpath)) < 0)
        return error;
    struct stat before, after;
    if (fstat(fd, &before) < 0) {
        error = dv_error_errno("cannot stat %s", relpath);
        goto done;
    }
    if ((error = dv_ingest_fd(id, size, wt->ingest, fd, relpath,
                              previous_version(wt, relpath, &before))) < 0)
        goto done;
    if (wt->opts.after_read)
        wt->opts.after_read(wt->opts.after_read_ctx, relpath);
    if (fstat(fd, &after) < 0) {
        error = dv_error_errno("cannot stat %s", relpath);
        goto done;
    }
    *changed = !dv_fs_unchanged_while_read(&before, &after) || (uint64_t)after.st_size != *size;
    /* Cache only what we know we read whole and unchanged. */
    if (!*changed)
        error = dv_statcache_update(wt->cache, relpath, &after, id, hashed_ns);
done:
    close(fd);
    return error;
}

/* The stat cache's id for relpath when it is current and (when storing) in the store. */
static int cache_hit(dv_oid *id, dv_worktree *wt, const char *relpath, const struct stat *st)
{
    return dv_statcache_lookup(id, wt->cache, relpath, st) == 1 &&
           (!wt->odb || dv_odb_has(wt->odb, id));
}

int dv_worktree_file_id(dv_oid *id, uint64_t *size, dv_worktree *wt, const char *relpath,
                        const struct stat *st)
{
    int error = 0;
    if (cache_hit(id, wt, relpath, st)) {
        *size = (uint64_t)st->st_size;
        if (wt->opts.progress)
            wt->opts.progress(wt->opts.progress_ctx, (uint64_t)st->st_size);
        return 0;
    }
    for (int attempt = 1;; attempt++) {
        int changed = 0;
        if ((error = read_file_once(&changed, id, size, wt, relpath)) < 0 || !changed)
            return error;
        if (attempt == DV_WORKTREE_READ_ATTEMPTS)
            return dv_error_set(DV_ERROR,
                                "%s changed while it was read (%d times in a row); stop what "
                                "writes to it and run the command again",
                                relpath, attempt);
    }
}

int dv_worktree_link_id(dv_oid *id, uint64_t *size, dv_worktree *wt, const char *relpath)
{
    int error, dirfd = -1;
    const char *leaf;
    dv_buf target = DV_BUF_INIT;
    if ((error = dv_wtfs_open_parent(&dirfd, &leaf, wt->repo->workdir_fd, relpath, 0)) < 0 ||
        (error = dv_buf_grow(&target, 4096)) < 0)
        goto done;
    for (;;) {
        ssize_t n = readlinkat(dirfd, leaf, target.ptr, target.alloc);
        if (n < 0) {
            error = dv_error_errno("cannot read symlink %s", relpath);
            goto done;
        }
        if ((size_t)n < target.alloc) {
            target.len = (size_t)n;
            target.ptr[n] = '\0';
            break;
        }
        if ((error = dv_buf_grow(&target, target.alloc * 2)) < 0)
            goto done;
    }
    *size = target.len;
    error = dv_ingest_blob(id, wt->ingest, target.ptr, target.len);
done:
    if (dirfd >= 0)
        close(dirfd);
    dv_buf_release(&target);
    return error;
}

static int compare_names(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    return strcmp(x, y); /* byte order: strcmp compares as unsigned char */
}

int dv_worktree_list(dv_worktree_names *out, dv_worktree *wt, const char *relpath)
{
    /* Walked from the top one component at a time: a symlinked directory on the way is
     * refused, never listed. Entries are then looked up relative to this descriptor: one
     * path component for the kernel to resolve instead of the whole path, for every file. */
    int fd, error = dv_wtfs_open_dir(&fd, wt->repo->workdir_fd, relpath, 0);
    *out = (dv_worktree_names)DV_WORKTREE_NAMES_INIT;
    if (error < 0)
        return error;
    return dv_worktree_list_fd(out, fd, relpath);
}

int dv_worktree_list_fd(dv_worktree_names *out, int fd, const char *relpath)
{
    int error = 0;
    *out = (dv_worktree_names)DV_WORKTREE_NAMES_INIT;
    size_t alloc = 0;
    out->dirfd = fd;
    int list_fd = out->dirfd < 0 ? -1 : dup(out->dirfd);
    DIR *dir = list_fd < 0 ? NULL : fdopendir(list_fd);
    if (!dir) {
        error = dv_error_errno("cannot read directory %s", relpath[0] ? relpath : ".");
        if (list_fd >= 0)
            close(list_fd);
        dv_worktree_names_free(out);
        return error;
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (out->n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            char **names = realloc(out->names, alloc * sizeof(*names));
            if (!names) {
                error = dv_error_set(DV_ENOMEM, "out of memory");
                goto done;
            }
            out->names = names;
        }
        if (!(out->names[out->n] = strdup(de->d_name))) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
        out->n++;
        errno = 0;
    }
    if (errno)
        error = dv_error_errno("cannot read directory %s", relpath);
    if (out->n > 1) /* names is NULL for an empty directory, which qsort may not take */
        qsort(out->names, out->n, sizeof(*out->names), compare_names);
done:
    closedir(dir);
    if (error < 0)
        dv_worktree_names_free(out);
    return error;
}

/* Names stat'ed at a time, names per pool item, and the window size from which the pool
 * is used. */
#define STAT_WINDOW_NAMES 4096
#define STAT_ITEM_NAMES 64
#define STAT_PARALLEL_NAMES 512

static int stat_range(void *ctx, size_t item, int worker)
{
    dv_worktree_names *names = ctx;
    (void)worker;
    size_t from = item * STAT_ITEM_NAMES;
    size_t to =
        from + STAT_ITEM_NAMES < names->window_len ? from + STAT_ITEM_NAMES : names->window_len;
    for (size_t k = from; k < to; k++) {
        const char *name = names->names[names->window_start + k];
        names->stat_errno[k] = 0;
        if (!dv_worktree_skip_name(name) &&
            fstatat(names->dirfd, name, &names->st[k], AT_SYMLINK_NOFOLLOW) < 0)
            names->stat_errno[k] = errno;
    }
    return 0;
}

int dv_worktree_name_stat(dv_worktree *wt, dv_worktree_names *names, size_t i, struct stat *st)
{
    assert(i < names->n);
    if (!names->st) {
        names->st = malloc(STAT_WINDOW_NAMES * sizeof(*names->st));
        names->stat_errno = malloc(STAT_WINDOW_NAMES * sizeof(*names->stat_errno));
        names->window_len = 0;
        if (!names->st || !names->stat_errno) {
            free(names->st);
            free(names->stat_errno);
            names->st = NULL;
            names->stat_errno = NULL;
            return ENOMEM;
        }
    }
    if (i < names->window_start || i >= names->window_start + names->window_len) {
        names->window_start = i;
        names->window_len = names->n - i < STAT_WINDOW_NAMES ? names->n - i : STAT_WINDOW_NAMES;
        size_t items = (names->window_len + STAT_ITEM_NAMES - 1) / STAT_ITEM_NAMES;
        if (names->window_len < STAT_PARALLEL_NAMES) {
            for (size_t k = 0; k < items; k++)
                stat_range(names, k, 0);
        } else {
            dv_pool_task task;
            dv_pool_submit(wt->pool, &task, stat_range, names, items);
            dv_pool_drain(wt->pool, &task); /* stat_range reports through stat_errno */
        }
    }
    size_t k = i - names->window_start;
    if (names->stat_errno[k])
        return names->stat_errno[k];
    *st = names->st[k];
    return 0;
}

void dv_worktree_names_free(dv_worktree_names *names)
{
    free(names->st);
    free(names->stat_errno);
    names->st = NULL;
    names->stat_errno = NULL;
    names->window_start = names->window_len = 0;
    for (size_t i = 0; i < names->n; i++)
        free(names->names[i]);
    free(names->names);
    names->names = NULL;
    names->n = 0;
    if (names->dirfd >= 0)
        close(names->dirfd);
    names->dirfd = -1;
}

int dv_worktree_walk_next(dv_worktree_walk *walk, const dv_tree *tree,
                          const dv_worktree_names *names, const dv_tree_entry **entry,
                          const char **on_disk)
{
    while (walk->name_index < names->n && dv_worktree_skip_name(names->names[walk->name_index]))
        walk->name_index++;
    const dv_tree_entry *e =
        walk->tree_index < tree->n_entries ? &tree->entries[walk->tree_index] : NULL;
    const char *name = walk->name_index < names->n ? names->names[walk->name_index] : NULL;
    if (!e && !name)
        return 0;
    int c = !e ? 1 : !name ? -1 : strcmp(e->name, name);
    *entry = c <= 0 ? e : NULL;
    *on_disk = c >= 0 ? name : NULL;
    walk->tree_index += c <= 0;
    walk->name_index += c >= 0;
    return 1;
}

int dv_worktree_child(dv_buf *out, const char *relpath, const char *name)
{
    size_t len = strlen(relpath);
    int error;
    dv_buf_clear(out);
    if (len && ((error = dv_buf_put(out, relpath, len)) < 0 || (error = dv_buf_putc(out, '/')) < 0))
        return error;
    return dv_buf_puts(out, name);
}

/*
 * Small files (one chunk each: dv_ingest_small_max_bytes or fewer) that the stat cache does
 * not know are read, hashed and compressed by the pool a window at a time, while the calling
 * thread stores the window before, in order: for a tree of many small files the cost is
 * the system calls of each file, which the workers share, and their number is cut to what
 * reading one needs (openat on the open directory, fstat, pread, fstat, close).
 */
#define SMALL_WINDOW_FILES 128
#define SMALL_ITEM_FILES 8

typedef struct small_file {
    size_t name_index;
    struct stat st; /* the fstat after the read, when ok */
    int64_t hashed_ns;
    int ok; /* read whole and unchanged, and prepared; else scanned the usual way */
    uint8_t *bytes;
    dv_ingest_small in;
} small_file;

typedef struct small_window {
    dv_worktree *wt;
    const dv_worktree_names *names;
    small_file files[SMALL_WINDOW_FILES];
    size_t n;
    dv_pool_task task;
    int submitted;
} small_window;

/* Read one small file whole through the directory's descriptor and prepare it. Anything
 * unexpected (gone, grown, changed while read, not a regular file, out of memory) leaves
 * f->ok 0, and the file is then scanned the usual way, which reports what is wrong. */
static void small_read(small_window *w, small_file *f, int worker)
{
    size_t max = dv_ingest_small_max_bytes(w->wt->ingest);
    struct stat before;
    f->ok = 0;
    f->hashed_ns = dv_fs_now_ns();
    int fd = openat(w->names->dirfd, w->names->names[f->name_index],
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fstat(fd, &before) < 0 || !S_ISREG(before.st_mode) || (uint64_t)before.st_size > max)
        goto done;
    /* One byte more than the size, to see a file that grew. */
    size_t want = (size_t)before.st_size + 1, got = 0;
    if (!(f->bytes = malloc(want)))
        goto done;
    while (got < want) {
        ssize_t n = pread(fd, f->bytes + got, want - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto done;
        if (n == 0)
            break;
        got += (size_t)n;
        if (got == (size_t)before.st_size)
            want = got + 1; /* the next read should say end of file */
    }
    if (fstat(fd, &f->st) < 0 || !dv_fs_unchanged_while_read(&before, &f->st) ||
        got != (size_t)f->st.st_size)
        goto done;
    f->in.data = f->bytes;
    f->in.len = got;
    if (dv_ingest_small_prepare(w->wt->ingest, &f->in, worker) < 0) {
        dv_error_clear();
        goto done;
    }
    f->ok = 1;
done:
    close(fd);
}

static int small_run(void *ctx, size_t item, int worker)
{
    small_window *w = ctx;
    size_t from = item * SMALL_ITEM_FILES;
    size_t to = from + SMALL_ITEM_FILES < w->n ? from + SMALL_ITEM_FILES : w->n;
    for (size_t k = from; k < to; k++)
        small_read(w, &w->files[k], worker);
    return 0;
}

static void small_start(small_window *w)
{
    if (!w->n)
        return;
    dv_pool_submit(w->wt->pool, &w->task, small_run, w,
                   (w->n + SMALL_ITEM_FILES - 1) / SMALL_ITEM_FILES);
    w->submitted = 1;
}

/* Wait for w's workers; its results are then the calling thread's to use. */
static void small_wait(small_window *w)
{
    if (w->submitted)
        dv_pool_drain(w->wt->pool, &w->task); /* small_run reports through ok */
    w->submitted = 0;
}

static void small_clear(small_window *w)
{
    small_wait(w);
    for (size_t k = 0; k < w->n; k++) {
        free(w->files[k].bytes);
        w->files[k].bytes = NULL;
        dv_ingest_small_release(&w->files[k].in);
    }
    w->n = 0;
}

static int scan_add(dv_tree *tree, dv_worktree_item *item, const char *name,
                    const dv_worktree_item *sub)
{
    item->size += sub->size;
    item->files += sub->files;
    return dv_tree_add(tree, name, strlen(name), sub->mode, &sub->id, sub->size);
}

/* Store the prepared files of w in order; those not read go to later (pass 2). */
static int small_commit(small_window *w, dv_tree *tree, dv_worktree_item *item, uint8_t *later,
                        dv_buf *child, const char *relpath)
{
    int error;
    small_wait(w);
    for (size_t k = 0; k < w->n; k++) {
        small_file *f = &w->files[k];
        const char *name = w->names->names[f->name_index];
        if (!f->ok) {
            later[f->name_index] = 1;
            continue;
        }
        dv_worktree_item sub = {
            (f->st.st_mode & S_IXUSR) ? DV_MODE_EXEC : DV_MODE_FILE, {{0}}, f->in.len, 1};
        if ((error = dv_worktree_child(child, relpath, name)) < 0 ||
            (error = dv_ingest_small_commit(&sub.id, w->wt->ingest, &f->in)) < 0 ||
            (error = dv_statcache_update(w->wt->cache, child->ptr, &f->st, &sub.id, f->hashed_ns)) <
                0 ||
            (error = scan_add(tree, item, name, &sub)) < 0)
            return error;
    }
    small_clear(w);
    return 0;
}

/* Scan the entry names->names[i] (lstat st) the usual way. */
static int scan_entry(dv_tree *tree, dv_worktree_item *item, dv_worktree *wt, const char *name,
                      const char *child, const struct stat *st)
{
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode)) {
        if (wt->opts.warn)
            wt->opts.warn(wt->opts.warn_ctx, child, "not a file, directory or symlink");
        return 0;
    }
    dv_worktree_item sub;
    int error = dv_worktree_scan(&sub, wt, child, st);
    return error < 0 ? error : scan_add(tree, item, name, &sub);
}

/* Stat names[i] of the directory relpath, its path put in child: 0 with *st, 1 when it is
 * gone (not part of this version), or an error. */
static int entry_stat(struct stat *st, dv_buf *child, dv_worktree *wt, dv_worktree_names *names,
                      size_t i, const char *relpath)
{
    int error = dv_worktree_child(child, relpath, names->names[i]);
    if (error < 0)
        return error;
    int stat_errno = dv_worktree_name_stat(wt, names, i, st);
    if (stat_errno == ENOENT)
        return 1; /* removed while we scan: it is simply not part of this version */
    if (stat_errno) {
        errno = stat_errno;
        return dv_error_errno("cannot stat %s", child->ptr);
    }
    return 0;
}

/*
 * A directory: pass 1 walks the names in order, taking what the stat cache knows and sending
 * small files to the workers a window at a time (two windows: the workers read one while
 * the calling thread stores the other); pass 2 scans what is left (directories, symlinks,
 * larger files, small files that could not be read at once), so no window is held while a
 * subdirectory is scanned. Entries are sorted by name at the end, as before.
 */
static int scan_dir(dv_worktree_item *item, dv_worktree *wt, const char *relpath)
{
    int error;
    dv_worktree_names names;
    dv_tree tree = DV_TREE_INIT;
    dv_buf child = DV_BUF_INIT, encoded = DV_BUF_INIT;
    small_window *windows = NULL;
    uint8_t *later = NULL;
    if ((error = dv_worktree_list(&names, wt, relpath)) < 0)
        return error;
    item->mode = DV_MODE_DIR;
    item->size = 0;
    item->files = 0;
    /* A test's after_read hook runs between the read and the check: the usual path only. */
    int use_small = !wt->opts.after_read && names.n > 1;
    if (use_small && (!(windows = calloc(2, sizeof(*windows))) || !(later = calloc(names.n, 1)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    size_t max_small = dv_ingest_small_max_bytes(wt->ingest);
    small_window *filling = windows, *other = windows ? windows + 1 : NULL;
    for (int k = 0; windows && k < 2; k++) {
        windows[k].wt = wt;
        windows[k].names = &names;
    }
    for (size_t i = 0; use_small && i < names.n; i++) {
        const char *name = names.names[i];
        if (dv_worktree_skip_name(name))
            continue;
        struct stat st;
        dv_oid id;
        if ((error = entry_stat(&st, &child, wt, &names, i, relpath)) < 0)
            goto done;
        if (error == 1) {
            error = 0;
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            later[i] = 1;
        } else if (cache_hit(&id, wt, child.ptr, &st)) {
            dv_worktree_item sub = {(st.st_mode & S_IXUSR) ? DV_MODE_EXEC : DV_MODE_FILE, id,
                                    (uint64_t)st.st_size, 1};
            if (wt->opts.progress)
                wt->opts.progress(wt->opts.progress_ctx, (uint64_t)st.st_size);
            if ((error = scan_add(&tree, item, name, &sub)) < 0)
                goto done;
        } else if ((uint64_t)st.st_size > max_small) {
            later[i] = 1;
        } else {
            small_file *f = &filling->files[filling->n++];
            f->name_index = i;
            f->in = (dv_ingest_small)DV_INGEST_SMALL_INIT;
            if (filling->n == SMALL_WINDOW_FILES) {
                small_start(filling);
                if ((error = small_commit(other, &tree, item, later, &child, relpath)) < 0)
                    goto done;
                small_window *t = filling;
                filling = other;
                other = t;
            }
        }
    }
    if (use_small) {
        small_start(filling);
        if ((error = small_commit(other, &tree, item, later, &child, relpath)) < 0 ||
            (error = small_commit(filling, &tree, item, later, &child, relpath)) < 0)
            goto done;
    }
    for (size_t i = 0; i < names.n; i++) {
        const char *name = names.names[i];
        if (use_small ? !later[i] : dv_worktree_skip_name(name))
            continue;
        struct stat st;
        if ((error = entry_stat(&st, &child, wt, &names, i, relpath)) < 0)
            goto done;
        if (error == 1) {
            error = 0;
            continue;
        }
        if ((error = scan_entry(&tree, item, wt, name, child.ptr, &st)) < 0)
            goto done;
    }
    if ((error = dv_tree_sort(&tree)) < 0 || (error = dv_tree_encode(&encoded, &tree)) < 0 ||
        (error = dv_hash_buffer(&item->id, encoded.ptr, encoded.len)) < 0)
        goto done;
    if (wt->odb &&
        (error = dv_odb_put(wt->odb, &item->id, DV_OBJ_TREE, encoded.ptr, encoded.len, NULL)) < 0)
        goto done;
done:
    for (int k = 0; windows && k < 2; k++)
        small_clear(&windows[k]);
    free(windows);
    free(later);
    dv_worktree_names_free(&names);
    dv_tree_release(&tree);
    dv_buf_release(&child);
    dv_buf_release(&encoded);
    return error;
}

int dv_worktree_scan(dv_worktree_item *item, dv_worktree *wt, const char *relpath,
                     const struct stat *st)
{
    item->files = 1;
    if (S_ISREG(st->st_mode)) {
        item->mode = (st->st_mode & S_IXUSR) ? DV_MODE_EXEC : DV_MODE_FILE;
        return dv_worktree_file_id(&item->id, &item->size, wt, relpath, st);
    }
    if (S_ISLNK(st->st_mode)) {
        item->mode = DV_MODE_SYMLINK;
        return dv_worktree_link_id(&item->id, &item->size, wt, relpath);
    }
    if (S_ISDIR(st->st_mode))
        return scan_dir(item, wt, relpath);
    return dv_error_set(DV_EUSAGE, "%s is not a regular file, directory or symlink", relpath);
}
