/*
 * jsonl: JSON Lines as rows. Lines are found with memchr; a line inside one piece is parsed
 * where it lies, one that spans pieces is copied first. Each line is parsed whole by a
 * recursive descent bounded by DV_JSONL_DEPTH_MAX, which checks the RFC 8259 grammar and
 * UTF-8, writes unescaped keys and strings and compact nested text into buffers the reader
 * keeps, and refuses a key written twice in any one object.
 */
#include "core/table/jsonl.h"

#include "core/base/buf.h"
#include "core/base/text.h"
#include "core/table/utf8.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* A key of an object being read: its unescaped bytes in key_bytes, and where it is written. */
typedef struct key_entry {
    size_t offset;
    size_t len;
    const char *at; /* its opening quote in the line */
} key_entry;

/* Where a member's key and value are while the line is read (buffers may move). */
typedef struct member_at {
    size_t key_offset;
    size_t value_offset; /* in values, when value_in_values */
    int value_in_values;
} member_at;

struct dv_jsonl {
    char *name;
    int finished;
    dv_error_state error; /* the first failure, returned again by every later call */

    uint64_t line;        /* of the next line */
    uint64_t offset;      /* of the next byte */
    int bom_possible;     /* the next line is the input's first: it may start with a BOM */
    uint64_t line_offset; /* where the line in line_buf starts */
    dv_buf line_buf;      /* a line begun in an earlier piece */

    /* The row being read. */
    dv_jsonl_member *members;
    member_at *members_at;
    size_t n_members, members_alloc;
    key_entry *keys; /* the keys of every object open, outermost first */
    size_t n_keys, keys_alloc;
    dv_buf key_bytes;
    dv_buf values;
    uint32_t *slots; /* the hash table that finds a repeated key in a large object */
    size_t slots_alloc;
};

/* One line being parsed. */
typedef struct parser {
    dv_jsonl *jsonl;
    const char *start; /* the line's first character: column 1 */
    const char *end;
    const char *p;
} parser;

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

/* The bytes of x equal to pattern's (one byte repeated), exact up to the first match. */
static inline uint64_t bytes_equal(uint64_t x, uint64_t pattern)
{
    uint64_t y = x ^ pattern;
    return (y - ONES) & ~y & HIGHS;
}

/* The first quote, backslash, control or non-ASCII byte in [p, end), or end. */
static inline const char *scan_string(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quotes16 = _mm_set1_epi8('"'), backslashes16 = _mm_set1_epi8('\\');
    const __m128i spaces16 = _mm_set1_epi8(0x20);
    for (; end - p >= 16; p += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        /* signed: bytes from 0x80 are negative, below 0x20 too */
        __m128i hits = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(x, quotes16), _mm_cmpeq_epi8(x, backslashes16)),
            _mm_cmplt_epi8(x, spaces16));
        unsigned mask = (unsigned)_mm_movemask_epi8(hits);
        if (mask)
            return p + __builtin_ctz(mask);
    }
#endif
    for (; end - p >= 8; p += 8) {
        uint64_t x = load_word(p);
        uint64_t hits = bytes_equal(x, '"' * ONES) | bytes_equal(x, '\\' * ONES) |
                        ((x - 0x20 * ONES) & ~x & HIGHS) | (x & HIGHS);
        if (hits)
            return p + (__builtin_ctzll(hits) >> 3);
    }
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
            break;
    }
    return p;
}

static int corrupt(dv_jsonl *jsonl, uint64_t column, const char *what)
{
    int error = dv_error_set(DV_ECORRUPT, "%s: line %llu, column %llu: %s", jsonl->name,
                             (unsigned long long)jsonl->line, (unsigned long long)column, what);
    return dv_error_state_capture(&jsonl->error, error);
}

static int fail_at(parser *ps, const char *pos, const char *what)
{
    return corrupt(ps->jsonl, 1 + dv_utf8_count(ps->start, pos), what);
}

/* What is at pos is not what the grammar wants there: say so, or that it is not UTF-8. */
static int unexpected(parser *ps, const char *pos, const char *what)
{
    if (pos < ps->end && (unsigned char)*pos >= 0x80 &&
        dv_utf8_char((const unsigned char *)pos, (size_t)(ps->end - pos)) <= 0)
        return fail_at(ps, pos, "invalid UTF-8");
    return fail_at(ps, pos, what);
}

