/*
 * pack_write: append-only pack files of (optionally zstd-compressed) objects and
 * their indexes. A pack is written to a temp file, sealed with a SHA-256
 * trailer that is also its name, renamed into place, and only then is its
 * index written (atomically): a pack without an index does not exist.
 */
#ifndef DV_PACK_WRITE_H
#define DV_PACK_WRITE_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/hash.h"
#include "storage/pack.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_pack_writer dv_pack_writer;

/** Start a pack in tmp_dir (a temp file; nothing is visible until finish). */
DV_NODISCARD int dv_pack_writer_new(dv_pack_writer **out, const char *tmp_dir);

/** Write buffers handed from one pack writer to the next, so a long command does not
 *  fault in fresh pages for every pack. Owned by the caller; free with
 *  dv_pack_buffers_release. */
typedef struct dv_pack_buffers {
    uint8_t *buf[2];
} dv_pack_buffers;

/** As dv_pack_writer_new, taking buffers from reuse and giving them back there when the
 *  writer is finished or freed. reuse must outlive the writer. */
DV_NODISCARD int dv_pack_writer_new_reusing(dv_pack_writer **out, const char *tmp_dir,
                                            dv_pack_buffers *reuse);
void dv_pack_buffers_release(dv_pack_buffers *reuse);
/** Append an entry whose stored bytes are already prepared (compressed or raw per flags). */
DV_NODISCARD int dv_pack_writer_append(dv_pack_writer *w, const dv_oid *id, uint8_t type,
                                       uint8_t flags, uint32_t raw_len, const void *stored,
                                       uint32_t stored_len);
/**
 * Append in two steps, so that a caller can publish the entry under its own lock and
 * write the bytes outside it: reserve records the entry (its offset is the end of
 * the entries reserved so far), write appends its header and stored bytes. Entries
 * must be written in the order they were reserved; after a write error the pack
 * must be abandoned.
 */
DV_NODISCARD int dv_pack_writer_reserve(dv_pack_writer *w, dv_pack_entry *out, const dv_oid *id,
                                        uint8_t type, uint8_t flags, uint32_t raw_len,
                                        uint32_t stored_len);
/** crc is dv_crc32c of the stored bytes, computed by the caller while they are still in
 *  its cache. */
DV_NODISCARD int dv_pack_writer_write(dv_pack_writer *w, const dv_pack_entry *e, const void *stored,
                                      uint32_t crc);

/** 1 and the entry if id was appended to this unsealed pack. */
DV_NODISCARD int dv_pack_writer_find(const dv_pack_writer *w, const dv_oid *id, dv_pack_entry *out);
/** Read back an entry's stored bytes from the unsealed pack. */
DV_NODISCARD int dv_pack_writer_read_stored(dv_buf *out, dv_pack_writer *w, const dv_pack_entry *e);
uint64_t dv_pack_writer_bytes(const dv_pack_writer *w);
size_t dv_pack_writer_count(const dv_pack_writer *w);
/**
 * Seal the pack: trailer, fsync, rename to packs_dir/<id>.pack, write the index
 * as packs_dir/<id>.idx (temp + fsync + rename), fsync packs_dir. pack_id gets the
 * id. The writer is freed in every case. An empty writer writes nothing and sets
 * pack_id to zeros.
 */
DV_NODISCARD int dv_pack_writer_finish(dv_oid *pack_id, dv_pack_writer *w, const char *packs_dir);
/**
 * The same in the background: write the trailer and hand the last bytes to the writer's
 * thread, which then makes the pack durable and writes its index while the caller goes
 * on. No more entries may be added; dv_pack_writer_find and dv_pack_writer_read_stored
 * keep working until the writer is freed. Then dv_pack_writer_finish_wait for the result
 * and dv_pack_writer_free. An error here leaves the writer to be freed (pack abandoned).
 */
DV_NODISCARD int dv_pack_writer_finish_start(dv_pack_writer *w, const char *packs_dir);
/** 1 once a started seal has ended (either way): finish_wait will not block. */
DV_NODISCARD int dv_pack_writer_finish_done(dv_pack_writer *w);
/** Wait for a started seal: 0 and the pack id (zeros for an empty pack), or its error. */
DV_NODISCARD int dv_pack_writer_finish_wait(dv_oid *pack_id, dv_pack_writer *w);
/** Abandon an unsealed pack (removes the temp file). NULL is fine. */
void dv_pack_writer_free(dv_pack_writer *w);

/** Packs written one after another in dir, each sealed there (with its index) once it
 *  reaches target_bytes: the ids of those sealed, in order. Start with DV_PACK_SERIES_INIT
 *  and dir and target_bytes set. */
typedef struct dv_pack_series {
    const char *dir;
    uint64_t target_bytes;
    dv_pack_writer *writer;
    dv_oid *ids;
    size_t n, alloc;
} dv_pack_series;
#define DV_PACK_SERIES_INIT                                                                        \
    {                                                                                              \
        NULL, 0, NULL, NULL, 0, 0                                                                  \
    }
/** Append an entry as dv_pack_writer_append does, sealing the pack once it is large enough. */
DV_NODISCARD int dv_pack_series_append(dv_pack_series *s, const dv_oid *id, uint8_t type,
                                       uint8_t flags, uint32_t raw_len, const void *stored,
                                       uint32_t stored_len);
/** Seal the pack being written, if any. */
DV_NODISCARD int dv_pack_series_seal(dv_pack_series *s);
/** Whether id names a pack the series sealed. */
int dv_pack_series_has(const dv_pack_series *s, const dv_oid *id);
/** Free the list; a pack not sealed is abandoned. */
void dv_pack_series_release(dv_pack_series *s);

#endif
