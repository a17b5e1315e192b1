/* Tests for core/table/pqdiff.c: footers built here column by column, compared. */
#include "core/table/pqdiff.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

typedef struct col_spec {
    const char *name, *type;
    int physical, repetition;
    uint64_t nulls;
    const char *min, *max; /* plain bytes, NULL for no min and max */
} col_spec;

static void build(dv_parquet_meta *m, int64_t rows, const col_spec *cols, size_t n)
{
    *m = (dv_parquet_meta)DV_PARQUET_META_INIT;
    m->num_rows = rows;
    m->n_row_groups = 1;
    m->columns = calloc(n ? n : 1, sizeof(*m->columns));
    cr_assert(m->columns);
    m->n_columns = n;
    for (size_t i = 0; i < n; i++) {
        dv_parquet_column *c = &m->columns[i];
        c->name = strdup(cols[i].name);
        c->type_name = strdup(cols[i].type);
        cr_assert(c->name && c->type_name);
        c->physical = cols[i].physical;
        c->repetition = cols[i].repetition;
        c->has_null_count = 1;
        c->null_count = cols[i].nulls;
        c->min = (dv_buf)DV_BUF_INIT;
        c->max = (dv_buf)DV_BUF_INIT;
        if (cols[i].min) {
            c->has_min_max = 1;
            cr_assert_eq(dv_buf_puts(&c->min, cols[i].min), 0);
            cr_assert_eq(dv_buf_puts(&c->max, cols[i].max), 0);
        }
    }
}

#define STR DV_PARQUET_BYTE_ARRAY
#define OPT DV_PARQUET_OPTIONAL

static const dv_pqdiff_column *find(const dv_pqdiff_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_parquet_column *c =
            r->columns[i].new_col ? r->columns[i].new_col : r->columns[i].old_col;
        if (!strcmp(c->name, name))
            return &r->columns[i];
    }
    cr_assert_fail("no column %s in the report", name);
    return NULL;
}

Test(pqdiff, columns_matched_by_name_with_each_change_named)
{
    dv_pqdiff_report r = DV_PQDIFF_REPORT_INIT;
    const col_spec old_cols[] = {
        {"id", "string", STR, OPT, 0, "a", "m"},
        {"same", "string", STR, OPT, 2, "b", "c"},
        {"gone", "string", STR, OPT, 0, "x", "y"},
        {"kind", "int32", DV_PARQUET_INT32, OPT, 0, NULL, NULL},
        {"nulls", "string", STR, OPT, 3, "p", "q"},
    };
    const col_spec new_cols[] = {
        {"id", "string", STR, OPT, 0, "a", "z"},
        {"same", "string", STR, OPT, 2, "b", "c"},
        {"kind", "int64", DV_PARQUET_INT64, OPT, 0, NULL, NULL},
        {"nulls", "string", STR, OPT, 4, "p", "q"},
        {"fresh", "boolean", DV_PARQUET_BOOLEAN, OPT, 1, "\0", "\1"},
    };
    build(&r.old_meta, 10, old_cols, 5);
    build(&r.new_meta, 12, new_cols, 5);
    cr_assert_eq(dv_pqdiff_compare(&r), 0);
    cr_assert_eq(r.n_columns, 6); /* five new ones, then the removed one */
    cr_assert_eq(find(&r, "id")->status, DV_PQDIFF_STATS_CHANGED);
    cr_assert_eq(find(&r, "same")->status, DV_PQDIFF_SAME);
    cr_assert_eq(find(&r, "kind")->status, DV_PQDIFF_TYPE_CHANGED);
    cr_assert_eq(find(&r, "nulls")->status, DV_PQDIFF_STATS_CHANGED);
    cr_assert_eq(find(&r, "fresh")->status, DV_PQDIFF_ADDED);
    cr_assert_null(find(&r, "fresh")->old_col);
    cr_assert_eq(find(&r, "gone")->status, DV_PQDIFF_REMOVED);
    cr_assert_null(find(&r, "gone")->new_col);
    cr_assert_str_eq(r.columns[5].old_col->name, "gone");
    cr_assert_str_eq(find(&r, "kind")->old_col->type_name, "int32");
    cr_assert_not(r.reordered);
    cr_assert(dv_pqdiff_schema_changed(&r));
    dv_pqdiff_release(&r);
}

