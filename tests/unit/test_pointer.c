/* Tests for core/pointer.c: pointer file text, its parser's checks and messages. */
#include "core/base/error.h"
#include "core/object/pointer.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEX_A "5c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34ee7e045139"

static const char valid_file[] = "dv: 1\n"
                                 "kind: file\n"
                                 "oid: sha256:" HEX_A "\n"
                                 "size: 6\n";

static dv_pointer sample(int kind)
{
    dv_pointer p = {0};
    p.version = DV_POINTER_VERSION;
    p.kind = kind;
    cr_assert_eq(dv_oid_fromhex(&p.oid, HEX_A, 64), 0);
    p.size = 1234567890123ull;
    if (kind == DV_KIND_DIR)
        p.files = 1204;
    if (kind == DV_KIND_FILE)
        p.exec = 1;
    return p;
}

static void assert_pointers_equal(const dv_pointer *a, const dv_pointer *b)
{
    cr_assert_eq(a->version, b->version);
    cr_assert_eq(a->kind, b->kind);
    cr_assert_eq(dv_oid_cmp(&a->oid, &b->oid), 0);
    cr_assert_eq(a->size, b->size);
    cr_assert_eq(a->files, b->files);
    cr_assert_eq(a->exec, b->exec);
}

static int parse_text(dv_pointer *out, const char *text)
{
    return dv_pointer_parse(out, text, strlen(text), "data.dv");
}

/* Parsing text must fail with DV_ECORRUPT, "data.dv:<line>: " and the needle in the message. */
static void assert_rejected_at(const char *text, size_t len, size_t line, const char *needle)
{
    dv_pointer p;
    char where[64];
    snprintf(where, sizeof(where), "data.dv:%zu: ", line);
    dv_error_clear();
    int error = dv_pointer_parse(&p, text, len, "data.dv");
    cr_assert_eq(error, DV_ECORRUPT, "should reject (%s), got %d", needle, error);
    cr_assert_eq(dv_error_last_code(), DV_ECORRUPT);
    const char *message = dv_error_last();
    cr_assert(strncmp(message, where, strlen(where)) == 0, "message '%s' should start with '%s'",
              message, where);
    cr_assert(strstr(message, needle), "message '%s' should mention '%s'", message, needle);
    cr_assert(strstr(message, "; expected ") || strstr(message, "upgrade dv"),
              "message '%s' should say what was expected", message);
    cr_assert_eq(p.kind, 0, "out is left zeroed on failure");
}

static void assert_text_rejected_at(const char *text, size_t line, const char *needle)
{
    assert_rejected_at(text, strlen(text), line, needle);
}

Test(pointer, kind_names)
{
    cr_assert_str_eq(dv_pointer_kind_name(DV_KIND_FILE), "file");
    cr_assert_str_eq(dv_pointer_kind_name(DV_KIND_DIR), "dir");
    cr_assert_str_eq(dv_pointer_kind_name(DV_KIND_SYMLINK), "symlink");
    cr_assert_str_eq(dv_pointer_kind_name(0), "unknown");
}

Test(pointer, format_file_text_is_pinned)
{
    dv_pointer p = sample(DV_KIND_FILE);
    dv_buf buf = DV_BUF_INIT;
    cr_assert_eq(dv_pointer_format(&buf, &p), 0);
    cr_assert_str_eq(buf.ptr, "dv: 1\n"
                              "kind: file\n"
                              "oid: sha256:" HEX_A "\n"
                              "size: 1234567890123\n"
                              "exec: true\n");
    p.exec = 0;
    dv_buf_clear(&buf);
    cr_assert_eq(dv_pointer_format(&buf, &p), 0);
    cr_assert_str_eq(buf.ptr, "dv: 1\n"
                              "kind: file\n"
                              "oid: sha256:" HEX_A "\n"
                              "size: 1234567890123\n");
    dv_buf_release(&buf);
}

Test(pointer, format_dir_and_symlink_text_is_pinned)
{
    dv_pointer dir = sample(DV_KIND_DIR), link = sample(DV_KIND_SYMLINK);
    dv_buf buf = DV_BUF_INIT;
    dir.exec = 1; /* meaningless for a directory: not written */
    cr_assert_eq(dv_pointer_format(&buf, &dir), 0);
    cr_assert_str_eq(buf.ptr, "dv: 1\n"
                              "kind: dir\n"
                              "oid: sha256:" HEX_A "\n"
                              "size: 1234567890123\n"
                              "files: 1204\n");
    dv_buf_clear(&buf);
    link.size = 9;
    link.files = 3; /* meaningless for a symlink: not written */
    cr_assert_eq(dv_pointer_format(&buf, &link), 0);
    cr_assert_str_eq(buf.ptr, "dv: 1\n"
                              "kind: symlink\n"
                              "oid: sha256:" HEX_A "\n"
                              "size: 9\n");
    dv_buf_release(&buf);
}

