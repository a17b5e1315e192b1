/*
 * remote_check: whether what a remote holds is whole (dv fsck --remote). The packs are
 * listed; every index is downloaded again and checked, trailer included (a damaged one
 * replaces nothing in the cache); each pack's size is compared with the one its index
 * implies and its trailer with its id (one ranged read of 32 bytes). With full, every pack
 * is read from start to end: its header, each entry's header against the index, the
 * CRC-32C of its stored bytes and the SHA-256 of the decoded object, the trailer over the
 * headers, and that the entries tile the pack with nothing between them.
 */
#ifndef DV_REMOTE_CHECK_H
#define DV_REMOTE_CHECK_H

#include "core/base/error.h"

#include "core/base/pool.h"
#include "core/object/hash.h"
#include "remotes/remote.h"

#include <stdint.h>

typedef struct dv_remote_check_result {
    uint64_t packs;     /* packs checked (listed with their index) */
    uint64_t objects;   /* objects their indexes list */
    uint64_t bytes;     /* their packs' bytes (read whole with full) */
    uint64_t problems;  /* damaged or missing packs and indexes, and damaged objects */
    uint64_t leftovers; /* packs listed without an index: an interrupted or running upload */
} dv_remote_check_result;

/** One problem on the remote: the pack it is in, the object when the problem is one object's
 *  (type 0 when unknown), else NULL. Called from one thread at a time. */
typedef void (*dv_remote_check_problem_fn)(void *ctx, const dv_oid *pack, const dv_oid *object,
                                           int type, const char *message);

typedef struct dv_remote_check_options {
    int full;                           /* read every pack whole */
    const char *cache_dir;              /* the store directory: indexes are cached below it */
    dv_pool *pool;                      /* packs are checked on it, several at once */
    dv_remote_check_problem_fn problem; /* required */
    void (*progress)(void *ctx, uint64_t bytes_read); /* full: pack bytes read so far */
    void (*planned)(void *ctx, uint64_t bytes_to_read);
    void *ctx;
} dv_remote_check_options;

/** Check the remote. Returns < 0 only when the check itself could not go on (the listing
 *  failed, no memory); a pack or index that cannot be read is a problem reported. */
DV_NODISCARD int dv_remote_check(dv_remote_check_result *out, dv_remote *remote,
                                 const dv_remote_check_options *opts);

#endif
