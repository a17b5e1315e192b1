/* Tests for core/table/jsonl.c: what each kind of value becomes, what is refused and where,
 * and that rows do not depend on how the input is split. */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/table/jsonl.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the callback saw: a readable text (key:KIND:value, '|' between members, a row a
 * line; KIND is S string, N number, B bool, Z null, J nested) and an exact one. */
typedef struct seen {
    dv_buf text;
    dv_buf exact;
    size_t n_rows;
    uint64_t lines[16];
    uint64_t offsets[16];
    int stop_at; /* return -42 from this row (1-based), if set */
} seen;

static int collect(void *ctx, const dv_jsonl_row *row)
{
    static const char kinds[] = {'Z', 'S', 'N', 'B', 'J'};
    seen *s = ctx;
    if (s->n_rows < 16) {
        s->lines[s->n_rows] = row->line;
        s->offsets[s->n_rows] = row->offset;
    }
    s->n_rows++;
    dv_buf_printf(&s->exact, "%llu %llu %zu\n", (unsigned long long)row->line,
                  (unsigned long long)row->offset, row->n_members);
    for (size_t i = 0; i < row->n_members; i++) {
        const dv_jsonl_member *m = &row->members[i];
        cr_assert_geq(m->kind, DV_JSONL_NULL);
        cr_assert_leq(m->kind, DV_JSONL_NESTED);
        cr_assert_not_null(m->key);
        if (m->kind == DV_JSONL_NULL) {
            cr_assert_null(m->value);
            cr_assert_eq(m->value_len, 0);
        } else {
            cr_assert_not_null(m->value);
        }
        if (i)
            dv_buf_putc(&s->text, '|');
        dv_buf_put(&s->text, m->key, m->key_len);
        dv_buf_printf(&s->text, ":%c", kinds[m->kind]);
        if (m->kind != DV_JSONL_NULL) {
            dv_buf_putc(&s->text, ':');
            dv_buf_put(&s->text, m->value, m->value_len);
        }
        dv_buf_printf(&s->exact, "%d %zu %zu:", m->kind, m->key_len, m->value_len);
        dv_buf_put(&s->exact, m->key, m->key_len);
        dv_buf_putc(&s->exact, '=');
        if (m->value)
            dv_buf_put(&s->exact, m->value, m->value_len);
        dv_buf_putc(&s->exact, '\n');
    }
    dv_buf_putc(&s->text, '\n');
    cr_assert(!dv_buf_oom(&s->text) && !dv_buf_oom(&s->exact));
    return s->stop_at && s->n_rows == (size_t)s->stop_at ? -42 : 0;
}

static seen seen_init(void)
{
    seen s;
    memset(&s, 0, sizeof(s));
    s.text = (dv_buf)DV_BUF_INIT;
    s.exact = (dv_buf)DV_BUF_INIT;
    return s;
}

static void seen_release(seen *s)
{
    dv_buf_release(&s->text);
    dv_buf_release(&s->exact);
}

/* Read input in pieces of piece_len bytes (0: all at once); the error. */
static int read_pieces(seen *s, const char *input, size_t len, size_t piece_len)
{
    dv_jsonl *jsonl;
    cr_assert_eq(dv_jsonl_new(&jsonl, "t.jsonl"), 0);
    int error = 0;
    if (!piece_len)
        piece_len = len ? len : 1;
    for (size_t at = 0; at < len && !error; at += piece_len)
        error = dv_jsonl_push(jsonl, input + at, len - at < piece_len ? len - at : piece_len,
                              collect, s);
    if (!error)
        error = dv_jsonl_finish(jsonl, collect, s);
    dv_jsonl_free(jsonl);
    return error;
}

static void assert_reads_len(const char *input, size_t len, const char *expected,
                             size_t expected_len)
{
    seen s = seen_init(), bytewise = seen_init();
    int error = read_pieces(&s, input, len, 0);
    cr_assert_eq(error, 0, "reading '%s': %s", input, dv_error_last());
    cr_assert_eq(s.text.len, expected_len, "reading '%s' gave '%s'", input, s.text.ptr);
    cr_assert(!memcmp(s.text.ptr, expected, expected_len), "reading '%s' gave '%s'", input,
              s.text.ptr);
    cr_assert_eq(read_pieces(&bytewise, input, len, 1), 0);
    cr_assert_str_eq(bytewise.exact.ptr, s.exact.ptr, "pushed a byte at a time");
    seen_release(&s);
    seen_release(&bytewise);
}

