/* Tests for core/table/csv.c: the CSV and TSV dialect, where records start, what the
 * errors say, and that records do not depend on how the input is split. */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/table/csv.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the callback saw: a readable text (fields joined by '|', a quoted one as q:...,
 * a record a line) and an exact one (lines, offsets, lengths and flags too). */
typedef struct seen {
    dv_buf text;
    dv_buf exact;
    size_t n_records;
    uint64_t lines[16];
    uint64_t offsets[16];
    int stop_at; /* return -42 from this record (1-based), if set */
    const char *piece;
    size_t piece_len;
    int all_in_piece; /* every field pointed into piece */
} seen;

static int collect(void *ctx, const dv_csv_record *record)
{
    seen *s = ctx;
    cr_assert_geq(record->n_fields, 1);
    if (s->n_records < 16) {
        s->lines[s->n_records] = record->line;
        s->offsets[s->n_records] = record->offset;
    }
    s->n_records++;
    dv_buf_printf(&s->exact, "%llu %llu %zu\n", (unsigned long long)record->line,
                  (unsigned long long)record->offset, record->n_fields);
    for (size_t i = 0; i < record->n_fields; i++) {
        const dv_csv_field *f = &record->fields[i];
        cr_assert_not_null(f->ptr);
        if (i)
            dv_buf_putc(&s->text, '|');
        if (f->quoted)
            dv_buf_puts(&s->text, "q:");
        dv_buf_put(&s->text, f->ptr, f->len);
        dv_buf_printf(&s->exact, "%d %zu:", f->quoted, f->len);
        dv_buf_put(&s->exact, f->ptr, f->len);
        dv_buf_putc(&s->exact, '\n');
        if (s->piece && (f->ptr < s->piece || f->ptr + f->len > s->piece + s->piece_len))
            s->all_in_piece = 0;
    }
    dv_buf_putc(&s->text, '\n');
    cr_assert(!dv_buf_oom(&s->text) && !dv_buf_oom(&s->exact));
    return s->stop_at && s->n_records == (size_t)s->stop_at ? -42 : 0;
}

static void seen_release(seen *s)
{
    dv_buf_release(&s->text);
    dv_buf_release(&s->exact);
}

static seen seen_init(void)
{
    seen s;
    memset(&s, 0, sizeof(s));
    s.text = (dv_buf)DV_BUF_INIT;
    s.exact = (dv_buf)DV_BUF_INIT;
    return s;
}

/* Read input in pieces cut at the given lengths (the rest in one piece); the error. */
static int read_cut(seen *s, char delimiter, const char *input, size_t len, const size_t *cuts,
                    size_t n_cuts)
{
    dv_csv *csv;
    cr_assert_eq(dv_csv_new(&csv, delimiter, "t.csv"), 0);
    size_t at = 0;
    int error = 0;
    for (size_t i = 0; i <= n_cuts && !error; i++) {
        size_t take = i < n_cuts ? cuts[i] : len - at;
        if (take > len - at)
            take = len - at;
        error = dv_csv_push(csv, input + at, take, collect, s);
        at += take;
    }
    if (!error)
        error = dv_csv_finish(csv, collect, s);
    dv_csv_free(csv);
    return error;
}

/* Read the text of input (all in one piece) and compare it with expected. */
static void assert_reads(char delimiter, const char *input, const char *expected)
{
    seen s = seen_init();
    int error = read_cut(&s, delimiter, input, strlen(input), NULL, 0);
    cr_assert_eq(error, 0, "reading '%s': %s", input, dv_error_last());
    cr_assert_str_eq(s.text.ptr, expected, "reading '%s'", input);
    seen_release(&s);
}

static void read_bytewise(seen *s, const char *input, size_t len, int *error)
{
    size_t *cuts = malloc((len + 1) * sizeof(*cuts));
    cr_assert_not_null(cuts);
    for (size_t i = 0; i < len; i++)
        cuts[i] = 1;
    *error = read_cut(s, ',', input, len, cuts, len);
    free(cuts);
}

