/* subpath: a path inside a tracked directory, looked up tree by tree. */
#include "core/data/subpath.h"

#include "core/base/buf.h"
#include "core/base/pathname.h"
#include "core/data/objread.h"

#include <string.h>

void dv_subpath_start(dv_subpath *s, const char *path, const char *data_relpath,
                      const dv_oid *tree)
{
    size_t len = strlen(data_relpath);
    s->path = path;
    s->rest = path + len + (path[len] == '/');
    s->id = *tree;
    s->mode = DV_MODE_DIR;
    s->size = 0;
}

int dv_subpath_found(const dv_subpath *s)
{
    return !s->rest[0];
}

int dv_subpath_step(dv_subpath *s, const dv_tree *t)
{
    const char *slash = strchr(s->rest, '/');
    size_t len = slash ? (size_t)(slash - s->rest) : strlen(s->rest);
    size_t done = (size_t)(s->rest - s->path) + len; /* the path up to this component */
    const dv_tree_entry *e = dv_tree_find(t, s->rest, len);
    if (!e)
        return dv_error_set(DV_EUSAGE,
                            "%s is not tracked by dv: the directory %.*s holds no %.*s (dv ls "
                            "%.*s lists what it holds)",
                            s->path, (int)(s->rest - s->path - 1), s->path, (int)len, s->rest,
                            (int)(s->rest - s->path - 1), s->path);
    const char *next = slash ? slash + 1 : s->rest + len;
    while (*next == '/')
        next++;
    if (*next && e->mode != DV_MODE_DIR)
        return dv_error_set(DV_EUSAGE, "%s is not tracked by dv: %.*s is a %s, not a directory",
                            s->path, (int)done, s->path,
                            e->mode == DV_MODE_SYMLINK ? "symbolic link" : "file");
    s->id = e->id;
    s->mode = e->mode;
    s->size = e->size;
    s->rest = next;
    return 0;
}

int dv_subpath_step_in(dv_subpath *s, dv_odb *odb, dv_odb *other)
{
    dv_buf dir = DV_BUF_INIT;
    dv_tree t = DV_TREE_INIT;
    int error = dv_buf_put(&dir, s->path, (size_t)(s->rest - s->path - 1));
    if (!error)
        error = dv_tree_read(&t, odb, &s->id, dir.ptr);
    if (error == DV_ENOTFOUND && other) {
        dv_tree_release(&t);
        t = (dv_tree)DV_TREE_INIT;
        dv_error_clear();
        error = dv_tree_read(&t, other, &s->id, dir.ptr);
    }
    if (error == DV_ENOTFOUND)
        error = dv_error_set(DV_ENOTFOUND,
                             "the tree of %s (%s), on the way to %s, is not in the local "
                             "store; run dv fetch %s (or dv pull %s)",
                             dir.ptr, dv_oid_hex(&s->id), s->path, s->path, s->path);
    if (!error)
        error = dv_subpath_step(s, &t);
    dv_tree_release(&t);
    dv_buf_release(&dir);
    return error;
}

int dv_subpath_resolve(dv_subpath *s, dv_odb *odb, dv_odb *other)
{
    int error = 0;
    while (!error && !dv_subpath_found(s))
        error = dv_subpath_step_in(s, odb, other);
    return error;
}

int dv_subpath_pointer(dv_pointer *out, const char *path, const char *data_relpath,
                       const dv_pointer *dir, dv_odb *odb, dv_odb *other)
{
    const char *problem = dv_pathname_check_path(path, NULL, NULL);
    if (problem)
        return dv_error_set(DV_EUSAGE, "dv never writes %s: %s", path, problem);
    if (dir->kind != DV_KIND_DIR)
        return dv_error_set(DV_EUSAGE, "%s is not tracked by dv: %s is a %s, not a directory",
                            path, data_relpath, dv_pointer_kind_name(dir->kind));
    dv_subpath s;
    dv_subpath_start(&s, path, data_relpath, &dir->oid);
    int error = dv_subpath_resolve(&s, odb, other);
    if (error < 0)
        return error;
    memset(out, 0, sizeof(*out));
    out->version = DV_POINTER_VERSION;
    out->kind = s.mode == DV_MODE_DIR       ? DV_KIND_DIR
                : s.mode == DV_MODE_SYMLINK ? DV_KIND_SYMLINK
                                            : DV_KIND_FILE;
    out->exec = s.mode == DV_MODE_EXEC;
    out->oid = s.id;
    out->size = s.size;
    return 0;
}
