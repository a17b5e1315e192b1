#include "core/base/buf.h"
#include "core/base/error.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

Test(buf, grow_refuses_a_size_that_wraps_around)
{
    dv_buf b = DV_BUF_INIT;
    cr_assert_eq(dv_buf_puts(&b, "abc"), 0);
    /* len + extra + 1 is 2 after wrapping: a naive check finds room for it */
    cr_assert_eq(dv_buf_grow(&b, SIZE_MAX), DV_ENOMEM);
    cr_assert(strstr(dv_error_last(), "overflow"), "%s", dv_error_last());
    dv_buf_release(&b);
    cr_assert_eq(dv_buf_puts(&b, "abc"), 0);
    cr_assert_eq(dv_buf_grow(&b, SIZE_MAX - b.len), DV_ENOMEM);
    cr_assert(strstr(dv_error_last(), "overflow"), "%s", dv_error_last());
    dv_buf_release(&b);
    cr_assert_eq(dv_buf_puts(&b, "abc"), 0);
    cr_assert_eq(dv_buf_put(&b, "x", SIZE_MAX), DV_ENOMEM);
    cr_assert_eq(b.len, 0);
    dv_buf_release(&b);
}

Test(buf, grow_makes_room_for_the_bytes_and_the_nul)
{
    dv_buf b = DV_BUF_INIT;
    cr_assert_eq(dv_buf_grow(&b, 100), 0);
    cr_assert_geq(b.alloc, 101);
    cr_assert_eq(b.ptr[0], '\0');
    cr_assert_eq(dv_buf_printf(&b, "%0100d", 7), 0);
    cr_assert_eq(b.len, 100);
    cr_assert_eq(b.ptr[100], '\0');
    dv_buf_release(&b);
}

Test(buf, a_failed_allocation_sticks_until_release)
{
    dv_buf b = DV_BUF_INIT;
    cr_assert_eq(dv_buf_puts(&b, "{\"clean\": "), 0);
    cr_assert(!dv_buf_oom(&b));
    cr_assert_eq(dv_buf_grow(&b, SIZE_MAX), DV_ENOMEM);
    cr_assert(dv_buf_oom(&b));
    /* later calls fail too, so a builder may check once at the end */
    cr_assert_eq(dv_buf_puts(&b, "true}"), DV_ENOMEM);
    cr_assert_eq(dv_buf_printf(&b, "%d", 1), DV_ENOMEM);
    cr_assert(dv_buf_oom(&b));
    cr_assert_str_eq(b.ptr, "", "an out-of-memory buffer is still a valid string");
    cr_assert_null(dv_buf_detach(&b));
    cr_assert(!dv_buf_oom(&b));
    cr_assert_eq(dv_buf_puts(&b, "again"), 0);
    cr_assert_str_eq(b.ptr, "again");
    dv_buf_release(&b);
}