/* Reading input must fail with DV_ECORRUPT and exactly message, however it is split. */
static void assert_rejected_len(const char *input, size_t len, const char *message)
{
    seen whole = seen_init(), bytewise = seen_init();
    dv_error_clear();
    int error = read_cut(&whole, ',', input, len, NULL, 0);
    cr_assert_eq(error, DV_ECORRUPT, "'%s' should be refused, got %d", input, error);
    cr_assert_str_eq(dv_error_last(), message);
    dv_error_clear();
    read_bytewise(&bytewise, input, len, &error);
    cr_assert_eq(error, DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), message, "pushed a byte at a time");
    cr_assert_str_eq(whole.exact.ptr, bytewise.exact.ptr, "the same records came before");
    seen_release(&whole);
    seen_release(&bytewise);
}

static void assert_rejected(const char *input, const char *message)
{
    assert_rejected_len(input, strlen(input), message);
}

Test(csv, splits_fields_at_the_delimiter_and_records_at_lf)
{
    assert_reads(',', "a,b,c\n1,2,3\n", "a|b|c\n1|2|3\n");
}

Test(csv, a_quoted_field_holds_delimiters_line_ends_and_doubled_quotes)
{
    assert_reads(',', "\"a,b\",\"line\nnext\",\"say \"\"hi\"\"\"\n",
                 "q:a,b|q:line\nnext|q:say \"hi\"\n");
    assert_reads(',', "\"cr\r\nlf\",\"\"\"\"\n", "q:cr\r\nlf|q:\"\n");
}

Test(csv, crlf_ends_a_record_as_lf_does)
{
    assert_reads(',', "a,b\r\nc,d\r\n", "a|b\nc|d\n");
    assert_reads(',', "a,b\r\nc,d\ne,f\r\n", "a|b\nc|d\ne|f\n");
    assert_reads(',', "\"a\"\r\n\"b\"\r\n", "q:a\nq:b\n");
}

Test(csv, a_cr_that_no_lf_follows_is_data)
{
    assert_reads(',', "a\rb,c\n", "a\rb|c\n");
    assert_reads(',', "a\r\r\n", "a\r\n");
    assert_reads(',', "x,\r", "x|\r\n");
}

Test(csv, the_last_record_needs_no_line_end)
{
    assert_reads(',', "a,b\nc,d", "a|b\nc|d\n");
    assert_reads(',', "a,\"b\"", "a|q:b\n");
    assert_reads(',', "a,", "a|\n");
}

Test(csv, a_final_line_end_adds_no_empty_record)
{
    seen s = seen_init();
    cr_assert_eq(read_cut(&s, ',', "a\n", 2, NULL, 0), 0);
    cr_assert_eq(s.n_records, 1);
    seen_release(&s);
    s = seen_init();
    cr_assert_eq(read_cut(&s, ',', "", 0, NULL, 0), 0);
    cr_assert_eq(s.n_records, 0, "empty input has no records");
    seen_release(&s);
}

Test(csv, a_byte_order_mark_at_the_start_is_skipped)
{
    assert_reads(',',
                 "\xEF\xBB\xBF"
                 "a,b\n",
                 "a|b\n");
    /* only at the very start */
    assert_reads(',',
                 "a,\xEF\xBB\xBF"
                 "b\n",
                 "a|\xEF\xBB\xBF"
                 "b\n");
    seen s = seen_init();
    cr_assert_eq(read_cut(&s, ',',
                          "\xEF\xBB\xBF"
                          "a\nb\n",
                          7, NULL, 0),
                 0);
    cr_assert_eq(s.offsets[0], 3, "offsets count the mark");
    cr_assert_eq(s.offsets[1], 5);
    seen_release(&s);
    s = seen_init();
    size_t cuts[] = {1, 1, 1};
    cr_assert_eq(read_cut(&s, ',',
                          "\xEF\xBB\xBF"
                          "a\n",
                          5, cuts, 3),
                 0);
    cr_assert_str_eq(s.text.ptr, "a\n", "a mark pushed a byte at a time");
    seen_release(&s);
    s = seen_init();
    cr_assert_eq(read_cut(&s, ',', "\xEF\xBB\xBF", 3, NULL, 0), 0);
    cr_assert_eq(s.n_records, 0, "a mark alone is an empty input");
    seen_release(&s);
}

