/* rev: the pointer files of a git revision and of the work tree (rev.h). */
#include "core/repo/rev.h"

#include "core/base/buf.h"
#include "core/base/pathname.h"
#include "core/object/oidset.h"

#include <stdlib.h>
#include <string.h>

struct dv_rev {
    dv_repo *repo;
    git_commit *commit;
    char *name;
};

int dv_rev_resolve(dv_rev **out, dv_repo *repo, const char *spec)
{
    git_object *obj = NULL, *peeled = NULL;
    dv_rev *rev = NULL;
    int error = 0;
    *out = NULL;
    if (!spec[0] || git_revparse_single(&obj, repo->git, spec) < 0) {
        error = dv_error_set(DV_EUSAGE,
                             "unknown revision '%s' (not a branch, tag or commit of this "
                             "repository%s)",
                             spec,
                             git_repository_is_shallow(repo->git) == 1
                                 ? "; this is a shallow clone, whose history stops short: "
                                   "the commit may lie beyond it (git fetch --unshallow)"
                                 : "");
        goto done;
    }
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
        error = dv_error_set(DV_EUSAGE, "revision '%s' does not name a commit", spec);
        goto done;
    }
    if (!(rev = calloc(1, sizeof(*rev))) || !(rev->name = strdup(spec))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    rev->repo = repo;
    rev->commit = (git_commit *)peeled;
    peeled = NULL;
    *out = rev;
    rev = NULL;
done:
    dv_rev_free(rev);
    git_object_free(peeled);
    git_object_free(obj);
    return error;
}

void dv_rev_free(dv_rev *rev)
{
    if (!rev)
        return;
    git_commit_free(rev->commit);
    free(rev->name);
    free(rev);
}

const char *dv_rev_name(const dv_rev *rev)
{
    return rev->name;
}

/* 1 if b is a or lies below it ("" is above everything). */
static int is_at_or_below(const char *b, const char *a)
{
    size_t len = strlen(a);
    return !len || (!strncmp(a, b, len) && (b[len] == '\0' || b[len] == '/'));
}

int dv_rev_path_matches(const char *data_relpath, const char *filter)
{
    size_t len = strlen(data_relpath);
    if (!strncmp(filter, data_relpath, len) && !strcmp(filter + len, DV_POINTER_SUFFIX))
        return 1; /* the pointer file itself */
    return is_at_or_below(data_relpath, filter) || is_at_or_below(filter, data_relpath);
}

int dv_rev_path_inside(const char *filter, const char *data_relpath)
{
    size_t len = strlen(data_relpath);
    return len && !strncmp(filter, data_relpath, len) && filter[len] == '/' && filter[len + 1];
}

int dv_rev_path_select(size_t *parts, size_t *n_parts, const char *data_relpath,
                       const char *const *filters, size_t n_filters)
{
    size_t n = 0;
    *n_parts = 0;
    if (!n_filters)
        return DV_SELECT_WHOLE;
    for (size_t i = 0; i < n_filters; i++) {
        if (dv_rev_path_matches(data_relpath, filters[i]) && !dv_rev_path_inside(filters[i], data_relpath))
            return DV_SELECT_WHOLE;
        if (!dv_rev_path_inside(filters[i], data_relpath))
            continue;
        /* a part at or below one kept is left out; kept ones at or below it make way */
        int covered = 0;
        for (size_t k = 0; k < n && !covered; k++)
            covered = is_at_or_below(filters[i], filters[parts[k]]);
        if (covered)
            continue;
        size_t kept = 0;
        for (size_t k = 0; k < n; k++)
            if (!is_at_or_below(filters[parts[k]], filters[i]))
                parts[kept++] = parts[k];
        n = kept;
        size_t at = n++; /* in path order */
        while (at > 0 && strcmp(filters[parts[at - 1]], filters[i]) > 0) {
            parts[at] = parts[at - 1];
            at--;
        }
        parts[at] = i;
    }
    *n_parts = n;
    return n ? DV_SELECT_PARTS : DV_SELECT_NONE;
}

