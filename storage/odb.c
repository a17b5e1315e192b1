/* odb: object database over packs in a cache directory. */
#include "storage/odb.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/simd/crc32c.h"
#include "storage/compress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

struct dv_odb {
    dv_buf cache_dir;
    dv_buf packs_dir;
    dv_buf tmp_dir;
    dv_odb_options opts;
    pthread_mutex_t lock; /* guards packs[] growth and the writer's entry table */
    pthread_mutex_t io;   /* guards the writer's bytes; taken after lock, never before */
    dv_pack **packs;
    size_t n_packs, alloc_packs;
    char **broken;   /* messages about packs that could not be opened */
    size_t n_broken;
    struct orphan_index {
        dv_oid pack_id;
        char *idx_path;
    } * orphans; /* indexes without their pack */
    size_t n_orphans;
    dv_pack_writer *writer;
    /* The previous writer while its thread seals it (at most one, so packs become
     * visible in the order they were written); its objects are found as the writer's. */
    dv_pack_writer *sealing;
    dv_pack_buffers writer_buffers; /* kept from one pack to the next */
    dv_compressor *compressor;      /* for dv_odb_put, writer thread only */
    dv_odb_stats stats;
    dv_odb *alternate;     /* read next when this store lacks an object, or NULL */
    dv_odb_fetch_fn fetch; /* then asked to bring it there, or NULL */
    void *fetch_ctx;
};

static int add_pack(dv_odb *odb, const dv_oid *pack_id)
{
    int error;
    dv_pack *pack;
    if ((error = dv_pack_open(&pack, odb->packs_dir.ptr, pack_id)) < 0)
        return error;
    if (odb->n_packs == odb->alloc_packs) {
        size_t n = odb->alloc_packs ? odb->alloc_packs * 2 : 16;
        dv_pack **p = realloc(odb->packs, n * sizeof(*p));
        if (!p) {
            dv_pack_free(pack);
            return dv_error_set(DV_ENOMEM, "out of memory");
        }
        odb->packs = p;
        odb->alloc_packs = n;
    }
    odb->packs[odb->n_packs++] = pack;
    return 0;
}

/* After a pack failed to open: if its pack file is missing, remember the index as an
 * orphan and return 0; 1 if the pack is there (the failure is something else, whose
 * message is kept); DV_ENOMEM. */
static int note_orphan(dv_odb *odb, const dv_oid *id, const char *idx_name)
{
    dv_buf path = DV_BUF_INIT;
    int error = 1;
    if (dv_buf_printf(&path, "%s/%.*s.pack", odb->packs_dir.ptr, DV_OID_HEX_CHARS, idx_name) < 0) {
        error = DV_ENOMEM;
        goto done;
    }
    struct stat st;
    if (lstat(path.ptr, &st) == 0 || errno != ENOENT)
        goto done;
    struct orphan_index *o = realloc(odb->orphans, (odb->n_orphans + 1) * sizeof(*o));
    if (!o) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    odb->orphans = o;
    dv_buf_clear(&path);
    if (dv_buf_printf(&path, "%s/%s", odb->packs_dir.ptr, idx_name) < 0 ||
        !(o[odb->n_orphans].idx_path = dv_buf_detach(&path))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    o[odb->n_orphans++].pack_id = *id;
    error = 0;
done:
    dv_buf_release(&path);
    return error;
}

static int load_packs(dv_odb *odb)
{
    int error = 0;
    DIR *dir = opendir(odb->packs_dir.ptr);
    if (!dir)
        return dv_error_errno("cannot read directory %s", odb->packs_dir.ptr);
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t len = strlen(de->d_name);
        dv_oid id;
        if (len != DV_OID_HEX_CHARS + 4 || strcmp(de->d_name + DV_OID_HEX_CHARS, ".idx"))
            continue;
        if (dv_oid_fromhex(&id, de->d_name, DV_OID_HEX_CHARS) < 0)
            continue;
        if ((error = add_pack(odb, &id)) == DV_ENOMEM)
            break;
        if (error < 0) {
            /* An index whose pack is gone is no corruption of what is there, and not
             * cleared by adding the data again: fsck reports it apart. */
            int orphan = note_orphan(odb, &id, de->d_name);
            if (orphan < 0) {
                error = orphan;
                break;
            }
            if (orphan == 0) {
                error = 0;
                continue;
            }
        }
        if (error < 0) {
            /* One bad pack must not make the rest of the store unreadable: remember
             * it for fsck and go on without its objects. */
            char **b = realloc(odb->broken, (odb->n_broken + 1) * sizeof(*b));
            if (!b || !(b[odb->n_broken] = strdup(dv_error_last()))) {
                if (b)
                    odb->broken = b;
                error = dv_error_set(DV_ENOMEM, "out of memory");
                break;
            }
            odb->broken = b;
            odb->n_broken++;
            error = 0;
        }
    }
    closedir(dir);
    return error;
}

