/* Tests for core/table/parquet.c: the footers of two files DuckDB wrote
 * (tests/data/parquet/make.sh says what they hold), footers built here byte by byte for
 * what DuckDB does not write, and hostile footers that must fail cleanly. */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/table/parquet.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the committed files ---- */

typedef struct file_bytes {
    uint8_t *data;
    size_t size;
} file_bytes;

/* tests/data/parquet/<name>, found from this source file's own path. */
static file_bytes read_data_file(const char *name)
{
    const char *here = __FILE__;
    const char *cut = strstr(here, "tests/unit/");
    cr_assert_not_null(cut, "cannot find the source tree from %s", here);
    char path[4096];
    snprintf(path, sizeof(path), "%.*stests/data/parquet/%s", (int)(cut - here), here, name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    cr_assert_gt(size, 0);
    cr_assert_eq(fseek(f, 0, SEEK_SET), 0);
    file_bytes fb = {malloc((size_t)size), (size_t)size};
    cr_assert_not_null(fb.data);
    cr_assert_eq(fread(fb.data, 1, fb.size, f), fb.size);
    fclose(f);
    return fb;
}

/* The footer of a committed file: where it starts and its length. */
static const uint8_t *footer_of(const file_bytes *fb, uint32_t *len, const char *name)
{
    cr_assert_eq(
        dv_parquet_footer_length(len, fb->data + fb->size - DV_PARQUET_TAIL_BYTES, fb->size, name),
        0, "%s", dv_error_last());
    cr_assert_eq(memcmp(fb->data, "PAR1", 4), 0);
    return fb->data + fb->size - DV_PARQUET_TAIL_BYTES - *len;
}

static void parse_data_file(dv_parquet_meta *meta, const char *name)
{
    file_bytes fb = read_data_file(name);
    uint32_t len;
    const uint8_t *footer = footer_of(&fb, &len, name);
    *meta = (dv_parquet_meta)DV_PARQUET_META_INIT;
    cr_assert_eq(dv_parquet_meta_parse(meta, footer, len, name), 0, "%s", dv_error_last());
    free(fb.data);
}

static void assert_formatted(const dv_parquet_column *c, const dv_buf *value, const char *want)
{
    dv_buf text = DV_BUF_INIT;
    cr_assert_eq(dv_parquet_value_format(&text, c, value), 0);
    cr_assert_str_eq(text.ptr, want, "column %s: %s, not %s", c->name ? c->name : "?", text.ptr,
                     want);
    dv_buf_release(&text);
}

typedef struct expected_column {
    const char *name, *type_name;
    int physical;
    uint64_t null_count;
    const char *min, *max;
} expected_column;

static void assert_columns(const dv_parquet_meta *meta, const expected_column *want, size_t n)
{
    cr_assert_eq(meta->n_columns, n);
    for (size_t i = 0; i < n; i++) {
        const dv_parquet_column *c = &meta->columns[i];
        cr_assert_str_eq(c->name, want[i].name);
        cr_assert_str_eq(c->type_name, want[i].type_name, "column %s", c->name);
        cr_assert_eq(c->physical, want[i].physical, "column %s", c->name);
        cr_assert_eq(c->repetition, DV_PARQUET_OPTIONAL, "column %s", c->name);
        cr_assert(c->has_null_count, "column %s", c->name);
        cr_assert_eq(c->null_count, want[i].null_count, "column %s", c->name);
        cr_assert(c->has_min_max, "column %s", c->name);
        assert_formatted(c, &c->min, want[i].min);
        assert_formatted(c, &c->max, want[i].max);
        cr_assert_gt(c->compressed_bytes, 0);
        cr_assert_gt(c->uncompressed_bytes, 0);
    }
}

Test(parquet, v1_footer_says_what_make_sh_wrote)
{
    dv_parquet_meta meta;
    parse_data_file(&meta, "v1.parquet");
    cr_assert_eq(meta.num_rows, 1000);
    cr_assert_eq(meta.n_row_groups, 1);
    cr_assert_eq(meta.version, 1);
    cr_assert_not_null(meta.created_by);
    cr_assert_eq(strncmp(meta.created_by, "DuckDB", 6), 0, "%s", meta.created_by);
    const expected_column want[] = {
        {"id", "int64", DV_PARQUET_INT64, 0, "1", "1000"},
        {"name", "string", DV_PARQUET_BYTE_ARRAY, 0, "name_0000", "name_0999"},
        {"score", "double", DV_PARQUET_DOUBLE, 11, "0.5", "499.5"},
        {"day", "date", DV_PARQUET_INT32, 0, "2024-01-01", "2026-09-26"},
    };
    assert_columns(&meta, want, 4);
    dv_parquet_meta_release(&meta);
    cr_assert_null(meta.columns);
    cr_assert_eq(meta.n_columns, 0);
}

Test(parquet, v2_footer_has_the_added_column)
{
    dv_parquet_meta meta;
    parse_data_file(&meta, "v2.parquet");
    cr_assert_eq(meta.num_rows, 1500);
    cr_assert_eq(meta.n_row_groups, 1);
    const expected_column want[] = {
        {"id", "int64", DV_PARQUET_INT64, 0, "1", "1500"},
        {"name", "string", DV_PARQUET_BYTE_ARRAY, 0, "name_0000", "name_1499"},
        {"score", "double", DV_PARQUET_DOUBLE, 16, "0.5", "749.5"},
        {"day", "date", DV_PARQUET_INT32, 0, "2024-01-01", "2028-02-08"},
        {"flag", "boolean", DV_PARQUET_BOOLEAN, 15, "false", "true"},
    };
    assert_columns(&meta, want, 5);
    dv_parquet_meta_release(&meta);
}

/* Every prefix of a real footer is refused with a message, and leaves nothing behind. */
static void assert_every_truncation_fails(const char *name)
{
    file_bytes fb = read_data_file(name);
    uint32_t len;
    const uint8_t *footer = footer_of(&fb, &len, name);
    for (uint32_t n = 0; n < len; n++) {
        /* a copy of exactly n bytes, so reading past them is a sanitizer report */
        uint8_t *copy = malloc(n ? n : 1);
        cr_assert_not_null(copy);
        memcpy(copy, footer, n);
        dv_parquet_meta meta = DV_PARQUET_META_INIT;
        dv_error_clear();
        cr_assert_eq(dv_parquet_meta_parse(&meta, copy, n, name), DV_ECORRUPT, "%s cut to %u bytes",
                     name, n);
        cr_assert_eq(strncmp(dv_error_last(), name, strlen(name)), 0, "%s", dv_error_last());
        cr_assert(strstr(dv_error_last(), ": Parquet footer: "), "%s", dv_error_last());
        cr_assert_null(meta.columns);
        cr_assert_null(meta.created_by);
        cr_assert_eq(meta.n_columns, 0);
        free(copy);
    }
    /* and one byte too many is refused too */
    uint8_t *longer = malloc(len + 1);
    cr_assert_not_null(longer);
    memcpy(longer, footer, len);
    longer[len] = 0;
    dv_parquet_meta meta = DV_PARQUET_META_INIT;
    cr_assert_eq(dv_parquet_meta_parse(&meta, longer, len + 1, name), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "1 bytes after FileMetaData"), "%s", dv_error_last());
    free(longer);
    free(fb.data);
}

