/*
 * Tests for core/prevchunks: cutting along the previous version's chunks gives exactly
 * the chunker's cuts and tail, from any starting point, for edited, shifted, appended,
 * repeated and unrelated data; the ids it reports are the chunks' SHA-256; and where the
 * data is unchanged it proves chunks by their hashes instead of scanning.
 */
#include "core/data/chunker.h"
#include "core/data/prevchunks.h"
#include "core/object/hash.h"
#include "core/object/object.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)

typedef struct cut_list {
    uint32_t *ends;
    dv_oid *ids;
    uint8_t *known;
    size_t start, n, max;
    uint64_t scanned;
    dv_chunker tail;
} cut_list;

static void cut_list_init(cut_list *l, const dv_chunk_params *p, size_t len)
{
    l->max = len / p->min + 1;
    l->ends = calloc(l->max, sizeof(*l->ends));
    l->ids = calloc(l->max, sizeof(*l->ids));
    l->known = calloc(l->max, sizeof(*l->known));
    cr_assert(l->ends && l->ids && l->known);
    l->n = 0;
}

static void cut_list_free(cut_list *l)
{
    free(l->ends);
    free(l->ids);
    free(l->known);
}

/* The chunker's own cuts of data[0, len), as if a chunk started at data[0]. */
static void scan_cuts(cut_list *l, const dv_chunk_params *p, const uint8_t *data, size_t len)
{
    cut_list_init(l, p, len);
    dv_chunker_init(&l->tail, p);
    for (size_t pos = 0; pos < len;) {
        int cut = 0;
        pos += dv_chunker_scan(&l->tail, data + pos, len - pos, &cut);
        if (!cut)
            break;
        cr_assert_lt(l->n, l->max);
        l->ends[l->n++] = (uint32_t)pos;
    }
}

static void prev_cuts(cut_list *l, dv_prevchunks *prev, const dv_chunk_params *p,
                      const uint8_t *data, size_t len, uint64_t offset)
{
    cut_list_init(l, p, len);
    dv_prevchunks_cuts out = {l->ends, l->ids, l->known, l->max, 0, 0, 0};
    cr_assert_eq(dv_prevchunks_cut(prev, data, len, offset, &out, &l->tail), 0);
    l->start = out.start;
    l->n = out.n;
    l->scanned = out.scanned;
}

/* The manifest a whole file of data gets: its chunks to the end, with their ids. */
static void manifest_of(dv_manifest *m, const dv_chunk_params *p, const uint8_t *data, size_t len)
{
    cut_list l;
    scan_cuts(&l, p, data, len);
    size_t start = 0;
    for (size_t i = 0; i <= l.n; i++) {
        size_t end = i < l.n ? l.ends[i] : len;
        if (end == start)
            break;
        dv_oid id;
        cr_assert_eq(dv_hash_buffer(&id, data + start, end - start), 0);
        cr_assert_eq(dv_manifest_append(m, &id, (uint32_t)(end - start)), 0);
        start = end;
    }
    cut_list_free(&l);
}

static uint8_t *random_data(size_t len, uint64_t seed)
{
    uint8_t *data = malloc(len);
    cr_assert_not_null(data);
    fill_random(data, len, seed);
    return data;
}

/* The index of the manifest that data[0, len) gets with params p; m receives it. */
static dv_prevchunks *index_of(dv_manifest *m, const dv_chunk_params *p, const uint8_t *data,
                               size_t len)
{
    dv_prevchunks *prev = NULL;
    manifest_of(m, p, data, len);
    cr_assert_eq(dv_prevchunks_new(&prev, m, p), 0);
    return prev;
}

/* Cutting data[0, len), at offset in the file, along prev gives the chunker's cuts and
 * tail from the chain's start (0 at offset 0), and every id it reports is the SHA-256 of
 * its chunk. Returns how many of the cuts had ids; *start gets the chain's start. */
