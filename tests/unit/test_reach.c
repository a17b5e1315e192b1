/*
 * Tests for core/reach: the objects reachable from roots, level by level, with a fetch
 * callback for what the store lacks (and trees/manifests it holds aside).
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/ops/reach.h"
#include "storage/odb.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static char root_dir[64];

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "reach");
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(reach, .init = make_dirs, .fini = remove_dirs, .timeout = 60);

static dv_odb *open_odb(const char *name)
{
    return testutil_open_odb(root_dir, name);
}

static dv_oid put(dv_odb *odb, uint8_t type, const void *data, size_t len)
{
    dv_oid id;
    cr_assert_eq(dv_odb_put_hashed(&id, odb, type, data, len, NULL), 0, "%s", dv_error_last());
    return id;
}

/* A file of n chunks (seeded); its manifest id. The chunks' ids go to chunks. */
static dv_oid make_file(dv_odb *odb, int n, uint64_t seed, dv_oid *chunks)
{
    dv_manifest m = DV_MANIFEST_INIT;
    uint8_t buf[1000];
    for (int i = 0; i < n; i++) {
        fill_random(buf, sizeof(buf), seed * 100 + (uint64_t)i);
        chunks[i] = put(odb, DV_OBJ_CHUNK, buf, sizeof(buf));
        cr_assert_eq(dv_manifest_append(&m, &chunks[i], sizeof(buf)), 0);
    }
    dv_buf enc = DV_BUF_INIT;
    cr_assert_eq(dv_manifest_encode(&enc, &m), 0);
    dv_oid id = put(odb, DV_OBJ_MANIFEST, enc.ptr, enc.len);
    dv_buf_release(&enc);
    dv_manifest_release(&m);
    return id;
}

/* root tree: a (executable file, 3 chunks), link (symlink chunk), sub/ (tree: b (file of
 * 2 chunks, the second shared with a)): 9 distinct objects. */
typedef struct fixture {
    dv_oid root, sub, a, b, link, a_chunks[3], b_chunks[2];
} fixture;

static void make_fixture(fixture *fx, dv_odb *odb)
{
    fx->a = make_file(odb, 3, 1, fx->a_chunks);
    /* b: its own chunk, then a's first chunk again */
    dv_manifest m = DV_MANIFEST_INIT;
    uint8_t buf[1000];
    fill_random(buf, sizeof(buf), 777);
    fx->b_chunks[0] = put(odb, DV_OBJ_CHUNK, buf, sizeof(buf));
    fx->b_chunks[1] = fx->a_chunks[0];
    cr_assert_eq(dv_manifest_append(&m, &fx->b_chunks[0], 1000), 0);
    cr_assert_eq(dv_manifest_append(&m, &fx->b_chunks[1], 1000), 0);
    dv_buf enc = DV_BUF_INIT;
    cr_assert_eq(dv_manifest_encode(&enc, &m), 0);
    fx->b = put(odb, DV_OBJ_MANIFEST, enc.ptr, enc.len);
    fx->link = put(odb, DV_OBJ_CHUNK, "a", 1);
    dv_tree sub = DV_TREE_INIT, root = DV_TREE_INIT;
    cr_assert_eq(dv_tree_add(&sub, "b", 1, DV_MODE_FILE, &fx->b, 2000), 0);
    cr_assert_eq(dv_tree_sort(&sub), 0);
    dv_buf_clear(&enc);
    cr_assert_eq(dv_tree_encode(&enc, &sub), 0);
    fx->sub = put(odb, DV_OBJ_TREE, enc.ptr, enc.len);
    cr_assert_eq(dv_tree_add(&root, "a", 1, DV_MODE_EXEC, &fx->a, 3000), 0);
    cr_assert_eq(dv_tree_add(&root, "link", 4, DV_MODE_SYMLINK, &fx->link, 1), 0);
    cr_assert_eq(dv_tree_add(&root, "sub", 3, DV_MODE_DIR, &fx->sub, 2000), 0);
    cr_assert_eq(dv_tree_sort(&root), 0);
    dv_buf_clear(&enc);
    cr_assert_eq(dv_tree_encode(&enc, &root), 0);
    fx->root = put(odb, DV_OBJ_TREE, enc.ptr, enc.len);
    dv_buf_release(&enc);
    dv_manifest_release(&m);
    dv_tree_release(&sub);
    dv_tree_release(&root);
}

