/* cat: one tracked file's bytes from the store (cat.h). */
#include "core/ops/cat.h"

#include "core/base/buf.h"
#include "core/data/objread.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/ls.h"

#include <string.h>

typedef struct cat_range {
    dv_odb *odb;
    const char *path;
    uint64_t start, end; /* the bytes wanted, end exclusive */
    dv_cat_write_fn fn;
    void *ctx;
    dv_buf chunk;
} cat_range;

/* The chunks of m, which begins at byte base of the file, that overlap the range. */
static int write_manifest(cat_range *r, const dv_manifest *m, uint64_t base)
{
    uint64_t pos = base;
    int error = 0;
    for (size_t i = 0; i < m->n_chunks && pos < r->end; i++) {
        const dv_manifest_entry *c = &m->chunks[i];
        uint64_t next = pos + c->len;
        if (next <= r->start) {
            pos = next;
            continue;
        }
        uint8_t type = 0;
        dv_buf_truncate(&r->chunk, 0);
        error = dv_odb_read(&r->chunk, &type, r->odb, &c->id);
        if (error == DV_ENOTFOUND)
            return dv_error_set(DV_ENOTFOUND,
                                "%s: its chunk %s at offset %llu is not in the store (run dv "
                                "fetch)",
                                r->path, dv_oid_hex(&c->id), (unsigned long long)pos);
        if (error < 0)
            return dv_error_wrap(error, "%s: chunk %s", r->path, dv_oid_hex(&c->id));
        if (type != DV_OBJ_CHUNK || r->chunk.len != c->len)
            return dv_error_set(DV_ECORRUPT,
                                "%s: chunk %s is a %s of %zu bytes, the manifest says a chunk "
                                "of %u (run dv fsck)",
                                r->path, dv_oid_hex(&c->id), dv_object_type_name(type),
                                r->chunk.len, c->len);
        uint64_t from = r->start > pos ? r->start - pos : 0;
        uint64_t to = r->end < next ? r->end - pos : c->len;
        if ((error = r->fn(r->ctx, r->chunk.ptr + from, (size_t)(to - from))) < 0)
            return error;
        pos = next;
    }
    return 0;
}

int dv_cat(dv_repo *repo, dv_rev *rev, const char *path, uint64_t offset, uint64_t length,
           dv_cat_write_fn fn, void *ctx)
{
    dv_ls_entry e;
    dv_manifest m = DV_MANIFEST_INIT;
    dv_manifest_list list = DV_MANIFEST_LIST_INIT;
    dv_buf raw = DV_BUF_INIT;
    cat_range r = {NULL, path, offset, 0, fn, ctx, DV_BUF_INIT};
    int error = 0;
    if ((error = dv_ls_find(&e, repo, rev, path)) < 0 || (error = dv_repo_odb(&r.odb, repo)) < 0)
        goto done;
    if (e.kind != DV_KIND_FILE) {
        error = dv_error_set(DV_EUSAGE, "%s is a %s, not a file%s", path,
                             e.kind == DV_KIND_DIR ? "directory" : "symbolic link",
                             e.kind == DV_KIND_DIR ? " (list it with dv ls)" : "");
        goto done;
    }
    r.end = length > e.size || offset > e.size - length ? e.size : offset + length;
    if (r.start >= r.end)
        goto done;
    error = dv_manifest_read_top(&m, &list, &raw, r.odb, &e.id, path);
    if (error == DV_ENOTFOUND) {
        error = dv_error_set(DV_ENOTFOUND, "%s: its manifest %s is not in the store (run dv fetch)",
                             path, dv_oid_hex(&e.id));
        goto done;
    }
    if (error < 0)
        goto done;
    uint64_t total = list.n_parts ? list.size : m.size;
    if (total != e.size) {
        error = dv_error_set(
            DV_ECORRUPT, "%s: its manifest %s holds %llu bytes, its pointer or tree says %llu",
            path, dv_oid_hex(&e.id), (unsigned long long)total, (unsigned long long)e.size);
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
            if ((error = dv_manifest_read_part(&m, &raw, r.odb, &list, i, &e.id, path)) < 0)
                break;
            error = write_manifest(&r, &m, base);
        }
        base = next;
    }
done:
    dv_buf_release(&r.chunk);
    dv_buf_release(&raw);
    dv_manifest_release(&m);
    dv_manifest_list_release(&list);
    return error;
}