Test(pointer, format_appends_and_refuses_unknown_kind)
{
    dv_pointer p = sample(DV_KIND_FILE);
    dv_buf buf = DV_BUF_INIT;
    cr_assert_eq(dv_buf_puts(&buf, "# keep\n"), 0);
    cr_assert_eq(dv_pointer_format(&buf, &p), 0);
    cr_assert_eq(strncmp(buf.ptr, "# keep\ndv: 1\n", 13), 0);
    size_t len = buf.len;
    p.kind = 9;
    cr_assert_eq(dv_pointer_format(&buf, &p), DV_EUSAGE);
    cr_assert_eq(buf.len, len);
    dv_buf_release(&buf);
}

Test(pointer, round_trip_each_kind)
{
    const int kinds[] = {DV_KIND_FILE, DV_KIND_DIR, DV_KIND_SYMLINK};
    for (size_t i = 0; i < 3; i++) {
        for (int variant = 0; variant < 3; variant++) {
            dv_pointer p = sample(kinds[i]), back;
            dv_buf buf = DV_BUF_INIT;
            if (variant == 1) {
                p.size = 0;
                p.files = 0;
                p.exec = 0;
            } else if (variant == 2) {
                p.size = UINT64_MAX;
                if (p.kind == DV_KIND_DIR)
                    p.files = UINT64_MAX;
                memset(p.oid.id, 0xff, sizeof(p.oid.id));
            }
            cr_assert_eq(dv_pointer_format(&buf, &p), 0);
            cr_assert_eq(dv_pointer_parse(&back, buf.ptr, buf.len, "x.dv"), 0, "%s",
                         dv_error_last());
            assert_pointers_equal(&p, &back);
            dv_buf_release(&buf);
        }
    }
}

Test(pointer, parse_reads_fields)
{
    dv_pointer p;
    cr_assert_eq(parse_text(&p, valid_file), 0, "%s", dv_error_last());
    cr_assert_eq(p.version, 1);
    cr_assert_eq(p.kind, DV_KIND_FILE);
    cr_assert_str_eq(dv_oid_hex(&p.oid), HEX_A);
    cr_assert_eq(p.size, 6);
    cr_assert_eq(p.exec, 0);
    cr_assert_eq(p.files, 0);
}

Test(pointer, parse_accepts_what_editors_and_users_do)
{
    dv_pointer p;
    /* CRLF, comments, blank lines, extra spaces, trailing spaces, no final newline,
     * a UTF-8 byte order mark, an unknown key from a later version, keys out of order. */
    const char *text = "\xef\xbb\xbf# tracked by dv\r\n"
                       "\r\n"
                       "dv:   1  \r\n"
                       "   \r\n"
                       "  # indented comment\r\n"
                       "size: 42\t\r\n"
                       "future_key: anything: at all\r\n"
                       "oid: sha256:" HEX_A "\r\n"
                       "exec: false\r\n"
                       "kind: file";
    cr_assert_eq(parse_text(&p, text), 0, "%s", dv_error_last());
    cr_assert_eq(p.kind, DV_KIND_FILE);
    cr_assert_eq(p.size, 42);
    cr_assert_eq(p.exec, 0);

    cr_assert_eq(parse_text(&p, "dv: 1\nkind: file\noid: sha256:" HEX_A "\nsize: 0\nexec: true\n"),
                 0);
    cr_assert_eq(p.exec, 1);
    cr_assert_eq(p.size, 0);

    cr_assert_eq(parse_text(&p, "dv: 1\nkind: dir\noid: sha256:" HEX_A
                                "\nsize: 18446744073709551615\nfiles: 7\n"),
                 0);
    cr_assert_eq(p.kind, DV_KIND_DIR);
    cr_assert_eq(p.size, UINT64_MAX);
    cr_assert_eq(p.files, 7);

    /* An unknown key may have an empty value. */
    cr_assert_eq(parse_text(&p, "dv: 1\nnote:\nkind: symlink\noid: sha256:" HEX_A "\nsize: 3\n"), 0,
                 "%s", dv_error_last());
    cr_assert_eq(p.kind, DV_KIND_SYMLINK);
}

