/* tablediff: what changed between two versions of a table (tablediff.h). */
#include "core/table/tablediff.h"

#include "core/base/buf.h"
#include "core/base/pool.h"
#include "core/table/cellhash.h"
#include "core/table/csv.h"
#include "core/table/jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Returned by a record callback when the header peek has what it needs; never an error. */
#define TABLE_STOP (-100)
#define KEY_SEED 0x6b657973ull
#define NULL_KEY_CELL 0x9e3779b97f4a7c15ull
/* How many rows the pairs are sized after, from the bytes they took (see reserve_pairs). */
#define ESTIMATE_AFTER_ROWS 4096u

/* A row of pass 1: its key hash (the row hash when unkeyed), its row hash, and the byte
 * where it starts, so that pass 2 reads only the rows it wants. */
typedef struct pair {
    uint64_t key, row, offset;
} pair;

/* The smallest distinct value hashes of a column (a bottom-k sketch): two columns' sketches
 * estimate how much their sets of values overlap, which finds a renamed column whose values
 * are mostly the same while rows came and went. In increasing order, so that a hash is
 * looked up by bisection: a column of a few hundred values meets its own on most rows. */
#define SKETCH_K 256
/* Columns with fewer distinct values than this are renamed only when all values agree:
 * few values, such as booleans, overlap by chance. */
#define RENAME_MIN_DISTINCT 16
#define RENAME_MIN_OVERLAP 0.8

typedef struct sketch {
    uint64_t h[SKETCH_K];
    size_t n;
} sketch;

typedef struct column {
    char *name;
    sketch *values;
    uint64_t name_hash;
    dv_colstats *stats;
    uint64_t seen;     /* values and nulls added in pass 1 (JSON Lines leaves gaps) */
    int common;        /* index among the columns on both sides, or -1 */
    uint64_t stamp;    /* the row whose cell view below is set */
    const char *value; /* pass 2: this row's cell, lent for the row */
    size_t len;
    int null;
    uint64_t hash; /* this row's cell hash (pass 1: for key cells) */
} column;

/* A row pass 2 reads on one side: where it starts, and what for. */
typedef struct want {
    uint64_t offset;
    uint32_t index; /* the changed-row slot (CHANGED) or the example */
    int kind;       /* DV_TABLE_EXAMPLE_* */
} want;

struct table_diff;

typedef struct side {
    int which; /* 0 old, 1 new */
    const dv_table_source *src;
    const dv_table_options *opts;
    struct table_diff *td;
    int pass;
    column *cols;
    size_t n_cols, alloc_cols;
    uint32_t *name_map; /* open addressing: column index + 1, by name hash */
    size_t name_map_cap;
    int header;      /* the first record names the columns and is not data */
    int header_done; /* pass: the header record has gone by */
    int *key_col;    /* per key: column index, -1 when absent */
    uint64_t rows, row_stamp;
    uint64_t last_offset;
    pair *pairs;
    size_t n_pairs, alloc_pairs;
    int reserved;
    uint64_t empty_keys, empty_lines[3];
    /* the header peek */
    char **peek_names;
    size_t n_peek;
    int peek_header; /* the first record looks like names */
    /* pass 2: what is kept of changed rows, slot by slot over the common columns */
    uint64_t *cell_hash;
    double *cell_number;
    uint8_t *cell_state; /* 0 null or absent, 1 a value, 2 a number */
    char **cell_text;    /* for the slots of changed examples */
    /* pass 2: the rows wanted, by offset; the bytes before the next are only counted */
    want *wants;
    size_t n_wants, alloc_wants, next_want;
    uint64_t stream_offset; /* of the next byte the stream gives */
    uint64_t counted;       /* the line ends before this offset are in lines_before */
    uint64_t lines_before;
    dv_csv *csv; /* pass 2: the reader of one wanted row, NULL between them */
    dv_jsonl *jsonl;
} side;

typedef struct table_diff {
    const dv_table_options *opts;
    side sides[2];
    size_t n_common;
    size_t n_slots;      /* changed rows whose cells are kept */
    size_t n_text_slots; /* of those, the first ones are examples: their text too */
    dv_table_example *examples;
    size_t n_examples, alloc_examples;
    size_t *slot_example; /* per text slot: its example */
} table_diff;

static char *dup_bytes(const char *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

static uint64_t name_hash_of(const char *name, size_t len)
{
    return dv_cellhash(name, len, 0x636f6c756d6e73ull);
}

/* ---- columns ---------------------------------------------------------------------- */

static int find_column(const side *s, const char *name, size_t len, uint64_t h)
{
    if (!s->name_map_cap)
        return -1;
    size_t mask = s->name_map_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t v = s->name_map[i];
        if (!v)
            return -1;
        const column *c = &s->cols[v - 1];
        if (c->name_hash == h && strlen(c->name) == len && !memcmp(c->name, name, len))
            return (int)(v - 1);
    }
}

static int map_insert(side *s, size_t index)
{
    if ((s->n_cols + 1) * 2 > s->name_map_cap) {
        size_t cap = s->name_map_cap ? s->name_map_cap * 2 : 64;
        uint32_t *map = calloc(cap, sizeof(*map));
        if (!map)
            return dv_error_set(DV_ENOMEM, "out of memory");
        for (size_t k = 0; k < s->n_cols; k++) {
            if (k == index)
                continue;
            size_t i = s->cols[k].name_hash & (cap - 1);
            while (map[i])
                i = (i + 1) & (cap - 1);
            map[i] = (uint32_t)k + 1;
        }
        free(s->name_map);
        s->name_map = map;
        s->name_map_cap = cap;
    }
    size_t mask = s->name_map_cap - 1;
    size_t i = s->cols[index].name_hash & mask;
    while (s->name_map[i])
        i = (i + 1) & mask;
    s->name_map[i] = (uint32_t)index + 1;
    return 0;
}

