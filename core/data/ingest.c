/*
 * ingest: file → chunks → hashes/compression in parallel → store, in order.
 *
 * A large file is read in batches by the pool's workers, and each worker chunks its
 * batch on its own, as if a chunk started at the batch's first byte. Those cuts are a
 * guess: the true chain of chunks comes from the end of the previous batch. The calling
 * thread follows the true chain into the batch with its own chunker until one of its
 * cuts is also one of the worker's; from there on the two chains are the same (a cut
 * depends only on the bytes since the previous one), and the rest of the worker's cuts
 * are taken as they are. Chains meet within a chunk or two on most data, so chunking no
 * longer runs on one core, and the result is exactly that of one chunker over the file.
 *
 * Given the manifest of the file's previous version, a worker instead cuts its batch
 * along that version's chunks (prevchunks.h): its chain may then start at the
 * previous version's cut rather than at the first byte, and the chunks it proved or
 * hashed on the way come with their ids, which are not computed again.
 */
#include "core/data/ingest.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/data/prevchunks.h"
#include "core/object/object.h"
#include "core/simd/crc32c.h"
#include "storage/compress.h"

#include <assert.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Small enough that a batch is still in the CPU's caches when the workers hash it after
 * it was read and chunked. Against 1 MiB, 2 MiB batches hold about 36 chunks of the
 * default sizes, so the sixteen hashing lanes stay full longer, and the chains meet half
 * as often: the 1 GiB add took 0.87-0.90 s and 1.46-1.52 s of CPU, against 0.95-1.02 s
 * and 1.61-1.68 s; 4 MiB batches did no better (0.89-0.93 s). */
#define DV_INGEST_BATCH_BYTES (2u * 1024 * 1024)
/* Batches in the ring: one being read and chunked, the others with the workers or
 * waiting to be appended. Three were enough on average, but every stall of the
 * committer (a pack write the device is slow to take) then stopped the calling thread
 * within two batches; with 8 (of 1 MiB) the 1 GiB add took 1.01-1.06 s against 1.04-1.12 s. */
#define DV_INGEST_BATCHES 8
/* Batches read ahead of the one the calling thread resolves. At most
 * DV_INGEST_BATCHES - 2, so that a read never lands in the previous batch, whose
 * unfinished chunk is still to be carried over. */
#define DV_INGEST_READ_AHEAD 4
#define DV_INGEST_HUGE_PAGE (2u << 20)

typedef struct chunk_job {
    size_t offset; /* in the batch buffer */
    uint32_t len;
    dv_oid id;
    int hashed;    /* id is known already (the worker proved or hashed it while cutting) */
    int present;   /* the store had it when the worker looked */
    uint8_t flags; /* DV_PACK_RAW or DV_PACK_ZSTD */
    uint32_t crc;  /* of the stored bytes, taken while they are in the worker's cache */
    dv_buf stored; /* compressed bytes when flags say zstd */
} chunk_job;

/*
 * data holds the carried start of an unfinished chunk, at the end of the reserve (its
 * first params.max bytes), and then the batch's own read, at reserve, up to len.
 */
typedef struct batch {
    struct dv_ingest *ing;
    uint8_t *data;
    size_t len;      /* end of the bytes held */
    uint64_t offset; /* of the read in the file */
    size_t got;      /* bytes read, at data + reserve */
    uint32_t *cuts;  /* ends of the worker's chunks, as offsets into data */
    dv_oid *cut_ids; /* and their ids, where cut_known says the worker has them */
    uint8_t *cut_known;
    size_t n_cuts;
    uint64_t scanned; /* bytes the worker scanned for its cuts */
    dv_chunker tail;  /* the worker's chunker after the last byte read */
    dv_pool_task read_task;
    int reading; /* read_task queued and not yet waited for */
    int filled;  /* the calling thread read it from the stream: read_task only chunks it */
    chunk_job *jobs;
    size_t n_jobs, alloc_jobs;
    dv_pool_task task;
    int submitted;
    int in_use; /* handed to the committer and not yet appended (guarded by mutex) */
} batch;

struct dv_ingest {
    dv_odb *odb;
    dv_pool *pool;
    dv_chunk_params params;
    uint8_t *ring; /* the batches' data, in 2 MiB pages where the kernel has them */
    size_t ring_bytes;
    size_t reserve; /* bytes before each batch's read, for a carried chunk: params.max */
    int fd;         /* the file being read, and its name for messages */
    uint64_t base;  /* where reading started in it */
    const char *path;
    int seekable;              /* read with pread at each batch's offset, so workers can read */
    dv_ingest_read_fn read_fn; /* or read through this from a stream, in the calling thread */
    void *read_ctx;
    dv_compressor **compressors; /* one per pool worker, then one for the calling thread */
    int n_compressors;
    batch batches[DV_INGEST_BATCHES];
    /* The committer thread appends the batches of a large file to the store in order
     * while the calling thread reads and chunks the next ones. */
    pthread_t committer;
    int committer_started;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    batch *queue[DV_INGEST_BATCHES];
    size_t queue_head, queue_len;
    int stopping;
    int commit_error;
    dv_error_state commit_state; /* commit_error's message, from the committer thread */
    dv_manifest manifest;        /* the chunks not yet in a sealed part */
    dv_manifest_list parts;      /* a file of more chunks than one manifest holds */
    dv_buf part_scratch;         /* the committer's encoding of a part */
    dv_prevchunks *prev;         /* the previous version's chunks, while a large file is read */
    dv_buf scratch;
    dv_ingest_stats stats;
    dv_ingest_progress_fn progress;
    void *progress_ctx;
};

