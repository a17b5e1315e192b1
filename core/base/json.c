/* json: a small JSON writer with sticky errors. */
#include "core/base/json.h"

#include "core/base/error.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there are not one. */
static size_t utf8_sequence(const unsigned char *p)
{
    size_t n;
    uint32_t cp;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, cp = p[0] & 0x1f;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, cp = p[0] & 0x0f;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, cp = p[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    static const uint32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int dv_json_put_string(dv_buf *out, const char *s)
{
    int error = dv_buf_putc(out, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p && !error) {
        size_t n = utf8_sequence(p);
        if (n == 0) {
            /* Not UTF-8: a lone surrogate escape per byte (U+DC80 + byte), which
             * Python's surrogateescape and similar decoders map back to the byte. */
            error = dv_buf_printf(out, "\\u%04x", 0xdc00 + *p);
            p++;
        } else if (*p == '"' || *p == '\\') {
            error = dv_buf_printf(out, "\\%c", *p);
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            error = dv_buf_printf(out, "\\u%04x", *p);
            p++;
        } else {
            error = dv_buf_put(out, p, n);
            p += n;
        }
    }
    return error ? error : dv_buf_putc(out, '"');
}

void dv_json_init(dv_json *j, dv_buf *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

static void misuse(dv_json *j, const char *what)
{
    if (!j->error) {
        j->error = DV_EUSAGE;
        j->misuse = what;
    }
}

static void put(dv_json *j, const char *s)
{
    int error;
    if (!j->error && (error = dv_buf_puts(j->out, s)) < 0)
        j->error = error;
}

static uint64_t bit_of_open(const dv_json *j)
{
    return (uint64_t)1 << (j->depth - 1);
}

/* Before a value: the separator it needs, or the misuse it would be. 0 to go on. */
static int begin_value(dv_json *j)
{
    if (j->error)
        return -1;
    if (j->depth == 0) {
        if (j->wrote_top_value) {
            misuse(j, "a second top-level value");
            return -1;
        }
        j->wrote_top_value = 1;
    } else if (j->in_object & bit_of_open(j)) {
        if (!j->after_key) {
            misuse(j, "a value without a key in an object");
            return -1;
        }
        j->after_key = 0;
    } else {
        if (j->has_items & bit_of_open(j))
            put(j, ", ");
        j->has_items |= bit_of_open(j);
    }
    return j->error ? -1 : 0;
}

static void begin_container(dv_json *j, int object)
{
    if (begin_value(j) < 0)
        return;
    if (j->depth == DV_JSON_MAX_DEPTH) {
        misuse(j, "containers nested too deep");
        return;
    }
    put(j, object ? "{" : "[");
    j->depth++;
    if (object)
        j->in_object |= bit_of_open(j);
    else
        j->in_object &= ~bit_of_open(j);
    j->has_items &= ~bit_of_open(j);
}

static void end_container(dv_json *j, int object)
{
    if (j->error)
        return;
    if (j->depth == 0) {
        misuse(j,
               object ? "closing an object that is not open" : "closing an array that is not open");
        return;
    }
    if (!(j->in_object & bit_of_open(j)) != !object) {
        misuse(j, object ? "closing an array as an object" : "closing an object as an array");
        return;
    }
    if (j->after_key) {
        misuse(j, "a key without a value");
        return;
    }
    put(j, object ? "}" : "]");
    j->depth--;
}

void dv_json_object_begin(dv_json *j)
{
    begin_container(j, 1);
}

void dv_json_object_end(dv_json *j)
{
    end_container(j, 1);
}

void dv_json_array_begin(dv_json *j)
{
    begin_container(j, 0);
}

void dv_json_array_end(dv_json *j)
{
    end_container(j, 0);
}

void dv_json_key(dv_json *j, const char *key)
{
    int error;
    if (j->error)
        return;
    if (j->depth == 0 || !(j->in_object & bit_of_open(j))) {
        misuse(j, "a key outside an object");
        return;
    }
    if (j->after_key) {
        misuse(j, "a key without a value");
        return;
    }
    if (j->has_items & bit_of_open(j))
        put(j, ", ");
    j->has_items |= bit_of_open(j);
    if (!j->error && (error = dv_json_put_string(j->out, key)) < 0)
        j->error = error;
    put(j, ": ");
    j->after_key = 1;
}

void dv_json_string(dv_json *j, const char *s)
{
    int error;
    if (begin_value(j) == 0 && (error = dv_json_put_string(j->out, s)) < 0)
        j->error = error;
}

void dv_json_int(dv_json *j, int64_t value)
{
    int error;
    if (begin_value(j) == 0 && (error = dv_buf_printf(j->out, "%" PRId64, value)) < 0)
        j->error = error;
}

void dv_json_uint(dv_json *j, uint64_t value)
{
    int error;
    if (begin_value(j) == 0 && (error = dv_buf_printf(j->out, "%" PRIu64, value)) < 0)
        j->error = error;
}

void dv_json_double(dv_json *j, double value)
{
    int error;
    if (!isfinite(value)) {
        dv_json_null(j);
        return;
    }
    if (begin_value(j) == 0 && (error = dv_buf_printf(j->out, "%.15g", value)) < 0)
        j->error = error;
}

void dv_json_bool(dv_json *j, int value)
{
    if (begin_value(j) == 0)
        put(j, value ? "true" : "false");
}

void dv_json_null(dv_json *j)
{
    if (begin_value(j) == 0)
        put(j, "null");
}

int dv_json_finish(dv_json *j)
{
    if (dv_buf_oom(j->out) || j->error == DV_ENOMEM)
        return dv_error_set(DV_ENOMEM, "out of memory writing JSON");
    if (!j->error && j->depth > 0)
        misuse(j, "a container left open");
    if (!j->error && !j->wrote_top_value)
        misuse(j, "no value written");
    if (j->error && j->misuse)
        return dv_error_set(j->error, "JSON written out of order: %s", j->misuse);
    return j->error; /* a failure of out, whose message is set */
}
