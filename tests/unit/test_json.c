#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/json.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

/* The JSON of one string, written alone. */
static char *string_json(const char *s)
{
    dv_buf b = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &b);
    dv_json_string(&j, s);
    cr_assert_eq(dv_json_finish(&j), 0, "%s", dv_error_last());
    return dv_buf_detach(&b);
}

static void assert_string_json(const char *s, const char *want)
{
    char *got = string_json(s);
    cr_assert_str_eq(got, want);
    free(got);
}

Test(json, nested_containers_get_commas_and_colons_between_items_only)
{
    dv_buf b = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &b);
    dv_json_object_begin(&j);
    dv_json_key(&j, "clean");
    dv_json_bool(&j, 1);
    dv_json_key(&j, "paths");
    dv_json_array_begin(&j);
    dv_json_object_begin(&j);
    dv_json_key(&j, "path");
    dv_json_string(&j, "a");
    dv_json_key(&j, "changes");
    dv_json_array_begin(&j);
    dv_json_array_end(&j);
    dv_json_object_end(&j);
    dv_json_object_begin(&j);
    dv_json_object_end(&j);
    dv_json_array_begin(&j);
    dv_json_int(&j, 1);
    dv_json_bool(&j, 0);
    dv_json_array_begin(&j);
    dv_json_array_end(&j);
    dv_json_array_end(&j);
    dv_json_array_end(&j);
    dv_json_object_end(&j);
    cr_assert_eq(dv_json_finish(&j), 0, "%s", dv_error_last());
    cr_assert_str_eq(b.ptr, "{\"clean\": true, \"paths\": [{\"path\": \"a\", \"changes\": []}, {}, "
                            "[1, false, []]]}");
    dv_buf_release(&b);
}

Test(json, writes_after_what_the_buffer_holds)
{
    dv_buf b = DV_BUF_INIT;
    cr_assert_eq(dv_buf_puts(&b, "x="), 0);
    dv_json j;
    dv_json_init(&j, &b);
    dv_json_array_begin(&j);
    dv_json_uint(&j, 7);
    dv_json_array_end(&j);
    cr_assert_eq(dv_json_finish(&j), 0);
    cr_assert_str_eq(b.ptr, "x=[7]");
    dv_buf_release(&b);
}

Test(json, escapes_quotes_backslashes_and_control_characters)
{
    assert_string_json("", "\"\"");
    assert_string_json("a\"b\\c", "\"a\\\"b\\\\c\"");
    assert_string_json("\n\t\r\x01\x1f", "\"\\u000a\\u0009\\u000d\\u0001\\u001f\"");
    assert_string_json("del\x7f", "\"del\\u007f\"");
    assert_string_json("/ and space", "\"/ and space\"");
}

Test(json, keeps_valid_utf8_as_it_is)
{
    /* 2-, 3- and 4-byte sequences, including the largest code point */
    assert_string_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
                       "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
}

Test(json, escapes_each_byte_that_is_not_utf8_as_a_lone_surrogate)
{
    /* a stray continuation byte, a lead byte cut short, bytes never in UTF-8 */
    assert_string_json("a\x80z", "\"a\\udc80z\"");
    assert_string_json("\xc3(", "\"\\udcc3(\"");
    assert_string_json("\xff\xfe", "\"\\udcff\\udcfe\"");
    /* overlong forms, an encoded surrogate, beyond U+10FFFF: one escape per byte */
    assert_string_json("\xc0\xaf", "\"\\udcc0\\udcaf\"");
    assert_string_json("\xe0\x80\xaf", "\"\\udce0\\udc80\\udcaf\"");
    assert_string_json("\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"");
    assert_string_json("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\"");
    /* a valid sequence right after an invalid byte is kept */
    assert_string_json("\xe2\xc3\xa9", "\"\\udce2\xc3\xa9\"");
}

Test(json, keys_are_escaped_like_strings)
{
    dv_buf b = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &b);
    dv_json_object_begin(&j);
    dv_json_key(&j, "q\"\xff");
    dv_json_int(&j, 0);
    dv_json_object_end(&j);
    cr_assert_eq(dv_json_finish(&j), 0);
    cr_assert_str_eq(b.ptr, "{\"q\\\"\\udcff\": 0}");
    dv_buf_release(&b);
}

Test(json, integers_cover_the_whole_range)
{
    dv_buf b = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &b);
    dv_json_array_begin(&j);
    dv_json_int(&j, INT64_MIN);
    dv_json_int(&j, -1);
    dv_json_int(&j, 0);
    dv_json_int(&j, INT64_MAX);
    dv_json_uint(&j, 0);
    dv_json_uint(&j, UINT64_MAX);
    dv_json_array_end(&j);
    cr_assert_eq(dv_json_finish(&j), 0);
    cr_assert_str_eq(b.ptr, "[-9223372036854775808, -1, 0, 9223372036854775807, 0, "
                            "18446744073709551615]");
    dv_buf_release(&b);
}

