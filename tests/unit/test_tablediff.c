/* Unit tests for core/table/tablediff.c: tables made here, with the answers known from how
 * they were made. */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/table/tablediff.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A table in memory, streamed in pieces of 7 bytes, so records span pieces. */
typedef struct mem_table {
    const char *text;
    size_t len;
} mem_table;

static int stream_mem(void *ctx, dv_table_write_fn write, void *write_ctx)
{
    const mem_table *t = ctx;
    for (size_t at = 0; at < t->len; at += 7) {
        size_t n = t->len - at < 7 ? t->len - at : 7;
        int error = write(write_ctx, t->text + at, n);
        if (error < 0)
            return error;
    }
    return 0;
}

typedef struct tables {
    mem_table a, b;
    dv_table_source sa, sb;
} tables;

static void set_tables(tables *t, const char *old_text, size_t old_len, const char *new_text,
                       size_t new_len)
{
    t->a = (mem_table){old_text, old_len};
    t->b = (mem_table){new_text, new_len};
    t->sa = (dv_table_source){stream_mem, &t->a, "old.csv", old_len};
    t->sb = (dv_table_source){stream_mem, &t->b, "new.csv", new_len};
}

static dv_table_options options(int format, const char *const *keys, size_t n_keys)
{
    dv_table_options o = {format, keys, n_keys, 0, 0, 5, 0.2};
    return o;
}

static int diff_text(dv_table_report *r, const char *old_text, const char *new_text,
                     const dv_table_options *o)
{
    tables t;
    set_tables(&t, old_text, strlen(old_text), new_text, strlen(new_text));
    return dv_table_diff(r, &t.sa, &t.sb, o);
}

static const dv_table_column *column(const dv_table_report *r, const char *name)
{
    for (size_t i = 0; i < r->n_columns; i++)
        if (!strcmp(r->columns[i].name, name))
            return &r->columns[i];
    return NULL;
}

static const dv_table_example *example(const dv_table_report *r, int kind, size_t nth)
{
    for (size_t i = 0; i < r->n_examples; i++)
        if (r->examples[i].kind == kind && !nth--)
            return &r->examples[i];
    return NULL;
}

static const char *const ID[] = {"id"};

static const char OLD_CSV[] = "id,name,score\n"
                              "1,ann,10\n"
                              "2,bob,20\n"
                              "3,cy,30\n"
                              "4,dee,40\n"
                              "5,eve,50\n"
                              "6,fay,60\n";
/* 3's score changed, 5 deleted, 7 and 8 added; CRLF line ends too. */
static const char NEW_CSV[] = "id,name,score\r\n"
                              "1,ann,10\r\n"
                              "2,bob,20\r\n"
                              "3,cy,33\r\n"
                              "4,dee,40\r\n"
                              "6,fay,60\r\n"
                              "7,gus,70\r\n"
                              "8,hal,80\r\n";

Test(tablediff, keyed_rows_added_removed_changed)
{
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(diff_text(&r, OLD_CSV, NEW_CSV, &o), 0, "%s", dv_error_last());
    cr_assert(r.header && r.keyed);
    cr_assert_eq(r.old_rows, 6);
    cr_assert_eq(r.new_rows, 7);
    cr_assert_eq(r.rows_added, 2);
    cr_assert_eq(r.rows_removed, 1);
    cr_assert_eq(r.rows_changed, 1);
    cr_assert_eq(r.rows_same, 4);
    const dv_table_example *ch = example(&r, DV_TABLE_EXAMPLE_CHANGED, 0);
    cr_assert_not_null(ch);
    cr_assert_str_eq(ch->key, "id=3");
    cr_assert_eq(ch->old_line, 4);
    cr_assert_eq(ch->new_line, 4);
    cr_assert_eq(ch->n_changes, 1);
    cr_assert_str_eq(r.columns[ch->changes[0].column].name, "score");
    cr_assert_str_eq(ch->changes[0].old_value, "30");
    cr_assert_str_eq(ch->changes[0].new_value, "33");
    const dv_table_example *rm = example(&r, DV_TABLE_EXAMPLE_REMOVED, 0);
    cr_assert_not_null(rm);
    cr_assert_str_eq(rm->key, "id=5");
    cr_assert_eq(rm->old_line, 6);
    cr_assert_eq(rm->n_cells, 3);
    cr_assert_str_eq(rm->cells[1], "eve");
    const dv_table_example *a0 = example(&r, DV_TABLE_EXAMPLE_ADDED, 0);
    const dv_table_example *a1 = example(&r, DV_TABLE_EXAMPLE_ADDED, 1);
    cr_assert(a0 && a1);
    cr_assert_eq(a0->new_line, 7); /* examples in line order */
    cr_assert_eq(a1->new_line, 8);
    cr_assert_str_eq(a1->cells[1], "hal");
    cr_assert_eq(column(&r, "score")->cells_changed, 1);
    cr_assert_eq(column(&r, "name")->cells_changed, 0);
    dv_table_report_release(&r);
}

