/* status: work tree versus pointer files. */
#include "core/ops/status.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/pathname.h"
#include "core/base/wtfs.h"
#include "core/data/subpath.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/presence.h"
#include "core/repo/remoteconf.h"
#include "core/repo/rev.h"
#include "core/repo/worktree.h"
#include "remotes/remote_index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *dv_status_state_name(int state)
{
    switch (state) {
    case DV_STATE_CLEAN:
        return "clean";
    case DV_STATE_MODIFIED:
        return "modified";
    case DV_STATE_MISSING:
        return "missing";
    case DV_STATE_NOT_IN_STORE:
        return "not-in-store";
    case DV_STATE_ON_REMOTE:
        return "on-remote";
    case DV_STATE_ERROR:
        return "error";
    default:
        return "bad-pointer";
    }
}

const char *dv_status_change_name(int change)
{
    switch (change) {
    case DV_CHANGE_ADDED:
        return "added";
    case DV_CHANGE_REMOVED:
        return "removed";
    default:
        return "modified";
    }
}

struct match_ctx {
    const char *const *filters;
    size_t n_filters;
    int *used;
    char **list;
    size_t n, alloc;
    char **all; /* every pointer's data path, for the checks of check_pointer_paths */
    size_t n_all, alloc_all;
};

static int under(const char *path, const char *dir)
{
    size_t len = strlen(dir);
    if (!len)
        return 1;
    return !strncmp(path, dir, len) && (path[len] == '\0' || path[len] == '/');
}

