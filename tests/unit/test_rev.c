#include "core/base/error.h"
#include "core/object/pointer.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"
#include "testrepo.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];
static dv_repo *repo;

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char full[4096];
    snprintf(full, sizeof(full),
             "cd '%s' && export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t "
             "GIT_COMMITTER_EMAIL=t@t && (%s) >/dev/null 2>&1",
             root, cmd);
    cr_assert_eq(system(full), 0, "%s", cmd);
}

static void write_file(const char *relpath, const char *data, size_t len)
{
    testrepo_write_file(root, relpath, data, len);
}

/* A pointer file for a file of size bytes whose id is all byte b. */
static void write_pointer(const char *pointer_relpath, int kind, uint8_t b, uint64_t size)
{
    dv_pointer p = {0};
    p.version = DV_POINTER_VERSION;
    p.kind = kind;
    memset(p.oid.id, b, sizeof(p.oid.id));
    p.size = size;
    p.files = kind == DV_KIND_DIR ? 1 : 0;
    dv_buf text = DV_BUF_INIT;
    cr_assert_eq(dv_pointer_format(&text, &p), 0);
    write_file(pointer_relpath, text.ptr, text.len);
    dv_buf_release(&text);
}

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "rev");
    cr_assert_eq(dv_repo_global_init(), 0);
    sh("git init -q -b main .");
    repo = testrepo_init_dv(root);
    sh("mkdir -p a/b c");
    write_pointer("model.bin.dv", DV_KIND_FILE, 1, 10);
    write_pointer("a/b/data.dv", DV_KIND_DIR, 2, 20);
    write_pointer("c/x.dv", DV_KIND_FILE, 3, 30);
    write_file("notes.txt", "hi\n", 3);
    sh("git add -A && git commit -q -m one");
    write_pointer("model.bin.dv", DV_KIND_FILE, 4, 40);
    sh("git rm -q c/x.dv && git add -A && git commit -q -m two && git tag v2");
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(rev, .init = setup, .fini = teardown);

typedef struct seen {
    char paths[8][64];
    dv_pointer pointers[8];
    int n;
} seen;

static int collect(void *ctx, const char *data_relpath, const dv_pointer *p)
{
    seen *s = ctx;
    cr_assert_lt(s->n, 8);
    snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", data_relpath);
    s->pointers[s->n++] = *p;
    return 0;
}

Test(rev, lists_the_pointers_of_an_older_commit)
{
    dv_rev *rev = NULL;
    cr_assert_eq(dv_rev_resolve(&rev, repo, "HEAD~1"), 0, "%s", dv_error_last());
    seen s = {0};
    cr_assert_eq(dv_rev_each_pointer(rev, NULL, 0, collect, &s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 3);
    cr_assert_str_eq(s.paths[0], "a/b/data");
    cr_assert_eq(s.pointers[0].kind, DV_KIND_DIR);
    cr_assert_str_eq(s.paths[1], "c/x");
    cr_assert_str_eq(s.paths[2], "model.bin");
    cr_assert_eq(s.pointers[2].size, 10);
    cr_assert_eq(s.pointers[2].oid.id[0], 1);
    dv_rev_free(rev);
}

Test(rev, tags_and_filters_select_what_is_listed)
{
    dv_rev *rev = NULL;
    cr_assert_eq(dv_rev_resolve(&rev, repo, "v2"), 0, "%s", dv_error_last());
    seen s = {0};
    const char *filters[] = {"model.bin", "a/b/data/inner/file"};
    cr_assert_eq(dv_rev_each_pointer(rev, filters, 2, collect, &s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.paths[0], "a/b/data");
    cr_assert_str_eq(s.paths[1], "model.bin");
    cr_assert_eq(s.pointers[1].size, 40);
    dv_pointer p;
    cr_assert_eq(dv_rev_read_pointer(&p, rev, "model.bin.dv"), 0, "%s", dv_error_last());
    cr_assert_eq(p.oid.id[0], 4);
    cr_assert_eq(dv_rev_read_pointer(&p, rev, "c/x.dv"), DV_ENOTFOUND);
    dv_rev_free(rev);
}

Test(rev, the_work_tree_gives_the_same_kind_of_list)
{
    seen s = {0};
    const char *filters[] = {"a"};
    cr_assert_eq(dv_rev_each_worktree_pointer(repo, filters, 1, collect, &s), 0, "%s",
                 dv_error_last());
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.paths[0], "a/b/data");
    cr_assert_eq(s.pointers[0].size, 20);
}

Test(rev, an_unknown_revision_is_a_usage_error_naming_it)
{
    dv_rev *rev = NULL;
    cr_assert_eq(dv_rev_resolve(&rev, repo, "no-such-branch"), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "no-such-branch"));
    cr_assert_null(rev);
}

