/*
 * chunkmap: where each chunk of a file manifest starts in that file, looked up by
 * chunk id, so a restore can take the chunks a new version shares with the old one
 * from the old file; what it reads from there is checked against the chunk ids.
 */
#ifndef DV_CHUNKMAP_H
#define DV_CHUNKMAP_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/object.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_chunkmap dv_chunkmap;

/** The map of m's chunks (m is not kept). Returns 0 or DV_ENOMEM. */
DV_NODISCARD int dv_chunkmap_new(dv_chunkmap **out, const dv_manifest *m);

/** 1 with *offset at the first place the chunk id starts in the file, else 0. */
DV_NODISCARD int dv_chunkmap_find(const dv_chunkmap *map, const dv_oid *id, uint64_t *offset);

/**
 * Read from fd, the file the map was made for, the chunks of wanted[0, n) that it holds,
 * a run of neighbours with one read, into buf (grown as needed), and keep those whose
 * bytes hash to their ids: found[i] = 1 and data[i] points into buf, valid until buf
 * changes. found[i] = 0 where the file does not hold the chunk, or no longer holds it
 * (changed, shorter, unreadable). Returns 0, or < 0 (DV_ENOMEM) with found all 0.
 */
DV_NODISCARD int dv_chunkmap_read(const dv_chunkmap *map, int fd, const dv_manifest_entry *wanted,
                                  size_t n, dv_buf *buf, int *found, const uint8_t **data);

void dv_chunkmap_free(dv_chunkmap *map);

#endif
