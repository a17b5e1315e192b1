/* rev: the pointer files of a git revision and of the work tree (rev.h). */
#include "core/repo/rev.h"

#include "core/base/buf.h"
#include "core/base/pathname.h"

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
                             "repository)",
                             spec);
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
    return is_at_or_below(data_relpath, filter) || is_at_or_below(filter, data_relpath);
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
static int read_pointer_blob(dv_pointer *out, dv_rev *rev, const git_oid *id, const char *name)
{
    git_odb *odb = NULL;
    git_blob *blob = NULL;
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    int error = 0;
    memset(out, 0, sizeof(*out));
    if (git_repository_odb(&odb, rev->repo->git) < 0) {
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
    if (git_blob_lookup(&blob, rev->repo->git, id) < 0) {
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
done:
    git_blob_free(blob);
    git_odb_free(odb);
    return error;
}

typedef struct rev_walk {
    dv_rev *rev;
    const char *const *filters;
    size_t n_filters;
    dv_rev_pointer_fn fn;
    void *ctx;
    dv_buf name; /* "<rev>:<path>" for messages */
} rev_walk;

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
        if (!wanted)
            continue;
        dv_buf_truncate(&w->name, 0);
        if ((error = dv_buf_printf(&w->name, "%s:%s", w->rev->name, path->ptr)) < 0)
            break;
        if (problem) {
            error = dv_error_set(DV_ECORRUPT, "%s: its data path %s", w->name.ptr, problem);
            break;
        }
        git_filemode_t mode = git_tree_entry_filemode(e);
        if (type != GIT_OBJECT_BLOB ||
            (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)) {
            error = dv_error_set(DV_ECORRUPT, "%s: not a pointer file (not a regular file)",
                                 w->name.ptr);
            break;
        }
        dv_pointer pointer;
        if ((error = read_pointer_blob(&pointer, w->rev, git_tree_entry_id(e), w->name.ptr)) < 0)
            break;
        path->ptr[path->len - suffix_len] = '\0';
        error = w->fn(w->ctx, path->ptr, &pointer);
    }
    dv_buf_truncate(path, dir_len);
    return error;
}

int dv_rev_each_pointer(dv_rev *rev, const char *const *filters, size_t n_filters,
                        dv_rev_pointer_fn fn, void *ctx)
{
    rev_walk w = {rev, filters, n_filters, fn, ctx, DV_BUF_INIT};
    dv_buf path = DV_BUF_INIT;
    git_tree *tree = NULL;
    int error = 0;
    if (git_commit_tree(&tree, rev->commit) < 0)
        return dv_repo_git_error(DV_ECORRUPT, "reading the tree of the revision");
    error = walk_tree(&w, tree, &path, 0);
    git_tree_free(tree);
    dv_buf_release(&path);
    dv_buf_release(&w.name);
    return error;
}

int dv_rev_read_pointer(dv_pointer *out, dv_rev *rev, const char *pointer_relpath)
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
    git_filemode_t mode = git_tree_entry_filemode(e);
    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB ||
        (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE)) {
        error = dv_error_set(DV_ECORRUPT, "%s: not a pointer file (not a regular file)", name.ptr);
        goto done;
    }
    error = read_pointer_blob(out, rev, git_tree_entry_id(e), name.ptr);
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
    if (problem)
        return dv_error_set(DV_ECORRUPT, "%s: its data path %s", pointer_relpath, problem);
    dv_pointer pointer;
    if ((error = dv_repo_read_pointer(&pointer, w->repo, pointer_relpath)) < 0)
        return error;
    return w->fn(w->ctx, w->data.ptr, &pointer);
}

int dv_rev_each_worktree_pointer(dv_repo *repo, const char *const *filters, size_t n_filters,
                                 dv_rev_pointer_fn fn, void *ctx)
{
    worktree_walk w = {repo, filters, n_filters, fn, ctx, DV_BUF_INIT};
    int error = dv_repo_each_pointer(repo, worktree_one, &w);
    dv_buf_release(&w.data);
    return error;
}

const git_commit *dv_rev_commit(const dv_rev *rev)
{
    return rev->commit;
}
