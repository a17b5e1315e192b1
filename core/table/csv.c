/*
 * csv: RFC 4180 records out of pieces of input. A word-at-a-time scan jumps from one byte
 * that matters (delimiter, quote, CR, LF, the first byte of a non-ASCII character) to the
 * next; a record that lies inside one piece and holds no "" is handed out as pointers into
 * the caller's bytes, and only the rest is copied into a buffer the reader keeps. The scans
 * take 16 bytes at a time with SSE2 where there is SSE2, 8 in a 64-bit word elsewhere.
 */
#include "core/table/csv.h"

#include "core/base/buf.h"
#include "core/table/utf8.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum {
    FIELD_START, /* before the first byte of a field */
    UNQUOTED,    /* in an unquoted field */
    QUOTED,      /* inside the quotes of a quoted field */
    CLOSED,      /* after the closing quote: a delimiter or a line end comes next */
    /* Only between pieces: the last byte of a piece that needs the next to be understood. */
    QUOTE_PENDING,     /* a quote inside quotes: the closing one, or the first of "" */
    CR_PENDING,        /* a CR in an unquoted field: a line end before LF, data otherwise */
    CLOSED_CR_PENDING, /* a CR after the closing quote: only LF may follow */
};

struct dv_csv {
    char delimiter;
    char *name;
    int finished;
    dv_error_state error; /* the first failure, returned again by every later call */

    /* The first bytes of the input while they may still be a byte order mark. */
    int bom_done;
    unsigned char bom_held[3];
    size_t n_bom_held;

    uint64_t offset;      /* of the next piece's first byte */
    uint64_t line;        /* of the next byte */
    uint64_t line_offset; /* where that line starts */
    uint64_t line_chars;  /* characters of that line before the next piece */

    /* The record being read. */
    int state;
    int in_record;
    int spanning; /* it began in an earlier piece, so all its fields are in buf */
    uint64_t record_line, record_offset;
    dv_csv_field *fields;
    size_t *field_offsets; /* where fields[i] is in buf, when fields[i].ptr is NULL */
    size_t n_fields, fields_alloc, n_buffered;
    dv_buf buf;

    /* The field being read: its bytes before the current run are in buf when buffered. */
    int field_quoted, field_buffered;
    size_t field_buf_start;
    uint64_t quote_line, quote_column; /* of its opening quote */

    /* A character (UTF-8 lead, or CR after a closing quote) the last piece ended inside. */
    unsigned char utf8_held[4];
    size_t n_utf8_held;
    uint64_t held_offset, held_line, held_column;
};

/* What one call reads: the piece, and where the current line starts if it is inside. */
typedef struct piece {
    const char *data;
    const char *end;
    const char *line_start;
} piece;

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load_word(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof(x));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x); /* the first byte in the lowest bits, as the scans expect */
#endif
    return x;
}

/* The bytes of x equal to pattern's (one byte repeated) as their high bits. Exact up to the
 * first match (a borrow can mark bytes after it), which is all a scan for the first needs. */
static inline uint64_t bytes_equal(uint64_t x, uint64_t pattern)
{
    uint64_t y = x ^ pattern;
    return (y - ONES) & ~y & HIGHS;
}

/* The first delimiter, quote, CR, LF or non-ASCII byte in [p, end), or end. */
static inline const char *scan_unquoted(const char *p, const char *end, char delimiter)
{
#ifdef __SSE2__
    const __m128i delimiters16 = _mm_set1_epi8(delimiter), quotes16 = _mm_set1_epi8('"');
    const __m128i lfs16 = _mm_set1_epi8('\n'), crs16 = _mm_set1_epi8('\r');
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i hits =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, delimiters16), _mm_cmpeq_epi8(x, quotes16)),
                         _mm_or_si128(_mm_cmpeq_epi8(x, lfs16), _mm_cmpeq_epi8(x, crs16)));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(hits, x));
        if (mask)
            return p + __builtin_ctz(mask);
    }
#endif
    const uint64_t delimiters = (uint64_t)(unsigned char)delimiter * ONES;
    for (; end - p >= 8; p += 8) {
        uint64_t x = load_word(p);
        uint64_t hits = bytes_equal(x, delimiters) | bytes_equal(x, '"' * ONES) |
                        bytes_equal(x, '\n' * ONES) | bytes_equal(x, '\r' * ONES) | (x & HIGHS);
        if (hits)
            return p + (__builtin_ctzll(hits) >> 3);
    }
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == (unsigned char)delimiter || c == '"' || c == '\n' || c == '\r' || c >= 0x80)
            break;
    }
    return p;
}

