/* remote_index: the packs a remote holds, through a local cache of their indexes. */
#include "remotes/remote_index.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PACKS_PREFIX "packs/"
#define CACHE_KEY_HEX_CHARS 16
#define INDEX_MAX_BYTES (1ull << 31)

struct dv_remote_index {
    dv_remote *remote;
    dv_buf dir; /* <cache>/remotes/<key> */
    pthread_mutex_t lock;
    dv_pack **packs;
    int64_t *modified; /* per pack, as dv_remote_listed's */
    size_t n, alloc;
};

typedef dv_remote_listed listed;
typedef dv_remote_listing listing;

int dv_remote_pack_name(dv_buf *out, const dv_oid *pack_id, const char *suffix)
{
    dv_buf_clear(out);
    return dv_buf_printf(out, PACKS_PREFIX "%s%s", dv_oid_hex(pack_id), suffix);
}

int dv_remote_put_pack(dv_remote *remote, const char *dir, const dv_oid *id, uint64_t *bytes)
{
    dv_buf path = DV_BUF_INIT, name = DV_BUF_INIT;
    static const char *const suffixes[] = {".pack", ".idx"};
    int error = 0;
    for (int k = 0; k < 2 && error == 0; k++) {
        struct stat st;
        dv_buf_clear(&path);
        if ((error = dv_buf_printf(&path, "%s/%s%s", dir, dv_oid_hex(id), suffixes[k])) < 0 ||
            (error = dv_remote_pack_name(&name, id, suffixes[k])) < 0)
            break;
        if (bytes && stat(path.ptr, &st) == 0)
            *bytes += (uint64_t)st.st_size;
        error = remote->ops->put_file(remote, name.ptr, path.ptr);
    }
    dv_buf_release(&path);
    dv_buf_release(&name);
    return error;
}

static listed *listing_find(listing *l, const dv_oid *id)
{
    for (size_t i = l->n; i > 0; i--) /* a pack's two names are usually listed together */
        if (!memcmp(l->packs[i - 1].id.id, id->id, DV_OID_BYTES))
            return &l->packs[i - 1];
    return NULL;
}

static int on_listed(void *ctx, const char *name, uint64_t size, int64_t modified)
{
    listing *l = ctx;
    const char *base = name + strlen(PACKS_PREFIX);
    if (strncmp(name, PACKS_PREFIX, strlen(PACKS_PREFIX)) || strlen(base) < DV_OID_HEX_CHARS)
        return 0;
    const char *suffix = base + DV_OID_HEX_CHARS;
    int is_pack = !strcmp(suffix, ".pack"), is_idx = !strcmp(suffix, ".idx");
    dv_oid id;
    if ((!is_pack && !is_idx) || dv_oid_fromhex(&id, base, DV_OID_HEX_CHARS) < 0) {
        dv_error_clear();
        return 0; /* not ours */
    }
    listed *p = listing_find(l, &id);
    if (!p) {
        if (l->n == l->alloc) {
            size_t alloc = l->alloc ? l->alloc * 2 : 64;
            listed *grown = realloc(l->packs, alloc * sizeof(*grown));
            if (!grown)
                return dv_error_set(DV_ENOMEM, "out of memory");
            l->packs = grown;
            l->alloc = alloc;
        }
        p = &l->packs[l->n++];
        memset(p, 0, sizeof(*p));
        p->id = id;
        p->modified = modified;
    }
    if (modified == DV_REMOTE_TIME_UNKNOWN || p->modified == DV_REMOTE_TIME_UNKNOWN)
        p->modified = DV_REMOTE_TIME_UNKNOWN;
    else if (modified > p->modified)
        p->modified = modified;
    if (is_pack) {
        p->has_pack = 1;
        p->pack_bytes = size;
    } else {
        p->has_idx = 1;
        p->idx_bytes = size;
    }
    return 0;
}

static int cached_path(dv_buf *out, const dv_remote_index *index, const dv_oid *id)
{
    dv_buf_clear(out);
    return dv_buf_printf(out, "%s/%s.idx", index->dir.ptr, dv_oid_hex(id));
}

