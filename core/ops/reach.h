/*
 * reach: walk the objects reachable from a set of roots (the ids in pointer files),
 * level by level: trees name trees, manifests and link chunks; manifests name chunks.
 * Objects the store lacks are handed to a fetch callback a whole level at a time, so
 * a remote can fetch them in few large requests before the walk reads them.
 */
#ifndef DV_REACH_H
#define DV_REACH_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/hash.h"
#include "storage/odb.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_reach_item {
    dv_oid id;
    uint8_t type;  /* DV_OBJ_* */
    uint32_t root; /* index of the root it was reached from (for messages) */
} dv_reach_item;

typedef struct dv_reach_ops {
    /** Make these objects, which the store lacks, present: 0; or 1 when it takes the chunks
     *  among them to bring after the walk (chunks name nothing, so the walk need not wait
     *  for them), whose arrival is then not checked here. NULL: a missing object is an
     *  error (DV_ENOTFOUND). */
    int (*fetch)(void *ctx, const dv_reach_item *items, size_t n);
    /** Bytes of a tree or manifest that fetch holds aside instead of storing (so that the
     *  store never has an object without what it names): 1 with out and type set, 0 to
     *  read it from the store. May be NULL. */
    int (*read)(void *ctx, const dv_reach_item *item, dv_buf *out, uint8_t *type);
    /** Without fetch: for an object the store lacks, 1 if it is known to be whole
     *  elsewhere, with all it names (on the remote a push goes to), so the walk neither
     *  visits it nor looks below it; 2 if read gives its bytes (a tree or manifest kept
     *  without what it names), so the walk looks below it without visiting it; 0 makes it
     *  an error. May be NULL. */
    int (*absent)(void *ctx, const dv_reach_item *item);
    /** Called once for every reachable object, once it is present. May be NULL. */
    int (*visit)(void *ctx, const dv_reach_item *item);
    /** What root names (a pointer file's path), for messages. */
    const char *(*root_name)(void *ctx, uint32_t root);
    void *ctx;
} dv_reach_ops;

DV_NODISCARD int dv_reach_walk(dv_odb *odb, const dv_reach_item *roots, size_t n_roots,
                               const dv_reach_ops *ops);

#endif
