/*
 * object: the object model's encodings. A file manifest lists a file's chunks;
 * a tree lists a directory's entries. Both have one canonical byte encoding
 * (docs/formats.md), and their id is the SHA-256 of it.
 */
#ifndef DV_OBJECT_H
#define DV_OBJECT_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/hash.h"

#include <stddef.h>
#include <stdint.h>

#define DV_OBJECT_MAX_BYTES (64u * 1024 * 1024) /* no single object may be larger */

/* Object types, as stored in pack entries and index records. */
enum dv_object_type {
    DV_OBJ_CHUNK = 1,
    DV_OBJ_MANIFEST = 2,
    DV_OBJ_TREE = 3,
};

/** "chunk", "manifest", "tree" or "unknown". */
const char *dv_object_type_name(int type);

typedef struct dv_manifest_entry {
    dv_oid id;
    uint32_t len;
} dv_manifest_entry;

typedef struct dv_manifest {
    uint64_t size; /* sum of the chunk lengths */
    size_t n_chunks;
    dv_manifest_entry *chunks;
    size_t alloc;
} dv_manifest;

#define DV_MANIFEST_INIT                                                                           \
    {                                                                                              \
        0, 0, NULL, 0                                                                              \
    }

/** Append a chunk and add len to size. Returns 0 or DV_ENOMEM. */
DV_NODISCARD int dv_manifest_append(dv_manifest *m, const dv_oid *id, uint32_t len);
/** Append the canonical encoding of m to out. */
DV_NODISCARD int dv_manifest_encode(dv_buf *out, const dv_manifest *m);
/** Decode and validate (magic, lengths, size equal to the sum of chunk lengths, no zero-length
 * chunk). On failure returns DV_ECORRUPT with a message; out is left empty. out must be released.
 */
DV_NODISCARD int dv_manifest_decode(dv_manifest *out, const void *data, size_t len);
void dv_manifest_clear(dv_manifest *m);

/*
 * A file of more chunks than one manifest object holds (64 MiB: 1,864,135 chunks,
 * about 120 GiB at default chunking) is recorded as a manifest list: the ids and sizes
 * of plain manifests of exactly DV_MANIFEST_PART_CHUNKS chunks each but the last. It is
 * stored as a manifest (type 2), so trees and pointers name it as they name any file.
 */
#define DV_MANIFEST_MAX_CHUNKS 1864135u /* (64 MiB - 16) / 36: a plain manifest's most */
#define DV_MANIFEST_PART_CHUNKS (1u << 20)

typedef struct dv_manifest_part {
    dv_oid id; /* a plain manifest */
    uint64_t size;
} dv_manifest_part;

typedef struct dv_manifest_list {
    uint64_t size; /* sum of the part sizes */
    size_t n_parts;
    dv_manifest_part *parts;
    size_t alloc;
} dv_manifest_list;

#define DV_MANIFEST_LIST_INIT                                                                      \
    {                                                                                              \
        0, 0, NULL, 0                                                                              \
    }

/** 1 if the object bytes are a manifest list (by their magic). */
DV_NODISCARD int dv_manifest_is_list(const void *data, size_t len);
DV_NODISCARD int dv_manifest_list_append(dv_manifest_list *l, const dv_oid *id, uint64_t size);
/** Append the canonical encoding of l (at least two parts) to out. */
DV_NODISCARD int dv_manifest_list_encode(dv_buf *out, const dv_manifest_list *l);
/** Decode and validate (magic, exact length, at least two parts, no empty part, size the
 *  sum of the part sizes); DV_ECORRUPT with a message. out must be released. */
DV_NODISCARD int dv_manifest_list_decode(dv_manifest_list *out, const void *data, size_t len);
void dv_manifest_list_release(dv_manifest_list *l);
/** Check that part i of l, decoded as m, is what the list says: its size, and exactly
 *  DV_MANIFEST_PART_CHUNKS chunks unless it is the last. DV_ECORRUPT names list_id. */
DV_NODISCARD int dv_manifest_list_check_part(const dv_manifest_list *l, size_t i,
                                             const dv_manifest *m, const dv_oid *list_id);

void dv_manifest_release(dv_manifest *m);

/* Entry modes in trees. */
enum dv_mode {
    DV_MODE_FILE = 1,    /* regular file; id names a manifest */
    DV_MODE_EXEC = 2,    /* executable regular file; id names a manifest */
    DV_MODE_SYMLINK = 3, /* symbolic link; id names a chunk holding the link target */
    DV_MODE_DIR = 4,     /* directory; id names a tree */
};

typedef struct dv_tree_entry {
    char *name; /* NUL-terminated copy, owned by the tree */
    size_t name_len;
    uint8_t mode;
    dv_oid id;
    uint64_t size; /* file size, link target length, or the total file bytes below a directory */
} dv_tree_entry;

typedef struct dv_tree {
    size_t n_entries;
    dv_tree_entry *entries;
    size_t alloc;
} dv_tree;

#define DV_TREE_INIT                                                                               \
    {                                                                                              \
        0, NULL, 0                                                                                 \
    }

/** 0 if name is a valid entry name: 1..65535 bytes, no '/' or NUL, not "." or "..". Else DV_EUSAGE
 * with a message. */
DV_NODISCARD int dv_tree_check_name(const char *name, size_t len);
/** Append an entry (name is copied). Does not sort. Returns 0, DV_EUSAGE (bad name or mode) or
 * DV_ENOMEM. */
DV_NODISCARD int dv_tree_add(dv_tree *t, const char *name, size_t name_len, uint8_t mode,
                             const dv_oid *id, uint64_t size);
/** Sort entries by name bytes (memcmp, shorter first on a common prefix). DV_EUSAGE on a duplicate
 * name. */
DV_NODISCARD int dv_tree_sort(dv_tree *t);
/** Append the canonical encoding of a sorted tree to out. */
DV_NODISCARD int dv_tree_encode(dv_buf *out, const dv_tree *t);
/** Decode and validate (magic, bounds, valid names, strictly increasing, known modes).
 *  On failure returns DV_ECORRUPT with a message. out must be released. */
DV_NODISCARD int dv_tree_decode(dv_tree *out, const void *data, size_t len);
/** The same for the tree of the work-tree directory dir ("" the top): a bad name is
 *  reported as the path it would have been written to ("data/.git: ..."). */
DV_NODISCARD int dv_tree_decode_in(dv_tree *out, const void *data, size_t len, const char *dir);
/** Binary search in a sorted tree; NULL if absent. The entry is lent until t changes. */
const dv_tree_entry *dv_tree_find(const dv_tree *t, const char *name, size_t name_len);
void dv_tree_release(dv_tree *t);

/** The type of object a tree entry of mode names: a tree, a chunk (a link's target), or a
 *  manifest. */
uint8_t dv_object_type_of_mode(uint8_t mode);

#endif
