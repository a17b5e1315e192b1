#include "core/base/error.h"
#include "core/base/lock.h"
#include "core/repo/config.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static char root[256];
static dv_config *cfg;

static void setup(void)
{
    testutil_make_root(root, sizeof(root), "config");
    setenv("HOME", root, 1); /* no ~/.config/dv/config of the user's */
    char path[512];
    snprintf(path, sizeof(path), "%s/config", root);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("[core]\n"
          "\tlockTimeout = 9223372036854775807\n"
          "\tsmall = 30\n"
          "\thuge = 99999999999999999999\n"
          "\tword = soon\n"
          "[pack]\n"
          "\ttargetSize = 8m\n"
          "\twrapping = 9000000000g\n"
          "\tnegative = -1\n",
          f);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(dv_config_open(&cfg, root), 0, "%s", dv_error_last());
}

static void teardown(void)
{
    dv_config_free(cfg);
    testutil_remove_tree(root);
}

TestSuite(config, .init = setup, .fini = teardown);

Test(config, int_range_gives_values_in_range_and_the_default_when_unset)
{
    int64_t v;
    cr_assert_eq(dv_config_get_int_range(&v, cfg, "core.small", 1, 0, 60), 0);
    cr_assert_eq(v, 30);
    cr_assert_eq(dv_config_get_int_range(&v, cfg, "pack.targetSize", 1, 1 << 20, 1LL << 32), 0);
    cr_assert_eq(v, 8 << 20);
    cr_assert_eq(dv_config_get_int_range(&v, cfg, "core.unset", 17, 0, 60), 0);
    cr_assert_eq(v, 17);
}

Test(config, int_range_refuses_the_largest_int64_naming_key_and_range)
{
    int64_t v = 5;
    cr_assert_eq(
        dv_config_get_int_range(&v, cfg, "core.lockTimeout", 30, 0, DV_LOCK_TIMEOUT_MAX_SECONDS),
        DV_EUSAGE);
    cr_assert_str_eq(dv_error_last(), "core.lockTimeout in dv configuration must be 0..31536000 "
                                      "(got 9223372036854775807)");
    cr_assert_eq(v, 5, "out is left alone on failure");
}

Test(config, int_range_refuses_what_overflows_or_is_no_number_naming_the_key)
{
    int64_t v;
    const char *keys[] = {"core.huge", "pack.wrapping", "core.word"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        cr_assert_eq(dv_config_get_int_range(&v, cfg, keys[i], 0, 0, 100), DV_EUSAGE);
        cr_assert(strstr(dv_error_last(), keys[i]), "%s", dv_error_last());
        cr_assert(strstr(dv_error_last(), "must be a number from 0 to 100"), "%s", dv_error_last());
    }
    cr_assert_eq(dv_config_get_int_range(&v, cfg, "pack.negative", 0, 0, 100), DV_EUSAGE);
    cr_assert_str_eq(dv_error_last(), "pack.negative in dv configuration must be 0..100 (got -1)");
}

Test(config, env_int_range_checks_the_variable)
{
    int64_t v = 7;
    int found = 1;
    unsetenv("DV_TEST_INT");
    cr_assert_eq(dv_config_env_int_range(&v, &found, "DV_TEST_INT", 0, 60), 0);
    cr_assert_eq(found, 0);
    cr_assert_eq(v, 7);
    setenv("DV_TEST_INT", "", 1);
    cr_assert_eq(dv_config_env_int_range(&v, &found, "DV_TEST_INT", 0, 60), 0);
    cr_assert_eq(found, 0);
    setenv("DV_TEST_INT", "42", 1);
    cr_assert_eq(dv_config_env_int_range(&v, &found, "DV_TEST_INT", 0, 60), 0);
    cr_assert_eq(found, 1);
    cr_assert_eq(v, 42);
    const char *bad[] = {"9223372036854775807", "99999999999999999999", "-1", "61", "5s", "x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("DV_TEST_INT", bad[i], 1);
        cr_assert_eq(dv_config_env_int_range(&v, &found, "DV_TEST_INT", 0, 60), DV_EUSAGE, "%s",
                     bad[i]);
        cr_assert(strstr(dv_error_last(), "DV_TEST_INT must be a number from 0 to 60"), "%s",
                  dv_error_last());
    }
    unsetenv("DV_TEST_INT");
}
