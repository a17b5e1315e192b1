/* Unit tests for core/crc32c: the checksum of every stored object in a pack. */
#include "core/crc32c.h"

#include <criterion/criterion.h>
#include <string.h>

Test(crc32c, standard_check_value)
{
    cr_assert_eq(dv_crc32c("123456789", 9), 0xe3069283u);
    cr_assert_eq(dv_crc32c("", 0), 0u);
}

/* RFC 3720 (iSCSI), appendix B.4. */
Test(crc32c, rfc3720_vectors)
{
    uint8_t buf[32];
    memset(buf, 0, sizeof(buf));
    cr_assert_eq(dv_crc32c(buf, sizeof(buf)), 0x8a9136aau);
    memset(buf, 0xff, sizeof(buf));
    cr_assert_eq(dv_crc32c(buf, sizeof(buf)), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    cr_assert_eq(dv_crc32c(buf, sizeof(buf)), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    cr_assert_eq(dv_crc32c(buf, sizeof(buf)), 0x113fdb5cu);
}

/* Lengths that are not multiples of 8 take the byte-wise tail. */
Test(crc32c, any_split_of_the_tail_gives_the_check_value_of_a_prefix)
{
    static const char text[] = "123456789";
    cr_assert_eq(dv_crc32c(text, 8), dv_crc32c("12345678", 8));
    cr_assert_neq(dv_crc32c(text, 8), dv_crc32c(text, 9));
    cr_assert_neq(dv_crc32c(text, 1), dv_crc32c(text + 1, 1));
}