Test(tablediff, unkeyed_changes_are_adds_and_removes)
{
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, NULL, 0);
    cr_assert_eq(diff_text(&r, OLD_CSV, NEW_CSV, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_added, 3);   /* 3 as it is now, 7, 8 */
    cr_assert_eq(r.rows_removed, 2); /* 3 as it was, 5 */
    cr_assert_eq(r.rows_changed, 0);
    cr_assert_eq(r.rows_same, 4);
    dv_table_report_release(&r);
}

Test(tablediff, quoted_fields_with_commas_and_newlines)
{
    const char *a = "id,note\n1,\"a, b\nc\"\n2,\"say \"\"hi\"\"\"\n3,plain\n";
    const char *b = "id,note\n1,\"a, b\nd\"\n2,\"say \"\"hi\"\"\"\n3,plain\n";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.old_rows, 3);
    cr_assert_eq(r.rows_changed, 1);
    cr_assert_eq(r.rows_same, 2);
    const dv_table_example *ch = example(&r, DV_TABLE_EXAMPLE_CHANGED, 0);
    cr_assert_not_null(ch);
    cr_assert_str_eq(ch->changes[0].old_value, "a, b\nc");
    cr_assert_str_eq(ch->changes[0].new_value, "a, b\nd");
    cr_assert_eq(ch->old_line, 2);
    dv_table_report_release(&r);
}

Test(tablediff, column_order_does_not_matter)
{
    const char *a = "id,x,y\n1,a,b\n2,c,d\n";
    const char *b = "y,id,x\nb,1,a\nd,2,c\n";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_same, 2);
    cr_assert_eq(r.rows_changed + r.rows_added + r.rows_removed, 0);
    cr_assert(r.columns_reordered);
    dv_table_report_release(&r);
    o = options(DV_TABLE_CSV, NULL, 0);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_same, 2);
    dv_table_report_release(&r);
}

Test(tablediff, schema_added_removed_renamed_and_retyped)
{
    const char *a = "id,cost,legacy,qty\n1,5,x,1\n2,7,y,2\n3,9,z,3\n";
    const char *b = "id,price,qty,flag\n1,5,1.5,true\n2,7,2,false\n3,9,3,true\n";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    const dv_table_column *price = column(&r, "price"), *legacy = column(&r, "legacy"),
                          *flag = column(&r, "flag"), *qty = column(&r, "qty");
    cr_assert(price && legacy && flag && qty);
    cr_assert_eq(price->status, DV_TABLE_COLUMN_RENAMED);
    cr_assert_str_eq(price->old_name, "cost");
    cr_assert_eq(legacy->status, DV_TABLE_COLUMN_REMOVED);
    cr_assert_eq(flag->status, DV_TABLE_COLUMN_ADDED);
    cr_assert_eq(flag->new_stats.type, DV_COLTYPE_BOOLEAN);
    cr_assert_eq(qty->status, DV_TABLE_COLUMN_SAME);
    cr_assert_eq(qty->old_stats.type, DV_COLTYPE_INTEGER);
    cr_assert_eq(qty->new_stats.type, DV_COLTYPE_FLOAT);
    /* Rows compare on the columns both sides have: only 1's qty changed. */
    cr_assert_eq(r.rows_changed, 1);
    cr_assert_eq(r.rows_same, 2);
    dv_table_report_release(&r);
}