static int matches_any(const char *path, const char *const *filters, size_t n_filters)
{
    if (!n_filters)
        return 1;
    for (size_t i = 0; i < n_filters; i++)
        if (dv_rev_path_matches(path, filters[i]))
            return 1;
    return 0;
}

/* Read the pointer blob id, its size checked against DV_POINTER_MAX_BYTES before its bytes are
 * read; name ("<rev>:<path>.dv") is for messages. */
static int read_pointer_blob(dv_pointer *out, dv_buf *text, git_repository *git, const git_oid *id,
                             const char *name)
{
    git_odb *odb = NULL;
    git_blob *blob = NULL;
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    int error = 0;
    memset(out, 0, sizeof(*out));
    if (git_repository_odb(&odb, git) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot open git's object database");
        goto done;
    }
    if (git_odb_read_header(&size, &type, odb, id) < 0) {
        error = dv_repo_git_error(DV_ECORRUPT, name);
        goto done;
    }
    if (type != GIT_OBJECT_BLOB || size > DV_POINTER_MAX_BYTES) {
        error = dv_error_set(DV_ECORRUPT,
                             "%s: not a pointer file (%s of %zu bytes; a pointer file is a "
                             "blob of at most %d bytes)",
                             name, git_object_type2string(type), size, DV_POINTER_MAX_BYTES);
        goto done;
    }
    if (git_blob_lookup(&blob, git, id) < 0) {
        error = dv_repo_git_error(DV_ECORRUPT, name);
        goto done;
    }
    git_object_size_t len = git_blob_rawsize(blob);
    if (len > DV_POINTER_MAX_BYTES) {
        error = dv_error_set(DV_ECORRUPT, "%s: pointer file larger than %d bytes", name,
                             DV_POINTER_MAX_BYTES);
        goto done;
    }
    error = dv_pointer_parse(out, git_blob_rawcontent(blob), (size_t)len, name);
    if (!error && text) {
        dv_buf_truncate(text, 0);
        error = dv_buf_put(text, git_blob_rawcontent(blob), (size_t)len);
    }
done:
    git_blob_free(blob);
    git_odb_free(odb);
    return error;
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int dv_rev_check_data_paths(char **paths, size_t n)
{
    dv_buf prefix = DV_BUF_INIT;
    int error = 0;
    for (size_t i = 0; i < n && !error; i++) {
        size_t at, len;
        const char *problem = dv_pathname_check_path(paths[i], &at, &len);
        if (problem)
            error = dv_error_set(DV_ECORRUPT,
                                 "pointer file %s%s names a path dv never writes: '%.*s' %s "
                                 "(remove it from git: git rm --cached %s%s)",
                                 paths[i], DV_POINTER_SUFFIX, (int)len, paths[i] + at, problem,
                                 paths[i], DV_POINTER_SUFFIX);
    }
    if (n > 1)
        qsort(paths, n, sizeof(*paths), cmp_paths);
    for (size_t i = 0; i < n && !error; i++) {
        for (const char *slash = strchr(paths[i], '/'); slash && !error;
             slash = strchr(slash + 1, '/')) {
            dv_buf_clear(&prefix);
            if ((error = dv_buf_put(&prefix, paths[i], (size_t)(slash - paths[i]))) < 0)
                break;
            char *key = prefix.ptr;
            if (n && bsearch(&key, paths, n, sizeof(*paths), cmp_paths))
                error = dv_error_set(DV_ECORRUPT,
                                     "pointer files %s%s and %s%s overlap: %s lies inside %s, "
                                     "which %s%s tracks (remove one of them from git)",
                                     prefix.ptr, DV_POINTER_SUFFIX, paths[i], DV_POINTER_SUFFIX,
                                     paths[i], prefix.ptr, prefix.ptr, DV_POINTER_SUFFIX);
        }
    }
    dv_buf_release(&prefix);
    return error;
}

/* The pointer blob a tree entry names: a regular file's, read as read_pointer_blob reads. */
static int read_pointer_entry(dv_pointer *out, dv_buf *text, git_repository *git,
                              const git_tree_entry *e, const char *name)
{
    git_filemode_t mode = git_tree_entry_filemode(e);
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
        (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE))
        return dv_error_set(DV_ECORRUPT, "%s: not a pointer file (not a regular file)", name);
    return read_pointer_blob(out, text, git, git_tree_entry_id(e), name);
}

