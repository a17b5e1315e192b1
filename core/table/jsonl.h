/*
 * jsonl: a streaming reader of JSON Lines — one JSON object a line — as table rows. Each
 * top-level member becomes a cell named by its key: strings are unescaped to UTF-8, numbers
 * and true/false are their text as written, null is a null cell, and a nested object or
 * array is its JSON text with insignificant whitespace removed (its strings as written).
 * Input is pushed in pieces of any size; memory is the longest line.
 */
#ifndef DV_JSONL_H
#define DV_JSONL_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

/* A line longer than this, its LF not counted, is refused (DV_ECORRUPT). */
#define DV_JSONL_LINE_MAX_BYTES (64u << 20)
/* An object with more members than this is refused (DV_ECORRUPT). */
#define DV_JSONL_MEMBERS_MAX 65536u
/* Nesting deeper than this is refused (DV_ECORRUPT). */
#define DV_JSONL_DEPTH_MAX 256u

typedef struct dv_jsonl dv_jsonl;

enum dv_jsonl_kind {
    DV_JSONL_NULL,
    DV_JSONL_STRING,
    DV_JSONL_NUMBER,
    DV_JSONL_BOOL,
    DV_JSONL_NESTED, /* an object or array, as compact JSON text */
};

/** One member of a line's object; key and value lent, not NUL-terminated (a string may
 *  hold a NUL byte, from \u0000). */
typedef struct dv_jsonl_member {
    const char *key;
    size_t key_len;
    const char *value; /* NULL with len 0 for null */
    size_t value_len;
    int kind; /* DV_JSONL_* */
} dv_jsonl_member;

/** One line's object, lent to the callback for the call only. Members are in the order
 *  written; a key written twice in any one object, nested ones too (compared unescaped),
 *  is DV_ECORRUPT before this is called. */
typedef struct dv_jsonl_row {
    const dv_jsonl_member *members;
    size_t n_members;
    uint64_t line;   /* 1-based */
    uint64_t offset; /* byte offset where the line starts (after a BOM) */
} dv_jsonl_row;

typedef int (*dv_jsonl_row_fn)(void *ctx, const dv_jsonl_row *row);

/** A reader; name is the file named in messages (copied). 0 or DV_ENOMEM. */
DV_NODISCARD int dv_jsonl_new(dv_jsonl **out, const char *name);

/**
 * Start the reader in the middle of an input read before: the first byte pushed is at
 * offset, the start of line line, and no byte order mark is looked for. Only before the
 * first push.
 */
void dv_jsonl_seek(dv_jsonl *jsonl, uint64_t offset, uint64_t line);

/**
 * Read the next len bytes, calling fn for every line they complete. Lines end at LF (a
 * CR before it is whitespace); blank lines (only spaces, tabs, CR) are skipped, and so is
 * a UTF-8 byte order mark at the very start. Errors: DV_ECORRUPT "NAME: line L, column C:
 * WHAT" when a line is not one JSON object (RFC 8259), holds invalid UTF-8 or a bad
 * escape, repeats a key, or passes a limit above; DV_ENOMEM; or fn's error. Columns count
 * characters from 1. After an error, every later call returns it again and reads nothing.
 */
DV_NODISCARD int dv_jsonl_push(dv_jsonl *jsonl, const void *data, size_t len, dv_jsonl_row_fn fn,
                               void *ctx);

/** The input has ended: the last line when it has no line end; errors as for push. */
DV_NODISCARD int dv_jsonl_finish(dv_jsonl *jsonl, dv_jsonl_row_fn fn, void *ctx);

void dv_jsonl_free(dv_jsonl *jsonl);

#endif
