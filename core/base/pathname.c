/* pathname: names dv never writes. */
#include "core/base/pathname.h"

#include <stdint.h>
#include <string.h>

/* UTF-8 sequences of the code points HFS+ ignores when it compares names: U+200C..U+200F,
 * U+202A..U+202E, U+206A..U+206F and U+FEFF. Returns their length at p, or 0. */
static size_t hfs_ignored(const unsigned char *p, size_t left)
{
    if (left < 3)
        return 0;
    if (p[0] == 0xe2 && p[1] == 0x80 && ((p[2] >= 0x8c && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae)))
        return 3;
    if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xaa && p[2] <= 0xaf)
        return 3;
    if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        return 3;
    return 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The name as the most forgiving file system sees it, if it is short enough to matter:
 * ignored code points dropped, ASCII folded to lower case, cut at an NTFS stream
 * separator ':', trailing dots and spaces removed. */
static size_t fold(char *out, size_t cap, const char *name, size_t len)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t skip = hfs_ignored(p + i, len - i);
        if (skip) {
            i += skip;
            continue;
        }
        if (p[i] == ':')
            break;
        if (n == cap)
            return cap + 1; /* longer than any reserved name */
        out[n++] = (char)lower(p[i]);
        i++;
    }
    while (n > 0 && (out[n - 1] == '.' || out[n - 1] == ' '))
        n--;
    return n;
}

int dv_pathname_reserved(const char *name, size_t len)
{
    char folded[8];
    size_t n = fold(folded, sizeof(folded), name, len);
    if ((n == 4 && !memcmp(folded, ".git", 4)) || (n == 3 && !memcmp(folded, ".dv", 3)))
        return 1;
    /* 8.3 short names of ".git" and ".dv" on NTFS / FAT */
    if (n == 5 && !memcmp(folded, "git~", 4) && folded[4] >= '1' && folded[4] <= '9')
        return 1;
    if (n == 4 && !memcmp(folded, "dv~", 3) && folded[3] >= '1' && folded[3] <= '9')
        return 1;
    return 0;
}

const char *dv_pathname_problem(const char *name, size_t len)
{
    if (len == 0)
        return "is empty";
    if (memchr(name, '/', len))
        return "contains '/'";
    if (memchr(name, '\0', len))
        return "contains a NUL byte";
    if (len == 1 && name[0] == '.')
        return "is '.'";
    if (len == 2 && name[0] == '.' && name[1] == '.')
        return "is '..'";
    if (dv_pathname_reserved(name, len))
        return "is a name dv never writes (a form of .git or .dv)";
    return NULL;
}

const char *dv_pathname_check_path(const char *path, size_t *bad_offset, size_t *bad_len)
{
    size_t len = strlen(path), start = 0;
    for (;;) {
        const char *slash = memchr(path + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - path) : len;
        const char *problem = dv_pathname_problem(path + start, end - start);
        if (problem) {
            if (bad_offset)
                *bad_offset = start;
            if (bad_len)
                *bad_len = end - start;
            return problem;
        }
        if (!slash)
            return NULL;
        start = end + 1;
    }
}
