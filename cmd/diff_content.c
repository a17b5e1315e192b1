/* diff_content: dv diff's look inside a modified file (diff_content.h). */
#include "cmd/diff_content.h"

#include "core/base/error.h"
#include "cmd/common.h"
#include "core/object/pointer.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cells longer than this are cut when shown to people. */
#define SHOW_VALUE_BYTES 60u

static const char *type_name(int type)
{
    static const char *names[] = {"empty", "boolean", "integer", "float", "datetime", "text"};
    return type >= 0 && type <= DV_COLTYPE_TEXT ? names[type] : "text";
}

/* n with thousands separators, from a small ring of buffers. */
static const char *count(uint64_t n)
{
    static _Thread_local char ring[8][32];
    static _Thread_local unsigned next;
    char digits[24], *out = ring[next++ % 8];
    int len = snprintf(digits, sizeof(digits), "%" PRIu64, n), k = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = '\0';
    return out;
}

/* A cell for people: control characters escaped, long values cut at a character. */
static void show_value(dv_buf *out, const char *v, int md)
{
    if (!v) {
        dv_buf_puts(out, md ? "*null*" : "(null)");
        return;
    }
    size_t len = strlen(v), cut = len;
    if (len > SHOW_VALUE_BYTES) {
        cut = SHOW_VALUE_BYTES;
        while (cut && ((unsigned char)v[cut] & 0xc0) == 0x80)
            cut--;
    }
    if (md)
        dv_buf_putc(out, '`');
    for (size_t i = 0; i < cut; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '\n')
            dv_buf_puts(out, "\\n");
        else if (ch == '\r')
            dv_buf_puts(out, "\\r");
        else if (ch == '\t')
            dv_buf_puts(out, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            dv_buf_printf(out, "\\x%02x", ch);
        else if (md && (ch == '`' || ch == '|'))
            dv_buf_putc(out, ch == '|' ? '/' : '\'');
        else
            dv_buf_putc(out, (char)ch);
    }
    if (cut < len)
        dv_buf_puts(out, "…");
    if (md)
        dv_buf_putc(out, '`');
}

int diff_content_read(diff_content *c, dv_odb *odb, const dv_diff_entry *e, const char *old_rev,
                      const char *new_rev, const diff_content_options *opts)
{
    memset(c, 0, sizeof(*c));
    c->patch = (dv_buf)DV_BUF_INIT;
    c->parquet = (dv_pqdiff_report)DV_PQDIFF_REPORT_INIT;
    if (!odb || !e || (e->status != DV_DIFF_MODIFIED && e->status != DV_DIFF_RENAMED) ||
        e->old_side.kind != DV_KIND_FILE || e->new_side.kind != DV_KIND_FILE ||
        !dv_oid_cmp(&e->old_side.id, &e->new_side.id))
        return 0;
    dv_buf old_name = DV_BUF_INIT, new_name = DV_BUF_INIT;
    const char *old_path = e->old_path ? e->old_path : e->path;
    dv_buf_printf(&old_name, "%s (%s)", old_path, old_rev);
    dv_buf_printf(&new_name, "%s (%s)", e->path, new_rev);
    if (dv_buf_oom(&old_name) || dv_buf_oom(&new_name)) {
        dv_buf_release(&old_name);
        dv_buf_release(&new_name);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    dv_filediff_side a = {odb, e->old_side.id, e->old_side.size, old_name.ptr, -1, NULL};
    dv_filediff_side b = {
        odb,          e->new_side.id,    e->new_side.size,
        new_name.ptr, opts->worktree_fd, e->new_side.in_worktree ? e->path : NULL};
    int error = 0, format = dv_filediff_table_format(e->path);
    if (!opts->force_text && dv_filediff_is_parquet(e->path)) {
        c->kind = DIFF_CONTENT_PARQUET;
        if ((error = dv_filediff_parquet(&c->parquet.old_meta, &a)) >= 0 &&
            (error = dv_filediff_parquet(&c->parquet.new_meta, &b)) >= 0)
            error = dv_pqdiff_compare(&c->parquet);
    } else if (format && !opts->force_text) {
        dv_table_options t = opts->table;
        t.format = format;
        c->format = format;
        c->kind = DIFF_CONTENT_TABLE;
        error = dv_filediff_table(&c->table, &a, &b, &t);
    } else {
        int result;
        error = dv_filediff_text(&c->patch, &result, &a, &b, old_path, e->path, opts->text_limit,
                                 opts->force_text);
        c->kind = result == DV_FILEDIFF_TEXT_DONE     ? DIFF_CONTENT_TEXT
                  : result == DV_FILEDIFF_TEXT_BINARY ? DIFF_CONTENT_BINARY
                                                      : DIFF_CONTENT_TOO_LARGE;
    }
    dv_buf_release(&old_name);
    dv_buf_release(&new_name);
    if (error == DV_ENOMEM)
        return error;
    if (error < 0) {
        c->kind = DIFF_CONTENT_ERROR;
        c->error_code = error;
        if (!(c->message = strdup(dv_error_last())))
            return dv_error_set(DV_ENOMEM, "out of memory");
    }
    return 0;
}

void diff_content_release(diff_content *c)
{
    dv_table_report_release(&c->table);
    dv_pqdiff_release(&c->parquet);
    dv_buf_release(&c->patch);
    free(c->message);
    memset(c, 0, sizeof(*c));
}

/* ---- tables: shared wording --------------------------------------------------------- */

static void keys_text(dv_buf *out, const dv_table_options *t)
{
    for (size_t k = 0; k < t->n_keys; k++)
        dv_buf_printf(out, "%s%s", k ? "," : "", t->keys[k]);
}

/* "+250 added, -50 removed, ~40 changed, 9,910 same" */
static void rows_text(dv_buf *out, const dv_table_report *r)
{
    dv_buf_printf(out, "%s → %s rows: +%s added, -%s removed", count(r->old_rows),
                  count(r->new_rows), count(r->rows_added), count(r->rows_removed));
    if (r->keyed)
        dv_buf_printf(out, ", ~%s changed", count(r->rows_changed));
    dv_buf_printf(out, ", %s same", count(r->rows_same));
    if (r->rows_within_tolerance)
        dv_buf_printf(out, " (%s within the tolerance)", count(r->rows_within_tolerance));
}

static int type_changed(const dv_table_column *c)
{
    return c->has_old && c->has_new && c->old_stats.type && c->new_stats.type &&
           c->old_stats.type != c->new_stats.type;
}

/* The schema changes, or nothing: "+flag (boolean); -legacy; cost → price (renamed); ..." */
static int schema_text(dv_buf *out, const dv_table_report *r, int md)
{
    const char *q = md ? "`" : "";
    size_t start = out->len;
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_table_column *c = &r->columns[i];
        const char *sep = out->len > start ? "; " : "";
        if (c->status == DV_TABLE_COLUMN_ADDED)
            dv_buf_printf(out, "%sadded %s%s%s (%s)", sep, q, c->name, q,
                          type_name(c->new_stats.type));
        else if (c->status == DV_TABLE_COLUMN_REMOVED)
            dv_buf_printf(out, "%sremoved %s%s%s", sep, q, c->name, q);
        else if (c->status == DV_TABLE_COLUMN_RENAMED)
            dv_buf_printf(out, "%srenamed %s%s%s → %s%s%s", sep, q, c->old_name, q, q, c->name, q);
        if (type_changed(c))
            dv_buf_printf(out, "%s%s%s%s %s → %s", out->len > start ? "; " : "", q, c->name, q,
                          type_name(c->old_stats.type), type_name(c->new_stats.type));
    }
    if (r->columns_reordered)
        dv_buf_printf(out, "%scolumns reordered", out->len > start ? "; " : "");
    return out->len > start;
}

