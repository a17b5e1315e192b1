/*
 * prevchunks: cut a new version of a file along the chunks of its previous version.
 *
 * A cut depends only on the bytes since the previous cut. So where the bytes that follow
 * a cut are those of one of the previous version's chunks (they hash to its id), the
 * chunker would cut again where that chunk ended, and the stretch need not be scanned.
 * The chunks that followed it in the previous version are the likely next ones, and each
 * is checked by its hash the same way. Where a check fails the chunker scans from there,
 * and the id of a chunk it cuts is looked up among the previous version's to pick up the
 * thread again. The cuts are exactly the chunker's; most chunks' ids are computed on the
 * way, each once.
 */
#ifndef DV_PREVCHUNKS_H
#define DV_PREVCHUNKS_H

#include "core/base/error.h"

#include "core/data/chunker.h"
#include "core/object/hash.h"
#include "core/object/object.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_prevchunks dv_prevchunks;

/**
 * Index the chunks of prev, which is borrowed: it must outlive the index and stay
 * unchanged. Its last chunk ended at the end of the file rather than at a cut, so it is
 * never taken as a candidate. prev's chunks were cut with params unless the repository's
 * chunking was changed by hand; a chunk shorter than params->min or longer than
 * params->max gives that away, and then the index holds nothing (every cut is scanned).
 * Returns 0 or DV_ENOMEM.
 */
DV_NODISCARD int dv_prevchunks_new(dv_prevchunks **out, const dv_manifest *prev,
                                   const dv_chunk_params *params);

/** 1 if the index can propose chunks at all. */
DV_NODISCARD int dv_prevchunks_usable(const dv_prevchunks *p);

/** Where the output of dv_prevchunks_cut goes; the arrays hold max_cuts entries. */
typedef struct dv_prevchunks_cuts {
    uint32_t *ends; /* end of chunk i, as an offset into the data */
    dv_oid *ids;    /* chunk i's id where known[i] */
    uint8_t *known;
    size_t max_cuts; /* len / params->min + 1 always suffices */
    size_t start;    /* where the chain of cuts starts */
    size_t n;
    uint64_t scanned; /* bytes the chunker scanned (the rest were proven by hashes) */
} dv_prevchunks_cuts;

/**
 * Cut data[0, len), which starts at offset in the file, as dv_chunker_scan would from a
 * cut at data[out->start]: the ends of the chunks that end within data go to out, and
 * tail is left as the chunker after data[len - 1] (set up with p's params). out->start
 * is 0 at offset 0. Elsewhere it is where the previous version had a cut, moved by the
 * latest insertion or deletion seen, if the bytes from there are that version's next
 * chunk, so the chain likely starts on the file's true cuts; else it is 0. Calls for
 * different data may run at once. Returns 0 or < 0 with a message (a hashing failure).
 */
DV_NODISCARD int dv_prevchunks_cut(dv_prevchunks *p, const uint8_t *data, size_t len,
                                   uint64_t offset, dv_prevchunks_cuts *out, dv_chunker *tail);

void dv_prevchunks_free(dv_prevchunks *p);

#endif
