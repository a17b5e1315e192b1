/* presence: how much of each tracked path's content a remote holds (presence.h). */
#include "core/ops/presence.h"

#include "core/base/error.h"
#include "core/base/pool.h"
#include "core/object/object.h"
#include "core/ops/reach.h"
#include "core/repo/remoteconf.h"
#include "core/repo/rev.h"
#include "remotes/remote_index.h"

#include <stdlib.h>
#include <string.h>

const char *dv_presence_state_name(int state)
{
    switch (state) {
    case DV_PRESENCE_ALL:
        return "all";
    case DV_PRESENCE_PARTLY:
        return "partly";
    case DV_PRESENCE_NONE:
        return "none";
    default:
        return "unknown";
    }
}

typedef struct presence_walk {
    dv_odb *odb;
    dv_remote_index *index;
    dv_presence_fn fn;
    void *ctx;
    const char *path;
    uint64_t objects, objects_missing;
    uint64_t bytes, missing_bytes;
} presence_walk;

/* An object the store lacks: the remote holding it holds all it names (a push uploads the
 * indexes of what names others last), so the walk need not look below. */
static int on_remote_only(void *ctx, const dv_reach_item *item)
{
    presence_walk *w = ctx;
    dv_pack *pack;
    dv_pack_entry e;
    int found = dv_remote_index_find(w->index, &item->id, &pack, &e);
    if (found == 1) {
        w->objects++;
        if (e.type == DV_OBJ_CHUNK)
            w->bytes += e.raw_len;
    }
    return found;
}

static int count_object(void *ctx, const dv_reach_item *item)
{
    presence_walk *w = ctx;
    dv_pack *pack;
    dv_pack_entry local, remote;
    int error = dv_odb_locate(&pack, &local, w->odb, &item->id);
    if (error < 0)
        return error;
    int on_remote = dv_remote_index_find(w->index, &item->id, &pack, &remote);
    if (on_remote < 0)
        return on_remote;
    uint64_t bytes = item->type == DV_OBJ_CHUNK ? local.raw_len : 0;
    w->objects++;
    w->bytes += bytes;
    if (!on_remote) {
        w->objects_missing++;
        w->missing_bytes += bytes;
    }
    return 0;
}

static const char *name_path(void *ctx, uint32_t root)
{
    (void)root;
    return ((presence_walk *)ctx)->path;
}

static int one_pointer(void *ctx, const char *data_relpath, const dv_pointer *p)
{
    presence_walk *w = ctx;
    dv_reach_item root = {p->oid,
                          p->kind == DV_KIND_DIR       ? DV_OBJ_TREE
                          : p->kind == DV_KIND_SYMLINK ? DV_OBJ_CHUNK
                                                       : DV_OBJ_MANIFEST,
                          0};
    dv_reach_ops ops = {NULL, NULL, on_remote_only, count_object, name_path, w};
    w->path = data_relpath;
    w->objects = w->objects_missing = w->bytes = w->missing_bytes = 0;
    dv_presence out = {data_relpath, 0, 0, 0, NULL};
    int error = dv_reach_walk(w->odb, &root, 1, &ops);
    if (error == DV_ENOTFOUND) {
        out.state = DV_PRESENCE_UNKNOWN;
        out.message = dv_error_last();
    } else if (error < 0) {
        return error;
    } else {
        out.state = !w->objects_missing               ? DV_PRESENCE_ALL
                    : w->objects_missing < w->objects ? DV_PRESENCE_PARTLY
                                                      : DV_PRESENCE_NONE;
    }
    out.bytes = w->bytes;
    out.missing_bytes = w->missing_bytes;
    return w->fn(w->ctx, &out);
}

int dv_presence_each(dv_repo *repo, dv_remote *remote, const char *const *filters, size_t n_filters,
                     dv_presence_fn fn, void *ctx)
{
    presence_walk w = {NULL, NULL, fn, ctx, NULL, 0, 0, 0, 0};
    dv_pool *pool = NULL;
    int error = 0;
    if ((error = dv_repo_odb(&w.odb, repo)) < 0 ||
        (error = dv_pool_new(&pool, dv_pool_default_threads())) < 0 ||
        (error = dv_remote_index_load(&w.index, remote, repo->cache_dir.ptr, pool)) < 0)
        goto done;
    error = dv_rev_each_worktree_pointer(repo, filters, n_filters, one_pointer, &w);
done:
    dv_remote_index_free(w.index);
    dv_pool_free(pool);
    return error;
}

int dv_presence_cached(dv_remote_index **index, char **name, dv_repo *repo)
{
    dv_remote *remote = NULL;
    *index = NULL;
    *name = NULL;
    if (dv_remoteconf_default(name, repo) < 0 || dv_remoteconf_open(&remote, repo, *name) < 0 ||
        dv_remote_index_load_cached(index, remote, repo->cache_dir.ptr) < 0) {
        dv_error_clear(); /* nothing known: nothing is said to be there */
        dv_remote_index_free(*index);
        *index = NULL;
        free(*name);
        *name = NULL;
    }
    dv_remote_free(remote);
    return 0;
}
