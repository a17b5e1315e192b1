/* repair: damaged packs replaced by good copies of what they hold (repair.h). */
#include "core/ops/repair.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/pool.h"
#include "core/base/fs.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/repo/settings.h"
#include "remotes/remote_check.h"
#include "remotes/remote_index.h"
#include "storage/odb.h"
#include "storage/pack.h"
#include "storage/pack_read.h"
#include "storage/pack_write.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

typedef struct bad_pack {
    dv_oid id;
    int pack_level;  /* a problem not of one object (header, size, trailer, index) */
    dv_oid *objects; /* objects that failed their checks in it */
    size_t n_objects, alloc_objects;
    int kept; /* something in it has no good copy: it stays */
} bad_pack;

typedef struct repairer {
    dv_repo *repo;
    dv_remote *remote;
    dv_odb *odb;
    dv_repair_result *result;
    dv_repair_note_fn note;
    void *note_ctx;
    bad_pack *bad;
    size_t n_bad, alloc_bad;
    dv_remote_index *good; /* the remote's other packs */
    dv_buf tmp_dir;
    dv_pack_series built; /* new packs sealed in tmp_dir, to upload */
    ZSTD_DCtx *dctx;
    dv_buf stored, decoded;
    int oom; /* a problem could not be recorded */
} repairer;

__attribute__((format(printf, 3, 4))) static void notef(dv_repair_note_fn note, void *ctx,
                                                        const char *fmt, ...)
{
    if (!note)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    note(ctx, line);
}

#define say(r, ...) notef((r)->note, (r)->note_ctx, __VA_ARGS__)

static bad_pack *bad_of(repairer *r, const dv_oid *id)
{
    for (size_t i = 0; i < r->n_bad; i++)
        if (!dv_oid_cmp(&r->bad[i].id, id))
            return &r->bad[i];
    if (r->n_bad == r->alloc_bad) {
        size_t alloc = r->alloc_bad ? r->alloc_bad * 2 : 8;
        bad_pack *grown = realloc(r->bad, alloc * sizeof(*grown));
        if (!grown)
            return NULL;
        r->bad = grown;
        r->alloc_bad = alloc;
    }
    bad_pack *b = &r->bad[r->n_bad++];
    memset(b, 0, sizeof(*b));
    b->id = *id;
    return b;
}

/* The check's problems, gathered by pack (a failed allocation is noticed after the check). */
static void on_problem(void *ctx, const dv_oid *pack, const dv_oid *object, int type,
                       const char *message)
{
    repairer *r = ctx;
    char pack_hex[DV_OID_HEX_CHARS + 1];
    dv_oid_tohex(pack_hex, pack);
    if (object)
        say(r, "bad %s %s in pack %s on remote %s: %s", type ? dv_object_type_name(type) : "object",
            dv_oid_hex(object), pack_hex, r->remote->name, message);
    else
        say(r, "bad pack %s on remote %s: %s", pack_hex, r->remote->name, message);
    bad_pack *b = bad_of(r, pack);
    if (!b) {
        r->oom = 1;
        return;
    }
    if (!object) {
        b->pack_level = 1;
        return;
    }
    if (b->n_objects == b->alloc_objects) {
        size_t alloc = b->alloc_objects ? b->alloc_objects * 2 : 8;
        dv_oid *grown = realloc(b->objects, alloc * sizeof(*grown));
        if (!grown) {
            r->oom = 1;
            return;
        }
        b->objects = grown;
        b->alloc_objects = alloc;
    }
    b->objects[b->n_objects++] = *object;
}

static int failed_in(const bad_pack *b, const dv_oid *id)
{
    for (size_t i = 0; i < b->n_objects; i++)
        if (!dv_oid_cmp(&b->objects[i], id))
            return 1;
    return 0;
}

/* Append an entry whose stored bytes are in r->stored once they decode to its id. 0 when
 * they do not (the message is cleared: the caller looks for another copy), 1 when added. */
static int append_checked(repairer *r, const dv_pack_entry *e, const char *where)
{
    int error = dv_pack_decode(&r->decoded, e, r->stored.ptr, r->stored.len, r->dctx, where);
    if (error == DV_ENOMEM)
        return error;
    if (error < 0) {
        dv_error_clear();
        return 0;
    }
    if ((error = dv_pack_series_append(&r->built, &e->id, e->type, e->flags, e->raw_len,
                                       r->stored.ptr, (uint32_t)r->stored.len)) < 0)
        return error;
    r->result->objects_uploaded++;
    return 1;
}

