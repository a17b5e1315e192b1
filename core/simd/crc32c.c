/*
 * crc32c: CRC-32C by folding with carry-less multiplication (VPCLMULQDQ on 512-bit
 * registers, or PCLMULQDQ on 128-bit ones), with the SSE 4.2 crc32 instruction, or
 * with a table, whichever is the fastest this CPU runs.
 *
 * The crc32 instruction has a latency of three cycles and a throughput of one,
 * so a single chain of them runs at a third of the speed the CPU allows. Long
 * buffers are therefore cut into rounds of three equal streams, checksummed
 * side by side, and joined: for the raw register update f (no pre- or
 * post-inversion), f(c, A || B) = f(c, 0^|B|) ^ f(0, B), and c -> f(c, 0^n) is
 * linear over GF(2), so it is four table lookups for a fixed n.
 *
 * Folding. The raw register is f(c, M) = (M' * x^32) mod P, where M' is M with c
 * xored into its first four bytes, read as a polynomial whose highest term is bit 0
 * of byte 0 (the bit order of a reflected CRC). So only M' mod P matters, and a
 * 16-byte block X that lies D bits before the block Y it is folded into can be
 * replaced by X * x^D mod P, xored into Y. Split X into its high half H (bytes 0-7,
 * the low quadword of the register) and low half L: X * x^D = H * x^(D+64) + L * x^D,
 * and each half times a 32-bit constant x^k mod P is one carry-less multiply whose
 * 95-bit product fits in the block. Bit-reflected operands give a product one bit
 * short of the block's order, so the constant for x^k is x^(k-1) mod P, reflected
 * into a quadword (fold_constant). What is left at the end is one block Z with
 * Z = M' mod P, and f(0, Z) = (Z * x^32) mod P is the register: the crc32
 * instruction over Z's 16 bytes, then over the bytes after the last whole block.
 */
#include "core/simd/crc32c.h"

#include "core/simd/cpu.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

#define CRC32C_POLY_NORMAL 0x11edc6f41ull /* x^32 + ... with its x^32 term */

/* x^(k-1) mod P, bit-reflected into the upper half of a quadword: the multiplier that
 * moves a quadword of a block k bits further on (see the top of the file). */
static uint64_t fold_constant(unsigned k)
{
    uint64_t r = 1; /* x^0, bit i = the coefficient of x^i */
    for (unsigned i = 1; i < k; i++) {
        r <<= 1;
        if (r >> 32)
            r ^= CRC32C_POLY_NORMAL;
    }
    uint64_t reflected = 0;
    for (int i = 0; i < 32; i++)
        if ((r >> i) & 1)
            reflected |= UINT64_C(1) << (63 - i);
    return reflected;
}

/* Fold constants by distance: low quadword for the block's high half (x^(D+64)),
 * high quadword for its low half (x^D). */
typedef struct fold_pair {
    uint64_t high_half, low_half;
} fold_pair;

static fold_pair fold_128, fold_512, fold_2048;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static fold_pair fold_pair_for(unsigned distance_bits)
{
    fold_pair k = {fold_constant(distance_bits + 64), fold_constant(distance_bits)};
    return k;
}

static void fold_init(void)
{
    fold_128 = fold_pair_for(128);
    fold_512 = fold_pair_for(512);
    fold_2048 = fold_pair_for(2048);
}

/* y ^ (x moved forward by the distance of k) */
__attribute__((target("pclmul,sse4.2"))) static inline __m128i fold16(__m128i x, __m128i k,
                                                                      __m128i y)
{
    return _mm_xor_si128(
        _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), y);
}

__attribute__((target("pclmul,sse4.2"))) static inline __m128i pair128(fold_pair k)
{
    return _mm_set_epi64x((long long)k.low_half, (long long)k.high_half);
}

/* The register after the last block z and the bytes that follow it. */
__attribute__((target("pclmul,sse4.2"))) static uint32_t fold_finish(__m128i z, const uint8_t *p,
                                                                     size_t len)
{
    uint8_t block[16];
    _mm_storeu_si128((__m128i *)block, z);
    uint32_t crc = (uint32_t)crc32c_stream(0, block, sizeof(block));
    return (uint32_t)crc32c_stream(crc, p, len);
}

/* Four blocks side by side, 64 bytes a round; len >= 64. */
__attribute__((target("pclmul,sse4.2"))) static uint32_t crc32c_pclmul(uint32_t crc,
                                                                       const uint8_t *p, size_t len)
{
    pthread_once(&fold_once, fold_init);
    const __m128i k512 = pair128(fold_512), k128 = pair128(fold_128);
    __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)crc));
    __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64, len -= 64;
    for (; len >= 64; p += 64, len -= 64) {
        a = fold16(a, k512, _mm_loadu_si128((const __m128i *)p));
        b = fold16(b, k512, _mm_loadu_si128((const __m128i *)(p + 16)));
        c = fold16(c, k512, _mm_loadu_si128((const __m128i *)(p + 32)));
        d = fold16(d, k512, _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    __m128i z = fold16(fold16(fold16(a, k128, b), k128, c), k128, d);
    for (; len >= 16; p += 16, len -= 16)
        z = fold16(z, k128, _mm_loadu_si128((const __m128i *)p));
    return fold_finish(z, p, len);
}

#define VPCLMUL_TARGET "avx512f,avx512bw,avx512vl,vpclmulqdq,pclmul,sse4.2"

/* y ^ (each of x's four blocks moved forward by the distance of k) */
__attribute__((target(VPCLMUL_TARGET))) static inline __m512i fold64(__m512i x, __m512i k,
                                                                     __m512i y)
{
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                     _mm512_clmulepi64_epi128(x, k, 0x11), y, 0x96);
}

