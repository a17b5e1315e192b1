/* diff: what changed in tracked data between two sides (diff.h). */
#include "core/ops/diff.h"

#include "core/base/buf.h"
#include "core/base/wtfs.h"
#include "core/data/objread.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/object/pointer.h"
#include "core/repo/worktree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIFF_MAX_DEPTH 1024

/* A tracked data path of one side and its pointer. */
typedef struct side_pointer {
    char *path;
    dv_pointer ptr;
} side_pointer;

typedef struct side_list {
    side_pointer *items;
    size_t n, alloc;
} side_list;

/* A changed file, held until renames are paired and the list is sorted. */
typedef struct change {
    char *path, *old_path;
    int status;
    dv_diff_side old_side, new_side;
    unsigned similarity;
} change;

typedef struct differ {
    dv_repo *repo;
    dv_odb *odb;
    dv_worktree *wt; /* the new side is the work tree's data */
    const char *const *filters;
    size_t n_filters;
    unsigned find_renames;
    int find_copies;
    char *used; /* per filter: it names something on a side */
    change *changes;
    size_t n, alloc;
    uint64_t not_checked_out;
    int similar_skipped;
    int reads_manifests;
    dv_oid *wants; /* objects to ask for in one batch (dv_odb_prefetch) */
    size_t n_wants, alloc_wants;
    dv_buf want_path;
} differ;

static int want_id(differ *d, const dv_oid *id)
{
    if (d->n_wants == d->alloc_wants) {
        size_t alloc = d->alloc_wants ? d->alloc_wants * 2 : 64;
        dv_oid *grown = realloc(d->wants, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        d->wants = grown;
        d->alloc_wants = alloc;
    }
    d->wants[d->n_wants++] = *id;
    return 0;
}

/* Put id on the batch asked for next, unless filters leave path (a child of dir) out. */
static int want(differ *d, const dv_oid *id, const char *dir, const char *name)
{
    if (d->n_filters) {
        dv_buf_truncate(&d->want_path, 0);
        int error = dir ? dv_buf_printf(&d->want_path, "%s/%s", dir, name)
                        : dv_buf_puts(&d->want_path, name);
        if (error < 0)
            return error;
        int any = 0;
        for (size_t i = 0; i < d->n_filters && !any; i++)
            any = dv_rev_path_matches(d->want_path.ptr, d->filters[i]);
        if (!any)
            return 0;
    }
    return want_id(d, id);
}

/* Ask for the batch: what the store lacks comes from a remote in a few ranged reads (when
 * one is attached, see ondemand) before the walk reads the objects one by one. */
static int fetch_wants(differ *d)
{
    int error = d->n_wants ? dv_odb_prefetch(d->odb, d->wants, d->n_wants) : 0;
    d->n_wants = 0;
    return error;
}

/* The manifests of the changed files, in one batch (a work-tree file has none in a store). */
static int want_manifests(differ *d)
{
    int error = 0;
    if (!dv_odb_fetches(d->odb))
        return 0;
    for (size_t i = 0; i < d->n && !error; i++) {
        const change *c = &d->changes[i];
        if (c->status != DV_DIFF_ADDED && c->old_side.kind == DV_KIND_FILE)
            error = want_id(d, &c->old_side.id);
        if (!error && c->status != DV_DIFF_DELETED && c->new_side.kind == DV_KIND_FILE &&
            !c->new_side.in_worktree)
            error = want_id(d, &c->new_side.id);
    }
    return error < 0 ? error : fetch_wants(d);
}

/* The subtrees of a that the walk enters: those b (may be NULL) lacks under the same name
 * and id, and with b, b's that a lacks so. */
static int want_subtrees(differ *d, const dv_tree *a, const dv_tree *b, const char *path)
{
    size_t i = 0, j = 0, nb = b ? b->n_entries : 0;
    int error = 0;
    if (!dv_odb_fetches(d->odb))
        return 0; /* everything is read from the store as it is */
    while (!error && (i < a->n_entries || j < nb)) {
        const dv_tree_entry *ea = i < a->n_entries ? &a->entries[i] : NULL;
        const dv_tree_entry *eb = j < nb ? &b->entries[j] : NULL;
        int cmp = !ea ? 1 : !eb ? -1 : strcmp(ea->name, eb->name);
        int same = cmp == 0 && ea->mode == eb->mode && !dv_oid_cmp(&ea->id, &eb->id);
        if (cmp <= 0 && !same && ea->mode == DV_MODE_DIR)
            error = want(d, &ea->id, path, ea->name);
        if (!error && cmp >= 0 && !same && eb->mode == DV_MODE_DIR)
            error = want(d, &eb->id, path, eb->name);
        i += cmp <= 0;
        j += cmp >= 0;
    }
    return error < 0 ? error : fetch_wants(d);
}

static void side_list_free(side_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].path);
    free(l->items);
}

static int wanted(const differ *d, const char *path)
{
    if (!d->n_filters)
        return 1;
    for (size_t i = 0; i < d->n_filters; i++)
        if (dv_rev_path_matches(path, d->filters[i]))
            return 1;
    return 0;
}

typedef struct collect_ctx {
    differ *d;
    side_list *list;
} collect_ctx;

