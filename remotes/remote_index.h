/*
 * remote_index: what a remote holds, learned from the indexes of its packs. One list
 * request names the packs; each index not seen before is downloaded once, checked and
 * kept in <cache>/remotes/<key>/ (key: from the remote's URL), so later pushes and
 * pulls download only the indexes of packs that are new on the remote.
 */
#ifndef DV_REMOTE_INDEX_H
#define DV_REMOTE_INDEX_H

#include "core/base/error.h"

#include "core/base/pool.h"
#include "core/object/hash.h"
#include "remotes/remote.h"
#include "storage/pack.h"

#include <stdint.h>

typedef struct dv_remote_index dv_remote_index;

/** What a listing of packs/ says of one pack id: which of its two names it lists, and their
 *  sizes (DV_REMOTE_SIZE_UNKNOWN when the remote does not say). */
typedef struct dv_remote_listed {
    dv_oid id;
    uint64_t pack_bytes, idx_bytes;
    int has_pack, has_idx;
    int64_t modified; /* the later of the two names' times (DV_REMOTE_TIME_UNKNOWN when the
                         listing does not say) */
} dv_remote_listed;

typedef struct dv_remote_listing {
    dv_remote_listed *packs;
    size_t n, alloc;
} dv_remote_listing;

/** List the remote's packs/ (names that are not a pack or an index are skipped). */
DV_NODISCARD int dv_remote_list_packs(dv_remote_listing *out, dv_remote *remote);
void dv_remote_listing_release(dv_remote_listing *listing);

/** Download the index of the listed pack p into out and check it, trailer included. */
DV_NODISCARD int dv_remote_read_index(dv_buf *out, dv_remote *remote, const dv_remote_listed *p);
/** Open the cached copy of the listed pack p's index (checked when it was downloaded):
 *  DV_ENOTFOUND when there is none. */
DV_NODISCARD int dv_remote_index_open_cached(dv_pack **out, dv_remote *remote,
                                             const char *cache_dir, const dv_remote_listed *p);
/** dv_remote_read_index, then keep the index in the cache under cache_dir in place of the
 *  copy there, and open it (its pack is the remote's, of the listed size). */
DV_NODISCARD int dv_remote_index_refresh(dv_pack **out, dv_remote *remote, const char *cache_dir,
                                         const dv_remote_listed *p);

/** List the remote's packs and bring their indexes into the cache under cache_dir,
 *  downloading new ones on pool. */
DV_NODISCARD int dv_remote_index_load(dv_remote_index **out, dv_remote *remote,
                                      const char *cache_dir, dv_pool *pool);
/** As dv_remote_index_load, leaving out the packs skip names (damaged ones being repaired);
 *  their cached indexes are kept. */
DV_NODISCARD int dv_remote_index_load_except(dv_remote_index **out, dv_remote *remote,
                                             const char *cache_dir, dv_pool *pool,
                                             const dv_oid *skip, size_t n_skip);
/** What the cache under cache_dir last learned of the remote, without a request: every
 *  cached index (each checked when it was downloaded), whatever the remote holds now. */
DV_NODISCARD int dv_remote_index_load_cached(dv_remote_index **out, dv_remote *remote,
                                             const char *cache_dir);
void dv_remote_index_free(dv_remote_index *index);

/** 1 with the pack (index only) and entry if the remote has id, else 0. */
DV_NODISCARD int dv_remote_index_find(dv_remote_index *index, const dv_oid *id, dv_pack **pack,
                                      dv_pack_entry *entry);
size_t dv_remote_index_pack_count(const dv_remote_index *index);
/** The index of the i-th pack (lent, valid as long as index) and the time its listing said
 *  it was written (DV_REMOTE_TIME_UNKNOWN when it did not say; INT64_MAX for a pack this
 *  command uploaded). */
dv_pack *dv_remote_index_pack_at(const dv_remote_index *index, size_t i, int64_t *modified);
/** As dv_remote_index_find, counting only packs whose time is unknown or at or after since:
 *  those that dv gc --remote leaves alone when its cutoff is since (see docs/formats.md). */
DV_NODISCARD int dv_remote_index_find_since(dv_remote_index *index, const dv_oid *id,
                                            int64_t since);

/** Record a pack this command has just uploaded (its index is copied into the cache). */
DV_NODISCARD int dv_remote_index_add(dv_remote_index *index, const char *idx_path,
                                     const dv_oid *pack_id, uint64_t pack_bytes);

/** Upload dir/<id>.pack, then dir/<id>.idx (the commit point), adding their sizes to *bytes
 *  (may be NULL). */
DV_NODISCARD int dv_remote_put_pack(dv_remote *remote, const char *dir, const dv_oid *id,
                                    uint64_t *bytes);

/** Remote object names of a pack and of its index ("packs/<hex>.pack", ".idx"). */
DV_NODISCARD int dv_remote_pack_name(dv_buf *out, const dv_oid *pack_id, const char *suffix);

#endif
