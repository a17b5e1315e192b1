/*
 * checkout: restore work-tree data from the store.
 *
 * Two walks over the same trees: the first checks everything (names, depth, the total
 * number of entries, what would be overwritten) and writes nothing; the second makes
 * the changes as it goes. Each holds one decoded tree and one directory listing a
 * level, so memory is bounded by the tree depth times one level, whatever a tree DAG
 * expands to. Every change is made relative to the open directory that holds it, a
 * directory opened from its parent with O_NOFOLLOW: nothing is written through a
 * symbolic link, including one this checkout made itself.
 */
#include "core/ops/checkout.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/pathname.h"
#include "core/base/tempfile.h"
#include "core/base/wtfs.h"
#include "core/data/chunkmap.h"
#include "core/data/objread.h"
#include "core/data/subpath.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/presence.h"
#include "core/ops/reach.h"
#include "core/ops/status.h"
#include "core/repo/worktree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_WAIT_NS (100 * 1000000ll) /* longest wait for the file clock to move on */

typedef struct restored {
    char *relpath;
    dv_oid id;
    struct stat st;
} restored;

/* Entries below each tree, counted once per distinct tree. */
typedef struct tree_count {
    dv_oid id;
    uint64_t entries;
} tree_count;

typedef struct walker {
    dv_repo *repo;
    dv_worktree *wt;
    dv_odb *odb;
    const dv_checkout_options *opts;
    dv_checkout_result *result;
    int applying;            /* 0: the walk that checks, 1: the walk that writes */
    uint64_t bytes_to_write; /* found by the walk that checks */
    mode_t umask_bits;
    dv_buf tmp_dir; /* .dv/tmp */
    int tmp_fd;
    dev_t tmp_dev;
    restored *restored; /* files written, for their stat-cache entries */
    size_t n_restored, alloc_restored;
    dv_pool *pool;
    tree_count *counts; /* open addressing, cap a power of two */
    size_t n_counts, cap_counts;
    uint64_t entries;              /* entries the pointers expand to */
    dv_remote_index *remote_index; /* the default remote's cached indexes, once looked for */
    char *remote_name;
    int remote_looked;
    dv_odb *partial; /* <cache>/partial, once a path inside a directory needed it */
    int partial_looked;
    pthread_mutex_t progress_lock; /* opts->progress is called by one thread at a time */
} walker;

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

/* ---- the size of what the pointers name ---- */

static size_t count_slot(const walker *w, const dv_oid *id)
{
    size_t s = 0;
    memcpy(&s, id->id, sizeof(s));
    return s & (w->cap_counts - 1);
}

static tree_count *count_find(walker *w, const dv_oid *id)
{
    if (!w->cap_counts)
        return NULL;
    for (size_t s = count_slot(w, id);; s = (s + 1) & (w->cap_counts - 1)) {
        tree_count *c = &w->counts[s];
        if (c->entries == UINT64_MAX)
            return NULL; /* empty slot */
        if (!dv_oid_cmp(&c->id, id))
            return c;
    }
}

static int count_put(walker *w, const dv_oid *id, uint64_t entries)
{
    if ((w->n_counts + 1) * 2 > w->cap_counts) {
        size_t cap = w->cap_counts ? w->cap_counts * 2 : 256;
        tree_count *old = w->counts;
        size_t old_cap = w->cap_counts;
        if (!(w->counts = malloc(cap * sizeof(*w->counts)))) {
            w->counts = old;
            return dv_error_set(DV_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < cap; i++)
            w->counts[i].entries = UINT64_MAX;
        w->cap_counts = cap;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i].entries == UINT64_MAX)
                continue;
            size_t s = count_slot(w, &old[i].id);
            while (w->counts[s].entries != UINT64_MAX)
                s = (s + 1) & (cap - 1);
            w->counts[s] = old[i];
        }
        free(old);
    }
    size_t s = count_slot(w, id);
    while (w->counts[s].entries != UINT64_MAX)
        s = (s + 1) & (w->cap_counts - 1);
    w->counts[s].id = *id;
    w->counts[s].entries = entries;
    w->n_counts++;
    return 0;
}

static int read_tree(dv_tree *tree, walker *w, const dv_oid *id, const char *relpath)
{
    dv_buf raw = DV_BUF_INIT;
    int error = dv_odb_read(&raw, NULL, w->odb, id);
    if (!error)
        error = dv_tree_decode_in(tree, raw.ptr, raw.len, relpath);
    dv_buf_release(&raw);
    if (error < 0)
        error = dv_error_wrap(error, "%s/ (tree %s)", relpath, dv_oid_hex(id));
    return error;
}

/*
 * The entries below the tree id, each distinct tree decoded once, so a small DAG that
 * names one subtree many times is measured without being expanded. Decoding checks
 * every name, so a tree holding a name dv never writes is refused here, before the
 * walks.
 */
static int count_tree(uint64_t *out, walker *w, const dv_oid *id, const char *relpath,
                      unsigned depth)
{
    const tree_count *known = count_find(w, id);
    if (known) {
        *out = known->entries;
        return 0;
    }
    if (depth > DV_CHECKOUT_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT,
                            "%s: directories nested more than %d deep (tree %s); dv refuses to "
                            "restore it",
                            relpath, DV_CHECKOUT_MAX_DEPTH, dv_oid_hex(id));
    dv_tree tree = DV_TREE_INIT;
    dv_buf child = DV_BUF_INIT;
    uint64_t total = 0;
    int error = read_tree(&tree, w, id, relpath);
    for (size_t i = 0; !error && i < tree.n_entries; i++) {
        const dv_tree_entry *e = &tree.entries[i];
        uint64_t below = 0;
        if (e->mode == DV_MODE_DIR &&
            ((error = dv_worktree_child(&child, relpath, e->name)) < 0 ||
             (error = count_tree(&below, w, &e->id, child.ptr, depth + 1)) < 0))
            break;
        total += 1 + below; /* both at most DV_CHECKOUT_MAX_ENTRIES + 1: no overflow */
        if (total > DV_CHECKOUT_MAX_ENTRIES)
            break;
    }
    if (!error && total > DV_CHECKOUT_MAX_ENTRIES)
        total = DV_CHECKOUT_MAX_ENTRIES + 1; /* saturated: the caller refuses */
    if (!error)
        error = count_put(w, id, total);
    if (!error)
        *out = total;
    dv_buf_release(&child);
    dv_tree_release(&tree);
    return error;
}

/* ---- the two walks ---- */

/* Is the content id of a work-tree file safe to overwrite: in the store, or, by its cached
 * indexes, on the default remote (content dv drop deleted here, which the file still
 * matches)? */
static int saved(walker *w, const dv_oid *id)
{
    if (dv_odb_has(w->odb, id))
        return 1;
    if (!w->remote_looked) {
        w->remote_looked = 1;
        if (dv_presence_cached(&w->remote_index, &w->remote_name, w->repo) < 0)
            dv_error_clear();
    }
    return w->remote_index && dv_remote_index_find(w->remote_index, id, NULL, NULL);
}

/* Unsaved data at relpath. The walk that checks lists it (a conflict, or with force
 * what is overwritten); found only by the walk that writes, it changed meanwhile. */
static int unsaved(walker *w, const char *relpath)
{
    if (!w->applying)
        return dv_path_list_add(w->opts->force ? &w->result->overwritten : &w->result->conflicts,
                                relpath);
    if (w->opts->force)
        return 0;
    return dv_error_set(DV_ECONFLICT,
                        "%s changed while dv checkout ran and its content is not in the store; "
                        "run dv add to keep it, or dv checkout --force to discard it",
                        relpath);
}

