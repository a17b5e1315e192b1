#include "core/base/error.h"
#include "core/object/pointer.h"
#include "core/ops/log.h"
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
static long clock_s; /* commit times: one second apart, so the order is known */

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
             "GIT_COMMITTER_EMAIL=t@t GIT_AUTHOR_DATE='%ld +0100' GIT_COMMITTER_DATE='%ld "
             "+0100' && (%s) >/dev/null 2>&1",
             root, clock_s, clock_s, cmd);
    cr_assert_eq(system(full), 0, "%s", cmd);
}

/* git add -A and commit, one second after the last commit. */
static void commit(const char *message)
{
    clock_s++;
    sh("git add -A && git commit -q --allow-empty -m '%s'", message);
}

/* The full id of spec, from git itself. */
static void rev_parse(char out[41], const char *spec)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cd '%s' && git rev-parse '%s'", root, spec);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(out, 41, f));
    cr_assert_eq(strlen(out), 40);
    pclose(f);
}

/* A pointer file for content whose id is all byte b, of size bytes (and files files below a
 * directory). */
static void write_pointer(const char *pointer_relpath, int kind, uint8_t b, uint64_t size,
                          uint64_t files)
{
    dv_pointer p = {0};
    p.version = DV_POINTER_VERSION;
    p.kind = kind;
    memset(p.oid.id, b, sizeof(p.oid.id));
    p.size = size;
    p.files = kind == DV_KIND_DIR ? files : 0;
    dv_buf text = DV_BUF_INIT;
    cr_assert_eq(dv_pointer_format(&text, &p), 0);
    testrepo_write_file(root, pointer_relpath, text.ptr, text.len);
    dv_buf_release(&text);
}

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "log");
    cr_assert_eq(dv_repo_global_init(), 0);
    clock_s = 1763600000; /* 2025-11-20 */
    sh("git init -q -b main .");
    repo = testrepo_init_dv(root);
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(log, .init = setup, .fini = teardown);

#define MAX_SEEN 32

typedef struct seen_change {
    char commit[41], parent[41], short_id[41];
    char path[128], old_path[128];
    char subject[64];
    int64_t time;
    int offset;
    dv_log_change_kind kind;
    int has_before, has_after;
    dv_pointer before, after;
} seen_change;

typedef struct seen {
    seen_change c[MAX_SEEN];
    int n;
    int stop_after; /* return an error from the call after this many, when > 0 */
} seen;

static int collect(void *ctx, const dv_log_commit *commit, const dv_log_change *change)
{
    seen *s = ctx;
    if (s->stop_after && s->n == s->stop_after)
        return dv_error_set(DV_EIO, "the reader went away");
    cr_assert_lt(s->n, MAX_SEEN);
    seen_change *c = &s->c[s->n++];
    memset(c, 0, sizeof(*c));
    git_oid_tostr(c->commit, sizeof(c->commit), commit->id);
    if (commit->parent)
        git_oid_tostr(c->parent, sizeof(c->parent), commit->parent);
    snprintf(c->short_id, sizeof(c->short_id), "%s", commit->short_id);
    snprintf(c->path, sizeof(c->path), "%s", change->path);
    if (change->old_path)
        snprintf(c->old_path, sizeof(c->old_path), "%s", change->old_path);
    snprintf(c->subject, sizeof(c->subject), "%s", commit->subject);
    c->time = commit->time;
    c->offset = commit->offset_minutes;
    c->kind = change->kind;
    if ((c->has_before = change->before != NULL))
        c->before = *change->before;
    if ((c->has_after = change->after != NULL))
        c->after = *change->after;
    return 0;
}

/* dv_log from spec over paths into s; returns what dv_log returned. */
static int run_log(seen *s, dv_log_result *result, const char *spec, const char *const *paths,
                   size_t n_paths, long long max_commits, int follow)
{
    dv_rev *rev = NULL;
    dv_log_result ignored;
    cr_assert_eq(dv_rev_resolve(&rev, repo, spec), 0, "%s", dv_error_last());
    dv_log_options opts = {max_commits, follow};
    int error = dv_log(result ? result : &ignored, repo, rev, paths, n_paths, &opts, collect, s);
    dv_rev_free(rev);
    return error;
}

static void assert_change(const seen_change *c, const char *commit, dv_log_change_kind kind,
                          const char *path)
{
    cr_assert_str_eq(c->commit, commit, "commit of %s", path);
    cr_assert_eq(c->kind, kind, "kind of %s at %s: %d", path, commit, c->kind);
    cr_assert_str_eq(c->path, path);
}