/* Copy ids from one store into another. */
static void copy_objects(dv_odb *to, dv_odb *from, const dv_oid *ids, int n)
{
    for (int i = 0; i < n; i++) {
        dv_buf data = DV_BUF_INIT;
        uint8_t type;
        cr_assert_eq(dv_odb_read(&data, &type, from, &ids[i]), 0);
        cr_assert_eq(dv_odb_put(to, &ids[i], type, data.ptr, data.len, NULL), 0);
        dv_buf_release(&data);
    }
}

typedef struct walk_log {
    dv_oidset visited;
    int visits;
    uint8_t types[32];
    int levels;      /* fetch calls */
    size_t sizes[8]; /* items per fetch call */
    dv_odb *source;  /* where fetch copies from */
    dv_odb *target;
} walk_log;

static int on_visit(void *ctx, const dv_reach_item *item)
{
    walk_log *w = ctx;
    cr_assert_eq(dv_oidset_add(&w->visited, &item->id), 1, "visited once");
    w->types[w->visits++ % 32] = item->type;
    return 0;
}

static const char *name_root(void *ctx, uint32_t root)
{
    (void)ctx;
    return root == 0 ? "data.dv" : "other.dv";
}

static int copy_over(void *ctx, const dv_reach_item *items, size_t n)
{
    walk_log *w = ctx;
    cr_assert_lt(w->levels, 8);
    w->sizes[w->levels++] = n;
    for (size_t i = 0; i < n; i++) {
        dv_buf data = DV_BUF_INIT;
        uint8_t type;
        cr_assert_eq(dv_odb_has(w->target, &items[i].id), 0,
                     "fetch is asked only for what is "
                     "missing");
        cr_assert_eq(dv_odb_read(&data, &type, w->source, &items[i].id), 0);
        cr_assert_eq(type, items[i].type, "the walk knows each object's type in advance");
        cr_assert_eq(dv_odb_put(w->target, &items[i].id, type, data.ptr, data.len, NULL), 0);
        dv_buf_release(&data);
    }
    return 0;
}

Test(reach, visits_every_object_once)
{
    dv_odb *odb = open_odb("a");
    fixture fx;
    make_fixture(&fx, odb);
    walk_log w = {DV_OIDSET_INIT, 0, {0}, 0, {0}, NULL, NULL};
    dv_reach_item roots[2] = {{fx.root, DV_OBJ_TREE, 0}, {fx.a, DV_OBJ_MANIFEST, 1}};
    dv_reach_ops ops = {.visit = on_visit, .root_name = name_root, .ctx = &w};
    cr_assert_eq(dv_reach_walk(odb, roots, 2, &ops), 0, "%s", dv_error_last());
    /* root, sub, a, b, link, a's 3 chunks, b's own chunk = 9 distinct */
    cr_assert_eq(w.visits, 9);
    cr_assert(dv_oidset_has(&w.visited, &fx.b_chunks[0]));
    cr_assert(dv_oidset_has(&w.visited, &fx.link));
    cr_assert_eq(w.types[0], DV_OBJ_TREE, "roots come first");
    dv_oidset_release(&w.visited);
    dv_odb_free(odb);
}

Test(reach, missing_object_without_fetch_names_the_root)
{
    dv_odb *full = open_odb("full"), *part = open_odb("part");
    fixture fx;
    make_fixture(&fx, full);
    /* part has only the root tree */
    dv_buf data = DV_BUF_INIT;
    uint8_t type;
    cr_assert_eq(dv_odb_read(&data, &type, full, &fx.root), 0);
    cr_assert_eq(dv_odb_put(part, &fx.root, type, data.ptr, data.len, NULL), 0);
    dv_reach_item roots[1] = {{fx.root, DV_OBJ_TREE, 0}};
    dv_reach_ops ops = {.root_name = name_root};
    cr_assert_eq(dv_reach_walk(part, roots, 1, &ops), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "data.dv"), "%s", dv_error_last());
    dv_buf_release(&data);
    dv_odb_free(full);
    dv_odb_free(part);
}

