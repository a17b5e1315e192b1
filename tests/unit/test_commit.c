#include "core/base/error.h"
#include "core/ops/commit.h"
#include "testrepo.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static char root[256];
static dv_repo *repo;

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "commit");
    cr_assert_eq(dv_repo_global_init(), 0);
    static const char *vars[] = {"GIT_AUTHOR_NAME",
                                 "GIT_AUTHOR_EMAIL",
                                 "GIT_AUTHOR_DATE",
                                 "GIT_COMMITTER_NAME",
                                 "GIT_COMMITTER_EMAIL",
                                 "GIT_COMMITTER_DATE",
                                 "EMAIL",
                                 "GIT_EDITOR",
                                 "VISUAL",
                                 "EDITOR"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    /* No user-level configuration: only the repository's own. */
    setenv("HOME", root, 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("XDG_CONFIG_HOME", root, 1);
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, root);
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, root);
    git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, root);
    repo = testrepo_init(root);
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(commit, .init = setup, .fini = teardown);

static void set_config(const char *key, const char *value)
{
    git_config *cfg = NULL;
    cr_assert_eq(git_repository_config(&cfg, repo->git), 0);
    cr_assert_eq(git_config_set_string(cfg, key, value), 0);
    git_config_free(cfg);
}

static void date_is(const char *text, int64_t seconds, int offset)
{
    int64_t got = -1;
    int got_offset = -1;
    cr_assert_eq(dv_commit_parse_date(&got, &got_offset, text), 0, "%s: %s", text, dv_error_last());
    cr_assert_eq(got, seconds, "%s: %lld", text, (long long)got);
    cr_assert_eq(got_offset, offset, "%s: offset %d", text, got_offset);
}

Test(commit, dates_in_git_raw_iso_and_rfc2822_forms)
{
    /* 2005-04-07 20:13:13 UTC is 1112904793 (calendar.timegm). */
    date_is("1112904793 +0200", 1112904793, 120);
    date_is("@1112904793 -0130", 1112904793, -90);
    date_is("1112904793", 1112904793, 0);
    date_is("2005-04-07T22:13:13+0200", 1112904793, 120);
    date_is("2005-04-07 22:13:13 +02:00", 1112904793, 120);
    date_is("2005-04-07T20:13:13Z", 1112904793, 0);
    date_is("Thu, 07 Apr 2005 22:13:13 +0200", 1112904793, 120);
    date_is("7 Apr 2005 20:13:13 +0000", 1112904793, 0);
    /* a leap day, west of UTC: 2024-02-29 12:00 at -05:30 is 17:30 UTC */
    date_is("2024-02-29T12:00:00-0530", 1709227800, -330);
}

