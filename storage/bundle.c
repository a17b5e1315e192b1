/* bundle: the bundle file format, encoded and parsed with every length checked. */
#include "storage/bundle.h"

#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "storage/pack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_BUFFER_BYTES (1u << 20)
#define FILE_RECORD_BYTES (1 + DV_OID_BYTES + 8 + 8)
#define ROOT_RECORD_BYTES (1 + DV_OID_BYTES)

void dv_bundle_header_release(dv_bundle_header *h)
{
    for (size_t i = 0; i < h->n_revs; i++) {
        free(h->revs[i].name);
        free(h->revs[i].commit);
    }
    free(h->revs);
    for (size_t i = 0; i < h->n_paths; i++)
        free(h->paths[i]);
    free(h->paths);
    free(h->roots);
    free(h->files);
    memset(h, 0, sizeof(*h));
}

/* Grow an array of n elements of size bytes by one (doubling at powers of two). */
static int grow(void **array, size_t n, size_t size)
{
    if (n & (n - 1))
        return 0; /* room left: capacities are powers of two, and n is not one */
    size_t cap = n ? n * 2 : 1;
    if (cap > SIZE_MAX / size)
        return dv_error_set(DV_ENOMEM, "out of memory");
    void *grown = realloc(*array, cap * size);
    if (!grown)
        return dv_error_set(DV_ENOMEM, "out of memory");
    *array = grown;
    return 0;
}

