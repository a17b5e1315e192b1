/*
 * Fuzz the JSON Lines reader (core/table/jsonl.c). The input is read whole, cut in two at a
 * byte the input chooses, and in small pieces of lengths it chooses: the three must give the
 * same rows, or the same error. An accepted row must be sane: keys and strings valid UTF-8
 * and distinct keys, numbers in JSON's grammar, true/false and null as such, and a nested
 * value compact already (read back inside an object, it comes out the same). A rejection
 * must say where.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/table/jsonl.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reading {
    dv_buf rows; /* every row, exactly */
    size_t n_rows;
    uint64_t last_line, last_offset;
    size_t size;
    int check_nested; /* read each nested value back (not when reading one back) */
} reading;

/* 1 if [p, p + len) is UTF-8 (checked by decoding, not as the reader does). */
static int valid_utf8(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!n || i + n > len)
            return 0;
        uint32_t cp = n == 1 ? c : c & (0x7F >> n);
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n;
    }
    return 1;
}

static size_t digits(const char *p, size_t len, size_t i)
{
    while (i < len && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* 1 if [p, p + len) is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *p, size_t len)
{
    size_t i = 0, j;
    if (i < len && p[i] == '-')
        i++;
    if (i < len && p[i] == '0')
        i++;
    else if ((j = digits(p, len, i)) > i)
        i = j;
    else
        return 0;
    if (i < len && p[i] == '.') {
        if ((j = digits(p, len, i + 1)) == i + 1)
            return 0;
        i = j;
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < len && (p[i] == '+' || p[i] == '-'))
            i++;
        if ((j = digits(p, len, i)) == i)
            return 0;
        i = j;
    }
    return i == len;
}

/* 1 if the compact text has no whitespace outside its strings. */
static int compact(const char *p, size_t len)
{
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        if (in_string && p[i] == '\\')
            i++;
        else if (p[i] == '"')
            in_string = !in_string;
        else if (!in_string && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
            return 0;
    }
    return !in_string;
}

static int read_jsonl(reading *r, const uint8_t *data, size_t size,
                      size_t (*next_cut)(size_t at, const uint8_t *data, size_t size),
                      int check_nested, dv_buf *message);

static size_t whole(size_t at, const uint8_t *data, size_t size)
{
    (void)at;
    (void)data;
    return size;
}

/* A nested value read back as {"v":value} must come out as itself. */
static void check_read_back(const char *value, size_t len)
{
    dv_buf line = DV_BUF_INIT, message = DV_BUF_INIT;
    dv_buf_puts(&line, "{\"v\":");
    dv_buf_put(&line, value, len);
    dv_buf_putc(&line, '}');
    if (dv_buf_oom(&line))
        abort();
    reading back;
    if (read_jsonl(&back, (const uint8_t *)line.ptr, line.len, whole, 0, &message) < 0)
        abort();
    dv_buf expected = DV_BUF_INIT;
    dv_buf_printf(&expected, "1 0 1\n%d 1 %zu:v=", DV_JSONL_NESTED, len);
    dv_buf_put(&expected, value, len);
    dv_buf_putc(&expected, '\n');
    if (back.n_rows != 1 || back.rows.len != expected.len ||
        memcmp(back.rows.ptr, expected.ptr, expected.len))
        abort();
    dv_buf_release(&expected);
    dv_buf_release(&back.rows);
    dv_buf_release(&line);
    dv_buf_release(&message);
}

