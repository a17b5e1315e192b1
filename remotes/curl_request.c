/*
 * curl_request: HTTP requests over libcurl for the s3 and http backends. Uploads stream from
 * disk and downloads go straight into the caller's buffer, so memory stays bounded; transient
 * failures are retried with exponential backoff; easy handles are pooled so that connections
 * stay warm between requests of many threads.
 */
#include "remotes/curl_request.h"

#include "core/base/error.h"
#include "core/base/text.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define POOL_HANDLES 16
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 10000
#define TRANSFER_BUFFER_BYTES (512 * 1024)
/* Error bodies are short; keep enough of one to find its code and message. */
#define ERROR_BODY_MAX_BYTES (64 * 1024)
/* A request is abandoned when fewer bytes than this move in transfer.timeout seconds, which
 * includes the wait for the first byte of the answer. */
#define LOW_SPEED_LIMIT_BYTES_PER_SECOND 1L
/* A server that stalls twice running will not answer a third time: a timeout is retried once,
 * so a silent server fails within about 2 x transfer.timeout. */
#define TIMEOUT_MAX_ATTEMPTS 2
#define MAX_REDIRECTS 5

struct dv_curl_request_pool {
    pthread_mutex_t lock;
    CURL *handles[POOL_HANDLES];
    size_t n;
};

/* The state of one attempt, shared with libcurl's callbacks. */
typedef struct attempt_state {
    dv_remote *remote;
    dv_curl_request *req;
    dv_curl_response *resp;
    CURL *curl;
    const char *url; /* req->url, or where a redirect sent it */
    uint64_t upload_at;
    int upload_errno;  /* reading the file failed (-1: it got shorter) */
    int overflow;      /* more body than there is room for */
    int range_ignored; /* a whole object came back for a range not at 0 */
    int out_of_memory;
    dv_buf error_body;
} attempt_state;

