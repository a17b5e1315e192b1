/* ls: the files inside tracked data (ls.h). */
#include "core/ops/ls.h"

#include "core/base/buf.h"
#include "core/data/objread.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "storage/pack_read.h"

#include <stdlib.h>
#include <string.h>

#define LS_MAX_DEPTH 1024

typedef struct ls_walk {
    dv_repo *repo;
    dv_rev *rev;
    dv_odb *odb;
    const char *const *paths;
    size_t n_paths;
    int *found; /* per path: something tracked lies at or below it */
    int recursive;
    dv_ls_fn fn;
    void *ctx;
    dv_buf path;
    dv_pack *hint; /* the sealed pack that held the last manifest looked up, or NULL */
} ls_walk;

static const char *where(const dv_rev *rev)
{
    return rev ? dv_rev_name(rev) : "the work tree";
}

static int kind_of_mode(uint8_t mode)
{
    return mode == DV_MODE_DIR       ? DV_KIND_DIR
           : mode == DV_MODE_SYMLINK ? DV_KIND_SYMLINK
                                     : DV_KIND_FILE;
}

/*
 * Files must have their manifest in the store, or nothing could be read back. The manifests
 * of one directory were mostly stored together, so the pack that held the last one is asked
 * first: asking each pack in turn, newest first, was most of the time of a listing of a
 * store of many packs.
 */
static int check_present(ls_walk *w, const dv_ls_entry *e)
{
    if (e->kind == DV_KIND_DIR)
        return 0;
    if (w->hint && dv_pack_find(w->hint, &e->id, NULL))
        return 0;
    if (dv_odb_locate(&w->hint, NULL, w->odb, &e->id) || dv_odb_has(w->odb, &e->id))
        return 0;
    return dv_error_set(DV_ENOTFOUND, "%s: its %s %s is not in the store (run dv fetch)", e->path,
                        e->kind == DV_KIND_FILE ? "manifest" : "link target", dv_oid_hex(&e->id));
}

static int emit(ls_walk *w, const dv_ls_entry *e)
{
    int error = check_present(w, e);
    return error < 0 ? error : w->fn(w->ctx, e);
}

/* The entries of the tree id at w->path: one level, or all files below when recursive. */
/* Entries whose presence in the store is looked up ahead of their turn. */
#define LS_PREFETCH_AHEAD 8

static int list_tree(ls_walk *w, const dv_oid *id, int recursive, unsigned depth)
{
    dv_tree tree = DV_TREE_INIT;
    size_t dir_len = w->path.len;
    int error = 0;
    if (depth > LS_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "%s/: trees nested deeper than %d", w->path.ptr,
                            LS_MAX_DEPTH);
    if ((error = dv_tree_read(&tree, w->odb, id, w->path.ptr)) < 0)
        return error;
    for (size_t i = 0; i < tree.n_entries && !error; i++) {
        const dv_tree_entry *te = &tree.entries[i];
        /* check_present's lookups, some entries ahead: one cache miss each otherwise */
        if (w->hint && i + LS_PREFETCH_AHEAD < tree.n_entries)
            dv_pack_prefetch(w->hint, &tree.entries[i + LS_PREFETCH_AHEAD].id);
        dv_buf_truncate(&w->path, dir_len);
        if ((error = dv_buf_putc(&w->path, '/')) < 0 ||
            (error = dv_buf_puts(&w->path, te->name)) < 0)
            break;
        dv_ls_entry e = {w->path.ptr, kind_of_mode(te->mode), te->mode, te->size, te->id};
        if (te->mode == DV_MODE_DIR && recursive)
            error = list_tree(w, &te->id, 1, depth + 1);
        else
            error = emit(w, &e);
    }
    dv_buf_truncate(&w->path, dir_len);
    dv_tree_release(&tree);
    return error;
}

/*
 * Walk from the pointer's entry e down the trees to the entry at path (inside e's data).
 * *found is 0 when a name on the way is absent or not a directory.
 */
static int descend(dv_ls_entry *out, int *found, dv_odb *odb, const dv_ls_entry *top,
                   const char *path)
{
    dv_ls_entry e = *top;
    dv_buf dir = DV_BUF_INIT;
    int error = dv_buf_puts(&dir, top->path);
    const char *rest = path + strlen(top->path);
    *found = 0;
    while (!error && *rest == '/') {
        rest++;
        const char *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
        if (e.kind != DV_KIND_DIR)
            goto done;
        dv_tree tree = DV_TREE_INIT;
        if ((error = dv_tree_read(&tree, odb, &e.id, dir.ptr)) < 0)
            break;
        const dv_tree_entry *te = dv_tree_find(&tree, rest, len);
        if (te) {
            e.kind = kind_of_mode(te->mode);
            e.mode = te->mode;
            e.size = te->size;
            e.id = te->id;
        }
        dv_tree_release(&tree);
        if (!te)
            goto done;
        if ((error = dv_buf_putc(&dir, '/')) < 0 || (error = dv_buf_put(&dir, rest, len)) < 0)
            break;
        rest += len;
    }
    if (!error) {
        *out = e;
        *found = 1;
    }
done:
    dv_buf_release(&dir);
    return error;
}

