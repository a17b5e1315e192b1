/*
 * Fuzz the CSV reader (core/table/csv.c). The input is read whole, cut in two at a byte
 * the input chooses, and in small pieces of lengths it chooses: the three must give the
 * same records, or the same error. An accepted input's records must be sane: valid UTF-8
 * in every field, unquoted fields without a delimiter, quote or line end, lines and
 * offsets that go forward. A rejection must say where.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/table/csv.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reading {
    dv_buf records; /* every record, exactly */
    size_t n_records;
    uint64_t last_line, last_offset;
    size_t size;
    char delimiter;
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

static int take_record(void *ctx, const dv_csv_record *record)
{
    reading *r = ctx;
    if (record->n_fields < 1 || record->n_fields > DV_CSV_FIELDS_MAX)
        abort();
    if (record->offset >= r->size || (r->n_records && record->offset <= r->last_offset) ||
        (r->n_records && record->line <= r->last_line) || record->line < 1)
        abort();
    r->last_line = record->line;
    r->last_offset = record->offset;
    r->n_records++;
    dv_buf_printf(&r->records, "%llu %llu %zu\n", (unsigned long long)record->line,
                  (unsigned long long)record->offset, record->n_fields);
    for (size_t i = 0; i < record->n_fields; i++) {
        const dv_csv_field *f = &record->fields[i];
        if (!f->ptr || !valid_utf8((const unsigned char *)f->ptr, f->len))
            abort();
        if (!f->quoted)
            for (size_t k = 0; k < f->len; k++)
                if (f->ptr[k] == r->delimiter || f->ptr[k] == '"' || f->ptr[k] == '\n')
                    abort();
        dv_buf_printf(&r->records, "%d %zu:", f->quoted, f->len);
        dv_buf_put(&r->records, f->ptr, f->len);
        dv_buf_putc(&r->records, '\n');
    }
    if (dv_buf_oom(&r->records))
        abort();
    return 0;
}

/* Read data in pieces cut by next_cut; the error, and its message in message. */
static int read_csv(reading *r, const uint8_t *data, size_t size, char delimiter,
                    size_t (*next_cut)(size_t at, const uint8_t *data, size_t size),
                    dv_buf *message)
{
    dv_csv *csv;
    memset(r, 0, sizeof(*r));
    r->records = (dv_buf)DV_BUF_INIT;
    r->size = size;
    r->delimiter = delimiter;
    if (dv_csv_new(&csv, delimiter, "fuzz.csv") < 0)
        abort();
    int error = 0;
    dv_error_clear();
    for (size_t at = 0; at < size && !error;) {
        size_t take = next_cut(at, data, size);
        if (take > size - at)
            take = size - at;
        error = dv_csv_push(csv, data + at, take, take_record, r);
        at += take;
    }
    if (!error)
        error = dv_csv_finish(csv, take_record, r);
    if (error < 0) {
        /* every rejection says where; a rejected reader stays rejected */
        if (error != DV_ECORRUPT || dv_error_last_code() != DV_ECORRUPT ||
            strncmp(dv_error_last(), "fuzz.csv: line ", 15))
            abort();
        dv_buf_set(message, dv_error_last());
        if (dv_csv_push(csv, "x", 1, take_record, r) != error ||
            strcmp(dv_error_last(), message->ptr))
            abort();
    }
    dv_csv_free(csv);
    return error;
}

static size_t whole(size_t at, const uint8_t *data, size_t size)
{
    (void)at;
    (void)data;
    return size;
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
    static const char delimiters[] = {',', '\t', ';', '|'};
    if (size == 0)
        return 0;
    char delimiter = delimiters[data[0] % 4 == 3 && size > 1 ? data[1] % 4 : 0];
    size_t (*const cuts[])(size_t, const uint8_t *, size_t) = {whole, in_two, small_pieces};
    reading first, again;
    dv_buf first_message = DV_BUF_INIT, message = DV_BUF_INIT;
    int first_error = read_csv(&first, data, size, delimiter, cuts[0], &first_message);
    for (size_t i = 1; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        int error = read_csv(&again, data, size, delimiter, cuts[i], &message);
        if (error != first_error || again.records.len != first.records.len ||
            memcmp(again.records.ptr, first.records.ptr, first.records.len) ||
            (error && strcmp(message.ptr, first_message.ptr)))
            abort();
        dv_buf_release(&again.records);
    }
    /* no more records than line ends, plus one for a last line without one */
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (first.n_records > lines)
        abort();
    dv_buf_release(&first.records);
    dv_buf_release(&first_message);
    dv_buf_release(&message);
    return 0;
}
