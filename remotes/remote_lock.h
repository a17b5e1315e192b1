/*
 * remote_lock: the lock object a dv gc --remote writes on the remote before it deletes
 * anything (locks/<32 hex>, a few "key: value" lines naming host, pid, time and the prune
 * expiry) and removes when it ends. A lock is live while its listed time is younger than
 * DV_REMOTE_LOCK_LIVE_SECONDS: a second gc refuses then; a push never waits for it, it reads
 * the cutoff below which the gc may delete packs and makes sure it relies on none of those.
 * A lock whose host is this one and whose pid runs no process here is one of a gc that died
 * (killed, or its remote went away half-way): the next gc removes it and goes on.
 */
#ifndef DV_REMOTE_LOCK_H
#define DV_REMOTE_LOCK_H

#include "core/base/error.h"

#include "remotes/remote.h"

#include <stdint.h>

#define DV_REMOTE_LOCKS_PREFIX "locks/"
/** A lock older than this (by its listed time) is one of a gc that died: it is ignored. A
 *  gc deletes nothing once its own lock is half this old. */
#define DV_REMOTE_LOCK_LIVE_SECONDS (12 * 3600)
#define DV_REMOTE_LOCK_MAX_BYTES 4096
/** prune-expire of a gc that deletes nothing for its age (gc.pruneExpire never). */
#define DV_REMOTE_PRUNE_NEVER INT64_MAX

typedef struct dv_remote_lock {
    char *name;           /* "locks/<hex>" */
    char *host;           /* as its body says ("?" when it does not) */
    int64_t pid, time;    /* its body's, 0 when absent */
    int64_t modified;     /* the listing's time (the body's time when the listing has none) */
    int64_t prune_expire; /* seconds; DV_REMOTE_PRUNE_NEVER */
} dv_remote_lock;

/** 1 when lock names this host and a pid that runs no process here (not this process). */
int dv_remote_lock_died_here(const dv_remote_lock *lock);

/** The packs a live lock's gc may delete are those written before this time (by the
 *  remote's clock): its listed time minus its prune expiry (INT64_MIN for never). */
int64_t dv_remote_lock_cutoff(const dv_remote_lock *lock);

/**
 * The live locks on the remote: *n of them in *out (free with dv_remote_locks_free). now is
 * the local time in seconds. A lock whose body cannot be read is counted live with an
 * expiry of 0 (its gc may delete anything it lists).
 */
DV_NODISCARD int dv_remote_locks_live(dv_remote_lock **out, size_t *n, dv_remote *remote,
                                      int64_t now);
void dv_remote_locks_free(dv_remote_lock *locks, size_t n);

/**
 * Write a lock of this process (host, pid, time, prune_expire seconds) through a temp file in
 * tmp_dir, then list the locks: when another live one is there, remove this one again and
 * return DV_ELOCKED naming the other. On success *out is the lock as listed (its modified
 * time is the remote's).
 */
DV_NODISCARD int dv_remote_lock_take(dv_remote_lock *out, dv_remote *remote, const char *tmp_dir,
                                     int64_t prune_expire);
/** Remove the lock (deleting a lock that is gone is fine) and free its fields. */
DV_NODISCARD int dv_remote_lock_release(dv_remote_lock *lock, dv_remote *remote);
void dv_remote_lock_clear(dv_remote_lock *lock);

#endif
