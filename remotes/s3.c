/*
 * s3: a remote on an S3-compatible bucket, signed with AWS Signature Version 4 by libcurl,
 * with x-amz-content-sha256 on every request. Requests (pooled connections, retries with
 * backoff, ranged reads into the caller's buffer) go through curl_request; this file holds
 * the requests that are S3's own: keys and their URLs, signing, listing pages, puts, gets and
 * removes. The XML of the answers is read in s3_xml.c, the credentials found in s3_auth.c.
 */
#include "remotes/s3.h"

#include "remotes/curl_request.h"
#include "remotes/url.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/text.h"
#include "core/object/hash.h"

#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S3_DEFAULT_REGION "us-east-1"
#define S3_DEFAULT_MAX_ATTEMPTS 5
#define S3_HASH_BUFFER_BYTES (1024 * 1024)
/* A page of 1000 keys is a few hundred KiB; anything far larger is not a listing. */
#define S3_LIST_BODY_MAX_BYTES (64 * 1024 * 1024)
#define S3_EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define S3_CREDENTIALS_HINT                                                                        \
    "check the credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile in "       \
    "~/.aws/credentials"

typedef struct s3_signing s3_signing;

typedef struct s3_backend s3_backend;

/* What signing needs of one request: the backend and the body's SHA-256 in hex. */
struct s3_signing {
    s3_backend *backend;
    const char *payload_sha256;
};

struct s3_backend {
    dv_curl_backend curl;  /* first, for the gets of curl_request */
    s3_signing no_payload; /* for the requests without a body */
    char *bucket;
    char *prefix;   /* "" or "a/b", without leading or trailing '/' */
    char *base_url; /* everything before "/<key>": ".../<bucket>" or "<scheme>://<bucket>.<host>" */
    int path_style;
    char *sigv4; /* "aws:amz:<region>:s3" */
    char *access_key_id;
    char *secret_access_key;
    char *token_header; /* "x-amz-security-token: ..." or NULL */
    int max_attempts;
    int list_page_keys; /* 0: the server's default */
};

/* ---- requests ---- */

/* S3 error codes worth retrying (the HTTP statuses 5xx and 429 always are). */
static const char *const s3_transient_codes[] = {"SlowDown", "RequestTimeout", "InternalError",
                                                 "ServiceUnavailable", NULL};

#define S3_SETOPT(curl, option, value)                                                             \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(curl, option, value)) != CURLE_OK)                              \
            return rc;                                                                             \
    } while (0)

/* Sign the request (SigV4 by libcurl) and add S3's headers. */
static CURLcode s3_setup(void *ctx, const dv_curl_request *req, CURL *curl,
                         struct curl_slist **headers)
{
    const s3_signing *signing = ctx;
    const s3_backend *backend = signing->backend;
    CURLcode rc;
    dv_buf line = DV_BUF_INIT;
    struct curl_slist *grown;
    (void)req;

    if (dv_buf_printf(&line, "x-amz-content-sha256: %s", signing->payload_sha256) < 0 ||
        !(grown = curl_slist_append(*headers, line.ptr))) {
        dv_buf_release(&line);
        return CURLE_OUT_OF_MEMORY;
    }
    dv_buf_release(&line);
    *headers = grown;
    if (backend->token_header) {
        if (!(grown = curl_slist_append(*headers, backend->token_header)))
            return CURLE_OUT_OF_MEMORY;
        *headers = grown;
    }
    S3_SETOPT(curl, CURLOPT_AWS_SIGV4, backend->sigv4);
    S3_SETOPT(curl, CURLOPT_USERNAME, backend->access_key_id);
    S3_SETOPT(curl, CURLOPT_PASSWORD, backend->secret_access_key);
    return CURLE_OK;
}

static void s3_error_body(dv_curl_response *resp, const dv_buf *body)
{
    dv_s3__error_field(&resp->code, body, "Code");
    dv_s3__error_field(&resp->message, body, "Message");
}

/* The message for an HTTP answer the operation cannot accept; returns code. */
static int s3_fail(int code, const dv_curl_request *req, const dv_curl_response *resp)
{
    const char *hint = "";
    if (resp->status == 401 || resp->status == 403 || !strcmp(resp->code.ptr, "InvalidAccessKeyId"))
        hint = " (" S3_CREDENTIALS_HINT ")";
    else if (resp->status == 301 || resp->status == 307 ||
             !strcmp(resp->code.ptr, "PermanentRedirect"))
        hint = " (is the bucket in another region? check the region and the endpoint)";
    else if (!strcmp(resp->code.ptr, "NoSuchBucket"))
        hint = " (check the bucket name)";
    char tries[48];
    dv_curl_request_attempts_note(tries, sizeof(tries), resp->attempts);
    return dv_error_set(code, "s3 %s %s: HTTP %ld%s%s%s%s%s%s", req->verb, req->what, resp->status,
                        resp->code.len ? " " : "", resp->code.ptr, resp->message.len ? ": " : "",
                        resp->message.ptr, hint, tries);
}

