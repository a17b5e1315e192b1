/* checkout: restore work-tree data from the store. */
#include "checkout.h"

#include "chunkmap.h"
#include "error.h"
#include "fs.h"
#include "object.h"
#include "pointer.h"
#include "status.h"
#include "worktree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_WAIT_NS (100 * 1000000ll) /* longest wait for the file clock to move on */

enum action_kind { ACT_REMOVE = 1, ACT_MKDIR, ACT_WRITE_FILE, ACT_WRITE_LINK, ACT_CHMOD };

typedef struct action {
    int kind;
    char *relpath;
    dv_oid id;
    uint8_t mode;
    uint64_t size;
    /* A file written over one whose content (old_id) is in the store, as it was when
     * planned: the chunks the two share can be read from it. */
    int has_old;
    dv_oid old_id;
    struct stat old_st;
} action;

typedef struct restored {
    size_t action;
    struct stat st;
} restored;

typedef struct planner {
    dv_repo *repo;
    dv_worktree *wt;
    dv_odb *odb;
    const dv_checkout_options *opts;
    dv_checkout_result *result;
    action *actions;
    size_t n_actions, alloc_actions;
    dv_buf abs;
    mode_t umask_bits;
    dv_buf tmp_dir; /* .dv/tmp */
    dev_t tmp_dev;
    restored *restored; /* files written, for their stat-cache entries */
    size_t n_restored, alloc_restored;
} planner;