int dv_odb_open(dv_odb **out, const char *cache_dir, const dv_odb_options *opts)
{
    int error;
    dv_odb *odb = calloc(1, sizeof(*odb));
    if (!odb)
        return dv_error_set(DV_ENOMEM, "out of memory");
    odb->cache_dir = (dv_buf)DV_BUF_INIT;
    odb->packs_dir = (dv_buf)DV_BUF_INIT;
    odb->tmp_dir = (dv_buf)DV_BUF_INIT;
    pthread_mutex_init(&odb->lock, NULL);
    pthread_mutex_init(&odb->io, NULL);
    if (opts)
        odb->opts = *opts;
    if (!odb->opts.pack_target_bytes)
        odb->opts.pack_target_bytes = DV_PACK_TARGET_BYTES_DEFAULT;
    if (!odb->opts.compression_level)
        odb->opts.compression_level = 3;
    if ((error = dv_buf_puts(&odb->cache_dir, cache_dir)) < 0 ||
        (error = dv_buf_joinpath(&odb->packs_dir, cache_dir, "packs")) < 0 ||
        (error = dv_buf_joinpath(&odb->tmp_dir, cache_dir, "tmp")) < 0 ||
        (error = dv_fs_mkdir_p(odb->packs_dir.ptr, 0755)) < 0 ||
        (error = dv_fs_mkdir_p(odb->tmp_dir.ptr, 0755)) < 0 || (error = load_packs(odb)) < 0)
        goto fail;
    *out = odb;
    return 0;
fail:
    dv_odb_free(odb);
    return error;
}

void dv_odb_free(dv_odb *odb)
{
    if (!odb)
        return;
    dv_pack_writer_free(odb->sealing); /* waits for its seal, which completes the pack */
    dv_pack_writer_free(odb->writer);
    dv_pack_buffers_release(&odb->writer_buffers);
    dv_compressor_free(odb->compressor);
    for (size_t i = 0; i < odb->n_packs; i++)
        dv_pack_free(odb->packs[i]);
    free(odb->packs);
    for (size_t i = 0; i < odb->n_broken; i++)
        free(odb->broken[i]);
    free(odb->broken);
    for (size_t i = 0; i < odb->n_orphans; i++)
        free(odb->orphans[i].idx_path);
    free(odb->orphans);
    pthread_mutex_destroy(&odb->lock);
    pthread_mutex_destroy(&odb->io);
    dv_buf_release(&odb->cache_dir);
    dv_buf_release(&odb->packs_dir);
    dv_buf_release(&odb->tmp_dir);
    free(odb);
}

/* The pack of this thread's last hit: objects written together are read together (a
 * file's manifest, then its chunks, then the next file's), so it is asked first. */
static _Thread_local struct {
    const dv_odb *odb;
    size_t pack;
} last_hit;

/* Caller holds odb->lock. The pack of the last hit, then the newest packs first: recent
 * objects are looked up most. */
static int locate_locked(dv_pack **pack, dv_pack_entry *entry, dv_odb *odb, const dv_oid *id)
{
    size_t hint = last_hit.odb == odb && last_hit.pack < odb->n_packs ? last_hit.pack : SIZE_MAX;
    if (hint != SIZE_MAX && dv_pack_find(odb->packs[hint], id, entry)) {
        if (pack)
            *pack = odb->packs[hint];
        return 1;
    }
    for (size_t i = odb->n_packs; i-- > 0;) {
        if (i != hint && dv_pack_find(odb->packs[i], id, entry)) {
            if (pack)
                *pack = odb->packs[i];
            last_hit.odb = odb;
            last_hit.pack = i;
            return 1;
        }
    }
    return 0;
}

int dv_odb_locate(dv_pack **pack, dv_pack_entry *entry, dv_odb *odb, const dv_oid *id)
{
    pthread_mutex_lock(&odb->lock);
    int found = locate_locked(pack, entry, odb, id);
    pthread_mutex_unlock(&odb->lock);
    return found || (odb->alternate && dv_odb_locate(pack, entry, odb->alternate, id));
}