Test(pointer, parse_ignores_keys_meaningless_for_the_kind)
{
    dv_pointer p;
    cr_assert_eq(parse_text(&p, "dv: 1\nkind: dir\noid: sha256:" HEX_A "\nsize: 5\nexec: true\n"),
                 0);
    cr_assert_eq(p.exec, 0);
    cr_assert_eq(parse_text(&p, "dv: 1\nkind: symlink\noid: sha256:" HEX_A "\nsize: 5\nfiles: 3\n"),
                 0);
    cr_assert_eq(p.files, 0);
}

Test(pointer, parse_rejects_missing_keys_at_last_line)
{
    assert_text_rejected_at("dv: 1\nkind: file\nsize: 6\n", 3, "missing key 'oid'");
    assert_text_rejected_at("dv: 1\nkind: file\noid: sha256:" HEX_A "\n\n# end\n", 5,
                            "missing key 'size'");
    assert_text_rejected_at("dv: 1\noid: sha256:" HEX_A "\nsize: 6", 3, "missing key 'kind'");
    assert_text_rejected_at("", 1, "missing key 'dv'");
    assert_text_rejected_at("# only a comment\n\n", 2, "missing key 'dv'");
}

Test(pointer, parse_rejects_bad_and_newer_versions)
{
    assert_text_rejected_at("dv: 2\nkind: file\n", 1,
                            "written by a newer dv (format 2); upgrade dv");
    /* A newer format is reported before anything it might contain that this one rejects. */
    assert_text_rejected_at("# x\ndv: 17\n\x01\x02 new syntax\0", 2, "newer dv (format 17)");
    assert_text_rejected_at("dv: 0\n", 1, "bad format version '0'");
    assert_text_rejected_at("dv: one\n", 1, "bad format version 'one'");
    assert_text_rejected_at("dv: 1.0\n", 1, "bad format version");
    assert_text_rejected_at("dv: -1\n", 1, "bad format version");
    assert_text_rejected_at("dv: +1\n", 1, "bad format version");
    assert_text_rejected_at("dv: 01\n", 1, "bad format version");
    assert_text_rejected_at("dv:\n", 1, "no value for 'dv'");
    assert_text_rejected_at("dv: 99999999999999999999999\n", 1, "bad format version");
}

Test(pointer, parse_rejects_wrong_first_key)
{
    assert_text_rejected_at("kind: file\ndv: 1\n", 1, "first key is 'kind'");
    assert_text_rejected_at("# c\n\nversion: 1\n", 3, "first key is 'version'");
}

Test(pointer, parse_rejects_bad_oids)
{
    assert_text_rejected_at("dv: 1\nkind: file\noid: " HEX_A "\nsize: 6\n", 3,
                            "does not start with 'sha256:'");
    assert_text_rejected_at("dv: 1\nkind: file\noid: sha1:" HEX_A "\nsize: 6\n", 3,
                            "does not start with 'sha256:'");
    assert_text_rejected_at("dv: 1\nkind: file\noid: SHA256:" HEX_A "\nsize: 6\n", 3,
                            "does not start with 'sha256:'");
    assert_text_rejected_at("dv: 1\nkind: file\noid: sha256:abc\nsize: 6\n", 3,
                            "oid has 3 hex digits");
    assert_text_rejected_at("dv: 1\nkind: file\noid: sha256:" HEX_A "0\nsize: 6\n", 3,
                            "oid has 65 hex digits");
    assert_text_rejected_at("dv: 1\nkind: file\noid: sha256:\nsize: 6\n", 3,
                            "oid has 0 hex digits");
    assert_text_rejected_at("dv: 1\nkind: file\noid: sha256:5C16" HEX_A "\nsize: 6\n", 3,
                            "oid has 'C' at hex digit 2");
    assert_text_rejected_at(
        "dv: 1\nkind: file\noid: sha256:g c16b258c15b3dc73fc4ab82dae21d64ab4b65d3eff92895d8fb34e\n",
        3, "oid has 'g' at hex digit 1");
    assert_text_rejected_at("dv: 1\nkind: file\nsize: 6\noid: sha256: " HEX_A "\n", 4,
                            "oid has ' ' at hex digit 1");
}

