/*
 * remote: what every backend shares (allocation and freeing).
 */
#include "remotes/remote.h"

#include "core/base/error.h"

#include <stdlib.h>
#include <string.h>

int dv_remote__new(dv_remote **out, const dv_remote_ops *ops, const char *url, const char *display,
                   void *backend)
{
    dv_remote *remote = calloc(1, sizeof(*remote));
    if (!remote)
        return dv_error_set(DV_ENOMEM, "out of memory opening remote %s", display);
    remote->ops = ops;
    remote->name = strdup(url);
    remote->url = strdup(url);
    remote->display = strdup(display);
    if (!remote->name || !remote->url || !remote->display) {
        free(remote->name);
        free(remote->url);
        free(remote->display);
        free(remote);
        return dv_error_set(DV_ENOMEM, "out of memory opening remote %s", display);
    }
    remote->backend = backend;
    *out = remote;
    return 0;
}

void dv_remote_free(dv_remote *remote)
{
    if (!remote)
        return;
    if (remote->ops && remote->ops->free)
        remote->ops->free(remote);
    free(remote->name);
    free(remote->url);
    free(remote->display);
    free(remote);
}