static int collect(void *ctx, const char *data_relpath, const dv_pointer *p)
{
    collect_ctx *c = ctx;
    side_list *l = c->list;
    for (size_t i = 0; i < c->d->n_filters; i++)
        if (dv_rev_path_matches(data_relpath, c->d->filters[i]))
            c->d->used[i] = 1;
    if (l->n == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 16;
        side_pointer *items = realloc(l->items, alloc * sizeof(*items));
        if (!items)
            return dv_error_set(DV_ENOMEM, "out of memory");
        l->items = items;
        l->alloc = alloc;
    }
    if (!(l->items[l->n].path = strdup(data_relpath)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    l->items[l->n++].ptr = *p;
    return 0;
}

static int cmp_side(const void *a, const void *b)
{
    return strcmp(((const side_pointer *)a)->path, ((const side_pointer *)b)->path);
}

static int read_side(differ *d, side_list *out, dv_repo *repo, dv_rev *rev)
{
    collect_ctx c = {d, out};
    int error = rev ? dv_rev_each_pointer(rev, d->filters, d->n_filters, collect, &c)
                    : dv_rev_each_worktree_pointer(repo, d->filters, d->n_filters, collect, &c);
    if (!error && out->n > 1)
        qsort(out->items, out->n, sizeof(*out->items), cmp_side);
    return error;
}

static dv_diff_side side_of(uint8_t mode, uint64_t size, const dv_oid *id)
{
    dv_diff_side s = {mode == DV_MODE_SYMLINK ? DV_KIND_SYMLINK : DV_KIND_FILE, mode, size, *id, 0};
    return s;
}

static int add_change(differ *d, const char *path, int status, const dv_diff_side *old_side,
                      const dv_diff_side *new_side)
{
    if (!wanted(d, path))
        return 0;
    if (d->n == d->alloc) {
        size_t alloc = d->alloc ? d->alloc * 2 : 64;
        change *changes = realloc(d->changes, alloc * sizeof(*changes));
        if (!changes)
            return dv_error_set(DV_ENOMEM, "out of memory");
        d->changes = changes;
        d->alloc = alloc;
    }
    change *c = &d->changes[d->n];
    memset(c, 0, sizeof(*c));
    if (!(c->path = strdup(path)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    c->status = status;
    if (old_side)
        c->old_side = *old_side;
    if (new_side)
        c->new_side = *new_side;
    d->n++;
    return 0;
}

/* Every file below the tree id at path, as added (new) or deleted (!new). */
static int expand(differ *d, const dv_oid *id, const char *path, int is_new, unsigned depth)
{
    if (depth > DIFF_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "%s: directories nested more than %d deep", path,
                            DIFF_MAX_DEPTH);
    if (!wanted(d, path))
        return 0;
    dv_tree tree = DV_TREE_INIT;
    dv_buf child = DV_BUF_INIT;
    int error = dv_tree_read(&tree, d->odb, id, path);
    if (!error)
        error = want_subtrees(d, &tree, NULL, path);
    for (size_t i = 0; !error && i < tree.n_entries; i++) {
        const dv_tree_entry *e = &tree.entries[i];
        dv_buf_truncate(&child, 0);
        if ((error = dv_buf_printf(&child, "%s/%s", path, e->name)) < 0)
            break;
        if (e->mode == DV_MODE_DIR) {
            error = expand(d, &e->id, child.ptr, is_new, depth + 1);
        } else {
            dv_diff_side s = side_of(e->mode, e->size, &e->id);
            error = add_change(d, child.ptr, is_new ? DV_DIFF_ADDED : DV_DIFF_DELETED,
                               is_new ? NULL : &s, is_new ? &s : NULL);
        }
    }
    dv_buf_release(&child);
    dv_tree_release(&tree);
    return error;
}

/* One path whose two sides differ: a (may be absent, mode 0) against b. */
static int diff_item(differ *d, const char *path, uint8_t a_mode, const dv_oid *a_id,
                     uint64_t a_size, uint8_t b_mode, const dv_oid *b_id, uint64_t b_size,
                     unsigned depth);

static int diff_trees(differ *d, const dv_oid *a_id, const dv_oid *b_id, const char *path,
                      unsigned depth)
{
    if (depth > DIFF_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "%s: directories nested more than %d deep", path,
                            DIFF_MAX_DEPTH);
    if (!wanted(d, path))
        return 0;
    dv_tree a = DV_TREE_INIT, b = DV_TREE_INIT;
    dv_buf child = DV_BUF_INIT;
    int error = dv_tree_read(&a, d->odb, a_id, path);
    if (!error)
        error = dv_tree_read(&b, d->odb, b_id, path);
    if (!error)
        error = want_subtrees(d, &a, &b, path);
    size_t i = 0, j = 0;
    static const dv_oid none;
    while (!error && (i < a.n_entries || j < b.n_entries)) {
        const dv_tree_entry *ea = i < a.n_entries ? &a.entries[i] : NULL;
        const dv_tree_entry *eb = j < b.n_entries ? &b.entries[j] : NULL;
        int cmp = !ea ? 1 : !eb ? -1 : strcmp(ea->name, eb->name);
        dv_buf_truncate(&child, 0);
        if ((error = dv_buf_printf(&child, "%s/%s", path, cmp <= 0 ? ea->name : eb->name)) < 0)
            break;
        if (cmp < 0) {
            error = diff_item(d, child.ptr, ea->mode, &ea->id, ea->size, 0, &none, 0, depth + 1);
            i++;
        } else if (cmp > 0) {
            error = diff_item(d, child.ptr, 0, &none, 0, eb->mode, &eb->id, eb->size, depth + 1);
            j++;
        } else {
            if (ea->mode != eb->mode || dv_oid_cmp(&ea->id, &eb->id))
                error = diff_item(d, child.ptr, ea->mode, &ea->id, ea->size, eb->mode, &eb->id,
                                  eb->size, depth + 1);
            i++;
            j++;
        }
    }
    dv_buf_release(&child);
    dv_tree_release(&a);
    dv_tree_release(&b);
    return error;
}

static int diff_item(differ *d, const char *path, uint8_t a_mode, const dv_oid *a_id,
                     uint64_t a_size, uint8_t b_mode, const dv_oid *b_id, uint64_t b_size,
                     unsigned depth)
{
    int a_dir = a_mode == DV_MODE_DIR, b_dir = b_mode == DV_MODE_DIR;
    if (a_dir && b_dir)
        return diff_trees(d, a_id, b_id, path, depth);
    if (a_mode && !a_dir && b_mode && !b_dir) {
        dv_diff_side sa = side_of(a_mode, a_size, a_id), sb = side_of(b_mode, b_size, b_id);
        return add_change(d, path, DV_DIFF_MODIFIED, &sa, &sb);
    }
    int error = 0;
    if (a_mode) {
        dv_diff_side sa = side_of(a_mode, a_size, a_id);
        error = a_dir ? expand(d, a_id, path, 0, depth)
                      : add_change(d, path, DV_DIFF_DELETED, &sa, NULL);
    }
    if (!error && b_mode) {
        dv_diff_side sb = side_of(b_mode, b_size, b_id);
        error =
            b_dir ? expand(d, b_id, path, 1, depth) : add_change(d, path, DV_DIFF_ADDED, NULL, &sb);
    }
    return error;
}

/* ---- the work tree as the new side ------------------------------------------------------ */

static int diff_disk(differ *d, const char *path, uint8_t a_mode, const dv_oid *a_id,
                     uint64_t a_size, const struct stat *st, unsigned depth);

/* The directory relpath of the work tree against the tree a_id (NULL: none, all added). */
static int diff_tree_disk(differ *d, const dv_oid *a_id, const char *relpath, unsigned depth)
{
    if (depth > DIFF_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "%s: directories nested more than %d deep", relpath,
                            DIFF_MAX_DEPTH);
    if (!wanted(d, relpath))
        return 0;
    dv_tree tree = DV_TREE_INIT;
    dv_worktree_names names = DV_WORKTREE_NAMES_INIT;
    dv_buf child = DV_BUF_INIT;
    int error = a_id ? dv_tree_read(&tree, d->odb, a_id, relpath) : 0;
    if (!error)
        error = want_subtrees(d, &tree, NULL, relpath);
    if (!error)
        error = dv_worktree_list(&names, d->wt, relpath);
    dv_worktree_walk walk = {0, 0};
    const dv_tree_entry *e;
    const char *name;
    static const dv_oid none;
    while (!error && dv_worktree_walk_next(&walk, &tree, &names, &e, &name)) {
        if ((error = dv_worktree_child(&child, relpath, e ? e->name : name)) < 0)
            break;
        struct stat st;
        if (name) {
            int stat_errno = dv_worktree_name_stat(d->wt, &names, walk.name_index - 1, &st);
            if (stat_errno == ENOENT) {
                name = NULL; /* gone since the listing */
            } else if (stat_errno) {
                errno = stat_errno;
                error = dv_error_errno("cannot stat %s", child.ptr);
                break;
            }
        }
        if (!name) {
            if (e)
                error = diff_item(d, child.ptr, e->mode, &e->id, e->size, 0, &none, 0, depth + 1);
            continue;
        }
        error = diff_disk(d, child.ptr, e ? e->mode : 0, e ? &e->id : &none, e ? e->size : 0, &st,
                          depth + 1);
    }
    dv_buf_release(&child);
    dv_worktree_names_free(&names);
    dv_tree_release(&tree);
    return error;
}

/* path: a (mode a_mode, 0 when absent) against what the work tree holds there (st). */
static int diff_disk(differ *d, const char *path, uint8_t a_mode, const dv_oid *a_id,
                     uint64_t a_size, const struct stat *st, unsigned depth)
{
    static const dv_oid none;
    if (!wanted(d, path) && !S_ISDIR(st->st_mode))
        return 0;
    if (S_ISDIR(st->st_mode)) {
        if (a_mode == DV_MODE_DIR)
            return diff_tree_disk(d, a_id, path, depth);
        int error = a_mode ? diff_item(d, path, a_mode, a_id, a_size, 0, &none, 0, depth) : 0;
        return error ? error : diff_tree_disk(d, NULL, path, depth);
    }
    dv_diff_side b = {0, 0, 0, {{0}}, 1};
    int error;
    if (S_ISREG(st->st_mode)) {
        b.kind = DV_KIND_FILE;
        b.mode = (st->st_mode & S_IXUSR) ? DV_MODE_EXEC : DV_MODE_FILE;
        error = dv_worktree_file_id(&b.id, &b.size, d->wt, path, st);
    } else if (S_ISLNK(st->st_mode)) {
        b.kind = DV_KIND_SYMLINK;
        b.mode = DV_MODE_SYMLINK;
        error = dv_worktree_link_id(&b.id, &b.size, d->wt, path);
    } else {
        /* what dv add skips (a FIFO, a socket, a device) is not data */
        return a_mode ? diff_item(d, path, a_mode, a_id, a_size, 0, &none, 0, depth) : 0;
    }
    if (error < 0)
        return error;
    if (a_mode == b.mode && !dv_oid_cmp(a_id, &b.id))
        return 0;
    if (a_mode && a_mode != DV_MODE_DIR) {
        dv_diff_side a = side_of(a_mode, a_size, a_id);
        return add_change(d, path, DV_DIFF_MODIFIED, &a, &b);
    }
    if (a_mode && (error = diff_item(d, path, a_mode, a_id, a_size, 0, &none, 0, depth)) < 0)
        return error;
    return add_change(d, path, DV_DIFF_ADDED, NULL, &b);
}

/* A tracked path of the work tree (its pointer p) against a. Data that is not in the work
 * tree (never checked out) stands as its pointer file says. */
static int diff_worktree_path(differ *d, const char *path, uint8_t a_mode, const dv_oid *a_id,
                              uint64_t a_size, const dv_pointer *p)
{
    struct stat st;
    int error = dv_wtfs_lstat(&st, d->repo->workdir_fd, path);
    if (error == DV_ENOTFOUND) {
        dv_error_clear();
        d->not_checked_out++;
        uint8_t mode = dv_pointer_mode(p);
        if (a_mode == mode && !dv_oid_cmp(a_id, &p->oid))
            return 0;
        return diff_item(d, path, a_mode, a_id, a_size, mode, &p->oid, p->size, 0);
    }
    if (error < 0)
        return error;
    return diff_disk(d, path, a_mode, a_id, a_size, &st, 0);
}

static int cmp_change_path(const void *a, const void *b)
{
    return strcmp(((const change *)a)->path, ((const change *)b)->path);
}

/* Additions by content id, for pairing deletions with them. */
static int cmp_change_id(const void *a, const void *b)
{
    const change *x = *(const change *const *)a, *y = *(const change *const *)b;
    int c = dv_oid_cmp(&x->new_side.id, &y->new_side.id);
    return c ? c : strcmp(x->path, y->path);
}

/* A deleted file whose content and mode were added elsewhere is a rename: the pair becomes
 * one change at the new path. Each addition pairs with one deletion at most. */
static int pair_renames(differ *d)
{
    size_t n_added = 0;
    for (size_t i = 0; i < d->n; i++)
        n_added += d->changes[i].status == DV_DIFF_ADDED;
    if (!n_added)
        return 0;
    change **added = malloc(n_added * sizeof(*added));
    if (!added)
        return dv_error_set(DV_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->changes[i].status == DV_DIFF_ADDED)
            added[k++] = &d->changes[i];
    qsort(added, n_added, sizeof(*added), cmp_change_id);
    for (size_t i = 0; i < d->n; i++) {
        change *del = &d->changes[i];
        if (del->status != DV_DIFF_DELETED)
            continue;
        size_t lo = 0, hi = n_added;
        while (lo < hi) { /* the first addition of this id */
            size_t mid = lo + (hi - lo) / 2;
            if (dv_oid_cmp(&added[mid]->new_side.id, &del->old_side.id) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < n_added && !dv_oid_cmp(&added[lo]->new_side.id, &del->old_side.id); lo++) {
            change *add = added[lo];
            if (add->status != DV_DIFF_ADDED || add->new_side.mode != del->old_side.mode)
                continue;
            add->status = DV_DIFF_RENAMED;
            add->old_path = del->path;
            add->old_side = del->old_side;
            add->similarity = 100;
            del->path = NULL;
            del->status = 0; /* folded into the rename */
            break;
        }
    }
    free(added);
    return 0;
}

/* ---- copies ------------------------------------------------------------------------------ */

/* Additions by (id, mode), for looking sources up. */
static int cmp_addition(const void *a, const void *b)
{
    const change *x = *(const change *const *)a, *y = *(const change *const *)b;
    int c = dv_oid_cmp(&x->new_side.id, &y->new_side.id);
    return c                                      ? c
           : x->new_side.mode != y->new_side.mode ? (x->new_side.mode < y->new_side.mode ? -1 : 1)
                                                  : strcmp(x->path, y->path);
}

typedef struct copy_finder {
    change **want; /* additions not paired yet, by (id, mode) */
    size_t n_want, n_left;
} copy_finder;

/* The old side holds (mode, id) at path: the additions of that content are its copies. */
static int copy_source(copy_finder *f, const char *path, uint8_t mode, uint64_t size,
                       const dv_oid *id)
{
    size_t lo = 0, hi = f->n_want;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dv_oid_cmp(&f->want[mid]->new_side.id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < f->n_want && !dv_oid_cmp(&f->want[lo]->new_side.id, id); lo++) {
        change *add = f->want[lo];
        if (add->status != DV_DIFF_ADDED || add->new_side.mode != mode || add->old_path)
            continue;
        if (!(add->old_path = strdup(path)))
            return dv_error_set(DV_ENOMEM, "out of memory");
        add->status = DV_DIFF_COPIED;
        add->old_side = side_of(mode, size, id);
        add->similarity = 100;
        f->n_left--;
    }
    return 0;
}

/* Every file of the tree id at path, as a copy source, until no addition is left. */
static int copy_sources_below(differ *d, copy_finder *f, const dv_oid *id, const char *path,
                              unsigned depth)
{
    if (depth > DIFF_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "%s: directories nested more than %d deep", path,
                            DIFF_MAX_DEPTH);
    dv_tree tree = DV_TREE_INIT;
    dv_buf child = DV_BUF_INIT;
    int error = dv_tree_read(&tree, d->odb, id, path);
    for (size_t i = 0; !error && f->n_left && i < tree.n_entries; i++) {
        const dv_tree_entry *e = &tree.entries[i];
        dv_buf_truncate(&child, 0);
        if ((error = dv_buf_printf(&child, "%s/%s", path, e->name)) < 0)
            break;
        error = e->mode == DV_MODE_DIR ? copy_sources_below(d, f, &e->id, child.ptr, depth + 1)
                                       : copy_source(f, child.ptr, e->mode, e->size, &e->id);
    }
    dv_buf_release(&child);
    dv_tree_release(&tree);
    return error;
}

/* An addition (not of an empty file) whose content and mode a changed file had is a copy of
 * it; with find_copies, one of content the old side holds anywhere, of the first such file
 * in path order. */
static int pair_copies(differ *d, const side_list *old_pointers)
{
    copy_finder f = {NULL, 0, 0};
    for (size_t i = 0; i < d->n; i++)
        f.n_want += d->changes[i].status == DV_DIFF_ADDED && d->changes[i].new_side.size;
    if (!f.n_want)
        return 0;
    if (!(f.want = malloc(f.n_want * sizeof(*f.want))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->changes[i].status == DV_DIFF_ADDED && d->changes[i].new_side.size)
            f.want[k++] = &d->changes[i];
    qsort(f.want, f.n_want, sizeof(*f.want), cmp_addition);
    f.n_left = f.n_want;
    int error = 0;
    size_t n_changes = d->n;
    for (size_t i = 0; !error && f.n_left && i < n_changes; i++) {
        const change *c = &d->changes[i];
        if (c->status != DV_DIFF_MODIFIED && c->status != DV_DIFF_DELETED &&
            c->status != DV_DIFF_RENAMED)
            continue;
        if (c->old_side.kind && c->old_side.mode != DV_MODE_DIR)
            error = copy_source(&f, c->old_path ? c->old_path : c->path, c->old_side.mode,
                                c->old_side.size, &c->old_side.id);
    }
    for (size_t i = 0; !error && d->find_copies && f.n_left && i < old_pointers->n; i++) {
        const side_pointer *sp = &old_pointers->items[i];
        uint8_t mode = dv_pointer_mode(&sp->ptr);
        error = mode == DV_MODE_DIR ? copy_sources_below(d, &f, &sp->ptr.oid, sp->path, 0)
                                    : copy_source(&f, sp->path, mode, sp->ptr.size, &sp->ptr.oid);
    }
    free(f.want);
    return error;
}

/* ---- renames by shared chunks ------------------------------------------------------------- */

/* A chunk of a deleted file. */
typedef struct old_chunk {
    dv_oid id;
    uint32_t file; /* index into the deleted files */
    uint32_t len;
} old_chunk;

typedef struct chunk_list {
    old_chunk *items;
    size_t n, alloc;
    uint32_t file;
    int too_many;
} chunk_list;

static int cmp_old_chunk(const void *a, const void *b)
{
    const old_chunk *x = a, *y = b;
    int c = dv_oid_cmp(&x->id, &y->id);
    return c ? c : x->file < y->file ? -1 : x->file > y->file;
}

static int each_chunk(dv_odb *odb, const dv_oid *id, const char *path,
                      int (*fn)(void *ctx, const dv_manifest_entry *chunk), void *ctx);

static int collect_chunk(void *ctx, const dv_manifest_entry *chunk)
{
    chunk_list *l = ctx;
    if (l->n == DV_DIFF_SIMILAR_MAX_CHUNKS) {
        l->too_many = 1;
        return 1; /* stop */
    }
    if (l->n == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 1024;
        old_chunk *items = realloc(l->items, alloc * sizeof(*items));
        if (!items)
            return dv_error_set(DV_ENOMEM, "out of memory");
        l->items = items;
        l->alloc = alloc;
    }
    l->items[l->n++] = (old_chunk){chunk->id, l->file, chunk->len};
    return 0;
}

/* The chunks of one file (sorted, each once) into l, from its manifest; 0 and nothing when
 * the store lacks it. */
static int file_chunks(chunk_list *l, dv_odb *odb, const change *c, int new_side)
{
    const dv_diff_side *side = new_side ? &c->new_side : &c->old_side;
    size_t start = l->n;
    if (side->kind != DV_KIND_FILE || !side->size || !dv_odb_has(odb, &side->id))
        return 0;
    int error = each_chunk(odb, &side->id, c->path, collect_chunk, l);
    if (error == DV_ENOTFOUND) { /* a part of a manifest list is missing: leave it out */
        dv_error_clear();
        l->n = start;
        return 0;
    }
    if (error < 0 || l->too_many)
        return error < 0 ? error : 0;
    qsort(l->items + start, l->n - start, sizeof(*l->items), cmp_old_chunk);
    size_t kept = start;
    for (size_t i = start; i < l->n; i++)
        if (kept == start || dv_oid_cmp(&l->items[kept - 1].id, &l->items[i].id))
            l->items[kept++] = l->items[i];
    l->n = kept;
    return 0;
}

typedef struct candidate {
    unsigned score;
    uint32_t added, deleted;
} candidate;

static int cmp_candidate(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->deleted != y->deleted)
        return x->deleted < y->deleted ? -1 : 1;
    return x->added < y->added ? -1 : x->added > y->added;
}

/* Deleted and added files left unpaired whose bytes are mostly in chunks both hold are
 * renames, the best-scoring pairs first, each file in one pair at most. */
static int pair_similar(differ *d)
{
    change **del = NULL, **add = NULL;
    size_t n_del = 0, n_add = 0, n_cand = 0, alloc_cand = 0;
    chunk_list old = {NULL, 0, 0, 0, 0}, mine = {NULL, 0, 0, 0, 0};
    uint64_t *shared = NULL;
    uint32_t *touched = NULL;
    candidate *cand = NULL;
    int error = 0;
    for (size_t i = 0; i < d->n; i++) {
        change *c = &d->changes[i];
        n_del += c->status == DV_DIFF_DELETED && c->old_side.kind == DV_KIND_FILE;
        n_add += c->status == DV_DIFF_ADDED && c->new_side.kind == DV_KIND_FILE;
    }
    if (!n_del || !n_add || n_del > UINT32_MAX || n_add > UINT32_MAX)
        return 0;
    if (!(del = malloc(n_del * sizeof(*del))) || !(add = malloc(n_add * sizeof(*add))) ||
        !(shared = calloc(n_del, sizeof(*shared))) ||
        !(touched = malloc(n_del * sizeof(*touched)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    n_del = n_add = 0;
    for (size_t i = 0; i < d->n; i++) {
        change *c = &d->changes[i];
        if (c->status == DV_DIFF_DELETED && c->old_side.kind == DV_KIND_FILE)
            del[n_del++] = c;
        else if (c->status == DV_DIFF_ADDED && c->new_side.kind == DV_KIND_FILE)
            add[n_add++] = c;
    }
    int fetches = dv_odb_fetches(d->odb);
    for (size_t j = 0; fetches && j < n_del && !error; j++)
        error = want_id(d, &del[j]->old_side.id);
    for (size_t i = 0; fetches && i < n_add && !error; i++)
        if (!add[i]->new_side.in_worktree)
            error = want_id(d, &add[i]->new_side.id);
    if (!error)
        error = fetch_wants(d);
    for (size_t j = 0; j < n_del && !error && !old.too_many; j++) {
        old.file = (uint32_t)j;
        error = file_chunks(&old, d->odb, del[j], 0);
    }
    if (error < 0)
        goto done;
    if (old.too_many) {
        d->similar_skipped = 1;
        goto done;
    }
    if (old.n > 1)
        qsort(old.items, old.n, sizeof(*old.items), cmp_old_chunk);
    for (size_t i = 0; i < n_add && !error; i++) {
        mine.n = 0;
        mine.too_many = 0;
        if ((error = file_chunks(&mine, d->odb, add[i], 1)) < 0)
            break;
        size_t n_touched = 0;
        for (size_t m = 0; m < mine.n; m++) {
            size_t lo = 0, hi = old.n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (dv_oid_cmp(&old.items[mid].id, &mine.items[m].id) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < old.n && !dv_oid_cmp(&old.items[lo].id, &mine.items[m].id); lo++) {
                uint32_t j = old.items[lo].file;
                if (!shared[j])
                    touched[n_touched++] = j;
                shared[j] += mine.items[m].len;
            }
        }
        for (size_t t = 0; t < n_touched; t++) {
            uint32_t j = touched[t];
            uint64_t larger = add[i]->new_side.size > del[j]->old_side.size ? add[i]->new_side.size
                                                                            : del[j]->old_side.size;
            uint64_t both = shared[j] < larger ? shared[j] : larger;
            unsigned score = (unsigned)((double)both * 100.0 / (double)larger);
            shared[j] = 0;
            if (score < d->find_renames)
                continue;
            if (n_cand == alloc_cand) {
                size_t alloc = alloc_cand ? alloc_cand * 2 : 64;
                candidate *c = realloc(cand, alloc * sizeof(*c));
                if (!c) {
                    error = dv_error_set(DV_ENOMEM, "out of memory");
                    goto done;
                }
                cand = c;
                alloc_cand = alloc;
            }
            cand[n_cand++] = (candidate){score, (uint32_t)i, j};
        }
    }
    if (error < 0)
        goto done;
    if (n_cand > 1)
        qsort(cand, n_cand, sizeof(*cand), cmp_candidate);
    for (size_t k = 0; k < n_cand; k++) {
        change *a = add[cand[k].added], *r = del[cand[k].deleted];
        if (a->status != DV_DIFF_ADDED || r->status != DV_DIFF_DELETED)
            continue;
        a->status = DV_DIFF_RENAMED;
        a->old_path = r->path;
        a->old_side = r->old_side;
        a->similarity = cand[k].score;
        r->path = NULL;
        r->status = 0;
    }
done:
    free(del);
    free(add);
    free(shared);
    free(touched);
    free(cand);
    free(old.items);
    free(mine.items);
    return error;
}

static int emit_all(differ *d, dv_diff_fn fn, void *ctx, dv_diff_summary *summary)
{
    size_t kept = 0; /* the deletions folded into renames go */
    for (size_t i = 0; i < d->n; i++)
        if (d->changes[i].status)
            d->changes[kept++] = d->changes[i];
    d->n = kept;
    int error = d->reads_manifests ? want_manifests(d) : 0;
    if (d->n > 1)
        qsort(d->changes, d->n, sizeof(*d->changes), cmp_change_path);
    for (size_t i = 0; i < d->n && !error; i++) {
        const change *c = &d->changes[i];
        if (summary) {
            uint64_t before =
                c->status == DV_DIFF_ADDED || c->status == DV_DIFF_COPIED ? 0 : c->old_side.size;
            uint64_t after = c->status == DV_DIFF_DELETED ? 0 : c->new_side.size;
            summary->added += c->status == DV_DIFF_ADDED;
            summary->deleted += c->status == DV_DIFF_DELETED;
            summary->modified += c->status == DV_DIFF_MODIFIED;
            summary->renamed += c->status == DV_DIFF_RENAMED;
            summary->copied += c->status == DV_DIFF_COPIED;
            summary->old_bytes += before;
            summary->new_bytes += after;
            if (after > before)
                summary->bytes_added += after - before;
            else
                summary->bytes_removed += before - after;
        }
        dv_diff_entry e = {c->path,     c->old_path, c->status,
                           c->old_side, c->new_side, c->similarity};
        error = fn(ctx, &e);
    }
    return error;
}

/* a against b, or against the work tree's data when d->wt is set. */
static int diff_sides(differ *d, dv_rev *a, dv_rev *b, dv_diff_fn fn, void *ctx,
                      dv_diff_summary *summary)
{
    side_list la = {0}, lb = {0};
    int error = 0;
    if (summary)
        memset(summary, 0, sizeof(*summary));
    if (!d->used)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if ((error = dv_repo_odb(&d->odb, d->repo)) < 0 ||
        (error = read_side(d, &la, d->repo, a)) < 0 || (error = read_side(d, &lb, d->repo, b)) < 0)
        goto done;
    for (size_t i = 0; i < d->n_filters && !error; i++)
        if (!d->used[i])
            error = dv_error_set(DV_EUSAGE, "%s is not tracked by dv on either side",
                                 d->filters[i][0] ? d->filters[i] : ".");
    int fetches = dv_odb_fetches(d->odb);
    for (size_t i = 0, j = 0; fetches && !error && (i < la.n || j < lb.n);) {
        /* the trees at the top of each tracked directory that differs, in one batch */
        const side_pointer *pa = i < la.n ? &la.items[i] : NULL;
        const side_pointer *pb = j < lb.n ? &lb.items[j] : NULL;
        int cmp = !pa ? 1 : !pb ? -1 : strcmp(pa->path, pb->path);
        int same = cmp == 0 && !dv_oid_cmp(&pa->ptr.oid, &pb->ptr.oid);
        if (cmp <= 0 && !same && pa->ptr.kind == DV_KIND_DIR)
            error = want(d, &pa->ptr.oid, NULL, pa->path);
        if (!error && cmp >= 0 && !same && !d->wt && pb->ptr.kind == DV_KIND_DIR)
            error = want(d, &pb->ptr.oid, NULL, pb->path);
        i += cmp <= 0;
        j += cmp >= 0;
    }
    if (!error)
        error = fetch_wants(d);
    static const dv_oid none;
    size_t i = 0, j = 0;
    while (!error && (i < la.n || j < lb.n)) {
        const side_pointer *pa = i < la.n ? &la.items[i] : NULL;
        const side_pointer *pb = j < lb.n ? &lb.items[j] : NULL;
        int cmp = !pa ? 1 : !pb ? -1 : strcmp(pa->path, pb->path);
        uint8_t ma = cmp <= 0 ? dv_pointer_mode(&pa->ptr) : 0;
        uint8_t mb = cmp >= 0 ? dv_pointer_mode(&pb->ptr) : 0;
        const char *path = cmp <= 0 ? pa->path : pb->path;
        const dv_oid *a_id = ma ? &pa->ptr.oid : &none;
        uint64_t a_size = ma ? pa->ptr.size : 0;
        if (mb && d->wt)
            error = diff_worktree_path(d, path, ma, a_id, a_size, &pb->ptr);
        else if (!(ma && mb && ma == mb && !dv_oid_cmp(&pa->ptr.oid, &pb->ptr.oid)))
            error = diff_item(d, path, ma, a_id, a_size, mb, mb ? &pb->ptr.oid : &none,
                              mb ? pb->ptr.size : 0, 0);
        i += cmp <= 0;
        j += cmp >= 0;
    }
    if (!error)
        error = pair_renames(d);
    if (!error && d->find_renames)
        error = pair_similar(d);
    if (!error)
        error = pair_copies(d, &la);
    if (!error)
        error = emit_all(d, fn, ctx, summary);
    if (!error && summary) {
        summary->not_checked_out = d->not_checked_out;
        summary->similar_skipped = d->similar_skipped;
    }
done:
    for (size_t k = 0; k < d->n; k++) {
        free(d->changes[k].path);
        free(d->changes[k].old_path);
    }
    free(d->changes);
    free(d->used);
    free(d->wants);
    dv_buf_release(&d->want_path);
    side_list_free(&la);
    side_list_free(&lb);
    return error;
}

static differ differ_of(dv_repo *repo, const dv_diff_options *opts)
{
    differ d;
    memset(&d, 0, sizeof(d));
    d.repo = repo;
    d.filters = opts->filters;
    d.n_filters = opts->n_filters;
    d.find_renames = opts->find_renames;
    d.find_copies = opts->find_copies;
    d.reads_manifests = opts->reads_manifests;
    d.want_path = (dv_buf)DV_BUF_INIT;
    d.used = calloc(opts->n_filters + 1, 1);
    return d;
}

int dv_diff(dv_repo *repo, dv_rev *a, dv_rev *b, const dv_diff_options *opts, dv_diff_fn fn,
            void *ctx, dv_diff_summary *summary)
{
    differ d = differ_of(repo, opts);
    return diff_sides(&d, a, b, fn, ctx, summary);
}

int dv_diff_worktree(dv_repo *repo, dv_rev *a, const dv_diff_options *opts, dv_diff_fn fn,
                     void *ctx, dv_diff_summary *summary)
{
    differ d = differ_of(repo, opts);
    dv_worktree_options wopts = {0};
    int error = dv_worktree_open(&d.wt, repo, &wopts);
    if (error < 0) {
        free(d.used);
        return error;
    }
    error = diff_sides(&d, a, NULL, fn, ctx, summary);
    if (!error)
        dv_worktree_remember(d.wt); /* what was hashed */
    dv_worktree_free(d.wt);
    return error;
}

/* Each chunk of the file manifest (or manifest list) id, through fn. */
static int each_chunk(dv_odb *odb, const dv_oid *id, const char *path,
                      int (*fn)(void *ctx, const dv_manifest_entry *chunk), void *ctx)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    dv_buf raw = DV_BUF_INIT;
    int error = dv_manifest_read_top(&m, &list, &raw, odb, id, path);
    for (size_t i = 0; !error && i < m.n_chunks; i++)
        error = fn(ctx, &m.chunks[i]);
    for (size_t part = 0; !error && part < list.n_parts; part++) {
        dv_manifest_release(&m);
        if ((error = dv_manifest_read_part(&m, &raw, odb, &list, part, id, path)) < 0)
            break;
        for (size_t i = 0; !error && i < m.n_chunks; i++)
            error = fn(ctx, &m.chunks[i]);
    }
    dv_manifest_release(&m);
    dv_manifest_list_release(&list);
    dv_buf_release(&raw);
    return error;
}

typedef struct new_bytes_ctx {
    dv_oidset old_chunks, seen;
    uint64_t bytes;
} new_bytes_ctx;

static int add_old_chunk(void *ctx, const dv_manifest_entry *chunk)
{
    int added = dv_oidset_add(&((new_bytes_ctx *)ctx)->old_chunks, &chunk->id);
    return added < 0 ? added : 0;
}

static int count_new_chunk(void *ctx, const dv_manifest_entry *chunk)
{
    new_bytes_ctx *c = ctx;
    if (dv_oidset_has(&c->old_chunks, &chunk->id))
        return 0;
    int added = dv_oidset_add(&c->seen, &chunk->id);
    if (added < 0)
        return added;
    c->bytes += added ? chunk->len : 0;
    return 0;
}

int dv_diff_new_bytes(uint64_t *out, dv_odb *odb, const dv_diff_entry *e)
{
    new_bytes_ctx c = {DV_OIDSET_INIT, DV_OIDSET_INIT, 0};
    int error = 0;
    *out = 0;
    if (e->new_side.kind != DV_KIND_FILE)
        return 0;
    if (e->old_side.kind == DV_KIND_FILE)
        error = each_chunk(odb, &e->old_side.id, e->old_path ? e->old_path : e->path, add_old_chunk,
                           &c);
    if (!error)
        error = each_chunk(odb, &e->new_side.id, e->path, count_new_chunk, &c);
    if (!error)
        *out = c.bytes;
    dv_oidset_release(&c.old_chunks);
    dv_oidset_release(&c.seen);
    return error;
}
