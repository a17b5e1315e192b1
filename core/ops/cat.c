/* cat: one tracked file's bytes from the store (cat.h). */
#include "core/ops/cat.h"

#include "core/base/buf.h"
#include "core/base/pool.h"
#include "core/data/objread.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/ls.h"
#include "storage/pack_read.h"

#include <stdlib.h>
#include <string.h>

/*
 * The chunks wanted are read a group at a time: located, read from their packs a run of
 * neighbours at a time, checked against the index and their CRC-32C, decompressed, and
 * hashed side by side (dv_hash_many) to check their SHA-256. Groups are prepared on the
 * worker pool at most CAT_GROUPS_PER_WORKER per worker ahead of the writer, which takes
 * them in order: memory is those groups, whatever the file's size.
 */
#define CAT_GROUP_CHUNKS 32
#define CAT_GROUPS_PER_WORKER 2

typedef struct cat_group {
    dv_odb *odb;
    const char *path;
    const dv_manifest_entry *chunks;
    size_t n;
    uint64_t pos;                     /* of chunks[0] in the file */
    dv_pack *packs[CAT_GROUP_CHUNKS]; /* NULL: not in a sealed pack */
    dv_pack_entry entries[CAT_GROUP_CHUNKS];
    const uint8_t *out[CAT_GROUP_CHUNKS]; /* each chunk's bytes once the group is prepared */
    dv_pack_runs runs;                    /* the entries as read */
    dv_buf bufs[CAT_GROUP_CHUNKS];        /* decompressed chunks, and chunks read by dv_odb_read */
    dv_pool_task task;
    int submitted;
} cat_group;

typedef struct cat_range {
    dv_odb *odb;
    const char *path;
    uint64_t start, end; /* the bytes wanted, end exclusive */
    dv_cat_write_fn fn;
    void *ctx;
    dv_pool *pool; /* started for the first file of more than one group */
    cat_group *groups;
    size_t n_groups;
} cat_range;

static int not_in_store(const cat_group *g, size_t i, uint64_t pos)
{
    return dv_error_set(DV_ENOTFOUND,
                        "%s: its chunk %s at offset %llu is not in the store (run dv fetch)",
                        g->path, dv_oid_hex(&g->chunks[i].id), (unsigned long long)pos);
}

static int wrong_object(const cat_group *g, size_t i, uint8_t type, size_t len)
{
    const dv_manifest_entry *c = &g->chunks[i];
    return dv_error_set(DV_ECORRUPT,
                        "%s: chunk %s is a %s of %zu bytes, the manifest says a chunk of %u (run "
                        "dv fsck)",
                        g->path, dv_oid_hex(&c->id), dv_object_type_name(type), len, c->len);
}

/* Chunk i, which is in no sealed pack: the general read path, which verifies it or says
 * why it cannot. */
static int read_unpacked(cat_group *g, size_t i, uint64_t pos)
{
    const dv_manifest_entry *c = &g->chunks[i];
    uint8_t type = 0;
    int error = dv_odb_read(&g->bufs[i], &type, g->odb, &c->id);
    if (error == DV_ENOTFOUND)
        return not_in_store(g, i, pos);
    if (error < 0)
        return dv_error_wrap(error, "%s: chunk %s", g->path, dv_oid_hex(&c->id));
    if (type != DV_OBJ_CHUNK || g->bufs[i].len != c->len)
        return wrong_object(g, i, type, g->bufs[i].len);
    g->out[i] = (const uint8_t *)g->bufs[i].ptr;
    return 0;
}

/* Locate the group's chunks, read those in sealed packs a run of neighbours at a time,
 * and the others through dv_odb_read. */
static int read_group(cat_group *g, const uint8_t **entry_bytes)
{
    int error;
    uint64_t pos = g->pos;
    for (size_t i = 0; i < g->n; pos += g->chunks[i].len, i++) {
        /* Neighbouring chunks were mostly stored together: the pack of the one before is
         * asked first, before the store asks each of its packs in turn. */
        dv_pack *prev = i ? g->packs[i - 1] : NULL;
        if (prev && dv_pack_find(prev, &g->chunks[i].id, &g->entries[i])) {
            g->packs[i] = prev;
        } else if (!dv_odb_locate(&g->packs[i], &g->entries[i], g->odb, &g->chunks[i].id)) {
            g->packs[i] = NULL;
            if ((error = read_unpacked(g, i, pos)) < 0)
                return error;
            continue;
        }
        if ((error = dv_pack_check_bounds(g->packs[i], &g->entries[i])) < 0)
            return dv_error_wrap(error, "%s: chunk %s", g->path, dv_oid_hex(&g->chunks[i].id));
    }
    if ((error = dv_pack_read_runs(&g->runs, g->packs, g->entries, g->n, entry_bytes)) < 0)
        return error;
    return 0;
}

/* The pool task of a group (one item): read its chunks, check them against their index
 * entries and CRC-32C, decompress them, and check every one's SHA-256 against its id. */