int dv_path_list_add(dv_path_list *list, const char *path)
{
    if (list->n == list->alloc) {
        size_t n = list->alloc ? list->alloc * 2 : 16;
        char **p = realloc(list->paths, n * sizeof(*p));
        if (!p)
            return dv_error_set(DV_ENOMEM, "out of memory");
        list->paths = p;
        list->alloc = n;
    }
    if (!(list->paths[list->n] = strdup(path)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    list->n++;
    return 0;
}

void dv_path_list_free(dv_path_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free(list->paths[i]);
    free(list->paths);
    memset(list, 0, sizeof(*list));
}

void dv_checkout_result_free(dv_checkout_result *r)
{
    dv_path_list_free(&r->conflicts);
    dv_path_list_free(&r->overwritten);
    dv_path_list_free(&r->bad_pointers);
}

static int add_action(planner *p, int kind, const char *relpath, const dv_oid *id, uint8_t mode,
                      uint64_t size)
{
    if (p->n_actions == p->alloc_actions) {
        size_t n = p->alloc_actions ? p->alloc_actions * 2 : 64;
        action *a = realloc(p->actions, n * sizeof(*a));
        if (!a)
            return dv_error_set(DV_ENOMEM, "out of memory");
        p->actions = a;
        p->alloc_actions = n;
    }
    action *a = &p->actions[p->n_actions];
    memset(a, 0, sizeof(*a));
    if (!(a->relpath = strdup(relpath)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    a->kind = kind;
    if (id)
        a->id = *id;
    a->mode = mode;
    a->size = size;
    p->n_actions++;
    return 0;
}

/* Unsaved data at relpath: a conflict, or with force a note of what is overwritten. */
static int unsaved(planner *p, const char *relpath)
{
    return dv_path_list_add(p->opts->force ? &p->result->overwritten : &p->result->conflicts,
                            relpath);
}

/* Can the item at relpath be removed without losing data that is not in the store? */
static int check_removable(planner *p, const char *relpath, const struct stat *st)
{
    int error = 0;
    dv_oid id;
    uint64_t size;
    if (S_ISREG(st->st_mode)) {
        if ((error = dv_worktree_file_id(&id, &size, p->wt, relpath, st)) < 0)
            return error;
        return dv_odb_has(p->odb, &id) ? 0 : unsaved(p, relpath);
    }
    if (S_ISLNK(st->st_mode)) {
        if ((error = dv_worktree_link_id(&id, &size, p->wt, relpath)) < 0)
            return error;
        return dv_odb_has(p->odb, &id) ? 0 : unsaved(p, relpath);
    }
    if (!S_ISDIR(st->st_mode))
        return unsaved(p, relpath);
    dv_worktree_names names;
    dv_buf child = DV_BUF_INIT;
    if ((error = dv_worktree_list(&names, p->wt, relpath)) < 0)
        return error;
    for (size_t i = 0; i < names.n && !error; i++) {
        struct stat cst;
        if ((error = dv_worktree_child(&child, relpath, names.names[i])) < 0)
            break;
        if (fstatat(names.dirfd, names.names[i], &cst, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        error = check_removable(p, child.ptr, &cst);
    }
    dv_worktree_names_free(&names);
    dv_buf_release(&child);
    return error;
}

static int plan_remove(planner *p, const char *relpath, const struct stat *st)
{
    int error;
    if ((error = check_removable(p, relpath, st)) < 0)
        return error;
    return add_action(p, ACT_REMOVE, relpath, NULL, 0, 0);
}

static int plan_create(planner *p, const char *relpath, uint8_t mode, const dv_oid *id,
                       uint64_t size);

static int plan_dir(planner *p, const char *relpath, const dv_oid *tree_id, int exists)
{
    int error;
    dv_buf raw = DV_BUF_INIT, child = DV_BUF_INIT;
    dv_tree tree = DV_TREE_INIT;
    dv_worktree_names names = DV_WORKTREE_NAMES_INIT;
    if ((error = dv_odb_read(&raw, NULL, p->odb, tree_id)) < 0 ||
        (error = dv_tree_decode(&tree, raw.ptr, raw.len)) < 0)
        goto done;
    if (exists && (error = dv_worktree_list(&names, p->wt, relpath)) < 0)
        goto done;
    dv_worktree_walk walk = {0, 0};
    const dv_tree_entry *e;
    const char *name;
    while (dv_worktree_walk_next(&walk, &tree, &names, &e, &name)) {
        if ((error = dv_worktree_child(&child, relpath, e ? e->name : name)) < 0)
            goto done;
        if (e) {
            error = plan_create(p, child.ptr, e->mode, &e->id, e->size);
        } else {
            /* Not in the recorded version: remove it, unless it is something dv add
             * skips (fifos, sockets, devices), which is not ours to remove. */
            struct stat st;
            if (fstatat(names.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
                error = plan_remove(p, child.ptr, &st);
        }
        if (error < 0)
            goto done;
    }
done:
    dv_buf_release(&raw);
    dv_buf_release(&child);
    dv_tree_release(&tree);
    dv_worktree_names_free(&names);
    return error;
}

/* Make relpath hold (mode, id), comparing with whatever is there now. */
static int plan_create(planner *p, const char *relpath, uint8_t mode, const dv_oid *id,
                       uint64_t size)
{
    int error;
    struct stat st;
    if ((error = dv_repo_abspath(&p->abs, p->repo, relpath)) < 0)
        return error;
    int present = lstat(p->abs.ptr, &st) == 0;
    if (!present && errno != ENOENT && errno != ENOTDIR)
        return dv_error_errno("cannot stat %s", relpath);
    if (present) {
        dv_oid current;
        uint64_t current_size;
        if ((mode == DV_MODE_FILE || mode == DV_MODE_EXEC) && S_ISREG(st.st_mode)) {
            if ((error = dv_worktree_file_id(&current, &current_size, p->wt, relpath, &st)) < 0)
                return error;
            if (!dv_oid_cmp(&current, id)) {
                int want_exec = mode == DV_MODE_EXEC, is_exec = (st.st_mode & S_IXUSR) != 0;
                if (want_exec == is_exec) {
                    p->result->unchanged++;
                    return 0;
                }
                return add_action(p, ACT_CHMOD, relpath, id, mode, size);
            }
            int saved = dv_odb_has(p->odb, &current);
            if (!saved && (error = unsaved(p, relpath)) < 0)
                return error;
            if ((error = add_action(p, ACT_WRITE_FILE, relpath, id, mode, size)) < 0)
                return error;
            action *a = &p->actions[p->n_actions - 1];
            a->has_old = saved;
            a->old_id = current;
            a->old_st = st;
            return 0;
        }
        if (mode == DV_MODE_SYMLINK && S_ISLNK(st.st_mode)) {
            if ((error = dv_worktree_link_id(&current, &current_size, p->wt, relpath)) < 0)
                return error;
            if (!dv_oid_cmp(&current, id)) {
                p->result->unchanged++;
                return 0;
            }
            if (!dv_odb_has(p->odb, &current) && (error = unsaved(p, relpath)) < 0)
                return error;
            return add_action(p, ACT_WRITE_LINK, relpath, id, mode, size);
        }
        if (mode == DV_MODE_DIR && S_ISDIR(st.st_mode))
            return plan_dir(p, relpath, id, 1);
        /* The type changed: remove what is there first. */
        if ((error = plan_remove(p, relpath, &st)) < 0)
            return error;
    }
    switch (mode) {
    case DV_MODE_DIR:
        if ((error = add_action(p, ACT_MKDIR, relpath, id, mode, size)) < 0)
            return error;
        return plan_dir(p, relpath, id, 0);
    case DV_MODE_SYMLINK:
        return add_action(p, ACT_WRITE_LINK, relpath, id, mode, size);
    default:
        return add_action(p, ACT_WRITE_FILE, relpath, id, mode, size);
    }
}

/* ---- executing the plan ---- */

/*
 * Restoring a file goes group by group of consecutive chunks. A worker locates a
 * group's chunks, reads each run of neighbouring pack entries (the chunks of a file
 * added at once sit side by side) with one read, checks every entry's header and
 * CRC-32C and decompresses what is compressed; raw chunks are written straight from
 * the bytes read. The calling thread writes the groups in order while the workers
 * prepare the next ones.
 */
#define RESTORE_GROUP_CHUNKS 32
#define RESTORE_GROUPS 4

/* The file a restore replaces, when its content is known: the chunks the new version
 * shares with it are read from it (verified by their ids) instead of from packs. */
typedef struct old_file {
    int fd; /* -1: none */
    dv_chunkmap *map;
} old_file;

typedef struct restore_group {
    const dv_manifest_entry *chunks;
    size_t n;
    dv_odb *odb;
    const old_file *old;
    int from_old[RESTORE_GROUP_CHUNKS];   /* read from the old file, and verified */
    dv_buf old_bytes;                     /* those chunks */
    dv_pack *packs[RESTORE_GROUP_CHUNKS]; /* NULL: not in a sealed pack */
    dv_pack_entry entries[RESTORE_GROUP_CHUNKS];
    const uint8_t *bytes[RESTORE_GROUP_CHUNKS]; /* the entry as read, inside runs */
    const uint8_t *out[RESTORE_GROUP_CHUNKS];
    uint8_t *runs; /* the entries' bytes as read: aligned, a dv_pack_read_run buffer a run */
    size_t runs_capacity;
    dv_buf bufs[RESTORE_GROUP_CHUNKS]; /* decompressed chunks */
    dv_pool_task task;
    int submitted;
} restore_group;

static int wrong_chunk(const dv_oid *id)
{
    return dv_error_set(DV_ECORRUPT,
                        "object %s is not the chunk its manifest expects (run dv fsck)",
                        dv_oid_hex(id));
}

/* Make room for runs of total bytes in n_runs runs (each run's buffer aligned). */
static int grow_runs(restore_group *g, size_t total, size_t n_runs)
{
    size_t need = total + n_runs * DV_PACK_RUN_BUFFER_BYTES(0);
    if (need <= g->runs_capacity)
        return 0;
    free(g->runs);
    g->runs = NULL;
    g->runs_capacity = 0;
    void *p;
    if (posix_memalign(&p, DV_PACK_READ_ALIGN, need) != 0)
        return dv_error_set(DV_ENOMEM, "out of memory for %zu bytes of read buffer", need);
    g->runs = p;
    g->runs_capacity = need;
    return 0;
}

/* The group's chunks that the old file holds, read from it and verified; the rest
 * are read from the store. */
static int read_old(restore_group *g)
{
    if (g->old->fd < 0) {
        memset(g->from_old, 0, sizeof(g->from_old));
        return 0;
    }
    return dv_chunkmap_read(g->old->map, g->old->fd, g->chunks, g->n, &g->old_bytes, g->from_old,
                            g->out);
}

/* Locate the chunks and read their entries, a run of neighbours at a time. */
static int read_runs(restore_group *g)
{
    int error;
    size_t total = 0, n_runs = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->from_old[i] ||
            !dv_odb_locate(&g->packs[i], &g->entries[i], g->odb, &g->chunks[i].id)) {
            g->packs[i] = NULL;
            continue;
        }
        if ((error = dv_pack_check_bounds(g->packs[i], &g->entries[i])) < 0)
            return error;
        total += DV_PACK_ENTRY_HEADER_BYTES + (size_t)g->entries[i].stored_len;
        n_runs++; /* at most one run an entry */
    }
    if ((error = grow_runs(g, total, n_runs)) < 0)
        return error;
    size_t at = 0;
    for (size_t i = 0, j; i < g->n; i = j) {
        j = i + 1;
        if (!g->packs[i])
            continue;
        uint64_t start = g->entries[i].offset;
        uint64_t end = start + DV_PACK_ENTRY_HEADER_BYTES + g->entries[i].stored_len;
        for (; j < g->n && g->packs[j] == g->packs[i] && g->entries[j].offset == end; j++)
            end += DV_PACK_ENTRY_HEADER_BYTES + g->entries[j].stored_len;
        size_t len = (size_t)(end - start);
        const uint8_t *run;
        if ((error = dv_pack_read_run(g->packs[i], g->runs + at, len, start, &run)) < 0)
            return error;
        for (size_t k = i; k < j; k++)
            g->bytes[k] = run + (size_t)(g->entries[k].offset - start);
        at += DV_PACK_RUN_BUFFER_BYTES(len) & ~(size_t)(DV_PACK_READ_ALIGN - 1);
    }
    return 0;
}

/* The pool task of a group (one item): read, check and unpack its chunks. */
static int prepare_group(void *ctx, size_t item, int worker)
{
    restore_group *g = ctx;
    int error;
    (void)item;
    (void)worker;
    if ((error = read_old(g)) < 0 || (error = read_runs(g)) < 0)
        return error;
    for (size_t i = 0; i < g->n; i++) {
        const dv_manifest_entry *c = &g->chunks[i];
        const dv_pack_entry *e = &g->entries[i];
        if (g->from_old[i])
            continue;
        if (!g->packs[i]) {
            /* Not in a sealed pack: the general read path says why. */
            uint8_t type;
            if ((error = dv_odb_read_crc_checked(&g->bufs[i], &type, g->odb, &c->id)) < 0)
                return error;
            if (type != DV_OBJ_CHUNK || g->bufs[i].len != c->len)
                return wrong_chunk(&c->id);
            g->out[i] = (const uint8_t *)g->bufs[i].ptr;
            continue;
        }
        const uint8_t *bytes = g->bytes[i];
        if ((error = dv_pack_check_entry(g->packs[i], e, bytes)) < 0)
            return error;
        if (e->type != DV_OBJ_CHUNK || e->raw_len != c->len)
            return wrong_chunk(&c->id);
        const uint8_t *stored = bytes + DV_PACK_ENTRY_HEADER_BYTES;
        if (e->flags == DV_PACK_RAW && e->stored_len == e->raw_len) {
            g->out[i] = stored;
            continue;
        }
        if ((error = dv_odb_unpack(&g->bufs[i], e, stored, e->stored_len,
                                   dv_pack_path(g->packs[i]))) < 0)
            return error;
        g->out[i] = (const uint8_t *)g->bufs[i].ptr;
    }
    return 0;
}

static int write_group(int fd, const restore_group *g, const char *path)
{
    struct iovec iov[RESTORE_GROUP_CHUNKS];
    for (size_t i = 0; i < g->n; i++) {
        iov[i].iov_base = (void *)g->out[i];
        iov[i].iov_len = g->chunks[i].len;
    }
    return dv_fs_writev_all(fd, iov, (int)g->n, path);
}

/* Write-back is started every this many bytes of a file that replaces another. */
#define RESTORE_WRITEBACK_BYTES (8u << 20)

static int restore_content(int fd, planner *p, const dv_manifest *m, const char *tmp_path,
                           dv_pool *pool, const old_file *old, int replacing)
{
    int error = 0;
    uint64_t written = 0, flushed = 0;
    restore_group groups[RESTORE_GROUPS];
    memset(groups, 0, sizeof(groups));
    for (int gi = 0; gi < RESTORE_GROUPS; gi++) {
        groups[gi].odb = p->odb;
        groups[gi].old = old;
        groups[gi].old_bytes = (dv_buf)DV_BUF_INIT;
        for (int i = 0; i < RESTORE_GROUP_CHUNKS; i++)
            groups[gi].bufs[i] = (dv_buf)DV_BUF_INIT;
    }
    /* A file of one group is prepared here: no hand-off for small files. */
    if (m->n_chunks <= RESTORE_GROUP_CHUNKS)
        pool = NULL;
    size_t next = 0;                  /* first chunk not yet in a group */
    size_t started = 0, finished = 0; /* groups */
    while (next < m->n_chunks || finished < started) {
        while (next < m->n_chunks && started - finished < RESTORE_GROUPS) {
            restore_group *g = &groups[started % RESTORE_GROUPS];
            g->chunks = m->chunks + next;
            g->n = m->n_chunks - next < RESTORE_GROUP_CHUNKS ? m->n_chunks - next
                                                             : RESTORE_GROUP_CHUNKS;
            next += g->n;
            started++;
            if (pool) {
                dv_pool_submit(pool, &g->task, prepare_group, g, 1);
                g->submitted = 1;
            } else if ((error = prepare_group(g, 0, 0)) < 0) {
                goto done;
            }
        }
        restore_group *g = &groups[finished % RESTORE_GROUPS];
        finished++;
        if (g->submitted) {
            g->submitted = 0;
            if ((error = dv_pool_wait(pool, &g->task)) < 0)
                goto done;
        }
        if ((error = write_group(fd, g, tmp_path)) < 0)
            goto done;
        uint64_t bytes = 0;
        for (size_t i = 0; i < g->n; i++)
            bytes += g->chunks[i].len;
        written += bytes;
        /*
         * Renamed over an existing file, a file whose data is not on disk yet has all
         * of it written out inside the rename on ext4 (auto_da_alloc): 0.5 s for 1 GiB,
         * with nothing else to do meanwhile. Started as the file is written, the
         * write-back runs beside the restore instead. A hint only: errors are ignored.
         */
        if (replacing && written - flushed >= RESTORE_WRITEBACK_BYTES) {
            sync_file_range(fd, (off_t)flushed, (off_t)(written - flushed), SYNC_FILE_RANGE_WRITE);
            flushed = written;
        }
        if (p->opts->progress)
            p->opts->progress(p->opts->progress_ctx, bytes);
    }
done:
    for (int gi = 0; gi < RESTORE_GROUPS; gi++) {
        if (groups[gi].submitted)
            dv_pool_wait(pool, &groups[gi].task);
        free(groups[gi].runs);
        dv_buf_release(&groups[gi].old_bytes);
        for (int i = 0; i < RESTORE_GROUP_CHUNKS; i++)
            dv_buf_release(&groups[gi].bufs[i]);
    }
    return error;
}

/* A temp file for final_path: in .dv/tmp when that is on the same file system (so an
 * interrupted checkout leaves nothing in the work tree), else beside final_path. */
static int make_temp(planner *p, int *fd, dv_buf *tmp, const char *final_path, mode_t mode)
{
    dv_buf dir = DV_BUF_INIT;
    struct stat st;
    int error = dv_fs_dirname(&dir, final_path);
    if (!error && stat(dir.ptr, &st) == 0 && st.st_dev == p->tmp_dev)
        error = dv_fs_tmpfile_in(fd, tmp, p->tmp_dir.ptr, "restore-", mode);
    else if (!error)
        error = dv_fs_tmpfile(fd, tmp, final_path, mode);
    dv_buf_release(&dir);
    return error;
}

static int note_restored(planner *p, const action *a, const struct stat *st)
{
    if (p->n_restored == p->alloc_restored) {
        size_t n = p->alloc_restored ? p->alloc_restored * 2 : 64;
        restored *grown = realloc(p->restored, n * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        p->restored = grown;
        p->alloc_restored = n;
    }
    p->restored[p->n_restored].action = (size_t)(a - p->actions);
    p->restored[p->n_restored].st = *st;
    p->n_restored++;
    return 0;
}

/* The entries of the files just written were recorded as racy (they would be hashed
 * again by the next status). Wait until the file clock has moved past their times, at
 * most SETTLE_WAIT_NS, and record them as trusted (see statcache.h). */
static int settle_restored(planner *p)
{
    int64_t deadline = 0;
    for (size_t i = 0; i < p->n_restored; i++) {
        int64_t visible = dv_statcache_change_visible_ns(&p->restored[i].st);
        if (visible > deadline)
            deadline = visible;
    }
    int64_t now = dv_statcache_file_clock_ns();
    for (int64_t waited = 0; now < deadline && waited < SETTLE_WAIT_NS; waited += 1000000) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        now = dv_statcache_file_clock_ns();
    }
    for (size_t i = 0; i < p->n_restored; i++) {
        const restored *r = &p->restored[i];
        int64_t visible = dv_statcache_change_visible_ns(&r->st);
        if (!visible || visible > now)
            continue; /* stays racy: the next status hashes it once */
        const action *a = &p->actions[r->action];
        int error =
            dv_statcache_update_written(dv_worktree_statcache(p->wt), a->relpath, &r->st, &a->id);
        if (error < 0)
            return error;
    }
    return 0;
}

/*
 * The file restore_file replaces, if it is still as planned and its manifest is at
 * hand; a missed chance to read from it costs only speed, so failures leave old
 * without a file and no error.
 */
static int open_old(old_file *old, planner *p, const action *a, const char *path)
{
    int error = 0;
    struct stat st;
    dv_buf raw = DV_BUF_INIT;
    dv_manifest m = DV_MANIFEST_INIT;
    old->fd = -1;
    old->map = NULL;
    if (!a->has_old)
        return 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !dv_fs_same_file(&st, &a->old_st))
        goto done;
    if (dv_manifest_read(&m, &raw, p->odb, &a->old_id, a->relpath) < 0 ||
        m.size != (uint64_t)st.st_size)
        goto done;
    if ((error = dv_chunkmap_new(&old->map, &m)) < 0)
        goto done;
    old->fd = fd;
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    if (!error)
        dv_error_clear();
    dv_buf_release(&raw);
    dv_manifest_release(&m);
    return error;
}

static void close_old(old_file *old)
{
    if (old->fd >= 0)
        close(old->fd);
    dv_chunkmap_free(old->map);
    old->fd = -1;
    old->map = NULL;
}

static int restore_file(planner *p, const action *a, dv_pool *pool)
{
    int error, fd = -1;
    dv_buf raw = DV_BUF_INIT, tmp = DV_BUF_INIT, path = DV_BUF_INIT;
    dv_manifest m = DV_MANIFEST_INIT;
    old_file old = {-1, NULL};
    if ((error = dv_manifest_read(&m, &raw, p->odb, &a->id, a->relpath)) < 0 ||
        (error = dv_repo_abspath(&path, p->repo, a->relpath)) < 0)
        goto done;
    mode_t mode = (a->mode == DV_MODE_EXEC ? 0777 : 0666) & ~p->umask_bits;
    int64_t started_ns = dv_fs_now_ns();
    if ((error = make_temp(p, &fd, &tmp, path.ptr, mode)) < 0)
        goto done;
    struct stat st, old_st;
    int replacing = lstat(path.ptr, &old_st) == 0 && S_ISREG(old_st.st_mode);
    if ((error = open_old(&old, p, a, path.ptr)) < 0 ||
        (error = restore_content(fd, p, &m, tmp.ptr, pool, &old, replacing)) < 0 ||
        (fchmod(fd, mode) < 0 && (error = dv_error_errno("cannot chmod %s", tmp.ptr)) < 0)) {
        close(fd);
        unlink(tmp.ptr);
        goto done;
    }
    close_old(&old);
    if (fstat(fd, &st) < 0) {
        error = dv_error_errno("cannot stat %s", tmp.ptr);
        close(fd);
        unlink(tmp.ptr);
        goto done;
    }
    if ((error = dv_fs_commit_tmp(fd, tmp.ptr, path.ptr, 0)) < 0)
        goto done;
    /* the rename may change the ctime (ext4 does): stat the final name */
    struct stat final_st;
    if (lstat(path.ptr, &final_st) == 0 && final_st.st_ino == st.st_ino &&
        final_st.st_dev == st.st_dev)
        st = final_st;
    if ((error = dv_statcache_update(dv_worktree_statcache(p->wt), a->relpath, &st, &a->id,
                                     started_ns)) < 0 ||
        (error = note_restored(p, a, &st)) < 0)
        goto done;
    p->result->files_restored++;
    p->result->bytes_restored += m.size;
done:
    close_old(&old);
    dv_buf_release(&raw);
    dv_buf_release(&tmp);
    dv_buf_release(&path);
    dv_manifest_release(&m);
    if (error < 0)
        error = dv_error_wrap(error, "cannot restore %s", a->relpath);
    return error;
}

static int restore_link(planner *p, const action *a)
{
    int error;
    dv_buf target = DV_BUF_INIT, tmp = DV_BUF_INIT, path = DV_BUF_INIT, dir = DV_BUF_INIT;
    if ((error = dv_odb_read(&target, NULL, p->odb, &a->id)) < 0 ||
        (error = dv_repo_abspath(&path, p->repo, a->relpath)) < 0 ||
        (error = dv_fs_dirname(&dir, path.ptr)) < 0)
        goto done;
    if (memchr(target.ptr, '\0', target.len)) {
        error = dv_error_set(DV_ECORRUPT, "symlink target for %s contains a NUL byte", a->relpath);
        goto done;
    }
    struct stat st;
    const char *link_dir =
        stat(dir.ptr, &st) == 0 && st.st_dev == p->tmp_dev ? p->tmp_dir.ptr : dir.ptr;
    for (int attempt = 0;; attempt++) {
        if ((error = dv_buf_printf(&tmp, "%s/.dv-link-%ld-%d", link_dir, (long)getpid(), attempt)) <
            0)
            goto done;
        if (symlink(target.ptr, tmp.ptr) == 0)
            break;
        if (errno != EEXIST || attempt > 100) {
            error = dv_error_errno("cannot create symlink %s", tmp.ptr);
            goto done;
        }
        dv_buf_clear(&tmp);
    }
    if (rename(tmp.ptr, path.ptr) < 0) {
        error = dv_error_errno("cannot rename %s to %s", tmp.ptr, path.ptr);
        unlink(tmp.ptr);
        goto done;
    }
    p->result->files_restored++;
done:
    dv_buf_release(&target);
    dv_buf_release(&tmp);
    dv_buf_release(&path);
    dv_buf_release(&dir);
    return error;
}

static int remove_tree(dv_buf *path)
{
    struct stat st;
    if (lstat(path->ptr, &st) < 0)
        return errno == ENOENT ? 0 : dv_error_errno("cannot stat %s", path->ptr);
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path->ptr) < 0 && errno != ENOENT)
            return dv_error_errno("cannot remove %s", path->ptr);
        return 0;
    }
    size_t len = path->len;
    int error = 0;
    DIR *d = opendir(path->ptr);
    if (!d)
        return dv_error_errno("cannot read directory %s", path->ptr);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if ((error = dv_buf_printf(path, "/%s", de->d_name)) < 0)
            break;
        error = remove_tree(path);
        dv_buf_truncate(path, len);
        if (error < 0)
            break;
    }
    closedir(d);
    if (!error && rmdir(path->ptr) < 0)
        error = dv_error_errno("cannot remove directory %s", path->ptr);
    return error;
}

static int execute(planner *p, dv_pool *pool)
{
    int error = 0;
    dv_buf path = DV_BUF_INIT;
    for (size_t i = 0; i < p->n_actions && !error; i++) {
        const action *a = &p->actions[i];
        if ((error = dv_repo_abspath(&path, p->repo, a->relpath)) < 0)
            break;
        switch (a->kind) {
        case ACT_REMOVE:
            if ((error = remove_tree(&path)) == 0)
                p->result->removed++;
            dv_statcache_remove(dv_worktree_statcache(p->wt), a->relpath);
            dv_statcache_remove_under(dv_worktree_statcache(p->wt), a->relpath);
            break;
        case ACT_MKDIR:
            if (mkdir(path.ptr, 0777 & ~p->umask_bits) < 0 && errno != EEXIST)
                error = dv_error_errno("cannot create directory %s", a->relpath);
            break;
        case ACT_WRITE_FILE:
            error = restore_file(p, a, pool);
            break;
        case ACT_WRITE_LINK:
            error = restore_link(p, a);
            break;
        case ACT_CHMOD:
            if (chmod(path.ptr, (a->mode == DV_MODE_EXEC ? 0777 : 0666) & ~p->umask_bits) < 0)
                error = dv_error_errno("cannot change the mode of %s", a->relpath);
            else
                p->result->files_restored++;
            break;
        }
    }
    dv_buf_release(&path);
    return error;
}

int dv_checkout(dv_checkout_result *result, dv_repo *repo, const char *const *filters,
                size_t n_filters, const dv_checkout_options *opts)
{
    int error;
    char **pointers = NULL;
    size_t n_pointers = 0;
    dv_pool *pool = NULL;
    planner p = {0};
    dv_checkout_options default_opts = {0};
    memset(result, 0, sizeof(*result));
    p.repo = repo;
    p.opts = opts ? opts : &default_opts;
    p.result = result;
    p.abs = (dv_buf)DV_BUF_INIT;
    p.tmp_dir = (dv_buf)DV_BUF_INIT;
    p.umask_bits = umask(022);
    umask(p.umask_bits);
    if ((error = dv_status__match_pointers(&pointers, &n_pointers, repo, filters, n_filters)) < 0)
        return error;
    dv_worktree_options wopts = {0};
    struct stat tmp_st;
    if ((error = dv_worktree_open(&p.wt, repo, &wopts)) < 0 ||
        (error = dv_repo_odb(&p.odb, repo)) < 0 || (error = dv_repo_clean_tmp(repo)) < 0 ||
        (error = dv_repo_tmp_dir(&p.tmp_dir, repo)) < 0)
        goto done;
    if (stat(p.tmp_dir.ptr, &tmp_st) < 0) {
        error = dv_error_errno("cannot stat %s", p.tmp_dir.ptr);
        goto done;
    }
    p.tmp_dev = tmp_st.st_dev;
    dv_buf pointer_abs = DV_BUF_INIT;
    for (size_t i = 0; i < n_pointers; i++) {
        dv_pointer ptr;
        if ((error = dv_repo_abspath(&pointer_abs, repo, pointers[i])) < 0)
            break;
        error = dv_pointer_read(&ptr, pointer_abs.ptr);
        if (error == DV_ECORRUPT || error == DV_ENOTFOUND) {
            dv_buf note = DV_BUF_INIT;
            dv_buf_puts(&note, dv_error_last());
            error = dv_path_list_add(&result->bad_pointers, note.ptr);
            dv_buf_release(&note);
            if (error < 0)
                break;
            continue;
        }
        if (error < 0)
            break;
        pointers[i][strlen(pointers[i]) - strlen(DV_POINTER_SUFFIX)] = '\0';
        if (!dv_odb_has(p.odb, &ptr.oid)) {
            error = dv_error_set(DV_ENOTFOUND,
                                 "the content of %s (%s %s) is not in the local store "
                                 "(run dv pull, or dv add it from a work tree that has it)",
                                 pointers[i], dv_pointer_kind_name(ptr.kind), dv_oid_hex(&ptr.oid));
            break;
        }
        if ((error = plan_create(&p, pointers[i], dv_pointer_mode(&ptr), &ptr.oid, ptr.size)) < 0)
            break;
    }
    dv_buf_release(&pointer_abs);
    if (error < 0)
        goto done;
    if (result->conflicts.n) {
        error = dv_error_set(DV_ECONFLICT,
                             "%zu path%s with changes that are not in the store would be "
                             "overwritten; run dv add to keep them, or dv checkout --force to "
                             "discard them",
                             result->conflicts.n, result->conflicts.n == 1 ? "" : "s");
        goto done;
    }
    if (p.opts->planned) {
        uint64_t bytes = 0;
        for (size_t i = 0; i < p.n_actions; i++)
            if (p.actions[i].kind == ACT_WRITE_FILE)
                bytes += p.actions[i].size;
        p.opts->planned(p.opts->progress_ctx, bytes);
    }
    if ((error = dv_pool_new(&pool, dv_pool_default_threads())) < 0 ||
        (error = execute(&p, pool)) < 0 || (error = settle_restored(&p)) < 0)
        goto done;
done:
    if (p.wt)
        dv_worktree_save(p.wt);
    for (size_t i = 0; i < n_pointers; i++)
        free(pointers[i]);
    free(pointers);
    for (size_t i = 0; i < p.n_actions; i++)
        free(p.actions[i].relpath);
    free(p.actions);
    free(p.restored);
    dv_pool_free(pool);
    dv_worktree_free(p.wt);
    dv_buf_release(&p.abs);
    dv_buf_release(&p.tmp_dir);
    return error;
}
