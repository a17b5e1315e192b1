/*
 * pointer: read and write `<path>.dv` pointer files (docs/formats.md). The
 * writer emits one fixed text; the parser accepts what users and editors do
 * to it (CRLF, comments, blank lines, keys from newer minor additions) and
 * rejects anything else with "<file>:<line>: <problem>; expected <what>".
 */
#include "core/object/pointer.h"

#include "core/base/error.h"
#include "core/base/quote.h"
#include "core/object/object.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OID_PREFIX "sha256:"
#define OID_PREFIX_LEN 7
#define UTF8_BOM "\xef\xbb\xbf"

/* Values shown in messages are cut to this many bytes. */
#define WHAT_BUF_BYTES 1024

#define READ_STEP_BYTES 4096

/* The keys this version knows; their slot in parse_state.seen_line. */
enum { KEY_DV, KEY_KIND, KEY_OID, KEY_SIZE, KEY_EXEC, KEY_FILES, KEY_COUNT };

static const char *const key_names[KEY_COUNT] = {"dv", "kind", "oid", "size", "exec", "files"};

/* What a good line for each key looks like, for "expected ..." in messages. */
static const char *const key_examples[KEY_COUNT] = {
    "'dv: 1'",
    "'kind: file', 'kind: dir' or 'kind: symlink'",
    "'oid: sha256:' and 64 lowercase hex digits",
    "'size: ' and a decimal number of bytes",
    "'exec: true' or 'exec: false'",
    "'files: ' and a decimal number",
};

typedef struct unknown_key {
    size_t offset; /* into the parsed data */
    size_t len;
    size_t line;
} unknown_key;

typedef struct parse_state {
    const char *data;
    const char *name;
    size_t seen_line[KEY_COUNT]; /* 0: not seen yet */
    unknown_key *unknown;
    size_t n_unknown;
    size_t alloc_unknown;
    int n_keys;
} parse_state;

uint8_t dv_pointer_mode(const dv_pointer *p)
{
    if (p->kind == DV_KIND_DIR)
        return DV_MODE_DIR;
    if (p->kind == DV_KIND_SYMLINK)
        return DV_MODE_SYMLINK;
    return p->exec ? DV_MODE_EXEC : DV_MODE_FILE;
}

const char *dv_pointer_kind_name(int kind)
{
    switch (kind) {
    case DV_KIND_FILE:
        return "file";
    case DV_KIND_DIR:
        return "dir";
    case DV_KIND_SYMLINK:
        return "symlink";
    default:
        return "unknown";
    }
}

/* Set "<name>:<line>: <what>" as a DV_ECORRUPT message. */
static int parse_error(const parse_state *st, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int parse_error(const parse_state *st, size_t line, const char *fmt, ...)
{
    char what[WHAT_BUF_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return dv_error_set(DV_ECORRUPT, "%s:%zu: %s", st->name, line, what);
}

/* Plain ASCII decimal without sign or leading zeros, fitting 64 bits. NULL or the problem. */
static const char *parse_decimal(uint64_t *out, const char *s, size_t len)
{
    uint64_t v = 0;
    if (len == 0)
        return "is empty";
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return "is not a plain decimal number";
    }
    /* YAML 1.1 reads a leading 0 as octal; refuse it so YAML tools agree with dv. */
    if (len > 1 && s[0] == '0')
        return "has a leading zero";
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return "is too large for 64 bits";
        v = v * 10 + digit;
    }
    *out = v;
    return NULL;
}

static int is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int key_index(const char *key, size_t len)
{
    for (int i = 0; i < KEY_COUNT; i++) {
        if (strlen(key_names[i]) == len && memcmp(key_names[i], key, len) == 0)
            return i;
    }
    return -1;
}

