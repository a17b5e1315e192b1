/*
 * remote_url: opening a remote from its URL (s3://, http[s]://, file:// or a directory path)
 * and the settings that come with it, whichever backend that is. Where the settings come
 * from (a repository's configuration) is the caller's business. A path that names a bundle
 * file opens it as a read-only remote (remotes/bundle.h).
 */
#ifndef DV_REMOTE_URL_H
#define DV_REMOTE_URL_H

#include "core/base/error.h"

#include "remotes/remote.h"

typedef struct dv_remote_url_options {
    const char *name;     /* the remote's name, for messages and remote->name; NULL: the URL */
    const char *base_dir; /* a relative directory path is taken from here; NULL: as it is */
    int timeout_seconds;  /* transfer.timeout; 0: the default */
    /* s3 only; NULL or 0 when not set */
    const char *endpoint; /* else AWS_ENDPOINT_URL, else AWS's own */
    const char *region;   /* else AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 */
    int path_style;
    const char *profile;           /* a section of the shared credentials file */
    const char *access_key_id;     /* both or neither; neither: dv_s3_credentials_load */
    const char *secret_access_key; /* (the caller checks that both are set, or neither) */
} dv_remote_url_options;

/** 1 if path (a directory remote's URL as written, or a path) names a bundle file rather
 *  than a directory: it ends in ".dvbundle", or it is a regular file that starts with the
 *  bundle magic (see storage/bundle.h); else 0. */
DV_NODISCARD int dv_remote_url_is_bundle(const char *path);

/** Open the remote at url with opts (which may be NULL). Makes no request; a directory is
 *  created if missing. DV_EUSAGE for a URL dv does not take or for missing credentials, with
 *  the message saying what to do; DV_ENOMEM. */
DV_NODISCARD int dv_remote_url_open(dv_remote **out, const char *url,
                                    const dv_remote_url_options *opts);

#endif
