/* pack_write: pack files written through background threads, sealed, then indexed. */
#include "storage/pack_write.h"

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/tempfile.h"
#include "core/simd/crc32c.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Packs are written through an aligned buffer with O_DIRECT where the file system
 * allows it: they are fsynced at the seal anyway, and copying a multi-GiB pack into
 * the page cache first costs more CPU than the whole chunk-hash-compress path. */
#define PACK_WRITE_BUFFER_BYTES (8u * 1024 * 1024)
#define PACK_DIRECT_ALIGN 4096u
#define PACK_HUGE_ALIGN (2u << 20)

/* A full buffer is written by a background thread while the next one fills, so the
 * device's write time overlaps with the caller's work (direct writes block). */
struct dv_pack_writer {
    int fd;
    int read_fd;  /* plain descriptor for reading back unsealed entries */
    int direct;   /* fd has O_DIRECT */
    uint8_t *buf; /* being filled by the caller */
    size_t buf_len;
    uint64_t buf_start; /* file offset of buf[0] */
    uint64_t flushed;   /* bytes of the file written (guarded by mutex) */
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    uint8_t *inflight; /* being written by the thread, or NULL */
    size_t inflight_len;
    uint8_t *spare; /* the free buffer, or NULL while it is in flight */
    int stopping;
    int io_error;
    char io_message[1024];
    dv_pack_buffers *reuse; /* where the buffers go back to, or NULL */
    /* Sealing, which the writing thread does once the caller handed over the tail
     * (dv_pack_writer_finish_start); the fields below the mutex guards. */
    int seal_requested;
    int sealed; /* the thread is done: seal_error says how it went */
    int seal_error;
    char seal_message[1024];
    uint64_t seal_end; /* the pack's exact length (direct writes are padded) */
    int tmp_committed; /* the temp file was renamed to pack_path: never unlink it */
    dv_oid pack_id;
    dv_buf pack_path, idx_path;
    dv_buf tmp_path;
    dv_hasher *hasher;
    uint64_t bytes;
    dv_pack_entry *entries;
    size_t n_entries, alloc_entries;
    /* open-addressing set of entry indexes + 1 (0 = empty), keyed by id */
    uint32_t *slots;
    size_t n_slots;
};

static size_t slot_of(const dv_oid *id, size_t n_slots)
{
    uint64_t h;
    memcpy(&h, id->id, sizeof(h));
    return (size_t)(h & (n_slots - 1));
}

