/* fsck: verify every pack, object and reference in the store. */
#include "core/ops/fsck.h"

#include "core/base/error.h"
#include "core/data/objread.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/checkout.h"
#include "core/repo/rev.h"
#include "core/repo/worktree.h"
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

/* ---- the paths that need what is bad ---- */

typedef struct path_walk {
    dv_odb *odb;
    const dv_oidset *bad;
    dv_oidset clean; /* trees and manifests known to need nothing bad */
    dv_fsck_path_fn fn;
    void *ctx;
    dv_buf raw;
    uint64_t found; /* paths reported */
} path_walk;

static int report_path(path_walk *pw, const char *path, const dv_oid *id, int type)
{
    pw->found++;
    return pw->fn(pw->ctx, path, id, type);
}

/* The first bad chunk of plain manifest m, or NULL. */
static const dv_oid *bad_chunk(const path_walk *pw, const dv_manifest *m)
{
    for (size_t i = 0; i < m->n_chunks; i++)
        if (dv_oidset_has(pw->bad, &m->chunks[i].id))
            return &m->chunks[i].id;
    return NULL;
}

/* The file at path whose manifest (or manifest list) is id. */
static int walk_file(path_walk *pw, const dv_oid *id, const char *path)
{
    if (dv_oidset_has(pw->bad, id))
        return report_path(pw, path, id, DV_OBJ_MANIFEST);
    if (dv_oidset_has(&pw->clean, id))
        return 0;
    dv_manifest m = DV_MANIFEST_INIT, part = DV_MANIFEST_INIT;
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    const dv_oid *hit = NULL;
    int type = DV_OBJ_CHUNK, error = dv_manifest_read_top(&m, &list, &pw->raw, pw->odb, id, path);
    if (error < 0) {
        dv_error_clear(); /* unreadable but not bad: nothing to say here */
        error = 0;
        goto done;
    }
    hit = bad_chunk(pw, &m);
    for (size_t i = 0; !hit && i < list.n_parts; i++) {
        if (dv_oidset_has(pw->bad, &list.parts[i].id)) {
            hit = &list.parts[i].id;
            type = DV_OBJ_MANIFEST;
            break;
        }
        dv_manifest_release(&part);
        part = (dv_manifest)DV_MANIFEST_INIT;
        if (dv_manifest_read_part(&part, &pw->raw, pw->odb, &list, i, id, path) < 0) {
            dv_error_clear();
            continue;
        }
        hit = bad_chunk(pw, &part);
    }
    if (hit) {
        dv_oid found = *hit;
        error = report_path(pw, path, &found, type);
    } else {
        error = dv_oidset_add(&pw->clean, id) < 0 ? DV_ENOMEM : 0;
    }
done:
    dv_manifest_release(&m);
    dv_manifest_release(&part);
    dv_manifest_list_release(&list);
    return error < 0 ? error : 0;
}

static int walk_dir(path_walk *pw, const dv_oid *id, const char *path, unsigned depth)
{
    if (dv_oidset_has(pw->bad, id))
        return report_path(pw, path, id, DV_OBJ_TREE);
    if (dv_oidset_has(&pw->clean, id) || depth > DV_CHECKOUT_MAX_DEPTH)
        return 0;
    dv_tree tree = DV_TREE_INIT;
    dv_buf child = DV_BUF_INIT;
    uint64_t before = pw->found;
    int error = dv_tree_read(&tree, pw->odb, id, path);
    if (error < 0) {
        dv_error_clear();
        return 0;
    }
    for (size_t i = 0; !error && i < tree.n_entries; i++) {
        const dv_tree_entry *e = &tree.entries[i];
        if ((error = dv_worktree_child(&child, path, e->name)) < 0)
            break;
        if (e->mode == DV_MODE_DIR)
            error = walk_dir(pw, &e->id, child.ptr, depth + 1);
        else if (e->mode == DV_MODE_SYMLINK)
            error = dv_oidset_has(pw->bad, &e->id)
                        ? report_path(pw, child.ptr, &e->id, DV_OBJ_CHUNK)
                        : 0;
        else
            error = walk_file(pw, &e->id, child.ptr);
    }
    if (!error && pw->found == before && dv_oidset_add(&pw->clean, id) < 0)
        error = dv_error_set(DV_ENOMEM, "out of memory");
    dv_buf_release(&child);
    dv_tree_release(&tree);
    return error;
}

static int walk_pointer(void *ctx, const char *data_relpath, const dv_pointer *pointer)
{
    path_walk *pw = ctx;
    if (pointer->kind == DV_KIND_DIR)
        return walk_dir(pw, &pointer->oid, data_relpath, 0);
    if (pointer->kind == DV_KIND_SYMLINK)
        return dv_oidset_has(pw->bad, &pointer->oid)
                   ? report_path(pw, data_relpath, &pointer->oid, DV_OBJ_CHUNK)
                   : 0;
    return walk_file(pw, &pointer->oid, data_relpath);
}

/* A pointer file that cannot be read names no object: it is not fsck's to report. */
static int skip_bad_pointer(void *ctx, const char *message)
{
    (void)ctx;
    (void)message;
    return 0;
}

int dv_fsck_paths(dv_repo *repo, dv_odb *odb, const dv_oidset *bad, dv_fsck_path_fn fn, void *ctx)
{
    path_walk pw = {odb, bad, DV_OIDSET_INIT, fn, ctx, DV_BUF_INIT, 0};
    int error = dv_oidset_count(bad) ? dv_revset_each_pointer(repo, NULL, NULL, 0, walk_pointer,
                                                              skip_bad_pointer, &pw)
                                     : 0;
    dv_oidset_release(&pw.clean);
    dv_buf_release(&pw.raw);
    return error;
}