Test(parquet, every_truncation_of_a_real_footer_fails_cleanly)
{
    assert_every_truncation_fails("v1.parquet");
    assert_every_truncation_fails("v2.parquet");
}

Test(parquet, footer_length_checks_magic_and_size)
{
    uint8_t tail[8] = {100, 0, 0, 0, 'P', 'A', 'R', '1'};
    uint32_t len = 7;
    cr_assert_eq(dv_parquet_footer_length(&len, tail, 112, "f.parquet"), 0);
    cr_assert_eq(len, 100);

    cr_assert_eq(dv_parquet_footer_length(&len, tail, 111, "f.parquet"), DV_ECORRUPT);
    cr_assert_eq(len, 0);
    cr_assert(strstr(dv_error_last(), "f.parquet: Parquet footer: a footer of 100 bytes in a "
                                      "file of 111"),
              "%s", dv_error_last());
    cr_assert_eq(dv_parquet_footer_length(&len, tail, 11, "f.parquet"), DV_ECORRUPT);

    tail[0] = tail[1] = tail[2] = tail[3] = 0xff;
    cr_assert_eq(dv_parquet_footer_length(&len, tail, 100, "f.parquet"), DV_ECORRUPT);
    cr_assert_eq(dv_parquet_footer_length(&len, tail, UINT64_MAX, "f.parquet"), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "longer than dv reads"), "%s", dv_error_last());

    uint8_t bad_magic[8] = {4, 0, 0, 0, 'P', 'A', 'R', '2'};
    cr_assert_eq(dv_parquet_footer_length(&len, bad_magic, 1000, "f.parquet"), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "does not end in PAR1"), "%s", dv_error_last());
    uint8_t encrypted[8] = {4, 0, 0, 0, 'P', 'A', 'R', 'E'};
    cr_assert_eq(dv_parquet_footer_length(&len, encrypted, 1000, "f.parquet"), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "encrypted"), "%s", dv_error_last());
}

/* ---- footers written here: a Thrift compact protocol writer ---- */

enum {
    T_TRUE = 1,
    T_FALSE = 2,
    T_BYTE = 3,
    T_I16 = 4,
    T_I32 = 5,
    T_I64 = 6,
    T_DOUBLE = 7,
    T_BINARY = 8,
    T_LIST = 9,
    T_SET = 10,
    T_MAP = 11,
    T_STRUCT = 12,
};

typedef struct tw {
    dv_buf b;
    int16_t last[256]; /* the last field id written, per open struct */
    int depth;
} tw;

static void tw_init(tw *w)
{
    memset(w, 0, sizeof(*w));
    w->b = (dv_buf)DV_BUF_INIT;
}

static void tw_byte(tw *w, uint8_t b)
{
    cr_assert_eq(dv_buf_putc(&w->b, (char)b), 0);
}

