/*
 * archive_read: an archive (tar in all its forms, zip, cpio, 7-Zip and the other formats
 * libarchive reads, compressed or not, detected from its bytes) turned into one dv tree,
 * entry by entry, with nothing extracted: each entry is checked before it is kept (a
 * relative name of names dv writes, no "..", a file, directory, symlink or hard link to an
 * earlier file of the archive, no name twice or below a file), each file's bytes are
 * streamed through an ingester, and at the end every symlink is resolved through the whole
 * tree and must stay inside it. Only then are the tree objects encoded and stored. Memory
 * is the names of the archive (about 100 bytes an entry) and the ingester's batches.
 */
#ifndef DV_ARCHIVE_READ_H
#define DV_ARCHIVE_READ_H

#include "core/base/error.h"

#include "core/data/ingest.h"
#include "core/object/hash.h"
#include "storage/odb.h"

#include <stddef.h>
#include <stdint.h>

/* What an archive may hold: the nesting and the entries a checkout restores, and the most
 * symlinks followed to resolve one (as the kernel's ELOOP limit). */
#define DV_ARCHIVE_MAX_DEPTH 1024
#define DV_ARCHIVE_MAX_ENTRIES 100000000ull
#define DV_ARCHIVE_MAX_LINK_HOPS 40
/* The longest name of one path component that Linux file systems take (NAME_MAX). */
#define DV_ARCHIVE_MAX_NAME_BYTES 255

typedef struct dv_archive_result {
    dv_oid id;           /* the tree of the whole archive */
    uint64_t size;       /* bytes of its files and symlink targets */
    uint64_t files;      /* files and symlinks in it */
    uint64_t dirs;       /* directories below the top */
    uint64_t entries;    /* archive entries read (directories implied by names not counted) */
    uint64_t bytes_read; /* file bytes streamed out of the archive */
} dv_archive_result;

/**
 * Read the archive open at fd (a file or a pipe; name is for messages) into a tree: file
 * contents go through ing (whose store, if any, receives the chunks and manifests), and the
 * trees to odb (NULL: computed, not stored). Returns 0 with result set, or DV_ECORRUPT with a
 * message naming the entry and what is wrong with it when the archive cannot be read or holds
 * an entry dv refuses; whatever was stored by then is the caller's to discard (give a store
 * of its own for that).
 */
DV_NODISCARD int dv_archive_read_fd(dv_archive_result *result, int fd, const char *name,
                                    dv_ingest *ing, dv_odb *odb);

/** The same for a stream that cannot seek (a pipe), of which the first prefix_len bytes
 *  were read already (to tell its format): they are read first. A zip archive read so has
 *  only its local headers, which lack the entries' types and modes: see
 *  dv_archive_is_zip. */
DV_NODISCARD int dv_archive_read_stream(dv_archive_result *result, const void *prefix,
                                        size_t prefix_len, int fd, const char *name, dv_ingest *ing,
                                        dv_odb *odb);

/** Bytes that tell a zip archive from its start. */
#define DV_ARCHIVE_MAGIC_BYTES 4
/** 1 when the first bytes of an archive (len of them) are those of a zip archive. */
DV_NODISCARD int dv_archive_is_zip(const void *start, size_t len);

/** The same for an archive held in memory (data stays the caller's). */
DV_NODISCARD int dv_archive_read_memory(dv_archive_result *result, const void *data, size_t len,
                                        const char *name, dv_ingest *ing, dv_odb *odb);

#endif