static void assert_reads(const char *input, const char *expected)
{
    assert_reads_len(input, strlen(input), expected, strlen(expected));
}

/* Reading input must fail with DV_ECORRUPT and exactly message, however it is split. */
static void assert_rejected_len(const char *input, size_t len, const char *message)
{
    seen whole = seen_init(), bytewise = seen_init();
    dv_error_clear();
    int error = read_pieces(&whole, input, len, 0);
    cr_assert_eq(error, DV_ECORRUPT, "'%s' should be refused, got %d", input, error);
    cr_assert_str_eq(dv_error_last(), message, "reading '%s'", input);
    dv_error_clear();
    cr_assert_eq(read_pieces(&bytewise, input, len, 1), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), message, "pushed a byte at a time");
    cr_assert_str_eq(whole.exact.ptr, bytewise.exact.ptr, "the same rows came before");
    seen_release(&whole);
    seen_release(&bytewise);
}

static void assert_rejected(const char *input, const char *message)
{
    assert_rejected_len(input, strlen(input), message);
}

Test(jsonl, each_kind_of_value_becomes_its_cell)
{
    assert_reads("{\"s\":\"text\",\"n\":-12.5e+3,\"t\":true,\"f\":false,\"z\":null,"
                 "\"o\":{\"a\":1},\"a\":[1,\"x\"]}\n",
                 "s:S:text|n:N:-12.5e+3|t:B:true|f:B:false|z:Z|o:J:{\"a\":1}|a:J:[1,\"x\"]\n");
}

Test(jsonl, numbers_are_their_text_as_written)
{
    assert_reads("{\"a\":0,\"b\":-0,\"c\":1.50,\"d\":1E5,\"e\":2e-07,\"f\":123456789012345678901}",
                 "a:N:0|b:N:-0|c:N:1.50|d:N:1E5|e:N:2e-07|f:N:123456789012345678901\n");
}

Test(jsonl, strings_are_unescaped_to_utf8)
{
    assert_reads("{\"e\":\"\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}", "e:S:\" \\ / \b\f\n\r\t\n");
    assert_reads("{\"u\":\"\\u00e9\\u20AC caf\xC3\xA9\"}",
                 "u:S:\xC3\xA9\xE2\x82\xAC caf\xC3\xA9\n");
    assert_reads("{\"\\u006b\\u0065\\u0079\":1}", "key:N:1\n");
    static const char nul[] = "n:S:a\0b\n";
    assert_reads_len("{\"n\":\"a\\u0000b\"}", 16, nul, sizeof(nul) - 1);
}

Test(jsonl, a_surrogate_pair_is_one_character)
{
    assert_reads("{\"p\":\"\\ud83d\\ude00\",\"q\":\"\\uDBFF\\uDFFF\"}",
                 "p:S:\xF0\x9F\x98\x80|q:S:\xF4\x8F\xBF\xBF\n");
}

Test(jsonl, a_lone_surrogate_escape_is_refused)
{
    assert_rejected("{\"p\":\"ab\\ud800\"}",
                    "t.jsonl: line 1, column 9: unpaired surrogate escape");
    assert_rejected("{\"p\":\"\\udc00\"}", "t.jsonl: line 1, column 7: unpaired surrogate escape");
    assert_rejected("{\"p\":\"\\ud800\\u0041\"}",
                    "t.jsonl: line 1, column 7: unpaired surrogate escape");
    assert_rejected("{\"p\":\"\\ud800\\n\"}",
                    "t.jsonl: line 1, column 7: unpaired surrogate escape");
}

Test(jsonl, nested_values_are_compact_with_strings_as_written)
{
    assert_reads(
        "{\"a\" : [ 1 , 2 , { \"b\" : \"x y\" , \"c\" : null } ] , \"d\" : { } ,"
        " \"e\":[ ], \"f\": {\"k\": \"\\u00e9 \\n\"}}",
        "a:J:[1,2,{\"b\":\"x y\",\"c\":null}]|d:J:{}|e:J:[]|f:J:{\"k\":\"\\u00e9 \\n\"}\n");
    assert_reads("\t{ \"a\":[[[true]],false] }\r", "a:J:[[[true]],false]\n");
}