static void tw_varint(tw *w, uint64_t v)
{
    while (v >= 0x80) {
        tw_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    tw_byte(w, (uint8_t)v);
}

static void tw_zigzag(tw *w, int64_t v)
{
    tw_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void tw_field(tw *w, int16_t id, int type)
{
    int delta = id - w->last[w->depth];
    if (delta > 0 && delta <= 15) {
        tw_byte(w, (uint8_t)(delta << 4 | type));
    } else {
        tw_byte(w, (uint8_t)type);
        tw_zigzag(w, id);
    }
    w->last[w->depth] = id;
}

static void tw_i32(tw *w, int16_t id, int64_t v)
{
    tw_field(w, id, T_I32);
    tw_zigzag(w, v);
}

static void tw_i64(tw *w, int16_t id, int64_t v)
{
    tw_field(w, id, T_I64);
    tw_zigzag(w, v);
}

static void tw_bool(tw *w, int16_t id, int v)
{
    tw_field(w, id, v ? T_TRUE : T_FALSE);
}

static void tw_bytes(tw *w, const void *p, size_t len)
{
    tw_varint(w, len);
    cr_assert_eq(dv_buf_put(&w->b, p, len), 0);
}

static void tw_binary(tw *w, int16_t id, const void *p, size_t len)
{
    tw_field(w, id, T_BINARY);
    tw_bytes(w, p, len);
}

static void tw_string(tw *w, int16_t id, const char *s)
{
    tw_binary(w, id, s, strlen(s));
}

/* A struct, as a field (id > 0) or as an element of a list (id 0): fields follow, then
 * tw_end. */
static void tw_struct(tw *w, int16_t id)
{
    if (id)
        tw_field(w, id, T_STRUCT);
    cr_assert_lt(w->depth, 255);
    w->last[++w->depth] = 0;
}

static void tw_end(tw *w)
{
    tw_byte(w, 0);
    w->depth--;
}

static void tw_list_header(tw *w, int element_type, uint64_t n)
{
    if (n < 15) {
        tw_byte(w, (uint8_t)(n << 4 | (uint64_t)element_type));
    } else {
        tw_byte(w, (uint8_t)(0xf0 | element_type));
        tw_varint(w, n);
    }
}

static void tw_list(tw *w, int16_t id, int element_type, uint64_t n)
{
    tw_field(w, id, T_LIST);
    tw_list_header(w, element_type, n);
}

/* FileMetaData's opening: version, and the schema list's header for n elements. */
static void tw_file_begin(tw *w, size_t n_elements)
{
    tw_init(w);
    tw_i32(w, 1, 2);
    tw_list(w, 2, T_STRUCT, n_elements);
}

/* A schema element, left open for more fields: type < 0 for a group, children < 0 for
 * none given. */
static void tw_element(tw *w, const char *name, int type, int children)
{
    tw_struct(w, 0);
    if (type >= 0)
        tw_i32(w, 1, type);
    if (w->depth > 0 && children < 0)
        tw_i32(w, 3, DV_PARQUET_OPTIONAL);
    tw_string(w, 4, name);
    if (children >= 0)
        tw_i32(w, 5, children);
}

static void tw_leaf(tw *w, const char *name, int type)
{
    tw_element(w, name, type, -1);
    tw_end(w);
}

/* A leaf with a converted type. */
static void tw_leaf_converted(tw *w, const char *name, int type, int converted)
{
    tw_element(w, name, type, -1);
    tw_i32(w, 6, converted);
    tw_end(w);
}

typedef struct stat_spec {
    const void *min, *max; /* min_value, max_value; NULL: absent */
    size_t min_len, max_len;
    const void *old_min, *old_max; /* the deprecated min, max */
    size_t old_min_len, old_max_len;
    int64_t null_count; /* < 0: absent */
    int no_statistics;
} stat_spec;

/* A ColumnChunk with its ColumnMetaData. */
static void tw_chunk(tw *w, int type, const char *path, int64_t num_values, int64_t compressed,
                     const stat_spec *s)
{
    tw_struct(w, 0);
    tw_i64(w, 2, 4);
    tw_struct(w, 3);
    tw_i32(w, 1, type);
    tw_list(w, 2, T_I32, 1);
    tw_zigzag(w, 0);
    size_t parts = 1;
    for (const char *p = path; *p; p++)
        parts += *p == '.';
    tw_list(w, 3, T_BINARY, parts);
    for (const char *p = path;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        tw_bytes(w, p, n);
        if (!dot)
            break;
        p = dot + 1;
    }
    tw_i32(w, 4, 0);
    tw_i64(w, 5, num_values);
    tw_i64(w, 6, compressed * 2);
    tw_i64(w, 7, compressed);
    tw_i64(w, 9, 4);
    if (s && !s->no_statistics) {
        tw_struct(w, 12);
        if (s->old_max)
            tw_binary(w, 1, s->old_max, s->old_max_len);
        if (s->old_min)
            tw_binary(w, 2, s->old_min, s->old_min_len);
        if (s->null_count >= 0)
            tw_i64(w, 3, s->null_count);
        if (s->max)
            tw_binary(w, 5, s->max, s->max_len);
        if (s->min)
            tw_binary(w, 6, s->min, s->min_len);
        tw_end(w);
    }
    tw_end(w);
    tw_end(w);
}

static void tw_row_group_begin(tw *w, size_t n_columns)
{
    tw_struct(w, 0);
    tw_list(w, 1, T_STRUCT, n_columns);
}

static void tw_row_group_end(tw *w, int64_t rows)
{
    tw_i64(w, 2, rows * 10);
    tw_i64(w, 3, rows);
    tw_end(w);
}

static int parse(dv_parquet_meta *meta, const tw *w)
{
    *meta = (dv_parquet_meta)DV_PARQUET_META_INIT;
    dv_error_clear();
    return dv_parquet_meta_parse(meta, (const uint8_t *)w->b.ptr, w->b.len, "t.parquet");
}

static void assert_parses(dv_parquet_meta *meta, const tw *w)
{
    cr_assert_eq(parse(meta, w), 0, "%s", dv_error_last());
}

static void assert_rejected(tw *w, const char *needle)
{
    dv_parquet_meta meta;
    int error = parse(&meta, w);
    cr_assert_eq(error, DV_ECORRUPT, "should reject (%s), got %d", needle, error);
    const char *message = dv_error_last();
    cr_assert_eq(strncmp(message, "t.parquet: Parquet footer: ", 27), 0, "%s", message);
    cr_assert(strstr(message, needle), "message '%s' should mention '%s'", message, needle);
    cr_assert_null(meta.columns);
    cr_assert_eq(meta.n_columns, 0);
    dv_buf_release(&w->b);
}

static const dv_parquet_column *find_column(const dv_parquet_meta *meta, const char *name)
{
    for (size_t i = 0; i < meta->n_columns; i++)
        if (!strcmp(meta->columns[i].name, name))
            return &meta->columns[i];
    cr_assert_fail("no column %s", name);
    return NULL;
}

static void assert_min_max(const dv_parquet_meta *meta, const char *name, const char *min,
                           const char *max)
{
    const dv_parquet_column *c = find_column(meta, name);
    cr_assert(c->has_min_max, "column %s has no min and max", name);
    assert_formatted(c, &c->min, min);
    assert_formatted(c, &c->max, max);
}

static void le32(uint8_t out[4], uint32_t v)
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static void le64(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static void double_bytes(uint8_t out[8], double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    le64(out, bits);
}

/* Three row groups of an int32 "n", a string "s" and a double "x", each with the
 * statistics given. */
typedef struct group_stats {
    int32_t n_min, n_max;
    const char *s_min, *s_max;
    double x_min, x_max;
    int64_t nulls;
} group_stats;

static void tw_three_groups(tw *w, const group_stats g[3], int64_t x_nulls_of_group_1)
{
    tw_file_begin(w, 4);
    tw_element(w, "schema", -1, 3);
    tw_end(w);
    tw_leaf(w, "n", DV_PARQUET_INT32);
    tw_leaf_converted(w, "s", DV_PARQUET_BYTE_ARRAY, 0 /* UTF8 */);
    tw_leaf(w, "x", DV_PARQUET_DOUBLE);
    tw_i64(w, 3, 30);
    tw_list(w, 4, T_STRUCT, 3);
    for (int i = 0; i < 3; i++) {
        uint8_t n_min[4], n_max[4], x_min[8], x_max[8];
        le32(n_min, (uint32_t)g[i].n_min);
        le32(n_max, (uint32_t)g[i].n_max);
        double_bytes(x_min, g[i].x_min);
        double_bytes(x_max, g[i].x_max);
        stat_spec n = {n_min, n_max, 4, 4, NULL, NULL, 0, 0, g[i].nulls, 0};
        /* the last row group gives no null count for s */
        stat_spec s = {
            g[i].s_min,      g[i].s_max, strlen(g[i].s_min), strlen(g[i].s_max), NULL, NULL, 0, 0,
            i == 2 ? -1 : 0, 0};
        stat_spec x = {x_min, x_max, 8, 8, NULL, NULL, 0, 0, i == 1 ? x_nulls_of_group_1 : 1, 0};
        tw_row_group_begin(w, 3);
        tw_chunk(w, DV_PARQUET_INT32, "n", 10, 100 + i, &n);
        tw_chunk(w, DV_PARQUET_BYTE_ARRAY, "s", 10, 200 + i, &s);
        tw_chunk(w, DV_PARQUET_DOUBLE, "x", 10, 300 + i, &x);
        tw_row_group_end(w, 10);
    }
    tw_end(w);
}

Test(parquet, statistics_gather_over_row_groups_in_each_type_s_order)
{
    /* signed ints, strings in unsigned byte order ("é" after "z"), doubles */
    const group_stats g[3] = {
        {-5, 7, "b", "m", 1.5, 2.5, 0},
        {-100, -1, "a", "z", -0.25, 10, 2},
        {3, 2147483647, "c", "\xc3\xa9t\xc3\xa9", 0, 3, 1},
    };
    tw w;
    tw_three_groups(&w, g, 1);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    cr_assert_eq(meta.num_rows, 30);
    cr_assert_eq(meta.n_row_groups, 3);
    cr_assert_null(meta.created_by);
    assert_min_max(&meta, "n", "-100", "2147483647");
    assert_min_max(&meta, "s", "a", "\xc3\xa9t\xc3\xa9");
    assert_min_max(&meta, "x", "-0.25", "10");
    const dv_parquet_column *n = find_column(&meta, "n"), *x = find_column(&meta, "x");
    cr_assert(n->has_null_count);
    cr_assert_eq(n->null_count, 3);
    cr_assert_eq(x->null_count, 3);
    cr_assert_eq(n->compressed_bytes, 100 + 101 + 102);
    cr_assert_eq(n->uncompressed_bytes, 2 * (100 + 101 + 102));
    cr_assert(!find_column(&meta, "s")->has_null_count, "a row group gave no null count");
    cr_assert_eq(find_column(&meta, "s")->null_count, 0);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, a_nan_bound_leaves_the_column_without_min_max)
{
    const group_stats g[3] = {
        {0, 1, "a", "b", 1, 2, 0},
        {0, 1, "a", "b", NAN, 2, 0},
        {0, 1, "a", "b", 0, 3, 0},
    };
    tw w;
    tw_three_groups(&w, g, 0);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    const dv_parquet_column *x = find_column(&meta, "x");
    cr_assert(!x->has_min_max);
    cr_assert_eq(x->min.len, 0);
    cr_assert(find_column(&meta, "n")->has_min_max);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, an_all_null_chunk_needs_no_min_max_but_a_missing_one_counts)
{
    uint8_t lo[4], hi[4];
    le32(lo, 4);
    le32(hi, 9);
    const stat_spec with = {lo, hi, 4, 4, NULL, NULL, 0, 0, 0, 0};
    const stat_spec all_null = {NULL, NULL, 0, 0, NULL, NULL, 0, 0, 10, 0};
    const stat_spec none = {NULL, NULL, 0, 0, NULL, NULL, 0, 0, -1, 1};
    tw w;
    tw_file_begin(&w, 3);
    tw_element(&w, "schema", -1, 2);
    tw_end(&w);
    tw_leaf(&w, "a", DV_PARQUET_INT32);
    tw_leaf(&w, "b", DV_PARQUET_INT32);
    tw_i64(&w, 3, 20);
    tw_list(&w, 4, T_STRUCT, 2);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 10, 1, &with);
    tw_chunk(&w, DV_PARQUET_INT32, "b", 10, 1, &with);
    tw_row_group_end(&w, 10);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 10, 1, &all_null);
    tw_chunk(&w, DV_PARQUET_INT32, "b", 10, 1, &none);
    tw_row_group_end(&w, 10);
    tw_end(&w);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    const dv_parquet_column *a = find_column(&meta, "a"), *b = find_column(&meta, "b");
    assert_min_max(&meta, "a", "4", "9");
    cr_assert_eq(a->null_count, 10);
    cr_assert(!b->has_min_max);
    cr_assert(!b->has_null_count);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, deprecated_min_max_only_where_their_signed_order_is_right)
{
    uint8_t lo[8], hi[8], ulo[4], uhi[4];
    le64(lo, (uint64_t)-3);
    le64(hi, 42);
    le32(ulo, 1);
    le32(uhi, 0xffffffffu);
    const stat_spec old_ints = {NULL, NULL, 0, 0, lo, hi, 8, 8, 0, 0};
    const stat_spec old_strings = {NULL, NULL, 0, 0, "a", "b", 1, 1, 0, 0};
    const stat_spec old_unsigned = {NULL, NULL, 0, 0, ulo, uhi, 4, 4, 0, 0};
    const stat_spec new_unsigned = {ulo, uhi, 4, 4, NULL, NULL, 0, 0, 0, 0};
    tw w;
    tw_file_begin(&w, 5);
    tw_element(&w, "schema", -1, 4);
    tw_end(&w);
    tw_leaf(&w, "i", DV_PARQUET_INT64);
    tw_leaf_converted(&w, "s", DV_PARQUET_BYTE_ARRAY, 0);
    tw_leaf_converted(&w, "u_old", DV_PARQUET_INT32, 13 /* UINT_32 */);
    tw_leaf_converted(&w, "u", DV_PARQUET_INT32, 13);
    tw_i64(&w, 3, 5);
    tw_list(&w, 4, T_STRUCT, 1);
    tw_row_group_begin(&w, 4);
    tw_chunk(&w, DV_PARQUET_INT64, "i", 5, 1, &old_ints);
    tw_chunk(&w, DV_PARQUET_BYTE_ARRAY, "s", 5, 1, &old_strings);
    tw_chunk(&w, DV_PARQUET_INT32, "u_old", 5, 1, &old_unsigned);
    tw_chunk(&w, DV_PARQUET_INT32, "u", 5, 1, &new_unsigned);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    assert_min_max(&meta, "i", "-3", "42");
    cr_assert(!find_column(&meta, "s")->has_min_max);
    cr_assert(!find_column(&meta, "u_old")->has_min_max);
    assert_min_max(&meta, "u", "1", "4294967295");
    cr_assert_str_eq(find_column(&meta, "u")->type_name, "uint32");
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, unsigned_and_decimal_bytes_compare_in_their_own_order)
{
    /* uint64: 2^63 is larger than 1, though negative as a signed value */
    uint8_t a[8], b[8];
    le64(a, 1);
    le64(b, 1ull << 63);
    /* decimal(5,2) in 2-byte big-endian two's complement: -3.00, 1.00; then -0.01, 0.50 */
    const uint8_t d1_min[2] = {0xfe, 0xd4}, d1_max[2] = {0x00, 0x64};
    const uint8_t d2_min[2] = {0xff, 0xff}, d2_max[2] = {0x00, 0x32};
    const stat_spec u1 = {a, a, 8, 8, NULL, NULL, 0, 0, 0, 0};
    const stat_spec u2 = {b, b, 8, 8, NULL, NULL, 0, 0, 0, 0};
    const stat_spec d1 = {d1_min, d1_max, 2, 2, NULL, NULL, 0, 0, 0, 0};
    const stat_spec d2 = {d2_min, d2_max, 2, 2, NULL, NULL, 0, 0, 0, 0};
    tw w;
    tw_file_begin(&w, 3);
    tw_element(&w, "schema", -1, 2);
    tw_end(&w);
    tw_element(&w, "u", DV_PARQUET_INT64, -1);
    tw_struct(&w, 10);
    tw_struct(&w, 10); /* INTEGER */
    tw_field(&w, 1, T_BYTE);
    tw_byte(&w, 64);
    tw_bool(&w, 2, 0);
    tw_end(&w);
    tw_end(&w);
    tw_end(&w);
    tw_element(&w, "d", DV_PARQUET_FIXED_LEN_BYTE_ARRAY, -1);
    tw_i32(&w, 2, 2);
    tw_i32(&w, 6, 5 /* DECIMAL */);
    tw_i32(&w, 7, 2);
    tw_i32(&w, 8, 5);
    tw_end(&w);
    tw_i64(&w, 3, 2);
    tw_list(&w, 4, T_STRUCT, 2);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT64, "u", 1, 1, &u1);
    tw_chunk(&w, DV_PARQUET_FIXED_LEN_BYTE_ARRAY, "d", 1, 1, &d1);
    tw_row_group_end(&w, 1);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT64, "u", 1, 1, &u2);
    tw_chunk(&w, DV_PARQUET_FIXED_LEN_BYTE_ARRAY, "d", 1, 1, &d2);
    tw_row_group_end(&w, 1);
    tw_end(&w);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    cr_assert_str_eq(find_column(&meta, "u")->type_name, "uint64");
    assert_min_max(&meta, "u", "1", "9223372036854775808");
    cr_assert_str_eq(find_column(&meta, "d")->type_name, "decimal(5,2)");
    assert_min_max(&meta, "d", "-3.00", "1.00");
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