Test(pointer, parse_rejects_bad_sizes)
{
    static const struct {
        const char *value;
        const char *needle;
    } cases[] = {
        {"-1", "not a plain decimal number"},
        {"+1", "not a plain decimal number"},
        {"1e3", "not a plain decimal number"},
        {"0x10", "not a plain decimal number"},
        {"1 000", "not a plain decimal number"},
        {"12.0", "not a plain decimal number"},
        {"\xd9\xa3", "not a plain decimal number"}, /* Arabic-Indic digit three */
        {"007", "leading zero"},
        {"18446744073709551616", "too large"},
        {"99999999999999999999", "too large"},
        {"184467440737095516150", "too large"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "dv: 1\nkind: dir\noid: sha256:" HEX_A "\nsize: %s\n",
                 cases[i].value);
        assert_text_rejected_at(text, 4, cases[i].needle);
        snprintf(text, sizeof(text),
                 "dv: 1\nkind: dir\noid: sha256:" HEX_A "\nsize: 1\n\nfiles: %s\n", cases[i].value);
        assert_text_rejected_at(text, 6, cases[i].needle);
    }
    assert_text_rejected_at("dv: 1\nkind: dir\noid: sha256:" HEX_A "\nsize:   \n", 4,
                            "no value for 'size'");
}

Test(pointer, parse_rejects_duplicate_keys)
{
    assert_text_rejected_at("dv: 1\nkind: file\nkind: dir\n", 3,
                            "duplicate key 'kind' (first on line 2)");
    assert_text_rejected_at("dv: 1\ndv: 1\n", 2, "duplicate key 'dv'");
    assert_text_rejected_at("dv: 1\nkind: file\noid: sha256:" HEX_A "\nsize: 6\n\nsize: 6\n", 6,
                            "duplicate key 'size' (first on line 4)");
    assert_text_rejected_at("dv: 1\nextra: a\nkind: file\nextra: b\n", 4,
                            "duplicate key 'extra' (first on line 2)");
}

Test(pointer, parse_rejects_lines_that_are_not_key_value)
{
    assert_text_rejected_at("dv: 1\nkind file\n", 2, "no ':' in 'kind file'");
    assert_text_rejected_at("dv: 1\njust text\n", 2, "no ':'");
    assert_text_rejected_at("dv: 1\nkind:file\n", 2, "no space after 'kind:'");
    assert_text_rejected_at("dv: 1\nkind:\tfile\n", 2, "no space after 'kind:'");
    assert_text_rejected_at("dv: 1\nKind: file\n", 2, "bad key 'Kind'");
    assert_text_rejected_at("dv: 1\n  kind: file\n", 2, "bad key '  kind'");
    assert_text_rejected_at("dv: 1\nkind : file\n", 2, "bad key 'kind '");
    assert_text_rejected_at("dv: 1\n: file\n", 2, "bad key ''");
    assert_text_rejected_at("dv: 1\n- item\n", 2, "no ':'");
    assert_text_rejected_at("DV: 1\n", 1, "'DV: 1' does not start with a lowercase key");
    assert_text_rejected_at("# c\nversion https://git-lfs.github.com/spec/v1\n", 2,
                            "not a dv pointer file");
}

Test(pointer, parse_rejects_unknown_kind_and_bad_exec)
{
    assert_text_rejected_at("dv: 1\nkind: File\n", 2, "unknown kind 'File'");
    assert_text_rejected_at("dv: 1\nkind: directory\n", 2, "unknown kind 'directory'");
    assert_text_rejected_at("dv: 1\nkind: file # comment\n", 2, "unknown kind");
    assert_text_rejected_at("dv: 1\nkind: file\nexec: yes\n", 3, "exec 'yes' is not a boolean");
    assert_text_rejected_at("dv: 1\nkind: file\nexec: True\n", 3, "exec 'True'");
    assert_text_rejected_at("dv: 1\nkind: file\nexec: 1\n", 3, "exec '1'");
}

Test(pointer, parse_rejects_nul_bytes)
{
    static const char text[] = "dv: 1\nkind: fi\0le\noid: sha256:" HEX_A "\nsize: 6\n";
    assert_rejected_at(text, sizeof(text) - 1, 2, "NUL byte at column 9");
    static const char in_comment[] = "dv: 1\n# \0\nkind: file\n";
    assert_rejected_at(in_comment, sizeof(in_comment) - 1, 2, "NUL byte");
    static const char at_end[] = "dv: 1\nkind: file\noid: sha256:" HEX_A "\nsize: 6\n\0";
    assert_rejected_at(at_end, sizeof(at_end) - 1, 5, "NUL byte at column 1");
}