/* A request of the verb on url, signed for a body whose SHA-256 is in signing. */
static dv_curl_request s3_request(s3_backend *backend, s3_signing *signing, const char *verb,
                                  const char *url, const char *what)
{
    dv_curl_request req = {.backend = "s3",
                           .verb = verb,
                           .method = verb,
                           .url = url,
                           .what = what,
                           .upload_fd = -1,
                           .max_attempts = backend->max_attempts,
                           .transient_codes = s3_transient_codes,
                           .setup = s3_setup,
                           .setup_ctx = signing,
                           .error_body = s3_error_body,
                           .fail = s3_fail};
    return req;
}

/* ---- naming ---- */

/* The object key of name: "<prefix>/<name>" or name. */
static int object_key(dv_buf *out, const s3_backend *backend, const char *name)
{
    return dv_buf_joinpath(out, backend->prefix, name);
}

static int object_what(dv_buf *out, const s3_backend *backend, const char *key)
{
    return dv_buf_printf(out, "s3://%s/%s", backend->bucket, key);
}

static int object_url(dv_buf *out, const s3_backend *backend, const char *key)
{
    int error;
    if ((error = dv_buf_puts(out, backend->base_url)) < 0 || (error = dv_buf_putc(out, '/')) < 0)
        return error;
    return dv_url_encode(out, key, DV_URL_ENCODE_KEEP_SLASH);
}

int dv_s3__object_url(char **out, dv_remote *remote, const char *name)
{
    dv_buf key = DV_BUF_INIT, url = DV_BUF_INIT;
    int error;
    if ((error = object_key(&key, remote->backend, name)) < 0 ||
        (error = object_url(&url, remote->backend, key.ptr)) < 0)
        goto done;
    if (!(*out = dv_buf_detach(&url)))
        error = dv_error_set(DV_ENOMEM, "out of memory");
done:
    dv_buf_release(&key);
    dv_buf_release(&url);
    return error;
}

void dv_s3__set_list_page_keys(dv_remote *remote, int max_keys)
{
    s3_backend *backend = remote->backend;
    assert(!strcmp(remote->ops->kind, "s3") && max_keys >= 0);
    backend->list_page_keys = max_keys;
}

/* ---- the operations ---- */

typedef struct list_state {
    dv_remote_entry_fn fn;
    void *ctx;
    const char *root; /* "<prefix>/" or "" */
    size_t root_len;
} list_state;

static int list_entry(void *ctx, const char *key, uint64_t size, int64_t modified)
{
    list_state *state = ctx;
    if (strncmp(key, state->root, state->root_len) != 0 || !key[state->root_len])
        return 0;
    return state->fn(state->ctx, key + state->root_len, size, modified);
}