static int push_pack(dv_remote_index *index, dv_pack *pack, int64_t modified)
{
    if (index->n == index->alloc) {
        size_t alloc = index->alloc ? index->alloc * 2 : 64;
        dv_pack **grown = realloc(index->packs, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        index->packs = grown;
        int64_t *times = realloc(index->modified, alloc * sizeof(*times));
        if (!times)
            return dv_error_set(DV_ENOMEM, "out of memory");
        index->modified = times;
        index->alloc = alloc;
    }
    index->modified[index->n] = modified;
    index->packs[index->n++] = pack;
    return 0;
}

static int open_cached(dv_pack **out, dv_remote_index *index, const listed *p)
{
    dv_buf path = DV_BUF_INIT, name = DV_BUF_INIT;
    uint64_t pack_bytes =
        p->pack_bytes == DV_REMOTE_SIZE_UNKNOWN ? DV_PACK_BYTES_FROM_INDEX : p->pack_bytes;
    int error;
    if ((error = cached_path(&path, index, &p->id)) < 0 ||
        (error = dv_buf_printf(&name, "%s/" PACKS_PREFIX "%s.pack", index->remote->display,
                               dv_oid_hex(&p->id))) < 0)
        goto done;
    error = dv_pack_open_index(out, path.ptr, name.ptr, &p->id, pack_bytes);
done:
    dv_buf_release(&path);
    dv_buf_release(&name);
    return error;
}

typedef struct download_ctx {
    dv_remote_index *index;
    listed **todo;
} download_ctx;

int dv_remote_read_index(dv_buf *out, dv_remote *remote, const dv_remote_listed *p)
{
    dv_buf name = DV_BUF_INIT, where = DV_BUF_INIT;
    int error;
    dv_buf_clear(out);
    if (p->idx_bytes != DV_REMOTE_SIZE_UNKNOWN && p->idx_bytes > INDEX_MAX_BYTES) {
        error = dv_error_set(DV_ECORRUPT, "pack index %s/" PACKS_PREFIX "%s.idx is too large",
                             remote->display, dv_oid_hex(&p->id));
        goto done;
    }
    if ((error = dv_remote_pack_name(&name, &p->id, ".idx")) < 0)
        goto done;
    if (p->idx_bytes == DV_REMOTE_SIZE_UNKNOWN) {
        /* the listing did not say its size: read it whole, then check it as any other */
        if (!remote->ops->get_all) {
            error = dv_error_set(DV_ERROR, "remote %s: cannot read %s of unknown size",
                                 remote->display, name.ptr);
            goto done;
        }
        error = remote->ops->get_all(remote, name.ptr, out, INDEX_MAX_BYTES);
    } else if ((error = dv_buf_grow(out, (size_t)p->idx_bytes)) == 0 &&
               (error = remote->ops->get(remote, name.ptr, 0, (size_t)p->idx_bytes, out->ptr)) ==
                   0) {
        out->len = (size_t)p->idx_bytes;
        out->ptr[out->len] = '\0';
    }
    if (error < 0)
        goto done;
    if ((error = dv_buf_printf(&where, "%s/%s", remote->display, name.ptr)) == 0)
        error = dv_pack_check_index((const uint8_t *)out->ptr, out->len, &p->id, where.ptr);
done:
    dv_buf_release(&name);
    dv_buf_release(&where);
    return error;
}

/* Download one index, check it, and keep it in the cache. */
static int download_one(void *ctx, size_t item, int worker)
{
    download_ctx *d = ctx;
    const listed *p = d->todo[item];
    dv_buf path = DV_BUF_INIT, idx = DV_BUF_INIT;
    int error;
    (void)worker;
    if ((error = cached_path(&path, d->index, &p->id)) == 0 &&
        (error = dv_remote_read_index(&idx, d->index->remote, p)) == 0)
        error = dv_fs_write_atomic(path.ptr, idx.ptr, idx.len, 0444, DV_FS_DURABLE);
    dv_buf_release(&idx);
    dv_buf_release(&path);
    return error;
}

/* Drop cached indexes of packs the remote no longer has. */
static int prune_cache(dv_remote_index *index, listing *l)
{
    DIR *d = opendir(index->dir.ptr);
    if (!d)
        return dv_error_errno("cannot list %s", index->dir.ptr);
    int error = 0;
    dv_buf path = DV_BUF_INIT;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        dv_oid id;
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' && strstr(de->d_name, ".idx.tmp-")) {
            /* a copy a killed command was writing (this runs with the lock held) */
            dv_buf_clear(&path);
            if ((error = dv_buf_printf(&path, "%s/%s", index->dir.ptr, de->d_name)) < 0)
                break;
            unlink(path.ptr);
            continue;
        }
        if (len != DV_OID_HEX_CHARS + 4 || strcmp(de->d_name + DV_OID_HEX_CHARS, ".idx") ||
            dv_oid_fromhex(&id, de->d_name, DV_OID_HEX_CHARS) < 0) {
            dv_error_clear();
            continue;
        }
        listed *p = listing_find(l, &id);
        if (p && p->has_pack && p->has_idx)
            continue;
        dv_buf_clear(&path);
        if ((error = dv_buf_printf(&path, "%s/%s", index->dir.ptr, de->d_name)) < 0)
            break;
        if (unlink(path.ptr) < 0 && errno != ENOENT) {
            error = dv_error_errno("cannot remove %s", path.ptr);
            break;
        }
    }
    closedir(d);
    dv_buf_release(&path);
    return error;
}