static int match_one(void *p, const char *pointer)
{
    struct match_ctx *m = p;
    size_t len = strlen(pointer) - strlen(DV_POINTER_SUFFIX);
    if (m->n_all == m->alloc_all) {
        m->alloc_all = m->alloc_all ? m->alloc_all * 2 : 16;
        char **l = realloc(m->all, m->alloc_all * sizeof(*l));
        if (!l)
            return dv_error_set(DV_ENOMEM, "out of memory");
        m->all = l;
    }
    if (!(m->all[m->n_all] = strndup(pointer, len)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    m->n_all++;
    int keep = m->n_filters == 0;
    for (size_t i = 0; i < m->n_filters; i++) {
        const char *f = m->filters[i];
        /* A filter matches the data path, anything below it, or the pointer file itself. */
        if ((strlen(f) == len && !strncmp(pointer, f, len)) || !strcmp(pointer, f) ||
            under(pointer, f)) {
            keep = 1;
            m->used[i] = 1;
        } else if (dv_rev_path_inside(f, m->all[m->n_all - 1])) {
            keep = 1; /* a path inside its data */
            m->used[i] = 1;
        }
    }
    if (!keep)
        return 0;
    if (m->n == m->alloc) {
        m->alloc = m->alloc ? m->alloc * 2 : 16;
        char **l = realloc(m->list, m->alloc * sizeof(*l));
        if (!l)
            return dv_error_set(DV_ENOMEM, "out of memory");
        m->list = l;
    }
    if (!(m->list[m->n] = strdup(pointer)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    m->n++;
    return 0;
}

int dv_status__match_pointers(char ***out, size_t *n_out, dv_repo *repo, const char *const *filters,
                              size_t n_filters)
{
    struct match_ctx m = {filters, n_filters, NULL, NULL, 0, 0, NULL, 0, 0};
    int error = 0;
    if (!(m.used = calloc(n_filters + 1, sizeof(*m.used))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    if ((error = dv_repo_each_pointer(repo, match_one, &m)) < 0 ||
        (error = dv_rev_check_data_paths(m.all, m.n_all)) < 0)
        goto done;
    for (size_t i = 0; i < n_filters; i++) {
        if (!m.used[i]) {
            error =
                dv_error_set(DV_EUSAGE,
                             "%s is not tracked by dv (no pointer file for it is staged in git;"
                             " run dv add %s)",
                             filters[i][0] ? filters[i] : ".", filters[i][0] ? filters[i] : ".");
            goto done;
        }
    }
done:
    free(m.used);
    for (size_t i = 0; i < m.n_all; i++)
        free(m.all[i]);
    free(m.all);
    if (error < 0) {
        for (size_t i = 0; i < m.n; i++)
            free(m.list[i]);
        free(m.list);
        return error;
    }
    *out = m.list;
    *n_out = m.n;
    return 0;
}

typedef struct status_walk {
    dv_repo *repo;
    dv_worktree *wt;
    dv_odb *odb;
    dv_status_path *current;
    dv_odb *partial; /* <cache>/partial, once a path inside a directory needed it */
    int partial_looked;
} status_walk;

static int add_change(dv_status_path *p, const char *path, int is_dir, int change)
{
    if (p->n_changes == p->alloc_changes) {
        size_t n = p->alloc_changes ? p->alloc_changes * 2 : 16;
        dv_status_change *c = realloc(p->changes, n * sizeof(*c));
        if (!c)
            return dv_error_set(DV_ENOMEM, "out of memory");
        p->changes = c;
        p->alloc_changes = n;
    }
    dv_buf b = DV_BUF_INIT;
    int error = dv_buf_printf(&b, "%s%s", path, is_dir ? "/" : "");
    if (error < 0)
        return error;
    p->changes[p->n_changes].path = dv_buf_detach(&b);
    p->changes[p->n_changes].change = change;
    p->n_changes++;
    return 0;
}

/* Does the work-tree item at relpath (lstat st) hold exactly entry? Sets *same. For
 * directories, records the changes below instead and sets *same when there are none. */
static int compare_dir(int *same, status_walk *w, const char *relpath, const dv_oid *tree_id);

static int compare_item(int *same, status_walk *w, const char *relpath, const struct stat *st,
                        uint8_t mode, const dv_oid *id)
{
    dv_oid actual;
    uint64_t size;
    int error;
    *same = 0;
    switch (mode) {
    case DV_MODE_FILE:
    case DV_MODE_EXEC:
        if (!S_ISREG(st->st_mode))
            return 0;
        if ((error = dv_worktree_file_id(&actual, &size, w->wt, relpath, st)) < 0)
            return error;
        *same =
            !dv_oid_cmp(&actual, id) && ((st->st_mode & S_IXUSR) != 0) == (mode == DV_MODE_EXEC);
        return 0;
    case DV_MODE_SYMLINK:
        if (!S_ISLNK(st->st_mode))
            return 0;
        if ((error = dv_worktree_link_id(&actual, &size, w->wt, relpath)) < 0)
            return error;
        *same = !dv_oid_cmp(&actual, id);
        return 0;
    case DV_MODE_DIR:
        if (!S_ISDIR(st->st_mode))
            return 0;
        return compare_dir(same, w, relpath, id);
    }
    return 0;
}

static int compare_dir(int *same, status_walk *w, const char *relpath, const dv_oid *tree_id)
{
    int error;
    dv_buf raw = DV_BUF_INIT, child = DV_BUF_INIT;
    dv_tree tree = DV_TREE_INIT;
    dv_worktree_names names = DV_WORKTREE_NAMES_INIT;
    *same = 1;
    if ((error = dv_odb_read(&raw, NULL, w->odb, tree_id)) < 0 ||
        (error = dv_tree_decode(&tree, raw.ptr, raw.len)) < 0 ||
        (error = dv_worktree_list(&names, w->wt, relpath)) < 0)
        goto done;
    dv_worktree_walk walk = {0, 0};
    const dv_tree_entry *e;
    const char *name;
    while (dv_worktree_walk_next(&walk, &tree, &names, &e, &name)) {
        if ((error = dv_worktree_child(&child, relpath, e ? e->name : name)) < 0)
            goto done;
        struct stat st;
        if (name) {
            /* the walk has stepped past name */
            int stat_errno = dv_worktree_name_stat(w->wt, &names, walk.name_index - 1, &st);
            if (stat_errno == ENOENT) {
                name = NULL; /* vanished during the scan */
            } else if (stat_errno) {
                errno = stat_errno;
                error = dv_error_errno("cannot stat %s", child.ptr);
                goto done;
            }
        }
        if (!name) {
            if (!e)
                continue;
            *same = 0;
            if ((error = add_change(w->current, child.ptr, e->mode == DV_MODE_DIR,
                                    DV_CHANGE_REMOVED)) < 0)
                goto done;
            continue;
        }
        if (!e) {
            if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
                continue; /* what dv add skips is not a change either */
            *same = 0;
            if ((error = add_change(w->current, child.ptr, S_ISDIR(st.st_mode), DV_CHANGE_ADDED)) <
                0)
                goto done;
            continue;
        }
        int item_same;
        if ((error = compare_item(&item_same, w, child.ptr, &st, e->mode, &e->id)) < 0)
            goto done;
        if (!item_same) {
            *same = 0;
            /* A directory that stayed a directory reported its own changes. */
            if (!(e->mode == DV_MODE_DIR && S_ISDIR(st.st_mode)) &&
                (error = add_change(w->current, child.ptr, 0, DV_CHANGE_MODIFIED)) < 0)
                goto done;
        }
    }
done:
    dv_buf_release(&raw);
    dv_buf_release(&child);
    dv_tree_release(&tree);
    dv_worktree_names_free(&names);
    return error;
}

static int status_one(status_walk *w, dv_status_path *sp)
{
    int error;
    dv_pointer p;
    error = dv_repo_read_pointer(&p, w->repo, sp->pointer);
    if (error < 0 && error != DV_ENOMEM) {
        /* malformed, missing, unreadable (EACCES, ELOOP, EIO): this path's problem */
        sp->state = DV_STATE_BAD_POINTER;
        sp->message = strdup(dv_error_last());
        error = 0;
        goto done;
    }
    if (error < 0)
        goto done;
    size_t data_len = strlen(sp->pointer) - strlen(DV_POINTER_SUFFIX);
    if (sp->path[data_len]) {
        /* a path inside the directory: compared with what its tree entry names */
        dv_pointer dir = p;
        char *data = strndup(sp->pointer, data_len);
        if (!data)
            return dv_error_set(DV_ENOMEM, "out of memory");
        if (!w->partial_looked) {
            w->partial_looked = 1;
            error = dv_repo_partial_odb(&w->partial, w->repo, 0);
        }
        if (!error)
            error = dv_subpath_pointer(&p, sp->path, data, &dir, w->odb, w->partial);
        free(data);
        if (error < 0)
            goto done;
    }
    sp->in_store = dv_odb_has(w->odb, &p.oid);
    sp->id = p.oid;
    struct stat st;
    error = dv_wtfs_lstat(&st, w->repo->workdir_fd, sp->path);
    if (error == DV_ENOTFOUND) {
        sp->state = DV_STATE_MISSING;
        error = 0;
        goto done;
    }
    if (error == DV_EUSAGE) {
        /* beyond a symlink: dv reads nothing through it */
        sp->state = DV_STATE_BAD_POINTER;
        sp->message = strdup(dv_error_last());
        error = 0;
        goto done;
    }
    if (error < 0)
        goto done;
    int same;
    w->current = sp;
    if (p.kind == DV_KIND_DIR && S_ISDIR(st.st_mode) && !sp->in_store) {
        /* Without the recorded tree we can still tell clean from modified. */
        dv_worktree_item item;
        if ((error = dv_worktree_scan(&item, w->wt, sp->path, &st)) < 0)
            goto done;
        same = !dv_oid_cmp(&item.id, &p.oid);
    } else if ((error = compare_item(&same, w, sp->path, &st, dv_pointer_mode(&p), &p.oid)) < 0) {
        goto done;
    }
    if (!same)
        sp->state = DV_STATE_MODIFIED;
    else
        sp->state = sp->in_store ? DV_STATE_CLEAN : DV_STATE_NOT_IN_STORE;
done:
    return error;
}

/* Content the store lacks that the default remote holds, by its cached indexes (dv drop
 * left it there): a remote the push checked keeps everything below an object it lists.
 * Nothing here is an error of the status: without a remote or a cache, nothing is said. */
static int find_on_remote(dv_status_report *out, dv_repo *repo)
{
    dv_remote_index *index = NULL;
    char *name = NULL;
    int error = 0, wanted = 0;
    for (size_t i = 0; i < out->n; i++)
        wanted |= !out->paths[i].in_store && out->paths[i].state != DV_STATE_BAD_POINTER &&
                  out->paths[i].state != DV_STATE_ERROR;
    if (!wanted || (error = dv_presence_cached(&index, &name, repo)) < 0 || !index)
        goto done;
    for (size_t i = 0; i < out->n && !error; i++) {
        dv_status_path *sp = &out->paths[i];
        if (sp->in_store || sp->state == DV_STATE_BAD_POINTER || sp->state == DV_STATE_ERROR ||
            !dv_remote_index_find(index, &sp->id, NULL, NULL))
            continue;
        if (!(sp->remote = strdup(name)))
            error = dv_error_set(DV_ENOMEM, "out of memory");
        else if (sp->state == DV_STATE_NOT_IN_STORE)
            sp->state = DV_STATE_ON_REMOTE;
    }
done:
    dv_remote_index_free(index);
    free(name);
    return error;
}

/* The status of path (the pointer's data path, or a path inside its directory), added to
 * out. */
static int status_add(dv_status_report *out, status_walk *w, const char *pointer,
                      const char *path)
{
    if (out->n == out->alloc) {
        size_t alloc = out->alloc ? out->alloc * 2 : 16;
        dv_status_path *grown = realloc(out->paths, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        memset(grown + out->alloc, 0, (alloc - out->alloc) * sizeof(*grown));
        out->paths = grown;
        out->alloc = alloc;
    }
    dv_status_path *sp = &out->paths[out->n++];
    if (!(sp->pointer = strdup(pointer)) || !(sp->path = strdup(path)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    int error = status_one(w, sp);
    int inside = strlen(path) + strlen(DV_POINTER_SUFFIX) > strlen(pointer);
    if (error == DV_ENOMEM || error >= 0 || (error == DV_EUSAGE && inside))
        return error; /* a path inside that its directory does not hold: the caller's error */
    /* One path that cannot be compared must not hide the status of the others. */
    for (size_t j = 0; j < sp->n_changes; j++)
        free(sp->changes[j].path);
    sp->n_changes = 0;
    sp->state = DV_STATE_ERROR;
    sp->in_store = 0;
    error = dv_error_wrap(error, "cannot compare %s with its pointer file", sp->path);
    if (!(sp->message = strdup(dv_error_last())))
        return dv_error_set(DV_ENOMEM, "out of memory");
    return 0;
}

int dv_status(dv_status_report *out, dv_repo *repo, const char *const *filters, size_t n_filters)
{
    int error;
    char **pointers = NULL;
    size_t n_pointers = 0;
    status_walk w = {repo, NULL, NULL, NULL, NULL, 0};
    size_t *parts = calloc(n_filters + 1, sizeof(*parts));
    memset(out, 0, sizeof(*out));
    if (!parts)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if ((error = dv_status__match_pointers(&pointers, &n_pointers, repo, filters, n_filters)) < 0) {
        free(parts);
        return error;
    }
    dv_worktree_options wopts = {0};
    if ((error = dv_worktree_open(&w.wt, repo, &wopts)) < 0 ||
        (error = dv_repo_odb(&w.odb, repo)) < 0)
        goto done;
    for (size_t i = 0; i < n_pointers; i++) {
        /* one path for the pointer, or one for each path asked for inside its directory */
        size_t n_parts = 0;
        char *data = strndup(pointers[i], strlen(pointers[i]) - strlen(DV_POINTER_SUFFIX));
        if (!data) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
        if (dv_rev_path_select(parts, &n_parts, data, filters, n_filters) != DV_SELECT_PARTS)
            n_parts = 0;
        for (size_t k = 0; k < (n_parts ? n_parts : 1) && !error; k++)
            error = status_add(out, &w, pointers[i], n_parts ? filters[parts[k]] : data);
        free(data);
        if (error < 0)
            goto done;
    }
    dv_worktree_remember(w.wt); /* what was hashed */
    error = find_on_remote(out, repo);
done:
    for (size_t i = 0; i < n_pointers; i++)
        free(pointers[i]);
    free(pointers);
    free(parts);
    dv_odb_free(w.partial);
    dv_worktree_free(w.wt);
    if (error < 0)
        dv_status_report_free(out);
    return error;
}

void dv_status_report_free(dv_status_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        dv_status_path *p = &r->paths[i];
        free(p->path);
        free(p->pointer);
        free(p->message);
        free(p->remote);
        for (size_t j = 0; j < p->n_changes; j++)
            free(p->changes[j].path);
        free(p->changes);
    }
    free(r->paths);
    memset(r, 0, sizeof(*r));
}
