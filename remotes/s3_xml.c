/*
 * s3_xml: reading the XML that S3 answers with: ListObjectsV2 pages and error bodies. A
 * small scanner for the few elements dv needs, not a general XML parser: element content
 * never holds a literal '<', and entities and character references are replaced.
 */
#include "remotes/s3.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/text.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

static int put_utf8(dv_buf *out, uint32_t cp)
{
    char bytes[4];
    size_t n;
    if (cp < 0x80) {
        bytes[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        bytes[0] = (char)(0xc0 | (cp >> 6));
        bytes[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        bytes[0] = (char)(0xe0 | (cp >> 12));
        bytes[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        bytes[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        bytes[0] = (char)(0xf0 | (cp >> 18));
        bytes[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        bytes[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        bytes[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return dv_buf_put(out, bytes, n);
}

/* Append the text of an element with its entities replaced; DV_ECORRUPT (no message) for an
 * entity that is unknown, malformed or a character that cannot be in a name (NUL). */
static int xml_unescape(dv_buf *out, const char *text, size_t len)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    const char *p = text, *end = text + len;
    int error;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            return dv_buf_put(out, p, (size_t)(end - p));
        if ((error = dv_buf_put(out, p, (size_t)(amp - p))) < 0)
            return error;
        p = amp + 1;
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi || semi - p > 10)
            return DV_ECORRUPT;
        if (*p == '#') {
            uint32_t cp = 0;
            const char *digit = p + 1;
            int base = 10;
            if (digit < semi && (*digit == 'x' || *digit == 'X')) {
                base = 16;
                digit++;
            }
            if (digit == semi)
                return DV_ECORRUPT;
            for (; digit < semi; digit++) {
                int v;
                if (*digit >= '0' && *digit <= '9')
                    v = *digit - '0';
                else if (base == 16 && *digit >= 'a' && *digit <= 'f')
                    v = *digit - 'a' + 10;
                else if (base == 16 && *digit >= 'A' && *digit <= 'F')
                    v = *digit - 'A' + 10;
                else
                    return DV_ECORRUPT;
                cp = cp * (uint32_t)base + (uint32_t)v;
                if (cp > 0x10ffff)
                    return DV_ECORRUPT;
            }
            if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                return DV_ECORRUPT;
            if ((error = put_utf8(out, cp)) < 0)
                return error;
        } else {
            size_t i, n = (size_t)(semi - p) + 1;
            for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
                if (strlen(named[i].name) == n && !memcmp(p, named[i].name, n))
                    break;
            if (i == sizeof(named) / sizeof(named[0]))
                return DV_ECORRUPT;
            if ((error = dv_buf_putc(out, named[i].c)) < 0)
                return error;
        }
        p = semi + 1;
    }
    return 0;
}

/* Find the first element <tag>...</tag> (or <tag/>) in [p, end): its content in *text and
 * *text_len, and where it ends in *after. Returns 1 if found, 0 if not, DV_ECORRUPT for an
 * element that is not closed. Element content never holds a literal '<', so a plain search
 * cannot be fooled by a key that looks like a tag. */
static int xml_element(const char *p, const char *end, const char *tag, const char **text,
                       size_t *text_len, const char **after)
{
    size_t tag_len = strlen(tag);
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            return 0;
        p = lt + 1;
        if ((size_t)(end - p) < tag_len + 1 || memcmp(p, tag, tag_len) != 0)
            continue;
        const char *q = p + tag_len;
        if (*q == '/' && q + 1 < end && q[1] == '>') {
            *text = q + 2;
            *text_len = 0;
            *after = q + 2;
            return 1;
        }
        if (*q != '>')
            continue;
        const char *start = q + 1;
        for (const char *r = start; r < end; r++) {
            r = memchr(r, '<', (size_t)(end - r));
            if (!r)
                break;
            if ((size_t)(end - r) >= tag_len + 3 && r[1] == '/' && !memcmp(r + 2, tag, tag_len) &&
                r[2 + tag_len] == '>') {
                *text = start;
                *text_len = (size_t)(r - start);
                *after = r + 3 + tag_len;
                return 1;
            }
        }
        return DV_ECORRUPT;
    }
    return 0;
}

static int digits(const char *s, size_t n, int *out)
{
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *out = *out * 10 + (s[i] - '0');
    }
    return 0;
}

int64_t dv_s3__parse_time(const char *text, size_t len)
{
    /* "2024-05-01T12:34:56.789Z" (ISO 8601 in UTC, the fraction optional) */
    struct tm tm;
    int year, mon, day, hour, min, sec;
    memset(&tm, 0, sizeof(tm));
    if (len < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
        text[16] != ':' || text[len - 1] != 'Z' || digits(text, 4, &year) < 0 ||
        digits(text + 5, 2, &mon) < 0 || digits(text + 8, 2, &day) < 0 ||
        digits(text + 11, 2, &hour) < 0 || digits(text + 14, 2, &min) < 0 ||
        digits(text + 17, 2, &sec) < 0)
        return DV_REMOTE_TIME_UNKNOWN;
    if (len > 20) {
        int ignored;
        if (text[19] != '.' || len < 22 || len > 20 + 10 ||
            digits(text + 20, len - 21, &ignored) < 0)
            return DV_REMOTE_TIME_UNKNOWN;
    }
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
        sec > 60)
        return DV_REMOTE_TIME_UNKNOWN;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? DV_REMOTE_TIME_UNKNOWN : (int64_t)t;
}

int dv_s3__parse_list(const char *xml, size_t len, dv_remote_entry_fn fn, void *ctx, int *truncated,
                      char **next_token)
{
    const char *end = xml + len, *p = xml, *text, *after, *contents, *contents_end;
    size_t text_len, contents_len;
    dv_buf key = DV_BUF_INIT;
    int error = 0, found;

    *truncated = 0;
    *next_token = NULL;
    if (!memmem(xml, len, "<ListBucketResult", strlen("<ListBucketResult"))) {
        error = dv_error_set(DV_ECORRUPT, "not a ListBucketResult");
        goto done;
    }
    while ((found = xml_element(p, end, "Contents", &contents, &contents_len, &after)) == 1) {
        const char *key_text, *size_text, *ignored;
        size_t key_len, size_len;
        uint64_t size;
        contents_end = contents + contents_len;
        p = after;
        if (xml_element(contents, contents_end, "Key", &key_text, &key_len, &ignored) != 1 ||
            xml_element(contents, contents_end, "Size", &size_text, &size_len, &ignored) != 1) {
            error = dv_error_set(DV_ECORRUPT, "an entry without Key or Size");
            goto done;
        }
        dv_buf_clear(&key);
        if ((error = xml_unescape(&key, key_text, key_len)) < 0) {
            if (error == DV_ECORRUPT)
                error = dv_error_set(error, "a Key with a bad character reference: %.*s",
                                     (int)(key_len > 200 ? 200 : key_len), key_text);
            goto done;
        }
        /* a raw NUL would cut the key short of the name the object has */
        if (key.len == 0 || memchr(key.ptr, '\0', key.len) ||
            (error = dv_text_parse_u64(&size, size_text, size_len)) < 0 ||
            size > DV_REMOTE_SIZE_MAX) {
            error = dv_error_set(DV_ECORRUPT, "an entry with an empty Key or a bad Size");
            goto done;
        }
        /* LastModified: a time the listing does not say (or says badly) is unknown, which
         * makes the object young to dv gc --remote, so it is never deleted for its age */
        const char *time_text;
        size_t time_len;
        int64_t modified = DV_REMOTE_TIME_UNKNOWN;
        if (xml_element(contents, contents_end, "LastModified", &time_text, &time_len, &ignored) ==
            1)
            modified = dv_s3__parse_time(time_text, time_len);
        if ((error = fn(ctx, key.ptr, size, modified)) != 0)
            goto done;
    }
    if (found < 0) {
        error = dv_error_set(DV_ECORRUPT, "an unclosed Contents element");
        goto done;
    }
    if ((found = xml_element(xml, end, "IsTruncated", &text, &text_len, &after)) < 0) {
        error = dv_error_set(DV_ECORRUPT, "an unclosed IsTruncated element");
        goto done;
    }
    if (found) {
        if (text_len == 4 && !memcmp(text, "true", 4)) {
            *truncated = 1;
        } else if (!(text_len == 5 && !memcmp(text, "false", 5))) {
            error = dv_error_set(DV_ECORRUPT, "IsTruncated is neither true nor false");
            goto done;
        }
    }
    found = xml_element(xml, end, "NextContinuationToken", &text, &text_len, &after);
    if (found < 0) {
        error = dv_error_set(DV_ECORRUPT, "an unclosed NextContinuationToken element");
        goto done;
    }
    if (found && text_len > 0) {
        dv_buf token = DV_BUF_INIT;
        if ((error = xml_unescape(&token, text, text_len)) < 0) {
            dv_buf_release(&token);
            if (error == DV_ECORRUPT)
                error =
                    dv_error_set(error, "a NextContinuationToken with a bad character reference");
            goto done;
        }
        if (memchr(token.ptr, '\0', token.len)) { /* it would be sent back cut short */
            dv_buf_release(&token);
            error = dv_error_set(DV_ECORRUPT, "a NextContinuationToken with a NUL byte");
            goto done;
        }
        if (!(*next_token = dv_buf_detach(&token))) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
    }

done:
    dv_buf_release(&key);
    return error;
}

/* The unescaped text of the first <tag> of an error body into out ("" if there is none). */
void dv_s3__error_field(dv_buf *out, const dv_buf *body, const char *tag)
{
    const char *text, *after;
    size_t text_len;
    dv_buf_clear(out);
    if (xml_element(body->ptr, body->ptr + body->len, tag, &text, &text_len, &after) != 1)
        return;
    if (xml_unescape(out, text, text_len) < 0) {
        dv_buf_clear(out);
        if (dv_buf_put(out, text, text_len) < 0)
            dv_buf_clear(out);
    }
}