Test(jsonl, a_key_written_twice_is_refused)
{
    assert_rejected("{\"a\":1,\"b\":2,\"a\":3}", "t.jsonl: line 1, column 14: duplicate key \"a\"");
    assert_rejected("{\"a\":1,\"\\u0061\":2}",
                    "t.jsonl: line 1, column 8: duplicate key \"\\u0061\"");
    assert_rejected("{\"o\":{\"x\":1,\"x\":2}}", "t.jsonl: line 1, column 13: duplicate key \"x\"");
    assert_rejected("{\"o\":[{\"x\":1},{\"y\":1,\"y\":2}]}",
                    "t.jsonl: line 1, column 22: duplicate key \"y\"");
    /* the same key in different objects is fine */
    assert_reads("{\"a\":{\"x\":1},\"b\":{\"x\":{\"x\":2}},\"x\":3}",
                 "a:J:{\"x\":1}|b:J:{\"x\":{\"x\":2}}|x:N:3\n");
}

Test(jsonl, a_key_written_twice_in_a_large_object_is_refused)
{
    dv_buf line = DV_BUF_INIT;
    dv_buf_putc(&line, '{');
    for (int i = 0; i < 1000; i++)
        dv_buf_printf(&line, "\"k%d\":%d,", i, i);
    size_t column = line.len + 1;
    dv_buf_puts(&line, "\"k500\":0}\n");
    char message[128];
    snprintf(message, sizeof(message), "t.jsonl: line 1, column %zu: duplicate key \"k500\"",
             column);
    assert_rejected(line.ptr, message);
    dv_buf_release(&line);
}

Test(jsonl, a_long_duplicate_key_is_named_in_part)
{
    char line[256];
    snprintf(line, sizeof(line), "{\"%s\":1,\"%s\":2}",
             "0123456789012345678901234567890123456789abcdefghijklmnop",
             "0123456789012345678901234567890123456789abcdefghijklmnop");
    assert_rejected(line, "t.jsonl: line 1, column 63: duplicate key "
                          "\"0123456789012345678901234567890123456789abcdefgh...\"");
}

Test(jsonl, blank_lines_are_skipped_and_crlf_is_a_line_end)
{
    assert_reads("\n  \t\r\n{\"a\":1}\r\n\r\n{\"b\":2}\n\n", "a:N:1\nb:N:2\n");
    assert_reads("", "");
    assert_reads("{}\n", "\n");
}

Test(jsonl, the_last_line_needs_no_line_end)
{
    assert_reads("{\"a\":1}\n{\"b\":2}", "a:N:1\nb:N:2\n");
}

Test(jsonl, a_byte_order_mark_at_the_start_is_skipped)
{
    assert_reads("\xEF\xBB\xBF{\"a\":1}\n", "a:N:1\n");
    assert_rejected("{}\n\xEF\xBB\xBF{}\n", "t.jsonl: line 2, column 1: expected a JSON object");
    assert_rejected("\xEF\xBB\xBF{]\n", "t.jsonl: line 1, column 2: expected a string key");
}

Test(jsonl, each_row_knows_its_line_and_offset)
{
    const char input[] = "{\"a\":1}\n\n  {\"b\":2}\r\n{\"c\":3}";
    seen s = seen_init();
    cr_assert_eq(read_pieces(&s, input, strlen(input), 3), 0);
    cr_assert_eq(s.n_rows, 3);
    uint64_t lines[] = {1, 3, 4}, offsets[] = {0, 9, 20};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(s.lines[i], lines[i], "row %d", i);
        cr_assert_eq(s.offsets[i], offsets[i], "row %d", i);
    }
    seen_release(&s);
}

Test(jsonl, a_line_that_is_not_one_object_is_refused)
{
    assert_rejected("{}\n[1]\n", "t.jsonl: line 2, column 1: expected a JSON object");
    assert_rejected("  \"x\"", "t.jsonl: line 1, column 3: expected a JSON object");
    assert_rejected("1", "t.jsonl: line 1, column 1: expected a JSON object");
    assert_rejected("{} {}",
                    "t.jsonl: line 1, column 4: expected the end of the line after the object");
    assert_rejected("{\"a\":1}x",
                    "t.jsonl: line 1, column 8: expected the end of the line after the object");
    assert_rejected("{\"a\" 1}", "t.jsonl: line 1, column 6: expected ':'");
    assert_rejected("{\"a\":1,}", "t.jsonl: line 1, column 8: expected a string key");
    assert_rejected("{a:1}", "t.jsonl: line 1, column 2: expected a string key");
    assert_rejected("{\"a\":1 \"b\":2}", "t.jsonl: line 1, column 8: expected ',' or '}'");
    assert_rejected("{\"a\":[1 2]}", "t.jsonl: line 1, column 9: expected ',' or ']'");
    assert_rejected("{\"a\":[1,]}", "t.jsonl: line 1, column 9: expected a value");
    assert_rejected("{\"a\":}", "t.jsonl: line 1, column 6: expected a value");
    assert_rejected("{\"a\":tru}", "t.jsonl: line 1, column 6: expected a value");
    assert_rejected("{\"a\":nul}", "t.jsonl: line 1, column 6: expected a value");
    assert_rejected("{\"a\":[True]}", "t.jsonl: line 1, column 7: expected a value");
    assert_rejected("{\"a\":1", "t.jsonl: line 1, column 7: expected ',' or '}'");
    assert_rejected("{\"a\":1\n}", "t.jsonl: line 1, column 7: expected ',' or '}'");
}

