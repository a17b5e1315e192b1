/*
 * bundle: the bundle file format (docs/formats.md, "Bundle"): one file holding packs and
 * their indexes, with a header naming the revisions and paths they cover and the pointer
 * objects (roots) those revisions name, and a SHA-256 trailer over everything before it.
 * The parser checks every count, length and offset against what holds it before use; the
 * reads it offers stay inside the file named by the table.
 */
#ifndef DV_BUNDLE_H
#define DV_BUNDLE_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/hash.h"

#include <stddef.h>
#include <stdint.h>

#define DV_BUNDLE_MAGIC "DVBUNDLE" /* 8 bytes */
#define DV_BUNDLE_MAGIC_BYTES 8
#define DV_BUNDLE_VERSION 1
#define DV_BUNDLE_FIXED_BYTES 16               /* magic, be32 version, be32 header length */
#define DV_BUNDLE_HEADER_MAX_BYTES (64u << 20) /* the header section, at most */
#define DV_BUNDLE_TRAILER_BYTES 32
#define DV_BUNDLE_SUFFIX ".dvbundle"
#define DV_BUNDLE_NAME_MAX_BYTES 4096                 /* a revision name or a path */
#define DV_BUNDLE_INDEX_MAX_BYTES ((uint64_t)2 << 30) /* as a remote's index */

/* What a revision record is. */
enum {
    DV_BUNDLE_REV_TIP = 1,  /* its data is in the bundle (with what the base supplies) */
    DV_BUNDLE_REV_BASE = 2, /* --since: what it reaches was left out */
};

/* What a file of the table is. */
enum {
    DV_BUNDLE_FILE_PACK = 1,
    DV_BUNDLE_FILE_INDEX = 2,
};

typedef struct dv_bundle_rev {
    uint8_t kind; /* DV_BUNDLE_REV_* */
    char *name;   /* as given (a branch, tag, "HEAD~2", "refs/heads/main") */
    char *commit; /* the commit's id, 40 or 64 lowercase hex digits */
} dv_bundle_rev;

typedef struct dv_bundle_root {
    uint8_t type; /* DV_OBJ_* of the object a pointer names */
    dv_oid id;
} dv_bundle_root;

typedef struct dv_bundle_file {
    uint8_t kind; /* DV_BUNDLE_FILE_* */
    dv_oid pack_id;
    uint64_t offset; /* in the bundle */
    uint64_t length;
} dv_bundle_file;

typedef struct dv_bundle_header {
    dv_bundle_rev *revs;
    size_t n_revs;
    char **paths; /* work-tree data paths the bundle was limited to; none: all */
    size_t n_paths;
    dv_bundle_root *roots;
    size_t n_roots;
    dv_bundle_file *files; /* each pack followed by its index, in the order of writing */
    size_t n_files;
    uint64_t data_offset; /* where the first file starts (the end of the header section) */
} dv_bundle_header;

/** Free what a header holds and zero it. */
void dv_bundle_header_release(dv_bundle_header *h);

/** Add to a header being built (the strings are copied). DV_ENOMEM, or DV_EUSAGE for a name
 *  the format cannot hold. */
DV_NODISCARD int dv_bundle_header_add_rev(dv_bundle_header *h, uint8_t kind, const char *name,
                                          const char *commit);
DV_NODISCARD int dv_bundle_header_add_path(dv_bundle_header *h, const char *path);
DV_NODISCARD int dv_bundle_header_add_root(dv_bundle_header *h, uint8_t type, const dv_oid *id);
DV_NODISCARD int dv_bundle_header_add_file(dv_bundle_header *h, uint8_t kind, const dv_oid *pack_id,
                                           uint64_t length);

/** Encode the fixed header and the header section into out (replaced), and set each file's
 *  offset and h->data_offset from the lengths. The file data and the trailer follow. */
DV_NODISCARD int dv_bundle_header_encode(dv_buf *out, dv_bundle_header *h);

/** The header section's length from the first DV_BUNDLE_FIXED_BYTES bytes of a bundle,
 *  checked (magic, version, at most DV_BUNDLE_HEADER_MAX_BYTES, and with the trailer
 *  within file_bytes). where names the bundle in messages. DV_ECORRUPT. */
DV_NODISCARD int dv_bundle_parse_fixed(uint32_t *header_len, const uint8_t *data, size_t len,
                                       uint64_t file_bytes, const char *where);

/** Parse data (the fixed header and the whole header section, len bytes) of a bundle of
 *  file_bytes bytes into out: every count and length checked against the section, the files
 *  a pack and its index each, end to end from the end of the section to the trailer. out is
 *  released and zeroed on failure. DV_ECORRUPT naming where and what is wrong, DV_ENOMEM. */
DV_NODISCARD int dv_bundle_parse(dv_bundle_header *out, const uint8_t *data, size_t len,
                                 uint64_t file_bytes, const char *where);

/** An open bundle file. */
typedef struct dv_bundle {
    int fd;
    char *path;
    uint64_t bytes;
    dv_oid trailer; /* as stored: not checked by dv_bundle_open */
    dv_bundle_header header;
} dv_bundle;

/** 1 if path is a regular file that starts with the bundle magic, 0 if not (or it cannot be
 *  read). */
DV_NODISCARD int dv_bundle_is_bundle(const char *path);

/** Open and parse the bundle at path (its header and table; the trailer is read, not
 *  checked). DV_ENOTFOUND, DV_EIO, DV_ECORRUPT naming the path. Free with dv_bundle_free. */
DV_NODISCARD int dv_bundle_open(dv_bundle **out, const char *path);
void dv_bundle_free(dv_bundle *bundle);

/** Hash every byte before the trailer (one sequential read) and compare with it.
 *  DV_ECORRUPT naming the bundle when they differ, DV_EIO. */
DV_NODISCARD int dv_bundle_check_sum(dv_bundle *bundle);

/** Read len bytes at offset of the table's file i into buf: DV_ECORRUPT unless they lie
 *  inside it. */
DV_NODISCARD int dv_bundle_read(dv_bundle *bundle, size_t i, uint64_t offset, size_t len,
                                void *buf);

/** Copy the table's file i into the file open at fd (from its start), checking the length
 *  written. path names fd in messages. */
DV_NODISCARD int dv_bundle_copy_out(dv_bundle *bundle, size_t i, int fd, const char *path);

/** The table's index of the file named "packs/<id>.pack" or "packs/<id>.idx", or -1. */
long dv_bundle_find_name(const dv_bundle *bundle, const char *name);

/** "packs/<id>.pack" or "packs/<id>.idx" for file f, into out (replaced). */
DV_NODISCARD int dv_bundle_file_name(dv_buf *out, const dv_bundle_file *f);

#endif