int dv_rev_read_pointer_blob(dv_pointer *out, git_repository *git, const git_oid *id,
                             const char *name)
{
    return read_pointer_blob(out, NULL, git, id, name);
}

int dv_rev_read_pointer_entry(dv_pointer *out, git_repository *git, const git_tree_entry *e,
                              const char *name)
{
    return read_pointer_entry(out, NULL, git, e, name);
}

typedef struct rev_walk {
    dv_rev *rev;
    const char *const *filters;
    size_t n_filters;
    dv_rev_pointer_fn fn;
    dv_rev_bad_fn bad; /* NULL: a bad pointer ends the walk */
    void *ctx;
    dv_buf name;     /* "<rev>:<path>" for messages */
    dv_oidset *seen; /* for many revisions: (id, path) of the trees and pointers visited */
    dv_buf key;
} rev_walk;

/* 1 the first time the git object id is met at path in a walk over many revisions. */
static int first_visit(rev_walk *w, const git_oid *id, const char *path)
{
    if (!w->seen)
        return 1;
    dv_oid key;
    dv_buf_truncate(&w->key, 0);
    int error = dv_buf_put(&w->key, id->id, GIT_OID_RAWSZ);
    if (!error)
        error = dv_buf_puts(&w->key, path);
    if (!error)
        error = dv_hash_buffer(&key, w->key.ptr, w->key.len);
    return error < 0 ? error : dv_oidset_add(w->seen, &key);
}

/* A pointer that cannot be used: the walk's error, or reported and passed over. */
static int bad_pointer(rev_walk *w, int error)
{
    if (!w->bad || error != DV_ECORRUPT)
        return error;
    return w->bad(w->ctx, dv_error_last());
}

static int walk_tree(rev_walk *w, git_tree *tree, dv_buf *path, unsigned depth)
{
    size_t suffix_len = strlen(DV_POINTER_SUFFIX);
    size_t dir_len = path->len;
    int error = 0;
    if (depth > 4096)
        return dv_error_set(DV_ECORRUPT, "revision %s: trees nested deeper than 4096 at %s",
                            w->rev->name, path->ptr);
    size_t n = git_tree_entrycount(tree);
    for (size_t i = 0; i < n && !error; i++) {
        const git_tree_entry *e = git_tree_entry_byindex(tree, i);
        const char *name = git_tree_entry_name(e);
        size_t name_len = strlen(name);
        dv_buf_truncate(path, dir_len);
        if ((error = dv_buf_printf(path, "%s%s", dir_len ? "/" : "", name)) < 0)
            break;
        if (!dir_len && !strcmp(name, DV_DIR_NAME))
            continue;
        git_object_t type = git_tree_entry_type(e);
        if (type == GIT_OBJECT_TREE) {
            if (!matches_any(path->ptr, w->filters, w->n_filters))
                continue;
            if ((error = first_visit(w, git_tree_entry_id(e), path->ptr)) <= 0)
                continue;
            const char *problem = dv_pathname_problem(name, name_len);
            if (problem) {
                error = dv_error_set(DV_ECORRUPT, "revision %s: %s/: %s", w->rev->name, path->ptr,
                                     problem);
                break;
            }
            git_tree *sub = NULL;
            if (git_tree_lookup(&sub, w->rev->repo->git, git_tree_entry_id(e)) < 0) {
                error = dv_repo_git_error(DV_ECORRUPT, "reading a tree of the revision");
                break;
            }
            error = walk_tree(w, sub, path, depth + 1);
            git_tree_free(sub);
            continue;
        }
        if (name_len <= suffix_len || strcmp(name + name_len - suffix_len, DV_POINTER_SUFFIX))
            continue;
        path->ptr[path->len - suffix_len] = '\0'; /* the data path, for a moment */
        int wanted = matches_any(path->ptr, w->filters, w->n_filters);
        const char *problem = dv_pathname_problem(name, name_len - suffix_len);
        path->ptr[path->len - suffix_len] = DV_POINTER_SUFFIX[0];
        if (!wanted || (error = first_visit(w, git_tree_entry_id(e), path->ptr)) <= 0)
            continue;
        dv_buf_truncate(&w->name, 0);
        if ((error = dv_buf_printf(&w->name, "%s:%s", w->rev->name, path->ptr)) < 0)
            break;
        dv_pointer pointer;
        if (problem)
            error = dv_error_set(DV_ECORRUPT, "%s: its data path %s", w->name.ptr, problem);
        else
            error = read_pointer_entry(&pointer, NULL, w->rev->repo->git, e, w->name.ptr);
        if (error < 0) {
            error = bad_pointer(w, error);
            continue;
        }
        path->ptr[path->len - suffix_len] = '\0';
        error = w->fn(w->ctx, path->ptr, &pointer);
    }
    dv_buf_truncate(path, dir_len);
    return error;
}

