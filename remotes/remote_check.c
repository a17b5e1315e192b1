/* remote_check: a remote's packs and indexes verified (remote_check.h). */
#include "remotes/remote_check.h"

#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/object/object.h"
#include "remotes/remote_index.h"
#include "storage/pack.h"
#include "storage/pack_read.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define CHECK_RANGE_BYTES (16u << 20) /* a full check reads a pack this much at a time */

typedef struct checker {
    dv_remote *remote;
    const dv_remote_check_options *opts;
    dv_remote_check_result *result;
    dv_remote_listed **todo;
    pthread_mutex_t lock; /* result, problem, progress */
    uint64_t bytes_read;
} checker;

static void report(checker *c, const dv_oid *pack, const dv_oid *object, int type,
                   const char *message)
{
    pthread_mutex_lock(&c->lock);
    c->result->problems++;
    c->opts->problem(c->opts->ctx, pack, object, type, message);
    pthread_mutex_unlock(&c->lock);
}

/* The last error's message as the problem, then clear it. ENOMEM stops the check. */
static int report_error(checker *c, int error, const dv_oid *pack, const dv_oid *object, int type)
{
    if (error == DV_ENOMEM)
        return error;
    report(c, pack, object, type, dv_error_last());
    dv_error_clear();
    return 0;
}