static int writer_index_grow(dv_pack_writer *w)
{
    size_t n = w->n_slots ? w->n_slots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < w->n_entries; i++) {
        size_t s = slot_of(&w->entries[i].id, n);
        while (slots[s])
            s = (s + 1) & (n - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(w->slots);
    w->slots = slots;
    w->n_slots = n;
    return 0;
}

static int seal_files(dv_pack_writer *w);

static void *write_thread(void *arg)
{
    dv_pack_writer *w = arg;
    pthread_mutex_lock(&w->mutex);
    for (;;) {
        while (!w->inflight && !w->stopping && !w->seal_requested)
            pthread_cond_wait(&w->cond, &w->mutex);
        if (w->inflight) {
            uint8_t *data = w->inflight;
            size_t len = w->inflight_len;
            int failed = w->io_error;
            pthread_mutex_unlock(&w->mutex);
            int error = failed ? 0 : dv_fs_write_all(w->fd, data, len, w->tmp_path.ptr);
            pthread_mutex_lock(&w->mutex);
            if (error < 0 && !w->io_error) {
                w->io_error = error;
                snprintf(w->io_message, sizeof(w->io_message), "%s", dv_error_last());
            }
            w->flushed += len;
            w->spare = data;
            w->inflight = NULL;
            pthread_cond_broadcast(&w->cond);
            continue;
        }
        if (w->seal_requested) {
            /* Everything is written: make it durable and visible, then stop. */
            int error = w->io_error;
            if (error < 0) {
                error = dv_error_set(error, "%s", w->io_message);
            } else {
                pthread_mutex_unlock(&w->mutex);
                error = seal_files(w);
                pthread_mutex_lock(&w->mutex);
            }
            w->seal_error = error;
            if (error < 0)
                snprintf(w->seal_message, sizeof(w->seal_message), "%s", dv_error_last());
            w->seal_requested = 0;
            w->sealed = 1;
            pthread_cond_broadcast(&w->cond);
        }
        break;
    }
    pthread_mutex_unlock(&w->mutex);
    return NULL;
}

/* Wait until nothing is in flight. Caller holds the mutex. */
static int drain_locked(dv_pack_writer *w)
{
    while (w->inflight)
        pthread_cond_wait(&w->cond, &w->mutex);
    if (w->io_error)
        return dv_error_set(w->io_error, "%s", w->io_message);
    return 0;
}

static int drain(dv_pack_writer *w)
{
    pthread_mutex_lock(&w->mutex);
    int error = drain_locked(w);
    pthread_mutex_unlock(&w->mutex);
    return error;
}

/* Hand the buffer (a multiple of the alignment unless it is the last) to the writing
 * thread and continue in the spare one. */
static int flush_full_buffer(dv_pack_writer *w)
{
    pthread_mutex_lock(&w->mutex);
    int error = drain_locked(w);
    if (!error) {
        w->inflight = w->buf;
        w->inflight_len = w->buf_len;
        w->buf = w->spare;
        w->spare = NULL;
        w->buf_start += w->buf_len;
        w->buf_len = 0;
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->mutex);
    return error;
}

static int write_bytes(dv_pack_writer *w, const void *data, size_t len)
{
    int error;
    const uint8_t *p = data;
    while (len) {
        size_t room = PACK_WRITE_BUFFER_BYTES - w->buf_len;
        size_t n = len < room ? len : room;
        memcpy(w->buf + w->buf_len, p, n);
        w->buf_len += n;
        p += n;
        len -= n;
        if (w->buf_len == PACK_WRITE_BUFFER_BYTES && (error = flush_full_buffer(w)) < 0)
            return error;
    }
    return 0;
}

static void stop_thread(dv_pack_writer *w)
{
    if (!w->thread_started)
        return;
    pthread_mutex_lock(&w->mutex);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mutex);
    pthread_join(w->thread, NULL);
    w->thread_started = 0;
}

int dv_pack_writer_new(dv_pack_writer **out, const char *tmp_dir)
{
    return dv_pack_writer_new_reusing(out, tmp_dir, NULL);
}

static uint8_t *take_buffer(dv_pack_buffers *reuse, int i)
{
    uint8_t *b = NULL;
    if (reuse && reuse->buf[i]) {
        b = reuse->buf[i];
        reuse->buf[i] = NULL;
    } else if (posix_memalign((void **)&b, PACK_HUGE_ALIGN, PACK_WRITE_BUFFER_BYTES) != 0) {
        b = NULL;
    } else {
        /* In 2 MiB pages the kernel pins a buffer for a direct write in 4 steps, not 2048. */
        madvise(b, PACK_WRITE_BUFFER_BYTES, MADV_HUGEPAGE);
    }
    return b;
}

static void give_buffer(dv_pack_buffers *reuse, uint8_t *b)
{
    if (!b)
        return;
    for (int i = 0; reuse && i < 2; i++) {
        if (!reuse->buf[i]) {
            reuse->buf[i] = b;
            return;
        }
    }
    free(b);
}

void dv_pack_buffers_release(dv_pack_buffers *reuse)
{
    for (int i = 0; i < 2; i++) {
        free(reuse->buf[i]);
        reuse->buf[i] = NULL;
    }
}

/* The temp pack, with a shared flock on read_fd for as long as the writer lives (it stays
 * on the file after the rename into packs/): the store's cleanup (dv_odb_remove_stale_tmp)
 * removes only files nobody holds a lock on, so it tells a killed writer's leftover from a
 * pack another process (a linked worktree, a clone sharing cache.dir) is writing now. A
 * cleanup that took the file between its creation and our lock has unlinked it: start
 * again with a new name. */
