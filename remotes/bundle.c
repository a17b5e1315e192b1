/* bundle (remote): the packs of a bundle file, listed from its table, read by pread. */
#include "remotes/bundle.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "storage/bundle.h"

#include <stdlib.h>
#include <string.h>

static int bundle_list(dv_remote *remote, const char *prefix, dv_remote_entry_fn fn, void *ctx)
{
    dv_bundle *b = remote->backend;
    dv_buf name = DV_BUF_INIT;
    int error = 0;
    DV_REMOTE_COUNT(remote, list_requests, 1);
    for (size_t i = 0; i < b->header.n_files && !error; i++) {
        if ((error = dv_bundle_file_name(&name, &b->header.files[i])) < 0)
            break;
        if (!strncmp(name.ptr, prefix, strlen(prefix)))
            error = fn(ctx, name.ptr, b->header.files[i].length, DV_REMOTE_TIME_UNKNOWN);
    }
    dv_buf_release(&name);
    return error;
}

static int read_only(dv_remote *remote)
{
    return dv_error_set(DV_EUSAGE,
                        "%s is a bundle, which is read-only; make a new one with dv bundle create",
                        remote->display);
}

static int bundle_put_file(dv_remote *remote, const char *name, const char *path)
{
    (void)name;
    (void)path;
    return read_only(remote);
}

static int bundle_remove(dv_remote *remote, const char *name)
{
    (void)name;
    return read_only(remote);
}

static int find(long *out, dv_remote *remote, const char *name)
{
    if ((*out = dv_bundle_find_name(remote->backend, name)) < 0)
        return dv_error_set(DV_ENOTFOUND, "bundle %s holds no %s", remote->display, name);
    return 0;
}

static int bundle_get(dv_remote *remote, const char *name, uint64_t offset, size_t len, void *buf)
{
    long i;
    int error = find(&i, remote, name);
    if (error == 0 && (error = dv_bundle_read(remote->backend, (size_t)i, offset, len, buf)) == 0) {
        DV_REMOTE_COUNT(remote, get_requests, 1);
        DV_REMOTE_COUNT(remote, bytes_received, len);
    }
    return error;
}

static int bundle_get_all(dv_remote *remote, const char *name, dv_buf *out, size_t max)
{
    dv_bundle *b = remote->backend;
    long i;
    int error = find(&i, remote, name);
    if (error < 0)
        return error;
    uint64_t length = b->header.files[i].length;
    dv_buf_clear(out);
    if (length > max)
        return dv_error_set(DV_ECORRUPT, "%s in bundle %s is larger than %zu bytes", name,
                            remote->display, max);
    if ((error = dv_buf_grow(out, (size_t)length)) < 0 ||
        (error = bundle_get(remote, name, 0, (size_t)length, out->ptr)) < 0)
        return error;
    out->len = (size_t)length;
    out->ptr[out->len] = '\0';
    return 0;
}

static void bundle_free(dv_remote *remote)
{
    dv_bundle_free(remote->backend);
}

static const dv_remote_ops bundle_ops = {
    .kind = "bundle",
    .read_only = 1,
    .list = bundle_list,
    .put_file = bundle_put_file,
    .get = bundle_get,
    .get_all = bundle_get_all,
    .remove = bundle_remove,
    .free = bundle_free,
};

int dv_remote_bundle_open(dv_remote **out, const char *path)
{
    dv_bundle *b = NULL;
    dv_buf url = DV_BUF_INIT;
    int error;
    *out = NULL;
    if ((error = dv_bundle_open(&b, path)) < 0 ||
        (error = dv_buf_printf(&url, "bundle:%s", dv_oid_hex(&b->trailer))) < 0 ||
        (error = dv_remote__new(out, &bundle_ops, url.ptr, path, b)) < 0)
        goto done;
    b = NULL;
    char *name = strdup(path);
    if (!name) {
        dv_remote_free(*out);
        *out = NULL;
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    free((*out)->name);
    (*out)->name = name;
done:
    dv_bundle_free(b);
    dv_buf_release(&url);
    return error;
}