static const char *column_name(const dv_table_report *r, size_t i)
{
    return i < r->n_columns ? r->columns[i].name : "?";
}

/* The column of a side's cell i (examples of added and removed rows). */
static const dv_table_column *column_at(const dv_table_report *r, int which, size_t i)
{
    for (size_t k = 0; k < r->n_columns; k++)
        if ((which ? r->columns[k].new_index : r->columns[k].old_index) == (int)i)
            return &r->columns[k];
    return NULL;
}

static void example_text(dv_buf *out, const dv_table_report *r, const dv_table_example *ex, int md)
{
    const char *q = md ? "`" : "";
    switch (ex->kind) {
    case DV_TABLE_EXAMPLE_CHANGED:
        dv_buf_printf(out, "%s%s%s (line %" PRIu64 " → %" PRIu64 "): ", q, ex->key ? ex->key : "",
                      q, ex->old_line, ex->new_line);
        for (size_t i = 0; i < ex->n_changes; i++) {
            const dv_table_cell_change *ch = &ex->changes[i];
            dv_buf_printf(out, "%s%s ", i ? "; " : "", column_name(r, ch->column));
            show_value(out, ch->old_value, md);
            dv_buf_puts(out, " → ");
            show_value(out, ch->new_value, md);
        }
        break;
    case DV_TABLE_EXAMPLE_ADDED:
    case DV_TABLE_EXAMPLE_REMOVED: {
        int which = ex->kind == DV_TABLE_EXAMPLE_ADDED;
        if (ex->key)
            dv_buf_printf(out, "%s%s%s ", q, ex->key, q);
        dv_buf_printf(out, "(line %" PRIu64 "): ", which ? ex->new_line : ex->old_line);
        for (size_t i = 0; i < ex->n_cells; i++) {
            const dv_table_column *c = column_at(r, which, i);
            dv_buf_printf(out, "%s%s=", i ? ", " : "", c ? c->name : "?");
            show_value(out, ex->cells[i], md);
        }
        break;
    }
    default: {
        dv_buf_printf(out, "%s%s%s on %s rows of the %s version, lines %" PRIu64, q,
                      ex->key ? ex->key : "", q, count(ex->n_rows), ex->side ? "new" : "old",
                      ex->side ? ex->new_line : ex->old_line);
        for (size_t i = 0; i < ex->n_more_lines; i++)
            dv_buf_printf(out, ", %" PRIu64, ex->more_lines[i]);
        if (ex->n_rows > ex->n_more_lines + 1)
            dv_buf_puts(out, ", ...");
    }
    }
}

static const char *example_mark(int kind)
{
    return kind == DV_TABLE_EXAMPLE_ADDED     ? "+"
           : kind == DV_TABLE_EXAMPLE_REMOVED ? "-"
           : kind == DV_TABLE_EXAMPLE_CHANGED ? "~"
                                              : "!";
}