/* Run calls, then dv_json_finish must fail with code and a message holding what. */
#define ASSERT_MISUSE(what, ...)                                                                   \
    do {                                                                                           \
        dv_buf b_ = DV_BUF_INIT;                                                                   \
        dv_json j_;                                                                                \
        dv_json *j = &j_;                                                                          \
        dv_json_init(j, &b_);                                                                      \
        __VA_ARGS__;                                                                               \
        cr_assert_eq(dv_json_finish(j), DV_EUSAGE);                                                \
        cr_assert(strstr(dv_error_last(), what), "%s", dv_error_last());                           \
        dv_buf_release(&b_);                                                                       \
    } while (0)

Test(json, a_call_out_of_place_sticks_and_is_reported_once_at_the_end)
{
    ASSERT_MISUSE("closing an object that is not open", dv_json_object_end(j));
    ASSERT_MISUSE("closing an array that is not open", dv_json_array_end(j));
    ASSERT_MISUSE("closing an array that is not open",
                  (dv_json_array_begin(j), dv_json_array_end(j), dv_json_array_end(j)));
    ASSERT_MISUSE("closing an object as an array", (dv_json_object_begin(j), dv_json_array_end(j)));
    ASSERT_MISUSE("closing an array as an object", (dv_json_array_begin(j), dv_json_object_end(j)));
    ASSERT_MISUSE("a value without a key", (dv_json_object_begin(j), dv_json_int(j, 1)));
    ASSERT_MISUSE("a key outside an object", dv_json_key(j, "k"));
    ASSERT_MISUSE("a key outside an object", (dv_json_array_begin(j), dv_json_key(j, "k")));
    ASSERT_MISUSE("a key without a value",
                  (dv_json_object_begin(j), dv_json_key(j, "k"), dv_json_object_end(j)));
    ASSERT_MISUSE("a key without a value",
                  (dv_json_object_begin(j), dv_json_key(j, "k"), dv_json_key(j, "l")));
    ASSERT_MISUSE("a container left open", dv_json_array_begin(j));
    ASSERT_MISUSE("a second top-level value", (dv_json_int(j, 1), dv_json_int(j, 2)));
    ASSERT_MISUSE("no value written", (void)0);
    /* the first misuse is the one reported; later calls do nothing */
    ASSERT_MISUSE("closing an object that is not open",
                  (dv_json_object_end(j), dv_json_array_end(j), dv_json_array_begin(j)));
}

Test(json, a_misuse_stops_the_output_where_it_happened)
{
    dv_buf b = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &b);
    dv_json_array_begin(&j);
    dv_json_int(&j, 1);
    dv_json_key(&j, "k");
    dv_json_int(&j, 2);
    dv_json_array_end(&j);
    cr_assert_eq(dv_json_finish(&j), DV_EUSAGE);
    cr_assert_str_eq(b.ptr, "[1");
    dv_buf_release(&b);
}

Test(json, containers_nest_up_to_the_limit)
{
    dv_buf b = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &b);
    for (int i = 0; i < DV_JSON_MAX_DEPTH; i++)
        dv_json_array_begin(&j);
    for (int i = 0; i < DV_JSON_MAX_DEPTH; i++)
        dv_json_array_end(&j);
    cr_assert_eq(dv_json_finish(&j), 0, "%s", dv_error_last());
    cr_assert_eq(b.len, 2 * DV_JSON_MAX_DEPTH);
    dv_buf_release(&b);
}

Test(json, containers_nested_deeper_than_the_limit_are_refused)
{
    ASSERT_MISUSE("nested too deep",
                  for (int i = 0; i <= DV_JSON_MAX_DEPTH; i++) dv_json_array_begin(j));
}

Test(json, running_out_of_memory_is_reported_at_the_end)
{
    dv_buf b = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &b);
    dv_json_object_begin(&j);
    dv_json_key(&j, "k");
    /* a failed allocation leaves the buffer out of memory (dv_buf_oom) */
    cr_assert_eq(dv_buf_grow(&b, SIZE_MAX), DV_ENOMEM);
    dv_json_string(&j, "v");
    dv_json_object_end(&j);
    cr_assert_eq(dv_json_finish(&j), DV_ENOMEM);
    cr_assert(strstr(dv_error_last(), "out of memory"), "%s", dv_error_last());
    cr_assert_eq(b.len, 0);
    dv_buf_release(&b);
}