Test(rev, a_pointer_blob_that_does_not_parse_is_corrupt_naming_rev_and_path)
{
    write_file("model.bin.dv", "version: 1\nkind: banana\n", 24);
    sh("git add -A && git commit -q -m bad");
    dv_rev *rev = NULL;
    cr_assert_eq(dv_rev_resolve(&rev, repo, "HEAD"), 0, "%s", dv_error_last());
    seen s = {0};
    cr_assert_eq(dv_rev_each_pointer(rev, NULL, 0, collect, &s), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "HEAD:model.bin.dv"), "%s", dv_error_last());
    dv_rev_free(rev);
}

Test(rev, a_pointer_blob_too_large_is_refused_before_it_is_read)
{
    size_t len = DV_POINTER_MAX_BYTES + 1;
    char *big = malloc(len);
    memset(big, 'x', len);
    write_file("model.bin.dv", big, len);
    free(big);
    sh("git add -A && git commit -q -m big");
    dv_rev *rev = NULL;
    cr_assert_eq(dv_rev_resolve(&rev, repo, "main"), 0, "%s", dv_error_last());
    dv_pointer p;
    cr_assert_eq(dv_rev_read_pointer(&p, rev, "model.bin.dv"), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "main:model.bin.dv"), "%s", dv_error_last());
    dv_rev_free(rev);
}

Test(rev, path_matching_is_by_whole_components)
{
    cr_assert(dv_rev_path_matches("data", ""));
    cr_assert(dv_rev_path_matches("data", "data"));
    cr_assert(dv_rev_path_matches("data", "data/x/y"));
    cr_assert(dv_rev_path_matches("a/data", "a"));
    cr_assert(!dv_rev_path_matches("data2", "data"));
    cr_assert(!dv_rev_path_matches("data", "data2"));
}

Test(rev, a_pointer_name_that_is_a_symlink_in_git_is_corrupt)
{
    sh("ln -s model.bin.dv link.dv && git add link.dv && git commit -q -m link");
    dv_rev *rev = NULL;
    cr_assert_eq(dv_rev_resolve(&rev, repo, "HEAD"), 0, "%s", dv_error_last());
    seen s = {0};
    cr_assert_eq(dv_rev_each_pointer(rev, NULL, 0, collect, &s), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "HEAD:link.dv"), "%s", dv_error_last());
    const char *filters[] = {"model.bin"};
    s.n = 0;
    cr_assert_eq(dv_rev_each_pointer(rev, filters, 1, collect, &s), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 1);
    dv_rev_free(rev);
}

Test(rev, a_revision_that_is_not_a_commit_is_refused)
{
    sh("git tag -a -m t treetag HEAD^{tree}");
    dv_rev *rev = NULL;
    cr_assert_eq(dv_rev_resolve(&rev, repo, "treetag"), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "treetag"), "%s", dv_error_last());
}

/* The ids seen, by their first byte: each distinct (pointer, path) once. */
static int count_first_bytes(const seen *s, uint8_t b)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->pointers[i].oid.id[0] == b;
    return n;
}

