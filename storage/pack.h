/*
 * pack: the pack and index formats shared by the writing half (pack_write: temp file,
 * background writes, seal, index) and the reading half (pack_read: mmapped indexes,
 * entry reads and checks, verification). Including this header gives both halves.
 * Formats: docs/formats.md ("Pack file", "Pack index").
 */
#ifndef DV_PACK_H
#define DV_PACK_H

#include "core/object/hash.h"
#include "core/object/object.h"

#include <stddef.h>
#include <stdint.h>

#define DV_PACK_MAGIC "DVPK"
#define DV_INDEX_MAGIC "DVIX"
#define DV_PACK_VERSION 1
#define DV_PACK_HEADER_BYTES 8
#define DV_PACK_ENTRY_HEADER_BYTES 48
#define DV_PACK_ENTRY_CRC_OFFSET 44 /* the header bytes before it follow from the index */
#define DV_PACK_TRAILER_BYTES 32
#define DV_INDEX_HEADER_BYTES 44 /* magic, version, count, pack id */
#define DV_INDEX_FANOUT_BYTES 1024
#define DV_INDEX_RECORD_BYTES 20
#define DV_INDEX_TRAILER_BYTES 32

/* Entry flags */
enum {
    DV_PACK_RAW = 0,  /* stored bytes are the object bytes */
    DV_PACK_ZSTD = 1, /* stored bytes are one zstd frame */
};

typedef struct dv_pack_entry {
    dv_oid id;
    uint64_t offset; /* of the entry header in the pack file */
    uint32_t stored_len;
    uint32_t raw_len;
    uint8_t type;
    uint8_t flags;
} dv_pack_entry;

/** The first DV_PACK_ENTRY_CRC_OFFSET bytes of an entry header (everything but the CRC). */
void dv_pack__encode_entry_header(uint8_t out[DV_PACK_ENTRY_HEADER_BYTES], const dv_pack_entry *e);

/* Both halves, for callers that use the whole pack API; each includes this header first. */
#include "storage/pack_read.h"
#include "storage/pack_write.h"

#endif
