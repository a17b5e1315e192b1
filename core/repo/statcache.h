/*
 * statcache: the stat cache `.dv/index`, like git's index. It remembers, per path relative
 * to the repository top, the stat data of a file when it was last hashed and the id it
 * hashed to, so `dv add` and `dv status` can skip hashing files that did not change.
 * It is only a cache: a damaged file is discarded, never trusted (docs/formats.md).
 */
#ifndef DV_STATCACHE_H
#define DV_STATCACHE_H

#include "core/base/error.h"

#include "core/object/hash.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define DV_STATCACHE_VERSION 1
/* Longest path (in bytes) an entry can hold. */
#define DV_STATCACHE_MAX_PATH_BYTES 65535
/*
 * An entry is trusted only if it was hashed at least this long after the file's mtime:
 * a file changed after we hashed it but within the same timestamp tick keeps its mtime.
 * One second covers file systems with coarse clocks.
 */
#define DV_STATCACHE_RACY_NS 1000000000
/* Larger index files are treated as damaged and discarded. */
#define DV_STATCACHE_MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct dv_statcache dv_statcache;

/**
 * Load the stat cache at path into a new cache (*out, owned by the caller; free with
 * dv_statcache_free). A missing file gives an empty cache. A damaged file (truncated, wrong
 * magic or version, bad lengths, order or checksum, too large) also gives an empty cache,
 * and dv_statcache_was_discarded() then returns 1 so the caller can warn; the next
 * dv_statcache_save replaces it. Returns 0, DV_ENOMEM, or DV_EIO if the file exists but
 * cannot be read.
 */
DV_NODISCARD int dv_statcache_load(dv_statcache **out, const char *path);

/** 1 if dv_statcache_load found a damaged file and discarded it, else 0. */
DV_NODISCARD int dv_statcache_was_discarded(const dv_statcache *c);

/**
 * Look relpath up. Returns 1 and sets *id if relpath has an entry whose size, mtime and
 * ctime (in ns), inode and st_mode all equal st's, and the entry is not racy (its mtime is
 * at least DV_STATCACHE_RACY_NS before the time it was hashed). Returns 0 otherwise, and
 * *id is left alone. Never fails.
 */
DV_NODISCARD int dv_statcache_lookup(dv_oid *id, dv_statcache *c, const char *relpath,
                                     const struct stat *st);

/** Returns 1 and sets *id if relpath has an entry, whatever its stat data; else 0. The id
 *  names what the file held when it was last hashed or written, a likely earlier version. */
DV_NODISCARD int dv_statcache_last_id(dv_oid *id, const dv_statcache *c, const char *relpath);

/**
 * Record that relpath, with stat data st, hashed to id. hashed_ns is dv_fs_now_ns() taken
 * just before the file was read for hashing. A racy entry is stored too (it will miss on
 * lookup until rehashed). relpath is copied. Returns 0, DV_ENOMEM, or DV_EUSAGE if relpath
 * is empty or longer than DV_STATCACHE_MAX_PATH_BYTES.
 */
DV_NODISCARD int dv_statcache_update(dv_statcache *c, const char *relpath, const struct stat *st,
                                     const dv_oid *id, int64_t hashed_ns);

/*
 * Files dv wrote itself (dv checkout): their content is known without reading them. The
 * kernel stamps file times from a coarse clock; once that clock has moved a time step past
 * a file's mtime and ctime, any later change to the file would give it a later mtime or
 * ctime, so its entry needs no racy window. A writer waits (briefly) until
 * dv_statcache_file_clock_ns() >= dv_statcache_change_visible_ns(st), then records the
 * entry with dv_statcache_update_written. A change made by someone else within that time
 * step of dv's own write, keeping the size, would go unseen, as it would with git.
 */
/** The time after which a change to a file with stat st would show in its times, or 0 when
 *  the file system's time step cannot be told (whole seconds). */
int64_t dv_statcache_change_visible_ns(const struct stat *st);
/** Now, as the clock the kernel stamps file times with (CLOCK_REALTIME_COARSE). */
int64_t dv_statcache_file_clock_ns(void);
/** Record an entry for a file dv wrote, trusted from the start (see above). */
DV_NODISCARD int dv_statcache_update_written(dv_statcache *c, const char *relpath,
                                             const struct stat *st, const dv_oid *id);

/** Forget relpath. Returns 1 if it had an entry, 0 if not. */
int dv_statcache_remove(dv_statcache *c, const char *relpath);

/**
 * Forget every entry strictly below directory dir_relpath: those whose path starts with
 * dir_relpath followed by '/' ("data" removes "data/x" and "data/y/z" but neither "data"
 * nor "data2/x"). A trailing '/' on dir_relpath is allowed; "" means the top, so every
 * entry goes. Returns 0 or DV_ENOMEM.
 */
DV_NODISCARD int dv_statcache_remove_under(dv_statcache *c, const char *dir_relpath);

/**
 * Write the cache to path atomically (temp file in the same directory, then rename; no
 * fsync: it is a cache). Does nothing if nothing changed since load or the last save.
 * Returns 0, DV_ENOMEM, DV_EIO, or DV_ERROR if the file would exceed
 * DV_STATCACHE_MAX_FILE_BYTES; on failure the old file is left as it was.
 */
DV_NODISCARD int dv_statcache_save(dv_statcache *c, const char *path);

/** Number of entries. */
size_t dv_statcache_count(const dv_statcache *c);

/** Free the cache; NULL is a no-op. */
void dv_statcache_free(dv_statcache *c);

#endif