Test(pointer, parse_rejects_over_long_input)
{
    size_t len = DV_POINTER_MAX_BYTES + 1;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, '\n', len);
    memcpy(text, valid_file, strlen(valid_file));
    dv_pointer p;
    cr_assert_eq(dv_pointer_parse(&p, text, len, "big.dv"), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "big.dv: 65537 bytes is too large"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "expected at most 65536 bytes"));
    /* Exactly the limit is fine. */
    cr_assert_eq(dv_pointer_parse(&p, text, len - 1, "big.dv"), 0, "%s", dv_error_last());
    free(text);
}

Test(pointer, parse_never_reads_past_len)
{
    /* The same text, cut just before the final newline and before the last digit. */
    dv_pointer p;
    size_t full = strlen(valid_file);
    char *exact = malloc(full - 2);
    cr_assert_not_null(exact);
    memcpy(exact, valid_file, full - 2);
    /* "size: 6\n" cut to "size:" followed by a space: no value. */
    assert_rejected_at(exact, full - 2, 4, "no value for 'size'");
    free(exact);
    cr_assert_eq(dv_pointer_parse(&p, valid_file, full - 1, "data.dv"), 0);
    cr_assert_eq(p.size, 6);
}

Test(pointer, messages_name_the_file_given)
{
    dv_pointer p;
    cr_assert_eq(dv_pointer_parse(&p, "dv: 1\nkind: x\n", 14, "models/big model.pt.dv"),
                 DV_ECORRUPT);
    cr_assert(strncmp(dv_error_last(), "models/big model.pt.dv:2: unknown kind 'x'", 42) == 0, "%s",
              dv_error_last());
}


/* ---- reading files ---- */

static char *temp_dir(void)
{
    char *dir = strdup("/tmp/dv-test-pointer-XXXXXX");
    cr_assert_not_null(dir);
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static char *write_temp(const char *dir, const char *name, const void *data, size_t len)
{
    size_t path_len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(path_len);
    cr_assert_not_null(path);
    snprintf(path, path_len, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    return path;
}

Test(pointer, read_parses_a_file)
{
    char *dir = temp_dir();
    char *path = write_temp(dir, "data.dv", valid_file, strlen(valid_file));
    dv_pointer p;
    cr_assert_eq(dv_pointer_read(&p, path), 0, "%s", dv_error_last());
    cr_assert_eq(p.kind, DV_KIND_FILE);
    cr_assert_eq(p.size, 6);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}

Test(pointer, read_reports_errors_with_the_path)
{
    char *dir = temp_dir();
    char *path = write_temp(dir, "bad.dv", "dv: 1\nkind: file\nsize: x\n", 25);
    dv_pointer p;
    cr_assert_eq(dv_pointer_read(&p, path), DV_ECORRUPT);
    char want[512];
    snprintf(want, sizeof(want), "%s:3: size 'x'", path);
    cr_assert(strncmp(dv_error_last(), want, strlen(want)) == 0, "%s", dv_error_last());
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}

Test(pointer, read_missing_file_is_not_found)
{
    char *dir = temp_dir();
    size_t len = strlen(dir) + 32;
    char *path = malloc(len);
    cr_assert_not_null(path);
    snprintf(path, len, "%s/absent.dv", dir);
    dv_pointer p;
    cr_assert_eq(dv_pointer_read(&p, path), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), path), "%s", dv_error_last());
    /* A path through a regular file (ENOTDIR) is also simply absent. */
    char *file = write_temp(dir, "plain", "x", 1);
    snprintf(path, len, "%s/plain/x.dv", dir);
    cr_assert_eq(dv_pointer_read(&p, path), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), path), "%s", dv_error_last());
    unlink(file);
    rmdir(dir);
    free(file);
    free(path);
    free(dir);
}

