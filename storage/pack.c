/* pack: the entry header encoding both halves of the pack module share. */
#include "storage/pack.h"

#include "core/base/bytes.h"

#include <string.h>

void dv_pack__encode_entry_header(uint8_t out[DV_PACK_ENTRY_HEADER_BYTES], const dv_pack_entry *e)
{
    out[0] = e->type;
    out[1] = e->flags;
    out[2] = out[3] = 0;
    dv_put_be32(out + 4, e->raw_len);
    dv_put_be32(out + 8, e->stored_len);
    memcpy(out + 12, e->id.id, DV_OID_BYTES);
}
