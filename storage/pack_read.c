/* pack_read: sealed packs and their mmapped indexes. */
#include "storage/pack_read.h"

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/simd/crc32c.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

struct dv_pack {
    dv_oid id;
    dv_buf pack_path;
    dv_buf idx_path;
    int fd;
    /* A second descriptor with O_DIRECT for reading runs that are not in the page cache:
     * PACK_FD_UNOPENED until first needed, -1 where the file system refuses O_DIRECT. */
    int direct_fd;
    /* A mapping of the pack, only to ask the kernel what is cached: NULL until first
     * needed, PACK_NO_MAP when it could not be made. */
    const uint8_t *cache_map;
    uint64_t pack_bytes;
    const uint8_t *map;
    size_t map_len;
    uint32_t count;
    const uint8_t *fanout;
    const uint8_t *ids;
    const uint8_t *records;
    /* The filter of the ids (see filter_build): NULL until built, then never changed. It
     * is published with release and read with acquire, so any thread may look ids up
     * while one builds it. */
    uint64_t *filter;
    size_t filter_mask; /* blocks - 1 */
    uint64_t lookups;   /* before the filter was built */
};

/* Check the structure of an index's bytes (not its trailer checksum). */
static int check_index_bytes(uint32_t *count_out, const uint8_t *map, size_t map_len,
                             const dv_oid *pack_id, const char *where)
{
    size_t min_len = DV_INDEX_HEADER_BYTES + DV_INDEX_FANOUT_BYTES + DV_INDEX_TRAILER_BYTES;
    if (map_len < min_len)
        return dv_error_set(DV_ECORRUPT, "pack index %s is truncated (run dv fsck)", where);
    if (memcmp(map, DV_INDEX_MAGIC, 4) || dv_get_be32(map + 4) != DV_PACK_VERSION)
        return dv_error_set(DV_ECORRUPT, "%s is not a dv pack index of version %d", where,
                            DV_PACK_VERSION);
    uint32_t count = dv_get_be32(map + 8);
    if (memcmp(map + 12, pack_id->id, DV_OID_BYTES))
        return dv_error_set(DV_ECORRUPT, "pack index %s names another pack (run dv fsck)", where);
    uint64_t want = (uint64_t)min_len + (uint64_t)count * (DV_OID_BYTES + DV_INDEX_RECORD_BYTES);
    if (want != map_len)
        return dv_error_set(DV_ECORRUPT,
                            "pack index %s has %zu bytes, expected %llu for %u entries "
                            "(run dv fsck)",
                            where, map_len, (unsigned long long)want, count);
    const uint8_t *fanout = map + DV_INDEX_HEADER_BYTES;
    uint32_t prev = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t f = dv_get_be32(fanout + 4 * b);
        if (f < prev || f > count)
            return dv_error_set(DV_ECORRUPT, "pack index %s has a bad fanout table (run dv fsck)",
                                where);
        prev = f;
    }
    if (prev != count)
        return dv_error_set(DV_ECORRUPT, "pack index %s has a bad fanout table (run dv fsck)",
                            where);
    *count_out = count;
    return 0;
}

int dv_pack_check_index(const uint8_t *data, size_t len, const dv_oid *pack_id, const char *where)
{
    uint32_t count;
    int error = check_index_bytes(&count, data, len, pack_id, where);
    if (error < 0)
        return error;
    dv_oid sum;
    if ((error = dv_hash_buffer(&sum, data, len - DV_INDEX_TRAILER_BYTES)) < 0)
        return error;
    if (memcmp(sum.id, data + len - DV_INDEX_TRAILER_BYTES, DV_OID_BYTES))
        return dv_error_set(DV_ECORRUPT, "pack index %s fails its checksum", where);
    /* An index made by someone else may have a good checksum and still be out of order, and
     * a lookup would then miss what it lists: the ids must rise strictly, each in the fanout
     * bucket of its first byte. */
    const uint8_t *fanout = data + DV_INDEX_HEADER_BYTES;
    const uint8_t *ids = fanout + DV_INDEX_FANOUT_BYTES;
    uint32_t from = 0;
    for (int b = 0; b < 256; b++) {
        uint32_t to = dv_get_be32(fanout + 4 * b);
        for (uint32_t i = from; i < to; i++) {
            const uint8_t *id = ids + (size_t)i * DV_OID_BYTES;
            if (id[0] != b || (i && memcmp(id - DV_OID_BYTES, id, DV_OID_BYTES) >= 0))
                return dv_error_set(DV_ECORRUPT,
                                    "pack index %s lists its objects out of order (entry %u); "
                                    "it was not written by dv (run dv fsck)",
                                    where, i);
        }
        from = to;
    }
    return 0;
}

