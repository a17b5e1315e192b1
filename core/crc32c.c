/*
 * crc32c: CRC-32C with the SSE 4.2 instruction, or a table when it is missing.
 *
 * The crc32 instruction has a latency of three cycles and a throughput of one,
 * so a single chain of them runs at a third of the speed the CPU allows. Long
 * buffers are therefore cut into rounds of three equal streams, checksummed
 * side by side, and joined: for the raw register update f (no pre- or
 * post-inversion), f(c, A || B) = f(c, 0^|B|) ^ f(0, B), and c -> f(c, 0^n) is
 * linear over GF(2), so it is four table lookups for a fixed n.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY_REFLECTED 0x82f63b78u

static uint32_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY_REFLECTED : 0);
        table[i] = c;
    }
}

static uint32_t crc32c_table(uint32_t crc, const uint8_t *p, size_t len)
{
    pthread_once(&table_once, table_init);
    while (len--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* Bytes per stream in the rounds of three streams: long rounds, then short ones. */
#define CRC_LONG_STREAM 4096u
#define CRC_SHORT_STREAM 256u

/* c -> f(c, 0^n) for n = CRC_LONG_STREAM and CRC_SHORT_STREAM, byte by byte of c. */
static uint32_t shift_long[4][256], shift_short[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2"))) static uint64_t crc32c_stream(uint64_t c, const uint8_t *p,
                                                                size_t len)
{
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}

static void shift_table_fill(uint32_t shift[4][256], size_t n)
{
    static const uint8_t zeros[CRC_LONG_STREAM];
    uint32_t basis[32];
    for (int bit = 0; bit < 32; bit++)
        basis[bit] = (uint32_t)crc32c_stream(UINT32_C(1) << bit, zeros, n);
    for (int k = 0; k < 4; k++)
        for (unsigned v = 0; v < 256; v++) {
            uint32_t s = 0;
            for (int j = 0; j < 8; j++)
                if (v & (1u << j))
                    s ^= basis[8 * k + j];
            shift[k][v] = s;
        }
}

static void shift_tables_init(void)
{
    shift_table_fill(shift_long, CRC_LONG_STREAM);
    shift_table_fill(shift_short, CRC_SHORT_STREAM);
}

static inline uint32_t shift_apply(uint32_t shift[4][256], uint32_t c)
{
    return shift[0][c & 0xff] ^ shift[1][(c >> 8) & 0xff] ^ shift[2][(c >> 16) & 0xff] ^
           shift[3][c >> 24];
}

/* Rounds of three streams of n bytes each, while they fit. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_rounds(uint32_t crc, const uint8_t **pp, size_t *lenp, size_t n, uint32_t shift[4][256])
{
    const uint8_t *p = *pp;
    size_t len = *lenp;
    for (; len >= 3 * n; p += 3 * n, len -= 3 * n) {
        uint64_t a = crc, b = 0, c = 0;
        for (size_t i = 0; i < n; i += 8) {
            uint64_t va, vb, vc;
            memcpy(&va, p + i, 8);
            memcpy(&vb, p + n + i, 8);
            memcpy(&vc, p + 2 * n + i, 8);
            a = __builtin_ia32_crc32di(a, va);
            b = __builtin_ia32_crc32di(b, vb);
            c = __builtin_ia32_crc32di(c, vc);
        }
        crc = shift_apply(shift, shift_apply(shift, (uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
    }
    *pp = p;
    *lenp = len;
    return crc;
}

static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
    if (len >= 3 * CRC_SHORT_STREAM) {
        pthread_once(&shift_once, shift_tables_init);
        crc = crc32c_rounds(crc, &p, &len, CRC_LONG_STREAM, shift_long);
        crc = crc32c_rounds(crc, &p, &len, CRC_SHORT_STREAM, shift_short);
    }
    return (uint32_t)crc32c_stream(crc, p, len);
}
#endif

uint32_t dv_crc32c(const void *data, size_t len)
{
    uint32_t crc = 0xffffffffu;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc32c_hw(crc, data, len);
#endif
    return ~crc32c_table(crc, data, len);
}
