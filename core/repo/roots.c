/* roots: the pointers and commits dv gc keeps besides refs (roots.h). */
#include "core/repo/roots.h"

#include "core/base/buf.h"
#include "core/object/oidset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- worktrees ---- */

typedef struct worktree {
    git_repository *git; /* owned, except the repository's own */
    int own;             /* git is repo->git */
    char *top;           /* the work tree's top, no trailing slash */
} worktree;

typedef struct worktrees {
    worktree *items;
    size_t n;
} worktrees;

static void worktrees_release(worktrees *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (!w->items[i].own)
            git_repository_free(w->items[i].git);
        free(w->items[i].top);
    }
    free(w->items);
    memset(w, 0, sizeof(*w));
}

static char *top_of(git_repository *git)
{
    const char *wd = git_repository_workdir(git);
    if (!wd)
        return NULL;
    size_t len = strlen(wd);
    while (len > 1 && wd[len - 1] == '/')
        len--;
    return strndup(wd, len);
}

/* Add git (taking it unless own) unless its work tree is one already listed. */
static int worktrees_add(worktrees *w, git_repository *git, int own)
{
    char *top = top_of(git);
    if (!top) {
        if (!own)
            git_repository_free(git); /* bare: no work tree, no index of pointers */
        return 0;
    }
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->items[i].top, top)) {
            free(top);
            if (!own)
                git_repository_free(git);
            return 0;
        }
    worktree *grown = realloc(w->items, (w->n + 1) * sizeof(*grown));
    if (!grown) {
        free(top);
        if (!own)
            git_repository_free(git);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    w->items = grown;
    w->items[w->n].git = git;
    w->items[w->n].own = own;
    w->items[w->n].top = top;
    w->n++;
    return 0;
}

/* This worktree first, then the main one (when this is a linked one), then every linked
 * one git lists. A linked worktree whose directory is gone (git worktree prune would remove
 * it) has no index or work tree left to read. */
static int list_worktrees(worktrees *out, dv_repo *repo)
{
    git_strarray names = {NULL, 0};
    int error = worktrees_add(out, repo->git, 1);
    if (!error && git_repository_is_worktree(repo->git)) {
        git_repository *main = NULL;
        if (git_repository_open(&main, git_repository_commondir(repo->git)) < 0)
            return dv_repo_git_error(DV_ERROR, "cannot open the main worktree");
        error = worktrees_add(out, main, 0);
    }
    if (!error && git_worktree_list(&names, repo->git) < 0)
        error = dv_repo_git_error(DV_ERROR, "cannot list the worktrees (git worktree list)");
    for (size_t i = 0; !error && i < names.count; i++) {
        git_worktree *wt = NULL;
        git_repository *git = NULL;
        if (git_worktree_lookup(&wt, repo->git, names.strings[i]) < 0) {
            error = dv_repo_git_error(DV_ERROR, names.strings[i]);
            break;
        }
        if (git_worktree_validate(wt) < 0) {
            git_error_clear();
        } else if (git_repository_open_from_worktree(&git, wt) < 0) {
            error = dv_repo_git_error(DV_ERROR, names.strings[i]);
            error = dv_error_wrap(error, "cannot open worktree %s", names.strings[i]);
        } else {
            error = worktrees_add(out, git, 0);
        }
        git_worktree_free(wt);
    }
    git_strarray_dispose(&names);
    return error;
}

/* ---- pointers of the worktrees ---- */

static int is_pointer_path(const char *path)
{
    size_t len = strlen(path), suffix = strlen(DV_POINTER_SUFFIX);
    if (len <= suffix || strcmp(path + len - suffix, DV_POINTER_SUFFIX))
        return 0;
    return strncmp(path, DV_DIR_NAME "/", strlen(DV_DIR_NAME) + 1) != 0;
}

/* The pointer file at path (relative to wt's top) in wt's work tree, named name in messages:
 * to fn, or when it does not parse, to bad (without bad, the error); absent, nothing. */
static int work_tree_pointer(dv_repo *repo, const worktree *wt, const char *path, const char *name,
                             dv_rev_pointer_fn fn, dv_rev_bad_fn bad, void *ctx)
{
    dv_pointer pointer;
    dv_buf file = DV_BUF_INIT;
    int error;
    if (wt->own)
        error = dv_repo_read_pointer(&pointer, repo, path);
    else if ((error = dv_buf_joinpath(&file, wt->top, path)) == 0)
        error = dv_pointer_read(&pointer, file.ptr);
    dv_buf_release(&file);
    if (error == DV_ENOTFOUND) { /* none there, or removed since the listing */
        dv_error_clear();
        return 0;
    }
    if (error == DV_ECORRUPT && bad) {
        dv_buf why = DV_BUF_INIT;
        error = dv_buf_printf(&why, "%s: %s", name, dv_error_last());
        if (!error)
            error = bad(ctx, why.ptr);
        dv_buf_release(&why);
        return error;
    }
    return error < 0 ? error : fn(ctx, name, &pointer);
}

/* The pointer files in wt's work tree that git's index does not hold (written by dv add, not
 * staged yet, or unstaged since): git's untracked files, found as git status finds them
 * (ignored directories are not entered). */
