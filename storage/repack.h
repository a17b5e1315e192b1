/*
 * repack: delete from the store every object outside a set that is kept, by rewriting
 * only the packs that hold something else, and merge small packs into packs of the target
 * size. A kept object's stored bytes are copied as they are (never recompressed) once their
 * CRC-32C and SHA-256 check; the new packs and their indexes are durable before any old
 * pack goes, and an old pack's index goes before its pack, so a crash at any point leaves
 * every kept object readable (at worst twice). New packs take the place of the packs they
 * replace in the order of writing (their modification time), so a pack still names only
 * objects of its own or of packs before it.
 */
#ifndef DV_REPACK_H
#define DV_REPACK_H

#include "core/base/error.h"

#include "core/object/oidset.h"
#include "storage/odb.h"

#include <stdint.h>

typedef struct dv_repack_options {
    const dv_oidset *keep;      /* the objects to keep; NULL: every object */
    int64_t touch_before_ns;    /* only packs last modified before this (ns since the epoch)
                                   are rewritten or deleted; newer ones stay as they are */
    uint64_t pack_target_bytes; /* seal a new pack once it reaches this size (0: default) */
    int dry_run;                /* plan and count, change nothing */
    uint64_t merge_below_bytes; /* packs (with index) smaller than this, and than the
                                   target, are merged with their neighbours in the order of
                                   writing; 0: none */
    const dv_oidset *remove;    /* objects not kept even when keep holds them (or is NULL);
                                   may be NULL */
} dv_repack_options;

typedef struct dv_repack_result {
    uint64_t objects_kept, objects_freed; /* distinct objects in the store after, and gone */
    uint64_t bytes_kept;                  /* bytes of the pack and index files after */
    int64_t bytes_freed;                  /* bytes of those files before, minus after */
    uint64_t packs_kept, packs_merged, packs_rewritten, packs_deleted, packs_written;
} dv_repack_result;

/**
 * Rewrite the store's sealed packs so that only the kept objects remain (objects of packs
 * too new to touch stay too), and merge runs of small packs: the packs between two that stay
 * whole are rewritten together, in the order they were written, into packs of the target
 * size (a small pack alone between two that stay is left as it is). With dry_run, the result is
 * what a run would do, to the byte. Errors: DV_ECORRUPT naming the pack of an object that fails its
 * checks (nothing is deleted then), DV_EIO, DV_ENOMEM.
 */
DV_NODISCARD int dv_repack(dv_repack_result *out, dv_odb *odb, const dv_repack_options *opts);

#endif
