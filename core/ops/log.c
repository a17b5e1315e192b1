/* log: the history of tracked data paths (log.h). */
#include "core/ops/log.h"

#include "core/base/buf.h"
#include "core/base/pathname.h"
#include "core/object/oidset.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX_DEPTH 4096
/* libgit2 keeps the objects it reads in a process-wide cache of up to 256 MiB, and a walk
 * through history would fill it with every commit and tree it passes; while dv_log walks, the
 * cache is held to this size. It still serves what is read twice close together: a parent,
 * read when its child is compared, read again when its own turn comes. */
#define LOG_GIT_CACHE_BYTES (256 << 10)
/* A positive return of a comparison asked to stop at the first change: the trees differ. */
#define LOG_DIFFERS 1

/* A commit waiting to be walked. */
typedef struct log_queued {
    git_commit *commit; /* read when its child was walked, kept so it is not read again */
    int64_t time;
    uint64_t seq;
    char *name; /* --follow: the data path's name at this commit; else NULL */
} log_queued;

/* The commits to walk, newest (by committer time) first, ties in the order they came. */
typedef struct log_queue {
    log_queued *items;
    size_t n, cap;
    uint64_t next_seq;
} log_queue;

static int queue_before(const log_queued *a, const log_queued *b)
{
    return a->time > b->time || (a->time == b->time && a->seq < b->seq);
}

static void queue_swap(log_queue *q, size_t a, size_t b)
{
    log_queued t = q->items[a];
    q->items[a] = q->items[b];
    q->items[b] = t;
}

/* Push commit and name, both taken (and freed on failure too). */
static int queue_push(log_queue *q, git_commit *commit, char *name)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16, bytes;
        log_queued *items;
        if (__builtin_mul_overflow(cap, sizeof(*items), &bytes) ||
            !(items = realloc(q->items, bytes))) {
            git_commit_free(commit);
            free(name);
            return dv_error_set(DV_ENOMEM, "out of memory");
        }
        q->items = items;
        q->cap = cap;
    }
    size_t i = q->n++;
    q->items[i].commit = commit;
    q->items[i].time = git_commit_time(commit);
    q->items[i].seq = q->next_seq++;
    q->items[i].name = name;
    while (i && queue_before(&q->items[i], &q->items[(i - 1) / 2])) {
        queue_swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static log_queued queue_pop(log_queue *q)
{
    log_queued top = q->items[0];
    q->items[0] = q->items[--q->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < q->n && queue_before(&q->items[l], &q->items[best]))
            best = l;
        if (r < q->n && queue_before(&q->items[r], &q->items[best]))
            best = r;
        if (best == i)
            break;
        queue_swap(q, i, best);
        i = best;
    }
    return top;
}

static void queue_release(log_queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        git_commit_free(q->items[i].commit);
        free(q->items[i].name);
    }
    free(q->items);
}

typedef struct log_walk {
    git_repository *git;
    const char *const *paths; /* as given, for found */
    size_t n_paths;
    int *found; /* per path: a commit walked tracks something at or below it */
    int follow;
    dv_log_fn fn;
    void *ctx;
    /* The comparison under way: the filters it covers, the two root trees (lent; old_root is
     * NULL for a root commit) and the commits they belong to, for messages. */
    const char *const *filters;
    size_t n_filters;
    const git_tree *old_root, *new_root;
    const git_oid *old_commit, *new_commit;
    int stop_at_first; /* answer LOG_DIFFERS at the first change, call nothing */
    int shown;         /* a change of the commit has been handed to fn */
    dv_log_commit info;
    git_commit *commit; /* the commit info describes; its subject and short id are looked up
                         * when it is first shown */
    char short_id[GIT_OID_HEXSZ + 1]; /* info.short_id, filled when it is first shown */
    dv_buf path;                      /* the path being compared (pointer files with ".dv") */
    dv_buf component;                 /* one name of a filter, NUL-terminated */
    dv_buf data;                      /* the data path of a change */
    dv_buf source; /* --follow: the data path a renamed pointer had in the parent */
    dv_buf scan;   /* the path of the rename search */
    dv_buf name;   /* "<commit>:<path>" for messages */
    int renamed;   /* --follow: source holds the name to follow in the parent */
} log_walk;

static const char *hex_of(const git_oid *id)
{
    static _Thread_local char ring[4][GIT_OID_HEXSZ + 1];
    static _Thread_local unsigned next;
    char *out = ring[next++ % 4];
    return git_oid_tostr(out, GIT_OID_HEXSZ + 1, id);
}

