/*
 * Tests for core/pathname: .git and .dv are refused in every spelling a file system
 * folds to them (case, trailing dots and spaces, NTFS streams, 8.3 short names, HFS+
 * ignored code points), and only those: names that merely start like them pass.
 */
#include "testutil.h"

#include "core/base/pathname.h"

static int refused(const char *name)
{
    return dv_pathname_problem(name, strlen(name)) != NULL;
}

Test(pathname, git_and_dv_are_refused_in_every_folded_form)
{
    const char *names[] = {".git",   ".GIT",   ".Git",    ".git.",     ".git ",   ".git. . ",
                           "GIT~1",  "git~2",  ".git::$INDEX_ALLOCATION", ".git:x",  ".dv",
                           ".DV",    ".dV.",   ".dv ",    "DV~1",      "dv~9",
                           /* .g<U+200C>it and <U+FEFF>.git, which HFS+ compares as .git */
                           ".g\xe2\x80\x8cit", "\xef\xbb\xbf.git", ".gi\xe2\x81\xaft"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_expect(refused(names[i]), "'%s' should be refused", names[i]);
}

Test(pathname, names_that_only_resemble_them_are_accepted)
{
    const char *names[] = {".gitignore", ".gitattributes", ".git-x", "git",   ".gi",  "x.git",
                           ".dvc",       "dv",            "a.dv",   "GIT~0", "GIT~10", "DV~",
                           ".g\xe2\x80\x8bit" /* U+200B is not ignored by HFS+ */};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_expect(!refused(names[i]), "'%s' should be accepted", names[i]);
}

Test(pathname, names_no_file_system_takes_are_refused)
{
    cr_expect(dv_pathname_problem("", 0) != NULL);
    cr_expect(refused("."));
    cr_expect(refused(".."));
    cr_expect(refused("a/b"));
    cr_expect(dv_pathname_problem("a\0b", 3) != NULL);
    cr_expect(!refused("..."));
}

Test(pathname, a_path_reports_the_component_at_fault)
{
    size_t at = 99, len = 99;
    cr_assert_null(dv_pathname_check_path("data/train/x.csv", &at, &len));
    cr_assert_not_null(dv_pathname_check_path("data/sub/.GIT/config", &at, &len));
    cr_expect_eq(at, 9);
    cr_expect_eq(len, 4);
    cr_assert_not_null(dv_pathname_check_path("a//b", &at, &len));
    cr_expect_eq(at, 2);
    cr_expect_eq(len, 0);
    cr_assert_not_null(dv_pathname_check_path("a/..", &at, &len));
    cr_expect_eq(at, 2);
}