Test(pointer, read_rejects_directories_and_over_long_files)
{
    char *dir = temp_dir();
    dv_pointer p;
    cr_assert_eq(dv_pointer_read(&p, dir), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "not a regular file"), "%s", dv_error_last());

    size_t len = DV_POINTER_MAX_BYTES + 100;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, '#', len);
    memcpy(text, valid_file, strlen(valid_file));
    char *path = write_temp(dir, "huge.dv", text, len);
    cr_assert_eq(dv_pointer_read(&p, path), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "huge.dv: 65636 bytes is too large"), "%s", dv_error_last());
    unlink(path);
    free(path);
    path = write_temp(dir, "limit.dv", text, DV_POINTER_MAX_BYTES);
    cr_assert_eq(dv_pointer_read(&p, path), 0, "%s", dv_error_last());
    unlink(path);
    rmdir(dir);
    free(path);
    free(text);
    free(dir);
}

/* ---- robustness ---- */

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1dull;
}

static void check_parse_is_safe(const char *data, size_t len)
{
    /* A heap copy of exactly len bytes, so a read past the end is caught by ASan. */
    char *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    if (len)
        memcpy(copy, data, len);
    dv_pointer p;
    int error = dv_pointer_parse(&p, copy, len, "fuzz.dv");
    cr_assert(error == 0 || error == DV_ECORRUPT, "parse returned %d for a %zu-byte input", error,
              len);
    if (error == 0) {
        /* Whatever parses must format to text that parses to the same pointer. */
        dv_buf buf = DV_BUF_INIT;
        dv_pointer again;
        cr_assert_eq(dv_pointer_format(&buf, &p), 0);
        cr_assert_eq(dv_pointer_parse(&again, buf.ptr, buf.len, "fuzz.dv"), 0);
        assert_pointers_equal(&p, &again);
        dv_buf_release(&buf);
    } else {
        cr_assert(strncmp(dv_error_last(), "fuzz.dv", 7) == 0, "%s", dv_error_last());
    }
    free(copy);
}

Test(pointer, parse_survives_truncated_mutated_and_random_input)
{
    static const char *seeds[] = {
        "dv: 1\nkind: file\noid: sha256:" HEX_A "\nsize: 6\nexec: true\n",
        "dv: 1\r\nkind: dir\r\noid: sha256:" HEX_A "\r\nsize: 12345\r\nfiles: 3\r\n",
        "# c\n\ndv: 1\nkind: symlink\noid: sha256:" HEX_A "\nsize: 9\nzz: top\n",
    };
    static const char alphabet[] = "dv:1 \n\r#\t0a9fz_kindsymlinkexectruefalsesha256:\xff\x00";
    uint64_t state = 0x9e3779b97f4a7c15ull;
    size_t n_ok = 0;

    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
        size_t len = strlen(seeds[s]);
        for (size_t cut = 0; cut <= len; cut++)
            check_parse_is_safe(seeds[s], cut);
        for (size_t at = 0; at < len; at++) {
            char *copy = malloc(len);
            cr_assert_not_null(copy);
            memcpy(copy, seeds[s], len);
            for (size_t k = 0; k + 1 < sizeof(alphabet); k += 3) {
                copy[at] = alphabet[k];
                check_parse_is_safe(copy, len);
            }
            free(copy);
        }
    }

    char buf[512];
    for (int round = 0; round < 20000; round++) {
        const char *seed = seeds[next_random(&state) % 3];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int edits = 1 + (int)(next_random(&state) % 6);
        for (int e = 0; e < edits; e++) {
            uint64_t r = next_random(&state);
            size_t at = len ? (size_t)(r >> 8) % len : 0;
            switch (r % 5) {
            case 0: /* overwrite with a random byte */
                if (len)
                    buf[at] = (char)(next_random(&state) & 0xff);
                break;
            case 1: /* overwrite with a syntax-relevant byte */
                if (len)
                    buf[at] = alphabet[next_random(&state) % (sizeof(alphabet) - 1)];
                break;
            case 2: /* delete a byte */
                if (len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
                break;
            case 3: /* insert a byte */
                if (len + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = alphabet[next_random(&state) % (sizeof(alphabet) - 1)];
                    len++;
                }
                break;
            default: /* truncate */
                len = at;
                break;
            }
        }
        check_parse_is_safe(buf, len);
        dv_pointer p;
        if (dv_pointer_parse(&p, buf, len, "fuzz.dv") == 0)
            n_ok++;
    }
    for (int round = 0; round < 5000; round++) {
        size_t len = (size_t)(next_random(&state) % sizeof(buf));
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)(next_random(&state) & 0xff);
        check_parse_is_safe(buf, len);
    }
    /* The mutations must not be so harsh that nothing valid is left to exercise. */
    cr_assert_gt(n_ok, 100, "only %zu mutated inputs parsed", n_ok);
}
