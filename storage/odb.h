/*
 * odb: the object database over a cache directory: sealed packs (looked up
 * through their mmapped indexes) plus at most one unsealed pack being written.
 * Lookups and reads are thread-safe; writes come from one thread at a time.
 * Layout: <cache>/packs/<id>.pack, <cache>/packs/<id>.idx, <cache>/tmp/.
 */
#ifndef DV_ODB_H
#define DV_ODB_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/hash.h"
#include "storage/pack.h"

#include <stdint.h>

#define DV_PACK_TARGET_BYTES_DEFAULT (64ull * 1024 * 1024)
#define DV_PACK_TARGET_BYTES_MAX (4ll * 1024 * 1024 * 1024)
/* dv gc merges packs smaller than this (pack.minSize) */
#define DV_PACK_MIN_BYTES_DEFAULT (16ull * 1024 * 1024)

typedef struct dv_odb dv_odb;

typedef struct dv_odb_options {
    int compression_level;      /* zstd level; 0 = default */
    uint64_t pack_target_bytes; /* seal a pack once it reaches this size; 0 = default */
} dv_odb_options;

typedef struct dv_odb_stats {
    uint64_t objects_added;
    uint64_t raw_bytes_added;    /* object bytes of the added objects */
    uint64_t stored_bytes_added; /* bytes appended to packs (after compression, with headers) */
    uint64_t packs_written;
} dv_odb_stats;

/** Open (and create if needed) the store in cache_dir. */
DV_NODISCARD int dv_odb_open(dv_odb **out, const char *cache_dir, const dv_odb_options *opts);
/** Free the odb; an unsealed pack is abandoned (call dv_odb_flush first to keep it). */
void dv_odb_free(dv_odb *odb);

/** 1 if the store has id, 0 if not. Thread-safe. */
DV_NODISCARD int dv_odb_has(dv_odb *odb, const dv_oid *id);
/** Read and verify an object. type may be NULL. DV_ENOTFOUND if absent. Thread-safe. */
DV_NODISCARD int dv_odb_read(dv_buf *out, uint8_t *type, dv_odb *odb, const dv_oid *id);
/** As dv_odb_read, but an object from a sealed pack is checked by its entry's CRC-32C
 *  instead of being re-hashed: for restoring large files, where SHA-256 would cost more
 *  than the copy. fsck and every other read re-hash. */
DV_NODISCARD int dv_odb_read_crc_checked(dv_buf *out, uint8_t *type, dv_odb *odb, const dv_oid *id);
/** Turn the stored bytes of entry e, read by the caller and checked with
 *  dv_pack_check_entry, into object bytes (with this thread's zstd context). where names
 *  the pack for messages. */
DV_NODISCARD int dv_odb_unpack(dv_buf *out, const dv_pack_entry *e, const void *stored,
                               size_t stored_len, const char *where);
/** Compress (at the odb's level) and store an object unless present. *added (may be NULL) says
 * which. */
DV_NODISCARD int dv_odb_put(dv_odb *odb, const dv_oid *id, uint8_t type, const void *data,
                            size_t len, int *added);
/** Hash, then put; the id goes to id_out. */
DV_NODISCARD int dv_odb_put_hashed(dv_oid *id_out, dv_odb *odb, uint8_t type, const void *data,
                                   size_t len, int *added);
/** Store an entry already compressed by the caller, unless present; crc is dv_crc32c of
 *  the stored bytes. */
DV_NODISCARD int dv_odb_put_stored(dv_odb *odb, const dv_oid *id, uint8_t type, uint32_t raw_len,
                                   uint8_t flags, const void *stored, uint32_t stored_len,
                                   uint32_t crc, int *added);
/** Remove leftovers of interrupted writes: temp files in tmp/ and packs/, and packs whose
 *  index was never written, except those a live writer holds (a pack writer keeps a flock
 *  on its pack until its index is written: another worktree or clone sharing the store may
 *  be writing one now). */
DV_NODISCARD int dv_odb_remove_stale_tmp(dv_odb *odb);
/** <cache>/tmp, where packs are written before they are sealed. */
const char *dv_odb_tmp_dir(const dv_odb *odb);

/** Bring these objects, which neither store holds, into the alternate (see below). */
typedef int (*dv_odb_fetch_fn)(void *ctx, const dv_oid *ids, size_t n);

/** Make reads (has, locate, read) that miss odb look in alternate next, and a read that
 *  misses both call fetch (when not NULL) for the object, then look in odb and alternate
 *  again (fetch may bring it into either: a fetch running beside the reads stores into odb).
 *  Writes never go to alternate. For one command's duration: alternate must outlive the
 *  reads, and fetch must be thread-safe. NULL detaches. */
void dv_odb_set_alternate(dv_odb *odb, dv_odb *alternate, dv_odb_fetch_fn fetch, void *ctx);
/** Whether reads that miss fetch (a fetch function is attached). */
int dv_odb_fetches(const dv_odb *odb);
/** Fetch, as one batch, those of ids that neither odb nor its alternate holds (nothing
 *  without a fetch function). */
DV_NODISCARD int dv_odb_prefetch(dv_odb *odb, const dv_oid *ids, size_t n);

/**
 * Move the sealed packs of staging (a store of its own in the same file system, flushed) into
 * odb: for each, the pack file, then its index (the commit point), then a sync of odb's packs
 * directory. Each pack is held by an flock while it moves, so a cleanup of leftovers by another
 * process sharing the store never takes it for a pack whose index was never written. The packs
 * are then read through odb. On failure, packs moved whole stay in odb, the rest in staging.
 */
DV_NODISCARD int dv_odb_adopt_packs(dv_odb *odb, dv_odb *staging);

/** Seal the unsealed pack, if any, making everything written durable. */
DV_NODISCARD int dv_odb_flush(dv_odb *odb);

DV_NODISCARD int dv_odb_compression_level(const dv_odb *odb);
const char *dv_odb_packs_dir(const dv_odb *odb);
void dv_odb_stats_get(const dv_odb *odb, dv_odb_stats *out);

/** Packs whose index could not be opened (their objects are not visible): messages
 *  naming each one, for fsck. */
size_t dv_odb_broken_count(const dv_odb *odb);
const char *dv_odb_broken_at(const dv_odb *odb, size_t i);

/** Indexes whose pack file is gone (deleted or lost outside dv: dv writes a pack before
 *  its index): not part of the store, kept for fsck to report. The index's path, and the
 *  pack's id into *pack_id. */
size_t dv_odb_orphan_index_count(const dv_odb *odb);
const char *dv_odb_orphan_index_at(const dv_odb *odb, size_t i, dv_oid *pack_id);

/** Sealed packs, for fsck and gc. Lent until the odb is freed or flushed. */
size_t dv_odb_pack_count(const dv_odb *odb);
dv_pack *dv_odb_pack_at(const dv_odb *odb, size_t i);
/** Where id lives among sealed packs: 1 with pack and entry set, or 0. */
DV_NODISCARD int dv_odb_locate(dv_pack **pack, dv_pack_entry *entry, dv_odb *odb, const dv_oid *id);

#endif
