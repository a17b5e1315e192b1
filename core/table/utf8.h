/*
 * utf8: the UTF-8 checks the table readers share — how long a character is, whether the
 * bytes at hand are a valid one (no overlong form, no surrogate, nothing past U+10FFFF), and
 * how many characters a run of valid UTF-8 holds (for the columns of messages).
 */
#ifndef DV_UTF8_H
#define DV_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** How long the UTF-8 character led by c is, or 0 for a byte no character starts with. */
static inline size_t dv_utf8_length(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return 2;
    if (c < 0xF0)
        return 3;
    return c < 0xF5 ? 4 : 0;
}

/**
 * The length of the UTF-8 character at s (s[0] >= 0x80) when the avail bytes there hold all
 * of it and it is valid. 0 when the bytes are a valid beginning of one but end too soon
 * (a reader fed in pieces keeps them for the next); -1 when they are not.
 */
static inline int dv_utf8_char(const unsigned char *s, size_t avail)
{
    size_t n = dv_utf8_length(s[0]);
    if (n == 0)
        return -1;
    unsigned char low = 0x80, high = 0xBF; /* the range of the second byte */
    if (s[0] == 0xE0)
        low = 0xA0; /* overlong below U+0800 */
    else if (s[0] == 0xED)
        high = 0x9F; /* U+D800..U+DFFF, the surrogates */
    else if (s[0] == 0xF0)
        low = 0x90; /* overlong below U+10000 */
    else if (s[0] == 0xF4)
        high = 0x8F; /* past U+10FFFF */
    if (avail < 2)
        return 0;
    if (s[1] < low || s[1] > high)
        return -1;
    for (size_t i = 2; i < n; i++) {
        if (i >= avail)
            return 0;
        if ((s[i] & 0xC0) != 0x80)
            return -1;
    }
    return (int)n;
}

/** Characters in [from, to): the bytes that are not UTF-8 continuation bytes. */
static inline uint64_t dv_utf8_count(const char *from, const char *to)
{
    const uint64_t highs = 0x8080808080808080ull;
    uint64_t continuations = 0;
    const char *p = from;
    for (; to - p >= 8; p += 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        continuations += (uint64_t)__builtin_popcountll(x & ~(x << 1) & highs);
    }
    for (; p < to; p++)
        continuations += ((unsigned char)*p & 0xC0) == 0x80;
    return (uint64_t)(to - from) - continuations;
}

#endif