static int s3_list(dv_remote *remote, const char *prefix, dv_remote_entry_fn fn, void *ctx)
{
    s3_backend *backend = remote->backend;
    dv_buf root = DV_BUF_INIT, full_prefix = DV_BUF_INIT, what = DV_BUF_INIT, url = DV_BUF_INIT,
           body = DV_BUF_INIT;
    dv_curl_response resp = DV_CURL_RESPONSE_INIT;
    s3_signing signing = {backend, S3_EMPTY_SHA256_HEX};
    char *token = NULL, *next_token = NULL;
    int error, truncated;

    if (backend->prefix[0] && (error = dv_buf_printf(&root, "%s/", backend->prefix)) < 0)
        goto done;
    if ((error = dv_buf_printf(&full_prefix, "%s%s", root.ptr, prefix ? prefix : "")) < 0 ||
        (error = object_what(&what, backend, full_prefix.ptr)) < 0)
        goto done;
    list_state state = {fn, ctx, root.ptr, root.len};

    for (;;) {
        /* Parameters in sorted order and fully encoded: that is how SigV4 canonicalises them,
         * and libcurl signs the query string as written. */
        dv_buf_clear(&url);
        if ((error = dv_buf_puts(&url, backend->base_url)) < 0 ||
            (error = dv_buf_puts(&url, backend->path_style ? "?" : "/?")) < 0)
            goto done;
        if (token &&
            ((error = dv_buf_puts(&url, "continuation-token=")) < 0 ||
             (error = dv_url_encode(&url, token, 0)) < 0 || (error = dv_buf_putc(&url, '&')) < 0))
            goto done;
        if ((error = dv_buf_puts(&url, "list-type=2")) < 0 ||
            (backend->list_page_keys > 0 &&
             (error = dv_buf_printf(&url, "&max-keys=%d", backend->list_page_keys)) < 0) ||
            (error = dv_buf_puts(&url, "&prefix=")) < 0 ||
            (error = dv_url_encode(&url, full_prefix.ptr, 0)) < 0)
            goto done;

        dv_curl_request req = s3_request(backend, &signing, "LIST", url.ptr, what.ptr);
        req.method = "GET";
        req.body = &body;
        req.body_max = S3_LIST_BODY_MAX_BYTES;
        if ((error = dv_curl_request_perform(remote, backend->curl.pool, &req, &resp)) < 0)
            goto done;
        if (resp.status != 200) {
            error = s3_fail(resp.status == 404 ? DV_ENOTFOUND : DV_EIO, &req, &resp);
            goto done;
        }
        error = dv_s3__parse_list(body.ptr, body.len, list_entry, &state, &truncated, &next_token);
        if (error < 0) {
            if (error != DV_ENOMEM)
                error = dv_error_wrap(error, "s3 LIST %s: bad response", what.ptr);
            goto done;
        }
        if (error != 0)
            goto done;
        if (!truncated)
            break;
        if (!next_token || (token && !strcmp(token, next_token))) {
            error = dv_error_set(DV_ECORRUPT,
                                 "s3 LIST %s: the listing is truncated but has no new "
                                 "continuation token",
                                 what.ptr);
            goto done;
        }
        free(token);
        token = next_token;
        next_token = NULL;
    }

done:
    free(token);
    free(next_token);
    dv_curl_request_response_release(&resp);
    dv_buf_release(&body);
    dv_buf_release(&url);
    dv_buf_release(&what);
    dv_buf_release(&full_prefix);
    dv_buf_release(&root);
    return error;
}

/* SHA-256 of the file behind fd, in hex, read through a bounded buffer; also its length. */
static int hash_file(char hex[DV_OID_HEX_CHARS + 1], uint64_t *len, int fd, const char *path)
{
    dv_hasher *hasher = NULL;
    uint8_t *chunk = NULL;
    uint64_t total = 0;
    dv_oid oid;
    int error;

    if ((error = dv_hasher_new(&hasher)) < 0)
        goto done;
    if (!(chunk = malloc(S3_HASH_BUFFER_BYTES))) {
        error = dv_error_set(DV_ENOMEM, "out of memory hashing %s", path);
        goto done;
    }
    for (;;) {
        ssize_t n = pread(fd, chunk, S3_HASH_BUFFER_BYTES, (off_t)total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error = dv_error_errno("reading %s", path);
            goto done;
        }
        if (n == 0)
            break;
        if ((error = dv_hasher_update(hasher, chunk, (size_t)n)) < 0)
            goto done;
        total += (uint64_t)n;
    }
    if ((error = dv_hasher_final(&oid, hasher)) < 0)
        goto done;
    dv_oid_tohex(hex, &oid);
    *len = total;

done:
    free(chunk);
    dv_hasher_free(hasher);
    return error;
}

/* The key of object name, its name for messages and its URL. */
static int object_names(dv_buf *key, dv_buf *what, dv_buf *url, const s3_backend *backend,
                        const char *name)
{
    int error;
    if ((error = object_key(key, backend, name)) < 0 ||
        (error = object_what(what, backend, key->ptr)) < 0)
        return error;
    return object_url(url, backend, key->ptr);
}