/* The first quote, LF or non-ASCII byte in [p, end), or end. */
static inline const char *scan_quoted(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quotes16 = _mm_set1_epi8('"'), lfs16 = _mm_set1_epi8('\n');
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(x, quotes16), _mm_cmpeq_epi8(x, lfs16));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(hits, x));
        if (mask)
            return p + __builtin_ctz(mask);
    }
#endif
    for (; end - p >= 8; p += 8) {
        uint64_t x = load_word(p);
        uint64_t hits = bytes_equal(x, '"' * ONES) | bytes_equal(x, '\n' * ONES) | (x & HIGHS);
        if (hits)
            return p + (__builtin_ctzll(hits) >> 3);
    }
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\n' || c >= 0x80)
            break;
    }
    return p;
}

static int corrupt(dv_csv *csv, uint64_t line, uint64_t column, const char *what)
{
    int error = dv_error_set(DV_ECORRUPT, "%s: line %llu, column %llu: %s", csv->name,
                             (unsigned long long)line, (unsigned long long)column, what);
    return dv_error_state_capture(&csv->error, error);
}

/* The column of pos, a byte of the piece on the current line. */
static uint64_t column_at(const dv_csv *csv, const piece *pc, const char *pos)
{
    if (pc->line_start)
        return 1 + dv_utf8_count(pc->line_start, pos);
    return 1 + csv->line_chars + dv_utf8_count(pc->data, pos);
}

static int corrupt_at(dv_csv *csv, const piece *pc, const char *pos, const char *what)
{
    return corrupt(csv, csv->line, column_at(csv, pc, pos), what);
}

static int too_long(dv_csv *csv, uint64_t line, uint64_t column)
{
    char what[64];
    snprintf(what, sizeof(what), "record longer than %u bytes", DV_CSV_RECORD_MAX_BYTES);
    return corrupt(csv, line, column, what);
}

static int too_long_at(dv_csv *csv, const piece *pc, const char *pos)
{
    return too_long(csv, csv->line, column_at(csv, pc, pos));
}

static int grow_fields(dv_csv *csv)
{
    size_t alloc = csv->fields_alloc ? csv->fields_alloc * 2 : 64;
    if (alloc > DV_CSV_FIELDS_MAX)
        alloc = DV_CSV_FIELDS_MAX;
    dv_csv_field *fields = realloc(csv->fields, alloc * sizeof(*fields));
    if (!fields)
        return dv_error_set(DV_ENOMEM, "%s: out of memory for %zu fields", csv->name, alloc);
    csv->fields = fields;
    size_t *offsets = realloc(csv->field_offsets, alloc * sizeof(*offsets));
    if (!offsets)
        return dv_error_set(DV_ENOMEM, "%s: out of memory for %zu fields", csv->name, alloc);
    csv->field_offsets = offsets;
    csv->fields_alloc = alloc;
    return 0;
}

/* The current field ends at content_end; its bytes not in buf yet are [run, content_end). */
static inline int end_field(dv_csv *csv, const char *run, const char *content_end)
{
    int error;
    if (csv->n_fields == csv->fields_alloc && (error = grow_fields(csv)) < 0)
        return error;
    dv_csv_field *field = &csv->fields[csv->n_fields];
    field->quoted = csv->field_quoted;
    if (!csv->field_buffered) {
        field->ptr = run;
        field->len = (size_t)(content_end - run);
    } else {
        if ((error = dv_buf_put(&csv->buf, run, (size_t)(content_end - run))) < 0)
            return error;
        field->ptr = NULL;
        field->len = csv->buf.len - csv->field_buf_start;
        csv->field_offsets[csv->n_fields] = csv->field_buf_start;
        csv->n_buffered++;
    }
    csv->n_fields++;
    return 0;
}

/*
 * The common case, kept tight: the unquoted fields of a record inside this piece, pointed
 * to where they are. From p in such a field, it stops at a byte other than a delimiter
 * (or end) in a field begun at *run; or, after a delimiter, at end or a quote, in state
 * FIELD_START; or at a delimiter that needs the fields array to grow or the count checked.
 */
