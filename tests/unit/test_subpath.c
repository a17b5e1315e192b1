/* subpath: a path inside a tracked directory, looked up one tree at a time. */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/data/subpath.h"
#include "core/object/object.h"
#include "storage/odb.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static char root_dir[64];

static void make_dirs(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "subpath");
}

static void remove_dirs(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(subpath, .init = make_dirs, .fini = remove_dirs, .timeout = 30);

static dv_odb *open_odb(const char *name)
{
    return testutil_open_odb(root_dir, name);
}

static dv_oid put_tree(dv_odb *odb, dv_tree *t)
{
    dv_buf enc = DV_BUF_INIT;
    dv_oid id;
    cr_assert_eq(dv_tree_sort(t), 0);
    cr_assert_eq(dv_tree_encode(&enc, t), 0);
    cr_assert_eq(dv_odb_put_hashed(&id, odb, DV_OBJ_TREE, enc.ptr, enc.len, NULL), 0);
    dv_buf_release(&enc);
    dv_tree_release(t);
    return id;
}

/* data/: a/ (tree: big (file, 1234 bytes), ln (link)), x (file). The top tree goes to top,
 * a/ to below. */
typedef struct fixture {
    dv_oid top, a, big, ln, x;
} fixture;

static void make_fixture(fixture *fx, dv_odb *top, dv_odb *below)
{
    memset(fx->big.id, 0x11, DV_OID_BYTES);
    memset(fx->ln.id, 0x22, DV_OID_BYTES);
    memset(fx->x.id, 0x33, DV_OID_BYTES);
    dv_tree a = DV_TREE_INIT, t = DV_TREE_INIT;
    cr_assert_eq(dv_tree_add(&a, "big", 3, DV_MODE_EXEC, &fx->big, 1234), 0);
    cr_assert_eq(dv_tree_add(&a, "ln", 2, DV_MODE_SYMLINK, &fx->ln, 5), 0);
    fx->a = put_tree(below, &a);
    cr_assert_eq(dv_tree_add(&t, "a", 1, DV_MODE_DIR, &fx->a, 1234), 0);
    cr_assert_eq(dv_tree_add(&t, "x", 1, DV_MODE_FILE, &fx->x, 7), 0);
    fx->top = put_tree(top, &t);
}

Test(subpath, finds_the_entry_through_both_stores)
{
    dv_odb *top = open_odb("top"), *below = open_odb("below");
    fixture fx;
    make_fixture(&fx, top, below);
    dv_subpath s;
    dv_subpath_start(&s, "data/a/big", "data", &fx.top);
    cr_assert(!dv_subpath_found(&s));
    cr_assert_eq(dv_subpath_resolve(&s, top, below), 0, "%s", dv_error_last());
    cr_assert(dv_subpath_found(&s));
    cr_assert_eq(dv_oid_cmp(&s.id, &fx.big), 0);
    cr_assert_eq(s.mode, DV_MODE_EXEC);
    cr_assert_eq(s.size, 1234);
    dv_subpath_start(&s, "data/a", "data", &fx.top);
    cr_assert_eq(dv_subpath_resolve(&s, top, NULL), 0, "%s", dv_error_last());
    cr_assert_eq(dv_oid_cmp(&s.id, &fx.a), 0, "a directory: its tree, not read");
    cr_assert_eq(s.mode, DV_MODE_DIR);
    dv_odb_free(top);
    dv_odb_free(below);
}

Test(subpath, names_what_is_missing_or_in_the_way)
{
    dv_odb *top = open_odb("top"), *below = open_odb("below");
    fixture fx;
    make_fixture(&fx, top, below);
    dv_subpath s;
    dv_subpath_start(&s, "data/a/big", "data", &fx.top);
    cr_assert_eq(dv_subpath_resolve(&s, top, NULL), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "the tree of data/a"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "dv fetch data/a/big"), "%s", dv_error_last());
    dv_subpath_start(&s, "data/a/nope", "data", &fx.top);
    cr_assert_eq(dv_subpath_resolve(&s, top, below), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "data/a holds no nope"), "%s", dv_error_last());
    dv_subpath_start(&s, "data/x/y", "data", &fx.top);
    cr_assert_eq(dv_subpath_resolve(&s, top, below), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "data/x is a file"), "%s", dv_error_last());
    dv_subpath_start(&s, "data/a/ln/z", "data", &fx.top);
    cr_assert_eq(dv_subpath_resolve(&s, top, below), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "data/a/ln is a symbolic link"), "%s", dv_error_last());
    dv_odb_free(top);
    dv_odb_free(below);
}
