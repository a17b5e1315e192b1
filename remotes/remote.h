/*
 * remote: the interface every remote backend implements (a directory, S3-compatible
 * object storage, a read-only HTTP mirror) and what they share. Each backend declares its
 * own opening in its header (file.h, s3.h, http.h); remote_url opens one from a URL.
 *
 * A remote is a flat namespace of immutable objects named by '/'-separated paths
 * relative to the remote's root ("packs/<id>.pack", "packs/<id>.idx"). A put is
 * atomic: a reader sees the whole object or none of it. All operations may be called
 * from several threads at once on the same dv_remote.
 */
#ifndef DV_REMOTE_H
#define DV_REMOTE_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct dv_remote dv_remote;
struct dv_buf;

/** The size list reports for an object whose size the remote does not say (HTTP listings). */
#define DV_REMOTE_SIZE_UNKNOWN UINT64_MAX

/** The time list reports for an object whose last modification the remote does not say. */
#define DV_REMOTE_TIME_UNKNOWN INT64_MIN

/** Called by list for each object under the prefix: its name (relative to the remote's
 *  root), size in bytes (or DV_REMOTE_SIZE_UNKNOWN) and the time it was last written, in
 *  seconds since the epoch by the remote's clock (a file's mtime, S3's LastModified; or
 *  DV_REMOTE_TIME_UNKNOWN). A non-zero return stops the listing and is returned. */
typedef int (*dv_remote_entry_fn)(void *ctx, const char *name, uint64_t size, int64_t modified);

/** Counters a remote keeps of the requests it made (for --stats and benchmarks). */
typedef struct dv_remote_stats {
    uint64_t list_requests;
    uint64_t put_requests; /* uploads */
    uint64_t get_requests;
    uint64_t other_requests; /* deletes */
    uint64_t bytes_sent;     /* request bodies */
    uint64_t bytes_received; /* response bodies of gets */
    uint64_t retries;
} dv_remote_stats;

typedef struct dv_remote_ops {
    /** "file", "s3", "http" */
    const char *kind;
    /** 1 when put_file and remove always fail (a read-only mirror) */
    int read_only;
    /** List the objects whose names start with prefix (e.g. "packs/"), in any order. */
    int (*list)(dv_remote *remote, const char *prefix, dv_remote_entry_fn fn, void *ctx);
    /** Upload the local file at path as object name, replacing nothing half-way: after an
     *  error the object is either absent or whole. */
    int (*put_file)(dv_remote *remote, const char *name, const char *path);
    /** Read exactly len bytes of object name starting at offset into buf. DV_ENOTFOUND if
     *  the object does not exist; DV_ECORRUPT if it is shorter than offset + len. */
    int (*get)(dv_remote *remote, const char *name, uint64_t offset, size_t len, void *buf);
    /** Read all of object name into out (cleared first), which must hold at most max bytes.
     *  DV_ENOTFOUND if the object does not exist; DV_ECORRUPT if it is larger than max. For
     *  objects listed with DV_REMOTE_SIZE_UNKNOWN. */
    int (*get_all)(dv_remote *remote, const char *name, struct dv_buf *out, size_t max);
    /** Delete object name; deleting an absent object is not an error. */
    int (*remove)(dv_remote *remote, const char *name);
    /** Remove what puts that were killed left under prefix (e.g. "packs/"): temp files that
     *  no running put, of this process or any other, still writes. *removed gets their
     *  number. NULL for a backend whose interrupted puts leave nothing (S3: a PUT that does
     *  not finish creates no object; dv makes no multipart uploads). */
    int (*clean)(dv_remote *remote, const char *prefix, uint64_t *removed);
    /** Free the backend's state (not the dv_remote struct itself). */
    void (*free)(dv_remote *remote);
} dv_remote_ops;

/** transfer.timeout: how long an HTTP request may wait for a connection, or go without a
 *  byte moving either way, before it is abandoned (and retried once). */
#define DV_REMOTE_TIMEOUT_DEFAULT_SECONDS 30
#define DV_REMOTE_TIMEOUT_MIN_SECONDS 1
#define DV_REMOTE_TIMEOUT_MAX_SECONDS 3600

/** The largest object size a listing may report (anything larger is not a real object). */
#define DV_REMOTE_SIZE_MAX ((uint64_t)INT64_MAX)

struct dv_remote {
    const dv_remote_ops *ops;
    char *name;            /* configured name ("origin"), or the URL when opened directly */
    char *url;             /* as configured */
    char *display;         /* for messages: the URL without credentials */
    void *backend;         /* the backend's own state */
    int timeout_seconds;   /* transfer.timeout for HTTP backends; 0: the default */
    dv_remote_stats stats; /* updated with __atomic_fetch_add by the backends */
};

/** Count one event in a remote's statistics (thread-safe). */
#define DV_REMOTE_COUNT(remote, field, n)                                                          \
    __atomic_fetch_add(&(remote)->stats.field, (uint64_t)(n), __ATOMIC_RELAXED)

/** The ops and the allocation shared by the backends: a dv_remote with name, url and
 *  display copied, stats zeroed and backend set. */
DV_NODISCARD int dv_remote__new(dv_remote **out, const dv_remote_ops *ops, const char *url,
                                const char *display, void *backend);

/** Free a remote of any kind. NULL is fine. */
void dv_remote_free(dv_remote *remote);

#endif
