/*
 * objread: read an object from the store and decode it as a file manifest, a manifest
 * list or one of its parts, checked against what holds it.
 */
#include "core/data/objread.h"

#include "core/base/error.h"

/* Read id (verified by the store) into raw; DV_ECORRUPT unless it is a manifest. */
static int read_manifest_object(dv_buf *raw, dv_odb *odb, const dv_oid *id, const char *what)
{
    int error;
    uint8_t type = 0;
    if ((error = dv_odb_read(raw, &type, odb, id)) < 0)
        return error;
    if (type != DV_OBJ_MANIFEST)
        return dv_error_set(DV_ECORRUPT, "object %s for %s is a %s, not a file manifest",
                            dv_oid_hex(id), what, dv_object_type_name(type));
    return 0;
}

int dv_manifest_read_top(dv_manifest *m, dv_manifest_list *list, dv_buf *raw, dv_odb *odb,
                         const dv_oid *id, const char *what)
{
    *m = (dv_manifest)DV_MANIFEST_INIT;
    *list = (dv_manifest_list)DV_MANIFEST_LIST_INIT;
    int error = read_manifest_object(raw, odb, id, what);
    if (error < 0)
        return error;
    if (dv_manifest_is_list(raw->ptr, raw->len))
        error = dv_manifest_list_decode(list, raw->ptr, raw->len);
    else
        error = dv_manifest_decode(m, raw->ptr, raw->len);
    if (error < 0)
        error = dv_error_wrap(error, "%s (manifest %s)", what, dv_oid_hex(id));
    return error;
}

int dv_manifest_read_part(dv_manifest *m, dv_buf *raw, dv_odb *odb, const dv_manifest_list *list,
                          size_t i, const dv_oid *list_id, const char *what)
{
    dv_manifest_release(m);
    int error = dv_manifest_read(m, raw, odb, &list->parts[i].id, what);
    if (!error)
        error = dv_manifest_list_check_part(list, i, m, list_id);
    return error;
}

int dv_manifest_read(dv_manifest *out, dv_buf *raw, dv_odb *odb, const dv_oid *id, const char *what)
{
    int error = read_manifest_object(raw, odb, id, what);
    if (error < 0)
        return error;
    if (dv_manifest_is_list(raw->ptr, raw->len))
        return dv_error_set(DV_ECORRUPT,
                            "object %s for %s is a manifest list, not a plain manifest",
                            dv_oid_hex(id), what);
    return dv_manifest_decode(out, raw->ptr, raw->len);
}

int dv_tree_read(dv_tree *tree, dv_odb *odb, const dv_oid *id, const char *relpath)
{
    dv_buf raw = DV_BUF_INIT;
    uint8_t type = 0;
    int error = dv_odb_read(&raw, &type, odb, id);
    if (error == DV_ENOTFOUND)
        error = dv_error_set(DV_ENOTFOUND, "%s/: its tree %s is not in the store (run dv fetch)",
                             relpath, dv_oid_hex(id));
    else if (error < 0)
        error = dv_error_wrap(error, "%s/ (tree %s)", relpath, dv_oid_hex(id));
    else if (type != DV_OBJ_TREE)
        error = dv_error_set(DV_ECORRUPT, "%s/: object %s is a %s, not a tree", relpath,
                             dv_oid_hex(id), dv_object_type_name(type));
    else if ((error = dv_tree_decode_in(tree, raw.ptr, raw.len, relpath)) < 0)
        error = dv_error_wrap(error, "%s/ (tree %s)", relpath, dv_oid_hex(id));
    dv_buf_release(&raw);
    return error;
}