int dv_remote_list_packs(dv_remote_listing *out, dv_remote *remote)
{
    memset(out, 0, sizeof(*out));
    int error = remote->ops->list(remote, PACKS_PREFIX, on_listed, out);
    if (error < 0) {
        dv_remote_listing_release(out);
        return dv_error_wrap(error, "cannot list the packs of remote %s", remote->name);
    }
    return 0;
}

void dv_remote_listing_release(dv_remote_listing *l)
{
    free(l->packs);
    memset(l, 0, sizeof(*l));
}

/* <cache>/remotes/<key>, made if needed. */
static int cache_dir_of(dv_buf *out, dv_remote *remote, const char *cache_dir)
{
    dv_oid key;
    char hex[DV_OID_HEX_CHARS + 1];
    int error = dv_hash_buffer(&key, remote->url, strlen(remote->url));
    if (error < 0)
        return error;
    dv_oid_tohex(hex, &key);
    dv_buf_clear(out);
    if ((error = dv_buf_printf(out, "%s/remotes/%.*s", cache_dir, CACHE_KEY_HEX_CHARS, hex)) < 0)
        return error;
    return dv_fs_mkdir_p(out->ptr, 0777);
}

int dv_remote_index_refresh(dv_pack **out, dv_remote *remote, const char *cache_dir,
                            const dv_remote_listed *p)
{
    dv_remote_index index; /* for cached_path and open_cached */
    dv_buf idx = DV_BUF_INIT, path = DV_BUF_INIT;
    int error;
    *out = NULL;
    memset(&index, 0, sizeof(index));
    index.remote = remote;
    index.dir = (dv_buf)DV_BUF_INIT;
    if ((error = cache_dir_of(&index.dir, remote, cache_dir)) == 0 &&
        (error = dv_remote_read_index(&idx, remote, p)) == 0 &&
        (error = cached_path(&path, &index, &p->id)) == 0 &&
        (error = dv_fs_write_atomic(path.ptr, idx.ptr, idx.len, 0444, DV_FS_DURABLE)) == 0)
        error = open_cached(out, &index, p);
    dv_buf_release(&idx);
    dv_buf_release(&path);
    dv_buf_release(&index.dir);
    return error;
}

static int skipped(const dv_oid *skip, size_t n_skip, const dv_oid *id)
{
    for (size_t i = 0; i < n_skip; i++)
        if (!dv_oid_cmp(&skip[i], id))
            return 1;
    return 0;
}

int dv_remote_index_load(dv_remote_index **out, dv_remote *remote, const char *cache_dir,
                         dv_pool *pool)
{
    return dv_remote_index_load_except(out, remote, cache_dir, pool, NULL, 0);
}