Test(csv, a_first_byte_like_a_mark_is_data_when_the_rest_differs)
{
    assert_reads(',', "\xEF\xBC\xA1,b\n", "\xEF\xBC\xA1|b\n"); /* U+FF21 */
    seen s = seen_init();
    size_t cuts[] = {1, 1};
    cr_assert_eq(read_cut(&s, ',', "\xEF\xBC\xA1,b\n", 6, cuts, 2), 0);
    cr_assert_str_eq(s.text.ptr, "\xEF\xBC\xA1|b\n");
    seen_release(&s);
    assert_rejected("\xEF\xBB", "t.csv: line 1, column 1: invalid UTF-8");
}

Test(csv, empty_fields_and_empty_lines)
{
    assert_reads(',', ",,\n", "||\n");
    assert_reads(',', "a\n\nb\n", "a\n\nb\n");
    assert_reads(',', "\n", "\n");
    assert_reads(',', "\r\n\r\n", "\n\n");
    seen s = seen_init();
    cr_assert_eq(read_cut(&s, ',', "a\n\n", 3, NULL, 0), 0);
    cr_assert_eq(s.n_records, 2, "an empty line is a record of one empty field");
    seen_release(&s);
}

Test(csv, an_empty_quoted_field_is_quoted_and_an_empty_one_is_not)
{
    assert_reads(',', "\"\",,\"x\"\n", "q:||q:x\n");
}

Test(csv, tsv_and_other_delimiters)
{
    assert_reads('\t', "a\tb,c\t\"d\te\"\n", "a|b,c|q:d\te\n");
    assert_reads(';', "a;b,c\n", "a|b,c\n");
    assert_reads('|', "1|2\n", "1|2\n");
}

Test(csv, a_delimiter_that_cannot_split_fields_is_refused)
{
    dv_csv *csv = (dv_csv *)1;
    cr_assert_eq(dv_csv_new(&csv, '"', "t.csv"), DV_EUSAGE);
    cr_assert_null(csv);
    cr_assert_eq(dv_csv_new(&csv, '\n', "t.csv"), DV_EUSAGE);
    cr_assert_eq(dv_csv_new(&csv, '\r', "t.csv"), DV_EUSAGE);
    cr_assert_eq(dv_csv_new(&csv, (char)0xC3, "t.csv"), DV_EUSAGE);
    dv_csv_free(NULL);
}

Test(csv, each_record_knows_its_line_and_offset)
{
    const char input[] = "a,b\n\"x\ny\",z\r\n\nlast";
    seen s = seen_init();
    cr_assert_eq(read_cut(&s, ',', input, strlen(input), NULL, 0), 0);
    cr_assert_eq(s.n_records, 4);
    uint64_t lines[] = {1, 2, 4, 5}, offsets[] = {0, 4, 13, 14};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(s.lines[i], lines[i], "record %d", i);
        cr_assert_eq(s.offsets[i], offsets[i], "record %d", i);
    }
    seen_release(&s);
}

Test(csv, counts_the_lines_read)
{
    dv_csv *csv;
    seen s = seen_init();
    cr_assert_eq(dv_csv_new(&csv, ',', "t.csv"), 0);
    cr_assert_eq(dv_csv_lines(csv), 0);
    cr_assert_eq(dv_csv_push(csv, "a\n\"b\nc\"\n", 8, collect, &s), 0);
    cr_assert_eq(dv_csv_lines(csv), 3);
    cr_assert_eq(dv_csv_push(csv, "d", 1, collect, &s), 0);
    cr_assert_eq(dv_csv_lines(csv), 4, "a last line without its end counts");
    cr_assert_eq(dv_csv_finish(csv, collect, &s), 0);
    cr_assert_eq(dv_csv_lines(csv), 4);
    dv_csv_free(csv);
    seen_release(&s);
}