static void drift_text(dv_buf *out, const dv_table_column *c, int md)
{
    const char *q = md ? "`" : "";
    dv_buf_printf(out, "%s%s%s PSI %.3f", q, c->name, q, c->drift.psi);
    if (c->drift.test == DV_DRIFT_PSI_NUMERIC)
        dv_buf_printf(out, ", KS %.3f (mean %.6g → %.6g, sd %.6g → %.6g)", c->drift.ks,
                      c->old_stats.mean, c->new_stats.mean, c->old_stats.stddev,
                      c->new_stats.stddev);
    else
        dv_buf_puts(out, " over its most frequent values");
}

static void json_string_or_null(dv_json *j, const char *s);

/* ---- Parquet footers ------------------------------------------------------------------ */

/* A column's min (or max) for people, escaped and cut as cells are; "–" without one. */
static void pq_value(dv_buf *out, const dv_parquet_column *col, int max, int md)
{
    if (!col->has_min_max) {
        dv_buf_puts(out, "–");
        return;
    }
    dv_buf v = DV_BUF_INIT;
    if (dv_parquet_value_format(&v, col, max ? &col->max : &col->min) < 0 || dv_buf_oom(&v))
        dv_buf_puts(out, "?");
    else
        show_value(out, v.ptr, md);
    dv_buf_release(&v);
}

static void pq_nulls(dv_buf *out, const dv_parquet_column *col)
{
    dv_buf_puts(out, col->has_null_count ? count(col->null_count) : "?");
}

/* What a column's footers say on one side: "double, 11 nulls, 0.5 … 499.5, 4.1 KiB". */
static void pq_column_text(dv_buf *out, const dv_parquet_column *col, int md)
{
    dv_buf_printf(out, "%s%s, ", col->type_name,
                  col->repetition == DV_PARQUET_REPEATED ? " (repeated)" : "");
    pq_nulls(out, col);
    dv_buf_puts(out, " nulls, ");
    pq_value(out, col, 0, md);
    dv_buf_puts(out, " … ");
    pq_value(out, col, 1, md);
    dv_buf_printf(out, ", %s", cmd_human_bytes(col->compressed_bytes));
}

/* What moved between a column's two footers: "nulls 11 → 16; max 499.5 → 749.5; ...". */
static void pq_changes_text(dv_buf *out, const dv_pqdiff_column *c, int md)
{
    const dv_parquet_column *a = c->old_col, *b = c->new_col;
    size_t start = out->len;
    if (c->changes & DV_PQDIFF_NULLS) {
        dv_buf_puts(out, "nulls ");
        pq_nulls(out, a);
        dv_buf_puts(out, " → ");
        pq_nulls(out, b);
    }
    for (int max = 0; max < 2; max++)
        if (c->changes & (max ? DV_PQDIFF_MAX : DV_PQDIFF_MIN)) {
            dv_buf_printf(out, "%s%s ", out->len > start ? "; " : "", max ? "max" : "min");
            pq_value(out, a, max, md);
            dv_buf_puts(out, " → ");
            pq_value(out, b, max, md);
        }
    if (a->compressed_bytes != b->compressed_bytes)
        dv_buf_printf(out, "%s%s → %s stored", out->len > start ? "; " : "",
                      cmd_human_bytes(a->compressed_bytes), cmd_human_bytes(b->compressed_bytes));
}

static const char *pq_repetition(int repetition)
{
    return repetition == DV_PARQUET_REQUIRED   ? "required"
           : repetition == DV_PARQUET_OPTIONAL ? "optional"
                                               : "repeated";
}

/* The schema changes, or nothing: "added flag (boolean); removed x; id int32 → int64". */
static int pq_schema_text(dv_buf *out, const dv_pqdiff_report *r, int md)
{
    const char *q = md ? "`" : "";
    size_t start = out->len;
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_pqdiff_column *c = &r->columns[i];
        const char *sep = out->len > start ? "; " : "";
        if (c->status == DV_PQDIFF_ADDED)
            dv_buf_printf(out, "%sadded %s%s%s (%s)", sep, q, c->new_col->name, q,
                          c->new_col->type_name);
        else if (c->status == DV_PQDIFF_REMOVED)
            dv_buf_printf(out, "%sremoved %s%s%s", sep, q, c->old_col->name, q);
        else if (c->status == DV_PQDIFF_TYPE_CHANGED) {
            dv_buf_printf(out, "%s%s%s%s %s → %s", sep, q, c->new_col->name, q,
                          c->old_col->type_name, c->new_col->type_name);
            if (c->old_col->repetition != c->new_col->repetition)
                dv_buf_printf(out, " (%s → %s)", pq_repetition(c->old_col->repetition),
                              pq_repetition(c->new_col->repetition));
        }
    }
    if (r->reordered)
        dv_buf_printf(out, "%scolumns reordered", out->len > start ? "; " : "");
    return out->len > start;
}

/* "+500" or "-20": the change in rows (counts are never negative: parquet.h). */
static void pq_rows_delta(dv_buf *out, const dv_pqdiff_report *r)
{
    uint64_t a = (uint64_t)r->old_meta.num_rows, b = (uint64_t)r->new_meta.num_rows;
    dv_buf_printf(out, "%s%s", b >= a ? "+" : "-", count(b >= a ? b - a : a - b));
}

