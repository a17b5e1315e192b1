/*
 * repack: delete from the store every object outside a set that is kept, by rewriting
 * only the packs that hold something else. A kept object's stored bytes are copied as
 * they are (never recompressed) once their CRC-32C and SHA-256 check; the new packs and
 * their indexes are durable before any old pack goes, and an old pack's index goes before
 * its pack, so a crash at any point leaves every kept object readable (at worst twice).
 */
#ifndef DV_REPACK_H
#define DV_REPACK_H

#include "core/base/error.h"

#include "core/object/oidset.h"
#include "storage/odb.h"

#include <stdint.h>

typedef struct dv_repack_options {
    const dv_oidset *keep;      /* the objects to keep */
    int64_t touch_before_ns;    /* only packs last modified before this (ns since the epoch)
                                   are rewritten or deleted; newer ones stay as they are */
    uint64_t pack_target_bytes; /* seal a new pack once it reaches this size (0: default) */
    int dry_run;                /* plan and count, change nothing */
} dv_repack_options;

typedef struct dv_repack_result {
    uint64_t objects_kept, objects_freed; /* distinct objects in the store after, and gone */
    uint64_t bytes_kept;                  /* bytes of the pack and index files after */
    int64_t bytes_freed;                  /* bytes of those files before, minus after */
    uint64_t packs_kept, packs_rewritten, packs_deleted, packs_written;
} dv_repack_result;

/**
 * Rewrite the store's sealed packs so that only the kept objects remain (objects of packs
 * too new to touch stay too). With dry_run, the result is what a run would do, to the
 * byte. Errors: DV_ECORRUPT naming the pack of an object that fails its checks (nothing is
 * deleted then), DV_EIO, DV_ENOMEM.
 */
DV_NODISCARD int dv_repack(dv_repack_result *out, dv_odb *odb, const dv_repack_options *opts);

#endif
