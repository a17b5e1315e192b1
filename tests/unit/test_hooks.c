#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/ops/hooks.h"
#include "testrepo.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
             "GIT_COMMITTER_EMAIL=t@t GIT_CONFIG_NOSYSTEM=1 && (%s) >/dev/null 2>&1",
             root, cmd);
    cr_assert_eq(system(full), 0, "%s", cmd);
}

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "hooks");
    cr_assert_eq(dv_repo_global_init(), 0);
    sh("git init -q -b main .");
    repo = testrepo_init_dv(root);
}

static void teardown(void)
{
    dv_repo_free(repo);
    testutil_remove_tree(root);
}

TestSuite(hooks, .init = setup, .fini = teardown);

static void read_file(dv_buf *out, const char *relpath)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, relpath);
    cr_assert_eq(dv_fs_read_file(out, path, 1 << 20), 0, "%s", dv_error_last());
}

static int exists(const char *relpath)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", root, relpath);
    return lstat(path, &st) == 0;
}

Test(hooks, the_script_names_its_hook_and_quotes_the_fallback_path)
{
    dv_buf script = DV_BUF_INIT;
    cr_assert_eq(dv_hooks_script(&script, "post-merge", "/opt/it's dv/dv"), 0);
    cr_assert(dv_hooks_is_ours(script.ptr, script.len));
    cr_assert_not_null(strstr(script.ptr, "dv_installed='/opt/it'\\''s dv/dv'\n"));
    cr_assert_not_null(strstr(script.ptr, "\"$dv_bin\" hook post-merge \"$@\" </dev/null\n"));
    cr_assert_not_null(strstr(script.ptr, "exec \"$chained\" \"$@\"\n"));
    cr_assert_null(strstr(script.ptr, "--no-verify"));
    cr_assert_eq(dv_hooks_script(&script, "pre-push", "/usr/bin/dv"), 0);
    /* git's lines on stdin go to dv and then to the chained hook */
    cr_assert_not_null(strstr(script.ptr, "dv_refs=$(cat)\n"));
    cr_assert_not_null(strstr(script.ptr,
                              "\"$dv_refs\"; } | \"$dv_bin\" hook pre-push \"$@\" || exit "
                              "$?\n"));
    cr_assert_not_null(strstr(script.ptr, "\"$dv_refs\"; } | exec \"$chained\" \"$@\"\n"));
    cr_assert_not_null(strstr(script.ptr, "--no-verify"));
    cr_assert_eq(dv_hooks_script(&script, "pre-push", "relative/dv"), DV_EUSAGE);
    cr_assert_eq(dv_hooks_script(&script, "pre-push", "/usr/bin/d\nv"), DV_EUSAGE);
    dv_buf_release(&script);
    cr_assert_not(dv_hooks_is_ours("#!/bin/sh\necho hi\n", 18));
    cr_assert_not(dv_hooks_is_ours("#!/bin/sh\n# dv-hook: ", 21));
}

Test(hooks, install_chains_an_existing_hook_and_uninstall_restores_it)
{
    static const char user_hook[] = "#!/bin/sh\necho mine\n";
    sh("mkdir -p .git/hooks && printf '#!/bin/sh\\necho mine\\n' >.git/hooks/post-merge && "
       "chmod 0700 .git/hooks/post-merge");
    dv_hooks_report report;
    cr_assert_eq(dv_hooks_install(&report, repo, 0, "/usr/bin/dv"), 0, "%s", dv_error_last());
    cr_assert_eq(report.n, 3);
    cr_assert_str_eq(report.hooks[0].name, "post-checkout");
    cr_assert_eq(report.hooks[0].action, DV_HOOK_INSTALLED);
    cr_assert_eq(report.hooks[1].action, DV_HOOK_CHAINED);
    cr_assert_eq(report.hooks[2].action, DV_HOOK_INSTALLED);
    cr_assert_not(exists(".git/hooks/pre-push"));
    dv_hooks_report_free(&report);
    dv_buf text = DV_BUF_INIT;
    read_file(&text, ".git/hooks/post-merge.dv-chained");
    cr_assert_eq(text.len, sizeof(user_hook) - 1);
    cr_assert_eq(memcmp(text.ptr, user_hook, text.len), 0);
    read_file(&text, ".git/hooks/post-merge");
    cr_assert(dv_hooks_is_ours(text.ptr, text.len));

    /* again, with pre-push: the others are unchanged, the chained hook is not chained twice */
    cr_assert_eq(dv_hooks_install(&report, repo, 1, "/usr/bin/dv"), 0, "%s", dv_error_last());
    cr_assert_eq(report.n, 4);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(report.hooks[i].action, DV_HOOK_UNCHANGED);
    cr_assert_eq(report.hooks[3].action, DV_HOOK_INSTALLED);
    dv_hooks_report_free(&report);
    /* another binary rewrites dv's hooks only */
    cr_assert_eq(dv_hooks_install(&report, repo, 0, "/opt/dv"), 0, "%s", dv_error_last());
    cr_assert_eq(report.hooks[1].action, DV_HOOK_UPDATED);
    dv_hooks_report_free(&report);
    read_file(&text, ".git/hooks/post-merge.dv-chained");
    cr_assert_eq(memcmp(text.ptr, user_hook, text.len), 0);

    cr_assert_eq(dv_hooks_uninstall(&report, repo), 0, "%s", dv_error_last());
    cr_assert_eq(report.n, 4);
    cr_assert_eq(report.hooks[0].action, DV_HOOK_REMOVED);
    cr_assert_eq(report.hooks[1].action, DV_HOOK_RESTORED);
    cr_assert_eq(report.hooks[3].action, DV_HOOK_REMOVED);
    dv_hooks_report_free(&report);
    read_file(&text, ".git/hooks/post-merge");
    cr_assert_eq(text.len, sizeof(user_hook) - 1);
    cr_assert_eq(memcmp(text.ptr, user_hook, text.len), 0);
    struct stat st;
    char path[512];
    snprintf(path, sizeof(path), "%s/.git/hooks/post-merge", root);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0700);
    cr_assert_not(exists(".git/hooks/post-merge.dv-chained"));
    cr_assert_not(exists(".git/hooks/post-checkout"));
    cr_assert_not(exists(".git/hooks/pre-push"));
    dv_buf_release(&text);
}