static int create_locked_tmp(dv_pack_writer *w, const char *tmp_dir)
{
    int error;
    for (int attempt = 0; attempt < 10; attempt++) {
        if ((error = dv_fs_tmpfile_in(&w->fd, &w->tmp_path, tmp_dir, "pack-", 0444)) < 0)
            return error;
        if ((w->read_fd = open(w->tmp_path.ptr, O_RDONLY | O_CLOEXEC)) < 0)
            return dv_error_errno("cannot open %s", w->tmp_path.ptr);
        struct stat st;
        int rc;
        while ((rc = flock(w->read_fd, LOCK_SH)) < 0 && errno == EINTR)
            ;
        if (rc < 0 || fstat(w->read_fd, &st) < 0)
            return dv_error_errno("cannot lock %s", w->tmp_path.ptr);
        if (st.st_nlink > 0)
            return 0;
        close(w->read_fd);
        close(w->fd);
        w->read_fd = w->fd = -1;
        dv_tempfile_forget(w->tmp_path.ptr);
    }
    return dv_error_set(DV_EIO, "cannot create a temporary pack in %s (removed as it was made)",
                        tmp_dir);
}

int dv_pack_writer_new_reusing(dv_pack_writer **out, const char *tmp_dir, dv_pack_buffers *reuse)
{
    int error;
    dv_pack_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return dv_error_set(DV_ENOMEM, "out of memory");
    w->reuse = reuse;
    w->fd = w->read_fd = -1;
    w->tmp_path = (dv_buf)DV_BUF_INIT;
    w->pack_path = (dv_buf)DV_BUF_INIT;
    w->idx_path = (dv_buf)DV_BUF_INIT;
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->cond, NULL);
    if ((error = dv_hasher_new(&w->hasher)) < 0)
        goto fail;
    if (!(w->buf = take_buffer(reuse, 0)) || !(w->spare = take_buffer(reuse, 1))) {
        error = dv_error_set(DV_ENOMEM, "out of memory for the pack buffer");
        goto fail;
    }
    if ((error = create_locked_tmp(w, tmp_dir)) < 0)
        goto fail;
    if (pthread_create(&w->thread, NULL, write_thread, w) != 0) {
        error = dv_error_set(DV_ERROR, "cannot start the pack writing thread");
        goto fail;
    }
    w->thread_started = 1;
    int fl = fcntl(w->fd, F_GETFL);
    w->direct = fl >= 0 && !getenv("DV_NO_DIRECT_IO") && fcntl(w->fd, F_SETFL, fl | O_DIRECT) == 0;
    uint8_t header[DV_PACK_HEADER_BYTES];
    memcpy(header, DV_PACK_MAGIC, 4);
    dv_put_be32(header + 4, DV_PACK_VERSION);
    if ((error = write_bytes(w, header, sizeof(header))) < 0 ||
        (error = dv_hasher_update(w->hasher, header, sizeof(header))) < 0)
        goto fail;
    w->bytes = sizeof(header);
    *out = w;
    return 0;
fail:
    dv_pack_writer_free(w);
    return error;
}

int dv_pack_writer_reserve(dv_pack_writer *w, dv_pack_entry *out, const dv_oid *id, uint8_t type,
                           uint8_t flags, uint32_t raw_len, uint32_t stored_len)
{
    int error;
    if (w->n_entries == w->alloc_entries) {
        size_t n = w->alloc_entries ? w->alloc_entries * 2 : 256;
        dv_pack_entry *e = realloc(w->entries, n * sizeof(*e));
        if (!e)
            return dv_error_set(DV_ENOMEM, "out of memory");
        w->entries = e;
        w->alloc_entries = n;
    }
    if ((w->n_entries + 1) * 2 > w->n_slots && (error = writer_index_grow(w)) < 0)
        return error;

    dv_pack_entry *e = &w->entries[w->n_entries];
    e->id = *id;
    e->offset = w->bytes;
    e->stored_len = stored_len;
    e->raw_len = raw_len;
    e->type = type;
    e->flags = flags;
    w->bytes += DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)stored_len;

    size_t s = slot_of(id, w->n_slots);
    while (w->slots[s])
        s = (s + 1) & (w->n_slots - 1);
    w->slots[s] = (uint32_t)(w->n_entries + 1);
    w->n_entries++;
    *out = *e;
    return 0;
}

