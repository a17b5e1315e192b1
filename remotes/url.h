/*
 * url: the URLs of remotes, read in one place: which kind of remote a URL names
 * (s3://<bucket>[/<prefix>], http[s]://[<userinfo>@]<host>[:<port>][/<path>], file:///<dir>
 * or a path) and its parts as written, the S3 endpoint URL, the bucket-name rule, and
 * percent-encoding of names. Parts keep the bytes of the URL: a remote's URL keys the
 * cache of what it holds, so two spellings of one server stay two remotes, as they were.
 */
#ifndef DV_URL_H
#define DV_URL_H

#include "core/base/error.h"

#include "core/base/buf.h"

#include <stddef.h>

typedef enum dv_url_kind {
    DV_URL_PATH, /* a directory path, absolute or relative */
    DV_URL_FILE, /* file:///<dir> */
    DV_URL_S3,
    DV_URL_HTTP, /* http:// or https:// */
} dv_url_kind;

typedef struct dv_url {
    dv_url_kind kind;
    dv_buf scheme; /* as written ("s3", "https", "HTTP"); "" for a path */
    int has_userinfo;
    dv_buf userinfo; /* http: "<user>[:<password>]" before the last '@' of the host part */
    dv_buf host;     /* s3: the bucket; http: <host>[:<port>] as written; else "" */
    dv_buf path;     /* what follows the host as written ("" or "/..."); file and path: the dir */
} dv_url;

#define DV_URL_INIT                                                                                \
    {                                                                                              \
        .scheme = DV_BUF_INIT, .userinfo = DV_BUF_INIT, .host = DV_BUF_INIT, .path = DV_BUF_INIT   \
    }

/** Read a remote's URL as dv remote add takes it: schemes in lowercase, s3 bucket names by
 *  DV_URL_BUCKET_STRICT, http(s) URLs with a host and no query or fragment. out is
 *  initialised here (dv_url_release it, also after an error). DV_EUSAGE saying what is wrong,
 *  or DV_ENOMEM. */
DV_NODISCARD int dv_url_parse(dv_url *out, const char *text);

/** Read the URL of an HTTP mirror as the http backend takes it: http:// or https:// in any
 *  case, a host, no query or fragment. DV_EUSAGE or DV_ENOMEM. */
DV_NODISCARD int dv_url_parse_http(dv_url *out, const char *text);

/** Read an S3 endpoint ("http[s]://<host>[:<port>][/<path>]", any case, a trailing '/'
 *  dropped): host gets everything after "://" as written, path "". DV_EUSAGE or DV_ENOMEM. */
DV_NODISCARD int dv_url_parse_endpoint(dv_url *out, const char *text);

/** Free the parts of url. NULL is fine. */
void dv_url_release(dv_url *url);

/** The bucket names a URL may hold (AWS's rule: 3 to 63 of a-z 0-9 '-' '.'). */
#define DV_URL_BUCKET_STRICT 0
/** The names an S3 remote opens with: legacy buckets of us-east-1 may hold uppercase
 *  letters and '_', and other services are laxer (at least one of A-Z a-z 0-9 '-' '.' '_'). */
#define DV_URL_BUCKET_LEGACY 1

/** Is the bucket name of len bytes valid by rule (DV_URL_BUCKET_*)? 0 when it is,
 *  DV_URL_BUCKET_BAD_LENGTH or DV_URL_BUCKET_BAD_CHAR when not. */
#define DV_URL_BUCKET_BAD_LENGTH 1
#define DV_URL_BUCKET_BAD_CHAR 2
DV_NODISCARD int dv_url_check_bucket(const char *bucket, size_t len, int rule);

/** Keep '/' as it is when percent-encoding a path (an object key in a URL's path). */
#define DV_URL_ENCODE_KEEP_SLASH 1u

/** Append text to out percent-encoded as SigV4 and URL paths want it: every byte but the
 *  RFC 3986 unreserved A-Z a-z 0-9 '-' '.' '_' '~' (and '/' with DV_URL_ENCODE_KEEP_SLASH)
 *  becomes %XX with uppercase hex. Returns 0 or DV_ENOMEM. */
DV_NODISCARD int dv_url_encode(dv_buf *out, const char *text, unsigned flags);

#endif