/* A leaf with a LogicalType: kind is the union member, its struct's fields written by the
 * caller between tw_logical_begin and tw_logical_end. */
static void tw_logical_begin(tw *w, const char *name, int type, int type_length, int16_t kind)
{
    tw_element(w, name, type, -1);
    if (type_length)
        tw_i32(w, 2, type_length);
    tw_struct(w, 10);
    tw_struct(w, kind);
}

static void tw_logical_end(tw *w)
{
    tw_end(w);
    tw_end(w);
    tw_end(w);
}

static void tw_logical(tw *w, const char *name, int type, int type_length, int16_t kind)
{
    tw_logical_begin(w, name, type, type_length, kind);
    tw_logical_end(w);
}

static void tw_logical_integer(tw *w, const char *name, int type, int bits, int is_signed)
{
    tw_logical_begin(w, name, type, 0, 10);
    tw_field(w, 1, T_BYTE);
    tw_byte(w, (uint8_t)bits);
    tw_bool(w, 2, is_signed);
    tw_logical_end(w);
}

/* TIME (7) or TIMESTAMP (8) with unit 1 ms, 2 us, 3 ns. */
static void tw_logical_time(tw *w, const char *name, int type, int16_t kind, int16_t unit)
{
    tw_logical_begin(w, name, type, 0, kind);
    tw_bool(w, 1, 1);
    tw_struct(w, 2);
    tw_struct(w, unit);
    tw_end(w);
    tw_end(w);
    tw_logical_end(w);
}