int dv_pack_writer_write(dv_pack_writer *w, const dv_pack_entry *e, const void *stored,
                         uint32_t crc)
{
    int error;
    uint8_t header[DV_PACK_ENTRY_HEADER_BYTES];
    assert(e->offset == w->buf_start + w->buf_len);
    dv_pack__encode_entry_header(header, e);
    dv_put_be32(header + DV_PACK_ENTRY_CRC_OFFSET, crc);
    if ((error = write_bytes(w, header, sizeof(header))) < 0 ||
        (error = write_bytes(w, stored, e->stored_len)) < 0)
        return error;
    /* The pack checksum covers the headers, whose ids cover the contents: a damaged
     * stored byte fails its object's decode and hash check instead. */
    return dv_hasher_update(w->hasher, header, sizeof(header));
}

int dv_pack_writer_append(dv_pack_writer *w, const dv_oid *id, uint8_t type, uint8_t flags,
                          uint32_t raw_len, const void *stored, uint32_t stored_len)
{
    dv_pack_entry e;
    int error = dv_pack_writer_reserve(w, &e, id, type, flags, raw_len, stored_len);
    return error < 0 ? error : dv_pack_writer_write(w, &e, stored, dv_crc32c(stored, stored_len));
}

int dv_pack_writer_find(const dv_pack_writer *w, const dv_oid *id, dv_pack_entry *out)
{
    if (!w->n_slots)
        return 0;
    size_t s = slot_of(id, w->n_slots);
    while (w->slots[s]) {
        const dv_pack_entry *e = &w->entries[w->slots[s] - 1];
        if (!dv_oid_cmp(&e->id, id)) {
            if (out)
                *out = *e;
            return 1;
        }
        s = (s + 1) & (w->n_slots - 1);
    }
    return 0;
}

int dv_pack_writer_read_stored(dv_buf *out, dv_pack_writer *w, const dv_pack_entry *e)
{
    int error;
    dv_buf_clear(out);
    if ((error = dv_buf_grow(out, e->stored_len)) < 0)
        return error;
    /* The entry may lie partly in the file and partly still in the buffer. */
    if ((error = drain(w)) < 0)
        return error;
    uint64_t start = e->offset + DV_PACK_ENTRY_HEADER_BYTES, end = start + e->stored_len;
    uint64_t on_file = w->buf_start;
    if (start < on_file) {
        uint64_t in_file = (end < on_file ? end : on_file) - start;
        if ((error = dv_fs_pread_all(w->read_fd, out->ptr, (size_t)in_file, start,
                                     w->tmp_path.ptr)) < 0)
            return error;
    }
    if (end > on_file) {
        uint64_t from = start > on_file ? start : on_file;
        memcpy(out->ptr + (from - start), w->buf + (from - on_file), (size_t)(end - from));
    }
    out->len = e->stored_len;
    out->ptr[out->len] = '\0';
    return 0;
}

uint64_t dv_pack_writer_bytes(const dv_pack_writer *w)
{
    return w->bytes;
}

size_t dv_pack_writer_count(const dv_pack_writer *w)
{
    return w->n_entries;
}

static int compare_entries(const void *a, const void *b)
{
    return dv_oid_cmp(&((const dv_pack_entry *)a)->id, &((const dv_pack_entry *)b)->id);
}