Test(jsonl, numbers_outside_the_grammar_are_refused)
{
    static const char *const bad[] = {"01",  "-",     "1.",   ".5",   "1e",  "1e+", "+1",
                                      "-01", "1.2.3", "0x10", "1ee2", "--1", "NaN", "Infinity"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "{\"n\":%s}", bad[i]);
        const char *what =
            bad[i][0] == '+' || bad[i][0] == '.' || bad[i][0] == 'N' || bad[i][0] == 'I'
                ? "expected a value"
                : "invalid number";
        char message[128];
        snprintf(message, sizeof(message), "t.jsonl: line 1, column 6: %s", what);
        assert_rejected(line, message);
    }
}

Test(jsonl, bad_strings_are_refused_where_the_fault_is)
{
    assert_rejected("{\"a\":\"x\\q\"}", "t.jsonl: line 1, column 8: invalid escape");
    assert_rejected("{\"a\":\"\\u12G4\"}", "t.jsonl: line 1, column 7: invalid escape");
    assert_rejected("{\"a\":\"\\u12\"}", "t.jsonl: line 1, column 7: invalid escape");
    assert_rejected("{\"a\":\"tab\there\"}",
                    "t.jsonl: line 1, column 10: control character in a string");
    assert_rejected("{\"a\":\"open}\n{}", "t.jsonl: line 1, column 6: string not closed");
    assert_rejected("{\"a\":\"x\\", "t.jsonl: line 1, column 8: invalid escape");
}

Test(jsonl, invalid_utf8_is_refused_at_its_character)
{
    assert_rejected("{\"\xC3\xA9\":\"\xE2\x82\xAC\xC3\"}",
                    "t.jsonl: line 1, column 8: invalid UTF-8");
    assert_rejected("{\"a\":\"\xED\xA0\x80\"}", "t.jsonl: line 1, column 7: invalid UTF-8");
    assert_rejected("{\"a\":\"\xC0\x80\"}", "t.jsonl: line 1, column 7: invalid UTF-8");
    assert_rejected("{\"a\":\"\xF4\x90\x80\x80\"}", "t.jsonl: line 1, column 7: invalid UTF-8");
    assert_rejected("{\"a\":1,\xFF}", "t.jsonl: line 1, column 8: invalid UTF-8");
    assert_rejected("{\"a\":1,\xC3\xA9}", "t.jsonl: line 1, column 8: expected a string key");
}

Test(jsonl, columns_count_characters_not_bytes)
{
    assert_rejected("{\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\":01}",
                    "t.jsonl: line 1, column 8: invalid number");
}

static char *nested(unsigned depth, size_t *len)
{
    /* {"a": then depth - 1 arrays */
    char *line = malloc(2 * depth + 8);
    cr_assert_not_null(line);
    size_t n = 0;
    memcpy(line, "{\"a\":", 5);
    n = 5;
    for (unsigned i = 1; i < depth; i++)
        line[n++] = '[';
    for (unsigned i = 1; i < depth; i++)
        line[n++] = ']';
    line[n++] = '}';
    *len = n;
    return line;
}

Test(jsonl, nesting_is_refused_past_its_limit)
{
    size_t len;
    char *line = nested(DV_JSONL_DEPTH_MAX, &len);
    seen s = seen_init();
    cr_assert_eq(read_pieces(&s, line, len, 0), 0, "%s", dv_error_last());
    cr_assert_eq(s.n_rows, 1);
    seen_release(&s);
    free(line);
    line = nested(DV_JSONL_DEPTH_MAX + 1, &len);
    char message[128];
    snprintf(message, sizeof(message), "t.jsonl: line 1, column %u: nesting deeper than %u",
             5 + DV_JSONL_DEPTH_MAX, DV_JSONL_DEPTH_MAX);
    assert_rejected_len(line, len, message);
    free(line);
}

