/*
 * pool: a fixed set of worker threads that run "parallel for" tasks. A task
 * is a function called once per item index; items of one task may run in any
 * order on any worker. Submit returns at once; wait blocks until the task ends.
 */
#ifndef DV_POOL_H
#define DV_POOL_H

#include "core/base/error.h"

#include <stddef.h>

typedef struct dv_pool dv_pool;

/** Per-item function: worker is 0..n_threads-1 (for per-worker scratch). Returns 0 or < 0. */
typedef int (*dv_pool_fn)(void *ctx, size_t item, int worker);

typedef struct dv_pool_task {
    dv_pool_fn fn;
    void *ctx;
    size_t n_items;
    /* private */
    size_t next, done;
    int error;
    dv_error_state error_state; /* the first failing item's code and message */
    struct dv_pool_task *queue_next;
} dv_pool_task;

/** Start n_threads workers (>= 1). */
DV_NODISCARD int dv_pool_new(dv_pool **out, int n_threads);
DV_NODISCARD int dv_pool_threads(const dv_pool *pool);
/** Queue task (which must stay alive until dv_pool_wait returns for it). */
void dv_pool_submit(dv_pool *pool, dv_pool_task *task, dv_pool_fn fn, void *ctx, size_t n_items);
/** Wait for task; returns its first item error, whose message becomes this thread's (each
 *  task keeps its own, so two failing tasks report their own messages). */
DV_NODISCARD int dv_pool_wait(dv_pool *pool, dv_pool_task *task);
/** Wait for task and drop its result: for paths that have failed already, whose own
 *  message must stay this thread's. */
void dv_pool_drain(dv_pool *pool, dv_pool_task *task);
/** Stop and join the workers; NULL is fine. */
void dv_pool_free(dv_pool *pool);

/** Worker threads to use by default: the number of online CPUs (at least 1). */
DV_NODISCARD int dv_pool_default_threads(void);

#endif