static inline const char *split_plain(dv_csv *csv, const char **run, const char *p, const char *end,
                                      char delimiter)
{
    dv_csv_field *fields = csv->fields;
    size_t n = csv->n_fields;
    const size_t stop =
        csv->fields_alloc < DV_CSV_FIELDS_MAX ? csv->fields_alloc : DV_CSV_FIELDS_MAX - 1;
    const char *start = *run;
    for (;;) {
        p = scan_unquoted(p, end, delimiter);
        if (p == end || *p != delimiter || n == stop)
            break;
        fields[n].ptr = start;
        fields[n].len = (size_t)(p - start);
        fields[n].quoted = 0;
        n++;
        p++;
        if (p == end || *p == '"') {
            csv->state = FIELD_START;
            break;
        }
        start = p;
    }
    csv->n_fields = n;
    *run = start;
    return p;
}

static int emit(dv_csv *csv, dv_csv_record_fn fn, void *ctx)
{
    if (csv->n_buffered)
        for (size_t i = 0; i < csv->n_fields; i++)
            if (!csv->fields[i].ptr)
                csv->fields[i].ptr = csv->buf.ptr + csv->field_offsets[i];
    dv_csv_record record = {csv->fields, csv->n_fields, csv->record_line, csv->record_offset};
    int error = fn(ctx, &record);
    csv->n_fields = 0;
    csv->n_buffered = 0;
    csv->in_record = 0;
    csv->spanning = 0;
    dv_buf_clear(&csv->buf);
    csv->state = FIELD_START;
    return error < 0 ? error : 0;
}

/* The piece ends inside a record: copy what it holds of the record into buf, since the
 * caller's bytes go away with this call. */
static int keep_record(dv_csv *csv, const char *run, const char *piece_end)
{
    int error;
    const char *content_end = NULL;
    if (csv->state == UNQUOTED || csv->state == QUOTED)
        content_end = piece_end;
    else if (csv->state == QUOTE_PENDING || csv->state == CR_PENDING)
        content_end = piece_end - 1; /* the pending byte is not the field's, or not yet */
    /* The current field may be in buf already (it held ""), at its end: it goes after the
     * fields before it once they are copied, so that it stays in one piece. */
    size_t partial_start = csv->field_buf_start;
    size_t partial_len = content_end && csv->field_buffered ? csv->buf.len - partial_start : 0;
    for (size_t i = 0; i < csv->n_fields; i++) {
        dv_csv_field *field = &csv->fields[i];
        if (!field->ptr)
            continue;
        csv->field_offsets[i] = csv->buf.len;
        if ((error = dv_buf_put(&csv->buf, field->ptr, field->len)) < 0)
            return error;
        field->ptr = NULL;
        csv->n_buffered++;
    }
    if (partial_len && csv->buf.len != partial_start + partial_len) {
        if ((error = dv_buf_grow(&csv->buf, partial_len)) < 0)
            return error;
        memcpy(csv->buf.ptr + csv->buf.len, csv->buf.ptr + partial_start, partial_len);
        csv->field_buf_start = csv->buf.len;
        csv->buf.len += partial_len;
        csv->buf.ptr[csv->buf.len] = '\0';
    }
    if (content_end) {
        if (!csv->field_buffered) {
            csv->field_buffered = 1;
            csv->field_buf_start = csv->buf.len;
        }
        if ((error = dv_buf_put(&csv->buf, run, (size_t)(content_end - run))) < 0)
            return error;
    }
    csv->spanning = 1;
    return 0;
}

