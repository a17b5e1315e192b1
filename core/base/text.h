/* text: digits out of untrusted text (HTTP headers, XML listings, URLs, hex ids), with
 * every character and overflow checked. */
#ifndef DV_TEXT_H
#define DV_TEXT_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

/** The value of one hex digit (either case), or -1. */
static inline int dv_text_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/** Parse len decimal digits (nothing else, at least one) into *out: 0, or DV_ECORRUPT for
 *  anything else or a value past 2^64 - 1. Sets no message. */
static inline int dv_text_parse_u64(uint64_t *out, const char *text, size_t len)
{
    uint64_t value = 0;
    if (len == 0)
        return DV_ECORRUPT;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return DV_ECORRUPT;
        unsigned digit = (unsigned)(text[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return DV_ECORRUPT;
        value = value * 10 + digit;
    }
    *out = value;
    return 0;
}

#endif