/* ---- libcurl setup and the handle pool ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int dv_curl_request_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK)
        return dv_error_set(DV_ERROR, "cannot initialise libcurl: %s",
                            curl_easy_strerror(curl_init_result));
    return 0;
}

int dv_curl_request_pool_new(dv_curl_request_pool **out)
{
    dv_curl_request_pool *pool = calloc(1, sizeof(*pool));
    int error;
    if (!pool)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if ((error = pthread_mutex_init(&pool->lock, NULL)) != 0) {
        free(pool);
        return dv_error_set(DV_ERROR, "cannot create a lock: %s", strerror(error));
    }
    *out = pool;
    return 0;
}

void dv_curl_request_pool_free(dv_curl_request_pool *pool)
{
    if (!pool)
        return;
    for (size_t i = 0; i < pool->n; i++)
        curl_easy_cleanup(pool->handles[i]);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

static CURL *pool_take(dv_curl_request_pool *pool)
{
    CURL *curl = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->n > 0)
        curl = pool->handles[--pool->n];
    pthread_mutex_unlock(&pool->lock);
    return curl ? curl : curl_easy_init();
}

/* Keep the handle (and with it its open connections) for the next request. */
static void pool_give(dv_curl_request_pool *pool, CURL *curl)
{
    curl_easy_reset(curl);
    pthread_mutex_lock(&pool->lock);
    if (pool->n < POOL_HANDLES) {
        pool->handles[pool->n++] = curl;
        curl = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    if (curl)
        curl_easy_cleanup(curl);
}

/* ---- libcurl callbacks ---- */

static size_t on_write(char *data, size_t size, size_t count, void *userdata)
{
    attempt_state *attempt = userdata;
    dv_curl_request *req = attempt->req;
    size_t n = size * count;
    long status = 0;

    curl_easy_getinfo(attempt->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {
        size_t room = ERROR_BODY_MAX_BYTES - attempt->error_body.len;
        if (dv_buf_put(&attempt->error_body, data, n < room ? n : room) < 0) {
            attempt->out_of_memory = 1;
            return 0;
        }
        return n;
    }
    if (req->into) {
        if (status == 200 && req->into_offset != 0) {
            attempt->range_ignored = 1;
            return 0;
        }
        if (n > req->into_cap - attempt->resp->received) {
            attempt->overflow = 1;
            return 0;
        }
        memcpy(req->into + attempt->resp->received, data, n);
        attempt->resp->received += n;
        DV_REMOTE_COUNT(attempt->remote, bytes_received, n);
        return n;
    }
    if (req->body) {
        if (n > req->body_max - req->body->len) {
            attempt->overflow = 1;
            return 0;
        }
        if (dv_buf_put(req->body, data, n) < 0) {
            attempt->out_of_memory = 1;
            return 0;
        }
        if (!strcmp(req->verb, "GET"))
            DV_REMOTE_COUNT(attempt->remote, bytes_received, n);
    }
    return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    attempt_state *attempt = userdata;
    size_t n = size * count;
    static const char name[] = "content-range:";
    if (n > strlen(name) && !strncasecmp(data, name, strlen(name))) {
        const char *p = data + strlen(name), *end = data + n;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        /* "bytes <first>-<last>/<total or *>": each number checked for overflow, and the
         * range for order; anything else counts as no Content-Range */
        if (end - p > 6 && !memcmp(p, "bytes ", 6)) {
            const char *first = p + 6, *q = first, *last, *total;
            while (q < end && *q >= '0' && *q <= '9')
                q++;
            uint64_t at, to, object_size;
            if (q < end && *q == '-' && dv_text_parse_u64(&at, first, (size_t)(q - first)) == 0) {
                last = ++q;
                while (q < end && *q >= '0' && *q <= '9')
                    q++;
                if (q < end && *q == '/' && dv_text_parse_u64(&to, last, (size_t)(q - last)) == 0 &&
                    at <= to) {
                    total = ++q;
                    while (q < end && *q >= '0' && *q <= '9')
                        q++;
                    int total_ok =
                        (q - total == 0 && q < end && *q == '*') ||
                        (dv_text_parse_u64(&object_size, total, (size_t)(q - total)) == 0 &&
                         to < object_size);
                    if (total_ok) {
                        attempt->resp->has_content_range = 1;
                        attempt->resp->content_range_at = at;
                        attempt->resp->content_range_end = to;
                    }
                }
            }
        }
    }
    return n;
}

static size_t on_read(char *buffer, size_t size, size_t count, void *userdata)
{
    attempt_state *attempt = userdata;
    dv_curl_request *req = attempt->req;
    size_t want = size * count;
    uint64_t left = req->upload_len - attempt->upload_at;
    ssize_t n;

    if (left == 0)
        return 0;
    if (want > left)
        want = (size_t)left;
    do {
        n = pread(req->upload_fd, buffer, want, (off_t)attempt->upload_at);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        attempt->upload_errno = n < 0 ? errno : -1;
        return CURL_READFUNC_ABORT;
    }
    attempt->upload_at += (uint64_t)n;
    DV_REMOTE_COUNT(attempt->remote, bytes_sent, n);
    return (size_t)n;
}

static int on_seek(void *userdata, curl_off_t offset, int origin)
{
    attempt_state *attempt = userdata;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > attempt->req->upload_len)
        return CURL_SEEKFUNC_FAIL;
    attempt->upload_at = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* ---- retries ---- */

static int is_transient_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

static int is_transient_response(const dv_curl_request *req, const dv_curl_response *resp)
{
    if (resp->status >= 500 || resp->status == 429)
        return 1;
    if (req->transient_codes && resp->code.len)
        for (const char *const *code = req->transient_codes; *code; code++)
            if (!strcmp(resp->code.ptr, *code))
                return 1;
    return 0;
}

/* Sleep before attempt number attempt + 1: BACKOFF_FIRST_MS doubling, capped, with the
 * upper half jittered so that threads that failed together do not retry together. */
static void backoff(int attempt, unsigned *seed)
{
    uint64_t ms = BACKOFF_FIRST_MS;
    for (int i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    ms = ms / 2 + (uint64_t)rand_r(seed) % (ms / 2 + 1);
    struct timespec delay = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) < 0 && errno == EINTR)
        ;
}

void dv_curl_request_attempts_note(char *out, size_t size, int attempts)
{
    if (attempts > 1)
        snprintf(out, size, " after %d attempts", attempts);
    else
        out[0] = '\0';
}

static void count_request(dv_remote *remote, const dv_curl_request *req)
{
    if (!strcmp(req->verb, "LIST"))
        DV_REMOTE_COUNT(remote, list_requests, 1);
    else if (!strcmp(req->verb, "PUT"))
        DV_REMOTE_COUNT(remote, put_requests, 1);
    else if (!strcmp(req->verb, "GET") || !strcmp(req->verb, "HEAD"))
        DV_REMOTE_COUNT(remote, get_requests, 1);
    else
        DV_REMOTE_COUNT(remote, other_requests, 1);
}

#define SETOPT(curl, option, value)                                                                \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(curl, option, value)) != CURLE_OK)                              \
            goto done;                                                                             \
    } while (0)

