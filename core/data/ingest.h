/*
 * ingest: the write data path. A file is read in large batches; the workers
 * of a pool read and chunk batches ahead, the calling thread joins their cuts
 * into the one chain of chunks a sequential chunker would give, the workers hash
 * and compress the chunks, and the results are appended to the store in file
 * order. The file's manifest is stored last. Memory is
 * bounded by two batches whatever the file size. Without a store, ingest only
 * computes the manifest id (used by status).
 */
#ifndef DV_INGEST_H
#define DV_INGEST_H

#include "core/base/error.h"

#include "core/base/pool.h"
#include "core/data/chunker.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "storage/odb.h"

#include <stdint.h>

typedef struct dv_ingest dv_ingest;

typedef struct dv_ingest_stats {
    uint64_t files;
    uint64_t bytes_read;
    uint64_t chunks;
    uint64_t chunks_new;
    uint64_t bytes_new;     /* object bytes of chunks not in the store before */
    uint64_t bytes_reused;  /* bytes of chunks the store already had */
    uint64_t bytes_scanned; /* bytes scanned for cuts; the rest were proven by hashes */
} dv_ingest_stats;

/** Progress callback: bytes more were processed. Called from the calling thread, or, for a
 *  large file, from ingest's own thread while dv_ingest_fd runs; never two at once. */
typedef void (*dv_ingest_progress_fn)(void *ctx, uint64_t bytes);

/**
 * Make an ingester. odb NULL: hash only, store nothing. pool is lent (it must
 * outlive the ingester); NULL runs everything in the calling thread.
 */
DV_NODISCARD int dv_ingest_new(dv_ingest **out, dv_odb *odb, const dv_chunk_params *params,
                               dv_pool *pool);
void dv_ingest_set_progress(dv_ingest *ing, dv_ingest_progress_fn fn, void *ctx);

/* Files at least this large are cut along their previous version's chunks when the
 * caller has that version's manifest (see prevchunks.h); below, scanning costs little. */
#define DV_INGEST_PREVIOUS_MIN_BYTES (4u * 1024 * 1024)

/**
 * Chunk, hash (and store) everything read from fd until end of file. The manifest id
 * goes to manifest_id and the byte count to size. path is for messages. previous, if not
 * NULL, is the manifest of an earlier version of the file: where the new version holds
 * the same chunks, proving them by their hashes saves scanning for the cuts. The result
 * is the same with or without it.
 */
DV_NODISCARD int dv_ingest_fd(dv_oid *manifest_id, uint64_t *size, dv_ingest *ing, int fd,
                              const char *path, const dv_manifest *previous);

/** Where dv_ingest_stream gets its bytes: fill buf with len bytes, or fewer only when the
 *  stream ends (then *got says how many). Returns 0 or a negative error with a message.
 *  Called from the calling thread of dv_ingest_stream only, in stream order. */
typedef int (*dv_ingest_read_fn)(void *ctx, void *buf, size_t len, size_t *got);

/**
 * As dv_ingest_fd, but the bytes come from read (a stream that cannot be read at an offset:
 * an archive's entry). expected is how many bytes the stream says it holds (0 when it does
 * not know): only how far to read ahead, never trusted for the result. The calling thread
 * reads; the pool's workers chunk, hash and compress what it read, as for a file.
 */
DV_NODISCARD int dv_ingest_stream(dv_oid *manifest_id, uint64_t *size, dv_ingest *ing,
                                  dv_ingest_read_fn read, void *ctx, uint64_t expected,
                                  const char *path);

/*
 * A file small enough to be one chunk (dv_ingest_small_max_bytes or fewer), for callers
 * that read many such files themselves: its chunk is hashed (and, when the store lacks it,
 * compressed) on any thread by dv_ingest_small_prepare, several files at once, then stored
 * with its manifest by dv_ingest_small_commit on the calling thread, in the caller's order.
 * The manifest id is the one dv_ingest_fd gives for the same bytes.
 */
typedef struct dv_ingest_small {
    const uint8_t *data; /* lent by the caller until dv_ingest_small_commit returns */
    size_t len;
    /* private */
    dv_oid chunk_id;
    int present;
    uint8_t flags;
    uint32_t crc;
    dv_buf stored;
} dv_ingest_small;
#define DV_INGEST_SMALL_INIT                                                                       \
    {                                                                                              \
        NULL, 0, {{0}}, 0, 0, 0, DV_BUF_INIT                                                       \
    }

/** The largest file that dv_ingest_small takes: the chunker's minimum, below which it never
 *  cuts. */
DV_NODISCARD size_t dv_ingest_small_max_bytes(const dv_ingest *ing);
/** Hash s's bytes and compress them if the store lacks them. Safe on the pool's worker
 *  `worker` (or -1: the calling thread) while other workers prepare other files. */
DV_NODISCARD int dv_ingest_small_prepare(dv_ingest *ing, dv_ingest_small *s, int worker);
/** Store a prepared s (its chunk, then its manifest, whose id goes to manifest_id) and count
 *  it in the stats and the progress. Calling thread only. */
DV_NODISCARD int dv_ingest_small_commit(dv_oid *manifest_id, dv_ingest *ing, dv_ingest_small *s);
/** Free what s holds besides its lent bytes; s can be prepared again. */
void dv_ingest_small_release(dv_ingest_small *s);

/** Store a small buffer (e.g. a symlink target) as a single chunk object. */
DV_NODISCARD int dv_ingest_blob(dv_oid *id, dv_ingest *ing, const void *data, size_t len);

void dv_ingest_stats_get(const dv_ingest *ing, dv_ingest_stats *out);
void dv_ingest_free(dv_ingest *ing);

#endif
