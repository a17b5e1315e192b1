/* oidset: a set of object ids. */
#include "core/object/oidset.h"

#include "core/base/bytes.h"
#include "core/base/error.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const dv_oid *id, size_t cap)
{
    return (size_t)dv_get_be64(id->id) & (cap - 1);
}

static int grow(dv_oidset *set)
{
    size_t cap = set->cap ? set->cap * 2 : 1024;
    dv_oid *slots = malloc(cap * sizeof(*slots));
    unsigned char *used = calloc(cap, 1);
    if (!slots || !used) {
        free(slots);
        free(used);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < set->cap; i++) {
        if (!set->used[i])
            continue;
        size_t s = slot_of(&set->slots[i], cap);
        while (used[s])
            s = (s + 1) & (cap - 1);
        used[s] = 1;
        slots[s] = set->slots[i];
    }
    free(set->slots);
    free(set->used);
    set->slots = slots;
    set->used = used;
    set->cap = cap;
    return 0;
}

int dv_oidset_add(dv_oidset *set, const dv_oid *id)
{
    if ((set->n + 1) * 4 > set->cap * 3) { /* keep the load below 3/4 */
        int error = grow(set);
        if (error < 0)
            return error;
    }
    size_t s = slot_of(id, set->cap);
    while (set->used[s]) {
        if (!memcmp(set->slots[s].id, id->id, DV_OID_BYTES))
            return 0;
        s = (s + 1) & (set->cap - 1);
    }
    set->used[s] = 1;
    set->slots[s] = *id;
    set->n++;
    return 1;
}

int dv_oidset_has(const dv_oidset *set, const dv_oid *id)
{
    if (!set->cap)
        return 0;
    size_t s = slot_of(id, set->cap);
    while (set->used[s]) {
        if (!memcmp(set->slots[s].id, id->id, DV_OID_BYTES))
            return 1;
        s = (s + 1) & (set->cap - 1);
    }
    return 0;
}

size_t dv_oidset_count(const dv_oidset *set)
{
    return set->n;
}

void dv_oidset_release(dv_oidset *set)
{
    free(set->slots);
    free(set->used);
    memset(set, 0, sizeof(*set));
}