/* Caller holds odb->lock. The unsealed writer that holds id (the one being filled or the
 * one being sealed), or NULL. */
static dv_pack_writer *writer_with_locked(dv_odb *odb, const dv_oid *id, dv_pack_entry *entry)
{
    if (odb->writer && dv_pack_writer_find(odb->writer, id, entry))
        return odb->writer;
    if (odb->sealing && dv_pack_writer_find(odb->sealing, id, entry))
        return odb->sealing;
    return NULL;
}

/* Whether this store itself (not its alternate) holds id. */
static int has_own(dv_odb *odb, const dv_oid *id)
{
    pthread_mutex_lock(&odb->lock);
    int found = locate_locked(NULL, NULL, odb, id) || writer_with_locked(odb, id, NULL);
    pthread_mutex_unlock(&odb->lock);
    return found;
}

int dv_odb_has(dv_odb *odb, const dv_oid *id)
{
    return has_own(odb, id) || (odb->alternate && dv_odb_has(odb->alternate, id));
}

void dv_odb_set_alternate(dv_odb *odb, dv_odb *alternate, dv_odb_fetch_fn fetch, void *ctx)
{
    odb->alternate = alternate;
    odb->fetch = alternate ? fetch : NULL;
    odb->fetch_ctx = ctx;
}

int dv_odb_fetches(const dv_odb *odb)
{
    return odb->fetch != NULL;
}

int dv_odb_prefetch(dv_odb *odb, const dv_oid *ids, size_t n)
{
    if (!odb->fetch)
        return 0;
    dv_oid *missing = NULL;
    size_t n_missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (dv_odb_has(odb, &ids[i]))
            continue;
        if (!missing && !(missing = malloc((n - i) * sizeof(*missing))))
            return dv_error_set(DV_ENOMEM, "out of memory");
        missing[n_missing++] = ids[i];
    }
    int error = n_missing ? odb->fetch(odb->fetch_ctx, missing, n_missing) : 0;
    free(missing);
    return error;
}

static pthread_key_t read_state_key;
static pthread_once_t read_state_once = PTHREAD_ONCE_INIT;

struct read_state {
    ZSTD_DCtx *dctx;
    dv_buf stored;
};

static void read_state_free(void *p)
{
    struct read_state *s = p;
    ZSTD_freeDCtx(s->dctx);
    dv_buf_release(&s->stored);
    free(s);
}

static void read_state_init(void)
{
    pthread_key_create(&read_state_key, read_state_free);
}

static struct read_state *read_state_get(void)
{
    pthread_once(&read_state_once, read_state_init);
    struct read_state *s = pthread_getspecific(read_state_key);
    if (s)
        return s;
    if (!(s = calloc(1, sizeof(*s))))
        return NULL;
    s->stored = (dv_buf)DV_BUF_INIT;
    if (!(s->dctx = ZSTD_createDCtx())) {
        free(s);
        return NULL;
    }
    pthread_setspecific(read_state_key, s);
    return s;
}

static int read_object(dv_buf *out, uint8_t *type, dv_odb *odb, const dv_oid *id, int rehash,
                       int may_fetch)
{
    int error;
    struct read_state *s = read_state_get();
    if (!s)
        return dv_error_set(DV_ENOMEM, "out of memory");
    dv_pack *pack = NULL;
    dv_pack_entry entry;
    const char *where;
    pthread_mutex_lock(&odb->lock);
    int found = locate_locked(&pack, &entry, odb, id);
    dv_pack_writer *w = found ? NULL : writer_with_locked(odb, id, &entry);
    if (w) {
        /* A writer that reserved this entry holds io until its bytes are written; odb->lock
         * keeps a sealing writer from being freed meanwhile. */
        pthread_mutex_lock(&odb->io);
        error = dv_pack_writer_read_stored(&s->stored, w, &entry);
        pthread_mutex_unlock(&odb->io);
        pthread_mutex_unlock(&odb->lock);
        if (error < 0)
            return error;
        where = "the pack being written";
    } else {
        pthread_mutex_unlock(&odb->lock);
        if (!found && odb->alternate) {
            error = read_object(out, type, odb->alternate, id, rehash, 0);
            if (error != DV_ENOTFOUND || !odb->fetch || !may_fetch)
                return error;
            dv_error_clear();
            if ((error = odb->fetch(odb->fetch_ctx, id, 1)) < 0)
                return error;
            /* fetched into the alternate, or (a fetch running beside the read) into odb */
            return read_object(out, type, odb, id, rehash, 0);
        }
        if (!found)
            return dv_error_set(DV_ENOTFOUND, "object %s is not in the store", dv_oid_hex(id));
        /* Sealed packs are never freed while the odb lives, so pack stays valid. */
        if ((error = dv_pack_read_stored(&s->stored, pack, &entry)) < 0)
            return error;
        where = dv_pack_path(pack);
    }
    /* Sealed entries passed their CRC-32C in dv_pack_read_stored; the unsealed pack's
     * bytes were never checked, so they are always re-hashed. */
    if (rehash || !found)
        error = dv_pack_decode(out, &entry, s->stored.ptr, s->stored.len, s->dctx, where);
    else
        error = dv_pack_unpack(out, &entry, s->stored.ptr, s->stored.len, s->dctx, where);
    if (error < 0)
        return error;
    if (type)
        *type = entry.type;
    return 0;
}

