/* chunkmap: the manifest's (id, offset) pairs sorted by id, found by binary search. */
#include "core/data/chunkmap.h"

#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/object/hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct placed_chunk {
    dv_oid id;
    uint64_t offset;
} placed_chunk;

struct dv_chunkmap {
    placed_chunk *chunks;
    size_t n;
};

static int by_id_then_offset(const void *a, const void *b)
{
    const placed_chunk *x = a, *y = b;
    int c = dv_oid_cmp(&x->id, &y->id);
    if (c)
        return c;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

int dv_chunkmap_new(dv_chunkmap **out, const dv_manifest *m)
{
    dv_chunkmap *map = calloc(1, sizeof(*map));
    if (!map || !(map->chunks = malloc((m->n_chunks ? m->n_chunks : 1) * sizeof(placed_chunk)))) {
        free(map);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < m->n_chunks; i++) {
        map->chunks[i].id = m->chunks[i].id;
        map->chunks[i].offset = offset;
        offset += m->chunks[i].len;
    }
    map->n = m->n_chunks;
    qsort(map->chunks, map->n, sizeof(placed_chunk), by_id_then_offset);
    *out = map;
    return 0;
}

int dv_chunkmap_find(const dv_chunkmap *map, const dv_oid *id, uint64_t *offset)
{
    size_t lo = 0, hi = map->n; /* the first entry not below id is in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dv_oid_cmp(&map->chunks[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == map->n || dv_oid_cmp(&map->chunks[lo].id, id) != 0)
        return 0;
    *offset = map->chunks[lo].offset;
    return 1;
}

/* Chunks hashed together, so the wide hashing lanes have work. */
#define READ_GROUP 32

static int verify(const dv_manifest_entry *wanted, size_t n, int *found, const uint8_t **data)
{
    const uint8_t *group_data[READ_GROUP];
    size_t lens[READ_GROUP], which[READ_GROUP], k = 0;
    dv_oid ids[READ_GROUP];
    for (size_t i = 0; i <= n; i++) {
        if (i < n && found[i]) {
            group_data[k] = data[i];
            lens[k] = wanted[i].len;
            which[k++] = i;
        }
        if (k == READ_GROUP || (i == n && k)) {
            int error = dv_hash_many(ids, group_data, lens, k);
            if (error < 0)
                return error;
            for (size_t j = 0; j < k; j++)
                if (dv_oid_cmp(&ids[j], &wanted[which[j]].id) != 0)
                    found[which[j]] = 0;
            k = 0;
        }
    }
    return 0;
}

int dv_chunkmap_read(const dv_chunkmap *map, int fd, const dv_manifest_entry *wanted, size_t n,
                     dv_buf *buf, int *found, const uint8_t **data)
{
    int error;
    uint64_t *at = malloc((n ? n : 1) * sizeof(*at));
    size_t total = 0;
    memset(found, 0, n * sizeof(*found));
    if (!at)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        found[i] = dv_chunkmap_find(map, &wanted[i].id, &at[i]);
        if (found[i])
            total += wanted[i].len;
    }
    dv_buf_clear(buf);
    if ((error = dv_buf_grow(buf, total)) < 0) {
        memset(found, 0, n * sizeof(*found));
        goto done;
    }
    for (size_t i = 0, j; i < n; i = j) {
        j = i + 1;
        if (!found[i])
            continue;
        size_t len = wanted[i].len;
        for (; j < n && found[j] && at[j] == at[i] + len; j++)
            len += wanted[j].len;
        size_t got = 0, used = 0;
        uint8_t *into = (uint8_t *)buf->ptr + buf->len;
        if (dv_fs_pread_full(fd, into, len, at[i], &got, "the file being replaced") < 0) {
            dv_error_clear(); /* the caller reads these elsewhere; the message would mislead */
            got = 0;
        }
        /* A short read (the file was cut) still holds the chunks before the cut. */
        for (size_t k = i; k < j; k++) {
            data[k] = into + used;
            used += wanted[k].len;
            found[k] = used <= got;
        }
        buf->len += len;
    }
    if ((error = verify(wanted, n, found, data)) < 0)
        memset(found, 0, n * sizeof(*found));
done:
    free(at);
    return error;
}

void dv_chunkmap_free(dv_chunkmap *map)
{
    if (!map)
        return;
    free(map->chunks);
    free(map);
}
