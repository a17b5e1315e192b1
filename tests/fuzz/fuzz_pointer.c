/*
 * Fuzz the pointer-file parser (core/pointer.c). A file it accepts must describe a
 * consistent pointer, and what dv writes for that pointer must parse back to the same
 * pointer and be written again byte for byte (the writer's text is canonical).
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/pointer.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_pointer(const dv_pointer *a, const dv_pointer *b)
{
    return a->version == b->version && a->kind == b->kind && !dv_oid_cmp(&a->oid, &b->oid) &&
           a->size == b->size && a->files == b->files && a->exec == b->exec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_pointer p, again;
    dv_buf text = DV_BUF_INIT, text_again = DV_BUF_INIT;

    if (dv_pointer_parse(&p, (const char *)data, size, "fuzz.dv") < 0) {
        if (!dv_error_last()[0])
            abort(); /* every rejection says why */
        return 0;
    }
    if (p.version != DV_POINTER_VERSION)
        abort();
    if (p.kind != DV_KIND_FILE && p.kind != DV_KIND_DIR && p.kind != DV_KIND_SYMLINK)
        abort();
    if ((p.exec && p.kind != DV_KIND_FILE) || (p.files && p.kind != DV_KIND_DIR) ||
        (p.exec != 0 && p.exec != 1))
        abort();

    if (dv_pointer_format(&text, &p) < 0)
        abort();
    if (dv_pointer_parse(&again, text.ptr, text.len, "formatted.dv") < 0 ||
        !same_pointer(&p, &again))
        abort();
    if (dv_pointer_format(&text_again, &again) < 0 || text.len != text_again.len ||
        memcmp(text.ptr, text_again.ptr, text.len))
        abort();
    dv_buf_release(&text);
    dv_buf_release(&text_again);
    return 0;
}