/* A new column named name; its index in *out. */
static int add_column(int *out, side *s, const char *name, size_t len)
{
    if (s->n_cols >= DV_TABLE_COLUMNS_MAX)
        return dv_error_set(DV_ECORRUPT, "%s: more than %u columns", s->src->name,
                            DV_TABLE_COLUMNS_MAX);
    if (s->n_cols == s->alloc_cols) {
        size_t alloc = s->alloc_cols ? s->alloc_cols * 2 : 16;
        column *cols = realloc(s->cols, alloc * sizeof(*cols));
        if (!cols)
            return dv_error_set(DV_ENOMEM, "out of memory");
        s->cols = cols;
        s->alloc_cols = alloc;
    }
    column *c = &s->cols[s->n_cols];
    memset(c, 0, sizeof(*c));
    c->common = -1;
    c->name_hash = name_hash_of(name, len);
    int error;
    if (!(c->name = dup_bytes(name, len)) || !(c->values = calloc(1, sizeof(*c->values)))) {
        free(c->name);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    if ((error = dv_colstats_new(&c->stats)) < 0) {
        free(c->name);
        free(c->values);
        return error;
    }
    s->n_cols++;
    if ((error = map_insert(s, s->n_cols - 1)) < 0)
        return error;
    *out = (int)s->n_cols - 1;
    return 0;
}

/* The column named name, made when it is new (JSON Lines). */
static int column_of(int *out, side *s, const char *name, size_t len)
{
    uint64_t h = name_hash_of(name, len);
    int i = find_column(s, name, len, h);
    if (i >= 0) {
        *out = i;
        return 0;
    }
    if (s->pass == 2)
        return dv_error_set(DV_ECORRUPT, "%s: changed while it was read (a new member %.*s)",
                            s->src->name, (int)(len > 64 ? 64 : len), name);
    return add_column(out, s, name, len);
}

/* ---- pass 1: statistics and row pairs ----------------------------------------------- */

/* Ask for the pairs of a large table in huge pages where the system gives them on request:
 * writing them page by page was a fault every 4 KiB, a tenth of pass 1's time. A hint:
 * nothing changes when it is not taken. */
static void advise_huge_pages(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1),
              end = ((uintptr_t)p + len) & ~(huge - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)p;
    (void)len;
#endif
}

static int reserve_pairs(side *s, uint64_t offset)
{
    if (s->n_pairs < s->alloc_pairs)
        return 0;
    size_t alloc = s->alloc_pairs ? s->alloc_pairs + s->alloc_pairs / 2 : ESTIMATE_AFTER_ROWS;
    /* Once, early: the rows the whole table will have at the bytes a row took so far, so a
     * large table is one allocation and not a chain of copies. */
    if (!s->reserved && s->alloc_pairs && s->src->size > offset && offset) {
        double per_row = (double)offset / (double)s->n_pairs;
        double estimate = (double)s->src->size / per_row * 1.05 + 1024;
        if (estimate > (double)alloc && estimate < (double)(SIZE_MAX / sizeof(pair)))
            alloc = (size_t)estimate;
        s->reserved = 1;
    }
    if (alloc > SIZE_MAX / sizeof(pair))
        return dv_error_set(DV_ENOMEM, "out of memory");
    pair *p = realloc(s->pairs, alloc * sizeof(*p));
    if (!p)
        return dv_error_set(DV_ENOMEM, "%s: out of memory for %zu rows", s->src->name, alloc);
    s->pairs = p;
    s->alloc_pairs = alloc;
    advise_huge_pages(p, alloc * sizeof(*p));
    return 0;
}

static void sketch_add(sketch *k, uint64_t h)
{
    if (k->n == SKETCH_K && h >= k->h[SKETCH_K - 1])
        return; /* the common case: not among the smallest */
    size_t low = 0, high = k->n;
    while (low < high) {
        size_t mid = (low + high) / 2;
        if (k->h[mid] < h)
            low = mid + 1;
        else
            high = mid;
    }
    if (low < k->n && k->h[low] == h)
        return;
    if (k->n == SKETCH_K)
        k->n--; /* the largest gives way */
    memmove(k->h + low + 1, k->h + low, (k->n - low) * sizeof(*k->h));
    k->h[low] = h;
    k->n++;
}

/* The estimated Jaccard similarity of two columns' sets of values. */
static double sketch_overlap(const sketch *a, const sketch *b)
{
    const uint64_t *x = a->h, *y = b->h;
    size_t i = 0, j = 0, taken = 0, both = 0;
    while (taken < SKETCH_K && (i < a->n || j < b->n)) {
        if (j >= b->n || (i < a->n && x[i] < y[j])) {
            i++;
        } else if (i >= a->n || y[j] < x[i]) {
            j++;
        } else {
            i++;
            j++;
            both++;
        }
        taken++;
    }
    return taken ? (double)both / (double)taken : 0;
}

/* One cell of the current row in pass 1. */
static int cell_pass1(side *s, column *c, const char *value, size_t len, int null,
                      uint64_t *row_sum)
{
    c->seen++;
    c->stamp = s->row_stamp;
    if (null) {
        dv_colstats_add_null(c->stats);
        c->null = 1;
        return 0;
    }
    uint64_t h = dv_cellhash(value, len, 0);
    c->null = 0;
    c->hash = h;
    c->len = len;
    sketch_add(c->values, h);
    if (c->common >= 0 || s->opts->format == DV_TABLE_JSONL)
        *row_sum += dv_cellhash_combine(c->name_hash, h);
    return dv_colstats_add(c->stats, value, len, h);
}

/* The key hash of the current row from its cells' hashes (pass 1); returns 0 when every
 * key cell is empty. */
static int key_of(const side *s, uint64_t *out)
{
    uint64_t h = KEY_SEED;
    int any = 0;
    for (size_t k = 0; k < s->opts->n_keys; k++) {
        int i = s->key_col[k];
        const column *c = i >= 0 ? &s->cols[i] : NULL;
        if (!c || c->stamp != s->row_stamp || c->null || !c->len) {
            h = dv_cellhash_combine(h, NULL_KEY_CELL);
            continue;
        }
        any = 1;
        h = dv_cellhash_combine(h, c->hash);
    }
    *out = h;
    return any;
}

static int row_end_pass1(side *s, uint64_t row_sum, uint64_t line, uint64_t offset)
{
    uint64_t key = row_sum;
    if (s->opts->n_keys && !key_of(s, &key)) {
        if (s->empty_keys < 3)
            s->empty_lines[s->empty_keys] = line;
        s->empty_keys++;
        return 0;
    }
    int error = reserve_pairs(s, offset);
    if (error < 0)
        return error;
    s->pairs[s->n_pairs].key = key;
    s->pairs[s->n_pairs].row = row_sum;
    s->pairs[s->n_pairs].offset = offset;
    s->n_pairs++;
    return 0;
}

/* ---- pass 2: example rows and the cells of changed rows ----------------------------- */

