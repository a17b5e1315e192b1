/*
 * lock: the repository lock (.dv/lock) that mutating commands hold. It is an
 * flock(2) on the file, so the kernel releases it when the holder dies, even by
 * kill -9; the file records the holder's pid for messages.
 */
#ifndef DV_LOCK_H
#define DV_LOCK_H

#include "core/base/error.h"

typedef struct dv_lock dv_lock;

/* The longest wait core.lockTimeout and DV_LOCK_TIMEOUT may ask for: a year, which is
 * "wait for it" while its milliseconds stay far from overflowing. */
#define DV_LOCK_TIMEOUT_MAX_SECONDS (365LL * 24 * 3600)

/** Called once when the lock is busy and we start waiting; holder_pid may be 0 if unknown. */
typedef void (*dv_lock_wait_fn)(void *ctx, long holder_pid);

/**
 * Take the lock at path, waiting up to timeout_ms (0 or less: do not wait; at most
 * DV_LOCK_TIMEOUT_MAX_SECONDS are waited). On timeout returns DV_ELOCKED with a message
 * naming the holder's pid.
 */
DV_NODISCARD int dv_lock_acquire(dv_lock **out, const char *path, long timeout_ms,
                                 dv_lock_wait_fn on_wait, void *ctx);
/**
 * As dv_lock_acquire, shared (any number of holders, none while an exclusive holder has it)
 * when shared is set: the store's gc lock, which writers hold shared and dv gc exclusive. A
 * shared holder writes no pid; while it waits, holder_pid names the exclusive holder.
 */
DV_NODISCARD int dv_lock_acquire_mode(dv_lock **out, const char *path, int shared, long timeout_ms,
                                      dv_lock_wait_fn on_wait, void *ctx);
/** Release and free; NULL is fine. */
void dv_lock_release(dv_lock *lock);

#endif
