/* prevchunks: an id -> index table of the previous version's chunks, and the cut that
 * follows them where their hashes prove the bytes unchanged. */
#include "core/data/prevchunks.h"

#include "core/base/bytes.h"
#include "core/base/error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Candidates hashed together: 32 keep the sixteen wide hashing lanes busy. A window
 * doubles while all of its candidates hold, up to 64; a batch holds about 32 chunks of
 * the default sizes, so after a few windows it is the rest of the batch. What a failed
 * candidate can waste is the candidates after it, when they are shifted (an insertion):
 * at most the rest of the window. */
#define WINDOW_MIN 32
#define WINDOW_MAX 64
/* Lookups of scanned chunks' ids that may miss in a row before the next QUIET_BYTES are
 * only scanned: each lookup costs hashing a chunk on one lane, kept as its id if it is
 * one of the cut chunks, wasted if not. New data (an appended part, a rewritten region)
 * then costs one wasted chunk in about 64. */
#define LOOKUP_MISSES 4
#define QUIET_BYTES (1u << 20)

struct dv_prevchunks {
    const dv_manifest *prev;
    dv_chunk_params params;
    size_t n;         /* chunks that can be candidates: all of prev's but the last */
    uint64_t *starts; /* where candidate i starts in the previous version */
    int64_t shift;    /* new offset - old offset of the chunk last found (atomic) */
    uint32_t *slots;  /* open addressing by the id's first bytes: index + 1, 0 when empty */
    size_t mask;
};

typedef struct candidate {
    size_t start; /* in the data */
    size_t index; /* in prev */
    int holds;    /* the bytes at start hash to the chunk's id */
} candidate;

static size_t slot_of(const dv_prevchunks *p, const dv_oid *id)
{
    return (size_t)dv_get_be64(id->id) & p->mask;
}

int dv_prevchunks_new(dv_prevchunks **out, const dv_manifest *prev, const dv_chunk_params *params)
{
    assert(out && prev && params);
    dv_prevchunks *p = calloc(1, sizeof(*p));
    if (!p)
        return dv_error_set(DV_ENOMEM, "out of memory");
    p->prev = prev;
    p->params = *params;
    p->n = prev->n_chunks > 1 ? prev->n_chunks - 1 : 0;
    for (size_t i = 0; i < p->n; i++)
        if (prev->chunks[i].len < params->min || prev->chunks[i].len > params->max)
            p->n = 0;
    size_t size = 16;
    while (size < 2 * p->n)
        size *= 2;
    p->slots = calloc(size, sizeof(*p->slots));
    p->starts = malloc((p->n ? p->n : 1) * sizeof(*p->starts));
    if (!p->slots || !p->starts) {
        dv_prevchunks_free(p);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    for (size_t i = 0, offset = 0; i < p->n; offset += prev->chunks[i++].len)
        p->starts[i] = offset;
    p->mask = size - 1;
    for (size_t i = 0; i < p->n; i++) {
        const dv_oid *id = &prev->chunks[i].id;
        size_t s = slot_of(p, id);
        for (; p->slots[s]; s = (s + 1) & p->mask)
            if (!memcmp(prev->chunks[p->slots[s] - 1].id.id, id->id, DV_OID_BYTES))
                break; /* a repeated chunk: its first place is kept */
        if (!p->slots[s])
            p->slots[s] = (uint32_t)(i + 1);
    }
    *out = p;
    return 0;
}

int dv_prevchunks_usable(const dv_prevchunks *p)
{
    return p && p->n > 0;
}

/* The index of id among the candidates, or -1. */
static long find(const dv_prevchunks *p, const dv_oid *id)
{
    for (size_t s = slot_of(p, id); p->slots[s]; s = (s + 1) & p->mask)
        if (!memcmp(p->prev->chunks[p->slots[s] - 1].id.id, id->id, DV_OID_BYTES))
            return (long)p->slots[s] - 1;
    return -1;
}

/* Lay prev's chunks from index on at data + start, as many as fit in len and the window,
 * and hash them all to see which hold. Sets *n to how many were laid. */
static int lay(const dv_prevchunks *p, const uint8_t *data, size_t len, size_t start, size_t index,
               candidate *c, size_t *n, size_t window)
{
    const uint8_t *ptrs[WINDOW_MAX];
    size_t lens[WINDOW_MAX];
    dv_oid ids[WINDOW_MAX];
    size_t k = 0;
    assert(window <= WINDOW_MAX);
    for (; k < window && index < p->n; k++, index++) {
        size_t chunk_len = p->prev->chunks[index].len;
        if (chunk_len > len - start)
            break;
        c[k] = (candidate){start, index, 0};
        ptrs[k] = data + start;
        lens[k] = chunk_len;
        start += chunk_len;
    }
    *n = k;
    int error;
    if (k && (error = dv_hash_many(ids, ptrs, lens, k)) < 0)
        return error;
    for (size_t i = 0; i < k; i++)
        c[i].holds = !memcmp(ids[i].id, p->prev->chunks[c[i].index].id.id, DV_OID_BYTES);
    return 0;
}

static void put_cut(dv_prevchunks_cuts *out, size_t end, const dv_oid *id)
{
    assert(out->n < out->max_cuts);
    out->ends[out->n] = (uint32_t)end;
    out->known[out->n] = id != NULL;
    if (id)
        out->ids[out->n] = *id;
    out->n++;
}

/* The first candidate that starts at old offset at or after old, or p->n. */
static size_t first_at_or_after(const dv_prevchunks *p, uint64_t old)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->starts[mid] < old)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Lay a candidate where the previous version had its first cut at or after data[0]
 * (file offset offset), moved by the last shift seen. Returns that start if the
 * candidate holds, else 0 (with *n 0). */
