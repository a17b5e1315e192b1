/*
 * fsck: verify the store: every pack's checksum and index, every object's
 * hash, and that every manifest's chunks and every tree's entries exist.
 */
#ifndef DV_FSCK_H
#define DV_FSCK_H

#include "hash.h"
#include "storage/odb.h"

#include <stdint.h>

/** One problem: object may be NULL (a pack-level problem); type 0 when unknown; pack_path
 *  is "" for a pack that could not be opened at all (the message names it). */
typedef void (*dv_fsck_problem_fn)(void *ctx, const char *pack_path, const dv_oid *object, int type,
                                   const char *message);

typedef struct dv_fsck_result {
    uint64_t packs;
    uint64_t objects;
    uint64_t bytes;
    uint64_t problems;
} dv_fsck_result;

int dv_fsck(dv_fsck_result *result, dv_odb *odb, dv_fsck_problem_fn problem, void *ctx);

#endif
