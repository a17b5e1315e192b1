/* repack: keep what is kept, rewrite the packs that hold anything else, merge small ones
 * (repack.h). */
#include "storage/repack.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "storage/pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

enum { PACK_STAYS, PACK_REWRITE, PACK_DROP, PACK_MERGE };

typedef struct plan_pack {
    dv_pack *pack;
    int64_t mtime_ns;
    uint64_t file_bytes; /* pack and index */
    int fate;
} plan_pack;

/* A pack written by this run, and the write time it takes: that of the old pack its last
 * entry came from, so that it sits where its objects were in the order of writing. */
typedef struct written_pack {
    dv_oid id;
    int64_t mtime_ns;
} written_pack;

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

static int is_kept(const dv_repack_options *opts, const dv_oid *id)
{
    return (!opts->keep || dv_oidset_has(opts->keep, id)) &&
           (!opts->remove || !dv_oidset_has(opts->remove, id));
}

static int want_kept(void *ctx, const dv_oid *id)
{
    return is_kept(ctx, id);
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

/* Give a new pack the write time of the old pack its last object came from, durably (the
 * order of writing, by modification time, is what push and the next repack go by). */
static int set_write_time(dv_odb *odb, const written_pack *w, dv_buf *path)
{
    int error = 0;
    dv_buf_clear(path);
    if ((error = dv_buf_printf(path, "%s/%s.pack", dv_odb_packs_dir(odb), dv_oid_hex(&w->id))) < 0)
        return error;
    int fd = open(path->ptr, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dv_error_errno("cannot open %s", path->ptr);
    struct timespec times[2] = {
        {0, UTIME_OMIT}, {(time_t)(w->mtime_ns / 1000000000), (long)(w->mtime_ns % 1000000000)}};
    if (futimens(fd, times) < 0)
        error = dv_error_errno("cannot set the modification time of %s", path->ptr);
    else if (fsync(fd) < 0)
        error = dv_error_errno("cannot fsync %s", path->ptr);
    if (close(fd) < 0 && error == 0)
        error = dv_error_errno("cannot close %s", path->ptr);
    return error;
}

/* Seal the pack being written, and place it in the order of writing. */
static int seal_writer(dv_pack_writer **writer, written_pack **written, size_t *n_written,
                       int64_t mtime_ns, dv_odb *odb, dv_buf *path)
{
    written_pack *grown = realloc(*written, (*n_written + 1) * sizeof(*grown));
    if (!grown)
        return dv_error_set(DV_ENOMEM, "out of memory");
    *written = grown;
    written_pack *w = &grown[*n_written];
    w->mtime_ns = mtime_ns;
    int error = dv_pack_writer_finish(&w->id, *writer, dv_odb_packs_dir(odb));
    *writer = NULL;
    if (error < 0)
        return error;
    (*n_written)++;
    return set_write_time(odb, w, path);
}

int dv_repack(dv_repack_result *out, dv_odb *odb, const dv_repack_options *opts)
{
    int error = 0;
    size_t n_packs = dv_odb_pack_count(odb);
    plan_pack *packs = calloc(n_packs ? n_packs : 1, sizeof(*packs));
    dv_oidset all = DV_OIDSET_INIT, present = DV_OIDSET_INIT;
    dv_pack_entry *entries = NULL;
    size_t entries_cap = 0;
    written_pack *written = NULL;
    size_t n_written = 0;
    dv_buf path = DV_BUF_INIT, stored = DV_BUF_INIT, decoded = DV_BUF_INIT;
    dv_pack_writer *writer = NULL;
    int64_t writer_mtime_ns = 0;
    ZSTD_DCtx *dctx = NULL;
    uint64_t target =
        opts->pack_target_bytes ? opts->pack_target_bytes : DV_PACK_TARGET_BYTES_DEFAULT;
    /* A pack at the target is never small, or every run would merge it again. */
    uint64_t small = opts->merge_below_bytes < target ? opts->merge_below_bytes : target;
    uint64_t staying_bytes = 0, leaving_bytes = 0;
    new_packs plan = {0, 0, 0, 0};
    memset(out, 0, sizeof(*out));
    if (!packs)
        return dv_error_set(DV_ENOMEM, "out of memory");

    /* Which packs stay whole, which are rewritten, which go, which are merged. */
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
            kept += is_kept(opts, &e.id);
        }
        p->fate = p->mtime_ns >= opts->touch_before_ns ? PACK_STAYS
                  : kept == count ? (p->file_bytes < small ? PACK_MERGE : PACK_STAYS)
                  : kept          ? PACK_REWRITE
                                  : PACK_DROP;
    }
    /* In the order the packs were written: a pack names only objects of its own or of
     * packs written before it (the store's closure order, which push relies on). */
    qsort(packs, n_packs, sizeof(*packs), compare_mtime);

    /* The packs between two that stay (a run) become new packs in the run's place. A small
     * pack alone in its run has nothing to merge with. */
    for (size_t i = 0; i < n_packs;) {
        size_t end = i;
        while (end < n_packs && packs[end].fate != PACK_STAYS)
            end++;
        if (end == i + 1 && packs[i].fate == PACK_MERGE)
            packs[i].fate = PACK_STAYS;
        i = end > i ? end : i + 1;
    }
    for (size_t i = 0; i < n_packs; i++) {
        const plan_pack *p = &packs[i];
        if (p->fate == PACK_STAYS) {
            staying_bytes += p->file_bytes;
            out->packs_kept++;
        } else {
            leaving_bytes += p->file_bytes;
            out->packs_rewritten += p->fate == PACK_REWRITE;
            out->packs_merged += p->fate == PACK_MERGE;
            out->packs_deleted += p->fate == PACK_DROP;
        }
    }

    if (!opts->dry_run && !(dctx = ZSTD_createDCtx())) {
        error = dv_error_set(DV_ENOMEM, "out of memory for zstd");
        goto done;
    }
    for (size_t i = 0; i < n_packs; i++) {
        plan_pack *p = &packs[i];
        size_t count = dv_pack_count(p->pack), n = 0;
        if (p->fate == PACK_STAYS) {
            for (size_t j = 0; j < count; j++) {
                dv_pack_entry e;
                dv_pack_entry_at(p->pack, j, &e);
                if ((error = dv_oidset_add(&present, &e.id)) < 0)
                    goto done;
                error = 0;
            }
            continue;
        }
        /* in file order: a pack is read front to back, and keeps its own closure order */
        if ((error = dv_pack_entries_in_order(&entries, &entries_cap, &n, p->pack, want_kept,
                                              (void *)opts)) < 0)
            goto done;
        for (size_t j = 0; j < n; j++) {
            const dv_pack_entry *e = &entries[j];
            /* Skipped only when a pack before this one in the order holds it (one that
             * stays, or a copy made already): what names it comes after it still. */
            int added = dv_oidset_add(&present, &e->id);
            if (added < 0) {
                error = added;
                goto done;
            }
            if (!added)
                continue;
            int seal = new_packs_add(&plan, e, target);
            if (opts->dry_run)
                continue;
            if (!writer && (error = dv_pack_writer_new(&writer, dv_odb_tmp_dir(odb))) < 0)
                goto done;
            if ((error = copy_entry(writer, p->pack, e, &stored, &decoded, dctx)) < 0)
                goto done;
            writer_mtime_ns = p->mtime_ns;
            if (seal && (error = seal_writer(&writer, &written, &n_written, writer_mtime_ns, odb,
                                             &path)) < 0)
                goto done;
        }
        /* The run ends before a pack that stays: its new packs are sealed in its place. */
        if (i + 1 == n_packs || packs[i + 1].fate == PACK_STAYS) {
            new_packs_seal(&plan);
            if (writer && (error = seal_writer(&writer, &written, &n_written, writer_mtime_ns, odb,
                                               &path)) < 0)
                goto done;
        }
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
                                       dv_oid_hex(&written[i].id))) < 0)
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
                rewritten_as_is |= !memcmp(written[k].id.id, dv_pack_id(p->pack)->id, DV_OID_BYTES);
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
    out->objects_kept = dv_oidset_count(&present);
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
    dv_oidset_release(&present);
    dv_buf_release(&path);
    dv_buf_release(&stored);
    dv_buf_release(&decoded);
    return error;
}