Test(csv, fields_inside_one_piece_point_into_the_callers_bytes)
{
    const char input[] = "alpha,\"beta\",,gamma\n";
    seen s = seen_init();
    s.piece = input;
    s.piece_len = strlen(input);
    s.all_in_piece = 1;
    cr_assert_eq(read_cut(&s, ',', input, strlen(input), NULL, 0), 0);
    cr_assert(s.all_in_piece, "no copy of a record that lies in one piece");
    cr_assert_str_eq(s.text.ptr, "alpha|q:beta||gamma\n");
    seen_release(&s);
}

Test(csv, valid_utf8_of_every_length_is_accepted)
{
    assert_reads(',', "\xC3\xA9,\xE2\x82\xAC,\xF0\x9F\x98\x80,\xF4\x8F\xBF\xBF,\xED\x9F\xBF\n",
                 "\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80|\xF4\x8F\xBF\xBF|\xED\x9F\xBF\n");
    assert_reads(',', "\"\xC3\xA9\"\n", "q:\xC3\xA9\n");
}

Test(csv, invalid_utf8_is_refused_at_its_character)
{
    assert_rejected("ab,\xC3\n", "t.csv: line 1, column 4: invalid UTF-8");
    assert_rejected("\xC0\xAF\n", "t.csv: line 1, column 1: invalid UTF-8");         /* overlong */
    assert_rejected("a\xE0\x80\xAF\n", "t.csv: line 1, column 2: invalid UTF-8");    /* overlong */
    assert_rejected("\xF0\x80\x80\xAF", "t.csv: line 1, column 1: invalid UTF-8");   /* overlong */
    assert_rejected("x\n\xED\xA0\x80\n", "t.csv: line 2, column 1: invalid UTF-8");  /* surrogate */
    assert_rejected("\xF4\x90\x80\x80\n", "t.csv: line 1, column 1: invalid UTF-8"); /* > 10FFFF */
    assert_rejected("\xF5\x80\x80\x80\n", "t.csv: line 1, column 1: invalid UTF-8");
    assert_rejected("\x80", "t.csv: line 1, column 1: invalid UTF-8");
    assert_rejected("\xFF", "t.csv: line 1, column 1: invalid UTF-8");
    assert_rejected("\"\xC3\xA9\xE2\x82\"\n", "t.csv: line 1, column 3: invalid UTF-8");
    assert_rejected("a\xE2\x82", "t.csv: line 1, column 2: invalid UTF-8"); /* cut at the end */
}

Test(csv, columns_count_characters_not_bytes)
{
    assert_rejected("\xC3\xA9\xE2\x82\xAC,\xF0\x9F\x98\x80\"\n",
                    "t.csv: line 1, column 5: quote inside an unquoted field");
}

Test(csv, a_quote_inside_an_unquoted_field_is_refused)
{
    assert_rejected("a,b\"c\n", "t.csv: line 1, column 4: quote inside an unquoted field");
    assert_rejected("ok\na,b\"\n", "t.csv: line 2, column 4: quote inside an unquoted field");
}

Test(csv, only_a_delimiter_or_line_end_may_follow_a_closing_quote)
{
    assert_rejected("\"a\"b\n",
                    "t.csv: line 1, column 4: unexpected character after a closing quote");
    assert_rejected("x,\"a\" ,y\n",
                    "t.csv: line 1, column 6: unexpected character after a closing quote");
    assert_rejected("\"a\"\rb\n",
                    "t.csv: line 1, column 4: unexpected character after a closing quote");
    assert_rejected("\"a\"\r",
                    "t.csv: line 1, column 4: unexpected character after a closing quote");
}