/* "1,000 → 1,500 rows (+500), 1 → 2 row groups" */
static void pq_rows_text(dv_buf *out, const dv_pqdiff_report *r)
{
    dv_buf_printf(out, "%s → %s rows", count((uint64_t)r->old_meta.num_rows),
                  count((uint64_t)r->new_meta.num_rows));
    if (r->old_meta.num_rows != r->new_meta.num_rows) {
        dv_buf_puts(out, " (");
        pq_rows_delta(out, r);
        dv_buf_puts(out, ")");
    }
    dv_buf_printf(out, ", %s → %s row groups", count(r->old_meta.n_row_groups),
                  count(r->new_meta.n_row_groups));
}

static void parquet_print(const dv_pqdiff_report *r)
{
    dv_buf t = DV_BUF_INIT;
    dv_buf_puts(&t, "parquet: ");
    pq_rows_text(&t, r);
    printf("    %s\n", t.ptr);
    dv_buf_clear(&t);
    if (pq_schema_text(&t, r, 0))
        printf("    columns: %s\n", t.ptr);
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_pqdiff_column *c = &r->columns[i];
        dv_buf_clear(&t);
        if (c->status == DV_PQDIFF_ADDED)
            pq_column_text(&t, c->new_col, 0);
        else if (c->status == DV_PQDIFF_STATS_CHANGED || c->status == DV_PQDIFF_TYPE_CHANGED)
            pq_changes_text(&t, c, 0);
        if (t.len)
            printf("    %s %s: %s\n", c->status == DV_PQDIFF_ADDED ? "+" : "~", c->new_col->name,
                   t.ptr);
    }
    dv_buf_release(&t);
}

static void json_pq_value(dv_json *j, const char *key, const dv_parquet_column *col, int max)
{
    dv_json_key(j, key);
    if (!col->has_min_max) {
        dv_json_null(j);
        return;
    }
    dv_buf v = DV_BUF_INIT;
    if (dv_parquet_value_format(&v, col, max ? &col->max : &col->min) < 0 || dv_buf_oom(&v))
        dv_json_null(j);
    else
        dv_json_string(j, v.ptr);
    dv_buf_release(&v);
}

static void json_pq_side(dv_json *j, const char *key, const dv_parquet_column *col)
{
    dv_json_key(j, key);
    if (!col) {
        dv_json_null(j);
        return;
    }
    dv_json_object_begin(j);
    dv_json_key(j, "type");
    dv_json_string(j, col->type_name);
    dv_json_key(j, "repetition");
    dv_json_string(j, pq_repetition(col->repetition));
    dv_json_key(j, "nulls");
    if (col->has_null_count)
        dv_json_uint(j, col->null_count);
    else
        dv_json_null(j);
    json_pq_value(j, "min", col, 0);
    json_pq_value(j, "max", col, 1);
    dv_json_key(j, "compressed_bytes");
    dv_json_uint(j, col->compressed_bytes);
    dv_json_key(j, "uncompressed_bytes");
    dv_json_uint(j, col->uncompressed_bytes);
    dv_json_object_end(j);
}

static void json_pq_meta(dv_json *j, const char *key, const dv_parquet_meta *m)
{
    dv_json_key(j, key);
    dv_json_object_begin(j);
    dv_json_key(j, "rows");
    dv_json_int(j, m->num_rows);
    dv_json_key(j, "row_groups");
    dv_json_uint(j, m->n_row_groups);
    dv_json_key(j, "columns");
    dv_json_uint(j, m->n_columns);
    dv_json_key(j, "version");
    dv_json_int(j, m->version);
    dv_json_key(j, "created_by");
    json_string_or_null(j, m->created_by);
    dv_json_object_end(j);
}

static void json_parquet(dv_json *j, const dv_pqdiff_report *r)
{
    static const char *status[] = {"same", "added", "removed", "type_changed", "stats_changed"};
    json_pq_meta(j, "old", &r->old_meta);
    json_pq_meta(j, "new", &r->new_meta);
    dv_json_key(j, "schema_changed");
    dv_json_bool(j, dv_pqdiff_schema_changed(r));
    dv_json_key(j, "columns_reordered");
    dv_json_bool(j, r->reordered);
    dv_json_key(j, "columns");
    dv_json_array_begin(j);
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_pqdiff_column *c = &r->columns[i];
        dv_json_object_begin(j);
        dv_json_key(j, "name");
        dv_json_string(j, c->new_col ? c->new_col->name : c->old_col->name);
        dv_json_key(j, "status");
        dv_json_string(j, status[c->status]);
        json_pq_side(j, "old", c->old_col);
        json_pq_side(j, "new", c->new_col);
        dv_json_object_end(j);
    }
    dv_json_array_end(j);
}

static void parquet_md_brief(dv_buf *out, const dv_pqdiff_report *r)
{
    if (r->old_meta.num_rows != r->new_meta.num_rows) {
        pq_rows_delta(out, r);
        dv_buf_puts(out, " rows");
    } else
        dv_buf_puts(out, "same rows");
    if (dv_pqdiff_schema_changed(r))
        dv_buf_puts(out, ", schema changed");
}