/* 1 if b is a or lies below it ("" is above everything). */
static int is_at_or_below(const char *b, const char *a)
{
    size_t len = strlen(a);
    return !len || (!strncmp(a, b, len) && (b[len] == '\0' || b[len] == '/'));
}

static int is_tree(const git_tree_entry *e)
{
    return git_tree_entry_type(e) == GIT_OBJECT_TREE;
}

/* Git's order of tree entries: by name bytes, a tree's name as if it ended in '/'. */
static int entry_cmp(const git_tree_entry *a, const git_tree_entry *b)
{
    const char *na = git_tree_entry_name(a), *nb = git_tree_entry_name(b);
    size_t la = strlen(na), lb = strlen(nb), len = la < lb ? la : lb;
    int c = memcmp(na, nb, len);
    if (c)
        return c;
    unsigned char ca = len < la ? (unsigned char)na[len] : is_tree(a) ? '/' : '\0';
    unsigned char cb = len < lb ? (unsigned char)nb[len] : is_tree(b) ? '/' : '\0';
    return ca < cb ? -1 : ca > cb;
}

static int has_pointer_suffix(const char *name)
{
    size_t len = strlen(name), suffix_len = strlen(DV_POINTER_SUFFIX);
    return len > suffix_len && !strcmp(name + len - suffix_len, DV_POINTER_SUFFIX);
}