Test(csv, errors_name_the_line_of_the_character_not_of_the_record)
{
    assert_rejected("a,\"one\ntwo\nthree\"x\n",
                    "t.csv: line 3, column 7: unexpected character after a closing quote");
    assert_rejected("a,\"one\n\xC3\xA9\xFF\"\n", "t.csv: line 2, column 2: invalid UTF-8");
}

Test(csv, a_quoted_field_never_closed_is_refused_where_it_opens)
{
    assert_rejected("a,b\nc,\xC3\xA9,\"open\nand on\n",
                    "t.csv: line 2, column 5: quoted field never closed");
    assert_rejected("\"", "t.csv: line 1, column 1: quoted field never closed");
}

Test(csv, a_record_of_too_many_fields_is_refused)
{
    size_t len = DV_CSV_FIELDS_MAX + 1;
    char *input = malloc(len);
    cr_assert_not_null(input);
    memset(input, ',', len);
    input[len - 1] = '\n';
    /* 65535 commas make 65536 fields: the limit, accepted */
    seen s = seen_init();
    cr_assert_eq(read_cut(&s, ',', input + 1, len - 1, NULL, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n_records, 1);
    seen_release(&s);
    /* one more is refused at the delimiter that would begin field 65537 */
    char message[128];
    snprintf(message, sizeof(message), "t.csv: line 1, column %u: record of more than %u fields",
             DV_CSV_FIELDS_MAX, DV_CSV_FIELDS_MAX);
    assert_rejected_len(input, len, message);
    free(input);
}

/* Push input in pieces of piece_len; the error. */
static int read_in_pieces(seen *s, const char *input, size_t len, size_t piece_len)
{
    dv_csv *csv;
    cr_assert_eq(dv_csv_new(&csv, ',', "t.csv"), 0);
    int error = 0;
    for (size_t at = 0; at < len && !error; at += piece_len)
        error =
            dv_csv_push(csv, input + at, len - at < piece_len ? len - at : piece_len, collect, s);
    if (!error)
        error = dv_csv_finish(csv, collect, s);
    dv_csv_free(csv);
    return error;
}

Test(csv, a_record_over_the_size_limit_is_refused_at_its_first_byte_past_it)
{
    /* "ab\n" then one record of 2047 x and a comma, again and again, going past the limit */
    size_t len = 3 + DV_CSV_RECORD_MAX_BYTES + 16;
    char *input = malloc(len);
    cr_assert_not_null(input);
    memcpy(input, "ab\n", 3);
    for (size_t i = 3; i < len; i++)
        input[i] = (i - 3) % 2048 == 2047 ? ',' : 'x';
    input[len - 1] = '\n';
    /* the record with its line end fits exactly */
    input[3 + DV_CSV_RECORD_MAX_BYTES - 1] = '\n';
    seen s = seen_init();
    cr_assert_eq(read_in_pieces(&s, input, 3 + DV_CSV_RECORD_MAX_BYTES, 1 << 20), 0, "%s",
                 dv_error_last());
    cr_assert_eq(s.n_records, 2);
    seen_release(&s);
    input[3 + DV_CSV_RECORD_MAX_BYTES - 1] = ',';

    char message[128];
    snprintf(message, sizeof(message), "t.csv: line 2, column %u: record longer than %u bytes",
             DV_CSV_RECORD_MAX_BYTES + 1, DV_CSV_RECORD_MAX_BYTES);
    size_t piece_lens[] = {len, 1 << 20, 4093};
    for (size_t i = 0; i < sizeof(piece_lens) / sizeof(piece_lens[0]); i++) {
        s = seen_init();
        dv_error_clear();
        cr_assert_eq(read_in_pieces(&s, input, len, piece_lens[i]), DV_ECORRUPT);
        cr_assert_str_eq(dv_error_last(), message, "pieces of %zu bytes: %s", piece_lens[i],
                         dv_error_last());
        cr_assert_eq(s.n_records, 1, "the record before is read");
        seen_release(&s);
    }
    /* the same inside quotes, where the line end cannot stop it */
    input[3] = '"';
    input[len - 2] = '"';
    for (size_t i = 4; i < len - 2; i++)
        if (input[i] == ',')
            input[i] = '\n';
    snprintf(message, sizeof(message), "t.csv: line %u, column 1: record longer than %u bytes",
             2 + DV_CSV_RECORD_MAX_BYTES / 2048, DV_CSV_RECORD_MAX_BYTES);
    for (size_t i = 0; i < sizeof(piece_lens) / sizeof(piece_lens[0]); i++) {
        s = seen_init();
        dv_error_clear();
        cr_assert_eq(read_in_pieces(&s, input, len, piece_lens[i]), DV_ECORRUPT);
        cr_assert_str_eq(dv_error_last(), message, "pieces of %zu bytes: %s", piece_lens[i],
                         dv_error_last());
        seen_release(&s);
    }
    free(input);
}

Test(csv, the_size_limit_does_not_depend_on_how_the_input_is_split)
{
    /* a record whose last characters straddle the limit, cut in pieces around it */
    static const char *const tails[] = {"\r\n", "\xC3\xA9\n", "\r\rb\n", "\"\"\"\n", "\"\r\n"};
    size_t len = DV_CSV_RECORD_MAX_BYTES + 8;
    char *input = malloc(len);
    cr_assert_not_null(input);
    for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
        int quoted = tails[t][0] == '"';
        for (size_t before = 0; before < 4; before++) {
            /* the tail begins before bytes before the limit */
            size_t tail_len = strlen(tails[t]), at = DV_CSV_RECORD_MAX_BYTES - before;
            memset(input, 'x', at);
            for (size_t i = 2047; i < at; i += 2048)
                input[i] = quoted ? '\n' : ',';
            input[0] = quoted ? '"' : 'x';
            memcpy(input + at, tails[t], tail_len);
            size_t input_len = at + tail_len;
            seen whole = seen_init();
            dv_error_clear();
            int error = read_cut(&whole, ',', input, input_len, NULL, 0);
            char message[256];
            snprintf(message, sizeof(message), "%s", error ? dv_error_last() : "");
            for (size_t cut = DV_CSV_RECORD_MAX_BYTES - 2; cut <= DV_CSV_RECORD_MAX_BYTES + 1;
                 cut++) {
                size_t cuts[] = {cut - 1, 1, 1};
                seen split = seen_init();
                dv_error_clear();
                cr_assert_eq(read_cut(&split, ',', input, input_len, cuts, 3), error,
                             "tail %zu, %zu before the limit, cut at %zu", t, before, cut);
                if (error)
                    cr_assert_str_eq(dv_error_last(), message, "tail %zu, %zu before, cut at %zu",
                                     t, before, cut);
                cr_assert_eq(split.exact.len, whole.exact.len);
                cr_assert(!memcmp(split.exact.ptr, whole.exact.ptr, whole.exact.len));
                seen_release(&split);
            }
            seen_release(&whole);
        }
    }
    free(input);
}

