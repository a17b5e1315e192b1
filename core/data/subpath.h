/*
 * subpath: the object at a path inside a tracked directory (dv pull tree/d042/big.bin),
 * found one tree at a time from the directory's tree down. Each step reads one tree, so a
 * fetch can bring every level's trees in one batch before the next.
 */
#ifndef DV_SUBPATH_H
#define DV_SUBPATH_H

#include "core/base/error.h"

#include "core/object/object.h"
#include "core/object/pointer.h"
#include "storage/odb.h"

#include <stdint.h>

typedef struct dv_subpath {
    const char *path; /* the work-tree path asked for (lent) */
    const char *rest; /* inside path: the components still to look up; "" once found */
    dv_oid id;        /* the tree to look in next; once found, the object at path */
    uint8_t mode;     /* DV_MODE_DIR until found, then the entry's */
    uint64_t size;    /* once found: the entry's */
} dv_subpath;

/** Start at tree (the tracked directory's, the pointer's at data_relpath) for path, which lies
 *  inside it (data_relpath + "/" + more). */
void dv_subpath_start(dv_subpath *s, const char *path, const char *data_relpath,
                      const dv_oid *tree);

/** 1 once found (s->rest is empty). */
int dv_subpath_found(const dv_subpath *s);

/** One step down: look the next component up in t, the decoded tree s->id. DV_EUSAGE naming
 *  the path when t lacks it, or when a file or link stands where the path needs a
 *  directory. */
DV_NODISCARD int dv_subpath_step(dv_subpath *s, const dv_tree *t);

/** One step down, the tree s->id read from odb, or else from other (may be NULL):
 *  DV_ENOTFOUND naming the directory whose tree neither holds. */
DV_NODISCARD int dv_subpath_step_in(dv_subpath *s, dv_odb *odb, dv_odb *other);

/** Step until found, as dv_subpath_step_in steps. */
DV_NODISCARD int dv_subpath_resolve(dv_subpath *s, dv_odb *odb, dv_odb *other);

/** The pointer path, inside the directory dir (the pointer at data_relpath) names, would have
 *  (kind, oid, size, exec), found as dv_subpath_resolve finds it; DV_EUSAGE when dir is not a
 *  directory or path is one dv never writes. */
DV_NODISCARD int dv_subpath_pointer(dv_pointer *out, const char *path, const char *data_relpath,
                                    const dv_pointer *dir, dv_odb *odb, dv_odb *other);

#endif