/* Map p->idx_path and check its structure. */
static int map_index(dv_pack *p)
{
    int error = 0;
    int idx_fd = open(p->idx_path.ptr, O_RDONLY | O_CLOEXEC);
    if (idx_fd < 0)
        return dv_error_errno("cannot open pack index %s", p->idx_path.ptr);
    struct stat st;
    if (fstat(idx_fd, &st) < 0) {
        error = dv_error_errno("cannot stat %s", p->idx_path.ptr);
        goto done;
    }
    if (st.st_size <= 0) {
        error = dv_error_set(DV_ECORRUPT, "pack index %s is empty (run dv fsck)", p->idx_path.ptr);
        goto done;
    }
    p->map_len = (size_t)st.st_size;
    void *map = mmap(NULL, p->map_len, PROT_READ, MAP_PRIVATE, idx_fd, 0);
    if (map == MAP_FAILED) {
        error = dv_error_errno("cannot map %s", p->idx_path.ptr);
        goto done;
    }
    p->map = map;
    if ((error = check_index_bytes(&p->count, p->map, p->map_len, &p->id, p->idx_path.ptr)) < 0)
        goto done;
    p->fanout = p->map + DV_INDEX_HEADER_BYTES;
    p->ids = p->fanout + DV_INDEX_FANOUT_BYTES;
    p->records = p->ids + (size_t)p->count * DV_OID_BYTES;
done:
    close(idx_fd);
    return error;
}

#define PACK_FD_UNOPENED (-2)
#define PACK_NO_MAP ((const uint8_t *)MAP_FAILED)

static int pack_alloc(dv_pack **out, const dv_oid *pack_id)
{
    dv_pack *p = calloc(1, sizeof(*p));
    if (!p)
        return dv_error_set(DV_ENOMEM, "out of memory");
    p->fd = -1;
    p->direct_fd = PACK_FD_UNOPENED;
    p->pack_path = (dv_buf)DV_BUF_INIT;
    p->idx_path = (dv_buf)DV_BUF_INIT;
    p->id = *pack_id;
    *out = p;
    return 0;
}

int dv_pack_open(dv_pack **out, const char *packs_dir, const dv_oid *pack_id)
{
    dv_pack *p = NULL;
    int error = pack_alloc(&p, pack_id);
    if (error < 0)
        return error;
    const char *hex = dv_oid_hex(pack_id);
    if ((error = dv_buf_printf(&p->pack_path, "%s/%s.pack", packs_dir, hex)) < 0 ||
        (error = dv_buf_printf(&p->idx_path, "%s/%s.idx", packs_dir, hex)) < 0 ||
        (error = map_index(p)) < 0)
        goto fail;
    p->fd = open(p->pack_path.ptr, O_RDONLY | O_CLOEXEC);
    if (p->fd < 0) {
        error = dv_error_errno("cannot open pack %s", p->pack_path.ptr);
        goto fail;
    }
    struct stat st;
    if (fstat(p->fd, &st) < 0) {
        error = dv_error_errno("cannot stat %s", p->pack_path.ptr);
        goto fail;
    }
    p->pack_bytes = (uint64_t)st.st_size;
    *out = p;
    return 0;
fail:
    dv_pack_free(p);
    return error;
}

/* The size of the pack an index describes: the end of its last entry (the largest offset
 * + entry header + stored_len; the header alone when it has none) plus the trailer. A
 * pack is written entry after entry with nothing between them, so this is exact. */
static int pack_bytes_from_index(uint64_t *out, const dv_pack *p)
{
    uint64_t end = DV_PACK_HEADER_BYTES;
    for (size_t i = 0; i < dv_pack_count(p); i++) {
        dv_pack_entry e;
        dv_pack_entry_at(p, i, &e);
        uint64_t span = (uint64_t)DV_PACK_ENTRY_HEADER_BYTES + e.stored_len;
        if (e.offset > UINT64_MAX - span - DV_PACK_TRAILER_BYTES)
            return dv_error_set(DV_ECORRUPT, "the index of %s has an entry at offset %llu",
                                p->pack_path.ptr, (unsigned long long)e.offset);
        if (e.offset + span > end)
            end = e.offset + span;
    }
    *out = end + DV_PACK_TRAILER_BYTES;
    return 0;
}

int dv_pack_open_index(dv_pack **out, const char *idx_path, const char *pack_name,
                       const dv_oid *pack_id, uint64_t pack_bytes)
{
    dv_pack *p = NULL;
    int error = pack_alloc(&p, pack_id);
    if (error < 0)
        return error;
    if ((error = dv_buf_puts(&p->pack_path, pack_name)) < 0 ||
        (error = dv_buf_puts(&p->idx_path, idx_path)) < 0 || (error = map_index(p)) < 0) {
        dv_pack_free(p);
        return error;
    }
    p->pack_bytes = pack_bytes;
    if (pack_bytes == DV_PACK_BYTES_FROM_INDEX &&
        (error = pack_bytes_from_index(&p->pack_bytes, p)) < 0) {
        dv_pack_free(p);
        return error;
    }
    *out = p;
    return 0;
}

