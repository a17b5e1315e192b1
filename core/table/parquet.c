/*
 * parquet: the footer of a Parquet file (parquet.h). A Thrift compact protocol decoder
 * that checks every length and count against the bytes left before it trusts them, and
 * the walk of FileMetaData on top of it. The footer is read in passes over the same
 * bytes: the first checks that the whole of FileMetaData decodes, skipping the schema and
 * the row groups but noting where they start; the second turns the schema into leaf
 * columns; the third reads the row groups' column chunks into those columns' statistics.
 * Nothing but the columns and their statistics is allocated, so memory stays a small
 * multiple of the footer's length.
 */
#include "core/table/parquet.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Thrift compact protocol type codes (the low nibble of a field header). */
enum {
    T_STOP = 0,
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

/* Structs, lists and maps nested deeper than this are refused: FileMetaData itself needs
 * seven levels (FileMetaData, row_groups, RowGroup, columns, ColumnChunk, ColumnMetaData,
 * statistics), and the limit keeps skipping unknown fields from recursing without end. */
#define NESTING_MAX 64
/* A ULEB128 varint of a 64-bit value takes at most this many bytes. */
#define VARINT_MAX_BYTES 10
/* The dotted column names may take this many times the footer's length (plus the slack
 * below) in all: a group's name is repeated in the name of every leaf under it, so without
 * a cap a small schema could ask for names quadratic in its size. */
#define NAME_BYTES_PER_FOOTER_BYTE 16u
#define NAME_BYTES_SLACK (64u << 10)
/* Decimals in byte arrays longer than this are shown in hex (their digits would take time
 * quadratic in their length). */
#define DECIMAL_DIGITS_MAX_BYTES 64u
/* Decimals with more digits after the point than this are shown as "<digits>e-<scale>". */
#define DECIMAL_SCALE_SPELLED_MAX 76

/* LogicalType union members (parquet.thrift). */
enum {
    LT_NONE = 0,
    LT_STRING = 1,
    LT_MAP = 2,
    LT_LIST = 3,
    LT_ENUM = 4,
    LT_DECIMAL = 5,
    LT_DATE = 6,
    LT_TIME = 7,
    LT_TIMESTAMP = 8,
    LT_INTEGER = 10,
    LT_UNKNOWN = 11,
    LT_JSON = 12,
    LT_BSON = 13,
    LT_UUID = 14,
    LT_FLOAT16 = 15,
    LT_VARIANT = 16,
    LT_GEOMETRY = 17,
    LT_GEOGRAPHY = 18,
};

/* ConvertedType values (parquet.thrift). */
enum {
    CT_UTF8 = 0,
    CT_MAP = 1,
    CT_MAP_KEY_VALUE = 2,
    CT_LIST = 3,
    CT_ENUM = 4,
    CT_DECIMAL = 5,
    CT_DATE = 6,
    CT_TIME_MILLIS = 7,
    CT_TIME_MICROS = 8,
    CT_TIMESTAMP_MILLIS = 9,
    CT_TIMESTAMP_MICROS = 10,
    CT_UINT_8 = 11,
    CT_UINT_16 = 12,
    CT_UINT_32 = 13,
    CT_UINT_64 = 14,
    CT_INT_8 = 15,
    CT_INT_16 = 16,
    CT_INT_32 = 17,
    CT_INT_64 = 18,
    CT_JSON = 19,
    CT_BSON = 20,
    CT_INTERVAL = 21,
};

/* TimeUnit union members. */
enum { UNIT_NONE = 0, UNIT_MILLIS = 1, UNIT_MICROS = 2, UNIT_NANOS = 3 };

/* How a column's statistics compare: the sort order of its logical type over its
 * physical one. ORDER_NONE: Parquet defines none (INT96, INTERVAL, geometries), so its
 * min and max are not kept. */
enum {
    ORDER_NONE = 0,
    ORDER_BOOLEAN,
    ORDER_INT32,
    ORDER_UINT32,
    ORDER_INT64,
    ORDER_UINT64,
    ORDER_FLOAT,
    ORDER_DOUBLE,
    ORDER_FLOAT16,
    ORDER_BYTES,         /* unsigned lexicographic */
    ORDER_DECIMAL_BYTES, /* big-endian two's complement */
};

typedef struct reader {
    const uint8_t *p;
    size_t len, pos;
    const char *name;
    unsigned depth;
} reader;

/* Where a field's value starts, to come back to it in a later pass. */
typedef struct mark {
    size_t pos;
    unsigned depth;
} mark;

static const char *thrift_type_name(int type)
{
    static const char *const names[] = {"stop",   "bool",   "bool", "byte", "i16", "i32",   "i64",
                                        "double", "binary", "list", "set",  "map", "struct"};
    return type >= 0 && type <= T_STRUCT ? names[type] : "unknown type";
}

static const char *physical_name(int physical)
{
    static const char *const names[] = {"boolean", "int32",  "int64",  "int96",
                                        "float",   "double", "binary", "fixed_len_byte_array"};
    return physical >= 0 && physical <= DV_PARQUET_FIXED_LEN_BYTE_ARRAY ? names[physical]
                                                                        : "unknown";
}

static int vfail(const char *name, const size_t *at, const char *fmt, va_list ap)
{
    char what[512];
    vsnprintf(what, sizeof(what), fmt, ap);
    if (at)
        return dv_error_set(DV_ECORRUPT, "%s: Parquet footer: %s at byte %zu", name, what, *at);
    return dv_error_set(DV_ECORRUPT, "%s: Parquet footer: %s", name, what);
}

/* DV_ECORRUPT for something wrong at the reader's position. */
static int corrupt(const reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int corrupt(const reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int error = vfail(r->name, &r->pos, fmt, ap);
    va_end(ap);
    return error;
}

/* DV_ECORRUPT for a footer that decodes but does not agree with itself. */
static int inconsistent(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int inconsistent(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int error = vfail(name, NULL, fmt, ap);
    va_end(ap);
    return error;
}

static int out_of_memory(void)
{
    return dv_error_set(DV_ENOMEM, "out of memory reading a Parquet footer");
}

static size_t remaining(const reader *r)
{
    return r->len - r->pos;
}

static int need(reader *r, size_t n, const char *what)
{
    if (remaining(r) < n)
        return corrupt(r, "truncated: %s needs %zu bytes, %zu left", what, n, remaining(r));
    return 0;
}

static int read_byte(reader *r, uint8_t *out, const char *what)
{
    int error;
    if ((error = need(r, 1, what)) < 0)
        return error;
    *out = r->p[r->pos++];
    return 0;
}

static int read_varint(reader *r, uint64_t *out)
{
    size_t start = r->pos;
    uint64_t value = 0;
    for (unsigned i = 0; i < VARINT_MAX_BYTES; i++) {
        if (r->pos >= r->len) {
            r->pos = start;
            return corrupt(r, "truncated: a varint runs past the end");
        }
        uint8_t b = r->p[r->pos++];
        /* the tenth byte holds bit 63 alone */
        if (i == VARINT_MAX_BYTES - 1 && (b & 0x7e)) {
            r->pos = start;
            return corrupt(r, "a varint overflows 64 bits");
        }
        value |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = value;
            return 0;
        }
    }
    r->pos = start;
    return corrupt(r, "a varint is longer than %d bytes", VARINT_MAX_BYTES);
}

static int read_zigzag(reader *r, int64_t *out)
{
    uint64_t v;
    int error;
    if ((error = read_varint(r, &v)) < 0)
        return error;
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

static int read_ranged(reader *r, int64_t *out, int64_t min, int64_t max, const char *what)
{
    size_t start = r->pos;
    int error;
    if ((error = read_zigzag(r, out)) < 0)
        return error;
    if (*out < min || *out > max) {
        r->pos = start;
        return corrupt(r, "%s %" PRId64 " does not fit its type", what, *out);
    }
    return 0;
}

static int read_i16(reader *r, int16_t *out, const char *what)
{
    int64_t v = 0;
    int error = read_ranged(r, &v, INT16_MIN, INT16_MAX, what);
    *out = (int16_t)v;
    return error;
}

static int read_i32(reader *r, int32_t *out, const char *what)
{
    int64_t v = 0;
    int error = read_ranged(r, &v, INT32_MIN, INT32_MAX, what);
    *out = (int32_t)v;
    return error;
}

static int read_binary(reader *r, const uint8_t **ptr, size_t *len)
{
    size_t start = r->pos;
    uint64_t n;
    int error;
    if ((error = read_varint(r, &n)) < 0)
        return error;
    if (n > remaining(r)) {
        size_t left = remaining(r);
        r->pos = start;
        return corrupt(r, "truncated: a binary of %" PRIu64 " bytes has %zu left", n, left);
    }
    *ptr = r->p + r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return 0;
}

static int valid_element_type(int type)
{
    return type >= T_TRUE && type <= T_STRUCT;
}

/* A list or set header: its element type and count; every element takes at least one
 * byte, so a count larger than the bytes left is refused before anyone allocates for it. */
static int read_list_header(reader *r, int *element_type, size_t *count)
{
    size_t start = r->pos;
    uint8_t b;
    uint64_t n;
    int error;
    if ((error = read_byte(r, &b, "a list header")) < 0)
        return error;
    *element_type = b & 0x0f;
    n = b >> 4;
    if (n == 15 && (error = read_varint(r, &n)) < 0)
        return error;
    if (!valid_element_type(*element_type)) {
        r->pos = start;
        return corrupt(r, "a list of Thrift type %d", *element_type);
    }
    if (n > remaining(r)) {
        size_t left = remaining(r);
        r->pos = start;
        return corrupt(r, "a list of %" PRIu64 " elements has only %zu bytes left", n, left);
    }
    *count = (size_t)n;
    return 0;
}

static int enter(reader *r)
{
    if (r->depth >= NESTING_MAX)
        return corrupt(r, "values nested deeper than %d levels", NESTING_MAX);
    r->depth++;
    return 0;
}

static int read_field_header(reader *r, int16_t *last_id, int16_t *id, int *type)
{
    size_t start = r->pos;
    uint8_t b;
    int error;
    if ((error = read_byte(r, &b, "a field header")) < 0)
        return error;
    if (b == T_STOP) {
        *type = T_STOP;
        return 0;
    }
    *type = b & 0x0f;
    if (!valid_element_type(*type)) {
        r->pos = start;
        return corrupt(r, "a field of Thrift type %d", *type);
    }
    unsigned delta = b >> 4;
    if (delta) {
        if (*last_id > INT16_MAX - (int)delta) {
            r->pos = start;
            return corrupt(r, "a field id past %d", INT16_MAX);
        }
        *id = (int16_t)(*last_id + (int)delta);
    } else if ((error = read_i16(r, id, "field id")) < 0) {
        return error;
    }
    *last_id = *id;
    return 0;
}

static int skip(reader *r, int type, int in_collection);

/* Called for each field of a struct with the reader at its value, which it must consume
 * (skip() for a field it does not know). */
typedef int (*field_fn)(reader *r, void *ctx, int16_t id, int type);

static int read_struct(reader *r, field_fn fn, void *ctx)
{
    int16_t last_id = 0;
    int error;
    if ((error = enter(r)) < 0)
        return error;
    for (;;) {
        int16_t id = 0;
        int type;
        if ((error = read_field_header(r, &last_id, &id, &type)) < 0)
            return error;
        if (type == T_STOP)
            break;
        if ((error = fn ? fn(r, ctx, id, type) : skip(r, type, 0)) < 0)
            return error;
    }
    r->depth--;
    return 0;
}

/* Consume one value of type; in a collection a bool takes a byte of its own, in a struct
 * it lives in the field header. */
static int skip(reader *r, int type, int in_collection)
{
    uint8_t b;
    uint64_t v;
    const uint8_t *ptr;
    size_t len, count;
    int element_type, error;

    switch (type) {
    case T_TRUE:
    case T_FALSE:
        return in_collection ? read_byte(r, &b, "a bool") : 0;
    case T_BYTE:
        return read_byte(r, &b, "a byte");
    case T_I16:
    case T_I32:
    case T_I64:
        return read_varint(r, &v);
    case T_DOUBLE:
        if ((error = need(r, 8, "a double")) < 0)
            return error;
        r->pos += 8;
        return 0;
    case T_BINARY:
        return read_binary(r, &ptr, &len);
    case T_LIST:
    case T_SET:
        if ((error = read_list_header(r, &element_type, &count)) < 0 || (error = enter(r)) < 0)
            return error;
        for (size_t i = 0; i < count; i++)
            if ((error = skip(r, element_type, 1)) < 0)
                return error;
        r->depth--;
        return 0;
    case T_MAP: {
        size_t start = r->pos;
        if ((error = read_varint(r, &v)) < 0)
            return error;
        if (v == 0)
            return 0;
        if ((error = read_byte(r, &b, "a map header")) < 0)
            return error;
        int key_type = b >> 4, value_type = b & 0x0f;
        if (!valid_element_type(key_type) || !valid_element_type(value_type)) {
            r->pos = start;
            return corrupt(r, "a map of Thrift types %d and %d", key_type, value_type);
        }
        if (v > remaining(r) / 2) {
            size_t left = remaining(r);
            r->pos = start;
            return corrupt(r, "a map of %" PRIu64 " entries has only %zu bytes left", v, left);
        }
        if ((error = enter(r)) < 0)
            return error;
        for (uint64_t i = 0; i < v; i++)
            if ((error = skip(r, key_type, 1)) < 0 || (error = skip(r, value_type, 1)) < 0)
                return error;
        r->depth--;
        return 0;
    }
    case T_STRUCT:
        return read_struct(r, NULL, NULL);
    default:
        return corrupt(r, "a value of Thrift type %d", type);
    }
}

/* Typed field values: the field's type must be the one parquet.thrift gives it. */
static int expect(reader *r, int type, int want, const char *field)
{
    if (type == want || (want == T_TRUE && type == T_FALSE))
        return 0;
    return corrupt(r, "%s is a Thrift %s, not a %s", field, thrift_type_name(type),
                   thrift_type_name(want));
}

static int field_i32(reader *r, int type, const char *field, int32_t *out)
{
    int error;
    if ((error = expect(r, type, T_I32, field)) < 0)
        return error;
    return read_i32(r, out, field);
}

static int field_i64(reader *r, int type, const char *field, int64_t *out)
{
    int error;
    if ((error = expect(r, type, T_I64, field)) < 0)
        return error;
    return read_zigzag(r, out);
}

/* An i64 that counts something: never negative. */
static int field_count(reader *r, int type, const char *field, uint64_t *out)
{
    size_t start = r->pos;
    int64_t v;
    int error;
    if ((error = field_i64(r, type, field, &v)) < 0)
        return error;
    if (v < 0) {
        r->pos = start;
        return corrupt(r, "%s is negative (%" PRId64 ")", field, v);
    }
    *out = (uint64_t)v;
    return 0;
}

static int field_bool(reader *r, int type, const char *field, int *out)
{
    int error;
    if ((error = expect(r, type, T_TRUE, field)) < 0)
        return error;
    *out = type == T_TRUE;
    return 0;
}

static int field_binary(reader *r, int type, const char *field, const uint8_t **ptr, size_t *len)
{
    int error;
    if ((error = expect(r, type, T_BINARY, field)) < 0)
        return error;
    return read_binary(r, ptr, len);
}

static int field_struct(reader *r, int type, const char *field, field_fn fn, void *ctx)
{
    int error;
    if ((error = expect(r, type, T_STRUCT, field)) < 0)
        return error;
    return read_struct(r, fn, ctx);
}

/* Note where a field's value is and skip it, to read it in a later pass. */
static int field_mark(reader *r, int type, int want, const char *field, mark *out)
{
    int error;
    if ((error = expect(r, type, want, field)) < 0)
        return error;
    out->pos = r->pos;
    out->depth = r->depth;
    return skip(r, type, 0);
}

static void seek(reader *r, mark at)
{
    r->pos = at.pos;
    r->depth = at.depth;
}

/* ---- the schema ---- */

typedef struct logical_type {
    int kind; /* LT_*, LT_NONE when absent or not one dv knows */
    int32_t scale, precision;
    int unit;
    int bit_width, is_signed;
} logical_type;

typedef struct schema_element {
    const uint8_t *name;
    size_t name_len;
    int has_name, has_type, has_type_length, has_repetition, has_num_children, has_converted;
    int has_scale, has_precision;
    int32_t type, type_length, repetition, num_children, converted, scale, precision;
    logical_type logical;
} schema_element;

static int empty_struct(reader *r, int type, const char *field)
{
    return field_struct(r, type, field, NULL, NULL);
}

static int time_unit_field(reader *r, void *ctx, int16_t id, int type)
{
    int *unit = ctx;
    if (id >= UNIT_MILLIS && id <= UNIT_NANOS) {
        if (*unit)
            return corrupt(r, "a TimeUnit with two members");
        *unit = id;
        return empty_struct(r, type, "TimeUnit member");
    }
    return skip(r, type, 0);
}

static int time_field(reader *r, void *ctx, int16_t id, int type)
{
    logical_type *lt = ctx;
    int adjusted;
    switch (id) {
    case 1:
        return field_bool(r, type, "isAdjustedToUTC", &adjusted);
    case 2:
        return field_struct(r, type, "TimeUnit", time_unit_field, &lt->unit);
    default:
        return skip(r, type, 0);
    }
}

static int decimal_field(reader *r, void *ctx, int16_t id, int type)
{
    logical_type *lt = ctx;
    switch (id) {
    case 1:
        return field_i32(r, type, "DecimalType.scale", &lt->scale);
    case 2:
        return field_i32(r, type, "DecimalType.precision", &lt->precision);
    default:
        return skip(r, type, 0);
    }
}

static int int_type_field(reader *r, void *ctx, int16_t id, int type)
{
    logical_type *lt = ctx;
    uint8_t b;
    int error;
    switch (id) {
    case 1:
        if ((error = expect(r, type, T_BYTE, "IntType.bitWidth")) < 0 ||
            (error = read_byte(r, &b, "IntType.bitWidth")) < 0)
            return error;
        lt->bit_width = (int8_t)b;
        return 0;
    case 2:
        return field_bool(r, type, "IntType.isSigned", &lt->is_signed);
    default:
        return skip(r, type, 0);
    }
}

static int logical_type_field(reader *r, void *ctx, int16_t id, int type)
{
    logical_type *lt = ctx;
    size_t start = r->pos;
    int error;
    field_fn fn = NULL;

    switch (id) {
    case LT_DECIMAL:
        lt->scale = lt->precision = -1;
        fn = decimal_field;
        break;
    case LT_TIME:
    case LT_TIMESTAMP:
        fn = time_field;
        break;
    case LT_INTEGER:
        fn = int_type_field;
        break;
    case LT_STRING:
    case LT_MAP:
    case LT_LIST:
    case LT_ENUM:
    case LT_DATE:
    case LT_UNKNOWN:
    case LT_JSON:
    case LT_BSON:
    case LT_UUID:
    case LT_FLOAT16:
    case LT_VARIANT:
    case LT_GEOMETRY:
    case LT_GEOGRAPHY:
        break;
    default:
        return skip(r, type, 0); /* a logical type newer than dv: fall back to the rest */
    }
    if (lt->kind)
        return corrupt(r, "a LogicalType with two members");
    if ((error = field_struct(r, type, "LogicalType member", fn, lt)) < 0)
        return error;
    lt->kind = id;
    if (id == LT_DECIMAL && (lt->scale < 0 || lt->precision < 1 || lt->scale > lt->precision)) {
        r->pos = start;
        return corrupt(r, "DECIMAL of precision %" PRId32 " and scale %" PRId32, lt->precision,
                       lt->scale);
    }
    if ((id == LT_TIME || id == LT_TIMESTAMP) && !lt->unit) {
        r->pos = start;
        return corrupt(r, "%s without a unit", id == LT_TIME ? "TIME" : "TIMESTAMP");
    }
    if (id == LT_INTEGER && lt->bit_width != 8 && lt->bit_width != 16 && lt->bit_width != 32 &&
        lt->bit_width != 64) {
        r->pos = start;
        return corrupt(r, "INTEGER of %d bits", lt->bit_width);
    }
    return 0;
}

static int schema_element_field(reader *r, void *ctx, int16_t id, int type)
{
    schema_element *e = ctx;
    switch (id) {
    case 1:
        e->has_type = 1;
        return field_i32(r, type, "SchemaElement.type", &e->type);
    case 2:
        e->has_type_length = 1;
        return field_i32(r, type, "SchemaElement.type_length", &e->type_length);
    case 3:
        e->has_repetition = 1;
        return field_i32(r, type, "SchemaElement.repetition_type", &e->repetition);
    case 4:
        e->has_name = 1;
        return field_binary(r, type, "SchemaElement.name", &e->name, &e->name_len);
    case 5:
        e->has_num_children = 1;
        return field_i32(r, type, "SchemaElement.num_children", &e->num_children);
    case 6:
        e->has_converted = 1;
        return field_i32(r, type, "SchemaElement.converted_type", &e->converted);
    case 7:
        e->has_scale = 1;
        return field_i32(r, type, "SchemaElement.scale", &e->scale);
    case 8:
        e->has_precision = 1;
        return field_i32(r, type, "SchemaElement.precision", &e->precision);
    case 10:
        memset(&e->logical, 0, sizeof(e->logical));
        return field_struct(r, type, "SchemaElement.logicalType", logical_type_field, &e->logical);
    default:
        return skip(r, type, 0); /* field_id (9) and anything newer */
    }
}

/* What dv keeps of a leaf while it reads the row groups. */
typedef struct leaf {
    int order;           /* ORDER_* */
    int32_t type_length; /* of a FIXED_LEN_BYTE_ARRAY */
    int null_count_missing, min_max_missing, min_max_seen;
} leaf;

/* The name a user would give e's type, and how its values compare; DV_ECORRUPT for an
 * annotation its physical type cannot carry. */
static int describe_leaf(dv_buf *type_name, int *order, const schema_element *e, const char *column,
                         const char *name)
{
    int physical = e->type;
    const logical_type *lt = &e->logical;
    int is_int32 = physical == DV_PARQUET_INT32, is_int64 = physical == DV_PARQUET_INT64;
    int is_bytes = physical == DV_PARQUET_BYTE_ARRAY || physical == DV_PARQUET_FIXED_LEN_BYTE_ARRAY;
    int32_t scale = 0, precision = 0, bits = 0, is_signed = 1, unit = 0;
    const char *kind = NULL; /* what the annotation says, for the message */
    int ok = 1;

    *order = ORDER_NONE;
    switch (physical) {
    case DV_PARQUET_BOOLEAN:
        *order = ORDER_BOOLEAN;
        break;
    case DV_PARQUET_INT32:
        *order = ORDER_INT32;
        break;
    case DV_PARQUET_INT64:
        *order = ORDER_INT64;
        break;
    case DV_PARQUET_FLOAT:
        *order = ORDER_FLOAT;
        break;
    case DV_PARQUET_DOUBLE:
        *order = ORDER_DOUBLE;
        break;
    case DV_PARQUET_BYTE_ARRAY:
    case DV_PARQUET_FIXED_LEN_BYTE_ARRAY:
        *order = ORDER_BYTES;
        break;
    default: /* INT96: no defined order */
        break;
    }

    /* The logical type, or else the converted type, as one of a few families. */
    enum { F_PLAIN, F_NAMED, F_DECIMAL, F_DATE, F_TIME, F_TIMESTAMP, F_INTEGER, F_NONE } family;
    family = F_PLAIN;
    const char *named = NULL;
    switch (lt->kind) {
    case LT_STRING:
        family = F_NAMED, named = "string", ok = physical == DV_PARQUET_BYTE_ARRAY;
        break;
    case LT_ENUM:
        family = F_NAMED, named = "enum", ok = physical == DV_PARQUET_BYTE_ARRAY;
        break;
    case LT_JSON:
        family = F_NAMED, named = "json", ok = physical == DV_PARQUET_BYTE_ARRAY;
        break;
    case LT_BSON:
        family = F_NAMED, named = "bson", ok = physical == DV_PARQUET_BYTE_ARRAY;
        break;
    case LT_UUID:
        family = F_NAMED, named = "uuid";
        ok = physical == DV_PARQUET_FIXED_LEN_BYTE_ARRAY && e->type_length == 16;
        break;
    case LT_FLOAT16:
        family = F_NAMED, named = "float16";
        ok = physical == DV_PARQUET_FIXED_LEN_BYTE_ARRAY && e->type_length == 2;
        if (ok)
            *order = ORDER_FLOAT16;
        break;
    case LT_MAP:
        family = F_NAMED, named = "map";
        break;
    case LT_LIST:
        family = F_NAMED, named = "list";
        break;
    case LT_VARIANT:
        family = F_NAMED, named = "variant";
        break;
    case LT_UNKNOWN:
        family = F_NAMED, named = "null";
        break;
    case LT_GEOMETRY:
    case LT_GEOGRAPHY:
        family = F_NONE, named = lt->kind == LT_GEOMETRY ? "geometry" : "geography";
        ok = physical == DV_PARQUET_BYTE_ARRAY;
        break;
    case LT_DECIMAL:
        family = F_DECIMAL, scale = lt->scale, precision = lt->precision;
        break;
    case LT_DATE:
        family = F_DATE;
        break;
    case LT_TIME:
        family = F_TIME, unit = lt->unit;
        break;
    case LT_TIMESTAMP:
        family = F_TIMESTAMP, unit = lt->unit;
        break;
    case LT_INTEGER:
        family = F_INTEGER, bits = lt->bit_width, is_signed = lt->is_signed;
        break;
    default:
        if (!e->has_converted)
            break;
        switch (e->converted) {
        case CT_UTF8:
            family = F_NAMED, named = "string", ok = physical == DV_PARQUET_BYTE_ARRAY;
            break;
        case CT_ENUM:
            family = F_NAMED, named = "enum", ok = physical == DV_PARQUET_BYTE_ARRAY;
            break;
        case CT_JSON:
            family = F_NAMED, named = "json", ok = physical == DV_PARQUET_BYTE_ARRAY;
            break;
        case CT_BSON:
            family = F_NAMED, named = "bson", ok = physical == DV_PARQUET_BYTE_ARRAY;
            break;
        case CT_MAP:
        case CT_MAP_KEY_VALUE:
            family = F_NAMED, named = "map";
            break;
        case CT_LIST:
            family = F_NAMED, named = "list";
            break;
        case CT_INTERVAL:
            family = F_NONE, named = "interval";
            ok = physical == DV_PARQUET_FIXED_LEN_BYTE_ARRAY && e->type_length == 12;
            break;
        case CT_DECIMAL:
            family = F_DECIMAL;
            scale = e->has_scale ? e->scale : 0;
            precision = e->has_precision ? e->precision : 0;
            if (precision < 1 || scale < 0 || scale > precision)
                return inconsistent(
                    name, "column %s: DECIMAL of precision %" PRId32 " and scale %" PRId32, column,
                    precision, scale);
            break;
        case CT_DATE:
            family = F_DATE;
            break;
        case CT_TIME_MILLIS:
        case CT_TIME_MICROS:
            family = F_TIME, unit = e->converted == CT_TIME_MILLIS ? UNIT_MILLIS : UNIT_MICROS;
            break;
        case CT_TIMESTAMP_MILLIS:
        case CT_TIMESTAMP_MICROS:
            family = F_TIMESTAMP;
            unit = e->converted == CT_TIMESTAMP_MILLIS ? UNIT_MILLIS : UNIT_MICROS;
            break;
        case CT_UINT_8:
        case CT_UINT_16:
        case CT_UINT_32:
        case CT_UINT_64:
            family = F_INTEGER, is_signed = 0, bits = 8 << (e->converted - CT_UINT_8);
            break;
        case CT_INT_8:
        case CT_INT_16:
        case CT_INT_32:
        case CT_INT_64:
            family = F_INTEGER, is_signed = 1, bits = 8 << (e->converted - CT_INT_8);
            break;
        default:
            break; /* a converted type newer than dv: the physical type's name */
        }
    }

    static const char *const unit_names[] = {"", "ms", "us", "ns"};
    switch (family) {
    case F_PLAIN:
        if (physical == DV_PARQUET_FIXED_LEN_BYTE_ARRAY)
            return dv_buf_printf(type_name, "fixed_len_byte_array(%" PRId32 ")", e->type_length);
        return dv_buf_puts(type_name, physical_name(physical));
    case F_NONE:
        *order = ORDER_NONE;
        kind = named;
        break;
    case F_NAMED:
        kind = named;
        break;
    case F_DECIMAL:
        kind = "DECIMAL";
        ok = is_int32 || is_int64 || is_bytes;
        if (is_bytes)
            *order = ORDER_DECIMAL_BYTES;
        if (ok)
            return dv_buf_printf(type_name, "decimal(%" PRId32 ",%" PRId32 ")", precision, scale);
        break;
    case F_DATE:
        kind = "DATE", named = "date", ok = is_int32;
        break;
    case F_TIME:
        kind = "TIME";
        ok = unit == UNIT_MILLIS ? is_int32 : is_int64;
        if (ok)
            return dv_buf_printf(type_name, "time[%s]", unit_names[unit]);
        break;
    case F_TIMESTAMP:
        kind = "TIMESTAMP", ok = is_int64;
        if (ok)
            return dv_buf_printf(type_name, "timestamp[%s]", unit_names[unit]);
        break;
    case F_INTEGER:
        kind = "INTEGER";
        ok = bits == 64 ? is_int64 : is_int32;
        if (ok && !is_signed)
            *order = is_int64 ? ORDER_UINT64 : ORDER_UINT32;
        if (ok)
            return dv_buf_printf(type_name, "%sint%" PRId32, is_signed ? "" : "u", bits);
        break;
    }
    if (!ok)
        return inconsistent(name, "column %s: a %s annotation on a %s column", column, kind,
                            physical_name(physical));
    return dv_buf_puts(type_name, named);
}

typedef struct frame {
    int64_t children_left;
    size_t prefix_len; /* of the path before this group's name */
} frame;

typedef struct columns {
    dv_parquet_column *columns;
    leaf *leaves;
    size_t n, alloc;
} columns;

static int columns_add(columns *c, dv_parquet_column **column, leaf **info)
{
    if (c->n == c->alloc) {
        size_t alloc = c->alloc ? c->alloc * 2 : 16;
        dv_parquet_column *more = realloc(c->columns, alloc * sizeof(*more));
        if (!more)
            return out_of_memory();
        c->columns = more;
        leaf *more_leaves = realloc(c->leaves, alloc * sizeof(*more_leaves));
        if (!more_leaves)
            return out_of_memory();
        c->leaves = more_leaves;
        c->alloc = alloc;
    }
    *column = &c->columns[c->n];
    *info = &c->leaves[c->n];
    memset(*column, 0, sizeof(**column));
    memset(*info, 0, sizeof(**info));
    (*column)->min = (dv_buf)DV_BUF_INIT;
    (*column)->max = (dv_buf)DV_BUF_INIT;
    c->n++;
    return 0;
}

static int add_leaf(columns *c, const schema_element *e, const dv_buf *path, const char *name)
{
    dv_parquet_column *column = NULL;
    leaf *info = NULL;
    dv_buf type_name = DV_BUF_INIT;
    int error;

    if (e->type < DV_PARQUET_BOOLEAN || e->type > DV_PARQUET_FIXED_LEN_BYTE_ARRAY)
        return inconsistent(name, "column %s: unknown physical type %" PRId32, path->ptr, e->type);
    if (e->type == DV_PARQUET_FIXED_LEN_BYTE_ARRAY && (!e->has_type_length || e->type_length < 1))
        return inconsistent(name, "column %s: fixed_len_byte_array without a length", path->ptr);
    if (e->has_repetition &&
        (e->repetition < DV_PARQUET_REQUIRED || e->repetition > DV_PARQUET_REPEATED))
        return inconsistent(name, "column %s: unknown repetition %" PRId32, path->ptr,
                            e->repetition);
    if ((error = columns_add(c, &column, &info)) < 0)
        return error;
    column->physical = e->type;
    column->repetition = e->has_repetition ? e->repetition : DV_PARQUET_REQUIRED;
    info->type_length = e->type_length;
    if ((error = describe_leaf(&type_name, &info->order, e, path->ptr, name)) < 0)
        goto done;
    if (dv_buf_oom(&type_name)) {
        error = out_of_memory();
        goto done;
    }
    column->type_name = dv_buf_detach(&type_name);
    column->name = strdup(path->ptr);
    if (!column->type_name || !column->name)
        error = out_of_memory();
done:
    dv_buf_release(&type_name);
    return error;
}

/* Read the schema list at `at` into leaf columns: the elements are a depth-first walk of
 * the tree, each group followed by its num_children subtrees, element 0 the root. */
static int read_schema(columns *out, reader *r, mark at, size_t footer_len)
{
    frame *stack = NULL;
    size_t depth = 0, stack_alloc = 0, count, name_bytes = 0;
    size_t name_bytes_max = footer_len * NAME_BYTES_PER_FOOTER_BYTE + NAME_BYTES_SLACK;
    dv_buf path = DV_BUF_INIT;
    int element_type, error;

    seek(r, at);
    if ((error = read_list_header(r, &element_type, &count)) < 0)
        goto done;
    if (element_type != T_STRUCT) {
        error = corrupt(r, "FileMetaData.schema is a list of %s", thrift_type_name(element_type));
        goto done;
    }
    if (count == 0) {
        error = inconsistent(r->name, "the schema is empty");
        goto done;
    }
    if ((error = enter(r)) < 0)
        goto done;
    for (size_t i = 0; i < count; i++) {
        schema_element e;
        memset(&e, 0, sizeof(e));
        size_t start = r->pos;
        if ((error = read_struct(r, schema_element_field, &e)) < 0)
            goto done;
        if (!e.has_name) {
            r->pos = start;
            error = corrupt(r, "schema element %zu has no name", i);
            goto done;
        }
        if (memchr(e.name, '\0', e.name_len)) {
            r->pos = start;
            error = corrupt(r, "schema element %zu has a NUL byte in its name", i);
            goto done;
        }
        int is_group = !e.has_type;
        if (is_group && !e.has_num_children) {
            r->pos = start;
            error = corrupt(r, "schema element %zu has neither a type nor children", i);
            goto done;
        }
        if (e.has_num_children && (e.num_children < 0 || (e.has_type && e.num_children > 0))) {
            r->pos = start;
            error = corrupt(r, "schema element %zu has %" PRId32 " children%s", i, e.num_children,
                            e.has_type ? " and a type" : "");
            goto done;
        }
        if (i == 0) {
            if (!is_group) {
                error = inconsistent(r->name, "the schema's root is not a group");
                goto done;
            }
        } else {
            while (depth > 0 && stack[depth - 1].children_left == 0)
                dv_buf_truncate(&path, stack[--depth].prefix_len);
            if (depth == 0) {
                error = inconsistent(r->name,
                                     "schema element %zu is outside the tree of the root's "
                                     "children",
                                     i);
                goto done;
            }
            stack[depth - 1].children_left--;
        }

        size_t prefix_len = path.len;
        if (i > 0) {
            if (prefix_len > 0)
                dv_buf_putc(&path, '.');
            dv_buf_put(&path, e.name, e.name_len);
            if (dv_buf_oom(&path)) {
                error = out_of_memory();
                goto done;
            }
        }
        if (is_group) {
            if (depth == stack_alloc) {
                size_t alloc = stack_alloc ? stack_alloc * 2 : 16;
                frame *more = realloc(stack, alloc * sizeof(*more));
                if (!more) {
                    error = out_of_memory();
                    goto done;
                }
                stack = more;
                stack_alloc = alloc;
            }
            stack[depth].children_left = e.num_children;
            stack[depth].prefix_len = prefix_len;
            depth++;
            continue;
        }
        if (path.len + 1 > name_bytes_max - name_bytes) {
            error =
                inconsistent(r->name, "the column names take more than %zu bytes", name_bytes_max);
            goto done;
        }
        name_bytes += path.len + 1;
        if ((error = add_leaf(out, &e, &path, r->name)) < 0)
            goto done;
        dv_buf_truncate(&path, prefix_len);
    }
    r->depth--;
    for (size_t i = 0; i < depth; i++)
        if (stack[i].children_left > 0) {
            error = inconsistent(
                r->name, "a schema group's children overrun the list of %zu elements", count);
            goto done;
        }
done:
    dv_buf_release(&path);
    free(stack);
    return error;
}

/* ---- the row groups ---- */

typedef struct stats {
    const uint8_t *min, *max, *min_value, *max_value;
    size_t min_len, max_len, min_value_len, max_value_len;
    int has_min, has_max, has_min_value, has_max_value, has_null_count;
    uint64_t null_count;
} stats;

typedef struct chunk {
    const dv_parquet_column *column; /* the leaf this chunk is matched to */
    int has_meta, has_type, has_num_values, path_differs;
    int32_t type;
    uint64_t num_values, compressed_bytes, uncompressed_bytes;
    stats stats;
} chunk;

static int stats_field(reader *r, void *ctx, int16_t id, int type)
{
    stats *s = ctx;
    switch (id) {
    case 1:
        s->has_max = 1;
        return field_binary(r, type, "Statistics.max", &s->max, &s->max_len);
    case 2:
        s->has_min = 1;
        return field_binary(r, type, "Statistics.min", &s->min, &s->min_len);
    case 3:
        s->has_null_count = 1;
        return field_count(r, type, "Statistics.null_count", &s->null_count);
    case 5:
        s->has_max_value = 1;
        return field_binary(r, type, "Statistics.max_value", &s->max_value, &s->max_value_len);
    case 6:
        s->has_min_value = 1;
        return field_binary(r, type, "Statistics.min_value", &s->min_value, &s->min_value_len);
    default:
        return skip(r, type, 0);
    }
}

/* path_in_schema, compared with the dotted name of the leaf the chunk is matched to. */
static int read_path(reader *r, int type, chunk *c)
{
    const char *name = c->column->name;
    size_t name_len = strlen(name), at = 0, count;
    int element_type, error;

    if ((error = expect(r, type, T_LIST, "ColumnMetaData.path_in_schema")) < 0 ||
        (error = read_list_header(r, &element_type, &count)) < 0)
        return error;
    if (element_type != T_BINARY)
        return corrupt(r, "ColumnMetaData.path_in_schema is a list of %s",
                       thrift_type_name(element_type));
    for (size_t i = 0; i < count; i++) {
        const uint8_t *part;
        size_t part_len;
        if ((error = read_binary(r, &part, &part_len)) < 0)
            return error;
        if (i > 0) {
            if (at < name_len && name[at] == '.')
                at++;
            else
                c->path_differs = 1;
        }
        if (!c->path_differs && part_len <= name_len - at && !memcmp(name + at, part, part_len))
            at += part_len;
        else
            c->path_differs = 1;
    }
    if (at != name_len)
        c->path_differs = 1;
    return 0;
}

static int column_meta_field(reader *r, void *ctx, int16_t id, int type)
{
    chunk *c = ctx;
    switch (id) {
    case 1:
        c->has_type = 1;
        return field_i32(r, type, "ColumnMetaData.type", &c->type);
    case 3:
        return read_path(r, type, c);
    case 5:
        c->has_num_values = 1;
        return field_count(r, type, "ColumnMetaData.num_values", &c->num_values);
    case 6:
        return field_count(r, type, "ColumnMetaData.total_uncompressed_size",
                           &c->uncompressed_bytes);
    case 7:
        return field_count(r, type, "ColumnMetaData.total_compressed_size", &c->compressed_bytes);
    case 12:
        memset(&c->stats, 0, sizeof(c->stats));
        return field_struct(r, type, "ColumnMetaData.statistics", stats_field, &c->stats);
    default:
        return skip(r, type, 0);
    }
}

static int column_chunk_field(reader *r, void *ctx, int16_t id, int type)
{
    chunk *c = ctx;
    if (id == 3) {
        c->has_meta = 1;
        return field_struct(r, type, "ColumnChunk.meta_data", column_meta_field, c);
    }
    return skip(r, type, 0);
}

static float float_of(const uint8_t *p)
{
    uint32_t bits =
        (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

static uint64_t le64_of(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t le32_of(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static double double_of(const uint8_t *p)
{
    uint64_t bits = le64_of(p);
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* IEEE 754 binary16, little-endian, as a float (every half is exactly one). */
static float float16_of(const uint8_t *p)
{
    uint32_t half = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    uint32_t sign = (half >> 15) << 31, exponent = (half >> 10) & 0x1f, fraction = half & 0x3ff;
    uint32_t bits;
    float value;
    if (exponent == 0) {
        value = (float)fraction / 16777216.0f; /* subnormal: fraction * 2^-24, exact */
        return sign ? -value : value;
    }
    if (exponent == 31)
        bits = sign | 0xffu << 23 | fraction << 13;
    else
        bits = sign | (exponent - 15 + 127) << 23 | fraction << 13;
    memcpy(&value, &bits, sizeof(value));
    return value;
}

/* The size a statistic of this order has, 0 for any. */
static size_t order_value_size(int order)
{
    switch (order) {
    case ORDER_BOOLEAN:
        return 1;
    case ORDER_INT32:
    case ORDER_UINT32:
    case ORDER_FLOAT:
        return 4;
    case ORDER_INT64:
    case ORDER_UINT64:
    case ORDER_DOUBLE:
        return 8;
    case ORDER_FLOAT16:
        return 2;
    default:
        return 0;
    }
}

static int is_nan(int order, const uint8_t *p)
{
    switch (order) {
    case ORDER_FLOAT:
        return isnan(float_of(p));
    case ORDER_DOUBLE:
        return isnan(double_of(p));
    case ORDER_FLOAT16:
        return isnan(float16_of(p));
    default:
        return 0;
    }
}

static int compare_numbers(double a, double b)
{
    return a < b ? -1 : a > b;
}

static int compare_bytes(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return a_len < b_len ? -1 : a_len > b_len;
}

/* Two big-endian two's complement integers of any lengths. */
static int compare_decimal_bytes(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    int a_negative = a_len && (a[0] & 0x80), b_negative = b_len && (b[0] & 0x80);
    if (a_negative != b_negative)
        return a_negative ? -1 : 1;
    /* same sign: sign-extend the shorter, then compare as unsigned */
    uint8_t fill = a_negative ? 0xff : 0x00;
    size_t n = a_len > b_len ? a_len : b_len;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = i + a_len >= n ? a[i + a_len - n] : fill;
        uint8_t y = i + b_len >= n ? b[i + b_len - n] : fill;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

static int compare_values(int order, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    switch (order) {
    case ORDER_BOOLEAN:
        return (a[0] != 0) - (b[0] != 0);
    case ORDER_INT32: {
        int32_t x = (int32_t)le32_of(a), y = (int32_t)le32_of(b);
        return x < y ? -1 : x > y;
    }
    case ORDER_UINT32: {
        uint32_t x = le32_of(a), y = le32_of(b);
        return x < y ? -1 : x > y;
    }
    case ORDER_INT64: {
        int64_t x = (int64_t)le64_of(a), y = (int64_t)le64_of(b);
        return x < y ? -1 : x > y;
    }
    case ORDER_UINT64: {
        uint64_t x = le64_of(a), y = le64_of(b);
        return x < y ? -1 : x > y;
    }
    case ORDER_FLOAT:
        return compare_numbers(float_of(a), float_of(b));
    case ORDER_DOUBLE:
        return compare_numbers(double_of(a), double_of(b));
    case ORDER_FLOAT16:
        return compare_numbers(float16_of(a), float16_of(b));
    case ORDER_DECIMAL_BYTES:
        return compare_decimal_bytes(a, a_len, b, b_len);
    default:
        return compare_bytes(a, a_len, b, b_len);
    }
}

/* The deprecated min and max were compared as signed values: right for these orders,
 * wrong for unsigned integers, byte arrays and decimals in them. */
static int deprecated_min_max_usable(int order)
{
    return order == ORDER_BOOLEAN || order == ORDER_INT32 || order == ORDER_INT64 ||
           order == ORDER_FLOAT || order == ORDER_DOUBLE;
}

static int put_value(dv_buf *out, const uint8_t *p, size_t len)
{
    dv_buf_clear(out);
    if (dv_buf_put(out, p, len) < 0 || dv_buf_oom(out))
        return out_of_memory();
    return 0;
}

static int add_count(uint64_t *sum, uint64_t v, const char *name, const char *column,
                     const char *what)
{
    if (__builtin_add_overflow(*sum, v, sum))
        return inconsistent(name, "column %s: %s overflow 64 bits", column, what);
    return 0;
}

/* Fold one row group's chunk into its column. */
static int merge_chunk(dv_parquet_column *column, leaf *info, const chunk *c, uint64_t row_group,
                       int64_t row_group_rows, const char *name)
{
    const stats *s = &c->stats;
    int error;

    if (c->path_differs)
        return inconsistent(name,
                            "row group %" PRIu64 ": the chunk of column %s has another "
                            "path_in_schema",
                            row_group, column->name);
    if (!c->has_meta) {
        /* kept elsewhere or encrypted: nothing known of it here */
        if (row_group_rows > 0)
            info->null_count_missing = info->min_max_missing = 1;
        return 0;
    }
    if (!c->has_type)
        return inconsistent(name, "row group %" PRIu64 ": the chunk of column %s has no type",
                            row_group, column->name);
    if (c->type != column->physical)
        return inconsistent(name,
                            "row group %" PRIu64 ": the chunk of column %s is %s, the schema "
                            "says %s",
                            row_group, column->name, physical_name(c->type),
                            physical_name(column->physical));
    if ((error = add_count(&column->compressed_bytes, c->compressed_bytes, name, column->name,
                           "compressed bytes")) < 0 ||
        (error = add_count(&column->uncompressed_bytes, c->uncompressed_bytes, name, column->name,
                           "uncompressed bytes")) < 0)
        return error;
    if (s->has_null_count && c->has_num_values && s->null_count > c->num_values)
        return inconsistent(
            name, "row group %" PRIu64 ": column %s has %" PRIu64 " nulls in %" PRIu64 " values",
            row_group, column->name, s->null_count, c->num_values);
    if (s->has_null_count) {
        if ((error = add_count(&column->null_count, s->null_count, name, column->name,
                               "null counts")) < 0)
            return error;
    } else if (row_group_rows > 0) {
        info->null_count_missing = 1;
    }

    const uint8_t *min = NULL, *max = NULL;
    size_t min_len = 0, max_len = 0;
    if (s->has_min_value && s->has_max_value) {
        min = s->min_value, min_len = s->min_value_len;
        max = s->max_value, max_len = s->max_value_len;
    } else if (s->has_min && s->has_max && deprecated_min_max_usable(info->order)) {
        min = s->min, min_len = s->min_len;
        max = s->max, max_len = s->max_len;
    }
    int all_null = s->has_null_count && c->has_num_values && s->null_count == c->num_values;
    if (row_group_rows == 0 || info->order == ORDER_NONE || (!min && all_null))
        return 0; /* nothing to bound, or no order to bound it in */
    if (!min) {
        info->min_max_missing = 1;
        return 0;
    }
    size_t size = order_value_size(info->order);
    if (column->physical == DV_PARQUET_FIXED_LEN_BYTE_ARRAY)
        size = (size_t)info->type_length;
    if (size && (min_len != size || max_len != size))
        return inconsistent(name,
                            "row group %" PRIu64 ": column %s has a min of %zu bytes and a max "
                            "of %zu for a %zu-byte type",
                            row_group, column->name, min_len, max_len, size);
    if (is_nan(info->order, min) || is_nan(info->order, max)) {
        info->min_max_missing = 1; /* a NaN bound bounds nothing */
        return 0;
    }
    if (!info->min_max_seen ||
        compare_values(info->order, min, min_len, (const uint8_t *)column->min.ptr,
                       column->min.len) < 0)
        if ((error = put_value(&column->min, min, min_len)) < 0)
            return error;
    if (!info->min_max_seen ||
        compare_values(info->order, max, max_len, (const uint8_t *)column->max.ptr,
                       column->max.len) > 0)
        if ((error = put_value(&column->max, max, max_len)) < 0)
            return error;
    info->min_max_seen = 1;
    return 0;
}

typedef struct row_group_fields {
    int has_columns, has_num_rows;
    mark columns;
    int64_t num_rows;
} row_group_fields;

static int row_group_field(reader *r, void *ctx, int16_t id, int type)
{
    row_group_fields *g = ctx;
    switch (id) {
    case 1:
        g->has_columns = 1;
        return field_mark(r, type, T_LIST, "RowGroup.columns", &g->columns);
    case 3:
        g->has_num_rows = 1;
        return field_i64(r, type, "RowGroup.num_rows", &g->num_rows);
    default:
        return skip(r, type, 0);
    }
}

static int read_row_groups(dv_parquet_meta *out, columns *cols, reader *r, mark at)
{
    size_t count;
    int element_type, error;
    int64_t rows = 0;

    seek(r, at);
    if ((error = read_list_header(r, &element_type, &count)) < 0)
        return error;
    if (element_type != T_STRUCT)
        return corrupt(r, "FileMetaData.row_groups is a list of %s",
                       thrift_type_name(element_type));
    if ((error = enter(r)) < 0)
        return error;
    for (size_t g = 0; g < count; g++) {
        row_group_fields fields;
        memset(&fields, 0, sizeof(fields));
        size_t start = r->pos, n_chunks;
        if ((error = read_struct(r, row_group_field, &fields)) < 0)
            return error;
        /* where the row group ends, to go on from there after its columns */
        mark end = {r->pos, r->depth};
        if (!fields.has_columns || !fields.has_num_rows || fields.num_rows < 0) {
            r->pos = start;
            return corrupt(r, "row group %zu has %s", g,
                           !fields.has_columns    ? "no columns"
                           : !fields.has_num_rows ? "no row count"
                                                  : "a negative row count");
        }
        if (__builtin_add_overflow(rows, fields.num_rows, &rows))
            return inconsistent(r->name, "the row groups' row counts overflow 64 bits");

        seek(r, fields.columns);
        if ((error = read_list_header(r, &element_type, &n_chunks)) < 0)
            return error;
        if (element_type != T_STRUCT)
            return corrupt(r, "RowGroup.columns is a list of %s", thrift_type_name(element_type));
        if (n_chunks != cols->n)
            return inconsistent(r->name, "row group %zu has %zu columns, the schema %zu", g,
                                n_chunks, cols->n);
        if ((error = enter(r)) < 0)
            return error;
        for (size_t i = 0; i < n_chunks; i++) {
            chunk c;
            memset(&c, 0, sizeof(c));
            c.column = &cols->columns[i];
            if ((error = read_struct(r, column_chunk_field, &c)) < 0 ||
                (error = merge_chunk(&cols->columns[i], &cols->leaves[i], &c, g, fields.num_rows,
                                     r->name)) < 0)
                return error;
        }
        seek(r, end);
    }
    r->depth--;
    if (rows != out->num_rows)
        return inconsistent(r->name, "the row groups hold %" PRId64 " rows, the file says %" PRId64,
                            rows, out->num_rows);
    out->n_row_groups = count;
    return 0;
}

/* ---- FileMetaData ---- */

typedef struct file_fields {
    int has_version, has_schema, has_num_rows, has_row_groups, has_created_by;
    int32_t version;
    int64_t num_rows;
    mark schema, row_groups;
    const uint8_t *created_by;
    size_t created_by_len;
} file_fields;

static int file_field(reader *r, void *ctx, int16_t id, int type)
{
    file_fields *f = ctx;
    switch (id) {
    case 1:
        f->has_version = 1;
        return field_i32(r, type, "FileMetaData.version", &f->version);
    case 2:
        f->has_schema = 1;
        return field_mark(r, type, T_LIST, "FileMetaData.schema", &f->schema);
    case 3:
        f->has_num_rows = 1;
        return field_i64(r, type, "FileMetaData.num_rows", &f->num_rows);
    case 4:
        f->has_row_groups = 1;
        return field_mark(r, type, T_LIST, "FileMetaData.row_groups", &f->row_groups);
    case 6:
        f->has_created_by = 1;
        return field_binary(r, type, "FileMetaData.created_by", &f->created_by, &f->created_by_len);
    default:
        return skip(r, type, 0);
    }
}

int dv_parquet_footer_length(uint32_t *out, const uint8_t tail[8], uint64_t file_size,
                             const char *name)
{
    assert(out && tail && name);
    *out = 0;
    if (file_size < DV_PARQUET_TAIL_BYTES + 4)
        return inconsistent(name, "a file of %" PRIu64 " bytes is too short for Parquet",
                            file_size);
    if (!memcmp(tail + 4, "PARE", 4))
        return inconsistent(name, "the footer is encrypted (PARE), which dv does not read");
    if (memcmp(tail + 4, "PAR1", 4))
        return inconsistent(name, "the file does not end in PAR1; not a Parquet file");
    uint32_t len = le32_of(tail);
    /* the footer, the tail and the leading magic */
    if ((uint64_t)len > file_size - DV_PARQUET_TAIL_BYTES - 4)
        return inconsistent(name, "a footer of %" PRIu32 " bytes in a file of %" PRIu64, len,
                            file_size);
    if (len > DV_PARQUET_FOOTER_MAX_BYTES)
        return inconsistent(name, "a footer of %" PRIu32 " bytes is longer than dv reads (%u)", len,
                            DV_PARQUET_FOOTER_MAX_BYTES);
    *out = len;
    return 0;
}

void dv_parquet_meta_release(dv_parquet_meta *meta)
{
    if (!meta)
        return;
    for (size_t i = 0; i < meta->n_columns; i++) {
        free(meta->columns[i].name);
        free(meta->columns[i].type_name);
        dv_buf_release(&meta->columns[i].min);
        dv_buf_release(&meta->columns[i].max);
    }
    free(meta->columns);
    free(meta->created_by);
    dv_parquet_meta empty = DV_PARQUET_META_INIT;
    *meta = empty;
}

int dv_parquet_meta_parse(dv_parquet_meta *out, const uint8_t *footer, size_t len, const char *name)
{
    reader r = {footer, len, 0, name, 0};
    file_fields f;
    columns cols = {NULL, NULL, 0, 0};
    int error = 0;

    assert(out && (footer || !len) && name);
    assert(!out->columns && !out->created_by);
    memset(&f, 0, sizeof(f));
    if (len > DV_PARQUET_FOOTER_MAX_BYTES) {
        error = inconsistent(name, "a footer of %zu bytes is longer than dv reads (%u)", len,
                             DV_PARQUET_FOOTER_MAX_BYTES);
        goto done;
    }
    if ((error = read_struct(&r, file_field, &f)) < 0)
        goto done;
    if (r.pos != len) {
        error = corrupt(&r, "%zu bytes after FileMetaData", len - r.pos);
        goto done;
    }
    if (!f.has_schema || !f.has_num_rows || !f.has_row_groups) {
        error = inconsistent(name, "FileMetaData has no %s",
                             !f.has_schema     ? "schema"
                             : !f.has_num_rows ? "row count"
                                               : "row groups");
        goto done;
    }
    if (f.num_rows < 0) {
        error = inconsistent(name, "a negative row count (%" PRId64 ")", f.num_rows);
        goto done;
    }
    out->version = f.version;
    out->num_rows = f.num_rows;
    if (f.has_created_by) {
        out->created_by = malloc(f.created_by_len + 1);
        if (!out->created_by) {
            error = out_of_memory();
            goto done;
        }
        memcpy(out->created_by, f.created_by, f.created_by_len);
        out->created_by[f.created_by_len] = '\0';
    }
    error = read_schema(&cols, &r, f.schema, len);
    out->columns = cols.columns;
    out->n_columns = cols.n;
    if (error < 0 || (error = read_row_groups(out, &cols, &r, f.row_groups)) < 0)
        goto done;
    for (size_t i = 0; i < cols.n; i++) {
        dv_parquet_column *column = &cols.columns[i];
        const leaf *info = &cols.leaves[i];
        column->has_null_count = !info->null_count_missing;
        if (!column->has_null_count)
            column->null_count = 0;
        column->has_min_max = !info->min_max_missing && info->min_max_seen;
        if (!column->has_min_max) {
            dv_buf_release(&column->min);
            dv_buf_release(&column->max);
        }
    }
done:
    free(cols.leaves);
    if (error < 0)
        dv_parquet_meta_release(out);
    return error;
}

/* ---- values for people ---- */

static void put_hex(dv_buf *out, const uint8_t *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    dv_buf_puts(out, "0x");
    for (size_t i = 0; i < len; i++) {
        dv_buf_putc(out, digits[p[i] >> 4]);
        dv_buf_putc(out, digits[p[i] & 0x0f]);
    }
}

/* Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) and no
 * NUL, so the text can be shown as it is. */
static int is_text(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t b = p[i];
        size_t n;
        uint32_t cp, min;
        if (b == 0)
            return 0;
        if (b < 0x80) {
            i++;
            continue;
        }
        if ((b & 0xe0) == 0xc0)
            n = 2, cp = b & 0x1f, min = 0x80;
        else if ((b & 0xf0) == 0xe0)
            n = 3, cp = b & 0x0f, min = 0x800;
        else if ((b & 0xf8) == 0xf0)
            n = 4, cp = b & 0x07, min = 0x10000;
        else
            return 0;
        if (len - i < n)
            return 0;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n;
    }
    return 1;
}

/* Whole numbers in full, others as the shortest %g text that reads back as the same
 * value. */
static void put_double(dv_buf *out, double v, int is_float)
{
    char text[40];
    if (isnan(v)) {
        dv_buf_puts(out, "nan");
        return;
    }
    if (isinf(v)) {
        dv_buf_puts(out, v < 0 ? "-inf" : "inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        /* a whole number is written whole: "10", not "1e+01" */
        dv_buf_printf(out, "%.0f", v);
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof(text), "%.*g", precision, v);
        if (is_float ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v)
            break;
    }
    dv_buf_puts(out, text);
}

static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0)
        r += b, q--;
    *rem = r;
    return q;
}

/* Days since 1970-01-01 as a proleptic Gregorian date. */
static void put_date(dv_buf *out, int64_t days)
{
    int64_t z = days + 719468, rem;
    int64_t era = floor_div(z, 146097, &rem);
    int64_t day_of_era = rem;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;
    int64_t day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    int64_t month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
    int64_t year = year_of_era + era * 400 + (month <= 2);
    if (year < 0)
        dv_buf_printf(out, "-%04" PRId64, -year);
    else if (year > 9999)
        dv_buf_printf(out, "+%" PRId64, year);
    else
        dv_buf_printf(out, "%04" PRId64, year);
    dv_buf_printf(out, "-%02" PRId64 "-%02" PRId64, month, day);
}

static int64_t unit_per_second(int unit)
{
    return unit == UNIT_MILLIS ? 1000 : unit == UNIT_MICROS ? 1000000 : 1000000000;
}

static int unit_digits(int unit)
{
    return unit == UNIT_MILLIS ? 3 : unit == UNIT_MICROS ? 6 : 9;
}

static void put_time_of_day(dv_buf *out, int64_t seconds, int64_t fraction, int unit)
{
    dv_buf_printf(out, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%0*" PRId64, seconds / 3600,
                  seconds / 60 % 60, seconds % 60, unit_digits(unit), fraction);
}

static void put_timestamp(dv_buf *out, int64_t v, int unit)
{
    int64_t fraction, seconds_of_day;
    int64_t seconds = floor_div(v, unit_per_second(unit), &fraction);
    int64_t days = floor_div(seconds, 86400, &seconds_of_day);
    put_date(out, days);
    dv_buf_putc(out, 'T');
    put_time_of_day(out, seconds_of_day, fraction, unit);
}

static void put_time(dv_buf *out, int64_t v, int unit)
{
    int64_t per_second = unit_per_second(unit);
    if (v < 0 || v / per_second >= 86400) {
        dv_buf_printf(out, "%" PRId64, v); /* not a time of day: the number as it is */
        return;
    }
    put_time_of_day(out, v / per_second, v % per_second, unit);
}

/* The digits of a magnitude, and a decimal point scale digits from the right. */
static void put_scaled(dv_buf *out, int negative, const char *digits, size_t n_digits, int scale)
{
    if (negative)
        dv_buf_putc(out, '-');
    if (scale == 0) {
        dv_buf_put(out, digits, n_digits);
    } else if (scale > DECIMAL_SCALE_SPELLED_MAX) {
        dv_buf_put(out, digits, n_digits);
        dv_buf_printf(out, "e-%d", scale);
    } else if (n_digits > (size_t)scale) {
        dv_buf_put(out, digits, n_digits - (size_t)scale);
        dv_buf_putc(out, '.');
        dv_buf_put(out, digits + n_digits - (size_t)scale, (size_t)scale);
    } else {
        dv_buf_puts(out, "0.");
        for (size_t i = n_digits; i < (size_t)scale; i++)
            dv_buf_putc(out, '0');
        dv_buf_put(out, digits, n_digits);
    }
}

static void put_decimal_int(dv_buf *out, int64_t v, int scale)
{
    char digits[24];
    uint64_t magnitude = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    int n = snprintf(digits, sizeof(digits), "%" PRIu64, magnitude);
    put_scaled(out, v < 0, digits, (size_t)n, scale);
}

/* A big-endian two's complement integer of up to DECIMAL_DIGITS_MAX_BYTES bytes. */
static void put_decimal_bytes(dv_buf *out, const uint8_t *p, size_t len, int scale)
{
    uint8_t magnitude[DECIMAL_DIGITS_MAX_BYTES];
    /* 2.41 decimal digits a byte, rounded up */
    char digits[DECIMAL_DIGITS_MAX_BYTES * 5 / 2 + 2];
    size_t n_digits = 0;
    int negative = len && (p[0] & 0x80);

    memcpy(magnitude, p, len);
    if (negative) {
        unsigned carry = 1;
        for (size_t i = len; i-- > 0;) {
            unsigned v = (uint8_t)~magnitude[i] + carry;
            magnitude[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    size_t first = 0;
    while (first < len && !magnitude[first])
        first++;
    while (first < len) {
        /* divide the magnitude by 10, the remainder is the next digit from the right */
        unsigned rem = 0;
        for (size_t i = first; i < len; i++) {
            unsigned v = rem << 8 | magnitude[i];
            magnitude[i] = (uint8_t)(v / 10);
            rem = v % 10;
        }
        digits[n_digits++] = (char)('0' + rem);
        while (first < len && !magnitude[first])
            first++;
    }
    if (n_digits == 0)
        digits[n_digits++] = '0';
    for (size_t i = 0; i < n_digits / 2; i++) {
        char t = digits[i];
        digits[i] = digits[n_digits - 1 - i];
        digits[n_digits - 1 - i] = t;
    }
    put_scaled(out, negative, digits, n_digits, scale);
}

static int starts_with(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

/* The unit in "time[us]" or "timestamp[ns]", UNIT_NONE if none. */
static int unit_of(const char *type_name)
{
    const char *open = strchr(type_name, '[');
    if (!open)
        return UNIT_NONE;
    if (starts_with(open, "[ms]"))
        return UNIT_MILLIS;
    if (starts_with(open, "[us]"))
        return UNIT_MICROS;
    if (starts_with(open, "[ns]"))
        return UNIT_NANOS;
    return UNIT_NONE;
}

/* The scale in "decimal(p,s)", or -1. */
static int scale_of(const char *type_name)
{
    const char *comma = strchr(type_name, ',');
    if (!starts_with(type_name, "decimal(") || !comma)
        return -1;
    long scale = strtol(comma + 1, NULL, 10);
    return scale >= 0 && scale <= INT32_MAX ? (int)scale : -1;
}

int dv_parquet_value_format(dv_buf *out, const dv_parquet_column *c, const dv_buf *value)
{
    assert(out && c && value);
    const uint8_t *p = (const uint8_t *)value->ptr;
    size_t len = value->len;
    const char *type = c->type_name ? c->type_name : "";
    int scale = scale_of(type), unit = unit_of(type);

    switch (c->physical) {
    case DV_PARQUET_BOOLEAN:
        if (len == 1 && p[0] <= 1) {
            dv_buf_puts(out, p[0] ? "true" : "false");
            goto done;
        }
        break;
    case DV_PARQUET_INT32:
        if (len != 4)
            break;
        if (!strcmp(type, "date"))
            put_date(out, (int32_t)le32_of(p));
        else if (starts_with(type, "time[") && unit)
            put_time(out, (int32_t)le32_of(p), unit);
        else if (scale >= 0)
            put_decimal_int(out, (int32_t)le32_of(p), scale);
        else if (starts_with(type, "uint"))
            dv_buf_printf(out, "%" PRIu32, le32_of(p));
        else
            dv_buf_printf(out, "%" PRId32, (int32_t)le32_of(p));
        goto done;
    case DV_PARQUET_INT64:
        if (len != 8)
            break;
        if (starts_with(type, "timestamp[") && unit)
            put_timestamp(out, (int64_t)le64_of(p), unit);
        else if (starts_with(type, "time[") && unit)
            put_time(out, (int64_t)le64_of(p), unit);
        else if (scale >= 0)
            put_decimal_int(out, (int64_t)le64_of(p), scale);
        else if (starts_with(type, "uint"))
            dv_buf_printf(out, "%" PRIu64, le64_of(p));
        else
            dv_buf_printf(out, "%" PRId64, (int64_t)le64_of(p));
        goto done;
    case DV_PARQUET_FLOAT:
        if (len != 4)
            break;
        put_double(out, float_of(p), 1);
        goto done;
    case DV_PARQUET_DOUBLE:
        if (len != 8)
            break;
        put_double(out, double_of(p), 0);
        goto done;
    case DV_PARQUET_BYTE_ARRAY:
    case DV_PARQUET_FIXED_LEN_BYTE_ARRAY:
        if (scale >= 0) {
            if (len > DECIMAL_DIGITS_MAX_BYTES)
                break;
            put_decimal_bytes(out, p, len, scale);
            goto done;
        }
        if (!strcmp(type, "uuid") && len == 16) {
            static const char digits[] = "0123456789abcdef";
            for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                    dv_buf_putc(out, '-');
                dv_buf_putc(out, digits[p[i] >> 4]);
                dv_buf_putc(out, digits[p[i] & 0x0f]);
            }
            goto done;
        }
        if (!strcmp(type, "float16") && len == 2) {
            put_double(out, float16_of(p), 1);
            goto done;
        }
        if (strcmp(type, "interval") && is_text(p, len)) {
            dv_buf_put(out, p, len);
            goto done;
        }
        break;
    default:
        break;
    }
    put_hex(out, p, len); /* bytes that are not what the type says, INT96, INTERVAL */
done:
    if (dv_buf_oom(out))
        return dv_error_set(DV_ENOMEM, "out of memory formatting a Parquet statistic");
    return 0;
}
