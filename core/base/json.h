/*
 * json: a small JSON writer into a dv_buf, on one line with ", " and ": " between items.
 * Strings are escaped as dv has always written them: a byte that is not part of valid
 * UTF-8 becomes a lone surrogate escape (\udc80 + byte), which Python's surrogateescape
 * and similar decoders map back to the byte. Errors stick: the calls after the first
 * failure (out of memory, or a call out of place) do nothing, and dv_json_finish reports
 * it once.
 */
#ifndef DV_JSON_H
#define DV_JSON_H

#include "core/base/error.h"

#include "core/base/buf.h"

#include <stdint.h>

/** Containers open at most this deep. */
#define DV_JSON_MAX_DEPTH 64

/** A writer: fill with dv_json_init. Its fields are its own. */
typedef struct dv_json {
    dv_buf *out;
    int error;           /* the first failure (a DV_E* code), or 0 */
    const char *misuse;  /* what was out of place, for dv_json_finish's message */
    unsigned depth;      /* containers open */
    uint64_t in_object;  /* bit d: the container at depth d + 1 is an object */
    uint64_t has_items;  /* bit d: it holds an item already */
    int after_key;       /* a key was written; its value comes next */
    int wrote_top_value; /* the one top-level value is written (or begun) */
} dv_json;

/** Start writing one JSON value at the end of out (lent; it must outlive the writer). */
void dv_json_init(dv_json *j, dv_buf *out);

void dv_json_object_begin(dv_json *j);
void dv_json_object_end(dv_json *j);
void dv_json_array_begin(dv_json *j);
void dv_json_array_end(dv_json *j);
/** The key of the next member of the object open now. */
void dv_json_key(dv_json *j, const char *key);
/** A string value (a C string, escaped as the header says). */
void dv_json_string(dv_json *j, const char *s);
void dv_json_int(dv_json *j, int64_t value);
void dv_json_uint(dv_json *j, uint64_t value);
/** A number as %.15g; NaN and infinities, which JSON lacks, as null. */
void dv_json_double(dv_json *j, double value);
void dv_json_bool(dv_json *j, int value);
void dv_json_null(dv_json *j);

/** 0 when the value is complete and every call succeeded; else the first failure:
 *  DV_ENOMEM when out ran out of memory, DV_EUSAGE for a call out of place (a value
 *  without a key in an object, a key in an array, closing a container that is not open,
 *  a container left open, a second top-level value), with the message set. */
DV_NODISCARD int dv_json_finish(dv_json *j);

/** Append s to out as a JSON string (quotes included), escaped as the header says.
 *  Returns 0 or DV_ENOMEM. */
DV_NODISCARD int dv_json_put_string(dv_buf *out, const char *s);

#endif
