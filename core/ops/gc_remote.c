/* gc_remote: delete from a remote what no kept revision and no recent push needs
 * (gc_remote.h). */
#include "core/ops/gc_remote.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/pool.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/object/pointer.h"
#include "core/ops/reach.h"
#include "core/ops/transfer.h"
#include "core/repo/roots.h"
#include "core/repo/settings.h"
#include "remotes/remote_index.h"
#include "remotes/remote_lock.h"
#include "storage/odb.h"
#include "storage/pack.h"
#include "storage/pack_read.h"
#include "storage/pack_write.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define SECONDS_PER_DAY 86400

int dv_gc_remote_prune_expire(int64_t *seconds, dv_repo *repo)
{
    char *text = NULL;
    int64_t days = DV_PRUNE_EXPIRE_DAYS_DEFAULT;
    int error = dv_config_get_string(&text, repo->config, "gc.pruneExpire");
    if (error == 0 && text)
        error = dv_settings_parse_expire(&days, "gc.pruneExpire in dv configuration", text);
    free(text);
    if (error < 0)
        return error;
    *seconds = days == DV_EXPIRE_NEVER ? DV_REMOTE_PRUNE_NEVER : days * SECONDS_PER_DAY;
    return 0;
}

/* ---- the walk: what the roots reach, read from the store or else from the remote ---- */

typedef struct walker {
    dv_oidset keep;
    dv_reach_item *queue; /* trees and manifests still to read */
    size_t n, alloc;
    char **names; /* root names, for messages */
    size_t n_names, alloc_names;
    dv_odb *odb;
    dv_remote *remote;
    dv_remote_index *index;
    ZSTD_DCtx *dctx;
    dv_buf data, entry;
    dv_manifest manifest;
    dv_tree tree;
    dv_gc_remote_result *result;
} walker;