/* A good copy of entry e (of the damaged pack b, whose index is idx) into the new packs:
 * from the local store, else from b itself. 1 when copied, 0 when there is none. */
static int copy_object(repairer *r, const bad_pack *b, dv_pack *idx, const dv_pack_entry *e,
                       int pack_listed)
{
    dv_pack *local;
    dv_pack_entry le;
    int error;
    if (dv_odb_locate(&local, &le, r->odb, &e->id)) {
        if ((error = dv_pack_read_stored(&r->stored, local, &le)) == 0) {
            error = append_checked(r, &le, dv_pack_path(local));
            if (error != 0)
                return error;
        } else if (error == DV_ENOMEM) {
            return error;
        }
        dv_error_clear(); /* a damaged local copy: look on */
    }
    if (!pack_listed || failed_in(b, &e->id))
        return 0;
    /* the remote's copy in the damaged pack, which passed its checks there */
    dv_buf name = DV_BUF_INIT, entry = DV_BUF_INIT;
    uint64_t len = DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e->stored_len;
    if ((error = dv_remote_pack_name(&name, &b->id, ".pack")) == 0 &&
        (error = dv_pack_check_bounds(idx, e)) == 0 &&
        (error = dv_buf_grow(&entry, (size_t)len)) == 0 &&
        (error = r->remote->ops->get(r->remote, name.ptr, e->offset, (size_t)len, entry.ptr)) ==
            0 &&
        (error = dv_pack_check_entry(idx, e, (const uint8_t *)entry.ptr)) == 0) {
        dv_buf_clear(&r->stored);
        error = dv_buf_put(&r->stored, entry.ptr + DV_PACK_ENTRY_HEADER_BYTES, e->stored_len);
    }
    if (error == 0)
        error = append_checked(r, e, name.ptr);
    else if (error != DV_ENOMEM) {
        dv_error_clear();
        error = 0;
    }
    dv_buf_release(&name);
    dv_buf_release(&entry);
    return error;
}

static dv_pack *local_pack(repairer *r, const dv_oid *id)
{
    for (size_t i = 0; i < dv_odb_pack_count(r->odb); i++)
        if (!dv_oid_cmp(dv_pack_id(dv_odb_pack_at(r->odb, i)), id))
            return dv_odb_pack_at(r->odb, i);
    return NULL;
}

static int upload_pair(repairer *r, const char *dir, const dv_oid *id)
{
    int error = dv_remote_put_pack(r->remote, dir, id, NULL);
    if (error < 0 && error != DV_ENOMEM)
        error =
            dv_error_wrap(error, "cannot upload pack %s to %s", dv_oid_short(id), r->remote->name);
    return error;
}

/* Plan the replacement of one damaged pack: upload the store's pack of the same id, or copy
 * what it holds into the new packs. */