Test(commit, dates_git_would_not_take_are_refused)
{
    int64_t s;
    int o;
    const char *bad[] = {"",
                         "yesterday",
                         "2005-13-07T22:13:13+0200",
                         "1112904793 +2400",
                         "2005-04-07T22:13:13+02000",
                         "07 Foo 2005 22:13 +0000",
                         "12345 +0200 x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(dv_commit_parse_date(&s, &o, bad[i]), DV_EUSAGE, "%s", bad[i]);
}

Test(commit, identity_from_the_environment_before_the_configuration)
{
    set_config("user.name", "Config Name");
    set_config("user.email", "config@example.com");
    setenv("GIT_AUTHOR_NAME", "Env Author", 1);
    setenv("GIT_COMMITTER_EMAIL", "committer@example.com", 1);
    setenv("GIT_AUTHOR_DATE", "1112904793 +0200", 1);
    git_signature *author = NULL, *committer = NULL;
    cr_assert_eq(dv_commit_identity(&author, &committer, repo), 0, "%s", dv_error_last());
    cr_assert_str_eq(author->name, "Env Author");
    cr_assert_str_eq(author->email, "config@example.com");
    cr_assert_eq(author->when.time, 1112904793);
    cr_assert_eq(author->when.offset, 120);
    cr_assert_str_eq(committer->name, "Config Name");
    cr_assert_str_eq(committer->email, "committer@example.com");
    git_signature_free(author);
    git_signature_free(committer);
}

Test(commit, committer_name_and_email_config_override_user_ones)
{
    set_config("user.name", "User");
    set_config("user.email", "user@example.com");
    set_config("committer.name", "Committer");
    git_signature *author = NULL, *committer = NULL;
    cr_assert_eq(dv_commit_identity(&author, &committer, repo), 0, "%s", dv_error_last());
    cr_assert_str_eq(author->name, "User");
    cr_assert_str_eq(committer->name, "Committer");
    cr_assert_str_eq(committer->email, "user@example.com");
    git_signature_free(author);
    git_signature_free(committer);
}

Test(commit, a_missing_identity_says_how_to_set_it)
{
    set_config("user.name", "Only A Name");
    git_signature *author = NULL, *committer = NULL;
    cr_assert_eq(dv_commit_identity(&author, &committer, repo), DV_EUSAGE);
    cr_assert_null(author);
    cr_assert_null(committer);
    cr_assert_not_null(strstr(dv_error_last(), "git config --global user.email"));
    /* EMAIL completes it, as for git */
    setenv("EMAIL", "from-env@example.com", 1);
    cr_assert_eq(dv_commit_identity(&author, &committer, repo), 0, "%s", dv_error_last());
    cr_assert_str_eq(author->email, "from-env@example.com");
    git_signature_free(author);
    git_signature_free(committer);
}

Test(commit, messages_are_cleaned_as_git_does)
{
    dv_buf out = DV_BUF_INIT;
    cr_assert_eq(dv_commit_clean_message(&out, "\n\nsubject  \n\n\n\nbody\n# note\n\n", 1), 0);
    cr_assert_str_eq(out.ptr, "subject\n\nbody\n");
    cr_assert_eq(dv_commit_clean_message(&out, "subject\n# kept with -m", 0), 0);
    cr_assert_str_eq(out.ptr, "subject\n# kept with -m\n");
    cr_assert_eq(dv_commit_clean_message(&out, "# only\n#comments\n\n", 1), 0);
    cr_assert_eq(out.len, 0);
    dv_buf_release(&out);
}

Test(commit, the_editor_is_chosen_as_git_chooses_it)
{
    dv_buf out = DV_BUF_INIT;
    setenv("TERM", "xterm", 1);
    cr_assert_eq(dv_commit_editor(&out, repo), 0);
    cr_assert_str_eq(out.ptr, "vi");
    setenv("EDITOR", "ed", 1);
    cr_assert_eq(dv_commit_editor(&out, repo), 0);
    cr_assert_str_eq(out.ptr, "ed");
    setenv("VISUAL", "vis", 1);
    cr_assert_eq(dv_commit_editor(&out, repo), 0);
    cr_assert_str_eq(out.ptr, "vis");
    set_config("core.editor", "configured");
    cr_assert_eq(dv_commit_editor(&out, repo), 0);
    cr_assert_str_eq(out.ptr, "configured");
    setenv("GIT_EDITOR", "from-env", 1);
    cr_assert_eq(dv_commit_editor(&out, repo), 0);
    cr_assert_str_eq(out.ptr, "from-env");
    /* a dumb terminal skips VISUAL, and without any editor is an error */
    unsetenv("GIT_EDITOR");
    set_config("core.editor", "");
    setenv("TERM", "dumb", 1);
    cr_assert_eq(dv_commit_editor(&out, repo), 0);
    cr_assert_str_eq(out.ptr, "ed");
    unsetenv("EDITOR");
    cr_assert_eq(dv_commit_editor(&out, repo), DV_EUSAGE);
    dv_buf_release(&out);
}

Test(commit, nothing_to_commit_on_an_empty_unborn_branch)
{
    set_config("user.name", "U");
    set_config("user.email", "u@example.com");
    /* dv init staged .dv/config and .dv/.gitignore: they are the changes */
    dv_commit_plan plan;
    cr_assert_eq(dv_commit_prepare(&plan, repo, NULL, 0, NULL), 0, "%s", dv_error_last());
    cr_assert_null(plan.parent);
    cr_assert_not_null(plan.branch);
    cr_assert_eq(plan.n_changes, 2);
    cr_assert_eq(plan.n_data_changes, 0);
    git_oid id;
    cr_assert_eq(dv_commit_create(&id, repo, &plan, "first\n"), 0, "%s", dv_error_last());
    dv_commit_plan_free(&plan);
    cr_assert_eq(dv_commit_prepare(&plan, repo, NULL, 0, NULL), 0, "%s", dv_error_last());
    cr_assert_eq(plan.n_changes, 0);
    cr_assert_not_null(plan.parent);
    cr_assert(git_oid_equal(git_commit_id(plan.parent), &id));
    dv_commit_plan_free(&plan);
}