static void parquet_md(dv_buf *out, const dv_pqdiff_report *r)
{
    dv_buf_puts(out, "Parquet, from the footers\n\n| | old | new |\n|---|---:|---:|\n");
    dv_buf_printf(out, "| rows | %s | %s |\n", count((uint64_t)r->old_meta.num_rows),
                  count((uint64_t)r->new_meta.num_rows));
    dv_buf_printf(out, "| row groups | %s | %s |\n", count(r->old_meta.n_row_groups),
                  count(r->new_meta.n_row_groups));
    dv_buf_printf(out, "| columns | %s | %s |\n\n", count(r->old_meta.n_columns),
                  count(r->new_meta.n_columns));
    dv_buf schema = DV_BUF_INIT;
    if (pq_schema_text(&schema, r, 1))
        dv_buf_printf(out, "**Schema:** %s\n\n", schema.ptr);
    dv_buf_release(&schema);
    dv_buf_puts(out,
                "<details><summary>columns</summary>\n\n| column | old | new |\n|---|---|---|\n");
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_pqdiff_column *c = &r->columns[i];
        const char *name = c->new_col ? c->new_col->name : c->old_col->name;
        dv_buf_puts(out, "| ");
        show_value(out, name, 1);
        dv_buf_puts(out, " | ");
        if (c->old_col)
            pq_column_text(out, c->old_col, 1);
        dv_buf_puts(out, " | ");
        if (c->new_col)
            pq_column_text(out, c->new_col, 1);
        dv_buf_puts(out, " |\n");
    }
    dv_buf_puts(out, "\n</details>\n\n");
}

/* ---- for people --------------------------------------------------------------------- */

/* A unified diff as git colours it: the header lines of each file bold, hunk headers cyan,
 * lines taken out red, lines put in green, context plain. */
static void print_patch_colored(const dv_buf *patch)
{
    const char *line = patch->ptr, *end = patch->ptr + patch->len;
    int in_header = 1;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        const char *color = NULL;
        if (len >= 5 && !memcmp(line, "diff ", 5))
            in_header = 1;
        if (len >= 2 && !memcmp(line, "@@", 2)) {
            in_header = 0;
            color = DIFF_COLOR_CYAN;
        } else if (in_header) {
            color = DIFF_COLOR_BOLD;
        } else if (len && line[0] == '+') {
            color = DIFF_COLOR_GREEN;
        } else if (len && line[0] == '-') {
            color = DIFF_COLOR_RED;
        }
        if (color && len)
            printf("%s%.*s%s\n", color, (int)len, line, DIFF_COLOR_RESET);
        else
            printf("%.*s\n", (int)len, line);
        line += len + 1;
    }
}

static void print_line(void *ctx, const char *text)
{
    (void)ctx;
    printf("    %s\n", text);
}

void diff_content_print(const diff_content *c, const diff_content_options *opts)
{
    dv_buf t = DV_BUF_INIT;
    switch (c->kind) {
    case DIFF_CONTENT_ERROR:
        printf("    cannot compare the content: %s\n", c->message);
        break;
    case DIFF_CONTENT_BINARY:
        printf("    binary content differs\n");
        break;
    case DIFF_CONTENT_TOO_LARGE:
        printf("    content differs (larger than --text-limit, not shown)\n");
        break;
    case DIFF_CONTENT_TEXT:
        if (opts->color)
            print_patch_colored(&c->patch);
        else
            fwrite(c->patch.ptr, 1, c->patch.len, stdout);
        break;
    case DIFF_CONTENT_PARQUET:
        parquet_print(&c->parquet);
        break;
    case DIFF_CONTENT_TABLE: {
        const dv_table_report *r = &c->table;
        dv_buf_printf(&t, "%s", dv_table_format_name(r->format));
        if (r->keyed) {
            dv_buf_puts(&t, ", key ");
            keys_text(&t, &opts->table);
        }
        dv_buf_puts(&t, ": ");
        rows_text(&t, r);
        print_line(NULL, t.ptr);
        dv_buf_clear(&t);
        if (schema_text(&t, r, 0))
            printf("    columns: %s\n", t.ptr);
        for (size_t i = 0; i < r->n_columns; i++)
            if (r->columns[i].drifted) {
                dv_buf_clear(&t);
                drift_text(&t, &r->columns[i], 0);
                printf("    drift: %s\n", t.ptr);
            }
        for (int w = 0; w < 2; w++) {
            if (r->dup_keys[w])
                printf("    duplicate keys in the %s version: %s keys on %s rows (not compared)\n",
                       w ? "new" : "old", count(r->dup_keys[w]), count(r->dup_rows[w]));
            if (r->empty_keys[w]) {
                printf("    empty keys in the %s version: %s rows (not compared), line %" PRIu64,
                       w ? "new" : "old", count(r->empty_keys[w]), r->empty_key_lines[w][0]);
                for (int k = 1; k < 3 && (uint64_t)k < r->empty_keys[w]; k++)
                    printf(", %" PRIu64, r->empty_key_lines[w][k]);
                printf("%s\n", r->empty_keys[w] > 3 ? ", ..." : "");
            }
        }
        if (r->rows_cells_compared < r->rows_changed)
            printf("    cells compared on %s of the %s changed rows\n",
                   count(r->rows_cells_compared), count(r->rows_changed));
        for (size_t i = 0; i < r->n_examples; i++) {
            dv_buf_clear(&t);
            example_text(&t, r, &r->examples[i], 0);
            printf("    %s %s\n", example_mark(r->examples[i].kind), t.ptr);
        }
        break;
    }
    default:
        break;
    }
    dv_buf_release(&t);
}