static int read_piece(dv_csv *csv, const char *data, size_t len, dv_csv_record_fn fn, void *ctx)
{
    const char *const piece_end = data + len;
    const char delimiter = csv->delimiter;
    piece pc = {data, piece_end, NULL};
    const char *p = data;
    const char *end = piece_end; /* or where the record reaches its size limit */
    const char *run = data;      /* the current field's bytes not in buf begin here */
    const char *quote = NULL;    /* the opening quote, while its column is not known */
    int error = 0;

    assert(len > 0);
    if (csv->in_record) {
        uint64_t limit = csv->record_offset + DV_CSV_RECORD_MAX_BYTES;
        assert(limit >= csv->offset);
        if (limit - csv->offset < len)
            end = data + (limit - csv->offset);
    }

    /* Finish what the last piece began. */
    if (csv->n_utf8_held) {
        size_t need = dv_utf8_length(csv->utf8_held[0]), held = csv->n_utf8_held;
        size_t take = need - held < len ? need - held : len;
        memcpy(csv->utf8_held + held, data, take);
        int n = dv_utf8_char(csv->utf8_held, held + take);
        if (n < 0)
            return corrupt(csv, csv->held_line, csv->held_column, "invalid UTF-8");
        p += take;
        if (n == 0) {
            csv->n_utf8_held += take;
            goto out_of_input;
        }
        csv->n_utf8_held = 0;
        if (csv->held_offset + (uint64_t)n > csv->record_offset + DV_CSV_RECORD_MAX_BYTES)
            return too_long(csv, csv->held_line, csv->held_column);
    }
    if (csv->state == QUOTE_PENDING || csv->state == CR_PENDING ||
        csv->state == CLOSED_CR_PENDING) {
        if (p == end)
            goto at_end;
        char c = *p;
        if (csv->state == QUOTE_PENDING) {
            if (c == '"') {
                if ((error = dv_buf_putc(&csv->buf, '"')) < 0)
                    return error;
                p++;
                run = p;
                csv->state = QUOTED;
            } else {
                if ((error = end_field(csv, p, p)) < 0)
                    return error;
                csv->state = CLOSED; /* which checks c */
            }
        } else if (csv->state == CR_PENDING) {
            if (c == '\n') {
                if ((error = end_field(csv, p, p)) < 0)
                    return error;
                csv->state = CLOSED; /* which ends the record at c */
            } else {
                if ((error = dv_buf_putc(&csv->buf, '\r')) < 0)
                    return error;
                run = p;
                csv->state = UNQUOTED;
            }
        } else {
            if (c != '\n')
                return corrupt(csv, csv->held_line, csv->held_column,
                               "unexpected character after a closing quote");
            csv->state = CLOSED;
        }
    }

    for (;;) {
        char c;
        switch (csv->state) {
        case FIELD_START:
            if (p == end)
                goto at_end;
            if (!csv->in_record) {
                csv->in_record = 1;
                csv->record_offset = csv->offset + (uint64_t)(p - data);
                csv->record_line = csv->line;
                if ((size_t)(piece_end - p) > DV_CSV_RECORD_MAX_BYTES)
                    end = p + DV_CSV_RECORD_MAX_BYTES;
            }
            csv->field_buffered = csv->spanning;
            csv->field_buf_start = csv->buf.len;
            if (*p == '"') {
                csv->field_quoted = 1;
                csv->quote_line = csv->line;
                quote = p;
                p++;
                csv->state = QUOTED;
            } else {
                csv->field_quoted = 0;
                csv->state = UNQUOTED;
            }
            run = p;
            continue;

        case UNQUOTED:
            if (!csv->field_buffered) {
                p = split_plain(csv, &run, p, end, delimiter);
                if (csv->state == FIELD_START)
                    continue;
            } else {
                p = scan_unquoted(p, end, delimiter);
            }
            if (p == end)
                goto at_end;
            c = *p;
            if (c == delimiter) {
                if ((error = end_field(csv, run, p)) < 0)
                    return error;
                p++;
                goto next_field;
            }
            if (c == '\n') {
                if ((error = end_field(csv, run, p)) < 0)
                    return error;
                p++;
                goto next_record;
            }
            if (c == '\r') {
                if (p + 1 == end) {
                    if (end != piece_end)
                        return too_long_at(csv, &pc, p + 1);
                    p++;
                    csv->state = CR_PENDING;
                    goto out_of_input;
                }
                if (p[1] == '\n') {
                    if ((error = end_field(csv, run, p)) < 0)
                        return error;
                    p += 2;
                    goto next_record;
                }
                p++; /* a CR on its own is data */
                continue;
            }
            if (c == '"')
                return corrupt_at(csv, &pc, p, "quote inside an unquoted field");
            goto utf8;

        case QUOTED:
            p = scan_quoted(p, end);
            if (p == end)
                goto at_end;
            c = *p;
            if (c == '"') {
                if (p + 1 == end) {
                    if (end != piece_end)
                        return too_long_at(csv, &pc, p + 1);
                    p++;
                    csv->state = QUOTE_PENDING;
                    goto out_of_input;
                }
                if (p[1] == '"') {
                    /* "" is one quote: the field is copied from here on */
                    if (!csv->field_buffered) {
                        csv->field_buffered = 1;
                        csv->field_buf_start = csv->buf.len;
                    }
                    if ((error = dv_buf_put(&csv->buf, run, (size_t)(p + 1 - run))) < 0)
                        return error;
                    p += 2;
                    run = p;
                    continue;
                }
                if ((error = end_field(csv, run, p)) < 0)
                    return error;
                p++;
                csv->state = CLOSED;
                continue;
            }
            if (c == '\n') {
                if (quote) {
                    csv->quote_column = column_at(csv, &pc, quote);
                    quote = NULL;
                }
                p++;
                csv->line++;
                pc.line_start = p;
                continue;
            }
            goto utf8;

        case CLOSED:
            if (p == end)
                goto at_end;
            c = *p;
            if (c == delimiter) {
                p++;
                goto next_field;
            }
            if (c == '\n') {
                p++;
                goto next_record;
            }
            if (c == '\r') {
                if (p + 1 == end) {
                    if (end != piece_end)
                        return too_long_at(csv, &pc, p + 1);
                    csv->held_line = csv->line;
                    csv->held_column = column_at(csv, &pc, p);
                    p++;
                    csv->state = CLOSED_CR_PENDING;
                    goto out_of_input;
                }
                if (p[1] == '\n') {
                    p += 2;
                    goto next_record;
                }
            }
            return corrupt_at(csv, &pc, p, "unexpected character after a closing quote");

        default:
            assert(0);
            return DV_ERROR;
        }

    next_field: /* p is just past a delimiter */
        if (csv->n_fields == DV_CSV_FIELDS_MAX) {
            char what[64];
            snprintf(what, sizeof(what), "record of more than %u fields", DV_CSV_FIELDS_MAX);
            return corrupt_at(csv, &pc, p - 1, what);
        }
        csv->state = FIELD_START;
        continue;

    next_record: /* p is just past the line end */
        csv->line++;
        pc.line_start = p;
        if ((error = emit(csv, fn, ctx)) < 0)
            return error;
        end = piece_end;
        continue;

    utf8 : {
        int n = dv_utf8_char((const unsigned char *)p, (size_t)(piece_end - p));
        if (n < 0)
            return corrupt_at(csv, &pc, p, "invalid UTF-8");
        if (n == 0) {
            /* the character goes on in the next piece: it is checked there, and only then
             * against the record's limit, as it is when it comes whole */
            csv->n_utf8_held = (size_t)(piece_end - p);
            memcpy(csv->utf8_held, p, csv->n_utf8_held);
            csv->held_offset = csv->offset + (uint64_t)(p - data);
            csv->held_line = csv->line;
            csv->held_column = column_at(csv, &pc, p);
            p = piece_end;
            goto out_of_input;
        }
        if (p + n > end)
            return too_long_at(csv, &pc, p);
        p += n;
        continue;
    }
    }

at_end:
    if (end != piece_end)
        return too_long_at(csv, &pc, p);
out_of_input:
    if (quote && (csv->state == QUOTED || csv->state == QUOTE_PENDING))
        csv->quote_column = column_at(csv, &pc, quote);
    if (csv->in_record && (error = keep_record(csv, run, piece_end)) < 0)
        return error;
    if (pc.line_start) {
        csv->line_offset = csv->offset + (uint64_t)(pc.line_start - data);
        csv->line_chars = dv_utf8_count(pc.line_start, piece_end);
    } else {
        csv->line_chars += dv_utf8_count(data, piece_end);
    }
    csv->offset += len;
    return 0;
}

