/*
 * pack_read: sealed packs opened through their mmapped, validated indexes; entry reads
 * checked against the index and the CRC-32C, decoding, and whole-pack verification.
 */
#ifndef DV_PACK_READ_H
#define DV_PACK_READ_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/hash.h"
#include "storage/pack.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_pack dv_pack;

/** Open packs_dir/<id>.idx (mmapped, structure validated) and its pack. */
DV_NODISCARD int dv_pack_open(dv_pack **out, const char *packs_dir, const dv_oid *pack_id);
/** pack_bytes for dv_pack_open_index when the pack's size is not known: it is taken from
 *  the index (the end of the last entry, plus the trailer). */
#define DV_PACK_BYTES_FROM_INDEX UINT64_MAX
/** Open only an index (at idx_path) of a pack that lives elsewhere (on a remote), of
 *  pack_bytes bytes (or DV_PACK_BYTES_FROM_INDEX); pack_name names it in messages. Lookups
 *  and dv_pack_check_bounds and dv_pack_check_entry work; reads from the pack file do
 *  not. */
DV_NODISCARD int dv_pack_open_index(dv_pack **out, const char *idx_path, const char *pack_name,
                                    const dv_oid *pack_id, uint64_t pack_bytes);
/** Check an index's bytes before trusting them (as received from a remote): header, size,
 *  fanout and trailer checksum. where names it in messages. */
DV_NODISCARD int dv_pack_check_index(const uint8_t *data, size_t len, const dv_oid *pack_id,
                                     const char *where);
void dv_pack_free(dv_pack *pack);
/** Size of the pack file in bytes. */
uint64_t dv_pack_bytes(const dv_pack *pack);
const dv_oid *dv_pack_id(const dv_pack *pack);
const char *dv_pack_path(const dv_pack *pack);
size_t dv_pack_count(const dv_pack *pack);
/** Entry i in id order. */
void dv_pack_entry_at(const dv_pack *pack, size_t i, dv_pack_entry *out);
/** Called for each entry of a pack: 1 to take it. */
typedef int (*dv_pack_want_fn)(void *ctx, const dv_oid *id);
/** The entries of pack that want takes (all when want is NULL) in the order they lie in the
 *  pack file, so that copying them reads the pack front to back and keeps its order (each
 *  object after what it names), into *entries, grown with realloc as needed (*cap entries
 *  allocated; start both at 0 and free *entries once), and their number in *n. DV_ENOMEM. */
DV_NODISCARD int dv_pack_entries_in_order(dv_pack_entry **entries, size_t *cap, size_t *n,
                                          const dv_pack *pack, dv_pack_want_fn want, void *ctx);
/** 1 and the entry if the index holds id, else 0. */
DV_NODISCARD int dv_pack_find(const dv_pack *pack, const dv_oid *id, dv_pack_entry *out);
/** Start loading the part of the index where id would be, for a dv_pack_find of it soon:
 *  a walk that knows the next ids overlaps their cache misses. Only a hint. */
void dv_pack_prefetch(const dv_pack *pack, const dv_oid *id);
/** Read an entry's stored bytes, check its header against the index and the stored bytes
 *  against the header's CRC-32C. */
DV_NODISCARD int dv_pack_read_stored(dv_buf *out, dv_pack *pack, const dv_pack_entry *e);
/* The steps of dv_pack_read_stored, for readers that fetch many neighbouring entries in
 * one read: */
/** DV_ECORRUPT unless the index entry e lies inside the pack and has a plausible size. */
DV_NODISCARD int dv_pack_check_bounds(const dv_pack *pack, const dv_pack_entry *e);
/** Read len bytes of the pack file at offset (entry headers and stored bytes). */
DV_NODISCARD int dv_pack_read_at(const dv_pack *pack, void *buf, size_t len, uint64_t offset);

