/*
 * Fuzz the Parquet footer reader (core/table/parquet.c): the input is a footer, the bytes
 * between the metadata's start and the 8-byte tail. A footer it accepts must describe
 * consistent columns whose statistics format; one it refuses must say why and leave
 * nothing behind. The input's last 8 bytes are also read as a tail. An accepted footer
 * compared with itself (core/table/pqdiff.c) has every column the same, and compared with
 * an empty one has every column added.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/table/parquet.h"
#include "core/table/pqdiff.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char name[] = "fuzz.parquet";

static void check_rejection(int error, const dv_parquet_meta *meta)
{
    const char *message = dv_error_last();
    if (error != DV_ECORRUPT && error != DV_ENOMEM)
        abort();
    if (!message[0])
        abort(); /* every rejection says why */
    if (error == DV_ECORRUPT && strncmp(message, "fuzz.parquet: Parquet footer: ", 30))
        abort();
    if (meta->columns || meta->n_columns || meta->created_by || meta->n_row_groups)
        abort(); /* released on error */
}

static void check_column(const dv_parquet_column *c)
{
    dv_buf text = DV_BUF_INIT;
    if (!c->name || !c->type_name || !c->type_name[0])
        abort();
    if (c->physical < DV_PARQUET_BOOLEAN || c->physical > DV_PARQUET_FIXED_LEN_BYTE_ARRAY)
        abort();
    if (c->repetition < DV_PARQUET_REQUIRED || c->repetition > DV_PARQUET_REPEATED)
        abort();
    if (!c->has_null_count && c->null_count)
        abort();
    if (!c->has_min_max && (c->min.len || c->max.len))
        abort();
    if (!c->min.ptr || !c->max.ptr || c->min.ptr[c->min.len] || c->max.ptr[c->max.len])
        abort();
    /* every value formats, kept or not */
    if (dv_parquet_value_format(&text, c, &c->min) < 0 ||
        dv_parquet_value_format(&text, c, &c->max) < 0)
        abort();
    dv_buf_release(&text);
}

static void check_self_diff(const uint8_t *data, size_t size, const dv_parquet_meta *meta)
{
    dv_pqdiff_report same = DV_PQDIFF_REPORT_INIT, grown = DV_PQDIFF_REPORT_INIT;
    if (dv_parquet_meta_parse(&same.old_meta, data, size, name) < 0 ||
        dv_parquet_meta_parse(&same.new_meta, data, size, name) < 0)
        abort(); /* it parsed once */
    if (dv_pqdiff_compare(&same) == 0) {
        if (same.n_columns != meta->n_columns || same.reordered || dv_pqdiff_schema_changed(&same))
            abort();
        for (size_t i = 0; i < same.n_columns; i++)
            if (same.columns[i].status != DV_PQDIFF_SAME ||
                same.columns[i].old_col != &same.old_meta.columns[i] ||
                same.columns[i].new_col != &same.new_meta.columns[i])
                abort();
    }
    if (dv_parquet_meta_parse(&grown.new_meta, data, size, name) < 0)
        abort();
    if (dv_pqdiff_compare(&grown) == 0) {
        if (grown.n_columns != meta->n_columns)
            abort();
        for (size_t i = 0; i < grown.n_columns; i++)
            if (grown.columns[i].status != DV_PQDIFF_ADDED || grown.columns[i].old_col)
                abort();
    }
    dv_pqdiff_release(&same);
    dv_pqdiff_release(&grown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_parquet_meta meta = DV_PARQUET_META_INIT;
    uint32_t len;
    int error;

    if (size >= DV_PARQUET_TAIL_BYTES) {
        dv_error_clear();
        error = dv_parquet_footer_length(&len, data + size - DV_PARQUET_TAIL_BYTES, size, name);
        if (error < 0 ? error != DV_ECORRUPT || !dv_error_last()[0]
                      : (uint64_t)len + DV_PARQUET_TAIL_BYTES + 4 > size)
            abort();
    }

    dv_error_clear();
    error = dv_parquet_meta_parse(&meta, data, size, name);
    if (error < 0) {
        check_rejection(error, &meta);
        return 0;
    }
    if (error != 0 || meta.num_rows < 0)
        abort();
    if (meta.n_columns && !meta.columns)
        abort();
    for (size_t i = 0; i < meta.n_columns; i++)
        check_column(&meta.columns[i]);
    check_self_diff(data, size, &meta);
    dv_parquet_meta_release(&meta);
    if (meta.columns || meta.n_columns || meta.created_by)
        abort();
    return 0;
}
