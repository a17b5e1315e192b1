/* ondemand: objects fetched from a remote as reads need them (ondemand.h). */
#include "core/ops/ondemand.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/ops/transfer.h"
#include "core/repo/remoteconf.h"
#include "storage/odb.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct dv_ondemand {
    dv_repo *repo;
    dv_odb *local;   /* the repository's store */
    dv_odb *partial; /* <cache>/partial, or NULL when there is none and nothing is fetched */
    char *remote_name;
    dv_remote *remote;   /* opened at the first miss */
    dv_fetcher *fetcher; /* made with it */
    pthread_mutex_t lock;
};

/* The odb's fetch function: bring ids into the partial store (readers on several threads may
 * miss at once; one fetches while the others wait, then finds what it fetched). */
static int fetch_into_partial(void *ctx, const dv_oid *ids, size_t n)
{
    dv_ondemand *od = ctx;
    int error = 0;
    pthread_mutex_lock(&od->lock);
    dv_oid *missing = malloc(n * sizeof(*missing));
    size_t n_missing = 0;
    if (!missing) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (!dv_odb_has(od->partial, &ids[i]))
            missing[n_missing++] = ids[i];
    if (!n_missing)
        goto done;
    if (!od->remote && (error = dv_remoteconf_open(&od->remote, od->repo, od->remote_name)) < 0)
        goto done;
    if (!od->fetcher &&
        (error = dv_fetcher_new(&od->fetcher, od->repo, od->remote, od->partial, NULL)) < 0) {
        dv_fetcher_free(od->fetcher);
        od->fetcher = NULL;
        goto done;
    }
    error = dv_fetcher_get(od->fetcher, missing, n_missing);
done:
    if (error < 0 && error != DV_ENOMEM)
        error = dv_error_wrap(error,
                              "cannot fetch what the local store lacks from remote %s "
                              "(--offline reads the local store only)",
                              od->remote_name);
    free(missing);
    pthread_mutex_unlock(&od->lock);
    return error;
}

int dv_ondemand_attach(dv_ondemand **out, dv_repo *repo, const char *remote_name, int offline)
{
    dv_ondemand *od = calloc(1, sizeof(*od));
    int error;
    *out = NULL;
    if (!od)
        return dv_error_set(DV_ENOMEM, "out of memory");
    pthread_mutex_init(&od->lock, NULL);
    od->repo = repo;
    if ((error = dv_repo_odb(&od->local, repo)) < 0)
        goto fail;
    if (!offline && remote_name && !(od->remote_name = strdup(remote_name))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto fail;
    }
    if (!offline && !remote_name && dv_remoteconf_default(&od->remote_name, repo) < 0) {
        dv_error_clear(); /* no default remote: nothing to fetch from */
        od->remote_name = NULL;
    }
    if (remote_name && !offline) {
        /* named: it must exist, and saying so now beats failing at the first miss */
        if ((error = dv_remoteconf_open(&od->remote, repo, remote_name)) < 0)
            goto fail;
    }
    if ((error = dv_repo_partial_odb(&od->partial, repo, od->remote_name != NULL)) < 0)
        goto fail;
    if (od->partial)
        dv_odb_set_alternate(od->local, od->partial, od->remote_name ? fetch_into_partial : NULL,
                             od);
    *out = od;
    return 0;
fail:
    if (dv_ondemand_detach(od) < 0)
        dv_error_clear(); /* nothing was fetched: the first error is the one to tell */
    return error;
}

const char *dv_ondemand_counts(const dv_ondemand *od, uint64_t *objects, uint64_t *bytes)
{
    *objects = *bytes = 0;
    if (!od || !od->fetcher)
        return NULL;
    dv_fetcher_counts(od->fetcher, objects, bytes);
    return od->remote_name;
}

int dv_ondemand_detach(dv_ondemand *od)
{
    if (!od)
        return 0;
    int error = 0;
    if (od->local)
        dv_odb_set_alternate(od->local, NULL, NULL, NULL);
    dv_fetcher_free(od->fetcher);
    if (od->partial) {
        error = dv_odb_flush(od->partial);
        dv_odb_free(od->partial);
    }
    if (od->remote)
        dv_remote_free(od->remote);
    free(od->remote_name);
    pthread_mutex_destroy(&od->lock);
    free(od);
    return error;
}
