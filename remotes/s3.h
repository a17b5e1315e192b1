/*
 * s3: a remote on an S3-compatible bucket, signed with SigV4. s3.c makes the requests,
 * s3_xml.c reads the XML of the answers, s3_auth.c finds the credentials.
 */
#ifndef DV_REMOTE_S3_H
#define DV_REMOTE_S3_H

#include "core/base/error.h"

#include "remotes/remote.h"

struct dv_buf;

#include <stddef.h>

/** Settings of an S3 remote, from the URL s3://<bucket>[/<prefix>] and the configuration. */
typedef struct dv_s3_options {
    const char *bucket;
    const char *prefix;        /* "" or a path without leading or trailing '/' */
    const char *endpoint;      /* "https://s3.<region>.amazonaws.com" when NULL */
    const char *region;        /* "us-east-1" when NULL */
    int path_style;            /* 1: <endpoint>/<bucket>/<key>; 0: <bucket>.<host>/<key> */
    const char *access_key_id; /* required */
    const char *secret_access_key;
    const char *session_token; /* may be NULL */
    int max_attempts;          /* per request, for transient failures; 0 = default (5) */
} dv_s3_options;

/** An S3-compatible bucket. Makes no request. */
DV_NODISCARD int dv_remote_s3_open(dv_remote **out, const dv_s3_options *opts);

/** S3 credentials, each string malloc'd (session_token NULL when there is none). */
typedef struct dv_s3_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
} dv_s3_credentials;

/** Find S3 credentials. With a profile: its section of the shared credentials file
 *  (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials). Without: AWS_ACCESS_KEY_ID and
 *  AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN) from the environment, else that file's
 *  section named by AWS_PROFILE, or [default].
 *  On success out owns the strings (dv_s3_credentials_release). DV_ENOTFOUND when there are
 *  none, with a message saying where it looked; DV_EUSAGE for half-set credentials. */
DV_NODISCARD int dv_s3_credentials_load(dv_s3_credentials *out, const char *profile);
/** Free the strings of creds and zero it. NULL is fine. */
void dv_s3_credentials_release(dv_s3_credentials *creds);

/** Parse one ListObjectsV2 response (len bytes of XML): call fn with each object's key and
 *  size (a non-zero return stops the parse and is returned), set *truncated from
 *  <IsTruncated>, and *next_token to a malloc'd copy of <NextContinuationToken> (NULL when
 *  absent). Returns 0, fn's value, DV_ECORRUPT for a malformed response or DV_ENOMEM. */
/** S3's LastModified ("2024-05-01T12:34:56.000Z") in seconds since the epoch, or
 *  DV_REMOTE_TIME_UNKNOWN when text is not one. */
int64_t dv_s3__parse_time(const char *text, size_t len);
DV_NODISCARD int dv_s3__parse_list(const char *xml, size_t len, dv_remote_entry_fn fn, void *ctx,
                                   int *truncated, char **next_token);
/** Ask for at most max_keys objects per list request (0: the server's default); for tests. */
void dv_s3__set_list_page_keys(dv_remote *remote, int max_keys);
/** The URL of object name on an S3 remote, malloc'd into *out. Returns 0 or DV_ENOMEM. */
DV_NODISCARD int dv_s3__object_url(char **out, dv_remote *remote, const char *name);

/** The unescaped text of the first <tag> of an S3 error body into out ("" if there is none;
 *  the raw text when it holds a bad entity). */
void dv_s3__error_field(struct dv_buf *out, const struct dv_buf *body, const char *tag);

#endif
