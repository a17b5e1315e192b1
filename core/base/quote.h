/* quote: untrusted bytes made printable for error messages. */
#ifndef DV_QUOTE_H
#define DV_QUOTE_H

#include <stddef.h>

/* Bytes shown before the rest is cut with "...", and the buffer that holds them. */
#define DV_QUOTE_SHOWN_BYTES 64
#define DV_QUOTE_BUF_BYTES (DV_QUOTE_SHOWN_BYTES * 4 + 4)

/** Printable ASCII as is, anything else (and \ and ') as \xNN, cut after
 *  DV_QUOTE_SHOWN_BYTES with "...". Writes into out and returns it. */
const char *dv_quote_bytes(char out[DV_QUOTE_BUF_BYTES], const void *data, size_t len);

#endif
