/*
 * http: a read-only mirror of a directory remote on a web server: packs are found in the
 * HTML listing of packs/, objects read with ranged GETs.
 */
#ifndef DV_REMOTE_HTTP_H
#define DV_REMOTE_HTTP_H

#include "core/base/error.h"

#include "remotes/remote.h"

#include <stddef.h>

/** A read-only mirror of a directory remote served over HTTP(S) at url (http:// or
 *  https://, with the server listing packs/ as HTML). Makes no request. */
DV_NODISCARD int dv_remote_http_open(dv_remote **out, const char *url);

/** Parse an HTML directory listing (len bytes): call fn with the file name of every href
 *  whose last path segment, percent-decoded, is "<64 lowercase hex>.pack" or ".idx", and
 *  size DV_REMOTE_SIZE_UNKNOWN (a non-zero return stops the parse and is returned). Anything
 *  else is skipped. Returns 0, fn's value or DV_ENOMEM. */
DV_NODISCARD int dv_http__parse_listing(const char *html, size_t len, dv_remote_entry_fn fn,
                                        void *ctx);

#endif