/* Four commits: data/ and model.bin added; data/ gains files; a commit of notes alone;
 * model.bin changes and data/ is deleted. */
static void linear_history(char ids[4][41])
{
    sh("mkdir -p sub");
    write_pointer("data.dv", DV_KIND_DIR, 1, 3000, 3);
    write_pointer("model.bin.dv", DV_KIND_FILE, 2, 5000, 0);
    commit("add data and model");
    rev_parse(ids[0], "HEAD");
    write_pointer("data.dv", DV_KIND_DIR, 3, 7000, 1204);
    commit("grow data");
    rev_parse(ids[1], "HEAD");
    testrepo_write_file(root, "notes.txt", "notes\n", 6);
    commit("notes only");
    rev_parse(ids[2], "HEAD");
    write_pointer("model.bin.dv", DV_KIND_FILE, 4, 4000, 0);
    sh("git rm -q data.dv");
    commit("retrain, drop data");
    rev_parse(ids[3], "HEAD");
}

Test(log, changes_come_newest_first_with_their_pointers_before_and_after)
{
    char ids[4][41];
    linear_history(ids);
    seen s = {0};
    dv_log_result result;
    cr_assert_eq(run_log(&s, &result, "HEAD", NULL, 0, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 5);
    assert_change(&s.c[0], ids[3], DV_LOG_DELETED, "data");
    cr_assert(s.c[0].has_before && !s.c[0].has_after);
    cr_assert_eq(s.c[0].before.files, 1204);
    cr_assert_eq(s.c[0].before.size, 7000);
    assert_change(&s.c[1], ids[3], DV_LOG_MODIFIED, "model.bin");
    cr_assert_eq(s.c[1].before.size, 5000);
    cr_assert_eq(s.c[1].after.size, 4000);
    cr_assert_eq(s.c[1].after.oid.id[0], 4);
    cr_assert_str_eq(s.c[1].subject, "retrain, drop data");
    cr_assert_str_eq(s.c[1].parent, ids[2]);
    assert_change(&s.c[2], ids[1], DV_LOG_MODIFIED, "data");
    cr_assert_eq(s.c[2].before.files, 3);
    cr_assert_eq(s.c[2].after.files, 1204);
    assert_change(&s.c[3], ids[0], DV_LOG_ADDED, "data");
    cr_assert(!s.c[3].has_before && s.c[3].has_after);
    assert_change(&s.c[4], ids[0], DV_LOG_ADDED, "model.bin");
    cr_assert_str_eq(s.c[4].parent, "", "a root commit is compared with nothing");
    cr_assert_eq(result.commits_walked, 4);
    cr_assert_eq(result.commits_shown, 3, "the commit of notes alone is not shown");
    cr_assert_eq(s.c[4].time, clock_s - 3);
    cr_assert_eq(s.c[4].offset, 60);
    cr_assert_geq(strlen(s.c[4].short_id), 7);
    cr_assert(!strncmp(s.c[4].short_id, ids[0], strlen(s.c[4].short_id)));
}

Test(log, a_path_selects_its_pointer_and_a_directory_the_pointers_below_it)
{
    sh("mkdir -p a/b c");
    write_pointer("a/b/data.dv", DV_KIND_DIR, 1, 10, 2);
    write_pointer("a/x.dv", DV_KIND_FILE, 2, 20, 0);
    write_pointer("c/y.dv", DV_KIND_FILE, 3, 30, 0);
    commit("one");
    write_pointer("a/b/data.dv", DV_KIND_DIR, 4, 40, 5);
    write_pointer("c/y.dv", DV_KIND_FILE, 5, 50, 0);
    commit("two");
    write_pointer("a/x.dv", DV_KIND_FILE, 6, 60, 0);
    commit("three");
    char one[41], two[41], three[41];
    rev_parse(one, "HEAD~2");
    rev_parse(two, "HEAD~1");
    rev_parse(three, "HEAD");

    seen s = {0};
    const char *data[] = {"a/b/data"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", data, 1, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2);
    assert_change(&s.c[0], two, DV_LOG_MODIFIED, "a/b/data");
    assert_change(&s.c[1], one, DV_LOG_ADDED, "a/b/data");

    memset(&s, 0, sizeof(s));
    const char *dir[] = {"a"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", dir, 1, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 4);
    assert_change(&s.c[0], three, DV_LOG_MODIFIED, "a/x");
    assert_change(&s.c[1], two, DV_LOG_MODIFIED, "a/b/data");
    assert_change(&s.c[2], one, DV_LOG_ADDED, "a/b/data");
    assert_change(&s.c[3], one, DV_LOG_ADDED, "a/x");

    memset(&s, 0, sizeof(s));
    const char *two_paths[] = {"c/y", "a/b", "a/b/data"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", two_paths, 3, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 4, "a pointer below two paths is shown once");
    assert_change(&s.c[0], two, DV_LOG_MODIFIED, "a/b/data");
    assert_change(&s.c[1], two, DV_LOG_MODIFIED, "c/y");
    assert_change(&s.c[2], one, DV_LOG_ADDED, "a/b/data");
    assert_change(&s.c[3], one, DV_LOG_ADDED, "c/y");
}

Test(log, max_commits_counts_commits_shown_not_changes_or_commits_walked)
{
    char ids[4][41];
    linear_history(ids);
    seen s = {0};
    dv_log_result result;
    cr_assert_eq(run_log(&s, &result, "HEAD", NULL, 0, 1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2, "both changes of the newest commit");
    cr_assert_eq(result.commits_shown, 1);
    memset(&s, 0, sizeof(s));
    cr_assert_eq(run_log(&s, &result, "HEAD", NULL, 0, 2, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 3);
    assert_change(&s.c[2], ids[1], DV_LOG_MODIFIED, "data");
    cr_assert_eq(result.commits_walked, 3, "the commit of notes alone is walked, not counted");
    memset(&s, 0, sizeof(s));
    cr_assert_eq(run_log(&s, &result, "HEAD", NULL, 0, 0, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 0);
}

Test(log, a_merge_that_takes_one_side_is_not_shown_and_that_side_is_walked)
{
    write_pointer("model.bin.dv", DV_KIND_FILE, 1, 100, 0);
    write_pointer("other.dv", DV_KIND_FILE, 9, 900, 0);
    commit("base");
    sh("git checkout -q -b side");
    write_pointer("model.bin.dv", DV_KIND_FILE, 2, 200, 0);
    commit("side: retrain");
    char side[41];
    rev_parse(side, "HEAD");
    sh("git checkout -q main");
    testrepo_write_file(root, "notes.txt", "n\n", 2);
    commit("main: notes");
    clock_s++;
    sh("git merge -q --no-ff -m merge side");
    char merge[41], base[41];
    rev_parse(merge, "HEAD");
    rev_parse(base, "HEAD~1~1");

    seen s = {0};
    dv_log_result result;
    const char *model[] = {"model.bin"};
    cr_assert_eq(run_log(&s, &result, "HEAD", model, 1, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2);
    assert_change(&s.c[0], side, DV_LOG_MODIFIED, "model.bin");
    assert_change(&s.c[1], base, DV_LOG_ADDED, "model.bin");
    cr_assert_eq(result.commits_walked, 3, "the merge is TREESAME to side: main is not walked");

    /* For other.dv the merge is TREESAME to main, its first parent. */
    memset(&s, 0, sizeof(s));
    const char *other[] = {"other"};
    cr_assert_eq(run_log(&s, &result, "HEAD", other, 1, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 1);
    assert_change(&s.c[0], base, DV_LOG_ADDED, "other");
    cr_assert_eq(result.commits_walked, 3, "merge, main's commit and base");
}

Test(log, a_merge_unlike_both_parents_is_shown_against_its_first_and_both_sides_walked)
{
    write_pointer("model.bin.dv", DV_KIND_FILE, 1, 100, 0);
    commit("base");
    sh("git checkout -q -b side");
    write_pointer("model.bin.dv", DV_KIND_FILE, 2, 200, 0);
    commit("side: retrain");
    char side[41];
    rev_parse(side, "HEAD");
    sh("git checkout -q main");
    write_pointer("model.bin.dv", DV_KIND_FILE, 3, 300, 0);
    commit("main: retrain");
    char main_commit[41];
    rev_parse(main_commit, "HEAD");
    clock_s++;
    /* A conflict, resolved with a third version. */
    sh("git merge -q side || true");
    write_pointer("model.bin.dv", DV_KIND_FILE, 4, 400, 0);
    commit("merge, retrained on both");
    char merge[41];
    rev_parse(merge, "HEAD");

    seen s = {0};
    dv_log_result result;
    cr_assert_eq(run_log(&s, &result, "HEAD", NULL, 0, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 4);
    assert_change(&s.c[0], merge, DV_LOG_MODIFIED, "model.bin");
    cr_assert_str_eq(s.c[0].parent, main_commit);
    cr_assert_eq(s.c[0].before.size, 300);
    cr_assert_eq(s.c[0].after.size, 400);
    assert_change(&s.c[1], main_commit, DV_LOG_MODIFIED, "model.bin");
    assert_change(&s.c[2], side, DV_LOG_MODIFIED, "model.bin");
    cr_assert_eq(s.c[3].kind, DV_LOG_ADDED);
    cr_assert_eq(result.commits_walked, 4, "each commit once, though base is reached twice");
}

Test(log, follow_goes_on_under_the_name_a_moved_pointer_had)
{
    write_pointer("a.bin.dv", DV_KIND_FILE, 1, 100, 0);
    commit("add a");
    write_pointer("a.bin.dv", DV_KIND_FILE, 2, 200, 0);
    commit("change a");
    sh("mkdir -p models && git mv a.bin.dv models/b.bin.dv");
    commit("move a to b");
    write_pointer("models/b.bin.dv", DV_KIND_FILE, 3, 300, 0);
    commit("change b");
    char ids[4][41];
    rev_parse(ids[0], "HEAD~3");
    rev_parse(ids[1], "HEAD~2");
    rev_parse(ids[2], "HEAD~1");
    rev_parse(ids[3], "HEAD");

    seen s = {0};
    const char *b[] = {"models/b.bin"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", b, 1, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2, "without --follow the history stops where b was added");
    assert_change(&s.c[1], ids[2], DV_LOG_ADDED, "models/b.bin");

    memset(&s, 0, sizeof(s));
    cr_assert_eq(run_log(&s, NULL, "HEAD", b, 1, -1, 1), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 4);
    assert_change(&s.c[0], ids[3], DV_LOG_MODIFIED, "models/b.bin");
    assert_change(&s.c[1], ids[2], DV_LOG_RENAMED, "models/b.bin");
    cr_assert_str_eq(s.c[1].old_path, "a.bin");
    cr_assert(s.c[1].has_before && s.c[1].before.size == 200 && s.c[1].after.size == 200);
    assert_change(&s.c[2], ids[1], DV_LOG_MODIFIED, "a.bin");
    assert_change(&s.c[3], ids[0], DV_LOG_ADDED, "a.bin");
}

Test(log, follow_finds_a_moved_pointer_by_its_content_when_its_blob_changed)
{
    write_pointer("a.bin.dv", DV_KIND_FILE, 1, 100, 0);
    write_pointer("decoy.bin.dv", DV_KIND_FILE, 7, 100, 0);
    commit("add a");
    /* Moved and made executable: another blob, the same content id. */
    sh("git rm -q a.bin.dv");
    dv_pointer p = {0};
    p.version = DV_POINTER_VERSION;
    p.kind = DV_KIND_FILE;
    memset(p.oid.id, 1, sizeof(p.oid.id));
    p.size = 100;
    p.exec = 1;
    dv_buf text = DV_BUF_INIT;
    cr_assert_eq(dv_pointer_format(&text, &p), 0);
    testrepo_write_file(root, "b.bin.dv", text.ptr, text.len);
    dv_buf_release(&text);
    commit("move a to b, executable");
    char moved[41];
    rev_parse(moved, "HEAD");

    seen s = {0};
    const char *b[] = {"b.bin"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", b, 1, -1, 1), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2);
    assert_change(&s.c[0], moved, DV_LOG_RENAMED, "b.bin");
    cr_assert_str_eq(s.c[0].old_path, "a.bin");
    cr_assert_eq(s.c[0].after.exec, 1);
    cr_assert_eq(s.c[1].kind, DV_LOG_ADDED);
    cr_assert_str_eq(s.c[1].path, "a.bin");
}

Test(log, follow_does_not_take_a_copy_that_is_still_there_for_a_rename)
{
    write_pointer("a.bin.dv", DV_KIND_FILE, 1, 100, 0);
    commit("add a");
    sh("cp a.bin.dv b.bin.dv");
    commit("copy a to b");
    char copied[41];
    rev_parse(copied, "HEAD");
    seen s = {0};
    const char *b[] = {"b.bin"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", b, 1, -1, 1), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 1);
    assert_change(&s.c[0], copied, DV_LOG_ADDED, "b.bin");
}

Test(log, a_pointer_blob_that_does_not_parse_is_corrupt_naming_commit_and_path)
{
    write_pointer("model.bin.dv", DV_KIND_FILE, 1, 100, 0);
    commit("good");
    testrepo_write_file(root, "model.bin.dv", "dv: 1\nkind: banana\n", 19);
    commit("bad");
    char bad[41];
    rev_parse(bad, "HEAD");
    seen s = {0};
    cr_assert_eq(run_log(&s, NULL, "HEAD", NULL, 0, -1, 0), DV_ECORRUPT);
    char want[64];
    snprintf(want, sizeof(want), "%s:model.bin.dv", bad);
    cr_assert(strstr(dv_error_last(), want), "%s", dv_error_last());
}

Test(log, a_missing_parent_ends_the_walk_and_is_reported)
{
    write_pointer("model.bin.dv", DV_KIND_FILE, 1, 100, 0);
    commit("one");
    /* A commit naming a parent this repository does not have, as a shallow clone's boundary
     * does. */
    char tree[41], boundary[41];
    rev_parse(tree, "HEAD^{tree}");
    const char *fake_parent = "1234567890123456789012345678901234567890";
    sh("printf 'tree %s\\nparent %s\\nauthor t <t@t> %ld +0000\\ncommitter t <t@t> %ld +0000\\n\\n"
       "grafted\\n' | git hash-object -t commit -w --stdin > .git/boundary && git update-ref "
       "refs/heads/shallow $(cat .git/boundary)",
       tree, fake_parent, clock_s, clock_s);
    rev_parse(boundary, "shallow");
    sh("git checkout -q shallow");
    write_pointer("model.bin.dv", DV_KIND_FILE, 2, 200, 0);
    commit("two");
    char two[41];
    rev_parse(two, "HEAD");

    seen s = {0};
    dv_log_result result;
    cr_assert_eq(run_log(&s, &result, "HEAD", NULL, 0, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 1);
    assert_change(&s.c[0], two, DV_LOG_MODIFIED, "model.bin");
    cr_assert_eq(result.n_boundaries, 1);
    char hex[41];
    git_oid_tostr(hex, sizeof(hex), &result.boundary);
    cr_assert_str_eq(hex, boundary);
    git_oid_tostr(hex, sizeof(hex), &result.boundary_parent);
    cr_assert_str_eq(hex, fake_parent);
}

Test(log, paths_inside_data_or_never_tracked_are_usage_errors_naming_them)
{
    write_pointer("data.dv", DV_KIND_DIR, 1, 100, 2);
    sh("mkdir -p plain && echo x > plain/readme");
    commit("one");
    seen s = {0};
    const char *inside[] = {"data/sub/file.csv"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", inside, 1, -1, 0), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "data/sub/file.csv lies inside data/"), "%s",
              dv_error_last());
    const char *never[] = {"data", "nothing/here"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", never, 2, -1, 0), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "nothing/here is not tracked by dv"), "%s", dv_error_last());
    cr_assert_eq(s.n, 1, "the path that is tracked is shown before the error");
    const char *plain[] = {"plain"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", plain, 1, -1, 0), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "plain is not tracked"), "%s", dv_error_last());
    cr_assert_eq(run_log(&s, NULL, "HEAD", plain, 1, -1, 1), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "--follow"), "%s", dv_error_last());
    const char *both[] = {"data", "plain"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", both, 2, -1, 1), DV_EUSAGE);
}

Test(log, a_path_deleted_before_the_start_is_found_in_older_commits)
{
    write_pointer("old.dv", DV_KIND_FILE, 1, 100, 0);
    commit("add old");
    sh("git rm -q old.dv");
    commit("drop old");
    seen s = {0};
    const char *old[] = {"old"};
    cr_assert_eq(run_log(&s, NULL, "HEAD", old, 1, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.c[0].kind, DV_LOG_DELETED);
    cr_assert_eq(s.c[1].kind, DV_LOG_ADDED);
}

Test(log, the_callbacks_error_stops_the_walk_and_is_returned)
{
    char ids[4][41];
    linear_history(ids);
    seen s = {0};
    s.stop_after = 2;
    cr_assert_eq(run_log(&s, NULL, "HEAD", NULL, 0, -1, 0), DV_EIO);
    cr_assert_eq(s.n, 2);
}

Test(log, a_rewritten_pointer_with_the_same_content_is_no_change)
{
    write_pointer("model.bin.dv", DV_KIND_FILE, 1, 100, 0);
    commit("one");
    /* The same pointer with a comment line: another blob, nothing changed. */
    sh("printf '# a note\\n' >> model.bin.dv");
    commit("comment");
    seen s = {0};
    dv_log_result result;
    cr_assert_eq(run_log(&s, &result, "HEAD", NULL, 0, -1, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.c[0].kind, DV_LOG_ADDED);
    cr_assert_eq(result.commits_walked, 2);
}