__attribute__((target(VPCLMUL_TARGET))) static inline __m512i pair512(fold_pair k)
{
    return _mm512_broadcast_i32x4(pair128(k));
}

/* Sixteen blocks side by side in four 512-bit registers, 256 bytes a round; len >= 256. */
__attribute__((target(VPCLMUL_TARGET))) static uint32_t crc32c_vpclmul(uint32_t crc,
                                                                       const uint8_t *p, size_t len)
{
    pthread_once(&fold_once, fold_init);
    const __m512i k2048 = pair512(fold_2048), k512 = pair512(fold_512);
    const __m128i k128 = pair128(fold_128);
    __m512i first = _mm512_inserti32x4(_mm512_setzero_si512(), _mm_cvtsi32_si128((int)crc), 0);
    __m512i a = _mm512_xor_si512(_mm512_loadu_si512(p), first);
    __m512i b = _mm512_loadu_si512(p + 64);
    __m512i c = _mm512_loadu_si512(p + 128);
    __m512i d = _mm512_loadu_si512(p + 192);
    p += 256, len -= 256;
    for (; len >= 256; p += 256, len -= 256) {
        a = fold64(a, k2048, _mm512_loadu_si512(p));
        b = fold64(b, k2048, _mm512_loadu_si512(p + 64));
        c = fold64(c, k2048, _mm512_loadu_si512(p + 128));
        d = fold64(d, k2048, _mm512_loadu_si512(p + 192));
    }
    __m512i z4 = fold64(fold64(fold64(a, k512, b), k512, c), k512, d);
    for (; len >= 64; p += 64, len -= 64)
        z4 = fold64(z4, k512, _mm512_loadu_si512(p));
    __m128i z = _mm512_extracti32x4_epi32(z4, 0);
    z = fold16(z, k128, _mm512_extracti32x4_epi32(z4, 1));
    z = fold16(z, k128, _mm512_extracti32x4_epi32(z4, 2));
    z = fold16(z, k128, _mm512_extracti32x4_epi32(z4, 3));
    for (; len >= 16; p += 16, len -= 16)
        z = fold16(z, k128, _mm_loadu_si128((const __m128i *)p));
    return fold_finish(z, p, len);
}

/* Below these lengths the next engine down is as fast. */
#define VPCLMUL_MIN_BYTES 512u
#define PCLMUL_MIN_BYTES 128u

/* Each engine also uses the instructions of the ones below it (for short buffers and
 * the last bytes). */
static int engine_usable(dv_crc32c_engine engine)
{
    switch (engine) {
    case DV_CRC32C_TABLE:
        return 1;
    case DV_CRC32C_SSE42:
        return __builtin_cpu_supports("sse4.2");
    case DV_CRC32C_PCLMUL:
        return engine_usable(DV_CRC32C_SSE42) && __builtin_cpu_supports("pclmul");
    case DV_CRC32C_VPCLMUL: /* dv_cpu_has_vpclmulqdq includes AVX-512 */
        return engine_usable(DV_CRC32C_PCLMUL) && dv_cpu_has_vpclmulqdq();
    }
    return 0;
}

static uint32_t crc32c_raw(dv_crc32c_engine engine, uint32_t crc, const uint8_t *p, size_t len)
{
    if (engine == DV_CRC32C_VPCLMUL && len >= VPCLMUL_MIN_BYTES)
        return crc32c_vpclmul(crc, p, len);
    if (engine >= DV_CRC32C_PCLMUL && len >= PCLMUL_MIN_BYTES)
        return crc32c_pclmul(crc, p, len);
    if (engine >= DV_CRC32C_SSE42)
        return crc32c_hw(crc, p, len);
    return crc32c_table(crc, p, len);
}

#else

static int engine_usable(dv_crc32c_engine engine)
{
    return engine == DV_CRC32C_TABLE;
}

static uint32_t crc32c_raw(dv_crc32c_engine engine, uint32_t crc, const uint8_t *p, size_t len)
{
    (void)engine;
    return crc32c_table(crc, p, len);
}

#endif

int dv_crc32c_engine_usable(dv_crc32c_engine engine)
{
    return engine_usable(engine) != 0;
}

/* The fastest engine, found once: the same for every thread. */
static dv_crc32c_engine best_engine;
static pthread_once_t best_once = PTHREAD_ONCE_INIT;

static void best_init(void)
{
    best_engine = DV_CRC32C_TABLE;
    for (int e = DV_CRC32C_TABLE; e <= DV_CRC32C_VPCLMUL; e++)
        if (engine_usable((dv_crc32c_engine)e))
            best_engine = (dv_crc32c_engine)e;
}

uint32_t dv_crc32c_with(dv_crc32c_engine engine, const void *data, size_t len)
{
    return ~crc32c_raw(engine, 0xffffffffu, data, len);
}

uint32_t dv_crc32c(const void *data, size_t len)
{
    pthread_once(&best_once, best_init);
    return dv_crc32c_with(best_engine, data, len);
}