static int replace(repairer *r, bad_pack *b, const dv_remote_listing *l)
{
    dv_remote_listed p = {b->id, DV_REMOTE_SIZE_UNKNOWN, DV_REMOTE_SIZE_UNKNOWN, 0,
                          0,     DV_REMOTE_TIME_UNKNOWN};
    for (size_t i = 0; i < l->n; i++)
        if (!dv_oid_cmp(&l->packs[i].id, &b->id))
            p = l->packs[i];
    dv_pack *same = local_pack(r, &b->id);
    int error;
    if (same && dv_pack_check_whole(same) == 0) {
        if ((error = upload_pair(r, dv_odb_packs_dir(r->odb), &b->id)) < 0)
            return error;
        r->result->packs_replaced++;
        b->kept = 1; /* it is whole now: nothing to remove */
        say(r, "pack %s on remote %s: uploaded again from the local store", dv_oid_hex(&b->id),
            r->remote->name);
        return 0;
    }
    dv_error_clear();
    dv_pack *idx = NULL;
    dv_remote_listed as_listed = p;
    if (!p.has_pack)
        as_listed.pack_bytes = DV_REMOTE_SIZE_UNKNOWN; /* its size from the index */
    if (!p.has_idx || (error = dv_remote_index_refresh(&idx, r->remote, r->repo->cache_dir.ptr,
                                                       &as_listed)) < 0) {
        dv_error_clear();
        if ((error = dv_remote_index_open_cached(&idx, r->remote, r->repo->cache_dir.ptr,
                                                 &as_listed)) < 0) {
            if (error == DV_ENOMEM)
                return error;
            dv_error_clear();
            b->kept = 1;
            r->result->objects_lost++;
            say(r,
                "pack %s on remote %s is kept: its index cannot be read and no copy of it or "
                "of the pack is here (run dv push --repair from a clone that has the pack)",
                dv_oid_hex(&b->id), r->remote->name);
            return 0;
        }
    }
    dv_pack_entry e;
    error = 0;
    for (size_t i = 0; i < dv_pack_count(idx); i++) {
        dv_pack_entry_at(idx, i, &e);
        if (dv_remote_index_find(r->good, &e.id, NULL, NULL))
            continue;
        if ((error = copy_object(r, b, idx, &e, p.has_pack)) < 0)
            break;
        if (error == 0) {
            b->kept = 1;
            r->result->objects_lost++;
            say(r,
                "%s %s of pack %s on remote %s has no good copy here or on the remote: the "
                "pack is kept (run dv push --repair from a clone that has it)",
                dv_object_type_name(e.type), dv_oid_hex(&e.id), dv_oid_hex(&b->id),
                r->remote->name);
        }
    }
    dv_pack_free(idx);
    return error < 0 ? error : 0;
}

int dv_push_repair(dv_repair_result *result, dv_repo *repo, dv_remote *remote,
                   const dv_transfer_options *opts, dv_repair_note_fn note, void *ctx)
{
    repairer r;
    dv_pool *pool = NULL;
    dv_remote_listing l = {0};
    int error;
    memset(result, 0, sizeof(*result));
    if (remote->ops->read_only)
        return dv_error_set(DV_EUSAGE,
                            "remote %s (%s) is a read-only %s mirror; repair the remote it "
                            "mirrors",
                            remote->name, remote->display, remote->ops->kind);
    memset(&r, 0, sizeof(r));
    r.repo = repo;
    r.remote = remote;
    r.result = result;
    r.note = note;
    r.note_ctx = ctx;
    r.tmp_dir = r.stored = r.decoded = (dv_buf)DV_BUF_INIT;
    r.built = (dv_pack_series)DV_PACK_SERIES_INIT;
    int jobs;
    if ((error = dv_transfer_jobs(&jobs, repo, opts ? opts->jobs : 0)) < 0)
        goto done;
    if ((error = dv_repo_odb(&r.odb, repo)) < 0 || (error = dv_pool_new(&pool, jobs)) < 0 ||
        (error = dv_repo_clean_tmp(repo)) < 0 || (error = dv_repo_tmp_dir(&r.tmp_dir, repo)) < 0)
        goto done;
    r.built.dir = r.tmp_dir.ptr;
    r.built.target_bytes = repo->pack_target_bytes;
    if (!(r.dctx = ZSTD_createDCtx())) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    dv_remote_check_options check = {1, repo->cache_dir.ptr, pool, on_problem, NULL, NULL, &r};
    dv_remote_check_result checked;
    if ((error = dv_remote_check(&checked, remote, &check)) < 0)
        goto done;
    if (r.oom) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    result->packs_bad = r.n_bad;
    if (!r.n_bad)
        goto done;
    dv_oid *skip = malloc(r.n_bad * sizeof(*skip));
    if (!skip) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < r.n_bad; i++)
        skip[i] = r.bad[i].id;
    error = dv_remote_index_load_except(&r.good, remote, repo->cache_dir.ptr, pool, skip, r.n_bad);
    free(skip);
    if (error < 0 || (error = dv_remote_list_packs(&l, remote)) < 0)
        goto done;
    for (size_t i = 0; i < r.n_bad && error == 0; i++)
        error = replace(&r, &r.bad[i], &l);
    if (error == 0)
        error = dv_pack_series_seal(&r.built);
    /* every new pack is up, each with its index, before a damaged one goes */
    for (size_t i = 0; i < r.built.n && error == 0; i++)
        if ((error = dv_remote_put_pack(remote, r.tmp_dir.ptr, &r.built.ids[i],
                                        &result->bytes_uploaded)) < 0 &&
            error != DV_ENOMEM)
            error = dv_error_wrap(error, "cannot upload pack %s to %s",
                                  dv_oid_short(&r.built.ids[i]), remote->name);
    for (size_t i = 0; i < r.n_bad && error == 0; i++) {
        bad_pack *b = &r.bad[i];
        if (b->kept)
            continue;
        dv_buf name = DV_BUF_INIT;
        if ((error = dv_remote_pack_name(&name, &b->id, ".idx")) == 0 &&
            (error = remote->ops->remove(remote, name.ptr)) == 0 &&
            (error = dv_remote_pack_name(&name, &b->id, ".pack")) == 0)
            error = remote->ops->remove(remote, name.ptr);
        dv_buf_release(&name);
        if (error == 0) {
            result->packs_replaced++;
            say(&r, "pack %s on remote %s: replaced, and removed", dv_oid_hex(&b->id),
                remote->name);
        }
    }