Test(tablediff, duplicate_and_empty_keys_are_counted_not_paired)
{
    const char *a = "id,v\n1,a\n2,b\n,c\n3,d\n";
    const char *b = "id,v\n1,a\n2,b\n2,bb\n3,e\n,f\n,g\n";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.dup_keys[0], 0);
    cr_assert_eq(r.dup_keys[1], 1);
    cr_assert_eq(r.dup_rows[1], 2);
    cr_assert_eq(r.empty_keys[0], 1);
    cr_assert_eq(r.empty_key_lines[0][0], 4);
    cr_assert_eq(r.empty_keys[1], 2);
    cr_assert_eq(r.empty_key_lines[1][1], 7);
    cr_assert_eq(r.rows_same, 1);    /* 1 */
    cr_assert_eq(r.rows_changed, 1); /* 3 */
    cr_assert_eq(r.rows_added + r.rows_removed, 0);
    const dv_table_example *d = example(&r, DV_TABLE_EXAMPLE_DUPLICATE, 0);
    cr_assert_not_null(d);
    cr_assert_str_eq(d->key, "id=2");
    cr_assert_eq(d->side, 1);
    cr_assert_eq(d->new_line, 3);
    cr_assert_eq(d->n_more_lines, 1);
    cr_assert_eq(d->more_lines[0], 4);
    dv_table_report_release(&r);
}

/* Pass 2 reads only the rows it wants, each from where pass 1 saw it start: lines counted
 * past quoted line ends and unwanted rows, a duplicate key's first four rows, a row that
 * begins like a byte order mark, and a last row without a line end. */
Test(tablediff, rows_read_again_keep_their_lines_and_cells)
{
    const char *a = "id,v\n1,\"x\ny\"\n2,a\n3,b\n3,b2\n3,b3\n3,b4\n3,b5\n4,\xEF\xBB\xBFz\n5,last";
    const char *b = "id,v\n1,\"x\ny\"\n2,A\n4,\xEF\xBB\xBFZ\n5,LAST";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_changed, 3);
    cr_assert_eq(r.rows_same, 1);
    cr_assert_eq(r.dup_rows[0], 5);
    const dv_table_example *c2 = example(&r, DV_TABLE_EXAMPLE_CHANGED, 0),
                           *c4 = example(&r, DV_TABLE_EXAMPLE_CHANGED, 1),
                           *c5 = example(&r, DV_TABLE_EXAMPLE_CHANGED, 2),
                           *d = example(&r, DV_TABLE_EXAMPLE_DUPLICATE, 0);
    cr_assert(c2 && c4 && c5 && d);
    cr_assert_str_eq(c2->key, "id=2");
    cr_assert_eq(c2->old_line, 4);
    cr_assert_eq(c2->new_line, 4);
    cr_assert_str_eq(c2->changes[0].new_value, "A");
    cr_assert_eq(c4->old_line, 10);
    cr_assert_eq(c4->new_line, 5);
    cr_assert_str_eq(c4->changes[0].old_value, "\xEF\xBB\xBFz");
    cr_assert_str_eq(c4->changes[0].new_value, "\xEF\xBB\xBFZ");
    cr_assert_eq(c5->old_line, 11);
    cr_assert_eq(c5->new_line, 6);
    cr_assert_str_eq(c5->changes[0].old_value, "last");
    cr_assert_str_eq(c5->changes[0].new_value, "LAST");
    cr_assert_str_eq(d->key, "id=3");
    cr_assert_eq(d->old_line, 5);
    cr_assert_eq(d->n_rows, 5);
    cr_assert_eq(d->n_more_lines, 3);
    cr_assert_eq(d->more_lines[0], 6);
    cr_assert_eq(d->more_lines[2], 8);
    dv_table_report_release(&r);

    const char *ja = "{\"id\": 1, \"v\": \"a\"}\n\n{\"id\": 2, \"v\": \"b\"}\n";
    const char *jb = "{\"id\": 1, \"v\": \"a\"}\n{\"id\": 2, \"v\": \"c\"}";
    o = options(DV_TABLE_JSONL, ID, 1);
    cr_assert_eq(diff_text(&r, ja, jb, &o), 0, "%s", dv_error_last());
    const dv_table_example *jc = example(&r, DV_TABLE_EXAMPLE_CHANGED, 0);
    cr_assert_not_null(jc);
    cr_assert_eq(jc->old_line, 3);
    cr_assert_eq(jc->new_line, 2);
    cr_assert_str_eq(jc->changes[0].new_value, "c");
    dv_table_report_release(&r);
}