static void tw_logical_decimal(tw *w, const char *name, int type, int type_length, int precision,
                               int scale)
{
    tw_logical_begin(w, name, type, type_length, 5);
    tw_i32(w, 1, scale);
    tw_i32(w, 2, precision);
    tw_logical_end(w);
}

Test(parquet, type_names_from_logical_converted_and_physical_types)
{
    tw w;
    tw_file_begin(&w, 30);
    tw_element(&w, "schema", -1, 26);
    tw_end(&w);
    tw_logical_integer(&w, "i8", DV_PARQUET_INT32, 8, 1);
    tw_logical_integer(&w, "u16", DV_PARQUET_INT32, 16, 0);
    tw_logical_integer(&w, "u64", DV_PARQUET_INT64, 64, 0);
    tw_logical_decimal(&w, "dec", DV_PARQUET_INT64, 0, 10, 2);
    tw_logical_decimal(&w, "dec_fixed", DV_PARQUET_FIXED_LEN_BYTE_ARRAY, 16, 38, 9);
    tw_logical(&w, "day", DV_PARQUET_INT32, 0, 6);
    tw_logical_time(&w, "t_ms", DV_PARQUET_INT32, 7, 1);
    tw_logical_time(&w, "t_ns", DV_PARQUET_INT64, 7, 3);
    tw_logical_time(&w, "ts_us", DV_PARQUET_INT64, 8, 2);
    tw_logical_time(&w, "ts_ms", DV_PARQUET_INT64, 8, 1);
    tw_logical(&w, "id", DV_PARQUET_FIXED_LEN_BYTE_ARRAY, 16, 14);
    tw_logical(&w, "half", DV_PARQUET_FIXED_LEN_BYTE_ARRAY, 2, 15);
    tw_logical(&w, "doc", DV_PARQUET_BYTE_ARRAY, 0, 12);
    tw_logical(&w, "kind", DV_PARQUET_BYTE_ARRAY, 0, 4);
    tw_logical(&w, "text", DV_PARQUET_BYTE_ARRAY, 0, 1);
    tw_leaf_converted(&w, "old_text", DV_PARQUET_BYTE_ARRAY, 0);
    tw_leaf_converted(&w, "old_ts", DV_PARQUET_INT64, 9);
    tw_leaf_converted(&w, "old_u16", DV_PARQUET_INT32, 12);
    tw_element(&w, "old_dec", DV_PARQUET_INT32, -1);
    tw_i32(&w, 6, 5);
    tw_i32(&w, 7, 1);
    tw_i32(&w, 8, 5);
    tw_end(&w);
    tw_element(&w, "fixed", DV_PARQUET_FIXED_LEN_BYTE_ARRAY, -1);
    tw_i32(&w, 2, 7);
    tw_end(&w);
    tw_leaf(&w, "legacy", DV_PARQUET_INT96);
    tw_leaf(&w, "blob", DV_PARQUET_BYTE_ARRAY);
    tw_leaf(&w, "f", DV_PARQUET_FLOAT);
    tw_logical(&w, "newer", DV_PARQUET_BYTE_ARRAY, 0, 99); /* unknown: the physical name */
    /* a group and a LIST: names are dotted paths */
    tw_element(&w, "address", -1, 1);
    tw_end(&w);
    tw_leaf(&w, "city", DV_PARQUET_BYTE_ARRAY);
    tw_element(&w, "tags", -1, 1);
    tw_i32(&w, 6, 3 /* LIST */);
    tw_end(&w);
    tw_element(&w, "list", -1, 1);
    tw_i32(&w, 3, DV_PARQUET_REPEATED);
    tw_end(&w);
    tw_logical(&w, "element", DV_PARQUET_BYTE_ARRAY, 0, 1);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);

    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    const char *want[][2] = {
        {"i8", "int8"},
        {"u16", "uint16"},
        {"u64", "uint64"},
        {"dec", "decimal(10,2)"},
        {"dec_fixed", "decimal(38,9)"},
        {"day", "date"},
        {"t_ms", "time[ms]"},
        {"t_ns", "time[ns]"},
        {"ts_us", "timestamp[us]"},
        {"ts_ms", "timestamp[ms]"},
        {"id", "uuid"},
        {"half", "float16"},
        {"doc", "json"},
        {"kind", "enum"},
        {"text", "string"},
        {"old_text", "string"},
        {"old_ts", "timestamp[ms]"},
        {"old_u16", "uint16"},
        {"old_dec", "decimal(5,1)"},
        {"fixed", "fixed_len_byte_array(7)"},
        {"legacy", "int96"},
        {"blob", "binary"},
        {"f", "float"},
        {"newer", "binary"},
        {"address.city", "binary"},
        {"tags.list.element", "string"},
    };
    cr_assert_eq(meta.n_columns, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < meta.n_columns; i++) {
        cr_assert_str_eq(meta.columns[i].name, want[i][0]);
        cr_assert_str_eq(meta.columns[i].type_name, want[i][1], "column %s", want[i][0]);
        /* no row groups: nothing is missing, but there is nothing to bound either */
        cr_assert(meta.columns[i].has_null_count);
        cr_assert(!meta.columns[i].has_min_max);
    }
    cr_assert_eq(find_column(&meta, "address.city")->repetition, DV_PARQUET_OPTIONAL);
    cr_assert_eq(meta.n_row_groups, 0);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, annotations_the_physical_type_cannot_carry_are_refused)
{
    tw w;
    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_logical(&w, "day", DV_PARQUET_INT64, 0, 6);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "column day: a DATE annotation on a int64 column");

    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_logical_decimal(&w, "d", DV_PARQUET_INT32, 0, 3, 4);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "DECIMAL of precision 3 and scale 4");

    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_logical_integer(&w, "i", DV_PARQUET_INT32, 12, 1);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "INTEGER of 12 bits");
}