done:
    dv_pack_series_release(&r.built);
    dv_remote_index_free(r.good);
    dv_remote_listing_release(&l);
    dv_pool_free(pool);
    ZSTD_freeDCtx(r.dctx);
    for (size_t i = 0; i < r.n_bad; i++)
        free(r.bad[i].objects);
    free(r.bad);
    dv_buf_release(&r.stored);
    dv_buf_release(&r.decoded);
    if (r.tmp_dir.len)
        dv_repo_clean_tmp_after(repo, error);
    dv_buf_release(&r.tmp_dir);
    return error;
}

/* ---- fsck --repair ---- */

typedef struct damaged_pack {
    char *path;      /* the pack file */
    dv_oid *objects; /* its entries that failed */
    size_t n_objects, alloc_objects;
} damaged_pack;

typedef struct mender {
    dv_repo *repo;
    dv_fsck_problem_fn problem;
    dv_fsck_orphan_fn orphan;
    dv_repair_note_fn note;
    void *ctx;
    int oom;
    dv_oidset wanted_set;
    dv_oid *wanted; /* what needs a good copy, each once */
    size_t n_wanted, alloc_wanted;
    damaged_pack *packs;
    size_t n_packs, alloc_packs;
} mender;

static int grow(void **items, size_t *alloc, size_t n, size_t size)
{
    if (n < *alloc)
        return 0;
    size_t more = *alloc ? *alloc * 2 : 16;
    void *grown = realloc(*items, more * size);
    if (!grown)
        return -1;
    *items = grown;
    *alloc = more;
    return 0;
}

static int want_copy(mender *m, const dv_oid *id)
{
    int added = dv_oidset_add(&m->wanted_set, id);
    if (added <= 0)
        return added;
    if (grow((void **)&m->wanted, &m->alloc_wanted, m->n_wanted, sizeof(*m->wanted)) < 0)
        return dv_error_set(DV_ENOMEM, "out of memory");
    m->wanted[m->n_wanted++] = *id;
    return 0;
}

static damaged_pack *damaged_of(mender *m, const char *path)
{
    for (size_t i = 0; i < m->n_packs; i++)
        if (!strcmp(m->packs[i].path, path))
            return &m->packs[i];
    if (grow((void **)&m->packs, &m->alloc_packs, m->n_packs, sizeof(*m->packs)) < 0)
        return NULL;
    damaged_pack *d = &m->packs[m->n_packs];
    memset(d, 0, sizeof(*d));
    if (!(d->path = strdup(path)))
        return NULL;
    m->n_packs++;
    return d;
}

static void on_bad(void *ctx, const char *pack_path, const dv_oid *id, int type)
{
    mender *m = ctx;
    (void)type;
    if (id && want_copy(m, id) < 0)
        m->oom = 1;
    if (!pack_path || !pack_path[0])
        return;
    damaged_pack *d = damaged_of(m, pack_path);
    if (!d) {
        m->oom = 1;
        return;
    }
    if (!id)
        return;
    if (grow((void **)&d->objects, &d->alloc_objects, d->n_objects, sizeof(*d->objects)) < 0) {
        m->oom = 1;
        return;
    }
    d->objects[d->n_objects++] = *id;
}