static int prepare_group(void *ctx, size_t item, int worker)
{
    cat_group *g = ctx;
    const uint8_t *entry_bytes[CAT_GROUP_CHUNKS];
    const uint8_t *hashed[CAT_GROUP_CHUNKS];
    size_t lens[CAT_GROUP_CHUNKS], which[CAT_GROUP_CHUNKS], n_hashed = 0;
    dv_oid ids[CAT_GROUP_CHUNKS];
    int error;
    (void)item;
    (void)worker;
    if ((error = read_group(g, entry_bytes)) < 0)
        return error;
    for (size_t i = 0; i < g->n; i++) {
        const dv_pack_entry *e = &g->entries[i];
        if (!g->packs[i])
            continue; /* verified by dv_odb_read */
        int raw = e->flags == DV_PACK_RAW && e->stored_len == e->raw_len;
        /* The SHA-256 below checks raw bytes; the CRC-32C guards the decompressor. */
        error = raw ? dv_pack_check_entry_header(g->packs[i], e, entry_bytes[i])
                    : dv_pack_check_entry(g->packs[i], e, entry_bytes[i]);
        if (error < 0)
            return dv_error_wrap(error, "%s", g->path);
        if (e->type != DV_OBJ_CHUNK || e->raw_len != g->chunks[i].len)
            return wrong_object(g, i, e->type, e->raw_len);
        const uint8_t *stored = entry_bytes[i] + DV_PACK_ENTRY_HEADER_BYTES;
        if (raw) {
            g->out[i] = stored;
        } else {
            if ((error = dv_odb_unpack(&g->bufs[i], e, stored, e->stored_len,
                                       dv_pack_path(g->packs[i]))) < 0)
                return dv_error_wrap(error, "%s", g->path);
            g->out[i] = (const uint8_t *)g->bufs[i].ptr;
        }
        hashed[n_hashed] = g->out[i];
        lens[n_hashed] = g->chunks[i].len;
        which[n_hashed++] = i;
    }
    if ((error = dv_hash_many(ids, hashed, lens, n_hashed)) < 0)
        return error;
    for (size_t k = 0; k < n_hashed; k++) {
        size_t i = which[k];
        if (dv_oid_cmp(&ids[k], &g->chunks[i].id))
            return dv_error_set(DV_ECORRUPT,
                                "%s: chunk %s in %s is corrupt: its content hashes to %s (run dv "
                                "fsck)",
                                g->path, dv_oid_hex(&g->chunks[i].id), dv_pack_path(g->packs[i]),
                                dv_oid_hex(&ids[k]));
    }
    return 0;
}

/* Hand the part of the prepared group g that lies in the range to the writer. */
static int write_group(cat_range *r, const cat_group *g)
{
    uint64_t pos = g->pos;
    int error;
    for (size_t i = 0; i < g->n; i++) {
        uint64_t next = pos + g->chunks[i].len;
        uint64_t from = r->start > pos ? r->start - pos : 0;
        uint64_t to = r->end < next ? r->end - pos : g->chunks[i].len;
        if (from < to && (error = r->fn(r->ctx, g->out[i] + from, (size_t)(to - from))) < 0)
            return error;
        pos = next;
    }
    return 0;
}