/* ---- values for people ---- */

static void assert_value(int physical, const char *type_name, const void *bytes, size_t len,
                         const char *want)
{
    dv_parquet_column c;
    memset(&c, 0, sizeof(c));
    c.physical = physical;
    c.type_name = (char *)type_name;
    dv_buf value = DV_BUF_INIT;
    cr_assert_eq(dv_buf_put(&value, bytes, len), 0);
    dv_buf text = DV_BUF_INIT;
    cr_assert_eq(dv_buf_puts(&text, "> "), 0);
    cr_assert_eq(dv_parquet_value_format(&text, &c, &value), 0);
    cr_assert_str_eq(text.ptr + 2, want, "%s value", type_name);
    cr_assert_eq(strncmp(text.ptr, "> ", 2), 0, "appends");
    dv_buf_release(&text);
    dv_buf_release(&value);
}

static void assert_int32(const char *type_name, int32_t v, const char *want)
{
    uint8_t b[4];
    le32(b, (uint32_t)v);
    assert_value(DV_PARQUET_INT32, type_name, b, 4, want);
}

static void assert_int64(const char *type_name, int64_t v, const char *want)
{
    uint8_t b[8];
    le64(b, (uint64_t)v);
    assert_value(DV_PARQUET_INT64, type_name, b, 8, want);
}

Test(parquet, values_format_for_people)
{
    assert_int32("int32", -7, "-7");
    assert_int32("uint32", -1, "4294967295");
    assert_int32("date", 0, "1970-01-01");
    assert_int32("date", -1, "1969-12-31");
    assert_int32("date", 19722, "2023-12-31");
    assert_int32("date", 11016, "2000-02-29");
    assert_int32("date", -719528, "0000-01-01");
    assert_int32("date", 2932897, "+10000-01-01");
    assert_int32("time[ms]", 45296789, "12:34:56.789");
    assert_int32("time[ms]", -5, "-5");
    assert_int32("decimal(5,2)", -5, "-0.05");
    assert_int32("decimal(5,2)", 12345, "123.45");
    assert_int32("decimal(5,0)", 42, "42");
    assert_int64("int64", INT64_MIN, "-9223372036854775808");
    assert_int64("uint64", -1, "18446744073709551615");
    assert_int64("timestamp[ms]", 1700000000123, "2023-11-14T22:13:20.123");
    assert_int64("timestamp[us]", -1, "1969-12-31T23:59:59.999999");
    assert_int64("timestamp[ns]", 1, "1970-01-01T00:00:00.000000001");
    assert_int64("time[us]", 3600000001, "01:00:00.000001");
    assert_int64("decimal(18,3)", INT64_MIN, "-9223372036854775.808");
    uint8_t d[8];
    double_bytes(d, 0.1);
    assert_value(DV_PARQUET_DOUBLE, "double", d, 8, "0.1");
    double_bytes(d, 10);
    assert_value(DV_PARQUET_DOUBLE, "double", d, 8, "10");
    double_bytes(d, 1e20);
    assert_value(DV_PARQUET_DOUBLE, "double", d, 8, "1e+20");
    double_bytes(d, -1e300);
    assert_value(DV_PARQUET_DOUBLE, "double", d, 8, "-1e+300");
    float f = 3.14f;
    uint32_t fbits;
    memcpy(&fbits, &f, 4);
    uint8_t fb[4];
    le32(fb, fbits);
    assert_value(DV_PARQUET_FLOAT, "float", fb, 4, "3.14");
    assert_value(DV_PARQUET_FIXED_LEN_BYTE_ARRAY, "float16", "\x00\x3e", 2, "1.5");
    assert_value(DV_PARQUET_FIXED_LEN_BYTE_ARRAY, "float16", "\x00\xfc", 2, "-inf");
    assert_value(DV_PARQUET_BOOLEAN, "boolean", "\x01", 1, "true");
    assert_value(DV_PARQUET_BYTE_ARRAY, "string", "caf\xc3\xa9", 5, "caf\xc3\xa9");
    assert_value(DV_PARQUET_BYTE_ARRAY, "string", "\xff\x00", 2, "0xff00");
    assert_value(DV_PARQUET_BYTE_ARRAY, "string", "\xed\xa0\x80", 3, "0xeda080"); /* surrogate */
    assert_value(DV_PARQUET_BYTE_ARRAY, "string", "\xc0\x80", 2, "0xc080");       /* overlong */
    assert_value(DV_PARQUET_BYTE_ARRAY, "string", "", 0, "");
    assert_value(DV_PARQUET_BYTE_ARRAY, "decimal(20,2)", "\xff\x85", 2, "-1.23");
    assert_value(DV_PARQUET_FIXED_LEN_BYTE_ARRAY, "decimal(38,0)",
                 "\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16,
                 "170141183460469231731687303715884105727");
    assert_value(DV_PARQUET_FIXED_LEN_BYTE_ARRAY, "decimal(38,40)", "\x00\x01", 2,
                 "0.0000000000000000000000000000000000000001");
    assert_value(DV_PARQUET_FIXED_LEN_BYTE_ARRAY, "uuid",
                 "\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x78\x9a\xbc\xde\xf0", 16,
                 "12345678-9abc-def0-1234-56789abcdef0");
    assert_value(DV_PARQUET_INT96, "int96", "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12,
                 "0x0102030405060708090a0b0c");
    /* bytes that do not fit the type are shown as they are */
    assert_value(DV_PARQUET_INT32, "date", "\x01\x02", 2, "0x0102");
    assert_value(DV_PARQUET_BOOLEAN, "boolean", "\x07", 1, "0x07");
}

