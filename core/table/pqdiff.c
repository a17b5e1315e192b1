/* pqdiff: two Parquet footers compared (pqdiff.h). */
#include "core/table/pqdiff.h"

#include <stdlib.h>
#include <string.h>

typedef struct named {
    const char *name;
    size_t index;
} named;

static int named_cmp(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int bound_eq(const dv_parquet_column *a, const dv_parquet_column *b, int max)
{
    const dv_buf *x = max ? &a->max : &a->min, *y = max ? &b->max : &b->min;
    return a->has_min_max == b->has_min_max && x->len == y->len &&
           (!x->len || !memcmp(x->ptr, y->ptr, x->len));
}

/* Which of DV_PQDIFF_NULLS ... differ between a column's two footers. */
static int column_changes(const dv_parquet_column *a, const dv_parquet_column *b)
{
    int changes = 0;
    if (a->has_null_count != b->has_null_count || a->null_count != b->null_count)
        changes |= DV_PQDIFF_NULLS;
    if (!bound_eq(a, b, 0))
        changes |= DV_PQDIFF_MIN;
    if (!bound_eq(a, b, 1))
        changes |= DV_PQDIFF_MAX;
    if (a->compressed_bytes != b->compressed_bytes ||
        a->uncompressed_bytes != b->uncompressed_bytes)
        changes |= DV_PQDIFF_SIZE;
    return changes;
}

static int column_status(const dv_parquet_column *a, const dv_parquet_column *b, int changes)
{
    if (strcmp(a->type_name, b->type_name) || a->physical != b->physical ||
        a->repetition != b->repetition)
        return DV_PQDIFF_TYPE_CHANGED;
    return changes ? DV_PQDIFF_STATS_CHANGED : DV_PQDIFF_SAME;
}

int dv_pqdiff_compare(dv_pqdiff_report *r)
{
    const dv_parquet_meta *a = &r->old_meta, *b = &r->new_meta;
    size_t n_old = a->n_columns, n_new = b->n_columns;
    named *sorted = calloc(n_old ? n_old : 1, sizeof(*sorted));
    size_t *match = calloc(n_new ? n_new : 1, sizeof(*match)); /* old index + 1, or 0 */
    unsigned char *used = calloc(n_old ? n_old : 1, 1);
    r->columns = calloc(n_old + n_new ? n_old + n_new : 1, sizeof(*r->columns));
    if (!sorted || !match || !used || !r->columns) {
        free(sorted);
        free(match);
        free(used);
        free(r->columns);
        r->columns = NULL;
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_old; i++)
        sorted[i] = (named){a->columns[i].name, i};
    qsort(sorted, n_old, sizeof(*sorted), named_cmp);
    for (size_t j = 0; j < n_new; j++) {
        /* the first old column of this name not matched yet */
        size_t lo = 0, hi = n_old;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(sorted[mid].name, b->columns[j].name) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        while (lo < n_old && !strcmp(sorted[lo].name, b->columns[j].name) && used[sorted[lo].index])
            lo++;
        if (lo < n_old && !strcmp(sorted[lo].name, b->columns[j].name)) {
            used[sorted[lo].index] = 1;
            match[j] = sorted[lo].index + 1;
        }
    }
    size_t n = 0, last_old = 0;
    int seen = 0;
    for (size_t j = 0; j < n_new; j++) {
        dv_pqdiff_column *c = &r->columns[n++];
        c->new_col = &b->columns[j];
        if (!match[j]) {
            c->status = DV_PQDIFF_ADDED;
            continue;
        }
        size_t i = match[j] - 1;
        if (seen && i < last_old)
            r->reordered = 1;
        seen = 1;
        last_old = i;
        c->old_col = &a->columns[i];
        c->changes = column_changes(c->old_col, c->new_col);
        c->status = column_status(c->old_col, c->new_col, c->changes);
    }
    for (size_t i = 0; i < n_old; i++)
        if (!used[i])
            r->columns[n++] = (dv_pqdiff_column){&a->columns[i], NULL, DV_PQDIFF_REMOVED, 0};
    r->n_columns = n;
    free(sorted);
    free(match);
    free(used);
    return 0;
}

int dv_pqdiff_schema_changed(const dv_pqdiff_report *r)
{
    if (r->reordered)
        return 1;
    for (size_t i = 0; i < r->n_columns; i++)
        if (r->columns[i].status == DV_PQDIFF_ADDED || r->columns[i].status == DV_PQDIFF_REMOVED ||
            r->columns[i].status == DV_PQDIFF_TYPE_CHANGED)
            return 1;
    return 0;
}

void dv_pqdiff_release(dv_pqdiff_report *r)
{
    dv_parquet_meta_release(&r->old_meta);
    dv_parquet_meta_release(&r->new_meta);
    free(r->columns);
    r->columns = NULL;
    r->n_columns = 0;
    r->reordered = 0;
}
