/*
 * parquet: the footer of a Parquet file — its FileMetaData, Thrift compact protocol —
 * decoded without reading any data page: the schema's leaf columns with their types, the
 * row count, the row groups, and per column the min, max and null count that the row
 * groups' statistics give. Every length and count is checked against the bytes that hold
 * it, so a hostile footer is an error, never a crash or a large allocation.
 */
#ifndef DV_PARQUET_H
#define DV_PARQUET_H

#include "core/base/buf.h"
#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

/* The bytes at the end of every Parquet file: a 4-byte little-endian footer length and
 * "PAR1". The file also starts with "PAR1". */
#define DV_PARQUET_TAIL_BYTES 8u
/* A footer longer than this is refused (DV_ECORRUPT). */
#define DV_PARQUET_FOOTER_MAX_BYTES (64u << 20)

enum dv_parquet_physical {
    DV_PARQUET_BOOLEAN = 0,
    DV_PARQUET_INT32 = 1,
    DV_PARQUET_INT64 = 2,
    DV_PARQUET_INT96 = 3,
    DV_PARQUET_FLOAT = 4,
    DV_PARQUET_DOUBLE = 5,
    DV_PARQUET_BYTE_ARRAY = 6,
    DV_PARQUET_FIXED_LEN_BYTE_ARRAY = 7,
};

enum dv_parquet_repetition {
    DV_PARQUET_REQUIRED = 0,
    DV_PARQUET_OPTIONAL = 1,
    DV_PARQUET_REPEATED = 2,
};

/** A leaf column of the schema, with statistics gathered over every row group. */
typedef struct dv_parquet_column {
    char *name;          /* the dotted path from the root, e.g. "address.city" */
    int physical;        /* DV_PARQUET_* physical type */
    int repetition;      /* DV_PARQUET_REQUIRED ... */
    char *type_name;     /* what a user would call the type: "int64", "string", "timestamp[us]",
                            "decimal(10,2)", "date", "double", ... (logical type over converted
                            type over physical) */
    int has_null_count;  /* every row group gave one */
    uint64_t null_count; /* summed over row groups */
    int has_min_max;     /* every row group with values gave a min and a max (a chunk of
                            nulls alone needs none); never for types Parquet gives no order
                            (int96, interval, geometries) nor when a bound is NaN */
    dv_buf min, max;     /* the least min and greatest max, plain-encoded bytes of the
                            physical type, compared as the type orders them (unsigned
                            integers unsigned, decimals in byte arrays as signed big-endian,
                            other byte arrays as unsigned bytes); empty without has_min_max */
    uint64_t compressed_bytes, uncompressed_bytes; /* summed over row groups */
} dv_parquet_column;

typedef struct dv_parquet_meta {
    int32_t version;
    int64_t num_rows; /* never negative: the sum of the row groups' counts, checked */
    uint64_t n_row_groups;
    dv_parquet_column *columns;
    size_t n_columns;
    char *created_by; /* NULL when absent */
} dv_parquet_meta;

#define DV_PARQUET_META_INIT                                                                       \
    {                                                                                              \
        0, 0, 0, NULL, 0, NULL                                                                     \
    }

/**
 * The footer's length from a file's last DV_PARQUET_TAIL_BYTES bytes, checked against the
 * file's size (a footer, its length and both magics must fit). DV_ECORRUPT naming name
 * when the tail is not a Parquet one or the length does not fit.
 */
DV_NODISCARD int dv_parquet_footer_length(uint32_t *out, const uint8_t tail[8], uint64_t file_size,
                                          const char *name);

/**
 * Decode the footer (the len bytes before the tail) into out, which must be
 * DV_PARQUET_META_INIT; out owns what it points to until dv_parquet_meta_release.
 * DV_ECORRUPT "NAME: Parquet footer: WHAT" for anything that does not decode or does not
 * agree with itself (a schema whose children counts overrun it, a row group with another
 * number of columns than the schema's leaves, ...); DV_ENOMEM. On error out is released.
 */
DV_NODISCARD int dv_parquet_meta_parse(dv_parquet_meta *out, const uint8_t *footer, size_t len,
                                       const char *name);

/** Append a statistic's value (min or max of c) as text for people, read by c's physical
 *  type and type_name: numbers in decimal (doubles in the fewest digits that read back the
 *  same), decimals scaled, "true"/"false", dates and timestamps in ISO 8601 with the
 *  fraction of their unit (2024-03-01T12:34:56.789000), times as hh:mm:ss.fff, UUIDs in
 *  8-4-4-4-12 hex, strings as they are when valid UTF-8 without NUL; anything else,
 *  including bytes that do not fit the type, as "0x" and lowercase hex. 0 or DV_ENOMEM. */
DV_NODISCARD int dv_parquet_value_format(dv_buf *out, const dv_parquet_column *c,
                                         const dv_buf *value);

void dv_parquet_meta_release(dv_parquet_meta *meta);

#endif