/* Duplicate check for keys this version does not know, remembered by position. */
static int note_unknown_key(parse_state *st, size_t offset, size_t len, size_t line)
{
    char shown[DV_QUOTE_BUF_BYTES];
    for (size_t i = 0; i < st->n_unknown; i++) {
        const unknown_key *k = &st->unknown[i];
        if (k->len == len && memcmp(st->data + k->offset, st->data + offset, len) == 0)
            return parse_error(st, line,
                               "duplicate key '%s' (first on line %zu); expected "
                               "each key once",
                               dv_quote_bytes(shown, st->data + offset, len), k->line);
    }
    if (st->n_unknown == st->alloc_unknown) {
        size_t alloc = st->alloc_unknown ? st->alloc_unknown * 2 : 8;
        if (alloc > SIZE_MAX / sizeof(*st->unknown))
            return dv_error_set(DV_ENOMEM, "%s: too many keys", st->name);
        unknown_key *grown = realloc(st->unknown, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory parsing %s", st->name);
        st->unknown = grown;
        st->alloc_unknown = alloc;
    }
    st->unknown[st->n_unknown++] = (unknown_key){offset, len, line};
    return 0;
}

/* Check and store the value of a known key. */
static int parse_value(parse_state *st, dv_pointer *p, int key, const char *value, size_t value_len,
                       size_t line)
{
    char shown[DV_QUOTE_BUF_BYTES];
    const char *problem;
    uint64_t number = 0;

    switch (key) {
    case KEY_DV:
        if ((problem = parse_decimal(&number, value, value_len)) != NULL || number == 0)
            return parse_error(st, line, "bad format version '%s'; expected 'dv: %d'",
                               dv_quote_bytes(shown, value, value_len), DV_POINTER_VERSION);
        if (number > DV_POINTER_VERSION)
            return parse_error(st, line, "written by a newer dv (format %" PRIu64 "); upgrade dv",
                               number);
        p->version = (int)number;
        return 0;
    case KEY_KIND:
        if (value_len == 4 && memcmp(value, "file", 4) == 0)
            p->kind = DV_KIND_FILE;
        else if (value_len == 3 && memcmp(value, "dir", 3) == 0)
            p->kind = DV_KIND_DIR;
        else if (value_len == 7 && memcmp(value, "symlink", 7) == 0)
            p->kind = DV_KIND_SYMLINK;
        else
            return parse_error(st, line, "unknown kind '%s'; expected file, dir or symlink",
                               dv_quote_bytes(shown, value, value_len));
        return 0;
    case KEY_OID: {
        if (value_len < OID_PREFIX_LEN || memcmp(value, OID_PREFIX, OID_PREFIX_LEN) != 0)
            return parse_error(st, line,
                               "oid '%s' does not start with '" OID_PREFIX "'; expected %s",
                               dv_quote_bytes(shown, value, value_len), key_examples[KEY_OID]);
        const char *hex = value + OID_PREFIX_LEN;
        size_t hex_len = value_len - OID_PREFIX_LEN;
        for (size_t i = 0; i < hex_len; i++) {
            if (!is_lower_hex(hex[i]))
                return parse_error(st, line,
                                   "oid has '%s' at hex digit %zu; expected 64 lowercase hex "
                                   "digits (0-9, a-f) after '" OID_PREFIX "'",
                                   dv_quote_bytes(shown, hex + i, 1), i + 1);
        }
        if (hex_len != DV_OID_HEX_CHARS || dv_oid_fromhex(&p->oid, hex, hex_len) < 0)
            return parse_error(st, line,
                               "oid has %zu hex digits; expected 64 lowercase hex digits after "
                               "'" OID_PREFIX "'",
                               hex_len);
        return 0;
    }
    case KEY_SIZE:
    case KEY_FILES:
        if ((problem = parse_decimal(&number, value, value_len)) != NULL)
            return parse_error(st, line, "%s '%s' %s; expected %s", key_names[key],
                               dv_quote_bytes(shown, value, value_len), problem, key_examples[key]);
        if (key == KEY_SIZE)
            p->size = number;
        else
            p->files = number;
        return 0;
    case KEY_EXEC:
        if (value_len == 4 && memcmp(value, "true", 4) == 0)
            p->exec = 1;
        else if (value_len == 5 && memcmp(value, "false", 5) == 0)
            p->exec = 0;
        else
            return parse_error(st, line, "exec '%s' is not a boolean; expected true or false",
                               dv_quote_bytes(shown, value, value_len));
        return 0;
    default:
        return dv_error_set(DV_ERROR, "pointer: no parser for key %d", key);
    }
}

/* Handle one line that is neither blank nor a comment. */
static int parse_line(parse_state *st, dv_pointer *p, const char *text, size_t len, size_t line)
{
    char shown[DV_QUOTE_BUF_BYTES];
    size_t key_len = 0;
    while (key_len < len && is_key_char(text[key_len]))
        key_len++;
    if (key_len == 0 || key_len == len || text[key_len] != ':') {
        const char *colon = memchr(text, ':', len);
        if (st->n_keys == 0)
            return parse_error(st, line,
                               "'%s' does not start with a lowercase key and ':', so this is "
                               "not a dv pointer file; expected 'dv: %d' first",
                               dv_quote_bytes(shown, text, len), DV_POINTER_VERSION);
        if (!colon)
            return parse_error(st, line, "no ':' in '%s'; expected 'key: value'",
                               dv_quote_bytes(shown, text, len));
        return parse_error(st, line,
                           "bad key '%s'; expected a key of lowercase letters, digits and '_' "
                           "before ':'",
                           dv_quote_bytes(shown, text, (size_t)(colon - text)));
    }

    size_t pos = key_len + 1;
    if (pos < len && text[pos] != ' ')
        return parse_error(st, line, "no space after '%.*s:'; expected '%.*s: <value>'",
                           (int)key_len, text, (int)key_len, text);
    while (pos < len && text[pos] == ' ')
        pos++;
    size_t end = len;
    while (end > pos && (text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    const char *value = text + pos;
    size_t value_len = end - pos;

    int key = key_index(text, key_len);
    if (st->n_keys++ == 0 && key != KEY_DV)
        return parse_error(st, line,
                           "first key is '%s', not a dv pointer file; expected 'dv: %d' first",
                           dv_quote_bytes(shown, text, key_len), DV_POINTER_VERSION);
    if (key < 0)
        return note_unknown_key(st, (size_t)(text - st->data), key_len, line);
    if (st->seen_line[key])
        return parse_error(st, line,
                           "duplicate key '%s' (first on line %zu); expected each key "
                           "once",
                           key_names[key], st->seen_line[key]);
    st->seen_line[key] = line;
    if (value_len == 0)
        return parse_error(st, line, "no value for '%s'; expected %s", key_names[key],
                           key_examples[key]);
    return parse_value(st, p, key, value, value_len, line);
}

int dv_pointer_parse(dv_pointer *out, const char *data, size_t len, const char *name)
{
    assert(out && name && (data || len == 0));
    parse_state st = {.data = data, .name = name};
    dv_pointer p = {0};
    size_t pos = 0, line = 0;
    int error = 0;

    memset(out, 0, sizeof(*out));
    if (len > DV_POINTER_MAX_BYTES) {
        error = dv_error_set(DV_ECORRUPT,
                             "%s: %zu bytes is too large for a pointer file; expected at most %d "
                             "bytes",
                             name, len, DV_POINTER_MAX_BYTES);
        goto done;
    }
    if (len >= 3 && memcmp(data, UTF8_BOM, 3) == 0)
        pos = 3; /* some editors on Windows add one */

    while (pos < len) {
        const char *text = data + pos;
        const char *newline = memchr(text, '\n', len - pos);
        size_t text_len = newline ? (size_t)(newline - text) : len - pos;
        pos += text_len + (newline ? 1 : 0);
        line++;

        const char *nul = memchr(text, '\0', text_len);
        if (nul) {
            error = parse_error(&st, line, "NUL byte at column %zu; expected text",
                                (size_t)(nul - text) + 1);
            goto done;
        }
        if (text_len > 0 && text[text_len - 1] == '\r')
            text_len--;
        size_t i = 0;
        while (i < text_len && (text[i] == ' ' || text[i] == '\t'))
            i++;
        if (i == text_len || text[i] == '#')
            continue;
        if ((error = parse_line(&st, &p, text, text_len, line)) < 0)
            goto done;
    }

    for (int key = KEY_DV; key <= KEY_SIZE; key++) {
        if (!st.seen_line[key]) {
            error = parse_error(&st, line ? line : 1, "missing key '%s'; expected a line %s",
                                key_names[key], key_examples[key]);
            goto done;
        }
    }
    if (p.kind != DV_KIND_FILE)
        p.exec = 0;
    if (p.kind != DV_KIND_DIR)
        p.files = 0;
    *out = p;

done:
    free(st.unknown);
    return error;
}

int dv_pointer_format(dv_buf *out, const dv_pointer *p)
{
    assert(out && p);
    char hex[DV_OID_HEX_CHARS + 1];
    size_t start = out->len;
    int error = 0;

    if (p->kind != DV_KIND_FILE && p->kind != DV_KIND_DIR && p->kind != DV_KIND_SYMLINK) {
        error = dv_error_set(DV_EUSAGE, "pointer: unknown kind %d", p->kind);
        goto done;
    }
    dv_oid_tohex(hex, &p->oid);
    if ((error = dv_buf_printf(out, "dv: %d\nkind: %s\noid: " OID_PREFIX "%s\nsize: %" PRIu64 "\n",
                               DV_POINTER_VERSION, dv_pointer_kind_name(p->kind), hex, p->size)) <
        0)
        goto done;
    if (p->kind == DV_KIND_FILE && p->exec && (error = dv_buf_puts(out, "exec: true\n")) < 0)
        goto done;
    if (p->kind == DV_KIND_DIR &&
        (error = dv_buf_printf(out, "files: %" PRIu64 "\n", p->files)) < 0)
        goto done;

done:
    if (error < 0)
        dv_buf_truncate(out, start);
    return error;
}

int dv_pointer_read(dv_pointer *out, const char *path)
{
    assert(out && path);
    memset(out, 0, sizeof(*out));
    /* Never through a symlink, and never blocking on a FIFO planted as a pointer. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOTDIR || errno == ENOENT)
            return dv_error_set(DV_ENOTFOUND, "cannot read pointer file %s: %s", path,
                                strerror(errno));
        if (errno == ELOOP)
            return dv_error_set(DV_ECORRUPT,
                                "%s: a symbolic link; expected a pointer file (a regular file)",
                                path);
        return dv_error_errno("cannot read pointer file %s", path);
    }
    int error = dv_pointer_read_fd(out, fd, path);
    if (close(fd) < 0 && error == 0) {
        error = dv_error_errno("cannot close pointer file %s", path);
        memset(out, 0, sizeof(*out));
    }
    return error;
}

int dv_pointer_read_fd(dv_pointer *out, int fd, const char *path)
{
    assert(out && path);
    dv_buf data = DV_BUF_INIT;
    struct stat st;
    int error = 0;

    memset(out, 0, sizeof(*out));
    if (fstat(fd, &st) < 0) {
        error = dv_error_errno("cannot stat pointer file %s", path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        error = dv_error_set(DV_ECORRUPT, "%s: not a regular file; expected a pointer file", path);
        goto done;
    }
    if (st.st_size > DV_POINTER_MAX_BYTES) {
        error = dv_error_set(DV_ECORRUPT,
                             "%s: %lld bytes is too large for a pointer file; expected at most "
                             "%d bytes",
                             path, (long long)st.st_size, DV_POINTER_MAX_BYTES);
        goto done;
    }
    /* Read to end of file, not to st_size: the file may change under us. One byte past
     * the limit is enough for the parser to report the file as too large. */
    for (;;) {
        if ((error = dv_buf_grow(&data, READ_STEP_BYTES)) < 0)
            goto done;
        ssize_t n = read(fd, data.ptr + data.len, READ_STEP_BYTES);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            error = dv_error_errno("cannot read pointer file %s", path);
            goto done;
        }
        if (n == 0)
            break;
        data.len += (size_t)n;
        data.ptr[data.len] = '\0';
        if (data.len > DV_POINTER_MAX_BYTES)
            break;
    }
    error = dv_pointer_parse(out, data.ptr, data.len, path);

done:
    dv_buf_release(&data);
    return error;
}
