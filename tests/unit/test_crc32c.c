/* Unit tests for core/crc32c: the checksum of every stored object in a pack. */
#include "core/simd/crc32c.h"

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

/* The bit-at-a-time definition, independent of the code under test. */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
    }
    return ~crc;
}

/* Deterministic bytes (xorshift64) from seed. */
static void fill_random(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

/* Long buffers are checksummed in rounds of three streams that are joined again;
 * lengths around every round size and every alignment must agree with the
 * definition. */
Test(crc32c, long_buffers_agree_with_the_bitwise_definition)
{
    enum { MAX = 3 * 4096 * 2 + 3 * 256 * 2 + 64 };
    static uint8_t buf[MAX + 8];
    fill_random(buf, sizeof(buf), 0x9e3779b97f4a7c15u);
    static const size_t lengths[] = {767,   768,   769,   1535,  1536,  1543,  12287, 12288,
                                     12289, 13055, 13056, 13057, 24576, 25343, 25344, MAX};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
        for (size_t align = 0; align < 8; align += 3)
            cr_assert_eq(dv_crc32c(buf + align, lengths[i]),
                         crc32c_bitwise(buf + align, lengths[i]), "length %zu, offset %zu",
                         lengths[i], align);
    for (size_t len = 0; len < 2048; len += 7)
        cr_assert_eq(dv_crc32c(buf, len), crc32c_bitwise(buf, len), "length %zu", len);
}

/* Every engine the CPU runs (folding in 16- and 64-byte blocks, the crc32 instruction,
 * the table) agrees with the definition for every length up to past the folding rounds,
 * at every alignment, and for lengths around each round of every engine. */
Test(crc32c, every_engine_agrees_with_the_bitwise_definition)
{
    enum { MAX = 3 * 4096 * 2 + 3 * 256 * 2 + 4096 };
    static uint8_t buf[MAX + 64];
    fill_random(buf, sizeof(buf), 0x2545f4914f6cdd1du);
    int ran = 0;
    for (int e = DV_CRC32C_TABLE; e <= DV_CRC32C_VPCLMUL; e++) {
        if (!dv_crc32c_engine_usable((dv_crc32c_engine)e))
            continue;
        ran++;
        for (size_t len = 0; len <= 1100; len++)
            cr_assert_eq(dv_crc32c_with((dv_crc32c_engine)e, buf + (len % 61), len),
                         crc32c_bitwise(buf + (len % 61), len), "engine %d, length %zu", e, len);
        static const size_t lengths[] = {4095, 4096, 4097, 4111,  4112,  4160,  4351,
                                         4352, 8191, 8192, 12288, 13057, 25344, MAX};
        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
            for (size_t align = 0; align < 64; align += 13)
                cr_assert_eq(dv_crc32c_with((dv_crc32c_engine)e, buf + align, lengths[i]),
                             crc32c_bitwise(buf + align, lengths[i]),
                             "engine %d, length %zu, offset %zu", e, lengths[i], align);
        cr_assert_eq(dv_crc32c_with((dv_crc32c_engine)e, "123456789", 9), 0xe3069283u);
    }
    cr_assert_geq(ran, 1);
    cr_assert_eq(dv_crc32c_engine_usable(DV_CRC32C_TABLE), 1);
}

/* A flipped bit anywhere in a long buffer changes the sum of every engine. */
Test(crc32c, every_engine_sees_a_flipped_bit)
{
    static uint8_t buf[70000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    for (int e = DV_CRC32C_TABLE; e <= DV_CRC32C_VPCLMUL; e++) {
        if (!dv_crc32c_engine_usable((dv_crc32c_engine)e))
            continue;
        uint32_t clean = dv_crc32c_with((dv_crc32c_engine)e, buf, sizeof(buf));
        for (size_t at = 0; at < sizeof(buf); at += 4099) {
            buf[at] ^= 0x10;
            cr_assert_neq(dv_crc32c_with((dv_crc32c_engine)e, buf, sizeof(buf)), clean,
                          "engine %d, byte %zu", e, at);
            buf[at] ^= 0x10;
        }
    }
}
