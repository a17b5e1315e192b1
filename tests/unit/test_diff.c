#include "core/base/error.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/diff.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"
#include "testrepo.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char root[256];
static dv_repo *repo;
static dv_odb *odb;

static void sh(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof(full),
             "cd '%s' && export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t "
             "GIT_COMMITTER_EMAIL=t@t && (%s) >/dev/null 2>&1",
             root, cmd);
    cr_assert_eq(system(full), 0, "%s", cmd);
}

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "diff");
    repo = testrepo_init(root);
    cr_assert_eq(dv_repo_odb(&odb, repo), 0, "%s", dv_error_last());
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(diff, .init = setup, .fini = teardown);

static dv_oid fake_id(uint8_t b)
{
    dv_oid id;
    memset(id.id, b, sizeof(id.id));
    return id;
}

typedef struct entry_spec {
    const char *name;
    uint8_t mode;
    dv_oid id;
    uint64_t size;
} entry_spec;

/* A tree of the entries; stored unless store is 0 (then only its id is known). */
static dv_oid make_tree(const entry_spec *entries, size_t n, int store)
{
    dv_tree t = DV_TREE_INIT;
    dv_buf raw = DV_BUF_INIT;
    dv_oid id;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(dv_tree_add(&t, entries[i].name, strlen(entries[i].name), entries[i].mode,
                                 &entries[i].id, entries[i].size),
                     0);
    cr_assert_eq(dv_tree_sort(&t), 0);
    cr_assert_eq(dv_tree_encode(&raw, &t), 0);
    if (store)
        cr_assert_eq(dv_odb_put_hashed(&id, odb, DV_OBJ_TREE, raw.ptr, raw.len, NULL), 0, "%s",
                     dv_error_last());
    else
        cr_assert_eq(dv_hash_buffer(&id, raw.ptr, raw.len), 0);
    cr_assert_eq(dv_odb_flush(odb), 0, "%s", dv_error_last());
    dv_buf_release(&raw);
    dv_tree_release(&t);
    return id;
}

/* Stage data.dv naming the directory tree id. */
static void track_dir(const dv_oid *id)
{
    dv_pointer p = {DV_POINTER_VERSION, DV_KIND_DIR, *id, 1, 1, 0};
    dv_buf text = DV_BUF_INIT;
    cr_assert_eq(dv_pointer_format(&text, &p), 0);
    testrepo_write_file(root, "data.dv", text.ptr, text.len);
    const char *paths[] = {"data.dv"};
    cr_assert_eq(dv_repo_stage(repo, paths, 1), 0, "%s", dv_error_last());
    dv_buf_release(&text);
}

typedef struct got {
    char lines[16][160];
    int n;
} got;

static int note(void *ctx, const dv_diff_entry *e)
{
    got *g = ctx;
    cr_assert_lt(g->n, 16);
    snprintf(g->lines[g->n++], sizeof(g->lines[0]), "%c %s%s%s %llu %llu", e->status,
             e->old_path ? e->old_path : "", e->old_path ? " -> " : "", e->path,
             (unsigned long long)e->old_side.size, (unsigned long long)e->new_side.size);
    return 0;
}

Test(diff, a_subtree_equal_on_both_sides_is_never_read)
{
    /* "big" is a tree the store does not hold: reading it would fail. */
    entry_spec inner[] = {{"x", DV_MODE_FILE, fake_id(9), 1}};
    dv_oid big = make_tree(inner, 1, 0);
    entry_spec one[] = {{"big", DV_MODE_DIR, big, 1}, {"f", DV_MODE_FILE, fake_id(1), 10}};
    entry_spec two[] = {{"big", DV_MODE_DIR, big, 1},
                        {"f", DV_MODE_FILE, fake_id(2), 12},
                        {"g", DV_MODE_EXEC, fake_id(3), 5}};
    dv_oid t1 = make_tree(one, 2, 1), t2 = make_tree(two, 3, 1);
    track_dir(&t1);
    sh("git commit -q -m one");
    track_dir(&t2);
    dv_rev *head = NULL;
    got g = {0};
    dv_diff_summary s;
    cr_assert_eq(dv_rev_resolve(&head, repo, "HEAD"), 0);
    cr_assert_eq(dv_diff(repo, head, NULL, &(dv_diff_options){NULL, 0, 0, 0, 0}, note, &g, &s), 0,
                 "%s", dv_error_last());
    cr_assert_eq(g.n, 2);
    cr_assert_str_eq(g.lines[0], "M data/f 10 12");
    cr_assert_str_eq(g.lines[1], "A data/g 0 5");
    cr_assert_eq(s.modified, 1);
    cr_assert_eq(s.added, 1);
    cr_assert_eq(s.bytes_added, 2 + 5);
    cr_assert_eq(s.old_bytes, 10);
    cr_assert_eq(s.new_bytes, 17);

    /* A side whose "big" differs must read it: the store lacks it, and says so. */
    entry_spec other[] = {{"x", DV_MODE_FILE, fake_id(8), 1}};
    entry_spec three[] = {{"big", DV_MODE_DIR, make_tree(other, 1, 1), 1},
                          {"f", DV_MODE_FILE, fake_id(1), 10}};
    dv_oid t3 = make_tree(three, 2, 1);
    track_dir(&t3);
    g.n = 0;
    cr_assert_eq(dv_diff(repo, head, NULL, &(dv_diff_options){NULL, 0, 0, 0, 0}, note, &g, NULL),
                 DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "data/big/"), "%s", dv_error_last());
    dv_rev_free(head);
}

