/*
 * pqdiff: two Parquet footers (parquet.h) compared — rows, row groups, and the leaf columns
 * matched by name: added, removed, type changed, and whose null count, min or max moved.
 * Nothing but the footers is read, so a diff of two large files costs two small reads.
 */
#ifndef DV_PQDIFF_H
#define DV_PQDIFF_H

#include "core/base/error.h"
#include "core/table/parquet.h"

#include <stddef.h>

enum dv_pqdiff_status {
    DV_PQDIFF_SAME = 0,     /* on both sides, same type, same statistics */
    DV_PQDIFF_ADDED,        /* only in the new footer */
    DV_PQDIFF_REMOVED,      /* only in the old footer */
    DV_PQDIFF_TYPE_CHANGED, /* on both sides, type_name or repetition differs */
    DV_PQDIFF_STATS_CHANGED /* on both sides, same type; null count, min, max or sizes differ */
};

/* What differs between a column's two footers (dv_pqdiff_column.changes). */
enum dv_pqdiff_change {
    DV_PQDIFF_NULLS = 1 << 0, /* the null count, or whether there is one */
    DV_PQDIFF_MIN = 1 << 1,   /* the min, or whether there is one */
    DV_PQDIFF_MAX = 1 << 2,
    DV_PQDIFF_SIZE = 1 << 3, /* compressed or uncompressed bytes */
};

/** A column of either footer; old or new is NULL when the column is not on that side. */
typedef struct dv_pqdiff_column {
    const dv_parquet_column *old_col, *new_col;
    int status;  /* DV_PQDIFF_* */
    int changes; /* on both sides: DV_PQDIFF_NULLS | ... (also under TYPE_CHANGED) */
} dv_pqdiff_column;

typedef struct dv_pqdiff_report {
    dv_parquet_meta old_meta, new_meta; /* filled by the caller, owned by the report */
    dv_pqdiff_column *columns; /* the new footer's columns in its order, then removed ones */
    size_t n_columns;
    int reordered; /* the columns both footers hold are in another order */
} dv_pqdiff_report;

#define DV_PQDIFF_REPORT_INIT                                                                      \
    {                                                                                              \
        DV_PARQUET_META_INIT, DV_PARQUET_META_INIT, NULL, 0, 0                                     \
    }

/** Compare r->old_meta with r->new_meta into r's columns. A name found twice in one footer
 *  is matched in order of appearance. 0 or DV_ENOMEM. */
DV_NODISCARD int dv_pqdiff_compare(dv_pqdiff_report *r);

/** Whether any column is added, removed or changed type, or the order changed. */
int dv_pqdiff_schema_changed(const dv_pqdiff_report *r);

void dv_pqdiff_release(dv_pqdiff_report *r);

#endif