/* DV_ECORRUPT: what (formatted), then the message of the libgit2 call that just failed. */
static int git_failure(log_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int git_failure(log_walk *w, const char *fmt, ...)
{
    va_list ap;
    dv_buf_truncate(&w->name, 0);
    va_start(ap, fmt);
    int error = dv_buf_vprintf(&w->name, fmt, ap);
    va_end(ap);
    if (error < 0 || dv_buf_oom(&w->name))
        return dv_error_set(DV_ENOMEM, "out of memory");
    return dv_repo_git_error(DV_ECORRUPT, w->name.ptr);
}

static int load_tree(git_tree **out, log_walk *w, const git_tree_entry *e, const git_oid *commit,
                     const char *path)
{
    *out = NULL;
    if (!e)
        return 0;
    if (git_tree_lookup(out, w->git, git_tree_entry_id(e)) < 0)
        return git_failure(w, "commit %s: cannot read the tree of %s/ (%s)", hex_of(commit), path,
                           hex_of(git_tree_entry_id(e)));
    return 0;
}

/* Read and parse the pointer blob of entry e at commit (w->path names it), its size checked
 * before its bytes are read. */
static int read_pointer(dv_pointer *out, log_walk *w, const git_tree_entry *e,
                        const git_oid *commit, const char *pointer_path)
{
    int error = 0;
    memset(out, 0, sizeof(*out));
    dv_buf_truncate(&w->name, 0);
    if ((error = dv_buf_printf(&w->name, "%s:%s", hex_of(commit), pointer_path)) < 0)
        return error;
    return dv_rev_read_pointer_entry(out, w->git, e, w->name.ptr);
}

static int same_pointer(const dv_pointer *a, const dv_pointer *b)
{
    return a->kind == b->kind && !memcmp(&a->oid, &b->oid, sizeof(a->oid)) && a->size == b->size &&
           a->files == b->files && a->exec == b->exec;
}

static void mark_found(log_walk *w, const char *data_path)
{
    for (size_t i = 0; i < w->n_paths; i++)
        if (is_at_or_below(data_path, w->paths[i]))
            w->found[i] = 1;
}

/*
 * --follow: find in tree (the parent's, at w->scan) a pointer file the new root lacks whose
 * blob id is want_id (by_content 0) or whose pointer names want's content (by_content 1).
 * 1 when found, its data path in w->source; pointer files that do not parse are passed over,
 * as they cannot hold the same content.
 */
static int find_source(log_walk *w, const git_tree *tree, const git_oid *want_id,
                       const dv_pointer *want, int by_content, dv_pointer *found, unsigned depth)
{
    size_t dir_len = w->scan.len;
    int error = 0;
    if (depth > LOG_MAX_DEPTH)
        return 0;
    size_t n = git_tree_entrycount(tree);
    for (size_t i = 0; i < n && !error; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        const char *name = git_tree_entry_name(e);
        dv_buf_truncate(&w->scan, dir_len);
        if ((error = dv_buf_printf(&w->scan, "%s%s", dir_len ? "/" : "", name)) < 0)
            break;
        if (!dir_len && !strcmp(name, DV_DIR_NAME))
            continue;
        if (is_tree(e)) {
            git_tree *sub = NULL;
            if (git_tree_lookup(&sub, w->git, git_tree_entry_id(e)) < 0)
                continue; /* an unreadable tree holds no source */
            error = find_source(w, sub, want_id, want, by_content, found, depth + 1);
            git_tree_free(sub);
            continue;
        }
        git_filemode_t mode = git_tree_entry_filemode(e);
        if (!has_pointer_suffix(name) || git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
            (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE))
            continue;
        int same = git_oid_equal(git_tree_entry_id(e), want_id);
        if (!same && by_content) {
            dv_pointer p;
            if (read_pointer(&p, w, e, w->old_commit, w->scan.ptr) < 0) {
                dv_error_clear();
                continue;
            }
            same = p.kind == want->kind && !memcmp(&p.oid, &want->oid, sizeof(p.oid));
        }
        if (!same)
            continue;
        git_tree_entry *there = NULL;
        if (git_tree_entry_bypath(&there, w->new_root, w->scan.ptr) == 0) {
            git_tree_entry_free(there); /* still in the commit: a copy, not where it came from */
            continue;
        }
        if (read_pointer(found, w, e, w->old_commit, w->scan.ptr) < 0) {
            dv_error_clear();
            continue;
        }
        dv_buf_truncate(&w->source, 0);
        if ((error = dv_buf_put(&w->source, w->scan.ptr, w->scan.len - strlen(DV_POINTER_SUFFIX))) <
            0)
            break;
        error = 1;
    }
    dv_buf_truncate(&w->scan, dir_len);
    return error;
}

/* --follow: where the pointer entry added (at w->new_root) came from in w->old_root. */
static int follow_source(int *found_it, dv_pointer *before, log_walk *w,
                         const git_tree_entry *added, const dv_pointer *after)
{
    int error = 0;
    *found_it = 0;
    if (!w->old_root)
        return 0;
    for (int by_content = 0; by_content < 2 && !error && !*found_it; by_content++) {
        dv_buf_truncate(&w->scan, 0);
        error = find_source(w, w->old_root, git_tree_entry_id(added), after, by_content, before, 0);
        if (error == 1) {
            *found_it = 1;
            error = 0;
        }
    }
    return error;
}

/* The pointer entries older (the parent's) and newer (the commit's) at w->path ("<path>.dv"),
 * either NULL, their ids different: read both, and if what they say differs, hand the change
 * to fn. */
static int compare_pointers(log_walk *w, const git_tree_entry *older, const git_tree_entry *newer)
{
    dv_pointer before, after;
    int error = 0;
    dv_buf_truncate(&w->data, 0);
    if ((error = dv_buf_put(&w->data, w->path.ptr, w->path.len - strlen(DV_POINTER_SUFFIX))) < 0)
        return error;
    const char *problem = dv_pathname_check_path(w->data.ptr, NULL, NULL);
    if (problem)
        return dv_error_set(DV_ECORRUPT, "commit %s: %s: its data path %s",
                            hex_of(newer ? w->new_commit : w->old_commit), w->path.ptr, problem);
    if (older && (error = read_pointer(&before, w, older, w->old_commit, w->path.ptr)) < 0)
        return error;
    if (newer && (error = read_pointer(&after, w, newer, w->new_commit, w->path.ptr)) < 0)
        return error;
    mark_found(w, w->data.ptr);
    if (older && newer && same_pointer(&before, &after))
        return 0;
    if (w->stop_at_first)
        return LOG_DIFFERS;
    dv_log_change change = {older ? (newer ? DV_LOG_MODIFIED : DV_LOG_DELETED) : DV_LOG_ADDED,
                            w->data.ptr, NULL, older ? &before : NULL, newer ? &after : NULL};
    if (w->follow && !older) {
        int found_it = 0;
        if ((error = follow_source(&found_it, &before, w, newer, &after)) < 0)
            return error;
        if (found_it) {
            change.kind = DV_LOG_RENAMED;
            change.old_path = w->source.ptr;
            change.before = &before;
            w->renamed = 1;
        }
    }
    if (!w->shown) {
        git_buf abbrev = GIT_BUF_INIT;
        git_oid_tostr(w->short_id, 8, w->info.id);
        if (git_object_short_id(&abbrev, (const git_object *)w->commit) == 0 &&
            abbrev.size < sizeof(w->short_id))
            memcpy(w->short_id, abbrev.ptr, abbrev.size + 1);
        git_buf_dispose(&abbrev);
        w->info.short_id = w->short_id;
        w->info.subject = git_commit_summary(w->commit);
        if (!w->info.subject)
            w->info.subject = "";
    }
    w->shown = 1;
    return w->fn(w->ctx, &w->info, &change);
}

static int compare_trees(log_walk *w, const git_tree *older, const git_tree *newer, unsigned depth);

/* One name of the trees being compared, present on one side or on both with different ids.
 * w->path is its path. */
static int compare_entry(log_walk *w, const git_tree_entry *older, const git_tree_entry *newer,
                         unsigned depth)
{
    const git_tree_entry *e = older ? older : newer;
    const char *name = git_tree_entry_name(e);
    int error = 0;
    if (is_tree(e)) {
        const char *problem = dv_pathname_problem(name, strlen(name));
        if (problem)
            return dv_error_set(DV_ECORRUPT, "commit %s: %s/: %s",
                                hex_of(newer ? w->new_commit : w->old_commit), w->path.ptr,
                                problem);
        git_tree *sub_old = NULL, *sub_new = NULL;
        if ((error = load_tree(&sub_old, w, older, w->old_commit, w->path.ptr)) == 0 &&
            (error = load_tree(&sub_new, w, newer, w->new_commit, w->path.ptr)) == 0)
            error = compare_trees(w, sub_old, sub_new, depth + 1);
        git_tree_free(sub_new);
        git_tree_free(sub_old);
        return error;
    }
    if (!has_pointer_suffix(name))
        return 0;
    return compare_pointers(w, older, newer);
}

/* The pointer files below two trees (either NULL: absent) at w->path, merged in git's
 * order; equal ids are skipped without a look inside. */
static int compare_trees(log_walk *w, const git_tree *older, const git_tree *newer, unsigned depth)
{
    size_t dir_len = w->path.len, i = 0, j = 0;
    size_t n_old = older ? git_tree_entrycount(older) : 0,
           n_new = newer ? git_tree_entrycount(newer) : 0;
    int error = 0;
    if (depth > LOG_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "commit %s: trees nested deeper than %d at %s",
                            hex_of(w->new_commit), LOG_MAX_DEPTH, w->path.ptr);
    while (!error && (i < n_old || j < n_new)) {
        const git_tree_entry *eo = i < n_old ? git_tree_entry_byindex(older, i) : NULL;
        const git_tree_entry *en = j < n_new ? git_tree_entry_byindex(newer, j) : NULL;
        int c = !eo ? 1 : !en ? -1 : entry_cmp(eo, en);
        if (c < 0) {
            en = NULL;
            i++;
        } else if (c > 0) {
            eo = NULL;
            j++;
        } else {
            i++;
            j++;
            if (git_oid_equal(git_tree_entry_id(eo), git_tree_entry_id(en)))
                continue;
        }
        const char *name = git_tree_entry_name(eo ? eo : en);
        if (!dir_len && !strcmp(name, DV_DIR_NAME))
            continue;
        dv_buf_truncate(&w->path, dir_len);
        if ((error = dv_buf_printf(&w->path, "%s%s", dir_len ? "/" : "", name)) < 0)
            break;
        error = compare_entry(w, eo, en, depth);
    }
    dv_buf_truncate(&w->path, dir_len);
    return error;
}

/* The entry name of tree (NULL: none) if it is a tree (want_tree) or not. */
static const git_tree_entry *entry_named(const git_tree *tree, const char *name, int want_tree)
{
    const git_tree_entry *e = tree ? git_tree_entry_byname(tree, name) : NULL;
    return e && is_tree(e) == want_tree ? e : NULL;
}

static int same_entry(const git_tree_entry *a, const git_tree_entry *b)
{
    return a && b && git_oid_equal(git_tree_entry_id(a), git_tree_entry_id(b));
}

/*
 * What changed at or below filter between the two roots: the trees on the way are compared by
 * id level by level, and the walk stops at the first level where they are equal or absent.
 */
static int compare_filter(log_walk *w, const char *filter)
{
    const git_tree *older = w->old_root, *newer = w->new_root;
    git_tree *own_old = NULL, *own_new = NULL;
    const char *rest = filter;
    int error = 0;
    dv_buf_truncate(&w->path, 0);
    if (!filter[0])
        return compare_trees(w, older, newer, 0);
    unsigned depth = 0;
    for (;; depth++) {
        const char *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
        dv_buf_truncate(&w->component, 0);
        if ((error = dv_buf_put(&w->component, rest, len)) < 0)
            goto done;
        if (!slash)
            break;
        const git_tree_entry *eo = entry_named(older, w->component.ptr, 1);
        const git_tree_entry *en = entry_named(newer, w->component.ptr, 1);
        if ((!eo && !en) || same_entry(eo, en))
            goto done;
        if ((error = dv_buf_printf(&w->path, "%s%s", w->path.len ? "/" : "", w->component.ptr)) < 0)
            goto done;
        git_tree *sub_old = NULL, *sub_new = NULL;
        if ((error = load_tree(&sub_old, w, eo, w->old_commit, w->path.ptr)) < 0 ||
            (error = load_tree(&sub_new, w, en, w->new_commit, w->path.ptr)) < 0) {
            git_tree_free(sub_old);
            goto done;
        }
        git_tree_free(own_old);
        git_tree_free(own_new);
        older = own_old = sub_old;
        newer = own_new = sub_new;
        rest = slash + 1;
    }
    /* The last name: its pointer file, then the directory of that name. */
    if ((error = dv_buf_puts(&w->component, DV_POINTER_SUFFIX)) < 0)
        goto done;
    const git_tree_entry *po = entry_named(older, w->component.ptr, 0);
    const git_tree_entry *pn = entry_named(newer, w->component.ptr, 0);
    if ((po || pn) && !same_entry(po, pn)) {
        dv_buf_truncate(&w->path, 0);
        if ((error = dv_buf_printf(&w->path, "%s%s", filter, DV_POINTER_SUFFIX)) < 0 ||
            (error = compare_pointers(w, po, pn)) != 0)
            goto done;
    }
    dv_buf_truncate(&w->component, w->component.len - strlen(DV_POINTER_SUFFIX));
    const git_tree_entry *eo = entry_named(older, w->component.ptr, 1);
    const git_tree_entry *en = entry_named(newer, w->component.ptr, 1);
    if ((eo || en) && !same_entry(eo, en)) {
        dv_buf_truncate(&w->path, 0);
        if ((error = dv_buf_puts(&w->path, filter)) < 0)
            goto done;
        error = compare_entry(w, eo, en, depth);
    }
done:
    git_tree_free(own_old);
    git_tree_free(own_new);
    return error;
}

/* Compare w->old_root with w->new_root under every filter: 0, LOG_DIFFERS (stop_at_first), or
 * an error. */
static int compare_commits(log_walk *w, const git_tree *old_root, const git_oid *old_commit,
                           int stop_at_first)
{
    int error = 0;
    w->old_root = old_root;
    w->old_commit = old_commit;
    w->stop_at_first = stop_at_first;
    for (size_t i = 0; i < w->n_filters && !error; i++)
        error = compare_filter(w, w->filters[i]);
    return error;
}

/* 1 if tree holds a pointer file anywhere below it (not in .dv/ at the top). */
static int holds_pointer(git_repository *git, const git_tree *tree, int top, unsigned depth)
{
    size_t n = git_tree_entrycount(tree);
    if (depth > LOG_MAX_DEPTH)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        const char *name = git_tree_entry_name(e);
        if (top && !strcmp(name, DV_DIR_NAME))
            continue;
        if (!is_tree(e)) {
            if (has_pointer_suffix(name) && git_tree_entry_type(e) == GIT_OBJECT_BLOB)
                return 1;
            continue;
        }
        git_tree *sub = NULL;
        if (git_tree_lookup(&sub, git, git_tree_entry_id(e)) < 0)
            continue;
        int holds = holds_pointer(git, sub, 0, depth + 1);
        git_tree_free(sub);
        if (holds)
            return 1;
    }
    return 0;
}

