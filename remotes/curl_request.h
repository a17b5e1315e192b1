/*
 * curl_request: performing HTTP requests with libcurl for the backends that speak HTTP (s3,
 * http). It pools easy handles so that connections stay warm between requests of many
 * threads, retries transient failures with exponential backoff, streams uploads from a file
 * and downloads into the caller's buffer, and counts every request in the remote's stats.
 * What a backend adds (signing, extra headers, reading its error bodies) comes in through
 * the hooks of dv_curl_request.
 */
#ifndef DV_CURL_REQUEST_H
#define DV_CURL_REQUEST_H

#include "core/base/error.h"

#include "remotes/remote.h"

#include "core/base/buf.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#define DV_CURL_REQUEST_DEFAULT_MAX_ATTEMPTS 5

/** A pool of easy handles, safe to share between threads. */
typedef struct dv_curl_request_pool dv_curl_request_pool;

/** What came back from the last attempt of a request. */
typedef struct dv_curl_response {
    long status;
    dv_buf code;    /* the backend's error code from an error body, or "" */
    dv_buf message; /* its error message, or "" */
    int attempts;
    size_t received;            /* bytes written into the request's into */
    int has_content_range;      /* a well-formed Content-Range header was seen */
    uint64_t content_range_at;  /* its first byte */
    uint64_t content_range_end; /* its last byte */
    int has_content_length;
    uint64_t content_length;
} dv_curl_response;

#define DV_CURL_RESPONSE_INIT                                                                      \
    {                                                                                              \
        .code = DV_BUF_INIT, .message = DV_BUF_INIT                                                \
    }

typedef struct dv_curl_request dv_curl_request;

/** Add the backend's headers to *headers and set its options on curl (signing). Returns a
 *  curl code. */
typedef CURLcode (*dv_curl_request_setup_fn)(void *ctx, const dv_curl_request *req, CURL *curl,
                                             struct curl_slist **headers);
/** Read the backend's error code and message out of an error body into resp. */
typedef void (*dv_curl_request_error_body_fn)(dv_curl_response *resp, const dv_buf *body);
/** The message for an answer the operation cannot accept; returns code. */
typedef int (*dv_curl_request_fail_fn)(int code, const dv_curl_request *req,
                                       const dv_curl_response *resp);

/** One request. Strings are lent for the duration of the call. */
struct dv_curl_request {
    const char *backend; /* for messages: "s3", "http" */
    const char *verb;    /* for messages and counting: "GET", "PUT", "LIST", "DELETE", "HEAD" */
    const char *method;  /* HTTP method */
    const char *url;
    const char *what;  /* the object for messages: "s3://bucket/key", a URL */
    const char *range; /* "bytes=a-b" or NULL */
    const char *upload_path;
    int upload_fd; /* -1: no body */
    uint64_t upload_len;
    uint8_t *into; /* a ranged get's destination, into_cap bytes */
    size_t into_cap;
    uint64_t into_offset; /* the offset the range starts at */
    dv_buf *body;         /* a whole response body, up to body_max bytes */
    size_t body_max;
    int max_attempts;     /* 0: DV_CURL_REQUEST_DEFAULT_MAX_ATTEMPTS */
    int follow_redirects; /* follow 3xx answers to the same scheme, host and port only */
    /* error codes of the backend that are worth retrying (NULL-terminated, or NULL) */
    const char *const *transient_codes;
    dv_curl_request_setup_fn setup; /* may be NULL */
    void *setup_ctx;
    dv_curl_request_error_body_fn error_body; /* may be NULL */
    dv_curl_request_fail_fn fail;             /* may be NULL: dv_curl_request_fail */
};

/** Initialise libcurl once for the process. Returns 0 or DV_ERROR with the message set. */
DV_NODISCARD int dv_curl_request_global_init(void);

/** A new, empty pool. Returns 0, or DV_ENOMEM / DV_ERROR. */
DV_NODISCARD int dv_curl_request_pool_new(dv_curl_request_pool **out);
/** Free the pool and its handles. NULL is fine. */
void dv_curl_request_pool_free(dv_curl_request_pool *pool);

/**
 * Make req, retrying transient failures (connection errors, timeouts, HTTP 5xx and 429, and
 * the backend's transient codes). Returns 0 when an HTTP answer came back (any status: the
 * caller judges resp->status, resp->code and resp->message), or a negative code with the
 * message set when none did, or when the answer could not be taken in.
 */
DV_NODISCARD int dv_curl_request_perform(dv_remote *remote, dv_curl_request_pool *pool,
                                         dv_curl_request *req, dv_curl_response *resp);

/**
 * Read exactly len bytes of the object at req->url from offset into buf with a ranged GET (a
 * HEAD when len is 0), filling in range, into and the method of req. Checks the status, the
 * Content-Range and the length: DV_ENOTFOUND on 404, DV_ECORRUPT when the object is too
 * short or the answer does not start at offset, DV_EIO for other failures.
 */
DV_NODISCARD int dv_curl_request_get_range(dv_remote *remote, dv_curl_request_pool *pool,
                                           dv_curl_request *req, uint64_t offset, size_t len,
                                           void *buf);

/**
 * Read the whole object at req->url into out (cleared first), at most max bytes: DV_ENOTFOUND
 * on 404, DV_ECORRUPT when it is larger than max, DV_EIO for other failures.
 */
DV_NODISCARD int dv_curl_request_get_all(dv_remote *remote, dv_curl_request_pool *pool,
                                         dv_curl_request *req, dv_buf *out, size_t max);

/** Build the request of a GET of object name: its URL into url and its name for messages
 *  into what, both lent to *req for the length of the call. Returns 0 or DV_ENOMEM. */
typedef int (*dv_curl_get_request_fn)(dv_remote *remote, const char *name, dv_buf *url,
                                      dv_buf *what, dv_curl_request *req);

/** The first member of the state (remote->backend) of a backend that speaks HTTP: the gets
 *  of the remote interface below are the same for all of them but for the request. */
typedef struct dv_curl_backend {
    dv_curl_request_pool *pool;
    dv_curl_get_request_fn get_request;
} dv_curl_backend;

/** The get of the remote interface (dv_remote_ops) for a backend whose state starts with a
 *  dv_curl_backend: dv_curl_request_get_range on the request it builds. */
DV_NODISCARD int dv_curl_request_remote_get(dv_remote *remote, const char *name, uint64_t offset,
                                            size_t len, void *buf);
/** The get_all of the remote interface, likewise: dv_curl_request_get_all. */
DV_NODISCARD int dv_curl_request_remote_get_all(dv_remote *remote, const char *name, dv_buf *out,
                                                size_t max);

/** The default message for an answer the operation cannot accept: "<backend> <verb> <what>:
 *  HTTP <status>[ <code>][: <message>][ after n attempts]". Returns code. */
DV_NODISCARD int dv_curl_request_fail(int code, const dv_curl_request *req,
                                      const dv_curl_response *resp);

/** " after 3 attempts" into out when a request was retried, else "". */
void dv_curl_request_attempts_note(char *out, size_t size, int attempts);

/** Free the strings of resp. */
void dv_curl_request_response_release(dv_curl_response *resp);

#endif