static void on_problem_m(void *ctx, const char *pack_path, const dv_oid *object, int type,
                         const char *message)
{
    mender *m = ctx;
    m->problem(m->ctx, pack_path, object, type, message);
}

static void on_orphan_m(void *ctx, const char *idx_path, uint64_t objects, uint64_t lost,
                        const char *message)
{
    mender *m = ctx;
    m->orphan(m->ctx, idx_path, objects, lost, message);
}

/* Add to next each object that the tree or manifest raw (of type) names and that neither
 * store holds nor seen has had. */
static int named_missing(dv_oid **next, size_t *n_next, size_t *alloc_next, dv_oidset *seen,
                         dv_odb *store, dv_odb *staging, uint8_t type, const dv_buf *raw)
{
    dv_manifest man = DV_MANIFEST_INIT;
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    dv_tree tree = DV_TREE_INIT;
    int is_list = type == DV_OBJ_MANIFEST && dv_manifest_is_list(raw->ptr, raw->len);
    size_t n = 0;
    int error = is_list                   ? dv_manifest_list_decode(&list, raw->ptr, raw->len)
                : type == DV_OBJ_MANIFEST ? dv_manifest_decode(&man, raw->ptr, raw->len)
                                          : dv_tree_decode(&tree, raw->ptr, raw->len);
    if (error == 0)
        n = is_list ? list.n_parts : type == DV_OBJ_MANIFEST ? man.n_chunks : tree.n_entries;
    for (size_t i = 0; i < n && error == 0; i++) {
        const dv_oid *id = is_list                   ? &list.parts[i].id
                           : type == DV_OBJ_MANIFEST ? &man.chunks[i].id
                                                     : &tree.entries[i].id;
        if (dv_odb_has(store, id) || dv_odb_has(staging, id))
            continue;
        int added = dv_oidset_add(seen, id);
        if (added < 0)
            error = added;
        else if (added && grow((void **)next, alloc_next, *n_next, sizeof(**next)) < 0)
            error = dv_error_set(DV_ENOMEM, "out of memory");
        else if (added)
            (*next)[(*n_next)++] = *id;
    }
    dv_manifest_release(&man);
    dv_manifest_list_release(&list);
    dv_tree_release(&tree);
    return error;
}

/* Fetch the wanted objects the remote has into staging, then what the fetched trees and
 * manifests name that neither store holds, a level at a time. */
static int fetch_good_copies(mender *m, dv_fsck_repair_result *result, dv_remote *remote,
                             dv_fetcher *fetcher, dv_odb *store, dv_odb *staging)
{
    dv_oid *level = NULL, *next = NULL;
    size_t n_level = 0, alloc_level = 0, n_next = 0, alloc_next = 0;
    dv_oidset seen = DV_OIDSET_INIT;
    dv_buf raw = DV_BUF_INIT;
    int error = 0;
    for (size_t i = 0; i < m->n_wanted && error == 0; i++) {
        int has = dv_fetcher_remote_has(fetcher, &m->wanted[i]);
        if (has < 0) {
            error = has;
        } else if (!has) {
            result->objects_lost++;
            notef(m->note, m->ctx, "object %s: remote %s lacks it too", dv_oid_hex(&m->wanted[i]),
                  remote->name);
        } else if (grow((void **)&level, &alloc_level, n_level, sizeof(*level)) < 0) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
        } else {
            level[n_level++] = m->wanted[i];
        }
    }
    while (n_level && error == 0) {
        if ((error = dv_fetcher_get(fetcher, level, n_level)) < 0)
            break;
        n_next = 0;
        for (size_t i = 0; i < n_level && error == 0; i++) {
            uint8_t type;
            if ((error = dv_odb_read(&raw, &type, staging, &level[i])) == 0 && type != DV_OBJ_CHUNK)
                error =
                    named_missing(&next, &n_next, &alloc_next, &seen, store, staging, type, &raw);
        }
        dv_oid *ids = level;
        size_t alloc = alloc_level;
        level = next;
        alloc_level = alloc_next;
        n_level = n_next;
        next = ids;
        alloc_next = alloc;
    }
    free(level);
    free(next);
    dv_oidset_release(&seen);
    dv_buf_release(&raw);
    return error;
}

static int failed_here(const damaged_pack *d, const dv_oid *id)
{
    for (size_t i = 0; i < d->n_objects; i++)
        if (!dv_oid_cmp(&d->objects[i], id))
            return 1;
    return 0;
}