static int build_index(dv_buf *out, const dv_oid *pack_id, dv_pack_entry *entries, size_t n)
{
    int error;
    qsort(entries, n, sizeof(*entries), compare_entries);
    if ((error = dv_buf_grow(out, DV_INDEX_HEADER_BYTES + DV_INDEX_FANOUT_BYTES +
                                      n * (DV_OID_BYTES + DV_INDEX_RECORD_BYTES) +
                                      DV_INDEX_TRAILER_BYTES)) < 0)
        return error;
    if ((error = dv_buf_put(out, DV_INDEX_MAGIC, 4)) < 0 ||
        (error = dv_buf_put_be32(out, DV_PACK_VERSION)) < 0 ||
        (error = dv_buf_put_be32(out, (uint32_t)n)) < 0 ||
        (error = dv_buf_put(out, pack_id->id, DV_OID_BYTES)) < 0)
        return error;
    uint32_t fanout[256] = {0};
    for (size_t i = 0; i < n; i++)
        fanout[entries[i].id.id[0]]++;
    uint32_t running = 0;
    for (int b = 0; b < 256; b++) {
        running += fanout[b];
        if ((error = dv_buf_put_be32(out, running)) < 0)
            return error;
    }
    for (size_t i = 0; i < n; i++)
        if ((error = dv_buf_put(out, entries[i].id.id, DV_OID_BYTES)) < 0)
            return error;
    for (size_t i = 0; i < n; i++) {
        uint8_t rec[DV_INDEX_RECORD_BYTES];
        dv_put_be64(rec, entries[i].offset);
        dv_put_be32(rec + 8, entries[i].stored_len);
        dv_put_be32(rec + 12, entries[i].raw_len);
        rec[16] = entries[i].type;
        rec[17] = entries[i].flags;
        rec[18] = rec[19] = 0;
        if ((error = dv_buf_put(out, rec, sizeof(rec))) < 0)
            return error;
    }
    dv_oid checksum;
    if ((error = dv_hash_buffer(&checksum, out->ptr, out->len)) < 0)
        return error;
    return dv_buf_put(out, checksum.id, DV_OID_BYTES);
}

/* On the writing thread, after the last byte was written: fsync and rename the pack,
 * then write its index. Only this thread touches fd and the entries now; readers of
 * unsealed entries use read_fd, entries through the slots, which stay valid. */