/** Alignment of the buffers dv_pack_read_run takes. */
#define DV_PACK_READ_ALIGN 4096u
/** Bytes a dv_pack_read_run buffer needs for a run of len bytes. */
#define DV_PACK_RUN_BUFFER_BYTES(len) ((size_t)(len) + 2 * DV_PACK_READ_ALIGN)
/**
 * Read len bytes of the pack file at offset for a reader that uses them once (checkout):
 * from the page cache when all of them are there, else straight from the device
 * (O_DIRECT where the file system allows it), so that a restore of data nobody has read
 * lately neither waits for nor fills the page cache with pack bytes. buf is aligned to
 * DV_PACK_READ_ALIGN and holds DV_PACK_RUN_BUFFER_BYTES(len) bytes; *out is set to where
 * in buf the bytes start. Errors as dv_pack_read_at.
 */
DV_NODISCARD int dv_pack_read_run(const dv_pack *pack, uint8_t *buf, size_t len, uint64_t offset,
                                  const uint8_t **out);
/** A buffer for dv_pack_read_runs, grown as needed and kept between calls. */
typedef struct dv_pack_runs {
    uint8_t *buf; /* aligned to DV_PACK_READ_ALIGN */
    size_t capacity;
} dv_pack_runs;

/**
 * Read entries[i] of packs[i] for each i < n whose pack is not NULL (the others are left
 * alone), neighbours of one pack that lie end to end in one dv_pack_read_run: bytes[i]
 * points at the entry's header in runs->buf, valid until the next call. Each entry must
 * have passed dv_pack_check_bounds. DV_ENOMEM, or the errors of dv_pack_read_run.
 */
DV_NODISCARD int dv_pack_read_runs(dv_pack_runs *runs, dv_pack *const *packs,
                                   const dv_pack_entry *entries, size_t n, const uint8_t **bytes);
void dv_pack_runs_release(dv_pack_runs *runs);

/** bytes holds the entry e as read from the pack (header, then e->stored_len stored
 *  bytes): DV_ECORRUPT unless the header matches the index and the stored bytes match the
 *  header's CRC-32C. */
DV_NODISCARD int dv_pack_check_entry(const dv_pack *pack, const dv_pack_entry *e,
                                     const uint8_t *bytes);
/** As dv_pack_check_entry, the header alone: for a reader that checks the object's
 *  SHA-256 itself, which the CRC-32C would only repeat. */
DV_NODISCARD int dv_pack_check_entry_header(const dv_pack *pack, const dv_pack_entry *e,
                                            const uint8_t *bytes);

/**
 * Turn stored bytes into object bytes (decompressing when flags say zstd) and verify
 * SHA-256 == id. dctx may be NULL (one is made). where names the pack for messages.
 */
DV_NODISCARD int dv_pack_decode(dv_buf *out, const dv_pack_entry *e, const void *stored,
                                size_t stored_len, void *zstd_dctx, const char *where);
/** As dv_pack_decode without the SHA-256 check: for stored bytes whose CRC-32C was just
 *  checked by dv_pack_read_stored (restoring large files). */
DV_NODISCARD int dv_pack_unpack(dv_buf *out, const dv_pack_entry *e, const void *stored,
                                size_t stored_len, void *zstd_dctx, const char *where);

/** Verify the pack's trailer checksum and that the index matches the pack's entries.
 *  Problems are reported through problem(); returns the number of problems or < 0. */
typedef void (*dv_pack_problem_fn)(void *ctx, const dv_pack *pack, const dv_oid *object,
                                   const char *message);
DV_NODISCARD int dv_pack_verify_structure(dv_pack *pack, dv_pack_problem_fn problem, void *ctx);
/** Flags of dv_pack_verify. */
#define DV_PACK_VERIFY_CRC 1u /* also check every entry's stored bytes against its CRC-32C */
/** dv_pack_verify_structure, and with DV_PACK_VERIFY_CRC the CRC-32C of every entry's stored
 *  bytes too, in one sequential read of the pack file (the stored bytes are not decoded). */
DV_NODISCARD int dv_pack_verify(dv_pack *pack, unsigned flags, dv_pack_problem_fn problem,
                                void *ctx);
/** A local pack about to leave the store (dv push): dv_pack_verify with DV_PACK_VERIFY_CRC.
 *  0 when sound; DV_ECORRUPT with a message naming the pack, its first problem and "run dv
 *  fsck"; DV_EIO or DV_ENOMEM when it could not be read. */
DV_NODISCARD int dv_pack_check_whole(dv_pack *pack);

#endif
