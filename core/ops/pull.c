/* pull: the fetch on threads of its own, the checkout beside it reading what has arrived. */
#include "core/ops/pull.h"

#include "core/repo/staging.h"

#include <pthread.h>
#include <string.h>

/* Where the trees and manifests of a pull wait for the checkout: <cache>/pull/<random>/. */
#define PULL_STAGING_DIR "pull"

typedef struct pull {
    dv_transfer_result *fetched;
    dv_repo *repo;
    dv_remote *remote;
    const char *const *filters;
    size_t n_filters;
    dv_transfer_options topts;
    dv_odb *store;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* ready, finished or a chunk stored */
    int ready;              /* every tree and manifest is in the staging store */
    int finished;           /* dv_fetch returned */
    int fetch_error;
    dv_error_state fetch_state;
    pthread_t fetcher; /* the fetch's own thread: it never waits in wait_for */
    int fetcher_known;
} pull;

static void on_ready(void *ctx)
{
    pull *p = ctx;
    pthread_mutex_lock(&p->lock);
    p->ready = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

static void on_arrived(void *ctx)
{
    pull *p = ctx;
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

static void *fetch_thread(void *ctx)
{
    pull *p = ctx;
    pthread_mutex_lock(&p->lock);
    p->fetcher = pthread_self();
    p->fetcher_known = 1;
    pthread_mutex_unlock(&p->lock);
    int error = dv_fetch(p->fetched, p->repo, p->remote, p->filters, p->n_filters, &p->topts);
    pthread_mutex_lock(&p->lock);
    p->fetch_error = error < 0 ? dv_error_state_capture(&p->fetch_state, error) : 0;
    p->finished = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* The store's reads that miss (a chunk the checkout wants before the fetch stored it) wait
 * here until the fetch has stored all of ids, or has ended without them. */
static int wait_for(void *ctx, const dv_oid *ids, size_t n)
{
    pull *p = ctx;
    int error = 0;
    pthread_mutex_lock(&p->lock);
    /* The fetch reads only what it holds or the store has: a miss there is not waited for
     * (nothing else would store it). */
    int own = p->fetcher_known && pthread_equal(p->fetcher, pthread_self());
    for (size_t i = 0; i < n; i++) {
        if (own && !dv_odb_has(p->store, &ids[i])) {
            error = dv_error_set(DV_ENOTFOUND, "object %s is not in the store", dv_oid_hex(&ids[i]));
            break;
        }
        while (!dv_odb_has(p->store, &ids[i]) && !p->finished)
            pthread_cond_wait(&p->changed, &p->lock);
        if (!dv_odb_has(p->store, &ids[i])) {
            error = dv_error_set(DV_ENOTFOUND, "object %s did not arrive from %s",
                                 dv_oid_hex(&ids[i]), p->remote->name);
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return error;
}

int dv_pull(dv_transfer_result *fetched, dv_checkout_result *restored, int *restore_error,
            dv_repo *repo, dv_remote *remote, const char *const *filters, size_t n_filters,
            const dv_transfer_options *topts, const dv_checkout_options *copts)
{
    pull p = {.fetched = fetched,
              .repo = repo,
              .remote = remote,
              .filters = filters,
              .n_filters = n_filters,
              .topts = *topts};
    dv_staging staging = DV_STAGING_INIT;
    dv_odb *held = NULL;
    pthread_t thread;
    int error, started = 0, attached = 0;
    memset(fetched, 0, sizeof(*fetched));
    memset(restored, 0, sizeof(*restored));
    *restore_error = 0;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.changed, NULL);
    if ((topts->revs) || (copts && copts->rev)) {
        error = dv_error_set(DV_EUSAGE, "dv_pull restores the pointer files staged in git");
        goto done;
    }
    if ((error = dv_repo_odb(&p.store, repo)) < 0 ||
        (error = dv_staging_make(&staging, repo, PULL_STAGING_DIR)) < 0 ||
        (error = dv_odb_open(&held, staging.dir.ptr, NULL)) < 0)
        goto done;
    p.topts.held_copy = held;
    p.topts.ready = on_ready;
    p.topts.arrived = on_arrived;
    p.topts.pipe_ctx = &p;
    /* Attached before the fetch starts, so that no thread reads the store's alternate while
     * it is set: the staging store is empty until the fetch is ready, and writes never go
     * to an alternate. */
    dv_odb_set_alternate(p.store, held, wait_for, &p);
    attached = 1;
    if ((error = pthread_create(&thread, NULL, fetch_thread, &p)) != 0) {
        error = dv_error_set(DV_EIO, "cannot start a thread: %s", strerror(error));
        goto done;
    }
    started = 1;
    pthread_mutex_lock(&p.lock);
    while (!p.ready && !p.finished)
        pthread_cond_wait(&p.changed, &p.lock);
    int go = p.ready;
    pthread_mutex_unlock(&p.lock);
    if (go)
        *restore_error = dv_checkout(restored, repo, filters, n_filters, copts);
done:
    if (started)
        pthread_join(thread, NULL);
    if (attached)
        dv_odb_set_alternate(p.store, NULL, NULL, NULL);
    if (p.fetch_error < 0)
        error = dv_error_state_restore(&p.fetch_state);
    dv_odb_free(held);
    dv_staging_remove(&staging);
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.lock);
    return error;
}