/* ---- JSON --------------------------------------------------------------------------- */

static void json_stats(dv_json *j, const char *key, const dv_colstats_summary *s)
{
    dv_json_key(j, key);
    dv_json_object_begin(j);
    dv_json_key(j, "type");
    dv_json_string(j, type_name(s->type));
    dv_json_key(j, "count");
    dv_json_uint(j, s->count);
    dv_json_key(j, "nulls");
    dv_json_uint(j, s->nulls);
    dv_json_key(j, "distinct");
    dv_json_uint(j, s->distinct);
    dv_json_key(j, "distinct_estimated");
    dv_json_bool(j, s->distinct_estimated);
    dv_buf v = DV_BUF_INIT;
    if (s->numeric) {
        dv_json_key(j, "min");
        dv_json_double(j, s->min);
        dv_json_key(j, "max");
        dv_json_double(j, s->max);
        dv_json_key(j, "mean");
        dv_json_double(j, s->mean);
        dv_json_key(j, "stddev");
        dv_json_double(j, s->stddev);
    } else if (s->count > s->nulls) {
        dv_json_key(j, "min");
        dv_buf_put(&v, s->min_text.ptr, s->min_text.len);
        dv_json_string(j, v.ptr);
        dv_json_key(j, "max");
        dv_buf_clear(&v);
        dv_buf_put(&v, s->max_text.ptr, s->max_text.len);
        dv_json_string(j, v.ptr);
    }
    dv_json_key(j, "top");
    dv_json_array_begin(j);
    for (size_t i = 0; i < s->n_top; i++) {
        dv_json_object_begin(j);
        dv_json_key(j, "value");
        dv_buf_clear(&v);
        dv_buf_put(&v, s->top[i].ptr, s->top[i].len);
        dv_json_string(j, v.ptr);
        dv_json_key(j, "count");
        dv_json_uint(j, s->top[i].count);
        dv_json_object_end(j);
    }
    dv_json_array_end(j);
    dv_json_key(j, "top_estimated");
    dv_json_bool(j, s->top_estimated);
    dv_json_object_end(j);
    dv_buf_release(&v);
}

static void json_string_or_null(dv_json *j, const char *s)
{
    if (s)
        dv_json_string(j, s);
    else
        dv_json_null(j);
}

static const char *column_status_name(int status)
{
    static const char *names[] = {"same", "added", "removed", "renamed"};
    return status >= 0 && status <= DV_TABLE_COLUMN_RENAMED ? names[status] : "same";
}

static const char *example_kind_name(int kind)
{
    return kind == DV_TABLE_EXAMPLE_ADDED     ? "added"
           : kind == DV_TABLE_EXAMPLE_REMOVED ? "removed"
           : kind == DV_TABLE_EXAMPLE_CHANGED ? "changed"
                                              : "duplicate";
}