int dv_odb_read(dv_buf *out, uint8_t *type, dv_odb *odb, const dv_oid *id)
{
    return read_object(out, type, odb, id, 1, 1);
}

int dv_odb_read_crc_checked(dv_buf *out, uint8_t *type, dv_odb *odb, const dv_oid *id)
{
    return read_object(out, type, odb, id, 0, 1);
}

int dv_odb_unpack(dv_buf *out, const dv_pack_entry *e, const void *stored, size_t stored_len,
                  const char *where)
{
    struct read_state *s = read_state_get();
    if (!s)
        return dv_error_set(DV_ENOMEM, "out of memory");
    return dv_pack_unpack(out, e, stored, stored_len, s->dctx, where);
}

/* Caller holds odb->lock. Wait for the pack being sealed, if any, and add it to the
 * packs. */
static int reap_locked(dv_odb *odb)
{
    dv_oid pack_id;
    dv_pack_writer *w = odb->sealing;
    if (!w)
        return 0;
    int error = dv_pack_writer_finish_wait(&pack_id, w);
    /* Its objects stay findable through the writer until the pack is open. */
    if (error == 0 && !dv_oid_is_zero(&pack_id)) {
        odb->stats.packs_written++;
        error = add_pack(odb, &pack_id);
    }
    odb->sealing = NULL;
    dv_pack_writer_free(w);
    return error;
}

/* Caller holds odb->lock. Seal the pack being written: in the background (wait 0; the
 * previous one is waited for first, so packs become visible in order), or now. */
static int seal_locked(dv_odb *odb, int wait)
{
    int error;
    if ((error = reap_locked(odb)) < 0)
        return error;
    if (!odb->writer)
        return 0;
    dv_pack_writer *w = odb->writer;
    odb->writer = NULL;
    if ((error = dv_pack_writer_finish_start(w, odb->packs_dir.ptr)) < 0) {
        dv_pack_writer_free(w);
        return error;
    }
    odb->sealing = w;
    return wait ? reap_locked(odb) : 0;
}

int dv_odb_put_stored(dv_odb *odb, const dv_oid *id, uint8_t type, uint32_t raw_len, uint8_t flags,
                      const void *stored, uint32_t stored_len, uint32_t crc, int *added)
{
    int error = 0;
    dv_pack_entry entry;
    if (added)
        *added = 0;
    pthread_mutex_lock(&odb->lock);
    if (locate_locked(NULL, NULL, odb, id) || writer_with_locked(odb, id, NULL)) {
        pthread_mutex_unlock(&odb->lock);
        return 0;
    }
    /* A finished seal hands its buffers back before the next writer needs them. */
    if (odb->sealing && dv_pack_writer_finish_done(odb->sealing) && (error = reap_locked(odb)) < 0)
        goto unlock;
    if (!odb->writer && (error = dv_pack_writer_new_reusing(&odb->writer, odb->tmp_dir.ptr,
                                                            &odb->writer_buffers)) < 0)
        goto unlock;
    if ((error =
             dv_pack_writer_reserve(odb->writer, &entry, id, type, flags, raw_len, stored_len)) < 0)
        goto unlock;
    /* Copy the bytes without blocking lookups from the workers. */
    pthread_mutex_lock(&odb->io);
    pthread_mutex_unlock(&odb->lock);
    error = dv_pack_writer_write(odb->writer, &entry, stored, crc);
    pthread_mutex_unlock(&odb->io);
    pthread_mutex_lock(&odb->lock);
    if (error < 0) {
        /* The pack now lacks bytes its entries promise: abandon it whole. */
        dv_pack_writer_free(odb->writer);
        odb->writer = NULL;
        goto unlock;
    }
    odb->stats.objects_added++;
    odb->stats.raw_bytes_added += raw_len;
    odb->stats.stored_bytes_added += stored_len + DV_PACK_ENTRY_HEADER_BYTES;
    if (added)
        *added = 1;
    if (dv_pack_writer_bytes(odb->writer) >= odb->opts.pack_target_bytes)
        error = seal_locked(odb, 0);
unlock:
    pthread_mutex_unlock(&odb->lock);
    return error;
}