static int keep_text(char **out, const column *c)
{
    *out = NULL;
    if (c->stamp != 0 && !c->null && !(*out = dup_bytes(c->value, c->len)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    return 0;
}

static int key_text(char **out, const side *s)
{
    dv_buf b = DV_BUF_INIT;
    for (size_t k = 0; k < s->opts->n_keys; k++) {
        int i = s->key_col[k];
        const column *c = i >= 0 ? &s->cols[i] : NULL;
        int set = c && c->stamp == s->row_stamp && !c->null;
        dv_buf_printf(&b, "%s%s=%.*s", k ? ", " : "", s->opts->keys[k], set ? (int)c->len : 0,
                      set ? c->value : "");
    }
    if (dv_buf_oom(&b)) {
        dv_buf_release(&b);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    *out = dv_buf_detach(&b);
    return 0;
}

static int fill_example(side *s, dv_table_example *ex, uint64_t line)
{
    int error = 0;
    if (ex->kind == DV_TABLE_EXAMPLE_DUPLICATE) {
        uint64_t *first = s->which ? &ex->new_line : &ex->old_line;
        if (!*first) {
            *first = line;
            if (s->opts->n_keys && !ex->key)
                error = key_text(&ex->key, s);
        } else if (ex->n_more_lines < 3) {
            ex->more_lines[ex->n_more_lines++] = line;
        }
        return error;
    }
    uint64_t *at = s->which ? &ex->new_line : &ex->old_line;
    if (*at) /* a row repeated: the first stands for the others */
        return 0;
    *at = line;
    if (s->opts->n_keys && ex->kind != DV_TABLE_EXAMPLE_CHANGED &&
        (error = key_text(&ex->key, s)) < 0)
        return error;
    if (ex->kind == DV_TABLE_EXAMPLE_CHANGED) {
        if (!s->which && s->opts->n_keys)
            error = key_text(&ex->key, s);
        return error;
    }
    if (!(ex->cells = calloc(s->n_cols ? s->n_cols : 1, sizeof(*ex->cells))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    ex->n_cells = s->n_cols;
    for (size_t i = 0; i < s->n_cols && !error; i++) {
        const column *c = &s->cols[i];
        if (c->stamp == s->row_stamp)
            error = keep_text(&ex->cells[i], c);
    }
    return error;
}

static int keep_changed(side *s, size_t slot, uint64_t line)
{
    table_diff *td = s->td;
    size_t n = td->n_common;
    for (size_t i = 0; i < s->n_cols; i++) {
        const column *c = &s->cols[i];
        if (c->common < 0)
            continue;
        size_t at = slot * n + (size_t)c->common;
        int set = c->stamp == s->row_stamp && !c->null;
        s->cell_state[at] = 0;
        if (!set)
            continue;
        s->cell_hash[at] = dv_cellhash(c->value, c->len, 0);
        s->cell_state[at] = 1;
        double v;
        if (td->opts->tolerance > 0 && dv_colstats_parse_number(c->value, c->len, &v)) {
            s->cell_number[at] = v;
            s->cell_state[at] = 2;
        }
        if (slot < td->n_text_slots) {
            int error = keep_text(&s->cell_text[at], c);
            if (error < 0)
                return error;
        }
    }
    if (slot < td->n_text_slots)
        return fill_example(s, &td->examples[td->slot_example[slot]], line);
    return 0;
}

/* The wanted row has been read: keep what it is wanted for. */
static int row_end_pass2(side *s, uint64_t line)
{
    const want *w = &s->wants[s->next_want];
    int error = w->kind == DV_TABLE_EXAMPLE_CHANGED
                    ? keep_changed(s, w->index, line)
                    : fill_example(s, &s->td->examples[w->index], line);
    return error < 0 ? error : TABLE_STOP;
}

/* ---- reading the rows --------------------------------------------------------------- */

static int is_number(const char *p, size_t len)
{
    double v;
    return dv_colstats_parse_number(p, len, &v) != 0;
}

static int peek_record(side *s, const dv_csv_record *r)
{
    if (!(s->peek_names = calloc(r->n_fields, sizeof(*s->peek_names))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    s->peek_header = 1;
    for (size_t i = 0; i < r->n_fields; i++) {
        const dv_csv_field *f = &r->fields[i];
        if (!(s->peek_names[i] = dup_bytes(f->ptr, f->len)))
            return dv_error_set(DV_ENOMEM, "out of memory");
        s->n_peek = i + 1;
        if (!f->len || is_number(f->ptr, f->len))
            s->peek_header = 0;
        for (size_t k = 0; k < i && s->peek_header; k++)
            if (!strcmp(s->peek_names[k], s->peek_names[i]))
                s->peek_header = 0;
    }
    return TABLE_STOP;
}

/* Pass 2 read a row where none was wanted: the version is not the one pass 1 read. */
static int changed_while_read(const side *s, uint64_t line)
{
    return dv_error_set(DV_ECORRUPT, "%s: changed while it was read (line %llu)", s->src->name,
                        (unsigned long long)line);
}

static int on_record(void *ctx, const dv_csv_record *r)
{
    side *s = ctx;
    if (!s->pass)
        return peek_record(s, r);
    if (s->pass == 2 && r->offset != s->wants[s->next_want].offset)
        return changed_while_read(s, r->line);
    if (s->header && !s->header_done) {
        s->header_done = 1;
        return 0;
    }
    if (r->n_fields == 1 && !r->fields[0].len && !r->fields[0].quoted && s->n_cols > 1)
        return 0; /* a blank line */
    if (r->n_fields != s->n_cols)
        return dv_error_set(DV_ECORRUPT, "%s: line %llu: %zu fields where %s has %zu", s->src->name,
                            (unsigned long long)r->line, r->n_fields,
                            s->header ? "the header" : "the first row", s->n_cols);
    s->rows++;
    s->row_stamp++;
    if (s->pass == 1) {
        uint64_t row_sum = 0;
        for (size_t i = 0; i < r->n_fields; i++) {
            const dv_csv_field *f = &r->fields[i];
            int error = cell_pass1(s, &s->cols[i], f->ptr, f->len, !f->len && !f->quoted, &row_sum);
            if (error < 0)
                return error;
        }
        return row_end_pass1(s, row_sum, r->line, r->offset);
    }
    for (size_t i = 0; i < r->n_fields; i++) {
        column *c = &s->cols[i];
        c->stamp = s->row_stamp;
        c->value = r->fields[i].ptr;
        c->len = r->fields[i].len;
        c->null = !c->len && !r->fields[i].quoted;
    }
    return row_end_pass2(s, r->line);
}

static int on_jsonl_row(void *ctx, const dv_jsonl_row *r)
{
    side *s = ctx;
    if (s->pass == 2 && r->offset != s->wants[s->next_want].offset)
        return changed_while_read(s, r->line);
    s->rows++;
    s->row_stamp++;
    uint64_t row_sum = 0;
    for (size_t m = 0; m < r->n_members; m++) {
        const dv_jsonl_member *mb = &r->members[m];
        int i, error;
        if ((error = column_of(&i, s, mb->key, mb->key_len)) < 0)
            return error;
        column *c = &s->cols[i];
        int null = mb->kind == DV_JSONL_NULL;
        if (s->pass == 1) {
            /* Cells a row lacks are nulls; those of the rows before this column came. */
            while (c->seen + 1 < s->rows)
                cell_pass1(s, c, NULL, 0, 1, &row_sum);
            if ((error = cell_pass1(s, c, mb->value, mb->value_len, null, &row_sum)) < 0)
                return error;
        } else {
            c->stamp = s->row_stamp;
            c->value = mb->value;
            c->len = mb->value_len;
            c->null = null;
        }
    }
    return s->pass == 1 ? row_end_pass1(s, row_sum, r->line, r->offset) : row_end_pass2(s, r->line);
}

static int new_reader(side *s)
{
    if (s->opts->format == DV_TABLE_JSONL)
        return dv_jsonl_new(&s->jsonl, s->src->name);
    return dv_csv_new(&s->csv, s->opts->format == DV_TABLE_TSV ? '\t' : ',', s->src->name);
}

static void free_reader(side *s)
{
    dv_csv_free(s->csv);
    dv_jsonl_free(s->jsonl);
    s->csv = NULL;
    s->jsonl = NULL;
}

static int push_reader(side *s, const void *data, size_t len)
{
    if (s->jsonl)
        return dv_jsonl_push(s->jsonl, data, len, on_jsonl_row, s);
    return dv_csv_push(s->csv, data, len, on_record, s);
}

static int finish_reader(side *s)
{
    return s->jsonl ? dv_jsonl_finish(s->jsonl, on_jsonl_row, s)
                    : dv_csv_finish(s->csv, on_record, s);
}

static size_t count_line_ends(const char *p, const char *end)
{
    size_t n = 0;
#ifdef __SSE2__
    /* Each match subtracts one from its byte's counter (cmpeq gives -1), 255 blocks at most
     * before the counters are summed. */
    const __m128i lfs = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (end - p >= 16) {
        __m128i counts = zero;
        for (unsigned k = 0; k < 255 && end - p >= 16; k++, p += 16)
            counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), lfs));
        __m128i sums = _mm_sad_epu8(counts, zero);
        n += (size_t)_mm_cvtsi128_si32(sums) + (size_t)_mm_extract_epi16(sums, 4);
    }
#endif
    for (; p < end; p++)
        n += *p == '\n';
    return n;
}

/*
 * Pass 2 takes the bytes of the side up to its last wanted row, and reads only those rows,
 * each with a reader of its own started where pass 1 saw the row begin. A row begins on a
 * line of its own, one more than the line ends before it, which are counted on the way.
 */
static int on_bytes_pass2(side *s, const char *data, size_t len)
{
    const char *end = data + len, *p = data;
    const uint64_t end_offset = s->stream_offset + len;
    int error;
    for (;;) {
        if (s->csv || s->jsonl) {
            error = push_reader(s, p, (size_t)(end - p));
            if (error == TABLE_STOP) {
                free_reader(s);
                s->next_want++;
            } else if (error < 0) {
                return error;
            } else {
                /* the row goes on in the next piece */
                s->lines_before += count_line_ends(data + (s->counted - s->stream_offset), end);
                s->counted = end_offset;
                break;
            }
        }
        if (s->next_want == s->n_wants)
            return TABLE_STOP; /* the rest of the side is not needed */
        uint64_t at = s->wants[s->next_want].offset;
        const char *from = data + (s->counted - s->stream_offset);
        if (at >= end_offset) {
            s->lines_before += count_line_ends(from, end);
            s->counted = end_offset;
            break;
        }
        if (at < s->counted)
            return changed_while_read(s, s->lines_before + 1);
        p = data + (at - s->stream_offset);
        s->lines_before += count_line_ends(from, p);
        s->counted = at;
        if ((error = new_reader(s)) < 0)
            return error;
        if (s->jsonl)
            dv_jsonl_seek(s->jsonl, at, s->lines_before + 1);
        else
            dv_csv_seek(s->csv, at, s->lines_before + 1);
    }
    s->stream_offset = end_offset;
    return 0;
}

static int on_bytes(void *ctx, const void *data, size_t len)
{
    side *s = ctx;
    if (s->pass == 2)
        return on_bytes_pass2(s, data, len);
    return push_reader(s, data, len);
}

/* One read of the side: pass 0 is the header peek, 1 reads every row, 2 the rows wanted. */
static int read_side(side *s, int pass)
{
    int error;
    s->pass = pass;
    s->rows = 0;
    s->header_done = 0;
    free_reader(s);
    if (pass == 2) {
        if (!s->n_wants)
            return 0;
        s->header_done = 1; /* the readers start at rows */
        s->next_want = 0;
        s->stream_offset = s->counted = s->lines_before = 0;
    } else if ((error = new_reader(s)) < 0) {
        return error;
    }
    error = s->src->stream(s->src->ctx, on_bytes, s);
    if (!error && (s->csv || s->jsonl)) {
        error = finish_reader(s);
        if (pass == 2 && error == TABLE_STOP) {
            free_reader(s);
            s->next_want++;
            error = 0;
        }
    }
    if (error == TABLE_STOP)
        error = 0;
    if (!error && pass == 2 && s->next_want < s->n_wants)
        error = changed_while_read(s, s->lines_before + 1);
    return error;
}

/* ---- sorting and joining ------------------------------------------------------------ */

/* Below this many pairs a bucket is finished by insertion. */
#define SORT_SMALL_PAIRS 32u

static void insertion_sort_pairs(pair *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        pair x = p[i];
        size_t j = i;
        for (; j > 0 && p[j - 1].key > x.key; j--)
            p[j] = p[j - 1];
        p[j] = x;
    }
}

/*
 * Pairs by key, in place (the join reads equal keys as a group, in any order): one byte
 * of the key a pass, most significant first, into 256 buckets, then each bucket on its own
 * by the next byte. The hashes are uniform, so the first pass writes 256 sequential streams
 * (which the caches follow, where one pass into 65536 buckets missed on every move) and the
 * next ones work on buckets that fit in the cache.
 */
static void radix_sort_pairs(pair *p, size_t n, unsigned shift)
{
    size_t count[256] = {0}, start[257], next[256];
    if (n <= SORT_SMALL_PAIRS) {
        insertion_sort_pairs(p, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        count[(p[i].key >> shift) & 255]++;
    start[0] = 0;
    for (size_t b = 0; b < 256; b++) {
        start[b + 1] = start[b] + count[b];
        next[b] = start[b];
    }
    for (size_t b = 0; b < 256; b++) {
        while (next[b] < start[b + 1]) {
            pair x = p[next[b]];
            size_t d = (size_t)(x.key >> shift) & 255;
            while (d != b) { /* follow the cycle: x goes to its bucket, what was there moves on */
                pair y = p[next[d]];
                p[next[d]++] = x;
                x = y;
                d = (size_t)(x.key >> shift) & 255;
            }
            p[next[b]++] = x;
        }
    }
    if (shift == 0)
        return;
    for (size_t b = 0; b < 256; b++)
        if (count[b] > 1)
            radix_sort_pairs(p + start[b], count[b], shift - 8);
}

static void sort_pairs(pair *p, size_t n)
{
    radix_sort_pairs(p, n, 56);
}

static int pass1_item(void *ctx, size_t item, int worker)
{
    (void)worker;
    side *s = &((table_diff *)ctx)->sides[item];
    int error = read_side(s, 1);
    if (!error && s->opts->n_keys && s->rows && s->empty_keys == s->rows) {
        dv_buf names = DV_BUF_INIT;
        for (size_t k = 0; k < s->opts->n_keys; k++)
            dv_buf_printf(&names, "%s%s", k ? ", " : "", s->opts->keys[k]);
        error = dv_error_set(DV_EUSAGE, "%s: no row has a value for the key %s", s->src->name,
                             names.ptr);
        dv_buf_release(&names);
    }
    /* Cells the last rows lacked are nulls (JSON Lines). */
    for (size_t i = 0; !error && i < s->n_cols; i++)
        while (s->cols[i].seen < s->rows) {
            s->cols[i].seen++;
            dv_colstats_add_null(s->cols[i].stats);
        }
    if (!error)
        sort_pairs(s->pairs, s->n_pairs);
    return error;
}

static int pass2_item(void *ctx, size_t item, int worker)
{
    (void)worker;
    return read_side(&((table_diff *)ctx)->sides[item], 2);
}

static int run_both(table_diff *td, dv_pool_fn fn)
{
    dv_pool *pool = NULL;
    dv_pool_task task;
    int error = dv_pool_new(&pool, 2);
    if (error < 0)
        return error;
    dv_pool_submit(pool, &task, fn, td, 2);
    error = dv_pool_wait(pool, &task);
    dv_pool_free(pool);
    return error;
}

static int cmp_want(const void *x, const void *y)
{
    const want *a = x, *b = y;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

static int new_example(size_t *out, table_diff *td, int kind, int which)
{
    if (td->n_examples == td->alloc_examples) {
        size_t alloc = td->alloc_examples ? td->alloc_examples * 2 : 16;
        dv_table_example *ex = realloc(td->examples, alloc * sizeof(*ex));
        if (!ex)
            return dv_error_set(DV_ENOMEM, "out of memory");
        td->examples = ex;
        td->alloc_examples = alloc;
    }
    dv_table_example *ex = &td->examples[td->n_examples];
    memset(ex, 0, sizeof(*ex));
    ex->kind = kind;
    ex->side = which;
    *out = td->n_examples++;
    return 0;
}

static int add_want(side *s, uint64_t offset, int kind, size_t index)
{
    if (s->n_wants == s->alloc_wants) {
        size_t alloc = s->alloc_wants ? s->alloc_wants * 2 : 64;
        want *more = realloc(s->wants, alloc * sizeof(*more));
        if (!more)
            return dv_error_set(DV_ENOMEM, "out of memory");
        s->wants = more;
        s->alloc_wants = alloc;
    }
    s->wants[s->n_wants++] = (want){offset, (uint32_t)index, kind};
    return 0;
}

/* The lines an example of a duplicate key gives: its first, and more_lines. */
#define DUPLICATE_LINES 4u

/* Want the first row of the n pairs of one key on side s (the first DUPLICATE_LINES of a
 * duplicate key) as an example of kind, while fewer than the limit of that kind are
 * wanted. */
static int want_example(table_diff *td, size_t *counted, side *s, const pair *group, size_t n,
                        int kind, uint64_t n_rows)
{
    uint64_t first[DUPLICATE_LINES];
    size_t n_first = 0, most = kind == DV_TABLE_EXAMPLE_DUPLICATE ? DUPLICATE_LINES : 1;
    if (*counted >= td->opts->example_rows)
        return 0;
    size_t index = 0;
    int error = new_example(&index, td, kind, s->which);
    if (error < 0)
        return error;
    td->examples[index].n_rows = n_rows;
    (*counted)++;
    for (size_t i = 0; i < n; i++) { /* the least offsets, in order */
        uint64_t offset = group[i].offset;
        if (n_first == most && offset >= first[n_first - 1])
            continue;
        size_t k = n_first < most ? n_first++ : n_first - 1;
        for (; k > 0 && first[k - 1] > offset; k--)
            first[k] = first[k - 1];
        first[k] = offset;
    }
    for (size_t k = 0; k < n_first && !error; k++)
        error = add_want(s, first[k], kind, index);
    return error;
}

typedef struct join_counts {
    size_t added, removed, dup[2];
} join_counts;

/* Join the sorted pairs: counts, duplicate keys, and the rows pass 2 will read on each
 * side: the examples, and the first td->n_slots changed ones (*n_changed of them). */
static int join(table_diff *td, dv_table_report *r, size_t *n_changed)
{
    side *a = &td->sides[0], *b = &td->sides[1];
    size_t i = 0, j = 0;
    join_counts jc = {0, 0, {0, 0}};
    int keyed = td->opts->n_keys > 0, error = 0;
    *n_changed = 0;
    while (!error && (i < a->n_pairs || j < b->n_pairs)) {
        uint64_t k;
        if (i < a->n_pairs && (j >= b->n_pairs || a->pairs[i].key <= b->pairs[j].key))
            k = a->pairs[i].key;
        else
            k = b->pairs[j].key;
        size_t i0 = i, j0 = j;
        while (i < a->n_pairs && a->pairs[i].key == k)
            i++;
        while (j < b->n_pairs && b->pairs[j].key == k)
            j++;
        size_t ka = i - i0, kb = j - j0;
        if (!keyed) {
            if (ka > kb) {
                r->rows_removed += ka - kb;
                error = want_example(td, &jc.removed, a, a->pairs + i0, ka,
                                     DV_TABLE_EXAMPLE_REMOVED, 0);
            } else if (kb > ka) {
                r->rows_added += kb - ka;
                error =
                    want_example(td, &jc.added, b, b->pairs + j0, kb, DV_TABLE_EXAMPLE_ADDED, 0);
            }
            r->rows_same += ka < kb ? ka : kb;
            continue;
        }
        if (ka > 1 || kb > 1) {
            for (int w = 0; w < 2 && !error; w++) {
                size_t kn = w ? kb : ka;
                if (kn < 2)
                    continue;
                r->dup_keys[w]++;
                r->dup_rows[w] += kn;
                error = want_example(td, &jc.dup[w], w ? b : a, w ? b->pairs + j0 : a->pairs + i0,
                                     kn, DV_TABLE_EXAMPLE_DUPLICATE, kn);
            }
            continue;
        }
        if (ka && kb) {
            if (a->pairs[i0].row == b->pairs[j0].row) {
                r->rows_same++;
                continue;
            }
            r->rows_changed++;
            if (*n_changed < td->n_slots) {
                size_t slot = (*n_changed)++;
                if ((error = add_want(a, a->pairs[i0].offset, DV_TABLE_EXAMPLE_CHANGED, slot)) < 0)
                    break;
                error = add_want(b, b->pairs[j0].offset, DV_TABLE_EXAMPLE_CHANGED, slot);
            }
        } else if (ka) {
            r->rows_removed++;
            error = want_example(td, &jc.removed, a, a->pairs + i0, 1, DV_TABLE_EXAMPLE_REMOVED, 0);
        } else {
            r->rows_added++;
            error = want_example(td, &jc.added, b, b->pairs + j0, 1, DV_TABLE_EXAMPLE_ADDED, 0);
        }
    }
    return error;
}

/* ---- the report --------------------------------------------------------------------- */

/* Mark the columns on both sides (common index), by name. */
static void match_columns(table_diff *td)
{
    side *a = &td->sides[0], *b = &td->sides[1];
    td->n_common = 0;
    for (size_t j = 0; j < b->n_cols; j++)
        b->cols[j].common = -1;
    for (size_t i = 0; i < a->n_cols; i++) {
        a->cols[i].common = -1;
        int j = find_column(b, a->cols[i].name, strlen(a->cols[i].name), a->cols[i].name_hash);
        if (j >= 0) {
            a->cols[i].common = b->cols[j].common = (int)td->n_common++;
        }
    }
}

static int report_columns(table_diff *td, dv_table_report *r)
{
    side *a = &td->sides[0], *b = &td->sides[1];
    size_t n = a->n_cols + b->n_cols;
    if (!(r->columns = calloc(n ? n : 1, sizeof(*r->columns))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    int *added_used = calloc(b->n_cols ? b->n_cols : 1, sizeof(*added_used));
    if (!added_used)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < a->n_cols; i++) {
        const column *ca = &a->cols[i];
        dv_table_column *c = &r->columns[r->n_columns++];
        c->old_index = (int)i;
        c->new_index = -1;
        c->has_old = 1;
        dv_colstats_summarize(ca->stats, &c->old_stats);
        c->name = strdup(ca->name);
        if (ca->common >= 0) {
            int j = find_column(b, ca->name, strlen(ca->name), ca->name_hash);
            c->status = DV_TABLE_COLUMN_SAME;
            c->new_index = j;
            c->has_new = 1;
            added_used[j] = 1;
            dv_colstats_summarize(b->cols[j].stats, &c->new_stats);
            int error = dv_colstats_drift_of(ca->stats, b->cols[j].stats, &c->drift);
            if (error < 0) {
                free(added_used);
                return error;
            }
            if (c->drift.old_sampled < DV_TABLE_DRIFT_MIN_VALUES ||
                c->drift.new_sampled < DV_TABLE_DRIFT_MIN_VALUES)
                c->drift.test = DV_DRIFT_NONE; /* too few values to say */
            c->drifted = c->drift.test != DV_DRIFT_NONE && c->drift.psi > td->opts->drift_threshold;
        } else {
            c->status = DV_TABLE_COLUMN_REMOVED;
        }
    }
    /* A removed column whose values are mostly those of an added one, of the same type:
     * renamed. Few distinct values must agree exactly, in some row order. */
    for (size_t k = 0; k < r->n_columns; k++) {
        dv_table_column *c = &r->columns[k];
        if (c->status != DV_TABLE_COLUMN_REMOVED)
            continue;
        for (size_t j = 0; j < b->n_cols; j++) {
            if (added_used[j] || b->cols[j].common >= 0)
                continue;
            dv_colstats_summary s;
            dv_colstats_summarize(b->cols[j].stats, &s);
            if (s.nulls == s.count || s.type != c->old_stats.type)
                continue;
            int few =
                s.distinct < RENAME_MIN_DISTINCT || c->old_stats.distinct < RENAME_MIN_DISTINCT;
            if (few ? s.count != c->old_stats.count || s.fingerprint != c->old_stats.fingerprint
                    : sketch_overlap(a->cols[c->old_index].values, b->cols[j].values) <
                          RENAME_MIN_OVERLAP)
                continue;
            added_used[j] = 1;
            c->status = DV_TABLE_COLUMN_RENAMED;
            c->old_name = c->name;
            c->name = strdup(b->cols[j].name);
            c->new_index = (int)j;
            c->has_new = 1;
            c->new_stats = s;
            break;
        }
    }
    /* Reordered: the columns on both sides (renamed ones too) are in another order. */
    int last_new = -1;
    for (size_t k = 0; k < r->n_columns; k++) {
        int j = r->columns[k].has_new ? r->columns[k].new_index : -1;
        if (j < 0)
            continue;
        if (j < last_new)
            r->columns_reordered = 1;
        last_new = j;
    }
    for (size_t j = 0; j < b->n_cols; j++) {
        if (added_used[j])
            continue;
        dv_table_column *c = &r->columns[r->n_columns++];
        c->status = DV_TABLE_COLUMN_ADDED;
        c->old_index = -1;
        c->new_index = (int)j;
        c->has_new = 1;
        c->name = strdup(b->cols[j].name);
        dv_colstats_summarize(b->cols[j].stats, &c->new_stats);
    }
    free(added_used);
    for (size_t k = 0; k < r->n_columns; k++)
        if (!r->columns[k].name ||
            (r->columns[k].status == DV_TABLE_COLUMN_RENAMED && !r->columns[k].old_name))
            return dv_error_set(DV_ENOMEM, "out of memory");
    return 0;
}

/* The report column of common index c. */
static size_t report_column_of(const table_diff *td, const dv_table_report *r, size_t common)
{
    const side *a = &td->sides[0];
    for (size_t k = 0; k < r->n_columns; k++) {
        int i = r->columns[k].old_index;
        if (i >= 0 && a->cols[i].common == (int)common)
            return k;
    }
    return 0;
}

/* Compare the kept cells of changed rows: per column counts, the examples' changes, and
 * the rows whose differences are all within the tolerance. */
static int compare_changed(table_diff *td, dv_table_report *r, size_t n_slots)
{
    const side *a = &td->sides[0], *b = &td->sides[1];
    size_t n = td->n_common;
    size_t *col_of = calloc(n ? n : 1, sizeof(*col_of));
    if (!col_of)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t c = 0; c < n; c++)
        col_of[c] = report_column_of(td, r, c);
    int error = 0;
    for (size_t slot = 0; slot < n_slots && !error; slot++) {
        int differs = 0, within = 0;
        dv_table_example *ex =
            slot < td->n_text_slots ? &td->examples[td->slot_example[slot]] : NULL;
        for (size_t c = 0; c < n; c++) {
            size_t at = slot * n + c;
            uint8_t sa = a->cell_state[at], sb = b->cell_state[at];
            if (!sa && !sb)
                continue;
            if (sa && sb && a->cell_hash[at] == b->cell_hash[at])
                continue;
            dv_table_column *col = &r->columns[col_of[c]];
            if (sa == 2 && sb == 2 &&
                fabs(a->cell_number[at] - b->cell_number[at]) <= td->opts->tolerance) {
                col->cells_within_tolerance++;
                within = 1;
                continue;
            }
            col->cells_changed++;
            differs = 1;
            if (!ex)
                continue;
            dv_table_cell_change *more =
                realloc(ex->changes, (ex->n_changes + 1) * sizeof(*ex->changes));
            if (!more) {
                error = dv_error_set(DV_ENOMEM, "out of memory");
                break;
            }
            ex->changes = more;
            dv_table_cell_change *ch = &ex->changes[ex->n_changes++];
            ch->column = col_of[c];
            ch->old_value = a->cell_text[at];
            ch->new_value = b->cell_text[at];
            a->cell_text[at] = b->cell_text[at] = NULL; /* the example owns them now */
        }
        if (!differs) {
            r->rows_changed--;
            r->rows_same++;
            r->rows_within_tolerance += within;
            if (ex)
                ex->kind = 0; /* not a change after all */
        }
    }
    free(col_of);
    return error;
}

static int cmp_example(const void *x, const void *y)
{
    const dv_table_example *a = x, *b = y;
    if (a->kind != b->kind)
        return a->kind - b->kind;
    if (a->side != b->side)
        return a->side - b->side;
    uint64_t la = a->old_line ? a->old_line : a->new_line;
    uint64_t lb = b->old_line ? b->old_line : b->new_line;
    return la < lb ? -1 : la > lb;
}

static void example_release(dv_table_example *ex)
{
    free(ex->key);
    for (size_t i = 0; i < ex->n_cells; i++)
        free(ex->cells[i]);
    free(ex->cells);
    for (size_t i = 0; i < ex->n_changes; i++) {
        free(ex->changes[i].old_value);
        free(ex->changes[i].new_value);
    }
    free(ex->changes);
}

/* ---- setting up --------------------------------------------------------------------- */

/* Read each side's first record: the column names, or (no header) their number. */
static int peek_columns(table_diff *td)
{
    int error = 0;
    for (int w = 0; w < 2 && !error; w++)
        error = read_side(&td->sides[w], 0);
    if (error < 0)
        return error;
    side *a = &td->sides[0], *b = &td->sides[1];
    int header =
        !td->opts->no_header && ((a->n_peek && a->peek_header) || (b->n_peek && b->peek_header));
    for (int w = 0; w < 2 && !error; w++) {
        side *s = &td->sides[w];
        s->header = header;
        for (size_t i = 0; i < s->n_peek && !error; i++) {
            int index;
            dv_buf name = DV_BUF_INIT;
            if (header)
                error = dv_buf_puts(&name, s->peek_names[i]);
            else
                error = dv_buf_printf(&name, "%zu", i + 1);
            if (!error && find_column(s, name.ptr, name.len, name_hash_of(name.ptr, name.len)) >= 0)
                error = dv_error_set(DV_ECORRUPT, "%s: line 1: column %s is named twice",
                                     s->src->name, name.ptr);
            if (!error)
                error = add_column(&index, s, name.ptr, name.len);
            dv_buf_release(&name);
        }
    }
    return error;
}

static int resolve_keys(table_diff *td)
{
    for (int w = 0; w < 2; w++) {
        side *s = &td->sides[w];
        if (!(s->key_col = malloc((td->opts->n_keys + 1) * sizeof(*s->key_col))))
            return dv_error_set(DV_ENOMEM, "out of memory");
        for (size_t k = 0; k < td->opts->n_keys; k++) {
            const char *key = td->opts->keys[k];
            int i = find_column(s, key, strlen(key), name_hash_of(key, strlen(key)));
            if (i < 0 && td->opts->format == DV_TABLE_JSONL) {
                int error = add_column(&i, s, key, strlen(key));
                if (error < 0)
                    return error;
            }
            if (i < 0 && s->n_cols) {
                dv_buf names = DV_BUF_INIT;
                for (size_t c = 0; c < s->n_cols && c < 20; c++)
                    dv_buf_printf(&names, "%s%s", c ? ", " : "", s->cols[c].name);
                int error =
                    dv_error_set(DV_EUSAGE, "%s: no column %s; its columns are %s%s", s->src->name,
                                 key, names.ptr, s->n_cols > 20 ? ", ..." : "");
                dv_buf_release(&names);
                return error;
            }
            s->key_col[k] = i;
        }
    }
    return 0;
}

/* Slots for the cells of changed rows, within the memory bound, and the example ones. */
static int plan_slots(table_diff *td)
{
    size_t per_row = td->n_common * (sizeof(uint64_t) + sizeof(double) + 1 + sizeof(char *));
    td->n_slots = per_row ? DV_TABLE_CHANGED_CELLS_MAX_BYTES / per_row : 0;
    if (td->n_slots > UINT32_MAX)
        td->n_slots = UINT32_MAX;
    return 0;
}

static int alloc_slots(table_diff *td, size_t n_slots)
{
    size_t n = n_slots * td->n_common;
    for (int w = 0; w < 2; w++) {
        side *s = &td->sides[w];
        s->cell_hash = malloc((n ? n : 1) * sizeof(*s->cell_hash));
        s->cell_number = malloc((n ? n : 1) * sizeof(*s->cell_number));
        s->cell_state = calloc(n ? n : 1, 1);
        s->cell_text = calloc(n ? n : 1, sizeof(*s->cell_text));
        if (!s->cell_hash || !s->cell_number || !s->cell_state || !s->cell_text)
            return dv_error_set(DV_ENOMEM, "out of memory");
    }
    return 0;
}

static void side_release(side *s, size_t n_text_cells)
{
    for (size_t i = 0; i < s->n_cols; i++) {
        free(s->cols[i].name);
        free(s->cols[i].values);
        dv_colstats_free(s->cols[i].stats);
    }
    free(s->cols);
    free(s->name_map);
    free(s->key_col);
    free(s->pairs);
    free(s->wants);
    for (size_t i = 0; i < s->n_peek; i++)
        free(s->peek_names[i]);
    free(s->peek_names);
    free(s->cell_hash);
    free(s->cell_number);
    free(s->cell_state);
    if (s->cell_text)
        for (size_t i = 0; i < n_text_cells; i++)
            free(s->cell_text[i]);
    free(s->cell_text);
    dv_csv_free(s->csv);
    dv_jsonl_free(s->jsonl);
}

/* The statistics the report's summaries point into, kept with it. */
typedef struct kept_stats {
    dv_colstats **stats;
    size_t n;
} kept_stats;

static int keep_stats(dv_table_report *r, table_diff *td)
{
    kept_stats *k = calloc(1, sizeof(*k));
    size_t n = td->sides[0].n_cols + td->sides[1].n_cols;
    if (!k || !(k->stats = calloc(n ? n : 1, sizeof(*k->stats)))) {
        free(k);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    for (int w = 0; w < 2; w++)
        for (size_t i = 0; i < td->sides[w].n_cols; i++) {
            k->stats[k->n++] = td->sides[w].cols[i].stats;
            td->sides[w].cols[i].stats = NULL;
        }
    r->internal__ = k;
    return 0;
}

int dv_table_diff(dv_table_report *out, const dv_table_source *old_source,
                  const dv_table_source *new_source, const dv_table_options *opts)
{
    table_diff td;
    memset(&td, 0, sizeof(td));
    td.opts = opts;
    dv_table_report r = DV_TABLE_REPORT_INIT;
    size_t n_changed = 0;
    const dv_table_source *sources[2] = {old_source, new_source};
    for (int w = 0; w < 2; w++) {
        td.sides[w].which = w;
        td.sides[w].src = sources[w];
        td.sides[w].opts = opts;
        td.sides[w].td = &td;
    }
    r.format = opts->format;
    r.keyed = opts->n_keys > 0;
    int error = 0;
    if (opts->format != DV_TABLE_JSONL && (error = peek_columns(&td)) < 0)
        goto done;
    r.header = opts->format != DV_TABLE_JSONL && td.sides[0].header;
    if ((error = resolve_keys(&td)) < 0)
        goto done;
    match_columns(&td);
    if ((error = run_both(&td, pass1_item)) < 0)
        goto done;
    r.old_rows = td.sides[0].rows;
    r.new_rows = td.sides[1].rows;
    for (int w = 0; w < 2; w++) {
        r.empty_keys[w] = td.sides[w].empty_keys;
        memcpy(r.empty_key_lines[w], td.sides[w].empty_lines, sizeof(r.empty_key_lines[w]));
    }
    match_columns(&td); /* JSON Lines: the columns are known now */
    if ((error = plan_slots(&td)) < 0 || (error = join(&td, &r, &n_changed)) < 0)
        goto done;
    for (int w = 0; w < 2; w++) { /* the pairs have done their work */
        side *s = &td.sides[w];
        free(s->pairs);
        s->pairs = NULL;
        s->n_pairs = s->alloc_pairs = 0;
        if (s->n_wants > 1)
            qsort(s->wants, s->n_wants, sizeof(*s->wants), cmp_want);
    }
    td.n_slots = n_changed;
    td.n_text_slots = n_changed < opts->example_rows ? n_changed : opts->example_rows;
    r.rows_cells_compared = n_changed;
    if (!(td.slot_example = calloc(td.n_text_slots + 1, sizeof(*td.slot_example)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t slot = 0; slot < td.n_text_slots && !error; slot++)
        error = new_example(&td.slot_example[slot], &td, DV_TABLE_EXAMPLE_CHANGED, 0);
    if (!error)
        error = alloc_slots(&td, n_changed);
    if (!error && (td.sides[0].n_wants || td.sides[1].n_wants))
        error = run_both(&td, pass2_item);
    if (!error)
        error = report_columns(&td, &r);
    if (!error)
        error = compare_changed(&td, &r, n_changed);
    if (error < 0)
        goto done;
    size_t kept = 0;
    for (size_t i = 0; i < td.n_examples; i++) {
        if (td.examples[i].kind)
            td.examples[kept++] = td.examples[i];
        else
            example_release(&td.examples[i]);
    }
    td.n_examples = kept;
    if (kept > 1)
        qsort(td.examples, kept, sizeof(*td.examples), cmp_example);
    r.examples = td.examples;
    r.n_examples = td.n_examples;
    td.examples = NULL;
    td.n_examples = 0;
    error = keep_stats(&r, &td);
done:
    for (size_t i = 0; i < td.n_examples; i++)
        example_release(&td.examples[i]);
    free(td.examples);
    free(td.slot_example);
    for (int w = 0; w < 2; w++)
        side_release(&td.sides[w], n_changed * td.n_common);
    if (error < 0) {
        dv_table_report_release(&r);
        return error;
    }
    *out = r;
    return 0;
}

void dv_table_report_release(dv_table_report *report)
{
    if (!report)
        return;
    for (size_t i = 0; i < report->n_columns; i++) {
        free(report->columns[i].name);
        free(report->columns[i].old_name);
    }
    free(report->columns);
    for (size_t i = 0; i < report->n_examples; i++)
        example_release(&report->examples[i]);
    free(report->examples);
    kept_stats *k = report->internal__;
    if (k) {
        for (size_t i = 0; i < k->n; i++)
            dv_colstats_free(k->stats[i]);
        free(k->stats);
        free(k);
    }
    memset(report, 0, sizeof(*report));
}

const char *dv_table_format_name(int format)
{
    switch (format) {
    case DV_TABLE_CSV:
        return "csv";
    case DV_TABLE_TSV:
        return "tsv";
    default:
        return "jsonl";
    }
}