void dv_pack_free(dv_pack *p)
{
    if (!p)
        return;
    free(p->filter);
    if (p->map)
        munmap((void *)p->map, p->map_len);
    if (p->fd >= 0)
        close(p->fd);
    if (p->direct_fd >= 0)
        close(p->direct_fd);
    if (p->cache_map && p->cache_map != PACK_NO_MAP)
        munmap((void *)p->cache_map, (size_t)p->pack_bytes);
    dv_buf_release(&p->pack_path);
    dv_buf_release(&p->idx_path);
    free(p);
}

const dv_oid *dv_pack_id(const dv_pack *p)
{
    return &p->id;
}

const char *dv_pack_path(const dv_pack *p)
{
    return p->pack_path.ptr;
}

size_t dv_pack_count(const dv_pack *p)
{
    return p->count;
}

void dv_pack_entry_at(const dv_pack *p, size_t i, dv_pack_entry *out)
{
    const uint8_t *rec = p->records + i * DV_INDEX_RECORD_BYTES;
    memcpy(out->id.id, p->ids + i * DV_OID_BYTES, DV_OID_BYTES);
    out->offset = dv_get_be64(rec);
    out->stored_len = dv_get_be32(rec + 8);
    out->raw_len = dv_get_be32(rec + 12);
    out->type = rec[16];
    out->flags = rec[17];
}