Test(tablediff, composite_key)
{
    const char *const keys[] = {"day", "store"};
    const char *a = "day,store,n\nmon,1,5\nmon,2,6\ntue,1,7\n";
    const char *b = "store,day,n\n1,mon,5\n2,mon,9\n2,tue,1\n";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, keys, 2);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_same, 1);
    cr_assert_eq(r.rows_changed, 1);
    cr_assert_eq(r.rows_added, 1);
    cr_assert_eq(r.rows_removed, 1);
    const dv_table_example *ch = example(&r, DV_TABLE_EXAMPLE_CHANGED, 0);
    cr_assert_str_eq(ch->key, "day=mon, store=2");
    dv_table_report_release(&r);
}

Test(tablediff, tolerance_makes_near_numbers_equal)
{
    const char *a = "id,x\n1,1.0\n2,2.0\n3,3.0\n";
    const char *b = "id,x\n1,1.0004\n2,2.5\n3,3.0\n";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    o.tolerance = 0.001;
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_changed, 1);
    cr_assert_eq(r.rows_same, 2);
    cr_assert_eq(r.rows_within_tolerance, 1);
    cr_assert_eq(column(&r, "x")->cells_within_tolerance, 1);
    cr_assert_eq(column(&r, "x")->cells_changed, 1);
    dv_table_report_release(&r);
    o.tolerance = 0;
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_changed, 2);
    dv_table_report_release(&r);
}

/* A table of n rows with a column v drawn around mean and another, u, the same on both. */
static void make_numbers(dv_buf *out, size_t n, double mean, uint64_t seed)
{
    uint64_t s = seed, su = 99;
    dv_buf_puts(out, "id,v,u\n");
    for (size_t i = 0; i < n; i++) {
        /* a sum of uniforms: near normal, sd 1 */
        double g = 0;
        for (int k = 0; k < 12; k++)
            g += (double)(splitmix64(&s) >> 11) / 9007199254740992.0;
        double u = (double)(splitmix64(&su) >> 11) / 9007199254740992.0;
        dv_buf_printf(out, "%zu,%.6f,%.6f\n", i, mean + g - 6.0, u);
    }
}

Test(tablediff, drift_is_flagged_where_the_mean_moved_and_not_elsewhere)
{
    dv_buf a = DV_BUF_INIT, b = DV_BUF_INIT;
    make_numbers(&a, 20000, 10.0, 1);
    make_numbers(&b, 20000, 11.0, 2);
    tables t;
    set_tables(&t, a.ptr, a.len, b.ptr, b.len);
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(dv_table_diff(&r, &t.sa, &t.sb, &o), 0, "%s", dv_error_last());
    const dv_table_column *v = column(&r, "v"), *u = column(&r, "u");
    cr_assert(v->drifted, "psi %f", v->drift.psi);
    cr_assert_gt(v->drift.ks, 0.2);
    cr_assert(!u->drifted, "psi %f", u->drift.psi);
    cr_assert_lt(fabs(v->old_stats.mean - 10.0), 0.05);
    cr_assert_lt(fabs(v->new_stats.mean - 11.0), 0.05);
    cr_assert_eq(r.rows_changed, 20000);
    cr_assert_eq(column(&r, "u")->cells_changed, 0);
    dv_table_report_release(&r);
    dv_buf_release(&a);
    dv_buf_release(&b);
}