/* ---- hostile footers ---- */

/* The smallest footer that parses: a root with one int32 leaf and no row groups. */
static void tw_minimal(tw *w, int64_t rows)
{
    tw_file_begin(w, 2);
    tw_element(w, "schema", -1, 1);
    tw_end(w);
    tw_leaf(w, "a", DV_PARQUET_INT32);
    tw_i64(w, 3, rows);
    tw_list(w, 4, T_STRUCT, 0);
    tw_end(w);
}

Test(parquet, the_minimal_footer_parses)
{
    tw w;
    tw_minimal(&w, 0);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    cr_assert_eq(meta.n_columns, 1);
    cr_assert_eq(meta.version, 2);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, huge_counts_fail_before_any_allocation)
{
    tw w;
    tw_init(&w);
    tw_list(&w, 2, T_STRUCT, 1ull << 40);
    tw_byte(&w, 0);
    assert_rejected(&w, "a list of 1099511627776 elements has only 1 bytes left");

    /* in a field dv skips: a list, a map, a binary */
    tw_init(&w);
    tw_list(&w, 40, T_I64, UINT64_MAX >> 1);
    assert_rejected(&w, "elements has only 0 bytes left");
    tw_init(&w);
    tw_field(&w, 41, T_MAP);
    tw_varint(&w, 1000);
    tw_byte(&w, T_I32 << 4 | T_I32);
    tw_zigzag(&w, 1);
    tw_zigzag(&w, 2);
    assert_rejected(&w, "a map of 1000 entries has only 2 bytes left");
    tw_init(&w);
    tw_field(&w, 42, T_BINARY);
    tw_varint(&w, 1u << 30);
    assert_rejected(&w, "a binary of 1073741824 bytes has 0 left");
}

Test(parquet, bad_varints_fail)
{
    tw w;
    tw_init(&w);
    tw_field(&w, 3, T_I64);
    for (int i = 0; i < 11; i++)
        tw_byte(&w, 0x80);
    tw_byte(&w, 0);
    assert_rejected(&w, "longer than 10 bytes");

    tw_init(&w);
    tw_field(&w, 3, T_I64);
    for (int i = 0; i < 9; i++)
        tw_byte(&w, 0xff);
    tw_byte(&w, 0x02);
    assert_rejected(&w, "overflows 64 bits");

    tw_init(&w);
    tw_i32(&w, 1, 1ll << 40);
    assert_rejected(&w, "FileMetaData.version 1099511627776 does not fit its type");

    tw_minimal(&w, -1);
    assert_rejected(&w, "negative row count");

    tw_init(&w);
    tw_field(&w, 3, T_I64);
    tw_byte(&w, 0x80);
    assert_rejected(&w, "truncated: a varint runs past the end");
}

Test(parquet, fields_of_the_wrong_type_or_unknown_type_fail)
{
    tw w;
    tw_init(&w);
    tw_field(&w, 3, T_BINARY);
    tw_bytes(&w, "x", 1);
    tw_end(&w);
    assert_rejected(&w, "FileMetaData.num_rows is a Thrift binary, not a i64");

    tw_init(&w);
    tw_byte(&w, 0x1d); /* type 13 */
    assert_rejected(&w, "a field of Thrift type 13");

    tw_init(&w);
    tw_list(&w, 40, 0, 1);
    assert_rejected(&w, "a list of Thrift type 0");
}

Test(parquet, unknown_fields_of_every_type_are_skipped)
{
    tw w;
    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_element(&w, "a", DV_PARQUET_INT32, -1);
    tw_i32(&w, 9, 17); /* field_id */
    tw_field(&w, 300, T_DOUBLE);
    cr_assert_eq(dv_buf_put(&w.b, "12345678", 8), 0);
    tw_end(&w);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_bool(&w, 20, 1);
    tw_bool(&w, 21, 0);
    tw_field(&w, 22, T_BYTE);
    tw_byte(&w, 0xff);
    tw_field(&w, 23, T_I16);
    tw_zigzag(&w, -300);
    tw_field(&w, 24, T_DOUBLE);
    cr_assert_eq(dv_buf_put(&w.b, "abcdefgh", 8), 0);
    tw_list(&w, 25, T_TRUE, 3);
    tw_byte(&w, 1);
    tw_byte(&w, 0);
    tw_byte(&w, 2);
    tw_field(&w, 26, T_SET);
    tw_list_header(&w, T_BINARY, 20);
    for (int i = 0; i < 20; i++)
        tw_bytes(&w, "k", 1);
    tw_field(&w, 27, T_MAP);
    tw_varint(&w, 2);
    tw_byte(&w, T_BINARY << 4 | T_STRUCT);
    tw_bytes(&w, "k1", 2);
    tw_struct(&w, 0);
    tw_i32(&w, 1, 5);
    tw_end(&w);
    tw_bytes(&w, "k2", 2);
    tw_struct(&w, 0);
    tw_end(&w);
    tw_field(&w, 28, T_MAP);
    tw_varint(&w, 0);
    tw_struct(&w, -5); /* a negative field id, in the long form */
    tw_list(&w, 1, T_LIST, 1);
    tw_list_header(&w, T_STRUCT, 1);
    tw_struct(&w, 0);
    tw_end(&w);
    tw_end(&w);
    tw_string(&w, 6, "writer 1.0");
    tw_end(&w);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    cr_assert_str_eq(meta.created_by, "writer 1.0");
    cr_assert_eq(meta.n_columns, 1);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, deep_nesting_fails)
{
    tw w;
    tw_init(&w);
    for (int i = 0; i < 100; i++)
        tw_struct(&w, 50);
    for (int i = 0; i < 100; i++)
        tw_end(&w);
    tw_end(&w);
    assert_rejected(&w, "nested deeper than 64 levels");

    tw_init(&w);
    tw_field(&w, 50, T_LIST);
    for (int i = 0; i < 100; i++)
        tw_list_header(&w, T_LIST, 1);
    assert_rejected(&w, "nested deeper than 64 levels");

    /* 60 levels of structs in a field dv skips are fine */
    tw_minimal(&w, 0);
    dv_buf_truncate(&w.b, w.b.len - 1);
    w.depth = 0;
    for (int i = 0; i < 60; i++)
        tw_struct(&w, 50);
    for (int i = 0; i < 60; i++)
        tw_end(&w);
    tw_end(&w);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, schema_trees_that_do_not_fit_their_list_fail)
{
    tw w;
    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 5);
    tw_end(&w);
    tw_leaf(&w, "a", DV_PARQUET_INT32);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "children overrun the list of 2 elements");

    tw_file_begin(&w, 3);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_leaf(&w, "a", DV_PARQUET_INT32);
    tw_leaf(&w, "b", DV_PARQUET_INT32);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "schema element 2 is outside the tree");

    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_element(&w, "a", -1, -1);
    tw_end(&w);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "schema element 1 has neither a type nor children");

    tw_file_begin(&w, 1);
    tw_element(&w, "schema", -1, -1);
    tw_i32(&w, 5, -1);
    tw_end(&w);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "schema element 0 has -1 children");

    tw_file_begin(&w, 1);
    tw_leaf(&w, "schema", DV_PARQUET_INT32);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "the schema's root is not a group");

    tw_file_begin(&w, 0);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "the schema is empty");

    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_struct(&w, 0);
    tw_i32(&w, 1, DV_PARQUET_INT32);
    tw_end(&w);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "schema element 1 has no name");

    tw_file_begin(&w, 2);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_leaf(&w, "a", 8);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "column a: unknown physical type 8");

    tw_init(&w);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    assert_rejected(&w, "FileMetaData has no schema");
}

