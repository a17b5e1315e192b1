/* quote: printable form of untrusted bytes. */
#include "core/base/quote.h"

#include <stdint.h>

const char *dv_quote_bytes(char out[DV_QUOTE_BUF_BYTES], const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    size_t shown = len < DV_QUOTE_SHOWN_BYTES ? len : DV_QUOTE_SHOWN_BYTES;
    size_t o = 0;
    for (size_t i = 0; i < shown; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'') {
            out[o++] = (char)p[i];
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = digits[p[i] >> 4];
            out[o++] = digits[p[i] & 15];
        }
    }
    if (shown < len) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    out[o] = '\0';
    return out;
}
