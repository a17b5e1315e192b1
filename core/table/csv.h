/*
 * csv: a streaming reader of delimited text — CSV and TSV as RFC 4180 describes them. A
 * field quoted with '"' may hold the delimiter, CR, LF and doubled quotes ("" for one ");
 * a record ends at LF or CRLF; every byte is checked to be UTF-8. Input is pushed in pieces
 * of any size and records are handed out as they complete: memory is the longest record.
 */
#ifndef DV_CSV_H
#define DV_CSV_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

/* A record longer than this, its line end counted, is refused (DV_ECORRUPT): no real
 * table has one, and it bounds what a hostile file can make the reader hold. */
#define DV_CSV_RECORD_MAX_BYTES (64u << 20)
/* A record with more fields than this is refused (DV_ECORRUPT). */
#define DV_CSV_FIELDS_MAX 65536u

typedef struct dv_csv dv_csv;

/** One field: its bytes, unquoted (quotes removed, "" made "), not NUL-terminated. */
typedef struct dv_csv_field {
    const char *ptr;
    size_t len;
    int quoted; /* it was written in quotes (an empty quoted field is "", not null) */
} dv_csv_field;

/** A complete record, lent to the callback for the call only: fields point into the
 *  pushed bytes when the record lies inside one piece and holds no "", else into the
 *  reader's own buffer. */
typedef struct dv_csv_record {
    const dv_csv_field *fields;
    size_t n_fields; /* >= 1: an empty line is one empty field */
    uint64_t line;   /* 1-based line of the input where the record starts */
    uint64_t offset; /* byte offset of the input where the record starts (a BOM counts) */
} dv_csv_record;

/** Takes each record in order; a negative return stops the reader and is returned. */
typedef int (*dv_csv_record_fn)(void *ctx, const dv_csv_record *record);

/**
 * A reader of fields split by delimiter (',' for CSV, '\t' for TSV, or ';' '|'); name is
 * the file named in messages (copied). Returns 0 or DV_ENOMEM; DV_EUSAGE for a delimiter
 * that is '"', CR, LF or not ASCII.
 */
DV_NODISCARD int dv_csv_new(dv_csv **out, char delimiter, const char *name);

/**
 * Start the reader in the middle of an input read before: the first byte pushed is at
 * offset, the start of line line (a record's start, as a record gave them), and no byte
 * order mark is looked for. Only before the first push.
 */
void dv_csv_seek(dv_csv *csv, uint64_t offset, uint64_t line);

/**
 * Read the next len bytes of the input, calling fn for every record they complete. A
 * UTF-8 byte order mark at the very start is skipped; outside quotes, a CR that no LF
 * follows is data. Errors: DV_ECORRUPT with a message
 * "NAME: line L, column C: WHAT" for invalid UTF-8, a quote inside an unquoted field, a
 * character after a closing quote other than the delimiter or a line end, a record over
 * DV_CSV_RECORD_MAX_BYTES or DV_CSV_FIELDS_MAX; DV_ENOMEM; or fn's error. L is the line of
 * the offending character (not of its record's start) and C its column, counted in
 * characters from 1. After an error, every later call returns it again and reads nothing.
 */
DV_NODISCARD int dv_csv_push(dv_csv *csv, const void *data, size_t len, dv_csv_record_fn fn,
                             void *ctx);

/**
 * The input has ended: hand out the last record when it has no line end (a final line
 * end adds no empty record). DV_ECORRUPT "NAME: line L, column C: quoted field never
 * closed" when the input ends inside quotes.
 */
DV_NODISCARD int dv_csv_finish(dv_csv *csv, dv_csv_record_fn fn, void *ctx);

/** Lines read so far (for messages and counts): line ends, plus one for a last line
 *  begun without one. */
uint64_t dv_csv_lines(const dv_csv *csv);

void dv_csv_free(dv_csv *csv);

#endif