static int is_hex_commit(const char *s)
{
    size_t len = strlen(s);
    if (len != 40 && len != 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int dv_bundle_header_add_rev(dv_bundle_header *h, uint8_t kind, const char *name,
                             const char *commit)
{
    if (!*name || strlen(name) > DV_BUNDLE_NAME_MAX_BYTES || !is_hex_commit(commit))
        return dv_error_set(DV_EUSAGE, "revision %s cannot be named in a bundle", name);
    int error = grow((void **)&h->revs, h->n_revs, sizeof(*h->revs));
    if (error < 0)
        return error;
    dv_bundle_rev *r = &h->revs[h->n_revs];
    r->kind = kind;
    r->name = strdup(name);
    r->commit = strdup(commit);
    if (!r->name || !r->commit) {
        free(r->name);
        free(r->commit);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    h->n_revs++;
    return 0;
}

int dv_bundle_header_add_path(dv_bundle_header *h, const char *path)
{
    if (strlen(path) > DV_BUNDLE_NAME_MAX_BYTES)
        return dv_error_set(DV_EUSAGE, "path %s is too long for a bundle", path);
    int error = grow((void **)&h->paths, h->n_paths, sizeof(*h->paths));
    if (error < 0)
        return error;
    if (!(h->paths[h->n_paths] = strdup(path)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    h->n_paths++;
    return 0;
}

int dv_bundle_header_add_root(dv_bundle_header *h, uint8_t type, const dv_oid *id)
{
    int error = grow((void **)&h->roots, h->n_roots, sizeof(*h->roots));
    if (error < 0)
        return error;
    h->roots[h->n_roots].type = type;
    h->roots[h->n_roots].id = *id;
    h->n_roots++;
    return 0;
}

int dv_bundle_header_add_file(dv_bundle_header *h, uint8_t kind, const dv_oid *pack_id,
                              uint64_t length)
{
    int error = grow((void **)&h->files, h->n_files, sizeof(*h->files));
    if (error < 0)
        return error;
    dv_bundle_file *f = &h->files[h->n_files++];
    f->kind = kind;
    f->pack_id = *pack_id;
    f->offset = 0;
    f->length = length;
    return 0;
}

int dv_bundle_header_encode(dv_buf *out, dv_bundle_header *h)
{
    dv_buf_clear(out);
    dv_buf_put(out, DV_BUNDLE_MAGIC, DV_BUNDLE_MAGIC_BYTES);
    dv_buf_put_be32(out, DV_BUNDLE_VERSION);
    dv_buf_put_be32(out, 0); /* the section's length, set below */
    dv_buf_put_be32(out, (uint32_t)h->n_revs);
    for (size_t i = 0; i < h->n_revs; i++) {
        size_t name_len = strlen(h->revs[i].name), commit_len = strlen(h->revs[i].commit);
        dv_buf_putc(out, (char)h->revs[i].kind);
        dv_buf_put_be16(out, (uint16_t)name_len);
        dv_buf_put(out, h->revs[i].name, name_len);
        dv_buf_putc(out, (char)commit_len);
        dv_buf_put(out, h->revs[i].commit, commit_len);
    }
    dv_buf_put_be32(out, (uint32_t)h->n_paths);
    for (size_t i = 0; i < h->n_paths; i++) {
        size_t len = strlen(h->paths[i]);
        dv_buf_put_be16(out, (uint16_t)len);
        dv_buf_put(out, h->paths[i], len);
    }
    dv_buf_put_be32(out, (uint32_t)h->n_roots);
    for (size_t i = 0; i < h->n_roots; i++) {
        dv_buf_putc(out, (char)h->roots[i].type);
        dv_buf_put(out, h->roots[i].id.id, DV_OID_BYTES);
    }
    dv_buf_put_be32(out, (uint32_t)h->n_files);
    size_t table_at = out->len;
    for (size_t i = 0; i < h->n_files; i++) {
        dv_buf_putc(out, (char)h->files[i].kind);
        dv_buf_put(out, h->files[i].pack_id.id, DV_OID_BYTES);
        dv_buf_put_be64(out, 0);
        dv_buf_put_be64(out, h->files[i].length);
    }
    if (dv_buf_oom(out))
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (out->len - DV_BUNDLE_FIXED_BYTES > DV_BUNDLE_HEADER_MAX_BYTES)
        return dv_error_set(DV_EUSAGE,
                            "the bundle's header would be larger than %u MiB (name fewer "
                            "revisions or paths)",
                            DV_BUNDLE_HEADER_MAX_BYTES >> 20);
    uint8_t *p = (uint8_t *)out->ptr;
    dv_put_be32(p + 12, (uint32_t)(out->len - DV_BUNDLE_FIXED_BYTES));
    h->data_offset = out->len;
    uint64_t at = h->data_offset;
    for (size_t i = 0; i < h->n_files; i++) {
        h->files[i].offset = at;
        dv_put_be64(p + table_at + i * FILE_RECORD_BYTES + 1 + DV_OID_BYTES, at);
        if (__builtin_add_overflow(at, h->files[i].length, &at))
            return dv_error_set(DV_EUSAGE, "the bundle would be too large");
    }
    return 0;
}

int dv_bundle_parse_fixed(uint32_t *header_len, const uint8_t *data, size_t len,
                          uint64_t file_bytes, const char *where)
{
    if (len < DV_BUNDLE_FIXED_BYTES || file_bytes < DV_BUNDLE_FIXED_BYTES)
        return dv_error_set(DV_ECORRUPT, "%s is not a dv bundle: truncated at %llu bytes", where,
                            (unsigned long long)(len < file_bytes ? len : file_bytes));
    if (memcmp(data, DV_BUNDLE_MAGIC, DV_BUNDLE_MAGIC_BYTES))
        return dv_error_set(DV_ECORRUPT, "%s is not a dv bundle (it does not start with %s)", where,
                            DV_BUNDLE_MAGIC);
    uint32_t version = dv_get_be32(data + 8);
    if (version != DV_BUNDLE_VERSION)
        return dv_error_set(DV_ECORRUPT,
                            "%s is a bundle of version %u, which this dv does not read (it "
                            "reads version %u)",
                            where, version, DV_BUNDLE_VERSION);
    uint32_t n = dv_get_be32(data + 12);
    if (n > DV_BUNDLE_HEADER_MAX_BYTES ||
        (uint64_t)DV_BUNDLE_FIXED_BYTES + n + DV_BUNDLE_TRAILER_BYTES > file_bytes)
        return dv_error_set(DV_ECORRUPT,
                            "bundle %s is damaged or truncated: its header of %u bytes does not "
                            "fit in its %llu bytes (copy it again)",
                            where, n, (unsigned long long)file_bytes);
    *header_len = n;
    return 0;
}

/* A cursor over the header section. */
typedef struct reader {
    const uint8_t *p;
    size_t left;
    const char *where;
} reader;

static int truncated(const reader *r, const char *what)
{
    return dv_error_set(DV_ECORRUPT, "bundle %s is damaged: its header ends inside %s", r->where,
                        what);
}

static int take(const uint8_t **out, reader *r, size_t n, const char *what)
{
    if (n > r->left)
        return truncated(r, what);
    *out = r->p;
    r->p += n;
    r->left -= n;
    return 0;
}

static int take_u8(uint8_t *out, reader *r, const char *what)
{
    const uint8_t *p = NULL;
    int error = take(&p, r, 1, what);
    if (error == 0)
        *out = p[0];
    return error;
}

static int take_be16(uint16_t *out, reader *r, const char *what)
{
    const uint8_t *p = NULL;
    int error = take(&p, r, 2, what);
    if (error == 0)
        *out = dv_get_be16(p);
    return error;
}

/* A count of records of at least min_bytes each, which must fit in what is left. */
static int take_count(size_t *out, reader *r, size_t min_bytes, const char *what)
{
    const uint8_t *p = NULL;
    int error = take(&p, r, 4, what);
    if (error < 0)
        return error;
    uint32_t n = dv_get_be32(p);
    if ((uint64_t)n * min_bytes > r->left)
        return dv_error_set(DV_ECORRUPT,
                            "bundle %s is damaged: its header counts %u %s, more than it holds",
                            r->where, n, what);
    *out = n;
    return 0;
}

/* A string of len bytes without NUL, copied. */
static int take_string(char **out, reader *r, size_t len, const char *what)
{
    const uint8_t *p = NULL;
    int error = take(&p, r, len, what);
    if (error < 0)
        return error;
    if (memchr(p, 0, len))
        return dv_error_set(DV_ECORRUPT, "bundle %s is damaged: a %s holds a NUL byte", r->where,
                            what);
    /* copied by length: the bytes are not NUL-terminated where they lie */
    if (!(*out = malloc(len + 1)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    memcpy(*out, p, len);
    (*out)[len] = '\0';
    return 0;
}

static int parse_revs(dv_bundle_header *h, reader *r)
{
    size_t n;
    int error = take_count(&n, r, 1 + 2 + 1 + 1 + 40, "revisions");
    if (error < 0)
        return error;
    if (n && !(h->revs = calloc(n, sizeof(*h->revs))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        dv_bundle_rev *rev = &h->revs[i];
        uint16_t name_len = 0;
        uint8_t commit_len = 0;
        h->n_revs = i + 1;
        if ((error = take_u8(&rev->kind, r, "a revision")) < 0 ||
            (error = take_be16(&name_len, r, "a revision")) < 0)
            return error;
        if (rev->kind != DV_BUNDLE_REV_TIP && rev->kind != DV_BUNDLE_REV_BASE)
            return dv_error_set(DV_ECORRUPT,
                                "bundle %s is damaged: revision %zu is of unknown kind %u",
                                r->where, i + 1, rev->kind);
        if (name_len == 0 || name_len > DV_BUNDLE_NAME_MAX_BYTES)
            return dv_error_set(DV_ECORRUPT,
                                "bundle %s is damaged: revision %zu has a name of %u bytes",
                                r->where, i + 1, name_len);
        if ((error = take_string(&rev->name, r, name_len, "revision name")) < 0 ||
            (error = take_u8(&commit_len, r, "a revision")) < 0 ||
            (error = take_string(&rev->commit, r, commit_len, "commit id")) < 0)
            return error;
        if (!is_hex_commit(rev->commit))
            return dv_error_set(DV_ECORRUPT,
                                "bundle %s is damaged: revision %s has no valid commit id",
                                r->where, rev->name);
    }
    return 0;
}

static int parse_paths(dv_bundle_header *h, reader *r)
{
    size_t n;
    int error = take_count(&n, r, 2, "paths");
    if (error < 0)
        return error;
    if (n && !(h->paths = calloc(n, sizeof(*h->paths))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        uint16_t len = 0;
        h->n_paths = i + 1;
        if ((error = take_be16(&len, r, "a path")) < 0)
            return error;
        if (len > DV_BUNDLE_NAME_MAX_BYTES)
            return dv_error_set(DV_ECORRUPT, "bundle %s is damaged: path %zu has %u bytes",
                                r->where, i + 1, len);
        if ((error = take_string(&h->paths[i], r, len, "path")) < 0)
            return error;
    }
    return 0;
}

static int parse_roots(dv_bundle_header *h, reader *r)
{
    size_t n;
    int error = take_count(&n, r, ROOT_RECORD_BYTES, "roots");
    if (error < 0)
        return error;
    if (n && !(h->roots = calloc(n, sizeof(*h->roots))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    h->n_roots = n;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = NULL;
        if ((error = take(&p, r, ROOT_RECORD_BYTES, "a root")) < 0)
            return error;
        h->roots[i].type = p[0];
        memcpy(h->roots[i].id.id, p + 1, DV_OID_BYTES);
        if (p[0] != DV_OBJ_CHUNK && p[0] != DV_OBJ_MANIFEST && p[0] != DV_OBJ_TREE)
            return dv_error_set(DV_ECORRUPT, "bundle %s is damaged: root %s is of unknown type %u",
                                r->where, dv_oid_short(&h->roots[i].id), p[0]);
    }
    return 0;
}

static int parse_files(dv_bundle_header *h, reader *r, uint64_t file_bytes)
{
    size_t n;
    dv_oidset seen = DV_OIDSET_INIT;
    int error = take_count(&n, r, FILE_RECORD_BYTES, "files");
    if (error < 0)
        return error;
    if (n % 2)
        return dv_error_set(DV_ECORRUPT,
                            "bundle %s is damaged: its table holds %zu files, not a pack and an "
                            "index each",
                            r->where, n);
    if (n && !(h->files = calloc(n, sizeof(*h->files))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    h->n_files = n;
    uint64_t at = 0; /* where the next file must start */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = NULL;
        if ((error = take(&p, r, FILE_RECORD_BYTES, "the table of files")) < 0)
            goto done;
        dv_bundle_file *f = &h->files[i];
        f->kind = p[0];
        memcpy(f->pack_id.id, p + 1, DV_OID_BYTES);
        f->offset = dv_get_be64(p + 1 + DV_OID_BYTES);
        f->length = dv_get_be64(p + 1 + DV_OID_BYTES + 8);
        const char *id = dv_oid_short(&f->pack_id);
        uint8_t want = i % 2 ? DV_BUNDLE_FILE_INDEX : DV_BUNDLE_FILE_PACK;
        if (f->kind != want) {
            error = dv_error_set(DV_ECORRUPT,
                                 "bundle %s is damaged: file %zu of its table (pack %s) should "
                                 "be %s",
                                 r->where, i + 1, id, i % 2 ? "an index" : "a pack");
            goto done;
        }
        if (i % 2 && dv_oid_cmp(&f->pack_id, &h->files[i - 1].pack_id)) {
            error = dv_error_set(DV_ECORRUPT,
                                 "bundle %s is damaged: the index of pack %s follows pack %s",
                                 r->where, id, dv_oid_short(&h->files[i - 1].pack_id));
            goto done;
        }
        if (!(i % 2)) {
            int added = dv_oidset_add(&seen, &f->pack_id);
            if (added < 0) {
                error = added;
                goto done;
            }
            if (!added) {
                error = dv_error_set(DV_ECORRUPT, "bundle %s is damaged: it holds pack %s twice",
                                     r->where, id);
                goto done;
            }
        }
        uint64_t min = f->kind == DV_BUNDLE_FILE_PACK
                           ? DV_PACK_HEADER_BYTES + DV_PACK_TRAILER_BYTES
                           : DV_INDEX_HEADER_BYTES + DV_INDEX_FANOUT_BYTES + DV_INDEX_TRAILER_BYTES;
        if (f->length < min ||
            (f->kind == DV_BUNDLE_FILE_INDEX && f->length > DV_BUNDLE_INDEX_MAX_BYTES)) {
            error = dv_error_set(DV_ECORRUPT,
                                 "bundle %s is damaged: its %s of pack %s is %llu bytes, which "
                                 "no %s is",
                                 r->where, f->kind == DV_BUNDLE_FILE_PACK ? "copy" : "index", id,
                                 (unsigned long long)f->length,
                                 f->kind == DV_BUNDLE_FILE_PACK ? "pack" : "pack index");
            goto done;
        }
        if (i == 0)
            at = f->offset; /* checked against the section's end below */
        uint64_t end;
        if (f->offset != at || __builtin_add_overflow(f->offset, f->length, &end) ||
            end > file_bytes - DV_BUNDLE_TRAILER_BYTES) {
            error = dv_error_set(DV_ECORRUPT,
                                 "bundle %s is damaged or truncated: file %zu of its table (pack "
                                 "%s) at offset %llu, %llu bytes, does not lie where it should "
                                 "within the bundle's %llu bytes (copy it again)",
                                 r->where, i + 1, id, (unsigned long long)f->offset,
                                 (unsigned long long)f->length, (unsigned long long)file_bytes);
            goto done;
        }
        at = end;
    }
done:
    dv_oidset_release(&seen);
    return error;
}

int dv_bundle_parse(dv_bundle_header *out, const uint8_t *data, size_t len, uint64_t file_bytes,
                    const char *where)
{
    uint32_t header_len;
    memset(out, 0, sizeof(*out));
    int error = dv_bundle_parse_fixed(&header_len, data, len, file_bytes, where);
    if (error < 0)
        return error;
    if (len - DV_BUNDLE_FIXED_BYTES < header_len)
        return dv_error_set(DV_ECORRUPT, "bundle %s is truncated inside its header", where);
    reader r = {data + DV_BUNDLE_FIXED_BYTES, header_len, where};
    out->data_offset = (uint64_t)DV_BUNDLE_FIXED_BYTES + header_len;
    if ((error = parse_revs(out, &r)) < 0 || (error = parse_paths(out, &r)) < 0 ||
        (error = parse_roots(out, &r)) < 0 || (error = parse_files(out, &r, file_bytes)) < 0)
        goto done;
    if (r.left) {
        error = dv_error_set(DV_ECORRUPT,
                             "bundle %s is damaged: %zu bytes of its header follow the table",
                             where, r.left);
        goto done;
    }
    uint64_t first = out->n_files ? out->files[0].offset : out->data_offset;
    uint64_t end = out->n_files
                       ? out->files[out->n_files - 1].offset + out->files[out->n_files - 1].length
                       : out->data_offset;
    if (first != out->data_offset || end != file_bytes - DV_BUNDLE_TRAILER_BYTES) {
        error = dv_error_set(DV_ECORRUPT,
                             "bundle %s is damaged or truncated: its files span bytes %llu to "
                             "%llu, not %llu to %llu (before the trailer)",
                             where, (unsigned long long)first, (unsigned long long)end,
                             (unsigned long long)out->data_offset,
                             (unsigned long long)(file_bytes - DV_BUNDLE_TRAILER_BYTES));
        goto done;
    }
done:
    if (error < 0)
        dv_bundle_header_release(out);
    return error;
}

int dv_bundle_is_bundle(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    uint8_t magic[DV_BUNDLE_MAGIC_BYTES];
    int is = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
             pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
             !memcmp(magic, DV_BUNDLE_MAGIC, DV_BUNDLE_MAGIC_BYTES);
    close(fd);
    return is;
}

int dv_bundle_open(dv_bundle **out, const char *path)
{
    dv_bundle *b = calloc(1, sizeof(*b));
    uint8_t *head = NULL;
    int error = 0;
    *out = NULL;
    if (!b || !(b->path = strdup(path))) {
        free(b);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    struct stat st;
    if ((b->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        error = errno == ENOENT ? dv_error_set(DV_ENOTFOUND, "there is no bundle %s", path)
                                : dv_error_errno("cannot open bundle %s", path);
        goto done;
    }
    if (fstat(b->fd, &st) < 0) {
        error = dv_error_errno("cannot read bundle %s", path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        error = dv_error_set(DV_EUSAGE, "bundle %s is not a regular file", path);
        goto done;
    }
    b->bytes = (uint64_t)st.st_size;
    uint8_t fixed[DV_BUNDLE_FIXED_BYTES];
    size_t got = 0;
    uint32_t header_len;
    if ((error = dv_fs_pread_full(b->fd, fixed, sizeof(fixed), 0, &got, path)) < 0 ||
        (error = dv_bundle_parse_fixed(&header_len, fixed, got, b->bytes, path)) < 0)
        goto done;
    size_t head_len = DV_BUNDLE_FIXED_BYTES + (size_t)header_len;
    if (!(head = malloc(head_len))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = dv_fs_pread_all(b->fd, head, head_len, 0, path)) < 0 ||
        (error = dv_fs_pread_all(b->fd, b->trailer.id, DV_OID_BYTES,
                                 b->bytes - DV_BUNDLE_TRAILER_BYTES, path)) < 0 ||
        (error = dv_bundle_parse(&b->header, head, head_len, b->bytes, path)) < 0)
        goto done;
    *out = b;
    b = NULL;
done:
    free(head);
    dv_bundle_free(b);
    return error;
}

void dv_bundle_free(dv_bundle *bundle)
{
    if (!bundle)
        return;
    if (bundle->fd >= 0)
        close(bundle->fd);
    free(bundle->path);
    dv_bundle_header_release(&bundle->header);
    free(bundle);
}

int dv_bundle_check_sum(dv_bundle *b)
{
    uint8_t *buf = malloc(COPY_BUFFER_BYTES);
    dv_hasher *hasher = NULL;
    int error;
    if (!buf)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if ((error = dv_hasher_new(&hasher)) < 0)
        goto done;
    uint64_t end = b->bytes - DV_BUNDLE_TRAILER_BYTES;
    for (uint64_t at = 0; at < end;) {
        size_t n = end - at < COPY_BUFFER_BYTES ? (size_t)(end - at) : COPY_BUFFER_BYTES;
        if ((error = dv_fs_pread_all(b->fd, buf, n, at, b->path)) < 0 ||
            (error = dv_hasher_update(hasher, buf, n)) < 0)
            goto done;
        at += n;
    }
    dv_oid sum;
    if ((error = dv_hasher_final(&sum, hasher)) < 0)
        goto done;
    if (dv_oid_cmp(&sum, &b->trailer))
        error = dv_error_set(DV_ECORRUPT,
                             "bundle %s is damaged: its checksum does not match its bytes (the "
                             "file was changed or cut short; copy it again)",
                             b->path);
done:
    dv_hasher_free(hasher);
    free(buf);
    return error;
}

int dv_bundle_read(dv_bundle *b, size_t i, uint64_t offset, size_t len, void *buf)
{
    const dv_bundle_file *f = &b->header.files[i];
    uint64_t end;
    if (__builtin_add_overflow(offset, (uint64_t)len, &end) || end > f->length)
        return dv_error_set(DV_ECORRUPT,
                            "bundle %s: a read of %zu bytes at %llu is outside the %llu bytes "
                            "of pack %s's %s",
                            b->path, len, (unsigned long long)offset, (unsigned long long)f->length,
                            dv_oid_short(&f->pack_id),
                            f->kind == DV_BUNDLE_FILE_PACK ? "file" : "index");
    return dv_fs_pread_all(b->fd, buf, len, f->offset + offset, b->path);
}

int dv_bundle_copy_out(dv_bundle *b, size_t i, int fd, const char *path)
{
    const dv_bundle_file *f = &b->header.files[i];
    uint8_t *buf = malloc(COPY_BUFFER_BYTES);
    int error = 0;
    if (!buf)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (uint64_t at = 0; at < f->length && !error;) {
        size_t n =
            f->length - at < COPY_BUFFER_BYTES ? (size_t)(f->length - at) : COPY_BUFFER_BYTES;
        if ((error = dv_bundle_read(b, i, at, n, buf)) == 0)
            error = dv_fs_write_all(fd, buf, n, path);
        at += n;
    }
    free(buf);
    return error;
}

int dv_bundle_file_name(dv_buf *out, const dv_bundle_file *f)
{
    dv_buf_clear(out);
    return dv_buf_printf(out, "packs/%s.%s", dv_oid_hex(&f->pack_id),
                         f->kind == DV_BUNDLE_FILE_PACK ? "pack" : "idx");
}

long dv_bundle_find_name(const dv_bundle *b, const char *name)
{
    static const char prefix[] = "packs/";
    size_t len = strlen(name), plen = sizeof(prefix) - 1;
    dv_oid id;
    uint8_t kind;
    if (len == plen + DV_OID_HEX_CHARS + 5 && !strcmp(name + plen + DV_OID_HEX_CHARS, ".pack"))
        kind = DV_BUNDLE_FILE_PACK;
    else if (len == plen + DV_OID_HEX_CHARS + 4 && !strcmp(name + plen + DV_OID_HEX_CHARS, ".idx"))
        kind = DV_BUNDLE_FILE_INDEX;
    else
        return -1;
    if (strncmp(name, prefix, plen) || dv_oid_fromhex(&id, name + plen, DV_OID_HEX_CHARS) < 0)
        return -1;
    for (size_t i = 0; i < b->header.n_files; i++)
        if (b->header.files[i].kind == kind && !dv_oid_cmp(&b->header.files[i].pack_id, &id))
            return (long)i;
    return -1;
}