static void json_table(dv_json *j, const dv_table_report *r, const diff_content_options *opts)
{
    dv_json_key(j, "format");
    dv_json_string(j, dv_table_format_name(r->format));
    dv_json_key(j, "key");
    dv_json_array_begin(j);
    for (size_t k = 0; k < opts->table.n_keys; k++)
        dv_json_string(j, opts->table.keys[k]);
    dv_json_array_end(j);
    dv_json_key(j, "header");
    dv_json_bool(j, r->header);
    dv_json_key(j, "rows");
    dv_json_object_begin(j);
    const char *names[] = {
        "old", "new", "added", "removed", "changed", "same", "within_tolerance", "cells_compared"};
    uint64_t values[] = {r->old_rows,
                         r->new_rows,
                         r->rows_added,
                         r->rows_removed,
                         r->rows_changed,
                         r->rows_same,
                         r->rows_within_tolerance,
                         r->rows_cells_compared};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        dv_json_key(j, names[i]);
        dv_json_uint(j, values[i]);
    }
    dv_json_object_end(j);
    for (int w = 0; w < 2; w++) {
        dv_json_key(j, w ? "new_keys" : "old_keys");
        dv_json_object_begin(j);
        dv_json_key(j, "duplicate_keys");
        dv_json_uint(j, r->dup_keys[w]);
        dv_json_key(j, "duplicate_rows");
        dv_json_uint(j, r->dup_rows[w]);
        dv_json_key(j, "empty");
        dv_json_uint(j, r->empty_keys[w]);
        dv_json_key(j, "empty_lines");
        dv_json_array_begin(j);
        for (uint64_t k = 0; k < 3 && k < r->empty_keys[w]; k++)
            dv_json_uint(j, r->empty_key_lines[w][k]);
        dv_json_array_end(j);
        dv_json_object_end(j);
    }
    dv_json_key(j, "columns_reordered");
    dv_json_bool(j, r->columns_reordered);
    dv_json_key(j, "columns");
    dv_json_array_begin(j);
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_table_column *c = &r->columns[i];
        dv_json_object_begin(j);
        dv_json_key(j, "name");
        dv_json_string(j, c->name);
        if (c->old_name) {
            dv_json_key(j, "old_name");
            dv_json_string(j, c->old_name);
        }
        dv_json_key(j, "status");
        dv_json_string(j, column_status_name(c->status));
        dv_json_key(j, "type_changed");
        dv_json_bool(j, type_changed(c));
        dv_json_key(j, "cells_changed");
        dv_json_uint(j, c->cells_changed);
        dv_json_key(j, "cells_within_tolerance");
        dv_json_uint(j, c->cells_within_tolerance);
        if (c->has_old)
            json_stats(j, "old", &c->old_stats);
        if (c->has_new)
            json_stats(j, "new", &c->new_stats);
        if (c->status == DV_TABLE_COLUMN_SAME) {
            dv_json_key(j, "drift");
            if (c->drift.test == DV_DRIFT_NONE) {
                dv_json_null(j);
            } else {
                dv_json_object_begin(j);
                dv_json_key(j, "test");
                dv_json_string(j, c->drift.test == DV_DRIFT_PSI_NUMERIC ? "psi+ks" : "psi");
                dv_json_key(j, "psi");
                dv_json_double(j, c->drift.psi);
                if (c->drift.test == DV_DRIFT_PSI_NUMERIC) {
                    dv_json_key(j, "ks");
                    dv_json_double(j, c->drift.ks);
                }
                dv_json_key(j, "sampled");
                dv_json_array_begin(j);
                dv_json_uint(j, c->drift.old_sampled);
                dv_json_uint(j, c->drift.new_sampled);
                dv_json_array_end(j);
                dv_json_key(j, "drifted");
                dv_json_bool(j, c->drifted);
                dv_json_object_end(j);
            }
        }
        dv_json_object_end(j);
    }
    dv_json_array_end(j);
    dv_json_key(j, "examples");
    dv_json_array_begin(j);
    for (size_t i = 0; i < r->n_examples; i++) {
        const dv_table_example *ex = &r->examples[i];
        dv_json_object_begin(j);
        dv_json_key(j, "kind");
        dv_json_string(j, example_kind_name(ex->kind));
        dv_json_key(j, "key");
        json_string_or_null(j, ex->key);
        dv_json_key(j, "old_line");
        if (ex->old_line)
            dv_json_uint(j, ex->old_line);
        else
            dv_json_null(j);
        dv_json_key(j, "new_line");
        if (ex->new_line)
            dv_json_uint(j, ex->new_line);
        else
            dv_json_null(j);
        if (ex->kind == DV_TABLE_EXAMPLE_ADDED || ex->kind == DV_TABLE_EXAMPLE_REMOVED) {
            dv_json_key(j, "cells");
            dv_json_object_begin(j);
            for (size_t k = 0; k < ex->n_cells; k++) {
                const dv_table_column *c = column_at(r, ex->kind == DV_TABLE_EXAMPLE_ADDED, k);
                dv_json_key(j, c ? c->name : "?");
                json_string_or_null(j, ex->cells[k]);
            }
            dv_json_object_end(j);
        } else if (ex->kind == DV_TABLE_EXAMPLE_CHANGED) {
            dv_json_key(j, "changes");
            dv_json_array_begin(j);
            for (size_t k = 0; k < ex->n_changes; k++) {
                dv_json_object_begin(j);
                dv_json_key(j, "column");
                dv_json_string(j, column_name(r, ex->changes[k].column));
                dv_json_key(j, "old");
                json_string_or_null(j, ex->changes[k].old_value);
                dv_json_key(j, "new");
                json_string_or_null(j, ex->changes[k].new_value);
                dv_json_object_end(j);
            }
            dv_json_array_end(j);
        } else {
            dv_json_key(j, "side");
            dv_json_string(j, ex->side ? "new" : "old");
            dv_json_key(j, "rows");
            dv_json_uint(j, ex->n_rows);
            dv_json_key(j, "more_lines");
            dv_json_array_begin(j);
            for (size_t k = 0; k < ex->n_more_lines; k++)
                dv_json_uint(j, ex->more_lines[k]);
            dv_json_array_end(j);
        }
        dv_json_object_end(j);
    }
    dv_json_array_end(j);
}

void diff_content_json(dv_json *j, const diff_content *c, const diff_content_options *opts)
{
    static const char *kinds[] = {"none",      "table", "text",   "binary",
                                  "too_large", "error", "parquet"};
    if (c->kind == DIFF_CONTENT_NONE)
        return;
    dv_json_key(j, "content");
    dv_json_object_begin(j);
    dv_json_key(j, "kind");
    dv_json_string(j, kinds[c->kind]);
    switch (c->kind) {
    case DIFF_CONTENT_ERROR:
        dv_json_key(j, "error");
        dv_json_string(j, c->message);
        break;
    case DIFF_CONTENT_TEXT:
        dv_json_key(j, "patch");
        dv_json_string(j, c->patch.ptr);
        break;
    case DIFF_CONTENT_TABLE:
        json_table(j, &c->table, opts);
        break;
    case DIFF_CONTENT_PARQUET:
        json_parquet(j, &c->parquet);
        break;
    default:
        break;
    }
    dv_json_object_end(j);
}

/* ---- Markdown ----------------------------------------------------------------------- */