int dv_odb_put(dv_odb *odb, const dv_oid *id, uint8_t type, const void *data, size_t len,
               int *added)
{
    int error;
    const void *stored;
    size_t stored_len;
    uint8_t flags;
    if (len > DV_OBJECT_MAX_BYTES)
        return dv_error_set(DV_EUSAGE, "object of %zu bytes is too large to store", len);
    if (has_own(odb, id)) { /* what only the alternate holds is stored here too */
        if (added)
            *added = 0;
        return 0;
    }
    if (!odb->compressor &&
        (error = dv_compressor_new(&odb->compressor, odb->opts.compression_level)) < 0)
        return error;
    if ((error = dv_compressor_run(odb->compressor, data, len, &stored, &stored_len, &flags)) < 0)
        return error;
    return dv_odb_put_stored(odb, id, type, (uint32_t)len, flags, stored, (uint32_t)stored_len,
                             dv_crc32c(stored, stored_len), added);
}

int dv_odb_put_hashed(dv_oid *id_out, dv_odb *odb, uint8_t type, const void *data, size_t len,
                      int *added)
{
    int error;
    if ((error = dv_hash_buffer(id_out, data, len)) < 0)
        return error;
    return dv_odb_put(odb, id_out, type, data, len, added);
}

/* 1 if a live process holds an flock on the file at path (a pack writer holds one on its
 * pack from its creation until its index is written), 0 if nobody does or it is gone. */
static int held_by_writer(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd); /* releases the lock we may have taken; the file goes after that */
    return held;
}

/* Remove the entries of dir that keep() rejects, unless a writer holds them. Removing a
 * file takes its flock first, so a writer that locks it a moment later sees it unlinked
 * (pack_write starts again then). */
static int remove_unwanted(dv_odb *odb, const char *dir_path, int (*keep)(dv_odb *, const char *))
{
    DIR *dir = opendir(dir_path);
    if (!dir)
        return dv_error_errno("cannot read directory %s", dir_path);
    dv_buf path = DV_BUF_INIT;
    struct dirent *de;
    int error = 0;
    while ((de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || keep(odb, de->d_name))
            continue;
        dv_buf_clear(&path);
        if ((error = dv_buf_printf(&path, "%s/%s", dir_path, de->d_name)) < 0)
            break;
        int fd = open(path.ptr, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
            close(fd); /* another process is writing it */
            continue;
        }
        if (unlink(path.ptr) < 0 && errno != ENOENT) {
            error = dv_error_errno("cannot remove %s", path.ptr);
            if (fd >= 0)
                close(fd);
            break;
        }
        if (fd >= 0)
            close(fd);
    }
    closedir(dir);
    dv_buf_release(&path);
    return error;
}

static int keep_in_tmp(dv_odb *odb, const char *name)
{
    /* Only the packs this odb is writing or sealing now (others are kept by their lock). */
    return (odb->writer || odb->sealing) && !strncmp(name, "pack-", 5);
}

static int keep_in_packs(dv_odb *odb, const char *name)
{
    size_t len = strlen(name);
    dv_oid id;
    if (name[0] == '.') {
        /* An index temp file ".<id>.idx.tmp-XXXXXX": of an interrupted seal, unless the
         * writer of pack <id> is still there (it holds the pack's lock). */
        if (len > DV_OID_HEX_CHARS + 1 && dv_oid_fromhex(&id, name + 1, DV_OID_HEX_CHARS) == 0) {
            dv_buf pack = DV_BUF_INIT;
            int held = dv_buf_printf(&pack, "%s/%.*s.pack", odb->packs_dir.ptr, DV_OID_HEX_CHARS,
                                     name + 1) == 0 &&
                       held_by_writer(pack.ptr);
            dv_buf_release(&pack);
            return held;
        }
        return 0;
    }
    if (len == DV_OID_HEX_CHARS + 5 && !strcmp(name + DV_OID_HEX_CHARS, ".pack") &&
        dv_oid_fromhex(&id, name, DV_OID_HEX_CHARS) == 0) {
        /* A pack whose index was never written is not part of the store. */
        dv_buf idx = DV_BUF_INIT;
        int has_index =
            dv_buf_printf(&idx, "%s/%.*s.idx", odb->packs_dir.ptr, DV_OID_HEX_CHARS, name) == 0 &&
            dv_fs_exists(idx.ptr) == 1;
        dv_buf_release(&idx);
        return has_index;
    }
    return 1;
}