/* Set up curl for one attempt of req. Returns a curl code; *headers is the caller's to free. */
static CURLcode setup_attempt(attempt_state *attempt, struct curl_slist **headers,
                              char *curl_message)
{
    CURL *curl = attempt->curl;
    dv_curl_request *req = attempt->req;
    CURLcode rc = CURLE_OK;
    dv_buf line = DV_BUF_INIT;
    struct curl_slist *list = NULL, *grown;

    if (req->setup && (rc = req->setup(req->setup_ctx, req, curl, &list)) != CURLE_OK)
        goto done;
    rc = CURLE_OUT_OF_MEMORY;
    if (req->range) {
        if (dv_buf_printf(&line, "Range: %s", req->range) < 0 ||
            !(grown = curl_slist_append(list, line.ptr)))
            goto done;
        list = grown;
    }

    long timeout = attempt->remote->timeout_seconds > 0 ? attempt->remote->timeout_seconds
                                                        : DV_REMOTE_TIMEOUT_DEFAULT_SECONDS;
    SETOPT(curl, CURLOPT_URL, attempt->url);
    SETOPT(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* Redirects are followed by dv_curl_request_perform, which first checks where they lead. */
    SETOPT(curl, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(curl, CURLOPT_PATH_AS_IS, 1L);
    SETOPT(curl, CURLOPT_NOSIGNAL, 1L);
    SETOPT(curl, CURLOPT_ERRORBUFFER, curl_message);
    SETOPT(curl, CURLOPT_USERAGENT, "dv/" DV_VERSION);
    if (list)
        SETOPT(curl, CURLOPT_HTTPHEADER, list);
    SETOPT(curl, CURLOPT_CONNECTTIMEOUT, timeout);
    SETOPT(curl, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_LIMIT_BYTES_PER_SECOND);
    SETOPT(curl, CURLOPT_LOW_SPEED_TIME, timeout);
    SETOPT(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(curl, CURLOPT_BUFFERSIZE, (long)TRANSFER_BUFFER_BYTES);
    SETOPT(curl, CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(curl, CURLOPT_WRITEDATA, attempt);
    SETOPT(curl, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(curl, CURLOPT_HEADERDATA, attempt);
    if (req->upload_fd >= 0) {
        SETOPT(curl, CURLOPT_UPLOAD, 1L);
        SETOPT(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_len);
        SETOPT(curl, CURLOPT_READFUNCTION, on_read);
        SETOPT(curl, CURLOPT_READDATA, attempt);
        SETOPT(curl, CURLOPT_SEEKFUNCTION, on_seek);
        SETOPT(curl, CURLOPT_SEEKDATA, attempt);
        SETOPT(curl, CURLOPT_UPLOAD_BUFFERSIZE, (long)TRANSFER_BUFFER_BYTES);
        /* Send the body at once rather than wait for "100 Continue" (a second, by default, with
         * servers that never send it). Removing the header with "Expect:" is no way out: libcurl
         * 7.88 signs every header set, the removed one too, and a signature then fails. */
        SETOPT(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    } else if (!strcmp(req->method, "HEAD")) {
        SETOPT(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "GET") != 0) {
        SETOPT(curl, CURLOPT_CUSTOMREQUEST, req->method);
    }
    rc = CURLE_OK;

done:
    *headers = list;
    dv_buf_release(&line);
    return rc;
}

/* "scheme://host:port" of url (the port filled in from the scheme), host in lowercase, into
 * out. Returns 1, or 0 for a URL libcurl cannot take apart. */
static int url_origin(dv_buf *out, const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    dv_buf_clear(out);
    if (ok) {
        for (char *c = host; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        ok = dv_buf_printf(out, "%s://%s:%s", scheme, host, port) == 0;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

static int is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Did a 2xx answer end early: before the length it announced, or, with nothing announced,
 * before the bytes a ranged get asked for? A server that says it is sending fewer bytes (a
 * Content-Range or Content-Length that matches what came) means the object is shorter, which
 * dv_curl_request_get_range reports; a 206 without a Content-Range is refused there too. */
static int is_truncated(const dv_curl_request *req, const dv_curl_response *resp)
{
    if (resp->status < 200 || resp->status >= 300)
        return 0;
    if (req->into) {
        if (resp->received >= req->into_cap)
            return 0;
        if (resp->status == 206)
            return resp->has_content_range &&
                   resp->received < resp->content_range_end - resp->content_range_at + 1;
        if (resp->has_content_length)
            return resp->received < resp->content_length;
        return 1;
    }
    return req->body && resp->has_content_length && req->body->len < resp->content_length;
}

int dv_curl_request_perform(dv_remote *remote, dv_curl_request_pool *pool, dv_curl_request *req,
                            dv_curl_response *resp)
{
    int max_attempts =
        req->max_attempts > 0 ? req->max_attempts : DV_CURL_REQUEST_DEFAULT_MAX_ATTEMPTS;
    long timeout =
        remote->timeout_seconds > 0 ? remote->timeout_seconds : DV_REMOTE_TIMEOUT_DEFAULT_SECONDS;
    unsigned seed;
    struct timespec now;
    int error = 0, n_timeouts = 0, n_redirects = 0;
    dv_buf url = DV_BUF_INIT, target = DV_BUF_INIT, from = DV_BUF_INIT, to = DV_BUF_INIT;

    clock_gettime(CLOCK_MONOTONIC, &now);
    seed = (unsigned)now.tv_nsec ^ (unsigned)(uintptr_t)&seed;
    if ((error = dv_buf_puts(&url, req->url)) < 0)
        goto done;

    for (int attempt_no = 1;; attempt_no++) {
        char curl_message[CURL_ERROR_SIZE] = "";
        struct curl_slist *headers = NULL;
        attempt_state attempt = {.remote = remote, .req = req, .resp = resp, .url = url.ptr};
        CURLcode rc;

        attempt.error_body = (dv_buf)DV_BUF_INIT;
        resp->status = 0;
        resp->attempts = attempt_no;
        resp->received = 0;
        resp->has_content_range = 0;
        resp->has_content_length = 0;
        resp->content_length = 0;
        dv_buf_clear(&resp->code);
        dv_buf_clear(&resp->message);
        dv_buf_clear(&target);
        if (req->body)
            dv_buf_clear(req->body);

        if (!(attempt.curl = pool_take(pool))) {
            error = dv_error_set(DV_ENOMEM, "%s %s %s: cannot create a curl handle", req->backend,
                                 req->verb, req->what);
            goto done;
        }
        rc = setup_attempt(&attempt, &headers, curl_message);
        if (rc == CURLE_OK) {
            count_request(remote, req);
            rc = curl_easy_perform(attempt.curl);
        } else if (!curl_message[0]) {
            snprintf(curl_message, sizeof(curl_message), "setting up the request failed");
        }
        curl_easy_getinfo(attempt.curl, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_off_t content_length = -1;
        if (curl_easy_getinfo(attempt.curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length) ==
                CURLE_OK &&
            content_length >= 0) {
            resp->has_content_length = 1;
            resp->content_length = (uint64_t)content_length;
        }
        char *location = NULL;
        if (rc == CURLE_OK && req->follow_redirects && is_redirect(resp->status) &&
            curl_easy_getinfo(attempt.curl, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
            location && dv_buf_puts(&target, location) < 0)
            attempt.out_of_memory = 1;
        pool_give(pool, attempt.curl);
        curl_slist_free_all(headers);

        int retry = 0, redirected = 0;
        if (attempt.out_of_memory) {
            error = dv_error_set(DV_ENOMEM, "%s %s %s: out of memory", req->backend, req->verb,
                                 req->what);
        } else if (attempt.upload_errno) {
            if (attempt.upload_errno > 0)
                error = dv_error_set(DV_EIO, "%s %s %s: reading %s: %s", req->backend, req->verb,
                                     req->what, req->upload_path, strerror(attempt.upload_errno));
            else
                error = dv_error_set(DV_EIO, "%s %s %s: %s got shorter while it was uploaded",
                                     req->backend, req->verb, req->what, req->upload_path);
        } else if (attempt.range_ignored || attempt.overflow) {
            if (req->into)
                error = dv_error_set(DV_EIO,
                                     "%s %s %s: the server sent more than the %zu bytes asked "
                                     "for (does it ignore Range?)",
                                     req->backend, req->verb, req->what, req->into_cap);
            else
                error = dv_error_set(DV_ECORRUPT, "%s %s %s: the response is over %zu bytes",
                                     req->backend, req->verb, req->what, req->body_max);
        } else if (rc != CURLE_OK) {
            int timed_out = rc == CURLE_OPERATION_TIMEDOUT;
            n_timeouts += timed_out;
            if (is_transient_curl_error(rc) && attempt_no < max_attempts &&
                (!timed_out || n_timeouts < TIMEOUT_MAX_ATTEMPTS)) {
                retry = 1;
            } else {
                char tries[48];
                dv_curl_request_attempts_note(tries, sizeof(tries), attempt_no);
                if (timed_out)
                    error = dv_error_set(DV_EIO,
                                         "%s %s %s: no answer: nothing moved for %ld s (%s; the "
                                         "limit is transfer.timeout)%s",
                                         req->backend, req->verb, req->what, timeout,
                                         curl_message[0] ? curl_message : "timed out", tries);
                else
                    error = dv_error_set(DV_EIO, "%s %s %s: %s (%s)%s", req->backend, req->verb,
                                         req->what, curl_easy_strerror(rc),
                                         curl_message[0] ? curl_message : url.ptr, tries);
            }
        } else if (target.len) {
            /* Followed only to where the request was going: another host could serve other
             * bytes under the same names, another scheme could drop TLS. */
            if (!url_origin(&from, url.ptr) || !url_origin(&to, target.ptr) ||
                strcmp(from.ptr, to.ptr) != 0)
                error = dv_error_set(DV_EIO,
                                     "%s %s %s: HTTP %ld redirects to %s, not to %s; dv follows "
                                     "redirects only on the same scheme, host and port",
                                     req->backend, req->verb, req->what, resp->status,
                                     to.len ? to.ptr : "a URL it cannot read",
                                     from.len ? from.ptr : url.ptr);
            else if (++n_redirects > MAX_REDIRECTS)
                error = dv_error_set(DV_EIO, "%s %s %s: more than %d redirects", req->backend,
                                     req->verb, req->what, MAX_REDIRECTS);
            else if ((error = (dv_buf_clear(&url), dv_buf_puts(&url, target.ptr))) == 0)
                redirected = 1;
        } else if (is_truncated(req, resp)) {
            if (attempt_no < max_attempts) {
                retry = 1;
            } else {
                char tries[48];
                dv_curl_request_attempts_note(tries, sizeof(tries), attempt_no);
                error = dv_error_set(DV_EIO,
                                     "%s %s %s: the connection ended after %zu bytes of the "
                                     "answer, before its end%s",
                                     req->backend, req->verb, req->what,
                                     req->into ? resp->received : req->body->len, tries);
            }
        } else if (resp->status < 200 || resp->status >= 300) {
            if (req->error_body)
                req->error_body(resp, &attempt.error_body);
            if (is_transient_response(req, resp) && attempt_no < max_attempts)
                retry = 1;
        }
        dv_buf_release(&attempt.error_body);
        if (redirected) {
            attempt_no--; /* a redirect is not a failed attempt */
            continue;
        }
        if (!retry)
            goto done;
        DV_REMOTE_COUNT(remote, retries, 1);
        backoff(attempt_no, &seed);
    }

done:
    dv_buf_release(&url);
    dv_buf_release(&target);
    dv_buf_release(&from);
    dv_buf_release(&to);
    return error;
}

int dv_curl_request_fail(int code, const dv_curl_request *req, const dv_curl_response *resp)
{
    char tries[48];
    dv_curl_request_attempts_note(tries, sizeof(tries), resp->attempts);
    return dv_error_set(code, "%s %s %s: HTTP %ld%s%s%s%s%s", req->backend, req->verb, req->what,
                        resp->status, resp->code.len ? " " : "", resp->code.ptr,
                        resp->message.len ? ": " : "", resp->message.ptr, tries);
}

static int fail(int code, const dv_curl_request *req, const dv_curl_response *resp)
{
    return req->fail ? req->fail(code, req, resp) : dv_curl_request_fail(code, req, resp);
}

void dv_curl_request_response_release(dv_curl_response *resp)
{
    dv_buf_release(&resp->code);
    dv_buf_release(&resp->message);
}

/* ---- reads ---- */

/* A get of nothing still says whether the object exists and is long enough. */
static int head(dv_remote *remote, dv_curl_request_pool *pool, dv_curl_request *req,
                uint64_t offset)
{
    dv_curl_response resp = DV_CURL_RESPONSE_INIT;
    int error;

    req->verb = "HEAD";
    req->method = "HEAD";
    if ((error = dv_curl_request_perform(remote, pool, req, &resp)) < 0)
        goto done;
    if (resp.status == 404)
        error = dv_error_set(DV_ENOTFOUND, "%s GET %s: no such object (HTTP 404)", req->backend,
                             req->what);
    else if (resp.status != 200)
        error = fail(DV_EIO, req, &resp);
    else if (resp.content_length < offset)
        error = dv_error_set(
            DV_ECORRUPT, "%s GET %s: the object is %" PRIu64 " bytes, shorter than offset %" PRIu64,
            req->backend, req->what, resp.content_length, offset);
done:
    dv_curl_request_response_release(&resp);
    return error;
}

int dv_curl_request_get_range(dv_remote *remote, dv_curl_request_pool *pool, dv_curl_request *req,
                              uint64_t offset, size_t len, void *buf)
{
    dv_buf range = DV_BUF_INIT;
    dv_curl_response resp = DV_CURL_RESPONSE_INIT;
    int error;

    req->verb = "GET";
    req->method = "GET";
    req->upload_fd = -1;
    req->into = buf;
    req->into_cap = len;
    req->into_offset = offset;
    if (len == 0) {
        error = head(remote, pool, req, offset);
        goto done;
    }
    if ((uint64_t)len - 1 > UINT64_MAX - offset) {
        error = dv_error_set(DV_EUSAGE, "%s GET %s: range past 2^64", req->backend, req->what);
        goto done;
    }
    if ((error = dv_buf_printf(&range, "bytes=%" PRIu64 "-%" PRIu64, offset,
                               offset + (uint64_t)len - 1)) < 0)
        goto done;
    req->range = range.ptr;

    if ((error = dv_curl_request_perform(remote, pool, req, &resp)) < 0)
        goto done;
    if (resp.status == 404) {
        error = fail(DV_ENOTFOUND, req, &resp);
    } else if (resp.status == 416) {
        error = dv_error_set(
            DV_ECORRUPT, "%s GET %s: the object is shorter than %" PRIu64 " bytes (HTTP 416 %s)",
            req->backend, req->what, offset + (uint64_t)len, resp.code.ptr);
    } else if (resp.status != 206 && resp.status != 200) {
        error = fail(DV_EIO, req, &resp);
    } else if (resp.status == 206 && (!resp.has_content_range || resp.content_range_at != offset)) {
        error = dv_error_set(DV_ECORRUPT,
                             "%s GET %s: asked for bytes from %" PRIu64
                             " but the answer does not start there",
                             req->backend, req->what, offset);
    } else if (resp.received != len) {
        error = dv_error_set(DV_ECORRUPT,
                             "%s GET %s: the object is shorter than %" PRIu64
                             " bytes (got %zu of the %zu bytes from offset %" PRIu64 ")",
                             req->backend, req->what, offset + (uint64_t)len, resp.received, len,
                             offset);
    }

done:
    req->range = NULL;
    dv_curl_request_response_release(&resp);
    dv_buf_release(&range);
    return error;
}

int dv_curl_request_get_all(dv_remote *remote, dv_curl_request_pool *pool, dv_curl_request *req,
                            dv_buf *out, size_t max)
{
    dv_curl_response resp = DV_CURL_RESPONSE_INIT;
    int error;

    req->verb = "GET";
    req->method = "GET";
    req->upload_fd = -1;
    req->range = NULL;
    req->into = NULL;
    req->body = out;
    req->body_max = max;
    if ((error = dv_curl_request_perform(remote, pool, req, &resp)) < 0)
        goto done;
    if (resp.status == 404)
        error = fail(DV_ENOTFOUND, req, &resp);
    else if (resp.status != 200)
        error = fail(DV_EIO, req, &resp);
done:
    dv_curl_request_response_release(&resp);
    return error;
}

/* A GET of object name: a ranged one of len bytes at offset into buf or, with whole set, of
 * all of it into whole (at most max bytes). */
static int remote_get(dv_remote *remote, const char *name, uint64_t offset, size_t len, void *buf,
                      dv_buf *whole, size_t max)
{
    dv_curl_backend *backend = remote->backend;
    dv_buf url = DV_BUF_INIT, what = DV_BUF_INIT;
    dv_curl_request req;
    int error;

    if ((error = backend->get_request(remote, name, &url, &what, &req)) == 0)
        error = whole ? dv_curl_request_get_all(remote, backend->pool, &req, whole, max)
                      : dv_curl_request_get_range(remote, backend->pool, &req, offset, len, buf);
    dv_buf_release(&what);
    dv_buf_release(&url);
    return error;
}

int dv_curl_request_remote_get(dv_remote *remote, const char *name, uint64_t offset, size_t len,
                               void *buf)
{
    return remote_get(remote, name, offset, len, buf, NULL, 0);
}

int dv_curl_request_remote_get_all(dv_remote *remote, const char *name, dv_buf *out, size_t max)
{
    return remote_get(remote, name, 0, 0, NULL, out, max);
}