Test(rev, a_revision_set_visits_each_distinct_pointer_once)
{
    /* A branch off "one" with a pointer of its own; then every commit. */
    sh("git switch -q -c side HEAD~1");
    write_pointer("side.dv", DV_KIND_FILE, 5, 50);
    sh("git add -A && git commit -q -m side && git switch -q main");
    dv_revset *set = NULL;
    seen s = {0};
    cr_assert_eq(dv_revset_new(&set, repo), 0);
    dv_revset_add_refs(set, DV_REVSET_COMMITS);
    cr_assert_eq(dv_revset_each_pointer(repo, set, NULL, 0, collect, NULL, &s), 0, "%s",
                 dv_error_last());
    /* one: model 1, data 2, x 3; two: model 4 (data unchanged); side: side 5 (the rest one's) */
    cr_assert_eq(s.n, 5, "%d pointers", s.n);
    for (uint8_t b = 1; b <= 5; b++)
        cr_assert_eq(count_first_bytes(&s, b), 1, "pointer %d", b);
    dv_revset_free(set);

    /* The tips of the branches alone: main (model 4, data 2) and side (model 1, data 2, x 3,
     * side 5); data 2 at a/b/data is the same blob at the same path: once. */
    memset(&s, 0, sizeof(s));
    cr_assert_eq(dv_revset_new(&set, repo), 0);
    dv_revset_add_refs(set, DV_REVSET_BRANCHES);
    cr_assert_eq(dv_revset_each_pointer(repo, set, NULL, 0, collect, NULL, &s), 0);
    cr_assert_eq(s.n, 5, "%d pointers", s.n);
    dv_revset_free(set);

    /* A tag and a filter: v2 under c/ holds nothing; under a/ the data. */
    memset(&s, 0, sizeof(s));
    const char *filters[] = {"a"};
    cr_assert_eq(dv_revset_new(&set, repo), 0);
    cr_assert_eq(dv_revset_add(set, "v2"), 0);
    cr_assert_eq(dv_revset_each_pointer(repo, set, filters, 1, collect, NULL, &s), 0);
    cr_assert_eq(s.n, 1);
    cr_assert_str_eq(s.paths[0], "a/b/data");
    cr_assert_eq(dv_revset_add(set, "no-such-branch"), DV_EUSAGE);
    dv_revset_free(set);

    /* Empty: the work tree's staged pointers. */
    memset(&s, 0, sizeof(s));
    cr_assert_eq(dv_revset_new(&set, repo), 0);
    cr_assert(dv_revset_is_empty(set));
    cr_assert_eq(dv_revset_each_pointer(repo, set, NULL, 0, collect, NULL, &s), 0);
    cr_assert_eq(s.n, 2, "%d staged pointers", s.n);
    dv_revset_free(set);
}

static int count_bad(void *ctx, const char *message)
{
    int *n = ctx;
    cr_assert(strstr(message, "bad.dv"), "%s", message);
    (*n)++;
    return 0;
}

static int ignore_pointer(void *ctx, const char *data_relpath, const dv_pointer *p)
{
    (void)ctx;
    (void)data_relpath;
    (void)p;
    return 0;
}

Test(rev, a_bad_pointer_in_a_revision_set_is_reported_and_passed_over)
{
    write_file("bad.dv", "dv: 1\nkind: file\noid: nope\n", 27);
    sh("git add -A && git commit -q -m bad");
    dv_revset *set = NULL;
    int bad = 0;
    cr_assert_eq(dv_revset_new(&set, repo), 0);
    cr_assert_eq(dv_revset_add(set, "HEAD"), 0);
    cr_assert_eq(dv_revset_each_pointer(repo, set, NULL, 0, ignore_pointer, count_bad, &bad), 0,
                 "%s", dv_error_last());
    cr_assert_eq(bad, 1);
    cr_assert_eq(dv_revset_each_pointer(repo, set, NULL, 0, ignore_pointer, NULL, &bad),
                 DV_ECORRUPT);
    dv_revset_free(set);
}

Test(rev, a_path_inside_a_pointer_selects_it_in_parts)
{
    size_t parts[8], n = 99;
    const char *whole[] = {"data/x", "data"};
    cr_assert_eq(dv_rev_path_select(parts, &n, "data", whole, 2), DV_SELECT_WHOLE);
    const char *pointer_file[] = {"data.dv"};
    cr_assert_eq(dv_rev_path_select(parts, &n, "data", pointer_file, 1), DV_SELECT_WHOLE);
    const char *above[] = {"top"};
    cr_assert_eq(dv_rev_path_select(parts, &n, "top/data", above, 1), DV_SELECT_WHOLE);
    cr_assert_eq(dv_rev_path_select(parts, &n, "data", NULL, 0), DV_SELECT_WHOLE);
    const char *other[] = {"data2/x", "dat"};
    cr_assert_eq(dv_rev_path_select(parts, &n, "data", other, 2), DV_SELECT_NONE);
    cr_assert_eq(n, 0);
    /* sorted by path; a part inside another, or repeated, is left out whichever comes first */
    const char *f[] = {"data/b/c", "data/a", "data/b", "data/a/x", "data/b-1/y", "data/a"};
    cr_assert_eq(dv_rev_path_select(parts, &n, "data", f, 6), DV_SELECT_PARTS);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(f[parts[0]], "data/a");
    cr_assert_str_eq(f[parts[1]], "data/b");
    cr_assert_str_eq(f[parts[2]], "data/b-1/y");
    cr_assert_eq(parts[0], 1, "the first of the repeated data/a");
    const char *trailing[] = {"data/"};
    cr_assert_eq(dv_rev_path_select(parts, &n, "data", trailing, 1), DV_SELECT_WHOLE);
}