Test(parquet, names_quadratic_in_the_footer_are_refused)
{
    /* a group with a 100000-byte name over 2000 leaves: 200 MB of dotted names */
    char *long_name = malloc(100001);
    cr_assert_not_null(long_name);
    memset(long_name, 'g', 100000);
    long_name[100000] = '\0';
    tw w;
    tw_file_begin(&w, 2002);
    tw_element(&w, "schema", -1, 1);
    tw_end(&w);
    tw_element(&w, long_name, -1, 2000);
    tw_end(&w);
    for (int i = 0; i < 2000; i++)
        tw_leaf(&w, "x", DV_PARQUET_INT32);
    tw_i64(&w, 3, 0);
    tw_list(&w, 4, T_STRUCT, 0);
    tw_end(&w);
    free(long_name);
    assert_rejected(&w, "the column names take more than");
}

/* One row group for the two leaves a, b (int32) of tw_two_leaves, its chunks written by
 * the caller. */
static void tw_two_leaves(tw *w, int64_t rows)
{
    tw_file_begin(w, 3);
    tw_element(w, "schema", -1, 2);
    tw_end(w);
    tw_leaf(w, "a", DV_PARQUET_INT32);
    tw_leaf(w, "b", DV_PARQUET_INT32);
    tw_i64(w, 3, rows);
    tw_list(w, 4, T_STRUCT, 1);
}

Test(parquet, row_groups_that_disagree_with_the_schema_fail)
{
    tw w;
    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 1);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "row group 0 has 1 columns, the schema 2");

    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, NULL);
    tw_chunk(&w, DV_PARQUET_INT32, "c", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "the chunk of column b has another path_in_schema");

    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, NULL);
    tw_chunk(&w, DV_PARQUET_INT32, "b.c", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "the chunk of column b has another path_in_schema");

    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, NULL);
    tw_chunk(&w, DV_PARQUET_INT64, "b", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "the chunk of column b is int64, the schema says int32");

    tw_two_leaves(&w, 6);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, NULL);
    tw_chunk(&w, DV_PARQUET_INT32, "b", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "the row groups hold 5 rows, the file says 6");

    const stat_spec too_many_nulls = {NULL, NULL, 0, 0, NULL, NULL, 0, 0, 6, 0};
    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, &too_many_nulls);
    tw_chunk(&w, DV_PARQUET_INT32, "b", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "column a has 6 nulls in 5 values");

    const stat_spec short_min = {"\x01", "\x01\x00\x00\x00", 1, 4, NULL, NULL, 0, 0, 0, 0};
    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, &short_min);
    tw_chunk(&w, DV_PARQUET_INT32, "b", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "column a has a min of 1 bytes and a max of 4 for a 4-byte type");

    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", -5, 1, NULL);
    tw_chunk(&w, DV_PARQUET_INT32, "b", 5, 1, NULL);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    assert_rejected(&w, "ColumnMetaData.num_values is negative (-5)");
}

Test(parquet, a_chunk_without_metadata_leaves_its_column_without_statistics)
{
    uint8_t v[4];
    le32(v, 1);
    const stat_spec s = {v, v, 4, 4, NULL, NULL, 0, 0, 0, 0};
    tw w;
    tw_two_leaves(&w, 5);
    tw_row_group_begin(&w, 2);
    tw_chunk(&w, DV_PARQUET_INT32, "a", 5, 1, &s);
    tw_struct(&w, 0); /* a ColumnChunk with a file_path and no meta_data */
    tw_string(&w, 1, "elsewhere.parquet");
    tw_i64(&w, 2, 4);
    tw_end(&w);
    tw_row_group_end(&w, 5);
    tw_end(&w);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    assert_min_max(&meta, "a", "1", "1");
    cr_assert(!find_column(&meta, "b")->has_min_max);
    cr_assert(!find_column(&meta, "b")->has_null_count);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}

Test(parquet, many_row_groups_do_not_count_as_nesting)
{
    uint8_t v[4];
    tw w;
    tw_two_leaves(&w, 200);
    dv_buf_truncate(&w.b, w.b.len - 1); /* the row groups' list header, for 200 of them */
    tw_byte(&w, 0xfc);
    tw_varint(&w, 200);
    for (int g = 0; g < 200; g++) {
        le32(v, (uint32_t)g);
        const stat_spec s = {v, v, 4, 4, NULL, NULL, 0, 0, 0, 0};
        tw_row_group_begin(&w, 2);
        tw_chunk(&w, DV_PARQUET_INT32, "a", 1, 1, &s);
        tw_chunk(&w, DV_PARQUET_INT32, "b", 1, 1, &s);
        tw_row_group_end(&w, 1);
    }
    tw_end(&w);
    dv_parquet_meta meta;
    assert_parses(&meta, &w);
    cr_assert_eq(meta.n_row_groups, 200);
    assert_min_max(&meta, "b", "0", "199");
    cr_assert_eq(find_column(&meta, "a")->compressed_bytes, 200);
    dv_parquet_meta_release(&meta);
    dv_buf_release(&w.b);
}
