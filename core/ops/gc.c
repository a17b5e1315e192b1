/* gc: keep what the roots reach, delete the rest (gc.h). */
#include "core/ops/gc.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/ops/reach.h"
#include "core/repo/roots.h"
#include "core/repo/settings.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
} collector;

static uint8_t type_of_kind(int kind)
{
    return kind == DV_KIND_DIR       ? DV_OBJ_TREE
           : kind == DV_KIND_SYMLINK ? DV_OBJ_CHUNK
                                     : DV_OBJ_MANIFEST;
}

static int add_root(void *ctx, const char *data_relpath, const dv_pointer *pointer)
{
    collector *c = ctx;
    if (c->n == c->alloc) {
        size_t alloc = c->alloc ? c->alloc * 2 : 64;
        dv_reach_item *items = realloc(c->items, alloc * sizeof(*items));
        if (items)
            c->items = items;
        char **names = items ? realloc(c->names, alloc * sizeof(*names)) : NULL;
        if (!names)
            return dv_error_set(DV_ENOMEM, "out of memory");
        c->names = names;
        c->alloc = alloc;
    }
    if (!(c->names[c->n] = strdup(data_relpath)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    c->items[c->n].id = pointer->oid;
    c->items[c->n].type = type_of_kind(pointer->kind);
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

/* An object the store lacks: data never fetched into this clone (a partial pull). Nothing
 * below it is known, and nothing below it is looked for. */
static int absent(void *ctx, const dv_reach_item *item)
{
    collector *c = ctx;
    (void)item;
    c->result->missing++;
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

    /* Packs written from here on are never touched (none should be: writers wait for the
     * store's gc lock, which the caller holds). */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t started_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    int64_t since =
        opts->expire_days == DV_EXPIRE_NEVER
            ? INT64_MIN
            : (int64_t)now.tv_sec - opts->expire_days * 86400 + (opts->expire_days == 0 ? 1 : 0);

    if ((error = check_own_store(repo)) < 0 || (error = dv_repo_odb(&odb, repo)) < 0)
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

    dv_reach_ops ops = {NULL, NULL, absent, keep_object, root_name, &c};
    if ((error = dv_reach_walk(odb, c.items, c.n, &ops)) < 0) {
        error = dv_error_wrap(error, "nothing was deleted");
        goto done;
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

    if (!opts->dry_run && (error = dv_odb_remove_stale_tmp(odb)) < 0)
        goto done;
    dv_repack_options repack = {&c.keep, started_ns, repo->pack_target_bytes, opts->dry_run};
    error = dv_repack(&out->repack, odb, &repack);
done:
    for (size_t i = 0; i < c.n; i++)
        free(c.names[i]);
    free(c.names);
    free(c.items);
    dv_oidset_release(&c.seen);
    dv_oidset_release(&c.keep);
    dv_revset_free(set);
    dv_revset_free(all);
    return error;
}

void dv_gc_result_free(dv_gc_result *result)
{
    dv_path_list_free(&result->bad);
}