static int seal_files(dv_pack_writer *w)
{
    int error;
    dv_buf idx = DV_BUF_INIT;
    dv_pack_entry *sorted = NULL;
    if (w->direct && ftruncate(w->fd, (off_t)w->seal_end) < 0)
        return dv_error_errno("cannot truncate %s", w->tmp_path.ptr);
    int fd = w->fd;
    w->fd = -1;
    if ((error = dv_fs_commit_tmp(fd, w->tmp_path.ptr, w->pack_path.ptr, DV_FS_DURABLE)) < 0)
        goto done;
    w->tmp_committed = 1;
    /* The index is sorted by id; the entries stay in append order for the slots. */
    if (!(sorted = malloc(w->n_entries * sizeof(*sorted)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(sorted, w->entries, w->n_entries * sizeof(*sorted));
    if ((error = build_index(&idx, &w->pack_id, sorted, w->n_entries)) < 0 ||
        (error = dv_fs_write_atomic(w->idx_path.ptr, idx.ptr, idx.len, 0444, DV_FS_DURABLE)) < 0)
        goto done;
done:
    free(sorted);
    dv_buf_release(&idx);
    return error;
}

int dv_pack_writer_finish_start(dv_pack_writer *w, const char *packs_dir)
{
    int error = 0;
    if (w->n_entries == 0) {
        /* nothing to write: sealed at once, with a zero id */
        pthread_mutex_lock(&w->mutex);
        w->sealed = 1;
        pthread_mutex_unlock(&w->mutex);
        return 0;
    }
    const char *hex;
    if ((error = dv_hasher_final(&w->pack_id, w->hasher)) < 0 ||
        (error = write_bytes(w, w->pack_id.id, DV_OID_BYTES)) < 0)
        goto done;
    hex = dv_oid_hex(&w->pack_id);
    if ((error = dv_buf_printf(&w->pack_path, "%s/%s.pack", packs_dir, hex)) < 0 ||
        (error = dv_buf_printf(&w->idx_path, "%s/%s.idx", packs_dir, hex)) < 0)
        goto done;
    w->seal_end = w->buf_start + w->buf_len;
    if (w->buf_len) {
        if (w->direct) {
            size_t padded = (w->buf_len + PACK_DIRECT_ALIGN - 1) & ~(size_t)(PACK_DIRECT_ALIGN - 1);
            memset(w->buf + w->buf_len, 0, padded - w->buf_len);
            w->buf_len = padded;
        }
        if ((error = flush_full_buffer(w)) < 0)
            goto done;
    }
    pthread_mutex_lock(&w->mutex);
    w->seal_requested = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mutex);
done:
    if (error < 0)
        error = dv_error_wrap(error, "cannot seal pack in %s", packs_dir);
    return error;
}

int dv_pack_writer_finish_done(dv_pack_writer *w)
{
    pthread_mutex_lock(&w->mutex);
    int done = w->sealed;
    pthread_mutex_unlock(&w->mutex);
    return done;
}

int dv_pack_writer_finish_wait(dv_oid *pack_id, dv_pack_writer *w)
{
    pthread_mutex_lock(&w->mutex);
    while (!w->sealed)
        pthread_cond_wait(&w->cond, &w->mutex);
    int error = w->seal_error;
    if (error < 0)
        error = dv_error_set(error, "cannot seal pack %s: %s", w->pack_path.ptr, w->seal_message);
    pthread_mutex_unlock(&w->mutex);
    if (error < 0)
        memset(pack_id, 0, sizeof(*pack_id));
    else
        *pack_id = w->pack_id;
    return error;
}

int dv_pack_writer_finish(dv_oid *pack_id, dv_pack_writer *w, const char *packs_dir)
{
    int error = dv_pack_writer_finish_start(w, packs_dir);
    if (error == 0)
        error = dv_pack_writer_finish_wait(pack_id, w);
    else
        memset(pack_id, 0, sizeof(*pack_id));
    dv_pack_writer_free(w);
    return error;
}

void dv_pack_writer_free(dv_pack_writer *w)
{
    if (!w)
        return;
    stop_thread(w);
    if (w->fd >= 0)
        close(w->fd);
    if (w->read_fd >= 0)
        close(w->read_fd);
    give_buffer(w->reuse, w->buf);
    give_buffer(w->reuse, w->spare);
    give_buffer(w->reuse, w->inflight);
    pthread_mutex_destroy(&w->mutex);
    pthread_cond_destroy(&w->cond);
    if (w->tmp_path.len && !w->tmp_committed)
        unlink(w->tmp_path.ptr);
    dv_buf_release(&w->tmp_path);
    dv_buf_release(&w->pack_path);
    dv_buf_release(&w->idx_path);
    dv_hasher_free(w->hasher);
    free(w->entries);
    free(w->slots);
    free(w);
}

int dv_pack_series_seal(dv_pack_series *s)
{
    if (!s->writer)
        return 0;
    dv_oid id;
    dv_pack_writer *w = s->writer;
    s->writer = NULL;
    int error = dv_pack_writer_finish(&id, w, s->dir);
    if (error < 0 || dv_oid_is_zero(&id))
        return error;
    if (s->n == s->alloc) {
        size_t alloc = s->alloc ? s->alloc * 2 : 4;
        dv_oid *grown = realloc(s->ids, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        s->ids = grown;
        s->alloc = alloc;
    }
    s->ids[s->n++] = id;
    return 0;
}

int dv_pack_series_append(dv_pack_series *s, const dv_oid *id, uint8_t type, uint8_t flags,
                          uint32_t raw_len, const void *stored, uint32_t stored_len)
{
    int error;
    if (!s->writer && (error = dv_pack_writer_new(&s->writer, s->dir)) < 0)
        return error;
    if ((error = dv_pack_writer_append(s->writer, id, type, flags, raw_len, stored, stored_len)) <
        0)
        return error;
    return dv_pack_writer_bytes(s->writer) >= s->target_bytes ? dv_pack_series_seal(s) : 0;
}

int dv_pack_series_has(const dv_pack_series *s, const dv_oid *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!dv_oid_cmp(&s->ids[i], id))
            return 1;
    return 0;
}

void dv_pack_series_release(dv_pack_series *s)
{
    dv_pack_writer_free(s->writer);
    free(s->ids);
    s->writer = NULL;
    s->ids = NULL;
    s->n = s->alloc = 0;
}
