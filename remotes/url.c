/*
 * url: reading the URLs of remotes. libcurl's URL API (curl_url) says what a URL's scheme
 * is; the rest of the split is dv's own grammar, kept as it has always been read, because
 * curl_url refuses or rewrites URLs that dv takes (a password holding '@', an s3 prefix
 * holding '?' or '#', hosts it normalises such as 127.1) and a URL's bytes key the cache
 * of what the remote holds.
 */
#include "remotes/url.h"

#include "core/base/error.h"

#include <curl/curl.h>
#include <string.h>

#define S3_BUCKET_MIN_CHARS 3
#define S3_BUCKET_MAX_CHARS 63

void dv_url_release(dv_url *url)
{
    if (!url)
        return;
    dv_buf_release(&url->scheme);
    dv_buf_release(&url->userinfo);
    dv_buf_release(&url->host);
    dv_buf_release(&url->path);
    url->has_userinfo = 0;
}

static void url_init(dv_url *out)
{
    *out = (dv_url)DV_URL_INIT;
    out->kind = DV_URL_PATH;
}

/* The scheme of "<scheme>://..." (len bytes of text) as curl_url reads it, lowercased, into
 * lower. Returns 1 when it is a scheme, 0 when it is not (curl_url refuses it), or
 * DV_ENOMEM. */
static int read_scheme(dv_buf *lower, const char *text, size_t len)
{
    dv_buf probe = DV_BUF_INIT;
    CURLU *handle = NULL;
    char *scheme = NULL;
    int error;

    dv_buf_clear(lower);
    if (len == 0)
        return 0;
    if ((error = dv_buf_put(&probe, text, len)) < 0 ||
        (error = dv_buf_puts(&probe, "://localhost/")) < 0)
        goto done;
    if (!(handle = curl_url())) {
        error = dv_error_set(DV_ENOMEM, "out of memory reading a URL");
        goto done;
    }
    CURLUcode rc = curl_url_set(handle, CURLUPART_URL, probe.ptr, CURLU_NON_SUPPORT_SCHEME);
    if (rc == CURLUE_OK)
        rc = curl_url_get(handle, CURLUPART_SCHEME, &scheme, 0);
    if (rc == CURLUE_OUT_OF_MEMORY) {
        error = dv_error_set(DV_ENOMEM, "out of memory reading a URL");
        goto done;
    }
    if (rc != CURLUE_OK) {
        error = 0;
        goto done;
    }
    error = dv_buf_puts(lower, scheme);
    if (error == 0)
        error = 1;
done:
    curl_free(scheme);
    curl_url_cleanup(handle);
    dv_buf_release(&probe);
    return error;
}

/* Split text at its first "://": the scheme as written into out->scheme and, lowercased,
 * into lower; *rest after the "://". Returns 1 when text has a scheme, 0 when it has no
 * "://" or what stands before is no scheme, or DV_ENOMEM. */
static int split_scheme(dv_url *out, dv_buf *lower, const char **rest, const char *text)
{
    const char *sep = strstr(text, "://");
    int found;
    if (!sep)
        return 0;
    if ((found = read_scheme(lower, text, (size_t)(sep - text))) <= 0)
        return found;
    int error = dv_buf_put(&out->scheme, text, (size_t)(sep - text));
    if (error < 0)
        return error;
    *rest = sep + 3;
    return 1;
}

/* The host part of an http(s) URL (after "://", up to the first '/', '?' or '#'): the
 * userinfo before its last '@' and the host after it; path gets the rest. */
static int split_authority(dv_url *out, const char *authority)
{
    size_t len = strcspn(authority, "/?#");
    const char *at = memrchr(authority, '@', len);
    int error = 0;
    out->has_userinfo = at != NULL;
    if (at && (error = dv_buf_put(&out->userinfo, authority, (size_t)(at - authority))) < 0)
        return error;
    const char *host = at ? at + 1 : authority;
    if ((error = dv_buf_put(&out->host, host, (size_t)(authority + len - host))) < 0)
        return error;
    return dv_buf_puts(&out->path, authority + len);
}