void diff_content_md_brief(dv_buf *out, const diff_content *c)
{
    const dv_table_report *r = &c->table;
    switch (c->kind) {
    case DIFF_CONTENT_TABLE:
        dv_buf_printf(out, "+%s / -%s", count(r->rows_added), count(r->rows_removed));
        if (r->keyed)
            dv_buf_printf(out, " / ~%s", count(r->rows_changed));
        dv_buf_puts(out, " rows");
        for (size_t i = 0; i < r->n_columns; i++)
            if (r->columns[i].status != DV_TABLE_COLUMN_SAME || type_changed(&r->columns[i])) {
                dv_buf_puts(out, ", schema changed");
                break;
            }
        for (size_t i = 0; i < r->n_columns; i++)
            if (r->columns[i].drifted) {
                dv_buf_puts(out, ", drift");
                break;
            }
        break;
    case DIFF_CONTENT_TEXT:
        dv_buf_puts(out, "text");
        break;
    case DIFF_CONTENT_PARQUET:
        parquet_md_brief(out, &c->parquet);
        break;
    case DIFF_CONTENT_ERROR:
        dv_buf_puts(out, "⚠ not compared");
        break;
    default:
        break;
    }
}

static void md_stats_cell(dv_buf *out, const dv_colstats_summary *s)
{
    dv_buf_printf(out, "%s, %s nulls, %s%s distinct", type_name(s->type), count(s->nulls),
                  s->distinct_estimated ? "~" : "", count(s->distinct));
    if (s->numeric)
        dv_buf_printf(out, ", %.6g…%.6g, mean %.6g, sd %.6g", s->min, s->max, s->mean, s->stddev);
    else if (s->n_top && s->top[0].count > 1) /* when every value is distinct, none is "top" */
        dv_buf_printf(out, ", top `%.*s` (%s)", (int)(s->top[0].len > 40 ? 40 : s->top[0].len),
                      s->top[0].ptr, count(s->top[0].count));
}

void diff_content_md(dv_buf *out, const diff_content *c, const diff_content_options *opts)
{
    switch (c->kind) {
    case DIFF_CONTENT_ERROR:
        dv_buf_printf(out, "> ⚠ cannot compare the content: %s\n\n", c->message);
        return;
    case DIFF_CONTENT_TEXT:
        dv_buf_puts(out, "<details><summary>text diff</summary>\n\n```diff\n");
        dv_buf_put(out, c->patch.ptr, c->patch.len);
        dv_buf_puts(out, "```\n\n</details>\n\n");
        return;
    case DIFF_CONTENT_PARQUET:
        parquet_md(out, &c->parquet);
        return;
    case DIFF_CONTENT_TABLE:
        break;
    default:
        return;
    }
    const dv_table_report *r = &c->table;
    dv_buf_printf(out, "%s table%s", dv_table_format_name(r->format), r->keyed ? ", key `" : "");
    if (r->keyed) {
        keys_text(out, &opts->table);
        dv_buf_puts(out, "`");
    }
    dv_buf_puts(out, "\n\n| rows | old | new | added | removed | changed | same |\n");
    dv_buf_puts(out, "|---|---:|---:|---:|---:|---:|---:|\n");
    dv_buf_printf(out, "| | %s | %s | %s | %s | %s | %s |\n\n", count(r->old_rows),
                  count(r->new_rows), count(r->rows_added), count(r->rows_removed),
                  r->keyed ? count(r->rows_changed) : "–", count(r->rows_same));
    dv_buf schema = DV_BUF_INIT;
    if (schema_text(&schema, r, 1))
        dv_buf_printf(out, "**Schema:** %s\n\n", schema.ptr);
    dv_buf_release(&schema);
    for (size_t i = 0; i < r->n_columns; i++)
        if (r->columns[i].drifted) {
            dv_buf_puts(out, "**Drift:** ");
            drift_text(out, &r->columns[i], 1);
            dv_buf_puts(out, "\n\n");
        }
    for (int w = 0; w < 2; w++) {
        if (r->dup_keys[w])
            dv_buf_printf(out,
                          "**Duplicate keys** in the %s version: %s keys on %s rows, not "
                          "compared\n\n",
                          w ? "new" : "old", count(r->dup_keys[w]), count(r->dup_rows[w]));
        if (r->empty_keys[w])
            dv_buf_printf(out, "**Empty keys** in the %s version: %s rows, not compared\n\n",
                          w ? "new" : "old", count(r->empty_keys[w]));
    }
    if (r->n_examples) {
        dv_buf_printf(out, "<details><summary>%zu example rows</summary>\n\n", r->n_examples);
        for (size_t i = 0; i < r->n_examples; i++) {
            dv_buf_printf(out, "- %s ", example_kind_name(r->examples[i].kind));
            example_text(out, r, &r->examples[i], 1);
            dv_buf_puts(out, "\n");
        }
        dv_buf_puts(out, "\n</details>\n\n");
    }
    dv_buf_puts(out, "<details><summary>columns</summary>\n\n| column | old | new | cells "
                     "changed |\n|---|---|---|---:|\n");
    for (size_t i = 0; i < r->n_columns; i++) {
        const dv_table_column *col = &r->columns[i];
        dv_buf_printf(out, "| `%s` | ", col->name);
        if (col->has_old)
            md_stats_cell(out, &col->old_stats);
        dv_buf_puts(out, " | ");
        if (col->has_new)
            md_stats_cell(out, &col->new_stats);
        dv_buf_printf(out, " | %s |\n", count(col->cells_changed));
    }
    dv_buf_puts(out, "\n</details>\n\n");
}
