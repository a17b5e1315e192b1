/* fsck: verify every pack, object and reference in the store. */
#include "core/ops/fsck.h"

#include "core/base/error.h"
#include "core/object/object.h"
#include "storage/pack.h"

#include <stdarg.h>
#include <string.h>
#include <zstd.h>

typedef struct fsck_ctx {
    dv_fsck_problem_fn problem;
    void *ctx;
    dv_fsck_result *result;
    dv_fsck_bad_fn bad;
} fsck_ctx;

static void note_missing(fsck_ctx *f, const dv_oid *id, int type)
{
    if (f->bad)
        f->bad(f->ctx, NULL, id, type);
}

static void pack_problem(void *p, const dv_pack *pack, const dv_oid *object, const char *message)
{
    fsck_ctx *f = p;
    f->result->problems++;
    f->problem(f->ctx, dv_pack_path(pack), object, 0, message);
    if (f->bad)
        f->bad(f->ctx, dv_pack_path(pack), object, 0);
}

static void report(fsck_ctx *f, dv_pack *pack, const dv_oid *id, int type, const char *message)
{
    f->result->problems++;
    f->problem(f->ctx, dv_pack_path(pack), id, type, message);
}

/* report() with a message made from fmt in msg; DV_ENOMEM when it cannot be made. */
__attribute__((format(printf, 5, 6))) static int
reportf(fsck_ctx *f, dv_buf *msg, dv_pack *pack, const dv_pack_entry *e, const char *fmt, ...)
{
    va_list ap;
    dv_buf_clear(msg);
    va_start(ap, fmt);
    int error = dv_buf_vprintf(msg, fmt, ap);
    va_end(ap);
    if (error < 0)
        return error;
    report(f, pack, &e->id, e->type, msg->ptr);
    return 0;
}

static int check_refs(fsck_ctx *f, dv_odb *odb, dv_pack *pack, const dv_pack_entry *e,
                      const dv_buf *raw)
{
    int error = 0;
    dv_buf msg = DV_BUF_INIT;
    if (e->type == DV_OBJ_MANIFEST && dv_manifest_is_list(raw->ptr, raw->len)) {
        dv_manifest_list l;
        if (dv_manifest_list_decode(&l, raw->ptr, raw->len) < 0) {
            report(f, pack, &e->id, e->type, dv_error_last());
            return 0;
        }
        for (size_t i = 0; i < l.n_parts && !error; i++) {
            dv_pack *where;
            dv_pack_entry pe;
            if (!dv_odb_locate(&where, &pe, odb, &l.parts[i].id) || pe.type != DV_OBJ_MANIFEST) {
                note_missing(f, &l.parts[i].id, DV_OBJ_MANIFEST);
                error = reportf(f, &msg, pack, e,
                                "manifest list names part %zu, manifest %s, which is not in "
                                "the store",
                                i, dv_oid_hex(&l.parts[i].id));
            }
        }
        dv_manifest_list_release(&l);
    } else if (e->type == DV_OBJ_MANIFEST) {
        dv_manifest m = DV_MANIFEST_INIT;
        if (dv_manifest_decode(&m, raw->ptr, raw->len) < 0) {
            report(f, pack, &e->id, e->type, dv_error_last());
            return 0;
        }
        for (size_t i = 0; i < m.n_chunks && !error; i++) {
            dv_pack *where;
            dv_pack_entry ce;
            if (!dv_odb_locate(&where, &ce, odb, &m.chunks[i].id)) {
                note_missing(f, &m.chunks[i].id, DV_OBJ_CHUNK);
                error =
                    reportf(f, &msg, pack, e, "manifest names chunk %s, which is not in the store",
                            dv_oid_hex(&m.chunks[i].id));
            } else if (ce.raw_len != m.chunks[i].len || ce.type != DV_OBJ_CHUNK)
                error = reportf(
                    f, &msg, pack, e,
                    "manifest names chunk %s with length %u, but the store has a %s of %u bytes",
                    dv_oid_hex(&m.chunks[i].id), m.chunks[i].len, dv_object_type_name(ce.type),
                    ce.raw_len);
        }
        dv_manifest_release(&m);
    } else if (e->type == DV_OBJ_TREE) {
        dv_tree t = DV_TREE_INIT;
        if (dv_tree_decode(&t, raw->ptr, raw->len) < 0) {
            report(f, pack, &e->id, e->type, dv_error_last());
            return 0;
        }
        for (size_t i = 0; i < t.n_entries && !error; i++) {
            const dv_tree_entry *te = &t.entries[i];
            dv_pack *where;
            dv_pack_entry ce;
            int want = dv_object_type_of_mode(te->mode);
            if (!dv_odb_locate(&where, &ce, odb, &te->id) || ce.type != want) {
                note_missing(f, &te->id, want);
                error = reportf(f, &msg, pack, e,
                                "tree entry '%s' names %s %s, which is not in the store", te->name,
                                dv_object_type_name(want), dv_oid_hex(&te->id));
            }
        }
        dv_tree_release(&t);
    } else if (e->type != DV_OBJ_CHUNK) {
        report(f, pack, &e->id, e->type, "unknown object type");
    }
    dv_buf_release(&msg);
    return error;
}