/* The most cuts a batch can hold: a chunk is at least min bytes, but for the last one. */
static size_t max_cuts(const dv_ingest *ing)
{
    return DV_INGEST_BATCH_BYTES / ing->params.min + 1;
}

int dv_ingest_new(dv_ingest **out, dv_odb *odb, const dv_chunk_params *params, dv_pool *pool)
{
    int error;
    if ((error = dv_chunk_params_check(params)) < 0)
        return error;
    dv_ingest *ing = calloc(1, sizeof(*ing));
    if (!ing)
        return dv_error_set(DV_ENOMEM, "out of memory");
    ing->odb = odb;
    ing->pool = pool;
    ing->params = *params;
    ing->scratch = (dv_buf)DV_BUF_INIT;
    ing->part_scratch = (dv_buf)DV_BUF_INIT;
    pthread_mutex_init(&ing->mutex, NULL);
    pthread_cond_init(&ing->cond, NULL);
    ing->n_compressors = (pool ? dv_pool_threads(pool) : 0) + 1;
    if (!(ing->compressors = calloc((size_t)ing->n_compressors, sizeof(*ing->compressors)))) {
        dv_ingest_free(ing);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    ing->reserve = params->max;
    /* All batches in one region of 2 MiB pages: the copies from the page cache into
     * them, and out of them into pack buffers, then miss the TLB 512 times less. */
    size_t stride = (ing->reserve + DV_INGEST_BATCH_BYTES + 63) & ~(size_t)63;
    ing->ring_bytes =
        (stride * DV_INGEST_BATCHES + DV_INGEST_HUGE_PAGE - 1) & ~(size_t)(DV_INGEST_HUGE_PAGE - 1);
    if (posix_memalign((void **)&ing->ring, DV_INGEST_HUGE_PAGE, ing->ring_bytes) != 0) {
        ing->ring = NULL;
        dv_ingest_free(ing);
        return dv_error_set(DV_ENOMEM, "out of memory for read buffers");
    }
    madvise(ing->ring, ing->ring_bytes, MADV_HUGEPAGE);
    for (int i = 0; i < DV_INGEST_BATCHES; i++) {
        batch *b = &ing->batches[i];
        b->ing = ing;
        b->data = ing->ring + (size_t)i * stride;
        /* One more than the cuts, for the start of a chain along the previous version. */
        b->cuts = malloc((max_cuts(ing) + 1) * sizeof(*b->cuts));
        b->cut_ids = malloc((max_cuts(ing) + 1) * sizeof(*b->cut_ids));
        b->cut_known = calloc(max_cuts(ing) + 1, sizeof(*b->cut_known));
        if (!b->cuts || !b->cut_ids || !b->cut_known) {
            dv_ingest_free(ing);
            return dv_error_set(DV_ENOMEM, "out of memory for read buffers");
        }
    }
    *out = ing;
    return 0;
}

void dv_ingest_set_progress(dv_ingest *ing, dv_ingest_progress_fn fn, void *ctx)
{
    ing->progress = fn;
    ing->progress_ctx = ctx;
}

static int compressor_for(dv_compressor **out, dv_ingest *ing, int worker)
{
    int slot = worker < 0 ? ing->n_compressors - 1 : worker;
    assert(slot < ing->n_compressors);
    if (!ing->compressors[slot]) {
        int error = dv_compressor_new(&ing->compressors[slot], dv_odb_compression_level(ing->odb));
        if (error < 0)
            return error;
    }
    *out = ing->compressors[slot];
    return 0;
}

/* Chunks hashed together by one worker: dv_hash_many runs up to sixteen side by side,
 * so a whole batch of the default chunk sizes (about 36 chunks) is one group. */
#define DV_INGEST_GROUP 64

/* After hashing: when the store lacks the chunk, compress it. Runs on a worker. */
static int store_chunk(dv_ingest *ing, batch *b, size_t item, int worker)
{
    int error;
    chunk_job *job = &b->jobs[item];
    const uint8_t *data = b->data + job->offset;
    job->flags = DV_PACK_RAW;
    job->present = 1;
    if (!ing->odb)
        return 0;
    if ((job->present = dv_odb_has(ing->odb, &job->id)))
        return 0;
    dv_compressor *c = NULL;
    const void *stored;
    size_t stored_len;
    if ((error = compressor_for(&c, ing, worker)) < 0 ||
        (error = dv_compressor_run(c, data, job->len, &stored, &stored_len, &job->flags)) < 0)
        return error;
    job->crc = dv_crc32c(stored, stored_len);
    if (job->flags == DV_PACK_ZSTD) {
        dv_buf_clear(&job->stored);
        if ((error = dv_buf_put(&job->stored, stored, stored_len)) < 0)
            return error;
    }
    return 0;
}

/* Hash, and store where needed, the chunks [first, first + n) of b. */
static int process_chunks(dv_ingest *ing, batch *b, size_t first, size_t n, int worker)
{
    int error;
    const uint8_t *data[DV_INGEST_GROUP] = {0};
    size_t lens[DV_INGEST_GROUP] = {0}, which[DV_INGEST_GROUP];
    dv_oid ids[DV_INGEST_GROUP];
    size_t k = 0;
    assert(n <= DV_INGEST_GROUP);
    for (size_t i = 0; i < n; i++) {
        const chunk_job *job = &b->jobs[first + i];
        if (job->hashed)
            continue;
        data[k] = b->data + job->offset;
        lens[k] = job->len;
        which[k++] = first + i;
    }
    if (k && (error = dv_hash_many(ids, data, lens, k)) < 0)
        return error;
    for (size_t i = 0; i < k; i++)
        b->jobs[which[i]].id = ids[i];
    for (size_t i = 0; i < n; i++)
        if ((error = store_chunk(ing, b, first + i, worker)) < 0)
            return error;
    return 0;
}

static size_t n_groups(const batch *b)
{
    return (b->n_jobs + DV_INGEST_GROUP - 1) / DV_INGEST_GROUP;
}

/* Hash and store group g of b's chunks. */
static int process_group(dv_ingest *ing, batch *b, size_t g, int worker)
{
    size_t first = g * DV_INGEST_GROUP, left = b->n_jobs - first;
    return process_chunks(ing, b, first, left < DV_INGEST_GROUP ? left : DV_INGEST_GROUP, worker);
}

/* The pool passes the batch; the ingester is reached through its back pointer. */
static int run_item(void *ctx, size_t item, int worker)
{
    batch *b = ctx;
    return process_group(b->ing, b, item, worker);
}

/* Read b's bytes from the stream (in the calling thread: the stream is read in order). */
static int fill_from_stream(dv_ingest *ing, batch *b)
{
    b->got = 0;
    int error = ing->read_fn(ing->read_ctx, b->data + ing->reserve, DV_INGEST_BATCH_BYTES, &b->got);
    if (error == 0 && b->got > DV_INGEST_BATCH_BYTES)
        error =
            dv_error_set(DV_ERROR, "%s: the reader returned more bytes than asked for", ing->path);
    return error;
}

/* Read b's bytes and chunk them as if a chunk started at the first. Runs on a worker
 * (or on the calling thread when the file cannot be read at an offset). */
static int read_batch(dv_ingest *ing, batch *b)
{
    int error;
    uint8_t *p = b->data + ing->reserve;
    if (b->filled)
        error = 0;
    else if (ing->read_fn)
        error = fill_from_stream(ing, b);
    else
        error =
            ing->seekable
                ? dv_fs_pread_full(ing->fd, p, DV_INGEST_BATCH_BYTES, b->offset, &b->got, ing->path)
                : dv_fs_read_full(ing->fd, p, DV_INGEST_BATCH_BYTES, &b->got, ing->path);
    b->filled = 0;
    if (error < 0)
        return error;
    if (ing->prev) {
        /* Entry 0 is left for the chain's start: where it is not the batch's first byte,
         * the calling thread may meet the chain there. */
        dv_prevchunks_cuts cuts = {
            b->cuts + 1, b->cut_ids + 1, b->cut_known + 1, max_cuts(ing), 0, 0, 0};
        if ((error = dv_prevchunks_cut(ing->prev, p, b->got, b->offset - ing->base, &cuts,
                                       &b->tail)) < 0)
            return error;
        size_t first = cuts.start ? 0 : 1;
        b->cuts[0] = (uint32_t)cuts.start;
        b->cut_known[0] = 0;
        b->n_cuts = cuts.n + 1 - first;
        b->scanned = cuts.scanned;
        for (size_t i = 0; i < b->n_cuts; i++) {
            b->cuts[i] = b->cuts[first + i] + (uint32_t)ing->reserve;
            b->cut_ids[i] = b->cut_ids[first + i];
            b->cut_known[i] = b->cut_known[first + i];
        }
        return 0;
    }
    dv_chunker_init(&b->tail, &ing->params);
    b->n_cuts = 0;
    b->scanned = b->got;
    for (size_t pos = 0; pos < b->got;) {
        int cut = 0;
        pos += dv_chunker_scan(&b->tail, p + pos, b->got - pos, &cut);
        if (!cut)
            break;
        b->cut_known[b->n_cuts] = 0;
        b->cuts[b->n_cuts++] = (uint32_t)(ing->reserve + pos);
    }
    return 0;
}

static int run_read(void *ctx, size_t item, int worker)
{
    (void)item;
    (void)worker;
    batch *b = ctx;
    return read_batch(b->ing, b);
}

static int add_job(batch *b, size_t offset, uint32_t len)
{
    if (b->n_jobs == b->alloc_jobs) {
        size_t n = b->alloc_jobs ? b->alloc_jobs * 2 : 256;
        chunk_job *jobs = realloc(b->jobs, n * sizeof(*jobs));
        if (!jobs)
            return dv_error_set(DV_ENOMEM, "out of memory");
        for (size_t i = b->alloc_jobs; i < n; i++)
            jobs[i].stored = (dv_buf)DV_BUF_INIT;
        b->jobs = jobs;
        b->alloc_jobs = n;
    }
    chunk_job *job = &b->jobs[b->n_jobs++];
    job->offset = offset;
    job->len = len;
    job->hashed = 0;
    return 0;
}

/*
 * The chunks of b on the true chain. *chain is the true chunker after the previous
 * batch, whose unfinished chunk (carry_len bytes at carry) is copied in front of b's
 * read; first says b starts the file, where the worker's chain is the true one.
 * Leaves *chunk_start at the start of b's own unfinished chunk, if any.
 */
static int resolve_batch(dv_ingest *ing, batch *b, dv_chunker *chain, const uint8_t *carry,
                         size_t carry_len, int first, size_t *chunk_start)
{
    int error;
    const size_t reserve = ing->reserve;
    assert(carry_len < reserve || (carry_len == 0 && reserve == 0));
    if (carry_len)
        memcpy(b->data + reserve - carry_len, carry, carry_len);
    b->len = reserve + b->got;
    b->n_jobs = 0;
    size_t start = reserve - carry_len, pos = reserve, next = 0;
    int met = first;
    while (!met && pos < b->len) {
        int cut = 0;
        size_t used = dv_chunker_scan(chain, b->data + pos, b->len - pos, &cut);
        pos += used;
        ing->stats.bytes_scanned += used;
        if (!cut)
            break;
        if ((error = add_job(b, start, (uint32_t)(pos - start))) < 0)
            return error;
        start = pos;
        while (next < b->n_cuts && b->cuts[next] < pos)
            next++;
        if (next < b->n_cuts && b->cuts[next] == pos) {
            met = 1;
            next++;
        }
    }
    if (met) {
        for (; next < b->n_cuts; next++) {
            if ((error = add_job(b, start, b->cuts[next] - (uint32_t)start)) < 0)
                return error;
            if (b->cut_known[next]) {
                b->jobs[b->n_jobs - 1].id = b->cut_ids[next];
                b->jobs[b->n_jobs - 1].hashed = 1;
            }
            start = b->cuts[next];
        }
        *chain = b->tail;
    }
    *chunk_start = start;
    return 0;
}

/*
 * Seal the first DV_MANIFEST_PART_CHUNKS chunks of the manifest as one part of a
 * manifest list (stored after its chunks, so the store stays closed under naming).
 * The file becomes a list once it has more chunks than one manifest holds, so memory
 * for the chunk list stays below one manifest's worth whatever the file's size.
 */
static int seal_part(dv_ingest *ing)
{
    dv_manifest part = ing->manifest;
    part.n_chunks = DV_MANIFEST_PART_CHUNKS;
    part.size = 0;
    for (size_t i = 0; i < part.n_chunks; i++)
        part.size += part.chunks[i].len;
    dv_oid id;
    int error;
    dv_buf_clear(&ing->part_scratch);
    if ((error = dv_manifest_encode(&ing->part_scratch, &part)) < 0 ||
        (error = dv_hash_buffer(&id, ing->part_scratch.ptr, ing->part_scratch.len)) < 0 ||
        (ing->odb && (error = dv_odb_put(ing->odb, &id, DV_OBJ_MANIFEST, ing->part_scratch.ptr,
                                         ing->part_scratch.len, NULL)) < 0) ||
        (error = dv_manifest_list_append(&ing->parts, &id, part.size)) < 0)
        return error;
    size_t rest = ing->manifest.n_chunks - part.n_chunks;
    memmove(ing->manifest.chunks, ing->manifest.chunks + part.n_chunks,
            rest * sizeof(*ing->manifest.chunks));
    ing->manifest.n_chunks = rest;
    ing->manifest.size -= part.size;
    return 0;
}

static int need_part(const dv_ingest *ing)
{
    size_t n = ing->manifest.n_chunks;
    return n > DV_MANIFEST_PART_CHUNKS && (ing->parts.n_parts || n > DV_MANIFEST_MAX_CHUNKS);
}

/* Append a processed batch's chunks to the store and the manifest, in order. */
static int commit_batch(dv_ingest *ing, batch *b)
{
    int error;
    for (size_t i = 0; i < b->n_jobs; i++) {
        chunk_job *job = &b->jobs[i];
        int added = 0;
        if (ing->odb && !job->present) {
            const void *stored =
                job->flags == DV_PACK_ZSTD ? (const void *)job->stored.ptr : b->data + job->offset;
            uint32_t stored_len = job->flags == DV_PACK_ZSTD ? (uint32_t)job->stored.len : job->len;
            if ((error = dv_odb_put_stored(ing->odb, &job->id, DV_OBJ_CHUNK, job->len, job->flags,
                                           stored, stored_len, job->crc, &added)) < 0)
                return error;
        }
        if ((error = dv_manifest_append(&ing->manifest, &job->id, job->len)) < 0 ||
            (need_part(ing) && (error = seal_part(ing)) < 0))
            return error;
        ing->stats.chunks++;
        if (added) {
            ing->stats.chunks_new++;
            ing->stats.bytes_new += job->len;
        } else {
            ing->stats.bytes_reused += job->len;
        }
    }
    if (ing->progress) {
        uint64_t bytes = 0;
        for (size_t i = 0; i < b->n_jobs; i++)
            bytes += b->jobs[i].len;
        ing->progress(ing->progress_ctx, bytes);
    }
    b->n_jobs = 0;
    return 0;
}

static int finish_batch(dv_ingest *ing, batch *b)
{
    int error = 0;
    if (b->submitted) {
        b->submitted = 0;
        error = dv_pool_wait(ing->pool, &b->task);
    }
    if (error < 0)
        return error;
    return commit_batch(ing, b);
}

/* Queue b's chunks on the pool; a single group of a small file is left to the caller,
 * which saves two thread hand-offs per file. */
static void start_batch(dv_ingest *ing, batch *b, int large)
{
    if (ing->pool && n_groups(b) > 0 && (large || n_groups(b) > 1)) {
        dv_pool_submit(ing->pool, &b->task, run_item, b, n_groups(b));
        b->submitted = 1;
    } else {
        b->submitted = 0;
    }
}

static int run_inline(dv_ingest *ing, batch *b)
{
    int error;
    for (size_t g = 0; g < n_groups(b); g++)
        if ((error = process_group(ing, b, g, -1)) < 0)
            return error;
    return 0;
}

static void *committer_main(void *arg)
{
    dv_ingest *ing = arg;
    pthread_mutex_lock(&ing->mutex);
    for (;;) {
        while (!ing->queue_len && !ing->stopping)
            pthread_cond_wait(&ing->cond, &ing->mutex);
        if (!ing->queue_len)
            break;
        batch *b = ing->queue[ing->queue_head];
        int failed = ing->commit_error;
        pthread_mutex_unlock(&ing->mutex);
        int error;
        if (failed) {
            /* Still let the workers finish with the buffer before it is reused. */
            if (b->submitted)
                dv_pool_drain(ing->pool, &b->task);
            b->submitted = 0;
            b->n_jobs = 0;
            error = 0;
        } else {
            error = finish_batch(ing, b);
        }
        pthread_mutex_lock(&ing->mutex);
        if (error < 0 && !ing->commit_error)
            ing->commit_error = dv_error_state_capture(&ing->commit_state, error);
        ing->queue_head = (ing->queue_head + 1) % DV_INGEST_BATCHES;
        ing->queue_len--;
        b->in_use = 0;
        pthread_cond_broadcast(&ing->cond);
    }
    pthread_mutex_unlock(&ing->mutex);
    return NULL;
}

static int hand_to_committer(dv_ingest *ing, batch *b)
{
    if (!ing->committer_started) {
        if (pthread_create(&ing->committer, NULL, committer_main, ing) != 0)
            return dv_error_set(DV_ERROR, "cannot start the ingest thread");
        ing->committer_started = 1;
    }
    pthread_mutex_lock(&ing->mutex);
    b->in_use = 1;
    ing->queue[(ing->queue_head + ing->queue_len) % DV_INGEST_BATCHES] = b;
    ing->queue_len++;
    pthread_cond_broadcast(&ing->cond);
    pthread_mutex_unlock(&ing->mutex);
    return 0;
}

/* Wait until b is free (or, with b NULL, until everything handed over is appended).
 * Returns the committer's first error, if any. */
/* The committer's first error, if any, without waiting. */
static int committer_error(dv_ingest *ing)
{
    pthread_mutex_lock(&ing->mutex);
    int error = ing->commit_error < 0 ? dv_error_state_restore(&ing->commit_state) : 0;
    pthread_mutex_unlock(&ing->mutex);
    return error;
}

static int wait_committer(dv_ingest *ing, batch *b)
{
    pthread_mutex_lock(&ing->mutex);
    while (b ? b->in_use : ing->queue_len > 0)
        pthread_cond_wait(&ing->cond, &ing->mutex);
    pthread_mutex_unlock(&ing->mutex);
    return committer_error(ing);
}

static int batch_is_free(dv_ingest *ing, batch *b)
{
    pthread_mutex_lock(&ing->mutex);
    int is_free = !b->in_use;
    pthread_mutex_unlock(&ing->mutex);
    return is_free;
}

/* Wait for b's read if it went to the workers. */
static int wait_read(dv_ingest *ing, batch *b)
{
    if (!b->reading)
        return 0;
    b->reading = 0;
    return dv_pool_wait(ing->pool, &b->read_task);
}

/* Wait for every read still with the workers (their results are of no use). */
static void wait_reads(dv_ingest *ing)
{
    for (int i = 0; i < DV_INGEST_BATCHES; i++)
        wait_read(ing, &ing->batches[i]);
}

/* The read loop of dv_ingest_fd and dv_ingest_stream: ing->fd or ing->read_fn is set. */
static int ingest_run(dv_oid *manifest_id, uint64_t *size, dv_ingest *ing, uint64_t stream_expected,
                      const char *path, const dv_manifest *previous)
{
    int error = 0;
    dv_chunker chain; /* the true chain of chunks, at the end of the previous batch */
    int handed = 0;
    size_t carry_from = 0, carry_len = 0; /* unfinished chunk at the end of the previous batch */
    batch *prev = NULL;
    struct stat st;

    dv_manifest_clear(&ing->manifest);
    dv_manifest_list_release(&ing->parts);
    ing->commit_error = 0;
    ing->commit_state.code = 0;
    ing->path = path;
    dv_chunker_init(&chain, &ing->params);
    off_t base = 0;
    uint64_t expected = stream_expected;
    ing->seekable = 0;
    if (!ing->read_fn) {
        base = lseek(ing->fd, 0, SEEK_CUR);
        ing->seekable = base >= 0 && fstat(ing->fd, &st) == 0 && S_ISREG(st.st_mode);
        /* The size now, to read ahead no further; reading goes on to the end whatever it is. */
        expected = ing->seekable && st.st_size > base ? (uint64_t)(st.st_size - base) : 0;
        posix_fadvise(ing->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    ing->base = base > 0 ? (uint64_t)base : 0;
    for (int i = 0; i < DV_INGEST_BATCHES; i++)
        ing->batches[i].filled = 0;
    int read_ahead = ing->pool && expected > DV_INGEST_BATCH_BYTES;
    uint64_t queued = 0; /* batches whose read went to the workers */
    if (previous && read_ahead) {
        if ((error = dv_prevchunks_new(&ing->prev, previous, &ing->params)) < 0)
            goto done;
        if (!dv_prevchunks_usable(ing->prev)) {
            dv_prevchunks_free(ing->prev);
            ing->prev = NULL;
        }
    }
    for (uint64_t k = 0;; k++) {
        batch *b = &ing->batches[k % DV_INGEST_BATCHES];
        if ((error = committer_error(ing)) < 0)
            goto done;
        if (queued <= k && !b->reading) {
            queued = k + 1; /* this one is read here, below */
            if (ing->read_fn) {
                /* before the read-ahead: a stream gives its bytes in order */
                if ((error = wait_committer(ing, b)) < 0 || (error = fill_from_stream(ing, b)) < 0)
                    goto done;
                b->filled = 1;
            }
        }
        for (; read_ahead && queued <= k + DV_INGEST_READ_AHEAD &&
               queued * DV_INGEST_BATCH_BYTES < expected;
             queued++) {
            batch *r = &ing->batches[queued % DV_INGEST_BATCHES];
            if (!batch_is_free(ing, r))
                break; /* the committer is behind; read this one later */
            r->offset = (uint64_t)base + queued * DV_INGEST_BATCH_BYTES;
            if (ing->read_fn) {
                /* A stream is read here, in order; the workers chunk what was read. */
                if ((error = fill_from_stream(ing, r)) < 0)
                    goto done;
                r->filled = 1;
            }
            dv_pool_submit(ing->pool, &r->read_task, run_read, r, 1);
            r->reading = 1;
        }
        if (b->reading) {
            if ((error = wait_read(ing, b)) < 0)
                goto done;
        } else {
            if ((error = wait_committer(ing, b)) < 0)
                goto done;
            b->offset = (uint64_t)base + k * DV_INGEST_BATCH_BYTES;
            if ((error = read_batch(ing, b)) < 0)
                goto done;
        }
        ing->stats.bytes_read += b->got;
        ing->stats.bytes_scanned += b->scanned;
        int eof = b->got < DV_INGEST_BATCH_BYTES;
        size_t chunk_start = 0;
        /* prev may still be with the workers or the committer; both only read the
         * chunks before carry_from, and this copy only reads after it. */
        if ((error = resolve_batch(ing, b, &chain, carry_len ? prev->data + carry_from : NULL,
                                   carry_len, k == 0, &chunk_start)) < 0)
            goto done;
        if (eof && chunk_start < b->len) {
            if ((error = add_job(b, chunk_start, (uint32_t)(b->len - chunk_start))) < 0)
                goto done;
            chunk_start = b->len;
        }
        carry_from = chunk_start;
        carry_len = b->len - chunk_start;

        start_batch(ing, b, read_ahead);
        if (!b->submitted && (error = run_inline(ing, b)) < 0)
            goto done;
        if (eof && !handed) {
            /* The whole file fit in one batch: no thread hand-offs for small files. */
            if ((error = finish_batch(ing, b)) < 0)
                goto done;
            break;
        }
        if ((error = hand_to_committer(ing, b)) < 0) {
            if (b->submitted) {
                dv_pool_drain(ing->pool, &b->task);
                b->submitted = 0;
            }
            goto done;
        }
        handed = 1;
        if (eof)
            break;
        prev = b;
    }
    /* Reads queued past the end (the file shrank) are of no use. */
    wait_reads(ing);
    if ((error = wait_committer(ing, NULL)) < 0)
        goto done;

    dv_buf_clear(&ing->scratch);
    if (ing->parts.n_parts) {
        /* the last part: what is left, 1 to DV_MANIFEST_PART_CHUNKS chunks */
        dv_oid last;
        uint64_t last_size = ing->manifest.size;
        if ((error = dv_manifest_encode(&ing->scratch, &ing->manifest)) < 0 ||
            (error = dv_hash_buffer(&last, ing->scratch.ptr, ing->scratch.len)) < 0 ||
            (ing->odb && (error = dv_odb_put(ing->odb, &last, DV_OBJ_MANIFEST, ing->scratch.ptr,
                                             ing->scratch.len, NULL)) < 0) ||
            (error = dv_manifest_list_append(&ing->parts, &last, last_size)) < 0)
            goto done;
        dv_buf_clear(&ing->scratch);
        if ((error = dv_manifest_list_encode(&ing->scratch, &ing->parts)) < 0)
            goto done;
    } else if ((error = dv_manifest_encode(&ing->scratch, &ing->manifest)) < 0) {
        goto done;
    }
    if ((error = dv_hash_buffer(manifest_id, ing->scratch.ptr, ing->scratch.len)) < 0)
        goto done;
    if (ing->odb && (error = dv_odb_put(ing->odb, manifest_id, DV_OBJ_MANIFEST, ing->scratch.ptr,
                                        ing->scratch.len, NULL)) < 0)
        goto done;
    *size = ing->parts.n_parts ? ing->parts.size : ing->manifest.size;
    ing->stats.files++;
done:
    if (error < 0) {
        /* Nothing may still use the buffers when this returns. */
        wait_reads(ing);
        wait_committer(ing, NULL);
        for (int i = 0; i < DV_INGEST_BATCHES; i++) {
            batch *b = &ing->batches[i];
            if (b->submitted) {
                dv_pool_drain(ing->pool, &b->task);
                b->submitted = 0;
            }
            b->n_jobs = 0;
        }
        error = dv_error_wrap(error, "%s", path);
    }
    /* No read is with the workers any more. */
    dv_prevchunks_free(ing->prev);
    ing->prev = NULL;
    return error;
}

int dv_ingest_fd(dv_oid *manifest_id, uint64_t *size, dv_ingest *ing, int fd, const char *path,
                 const dv_manifest *previous)
{
    ing->fd = fd;
    ing->read_fn = NULL;
    ing->read_ctx = NULL;
    return ingest_run(manifest_id, size, ing, 0, path, previous);
}

int dv_ingest_stream(dv_oid *manifest_id, uint64_t *size, dv_ingest *ing, dv_ingest_read_fn read,
                     void *ctx, uint64_t expected, const char *path)
{
    ing->fd = -1;
    ing->read_fn = read;
    ing->read_ctx = ctx;
    int error = ingest_run(manifest_id, size, ing, expected, path, NULL);
    ing->read_fn = NULL;
    ing->read_ctx = NULL;
    return error;
}

size_t dv_ingest_small_max_bytes(const dv_ingest *ing)
{
    return ing->params.min;
}

int dv_ingest_small_prepare(dv_ingest *ing, dv_ingest_small *s, int worker)
{
    int error;
    assert(s->len <= ing->params.min);
    s->present = 1;
    s->flags = DV_PACK_RAW;
    if (!s->len)
        return 0; /* no chunk: the manifest of an empty file lists none */
    if ((error = dv_hash_buffer(&s->chunk_id, s->data, s->len)) < 0)
        return error;
    if (!ing->odb || (s->present = dv_odb_has(ing->odb, &s->chunk_id)))
        return 0;
    dv_compressor *c = NULL;
    const void *stored;
    size_t stored_len;
    if ((error = compressor_for(&c, ing, worker)) < 0 ||
        (error = dv_compressor_run(c, s->data, s->len, &stored, &stored_len, &s->flags)) < 0)
        return error;
    s->crc = dv_crc32c(stored, stored_len);
    dv_buf_clear(&s->stored);
    if (s->flags == DV_PACK_ZSTD && (error = dv_buf_put(&s->stored, stored, stored_len)) < 0)
        return error;
    return 0;
}

int dv_ingest_small_commit(dv_oid *manifest_id, dv_ingest *ing, dv_ingest_small *s)
{
    int error, added = 0;
    dv_manifest_clear(&ing->manifest);
    if (s->len) {
        if (ing->odb && !s->present) {
            const void *stored = s->flags == DV_PACK_ZSTD ? (const void *)s->stored.ptr : s->data;
            uint32_t stored_len =
                s->flags == DV_PACK_ZSTD ? (uint32_t)s->stored.len : (uint32_t)s->len;
            if ((error = dv_odb_put_stored(ing->odb, &s->chunk_id, DV_OBJ_CHUNK, (uint32_t)s->len,
                                           s->flags, stored, stored_len, s->crc, &added)) < 0)
                return error;
        }
        if ((error = dv_manifest_append(&ing->manifest, &s->chunk_id, (uint32_t)s->len)) < 0)
            return error;
        ing->stats.chunks++;
        if (added) {
            ing->stats.chunks_new++;
            ing->stats.bytes_new += s->len;
        } else {
            ing->stats.bytes_reused += s->len;
        }
    }
    dv_buf_clear(&ing->scratch);
    if ((error = dv_manifest_encode(&ing->scratch, &ing->manifest)) < 0 ||
        (error = dv_hash_buffer(manifest_id, ing->scratch.ptr, ing->scratch.len)) < 0 ||
        (ing->odb && (error = dv_odb_put(ing->odb, manifest_id, DV_OBJ_MANIFEST, ing->scratch.ptr,
                                         ing->scratch.len, NULL)) < 0))
        return error;
    ing->stats.files++;
    ing->stats.bytes_read += s->len;
    ing->stats.bytes_scanned += s->len;
    if (ing->progress)
        ing->progress(ing->progress_ctx, s->len);
    return 0;
}

void dv_ingest_small_release(dv_ingest_small *s)
{
    dv_buf_release(&s->stored);
}

int dv_ingest_blob(dv_oid *id, dv_ingest *ing, const void *data, size_t len)
{
    int error, added = 0;
    if ((error = dv_hash_buffer(id, data, len)) < 0)
        return error;
    if (ing->odb && (error = dv_odb_put(ing->odb, id, DV_OBJ_CHUNK, data, len, &added)) < 0)
        return error;
    ing->stats.chunks++;
    if (added) {
        ing->stats.chunks_new++;
        ing->stats.bytes_new += len;
    } else {
        ing->stats.bytes_reused += len;
    }
    return 0;
}

void dv_ingest_stats_get(const dv_ingest *ing, dv_ingest_stats *out)
{
    *out = ing->stats;
}

void dv_ingest_free(dv_ingest *ing)
{
    if (!ing)
        return;
    if (ing->committer_started) {
        pthread_mutex_lock(&ing->mutex);
        ing->stopping = 1;
        pthread_cond_broadcast(&ing->cond);
        pthread_mutex_unlock(&ing->mutex);
        pthread_join(ing->committer, NULL);
    }
    for (int i = 0; i < DV_INGEST_BATCHES; i++) {
        batch *b = &ing->batches[i];
        if (b->submitted)
            dv_pool_drain(ing->pool, &b->task);
        free(b->cuts);
        free(b->cut_ids);
        free(b->cut_known);
        for (size_t j = 0; j < b->alloc_jobs; j++)
            dv_buf_release(&b->jobs[j].stored);
        free(b->jobs);
    }
    for (int i = 0; ing->compressors && i < ing->n_compressors; i++)
        dv_compressor_free(ing->compressors[i]);
    free(ing->compressors);
    free(ing->ring);
    dv_manifest_release(&ing->manifest);
    dv_manifest_list_release(&ing->parts);
    dv_buf_release(&ing->part_scratch);
    dv_buf_release(&ing->scratch);
    pthread_mutex_destroy(&ing->mutex);
    pthread_cond_destroy(&ing->cond);
    free(ing);
}