static int untracked_pointers(dv_repo *repo, const worktree *wt, dv_rev_pointer_fn fn,
                              dv_rev_bad_fn bad, void *ctx)
{
    git_status_options opts;
    git_status_list *list = NULL;
    dv_buf name = DV_BUF_INIT;
    int error = 0;
    char *spec[] = {"*" DV_POINTER_SUFFIX};
    if (git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot list the untracked files of the work tree");
    opts.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
    opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
                 GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    opts.pathspec.strings = spec;
    opts.pathspec.count = 1;
    if (git_status_list_new(&list, wt->git, &opts) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot list the untracked files of the work tree");
    size_t n = git_status_list_entrycount(list);
    for (size_t i = 0; i < n && !error; i++) {
        const git_status_entry *e = git_status_byindex(list, i);
        const char *path = e->index_to_workdir ? e->index_to_workdir->new_file.path : NULL;
        if (!(e->status & GIT_STATUS_WT_NEW) || !path || !is_pointer_path(path))
            continue;
        dv_buf_clear(&name);
        if ((error = dv_buf_printf(&name, "%s%s%s (untracked)", wt->own ? "" : wt->top,
                                   wt->own ? "" : "/", path)) < 0)
            break;
        error = work_tree_pointer(repo, wt, path, name.ptr, fn, bad, ctx);
    }
    git_status_list_free(list);
    dv_buf_release(&name);
    return error;
}

static int worktree_pointers(dv_repo *repo, const worktree *wt, dv_rev_pointer_fn fn,
                             dv_rev_bad_fn bad, void *ctx)
{
    git_index *index = NULL;
    dv_buf name = DV_BUF_INIT;
    int error = 0;
    if (git_repository_index(&index, wt->git) < 0)
        return dv_repo_git_error(DV_ECORRUPT, "cannot read git's index");
    if (!wt->own && git_index_read(index, 1) < 0) {
        error = dv_repo_git_error(DV_ECORRUPT, "cannot read git's index");
        goto done;
    }
    size_t n = git_index_entrycount(index);
    for (size_t i = 0; i < n && !error; i++) {
        const git_index_entry *e = git_index_get_byindex(index, i);
        if (!is_pointer_path(e->path))
            continue;
        dv_pointer pointer;
        /* The staged blob. */
        dv_buf_clear(&name);
        if ((error = dv_buf_printf(&name, "%s%s%s (staged)", wt->own ? "" : wt->top,
                                   wt->own ? "" : "/", e->path)) < 0)
            break;
        error = dv_rev_read_pointer_blob(&pointer, wt->git, &e->id, name.ptr);
        if (error == DV_ECORRUPT && bad)
            error = bad(ctx, dv_error_last());
        else if (!error)
            error = fn(ctx, name.ptr, &pointer);
        if (error < 0 || GIT_INDEX_ENTRY_STAGE(e) != 0)
            continue; /* the work tree holds one file for all the stages of a conflict */
        /* The file in the work tree, which dv add may have changed since. */
        dv_buf_clear(&name);
        if ((error = dv_buf_printf(&name, "%s%s%s", wt->own ? "" : wt->top, wt->own ? "" : "/",
                                   e->path)) < 0)
            break;
        error = work_tree_pointer(repo, wt, e->path, name.ptr, fn, bad, ctx);
    }
    if (!error)
        error = untracked_pointers(repo, wt, fn, bad, ctx);
done:
    git_index_free(index);
    dv_buf_release(&name);
    return error;
}

int dv_roots_each_worktree_pointer(dv_repo *repo, dv_rev_pointer_fn fn, dv_rev_bad_fn bad,
                                   void *ctx)
{
    worktrees wts = {NULL, 0};
    int error = list_worktrees(&wts, repo);
    for (size_t i = 0; i < wts.n && !error; i++)
        error = worktree_pointers(repo, &wts.items[i], fn, bad, ctx);
    worktrees_release(&wts);
    return error;
}

/* ---- commits of the history ---- */

typedef struct history {
    dv_revset *set;
    git_repository *git; /* where the commit is looked up (refs and objects are shared) */
    dv_oidset seen;      /* git ids (zero-padded) of the commits added */
    int64_t since;
    dv_roots_stats *stats;
    dv_buf name;
} history;

/* Add the commit that id names (a tag is peeled); ids git no longer has, or that name no
 * commit, are passed over. */
static int add_id(history *h, const git_oid *id, const char *name)
{
    git_object *obj = NULL, *commit = NULL;
    dv_oid key;
    int error = 0;
    if (git_oid_is_zero(id))
        return 0;
    if (git_object_lookup(&obj, h->git, id, GIT_OBJECT_ANY) < 0 ||
        git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
        git_error_clear();
        goto done;
    }
    memset(&key, 0, sizeof(key));
    memcpy(key.id, git_object_id(commit)->id, GIT_OID_RAWSZ);
    int added = dv_oidset_add(&h->seen, &key);
    if (added <= 0) {
        error = added;
        goto done;
    }
    if ((error = dv_revset_add_commit(h->set, git_object_id(commit), name)) < 0)
        goto done;
    if (h->stats)
        h->stats->history_commits++;
done:
    git_object_free(commit);
    git_object_free(obj);
    return error;
}

/* The entries of the reflog of refname (in git) at or after h->since; prefix names the
 * worktree for messages. */
static int add_reflog(history *h, git_repository *git, const char *refname, const char *prefix)
{
    git_reflog *log = NULL;
    int error = 0;
    if (git_reflog_read(&log, git, refname) < 0) {
        git_error_clear();
        return 0; /* no reflog */
    }
    size_t n = git_reflog_entrycount(log);
    for (size_t i = 0; i < n && !error; i++) {
        const git_reflog_entry *e = git_reflog_entry_byindex(log, i);
        const git_signature *who = git_reflog_entry_committer(e);
        if (!who || (int64_t)who->when.time < h->since)
            continue;
        dv_buf_clear(&h->name);
        if ((error = dv_buf_printf(&h->name, "%s%s@{%zu}", prefix, refname, i)) < 0)
            break;
        if ((error = add_id(h, git_reflog_entry_id_new(e), h->name.ptr)) < 0)
            break;
        error = add_id(h, git_reflog_entry_id_old(e), h->name.ptr);
    }
    git_reflog_free(log);
    return error;
}

typedef struct ref_names {
    char **names;
    size_t n;
    int error;
} ref_names;

static int note_ref(const char *name, void *ctx)
{
    ref_names *r = ctx;
    char **grown = realloc(r->names, (r->n + 1) * sizeof(*grown));
    if (!grown || !(grown[r->n] = strdup(name))) {
        if (grown)
            r->names = grown;
        r->error = dv_error_set(DV_ENOMEM, "out of memory");
        return -1;
    }
    r->names = grown;
    r->n++;
    return 0;
}

typedef struct stash_walk {
    history *h;
    int error;
} stash_walk;

/* A stash is a commit whose parents are the HEAD it was made on, the index and (with -u)
 * the untracked files: all three hold pointers that git stash apply brings back. */
static int note_stash(size_t index, const char *message, const git_oid *id, void *ctx)
{
    stash_walk *s = ctx;
    git_commit *commit = NULL;
    char name[64];
    (void)message;
    snprintf(name, sizeof(name), "stash@{%zu}", index);
    if ((s->error = add_id(s->h, id, name)) < 0)
        return -1;
    if (git_commit_lookup(&commit, s->h->git, id) < 0) {
        git_error_clear();
        return 0;
    }
    unsigned n = git_commit_parentcount(commit);
    for (unsigned i = 0; i < n && !s->error; i++) {
        snprintf(name, sizeof(name), "stash@{%zu}^%u", index, i + 1);
        s->error = add_id(s->h, git_commit_parent_id(commit, i), name);
    }
    git_commit_free(commit);
    return s->error < 0 ? -1 : 0;
}

int dv_roots_add_history(dv_revset *set, dv_repo *repo, int64_t since, dv_roots_stats *stats)
{
    worktrees wts = {NULL, 0};
    ref_names refs = {NULL, 0, 0};
    history h = {set, repo->git, DV_OIDSET_INIT, since, stats, DV_BUF_INIT};
    dv_buf prefix = DV_BUF_INIT;
    int error = list_worktrees(&wts, repo);
    if (stats)
        stats->worktrees = wts.n;
    for (size_t i = 0; i < wts.n && !error; i++) {
        git_reference *head = NULL;
        dv_buf_clear(&prefix);
        if (!wts.items[i].own && (error = dv_buf_printf(&prefix, "%s: ", wts.items[i].top)) < 0)
            break;
        if (git_repository_head(&head, wts.items[i].git) == 0) {
            dv_buf_clear(&h.name);
            if ((error = dv_buf_printf(&h.name, "%sHEAD", prefix.ptr)) == 0)
                error = add_id(
                    &h, git_reference_target(head) ? git_reference_target(head) : &(git_oid){{0}},
                    h.name.ptr);
            git_reference_free(head);
        } else {
            git_error_clear(); /* unborn */
        }
        if (!error)
            error = add_reflog(&h, wts.items[i].git, "HEAD", prefix.ptr);
    }
    if (!error && git_reference_foreach_name(repo->git, note_ref, &refs) < 0)
        error =
            refs.error ? refs.error : dv_repo_git_error(DV_ECORRUPT, "cannot list the references");
    for (size_t i = 0; i < refs.n && !error; i++)
        error = add_reflog(&h, repo->git, refs.names[i], "");
    if (!error) {
        stash_walk s = {&h, 0};
        int rc = git_stash_foreach(repo->git, note_stash, &s);
        if (s.error)
            error = s.error;
        else if (rc < 0 && rc != GIT_ENOTFOUND)
            error = dv_repo_git_error(DV_ECORRUPT, "cannot list the stashes");
        else
            git_error_clear();
    }
    for (size_t i = 0; i < refs.n; i++)
        free(refs.names[i]);
    free(refs.names);
    worktrees_release(&wts);
    dv_oidset_release(&h.seen);
    dv_buf_release(&h.name);
    dv_buf_release(&prefix);
    return error;
}