Test(reach, fetches_level_by_level_only_what_is_missing)
{
    dv_odb *full = open_odb("full"), *part = open_odb("part");
    fixture fx;
    make_fixture(&fx, full);
    /* part already has a's manifest and its chunks */
    dv_oid have[4] = {fx.a, fx.a_chunks[0], fx.a_chunks[1], fx.a_chunks[2]};
    for (int i = 0; i < 4; i++) {
        dv_buf data = DV_BUF_INIT;
        uint8_t type;
        cr_assert_eq(dv_odb_read(&data, &type, full, &have[i]), 0);
        cr_assert_eq(dv_odb_put(part, &have[i], type, data.ptr, data.len, NULL), 0);
        dv_buf_release(&data);
    }
    walk_log w = {DV_OIDSET_INIT, 0, {0}, 0, {0}, full, part};
    dv_reach_item roots[1] = {{fx.root, DV_OBJ_TREE, 0}};
    dv_reach_ops ops = {.fetch = copy_over, .visit = on_visit, .root_name = name_root, .ctx = &w};
    cr_assert_eq(dv_reach_walk(part, roots, 1, &ops), 0, "%s", dv_error_last());
    /* level 0: root; level 1: sub, link (a is present); level 2: b; level 3: b's own chunk */
    cr_assert_eq(w.levels, 4);
    cr_assert_eq(w.sizes[0], 1);
    cr_assert_eq(w.sizes[1], 2);
    cr_assert_eq(w.sizes[2], 1);
    cr_assert_eq(w.sizes[3], 1);
    cr_assert_eq(w.visits, 9);
    dv_oidset_release(&w.visited);
    dv_odb_free(full);
    dv_odb_free(part);
}

static int fetch_nothing(void *ctx, const dv_reach_item *items, size_t n)
{
    (void)ctx;
    (void)items;
    (void)n;
    return 0;
}

Test(reach, a_chunk_fetch_did_not_bring_is_an_error)
{
    dv_odb *full = open_odb("full"), *part = open_odb("part");
    dv_oid chunks[3];
    dv_oid file = make_file(full, 3, 5, chunks);
    dv_buf data = DV_BUF_INIT;
    uint8_t type;
    cr_assert_eq(dv_odb_read(&data, &type, full, &file), 0);
    cr_assert_eq(dv_odb_put(part, &file, type, data.ptr, data.len, NULL), 0);
    dv_reach_item roots[1] = {{file, DV_OBJ_MANIFEST, 1}};
    dv_reach_ops ops = {.fetch = fetch_nothing, .root_name = name_root};
    cr_assert_eq(dv_reach_walk(part, roots, 1, &ops), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "other.dv"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "chunk"), "%s", dv_error_last());
    dv_buf_release(&data);
    dv_odb_free(full);
    dv_odb_free(part);
}

typedef struct elsewhere_ctx {
    const fixture *fx;
    int visits, asked;
} elsewhere_ctx;

static int sub_is_elsewhere(void *ctx, const dv_reach_item *item)
{
    elsewhere_ctx *c = ctx;
    c->asked++;
    return !memcmp(item->id.id, c->fx->sub.id, DV_OID_BYTES);
}

static int count_visit(void *ctx, const dv_reach_item *item)
{
    elsewhere_ctx *c = ctx;
    cr_assert_neq(memcmp(item->id.id, c->fx->sub.id, DV_OID_BYTES), 0, "sub/ is not visited");
    cr_assert_neq(memcmp(item->id.id, c->fx->b.id, DV_OID_BYTES), 0, "nothing below it either");
    c->visits++;
    return 0;
}