/*
 * What the paths are at the first commit: a path inside tracked data is refused; found is set
 * for those that name a pointer file or a directory holding one; --follow wants one path that
 * is not a directory there.
 */
static int check_paths(log_walk *w, const git_tree *root, const char *rev_name)
{
    dv_buf pointer = DV_BUF_INIT;
    git_tree_entry *e = NULL;
    int error = 0;
    for (size_t i = 0; i < w->n_paths && !error; i++) {
        const char *path = w->paths[i];
        for (const char *slash = strchr(path, '/'); slash && !error;
             slash = strchr(slash + 1, '/')) {
            dv_buf_truncate(&pointer, 0);
            if ((error = dv_buf_put(&pointer, path, (size_t)(slash - path))) < 0 ||
                (error = dv_buf_puts(&pointer, DV_POINTER_SUFFIX)) < 0)
                break;
            if (git_tree_entry_bypath(&e, root, pointer.ptr) < 0)
                continue;
            int inside = !is_tree(e);
            git_tree_entry_free(e);
            e = NULL;
            if (!inside)
                continue;
            pointer.ptr[pointer.len - strlen(DV_POINTER_SUFFIX)] = '\0';
            error = dv_error_set(DV_EUSAGE,
                                 "%s lies inside %s/, tracked as a whole at revision %s (dv log "
                                 "shows the history of tracked data paths: try dv log %s)",
                                 path, pointer.ptr, rev_name, pointer.ptr);
        }
        if (error)
            break;
        int is_pointer = 0, is_dir = 0;
        dv_buf_truncate(&pointer, 0);
        if ((error = dv_buf_printf(&pointer, "%s%s", path, DV_POINTER_SUFFIX)) < 0)
            break;
        if (path[0] && git_tree_entry_bypath(&e, root, pointer.ptr) == 0) {
            is_pointer = !is_tree(e);
            git_tree_entry_free(e);
            e = NULL;
        }
        if (!path[0]) {
            is_dir = 1;
            w->found[i] = holds_pointer(w->git, root, 1, 0);
        } else if (git_tree_entry_bypath(&e, root, path) == 0) {
            git_tree *sub = NULL;
            is_dir = is_tree(e);
            if (is_dir && git_tree_lookup(&sub, w->git, git_tree_entry_id(e)) == 0)
                w->found[i] = holds_pointer(w->git, sub, 0, 1);
            git_tree_free(sub);
            git_tree_entry_free(e);
            e = NULL;
        }
        if (is_pointer)
            w->found[i] = 1;
        if (w->follow && is_dir && !is_pointer)
            error = dv_error_set(DV_EUSAGE,
                                 "--follow follows one tracked data path, and %s is a directory "
                                 "at revision %s",
                                 path[0] ? path : ".", rev_name);
    }
    dv_buf_release(&pointer);
    return error;
}