static int take_row(void *ctx, const dv_jsonl_row *row)
{
    reading *r = ctx;
    if (row->offset >= r->size || (r->n_rows && row->offset <= r->last_offset) ||
        (r->n_rows && row->line <= r->last_line) || row->line < 1 ||
        row->n_members > DV_JSONL_MEMBERS_MAX)
        abort();
    r->last_line = row->line;
    r->last_offset = row->offset;
    r->n_rows++;
    dv_buf_printf(&r->rows, "%llu %llu %zu\n", (unsigned long long)row->line,
                  (unsigned long long)row->offset, row->n_members);
    for (size_t i = 0; i < row->n_members; i++) {
        const dv_jsonl_member *m = &row->members[i];
        if (!m->key || !valid_utf8((const unsigned char *)m->key, m->key_len))
            abort();
        for (size_t k = 0; k < i; k++)
            if (row->members[k].key_len == m->key_len &&
                !memcmp(row->members[k].key, m->key, m->key_len))
                abort();
        switch (m->kind) {
        case DV_JSONL_NULL:
            if (m->value || m->value_len)
                abort();
            break;
        case DV_JSONL_STRING:
            if (!m->value || !valid_utf8((const unsigned char *)m->value, m->value_len))
                abort();
            break;
        case DV_JSONL_NUMBER:
            if (!m->value || !json_number(m->value, m->value_len))
                abort();
            break;
        case DV_JSONL_BOOL:
            if (!m->value || !((m->value_len == 4 && !memcmp(m->value, "true", 4)) ||
                               (m->value_len == 5 && !memcmp(m->value, "false", 5))))
                abort();
            break;
        case DV_JSONL_NESTED:
            if (!m->value || m->value_len < 2 || (m->value[0] != '{' && m->value[0] != '[') ||
                !valid_utf8((const unsigned char *)m->value, m->value_len) ||
                !compact(m->value, m->value_len))
                abort();
            if (r->check_nested)
                check_read_back(m->value, m->value_len);
            break;
        default:
            abort();
        }
        dv_buf_printf(&r->rows, "%d %zu %zu:", m->kind, m->key_len, m->value_len);
        dv_buf_put(&r->rows, m->key, m->key_len);
        dv_buf_putc(&r->rows, '=');
        if (m->value)
            dv_buf_put(&r->rows, m->value, m->value_len);
        dv_buf_putc(&r->rows, '\n');
    }
    if (dv_buf_oom(&r->rows))
        abort();
    return 0;
}

/* Read data in pieces cut by next_cut; the error, and its message in message. */
static int read_jsonl(reading *r, const uint8_t *data, size_t size,
                      size_t (*next_cut)(size_t at, const uint8_t *data, size_t size),
                      int check_nested, dv_buf *message)
{
    dv_jsonl *jsonl;
    memset(r, 0, sizeof(*r));
    r->rows = (dv_buf)DV_BUF_INIT;
    r->size = size;
    r->check_nested = check_nested;
    if (dv_jsonl_new(&jsonl, "fuzz.jsonl") < 0)
        abort();
    int error = 0;
    dv_error_clear();
    for (size_t at = 0; at < size && !error;) {
        size_t take = next_cut(at, data, size);
        if (take > size - at)
            take = size - at;
        error = dv_jsonl_push(jsonl, data + at, take, take_row, r);
        at += take;
    }
    if (!error)
        error = dv_jsonl_finish(jsonl, take_row, r);
    if (error < 0) {
        /* every rejection says where; a rejected reader stays rejected */
        if (error != DV_ECORRUPT || dv_error_last_code() != DV_ECORRUPT ||
            strncmp(dv_error_last(), "fuzz.jsonl: line ", 17))
            abort();
        dv_buf_set(message, dv_error_last());
        if (dv_jsonl_push(jsonl, "{}\n", 3, take_row, r) != error ||
            strcmp(dv_error_last(), message->ptr))
            abort();
    }
    dv_jsonl_free(jsonl);
    return error;
}

/* Two pieces, cut where the input's last byte says. */
static size_t in_two(size_t at, const uint8_t *data, size_t size)
{
    size_t cut = (size_t)data[size - 1] * 31 % (size + 1);
    return at < cut ? cut - at : size - at;
}

/* Pieces of 1 to 8 bytes, each as the byte where it starts says. */
static size_t small_pieces(size_t at, const uint8_t *data, size_t size)
{
    (void)size;
    return 1 + (data[at] >> 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t (*const cuts[])(size_t, const uint8_t *, size_t) = {whole, in_two, small_pieces};
    reading first, again;
    dv_buf first_message = DV_BUF_INIT, message = DV_BUF_INIT;
    int first_error = read_jsonl(&first, data, size, cuts[0], 1, &first_message);
    for (size_t i = 1; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        int error = read_jsonl(&again, data, size, cuts[i], 0, &message);
        if (error != first_error || again.rows.len != first.rows.len ||
            memcmp(again.rows.ptr, first.rows.ptr, first.rows.len) ||
            (error && strcmp(message.ptr, first_message.ptr)))
            abort();
        dv_buf_release(&again.rows);
    }
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (first.n_rows > lines)
        abort();
    dv_buf_release(&first.rows);
    dv_buf_release(&first_message);
    dv_buf_release(&message);
    return 0;
}