static size_t assert_same_as_scan_at(dv_prevchunks *prev, const dv_chunk_params *p,
                                     const uint8_t *data, size_t len, uint64_t offset,
                                     uint64_t *scanned, size_t *start_out)
{
    cut_list want, got;
    prev_cuts(&got, prev, p, data, len, offset);
    size_t from = got.start;
    cr_assert(offset != 0 || from == 0, "a chain at the start of the file starts at %zu", from);
    cr_assert_lt(from, len > 0 ? len : 1);
    scan_cuts(&want, p, data + from, len - from);
    cr_assert_eq(got.n, want.n, "%zu cuts, the chunker makes %zu", got.n, want.n);
    size_t known = 0;
    for (size_t i = 0; i < want.n; i++) {
        want.ends[i] += (uint32_t)from;
        cr_assert_eq(got.ends[i], want.ends[i], "cut %zu at %u, the chunker cuts at %u", i,
                     got.ends[i], want.ends[i]);
        if (got.known[i]) {
            size_t start = i ? want.ends[i - 1] : from;
            dv_oid id;
            cr_assert_eq(dv_hash_buffer(&id, data + start, want.ends[i] - start), 0);
            cr_assert_eq(dv_oid_cmp(&id, &got.ids[i]), 0, "cut %zu has a wrong id", i);
            known++;
        }
    }
    cr_assert_eq(got.tail.pos, want.tail.pos, "tail at %u, the chunker's at %u", got.tail.pos,
                 want.tail.pos);
    cr_assert_eq(got.tail.hash, want.tail.hash, "the tail's hash differs from the chunker's");
    if (scanned)
        *scanned = got.scanned;
    if (start_out)
        *start_out = from;
    cut_list_free(&want);
    cut_list_free(&got);
    return known;
}

static size_t assert_same_as_scan(dv_prevchunks *prev, const dv_chunk_params *p,
                                  const uint8_t *data, size_t len, uint64_t *scanned)
{
    return assert_same_as_scan_at(prev, p, data, len, 0, scanned, NULL);
}

/* A copy of old (len bytes) with n scattered overwrites of edit bytes, plus an insertion and
 * a deletion; its length goes to *out_len. */
static uint8_t *edited_copy(const uint8_t *old, size_t len, size_t *out_len, int n, size_t edit,
                            uint64_t seed)
{
    uint64_t state = seed;
    uint8_t *p = malloc(len + 4096);
    cr_assert_not_null(p);
    memcpy(p, old, len);
    for (int i = 0; i < n; i++)
        fill_random(p + splitmix64(&state) % (len - edit), edit, splitmix64(&state));
    size_t at = len / 3, ins = 1000;
    memmove(p + at + ins, p + at, len - at);
    fill_random(p + at, ins, seed + 1);
    len += ins;
    size_t del_at = 2 * len / 3, del = 3000;
    memmove(p + del_at, p + del_at + del, len - del_at - del);
    *out_len = len - del;
    return p;
}

Test(prevchunks, an_edited_version_is_cut_as_the_chunker_cuts_it)
{
    dv_chunk_params p = dv_chunk_params_default();
    size_t old_len = 24 * MIB, len;
    uint8_t *old = random_data(old_len, 7);
    uint8_t *data = edited_copy(old, old_len, &len, 40, 4 * KIB, 8);
    dv_manifest m = DV_MANIFEST_INIT;
    dv_prevchunks *prev = index_of(&m, &p, old, old_len);
    cr_assert(dv_prevchunks_usable(prev));

    /* The whole file, as the first batch of an ingest sees it. */
    uint64_t scanned = 0;
    size_t known = assert_same_as_scan(prev, &p, data, len, &scanned);
    cr_assert_lt(scanned, len / 4, "scanned %llu of %zu bytes", (unsigned long long)scanned, len);
    cr_assert_gt(known, m.n_chunks * 3 / 4, "only %zu chunks proven or hashed", known);

    /* Pieces that start anywhere, as later batches do (2 MiB, and odd lengths). */
    uint64_t state = 9;
    for (int i = 0; i < 40; i++) {
        size_t piece = i % 2 ? 2 * MIB : 1 + splitmix64(&state) % (3 * MIB);
        size_t from = splitmix64(&state) % (len - piece);
        assert_same_as_scan_at(prev, &p, data + from, piece, from, NULL, NULL);
    }
    /* Batches in file order, as an ingest reads them: after the insertion the shift is
     * known, and most batches start their chain on the file's own cuts. */
    size_t seeded = 0, batches = 0;
    for (size_t from = 0; from < len; from += 2 * MIB, batches++) {
        size_t piece = len - from < 2 * MIB ? len - from : 2 * MIB, start = 0;
        assert_same_as_scan_at(prev, &p, data + from, piece, from, NULL, &start);
        seeded += start > 0;
    }
    cr_assert_geq(seeded, batches / 2, "%zu of %zu batches seeded", seeded, batches);
    dv_prevchunks_free(prev);
    dv_manifest_release(&m);
    free(data);
    free(old);
}