static int s3_put_file(dv_remote *remote, const char *name, const char *path)
{
    s3_backend *backend = remote->backend;
    dv_buf key = DV_BUF_INIT, what = DV_BUF_INIT, url = DV_BUF_INIT;
    dv_curl_response resp = DV_CURL_RESPONSE_INIT;
    char payload_hex[DV_OID_HEX_CHARS + 1];
    uint64_t len = 0;
    struct stat st;
    int fd = -1, error;

    if ((error = object_names(&key, &what, &url, backend, name)) < 0)
        goto done;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        error = dv_error_errno("s3 PUT %s: opening %s", what.ptr, path);
        goto done;
    }
    if (fstat(fd, &st) < 0) {
        error = dv_error_errno("s3 PUT %s: reading %s", what.ptr, path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        error = dv_error_set(DV_EUSAGE, "s3 PUT %s: %s is not a regular file", what.ptr, path);
        goto done;
    }
    if ((error = hash_file(payload_hex, &len, fd, path)) < 0) {
        error = dv_error_wrap(error, "s3 PUT %s", what.ptr);
        goto done;
    }
    if (len != (uint64_t)st.st_size) {
        error = dv_error_set(DV_EIO, "s3 PUT %s: %s changed while it was read", what.ptr, path);
        goto done;
    }

    s3_signing signing = {backend, payload_hex};
    dv_curl_request req = s3_request(backend, &signing, "PUT", url.ptr, what.ptr);
    req.upload_path = path;
    req.upload_fd = fd;
    req.upload_len = len;
    if ((error = dv_curl_request_perform(remote, backend->curl.pool, &req, &resp)) < 0)
        goto done;
    if (resp.status != 200)
        error = s3_fail(resp.status == 404 ? DV_ENOTFOUND : DV_EIO, &req, &resp);

done:
    if (fd >= 0)
        close(fd);
    dv_curl_request_response_release(&resp);
    dv_buf_release(&url);
    dv_buf_release(&what);
    dv_buf_release(&key);
    return error;
}

static int get_request(dv_remote *remote, const char *name, dv_buf *url, dv_buf *what,
                       dv_curl_request *req)
{
    s3_backend *backend = remote->backend;
    dv_buf key = DV_BUF_INIT;
    int error = object_names(&key, what, url, backend, name);
    if (error == 0)
        *req = s3_request(backend, &backend->no_payload, "GET", url->ptr, what->ptr);
    dv_buf_release(&key);
    return error;
}

static int s3_remove(dv_remote *remote, const char *name)
{
    s3_backend *backend = remote->backend;
    dv_buf key = DV_BUF_INIT, what = DV_BUF_INIT, url = DV_BUF_INIT;
    dv_curl_response resp = DV_CURL_RESPONSE_INIT;
    s3_signing signing = {backend, S3_EMPTY_SHA256_HEX};
    int error;

    if ((error = object_names(&key, &what, &url, backend, name)) < 0)
        goto done;
    dv_curl_request req = s3_request(backend, &signing, "DELETE", url.ptr, what.ptr);
    if ((error = dv_curl_request_perform(remote, backend->curl.pool, &req, &resp)) < 0)
        goto done;
    if (resp.status != 204 && resp.status != 200 && resp.status != 404)
        error = s3_fail(DV_EIO, &req, &resp);

done:
    dv_curl_request_response_release(&resp);
    dv_buf_release(&url);
    dv_buf_release(&what);
    dv_buf_release(&key);
    return error;
}

static void backend_free(s3_backend *backend)
{
    if (!backend)
        return;
    dv_curl_request_pool_free(backend->curl.pool);
    free(backend->bucket);
    free(backend->prefix);
    free(backend->base_url);
    free(backend->sigv4);
    free(backend->access_key_id);
    if (backend->secret_access_key) {
        explicit_bzero(backend->secret_access_key, strlen(backend->secret_access_key));
        free(backend->secret_access_key);
    }
    if (backend->token_header) {
        explicit_bzero(backend->token_header, strlen(backend->token_header));
        free(backend->token_header);
    }
    free(backend);
}

static void s3_free(dv_remote *remote)
{
    backend_free(remote->backend);
    remote->backend = NULL;
}

static const dv_remote_ops s3_ops = {
    .kind = "s3",
    .list = s3_list,
    .put_file = s3_put_file,
    .get = dv_curl_request_remote_get,
    .get_all = dv_curl_request_remote_get_all,
    .remove = s3_remove,
    .free = s3_free,
};

/* ---- opening ---- */

static int build_base_url(dv_buf *out, const dv_s3_options *opts, const char *region)
{
    dv_buf aws = DV_BUF_INIT;
    dv_url endpoint;
    int error;

    if (!(opts->endpoint && opts->endpoint[0]) &&
        (error = dv_buf_printf(&aws, "https://s3.%s.amazonaws.com", region)) < 0) {
        dv_buf_release(&aws);
        return error;
    }
    if ((error = dv_url_parse_endpoint(&endpoint, aws.len ? aws.ptr : opts->endpoint)) < 0)
        goto done;
    if (opts->path_style)
        error = dv_buf_printf(out, "%s://%s/", endpoint.scheme.ptr, endpoint.host.ptr);
    else
        error =
            dv_buf_printf(out, "%s://%s.%s", endpoint.scheme.ptr, opts->bucket, endpoint.host.ptr);
    if (error == 0 && opts->path_style)
        error = dv_url_encode(out, opts->bucket, 0);

done:
    dv_url_release(&endpoint);
    dv_buf_release(&aws);
    return error;
}