/* Whether a pack of odb other than pack holds id. */
static int held_elsewhere(dv_odb *odb, const dv_pack *pack, const dv_oid *id)
{
    for (size_t i = 0; i < dv_odb_pack_count(odb); i++)
        if (dv_odb_pack_at(odb, i) != pack && dv_pack_find(dv_odb_pack_at(odb, i), id, NULL))
            return 1;
    return 0;
}

static int remove_pack_files(const char *packs_dir, const dv_oid *id)
{
    dv_buf path = DV_BUF_INIT;
    int error = 0;
    static const char *const suffixes[] = {".idx", ".pack"}; /* the index first */
    for (size_t k = 0; k < 2 && error == 0; k++) {
        dv_buf_clear(&path);
        if ((error = dv_buf_printf(&path, "%s/%s%s", packs_dir, dv_oid_hex(id), suffixes[k])) ==
                0 &&
            unlink(path.ptr) < 0 && errno != ENOENT)
            error = dv_error_errno("cannot remove %s", path.ptr);
    }
    if (error == 0)
        error = dv_fs_fsync_dir(packs_dir);
    dv_buf_release(&path);
    return error;
}

/* An index whose pack is gone, once every object it lists is in a pack again: removed. */
static int remove_leftover(mender *m, dv_odb *odb, size_t i)
{
    dv_oid pack_id;
    const char *idx_path = dv_odb_orphan_index_at(odb, i, &pack_id);
    dv_pack *index = NULL;
    int error = dv_pack_open_index(&index, idx_path, idx_path, &pack_id, DV_PACK_BYTES_FROM_INDEX);
    if (error < 0) {
        dv_error_clear(); /* fsck named it: it stays for a person to look at */
        return error == DV_ENOMEM ? error : 0;
    }
    int all = 1;
    for (size_t k = 0; k < dv_pack_count(index) && all; k++) {
        dv_pack_entry e;
        dv_pack_entry_at(index, k, &e);
        all = dv_odb_has(odb, &e.id);
    }
    dv_pack_free(index);
    if (!all)
        return 0;
    if (unlink(idx_path) < 0 && errno != ENOENT)
        return dv_error_errno("cannot remove %s", idx_path);
    notef(m->note, m->ctx, "index %s, whose pack was gone: removed, its objects are in the store",
          idx_path);
    return 0;
}

/* Retire the damaged pack d of odb: copy its sound objects that no other pack holds into a
 * new pack, then remove it. It stays when one of its objects has no good copy. */
static int retire(mender *m, dv_fsck_repair_result *result, dv_odb *odb, const damaged_pack *d,
                  ZSTD_DCtx *dctx, const char *tmp_dir)
{
    dv_pack *pack = NULL;
    for (size_t i = 0; i < dv_odb_pack_count(odb); i++)
        if (!strcmp(dv_pack_path(dv_odb_pack_at(odb, i)), d->path))
            pack = dv_odb_pack_at(odb, i);
    if (!pack) {
        notef(m->note, m->ctx,
              "pack %s cannot be opened, so it is not retired (move it away "
              "once its objects are fetched again)",
              d->path);
        return 0;
    }
    dv_pack_writer *w = NULL;
    dv_buf stored = DV_BUF_INIT, decoded = DV_BUF_INIT;
    int error = 0, kept = 0;
    for (size_t i = 0; i < dv_pack_count(pack) && error == 0; i++) {
        dv_pack_entry e;
        dv_pack_entry_at(pack, i, &e);
        if (held_elsewhere(odb, pack, &e.id))
            continue;
        if (!failed_here(d, &e.id) && (error = dv_pack_read_stored(&stored, pack, &e)) == 0 &&
            (error = dv_pack_decode(&decoded, &e, stored.ptr, stored.len, dctx, d->path)) == 0) {
            if ((w || (error = dv_pack_writer_new(&w, tmp_dir)) == 0))
                error = dv_pack_writer_append(w, &e.id, e.type, e.flags, e.raw_len, stored.ptr,
                                              (uint32_t)stored.len);
            continue;
        }
        if (error == DV_ENOMEM || error == DV_EIO)
            break;
        dv_error_clear();
        error = 0;
        kept = 1;
        notef(m->note, m->ctx, "pack %s is kept: its %s %s has no good copy", d->path,
              dv_object_type_name(e.type), dv_oid_hex(&e.id));
    }
    if (error == 0 && !kept) {
        dv_oid id;
        if (w) {
            error = dv_pack_writer_finish(&id, w, dv_odb_packs_dir(odb));
            w = NULL;
        }
        if (error == 0)
            error = remove_pack_files(dv_odb_packs_dir(odb), dv_pack_id(pack));
        if (error == 0) {
            result->packs_retired++;
            notef(m->note, m->ctx, "pack %s: retired, its sound objects kept", d->path);
        }
    }
    dv_pack_writer_free(w);
    dv_buf_release(&stored);
    dv_buf_release(&decoded);
    return error;
}