/* Open the directory name in dirfd, which must not be a symlink. */
static int open_child_dir(int *out, int dirfd, const char *name, const char *relpath)
{
    *out = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*out >= 0)
        return 0;
    if (errno == ELOOP || errno == ENOTDIR)
        return dv_error_set(DV_ECORRUPT,
                            "%s is no longer a directory (a symbolic link or a file appeared "
                            "there); dv never writes through it",
                            relpath);
    return dv_error_errno("cannot open directory %s", relpath);
}

/* Can the item name in dirfd (lstat st) be removed without losing data that is not in
 * the store? */
static int check_removable(walker *w, int dirfd, const char *name, const char *relpath,
                           const struct stat *st)
{
    int error = 0;
    dv_oid id;
    uint64_t size;
    if (S_ISREG(st->st_mode)) {
        if ((error = dv_worktree_file_id(&id, &size, w->wt, relpath, st)) < 0)
            return error;
        return saved(w, &id) ? 0 : unsaved(w, relpath);
    }
    if (S_ISLNK(st->st_mode)) {
        if ((error = dv_worktree_link_id(&id, &size, w->wt, relpath)) < 0)
            return error;
        return saved(w, &id) ? 0 : unsaved(w, relpath);
    }
    if (!S_ISDIR(st->st_mode))
        return unsaved(w, relpath);
    int fd;
    dv_worktree_names names;
    dv_buf child = DV_BUF_INIT;
    if ((error = open_child_dir(&fd, dirfd, name, relpath)) < 0 ||
        (error = dv_worktree_list_fd(&names, fd, relpath)) < 0)
        return error;
    for (size_t i = 0; i < names.n && !error; i++) {
        struct stat cst;
        if ((error = dv_worktree_child(&child, relpath, names.names[i])) < 0)
            break;
        if (fstatat(names.dirfd, names.names[i], &cst, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        error = check_removable(w, names.dirfd, names.names[i], child.ptr, &cst);
    }
    dv_worktree_names_free(&names);
    dv_buf_release(&child);
    return error;
}

static int remove_item(walker *w, int dirfd, const char *name, const char *relpath,
                       const struct stat *st)
{
    int error;
    if ((error = check_removable(w, dirfd, name, relpath, st)) < 0 || !w->applying)
        return error;
    if ((error = dv_wtfs_remove_tree(dirfd, name, relpath)) < 0)
        return error;
    w->result->removed++;
    dv_statcache_remove(dv_worktree_statcache(w->wt), relpath);
    return dv_statcache_remove_under(dv_worktree_statcache(w->wt), relpath);
}

static int restore_file(walker *w, int dirfd, const char *name, const char *relpath,
                        const dv_oid *id, uint8_t mode, const dv_oid *old_id,
                        const struct stat *old_st);
static int restore_link(walker *w, int dirfd, const char *name, const char *relpath,
                        const dv_oid *id);
static int restore_new_dir(walker *w, int dirfd, const char *name, const char *relpath,
                           const dv_oid *tree_id, int *done);
static int walk_item(walker *w, int dirfd, const char *name, const char *relpath, uint8_t mode,
                     const dv_oid *id, uint64_t size, unsigned depth);

/*
 * The directory name in dirfd holds tree_id. dirfd is -1 in the walk that checks when
 * the directory above does not exist yet; exists says whether this one does.
 */
static int walk_dir(walker *w, int dirfd, const char *name, const char *relpath,
                    const dv_oid *tree_id, int exists, unsigned depth)
{
    int error, fd = -1;
    dv_buf child = DV_BUF_INIT;
    dv_tree tree = DV_TREE_INIT;
    dv_worktree_names names = DV_WORKTREE_NAMES_INIT;
    if ((error = read_tree(&tree, w, tree_id, relpath)) < 0)
        goto done;
    if (exists || w->applying) {
        if ((error = open_child_dir(&fd, dirfd, name, relpath)) < 0)
            goto done;
        if ((error = dv_worktree_list_fd(&names, fd, relpath)) < 0)
            goto done;
    }
    dv_worktree_walk walk = {0, 0};
    const dv_tree_entry *e;
    const char *on_disk;
    while (dv_worktree_walk_next(&walk, &tree, &names, &e, &on_disk)) {
        const char *child_name = e ? e->name : on_disk;
        if ((error = dv_worktree_child(&child, relpath, child_name)) < 0)
            goto done;
        if (e) {
            error =
                walk_item(w, names.dirfd, e->name, child.ptr, e->mode, &e->id, e->size, depth + 1);
        } else {
            /* Not in the recorded version: remove it, unless it is something dv add
             * skips (fifos, sockets, devices), which is not ours to remove. */
            struct stat st;
            if (fstatat(names.dirfd, on_disk, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
                error = remove_item(w, names.dirfd, on_disk, child.ptr, &st);
        }
        if (error < 0)
            goto done;
    }
done:
    dv_buf_release(&child);
    dv_tree_release(&tree);
    dv_worktree_names_free(&names);
    return error;
}

/* Make name in dirfd (work-tree path relpath) hold (mode, id). dirfd is -1 when its
 * directory does not exist yet (in the walk that checks). */
static int walk_item(walker *w, int dirfd, const char *name, const char *relpath, uint8_t mode,
                     const dv_oid *id, uint64_t size, unsigned depth)
{
    int error;
    struct stat st;
    int present = dirfd >= 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!present && dirfd >= 0 && errno != ENOENT)
        return dv_error_errno("cannot stat %s", relpath);
    if (present) {
        dv_oid current;
        uint64_t current_size;
        if ((mode == DV_MODE_FILE || mode == DV_MODE_EXEC) && S_ISREG(st.st_mode)) {
            if ((error = dv_worktree_file_id(&current, &current_size, w->wt, relpath, &st)) < 0)
                return error;
            if (!dv_oid_cmp(&current, id)) {
                int want_exec = mode == DV_MODE_EXEC, is_exec = (st.st_mode & S_IXUSR) != 0;
                if (want_exec == is_exec) {
                    w->result->unchanged += w->applying;
                    return 0;
                }
                if (!w->applying)
                    return 0;
                int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                mode_t bits = (want_exec ? 0777 : 0666) & ~w->umask_bits;
                if (fd < 0 || fchmod(fd, bits) < 0) {
                    error = dv_error_errno("cannot change the mode of %s", relpath);
                    if (fd >= 0)
                        close(fd);
                    return error;
                }
                close(fd);
                w->result->files_restored++;
                return 0;
            }
            int in_store = dv_odb_has(w->odb, &current);
            if (!in_store && !saved(w, &current) && (error = unsaved(w, relpath)) < 0)
                return error;
            if (!w->applying) {
                w->bytes_to_write += size;
                return 0;
            }
            return restore_file(w, dirfd, name, relpath, id, mode, in_store ? &current : NULL, &st);
        }
        if (mode == DV_MODE_SYMLINK && S_ISLNK(st.st_mode)) {
            if ((error = dv_worktree_link_id(&current, &current_size, w->wt, relpath)) < 0)
                return error;
            if (!dv_oid_cmp(&current, id)) {
                w->result->unchanged += w->applying;
                return 0;
            }
            if (!saved(w, &current) && (error = unsaved(w, relpath)) < 0)
                return error;
            return w->applying ? restore_link(w, dirfd, name, relpath, id) : 0;
        }
        if (mode == DV_MODE_DIR && S_ISDIR(st.st_mode))
            return walk_dir(w, dirfd, name, relpath, id, 1, depth);
        /* The type changed: remove what is there first. */
        if ((error = remove_item(w, dirfd, name, relpath, &st)) < 0)
            return error;
    }
    switch (mode) {
    case DV_MODE_DIR:
        if (w->applying) {
            int done = 0;
            if ((error = restore_new_dir(w, dirfd, name, relpath, id, &done)) < 0 || done)
                return error;
        }
        if (w->applying && mkdirat(dirfd, name, 0777 & ~w->umask_bits) < 0 && errno != EEXIST)
            return dv_error_errno("cannot create directory %s", relpath);
        return walk_dir(w, dirfd, name, relpath, id, 0, depth);
    case DV_MODE_SYMLINK:
        return w->applying ? restore_link(w, dirfd, name, relpath, id) : 0;
    default:
        if (!w->applying) {
            w->bytes_to_write += size;
            return 0;
        }
        return restore_file(w, dirfd, name, relpath, id, mode, NULL, NULL);
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
    dv_pack_runs runs;                 /* the entries' bytes as read */
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
    for (size_t i = 0; i < g->n; i++) {
        if (g->from_old[i] ||
            !dv_odb_locate(&g->packs[i], &g->entries[i], g->odb, &g->chunks[i].id)) {
            g->packs[i] = NULL;
            continue;
        }
        if ((error = dv_pack_check_bounds(g->packs[i], &g->entries[i])) < 0)
            return error;
    }
    return dv_pack_read_runs(&g->runs, g->packs, g->entries, g->n, g->bytes);
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

static int restore_content(int fd, walker *p, const dv_manifest *m, const char *tmp_path,
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
        if (p->opts->progress) {
            pthread_mutex_lock(&p->progress_lock);
            p->opts->progress(p->opts->progress_ctx, bytes);
            pthread_mutex_unlock(&p->progress_lock);
        }
    }
done:
    for (int gi = 0; gi < RESTORE_GROUPS; gi++) {
        if (groups[gi].submitted)
            dv_pool_drain(pool, &groups[gi].task);
        dv_pack_runs_release(&groups[gi].runs);
        dv_buf_release(&groups[gi].old_bytes);
        for (int i = 0; i < RESTORE_GROUP_CHUNKS; i++)
            dv_buf_release(&groups[gi].bufs[i]);
    }
    return error;
}

/* A temp file to be renamed to name in dirfd: in .dv/tmp when that is on the same file
 * system (so an interrupted checkout leaves nothing in the work tree), else beside it.
 * *tmp_dirfd is the directory the temp file is in (not to be closed). */
static int make_temp(walker *w, int *fd, int *tmp_dirfd, dv_buf *tmp, int dirfd, const char *name,
                     mode_t mode)
{
    struct stat st;
    if (fstat(dirfd, &st) == 0 && st.st_dev == w->tmp_dev) {
        *tmp_dirfd = w->tmp_fd;
        return dv_wtfs_tmpfile(fd, tmp, w->tmp_fd, "restore-", mode);
    }
    dv_buf prefix = DV_BUF_INIT;
    int error = dv_buf_printf(&prefix, ".%s.tmp-", name);
    *tmp_dirfd = dirfd;
    if (!error)
        error = dv_wtfs_tmpfile(fd, tmp, dirfd, prefix.ptr, mode);
    dv_buf_release(&prefix);
    return error;
}

/* The full path of the temp file name in tmp_dirfd (.dv/tmp, or the directory of
 * relpath), for the registry that removes temp files on a signal. */
static int register_temp(dv_buf *full, walker *w, int tmp_dirfd, const char *relpath,
                         const char *name)
{
    int error;
    dv_buf_clear(full);
    if (tmp_dirfd == w->tmp_fd) {
        error = dv_buf_printf(full, "%s/%s", w->tmp_dir.ptr, name);
    } else {
        const char *slash = strrchr(relpath, '/');
        dv_buf dir = DV_BUF_INIT;
        error = dv_buf_put(&dir, relpath, slash ? (size_t)(slash - relpath) : 0);
        if (!error)
            error = dv_repo_abspath(full, w->repo, dir.ptr);
        if (!error)
            error = dv_buf_printf(full, "/%s", name);
        dv_buf_release(&dir);
    }
    if (!error)
        error = dv_tempfile_register(full->ptr);
    return error;
}

static int note_restored(walker *w, const char *relpath, const dv_oid *id, const struct stat *st)
{
    if (w->n_restored == w->alloc_restored) {
        size_t n = w->alloc_restored ? w->alloc_restored * 2 : 64;
        restored *grown = realloc(w->restored, n * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        w->restored = grown;
        w->alloc_restored = n;
    }
    restored *r = &w->restored[w->n_restored];
    if (!(r->relpath = strdup(relpath)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    r->id = *id;
    r->st = *st;
    w->n_restored++;
    return 0;
}

/* The entries of the files just written were recorded as racy (they would be hashed
 * again by the next status). Wait until the file clock has moved past their times, at
 * most SETTLE_WAIT_NS, and record them as trusted (see statcache.h). */
static int settle_restored(walker *w)
{
    int64_t deadline = 0;
    for (size_t i = 0; i < w->n_restored; i++) {
        int64_t visible = dv_statcache_change_visible_ns(&w->restored[i].st);
        if (visible > deadline)
            deadline = visible;
    }
    int64_t now = dv_statcache_file_clock_ns();
    for (int64_t waited = 0; now < deadline && waited < SETTLE_WAIT_NS; waited += 1000000) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        now = dv_statcache_file_clock_ns();
    }
    for (size_t i = 0; i < w->n_restored; i++) {
        const restored *r = &w->restored[i];
        int64_t visible = dv_statcache_change_visible_ns(&r->st);
        if (!visible || visible > now)
            continue; /* stays racy: the next status hashes it once */
        int error =
            dv_statcache_update_written(dv_worktree_statcache(w->wt), r->relpath, &r->st, &r->id);
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
static int open_old(old_file *old, walker *w, int dirfd, const char *name, const char *relpath,
                    const dv_oid *old_id, const struct stat *old_st)
{
    int error = 0;
    struct stat st;
    dv_buf raw = DV_BUF_INIT;
    dv_manifest m = DV_MANIFEST_INIT;
    old->fd = -1;
    old->map = NULL;
    if (!old_id)
        return 0;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !dv_fs_same_file(&st, old_st))
        goto done;
    if (dv_manifest_read(&m, &raw, w->odb, old_id, relpath) < 0 || m.size != (uint64_t)st.st_size)
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

/* The content of a plain manifest m, or of each part of list in turn (one part's
 * chunk list in memory at a time). */
static int restore_parts(int fd, walker *w, dv_manifest *m, const dv_manifest_list *list,
                         const dv_oid *list_id, dv_buf *raw, const char *tmp_path,
                         const old_file *old, int replacing, dv_pool *pool)
{
    int error = 0;
    if (!list->n_parts)
        return restore_content(fd, w, m, tmp_path, pool, old, replacing);
    for (size_t i = 0; i < list->n_parts && !error; i++)
        if (!(error = dv_manifest_read_part(m, raw, w->odb, list, i, list_id, tmp_path)))
            error = restore_content(fd, w, m, tmp_path, pool, old, replacing);
    return error;
}

/* Write the content id (mode) to name in dirfd, through a temp file renamed over it.
 * old_id, when set, is the content of the file there now (lstat old_st), in the store. */
static int restore_file(walker *w, int dirfd, const char *name, const char *relpath,
                        const dv_oid *id, uint8_t mode, const dv_oid *old_id,
                        const struct stat *old_st)
{
    int error, fd = -1, tmp_dirfd = -1;
    dv_buf raw = DV_BUF_INIT, tmp = DV_BUF_INIT, full = DV_BUF_INIT;
    dv_manifest m = DV_MANIFEST_INIT;
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    old_file old = {-1, NULL};
    if ((error = dv_manifest_read_top(&m, &list, &raw, w->odb, id, relpath)) < 0)
        goto done;
    mode_t bits = (mode == DV_MODE_EXEC ? 0777 : 0666) & ~w->umask_bits;
    int64_t started_ns = dv_fs_now_ns();
    if ((error = make_temp(w, &fd, &tmp_dirfd, &tmp, dirfd, name, bits)) < 0)
        goto done;
    if ((error = register_temp(&full, w, tmp_dirfd, relpath, tmp.ptr)) < 0) {
        close(fd);
        unlinkat(tmp_dirfd, tmp.ptr, 0);
        goto done;
    }
    struct stat st, now_st;
    int replacing =
        fstatat(dirfd, name, &now_st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(now_st.st_mode);
    if ((error = open_old(&old, w, dirfd, name, relpath, old_id, old_st)) < 0 ||
        (error = restore_parts(fd, w, &m, &list, id, &raw, tmp.ptr, &old, replacing, w->pool)) <
            0 ||
        (fchmod(fd, bits) < 0 && (error = dv_error_errno("cannot chmod %s", tmp.ptr)) < 0) ||
        (fstat(fd, &st) < 0 && (error = dv_error_errno("cannot stat %s", tmp.ptr)) < 0)) {
        close(fd);
        unlinkat(tmp_dirfd, tmp.ptr, 0);
        goto done;
    }
    close_old(&old);
    if (close(fd) < 0) {
        error = dv_error_errno("cannot write %s", relpath);
        unlinkat(tmp_dirfd, tmp.ptr, 0);
        goto done;
    }
    if (renameat(tmp_dirfd, tmp.ptr, dirfd, name) < 0) {
        error = dv_error_errno("cannot rename a temp file to %s", relpath);
        unlinkat(tmp_dirfd, tmp.ptr, 0);
        goto done;
    }
    /* the rename may change the ctime (ext4 does): stat the final name */
    struct stat final_st;
    if (fstatat(dirfd, name, &final_st, AT_SYMLINK_NOFOLLOW) == 0 && final_st.st_ino == st.st_ino &&
        final_st.st_dev == st.st_dev)
        st = final_st;
    if ((error = dv_statcache_update(dv_worktree_statcache(w->wt), relpath, &st, id, started_ns)) <
            0 ||
        (error = note_restored(w, relpath, id, &st)) < 0)
        goto done;
    w->result->files_restored++;
    w->result->bytes_restored += list.n_parts ? list.size : m.size;
done:
    if (full.len)
        dv_tempfile_forget(full.ptr); /* renamed into place, or unlinked above */
    close_old(&old);
    dv_buf_release(&raw);
    dv_buf_release(&tmp);
    dv_buf_release(&full);
    dv_manifest_release(&m);
    dv_manifest_list_release(&list);
    if (error < 0)
        error = dv_error_wrap(error, "cannot restore %s", relpath);
    return error;
}

static int restore_link(walker *w, int dirfd, const char *name, const char *relpath,
                        const dv_oid *id)
{
    int error;
    dv_buf target = DV_BUF_INIT, tmp = DV_BUF_INIT, full = DV_BUF_INIT;
    if ((error = dv_odb_read(&target, NULL, w->odb, id)) < 0)
        goto done;
    if (memchr(target.ptr, '\0', target.len)) {
        error = dv_error_set(DV_ECORRUPT, "symlink target for %s contains a NUL byte", relpath);
        goto done;
    }
    struct stat st;
    int link_dirfd = fstat(dirfd, &st) == 0 && st.st_dev == w->tmp_dev ? w->tmp_fd : dirfd;
    for (int attempt = 0;; attempt++) {
        if ((error = dv_buf_printf(&tmp, ".dv-link-%ld-%d", (long)getpid(), attempt)) < 0)
            goto done;
        if (symlinkat(target.ptr, link_dirfd, tmp.ptr) == 0) {
            if ((error = register_temp(&full, w, link_dirfd, relpath, tmp.ptr)) < 0) {
                unlinkat(link_dirfd, tmp.ptr, 0);
                goto done;
            }
            break;
        }
        if (errno != EEXIST || attempt > 100) {
            error = dv_error_errno("cannot create symlink %s", relpath);
            goto done;
        }
        dv_buf_clear(&tmp);
    }
    if (renameat(link_dirfd, tmp.ptr, dirfd, name) < 0) {
        error = dv_error_errno("cannot rename a new symlink to %s", relpath);
        unlinkat(link_dirfd, tmp.ptr, 0);
        goto done;
    }
    w->result->files_restored++;
done:
    if (full.len)
        dv_tempfile_forget(full.ptr);
    dv_buf_release(&target);
    dv_buf_release(&tmp);
    dv_buf_release(&full);
    return error;
}

/* ---- a directory that does not exist yet ---- */

/*
 * A directory the work tree lacks holds nothing of the user's, so it is built whole in
 * a directory of its own in .dv/tmp, which nobody else writes in: each file is created
 * there under its own name (O_CREAT | O_EXCL | O_NOFOLLOW), written and closed, without
 * a temp file and a rename per file; then the directory is renamed into place, where it
 * appears complete. An interrupted checkout leaves it in .dv/tmp (removed by the next
 * command), never a half-written file in the work tree. The entries of its top level
 * that has more than one are shared out among the pool's workers (a subdirectory, or a
 * file, an item), so both cores create files, each in directories of its own.
 */

/* What one thread restored inside a new directory: its stat-cache entries and counts. */
typedef struct new_files {
    restored *files;
    int64_t *started_ns;
    size_t n, alloc;
    uint64_t files_restored, bytes_restored;
    dv_buf raw; /* scratch: the manifest being read */
} new_files;

typedef struct new_dir {
    walker *w;
    const dv_tree *tree;
    int dirfd;             /* the directory being built (its top level, for the pool's items) */
    const char *relpath;   /* its work-tree path */
    new_files *per_thread; /* one per pool worker, then one for the calling thread */
    dv_pool *pool;         /* for the content of a big file; NULL on a worker */
} new_dir;

static int new_files_add(new_files *nf, const char *relpath, const dv_oid *id,
                         const struct stat *st, int64_t started_ns)
{
    if (nf->n == nf->alloc) {
        size_t n = nf->alloc ? nf->alloc * 2 : 256;
        restored *files = realloc(nf->files, n * sizeof(*files));
        if (!files)
            return dv_error_set(DV_ENOMEM, "out of memory");
        nf->files = files;
        int64_t *started = realloc(nf->started_ns, n * sizeof(*started));
        if (!started)
            return dv_error_set(DV_ENOMEM, "out of memory");
        nf->started_ns = started;
        nf->alloc = n;
    }
    if (!(nf->files[nf->n].relpath = strdup(relpath)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    nf->files[nf->n].id = *id;
    nf->files[nf->n].st = *st;
    nf->started_ns[nf->n] = started_ns;
    nf->n++;
    return 0;
}

static void new_files_release(new_files *nf)
{
    for (size_t i = 0; i < nf->n; i++)
        free(nf->files[i].relpath);
    free(nf->files);
    free(nf->started_ns);
    dv_buf_release(&nf->raw);
    memset(nf, 0, sizeof(*nf));
}

/* Create name in dirfd (a directory of this checkout's own) holding the content id. */
static int new_file(new_files *nf, walker *w, int dirfd, const char *name, const char *relpath,
                    const dv_oid *id, uint8_t mode, dv_pool *pool)
{
    int error, fd = -1;
    dv_manifest m = DV_MANIFEST_INIT;
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    struct stat st;
    if ((error = dv_manifest_read_top(&m, &list, &nf->raw, w->odb, id, relpath)) < 0)
        goto done;
    /* the umask is applied to these bits again, which changes nothing */
    mode_t bits = (mode == DV_MODE_EXEC ? 0777 : 0666) & ~w->umask_bits;
    int64_t started_ns = dv_fs_now_ns();
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, bits);
    if (fd < 0) {
        error = dv_error_errno("cannot create %s", relpath);
        goto done;
    }
    if ((error = restore_parts(fd, w, &m, &list, id, &nf->raw, relpath, &(old_file){-1, NULL}, 0,
                               pool)) < 0)
        goto done;
    if (fstat(fd, &st) < 0) {
        error = dv_error_errno("cannot stat %s", relpath);
        goto done;
    }
    int closed = close(fd);
    fd = -1;
    if (closed < 0) {
        error = dv_error_errno("cannot write %s", relpath);
        goto done;
    }
    if ((error = new_files_add(nf, relpath, id, &st, started_ns)) < 0)
        goto done;
    nf->files_restored++;
    nf->bytes_restored += list.n_parts ? list.size : m.size;
done:
    if (fd >= 0)
        close(fd);
    dv_manifest_release(&m);
    dv_manifest_list_release(&list);
    if (error < 0)
        error = dv_error_wrap(error, "cannot restore %s", relpath);
    return error;
}

static int new_link(new_files *nf, walker *w, int dirfd, const char *name, const char *relpath,
                    const dv_oid *id)
{
    dv_buf target = DV_BUF_INIT;
    int error = dv_odb_read(&target, NULL, w->odb, id);
    if (!error && memchr(target.ptr, '\0', target.len))
        error = dv_error_set(DV_ECORRUPT, "symlink target for %s contains a NUL byte", relpath);
    if (!error && symlinkat(target.ptr, dirfd, name) < 0)
        error = dv_error_errno("cannot create symlink %s", relpath);
    if (!error)
        nf->files_restored++;
    dv_buf_release(&target);
    return error;
}

static int new_dir_fill(new_dir *nd, int dirfd, const char *relpath, const dv_oid *tree_id,
                        new_files *nf, dv_pool *pool);

/* The entry e of a directory being built (dirfd, relpath): made, and filled if it is one. */
static int new_entry(walker *w, int dirfd, const char *relpath, const dv_tree_entry *e,
                     new_files *nf, dv_pool *pool, new_dir *nd)
{
    dv_buf child = DV_BUF_INIT;
    int error, fd = -1;
    if ((error = dv_worktree_child(&child, relpath, e->name)) < 0)
        goto done;
    switch (e->mode) {
    case DV_MODE_DIR:
        if (mkdirat(dirfd, e->name, 0777 & ~w->umask_bits) < 0) {
            error = dv_error_errno("cannot create directory %s", child.ptr);
            goto done;
        }
        if ((error = open_child_dir(&fd, dirfd, e->name, child.ptr)) < 0)
            goto done;
        error = new_dir_fill(nd, fd, child.ptr, &e->id, nf, pool);
        break;
    case DV_MODE_SYMLINK:
        error = new_link(nf, w, dirfd, e->name, child.ptr, &e->id);
        break;
    default:
        error = new_file(nf, w, dirfd, e->name, child.ptr, &e->id, e->mode, pool);
        break;
    }
done:
    if (fd >= 0)
        close(fd);
    dv_buf_release(&child);
    return error;
}

/* The pool task: one entry of the level that is shared out. */
static int new_dir_item(void *ctx, size_t item, int worker)
{
    new_dir *nd = ctx;
    return new_entry(nd->w, nd->dirfd, nd->relpath, &nd->tree->entries[item],
                     &nd->per_thread[worker], NULL, nd);
}

/* Fill dirfd (work-tree path relpath, empty, made by this checkout) with the tree. The
 * first level with more than one entry goes to the pool when pool is set. */
static int new_dir_fill(new_dir *nd, int dirfd, const char *relpath, const dv_oid *tree_id,
                        new_files *nf, dv_pool *pool)
{
    walker *w = nd->w;
    dv_tree tree = DV_TREE_INIT;
    int error = read_tree(&tree, w, tree_id, relpath);
    if (!error && pool && tree.n_entries > 1) {
        nd->tree = &tree;
        nd->dirfd = dirfd;
        nd->relpath = relpath;
        dv_pool_task task;
        dv_pool_submit(pool, &task, new_dir_item, nd, tree.n_entries);
        error = dv_pool_wait(pool, &task);
    } else {
        for (size_t i = 0; !error && i < tree.n_entries; i++)
            error = new_entry(w, dirfd, relpath, &tree.entries[i], nf, pool, nd);
    }
    dv_tree_release(&tree);
    return error;
}

/* Make a directory with a random name in .dv/tmp; its name goes to name_out. */
static int make_temp_dir(dv_buf *name_out, walker *w)
{
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t t = (uint64_t)dv_fs_now_ns() ^ ((uint64_t)getpid() << 40) ^ (uint64_t)attempt;
        dv_buf_clear(name_out);
        int error = dv_buf_puts(name_out, "restore-dir-");
        for (int i = 0; i < 10 && !error; i++, t /= sizeof(digits) - 1)
            error = dv_buf_putc(name_out, digits[t % (sizeof(digits) - 1)]);
        if (error < 0)
            return error;
        if (mkdirat(w->tmp_fd, name_out->ptr, 0777 & ~w->umask_bits) == 0)
            return 0;
        if (errno != EEXIST)
            return dv_error_errno("cannot create a directory in %s", w->tmp_dir.ptr);
    }
    return dv_error_set(DV_EIO, "cannot create a directory in %s: too many exist", w->tmp_dir.ptr);
}

/*
 * Restore the tree id as the directory name in dirfd, which does not exist, by building
 * it in .dv/tmp and renaming it into place. *done is 0 when that cannot be done here
 * (.dv/tmp is on another file system): the caller makes the directory and walks it.
 */
static int restore_new_dir(walker *w, int dirfd, const char *name, const char *relpath,
                           const dv_oid *tree_id, int *done)
{
    struct stat st;
    *done = 0;
    if (fstat(dirfd, &st) < 0 || st.st_dev != w->tmp_dev)
        return 0;
    int error, fd = -1, made = 0;
    int n_threads = dv_pool_threads(w->pool);
    dv_buf tmp = DV_BUF_INIT;
    new_dir nd = {w, NULL, -1, NULL, NULL, w->pool};
    if (!(nd.per_thread = calloc((size_t)n_threads + 1, sizeof(*nd.per_thread)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i <= n_threads; i++)
        nd.per_thread[i].raw = (dv_buf)DV_BUF_INIT;
    if ((error = make_temp_dir(&tmp, w)) < 0)
        goto done;
    made = 1;
    if ((error = open_child_dir(&fd, w->tmp_fd, tmp.ptr, relpath)) < 0 ||
        (error = new_dir_fill(&nd, fd, relpath, tree_id, &nd.per_thread[n_threads], w->pool)) < 0)
        goto done;
    /*
     * A directory renamed over a name replaces only an empty directory (over a file, a
     * symlink or a directory that holds anything, rename fails), so nothing that
     * appeared there meanwhile is lost.
     */
    if (renameat(w->tmp_fd, tmp.ptr, dirfd, name) < 0) {
        error = errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR || errno == EISDIR
                    ? dv_error_set(DV_ECONFLICT,
                                   "%s appeared while dv checkout ran; nothing was written "
                                   "there (run dv checkout again)",
                                   relpath)
                    : dv_error_errno("cannot rename a new directory to %s", relpath);
        goto done;
    }
    made = 0;
    *done = 1;
    /* The files keep their inodes and times through the rename of their directory. */
    dv_statcache *cache = dv_worktree_statcache(w->wt);
    for (int t = 0; t <= n_threads && !error; t++) {
        new_files *nf = &nd.per_thread[t];
        w->result->files_restored += nf->files_restored;
        w->result->bytes_restored += nf->bytes_restored;
        for (size_t i = 0; i < nf->n && !error; i++) {
            restored *r = &nf->files[i];
            if ((error = dv_statcache_update(cache, r->relpath, &r->st, &r->id,
                                             nf->started_ns[i])) < 0 ||
                (error = note_restored(w, r->relpath, &r->id, &r->st)) < 0)
                break;
        }
    }
done:
    if (fd >= 0)
        close(fd);
    if (made) { /* failed: what was built goes, and the first error stays the one reported */
        dv_error_state kept;
        int code = dv_error_state_capture(&kept, error);
        int removed = dv_wtfs_remove_tree(w->tmp_fd, tmp.ptr, tmp.ptr);
        error = dv_error_state_restore(&kept);
        (void)code;
        (void)removed; /* left for the next command's cleaning of .dv/tmp */
    }
    for (int i = 0; nd.per_thread && i <= n_threads; i++)
        new_files_release(&nd.per_thread[i]);
    free(nd.per_thread);
    dv_buf_release(&tmp);
    return error;
}

typedef struct checkout_root {
    char *path; /* the data path: the pointer path without ".dv"; or a path inside it */
    dv_pointer ptr; /* a path inside: what its tree entry names (kind, id, size) */
    int part;       /* a path inside a tracked directory: its pointer is not written, and the
                       directories above it are made when missing */
} checkout_root;

/* One walk over every pointer's data. */
static int walk_roots(walker *w, const checkout_root *roots, size_t n)
{
    int error = 0;
    for (size_t i = 0; i < n && !error; i++) {
        int dirfd = -1;
        const char *leaf, *slash = strrchr(roots[i].path, '/');
        int flags = roots[i].part && w->applying ? DV_WTFS_CREATE : 0;
        error = dv_wtfs_open_parent(&dirfd, &leaf, w->repo->workdir_fd, roots[i].path, flags);
        if (error == DV_ENOTFOUND && roots[i].part && !w->applying && slash) {
            /* the directories above are made by the walk that writes */
            dv_error_clear();
            error = walk_item(w, -1, slash + 1, roots[i].path, dv_pointer_mode(&roots[i].ptr),
                              &roots[i].ptr.oid, roots[i].ptr.size, 0);
            continue;
        }
        if (error < 0 && roots[i].part) {
            error = dv_error_wrap(error, "cannot restore %s", roots[i].path);
            break;
        }
        if (error < 0) {
            error = dv_error_wrap(DV_ECORRUPT, "cannot restore %s", roots[i].path);
            break;
        }
        error = walk_item(w, dirfd, leaf, roots[i].path, dv_pointer_mode(&roots[i].ptr),
                          &roots[i].ptr.oid, roots[i].ptr.size, 0);
        close(dirfd);
    }
    return error;
}

/* Refuse a root whose data the store lacks or that expands to more than the checkout may
 * write. */
static int check_root(walker *w, const checkout_root *r)
{
    int error = 0;
    if (!dv_odb_has(w->odb, &r->ptr.oid)) {
        if (w->opts->rev)
            return dv_error_set(DV_ENOTFOUND,
                                "the content of %s at revision %s (%s %s) is not in the local "
                                "store; run dv fetch --rev %s (or dv pull --rev %s)",
                                r->path, dv_rev_name(w->opts->rev),
                                dv_pointer_kind_name(r->ptr.kind), dv_oid_hex(&r->ptr.oid),
                                dv_rev_name(w->opts->rev), dv_rev_name(w->opts->rev));
        return dv_error_set(DV_ENOTFOUND,
                            "the content of %s (%s %s) is not in the local store "
                            "(run dv fetch first, or dv add it from a work tree that has it)",
                            r->path, dv_pointer_kind_name(r->ptr.kind), dv_oid_hex(&r->ptr.oid));
    }
    uint64_t below = 0;
    if (r->ptr.kind == DV_KIND_DIR && (error = count_tree(&below, w, &r->ptr.oid, r->path, 0)) < 0)
        return error;
    w->entries += 1 + below;
    if (w->entries > DV_CHECKOUT_MAX_ENTRIES)
        return dv_error_set(DV_ECORRUPT,
                            "%s (%s) expands to more than %llu files and directories, the "
                            "limit of one checkout; dv refuses to restore it (a tree that "
                            "names the same subtree over and over?)",
                            r->path, dv_oid_hex(&r->ptr.oid),
                            (unsigned long long)DV_CHECKOUT_MAX_ENTRIES);
    return 0;
}

/* Find the object at path, inside the directory ptr (the pointer at data_relpath) names,
 * through trees in the store or, for those a fetch of the path brought, <cache>/partial. */
static int find_part(checkout_root *out, walker *w, const char *path, const char *data_relpath,
                     const dv_pointer *ptr)
{
    int error = 0;
    if (!w->partial_looked) {
        w->partial_looked = 1;
        if ((error = dv_repo_partial_odb(&w->partial, w->repo, 0)) < 0)
            return error;
    }
    memset(out, 0, sizeof(*out));
    if ((error = dv_subpath_pointer(&out->ptr, path, data_relpath, ptr, w->odb, w->partial)) < 0)
        return error;
    if (!(out->path = strdup(path)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    out->part = 1;
    return 0;
}

/* Room for n more roots. */
static int grow_roots(checkout_root **roots, size_t *alloc, size_t n_roots, size_t n)
{
    if (n_roots + n <= *alloc)
        return 0;
    size_t want = (n_roots + n) * 2;
    checkout_root *grown = realloc(*roots, want * sizeof(*grown));
    if (!grown)
        return dv_error_set(DV_ENOMEM, "out of memory");
    *roots = grown;
    *alloc = want;
    return 0;
}

/* The roots a pointer gives under the filters: itself, or the paths asked for inside it. */
static int add_roots(walker *w, checkout_root **roots, size_t *n_roots, size_t *alloc,
                     const char *data_relpath, const dv_pointer *ptr, const char *const *filters,
                     size_t n_filters)
{
    size_t *parts = calloc(n_filters + 1, sizeof(*parts)), n_parts = 0;
    int error = 0;
    if (!parts)
        return dv_error_set(DV_ENOMEM, "out of memory");
    int select = dv_rev_path_select(parts, &n_parts, data_relpath, filters, n_filters);
    error = grow_roots(roots, alloc, *n_roots, select == DV_SELECT_PARTS ? n_parts : 1);
    if (!error && select == DV_SELECT_WHOLE) {
        checkout_root *r = &(*roots)[*n_roots];
        memset(r, 0, sizeof(*r));
        r->ptr = *ptr;
        if (!(r->path = strdup(data_relpath)))
            error = dv_error_set(DV_ENOMEM, "out of memory");
        else
            (*n_roots)++;
    }
    for (size_t i = 0; !error && select == DV_SELECT_PARTS && i < n_parts; i++)
        if ((error = find_part(&(*roots)[*n_roots], w, filters[parts[i]], data_relpath, ptr)) == 0)
            (*n_roots)++;
    free(parts);
    return error;
}

/* Read the staged pointers; one that cannot be read is listed and skipped. */
static int read_roots(walker *w, checkout_root **roots, size_t *n_roots, char **pointers,
                      size_t n_pointers, const char *const *filters, size_t n_filters)
{
    int error = 0;
    size_t alloc = 0;
    dv_buf data = DV_BUF_INIT;
    for (size_t i = 0; i < n_pointers && !error; i++) {
        dv_pointer ptr;
        error = dv_repo_read_pointer(&ptr, w->repo, pointers[i]);
        if (error == DV_ECORRUPT || error == DV_ENOTFOUND) {
            error = dv_path_list_add(&w->result->bad_pointers, dv_error_last());
            continue;
        }
        size_t first = *n_roots;
        dv_buf_truncate(&data, 0);
        if (error < 0 ||
            (error = dv_buf_put(&data, pointers[i],
                                strlen(pointers[i]) - strlen(DV_POINTER_SUFFIX))) < 0 ||
            (error = add_roots(w, roots, n_roots, &alloc, data.ptr, &ptr, filters, n_filters)) <
                0)
            break;
        for (size_t k = first; k < *n_roots && !error; k++)
            error = check_root(w, &(*roots)[k]);
    }
    dv_buf_release(&data);
    return error;
}

/* ---- the pointer files of a revision ---- */

/* What a checkout of a revision changes: its pointers (roots), and the staged pointers
 * under the filters that it lacks (gone, data paths). */
typedef struct rev_plan {
    checkout_root *roots;
    size_t n_roots, alloc_roots;
    dv_path_list gone;
    const char *const *filters;
    size_t n_filters;
    char *used; /* per filter: it names something at the revision or staged */
    walker *w;
} rev_plan;

static void note_filters(rev_plan *p, const char *data_relpath)
{
    for (size_t i = 0; i < p->n_filters; i++)
        if (dv_rev_path_matches(data_relpath, p->filters[i]))
            p->used[i] = 1;
}

static int plan_rev_pointer(void *ctx, const char *data_relpath, const dv_pointer *ptr)
{
    rev_plan *p = ctx;
    note_filters(p, data_relpath);
    return add_roots(p->w, &p->roots, &p->n_roots, &p->alloc_roots, data_relpath, ptr,
                     p->filters, p->n_filters);
}

static int cmp_root(const void *a, const void *b)
{
    return strcmp(((const checkout_root *)a)->path, ((const checkout_root *)b)->path);
}

static int plan_staged_pointer(void *ctx, const char *pointer_relpath)
{
    rev_plan *p = ctx;
    size_t len = strlen(pointer_relpath) - strlen(DV_POINTER_SUFFIX);
    char *data = strndup(pointer_relpath, len);
    int error = 0, wanted = !p->n_filters;
    if (!data)
        return dv_error_set(DV_ENOMEM, "out of memory");
    /* A staged pointer the revision lacks goes when asked for whole; a path inside it is
     * only ever restored (and refused when the revision lacks the pointer). */
    for (size_t i = 0; i < p->n_filters; i++)
        if (dv_rev_path_matches(data, p->filters[i]) && !dv_rev_path_inside(p->filters[i], data))
            wanted = p->used[i] = 1;
    checkout_root key = {data, {0}, 0};
    if (wanted && !(p->n_roots && bsearch(&key, p->roots, p->n_roots, sizeof(key), cmp_root))) {
        const char *problem = dv_pathname_check_path(data, NULL, NULL);
        error = problem ? dv_error_set(DV_ECORRUPT,
                                       "pointer file %s names a path dv never "
                                       "writes: %s",
                                       pointer_relpath, problem)
                        : dv_path_list_add(&p->gone, data);
    }
    free(data);
    return error;
}

/* The plan of a checkout of w->opts->rev: its pointers under the filters, each path checked,
 * every object they reach present; the staged ones it lacks. */
static int plan_rev(rev_plan *p, walker *w)
{
    p->w = w;
    dv_rev *rev = w->opts->rev;
    char **paths = NULL;
    int error = dv_rev_each_pointer(rev, p->filters, p->n_filters, plan_rev_pointer, p);
    if (!error && p->n_roots > 1)
        qsort(p->roots, p->n_roots, sizeof(*p->roots), cmp_root);
    if (!error)
        error = dv_repo_each_pointer(w->repo, plan_staged_pointer, p);
    for (size_t i = 0; !error && i < p->n_filters; i++)
        if (!p->used[i])
            error =
                dv_error_set(DV_EUSAGE, "%s is not tracked by dv at revision %s, nor staged in git",
                             p->filters[i][0] ? p->filters[i] : ".", dv_rev_name(rev));
    if (!error && !(paths = calloc(p->n_roots + 1, sizeof(*paths))))
        error = dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; !error && i < p->n_roots; i++)
        paths[i] = p->roots[i].path;
    if (!error)
        error = dv_rev_check_data_paths(paths, p->n_roots);
    free(paths);
    for (size_t i = 0; !error && i < p->n_roots; i++)
        error = check_root(w, &p->roots[i]);
    return error;
}

/* Every object the roots reach must be in the store before anything is written. */
typedef struct rev_reach {
    const rev_plan *plan;
    dv_buf name;
} rev_reach;

static const char *rev_root_name(void *ctx, uint32_t root)
{
    rev_reach *r = ctx;
    dv_buf_truncate(&r->name, 0);
    if (dv_buf_puts(&r->name, r->plan->roots[root].path) < 0)
        return "the data";
    return r->name.ptr;
}

static int check_reachable(walker *w, const rev_plan *p)
{
    dv_reach_item *items = calloc(p->n_roots + 1, sizeof(*items));
    rev_reach r = {p, DV_BUF_INIT};
    if (!items)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n_roots; i++) {
        items[i].id = p->roots[i].ptr.oid;
        items[i].type = p->roots[i].ptr.kind == DV_KIND_DIR       ? DV_OBJ_TREE
                        : p->roots[i].ptr.kind == DV_KIND_SYMLINK ? DV_OBJ_CHUNK
                                                                  : DV_OBJ_MANIFEST;
        items[i].root = (uint32_t)i;
    }
    dv_reach_ops ops = {NULL, NULL, NULL, NULL, rev_root_name, &r};
    int error = dv_reach_walk(w->odb, items, p->n_roots, &ops);
    if (error == DV_ENOTFOUND) {
        const char *name = dv_rev_name(w->opts->rev);
        error = dv_error_set(DV_ENOTFOUND,
                             "cannot check out revision %s: %s; run dv fetch --rev "
                             "%s (or dv pull --rev %s)",
                             name, dv_error_last(), name, name);
    }
    free(items);
    dv_buf_release(&r.name);
    return error;
}

/* The walk that checks, for a path the revision lacks: can its data go? The walk that
 * writes removes it. */
static int walk_gone(walker *w, const dv_path_list *gone)
{
    int error = 0;
    for (size_t i = 0; i < gone->n && !error; i++) {
        int dirfd = -1;
        const char *leaf;
        struct stat st;
        error = dv_wtfs_open_parent(&dirfd, &leaf, w->repo->workdir_fd, gone->paths[i], 0);
        if (error == DV_ENOTFOUND) {
            error = 0;
            continue;
        }
        if (error < 0)
            break;
        if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0)
            error = remove_item(w, dirfd, leaf, gone->paths[i], &st);
        else if (errno != ENOENT)
            error = dv_error_errno("cannot look at %s", gone->paths[i]);
        close(dirfd);
    }
    return error;
}

/* Write the revision's pointer files and stage them (with any .gitignore line their data
 * needs, as dv add writes); remove the pointer files of the paths it lacks, and unstage
 * them. */
static int write_rev_pointers(walker *w, const rev_plan *p)
{
    dv_buf text = DV_BUF_INIT, path = DV_BUF_INIT, ignore = DV_BUF_INIT;
    dv_path_list stage = {0}, unstage = {0};
    int error = 0;
    for (size_t i = 0; i < p->n_roots && !error; i++) {
        dv_pointer check;
        int written = 0, changed = 0;
        if (p->roots[i].part)
            continue; /* a path inside: its directory's pointer stays as it is */
        dv_buf_truncate(&path, 0);
        if ((error = dv_buf_printf(&path, "%s%s", p->roots[i].path, DV_POINTER_SUFFIX)) < 0 ||
            (error = dv_rev_read_pointer_text(&check, &text, w->opts->rev, path.ptr)) < 0 ||
            (error = dv_repo_write_pointer_text(&written, w->repo, path.ptr, text.ptr, text.len,
                                                DV_WTFS_CREATE)) < 0 ||
            (error = dv_path_list_add(&stage, path.ptr)) < 0 ||
            (error = dv_repo_ignore(&changed, &ignore, w->repo, p->roots[i].path)) < 0)
            break;
        w->result->pointers_written += (uint64_t)written;
        if (changed && ignore.len)
            error = dv_path_list_add(&stage, ignore.ptr);
    }
    for (size_t i = 0; i < p->gone.n && !error; i++) {
        int dirfd = -1;
        const char *leaf;
        dv_buf_truncate(&path, 0);
        if ((error = dv_buf_printf(&path, "%s%s", p->gone.paths[i], DV_POINTER_SUFFIX)) < 0)
            break;
        error = dv_wtfs_open_parent(&dirfd, &leaf, w->repo->workdir_fd, path.ptr, 0);
        if (!error && unlinkat(dirfd, leaf, 0) < 0 && errno != ENOENT)
            error = dv_error_errno("cannot remove %s", path.ptr);
        if (dirfd >= 0)
            close(dirfd);
        if (error == DV_ENOTFOUND)
            error = 0;
        if (!error)
            error = dv_path_list_add(&unstage, path.ptr);
        w->result->pointers_removed++;
    }
    if (!error && stage.n)
        error = dv_repo_stage(w->repo, (const char *const *)stage.paths, stage.n);
    if (!error && unstage.n)
        error = dv_repo_unstage(w->repo, (const char *const *)unstage.paths, unstage.n);
    dv_path_list_free(&stage);
    dv_path_list_free(&unstage);
    dv_buf_release(&text);
    dv_buf_release(&path);
    dv_buf_release(&ignore);
    return error;
}

int dv_checkout(dv_checkout_result *result, dv_repo *repo, const char *const *filters,
                size_t n_filters, const dv_checkout_options *opts)
{
    int error;
    char **pointers = NULL;
    size_t n_pointers = 0, n_roots = 0;
    checkout_root *roots = NULL;
    walker w = {0};
    dv_checkout_options default_opts = {0};
    rev_plan plan = {0};
    memset(result, 0, sizeof(*result));
    w.repo = repo;
    w.opts = opts ? opts : &default_opts;
    w.result = result;
    w.tmp_dir = (dv_buf)DV_BUF_INIT;
    w.tmp_fd = -1;
    w.umask_bits = umask(022);
    umask(w.umask_bits);
    pthread_mutex_init(&w.progress_lock, NULL);
    if (!w.opts->rev &&
        (error = dv_status__match_pointers(&pointers, &n_pointers, repo, filters, n_filters)) < 0)
        return error;
    dv_worktree_options wopts = {0};
    struct stat tmp_st;
    if ((error = dv_worktree_open(&w.wt, repo, &wopts)) < 0 ||
        (error = dv_repo_odb(&w.odb, repo)) < 0 || (error = dv_repo_clean_tmp(repo)) < 0 ||
        (error = dv_repo_tmp_dir(&w.tmp_dir, repo)) < 0)
        goto done;
    if ((w.tmp_fd = open(w.tmp_dir.ptr, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
        fstat(w.tmp_fd, &tmp_st) < 0) {
        error = dv_error_errno("cannot open %s", w.tmp_dir.ptr);
        goto done;
    }
    w.tmp_dev = tmp_st.st_dev;
    if (w.opts->rev) {
        plan.filters = filters;
        plan.n_filters = n_filters;
        if (!(plan.used = calloc(n_filters + 1, 1))) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
        if ((error = plan_rev(&plan, &w)) < 0 || (error = check_reachable(&w, &plan)) < 0)
            goto done;
        roots = plan.roots; /* lent: freed with the plan */
        n_roots = plan.n_roots;
    } else {
        if ((error = read_roots(&w, &roots, &n_roots, pointers, n_pointers, filters, n_filters)) <
            0)
            goto done;
    }
    if ((error = walk_gone(&w, &plan.gone)) < 0 || (error = walk_roots(&w, roots, n_roots)) < 0)
        goto done;
    if (result->conflicts.n) {
        error = dv_error_set(DV_ECONFLICT,
                             "%zu path%s with changes that are not in the store would be "
                             "overwritten; run dv add to keep them, or dv checkout --force to "
                             "discard them",
                             result->conflicts.n, result->conflicts.n == 1 ? "" : "s");
        goto done;
    }
    if (w.opts->planned)
        w.opts->planned(w.opts->progress_ctx, w.bytes_to_write);
    w.applying = 1;
    if (w.opts->rev && (error = write_rev_pointers(&w, &plan)) < 0)
        goto done;
    if ((error = dv_pool_new(&w.pool, dv_pool_default_threads())) < 0 ||
        (error = walk_gone(&w, &plan.gone)) < 0 || (error = walk_roots(&w, roots, n_roots)) < 0 ||
        (error = settle_restored(&w)) < 0)
        goto done;
done:
    if (w.wt)
        dv_worktree_save_cache(w.wt);
    for (size_t i = 0; i < n_pointers; i++)
        free(pointers[i]);
    free(pointers);
    for (size_t i = 0; roots != plan.roots && i < n_roots; i++)
        free(roots[i].path);
    if (roots != plan.roots)
        free(roots);
    for (size_t i = 0; i < plan.n_roots; i++)
        free(plan.roots[i].path);
    free(plan.roots);
    free(plan.used);
    dv_path_list_free(&plan.gone);
    for (size_t i = 0; i < w.n_restored; i++)
        free(w.restored[i].relpath);
    free(w.restored);
    free(w.counts);
    dv_remote_index_free(w.remote_index);
    dv_odb_free(w.partial);
    free(w.remote_name);
    dv_pool_free(w.pool);
    dv_worktree_free(w.wt);
    if (w.tmp_fd >= 0)
        close(w.tmp_fd);
    dv_buf_release(&w.tmp_dir);
    pthread_mutex_destroy(&w.progress_lock);
    return error;
}