static int compare_offset(const void *a, const void *b)
{
    const dv_pack_entry *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

int dv_pack_entries_in_order(dv_pack_entry **entries, size_t *cap, size_t *n, const dv_pack *pack,
                             dv_pack_want_fn want, void *ctx)
{
    size_t count = dv_pack_count(pack);
    *n = 0;
    if (count > *cap || !*entries) {
        size_t want_cap = count ? count : 1;
        dv_pack_entry *grown = realloc(*entries, want_cap * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        *entries = grown;
        *cap = want_cap;
    }
    for (size_t j = 0; j < count; j++) {
        dv_pack_entry_at(pack, j, &(*entries)[*n]);
        if (!want || want(ctx, &(*entries)[*n].id))
            (*n)++;
    }
    qsort(*entries, *n, sizeof(**entries), compare_offset);
    return 0;
}

/*
 * A blocked Bloom filter of a pack's ids, made once the pack has answered
 * PACK_FILTER_AFTER lookups. In a store of many packs most lookups are for ids a pack
 * lacks (a new chunk is looked up in every pack, newest first), and a million-file add
 * spent more time in those binary searches, each a few cache misses in every index, than
 * in hashing. The filter answers them from one cache line: 16 bits an id, six of them set
 * in one 512-bit block, so about one absent id in a thousand still takes the search. Ids
 * are SHA-256 values, so their bytes serve as the hash.
 */
#define PACK_FILTER_AFTER 4096
#define PACK_FILTER_BITS_PER_ID 16
#define PACK_FILTER_BLOCK_WORDS 8 /* 512 bits */
#define PACK_FILTER_PROBES 6
/* Steps of a lookup that guess the position from the ids' values before plain halving. */
#define PACK_INTERPOLATION_STEPS 4

static int filter_may_hold(const uint64_t *filter, size_t mask, const uint8_t *id)
{
    const uint64_t *block = filter + (dv_get_be64(id + 8) & mask) * PACK_FILTER_BLOCK_WORDS;
    uint64_t bits = dv_get_be64(id + 16);
    for (int k = 0; k < PACK_FILTER_PROBES; k++, bits >>= 9)
        if (!(block[(bits & 511) >> 6] & (1ull << (bits & 63))))
            return 0;
    return 1;
}

static void filter_build(dv_pack *p)
{
    size_t blocks = 1;
    while (blocks * PACK_FILTER_BLOCK_WORDS * 64 < (size_t)p->count * PACK_FILTER_BITS_PER_ID)
        blocks *= 2;
    uint64_t *filter = calloc(blocks * PACK_FILTER_BLOCK_WORDS, sizeof(*filter));
    if (!filter)
        return; /* only slower */
    size_t mask = blocks - 1;
    for (size_t i = 0; i < p->count; i++) {
        const uint8_t *id = p->ids + i * DV_OID_BYTES;
        uint64_t *block = filter + (dv_get_be64(id + 8) & mask) * PACK_FILTER_BLOCK_WORDS;
        uint64_t bits = dv_get_be64(id + 16);
        for (int k = 0; k < PACK_FILTER_PROBES; k++, bits >>= 9)
            block[(bits & 511) >> 6] |= 1ull << (bits & 63);
    }
    p->filter_mask = mask;
    __atomic_store_n(&p->filter, filter, __ATOMIC_RELEASE);
}

void dv_pack_prefetch(const dv_pack *p, const dv_oid *id)
{
    uint8_t first = id->id[0];
    size_t lo = first ? dv_get_be32(p->fanout + 4 * (first - 1)) : 0;
    size_t hi = dv_get_be32(p->fanout + 4 * first);
    if (lo >= hi || hi > p->count)
        return;
    const uint64_t *filter = __atomic_load_n(&p->filter, __ATOMIC_ACQUIRE);
    if (filter)
        __builtin_prefetch(filter +
                           (dv_get_be64(id->id + 8) & p->filter_mask) * PACK_FILTER_BLOCK_WORDS);
    /* dv_pack_find's first guess, and the entries on either side of it */
    uint64_t key = dv_get_be64(id->id), key_lo = (uint64_t)first << 56;
    size_t mid = lo + (size_t)((unsigned __int128)(key - key_lo) * (hi - lo) >> 56);
    const uint8_t *at = p->ids + mid * DV_OID_BYTES;
    __builtin_prefetch(at);
    if (mid > lo)
        __builtin_prefetch(at - 64);
    if (mid + 2 < hi)
        __builtin_prefetch(at + 64);
}

int dv_pack_find(const dv_pack *p, const dv_oid *id, dv_pack_entry *out)
{
    const uint64_t *filter = __atomic_load_n(&p->filter, __ATOMIC_ACQUIRE);
    if (filter) {
        if (!filter_may_hold(filter, p->filter_mask, id->id))
            return 0;
    } else if (__atomic_add_fetch(&((dv_pack *)p)->lookups, 1, __ATOMIC_RELAXED) ==
               PACK_FILTER_AFTER) {
        filter_build((dv_pack *)p); /* one thread only: the one that reached the count */
    }
    uint8_t first = id->id[0];
    size_t lo = first ? dv_get_be32(p->fanout + 4 * (first - 1)) : 0;
    size_t hi = dv_get_be32(p->fanout + 4 * first);
    /* Compare the leading 8 bytes as a number first: ids are uniformly random, so
     * the full comparison is needed only on a hit. Being uniform, they also say where in
     * the range an id should lie: the first few steps guess the position from the keys
     * at the ends of the range (interpolation), which lands within a few entries of it,
     * so a lookup touches two or three cache lines instead of one a halving (a bucket of
     * a large pack holds a hundred ids or more). Then, or for an index whose ids are not
     * uniform, plain halving: the answer is the same, any guess inside the range is. */
    uint64_t key = dv_get_be64(id->id);
    uint64_t key_lo = (uint64_t)first << 56, key_hi = key_lo | (((uint64_t)1 << 56) - 1);
    for (int step = 0; lo < hi; step++) {
        size_t mid = lo + (hi - lo) / 2;
        if (step < PACK_INTERPOLATION_STEPS && hi - lo > 16 && key_lo <= key && key <= key_hi)
            mid = lo + (size_t)((unsigned __int128)(key - key_lo) * (hi - lo) /
                                ((unsigned __int128)(key_hi - key_lo) + 1));
        const uint8_t *at = p->ids + mid * DV_OID_BYTES;
        uint64_t k = dv_get_be64(at);
        int c = k < key ? -1 : k > key ? 1 : memcmp(at, id->id, DV_OID_BYTES);
        if (c == 0) {
            if (out)
                dv_pack_entry_at(p, mid, out);
            return 1;
        }
        if (c < 0) {
            lo = mid + 1;
            key_lo = k;
        } else {
            hi = mid;
            key_hi = k;
        }
    }
    return 0;
}

/* What to do about damage: fsck for a local pack; a pack known only by its index is a
 * remote's, which fsck does not read. */
static const char *repair_hint(const dv_pack *p)
{
    return p->fd >= 0 ? "run dv fsck" : "push it again from a clone that has it";
}

int dv_pack_check_bounds(const dv_pack *p, const dv_pack_entry *e)
{
    uint64_t end;
    /* offset comes from an index, perhaps a remote's: an end past 2^64 must not wrap */
    if (e->offset < DV_PACK_HEADER_BYTES ||
        __builtin_add_overflow(e->offset, DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e->stored_len,
                               &end) ||
        p->pack_bytes < DV_PACK_HEADER_BYTES + DV_PACK_TRAILER_BYTES ||
        end > p->pack_bytes - DV_PACK_TRAILER_BYTES)
        return dv_error_set(DV_ECORRUPT, "object %s lies outside pack %s (offset %llu); %s",
                            dv_oid_hex(&e->id), p->pack_path.ptr, (unsigned long long)e->offset,
                            repair_hint(p));
    if (e->stored_len > DV_OBJECT_MAX_BYTES + 1024)
        return dv_error_set(DV_ECORRUPT, "object %s in pack %s claims %u stored bytes; %s",
                            dv_oid_hex(&e->id), p->pack_path.ptr, e->stored_len, repair_hint(p));
    return 0;
}

int dv_pack_read_at(const dv_pack *p, void *buf, size_t len, uint64_t offset)
{
    return dv_fs_pread_all(p->fd, buf, len, offset, p->pack_path.ptr);
}

/* The O_DIRECT descriptor of the pack, opened on first use by whichever thread gets there
 * first; -1 when the file system does not take O_DIRECT. */
static int direct_fd_of(const dv_pack *p)
{
    int *slot = (int *)&p->direct_fd;
    int fd = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (fd != PACK_FD_UNOPENED)
        return fd;
    fd = open(p->pack_path.ptr, O_RDONLY | O_CLOEXEC | O_DIRECT);
    if (fd < 0)
        fd = -1;
    int expected = PACK_FD_UNOPENED;
    if (!__atomic_compare_exchange_n(slot, &expected, fd, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (fd >= 0)
            close(fd);
        fd = expected;
    }
    return fd;
}

/* Is all of [offset, offset + len) of the pack in the page cache? Asked through a mapping
 * of the file made on first use (mincore neither reads nor starts readahead); 1 when the
 * kernel cannot tell, so that the caller reads through the cache as before. */
static int is_cached(const dv_pack *p, uint64_t offset, size_t len)
{
    const uint8_t **slot = (const uint8_t **)&p->cache_map;
    const uint8_t *map = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!map) {
        void *m = p->pack_bytes ? mmap(NULL, (size_t)p->pack_bytes, PROT_READ, MAP_SHARED, p->fd, 0)
                                : MAP_FAILED;
        const uint8_t *mine = m == MAP_FAILED ? PACK_NO_MAP : (const uint8_t *)m;
        const uint8_t *expected = NULL;
        if (__atomic_compare_exchange_n(slot, &expected, mine, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            map = mine;
        } else {
            if (mine != PACK_NO_MAP)
                munmap(m, (size_t)p->pack_bytes);
            map = expected;
        }
    }
    uint64_t end;
    if (map == PACK_NO_MAP || __builtin_add_overflow(offset, (uint64_t)len, &end) ||
        end > p->pack_bytes)
        return 1;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t first = offset / page * page;
    size_t span = (size_t)(offset + len - first);
    unsigned char vec[256];
    for (size_t done = 0; done < span;) {
        size_t chunk = span - done < sizeof(vec) * page ? span - done : sizeof(vec) * page;
        if (mincore((void *)(map + first + done), chunk, vec) < 0)
            return 1;
        for (size_t i = 0; i < (chunk + page - 1) / page; i++)
            if (!(vec[i] & 1))
                return 0;
        done += chunk;
    }
    return 1;
}

int dv_pack_read_run(const dv_pack *p, uint8_t *buf, size_t len, uint64_t offset,
                     const uint8_t **out)
{
    assert(((uintptr_t)buf & (DV_PACK_READ_ALIGN - 1)) == 0);
    *out = buf;
    int fd;
    if (is_cached(p, offset, len) || (fd = direct_fd_of(p)) < 0)
        return dv_pack_read_at(p, buf, len, offset);
    uint64_t first = offset & ~(uint64_t)(DV_PACK_READ_ALIGN - 1);
    size_t head = (size_t)(offset - first);
    size_t span = (head + len + DV_PACK_READ_ALIGN - 1) & ~(size_t)(DV_PACK_READ_ALIGN - 1);
    size_t got = 0;
    /* The last block may end past the end of the file: a short read there is fine as long
     * as it covers the bytes asked for. */
    while (got < head + len) {
        ssize_t n = pread(fd, buf + got, span - got, (off_t)(first + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno == EINVAL && got == 0) /* O_DIRECT refused after all: read plainly */
                return dv_pack_read_at(p, buf, len, offset);
            return dv_error_errno("cannot read %s at offset %llu", p->pack_path.ptr,
                                  (unsigned long long)(first + got));
        }
        if (n == 0)
            return dv_error_set(DV_ECORRUPT, "%s is truncated at offset %llu", p->pack_path.ptr,
                                (unsigned long long)(first + got));
        got += (size_t)n;
        if (got % DV_PACK_READ_ALIGN)
            break; /* end of file */
    }
    if (got < head + len)
        return dv_error_set(DV_ECORRUPT, "%s is truncated at offset %llu", p->pack_path.ptr,
                            (unsigned long long)(first + got));
    *out = buf + head;
    return 0;
}

int dv_pack_check_entry_header(const dv_pack *p, const dv_pack_entry *e, const uint8_t *bytes)
{
    uint8_t expect[DV_PACK_ENTRY_HEADER_BYTES];
    dv_pack__encode_entry_header(expect, e);
    if (memcmp(expect, bytes, DV_PACK_ENTRY_CRC_OFFSET))
        return dv_error_set(DV_ECORRUPT,
                            "object %s: entry header in pack %s does not match its index; %s",
                            dv_oid_hex(&e->id), p->pack_path.ptr, repair_hint(p));
    return 0;
}

int dv_pack_check_entry(const dv_pack *p, const dv_pack_entry *e, const uint8_t *bytes)
{
    int error = dv_pack_check_entry_header(p, e, bytes);
    if (error < 0)
        return error;
    uint32_t crc = dv_get_be32(bytes + DV_PACK_ENTRY_CRC_OFFSET);
    if (dv_crc32c(bytes + DV_PACK_ENTRY_HEADER_BYTES, e->stored_len) != crc)
        return dv_error_set(DV_ECORRUPT,
                            "object %s in pack %s fails its CRC-32C check (the pack is damaged); "
                            "%s",
                            dv_oid_hex(&e->id), p->pack_path.ptr, repair_hint(p));
    return 0;
}

int dv_pack_read_stored(dv_buf *out, dv_pack *p, const dv_pack_entry *e)
{
    int error;
    if ((error = dv_pack_check_bounds(p, e)) < 0)
        return error;
    dv_buf_clear(out);
    size_t total = DV_PACK_ENTRY_HEADER_BYTES + e->stored_len;
    if ((error = dv_buf_grow(out, total)) < 0 ||
        (error = dv_pack_read_at(p, out->ptr, total, e->offset)) < 0 ||
        (error = dv_pack_check_entry(p, e, (const uint8_t *)out->ptr)) < 0)
        return error;
    memmove(out->ptr, out->ptr + DV_PACK_ENTRY_HEADER_BYTES, e->stored_len);
    out->len = e->stored_len;
    out->ptr[out->len] = '\0';
    return 0;
}

int dv_pack_unpack(dv_buf *out, const dv_pack_entry *e, const void *stored, size_t stored_len,
                   void *zstd_dctx, const char *where)
{
    int error = 0;
    ZSTD_DCtx *own = NULL;
    dv_buf_clear(out);
    if (e->raw_len > DV_OBJECT_MAX_BYTES)
        return dv_error_set(DV_ECORRUPT, "object %s in %s claims %u bytes; run dv fsck",
                            dv_oid_hex(&e->id), where, e->raw_len);
    if ((error = dv_buf_grow(out, e->raw_len)) < 0)
        return error;
    if (e->flags == DV_PACK_RAW) {
        if (stored_len != e->raw_len)
            return dv_error_set(DV_ECORRUPT, "object %s in %s: stored length %zu != size %u",
                                dv_oid_hex(&e->id), where, stored_len, e->raw_len);
        memcpy(out->ptr, stored, stored_len);
    } else if (e->flags == DV_PACK_ZSTD) {
        ZSTD_DCtx *dctx = zstd_dctx;
        if (!dctx && !(dctx = own = ZSTD_createDCtx()))
            return dv_error_set(DV_ENOMEM, "out of memory for zstd");
        size_t n = ZSTD_decompressDCtx(dctx, out->ptr, e->raw_len, stored, stored_len);
        if (ZSTD_isError(n) || n != e->raw_len) {
            error = dv_error_set(DV_ECORRUPT, "object %s in %s does not decompress: %s",
                                 dv_oid_hex(&e->id), where,
                                 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
            goto done;
        }
    } else {
        return dv_error_set(DV_ECORRUPT, "object %s in %s has unknown flags %u", dv_oid_hex(&e->id),
                            where, e->flags);
    }
    out->len = e->raw_len;
    out->ptr[out->len] = '\0';
done:
    ZSTD_freeDCtx(own);
    return error;
}

int dv_pack_decode(dv_buf *out, const dv_pack_entry *e, const void *stored, size_t stored_len,
                   void *zstd_dctx, const char *where)
{
    int error;
    dv_oid actual;
    if ((error = dv_pack_unpack(out, e, stored, stored_len, zstd_dctx, where)) < 0 ||
        (error = dv_hash_buffer(&actual, out->ptr, out->len)) < 0)
        return error;
    if (dv_oid_cmp(&actual, &e->id))
        return dv_error_set(DV_ECORRUPT, "object %s in %s is corrupt: its content hashes to %s",
                            dv_oid_hex(&e->id), where, dv_oid_hex(&actual));
    return 0;
}

/* The pack file read from start to end in large sequential reads: a window of the file in
 * buf, refilled as the walk moves on, and grown only for an entry larger than it. */
typedef struct pack_reader {
    const dv_pack *pack;
    uint8_t *buf;
    size_t cap;
    uint64_t at; /* file offset of buf[0] */
    size_t len;  /* bytes of buf that hold the file */
} pack_reader;

/* Make [off, off + len) of the pack available in r->buf; *out points at it. The caller has
 * checked that the range lies inside the file. */
static int reader_need(pack_reader *r, uint64_t off, size_t len, const uint8_t **out)
{
    int error;
    if (off >= r->at && off + len <= r->at + r->len) {
        *out = r->buf + (off - r->at);
        return 0;
    }
    if (len > r->cap) {
        uint8_t *grown = realloc(r->buf, len);
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory verifying %s", r->pack->pack_path.ptr);
        r->buf = grown;
        r->cap = len;
    }
    /* Keep what is already read of the range, then fill the rest of the buffer. */
    size_t keep = 0;
    if (off >= r->at && off < r->at + r->len) {
        keep = (size_t)(r->at + r->len - off);
        memmove(r->buf, r->buf + (off - r->at), keep);
    }
    uint64_t left = r->pack->pack_bytes - off;
    size_t want = left < r->cap ? (size_t)left : r->cap;
    if ((error = dv_fs_pread_all(r->pack->fd, r->buf + keep, want - keep, off + keep,
                                 r->pack->pack_path.ptr)) < 0)
        return error;
    r->at = off;
    r->len = want;
    *out = r->buf;
    return 0;
}

#define PACK_VERIFY_BUFFER_BYTES (8u * 1024 * 1024)

int dv_pack_verify(dv_pack *p, unsigned flags, dv_pack_problem_fn problem, void *ctx)
{
    int error = 0, n_problems = 0;
    dv_hasher *hasher = NULL;
    dv_buf msg = DV_BUF_INIT;
    pack_reader r = {p, NULL, 0, 0, 0};
    const uint8_t *bytes;
    if (p->pack_bytes < DV_PACK_HEADER_BYTES + DV_PACK_TRAILER_BYTES) {
        problem(ctx, p, NULL, "pack is truncated");
        return 1;
    }
    if ((error = dv_hasher_new(&hasher)) < 0)
        return error;
    if (!(r.buf = malloc(PACK_VERIFY_BUFFER_BYTES))) {
        error = dv_error_set(DV_ENOMEM, "out of memory verifying %s", p->pack_path.ptr);
        goto done;
    }
    r.cap = PACK_VERIFY_BUFFER_BYTES;
    /* The kernel reads ahead further for a file declared sequential. */
    posix_fadvise(p->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if ((error = reader_need(&r, 0, DV_PACK_HEADER_BYTES, &bytes)) < 0 ||
        (error = dv_hasher_update(hasher, bytes, DV_PACK_HEADER_BYTES)) < 0)
        goto done;
    if (memcmp(bytes, DV_PACK_MAGIC, 4) || dv_get_be32(bytes + 4) != DV_PACK_VERSION) {
        problem(ctx, p, NULL, "pack header is not a dv pack of version 1");
        n_problems++;
    }
    /* Walk the entries from the start, as a reader without the index would. */
    uint64_t body = p->pack_bytes - DV_PACK_TRAILER_BYTES, off = DV_PACK_HEADER_BYTES;
    size_t n_entries = 0;
    while (off < body) {
        if (body - off < DV_PACK_ENTRY_HEADER_BYTES) {
            problem(ctx, p, NULL, "pack ends inside an entry header");
            n_problems++;
            break;
        }
        uint8_t header[DV_PACK_ENTRY_HEADER_BYTES];
        if ((error = reader_need(&r, off, DV_PACK_ENTRY_HEADER_BYTES, &bytes)) < 0)
            goto done;
        memcpy(header, bytes, sizeof(header));
        if ((error = dv_hasher_update(hasher, header, DV_PACK_ENTRY_HEADER_BYTES)) < 0)
            goto done;
        dv_pack_entry e, in_index;
        memcpy(e.id.id, header + 12, DV_OID_BYTES);
        e.offset = off;
        e.type = header[0];
        e.flags = header[1];
        e.raw_len = dv_get_be32(header + 4);
        e.stored_len = dv_get_be32(header + 8);
        uint8_t expect[DV_PACK_ENTRY_HEADER_BYTES];
        int found = dv_pack_find(p, &e.id, &in_index);
        if (found)
            dv_pack__encode_entry_header(expect, &in_index);
        if (!found || in_index.offset != off || memcmp(expect, header, DV_PACK_ENTRY_CRC_OFFSET)) {
            dv_buf_clear(&msg);
            if ((error = dv_buf_printf(&msg, "the entry at offset %llu does not match the index",
                                       (unsigned long long)off)) < 0)
                goto done;
            problem(ctx, p, &e.id, msg.ptr);
            n_problems++;
        }
        n_entries++;
        uint64_t stored_at = off + DV_PACK_ENTRY_HEADER_BYTES;
        if (e.stored_len > body - stored_at) {
            problem(ctx, p, &e.id, "the entry runs past the end of the pack");
            n_problems++;
            break;
        }
        if (flags & DV_PACK_VERIFY_CRC) {
            if (e.stored_len > DV_OBJECT_MAX_BYTES + 1024) {
                dv_buf_clear(&msg);
                if ((error = dv_buf_printf(&msg, "the entry at offset %llu claims %u stored bytes",
                                           (unsigned long long)off, e.stored_len)) < 0)
                    goto done;
                problem(ctx, p, &e.id, msg.ptr);
                n_problems++;
            } else {
                if ((error = reader_need(&r, stored_at, e.stored_len, &bytes)) < 0)
                    goto done;
                if (dv_crc32c(bytes, e.stored_len) !=
                    dv_get_be32(header + DV_PACK_ENTRY_CRC_OFFSET)) {
                    dv_buf_clear(&msg);
                    if ((error = dv_buf_printf(
                             &msg,
                             "the stored bytes of the entry at offset %llu fail their "
                             "CRC-32C check",
                             (unsigned long long)off)) < 0)
                        goto done;
                    problem(ctx, p, &e.id, msg.ptr);
                    n_problems++;
                }
            }
        }
        off = stored_at + e.stored_len;
    }
    if (n_entries != p->count) {
        dv_buf_clear(&msg);
        if ((error = dv_buf_printf(&msg, "the pack holds %zu entries but its index lists %u",
                                   n_entries, p->count)) < 0)
            goto done;
        problem(ctx, p, NULL, msg.ptr);
        n_problems++;
    }
    dv_oid sum, trailer;
    if ((error = dv_hasher_final(&sum, hasher)) < 0 ||
        (error = reader_need(&r, body, DV_PACK_TRAILER_BYTES, &bytes)) < 0)
        goto done;
    memcpy(trailer.id, bytes, DV_OID_BYTES);
    if (dv_oid_cmp(&sum, &trailer) || dv_oid_cmp(&sum, &p->id)) {
        problem(ctx, p, NULL, "pack checksum does not match its name (the pack file is damaged)");
        n_problems++;
    }
    dv_oid idx_sum;
    if ((error = dv_hash_buffer(&idx_sum, p->map, p->map_len - DV_INDEX_TRAILER_BYTES)) < 0)
        goto done;
    if (memcmp(idx_sum.id, p->map + p->map_len - DV_INDEX_TRAILER_BYTES, DV_OID_BYTES)) {
        problem(ctx, p, NULL, "pack index checksum does not match (the index file is damaged)");
        n_problems++;
    }
    for (size_t i = 1; i < p->count; i++) {
        if (memcmp(p->ids + (i - 1) * DV_OID_BYTES, p->ids + i * DV_OID_BYTES, DV_OID_BYTES) >= 0) {
            problem(ctx, p, NULL, "pack index ids are not sorted");
            n_problems++;
            break;
        }
    }
    error = n_problems;
done:
    free(r.buf);
    dv_buf_release(&msg);
    dv_hasher_free(hasher);
    return error;
}

int dv_pack_verify_structure(dv_pack *p, dv_pack_problem_fn problem, void *ctx)
{
    return dv_pack_verify(p, 0, problem, ctx);
}

/* The first problem dv_pack_check_whole met, and how many there were. */
typedef struct first_problem {
    dv_buf text;
    int n;
} first_problem;

static void keep_first_problem(void *ctx, const dv_pack *p, const dv_oid *object,
                               const char *message)
{
    first_problem *f = ctx;
    (void)p;
    /* Out of memory here leaves the text short; the pack is reported bad either way. */
    if (f->n++ == 0 &&
        !(object && dv_buf_printf(&f->text, "object %s: ", dv_oid_hex(object)) < 0) &&
        dv_buf_puts(&f->text, message) < 0)
        dv_buf_clear(&f->text);
}

int dv_pack_check_whole(dv_pack *p)
{
    first_problem f = {DV_BUF_INIT, 0};
    int n = dv_pack_verify(p, DV_PACK_VERIFY_CRC, keep_first_problem, &f);
    if (n > 0)
        n = dv_error_set(DV_ECORRUPT, "pack %s is damaged: %s%s; run dv fsck", p->pack_path.ptr,
                         f.text.ptr, f.n > 1 ? " (and more)" : "");
    dv_buf_release(&f.text);
    return n;
}

uint64_t dv_pack_bytes(const dv_pack *p)
{
    return p->pack_bytes;
}

void dv_pack_runs_release(dv_pack_runs *runs)
{
    free(runs->buf);
    runs->buf = NULL;
    runs->capacity = 0;
}

/* The buffer grows by half again at least: groups differ in size, and a buffer made anew
 * for each is new memory, every page of it a fault on first touch. */
int dv_pack_read_runs(dv_pack_runs *runs, dv_pack *const *packs, const dv_pack_entry *entries,
                      size_t n, const uint8_t **bytes)
{
    size_t need = 0; /* at most one run an entry */
    for (size_t i = 0; i < n; i++)
        if (packs[i])
            need += DV_PACK_RUN_BUFFER_BYTES(DV_PACK_ENTRY_HEADER_BYTES +
                                             (size_t)entries[i].stored_len);
    if (!need)
        return 0;
    if (need > runs->capacity) {
        if (need < runs->capacity + runs->capacity / 2)
            need = runs->capacity + runs->capacity / 2;
        dv_pack_runs_release(runs);
        void *p;
        if (posix_memalign(&p, DV_PACK_READ_ALIGN, need) != 0)
            return dv_error_set(DV_ENOMEM, "out of memory for %zu bytes of read buffer", need);
        runs->buf = p;
        runs->capacity = need;
    }
    size_t at = 0;
    for (size_t i = 0, j; i < n; i = j) {
        j = i + 1;
        if (!packs[i])
            continue;
        uint64_t start = entries[i].offset;
        uint64_t end = start + DV_PACK_ENTRY_HEADER_BYTES + entries[i].stored_len;
        for (; j < n && packs[j] == packs[i] && entries[j].offset == end; j++)
            end += DV_PACK_ENTRY_HEADER_BYTES + entries[j].stored_len;
        size_t len = (size_t)(end - start);
        const uint8_t *run;
        int error = dv_pack_read_run(packs[i], runs->buf + at, len, start, &run);
        if (error < 0)
            return error;
        for (size_t k = i; k < j; k++)
            bytes[k] = run + (size_t)(entries[k].offset - start);
        at += DV_PACK_RUN_BUFFER_BYTES(len) & ~(size_t)(DV_PACK_READ_ALIGN - 1);
    }
    return 0;
}