Test(tablediff, many_rows_are_counted_exactly)
{
    /* 100,000 rows; every 7th changed, every 11th not in the new version, 5,000 appended */
    dv_buf a = DV_BUF_INIT, b = DV_BUF_INIT;
    size_t n = 100000, changed = 0, removed = 0;
    dv_buf_puts(&a, "id,v\n");
    dv_buf_puts(&b, "v,id\n");
    for (size_t i = 0; i < n; i++) {
        dv_buf_printf(&a, "%zu,%zu\n", i, i * 3);
        if (i % 11 == 0) {
            removed++;
            continue;
        }
        changed += i % 7 == 0;
        dv_buf_printf(&b, "%zu,%zu\n", i % 7 == 0 ? i * 3 + 1 : i * 3, i);
    }
    for (size_t i = n; i < n + 5000; i++)
        dv_buf_printf(&b, "%zu,%zu\n", i, i);
    tables t;
    set_tables(&t, a.ptr, a.len, b.ptr, b.len);
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(dv_table_diff(&r, &t.sa, &t.sb, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.old_rows, n);
    cr_assert_eq(r.rows_removed, removed);
    cr_assert_eq(r.rows_changed, changed);
    cr_assert_eq(r.rows_added, 5000);
    cr_assert_eq(r.rows_same, n - removed - changed);
    cr_assert_eq(column(&r, "v")->cells_changed, changed);
    cr_assert_eq(r.n_examples, 15);
    dv_table_report_release(&r);
    dv_buf_release(&a);
    dv_buf_release(&b);
}

Test(tablediff, jsonl_keyed)
{
    const char *a = "{\"id\": 1, \"v\": \"a\"}\n{\"id\": 2, \"v\": \"b\", \"w\": null}\n"
                    "{\"id\": 3, \"v\": \"c\"}\n";
    const char *b = "{\"v\": \"a\", \"id\": 1}\n{\"id\": 2, \"v\": \"B\"}\n"
                    "{\"id\": 4, \"v\": \"d\", \"w\": [1, 2]}\n";
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_JSONL, ID, 1);
    cr_assert_eq(diff_text(&r, a, b, &o), 0, "%s", dv_error_last());
    cr_assert_eq(r.rows_same, 1);
    cr_assert_eq(r.rows_changed, 1);
    cr_assert_eq(r.rows_added, 1);
    cr_assert_eq(r.rows_removed, 1);
    const dv_table_column *w = column(&r, "w");
    cr_assert_not_null(w);
    cr_assert_eq(w->old_stats.nulls, 3);
    cr_assert_eq(w->new_stats.nulls, 2);
    const dv_table_example *ch = example(&r, DV_TABLE_EXAMPLE_CHANGED, 0);
    cr_assert_str_eq(ch->changes[0].old_value, "b");
    cr_assert_str_eq(ch->changes[0].new_value, "B");
    dv_table_report_release(&r);
}

Test(tablediff, ragged_row_names_file_and_line)
{
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, ID, 1);
    cr_assert_eq(diff_text(&r, "id,v\n1,a\n", "id,v\n1,a\n2,b,c\n", &o), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "new.csv: line 3"), "%s", dv_error_last());
    cr_assert_eq(diff_text(&r, "id,v\n1,\"a\n", "id,v\n", &o), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "old.csv: line 2"), "%s", dv_error_last());
}

Test(tablediff, missing_key_column_names_the_columns)
{
    const char *const keys[] = {"nope"};
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, keys, 1);
    cr_assert_eq(diff_text(&r, "id,v\n1,a\n", "id,v\n1,b\n", &o), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "no column nope; its columns are id, v"), "%s",
              dv_error_last());
}

Test(tablediff, no_header_names_columns_by_position)
{
    const char *const keys[] = {"1"};
    dv_table_report r = DV_TABLE_REPORT_INIT;
    dv_table_options o = options(DV_TABLE_CSV, keys, 1);
    o.no_header = 1;
    cr_assert_eq(diff_text(&r, "a,1\nb,2\n", "a,1\nb,3\nc,4\n", &o), 0, "%s", dv_error_last());
    cr_assert(!r.header);
    cr_assert_eq(r.old_rows, 2);
    cr_assert_eq(r.rows_changed, 1);
    cr_assert_eq(r.rows_added, 1);
    dv_table_report_release(&r);
}
