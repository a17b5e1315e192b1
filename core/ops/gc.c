/* gc: keep what the roots reach, delete the rest (gc.h). */
#include "core/ops/gc.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/pool.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/ops/reach.h"
#include "core/repo/roots.h"
#include "core/repo/settings.h"
#include "remotes/remote_index.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct collector {
    dv_reach_item *items;
    char **names; /* for messages: items[i].root indexes them */
    size_t n, alloc;
    dv_oidset seen; /* SHA-256 of (kind, id, path): the same pointer read twice is one root */
    dv_gc_result *result;
    dv_oidset keep;
    dv_oidset *keep_ref; /* for the verbose walk */
    dv_odb *odb;
    const dv_gc_options *opts;
    uint8_t *from_history; /* per item: read from a revision, not from a worktree */
    int reading_history;
    dv_oidset remove;  /* a drop: what only the dropped roots reach */
    uint8_t *unpushed; /* per item: a drop found an object below it that the remote lacks */
    dv_remote_index *remote_index;
    dv_odb *partial;     /* <cache>/partial, when there is one */
    dv_oidset passed;    /* trees the store lacks, looked below in partial */
    uint64_t kept_through; /* objects kept that only the walk through partial reached */
} collector;

static int add_root(void *ctx, const char *data_relpath, const dv_pointer *pointer)
{
    collector *c = ctx;
    if (c->n == c->alloc) {
        size_t alloc = c->alloc ? c->alloc * 2 : 64;
        dv_reach_item *items = realloc(c->items, alloc * sizeof(*items));
        if (items)
            c->items = items;
        char **names = items ? realloc(c->names, alloc * sizeof(*names)) : NULL;
        if (names)
            c->names = names;
        uint8_t *from = names ? realloc(c->from_history, alloc) : NULL;
        if (!from)
            return dv_error_set(DV_ENOMEM, "out of memory");
        c->from_history = from;
        c->alloc = alloc;
    }
    c->from_history[c->n] = (uint8_t)c->reading_history;
    if (!(c->names[c->n] = strdup(data_relpath)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    c->items[c->n].id = pointer->oid;
    c->items[c->n].type = dv_object_type_of_mode(dv_pointer_mode(pointer));
    c->items[c->n].root = (uint32_t)c->n;
    c->n++;
    c->result->roots++;
    return 0;
}

static int note_bad(void *ctx, const char *message)
{
    collector *c = ctx;
    return dv_path_list_add(&c->result->bad, message);
}

static const char *root_name(void *ctx, uint32_t root)
{
    const collector *c = ctx;
    return c->names[root];
}

static int keep_object(void *ctx, const dv_reach_item *item)
{
    collector *c = ctx;
    int added = dv_oidset_add(&c->keep, &item->id);
    return added < 0 ? added : 0;
}

/* An object the store lacks: data never fetched into this clone (or fetched in part, which
 * the walk through partial finds). Nothing below it is known, and nothing below it is
 * looked for. */
static int absent(void *ctx, const dv_reach_item *item)
{
    collector *c = ctx;
    (void)item;
    c->result->missing++;
    return 1;
}

static int read_passed(void *ctx, const dv_reach_item *item, dv_buf *out, uint8_t *type)
{
    collector *c = ctx;
    if (!c->passed.n || !dv_oidset_has(&c->passed, &item->id))
        return 0;
    int error = dv_odb_read(out, type, c->partial, &item->id);
    return error < 0 ? error : 1;
}

/* The walk through partial: below a tree the store lacks and <cache>/partial holds (the trees
 * down to a path pulled alone, dv pull tree/a/x), what the store holds is kept. */
static int absent_partial(void *ctx, const dv_reach_item *item)
{
    collector *c = ctx;
    if (item->type != DV_OBJ_TREE || !dv_odb_has(c->partial, &item->id))
        return 1;
    int added = dv_oidset_add(&c->passed, &item->id);
    return added < 0 ? added : 2;
}

static int keep_through(void *ctx, const dv_reach_item *item)
{
    collector *c = ctx;
    int added = dv_oidset_add(&c->keep, &item->id);
    c->kept_through += added > 0;
    return added < 0 ? added : 0;
}

/* The roots whose data the store holds in part: walked again through partial, where the
 * trees down to their paths are; what only they reach is kept too, and partial with it. */
static int keep_parts(collector *c, dv_odb *odb, const dv_reach_item *roots, size_t n)
{
    dv_reach_item *lacking = malloc((n ? n : 1) * sizeof(*lacking));
    size_t n_lacking = 0;
    if (!lacking)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (roots[i].type == DV_OBJ_TREE && !dv_odb_has(odb, &roots[i].id))
            lacking[n_lacking++] = roots[i];
    dv_reach_ops ops = {NULL, read_passed, absent_partial, keep_through, root_name, c};
    int error = n_lacking ? dv_reach_walk(odb, lacking, n_lacking, &ops) : 0;
    free(lacking);
    return error;
}

/* The length of the data path in a root's name: this worktree's roots are named by their
 * pointer files ("<path>.dv", "<path>.dv (staged)"), the history's by their data paths. */
static size_t data_path_len(const char *name, int from_worktree)
{
    const char *staged = " (staged)";
    size_t len = strlen(name), suffix = strlen(DV_POINTER_SUFFIX);
    if (!from_worktree)
        return len;
    if (len > strlen(staged) && !strcmp(name + len - strlen(staged), staged))
        len -= strlen(staged);
    if (len > suffix && !strncmp(name + len - suffix, DV_POINTER_SUFFIX, suffix))
        len -= suffix;
    return len;
}

/* A data path given to dv drop, or a folder holding it (the whole work tree: "" or "."). Other
 * worktrees' names are absolute and never match. */
static int drop_path_matches(const char *name, int from_worktree, const char *drop_path)
{
    size_t len = strlen(drop_path), name_len = data_path_len(name, from_worktree);
    if (name[0] == '/')
        return 0;
    while (len && drop_path[len - 1] == '/')
        len--;
    if (len == 0 || (len == 1 && drop_path[0] == '.'))
        return 1;
    return name_len >= len && !strncmp(name, drop_path, len) &&
           (name_len == len || name[len] == '/');
}

static int matches_any(const char *name, int from_worktree, const dv_gc_options *opts)
{
    for (size_t i = 0; i < opts->n_drop_paths; i++)
        if (drop_path_matches(name, from_worktree, opts->drop_paths[i]))
            return 1;
    return 0;
}

/* A drop's object: deleted unless a kept root reaches it, and then only when the remote
 * lists it (its root is named otherwise). */
static int drop_object(void *ctx, const dv_reach_item *item)
{
    collector *c = ctx;
    if (dv_oidset_has(&c->keep, &item->id))
        return 0;
    int added = dv_oidset_add(&c->remove, &item->id);
    if (added < 0)
        return added;
    if (!dv_remote_index_find(c->remote_index, &item->id, NULL, NULL))
        c->unpushed[item->root] = 1;
    return 0;
}

/* The data path of a root, once in list. */
static int note_dropped_path(dv_path_list *list, const char *name, int from_worktree)
{
    size_t len = data_path_len(name, from_worktree);
    for (size_t i = 0; i < list->n; i++)
        if (strlen(list->paths[i]) == len && !strncmp(list->paths[i], name, len))
            return 0;
    char *path = strndup(name, len);
    if (!path)
        return dv_error_set(DV_ENOMEM, "out of memory");
    int error = dv_path_list_add(list, path);
    free(path);
    return error;
}

/* Which roots a drop takes: at the paths given, those of this worktree and the history's
 * with the same content; with --pushed, every root the remote lists. Sorted to the front of
 * items, whose root fields still name them; *n_dropped of them. */
static int split_dropped(collector *c, size_t *n_dropped)
{
    const dv_gc_options *opts = c->opts;
    dv_oidset ids = DV_OIDSET_INIT;
    uint8_t *take = calloc(c->n ? c->n : 1, 1);
    dv_reach_item *sorted = malloc((c->n ? c->n : 1) * sizeof(*sorted));
    int error = 0;
    *n_dropped = 0;
    if (!take || !sorted) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < opts->n_drop_paths; i++) {
        int found = 0;
        for (size_t j = 0; j < c->n; j++)
            if (!c->from_history[j] && drop_path_matches(c->names[j], 1, opts->drop_paths[i])) {
                found = 1;
                if ((error = dv_oidset_add(&ids, &c->items[j].id)) < 0)
                    goto done;
                error = 0;
            }
        if (!found) {
            error = dv_error_set(DV_EUSAGE,
                                 "%s is not tracked data: no pointer file at or below it in "
                                 "this worktree; nothing was deleted",
                                 *opts->drop_paths[i] ? opts->drop_paths[i] : ".");
            goto done;
        }
    }
    for (size_t j = 0; j < c->n; j++) {
        if (opts->drop_pushed)
            take[j] = (uint8_t)dv_remote_index_find(c->remote_index, &c->items[j].id, NULL, NULL);
        else
            take[j] = (uint8_t)(matches_any(c->names[j], !c->from_history[j], opts) &&
                                dv_oidset_has(&ids, &c->items[j].id));
        if (take[j] && !c->from_history[j] && opts->n_drop_paths &&
            (error = note_dropped_path(&c->result->dropped, c->names[j], 1)) < 0)
            goto done;
    }
    size_t k = 0;
    for (size_t j = 0; j < c->n; j++)
        if (take[j])
            sorted[k++] = c->items[j];
    *n_dropped = k;
    for (size_t j = 0; j < c->n; j++)
        if (!take[j])
            sorted[k++] = c->items[j];
    memcpy(c->items, sorted, c->n * sizeof(*sorted));
    c->result->dropped_roots = *n_dropped;
done:
    free(take);
    free(sorted);
    dv_oidset_release(&ids);
    return error;
}

/* Below a dropped root, an object the store lacks has nothing to delete below it. */
static int absent_dropped(void *ctx, const dv_reach_item *item)
{
    (void)ctx;
    (void)item;
    return 1;
}

static int report_dropped(void *ctx, const char *data_relpath, const dv_pointer *pointer)
{
    collector *c = ctx;
    if (dv_oidset_has(&c->keep, &pointer->oid) || !dv_odb_has(c->odb, &pointer->oid))
        return 0;
    return c->opts->dropped(c->opts->ctx, data_relpath, pointer);
}

/* A store shared through cache.dir serves clones whose revisions this repository cannot
 * see: deleting what none of ours reaches could delete theirs. */
static int check_own_store(dv_repo *repo)
{
    char *dir = NULL;
    const char *env = getenv("DV_CACHE_DIR");
    int error = 0;
    if ((!env || !*env) &&
        (error = dv_config_get_string_uncommitted(&dir, repo->config, "cache.dir")) < 0)
        return error;
    if ((env && *env) || dir)
        error = dv_error_set(DV_EUSAGE,
                             "the store %s is set by %s and may be shared by other clones, whose "
                             "revisions dv gc cannot see; nothing was deleted (run dv gc where "
                             "the store is the repository's own .dv/cache)",
                             repo->cache_dir.ptr, env && *env ? "DV_CACHE_DIR" : "cache.dir");
    free(dir);
    return error;
}

/* Remove the files in dir and, below it, in its directories (depth levels), then dir itself,
 * adding their bytes to *bytes; with dry_run, only count. A directory that is not empty at
 * the end (something deeper, or written meanwhile) stays. */
static int clear_dir(uint64_t *bytes, const char *dir, int depth, int dry_run)
{
    DIR *d = opendir(dir);
    dv_buf path = DV_BUF_INIT;
    int error = 0;
    if (!d)
        return errno == ENOENT ? 0 : dv_error_errno("cannot open %s", dir);
    for (struct dirent *e; !error && (errno = 0, e = readdir(d));) {
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        dv_buf_clear(&path);
        if ((error = dv_buf_printf(&path, "%s/%s", dir, e->d_name)) < 0)
            break;
        if (lstat(path.ptr, &st) < 0) {
            if (errno != ENOENT)
                error = dv_error_errno("cannot stat %s", path.ptr);
        } else if (S_ISDIR(st.st_mode)) {
            if (depth > 0)
                error = clear_dir(bytes, path.ptr, depth - 1, dry_run);
        } else {
            *bytes += (uint64_t)st.st_size;
            if (!dry_run && unlink(path.ptr) < 0 && errno != ENOENT)
                error = dv_error_errno("cannot remove %s", path.ptr);
        }
    }
    if (!error && errno)
        error = dv_error_errno("cannot read %s", dir);
    closedir(d);
    if (!error && !dry_run && rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
        error = dv_error_errno("cannot remove %s", dir);
    dv_buf_release(&path);
    return error;
}

/* Remove <cache>/partial, the objects dv diff fetched for itself (a cache the store never
 * needs: deleting it is always safe), counting its bytes into *bytes. */
static int clear_partial(uint64_t *bytes, dv_repo *repo, int dry_run)
{
    dv_buf dir = DV_BUF_INIT;
    int error = dv_buf_printf(&dir, "%s/partial", repo->cache_dir.ptr);
    *bytes = 0;
    if (!error)
        error = clear_dir(bytes, dir.ptr, 2, dry_run);
    dv_buf_release(&dir);
    return error;
}

int dv_gc(dv_gc_result *out, dv_repo *repo, const dv_gc_options *opts)
{
    collector c;
    dv_revset *set = NULL, *all = NULL;
    dv_odb *odb = NULL;
    int error = 0;
    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    c.result = out;
    c.opts = opts;
    c.seen = (dv_oidset)DV_OIDSET_INIT;
    c.keep = (dv_oidset)DV_OIDSET_INIT;
    c.remove = (dv_oidset)DV_OIDSET_INIT;
    c.passed = (dv_oidset)DV_OIDSET_INIT;

    /* Packs written from here on are never touched (none should be: writers wait for the
     * store's gc lock, which the caller holds). */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t started_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    int64_t since =
        opts->expire_days == DV_EXPIRE_NEVER
            ? INT64_MIN
            : (int64_t)now.tv_sec - opts->expire_days * 86400 + (opts->expire_days == 0 ? 1 : 0);

    int dropping = opts->n_drop_paths || opts->drop_pushed;
    /* Merging deletes no object: a shared store may be merged. */
    if ((!opts->repack_only && (error = check_own_store(repo)) < 0) ||
        (error = dv_repo_odb(&odb, repo)) < 0)
        goto done;
    c.odb = odb;
    if (dv_odb_broken_count(odb) || dv_odb_orphan_index_count(odb)) {
        error = dv_error_set(DV_ECORRUPT,
                             "the store has %zu pack%s that cannot be read and %zu index%s "
                             "without a pack; nothing was deleted (run dv fsck)",
                             dv_odb_broken_count(odb), dv_odb_broken_count(odb) == 1 ? "" : "s",
                             dv_odb_orphan_index_count(odb),
                             dv_odb_orphan_index_count(odb) == 1 ? "" : "es");
        goto done;
    }
    if (opts->repack_only)
        goto repack;
    if (dropping) {
        dv_pool *pool = NULL;
        assert(opts->remote);
        /* A fresh listing of the remote, its new indexes downloaded and checked. */
        if ((error = dv_pool_new(&pool, dv_pool_default_threads())) == 0)
            error = dv_remote_index_load(&c.remote_index, opts->remote, repo->cache_dir.ptr, pool);
        dv_pool_free(pool);
        if (error < 0) {
            error = dv_error_wrap(error, "cannot learn what %s holds; nothing was deleted",
                                  opts->remote->name);
            goto done;
        }
    }
    if ((error = dv_revset_new(&set, repo)) < 0)
        goto done;
    for (size_t i = 0; i < opts->n_revs; i++)
        if ((error = dv_revset_add(set, opts->revs[i])) < 0)
            goto done;
    dv_revset_add_refs(set, opts->refs);
    dv_roots_stats stats = {0, 0};
    if ((error = dv_roots_add_history(set, repo, since, &stats)) < 0)
        goto done;
    out->worktrees = stats.worktrees;
    out->history_commits = stats.history_commits;

    if ((error = dv_roots_each_worktree_pointer(repo, add_root, note_bad, &c)) < 0)
        goto done;
    c.reading_history = 1;
    if (!dv_revset_is_empty(set) &&
        (error = dv_revset_each_pointer(repo, set, NULL, 0, add_root, note_bad, &c)) < 0)
        goto done;
    if (out->bad.n) {
        error = dv_error_set(DV_ECORRUPT,
                             "%zu pointer file%s at the roots cannot be read, so what %s "
                             "is not known; nothing was deleted (fix or remove %s)",
                             out->bad.n, out->bad.n == 1 ? "" : "s",
                             out->bad.n == 1 ? "it keeps" : "they keep",
                             out->bad.n == 1 ? "it" : "them");
        goto done;
    }

    size_t n_dropped = 0;
    if (dropping && (error = split_dropped(&c, &n_dropped)) < 0)
        goto done;
    dv_reach_ops ops = {NULL, NULL, absent, keep_object, root_name, &c};
    if ((error = dv_reach_walk(odb, c.n ? c.items + n_dropped : NULL, c.n - n_dropped, &ops)) < 0 ||
        (error = dv_repo_partial_odb(&c.partial, repo, 0)) < 0 ||
        (c.partial && out->missing &&
         (error = keep_parts(&c, odb, c.items + n_dropped, c.n - n_dropped)) < 0)) {
        error = dv_error_wrap(error, "nothing was deleted");
        goto done;
    }
    if (dropping) {
        /* What only the dropped roots reach: whole subgraphs below them, down to what a kept
         * root reaches too (and so everything below that), which stays. */
        if (!(c.unpushed = calloc(c.n ? c.n : 1, 1))) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
        dv_reach_ops drop_ops = {NULL, NULL, absent_dropped, drop_object, root_name, &c};
        if ((error = dv_reach_walk(odb, c.items, n_dropped, &drop_ops)) < 0) {
            error = dv_error_wrap(error, "nothing was deleted");
            goto done;
        }
        for (size_t i = 0; i < c.n; i++)
            if (c.unpushed[i] &&
                (error = note_dropped_path(&out->unpushed, c.names[i], !c.from_history[i])) < 0)
                goto done;
        if (out->unpushed.n && !opts->force) {
            error = dv_error_set(DV_ECONFLICT,
                                 "%zu path%s %s content that %s does not hold; nothing was "
                                 "deleted (run dv push first, or drop with --force)",
                                 out->unpushed.n, out->unpushed.n == 1 ? "" : "s",
                                 out->unpushed.n == 1 ? "has" : "have", opts->remote->name);
            goto done;
        }
    }

    if (opts->dropped) {
        /* Every pointer of the history, for the list of what goes. */
        if ((error = dv_revset_new(&all, repo)) < 0 ||
            (error = dv_roots_add_history(all, repo, INT64_MIN, NULL)) < 0)
            goto done;
        dv_revset_add_refs(all, DV_REVSET_COMMITS);
        if ((error = dv_revset_each_pointer(repo, all, NULL, 0, report_dropped, NULL, &c)) < 0)
            goto done;
    }

repack:
    if (!opts->dry_run && (error = dv_odb_remove_stale_tmp(odb)) < 0)
        goto done;
    /* dv drop deletes what only the dropped roots reach and rewrites only the packs that
     * hold it; gc (--pushed too) keeps what the kept roots reach and merges small packs. */
    int drop_only = opts->n_drop_paths && !opts->drop_pushed;
    dv_repack_options repack = {opts->repack_only || drop_only ? NULL : &c.keep,
                                started_ns,
                                repo->pack_target_bytes,
                                opts->dry_run,
                                drop_only ? 0 : repo->pack_min_bytes,
                                drop_only ? &c.remove : NULL};
    error = dv_repack(&out->repack, odb, &repack);
    /* partial is kept while the store holds a kept revision's data in part, found through it */
    if (!error && !opts->repack_only && !drop_only && !c.kept_through)
        error = clear_partial(&out->partial_bytes, repo, opts->dry_run);
done:
    for (size_t i = 0; i < c.n; i++)
        free(c.names[i]);
    free(c.names);
    free(c.items);
    dv_oidset_release(&c.seen);
    dv_oidset_release(&c.keep);
    dv_oidset_release(&c.remove);
    free(c.from_history);
    free(c.unpushed);
    dv_remote_index_free(c.remote_index);
    dv_odb_free(c.partial);
    dv_oidset_release(&c.passed);
    dv_revset_free(set);
    dv_revset_free(all);
    return error;
}

void dv_gc_result_free(dv_gc_result *result)
{
    dv_path_list_free(&result->bad);
    dv_path_list_free(&result->dropped);
    dv_path_list_free(&result->unpushed);
}