Test(reach, objects_whole_elsewhere_are_neither_visited_nor_descended)
{
    dv_odb *full = open_odb("full"), *part = open_odb("part");
    fixture fx;
    make_fixture(&fx, full);
    /* part has everything but sub/ and what only sub/ names (b and its own chunk) */
    dv_oid have[6] = {fx.root, fx.a, fx.link, fx.a_chunks[0], fx.a_chunks[1], fx.a_chunks[2]};
    copy_objects(part, full, have, 6);
    elsewhere_ctx c = {&fx, 0, 0};
    dv_reach_item roots[1] = {{fx.root, DV_OBJ_TREE, 0}};
    dv_reach_ops plain = {.visit = count_visit, .root_name = name_root, .ctx = &c};
    cr_assert_eq(dv_reach_walk(part, roots, 1, &plain), DV_ENOTFOUND, "without absent: an error");
    c.visits = 0;
    dv_reach_ops ops = {
        .absent = sub_is_elsewhere, .visit = count_visit, .root_name = name_root, .ctx = &c};
    cr_assert_eq(dv_reach_walk(part, roots, 1, &ops), 0, "%s", dv_error_last());
    cr_assert_eq(c.asked, 1, "asked only about the one missing object");
    /* root, a, link, a's 3 chunks */
    cr_assert_eq(c.visits, 6);
    dv_odb_free(full);
    dv_odb_free(part);
}

/* sub/ is absent from the store but readable elsewhere (a tree kept without what it names):
 * the walk reads it there and goes on below it, without visiting it. */
typedef struct through_ctx {
    const fixture *fx;
    dv_odb *aside;
    int visits, reads;
    dv_oidset visited;
} through_ctx;

static int sub_is_aside(void *ctx, const dv_reach_item *item)
{
    through_ctx *c = ctx;
    return memcmp(item->id.id, c->fx->sub.id, DV_OID_BYTES) ? 0 : 2;
}

static int read_aside(void *ctx, const dv_reach_item *item, dv_buf *out, uint8_t *type)
{
    through_ctx *c = ctx;
    if (memcmp(item->id.id, c->fx->sub.id, DV_OID_BYTES))
        return 0;
    c->reads++;
    cr_assert_eq(dv_odb_read(out, type, c->aside, &item->id), 0, "%s", dv_error_last());
    return 1;
}

static int visit_through(void *ctx, const dv_reach_item *item)
{
    through_ctx *c = ctx;
    cr_assert_neq(memcmp(item->id.id, c->fx->sub.id, DV_OID_BYTES), 0, "sub/ is not visited");
    cr_assert_eq(dv_oidset_add(&c->visited, &item->id), 1, "visited once");
    c->visits++;
    return 0;
}

Test(reach, a_tree_read_elsewhere_is_walked_below_but_not_visited)
{
    dv_odb *full = open_odb("full"), *part = open_odb("part");
    fixture fx;
    make_fixture(&fx, full);
    /* part lacks sub/ only: b and its chunks are there (a path inside, pulled alone) */
    dv_oid have[8] = {fx.root,        fx.a,          fx.link,       fx.a_chunks[0],
                      fx.a_chunks[1], fx.a_chunks[2], fx.b,         fx.b_chunks[0]};
    copy_objects(part, full, have, 8);
    through_ctx c = {&fx, full, 0, 0, DV_OIDSET_INIT};
    dv_reach_item roots[1] = {{fx.root, DV_OBJ_TREE, 0}};
    dv_reach_ops ops = {.read = read_aside, .absent = sub_is_aside, .visit = visit_through,
                        .root_name = name_root, .ctx = &c};
    cr_assert_eq(dv_reach_walk(part, roots, 1, &ops), 0, "%s", dv_error_last());
    cr_assert_eq(c.reads, 1, "sub/ read once, from aside");
    /* root, a, link, a's 3 chunks, and below sub/: b and its own chunk */
    cr_assert_eq(c.visits, 8);
    cr_assert(dv_oidset_has(&c.visited, &fx.b), "b, below the tree read aside, is visited");
    cr_assert(dv_oidset_has(&c.visited, &fx.b_chunks[0]));
    dv_oidset_release(&c.visited);
    dv_odb_free(full);
    dv_odb_free(part);
}
