#include "core/base/error.h"
#include "core/base/pool.h"

#include <criterion/criterion.h>
#include <string.h>

typedef struct failing {
    const char *message;
    size_t fail_at; /* the item that fails */
} failing;

static int fail_one(void *ctx, size_t item, int worker)
{
    (void)worker;
    const failing *f = ctx;
    if (item != f->fail_at)
        return 0;
    return dv_error_set(DV_EIO, "%s (item %zu)", f->message, item);
}

Test(pool, each_failed_task_reports_its_own_message)
{
    /* One worker runs the tasks one after the other: a's failure, then b's, are both
     * over before either is waited for. */
    dv_pool *pool;
    cr_assert_eq(dv_pool_new(&pool, 1), 0);
    failing fa = {"reading a.bin", 3}, fb = {"reading b.bin", 5};
    dv_pool_task a, b;
    dv_pool_submit(pool, &a, fail_one, &fa, 8);
    dv_pool_submit(pool, &b, fail_one, &fb, 8);
    cr_assert_eq(dv_pool_wait(pool, &b), DV_EIO);
    cr_assert_str_eq(dv_error_last(), "reading b.bin (item 5)");
    dv_error_clear();
    cr_assert_eq(dv_pool_wait(pool, &a), DV_EIO);
    cr_assert_str_eq(dv_error_last(), "reading a.bin (item 3)");
    dv_pool_free(pool);
}

Test(pool, a_task_that_succeeds_leaves_the_error_of_this_thread_alone)
{
    dv_pool *pool;
    cr_assert_eq(dv_pool_new(&pool, 2), 0);
    failing fa = {"reading a.bin", 0}, fine = {"never", 100};
    dv_pool_task a, ok;
    dv_pool_submit(pool, &a, fail_one, &fa, 4);
    dv_pool_submit(pool, &ok, fail_one, &fine, 4);
    cr_assert_eq(dv_pool_wait(pool, &a), DV_EIO);
    cr_assert_eq(dv_pool_wait(pool, &ok), 0);
    cr_assert_str_eq(dv_error_last(), "reading a.bin (item 0)");
    dv_pool_free(pool);
}

Test(error, state_carries_code_and_message_to_another_thread)
{
    dv_error_state state;
    cr_assert_eq(dv_error_state_capture(&state, dv_error_set(DV_ECORRUPT, "bad pack %d", 7)),
                 DV_ECORRUPT);
    dv_error_clear();
    cr_assert_eq(dv_error_state_restore(&state), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), "bad pack 7");
    cr_assert_eq(dv_error_last_code(), DV_ECORRUPT);
    dv_error_state none = {0, ""};
    cr_assert_eq(dv_error_state_restore(&none), 0);
    cr_assert_str_eq(dv_error_last(), "bad pack 7");
}