static int compare_offset(const void *a, const void *b)
{
    const dv_pack_entry *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static uint64_t entry_end(const dv_pack_entry *e)
{
    return e->offset + DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e->stored_len;
}

static void add_progress(checker *c, uint64_t n)
{
    if (!c->opts->progress)
        return;
    pthread_mutex_lock(&c->lock);
    c->bytes_read += n;
    c->opts->progress(c->opts->ctx, c->bytes_read);
    pthread_mutex_unlock(&c->lock);
}

/*
 * Read the pack whole, a range of whole entries at a time, and check it: its header, that
 * the entries (sorted by offset) follow each other from the header to the trailer, each
 * entry against its index record and CRC-32C, each object's SHA-256, and the trailer over
 * the headers. A damaged object is reported and the check goes on with the next one.
 */
static int check_whole(checker *c, dv_pack *pack, dv_pack_entry *entries, size_t n,
                       uint64_t pack_bytes, const char *name)
{
    const dv_oid *id = dv_pack_id(pack);
    dv_buf buf = DV_BUF_INIT, decoded = DV_BUF_INIT;
    dv_hasher *trailer = NULL;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    int error = 0;
    char why[160];
    if (!dctx || (error = dv_hasher_new(&trailer)) < 0) {
        error = dctx ? error : dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    uint8_t header[DV_PACK_HEADER_BYTES];
    if ((error = c->remote->ops->get(c->remote, name, 0, sizeof(header), header)) < 0) {
        error = report_error(c, error, id, NULL, 0);
        goto done;
    }
    add_progress(c, sizeof(header));
    if (memcmp(header, DV_PACK_MAGIC, 4) || dv_get_be32(header + 4) != DV_PACK_VERSION) {
        report(c, id, NULL, 0, "it does not start with a version 1 pack header");
        goto done;
    }
    if ((error = dv_hasher_update(trailer, header, sizeof(header))) < 0)
        goto done;
    uint64_t pos = DV_PACK_HEADER_BYTES;
    for (size_t i = 0; i < n && error == 0;) {
        if (entries[i].offset != pos) {
            snprintf(why, sizeof(why),
                     "its entries do not follow each other: %llu bytes at "
                     "offset %llu belong to no entry the index lists",
                     (unsigned long long)(entries[i].offset > pos ? entries[i].offset - pos : 0),
                     (unsigned long long)pos);
            report(c, id, NULL, 0, why);
            goto done;
        }
        /* entries [i, j) in one read of at most CHECK_RANGE_BYTES (or one larger entry) */
        size_t j = i + 1;
        while (j < n && entries[j].offset == entry_end(&entries[j - 1]) &&
               entry_end(&entries[j]) - entries[i].offset <= CHECK_RANGE_BYTES)
            j++;
        uint64_t len = entry_end(&entries[j - 1]) - entries[i].offset;
        if ((error = dv_buf_grow(&buf, (size_t)len)) < 0)
            goto done;
        if ((error = c->remote->ops->get(c->remote, name, entries[i].offset, (size_t)len,
                                         buf.ptr)) < 0) {
            error = report_error(c, error, id, NULL, 0);
            goto done;
        }
        for (size_t k = i; k < j && error == 0; k++) {
            const dv_pack_entry *e = &entries[k];
            const uint8_t *bytes = (const uint8_t *)buf.ptr + (e->offset - entries[i].offset);
            if ((error = dv_hasher_update(trailer, bytes, DV_PACK_ENTRY_HEADER_BYTES)) < 0)
                break;
            if ((error = dv_pack_check_entry(pack, e, bytes)) < 0 ||
                (error = dv_pack_decode(&decoded, e, bytes + DV_PACK_ENTRY_HEADER_BYTES,
                                        e->stored_len, dctx, name)) < 0)
                error = report_error(c, error, id, &e->id, e->type);
        }
        add_progress(c, len);
        pos = entry_end(&entries[j - 1]);
        i = j;
    }
    if (error < 0)
        goto done;
    if (pos + DV_PACK_TRAILER_BYTES != pack_bytes) {
        snprintf(why, sizeof(why), "%llu bytes lie between its last entry and its trailer",
                 (unsigned long long)(pack_bytes - DV_PACK_TRAILER_BYTES - pos));
        report(c, id, NULL, 0, why);
        goto done;
    }
    dv_oid sum;
    if ((error = dv_hasher_final(&sum, trailer)) < 0)
        goto done;
    if (dv_oid_cmp(&sum, id))
        report(c, id, NULL, 0,
               "the SHA-256 of its header and entry headers is not its id: a header is "
               "damaged");
done:
    dv_hasher_free(trailer);
    ZSTD_freeDCtx(dctx);
    dv_buf_release(&buf);
    dv_buf_release(&decoded);
    return error;
}

/* Check one listed pack (with its index): see remote_check.h. */
static int check_pack(void *ctx, size_t item, int worker)
{
    checker *c = ctx;
    const dv_remote_listed *p = c->todo[item];
    dv_pack *pack = NULL;
    dv_pack_entry *entries = NULL;
    dv_buf name = DV_BUF_INIT;
    char why[200];
    (void)worker;
    int error = dv_remote_index_refresh(&pack, c->remote, c->opts->cache_dir, p);
    if (error < 0) {
        error = report_error(c, error, &p->id, NULL, 0);
        goto done;
    }
    size_t n = dv_pack_count(pack);
    uint64_t end = DV_PACK_HEADER_BYTES;
    if (!(entries = malloc((n ? n : 1) * sizeof(*entries)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        dv_pack_entry_at(pack, i, &entries[i]);
        /* from the remote: entry_end must not wrap, nor a read be larger than an entry can
         * be (whether it lies inside the pack is the size check below) */
        uint64_t e_end;
        if (entries[i].offset < DV_PACK_HEADER_BYTES ||
            __builtin_add_overflow(entries[i].offset,
                                   DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)entries[i].stored_len,
                                   &e_end) ||
            e_end > UINT64_MAX - DV_PACK_TRAILER_BYTES ||
            entries[i].stored_len > DV_OBJECT_MAX_BYTES + 1024) {
            report(c, &p->id, &entries[i].id, entries[i].type,
                   "its index gives this object an offset or length no pack can hold");
            goto done;
        }
        if (entry_end(&entries[i]) > end)
            end = entry_end(&entries[i]);
    }
    uint64_t pack_bytes = end + DV_PACK_TRAILER_BYTES;
    pthread_mutex_lock(&c->lock);
    c->result->packs++;
    c->result->objects += n;
    c->result->bytes += pack_bytes;
    pthread_mutex_unlock(&c->lock);
    if (p->pack_bytes != DV_REMOTE_SIZE_UNKNOWN && p->pack_bytes != pack_bytes) {
        snprintf(why, sizeof(why),
                 "the pack is %llu bytes, its index says %llu: it was cut short or added to",
                 (unsigned long long)p->pack_bytes, (unsigned long long)pack_bytes);
        report(c, &p->id, NULL, 0, why);
        goto done;
    }
    if ((error = dv_remote_pack_name(&name, &p->id, ".pack")) < 0)
        goto done;
    uint8_t tail[DV_PACK_TRAILER_BYTES];
    if ((error = c->remote->ops->get(c->remote, name.ptr, pack_bytes - sizeof(tail), sizeof(tail),
                                     tail)) < 0) {
        error = report_error(c, error, &p->id, NULL, 0);
        goto done;
    }
    if (memcmp(tail, p->id.id, DV_OID_BYTES)) {
        report(c, &p->id, NULL, 0, "its trailer is not its id");
        goto done;
    }
    if (c->opts->full) {
        qsort(entries, n, sizeof(*entries), compare_offset);
        error = check_whole(c, pack, entries, n, pack_bytes, name.ptr);
    }
done:
    dv_buf_release(&name);
    free(entries);
    dv_pack_free(pack);
    return error;
}

int dv_remote_check(dv_remote_check_result *out, dv_remote *remote,
                    const dv_remote_check_options *opts)
{
    dv_remote_listing l;
    checker c;
    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    int error = dv_remote_list_packs(&l, remote);
    if (error < 0)
        return error;
    c.remote = remote;
    c.opts = opts;
    c.result = out;
    pthread_mutex_init(&c.lock, NULL);
    size_t n_todo = 0;
    uint64_t planned = 0;
    if (!(c.todo = calloc(l.n ? l.n : 1, sizeof(*c.todo)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        dv_remote_listed *p = &l.packs[i];
        if (p->has_pack && p->has_idx) {
            c.todo[n_todo++] = p;
            if (p->pack_bytes != DV_REMOTE_SIZE_UNKNOWN)
                planned += p->pack_bytes;
        } else if (p->has_pack) {
            out->leftovers++;
        } else {
            report(&c, &p->id, NULL, 0,
                   "its index is there but the pack is not: the objects it lists are missing");
        }
    }
    if (opts->full && opts->planned)
        opts->planned(opts->ctx, planned);
    if (n_todo) {
        dv_pool_task task;
        dv_pool_submit(opts->pool, &task, check_pack, &c, n_todo);
        error = dv_pool_wait(opts->pool, &task);
    }
done:
    free(c.todo);
    dv_remote_listing_release(&l);
    pthread_mutex_destroy(&c.lock);
    return error;
}