int dv_odb_remove_stale_tmp(dv_odb *odb)
{
    int error = remove_unwanted(odb, odb->tmp_dir.ptr, keep_in_tmp);
    if (!error)
        error = remove_unwanted(odb, odb->packs_dir.ptr, keep_in_packs);
    return error;
}

const char *dv_odb_tmp_dir(const dv_odb *odb)
{
    return odb->tmp_dir.ptr;
}

size_t dv_odb_broken_count(const dv_odb *odb)
{
    return odb->n_broken;
}

const char *dv_odb_broken_at(const dv_odb *odb, size_t i)
{
    return odb->broken[i];
}

size_t dv_odb_orphan_index_count(const dv_odb *odb)
{
    return odb->n_orphans;
}

const char *dv_odb_orphan_index_at(const dv_odb *odb, size_t i, dv_oid *pack_id)
{
    *pack_id = odb->orphans[i].pack_id;
    return odb->orphans[i].idx_path;
}

/* Move one pack and then its index from staging's packs directory into odb's, holding the
 * pack's flock meanwhile. */
static int adopt_pack(dv_odb *odb, dv_odb *staging, const dv_oid *id)
{
    dv_buf from = DV_BUF_INIT, to = DV_BUF_INIT;
    const char *hex = dv_oid_hex(id);
    int error = 0, fd = -1;
    static const char *const suffixes[] = {".pack", ".idx"};
    for (size_t k = 0; k < 2 && error == 0; k++) {
        dv_buf_clear(&from);
        dv_buf_clear(&to);
        if ((error = dv_buf_printf(&from, "%s/%s%s", staging->packs_dir.ptr, hex, suffixes[k])) <
                0 ||
            (error = dv_buf_printf(&to, "%s/%s%s", odb->packs_dir.ptr, hex, suffixes[k])) < 0)
            break;
        if (k == 0) {
            fd = open(from.ptr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 || flock(fd, LOCK_EX) < 0) {
                error = dv_error_errno("cannot lock %s", from.ptr);
                break;
            }
        }
        if (rename(from.ptr, to.ptr) < 0)
            error = dv_error_errno("cannot move %s to %s", from.ptr, to.ptr);
    }
    if (error == 0)
        error = dv_fs_fsync_dir(odb->packs_dir.ptr);
    if (fd >= 0)
        close(fd); /* after the index is in place: the pack is part of the store now */
    dv_buf_release(&from);
    dv_buf_release(&to);
    return error;
}

int dv_odb_adopt_packs(dv_odb *odb, dv_odb *staging)
{
    int error = 0;
    for (size_t i = 0; i < staging->n_packs && error == 0; i++) {
        const dv_oid *id = dv_pack_id(staging->packs[i]);
        if ((error = adopt_pack(odb, staging, id)) < 0)
            break;
        pthread_mutex_lock(&odb->lock);
        error = add_pack(odb, id);
        pthread_mutex_unlock(&odb->lock);
    }
    return error;
}

int dv_odb_flush(dv_odb *odb)
{
    pthread_mutex_lock(&odb->lock);
    int error = seal_locked(odb, 1);
    pthread_mutex_unlock(&odb->lock);
    return error;
}

int dv_odb_compression_level(const dv_odb *odb)
{
    return odb->opts.compression_level;
}

const char *dv_odb_packs_dir(const dv_odb *odb)
{
    return odb->packs_dir.ptr;
}

void dv_odb_stats_get(const dv_odb *odb, dv_odb_stats *out)
{
    *out = odb->stats;
}

size_t dv_odb_pack_count(const dv_odb *odb)
{
    return odb->n_packs;
}

dv_pack *dv_odb_pack_at(const dv_odb *odb, size_t i)
{
    return odb->packs[i];
}
