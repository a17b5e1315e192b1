/* reach: the objects reachable from pointer files, level by level. */
#include "core/ops/reach.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/object.h"
#include "core/object/oidset.h"

#include <stdlib.h>
#include <string.h>

typedef struct level {
    dv_reach_item *items;
    size_t n, alloc;
} level;

static int level_push(level *l, const dv_oid *id, uint8_t type, uint32_t root)
{
    if (l->n == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 256;
        dv_reach_item *grown = realloc(l->items, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        l->items = grown;
        l->alloc = alloc;
    }
    l->items[l->n].id = *id;
    l->items[l->n].type = type;
    l->items[l->n].root = root;
    l->n++;
    return 0;
}

/* Add id to next unless seen before. */
static int reach(level *next, dv_oidset *seen, const dv_oid *id, uint8_t type, uint32_t root)
{
    int added = dv_oidset_add(seen, id);
    if (added <= 0)
        return added;
    return level_push(next, id, type, root);
}

static int missing_error(const dv_reach_ops *ops, const dv_reach_item *item)
{
    return dv_error_set(DV_ENOTFOUND,
                        "%s %s, part of %s, is not in the local store (run dv pull to fetch it, "
                        "or dv fsck to check the store)",
                        dv_object_type_name(item->type), dv_oid_hex(&item->id),
                        ops->root_name ? ops->root_name(ops->ctx, item->root) : "the data");
}

/* Read a tree or manifest and put what it names on next. */
static int expand(level *next, dv_oidset *seen, dv_odb *odb, const dv_reach_ops *ops,
                  const dv_reach_item *item, dv_buf *data, dv_manifest *m, dv_tree *t)
{
    uint8_t type;
    int error = ops->read ? ops->read(ops->ctx, item, data, &type) : 0;
    if (error == 0)
        error = dv_odb_read(data, &type, odb, &item->id);
    if (error < 0)
        return error;
    if (type != item->type)
        return dv_error_set(DV_ECORRUPT, "object %s is a %s where a %s was expected",
                            dv_oid_hex(&item->id), dv_object_type_name(type),
                            dv_object_type_name(item->type));
    if (type == DV_OBJ_MANIFEST && dv_manifest_is_list(data->ptr, data->len)) {
        dv_manifest_list list;
        if ((error = dv_manifest_list_decode(&list, data->ptr, data->len)) < 0)
            return dv_error_wrap(error, "manifest %s in %s", dv_oid_hex(&item->id),
                                 ops->root_name ? ops->root_name(ops->ctx, item->root)
                                                : "the data");
        for (size_t i = 0; i < list.n_parts && error >= 0; i++)
            error = reach(next, seen, &list.parts[i].id, DV_OBJ_MANIFEST, item->root);
        dv_manifest_list_release(&list);
        return error < 0 ? error : 0;
    }
    if (type == DV_OBJ_MANIFEST) {
        dv_manifest_release(m);
        if ((error = dv_manifest_decode(m, data->ptr, data->len)) < 0)
            return dv_error_wrap(error, "manifest %s in %s", dv_oid_hex(&item->id),
                                 ops->root_name ? ops->root_name(ops->ctx, item->root)
                                                : "the data");
        for (size_t i = 0; i < m->n_chunks && error >= 0; i++)
            error = reach(next, seen, &m->chunks[i].id, DV_OBJ_CHUNK, item->root);
        return error < 0 ? error : 0;
    }
    dv_tree_release(t);
    if ((error = dv_tree_decode(t, data->ptr, data->len)) < 0)
        return dv_error_wrap(error, "tree %s in %s", dv_oid_hex(&item->id),
                             ops->root_name ? ops->root_name(ops->ctx, item->root) : "the data");
    for (size_t i = 0; i < t->n_entries && error >= 0; i++)
        error = reach(next, seen, &t->entries[i].id, dv_object_type_of_mode(t->entries[i].mode),
                      item->root);
    return error < 0 ? error : 0;
}

int dv_reach_walk(dv_odb *odb, const dv_reach_item *roots, size_t n_roots, const dv_reach_ops *ops)
{
    int error = 0;
    level cur = {0}, next = {0}, missing = {0};
    dv_oidset seen = DV_OIDSET_INIT, elsewhere = DV_OIDSET_INIT, through = DV_OIDSET_INIT;
    dv_buf data = DV_BUF_INIT;
    dv_manifest m = DV_MANIFEST_INIT;
    dv_tree t = DV_TREE_INIT;
    for (size_t i = 0; i < n_roots; i++)
        if ((error = reach(&cur, &seen, &roots[i].id, roots[i].type, roots[i].root)) < 0)
            goto done;
    while (cur.n) {
        missing.n = 0;
        for (size_t i = 0; i < cur.n; i++)
            if (!dv_odb_has(odb, &cur.items[i].id) &&
                (error = level_push(&missing, &cur.items[i].id, cur.items[i].type,
                                    cur.items[i].root)) < 0)
                goto done;
        if (missing.n && !ops->fetch) {
            for (size_t i = 0; i < missing.n; i++) {
                int known = ops->absent ? ops->absent(ops->ctx, &missing.items[i]) : 0;
                if (known < 0) {
                    error = known;
                    goto done;
                }
                if (known != 1 && (known != 2 || missing.items[i].type == DV_OBJ_CHUNK)) {
                    error = missing_error(ops, &missing.items[i]);
                    goto done;
                }
                if ((error = dv_oidset_add(known == 1 ? &elsewhere : &through,
                                           &missing.items[i].id)) < 0)
                    goto done;
            }
            error = 0;
        } else if (missing.n) {
            /* fetch stores what it gets, or holds trees and manifests for read */
            if ((error = ops->fetch(ops->ctx, missing.items, missing.n)) < 0)
                goto done;
            int later = error == 1;
            error = 0;
            /* chunks are not read below, so check here that they arrived */
            for (size_t i = 0; i < missing.n && !later; i++)
                if (missing.items[i].type == DV_OBJ_CHUNK &&
                    !dv_odb_has(odb, &missing.items[i].id)) {
                    error = missing_error(ops, &missing.items[i]);
                    goto done;
                }
        }
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            const dv_reach_item *item = &cur.items[i];
            if (elsewhere.n && dv_oidset_has(&elsewhere, &item->id))
                continue;
            int passed = through.n && dv_oidset_has(&through, &item->id);
            if (ops->visit && !passed && (error = ops->visit(ops->ctx, item)) < 0)
                goto done;
            if (item->type != DV_OBJ_CHUNK &&
                (error = expand(&next, &seen, odb, ops, item, &data, &m, &t)) < 0)
                goto done;
        }
        level swap = cur;
        cur = next;
        next = swap;
    }
done:
    free(cur.items);
    free(next.items);
    free(missing.items);
    dv_oidset_release(&seen);
    dv_oidset_release(&elsewhere);
    dv_oidset_release(&through);
    dv_buf_release(&data);
    dv_manifest_release(&m);
    dv_tree_release(&t);
    return error;
}