static int walk_commit(rev_walk *w)
{
    dv_buf path = DV_BUF_INIT;
    git_tree *tree = NULL;
    int error = 0;
    if (git_commit_tree(&tree, w->rev->commit) < 0)
        return dv_repo_git_error(DV_ECORRUPT, "reading the tree of the revision");
    error = walk_tree(w, tree, &path, 0);
    git_tree_free(tree);
    dv_buf_release(&path);
    return error;
}

int dv_rev_each_pointer(dv_rev *rev, const char *const *filters, size_t n_filters,
                        dv_rev_pointer_fn fn, void *ctx)
{
    rev_walk w = {rev, filters, n_filters, fn, NULL, ctx, DV_BUF_INIT, NULL, DV_BUF_INIT};
    int error = walk_commit(&w);
    dv_buf_release(&w.name);
    return error;
}

int dv_rev_read_pointer(dv_pointer *out, dv_rev *rev, const char *pointer_relpath)
{
    return dv_rev_read_pointer_text(out, NULL, rev, pointer_relpath);
}

int dv_rev_read_pointer_text(dv_pointer *out, dv_buf *text, dv_rev *rev,
                             const char *pointer_relpath)
{
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    dv_buf name = DV_BUF_INIT;
    int error = 0;
    memset(out, 0, sizeof(*out));
    if ((error = dv_buf_printf(&name, "%s:%s", rev->name, pointer_relpath)) < 0)
        goto done;
    if (git_commit_tree(&tree, rev->commit) < 0) {
        error = dv_repo_git_error(DV_ECORRUPT, "reading the tree of the revision");
        goto done;
    }
    if (git_tree_entry_bypath(&e, tree, pointer_relpath) < 0) {
        error = dv_error_set(DV_ENOTFOUND, "%s: no such pointer file at revision %s", name.ptr,
                             rev->name);
        goto done;
    }
    error = read_pointer_entry(out, text, rev->repo->git, e, name.ptr);
done:
    git_tree_entry_free(e);
    git_tree_free(tree);
    dv_buf_release(&name);
    return error;
}

typedef struct worktree_walk {
    dv_repo *repo;
    const char *const *filters;
    size_t n_filters;
    dv_rev_pointer_fn fn;
    dv_rev_bad_fn bad; /* NULL: a bad pointer ends the walk */
    void *ctx;
    dv_buf data;
} worktree_walk;

static int worktree_one(void *ctx, const char *pointer_relpath)
{
    worktree_walk *w = ctx;
    int error = 0;
    dv_buf_truncate(&w->data, 0);
    if ((error = dv_buf_put(&w->data, pointer_relpath,
                            strlen(pointer_relpath) - strlen(DV_POINTER_SUFFIX))) < 0)
        return error;
    if (!matches_any(w->data.ptr, w->filters, w->n_filters))
        return 0;
    const char *problem = dv_pathname_check_path(w->data.ptr, NULL, NULL);
    dv_pointer pointer;
    if (problem)
        error = dv_error_set(DV_ECORRUPT, "%s: its data path %s", pointer_relpath, problem);
    else
        error = dv_repo_read_pointer(&pointer, w->repo, pointer_relpath);
    if (error == DV_ECORRUPT || error == DV_ENOTFOUND)
        return w->bad ? w->bad(w->ctx, dv_error_last()) : error;
    if (error < 0)
        return error;
    return w->fn(w->ctx, w->data.ptr, &pointer);
}