Test(hooks, a_taken_chained_name_is_refused_and_nothing_is_lost)
{
    sh("mkdir -p .git/hooks && echo one >.git/hooks/post-checkout && "
       "echo two >.git/hooks/post-checkout.dv-chained");
    dv_hooks_report report;
    cr_assert_eq(dv_hooks_install(&report, repo, 0, "/usr/bin/dv"), DV_EEXISTS);
    dv_hooks_report_free(&report);
    dv_buf text = DV_BUF_INIT;
    read_file(&text, ".git/hooks/post-checkout");
    cr_assert_str_eq(text.ptr, "one\n");
    read_file(&text, ".git/hooks/post-checkout.dv-chained");
    cr_assert_str_eq(text.ptr, "two\n");
    dv_buf_release(&text);
}

Test(hooks, uninstall_leaves_hooks_that_are_not_dvs)
{
    sh("mkdir -p .git/hooks && echo mine >.git/hooks/post-rewrite");
    dv_hooks_report report;
    cr_assert_eq(dv_hooks_uninstall(&report, repo), 0, "%s", dv_error_last());
    cr_assert_eq(report.hooks[0].action, DV_HOOK_ABSENT);
    cr_assert_eq(report.hooks[2].action, DV_HOOK_NOT_OURS);
    dv_hooks_report_free(&report);
    cr_assert(exists(".git/hooks/post-rewrite"));
}

Test(hooks, the_directory_follows_core_hooks_path)
{
    dv_buf dir = DV_BUF_INIT, want = DV_BUF_INIT;
    cr_assert_eq(dv_hooks_dir(&dir, repo), 0, "%s", dv_error_last());
    cr_assert_eq(dv_buf_printf(&want, "%s/.git/hooks", repo->workdir.ptr), 0);
    cr_assert_str_eq(dir.ptr, want.ptr);
    sh("git config core.hooksPath my/hooks");
    cr_assert_eq(dv_hooks_dir(&dir, repo), 0, "%s", dv_error_last());
    dv_buf_clear(&want);
    cr_assert_eq(dv_buf_printf(&want, "%s/my/hooks", repo->workdir.ptr), 0);
    cr_assert_str_eq(dir.ptr, want.ptr);
    sh("git config core.hooksPath /elsewhere/hooks/");
    cr_assert_eq(dv_hooks_dir(&dir, repo), 0, "%s", dv_error_last());
    cr_assert_str_eq(dir.ptr, "/elsewhere/hooks");
    dv_buf_release(&dir);
    dv_buf_release(&want);
}

static int should(const char *name, int argc, const char *a0, const char *a1, const char *a2)
{
    const char *args[3] = {a0, a1, a2};
    int sync = -1;
    cr_assert_eq(dv_hooks_should_sync(&sync, repo, name, argc, args), 0, "%s", dv_error_last());
    return sync;
}

Test(hooks, only_checkouts_that_change_pointer_files_sync)
{
    sh("echo 'dv: 1' >a.dv && git add -A && git commit -q -m one");
    char one[64], zero[41];
    git_oid id;
    cr_assert_eq(git_reference_name_to_id(&id, repo->git, "HEAD"), 0);
    git_oid_tostr(one, sizeof(one), &id);
    memset(zero, '0', 40);
    zero[40] = '\0';
    sh("echo notes >notes.txt && git add notes.txt && git commit -q -m notes");
    /* only notes.txt changed since one */
    cr_assert_eq(should("post-checkout", 3, one, "HEAD", "1"), 0);
    cr_assert_eq(should("post-checkout", 3, zero, "HEAD", "1"), 1);
    sh("echo 'dv: 1 ' >a.dv && git add a.dv && git commit -q -m two");
    cr_assert_eq(should("post-checkout", 3, one, "HEAD", "1"), 1);
    cr_assert_eq(should("post-checkout", 3, one, "HEAD", "0"), 0);
    /* post-merge compares with ORIG_HEAD; without one, everything counts */
    cr_assert_eq(should("post-merge", 1, "0", NULL, NULL), 1);
    sh("git update-ref ORIG_HEAD HEAD");
    cr_assert_eq(should("post-merge", 1, "0", NULL, NULL), 0);
    sh("git update-ref ORIG_HEAD HEAD~1");
    cr_assert_eq(should("post-merge", 1, "0", NULL, NULL), 1);
    cr_assert_eq(should("post-rewrite", 1, "rebase", NULL, NULL), 1);
    cr_assert_eq(should("post-rewrite", 1, "amend", NULL, NULL), 0);
    int sync;
    const char *args[1] = {"x"};
    cr_assert_eq(dv_hooks_should_sync(&sync, repo, "pre-commit", 1, args), DV_EUSAGE);
    cr_assert_eq(dv_hooks_should_sync(&sync, repo, "post-checkout", 1, args), DV_EUSAGE);
}
