/* pool: worker threads for parallel-for tasks. */
#include "core/base/pool.h"

#include "core/base/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct dv_pool {
    pthread_mutex_t mutex;
    pthread_cond_t work; /* signalled when a task is queued or on shutdown */
    pthread_cond_t done; /* signalled when a task finishes */
    dv_pool_task *head, *tail;
    int stopping;
    int n_threads;
    pthread_t *threads;
    struct worker_arg *args;
};

struct worker_arg {
    dv_pool *pool;
    int index;
};

static void *worker_main(void *p)
{
    struct worker_arg *arg = p;
    dv_pool *pool = arg->pool;
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        while (!pool->stopping && !pool->head)
            pthread_cond_wait(&pool->work, &pool->mutex);
        if (pool->stopping && !pool->head)
            break;
        dv_pool_task *task = pool->head;
        size_t item = task->next++;
        if (task->next == task->n_items) {
            pool->head = task->queue_next;
            if (!pool->head)
                pool->tail = NULL;
        }
        int failed = task->error;
        pthread_mutex_unlock(&pool->mutex);
        int rc = failed ? 0 : task->fn(task->ctx, item, arg->index);
        pthread_mutex_lock(&pool->mutex);
        if (rc < 0 && !task->error)
            task->error = dv_error_state_capture(&task->error_state, rc);
        if (++task->done == task->n_items)
            pthread_cond_broadcast(&pool->done);
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

int dv_pool_new(dv_pool **out, int n_threads)
{
    dv_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (n_threads < 1)
        n_threads = 1;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->done, NULL);
    pool->threads = calloc((size_t)n_threads, sizeof(*pool->threads));
    pool->args = calloc((size_t)n_threads, sizeof(*pool->args));
    if (!pool->threads || !pool->args) {
        dv_pool_free(pool);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n_threads; i++) {
        pool->args[i].pool = pool;
        pool->args[i].index = i;
        if (pthread_create(&pool->threads[i], NULL, worker_main, &pool->args[i]) != 0) {
            dv_pool_free(pool);
            return dv_error_set(DV_ERROR, "cannot start worker thread");
        }
        pool->n_threads = i + 1;
    }
    *out = pool;
    return 0;
}

int dv_pool_threads(const dv_pool *pool)
{
    return pool->n_threads;
}

void dv_pool_submit(dv_pool *pool, dv_pool_task *task, dv_pool_fn fn, void *ctx, size_t n_items)
{
    task->fn = fn;
    task->ctx = ctx;
    task->n_items = n_items;
    task->next = task->done = 0;
    task->error = 0;
    task->error_state.code = 0;
    task->queue_next = NULL;
    if (n_items == 0)
        return;
    pthread_mutex_lock(&pool->mutex);
    if (pool->tail)
        pool->tail->queue_next = task;
    else
        pool->head = task;
    pool->tail = task;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mutex);
}

/* Wait for task with the pool's mutex held on return. */
static void wait_locked(dv_pool *pool, dv_pool_task *task)
{
    pthread_mutex_lock(&pool->mutex);
    while (task->done < task->n_items)
        pthread_cond_wait(&pool->done, &pool->mutex);
}

int dv_pool_wait(dv_pool *pool, dv_pool_task *task)
{
    if (task->n_items == 0)
        return 0;
    wait_locked(pool, task);
    int error = task->error < 0 ? dv_error_state_restore(&task->error_state) : 0;
    pthread_mutex_unlock(&pool->mutex);
    return error;
}

void dv_pool_drain(dv_pool *pool, dv_pool_task *task)
{
    if (task->n_items == 0)
        return;
    wait_locked(pool, task);
    pthread_mutex_unlock(&pool->mutex);
}

void dv_pool_free(dv_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mutex);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 0; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->done);
    free(pool->threads);
    free(pool->args);
    free(pool);
}

int dv_pool_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
