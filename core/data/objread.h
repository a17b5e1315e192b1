/*
 * objread: objects read from the store and decoded in one step — file manifests,
 * manifest lists and their parts, trees — for every command that reads data back.
 */
#ifndef DV_OBJREAD_H
#define DV_OBJREAD_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/object.h"
#include "storage/odb.h"

/**
 * Read the file manifest id: a plain manifest goes to *m and list is left empty; a
 * manifest list goes to *list and m is left empty (its parts are read in turn with
 * dv_manifest_read_part). Errors as dv_manifest_read.
 */
DV_NODISCARD int dv_manifest_read_top(dv_manifest *m, dv_manifest_list *list, dv_buf *raw,
                                      dv_odb *odb, const dv_oid *id, const char *what);
/** Read part i of list (the list object list_id) into m, checked against the list. */
DV_NODISCARD int dv_manifest_read_part(dv_manifest *m, dv_buf *raw, dv_odb *odb,
                                       const dv_manifest_list *list, size_t i,
                                       const dv_oid *list_id, const char *what);
/** Read id from odb (verified) and decode it as a plain file manifest into out, which must be
 *  empty (a manifest list is DV_ECORRUPT here); raw is scratch. Returns 0, the store's error
 * (DV_ENOTFOUND when absent), or DV_ECORRUPT when the object is another type ("object ID for WHAT
 * is a TYPE, not a file manifest") or does not decode. */
DV_NODISCARD int dv_manifest_read(dv_manifest *out, dv_buf *raw, dv_odb *odb, const dv_oid *id,
                                  const char *what);

/** Read the tree id of the directory at relpath (for messages) and decode it into tree, which
 *  must be empty: DV_ENOTFOUND naming the path when the store lacks it (run dv fetch),
 *  DV_ECORRUPT when it is another type or does not decode. */
DV_NODISCARD int dv_tree_read(dv_tree *tree, dv_odb *odb, const dv_oid *id, const char *relpath);

#endif