Test(csv, an_error_sticks_and_nothing_more_is_read)
{
    dv_csv *csv;
    seen s = seen_init();
    cr_assert_eq(dv_csv_new(&csv, ',', "t.csv"), 0);
    cr_assert_eq(dv_csv_push(csv, "a\nb\"\n", 5, collect, &s), DV_ECORRUPT);
    char first[256];
    snprintf(first, sizeof(first), "%s", dv_error_last());
    cr_assert_str_eq(first, "t.csv: line 2, column 2: quote inside an unquoted field");
    dv_error_clear();
    cr_assert_eq(dv_csv_push(csv, "c\n", 2, collect, &s), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), first);
    dv_error_clear();
    cr_assert_eq(dv_csv_finish(csv, collect, &s), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), first);
    cr_assert_eq(s.n_records, 1);
    dv_csv_free(csv);
    seen_release(&s);
}

Test(csv, a_failed_finish_sticks_too)
{
    dv_csv *csv;
    seen s = seen_init();
    cr_assert_eq(dv_csv_new(&csv, ',', "t.csv"), 0);
    cr_assert_eq(dv_csv_push(csv, "a,\"open", 7, collect, &s), 0);
    cr_assert_eq(dv_csv_finish(csv, collect, &s), DV_ECORRUPT);
    dv_error_clear();
    cr_assert_eq(dv_csv_push(csv, "\"\n", 2, collect, &s), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), "t.csv: line 1, column 3: quoted field never closed");
    cr_assert_eq(dv_csv_finish(csv, collect, &s), DV_ECORRUPT);
    cr_assert_eq(s.n_records, 0);
    dv_csv_free(csv);
    seen_release(&s);
}