Test(prevchunks, unchanged_data_is_proven_by_hashes_not_scanned)
{
    dv_chunk_params p = dv_chunk_params_default();
    size_t len = 16 * MIB;
    uint8_t *data = random_data(len, 11);
    dv_manifest m = DV_MANIFEST_INIT;
    dv_prevchunks *prev = index_of(&m, &p, data, len);

    /* From the first chunk on, only the first chunk (to find the thread) and the last
     * (the end of the file, never a candidate) are scanned, and every id is known. */
    uint64_t scanned = 0;
    cut_list want;
    scan_cuts(&want, &p, data, len);
    size_t known = assert_same_as_scan(prev, &p, data, len, &scanned);
    cr_assert_eq(known, want.n, "%zu of %zu chunks with ids", known, want.n);
    cr_assert_leq(scanned, 2 * (uint64_t)p.max, "scanned %llu bytes", (unsigned long long)scanned);

    /* From the middle of a chunk at its place in the file, the chain starts at the
     * previous version's next cut, and only the end of the piece is scanned. */
    size_t start = 0;
    assert_same_as_scan_at(prev, &p, data + 12345, 2 * MIB, 12345, &scanned, &start);
    cr_assert_eq(start + 12345, want.ends[0], "the chain starts at %zu", start + 12345);
    cr_assert_leq(scanned, p.max, "scanned %llu bytes", (unsigned long long)scanned);
    /* Taken for another offset, the seed fails and the piece is cut from its start, a
     * few chunks scanned before the thread is found. */
    assert_same_as_scan_at(prev, &p, data + 12345, 2 * MIB, 12345 + 999, &scanned, &start);
    cr_assert_eq(start, 0);
    cr_assert_lt(scanned, 2 * MIB / 4, "scanned %llu bytes", (unsigned long long)scanned);
    cut_list_free(&want);
    dv_prevchunks_free(prev);
    dv_manifest_release(&m);
    free(data);
}

Test(prevchunks, the_old_last_chunk_is_no_cut_when_data_follows)
{
    dv_chunk_params p = dv_chunk_params_default();
    size_t old_len = 8 * MIB + 777, len = old_len + 300 * KIB;
    uint8_t *data = random_data(len, 13);
    dv_manifest m = DV_MANIFEST_INIT;
    dv_prevchunks *prev = index_of(&m, &p, data, old_len);
    assert_same_as_scan(prev, &p, data, len, NULL);
    dv_prevchunks_free(prev);
    dv_manifest_release(&m);
    free(data);
}

Test(prevchunks, small_chunks_repeated_and_shifted_data)
{
    dv_chunk_params p = {64, 256, 1024};
    size_t old_len = 2 * MIB, len;
    uint8_t *old = random_data(old_len, 17);
    memset(old + MIB, 0, 64 * KIB); /* runs of max-length chunks with one id */
    memcpy(old + MIB + 64 * KIB, old, 64 * KIB);
    uint8_t *data = edited_copy(old, old_len, &len, 200, 100, 18);
    dv_manifest m = DV_MANIFEST_INIT;
    dv_prevchunks *prev = index_of(&m, &p, old, old_len);
    uint64_t state = 19;
    for (int i = 0; i < 60; i++) {
        size_t piece = 1 + splitmix64(&state) % (len / 2);
        size_t from = i == 0 ? 0 : splitmix64(&state) % (len - piece);
        assert_same_as_scan_at(prev, &p, data + from, piece, from, NULL, NULL);
    }
    /* Unrelated data: nothing to prove, still the chunker's cuts. */
    fill_random(data, len, 20);
    assert_same_as_scan(prev, &p, data, len, NULL);
    dv_prevchunks_free(prev);
    dv_manifest_release(&m);
    free(data);
    free(old);
}

Test(prevchunks, chunks_cut_with_other_params_are_not_used)
{
    dv_chunk_params small = {64, 256, 1024}, p = dv_chunk_params_default();
    size_t len = MIB;
    uint8_t *data = random_data(len, 23);
    dv_manifest m = DV_MANIFEST_INIT;
    manifest_of(&m, &small, data, len);
    dv_prevchunks *prev = NULL;
    cr_assert_eq(dv_prevchunks_new(&prev, &m, &p), 0);
    cr_assert_not(dv_prevchunks_usable(prev));
    dv_prevchunks_free(prev);

    /* A single chunk (the whole file) proves no cut. */
    dv_manifest one = DV_MANIFEST_INIT;
    dv_oid id;
    cr_assert_eq(dv_hash_buffer(&id, data, 100 * KIB), 0);
    cr_assert_eq(dv_manifest_append(&one, &id, 100 * KIB), 0);
    cr_assert_eq(dv_prevchunks_new(&prev, &one, &p), 0);
    cr_assert_not(dv_prevchunks_usable(prev));
    dv_prevchunks_free(prev);
    dv_manifest_release(&one);
    dv_manifest_release(&m);
    free(data);
}