/* An index without its pack: how many of the objects it lists no other pack holds. */
static int check_orphan(fsck_ctx *f, dv_odb *odb, size_t i, dv_fsck_orphan_fn orphan)
{
    dv_oid pack_id;
    const char *idx_path = dv_odb_orphan_index_at(odb, i, &pack_id);
    dv_pack *index = NULL;
    int error = dv_pack_open_index(&index, idx_path, idx_path, &pack_id, DV_PACK_BYTES_FROM_INDEX);
    if (error == DV_ENOMEM)
        return error;
    if (error < 0) {
        f->result->problems++;
        orphan(f->ctx, idx_path, 0, 0, dv_error_last());
        return 0;
    }
    uint64_t n = dv_pack_count(index), lost = 0;
    for (size_t k = 0; k < n; k++) {
        dv_pack_entry e, elsewhere;
        dv_pack *where;
        dv_pack_entry_at(index, k, &e);
        if (!dv_odb_locate(&where, &elsewhere, odb, &e.id)) {
            lost++;
            note_missing(f, &e.id, e.type);
        }
    }
    dv_pack_free(index);
    if (lost)
        f->result->problems++;
    else
        f->result->leftovers++;
    orphan(f->ctx, idx_path, n, lost, NULL);
    return 0;
}

int dv_fsck(dv_fsck_result *result, dv_odb *odb, dv_fsck_problem_fn problem,
            dv_fsck_orphan_fn orphan, dv_fsck_bad_fn bad, void *ctx)
{
    int error = 0;
    dv_buf stored = DV_BUF_INIT, raw = DV_BUF_INIT;
    fsck_ctx f = {problem, ctx, result, bad};
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    memset(result, 0, sizeof(*result));
    if (!dctx)
        return dv_error_set(DV_ENOMEM, "out of memory for zstd");
    for (size_t b = 0; b < dv_odb_broken_count(odb); b++) {
        result->problems++;
        problem(ctx, "", NULL, 0, dv_odb_broken_at(odb, b));
    }
    for (size_t o = 0; o < dv_odb_orphan_index_count(odb); o++)
        if ((error = check_orphan(&f, odb, o, orphan)) < 0)
            goto done;
    for (size_t p = 0; p < dv_odb_pack_count(odb); p++) {
        dv_pack *pack = dv_odb_pack_at(odb, p);
        result->packs++;
        int n = dv_pack_verify_structure(pack, pack_problem, &f);
        if (n < 0) {
            error = n;
            goto done;
        }
        for (size_t i = 0; i < dv_pack_count(pack); i++) {
            dv_pack_entry e;
            dv_pack_entry_at(pack, i, &e);
            result->objects++;
            result->bytes += e.raw_len;
            if (dv_pack_read_stored(&stored, pack, &e) < 0 ||
                dv_pack_decode(&raw, &e, stored.ptr, stored.len, dctx, dv_pack_path(pack)) < 0) {
                if (dv_error_last_code() == DV_EIO || dv_error_last_code() == DV_ENOMEM) {
                    error = dv_error_last_code();
                    goto done;
                }
                report(&f, pack, &e.id, e.type, dv_error_last());
                if (bad)
                    bad(ctx, dv_pack_path(pack), &e.id, e.type);
                continue;
            }
            if ((error = check_refs(&f, odb, pack, &e, &raw)) < 0)
                goto done;
        }
    }
done:
    ZSTD_freeDCtx(dctx);
    dv_buf_release(&stored);
    dv_buf_release(&raw);
    return error;
}