static size_t seed(dv_prevchunks *p, const uint8_t *data, size_t len, uint64_t offset, candidate *c,
                   size_t *n, int *error)
{
    int64_t shift = __atomic_load_n(&p->shift, __ATOMIC_RELAXED);
    *n = 0;
    if (offset == 0 || (shift > 0 && (uint64_t)shift > offset))
        return 0;
    size_t index = first_at_or_after(p, (uint64_t)((int64_t)offset - shift));
    if (index == p->n)
        return 0;
    uint64_t start = (uint64_t)((int64_t)p->starts[index] + shift) - offset;
    if (start >= len)
        return 0;
    /* One candidate: where the guess is wrong (new content, a shift not seen yet), only
     * its hash is wasted. The window grows from there as candidates hold. */
    if ((*error = lay(p, data, len, (size_t)start, index, c, n, 1)) < 0 || !*n || !c[0].holds) {
        *n = 0;
        return 0;
    }
    return (size_t)start;
}

int dv_prevchunks_cut(dv_prevchunks *p, const uint8_t *data, size_t len, uint64_t offset,
                      dv_prevchunks_cuts *out, dv_chunker *tail)
{
    int error;
    candidate c[WINDOW_MAX];
    size_t n_cand = 0, next = 0, window = WINDOW_MIN / 2, pos = 0, quiet_until = 0;
    int misses = 0;
    assert(p && out && tail && (data || len == 0) && len <= UINT32_MAX);
    out->n = 0;
    out->scanned = 0;
    dv_chunker_init(tail, &p->params);
    error = 0;
    pos = out->start = seed(p, data, len, offset, c, &n_cand, &error);
    if (error < 0)
        return error;
    while (pos < len) {
        while (next < n_cand && c[next].start < pos)
            next++;
        if (next < n_cand && c[next].start == pos && c[next].holds) {
            const dv_manifest_entry *e = &p->prev->chunks[c[next].index];
            put_cut(out, pos + e->len, &e->id);
            pos += e->len;
            if (++next == n_cand) {
                /* The whole window held: go on with a larger one. */
                size_t index = c[n_cand - 1].index + 1;
                window = window * 2 < WINDOW_MAX ? window * 2 : WINDOW_MAX;
                if ((error = lay(p, data, len, pos, index, c, &n_cand, window)) < 0)
                    return error;
                next = 0;
            }
            continue;
        }
        /* No proven chunk starts here: scan for the next cut. */
        int cut = 0;
        dv_chunker_reset(tail);
        size_t used = dv_chunker_scan(tail, data + pos, len - pos, &cut);
        out->scanned += used;
        if (!cut)
            return 0; /* tail holds the unfinished chunk */
        size_t end = pos + used;
        put_cut(out, end, NULL);
        while (next < n_cand && c[next].start < end)
            next++;
        if (!(next < n_cand && c[next].start == end) && end >= quiet_until &&
            len - end >= p->params.min) {
            /* Off the laid candidates: find the thread again by this chunk's id. */
            dv_oid *id = &out->ids[out->n - 1];
            if ((error = dv_hash_buffer(id, data + pos, end - pos)) < 0)
                return error;
            out->known[out->n - 1] = 1;
            long found = find(p, id);
            if (found >= 0 && (size_t)found + 1 < p->n) {
                int64_t shift = (int64_t)(offset + end) -
                                (int64_t)(p->starts[found] + p->prev->chunks[found].len);
                __atomic_store_n(&p->shift, shift, __ATOMIC_RELAXED);
                window = WINDOW_MIN;
                if ((error = lay(p, data, len, end, (size_t)found + 1, c, &n_cand, window)) < 0)
                    return error;
                next = 0;
                misses = 0;
            } else if (++misses == LOOKUP_MISSES) {
                quiet_until = end + QUIET_BYTES;
                misses = 0;
            }
        }
        pos = end;
    }
    dv_chunker_reset(tail); /* the data ended at a cut */
    return 0;
}

void dv_prevchunks_free(dv_prevchunks *p)
{
    if (!p)
        return;
    free(p->slots);
    free(p->starts);
    free(p);
}