Test(jsonl, an_object_of_too_many_members_is_refused)
{
    dv_buf line = DV_BUF_INIT;
    dv_buf_puts(&line, "{\"o\":{");
    for (unsigned i = 0; i < DV_JSONL_MEMBERS_MAX; i++)
        dv_buf_printf(&line, "\"%u\":0,", i);
    size_t column = line.len + 1;
    dv_buf_puts(&line, "\"last\":0}}");
    char message[128];
    snprintf(message, sizeof(message),
             "t.jsonl: line 1, column %zu: object of more than %u members", column,
             DV_JSONL_MEMBERS_MAX);
    dv_error_clear();
    seen s = seen_init();
    cr_assert_eq(read_pieces(&s, line.ptr, line.len, 4096), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), message);
    seen_release(&s);
    /* at the limit, and at the top level */
    dv_buf_clear(&line);
    dv_buf_putc(&line, '{');
    for (unsigned i = 0; i < DV_JSONL_MEMBERS_MAX; i++)
        dv_buf_printf(&line, "%s\"%u\":%u", i ? "," : "", i, i);
    dv_buf_puts(&line, "}\n");
    s = seen_init();
    cr_assert_eq(read_pieces(&s, line.ptr, line.len, 4096), 0, "%s", dv_error_last());
    cr_assert_eq(s.n_rows, 1);
    seen_release(&s);
    dv_buf_release(&line);
}

Test(jsonl, a_line_over_the_size_limit_is_refused)
{
    size_t len = DV_JSONL_LINE_MAX_BYTES + 64;
    char *input = malloc(len);
    cr_assert_not_null(input);
    memcpy(input, "{}\n{\"a\":\"", 9);
    memset(input + 9, 'x', len - 9);
    /* the line, without its LF, fits exactly */
    memcpy(input + 3 + DV_JSONL_LINE_MAX_BYTES - 2, "\"}\n", 3);
    seen s = seen_init();
    cr_assert_eq(read_pieces(&s, input, 3 + DV_JSONL_LINE_MAX_BYTES + 1, 1 << 20), 0, "%s",
                 dv_error_last());
    cr_assert_eq(s.n_rows, 2);
    seen_release(&s);
    memset(input + 3 + DV_JSONL_LINE_MAX_BYTES - 2, 'x', 3);
    memcpy(input + len - 3, "\"}\n", 3);
    char message[128];
    snprintf(message, sizeof(message), "t.jsonl: line 2, column %u: line longer than %u bytes",
             DV_JSONL_LINE_MAX_BYTES + 1, DV_JSONL_LINE_MAX_BYTES);
    size_t piece_lens[] = {0, 1 << 20, 4093};
    for (size_t i = 0; i < sizeof(piece_lens) / sizeof(piece_lens[0]); i++) {
        s = seen_init();
        dv_error_clear();
        cr_assert_eq(read_pieces(&s, input, len, piece_lens[i]), DV_ECORRUPT);
        cr_assert_str_eq(dv_error_last(), message, "pieces of %zu bytes", piece_lens[i]);
        cr_assert_eq(s.n_rows, 1, "the line before is read");
        seen_release(&s);
    }
    free(input);
}

Test(jsonl, an_error_sticks_and_nothing_more_is_read)
{
    dv_jsonl *jsonl;
    seen s = seen_init();
    cr_assert_eq(dv_jsonl_new(&jsonl, "t.jsonl"), 0);
    cr_assert_eq(dv_jsonl_push(jsonl, "{}\n[]\n", 6, collect, &s), DV_ECORRUPT);
    char first[256];
    snprintf(first, sizeof(first), "%s", dv_error_last());
    cr_assert_str_eq(first, "t.jsonl: line 2, column 1: expected a JSON object");
    dv_error_clear();
    cr_assert_eq(dv_jsonl_push(jsonl, "{}\n", 3, collect, &s), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), first);
    dv_error_clear();
    cr_assert_eq(dv_jsonl_finish(jsonl, collect, &s), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), first);
    cr_assert_eq(s.n_rows, 1);
    dv_jsonl_free(jsonl);
    dv_jsonl_free(NULL);
    seen_release(&s);
}