int dv_url_check_bucket(const char *bucket, size_t len, int rule)
{
    if (rule == DV_URL_BUCKET_STRICT && (len < S3_BUCKET_MIN_CHARS || len > S3_BUCKET_MAX_CHARS))
        return DV_URL_BUCKET_BAD_LENGTH;
    if (len == 0)
        return DV_URL_BUCKET_BAD_LENGTH;
    for (size_t i = 0; i < len; i++) {
        char c = bucket[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (rule == DV_URL_BUCKET_LEGACY)
            ok = ok || (c >= 'A' && c <= 'Z') || c == '_';
        if (!ok)
            return DV_URL_BUCKET_BAD_CHAR;
    }
    return 0;
}

static int parse_s3(dv_url *out, const char *text, const char *rest)
{
    size_t len = strcspn(rest, "/");
    int bad = dv_url_check_bucket(rest, len, DV_URL_BUCKET_STRICT);
    if (bad == DV_URL_BUCKET_BAD_LENGTH)
        return dv_error_set(DV_EUSAGE, "%s does not name a bucket (s3://<bucket>[/<prefix>])",
                            text);
    if (bad)
        return dv_error_set(DV_EUSAGE,
                            "bucket name in %s may hold only lowercase letters, digits, '-' and "
                            "'.'",
                            text);
    int error;
    out->kind = DV_URL_S3;
    if ((error = dv_buf_put(&out->host, rest, len)) < 0)
        return error;
    return dv_buf_puts(&out->path, rest + len);
}

int dv_url_parse(dv_url *out, const char *text)
{
    dv_buf lower = DV_BUF_INIT;
    const char *rest = NULL;
    int error;

    url_init(out);
    if ((error = split_scheme(out, &lower, &rest, text)) < 0)
        goto done;
    if (error == 0) {
        if (strstr(text, "://")) /* not a scheme, yet not a path dv would take either */
            goto unknown;
        if (!*text) {
            error = dv_error_set(DV_EUSAGE, "empty remote URL");
            goto done;
        }
        out->kind = DV_URL_PATH;
        error = dv_buf_puts(&out->path, text);
        goto done;
    }
    /* schemes are taken as dv writes them, in lowercase */
    if (strcmp(out->scheme.ptr, lower.ptr))
        goto unknown;
    if (!strcmp(lower.ptr, "s3")) {
        error = parse_s3(out, text, rest);
    } else if (!strcmp(lower.ptr, "http") || !strcmp(lower.ptr, "https")) {
        if (!*rest || *rest == '/' || strpbrk(rest, "?#")) {
            error = dv_error_set(DV_EUSAGE,
                                 "%s does not name a server (http[s]://<host>[:<port>][/<path>], "
                                 "no query)",
                                 text);
            goto done;
        }
        out->kind = DV_URL_HTTP;
        error = split_authority(out, rest);
    } else if (!strcmp(lower.ptr, "file")) {
        if (*rest != '/') {
            error = dv_error_set(DV_EUSAGE,
                                 "%s: a file:// URL needs an absolute path (file:///dir)", text);
            goto done;
        }
        out->kind = DV_URL_FILE;
        error = dv_buf_puts(&out->path, rest);
    } else {
        goto unknown;
    }
    goto done;

unknown:
    error = dv_error_set(DV_EUSAGE,
                         "%s: unknown kind of remote (use s3://, http://, https://, file:// or a "
                         "path)",
                         text);
done:
    dv_buf_release(&lower);
    return error;
}

/* Is lower "http" or "https"? */
static int is_http_scheme(const dv_buf *lower)
{
    return !strcmp(lower->ptr, "http") || !strcmp(lower->ptr, "https");
}

int dv_url_parse_http(dv_url *out, const char *text)
{
    dv_buf lower = DV_BUF_INIT;
    const char *rest = NULL;
    int error;

    url_init(out);
    if ((error = split_scheme(out, &lower, &rest, text)) < 0)
        goto done;
    if (error == 0 || !is_http_scheme(&lower)) {
        error = dv_error_set(DV_EUSAGE, "%s: an HTTP remote's URL starts with http:// or https://",
                             text);
        goto done;
    }
    if (strcspn(rest, "/?#") == 0) {
        error = dv_error_set(DV_EUSAGE, "%s: no host", text);
        goto done;
    }
    if (strpbrk(rest, "?#")) {
        error = dv_error_set(DV_EUSAGE, "%s: an HTTP remote's URL has no query or fragment", text);
        goto done;
    }
    out->kind = DV_URL_HTTP;
    error = split_authority(out, rest);
done:
    dv_buf_release(&lower);
    return error;
}

int dv_url_parse_endpoint(dv_url *out, const char *text)
{
    dv_buf endpoint = DV_BUF_INIT, lower = DV_BUF_INIT;
    const char *rest = NULL;
    int error;

    url_init(out);
    if ((error = dv_buf_puts(&endpoint, text)) < 0)
        goto done;
    while (endpoint.len > 0 && endpoint.ptr[endpoint.len - 1] == '/')
        dv_buf_truncate(&endpoint, endpoint.len - 1);
    if ((error = split_scheme(out, &lower, &rest, endpoint.ptr)) < 0)
        goto done;
    if (error == 0 || !is_http_scheme(&lower)) {
        error = dv_error_set(DV_EUSAGE, "s3 endpoint %s: must start with http:// or https://",
                             endpoint.ptr);
        goto done;
    }
    if (!*rest) {
        error = dv_error_set(DV_EUSAGE, "s3 endpoint %s: no host", endpoint.ptr);
        goto done;
    }
    out->kind = DV_URL_HTTP;
    error = dv_buf_puts(&out->host, rest);
done:
    dv_buf_release(&lower);
    dv_buf_release(&endpoint);
    return error;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int dv_url_encode(dv_buf *out, const char *text, unsigned flags)
{
    static const char hex[] = "0123456789ABCDEF";
    int error;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (is_unreserved(*p) || ((flags & DV_URL_ENCODE_KEEP_SLASH) && *p == '/')) {
            error = dv_buf_putc(out, (char)*p);
        } else {
            char escaped[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            error = dv_buf_put(out, escaped, 3);
        }
        if (error < 0)
            return error;
    }
    return 0;
}