/* The chunks of m, which begins at byte base of the file, that overlap the range. */
static int write_manifest(cat_range *r, const dv_manifest *m, uint64_t base)
{
    size_t first = 0, last;
    uint64_t pos = base;
    for (; first < m->n_chunks && pos + m->chunks[first].len <= r->start; first++)
        pos += m->chunks[first].len;
    uint64_t end = pos;
    for (last = first; last < m->n_chunks && end < r->end; last++)
        end += m->chunks[last].len;
    if (first == last)
        return 0;
    int error = 0;
    if (dv_odb_fetches(r->odb)) {
        /* what the store lacks comes in one batch of ranged reads, not a chunk at a time */
        dv_oid *ids = malloc((last - first) * sizeof(*ids));
        if (!ids)
            return dv_error_set(DV_ENOMEM, "out of memory");
        for (size_t i = first; i < last; i++)
            ids[i - first] = m->chunks[i].id;
        error = dv_odb_prefetch(r->odb, ids, last - first);
        free(ids);
        if (error < 0)
            return error;
    }
    dv_pool *pool = NULL;
    if (last - first > CAT_GROUP_CHUNKS) {
        if (!r->pool && (error = dv_pool_new(&r->pool, dv_pool_default_threads())) < 0)
            return error;
        pool = r->pool;
    }
    size_t n_groups = pool ? (size_t)dv_pool_threads(pool) * CAT_GROUPS_PER_WORKER : 1;
    if (n_groups > r->n_groups) {
        cat_group *more = realloc(r->groups, n_groups * sizeof(*more));
        if (!more)
            return dv_error_set(DV_ENOMEM, "out of memory");
        memset(more + r->n_groups, 0, (n_groups - r->n_groups) * sizeof(*more));
        for (size_t gi = r->n_groups; gi < n_groups; gi++) {
            more[gi].odb = r->odb;
            more[gi].path = r->path;
            for (size_t i = 0; i < CAT_GROUP_CHUNKS; i++)
                more[gi].bufs[i] = (dv_buf)DV_BUF_INIT;
        }
        r->groups = more;
        r->n_groups = n_groups;
    }
    size_t next = first;              /* first chunk not yet in a group */
    size_t started = 0, finished = 0; /* groups */
    while (next < last || finished < started) {
        while (next < last && started - finished < n_groups) {
            cat_group *g = &r->groups[started % n_groups];
            g->chunks = m->chunks + next;
            g->n = last - next < CAT_GROUP_CHUNKS ? last - next : CAT_GROUP_CHUNKS;
            g->pos = pos;
            for (size_t i = 0; i < g->n; i++)
                pos += g->chunks[i].len;
            next += g->n;
            started++;
            if (pool) {
                dv_pool_submit(pool, &g->task, prepare_group, g, 1);
                g->submitted = 1;
            } else if ((error = prepare_group(g, 0, 0)) < 0) {
                goto done;
            }
        }
        cat_group *g = &r->groups[finished % n_groups];
        finished++;
        if (g->submitted) {
            g->submitted = 0;
            if ((error = dv_pool_wait(pool, &g->task)) < 0)
                goto done;
        }
        if ((error = write_group(r, g)) < 0)
            goto done;
    }
done:
    /* On failure, groups still being prepared must end before their buffers go. */
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        if (r->groups[gi].submitted) {
            r->groups[gi].submitted = 0;
            dv_pool_drain(pool, &r->groups[gi].task);
        }
    }
    return error;
}

static void cat_range_release(cat_range *r)
{
    dv_pool_free(r->pool);
    for (size_t gi = 0; gi < r->n_groups; gi++) {
        dv_pack_runs_release(&r->groups[gi].runs);
        for (size_t i = 0; i < CAT_GROUP_CHUNKS; i++)
            dv_buf_release(&r->groups[gi].bufs[i]);
    }
    free(r->groups);
}

int dv_cat_object(dv_odb *odb, const dv_oid *id, uint64_t size, const char *path, uint64_t offset,
                  uint64_t length, dv_cat_write_fn fn, void *ctx)
{
    dv_manifest m = DV_MANIFEST_INIT;
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    dv_buf raw = DV_BUF_INIT;
    cat_range r = {odb, path, offset, 0, fn, ctx, NULL, NULL, 0};
    int error = 0;
    r.end = length > size || offset > size - length ? size : offset + length;
    if (r.start >= r.end)
        goto done;
    error = dv_manifest_read_top(&m, &list, &raw, r.odb, id, path);
    if (error == DV_ENOTFOUND) {
        error = dv_error_set(DV_ENOTFOUND, "%s: its manifest %s is not in the store (run dv fetch)",
                             path, dv_oid_hex(id));
        goto done;
    }
    if (error < 0)
        goto done;
    uint64_t total = list.n_parts ? list.size : m.size;
    if (total != size) {
        error = dv_error_set(
            DV_ECORRUPT, "%s: its manifest %s holds %llu bytes, its pointer or tree says %llu",
            path, dv_oid_hex(id), (unsigned long long)total, (unsigned long long)size);
        goto done;
    }
    if (!list.n_parts) {
        error = write_manifest(&r, &m, 0);
        goto done;
    }
    uint64_t base = 0;
    for (size_t i = 0; i < list.n_parts && base < r.end && !error; i++) {
        uint64_t next = base + list.parts[i].size;
        if (next > r.start) {
            dv_manifest_release(&m);
            if ((error = dv_manifest_read_part(&m, &raw, r.odb, &list, i, id, path)) < 0)
                break;
            error = write_manifest(&r, &m, base);
        }
        base = next;
    }
done:
    cat_range_release(&r);
    dv_buf_release(&raw);
    dv_manifest_release(&m);
    dv_manifest_list_release(&list);
    return error;
}

int dv_cat(dv_repo *repo, dv_rev *rev, const char *path, uint64_t offset, uint64_t length,
           dv_cat_write_fn fn, void *ctx)
{
    dv_ls_entry e;
    dv_odb *odb;
    int error;
    if ((error = dv_ls_find(&e, repo, rev, path)) < 0 || (error = dv_repo_odb(&odb, repo)) < 0)
        return error;
    if (e.kind != DV_KIND_FILE)
        return dv_error_set(DV_EUSAGE, "%s is a %s, not a file%s", path,
                            e.kind == DV_KIND_DIR ? "directory" : "symbolic link",
                            e.kind == DV_KIND_DIR ? " (list it with dv ls)" : "");
    return dv_cat_object(odb, &e.id, e.size, path, offset, length, fn, ctx);
}