int dv_remote_index_open_cached(dv_pack **out, dv_remote *remote, const char *cache_dir,
                                const dv_remote_listed *p)
{
    dv_remote_index index; /* for cached_path and open_cached */
    dv_buf path = DV_BUF_INIT;
    int error;
    *out = NULL;
    memset(&index, 0, sizeof(index));
    index.remote = remote;
    index.dir = (dv_buf)DV_BUF_INIT;
    if ((error = cache_dir_of(&index.dir, remote, cache_dir)) == 0 &&
        (error = cached_path(&path, &index, &p->id)) == 0) {
        int exists = dv_fs_exists(path.ptr);
        error = exists < 0 ? exists
                : !exists  ? dv_error_set(DV_ENOTFOUND,
                                          "no copy of the index of pack %s is "
                                           "cached",
                                          dv_oid_hex(&p->id))
                           : open_cached(out, &index, p);
    }
    dv_buf_release(&path);
    dv_buf_release(&index.dir);
    return error;
}

int dv_remote_index_load_except(dv_remote_index **out, dv_remote *remote, const char *cache_dir,
                                dv_pool *pool, const dv_oid *skip, size_t n_skip)
{
    int error;
    listing l = {0};
    listed **todo = NULL;
    size_t n_todo = 0;
    dv_buf path = DV_BUF_INIT;
    dv_remote_index *index = calloc(1, sizeof(*index));
    if (!index)
        return dv_error_set(DV_ENOMEM, "out of memory");
    index->remote = remote;
    index->dir = (dv_buf)DV_BUF_INIT;
    pthread_mutex_init(&index->lock, NULL);
    if ((error = cache_dir_of(&index->dir, remote, cache_dir)) < 0 ||
        (error = dv_remote_list_packs(&l, remote)) < 0)
        goto fail;
    if (!(todo = calloc(l.n ? l.n : 1, sizeof(*todo)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < l.n; i++) {
        listed *p = &l.packs[i];
        if (!p->has_pack || !p->has_idx || skipped(skip, n_skip, &p->id))
            continue; /* an upload in progress, or one that was interrupted */
        struct stat st;
        if ((error = cached_path(&path, index, &p->id)) < 0)
            goto fail;
        /* A cached copy of an index of unknown size is trusted: its trailer was checked
         * when it was downloaded, and indexes are never modified. */
        if (stat(path.ptr, &st) == 0 &&
            (p->idx_bytes == DV_REMOTE_SIZE_UNKNOWN || (uint64_t)st.st_size == p->idx_bytes))
            continue;
        todo[n_todo++] = p;
    }
    if (n_todo) {
        download_ctx d = {index, todo};
        dv_pool_task task;
        dv_pool_submit(pool, &task, download_one, &d, n_todo);
        if ((error = dv_pool_wait(pool, &task)) == DV_ECORRUPT)
            error = dv_error_wrap(error,
                                  "remote %s holds a damaged pack index (dv fsck --remote "
                                  "names what is damaged; dv push --repair mends it)",
                                  remote->name);
        if (error < 0)
            goto fail;
    }
    for (size_t i = 0; i < l.n; i++) {
        listed *p = &l.packs[i];
        dv_pack *pack;
        if (!p->has_pack || !p->has_idx || skipped(skip, n_skip, &p->id))
            continue;
        if ((error = open_cached(&pack, index, p)) < 0)
            goto fail;
        if ((error = push_pack(index, pack, p->modified)) < 0) {
            dv_pack_free(pack);
            goto fail;
        }
    }
    if ((error = prune_cache(index, &l)) < 0)
        goto fail;
    free(todo);
    free(l.packs);
    dv_buf_release(&path);
    *out = index;
    return 0;
fail:
    free(todo);
    free(l.packs);
    dv_buf_release(&path);
    dv_remote_index_free(index);
    return error;
}

int dv_remote_index_load_cached(dv_remote_index **out, dv_remote *remote, const char *cache_dir)
{
    int error = 0;
    dv_buf path = DV_BUF_INIT;
    DIR *dir = NULL;
    dv_remote_index *index = calloc(1, sizeof(*index));
    *out = NULL;
    if (!index)
        return dv_error_set(DV_ENOMEM, "out of memory");
    index->remote = remote;
    index->dir = (dv_buf)DV_BUF_INIT;
    pthread_mutex_init(&index->lock, NULL);
    if ((error = cache_dir_of(&index->dir, remote, cache_dir)) < 0)
        goto fail;
    if (!(dir = opendir(index->dir.ptr))) {
        error = dv_error_errno("cannot read %s", index->dir.ptr);
        goto fail;
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        listed p;
        size_t len = strlen(de->d_name);
        memset(&p, 0, sizeof(p));
        if (len != DV_OID_HEX_CHARS + 4 || strcmp(de->d_name + DV_OID_HEX_CHARS, ".idx") ||
            dv_oid_fromhex(&p.id, de->d_name, DV_OID_HEX_CHARS) < 0) {
            dv_error_clear();
            continue; /* a temp file, or not ours */
        }
        p.pack_bytes = DV_REMOTE_SIZE_UNKNOWN;
        dv_pack *pack;
        if ((error = open_cached(&pack, index, &p)) < 0)
            goto fail;
        if ((error = push_pack(index, pack, DV_REMOTE_TIME_UNKNOWN)) < 0) {
            dv_pack_free(pack);
            goto fail;
        }
    }
    closedir(dir);
    dv_buf_release(&path);
    *out = index;
    return 0;
fail:
    if (dir)
        closedir(dir);
    dv_buf_release(&path);
    dv_remote_index_free(index);
    return error;
}

void dv_remote_index_free(dv_remote_index *index)
{
    if (!index)
        return;
    for (size_t i = 0; i < index->n; i++)
        dv_pack_free(index->packs[i]);
    free(index->packs);
    free(index->modified);
    dv_buf_release(&index->dir);
    pthread_mutex_destroy(&index->lock);
    free(index);
}

int dv_remote_index_find(dv_remote_index *index, const dv_oid *id, dv_pack **pack,
                         dv_pack_entry *entry)
{
    pthread_mutex_lock(&index->lock);
    int found = 0;
    for (size_t i = index->n; i > 0 && !found; i--) /* newest first */
        if (dv_pack_find(index->packs[i - 1], id, entry)) {
            if (pack)
                *pack = index->packs[i - 1];
            found = 1;
        }
    pthread_mutex_unlock(&index->lock);
    return found;
}

size_t dv_remote_index_pack_count(const dv_remote_index *index)
{
    return index->n;
}

dv_pack *dv_remote_index_pack_at(const dv_remote_index *index, size_t i, int64_t *modified)
{
    if (modified)
        *modified = index->modified[i];
    return index->packs[i];
}

int dv_remote_index_find_since(dv_remote_index *index, const dv_oid *id, int64_t since)
{
    pthread_mutex_lock(&index->lock);
    int found = 0;
    dv_pack_entry entry;
    for (size_t i = index->n; i > 0 && !found; i--)
        if ((index->modified[i - 1] == DV_REMOTE_TIME_UNKNOWN || index->modified[i - 1] >= since) &&
            dv_pack_find(index->packs[i - 1], id, &entry))
            found = 1;
    pthread_mutex_unlock(&index->lock);
    return found;
}

int dv_remote_index_add(dv_remote_index *index, const char *idx_path, const dv_oid *pack_id,
                        uint64_t pack_bytes)
{
    dv_buf data = DV_BUF_INIT, path = DV_BUF_INIT;
    listed p;
    memset(&p, 0, sizeof(p));
    p.id = *pack_id;
    p.pack_bytes = pack_bytes;
    dv_pack *pack = NULL;
    int error;
    if ((error = dv_fs_read_file(&data, idx_path, INDEX_MAX_BYTES)) < 0 ||
        (error = cached_path(&path, index, pack_id)) < 0 ||
        (error = dv_fs_write_atomic(path.ptr, data.ptr, data.len, 0444, DV_FS_DURABLE)) < 0 ||
        (error = open_cached(&pack, index, &p)) < 0)
        goto done;
    pthread_mutex_lock(&index->lock);
    error = push_pack(index, pack, INT64_MAX);
    pthread_mutex_unlock(&index->lock);
    if (error < 0)
        dv_pack_free(pack);
done:
    dv_buf_release(&data);
    dv_buf_release(&path);
    return error;
}