static int walk_add(walker *w, const dv_oid *id, uint8_t type, uint32_t root)
{
    int added = dv_oidset_add(&w->keep, id);
    if (added <= 0 || type == DV_OBJ_CHUNK)
        return added < 0 ? added : 0;
    if (w->n == w->alloc) {
        size_t alloc = w->alloc ? w->alloc * 2 : 256;
        dv_reach_item *grown = realloc(w->queue, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        w->queue = grown;
        w->alloc = alloc;
    }
    w->queue[w->n].id = *id;
    w->queue[w->n].type = type;
    w->queue[w->n].root = root;
    w->n++;
    return 0;
}

static const char *root_of(const walker *w, uint32_t root)
{
    return root < w->n_names ? w->names[root] : "a recent pack on the remote";
}

/* Object id into w->data: from the store, else from the remote (its entry checked against
 * the index, its bytes against the CRC-32C and the id). 0, or DV_ENOTFOUND on neither. */
static int read_object(walker *w, const dv_reach_item *item, uint8_t *type)
{
    if (dv_odb_has(w->odb, &item->id))
        return dv_odb_read(&w->data, type, w->odb, &item->id);
    dv_pack *pack;
    dv_pack_entry e;
    if (!w->index || !dv_remote_index_find(w->index, &item->id, &pack, &e))
        return DV_ENOTFOUND;
    dv_buf name = DV_BUF_INIT;
    uint64_t len = DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e.stored_len;
    int error;
    if ((error = dv_remote_pack_name(&name, dv_pack_id(pack), ".pack")) == 0 &&
        (error = dv_pack_check_bounds(pack, &e)) == 0 &&
        (error = dv_buf_grow(&w->entry, (size_t)len)) == 0 &&
        (error = w->remote->ops->get(w->remote, name.ptr, e.offset, (size_t)len, w->entry.ptr)) ==
            0 &&
        (error = dv_pack_check_entry(pack, &e, (const uint8_t *)w->entry.ptr)) == 0)
        error = dv_pack_decode(&w->data, &e, w->entry.ptr + DV_PACK_ENTRY_HEADER_BYTES,
                               e.stored_len, w->dctx, name.ptr);
    dv_buf_release(&name);
    if (error == 0) {
        *type = e.type;
        w->result->objects_read++;
    }
    return error;
}

/* Read every queued tree and manifest and keep what it names, until nothing is left. A tree
 * or manifest on neither side is counted and passed over: what it names is not known here,
 * and no copy of it is lost by anything deleted (there is none on the remote). */
static int walk_run(walker *w)
{
    int error = 0;
    while (w->n) {
        dv_reach_item item = w->queue[--w->n];
        uint8_t type;
        if ((error = read_object(w, &item, &type)) == DV_ENOTFOUND) {
            w->result->missing++;
            error = 0;
            continue;
        }
        if (error < 0)
            return dv_error_wrap(error, "reading %s %s of %s; nothing was deleted",
                                 dv_object_type_name(item.type), dv_oid_hex(&item.id),
                                 root_of(w, item.root));
        if (type != item.type)
            return dv_error_set(DV_ECORRUPT,
                                "object %s of %s is a %s where a %s was expected; nothing was "
                                "deleted (run dv fsck --remote)",
                                dv_oid_hex(&item.id), root_of(w, item.root),
                                dv_object_type_name(type), dv_object_type_name(item.type));
        if (type == DV_OBJ_MANIFEST && dv_manifest_is_list(w->data.ptr, w->data.len)) {
            dv_manifest_list list;
            if ((error = dv_manifest_list_decode(&list, w->data.ptr, w->data.len)) < 0)
                return dv_error_wrap(error, "manifest %s of %s", dv_oid_hex(&item.id),
                                     root_of(w, item.root));
            for (size_t i = 0; i < list.n_parts && error >= 0; i++)
                error = walk_add(w, &list.parts[i].id, DV_OBJ_MANIFEST, item.root);
            dv_manifest_list_release(&list);
        } else if (type == DV_OBJ_MANIFEST) {
            dv_manifest_release(&w->manifest);
            if ((error = dv_manifest_decode(&w->manifest, w->data.ptr, w->data.len)) < 0)
                return dv_error_wrap(error, "manifest %s of %s", dv_oid_hex(&item.id),
                                     root_of(w, item.root));
            for (size_t i = 0; i < w->manifest.n_chunks && error >= 0; i++)
                error = walk_add(w, &w->manifest.chunks[i].id, DV_OBJ_CHUNK, item.root);
        } else {
            dv_tree_release(&w->tree);
            if ((error = dv_tree_decode(&w->tree, w->data.ptr, w->data.len)) < 0)
                return dv_error_wrap(error, "tree %s of %s", dv_oid_hex(&item.id),
                                     root_of(w, item.root));
            for (size_t i = 0; i < w->tree.n_entries && error >= 0; i++)
                error = walk_add(w, &w->tree.entries[i].id,
                                 dv_object_type_of_mode(w->tree.entries[i].mode), item.root);
        }
        if (error < 0)
            return error;
    }
    return 0;
}

static int add_root(void *ctx, const char *data_relpath, const dv_pointer *pointer)
{
    walker *w = ctx;
    if (w->n_names == w->alloc_names) {
        size_t alloc = w->alloc_names ? w->alloc_names * 2 : 64;
        char **grown = realloc(w->names, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        w->names = grown;
        w->alloc_names = alloc;
    }
    if (!(w->names[w->n_names] = strdup(data_relpath)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    w->n_names++;
    w->result->roots++;
    return walk_add(w, &pointer->oid, dv_object_type_of_mode(dv_pointer_mode(pointer)),
                    (uint32_t)(w->n_names - 1));
}

static int note_bad(void *ctx, const char *message)
{
    walker *w = ctx;
    return dv_path_list_add(&w->result->bad, message);
}

/* The trees and manifests of a pack young enough to stay are roots too: they may be those of
 * a push whose commit this clone does not see. Every object of it is kept. */
static int add_pack_roots(walker *w, dv_pack *pack)
{
    int error = 0;
    for (size_t j = 0; j < dv_pack_count(pack) && error == 0; j++) {
        dv_pack_entry e;
        dv_pack_entry_at(pack, j, &e);
        error = walk_add(w, &e.id, e.type, UINT32_MAX);
    }
    return error;
}

static void walker_release(walker *w)
{
    dv_oidset_release(&w->keep);
    free(w->queue);
    for (size_t i = 0; i < w->n_names; i++)
        free(w->names[i]);
    free(w->names);
    ZSTD_freeDCtx(w->dctx);
    dv_buf_release(&w->data);
    dv_buf_release(&w->entry);
    dv_manifest_release(&w->manifest);
    dv_tree_release(&w->tree);
}

/* ---- the plan: what happens to each remote pack ---- */

enum { PACK_STAYS = 0 };

typedef struct plan_pack {
    dv_pack *pack; /* the remote's index (lent by the remote index) */
    int64_t modified;
    uint64_t file_bytes; /* pack and index as listed */
    int fate;            /* PACK_STAYS or DV_GC_REMOTE_* */
    uint64_t n_kept;     /* kept objects whose only copy to stay is here */
    uint64_t n_missing;  /* of those, not in the local store */
} plan_pack;

static int young(int64_t modified, int64_t cutoff)
{
    return modified == DV_REMOTE_TIME_UNKNOWN || modified >= cutoff;
}

static int compare_modified(const void *a, const void *b)
{
    const plan_pack *x = a, *y = b;
    return (x->modified > y->modified) - (x->modified < y->modified);
}

/* What a rewritten pack's copy holds: kept, and in no pack that stays. */
typedef struct kept_moving {
    const dv_oidset *keep, *staying;
} kept_moving;

static int want_moving(void *ctx, const dv_oid *id)
{
    const kept_moving *km = ctx;
    return dv_oidset_has(km->keep, id) && !dv_oidset_has(km->staying, id);
}

static uint64_t listed_bytes(const dv_remote_listing *l, const dv_oid *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (!dv_oid_cmp(&l->packs[i].id, id)) {
            uint64_t b = 0;
            if (l->packs[i].pack_bytes != DV_REMOTE_SIZE_UNKNOWN)
                b += l->packs[i].pack_bytes;
            if (l->packs[i].idx_bytes != DV_REMOTE_SIZE_UNKNOWN)
                b += l->packs[i].idx_bytes;
            return b;
        }
    return 0;
}

/* Decide each pack's fate: young or wholly kept packs stay; the others go, or are
 * rewritten when they hold a kept object no staying pack holds, or stay whole (SHORT) when
 * the store lacks one of those. staying gets the objects of every pack that stays. */
static int plan(plan_pack *packs, size_t n, const dv_oidset *keep, dv_oidset *staying, dv_odb *odb,
                int64_t cutoff)
{
    int error = 0;
    for (size_t i = 0; i < n; i++) {
        plan_pack *p = &packs[i];
        size_t count = dv_pack_count(p->pack), kept = 0;
        for (size_t j = 0; j < count; j++) {
            dv_pack_entry e;
            dv_pack_entry_at(p->pack, j, &e);
            kept += dv_oidset_has(keep, &e.id);
        }
        p->fate = young(p->modified, cutoff) || kept == count ? PACK_STAYS : DV_GC_REMOTE_DELETE;
        if (p->fate == PACK_STAYS)
            for (size_t j = 0; j < count && error >= 0; j++) {
                dv_pack_entry e;
                dv_pack_entry_at(p->pack, j, &e);
                error = dv_oidset_add(staying, &e.id);
            }
    }
    /* A pack kept whole for what the store lacks stays with all it holds, which may spare
     * another pack a rewrite: repeat until nothing changes (each round keeps one more). */
    for (int changed = 1; changed && error >= 0;) {
        changed = 0;
        for (size_t i = 0; i < n && error >= 0; i++) {
            plan_pack *p = &packs[i];
            if (p->fate == PACK_STAYS || p->fate == DV_GC_REMOTE_SHORT)
                continue;
            size_t count = dv_pack_count(p->pack);
            p->n_kept = p->n_missing = 0;
            for (size_t j = 0; j < count; j++) {
                dv_pack_entry e;
                dv_pack_entry_at(p->pack, j, &e);
                if (dv_oidset_has(keep, &e.id) && !dv_oidset_has(staying, &e.id)) {
                    p->n_kept++;
                    p->n_missing += !dv_odb_has(odb, &e.id);
                }
            }
            p->fate = !p->n_kept     ? DV_GC_REMOTE_DELETE
                      : p->n_missing ? DV_GC_REMOTE_SHORT
                                     : DV_GC_REMOTE_REWRITE;
            if (p->fate == DV_GC_REMOTE_SHORT) {
                changed = 1;
                for (size_t j = 0; j < count && error >= 0; j++) {
                    dv_pack_entry e;
                    dv_pack_entry_at(p->pack, j, &e);
                    error = dv_oidset_add(staying, &e.id);
                }
            }
        }
    }
    return error < 0 ? error : 0;
}

/* ---- new packs: the kept objects of rewritten packs, from the store ---- */

typedef struct builder {
    dv_buf tmp_dir;
    dv_pack_series built; /* new packs in tmp_dir */
    uint64_t target;
    dv_buf stored, decoded;
    ZSTD_DCtx *dctx;
    /* for a dry run: the sizes the writer would reach (as storage/repack counts them) */
    uint64_t plan_bytes, plan_count, plan_file_bytes, plan_packs;
} builder;

static uint64_t index_bytes(uint64_t count)
{
    return DV_INDEX_HEADER_BYTES + DV_INDEX_FANOUT_BYTES +
           count * (DV_OID_BYTES + DV_INDEX_RECORD_BYTES) + DV_INDEX_TRAILER_BYTES;
}

static void plan_seal(builder *b)
{
    if (!b->plan_bytes)
        return;
    b->plan_packs++;
    b->plan_file_bytes += b->plan_bytes + DV_PACK_TRAILER_BYTES + index_bytes(b->plan_count);
    b->plan_bytes = b->plan_count = 0;
}

/* Copy the kept object e (of a remote pack) from the store, once its bytes prove to be it. */
static int build_copy(builder *b, dv_odb *odb, const dv_pack_entry *remote_entry, int dry_run)
{
    dv_pack *local;
    dv_pack_entry e;
    int error;
    if (!dv_odb_locate(&local, &e, odb, &remote_entry->id))
        return dv_error_set(DV_ENOTFOUND, "%s %s is not in the local store",
                            dv_object_type_name(remote_entry->type), dv_oid_hex(&remote_entry->id));
    if (!b->plan_bytes)
        b->plan_bytes = DV_PACK_HEADER_BYTES;
    b->plan_bytes += DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e.stored_len;
    b->plan_count++;
    if (b->plan_bytes >= b->target)
        plan_seal(b);
    if (dry_run)
        return 0;
    if ((error = dv_pack_read_stored(&b->stored, local, &e)) < 0 ||
        (error = dv_pack_decode(&b->decoded, &e, b->stored.ptr, b->stored.len, b->dctx,
                                dv_pack_path(local))) < 0)
        return error == DV_ENOMEM
                   ? error
                   : dv_error_wrap(error, "pack %s is damaged; nothing was deleted (run dv fsck)",
                                   dv_pack_path(local));
    return dv_pack_series_append(&b->built, &e.id, e.type, e.flags, e.raw_len, b->stored.ptr,
                                 (uint32_t)b->stored.len);
}

/* Upload a built pack whole, then its index: the index is its commit point. */
static int upload_built(builder *b, dv_remote *remote, const dv_oid *id, uint64_t *bytes)
{
    int error = dv_remote_put_pack(remote, b->tmp_dir.ptr, id, bytes);
    if (error < 0 && error != DV_ENOMEM)
        error = dv_error_wrap(error, "cannot upload pack %s to %s; nothing was deleted",
                              dv_oid_short(id), remote->name);
    return error;
}

static int is_built(const builder *b, const dv_oid *id)
{
    return dv_pack_series_has(&b->built, id);
}

static int remove_pack(dv_remote *remote, const dv_oid *id, int has_idx)
{
    dv_buf name = DV_BUF_INIT;
    int error = 0;
    /* the index first: a pack without its index is no part of the remote, so a reader
     * never meets an index whose pack is gone */
    if (has_idx && ((error = dv_remote_pack_name(&name, id, ".idx")) < 0 ||
                    (error = remote->ops->remove(remote, name.ptr)) < 0))
        goto done;
    if ((error = dv_remote_pack_name(&name, id, ".pack")) == 0)
        error = remote->ops->remove(remote, name.ptr);
done:
    if (error < 0 && error != DV_ENOMEM)
        error = dv_error_wrap(error, "cannot remove pack %s from remote %s", dv_oid_short(id),
                              remote->name);
    dv_buf_release(&name);
    return error;
}

int dv_gc_remote(dv_gc_remote_result *out, dv_repo *repo, dv_remote *remote,
                 const dv_gc_remote_options *opts)
{
    walker w;
    builder b;
    dv_revset *set = NULL;
    dv_pool *pool = NULL;
    dv_remote_index *index = NULL, *again = NULL;
    dv_remote_listing listing = {0};
    dv_remote_lock lock;
    plan_pack *packs = NULL;
    dv_oidset staying = DV_OIDSET_INIT, copied = DV_OIDSET_INIT;
    dv_pack_entry *entries = NULL;
    size_t entries_cap = 0;
    int error = 0, dry_run = opts->gc.dry_run;
    size_t n_packs = 0;
    memset(out, 0, sizeof(*out));
    memset(&w, 0, sizeof(w));
    memset(&b, 0, sizeof(b));
    memset(&lock, 0, sizeof(lock));
    w.keep = (dv_oidset)DV_OIDSET_INIT;
    w.data = w.entry = (dv_buf)DV_BUF_INIT;
    w.manifest = (dv_manifest)DV_MANIFEST_INIT;
    w.tree = (dv_tree)DV_TREE_INIT;
    w.result = out;
    w.remote = remote;
    b.tmp_dir = b.stored = b.decoded = (dv_buf)DV_BUF_INIT;
    b.target = repo->pack_target_bytes ? repo->pack_target_bytes : DV_PACK_TARGET_BYTES_DEFAULT;
    b.built = (dv_pack_series)DV_PACK_SERIES_INIT;
    b.built.target_bytes = b.target;

    if (remote->ops->read_only)
        return dv_error_set(DV_EUSAGE,
                            "remote %s (%s) is a read-only %s mirror; run dv gc --remote on the "
                            "remote it mirrors",
                            remote->name, remote->display, remote->ops->kind);
    int jobs;
    if ((error = dv_transfer_jobs(&jobs, repo, opts->jobs)) < 0)
        return error;
    if ((error = dv_repo_odb(&w.odb, repo)) < 0 || (error = dv_pool_new(&pool, jobs)) < 0 ||
        (error = dv_repo_clean_tmp(repo)) < 0 || (error = dv_repo_tmp_dir(&b.tmp_dir, repo)) < 0)
        goto done;
    b.built.dir = b.tmp_dir.ptr;
    if (!(w.dctx = ZSTD_createDCtx()) || !(b.dctx = ZSTD_createDCtx())) {
        error = dv_error_set(DV_ENOMEM, "out of memory for zstd");
        goto done;
    }

    /* 1. The lock, before anything is listed: a push that ends after this sees it. */
    int64_t cutoff;
    if (dry_run) {
        dv_remote_lock *live = NULL;
        size_t n_live = 0;
        if ((error = dv_remote_locks_live(&live, &n_live, remote, (int64_t)time(NULL))) < 0)
            goto done;
        for (size_t i = 0; i < n_live && error == 0; i++)
            if (!dv_remote_lock_died_here(&live[i]))
                error =
                    dv_error_set(DV_ELOCKED,
                                 "remote %s is locked by another dv gc --remote (%s, on host "
                                 "%s, pid %lld); try again once it ends",
                                 remote->name, live[i].name, live[i].host, (long long)live[i].pid);
        dv_remote_locks_free(live, n_live);
        if (error < 0)
            goto done;
        dv_remote_lock now_lock = {NULL, NULL, 0, 0, (int64_t)time(NULL), opts->prune_expire};
        cutoff = dv_remote_lock_cutoff(&now_lock);
    } else {
        if ((error = dv_remote_lock_take(&lock, remote, b.tmp_dir.ptr, opts->prune_expire)) < 0)
            goto done;
        cutoff = dv_remote_lock_cutoff(&lock);
    }

    /* 2. The remote's packs, and the roots: the revisions kept, then every young pack. */
    if ((error = dv_remote_list_packs(&listing, remote)) < 0 ||
        (error = dv_remote_index_load(&index, remote, repo->cache_dir.ptr, pool)) < 0)
        goto done;
    w.index = index;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t since = opts->gc.expire_days == DV_EXPIRE_NEVER
                        ? INT64_MIN
                        : (int64_t)now.tv_sec - opts->gc.expire_days * SECONDS_PER_DAY +
                              (opts->gc.expire_days == 0 ? 1 : 0);
    if ((error = dv_revset_new(&set, repo)) < 0)
        goto done;
    for (size_t i = 0; i < opts->gc.n_revs; i++)
        if ((error = dv_revset_add(set, opts->gc.revs[i])) < 0)
            goto done;
    dv_revset_add_refs(set, opts->gc.refs);
    dv_roots_stats stats = {0, 0};
    if ((error = dv_roots_add_history(set, repo, since, &stats)) < 0)
        goto done;
    out->worktrees = stats.worktrees;
    out->history_commits = stats.history_commits;
    if ((error = dv_roots_each_worktree_pointer(repo, add_root, note_bad, &w)) < 0)
        goto done;
    if (!dv_revset_is_empty(set) &&
        (error = dv_revset_each_pointer(repo, set, NULL, 0, add_root, note_bad, &w)) < 0)
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
    n_packs = dv_remote_index_pack_count(index);
    if (!(packs = calloc(n_packs ? n_packs : 1, sizeof(*packs)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_packs; i++) {
        packs[i].pack = dv_remote_index_pack_at(index, i, &packs[i].modified);
        packs[i].file_bytes = listed_bytes(&listing, dv_pack_id(packs[i].pack));
        if (young(packs[i].modified, cutoff)) {
            out->packs_young++;
            if ((error = add_pack_roots(&w, packs[i].pack)) < 0)
                goto done;
        }
    }
    out->packs_listed = n_packs;
    if ((error = walk_run(&w)) < 0)
        goto done;

    /* 3. The plan. */
    if ((error = plan(packs, n_packs, &w.keep, &staying, w.odb, cutoff)) < 0)
        goto done;
    qsort(packs, n_packs, sizeof(*packs), compare_modified); /* the order they were written */

    /* 4. The kept objects of rewritten packs go up in new packs, each whole with its index,
     * before anything is deleted. */
    for (size_t i = 0; i < n_packs; i++) {
        plan_pack *p = &packs[i];
        if (p->fate != DV_GC_REMOTE_REWRITE)
            continue;
        size_t n = 0;
        kept_moving km = {&w.keep, &staying};
        if ((error = dv_pack_entries_in_order(&entries, &entries_cap, &n, p->pack, want_moving,
                                              &km)) < 0)
            goto done;
        for (size_t j = 0; j < n; j++) {
            int added = dv_oidset_add(&copied, &entries[j].id);
            if (added < 0) {
                error = added;
                goto done;
            }
            if (added && (error = build_copy(&b, w.odb, &entries[j], dry_run)) < 0)
                goto done;
        }
    }
    plan_seal(&b);
    if (!dry_run && (error = dv_pack_series_seal(&b.built)) < 0)
        goto done;
    out->packs_written = dry_run ? b.plan_packs : b.built.n;
    if (dry_run) {
        out->bytes_uploaded = b.plan_file_bytes;
    } else {
        for (size_t i = 0; i < b.built.n; i++)
            if ((error = upload_built(&b, remote, &b.built.ids[i], &out->bytes_uploaded)) < 0)
                goto done;
    }

    /* 5. Packs that arrived since the listing (a push running now) keep what they name:
     * what they rely on of a pack about to go, that pack keeps. A push that arrives after
     * this saw the lock (docs/formats.md). */
    if (!dry_run) {
        if ((error = dv_remote_index_load(&again, remote, repo->cache_dir.ptr, pool)) < 0)
            goto done;
        w.index = again;
        for (size_t i = 0; i < dv_remote_index_pack_count(again); i++) {
            dv_pack *pack = dv_remote_index_pack_at(again, i, NULL);
            int known = is_built(&b, dv_pack_id(pack));
            for (size_t k = 0; k < n_packs && !known; k++)
                known = !dv_oid_cmp(dv_pack_id(packs[k].pack), dv_pack_id(pack));
            if (!known && (error = add_pack_roots(&w, pack)) < 0)
                goto done;
        }
        if ((error = walk_run(&w)) < 0)
            goto done;
        for (size_t i = 0; i < n_packs; i++) {
            plan_pack *p = &packs[i];
            if (p->fate != DV_GC_REMOTE_DELETE && p->fate != DV_GC_REMOTE_REWRITE)
                continue;
            for (size_t j = 0; j < dv_pack_count(p->pack); j++) {
                dv_pack_entry e;
                dv_pack_entry_at(p->pack, j, &e);
                if (dv_oidset_has(&w.keep, &e.id) && !dv_oidset_has(&staying, &e.id) &&
                    !dv_oidset_has(&copied, &e.id)) {
                    p->fate = PACK_STAYS; /* named by a pack that arrived meanwhile */
                    break;
                }
            }
        }
        /* A gc whose lock may have expired meanwhile deletes nothing: another may run. */
        if ((int64_t)time(NULL) - lock.time > DV_REMOTE_LOCK_LIVE_SECONDS / 2) {
            error = dv_error_set(DV_ERROR,
                                 "dv gc --remote ran longer than %d hours, after which its lock "
                                 "may be taken for stale; nothing was deleted (the new packs "
                                 "stay; run it again)",
                                 DV_REMOTE_LOCK_LIVE_SECONDS / 3600 / 2);
            goto done;
        }
    }

    /* 6. Deletion: each pack's index, then the pack. */
    for (size_t i = 0; i < n_packs; i++) {
        plan_pack *p = &packs[i];
        size_t count = dv_pack_count(p->pack);
        if (p->fate == PACK_STAYS) {
            out->packs_kept++;
            continue;
        }
        if (p->fate == DV_GC_REMOTE_SHORT) {
            out->packs_kept++;
            out->packs_short++;
            if (opts->pack)
                opts->pack(opts->ctx, dv_pack_id(p->pack), p->fate, 0, p->n_missing, 0);
            continue;
        }
        if (is_built(&b, dv_pack_id(p->pack))) {
            out->packs_kept++; /* rewritten to the same bytes: the new pack is this one */
            continue;
        }
        uint64_t freed = count - (p->fate == DV_GC_REMOTE_REWRITE ? p->n_kept : 0);
        if (opts->pack)
            opts->pack(opts->ctx, dv_pack_id(p->pack), p->fate, freed, 0, p->file_bytes);
        if (!dry_run && (error = remove_pack(remote, dv_pack_id(p->pack), 1)) < 0)
            goto done;
        if (p->fate == DV_GC_REMOTE_REWRITE)
            out->packs_rewritten++;
        else
            out->packs_deleted++;
        out->bytes_freed += p->file_bytes;
    }
    /* Old packs without an index (a push or a gc killed half-way) are no part of the remote. */
    for (size_t i = 0; i < listing.n; i++) {
        const dv_remote_listed *l = &listing.packs[i];
        int indexed = 0;
        for (size_t k = 0; again && k < dv_remote_index_pack_count(again) && !indexed; k++)
            indexed = !dv_oid_cmp(dv_pack_id(dv_remote_index_pack_at(again, k, NULL)), &l->id);
        if (!l->has_pack || l->has_idx || indexed || young(l->modified, cutoff))
            continue;
        if (opts->pack)
            opts->pack(opts->ctx, &l->id, DV_GC_REMOTE_ORPHAN, 0, 0, l->pack_bytes);
        if (!dry_run && (error = remove_pack(remote, &l->id, 0)) < 0)
            goto done;
        out->packs_orphan++;
        out->bytes_freed += l->pack_bytes == DV_REMOTE_SIZE_UNKNOWN ? 0 : l->pack_bytes;
    }
    {
        dv_oidset all = DV_OIDSET_INIT;
        for (size_t i = 0; i < n_packs && error >= 0; i++)
            for (size_t j = 0; j < dv_pack_count(packs[i].pack) && error >= 0; j++) {
                dv_pack_entry e;
                dv_pack_entry_at(packs[i].pack, j, &e);
                error = dv_oidset_add(&all, &e.id);
            }
        if (error >= 0) {
            error = 0;
            out->objects_kept = dv_oidset_count(&staying) + dv_oidset_count(&copied);
            out->objects_freed = dv_oidset_count(&all) - out->objects_kept;
        }
        dv_oidset_release(&all);
    }
done:
    if (lock.name) {
        dv_error_state kept;
        int code = dv_error_state_capture(&kept, error);
        int released = dv_remote_lock_release(&lock, remote);
        if (released < 0)
            error = code < 0 ? dv_error_state_restore(&kept) : released;
    }
    dv_pack_series_release(&b.built);
    ZSTD_freeDCtx(b.dctx);
    dv_buf_release(&b.stored);
    dv_buf_release(&b.decoded);
    if (b.tmp_dir.len)
        dv_repo_clean_tmp_after(repo, error);
    dv_buf_release(&b.tmp_dir);
    free(entries);
    free(packs);
    dv_oidset_release(&staying);
    dv_oidset_release(&copied);
    walker_release(&w);
    dv_remote_index_free(index);
    dv_remote_index_free(again);
    dv_remote_listing_release(&listing);
    dv_revset_free(set);
    dv_pool_free(pool);
    return error;
}

void dv_gc_remote_result_free(dv_gc_remote_result *result)
{
    dv_path_list_free(&result->bad);
}