static void skip_space(parser *ps)
{
    const char *p = ps->p;
    while (p < ps->end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    ps->p = p;
}

static void put_utf8(dv_buf *out, uint32_t cp)
{
    char bytes[4];
    size_t n;
    if (cp < 0x80) {
        bytes[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        bytes[0] = (char)(0xC0 | (cp >> 6));
        bytes[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        bytes[0] = (char)(0xE0 | (cp >> 12));
        bytes[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        bytes[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        bytes[0] = (char)(0xF0 | (cp >> 18));
        bytes[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        bytes[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        bytes[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    dv_buf_put(out, bytes, n); /* checked by the caller with dv_buf_oom */
}

/* The four hex digits at p (p + 4 <= end), or -1. */
static int32_t hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    int32_t value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = dv_text_hex_digit(p[i]);
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* The escape at ps->p (a backslash), appended to out unescaped when out is not NULL. */
static int parse_escape(parser *ps, dv_buf *out)
{
    const char *p = ps->p, *end = ps->end;
    if (end - p < 2)
        return fail_at(ps, p, "invalid escape");
    char c = p[1], plain;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        plain = c;
        break;
    case 'b':
        plain = '\b';
        break;
    case 'f':
        plain = '\f';
        break;
    case 'n':
        plain = '\n';
        break;
    case 'r':
        plain = '\r';
        break;
    case 't':
        plain = '\t';
        break;
    case 'u': {
        int32_t cp = hex4(p + 2, end);
        if (cp < 0)
            return fail_at(ps, p, "invalid escape");
        size_t len = 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail_at(ps, p, "unpaired surrogate escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            int32_t low = end - p >= 8 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8, end) : -1;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail_at(ps, p, "unpaired surrogate escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            len = 12;
        }
        if (out)
            put_utf8(out, (uint32_t)cp);
        ps->p = p + len;
        return 0;
    }
    default:
        return fail_at(ps, p, "invalid escape");
    }
    if (out)
        dv_buf_putc(out, plain);
    ps->p = p + 2;
    return 0;
}

/* The string at ps->p (its opening quote), checked; its bytes unescaped onto unescaped, or
 * as written (quotes too) onto as_written, when they are not NULL. */
static int parse_string(parser *ps, dv_buf *unescaped, dv_buf *as_written)
{
    const char *open = ps->p, *end = ps->end;
    const char *p = open + 1;
    int error;
    for (;;) {
        const char *q = scan_string(p, end);
        if (unescaped)
            dv_buf_put(unescaped, p, (size_t)(q - p));
        p = q;
        if (p == end)
            return fail_at(ps, open, "string not closed");
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\\') {
            ps->p = p;
            if ((error = parse_escape(ps, unescaped)) < 0)
                return error;
            p = ps->p;
        } else if (c < 0x20) {
            return fail_at(ps, p, "control character in a string");
        } else {
            int n = dv_utf8_char((const unsigned char *)p, (size_t)(end - p));
            if (n <= 0) /* a line holds whole characters: one cut short is invalid too */
                return fail_at(ps, p, "invalid UTF-8");
            if (unescaped)
                dv_buf_put(unescaped, p, (size_t)n);
            p += n;
        }
    }
    p++;
    if (as_written)
        dv_buf_put(as_written, open, (size_t)(p - open));
    ps->p = p;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The number at ps->p, checked against RFC 8259's grammar. */
static int parse_number(parser *ps)
{
    const char *start = ps->p, *p = start, *end = ps->end;
    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && is_digit(*p)) {
        while (p < end && is_digit(*p))
            p++;
    } else {
        return fail_at(ps, start, "invalid number");
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || !is_digit(*p))
            return fail_at(ps, start, "invalid number");
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return fail_at(ps, start, "invalid number");
        while (p < end && is_digit(*p))
            p++;
    }
    /* "01", "1.2.3", "12abc": no number goes on like that */
    if (p < end && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-' ||
                    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return fail_at(ps, start, "invalid number");
    ps->p = p;
    return 0;
}

/* The literal word at ps->p: its length, or 0 if it is not one. */
static size_t literal(const parser *ps, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, word, n) ? n : 0;
}

static uint64_t hash_bytes(const char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return h;
}

static int same_key(const dv_jsonl *jsonl, const key_entry *a, const key_entry *b)
{
    return a->len == b->len &&
           !memcmp(jsonl->key_bytes.ptr + a->offset, jsonl->key_bytes.ptr + b->offset, a->len);
}

static int duplicate_key(parser *ps, const key_entry *key)
{
    /* named as written, up to a few dozen bytes (cut where a character begins) */
    const char *written = key->at + 1;
    size_t len = 0;
    while (written[len] != '"' && len < 48)
        len += written[len] == '\\' ? 2 : 1;
    while (written[len] != '"' && ((unsigned char)written[len] & 0xC0) == 0x80)
        len--;
    char what[96];
    snprintf(what, sizeof(what), "duplicate key \"%.*s%s\"", (int)len, written,
             written[len] == '"' ? "" : "...");
    return fail_at(ps, key->at, what);
}

/* The first key of keys[first..n_keys) written before in the same object, refused. */
static int check_keys(parser *ps, size_t first)
{
    dv_jsonl *jsonl = ps->jsonl;
    const key_entry *keys = jsonl->keys + first;
    size_t n = jsonl->n_keys - first;
    if (n <= 8) {
        for (size_t j = 1; j < n; j++)
            for (size_t i = 0; i < j; i++)
                if (same_key(jsonl, &keys[i], &keys[j]))
                    return duplicate_key(ps, &keys[j]);
        return 0;
    }
    size_t size = 16;
    while (size < 2 * n)
        size *= 2;
    if (size > jsonl->slots_alloc) {
        uint32_t *slots = realloc(jsonl->slots, size * sizeof(*slots));
        if (!slots)
            return dv_error_set(DV_ENOMEM, "%s: out of memory for the keys of an object",
                                jsonl->name);
        jsonl->slots = slots;
        jsonl->slots_alloc = size;
    }
    memset(jsonl->slots, 0, size * sizeof(*jsonl->slots));
    for (size_t j = 0; j < n; j++) {
        const char *bytes = jsonl->key_bytes.ptr + keys[j].offset;
        size_t slot = (size_t)hash_bytes(bytes, keys[j].len) & (size - 1);
        for (; jsonl->slots[slot]; slot = (slot + 1) & (size - 1))
            if (same_key(jsonl, &keys[jsonl->slots[slot] - 1], &keys[j]))
                return duplicate_key(ps, &keys[j]);
        jsonl->slots[slot] = (uint32_t)(j + 1);
    }
    return 0;
}

/* The key at ps->p (a quote), unescaped into key_bytes and listed among the object's keys,
 * first_key being where the object's keys begin. */
static int parse_key(parser *ps, size_t first_key)
{
    dv_jsonl *jsonl = ps->jsonl;
    int error;
    if (jsonl->n_keys - first_key == DV_JSONL_MEMBERS_MAX) {
        char what[64];
        snprintf(what, sizeof(what), "object of more than %u members", DV_JSONL_MEMBERS_MAX);
        return fail_at(ps, ps->p, what);
    }
    if (jsonl->n_keys == jsonl->keys_alloc) {
        size_t alloc = jsonl->keys_alloc ? jsonl->keys_alloc * 2 : 64;
        key_entry *keys = realloc(jsonl->keys, alloc * sizeof(*keys));
        if (!keys)
            return dv_error_set(DV_ENOMEM, "%s: out of memory for %zu keys", jsonl->name, alloc);
        jsonl->keys = keys;
        jsonl->keys_alloc = alloc;
    }
    key_entry *key = &jsonl->keys[jsonl->n_keys];
    key->offset = jsonl->key_bytes.len;
    key->at = ps->p;
    if ((error = parse_string(ps, &jsonl->key_bytes, NULL)) < 0)
        return error;
    if (dv_buf_oom(&jsonl->key_bytes))
        return DV_ENOMEM;
    key->len = jsonl->key_bytes.len - key->offset;
    jsonl->n_keys++;
    return 0;
}

static int parse_container(parser *ps, unsigned depth, dv_buf *out);

/* Any value at ps->p inside a nested object or array, written compact onto out. */
static int parse_value(parser *ps, unsigned depth, dv_buf *out)
{
    const char *start = ps->p;
    size_t n;
    int error;
    if (start == ps->end)
        return unexpected(ps, start, "expected a value");
    switch (*start) {
    case '"':
        return parse_string(ps, NULL, out);
    case '{':
    case '[':
        return parse_container(ps, depth + 1, out);
    case 't':
    case 'f':
    case 'n':
        if (!(n = literal(ps, "true")) && !(n = literal(ps, "false")) && !(n = literal(ps, "null")))
            return fail_at(ps, start, "expected a value");
        ps->p += n;
        break;
    default:
        if (*start != '-' && !is_digit(*start))
            return unexpected(ps, start, "expected a value");
        if ((error = parse_number(ps)) < 0)
            return error;
    }
    dv_buf_put(out, start, (size_t)(ps->p - start));
    return 0;
}

/* The top-level object's member whose key is keys[n_keys - 1]: its value at ps->p. */
static int parse_member(parser *ps)
{
    dv_jsonl *jsonl = ps->jsonl;
    const char *start = ps->p;
    size_t n;
    int error;
    if (jsonl->n_members == jsonl->members_alloc) {
        size_t alloc = jsonl->members_alloc ? jsonl->members_alloc * 2 : 64;
        dv_jsonl_member *members = realloc(jsonl->members, alloc * sizeof(*members));
        if (members)
            jsonl->members = members;
        member_at *at = members ? realloc(jsonl->members_at, alloc * sizeof(*at)) : NULL;
        if (!at)
            return dv_error_set(DV_ENOMEM, "%s: out of memory for %zu members", jsonl->name, alloc);
        jsonl->members_at = at;
        jsonl->members_alloc = alloc;
    }
    const key_entry *key = &jsonl->keys[jsonl->n_keys - 1];
    dv_jsonl_member *member = &jsonl->members[jsonl->n_members];
    member_at *at = &jsonl->members_at[jsonl->n_members];
    member->key = NULL;
    member->key_len = key->len;
    at->key_offset = key->offset;
    at->value_in_values = 0;
    member->value = NULL;
    member->value_len = 0;
    if (start == ps->end)
        return unexpected(ps, start, "expected a value");
    switch (*start) {
    case '"':
    case '{':
    case '[':
        at->value_in_values = 1;
        at->value_offset = jsonl->values.len;
        if (*start == '"') {
            member->kind = DV_JSONL_STRING;
            error = parse_string(ps, &jsonl->values, NULL);
        } else {
            member->kind = DV_JSONL_NESTED;
            error = parse_container(ps, 2, &jsonl->values);
        }
        if (error < 0)
            return error;
        member->value_len = jsonl->values.len - at->value_offset;
        break;
    case 't':
    case 'f':
    case 'n':
        if ((n = literal(ps, "null"))) {
            member->kind = DV_JSONL_NULL;
        } else if ((n = literal(ps, "true")) || (n = literal(ps, "false"))) {
            member->kind = DV_JSONL_BOOL;
            member->value = start;
            member->value_len = n;
        } else {
            return fail_at(ps, start, "expected a value");
        }
        ps->p += n;
        break;
    default:
        if (*start != '-' && !is_digit(*start))
            return unexpected(ps, start, "expected a value");
        if ((error = parse_number(ps)) < 0)
            return error;
        member->kind = DV_JSONL_NUMBER;
        member->value = start;
        member->value_len = (size_t)(ps->p - start);
    }
    jsonl->n_members++;
    return 0;
}

/*
 * The object or array at ps->p, the depth-th container open (the line's object is the
 * first). Nested (out not NULL), it is written compact onto out; the line's object (out
 * NULL) becomes the row's members, and its keys are left for the row.
 */
static int parse_container(parser *ps, unsigned depth, dv_buf *out)
{
    dv_jsonl *jsonl = ps->jsonl;
    const int is_object = *ps->p == '{';
    const char close = is_object ? '}' : ']';
    const size_t first_key = jsonl->n_keys, first_key_byte = jsonl->key_bytes.len;
    int error;

    if (depth > DV_JSONL_DEPTH_MAX) {
        char what[64];
        snprintf(what, sizeof(what), "nesting deeper than %u", DV_JSONL_DEPTH_MAX);
        return fail_at(ps, ps->p, what);
    }
    if (out)
        dv_buf_putc(out, *ps->p);
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        if (out)
            dv_buf_putc(out, close);
        return 0;
    }
    for (;;) {
        if (is_object) {
            if (ps->p == ps->end || *ps->p != '"')
                return unexpected(ps, ps->p, "expected a string key");
            const char *key = ps->p;
            if ((error = parse_key(ps, first_key)) < 0)
                return error;
            if (out)
                dv_buf_put(out, key, (size_t)(ps->p - key));
            skip_space(ps);
            if (ps->p == ps->end || *ps->p != ':')
                return unexpected(ps, ps->p, "expected ':'");
            ps->p++;
            if (out)
                dv_buf_putc(out, ':');
            skip_space(ps);
        }
        if ((error = out ? parse_value(ps, depth, out) : parse_member(ps)) < 0)
            return error;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            if (out)
                dv_buf_putc(out, ',');
            skip_space(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == close)
            break;
        return unexpected(ps, ps->p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
    ps->p++;
    if (out)
        dv_buf_putc(out, close);
    if (out && dv_buf_oom(out))
        return DV_ENOMEM;
    if (is_object && (error = check_keys(ps, first_key)) < 0)
        return error;
    if (out) {
        jsonl->n_keys = first_key;
        dv_buf_truncate(&jsonl->key_bytes, first_key_byte);
    }
    return 0;
}

/* One line, without its LF, starting at input offset line_offset. */
static int read_line(dv_jsonl *jsonl, const char *line, size_t len, uint64_t line_offset,
                     dv_jsonl_row_fn fn, void *ctx)
{
    parser ps = {jsonl, line, line + len, line};
    int error;
    if (jsonl->bom_possible && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
        ps.start = ps.p = line + 3; /* a byte order mark, not part of the line */
        line_offset += 3;
    }
    skip_space(&ps);
    if (ps.p == ps.end)
        return 0; /* a blank line */
    if (*ps.p != '{')
        return unexpected(&ps, ps.p, "expected a JSON object");

    jsonl->n_members = 0;
    jsonl->n_keys = 0;
    dv_buf_clear(&jsonl->key_bytes);
    dv_buf_clear(&jsonl->values);
    if ((error = parse_container(&ps, 1, NULL)) < 0)
        return error;
    skip_space(&ps);
    if (ps.p != ps.end)
        return unexpected(&ps, ps.p, "expected the end of the line after the object");
    if (dv_buf_oom(&jsonl->key_bytes) || dv_buf_oom(&jsonl->values))
        return DV_ENOMEM;

    for (size_t i = 0; i < jsonl->n_members; i++) {
        dv_jsonl_member *member = &jsonl->members[i];
        const member_at *at = &jsonl->members_at[i];
        member->key = jsonl->key_bytes.ptr + at->key_offset;
        if (at->value_in_values)
            member->value = jsonl->values.ptr + at->value_offset;
    }
    dv_jsonl_row row = {jsonl->members, jsonl->n_members, jsonl->line, line_offset};
    error = fn(ctx, &row);
    return error < 0 ? error : 0;
}

static int too_long(dv_jsonl *jsonl, const char *kept, size_t n_kept, const char *data)
{
    /* the column of the character the first byte past the limit is in; n_kept bytes of the
     * line are in kept, and data holds more than the rest up to the limit */
    const size_t from_data = DV_JSONL_LINE_MAX_BYTES - n_kept + 1;
    uint64_t chars = dv_utf8_count(kept, kept + n_kept) + dv_utf8_count(data, data + from_data);
    if (jsonl->bom_possible) {
        unsigned char first[3];
        for (size_t i = 0; i < 3; i++)
            first[i] = (unsigned char)(i < n_kept ? kept[i] : data[i - n_kept]);
        if (!memcmp(first, "\xEF\xBB\xBF", 3))
            chars--; /* a byte order mark is not in the line */
    }
    char what[64];
    snprintf(what, sizeof(what), "line longer than %u bytes", DV_JSONL_LINE_MAX_BYTES);
    return corrupt(jsonl, chars ? chars : 1, what);
}

int dv_jsonl_new(dv_jsonl **out, const char *name)
{
    *out = NULL;
    dv_jsonl *jsonl = calloc(1, sizeof(*jsonl));
    if (!jsonl || !(jsonl->name = strdup(name))) {
        free(jsonl);
        return dv_error_set(DV_ENOMEM, "%s: out of memory for a JSON Lines reader", name);
    }
    jsonl->line = 1;
    jsonl->bom_possible = 1;
    jsonl->line_buf = (dv_buf)DV_BUF_INIT;
    jsonl->key_bytes = (dv_buf)DV_BUF_INIT;
    jsonl->values = (dv_buf)DV_BUF_INIT;
    *out = jsonl;
    return 0;
}

void dv_jsonl_seek(dv_jsonl *jsonl, uint64_t offset, uint64_t line)
{
    assert(!jsonl->offset && !jsonl->line_buf.len);
    jsonl->offset = offset;
    jsonl->line = line;
    jsonl->bom_possible = 0;
}

static int read_input(dv_jsonl *jsonl, const char *data, size_t len, dv_jsonl_row_fn fn, void *ctx)
{
    const char *p = data, *end = data + len;
    int error;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        size_t take = (size_t)((lf ? lf : end) - p);
        dv_buf *kept = &jsonl->line_buf;
        if (take > DV_JSONL_LINE_MAX_BYTES - kept->len)
            return too_long(jsonl, kept->ptr, kept->len, p);
        if (!lf) {
            if (!kept->len)
                jsonl->line_offset = jsonl->offset + (uint64_t)(p - data);
            if ((error = dv_buf_put(kept, p, take)) < 0)
                return error;
            break;
        }
        if (kept->len) {
            if ((error = dv_buf_put(kept, p, take)) < 0)
                return error;
            error = read_line(jsonl, kept->ptr, kept->len, jsonl->line_offset, fn, ctx);
            dv_buf_clear(kept);
        } else {
            error = read_line(jsonl, p, take, jsonl->offset + (uint64_t)(p - data), fn, ctx);
        }
        if (error < 0)
            return error;
        jsonl->line++;
        jsonl->bom_possible = 0;
        p = lf + 1;
    }
    jsonl->offset += len;
    return 0;
}

int dv_jsonl_push(dv_jsonl *jsonl, const void *data, size_t len, dv_jsonl_row_fn fn, void *ctx)
{
    if (jsonl->error.code)
        return dv_error_state_restore(&jsonl->error);
    assert(!jsonl->finished);
    int error = read_input(jsonl, data, len, fn, ctx);
    if (error < 0 && !jsonl->error.code)
        error = dv_error_state_capture(&jsonl->error, error);
    return error;
}

int dv_jsonl_finish(dv_jsonl *jsonl, dv_jsonl_row_fn fn, void *ctx)
{
    if (jsonl->error.code)
        return dv_error_state_restore(&jsonl->error);
    if (jsonl->finished)
        return 0;
    jsonl->finished = 1;
    int error = 0;
    if (jsonl->line_buf.len) {
        error =
            read_line(jsonl, jsonl->line_buf.ptr, jsonl->line_buf.len, jsonl->line_offset, fn, ctx);
        if (!error)
            jsonl->line++;
        dv_buf_clear(&jsonl->line_buf);
    }
    if (error < 0 && !jsonl->error.code)
        error = dv_error_state_capture(&jsonl->error, error);
    return error;
}

void dv_jsonl_free(dv_jsonl *jsonl)
{
    if (!jsonl)
        return;
    dv_buf_release(&jsonl->line_buf);
    dv_buf_release(&jsonl->key_bytes);
    dv_buf_release(&jsonl->values);
    free(jsonl->members);
    free(jsonl->members_at);
    free(jsonl->keys);
    free(jsonl->slots);
    free(jsonl->name);
    free(jsonl);
}
