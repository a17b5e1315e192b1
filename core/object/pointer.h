/*
 * pointer: the `<path>.dv` pointer files committed to git. A YAML subset,
 * one `key: value` per line in a fixed order (docs/formats.md).
 */
#ifndef DV_POINTER_H
#define DV_POINTER_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/hash.h"

#include <stdint.h>

#define DV_POINTER_VERSION 1
#define DV_POINTER_MAX_BYTES 65536
#define DV_POINTER_SUFFIX ".dv"

enum dv_pointer_kind {
    DV_KIND_FILE = 1,    /* oid names a file manifest */
    DV_KIND_DIR = 2,     /* oid names a tree */
    DV_KIND_SYMLINK = 3, /* oid names a chunk holding the link target */
};

typedef struct dv_pointer {
    int version;
    int kind;
    dv_oid oid;
    uint64_t size;  /* file size, total bytes of files below a directory, or link target length */
    uint64_t files; /* directories: number of files and symlinks below; else 0 */
    int exec;       /* files: 1 if the executable bit is set */
} dv_pointer;

/** The tree-entry mode (DV_MODE_* of object.h) of what the pointer names. */
uint8_t dv_pointer_mode(const dv_pointer *p);

/** "file", "dir", "symlink". */
const char *dv_pointer_kind_name(int kind);

/**
 * Parse a pointer file's bytes. name is used in messages ("data.dv:3: ...").
 * Returns 0, or DV_ECORRUPT with a message naming the file and line and saying what
 * was expected. Never reads past len; data need not be NUL-terminated.
 */
DV_NODISCARD int dv_pointer_parse(dv_pointer *out, const char *data, size_t len, const char *name);

/** Append the canonical text of p to out. */
DV_NODISCARD int dv_pointer_format(dv_buf *out, const dv_pointer *p);

/** Read and parse the pointer file at path (at most DV_POINTER_MAX_BYTES). DV_ENOTFOUND if absent;
 *  DV_ECORRUPT if it is a symlink or not a regular file (never followed, never waited on). */
DV_NODISCARD int dv_pointer_read(dv_pointer *out, const char *path);
/** Read and parse the pointer file open at fd (left open); path is for messages. */
DV_NODISCARD int dv_pointer_read_fd(dv_pointer *out, int fd, const char *path);

#endif