Test(jsonl, a_failed_finish_sticks_too)
{
    dv_jsonl *jsonl;
    seen s = seen_init();
    cr_assert_eq(dv_jsonl_new(&jsonl, "t.jsonl"), 0);
    cr_assert_eq(dv_jsonl_push(jsonl, "{\"a\":", 5, collect, &s), 0);
    cr_assert_eq(dv_jsonl_finish(jsonl, collect, &s), DV_ECORRUPT);
    dv_error_clear();
    cr_assert_eq(dv_jsonl_push(jsonl, "1}\n", 3, collect, &s), DV_ECORRUPT);
    cr_assert_str_eq(dv_error_last(), "t.jsonl: line 1, column 6: expected a value");
    cr_assert_eq(dv_jsonl_finish(jsonl, collect, &s), DV_ECORRUPT);
    cr_assert_eq(s.n_rows, 0);
    dv_jsonl_free(jsonl);
    seen_release(&s);
}

Test(jsonl, the_callbacks_error_stops_the_reader_and_is_returned)
{
    dv_jsonl *jsonl;
    seen s = seen_init();
    s.stop_at = 1;
    cr_assert_eq(dv_jsonl_new(&jsonl, "t.jsonl"), 0);
    cr_assert_eq(dv_jsonl_push(jsonl, "{}\n{}\n", 6, collect, &s), -42);
    cr_assert_eq(dv_jsonl_finish(jsonl, collect, &s), -42);
    cr_assert_eq(s.n_rows, 1);
    dv_jsonl_free(jsonl);
    seen_release(&s);
}

static size_t make_mixed(char *out, size_t size, uint64_t seed)
{
    static const char *const values[] = {
        "\"plain\"",
        "\"caf\xC3\xA9 \\u00e9\"",
        "\"\\ud83d\\ude00\"",
        "-1.5e3",
        "0",
        "true",
        "false",
        "null",
        "{ \"x\" : [1, {\"y\": null}] }",
        "[ ]",
        "\"esc \\\" \\\\ \\n\"",
    };
    uint64_t state = seed;
    size_t len = 0;
    while (len + 512 < size) {
        uint64_t r = splitmix64(&state);
        if (r % 7 == 0) {
            memcpy(out + len, " \t\r\n", 4);
            len += 4;
            continue;
        }
        len += (size_t)snprintf(out + len, size - len, " {");
        unsigned n = (unsigned)(r >> 8) % 6;
        for (unsigned i = 0; i < n; i++) {
            const char *value = values[splitmix64(&state) % (sizeof(values) / sizeof(values[0]))];
            len +=
                (size_t)snprintf(out + len, size - len, "%s\"k%u\" : %s", i ? ", " : "", i, value);
        }
        len += (size_t)snprintf(out + len, size - len, "}%s", r & 0x10000 ? "\r\n" : "\n");
    }
    return len;
}

Test(jsonl, rows_do_not_depend_on_how_the_input_is_split)
{
    static char input[1 << 16];
    size_t len = make_mixed(input, sizeof(input), 3);
    seen whole = seen_init();
    cr_assert_eq(read_pieces(&whole, input, len, 0), 0, "%s", dv_error_last());
    cr_assert_gt(whole.n_rows, 100);
    size_t piece_lens[] = {1, 2, 3, 7, 64, 1000, 4096};
    for (size_t i = 0; i < sizeof(piece_lens) / sizeof(piece_lens[0]); i++) {
        seen split = seen_init();
        cr_assert_eq(read_pieces(&split, input, len, piece_lens[i]), 0, "%s", dv_error_last());
        cr_assert_str_eq(split.exact.ptr, whole.exact.ptr, "pieces of %zu", piece_lens[i]);
        seen_release(&split);
    }
    /* random cuts */
    uint64_t state = 5;
    for (int round = 0; round < 20; round++) {
        dv_jsonl *jsonl;
        seen split = seen_init();
        cr_assert_eq(dv_jsonl_new(&jsonl, "t.jsonl"), 0);
        for (size_t at = 0; at < len;) {
            size_t take = splitmix64(&state) % 300;
            if (take > len - at)
                take = len - at;
            cr_assert_eq(dv_jsonl_push(jsonl, input + at, take, collect, &split), 0);
            at += take;
        }
        cr_assert_eq(dv_jsonl_finish(jsonl, collect, &split), 0);
        dv_jsonl_free(jsonl);
        cr_assert_str_eq(split.exact.ptr, whole.exact.ptr, "random cuts, round %d", round);
        seen_release(&split);
    }
    seen_release(&whole);
}
