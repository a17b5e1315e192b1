/* repack: keep what is kept, rewrite the packs that hold anything else (repack.h). */
#include "storage/repack.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "storage/pack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

enum { PACK_STAYS, PACK_REWRITE, PACK_DROP };

typedef struct plan_pack {
    dv_pack *pack;
    int64_t mtime_ns;
    uint64_t file_bytes; /* pack and index */
    int fate;
} plan_pack;

static uint64_t index_bytes(uint64_t count)
{
    return DV_INDEX_HEADER_BYTES + DV_INDEX_FANOUT_BYTES +
           count * (DV_OID_BYTES + DV_INDEX_RECORD_BYTES) + DV_INDEX_TRAILER_BYTES;
}

static int idx_path_of(dv_buf *out, dv_odb *odb, const dv_pack *pack)
{
    dv_buf_clear(out);
    return dv_buf_printf(out, "%s/%s.idx", dv_odb_packs_dir(odb), dv_oid_hex(dv_pack_id(pack)));
}

static int compare_mtime(const void *a, const void *b)
{
    const plan_pack *x = a, *y = b;
    return (x->mtime_ns > y->mtime_ns) - (x->mtime_ns < y->mtime_ns);
}

static int compare_offset(const void *a, const void *b)
{
    const dv_pack_entry *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

/* What a pack writer makes of a run of copies: the writer seals once its bytes (header and
 * entries) reach the target, as dv_pack_writer_bytes counts them. */
typedef struct new_packs {
    uint64_t bytes, count; /* of the pack being filled; bytes 0 when none */
    uint64_t packs, file_bytes;
} new_packs;

static void new_packs_seal(new_packs *n)
{
    if (!n->bytes)
        return;
    n->packs++;
    n->file_bytes += n->bytes + DV_PACK_TRAILER_BYTES + index_bytes(n->count);
    n->bytes = n->count = 0;
}

static int new_packs_add(new_packs *n, const dv_pack_entry *e, uint64_t target)
{
    if (!n->bytes)
        n->bytes = DV_PACK_HEADER_BYTES;
    n->bytes += DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e->stored_len;
    n->count++;
    int sealed = n->bytes >= target;
    if (sealed)
        new_packs_seal(n);
    return sealed;
}

/* Copy one entry as stored, once it proves to be its object. */
static int copy_entry(dv_pack_writer *w, dv_pack *pack, const dv_pack_entry *e, dv_buf *stored,
                      dv_buf *decoded, ZSTD_DCtx *dctx)
{
    int error;
    if ((error = dv_pack_read_stored(stored, pack, e)) < 0 ||
        (error = dv_pack_decode(decoded, e, stored->ptr, stored->len, dctx, dv_pack_path(pack))) <
            0) {
        if (error == DV_ENOMEM)
            return error;
        return dv_error_wrap(error, "pack %s is damaged, nothing was deleted (run dv fsck)",
                             dv_pack_path(pack));
    }
    return dv_pack_writer_append(w, &e->id, e->type, e->flags, e->raw_len, stored->ptr,
                                 (uint32_t)stored->len);
}

int dv_repack(dv_repack_result *out, dv_odb *odb, const dv_repack_options *opts)
{
    int error = 0;
    size_t n_packs = dv_odb_pack_count(odb);
    plan_pack *packs = calloc(n_packs ? n_packs : 1, sizeof(*packs));
    dv_oidset all = DV_OIDSET_INIT, staying = DV_OIDSET_INIT, copied = DV_OIDSET_INIT;
    dv_pack_entry *entries = NULL;
    dv_oid *written = NULL;
    size_t n_written = 0;
    dv_buf path = DV_BUF_INIT, stored = DV_BUF_INIT, decoded = DV_BUF_INIT;
    dv_pack_writer *writer = NULL;
    ZSTD_DCtx *dctx = NULL;
    uint64_t target =
        opts->pack_target_bytes ? opts->pack_target_bytes : DV_PACK_TARGET_BYTES_DEFAULT;
    uint64_t staying_bytes = 0, leaving_bytes = 0, n_copies = 0;
    new_packs plan = {0, 0, 0, 0};
    memset(out, 0, sizeof(*out));
    if (!packs)
        return dv_error_set(DV_ENOMEM, "out of memory");

    /* Which packs stay whole, which are rewritten, which go. */
    for (size_t i = 0; i < n_packs; i++) {
        plan_pack *p = &packs[i];
        struct stat st, ist;
        p->pack = dv_odb_pack_at(odb, i);
        if ((error = idx_path_of(&path, odb, p->pack)) < 0)
            goto done;
        if (stat(dv_pack_path(p->pack), &st) < 0 || stat(path.ptr, &ist) < 0) {
            error = dv_error_errno("cannot stat %s", dv_pack_path(p->pack));
            goto done;
        }
        p->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        p->file_bytes = (uint64_t)st.st_size + (uint64_t)ist.st_size;
        size_t count = dv_pack_count(p->pack), kept = 0;
        for (size_t j = 0; j < count; j++) {
            dv_pack_entry e;
            dv_pack_entry_at(p->pack, j, &e);
            if ((error = dv_oidset_add(&all, &e.id)) < 0)
                goto done;
            error = 0;
            kept += dv_oidset_has(opts->keep, &e.id);
        }
        p->fate = p->mtime_ns >= opts->touch_before_ns || kept == count ? PACK_STAYS
                  : kept                                                ? PACK_REWRITE
                                                                        : PACK_DROP;
        if (p->fate == PACK_STAYS) {
            staying_bytes += p->file_bytes;
            out->packs_kept++;
            for (size_t j = 0; j < count; j++) {
                dv_pack_entry e;
                dv_pack_entry_at(p->pack, j, &e);
                if ((error = dv_oidset_add(&staying, &e.id)) < 0)
                    goto done;
                error = 0;
            }
        } else {
            leaving_bytes += p->file_bytes;
            if (p->fate == PACK_REWRITE)
                out->packs_rewritten++;
            else
                out->packs_deleted++;
        }
    }
    /* In the order the packs were written, so that a new pack holds what it names or comes
     * after the pack that does (the store's closure order). */
    qsort(packs, n_packs, sizeof(*packs), compare_mtime);

    if (!opts->dry_run && !(dctx = ZSTD_createDCtx())) {
        error = dv_error_set(DV_ENOMEM, "out of memory for zstd");
        goto done;
    }
    for (size_t i = 0; i < n_packs; i++) {
        plan_pack *p = &packs[i];
        if (p->fate != PACK_REWRITE)
            continue;
        size_t count = dv_pack_count(p->pack), n = 0;
        dv_pack_entry *grown = realloc(entries, (count ? count : 1) * sizeof(*grown));
        if (!grown) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
        entries = grown;
        for (size_t j = 0; j < count; j++) {
            dv_pack_entry_at(p->pack, j, &entries[n]);
            if (dv_oidset_has(opts->keep, &entries[n].id) &&
                !dv_oidset_has(&staying, &entries[n].id))
                n++;
        }
        /* in file order: a pack is read front to back, and keeps its own closure order */
        qsort(entries, n, sizeof(*entries), compare_offset);
        for (size_t j = 0; j < n; j++) {
            const dv_pack_entry *e = &entries[j];
            int added = dv_oidset_add(&copied, &e->id);
            if (added < 0) {
                error = added;
                goto done;
            }
            if (!added)
                continue; /* a copy of it is on its way already */
            n_copies++;
            int seal = new_packs_add(&plan, e, target);
            if (opts->dry_run)
                continue;
            if (!writer && (error = dv_pack_writer_new(&writer, dv_odb_tmp_dir(odb))) < 0)
                goto done;
            if ((error = copy_entry(writer, p->pack, e, &stored, &decoded, dctx)) < 0)
                goto done;
            if (seal) {
                dv_oid *w = realloc(written, (n_written + 1) * sizeof(*w));
                if (!w) {
                    error = dv_error_set(DV_ENOMEM, "out of memory");
                    goto done;
                }
                written = w;
                error = dv_pack_writer_finish(&written[n_written], writer, dv_odb_packs_dir(odb));
                writer = NULL;
                if (error < 0)
                    goto done;
                n_written++;
            }
        }
    }
    new_packs_seal(&plan);
    if (writer) {
        dv_oid *w = realloc(written, (n_written + 1) * sizeof(*w));
        if (!w) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
        written = w;
        error = dv_pack_writer_finish(&written[n_written], writer, dv_odb_packs_dir(odb));
        writer = NULL;
        if (error < 0)
            goto done;
        n_written++;
    }

    uint64_t new_bytes = plan.file_bytes;
    out->packs_written = plan.packs;
    if (!opts->dry_run) {
        /* Every new pack and its index are durable (dv_pack_writer_finish fsyncs them and
         * packs/); only now may the old ones go: the index first, so that a crash between
         * the two leaves a pack without index, which is no part of the store. */
        new_bytes = 0;
        for (size_t i = 0; i < n_written; i++) {
            struct stat st;
            dv_buf_clear(&path);
            if ((error = dv_buf_printf(&path, "%s/%s.pack", dv_odb_packs_dir(odb),
                                       dv_oid_hex(&written[i]))) < 0)
                goto done;
            if (stat(path.ptr, &st) < 0) {
                error = dv_error_errno("cannot stat %s", path.ptr);
                goto done;
            }
            new_bytes += (uint64_t)st.st_size;
            dv_buf_truncate(&path, path.len - strlen(".pack"));
            if ((error = dv_buf_puts(&path, ".idx")) < 0)
                goto done;
            if (stat(path.ptr, &st) < 0) {
                error = dv_error_errno("cannot stat %s", path.ptr);
                goto done;
            }
            new_bytes += (uint64_t)st.st_size;
        }
        out->packs_written = n_written;
        for (size_t i = 0; i < n_packs; i++) {
            plan_pack *p = &packs[i];
            int rewritten_as_is = 0;
            if (p->fate == PACK_STAYS)
                continue;
            for (size_t k = 0; k < n_written; k++)
                rewritten_as_is |= !memcmp(written[k].id, dv_pack_id(p->pack)->id, DV_OID_BYTES);
            if (rewritten_as_is)
                continue; /* the same bytes under the same name: the new pack is this one */
            if ((error = idx_path_of(&path, odb, p->pack)) < 0)
                goto done;
            if (unlink(path.ptr) < 0 && errno != ENOENT) {
                error = dv_error_errno("cannot remove %s", path.ptr);
                goto done;
            }
            if (unlink(dv_pack_path(p->pack)) < 0 && errno != ENOENT) {
                error = dv_error_errno("cannot remove %s", dv_pack_path(p->pack));
                goto done;
            }
        }
        if ((error = dv_fs_fsync_dir(dv_odb_packs_dir(odb))) < 0)
            goto done;
    }
    out->objects_kept = dv_oidset_count(&staying) + n_copies;
    out->objects_freed = dv_oidset_count(&all) - out->objects_kept;
    out->bytes_kept = staying_bytes + new_bytes;
    out->bytes_freed = (int64_t)leaving_bytes - (int64_t)new_bytes;
done:
    dv_pack_writer_free(writer);
    ZSTD_freeDCtx(dctx);
    free(packs);
    free(entries);
    free(written);
    dv_oidset_release(&all);
    dv_oidset_release(&staying);
    dv_oidset_release(&copied);
    dv_buf_release(&path);
    dv_buf_release(&stored);
    dv_buf_release(&decoded);
    return error;
}