int dv_csv_new(dv_csv **out, char delimiter, const char *name)
{
    *out = NULL;
    if (delimiter == '"' || delimiter == '\r' || delimiter == '\n' || (delimiter & 0x80))
        return dv_error_set(DV_EUSAGE, "%s: the delimiter cannot be a quote, CR, LF or non-ASCII",
                            name);
    dv_csv *csv = calloc(1, sizeof(*csv));
    if (!csv || !(csv->name = strdup(name))) {
        free(csv);
        return dv_error_set(DV_ENOMEM, "%s: out of memory for a CSV reader", name);
    }
    csv->delimiter = delimiter;
    csv->line = 1;
    csv->state = FIELD_START;
    csv->buf = (dv_buf)DV_BUF_INIT;
    *out = csv;
    return 0;
}

void dv_csv_seek(dv_csv *csv, uint64_t offset, uint64_t line)
{
    assert(!csv->offset && !csv->n_bom_held && !csv->in_record);
    csv->bom_done = 1;
    csv->offset = csv->line_offset = offset;
    csv->line = line;
}

static int read_input(dv_csv *csv, const unsigned char *data, size_t len, dv_csv_record_fn fn,
                      void *ctx)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    int error;
    if (!csv->bom_done) {
        size_t i = 0;
        while (csv->n_bom_held + i < 3 && i < len && data[i] == bom[csv->n_bom_held + i])
            i++;
        if (csv->n_bom_held + i == 3) {
            csv->bom_done = 1;
            csv->offset = csv->line_offset = 3;
            data += i;
            len -= i;
        } else if (i == len) {
            memcpy(csv->bom_held + csv->n_bom_held, data, len);
            csv->n_bom_held += len;
            return 0;
        } else {
            /* not a byte order mark: what was held is the input's first bytes */
            csv->bom_done = 1;
            if (csv->n_bom_held && (error = read_piece(csv, (const char *)csv->bom_held,
                                                       csv->n_bom_held, fn, ctx)) < 0)
                return error;
        }
    }
    return len ? read_piece(csv, (const char *)data, len, fn, ctx) : 0;
}

