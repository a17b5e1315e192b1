/*
 * http: a read-only remote on a web server that serves a directory remote (nginx with
 * autoindex, Apache, any static file server that lists directories). The packs are found by
 * reading the HTML listing of packs/, objects are read with ranged GETs through curl_request;
 * nothing is signed and nothing can be written.
 */
#include "remotes/http.h"

#include "remotes/curl_request.h"
#include "remotes/url.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/text.h"
#include "core/object/hash.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* A listing names each pack twice in a line of markup: 10 MiB is some 20000 packs. */
#define HTTP_LIST_BODY_MAX_BYTES (64 * 1024 * 1024)
#define HTTP_LISTING_HINT                                                                          \
    "the server must list packs/ as an HTML page of links, e.g. nginx with autoindex on"

typedef struct http_backend {
    dv_curl_backend curl; /* first, for the gets of curl_request */
    char *base_url;       /* as given, without trailing '/' */
    char *display;        /* base_url without user:password@ */
} http_backend;

/* ---- the listing ---- */

/* Is name (NUL-terminated) "<64 lowercase hex>.pack" or "<64 lowercase hex>.idx"? */
static int is_pack_name(const char *name)
{
    for (size_t i = 0; i < DV_OID_HEX_CHARS; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return 0;
    return !strcmp(name + DV_OID_HEX_CHARS, ".pack") || !strcmp(name + DV_OID_HEX_CHARS, ".idx");
}

/* Take one href value (raw text of the attribute): its last path segment, percent-decoded,
 * into name. Returns 1 when that is a pack's or an index's name, 0 when not, or DV_ENOMEM. */
static int href_name(dv_buf *name, const char *href, size_t len)
{
    size_t end = 0, start = 0;
    int error;
    while (end < len && href[end] != '?' && href[end] != '#')
        end++;
    for (size_t i = 0; i < end; i++)
        if (href[i] == '/')
            start = i + 1;
    dv_buf_clear(name);
    for (size_t i = start; i < end; i++) {
        char c = href[i];
        if (c == '%') {
            int high = i + 2 < end ? dv_text_hex_digit(href[i + 1]) : -1;
            int low = i + 2 < end ? dv_text_hex_digit(href[i + 2]) : -1;
            if (high < 0 || low < 0)
                return 0;
            c = (char)(high * 16 + low);
            i += 2;
        }
        if (c == '\0' || name->len > DV_OID_HEX_CHARS + 5)
            return 0;
        if ((error = dv_buf_putc(name, c)) < 0)
            return error;
    }
    return is_pack_name(name->ptr);
}

int dv_http__parse_listing(const char *html, size_t len, dv_remote_entry_fn fn, void *ctx)
{
    const char *p = html, *end = html + len;
    dv_buf name = DV_BUF_INIT;
    int error = 0;

    while (p < end) {
        const char *at = memmem(p, (size_t)(end - p), "href", 4);
        const char *upper = memmem(p, (size_t)(end - p), "HREF", 4);
        if (!at || (upper && upper < at))
            at = upper;
        if (!at)
            break;
        p = at + 4;
        /* an attribute: after white space, not part of a longer name ("data-href") */
        if (at == html || !(at[-1] == ' ' || at[-1] == '\t' || at[-1] == '\n' || at[-1] == '\r'))
            continue;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            p++;
        if (p >= end || *p != '=')
            continue;
        p++;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
            p++;
        if (p >= end)
            break;
        const char *value = p, *value_end;
        if (*p == '"' || *p == '\'') {
            value = p + 1;
            value_end = memchr(value, *p, (size_t)(end - value));
            if (!value_end)
                break; /* unterminated: the rest is not a link */
            p = value_end + 1;
        } else {
            while (p < end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '>')
                p++;
            value_end = p;
        }
        int found = href_name(&name, value, (size_t)(value_end - value));
        if (found < 0) {
            error = found;
            goto done;
        }
        if (found &&
            (error = fn(ctx, name.ptr, DV_REMOTE_SIZE_UNKNOWN, DV_REMOTE_TIME_UNKNOWN)) != 0)
            goto done;
    }

done:
    dv_buf_release(&name);
    return error;
}

/* ---- naming ---- */

/* <base>/<name>, with name percent-encoded where a URL needs it. */
static int object_url(dv_buf *out, const char *base, const char *name)
{
    int error;
    if ((error = dv_buf_printf(out, "%s/", base)) < 0)
        return error;
    return dv_url_encode(out, name, DV_URL_ENCODE_KEEP_SLASH);
}

static dv_curl_request http_request(const char *verb, const char *url, const char *what)
{
    dv_curl_request req = {.backend = "http",
                           .verb = verb,
                           .method = "GET",
                           .url = url,
                           .what = what,
                           .upload_fd = -1,
                           .follow_redirects = 1};
    return req;
}

/* ---- the operations ---- */

typedef struct list_state {
    dv_remote_entry_fn fn;
    void *ctx;
    const char *dir; /* "packs/" */
    const char *prefix;
    dv_buf full;
} list_state;

static int list_entry(void *ctx, const char *name, uint64_t size, int64_t modified)
{
    list_state *state = ctx;
    int error;
    dv_buf_clear(&state->full);
    if ((error = dv_buf_printf(&state->full, "%s%s", state->dir, name)) < 0)
        return error;
    if (strncmp(state->full.ptr, state->prefix, strlen(state->prefix)) != 0)
        return 0;
    return state->fn(state->ctx, state->full.ptr, size, modified);
}

static int http_list(dv_remote *remote, const char *prefix, dv_remote_entry_fn fn, void *ctx)
{
    http_backend *backend = remote->backend;
    dv_buf dir = DV_BUF_INIT, url = DV_BUF_INIT, what = DV_BUF_INIT, body = DV_BUF_INIT;
    dv_curl_response resp = DV_CURL_RESPONSE_INIT;
    list_state state = {fn, ctx, NULL, prefix, DV_BUF_INIT};
    const char *slash = strrchr(prefix, '/');
    int error;

    /* the listing of the directory the prefix is in: "packs/" for "packs/" or "packs/ab" */
    if ((error = dv_buf_put(&dir, prefix, slash ? (size_t)(slash - prefix) + 1 : 0)) < 0 ||
        (error = object_url(&url, backend->base_url, dir.ptr)) < 0 ||
        (error = object_url(&what, backend->display, dir.ptr)) < 0)
        goto done;
    dv_curl_request req = http_request("LIST", url.ptr, what.ptr);
    req.body = &body;
    req.body_max = HTTP_LIST_BODY_MAX_BYTES;
    if ((error = dv_curl_request_perform(remote, backend->curl.pool, &req, &resp)) < 0)
        goto done;
    if (resp.status == 404 || resp.status == 403) {
        /* 404: most likely a wrong URL or path prefix; 403: a server that will not list */
        error =
            dv_error_set(DV_ENOTFOUND, "http LIST %s: HTTP %ld (%s%s)", what.ptr, resp.status,
                         resp.status == 404 ? "check the remote's URL (dv remote list -v); " : "",
                         HTTP_LISTING_HINT);
        goto done;
    }
    if (resp.status != 200) {
        error = dv_curl_request_fail(DV_EIO, &req, &resp);
        goto done;
    }
    state.dir = dir.ptr;
    error = dv_http__parse_listing(body.ptr, body.len, list_entry, &state);

done:
    dv_buf_release(&state.full);
    dv_curl_request_response_release(&resp);
    dv_buf_release(&body);
    dv_buf_release(&what);
    dv_buf_release(&url);
    dv_buf_release(&dir);
    return error;
}

static int read_only(dv_remote *remote)
{
    return dv_error_set(DV_EUSAGE,
                        "remote %s (%s) is a read-only HTTP mirror; push to the remote it mirrors",
                        remote->name, remote->display);
}

static int http_put_file(dv_remote *remote, const char *name, const char *path)
{
    (void)name;
    (void)path;
    return read_only(remote);
}

static int http_remove(dv_remote *remote, const char *name)
{
    (void)name;
    return read_only(remote);
}

static int get_request(dv_remote *remote, const char *name, dv_buf *url, dv_buf *what,
                       dv_curl_request *req)
{
    http_backend *backend = remote->backend;
    int error;
    if ((error = object_url(url, backend->base_url, name)) < 0 ||
        (error = object_url(what, backend->display, name)) < 0)
        return error;
    *req = http_request("GET", url->ptr, what->ptr);
    return 0;
}

static void backend_free(http_backend *backend)
{
    if (!backend)
        return;
    dv_curl_request_pool_free(backend->curl.pool);
    free(backend->base_url);
    free(backend->display);
    free(backend);
}

static void http_free(dv_remote *remote)
{
    backend_free(remote->backend);
    remote->backend = NULL;
}

static const dv_remote_ops http_ops = {
    .kind = "http",
    .read_only = 1,
    .list = http_list,
    .put_file = http_put_file,
    .get = dv_curl_request_remote_get,
    .get_all = dv_curl_request_remote_get_all,
    .remove = http_remove,
    .free = http_free,
};

/* ---- opening ---- */

/* The path of a base URL, each run of slashes as one and none at the end: not every
 * server merges "a//b" into "a/b" as nginx does. */
static int append_path(dv_buf *out, const char *path)
{
    int error = 0;
    for (const char *p = path; *p && error == 0;) {
        size_t slashes = strspn(p, "/");
        p += slashes;
        size_t name = strcspn(p, "/");
        if (name && (error = dv_buf_puts(out, "/")) == 0)
            error = dv_buf_put(out, p, name);
        p += name;
    }
    return error;
}

int dv_remote_http_open(dv_remote **out, const char *url)
{
    http_backend *backend = NULL;
    dv_buf base = DV_BUF_INIT, display = DV_BUF_INIT;
    dv_url parts = DV_URL_INIT;
    int error;

    assert(out && url);
    if ((error = dv_url_parse_http(&parts, url)) < 0)
        goto done;
    if ((error = dv_curl_request_global_init()) < 0)
        goto done;

    /* messages never show a password given in the URL */
    if ((error = dv_buf_printf(&base, "%s://%s%s%s", parts.scheme.ptr, parts.userinfo.ptr,
                               parts.has_userinfo ? "@" : "", parts.host.ptr)) < 0 ||
        (error = dv_buf_printf(&display, "%s://%s", parts.scheme.ptr, parts.host.ptr)) < 0 ||
        (error = append_path(&base, parts.path.ptr)) < 0 ||
        (error = append_path(&display, parts.path.ptr)) < 0)
        goto done;

    if (!(backend = calloc(1, sizeof(*backend)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory opening %s", display.ptr);
        goto done;
    }
    if ((error = dv_curl_request_pool_new(&backend->curl.pool)) < 0)
        goto done;
    backend->curl.get_request = get_request;
    if (!(backend->base_url = strdup(base.ptr)) || !(backend->display = strdup(display.ptr))) {
        error = dv_error_set(DV_ENOMEM, "out of memory opening %s", display.ptr);
        goto done;
    }
    if ((error = dv_remote__new(out, &http_ops, base.ptr, display.ptr, backend)) < 0)
        goto done;
    backend = NULL;
    /* the name defaults to the URL; never to one with a password in it */
    char *name = strdup(display.ptr);
    if (!name) {
        dv_remote_free(*out);
        *out = NULL;
        error = dv_error_set(DV_ENOMEM, "out of memory opening %s", display.ptr);
        goto done;
    }
    free((*out)->name);
    (*out)->name = name;

done:
    backend_free(backend);
    dv_url_release(&parts);
    dv_buf_release(&display);
    dv_buf_release(&base);
    return error;
}