/* Queue commit unless it was queued before, with (a copy of) the name to follow there. */
static int queue_parent(log_queue *q, dv_oidset *seen, git_commit *commit, const char *name)
{
    dv_oid key;
    git_commit *kept = NULL;
    char *copy = NULL;
    memset(&key, 0, sizeof(key));
    memcpy(key.id, git_commit_id(commit)->id, GIT_OID_RAWSZ);
    int added = dv_oidset_add(seen, &key);
    if (added <= 0)
        return added;
    if (name && !(copy = strdup(name)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (git_commit_dup(&kept, commit) < 0) {
        free(copy);
        return dv_repo_git_error(DV_ENOMEM, "keeping a commit to walk");
    }
    return queue_push(q, kept, copy);
}

/* --follow: the name the followed pointer has in parent (its root tree): the same name when it
 * is there, else the one it came from, else the same name. */
static int follow_name_in(char **out, log_walk *w, const git_tree *parent_root,
                          const git_oid *parent_id, const char *name)
{
    git_tree_entry *e = NULL;
    dv_buf pointer = DV_BUF_INIT;
    int error = dv_buf_printf(&pointer, "%s%s", name, DV_POINTER_SUFFIX);
    *out = NULL;
    if (error < 0)
        goto done;
    if (git_tree_entry_bypath(&e, parent_root, pointer.ptr) < 0 &&
        git_tree_entry_bypath(&e, w->new_root, pointer.ptr) == 0 && !is_tree(e)) {
        dv_pointer after, before;
        int found_it = 0;
        w->old_root = parent_root;
        w->old_commit = parent_id;
        if ((error = read_pointer(&after, w, e, w->new_commit, pointer.ptr)) < 0 ||
            (error = follow_source(&found_it, &before, w, e, &after)) < 0)
            goto done;
        if (found_it)
            name = w->source.ptr;
    }
    if (!(*out = strdup(name)))
        error = dv_error_set(DV_ENOMEM, "out of memory");
done:
    git_tree_entry_free(e);
    dv_buf_release(&pointer);
    return error;
}

/* 1 with the first parent named in the commit object itself, for a commit that libgit2 gives
 * no parents: in a shallow clone, a libgit2 that knows shallow clones shows the boundary
 * commits so, and they are not roots. */
static int grafted_parent(git_oid *out, git_repository *git, const git_commit *commit)
{
    if (git_repository_is_shallow(git) != 1)
        return 0;
    const char *header = git_commit_raw_header(commit);
    static const char key[] = "parent ";
    for (const char *line = header; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len >= sizeof(key) - 1 + GIT_OID_HEXSZ && !strncmp(line, key, sizeof(key) - 1))
            return git_oid_fromstrn(out, line + sizeof(key) - 1, GIT_OID_HEXSZ) == 0;
        line = end ? end + 1 : NULL;
    }
    return 0;
}

/* Walk one commit: compare it with its parents, hand what changed to fn, queue the parents
 * its history goes on through. */
static int walk_commit(log_walk *w, log_queue *q, dv_oidset *seen, dv_log_result *result,
                       const log_queued *at)
{
    git_commit *commit = at->commit, **parents = NULL;
    const git_oid *id = git_commit_id(commit);
    git_tree *root = NULL, **parent_roots = NULL;
    unsigned n_parents = 0, missing = 0;
    int error = 0;
    w->shown = 0;
    result->commits_walked++;
    if (git_commit_tree(&root, commit) < 0) {
        error = git_failure(w, "cannot read the tree of commit %s", hex_of(id));
        goto done;
    }
    n_parents = git_commit_parentcount(commit);
    git_oid grafted;
    if (!n_parents && grafted_parent(&grafted, w->git, commit)) {
        if (!result->n_boundaries++) {
            result->boundary = *id;
            result->boundary_parent = grafted;
        }
        goto done;
    }
    if (n_parents && (!(parents = calloc(n_parents, sizeof(*parents))) ||
                      !(parent_roots = calloc(n_parents, sizeof(*parent_roots))))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (unsigned i = 0; i < n_parents; i++) {
        const git_oid *parent_id = git_commit_parent_id(commit, i);
        int rc = git_commit_parent(&parents[i], commit, i);
        if (rc == GIT_ENOTFOUND) {
            /* A shallow clone's boundary (or a graft): the history ends here. */
            if (!missing && !result->n_boundaries++) {
                result->boundary = *id;
                if (parent_id)
                    result->boundary_parent = *parent_id;
            }
            missing++;
            continue;
        }
        if (rc < 0 || git_commit_tree(&parent_roots[i], parents[i]) < 0) {
            error = git_failure(w, "cannot read commit %s, parent of %s",
                                parent_id ? hex_of(parent_id) : "?", hex_of(id));
            goto done;
        }
    }
    const char *follow_filter[1] = {at->name};
    if (w->follow) {
        w->filters = follow_filter;
        w->n_filters = 1;
    }
    w->new_root = root;
    w->new_commit = id;
    w->renamed = 0;
    w->commit = commit;
    w->info.id = id;
    w->info.parent = n_parents && !missing ? git_commit_parent_id(commit, 0) : NULL;
    w->info.time = git_commit_time(commit);
    w->info.offset_minutes = git_commit_time_offset(commit);
    if (missing) {
        for (unsigned i = 0; i < n_parents && !error; i++)
            if (parents[i])
                error = queue_parent(q, seen, parents[i], at->name);
        goto done;
    }
    if (!n_parents) {
        error = compare_commits(w, NULL, NULL, 0);
        goto done;
    }
    int follow_only = -1;
    if (n_parents > 1) {
        for (unsigned i = 0; i < n_parents && follow_only < 0; i++) {
            error = compare_commits(w, parent_roots[i], git_commit_id(parents[i]), 1);
            if (error < 0)
                goto done;
            if (!error)
                follow_only = (int)i;
        }
        error = 0;
    }
    if (follow_only >= 0) {
        error = queue_parent(q, seen, parents[follow_only], at->name);
        goto done;
    }
    if ((error = compare_commits(w, parent_roots[0], git_commit_id(parents[0]), 0)) < 0)
        goto done;
    for (unsigned i = 0; i < n_parents && !error; i++) {
        char *name = NULL;
        if (!w->follow || i == 0) {
            error = queue_parent(q, seen, parents[i], w->renamed ? w->source.ptr : at->name);
            continue;
        }
        if ((error = follow_name_in(&name, w, parent_roots[i], git_commit_id(parents[i]),
                                    at->name)) == 0)
            error = queue_parent(q, seen, parents[i], name);
        free(name);
    }
done:
    if (w->shown)
        result->commits_shown++;
    for (unsigned i = 0; parents && i < n_parents; i++) {
        git_tree_free(parent_roots[i]);
        git_commit_free(parents[i]);
    }
    free(parent_roots);
    free(parents);
    git_tree_free(root);
    return error;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int dv_log(dv_log_result *result, dv_repo *repo, dv_rev *rev, const char *const *paths,
           size_t n_paths, const dv_log_options *opts, dv_log_fn fn, void *ctx)
{
    log_walk w;
    log_queue q = {0};
    dv_oidset seen = DV_OIDSET_INIT;
    const char **filters = NULL;
    const char *everything = "";
    git_tree *start_root = NULL;
    git_commit *first = NULL;
    int error = 0;
    memset(result, 0, sizeof(*result));
    if (opts->follow && n_paths != 1)
        return dv_error_set(DV_EUSAGE, "--follow follows one tracked data path (got %zu paths)",
                            n_paths);
    ssize_t cached_bytes = 0, cache_allowed = 0;
    int restore_cache =
        git_libgit2_opts(GIT_OPT_GET_CACHED_MEMORY, &cached_bytes, &cache_allowed) == 0 &&
        cache_allowed > LOG_GIT_CACHE_BYTES &&
        git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)LOG_GIT_CACHE_BYTES) == 0;
    memset(&w, 0, sizeof(w));
    w.git = repo->git;
    w.paths = paths;
    w.n_paths = n_paths;
    w.follow = opts->follow;
    w.fn = fn;
    w.ctx = ctx;
    w.path = w.component = w.data = w.source = w.scan = w.name = (dv_buf)DV_BUF_INIT;
    if (!(w.found = calloc(n_paths + 1, sizeof(*w.found))) ||
        !(filters = calloc(n_paths + 1, sizeof(*filters)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    /* The filters walked: sorted, those at or below another one dropped, so each pointer file
     * is met once a commit. */
    if (n_paths) {
        memcpy(filters, paths, n_paths * sizeof(*filters));
        qsort(filters, n_paths, sizeof(*filters), compare_paths);
    }
    for (size_t i = 0; i < n_paths; i++)
        if (!w.n_filters || !is_at_or_below(filters[i], filters[w.n_filters - 1]))
            filters[w.n_filters++] = filters[i];
    if (!n_paths) {
        filters[0] = everything;
        w.n_filters = 1;
    }
    w.filters = filters;
    const git_commit *start = dv_rev_commit(rev);
    if (git_commit_tree(&start_root, start) < 0) {
        error = git_failure(&w, "cannot read the tree of commit %s", hex_of(git_commit_id(start)));
        goto done;
    }
    if ((error = check_paths(&w, start_root, dv_rev_name(rev))) < 0)
        goto done;
    if (git_commit_lookup(&first, w.git, git_commit_id(start)) < 0) {
        error = git_failure(&w, "cannot read commit %s", hex_of(git_commit_id(start)));
        goto done;
    }
    if ((error = queue_parent(&q, &seen, first, opts->follow ? paths[0] : NULL)) < 0)
        goto done;
    error = 0;
    while (q.n && (opts->max_commits < 0 || (long long)result->commits_shown < opts->max_commits)) {
        log_queued at = queue_pop(&q);
        error = walk_commit(&w, &q, &seen, result, &at);
        git_commit_free(at.commit);
        free(at.name);
        if (error < 0)
            goto done;
        error = 0;
    }
    for (size_t i = 0; i < n_paths; i++)
        if (!w.found[i]) {
            error = dv_error_set(DV_EUSAGE, "%s is not tracked by dv at any commit walked from %s",
                                 paths[i][0] ? paths[i] : ".", dv_rev_name(rev));
            break;
        }
done:
    if (restore_cache && git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, cache_allowed) < 0)
        git_error_clear();
    git_tree_free(start_root);
    git_commit_free(first);
    queue_release(&q);
    dv_oidset_release(&seen);
    free(filters);
    free(w.found);
    dv_buf_release(&w.path);
    dv_buf_release(&w.component);
    dv_buf_release(&w.data);
    dv_buf_release(&w.source);
    dv_buf_release(&w.scan);
    dv_buf_release(&w.name);
    return error;
}