static int each_worktree_pointer(dv_repo *repo, const char *const *filters, size_t n_filters,
                                 dv_rev_pointer_fn fn, dv_rev_bad_fn bad, void *ctx)
{
    worktree_walk w = {repo, filters, n_filters, fn, bad, ctx, DV_BUF_INIT};
    int error = dv_repo_each_pointer(repo, worktree_one, &w);
    dv_buf_release(&w.data);
    return error;
}

int dv_rev_each_worktree_pointer(dv_repo *repo, const char *const *filters, size_t n_filters,
                                 dv_rev_pointer_fn fn, void *ctx)
{
    return each_worktree_pointer(repo, filters, n_filters, fn, NULL, ctx);
}

/* ---- many revisions ---- */

/* Commits reachable from tip but not from base (nor from the references hide names). */
typedef struct rev_range {
    git_oid tip, base;
    int has_base;
    char *hide; /* a reference glob, or NULL */
} rev_range;

struct dv_revset {
    dv_repo *repo;
    dv_rev **revs; /* named one by one */
    size_t n, alloc;
    rev_range *ranges;
    size_t n_ranges, alloc_ranges;
    unsigned refs; /* DV_REVSET_* */
};

int dv_revset_new(dv_revset **out, dv_repo *repo)
{
    if (!(*out = calloc(1, sizeof(**out))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    (*out)->repo = repo;
    return 0;
}

void dv_revset_free(dv_revset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        dv_rev_free(set->revs[i]);
    free(set->revs);
    for (size_t i = 0; i < set->n_ranges; i++)
        free(set->ranges[i].hide);
    free(set->ranges);
    free(set);
}

int dv_revset_add(dv_revset *set, const char *spec)
{
    if (set->n == set->alloc) {
        size_t alloc = set->alloc ? set->alloc * 2 : 4;
        dv_rev **revs = realloc(set->revs, alloc * sizeof(*revs));
        if (!revs)
            return dv_error_set(DV_ENOMEM, "out of memory");
        set->revs = revs;
        set->alloc = alloc;
    }
    int error = dv_rev_resolve(&set->revs[set->n], set->repo, spec);
    if (!error)
        set->n++;
    return error;
}

int dv_revset_add_range(dv_revset *set, const char *tip_hex, const char *base_hex,
                        const char *hide_glob)
{
    rev_range r = {{{0}}, {{0}}, 0, NULL};
    if (git_oid_fromstr(&r.tip, tip_hex) < 0)
        return dv_error_set(DV_EUSAGE, "'%s' is not a commit id", tip_hex);
    if (base_hex && git_oid_fromstr(&r.base, base_hex) < 0)
        return dv_error_set(DV_EUSAGE, "'%s' is not a commit id", base_hex);
    r.has_base = base_hex != NULL;
    if (hide_glob && !(r.hide = strdup(hide_glob)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (set->n_ranges == set->alloc_ranges) {
        size_t alloc = set->alloc_ranges ? set->alloc_ranges * 2 : 4;
        rev_range *ranges = realloc(set->ranges, alloc * sizeof(*ranges));
        if (!ranges) {
            free(r.hide);
            return dv_error_set(DV_ENOMEM, "out of memory");
        }
        set->ranges = ranges;
        set->alloc_ranges = alloc;
    }
    set->ranges[set->n_ranges++] = r;
    return 0;
}

int dv_revset_add_commit(dv_revset *set, const git_oid *id, const char *name)
{
    dv_rev *rev = NULL;
    int error = 0;
    if (set->n == set->alloc) {
        size_t alloc = set->alloc ? set->alloc * 2 : 4;
        dv_rev **revs = realloc(set->revs, alloc * sizeof(*revs));
        if (!revs)
            return dv_error_set(DV_ENOMEM, "out of memory");
        set->revs = revs;
        set->alloc = alloc;
    }
    if (!(rev = calloc(1, sizeof(*rev))) || !(rev->name = strdup(name))) {
        free(rev);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    rev->repo = set->repo;
    if (git_commit_lookup(&rev->commit, set->repo->git, id) < 0) {
        char hex[GIT_OID_HEXSZ + 1];
        git_oid_tostr(hex, sizeof(hex), id);
        error = dv_repo_git_error(DV_ECORRUPT, name);
        error = dv_error_wrap(error, "%s names commit %s, which cannot be read", name, hex);
        dv_rev_free(rev);
        return error;
    }
    set->revs[set->n++] = rev;
    return 0;
}

size_t dv_revset_count(const dv_revset *set)
{
    return set ? set->n : 0;
}

void dv_revset_add_refs(dv_revset *set, unsigned which)
{
    set->refs |= which;
}

int dv_revset_is_empty(const dv_revset *set)
{
    return !set || (!set->n && !set->refs && !set->n_ranges);
}

/* Walk the commit id (named name in messages) as one more revision of the set. */
static int walk_one(rev_walk *w, const git_oid *id, const char *name)
{
    dv_rev rev = {w->rev->repo, NULL, (char *)name};
    if (git_commit_lookup(&rev.commit, rev.repo->git, id) < 0)
        return dv_repo_git_error(DV_ECORRUPT, name);
    dv_rev *outer = w->rev;
    w->rev = &rev;
    int error = walk_commit(w);
    w->rev = outer;
    git_commit_free(rev.commit);
    return error;
}

typedef struct ref_walk {
    rev_walk *w;
    const char *prefix;
    int error; /* the callback's own */
} ref_walk;

/* Each branch or tag that peels to a commit; a tag of a tree or blob holds no pointers
 * dv can name and is passed over. */
static int walk_ref(const char *refname, void *ctx)
{
    ref_walk *r = ctx;
    git_reference *ref = NULL;
    git_object *commit = NULL;
    int error = 0;
    if (git_reference_lookup(&ref, r->w->rev->repo->git, refname) < 0)
        return r->error = dv_repo_git_error(DV_ECORRUPT, refname);
    if (git_reference_peel(&commit, ref, GIT_OBJECT_COMMIT) == 0)
        error = walk_one(r->w, git_object_id(commit), refname + strlen(r->prefix));
    git_object_free(commit);
    git_reference_free(ref);
    return r->error = error;
}

static int walk_refs(rev_walk *w, const char *glob)
{
    ref_walk r = {w, "", 0};
    const char *star = strchr(glob, '*');
    dv_buf prefix = DV_BUF_INIT;
    int error = dv_buf_put(&prefix, glob, (size_t)(star - glob));
    r.prefix = prefix.ptr;
    if (!error) {
        int rc = git_reference_foreach_glob(w->rev->repo->git, glob, walk_ref, &r);
        error = r.error  ? r.error
                : rc < 0 ? dv_repo_git_error(DV_ECORRUPT, "listing the references")
                         : 0;
    }
    dv_buf_release(&prefix);
    return error;
}

/* Each commit the walk gives. A shallow clone's history ends at its boundary, as git's own
 * walks do. */
static int walk_commits(rev_walk *w, git_revwalk *walk)
{
    git_oid id;
    char name[GIT_OID_HEXSZ + 1];
    int error = 0, rc;
    while (!error && (rc = git_revwalk_next(&id, walk)) == 0) {
        git_oid_tostr(name, 13, &id);
        error = walk_one(w, &id, name);
    }
    if (!error && rc != GIT_ITEROVER)
        error = dv_repo_git_error(DV_ECORRUPT, "walking the history");
    return error;
}

/* Every commit reachable from a reference or HEAD. */
static int walk_all_commits(rev_walk *w)
{
    git_revwalk *walk = NULL;
    int error = 0;
    git_repository *git = w->rev->repo->git;
    if (git_revwalk_new(&walk, git) < 0 || git_revwalk_push_glob(walk, "refs/*") < 0 ||
        (git_revwalk_push_head(walk) < 0 && !git_repository_head_unborn(git)))
        error = dv_repo_git_error(DV_ECORRUPT, "walking the history");
    else
        error = walk_commits(w, walk);
    git_revwalk_free(walk);
    return error;
}

/* The commits of a range. A base or hidden reference this repository does not have (a
 * remote's commit never fetched) hides nothing. */
static int walk_range(rev_walk *w, const rev_range *r)
{
    git_revwalk *walk = NULL;
    git_repository *git = w->rev->repo->git;
    int error = 0;
    char name[GIT_OID_HEXSZ + 1];
    if (git_revwalk_new(&walk, git) < 0 || git_revwalk_push(walk, &r->tip) < 0) {
        git_oid_tostr(name, sizeof(name), &r->tip);
        error = dv_repo_git_error(DV_EUSAGE, name);
        error = dv_error_wrap(error, "commit %s is not in this repository", name);
        goto done;
    }
    if (r->has_base && git_revwalk_hide(walk, &r->base) < 0)
        git_error_clear();
    if (r->hide && git_revwalk_hide_glob(walk, r->hide) < 0)
        git_error_clear();
    error = walk_commits(w, walk);
done:
    git_revwalk_free(walk);
    return error;
}

int dv_revset_each_pointer(dv_repo *repo, dv_revset *set, const char *const *filters,
                           size_t n_filters, dv_rev_pointer_fn fn, dv_rev_bad_fn bad, void *ctx)
{
    if (dv_revset_is_empty(set))
        return each_worktree_pointer(repo, filters, n_filters, fn, bad, ctx);
    dv_oidset seen = DV_OIDSET_INIT;
    dv_rev top = {repo, NULL, (char *)"HEAD"};
    rev_walk w = {&top, filters, n_filters, fn, bad, ctx, DV_BUF_INIT, &seen, DV_BUF_INIT};
    int error = 0;
    for (size_t i = 0; i < set->n && !error; i++) {
        w.rev = set->revs[i];
        error = walk_commit(&w);
        w.rev = &top;
    }
    for (size_t i = 0; i < set->n_ranges && !error; i++)
        error = walk_range(&w, &set->ranges[i]);
    if (!error && (set->refs & DV_REVSET_COMMITS))
        error = walk_all_commits(&w);
    if (!error && (set->refs & DV_REVSET_BRANCHES) && !(set->refs & DV_REVSET_COMMITS))
        error = walk_refs(&w, "refs/heads/*");
    if (!error && (set->refs & DV_REVSET_TAGS) && !(set->refs & DV_REVSET_COMMITS))
        error = walk_refs(&w, "refs/tags/*");
    dv_oidset_release(&seen);
    dv_buf_release(&w.name);
    dv_buf_release(&w.key);
    return error;
}

const git_commit *dv_rev_commit(const dv_rev *rev)
{
    return rev->commit;
}

int dv_rev_resolve_range(dv_rev **a, dv_rev **b, dv_repo *repo, const char *spec)
{
    const char *dots = strstr(spec, "..");
    *a = *b = NULL;
    if (!dots)
        return 0;
    int three = dots[2] == '.';
    dv_buf left = DV_BUF_INIT;
    const char *right = dots + (three ? 3 : 2);
    int error = dv_buf_put(&left, spec, (size_t)(dots - spec));
    if (!error)
        error = dv_rev_resolve(a, repo, left.len ? left.ptr : "HEAD");
    if (!error)
        error = dv_rev_resolve(b, repo, right[0] ? right : "HEAD");
    if (!error && three) {
        git_oid base;
        git_commit *commit = NULL;
        if (git_merge_base(&base, repo->git, git_commit_id((*a)->commit),
                           git_commit_id((*b)->commit)) < 0 ||
            git_commit_lookup(&commit, repo->git, &base) < 0) {
            error = dv_error_set(DV_EUSAGE, "%s: the two sides have no common ancestor", spec);
        } else {
            git_commit_free((*a)->commit);
            (*a)->commit = commit;
        }
    }
    dv_buf_release(&left);
    if (error < 0) {
        dv_rev_free(*a);
        dv_rev_free(*b);
        *a = *b = NULL;
        return error;
    }
    return 1;
}
