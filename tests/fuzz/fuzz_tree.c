/*
 * Fuzz the tree decoder (core/object.c). A tree it accepts must have valid names and
 * modes in strictly increasing name order, every entry must be found by name, and,
 * the encoding being canonical, it must encode to exactly the bytes it came from.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/object.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_cmp(const dv_tree_entry *a, const dv_tree_entry *b)
{
    size_t common = a->name_len < b->name_len ? a->name_len : b->name_len;
    int cmp = memcmp(a->name, b->name, common);
    if (cmp)
        return cmp;
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_tree t = DV_TREE_INIT;
    dv_buf encoded = DV_BUF_INIT;

    if (dv_tree_decode(&t, data, size) < 0) {
        if (t.n_entries || t.entries || !dv_error_last()[0])
            abort(); /* a rejected tree leaves out empty and says why */
        return 0;
    }
    for (size_t i = 0; i < t.n_entries; i++) {
        const dv_tree_entry *e = &t.entries[i];
        if (dv_tree_check_name(e->name, e->name_len) < 0 || e->name[e->name_len] != '\0')
            abort();
        if (e->mode < DV_MODE_FILE || e->mode > DV_MODE_DIR)
            abort();
        if (i > 0 && name_cmp(&t.entries[i - 1], e) >= 0)
            abort();
        if (dv_tree_find(&t, e->name, e->name_len) != e)
            abort();
    }
    if (dv_tree_encode(&encoded, &t) < 0 || encoded.len != size || memcmp(encoded.ptr, data, size))
        abort();
    dv_buf_release(&encoded);
    dv_tree_release(&t);
    return 0;
}
