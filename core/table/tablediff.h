/*
 * tablediff: what changed between two versions of a table (CSV, TSV, JSON Lines): rows
 * added, removed and changed, matched by key columns or by whole-row content; duplicate
 * and empty keys counted, never paired; schema changes (columns added, removed, renamed,
 * reordered, retyped); per-column statistics of both versions and the drift between them;
 * and a few example rows of each kind.
 *
 * Both versions are read as streams, side by side on two threads, in two passes: the
 * first gathers statistics and one (key hash, row hash, offset) triple a row; these are
 * sorted and joined; the second pass reads only the example rows and the changed rows,
 * each from its offset. Memory is the triples (24 bytes a row a side) and what is kept of
 * changed rows (bounded), whatever the tables' sizes.
 */
#ifndef DV_TABLEDIFF_H
#define DV_TABLEDIFF_H

#include "core/base/error.h"
#include "core/table/colstats.h"

#include <stddef.h>
#include <stdint.h>

enum dv_table_format {
    DV_TABLE_CSV = 1,
    DV_TABLE_TSV,
    DV_TABLE_JSONL,
};

/** Takes the next len bytes of a version; a negative return stops the stream. */
typedef int (*dv_table_write_fn)(void *ctx, const void *data, size_t len);

/** One version of the table: stream calls write with all of its bytes in order, and
 *  returns 0 or an error (write's, or its own). It may be called more than once, and from
 *  another thread than the caller's. */
typedef struct dv_table_source {
    int (*stream)(void *ctx, dv_table_write_fn write, void *write_ctx);
    void *ctx;
    const char *name; /* in messages: "data/x.csv (main)" */
    uint64_t size;    /* its length in bytes, to size the row pairs up front; 0 if unknown */
} dv_table_source;

typedef struct dv_table_options {
    int format;              /* DV_TABLE_* */
    const char *const *keys; /* key column names, in order; none: match by whole rows */
    size_t n_keys;
    int no_header;          /* CSV/TSV: the first row is data; columns are named 1, 2, ... */
    double tolerance;       /* numbers within this of each other are equal; 0: exact */
    size_t example_rows;    /* examples of each kind kept */
    double drift_threshold; /* a column whose PSI passes this is flagged */
} dv_table_options;

/* Beyond this many bytes a side of the cells of changed rows, the rest of the changed
 * rows are counted but their cells not compared (the report says how many were). */
#define DV_TABLE_CHANGED_CELLS_MAX_BYTES (128u << 20)
/* Drift is not computed for a column with fewer values than this on a side: on so few,
 * the statistics say more about chance than about the data. */
#define DV_TABLE_DRIFT_MIN_VALUES 100u
/* A JSON Lines table with more distinct keys than this is refused. */
#define DV_TABLE_COLUMNS_MAX 4096u

enum dv_table_column_status {
    DV_TABLE_COLUMN_SAME = 0, /* on both sides under the same name */
    DV_TABLE_COLUMN_ADDED,
    DV_TABLE_COLUMN_REMOVED,
    DV_TABLE_COLUMN_RENAMED, /* removed under old_name, added under name, same values */
};

typedef struct dv_table_column {
    char *name;               /* the new name; the old one for a removed column */
    char *old_name;           /* for a renamed column */
    int status;               /* DV_TABLE_COLUMN_* */
    int old_index, new_index; /* 0-based position on each side, -1 where absent */
    int has_old, has_new;
    dv_colstats_summary old_stats, new_stats; /* valid while the report lives */
    dv_colstats_drift drift;                  /* for SAME columns */
    int drifted;                              /* drift.psi > the threshold */
    uint64_t cells_changed;          /* of the changed rows compared, those where this differs */
    uint64_t cells_within_tolerance; /* differ, but by no more than the tolerance */
} dv_table_column;

enum dv_table_example_kind {
    DV_TABLE_EXAMPLE_ADDED = 1,
    DV_TABLE_EXAMPLE_REMOVED,
    DV_TABLE_EXAMPLE_CHANGED,
    DV_TABLE_EXAMPLE_DUPLICATE, /* a key on more than one row of a side */
};

typedef struct dv_table_cell_change {
    size_t column;               /* index into the report's columns */
    char *old_value, *new_value; /* NULL for null */
} dv_table_cell_change;

typedef struct dv_table_example {
    int kind;                    /* DV_TABLE_EXAMPLE_* */
    int side;                    /* for DUPLICATE: 0 old, 1 new */
    char *key;                   /* "id=42" or "a=1, b=x"; NULL when unkeyed */
    uint64_t old_line, new_line; /* 1-based line where the row starts; 0 where absent */
    /* ADDED and REMOVED: the row's cells, in its side's column order (NULL for null) */
    char **cells;
    size_t n_cells;
    /* CHANGED: the cells that differ */
    dv_table_cell_change *changes;
    size_t n_changes;
    /* DUPLICATE: more lines of the same key (old_line/new_line is the first) */
    uint64_t more_lines[3];
    size_t n_more_lines;
    uint64_t n_rows; /* DUPLICATE: rows with this key on that side */
} dv_table_example;

typedef struct dv_table_report {
    int format;
    int keyed;
    int header; /* the first row named the columns */
    uint64_t old_rows, new_rows;
    uint64_t rows_added, rows_removed, rows_changed, rows_same;
    uint64_t rows_within_tolerance;    /* counted in rows_same: every difference within it */
    uint64_t rows_cells_compared;      /* changed rows whose cells were compared */
    uint64_t dup_keys[2], dup_rows[2]; /* per side: keys on more than one row, and those rows */
    uint64_t empty_keys[2];            /* per side: rows whose key cells are all empty */
    uint64_t empty_key_lines[2][3];    /* the first of them */
    dv_table_column *columns;          /* old order for columns on the old side, then added ones */
    size_t n_columns;
    int columns_reordered;      /* the columns on both sides are in another order */
    dv_table_example *examples; /* added, removed, changed, duplicates; each by line */
    size_t n_examples;
    void *internal__; /* the statistics the summaries point into */
} dv_table_report;

#define DV_TABLE_REPORT_INIT                                                                       \
    {                                                                                              \
        0                                                                                          \
    }

/**
 * Compare the table old_source with new_source under opts into out (DV_TABLE_REPORT_INIT).
 * Errors: DV_ECORRUPT "NAME: line L, column C: WHAT" when a version does not parse (bad
 * quoting, invalid UTF-8, a row with another number of fields than the header);
 * DV_EUSAGE when a key column is on neither side ("NAME: no column KEY; its columns are
 * ..."); DV_ENOMEM; or a stream's error. On error out holds nothing to release.
 */
DV_NODISCARD int dv_table_diff(dv_table_report *out, const dv_table_source *old_source,
                               const dv_table_source *new_source, const dv_table_options *opts);

void dv_table_report_release(dv_table_report *report);

/** "csv", "tsv", "jsonl". */
const char *dv_table_format_name(int format);

#endif
