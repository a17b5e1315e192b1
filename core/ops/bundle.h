/*
 * bundle (operation): dv bundle create, verify, unbundle and list. A bundle holds the
 * objects the chosen revisions' pointer files reach (below the chosen paths), minus, with
 * a base (--since), what the base reaches; their stored bytes are copied from the store's
 * packs as they are, each checked by its CRC-32C and SHA-256, into new packs. Verify and
 * unbundle check the whole-file checksum, the table, every pack and index, every object's
 * SHA-256, and that the bundle's roots are complete with what the store holds; unbundle then
 * moves the packs into the store (each pack before its index), adding nothing when a check
 * fails. Format: docs/formats.md ("Bundle").
 */
#ifndef DV_OPS_BUNDLE_H
#define DV_OPS_BUNDLE_H

#include "core/base/error.h"

#include "core/repo/repo.h"
#include "storage/bundle.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_bundle_create_options {
    const char *const *revs; /* revision specs, as dv_rev_resolve takes them */
    size_t n_revs;
    int all_branches, all_tags; /* every refs/heads/ and refs/tags/ (peeling to a commit) */
    const char *const *since;   /* bases: what they reach is left out */
    size_t n_since;
    const char *const *paths; /* work-tree data paths; none: all */
    size_t n_paths;
} dv_bundle_create_options;

typedef struct dv_bundle_summary {
    uint64_t packs;
    uint64_t objects;      /* in the bundle's packs */
    uint64_t pack_bytes;   /* of its packs and indexes */
    uint64_t bundle_bytes; /* of the whole file */
    uint64_t roots;
    uint64_t roots_in_store; /* verify/unbundle: roots the store supplies (not in the bundle) */
    uint64_t packs_added;    /* unbundle: packs the store did not have yet */
} dv_bundle_summary;

/** Write the bundle of opts at path (through a temp file beside it, fsynced and renamed into
 *  place). DV_EUSAGE for revisions or paths that name nothing; DV_ENOTFOUND naming what the
 *  store lacks (fetch it first). The caller holds the lock. */
DV_NODISCARD int dv_bundle_create(dv_bundle_summary *out, dv_repo *repo, const char *path,
                                  const dv_bundle_create_options *opts);

/** Check the bundle at path entirely (see above) against the store; with apply, then move its
 *  packs into the store. DV_ECORRUPT naming what is wrong, DV_ENOTFOUND when the store lacks
 *  what an incremental bundle builds on (naming the base revision); nothing is added then.
 *  The caller holds the lock, with the store's gc lock exclusive (the packs are checked in
 *  <cache>/unbundle/). */
DV_NODISCARD int dv_bundle_check(dv_bundle_summary *out, dv_repo *repo, const char *path,
                                 int apply);

/** One pack of a bundle, for dv bundle list. */
typedef struct dv_bundle_pack_info {
    dv_oid id;
    uint64_t pack_bytes, index_bytes;
    uint32_t objects; /* the count its index's header gives */
} dv_bundle_pack_info;

/** Open the bundle at path (header and table checked, not the checksum) and describe its
 *  packs: *packs (malloc'd, one per pack, in the table's order). Free the bundle with
 *  dv_bundle_free and packs with free. */
DV_NODISCARD int dv_bundle_describe(dv_bundle **bundle, dv_bundle_pack_info **packs,
                                    const char *path);

#endif