int dv_remote_s3_open(dv_remote **out, const dv_s3_options *opts)
{
    s3_backend *backend = NULL;
    dv_buf base_url = DV_BUF_INIT, sigv4 = DV_BUF_INIT, prefix = DV_BUF_INIT, display = DV_BUF_INIT,
           token_header = DV_BUF_INIT, identity = DV_BUF_INIT;
    const char *region = opts->region && opts->region[0] ? opts->region : S3_DEFAULT_REGION;
    int error = 0;

    assert(out && opts);
    if ((error = dv_curl_request_global_init()) < 0)
        return error;
    if (!opts->bucket ||
        dv_url_check_bucket(opts->bucket, strlen(opts->bucket), DV_URL_BUCKET_LEGACY) != 0)
        return dv_error_set(DV_EUSAGE, "s3 remote: bad bucket name '%s'",
                            opts->bucket ? opts->bucket : "");
    if (!opts->access_key_id || !opts->access_key_id[0] || !opts->secret_access_key ||
        !opts->secret_access_key[0])
        return dv_error_set(DV_EUSAGE,
                            "s3 remote s3://%s: no credentials (set AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials)",
                            opts->bucket);

    if (!(backend = calloc(1, sizeof(*backend)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory opening s3://%s", opts->bucket);
        goto done;
    }
    backend->curl.get_request = get_request;
    backend->no_payload = (s3_signing){backend, S3_EMPTY_SHA256_HEX};
    if ((error = dv_curl_request_pool_new(&backend->curl.pool)) < 0) {
        free(backend);
        backend = NULL;
        error = dv_error_wrap(error, "opening s3://%s", opts->bucket);
        goto done;
    }
    const char *p = opts->prefix ? opts->prefix : "";
    while (*p == '/')
        p++;
    if ((error = dv_buf_puts(&prefix, p)) < 0)
        goto done;
    while (prefix.len > 0 && prefix.ptr[prefix.len - 1] == '/')
        dv_buf_truncate(&prefix, prefix.len - 1);
    if ((error = build_base_url(&base_url, opts, region)) < 0 ||
        (error = dv_buf_printf(&sigv4, "aws:amz:%s:s3", region)) < 0 ||
        (error = dv_buf_printf(&display, "s3://%s%s%s", opts->bucket, prefix.len ? "/" : "",
                               prefix.ptr)) < 0)
        goto done;
    if (opts->session_token && opts->session_token[0] &&
        (error = dv_buf_printf(&token_header, "x-amz-security-token: %s", opts->session_token)) < 0)
        goto done;

    backend->path_style = opts->path_style;
    backend->max_attempts = opts->max_attempts > 0 ? opts->max_attempts : S3_DEFAULT_MAX_ATTEMPTS;
    backend->bucket = strdup(opts->bucket);
    backend->prefix = dv_buf_detach(&prefix);
    backend->base_url = dv_buf_detach(&base_url);
    backend->sigv4 = dv_buf_detach(&sigv4);
    backend->access_key_id = strdup(opts->access_key_id);
    backend->secret_access_key = strdup(opts->secret_access_key);
    backend->token_header = token_header.len ? dv_buf_detach(&token_header) : NULL;
    if (!backend->bucket || !backend->prefix || !backend->base_url || !backend->sigv4 ||
        !backend->access_key_id || !backend->secret_access_key ||
        (token_header.len && !backend->token_header)) {
        error = dv_error_set(DV_ENOMEM, "out of memory opening s3://%s", opts->bucket);
        goto done;
    }
    /* The URL names the service as well as the bucket: it keys the cache of what the
     * remote holds, which must not be shared by same-named buckets of two services. */
    dv_buf_clear(&identity);
    if ((error = dv_buf_printf(&identity, "%s/%s", backend->base_url, backend->prefix)) < 0 ||
        (error = dv_remote__new(out, &s3_ops, identity.ptr, display.ptr, backend)) < 0)
        goto done;
    backend = NULL;

done:
    backend_free(backend);
    if (token_header.len)
        explicit_bzero(token_header.ptr, token_header.len);
    dv_buf_release(&token_header);
    dv_buf_release(&display);
    dv_buf_release(&identity);
    dv_buf_release(&prefix);
    dv_buf_release(&sigv4);
    dv_buf_release(&base_url);
    return error;
}