int dv_fsck_repair(dv_fsck_repair_result *result, dv_repo *repo, dv_remote *remote,
                   dv_fsck_problem_fn problem, dv_fsck_orphan_fn orphan, dv_repair_note_fn note,
                   void *ctx)
{
    mender m;
    dv_odb *odb, *staging = NULL, *fresh = NULL;
    dv_fetcher *fetcher = NULL;
    ZSTD_DCtx *dctx = NULL;
    dv_buf dir = DV_BUF_INIT, tmp = DV_BUF_INIT;
    int error;
    memset(result, 0, sizeof(*result));
    memset(&m, 0, sizeof(m));
    m.repo = repo;
    m.problem = problem;
    m.orphan = orphan;
    m.note = note;
    m.ctx = ctx;
    m.wanted_set = (dv_oidset)DV_OIDSET_INIT;
    if ((error = dv_repo_odb(&odb, repo)) < 0)
        goto done;
    dv_fsck_result checked;
    if ((error = dv_fsck(&checked, odb, on_problem_m, on_orphan_m, on_bad, &m)) < 0)
        goto done;
    if (m.oom) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    result->problems = checked.problems;
    if (!checked.problems)
        goto done;
    /* good copies go to a store of their own first, so that the damaged ones do not stand in
     * for them, then move into the store as one pack: a tree or manifest never arrives there
     * before what it names */
    dv_odb_options staging_opts = {0, DV_PACK_TARGET_BYTES_MAX};
    if ((error = dv_buf_printf(&dir, "%s/repair", repo->cache_dir.ptr)) < 0 ||
        (error = dv_buf_printf(&tmp, "%s/tmp", repo->cache_dir.ptr)) < 0 ||
        (error = dv_odb_open(&staging, dir.ptr, &staging_opts)) < 0 ||
        (error = dv_odb_remove_stale_tmp(staging)) < 0 ||
        (error = dv_fetcher_new(&fetcher, repo, remote, staging, NULL)) < 0 ||
        (error = fetch_good_copies(&m, result, remote, fetcher, odb, staging)) < 0 ||
        (error = dv_odb_flush(staging)) < 0)
        goto done;
    dv_fetcher_counts(fetcher, &result->objects_fetched, &result->bytes_fetched);
    dv_odb_free(staging);
    if ((error = dv_odb_open(&staging, dir.ptr, NULL)) < 0 ||
        (error = dv_odb_adopt_packs(odb, staging)) < 0)
        goto done;
    if (!(dctx = ZSTD_createDCtx())) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    dv_odb_options opts = {0, repo->pack_target_bytes};
    if ((error = dv_odb_open(&fresh, repo->cache_dir.ptr, &opts)) < 0)
        goto done;
    for (size_t i = 0; i < m.n_packs && error == 0; i++)
        error = retire(&m, result, fresh, &m.packs[i], dctx, tmp.ptr);
    for (size_t i = 0; i < dv_odb_orphan_index_count(fresh) && error == 0; i++)
        error = remove_leftover(&m, fresh, i);
done:
    dv_fetcher_free(fetcher);
    dv_odb_free(staging);
    dv_odb_free(fresh);
    ZSTD_freeDCtx(dctx);
    dv_oidset_release(&m.wanted_set);
    free(m.wanted);
    for (size_t i = 0; i < m.n_packs; i++) {
        free(m.packs[i].path);
        free(m.packs[i].objects);
    }
    free(m.packs);
    dv_buf_release(&dir);
    dv_buf_release(&tmp);
    return error;
}