int dv_csv_push(dv_csv *csv, const void *data, size_t len, dv_csv_record_fn fn, void *ctx)
{
    if (csv->error.code)
        return dv_error_state_restore(&csv->error);
    assert(!csv->finished);
    if (len == 0)
        return 0;
    int error = read_input(csv, data, len, fn, ctx);
    if (error < 0 && !csv->error.code)
        error = dv_error_state_capture(&csv->error, error);
    return error;
}

static int finish(dv_csv *csv, dv_csv_record_fn fn, void *ctx)
{
    int error;
    if (!csv->bom_done) {
        csv->bom_done = 1;
        if (csv->n_bom_held &&
            (error = read_piece(csv, (const char *)csv->bom_held, csv->n_bom_held, fn, ctx)) < 0)
            return error;
    }
    if (csv->n_utf8_held)
        return corrupt(csv, csv->held_line, csv->held_column, "invalid UTF-8");
    if (!csv->in_record)
        return 0;
    switch (csv->state) {
    case FIELD_START: /* after a delimiter: the last field is empty */
        csv->field_quoted = 0;
        csv->field_buffered = 1;
        csv->field_buf_start = csv->buf.len;
        break;
    case UNQUOTED:
    case QUOTE_PENDING: /* the closing quote */
        break;
    case CR_PENDING: /* a CR that no LF follows is data */
        if ((error = dv_buf_putc(&csv->buf, '\r')) < 0)
            return error;
        break;
    case QUOTED:
        return corrupt(csv, csv->quote_line, csv->quote_column, "quoted field never closed");
    case CLOSED_CR_PENDING:
        return corrupt(csv, csv->held_line, csv->held_column,
                       "unexpected character after a closing quote");
    }
    /* every piece ended by copying the record into buf: the field's bytes are all there */
    if (csv->state != CLOSED && (error = end_field(csv, csv->buf.ptr, csv->buf.ptr)) < 0)
        return error;
    return emit(csv, fn, ctx);
}

int dv_csv_finish(dv_csv *csv, dv_csv_record_fn fn, void *ctx)
{
    if (csv->error.code)
        return dv_error_state_restore(&csv->error);
    if (csv->finished)
        return 0;
    csv->finished = 1;
    int error = finish(csv, fn, ctx);
    if (error < 0 && !csv->error.code)
        error = dv_error_state_capture(&csv->error, error);
    return error;
}

uint64_t dv_csv_lines(const dv_csv *csv)
{
    return csv->line - 1 + (csv->offset > csv->line_offset);
}

void dv_csv_free(dv_csv *csv)
{
    if (!csv)
        return;
    dv_buf_release(&csv->buf);
    free(csv->fields);
    free(csv->field_offsets);
    free(csv->name);
    free(csv);
}