static int not_tracked(const char *path, const dv_rev *rev)
{
    return dv_error_set(DV_EUSAGE, "%s is not tracked by dv at %s%s", path[0] ? path : ".",
                        rev ? "revision " : "", where(rev));
}

static int ls_pointer(void *ctx, const char *data_relpath, const dv_pointer *p)
{
    ls_walk *w = ctx;
    dv_ls_entry top = {data_relpath, p->kind, dv_pointer_mode(p), p->size, p->oid};
    int whole = !w->n_paths;
    int error = 0;
    for (size_t i = 0; i < w->n_paths && !error; i++) {
        const char *f = w->paths[i];
        size_t len = strlen(data_relpath);
        if (!dv_rev_path_matches(data_relpath, f))
            continue;
        if (strlen(f) > len) {
            /* A path inside this pointer's data. */
            dv_ls_entry e;
            int found = 0;
            if ((error = descend(&e, &found, w->odb, &top, f)) < 0)
                break;
            if (!found) {
                error = not_tracked(f, w->rev);
                break;
            }
            w->found[i] = 1;
            dv_buf_truncate(&w->path, 0);
            if ((error = dv_buf_puts(&w->path, f)) < 0)
                break;
            e.path = w->path.ptr;
            error = e.kind == DV_KIND_DIR ? list_tree(w, &e.id, w->recursive, 0) : emit(w, &e);
        } else if (strlen(f) == len) {
            w->found[i] = 1;
            whole = 2; /* the directory itself was named: one level unless recursive */
        } else {
            w->found[i] = 1;
            if (!whole)
                whole = 1;
        }
    }
    if (error || !whole)
        return error;
    if (top.kind != DV_KIND_DIR)
        return emit(w, &top);
    int recursive = w->recursive || !w->n_paths;
    if (whole == 1 && !recursive)
        return emit(w, &top);
    dv_buf_truncate(&w->path, 0);
    if ((error = dv_buf_puts(&w->path, data_relpath)) < 0)
        return error;
    return list_tree(w, &top.id, recursive, 0);
}

int dv_ls(dv_repo *repo, dv_rev *rev, const char *const *paths, size_t n_paths, int recursive,
          dv_ls_fn fn, void *ctx)
{
    ls_walk w = {repo, rev, NULL, paths, n_paths, NULL, recursive, fn, ctx, DV_BUF_INIT, NULL};
    int error = 0;
    if (!(w.found = calloc(n_paths + 1, sizeof(*w.found))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    if ((error = dv_repo_odb(&w.odb, repo)) < 0)
        goto done;
    error = rev ? dv_rev_each_pointer(rev, paths, n_paths, ls_pointer, &w)
                : dv_rev_each_worktree_pointer(repo, paths, n_paths, ls_pointer, &w);
    for (size_t i = 0; !error && i < n_paths; i++)
        if (!w.found[i])
            error = not_tracked(paths[i], rev);
done:
    free(w.found);
    dv_buf_release(&w.path);
    return error;
}

int dv_ls_pointer(dv_repo *repo, const dv_pointer *p, const char *data_relpath, dv_ls_fn fn,
                  void *ctx)
{
    ls_walk w = {repo, NULL, NULL, NULL, 0, NULL, 1, fn, ctx, DV_BUF_INIT, NULL};
    int error = dv_repo_odb(&w.odb, repo);
    if (!error)
        error = ls_pointer(&w, data_relpath, p);
    dv_buf_release(&w.path);
    return error;
}

typedef struct find_walk {
    dv_odb *odb;
    const char *path;
    dv_ls_entry *out;
    int found;
} find_walk;

static int find_pointer(void *ctx, const char *data_relpath, const dv_pointer *p)
{
    find_walk *f = ctx;
    size_t len = strlen(data_relpath);
    if (strncmp(f->path, data_relpath, len) || (f->path[len] && f->path[len] != '/'))
        return 0; /* a pointer below the path, not the one holding it */
    dv_ls_entry top = {data_relpath, p->kind, dv_pointer_mode(p), p->size, p->oid};
    int error = descend(f->out, &f->found, f->odb, &top, f->path);
    f->out->path = NULL;
    return error;
}

int dv_ls_find(dv_ls_entry *out, dv_repo *repo, dv_rev *rev, const char *path)
{
    find_walk f = {NULL, path, out, 0};
    const char *filters[] = {path};
    memset(out, 0, sizeof(*out));
    int error = dv_repo_odb(&f.odb, repo);
    if (error < 0)
        return error;
    error = rev ? dv_rev_each_pointer(rev, filters, 1, find_pointer, &f)
                : dv_rev_each_worktree_pointer(repo, filters, 1, find_pointer, &f);
    if (!error && !f.found)
        error = not_tracked(path, rev);
    return error;
}