Test(pqdiff, identical_footers_have_no_change)
{
    dv_pqdiff_report r = DV_PQDIFF_REPORT_INIT;
    const col_spec cols[] = {{"a", "string", STR, OPT, 0, "1", "9"},
                             {"b", "string", STR, OPT, 1, NULL, NULL}};
    build(&r.old_meta, 5, cols, 2);
    build(&r.new_meta, 5, cols, 2);
    cr_assert_eq(dv_pqdiff_compare(&r), 0);
    cr_assert_eq(r.n_columns, 2);
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(r.columns[i].status, DV_PQDIFF_SAME);
    cr_assert_not(dv_pqdiff_schema_changed(&r));
    dv_pqdiff_release(&r);
}

Test(pqdiff, reorder_and_repetition_change_are_schema_changes)
{
    dv_pqdiff_report r = DV_PQDIFF_REPORT_INIT;
    const col_spec old_cols[] = {{"a", "string", STR, OPT, 0, NULL, NULL},
                                 {"b", "string", STR, OPT, 0, NULL, NULL}};
    const col_spec new_cols[] = {{"b", "string", STR, OPT, 0, NULL, NULL},
                                 {"a", "string", STR, DV_PARQUET_REQUIRED, 0, NULL, NULL}};
    build(&r.old_meta, 5, old_cols, 2);
    build(&r.new_meta, 5, new_cols, 2);
    cr_assert_eq(dv_pqdiff_compare(&r), 0);
    cr_assert(r.reordered);
    cr_assert_eq(find(&r, "b")->status, DV_PQDIFF_SAME);
    cr_assert_eq(find(&r, "a")->status, DV_PQDIFF_TYPE_CHANGED);
    cr_assert(dv_pqdiff_schema_changed(&r));
    dv_pqdiff_release(&r);
}

Test(pqdiff, a_name_twice_is_matched_in_order_and_empty_footers_compare)
{
    dv_pqdiff_report r = DV_PQDIFF_REPORT_INIT;
    const col_spec old_cols[] = {{"x", "string", STR, OPT, 1, NULL, NULL},
                                 {"x", "string", STR, OPT, 2, NULL, NULL}};
    const col_spec new_cols[] = {{"x", "string", STR, OPT, 1, NULL, NULL},
                                 {"x", "string", STR, OPT, 2, NULL, NULL},
                                 {"x", "string", STR, OPT, 3, NULL, NULL}};
    build(&r.old_meta, 1, old_cols, 2);
    build(&r.new_meta, 1, new_cols, 3);
    cr_assert_eq(dv_pqdiff_compare(&r), 0);
    cr_assert_eq(r.n_columns, 3);
    cr_assert_eq(r.columns[0].status, DV_PQDIFF_SAME);
    cr_assert_eq(r.columns[0].old_col, &r.old_meta.columns[0]);
    cr_assert_eq(r.columns[1].status, DV_PQDIFF_SAME);
    cr_assert_eq(r.columns[1].old_col, &r.old_meta.columns[1]);
    cr_assert_eq(r.columns[2].status, DV_PQDIFF_ADDED);
    cr_assert_not(r.reordered);
    dv_pqdiff_release(&r);

    dv_pqdiff_report e = DV_PQDIFF_REPORT_INIT;
    build(&e.old_meta, 0, NULL, 0);
    build(&e.new_meta, 0, NULL, 0);
    cr_assert_eq(dv_pqdiff_compare(&e), 0);
    cr_assert_eq(e.n_columns, 0);
    cr_assert_not(dv_pqdiff_schema_changed(&e));
    dv_pqdiff_release(&e);
}