Test(diff, the_same_content_at_a_new_path_is_a_rename_and_paths_filter)
{
    entry_spec sub[] = {{"a", DV_MODE_FILE, fake_id(4), 40}};
    dv_oid s1 = make_tree(sub, 1, 1);
    entry_spec one[] = {{"f", DV_MODE_FILE, fake_id(1), 10}, {"sub", DV_MODE_DIR, s1, 40}};
    entry_spec two[] = {{"h", DV_MODE_FILE, fake_id(1), 10}};
    dv_oid t1 = make_tree(one, 2, 1), t2 = make_tree(two, 1, 1);
    track_dir(&t1);
    sh("git commit -q -m one");
    track_dir(&t2);
    dv_rev *head = NULL;
    got g = {0};
    dv_diff_summary s;
    cr_assert_eq(dv_rev_resolve(&head, repo, "HEAD"), 0);
    cr_assert_eq(dv_diff(repo, head, NULL, &(dv_diff_options){NULL, 0, 0, 0, 0}, note, &g, &s), 0,
                 "%s", dv_error_last());
    cr_assert_eq(g.n, 2, "%d", g.n);
    cr_assert_str_eq(g.lines[0], "R data/f -> data/h 10 10");
    cr_assert_str_eq(g.lines[1], "D data/sub/a 40 0");
    cr_assert_eq(s.renamed, 1);
    cr_assert_eq(s.deleted, 1);
    cr_assert_eq(s.bytes_removed, 40);

    const char *filters[] = {"data/sub"};
    g.n = 0;
    cr_assert_eq(dv_diff(repo, head, NULL, &(dv_diff_options){filters, 1, 0, 0, 0}, note, &g, NULL),
                 0, "%s", dv_error_last());
    cr_assert_eq(g.n, 1);
    cr_assert_str_eq(g.lines[0], "D data/sub/a 40 0");
    const char *nothing[] = {"elsewhere"};
    cr_assert_eq(dv_diff(repo, head, NULL, &(dv_diff_options){nothing, 1, 0, 0, 0}, note, &g, NULL),
                 DV_EUSAGE);
    dv_rev_free(head);
}

Test(diff, an_addition_of_a_changed_files_old_content_is_a_copy_and_c_searches_everything)
{
    /* "same" is unchanged; f changes; g gets f's old content, k gets same's, e is empty */
    entry_spec one[] = {{"e0", DV_MODE_FILE, fake_id(7), 0},
                        {"f", DV_MODE_FILE, fake_id(1), 10},
                        {"same", DV_MODE_FILE, fake_id(5), 50}};
    entry_spec two[] = {{"e0", DV_MODE_FILE, fake_id(7), 0},   {"e1", DV_MODE_FILE, fake_id(7), 0},
                        {"f", DV_MODE_FILE, fake_id(2), 12},   {"g", DV_MODE_FILE, fake_id(1), 10},
                        {"k", DV_MODE_EXEC, fake_id(5), 50},   {"l", DV_MODE_FILE, fake_id(5), 50},
                        {"same", DV_MODE_FILE, fake_id(5), 50}};
    dv_oid t1 = make_tree(one, 3, 1), t2 = make_tree(two, 7, 1);
    track_dir(&t1);
    sh("git commit -q -m one");
    track_dir(&t2);
    dv_rev *head = NULL;
    got g = {0};
    dv_diff_summary s;
    cr_assert_eq(dv_rev_resolve(&head, repo, "HEAD"), 0);
    cr_assert_eq(dv_diff(repo, head, NULL, &(dv_diff_options){NULL, 0, 0, 0, 0}, note, &g, &s), 0,
                 "%s", dv_error_last());
    cr_assert_eq(g.n, 5, "%d", g.n);
    cr_assert_str_eq(g.lines[0], "A data/e1 0 0"); /* empty files are not copies */
    cr_assert_str_eq(g.lines[1], "M data/f 10 12");
    cr_assert_str_eq(g.lines[2], "C data/f -> data/g 10 10");
    cr_assert_str_eq(g.lines[3], "A data/k 0 50"); /* same is unchanged: not looked at */
    cr_assert_str_eq(g.lines[4], "A data/l 0 50");
    cr_assert_eq(s.copied, 1);
    cr_assert_eq(s.added, 3);
    cr_assert_eq(s.bytes_added, 2 + 10 + 50 + 50);

    g.n = 0;
    cr_assert_eq(dv_diff(repo, head, NULL, &(dv_diff_options){NULL, 0, 0, 1, 0}, note, &g, &s), 0,
                 "%s", dv_error_last());
    cr_assert_eq(g.n, 5, "%d", g.n);
    cr_assert_str_eq(g.lines[3], "A data/k 0 50"); /* the mode differs */
    cr_assert_str_eq(g.lines[4], "C data/same -> data/l 50 50");
    cr_assert_eq(s.copied, 2);
    dv_rev_free(head);
}
