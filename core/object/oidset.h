/*
 * oidset: a set of object ids (open addressing; ids are uniformly random, so their
 * leading bytes are the hash).
 */
#ifndef DV_OIDSET_H
#define DV_OIDSET_H

#include "core/base/error.h"

#include "core/object/hash.h"

#include <stddef.h>

typedef struct dv_oidset {
    dv_oid *slots;
    unsigned char *used;
    size_t n, cap; /* cap is 0 or a power of two */
} dv_oidset;

#define DV_OIDSET_INIT                                                                             \
    {                                                                                              \
        NULL, NULL, 0, 0                                                                           \
    }

/** Add id: 1 if it was new, 0 if already there, < 0 on error. */
DV_NODISCARD int dv_oidset_add(dv_oidset *set, const dv_oid *id);
/** 1 if id is in the set. */
DV_NODISCARD int dv_oidset_has(const dv_oidset *set, const dv_oid *id);
size_t dv_oidset_count(const dv_oidset *set);
void dv_oidset_release(dv_oidset *set);

#endif
