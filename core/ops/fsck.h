/*
 * fsck: verify the store: every pack's checksum and index, every object's
 * hash, and that every manifest's chunks and every tree's entries exist.
 */
#ifndef DV_FSCK_H
#define DV_FSCK_H

#include "core/base/error.h"

#include "core/object/hash.h"
#include "core/object/oidset.h"
#include "core/repo/repo.h"
#include "storage/odb.h"

#include <stdint.h>

/** One problem: object may be NULL (a pack-level problem); type 0 when unknown; pack_path
 *  is "" for a pack that could not be opened at all (the message names it). */
typedef void (*dv_fsck_problem_fn)(void *ctx, const char *pack_path, const dv_oid *object, int type,
                                   const char *message);

/** An index whose pack file is gone: it lists objects, of which lost are in no other
 *  pack. lost 0 makes it a leftover, safe to remove; else the objects are lost from this
 *  store (a problem) until they are added or fetched again. message is set (and the
 *  counts 0) when the index itself cannot be read. */
typedef void (*dv_fsck_orphan_fn)(void *ctx, const char *idx_path, uint64_t objects, uint64_t lost,
                                  const char *message);

/** What needs a good copy: with pack_path NULL, the object id is missing (named by a manifest
 *  or tree, or listed by an index whose pack is gone and in no other pack); with both, id is
 *  damaged in that pack; with id NULL, the pack itself (its trailer or index). May be called
 *  more than once for one id. */
typedef void (*dv_fsck_bad_fn)(void *ctx, const char *pack_path, const dv_oid *id, int type);

typedef struct dv_fsck_result {
    uint64_t packs;
    uint64_t objects;
    uint64_t bytes;
    uint64_t problems;  /* includes indexes whose pack held objects now lost */
    uint64_t leftovers; /* indexes whose pack is gone but whose objects all are elsewhere */
} dv_fsck_result;

/** Check the store, calling problem for each problem, orphan for each index whose pack is
 *  gone, and bad (may be NULL) for what needs a good copy (all with ctx). Returns < 0
 *  only when the check itself could not go on. */
DV_NODISCARD int dv_fsck(dv_fsck_result *result, dv_odb *odb, dv_fsck_problem_fn problem,
                         dv_fsck_orphan_fn orphan, dv_fsck_bad_fn bad, void *ctx);

/** A path of the work tree's data (relative to its top) whose content needs id, an object
 *  of the bad set, of type (DV_OBJ_*). A negative return stops the walk. */
typedef int (*dv_fsck_path_fn)(void *ctx, const char *path, const dv_oid *id, int type);

/** The paths that need what fsck found bad: for each pointer file staged in git, walk its
 *  trees and manifests in the store and call fn once for each file, symlink or directory
 *  whose content needs an object of bad (the first one met; a directory only when its tree
 *  is bad). What the store cannot read and is not in bad is passed over. */
DV_NODISCARD int dv_fsck_paths(dv_repo *repo, dv_odb *odb, const dv_oidset *bad, dv_fsck_path_fn fn,
                               void *ctx);

#endif