Test(csv, the_callbacks_error_stops_the_reader_and_is_returned)
{
    dv_csv *csv;
    seen s = seen_init();
    s.stop_at = 2;
    cr_assert_eq(dv_csv_new(&csv, ',', "t.csv"), 0);
    cr_assert_eq(dv_csv_push(csv, "a\nb\nc\n", 6, collect, &s), -42);
    cr_assert_eq(s.n_records, 2);
    cr_assert_eq(dv_csv_push(csv, "d\n", 2, collect, &s), -42);
    cr_assert_eq(dv_csv_finish(csv, collect, &s), -42);
    cr_assert_eq(s.n_records, 2);
    dv_csv_free(csv);
    seen_release(&s);
}

/* Text with every construct: quotes, "", CR, CRLF, LF inside quotes, empty fields and
 * lines, multibyte characters; a BOM at the start. */
static size_t make_mixed(char *out, size_t size, uint64_t seed)
{
    static const char *const pieces[] = {
        "plain",
        "\"quoted\"",
        "\"with,comma\"",
        "\"two\nlines\"",
        "\"say \"\"hi\"\"\"",
        "",
        "\"\"",
        "caf\xC3\xA9",
        "\xF0\x9F\x98\x80",
        "\"\xE2\x82\xAC\r\n\"",
        "a\rb",
        "12345678901234567890",
    };
    uint64_t state = seed;
    size_t len = 0;
    memcpy(out, "\xEF\xBB\xBF", 3);
    len = 3;
    while (len + 64 < size) {
        uint64_t r = splitmix64(&state);
        const char *piece = pieces[r % (sizeof(pieces) / sizeof(pieces[0]))];
        memcpy(out + len, piece, strlen(piece));
        len += strlen(piece);
        switch ((r >> 8) % 8) {
        case 0:
            out[len++] = '\n';
            break;
        case 1:
            out[len++] = '\r';
            out[len++] = '\n';
            break;
        default:
            out[len++] = ',';
        }
    }
    return len;
}

Test(csv, records_do_not_depend_on_how_the_input_is_split)
{
    static char input[1 << 16];
    size_t len = make_mixed(input, sizeof(input), 7);
    seen whole = seen_init();
    cr_assert_eq(read_cut(&whole, ',', input, len, NULL, 0), 0, "%s", dv_error_last());
    cr_assert_gt(whole.n_records, 100);

    seen bytewise = seen_init();
    int error;
    read_bytewise(&bytewise, input, len, &error);
    cr_assert_eq(error, 0, "%s", dv_error_last());
    cr_assert_str_eq(bytewise.exact.ptr, whole.exact.ptr, "pushed a byte at a time");
    seen_release(&bytewise);

    uint64_t state = 99;
    for (int round = 0; round < 50; round++) {
        size_t cuts[64];
        for (size_t i = 0; i < 64; i++)
            cuts[i] = splitmix64(&state) % (round < 25 ? 16 : 4096);
        seen random = seen_init();
        cr_assert_eq(read_cut(&random, ',', input, len, cuts, 64), 0, "%s", dv_error_last());
        cr_assert_str_eq(random.exact.ptr, whole.exact.ptr, "random cuts, round %d", round);
        seen_release(&random);
    }
    seen_release(&whole);
}
