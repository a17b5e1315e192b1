/*
 * object: canonical encodings of file manifests and trees (docs/formats.md).
 * Encoders refuse to write what the decoders would reject, so every object
 * dv stores can be read back; decoders check every length before using it.
 */
#include "core/object/object.h"

#include "core/base/pathname.h"

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/quote.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAGIC "DVM1"
#define MANIFEST_HEADER_BYTES 16 /* magic, be64 size, be32 n_chunks */
#define MANIFEST_RECORD_BYTES 36 /* chunk id, be32 length */

#define TREE_MAGIC "DVT1"
#define TREE_HEADER_BYTES 8 /* magic, be32 n_entries */
/* be16 name_len, u8 mode, id, be64 size; the name's own bytes are not counted so that an
 * empty name is reported as such rather than as a short buffer */
#define TREE_ENTRY_MIN_BYTES (2 + 1 + DV_OID_BYTES + 8)
#define TREE_NAME_MAX_BYTES 65535

uint8_t dv_object_type_of_mode(uint8_t mode)
{
    return mode == DV_MODE_DIR       ? DV_OBJ_TREE
           : mode == DV_MODE_SYMLINK ? DV_OBJ_CHUNK
                                     : DV_OBJ_MANIFEST;
}

const char *dv_object_type_name(int type)
{
    switch (type) {
    case DV_OBJ_CHUNK:
        return "chunk";
    case DV_OBJ_MANIFEST:
        return "manifest";
    case DV_OBJ_TREE:
        return "tree";
    default:
        return "unknown";
    }
}

/* ---- manifests ---- */

int dv_manifest_append(dv_manifest *m, const dv_oid *id, uint32_t len)
{
    assert(m && id);
    if (len == 0)
        return dv_error_set(DV_EUSAGE, "manifest: cannot append a zero-length chunk");
    if (m->size > UINT64_MAX - len)
        return dv_error_set(DV_EUSAGE, "manifest: file size overflows 64 bits");
    if (m->n_chunks == m->alloc) {
        size_t alloc = m->alloc ? m->alloc * 2 : 16;
        if (alloc < m->alloc || alloc > SIZE_MAX / sizeof(*m->chunks))
            return dv_error_set(DV_ENOMEM, "manifest: too many chunks");
        dv_manifest_entry *chunks = realloc(m->chunks, alloc * sizeof(*chunks));
        if (!chunks)
            return dv_error_set(DV_ENOMEM, "out of memory growing a manifest to %zu chunks", alloc);
        m->chunks = chunks;
        m->alloc = alloc;
    }
    m->chunks[m->n_chunks].id = *id;
    m->chunks[m->n_chunks].len = len;
    m->n_chunks++;
    m->size += len;
    return 0;
}

int dv_manifest_encode(dv_buf *out, const dv_manifest *m)
{
    assert(out && m);
    int error = 0;
    size_t start = out->len;
    uint64_t sum = 0;

    if (m->n_chunks > UINT32_MAX) {
        error = dv_error_set(DV_EUSAGE, "manifest: %zu chunks; at most %lu fit the format",
                             m->n_chunks, (unsigned long)UINT32_MAX);
        goto done;
    }
    for (size_t i = 0; i < m->n_chunks; i++) {
        if (m->chunks[i].len == 0) {
            error = dv_error_set(DV_EUSAGE, "manifest: chunk %zu has length 0", i);
            goto done;
        }
        sum += m->chunks[i].len; /* at most 2^32 chunks of < 2^32 bytes: no overflow */
    }
    if (sum != m->size) {
        error =
            dv_error_set(DV_EUSAGE, "manifest: size %llu is not the sum of the chunk lengths %llu",
                         (unsigned long long)m->size, (unsigned long long)sum);
        goto done;
    }

    if ((error = dv_buf_grow(out, MANIFEST_HEADER_BYTES +
                                      m->n_chunks * (size_t)MANIFEST_RECORD_BYTES)) < 0)
        goto done;
    if ((error = dv_buf_put(out, MANIFEST_MAGIC, 4)) < 0 ||
        (error = dv_buf_put_be64(out, m->size)) < 0 ||
        (error = dv_buf_put_be32(out, (uint32_t)m->n_chunks)) < 0)
        goto done;
    for (size_t i = 0; i < m->n_chunks; i++) {
        if ((error = dv_buf_put(out, m->chunks[i].id.id, DV_OID_BYTES)) < 0 ||
            (error = dv_buf_put_be32(out, m->chunks[i].len)) < 0)
            goto done;
    }

done:
    if (error < 0)
        dv_buf_truncate(out, start);
    return error;
}

int dv_manifest_decode(dv_manifest *out, const void *data, size_t len)
{
    assert(out && (data || len == 0));
    const uint8_t *p = data;
    dv_manifest m = DV_MANIFEST_INIT;
    char shown[DV_QUOTE_BUF_BYTES];
    int error = 0;

    *out = (dv_manifest)DV_MANIFEST_INIT;
    if (len < MANIFEST_HEADER_BYTES) {
        error = dv_error_set(DV_ECORRUPT,
                             "manifest: truncated header (%zu bytes); expected at least %d bytes",
                             len, MANIFEST_HEADER_BYTES);
        goto done;
    }
    if (memcmp(p, MANIFEST_MAGIC, 4) != 0) {
        error = dv_error_set(DV_ECORRUPT, "manifest: bad magic '%s'; expected '%s'",
                             dv_quote_bytes(shown, p, 4), MANIFEST_MAGIC);
        goto done;
    }
    uint64_t size = dv_get_be64(p + 4);
    uint32_t n_chunks = dv_get_be32(p + 12);
    uint64_t want = MANIFEST_HEADER_BYTES + (uint64_t)n_chunks * MANIFEST_RECORD_BYTES;
    if ((uint64_t)len != want) {
        error = dv_error_set(DV_ECORRUPT,
                             "manifest: %zu bytes for %lu chunks; expected 16 + 36 * %lu = "
                             "%llu bytes",
                             len, (unsigned long)n_chunks, (unsigned long)n_chunks,
                             (unsigned long long)want);
        goto done;
    }

    if (n_chunks > 0) {
        /* len == want bounds n_chunks by the input size, so this cannot be forced huge. */
        m.chunks = malloc((size_t)n_chunks * sizeof(*m.chunks));
        if (!m.chunks) {
            error = dv_error_set(DV_ENOMEM, "out of memory decoding a manifest of %lu chunks",
                                 (unsigned long)n_chunks);
            goto done;
        }
        m.alloc = n_chunks;
    }
    uint64_t sum = 0;
    const uint8_t *record = p + MANIFEST_HEADER_BYTES;
    for (uint32_t i = 0; i < n_chunks; i++, record += MANIFEST_RECORD_BYTES) {
        dv_manifest_entry *entry = &m.chunks[i];
        memcpy(entry->id.id, record, DV_OID_BYTES);
        entry->len = dv_get_be32(record + DV_OID_BYTES);
        if (entry->len == 0) {
            error = dv_error_set(DV_ECORRUPT,
                                 "manifest: chunk %lu has length 0; expected at least 1 byte",
                                 (unsigned long)i);
            goto done;
        }
        sum += entry->len; /* < 2^32 records of < 2^32: cannot overflow 64 bits */
        m.n_chunks++;
    }
    if (sum != size) {
        error = dv_error_set(DV_ECORRUPT,
                             "manifest: size %llu; expected the sum of the chunk lengths, %llu",
                             (unsigned long long)size, (unsigned long long)sum);
        goto done;
    }
    m.size = size;
    *out = m;
    m = (dv_manifest)DV_MANIFEST_INIT;

done:
    dv_manifest_release(&m);
    return error;
}

/* ---- manifest lists ---- */

#define LIST_MAGIC "DVL1"
#define LIST_HEADER_BYTES 16 /* magic, be64 size, be32 n_parts */
#define LIST_RECORD_BYTES 40 /* manifest id, be64 size */

int dv_manifest_is_list(const void *data, size_t len)
{
    return len >= 4 && !memcmp(data, LIST_MAGIC, 4);
}

int dv_manifest_list_append(dv_manifest_list *l, const dv_oid *id, uint64_t size)
{
    if (l->n_parts == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 16;
        dv_manifest_part *parts = realloc(l->parts, alloc * sizeof(*parts));
        if (!parts)
            return dv_error_set(DV_ENOMEM, "out of memory growing a manifest list");
        l->parts = parts;
        l->alloc = alloc;
    }
    if (__builtin_add_overflow(l->size, size, &l->size))
        return dv_error_set(DV_EUSAGE, "manifest list: file size overflows 64 bits");
    l->parts[l->n_parts].id = *id;
    l->parts[l->n_parts].size = size;
    l->n_parts++;
    return 0;
}

int dv_manifest_list_encode(dv_buf *out, const dv_manifest_list *l)
{
    size_t start = out->len;
    int error = 0;
    if (l->n_parts < 2 ||
        l->n_parts > (DV_OBJECT_MAX_BYTES - LIST_HEADER_BYTES) / LIST_RECORD_BYTES)
        return dv_error_set(
            DV_EUSAGE, "manifest list: %zu parts; expected 2 to %u", l->n_parts,
            (unsigned)((DV_OBJECT_MAX_BYTES - LIST_HEADER_BYTES) / LIST_RECORD_BYTES));
    if ((error = dv_buf_grow(out, LIST_HEADER_BYTES + l->n_parts * LIST_RECORD_BYTES)) < 0 ||
        (error = dv_buf_put(out, LIST_MAGIC, 4)) < 0 ||
        (error = dv_buf_put_be64(out, l->size)) < 0 ||
        (error = dv_buf_put_be32(out, (uint32_t)l->n_parts)) < 0)
        goto done;
    for (size_t i = 0; i < l->n_parts && !error; i++)
        if (!(error = dv_buf_put(out, l->parts[i].id.id, DV_OID_BYTES)))
            error = dv_buf_put_be64(out, l->parts[i].size);
done:
    if (error < 0)
        dv_buf_truncate(out, start);
    return error;
}

int dv_manifest_list_decode(dv_manifest_list *out, const void *data, size_t len)
{
    const uint8_t *p = data;
    dv_manifest_list l = DV_MANIFEST_LIST_INIT;
    int error = 0;
    *out = (dv_manifest_list)DV_MANIFEST_LIST_INIT;
    if (len < LIST_HEADER_BYTES || !dv_manifest_is_list(data, len))
        return dv_error_set(DV_ECORRUPT, "manifest list: truncated header or bad magic; "
                                         "expected 'DVL1' and 16 bytes");
    uint64_t size = dv_get_be64(p + 4);
    uint32_t n = dv_get_be32(p + 12);
    uint64_t want = LIST_HEADER_BYTES + (uint64_t)n * LIST_RECORD_BYTES;
    if ((uint64_t)len != want)
        return dv_error_set(DV_ECORRUPT,
                            "manifest list: %zu bytes for %lu parts; expected 16 + 40 * %lu = "
                            "%llu bytes",
                            len, (unsigned long)n, (unsigned long)n, (unsigned long long)want);
    if (n < 2)
        return dv_error_set(DV_ECORRUPT,
                            "manifest list: %lu part%s; expected at least 2 (a smaller file is "
                            "a plain manifest)",
                            (unsigned long)n, n == 1 ? "" : "s");
    /* len == want bounds n by the input size */
    if (!(l.parts = malloc((size_t)n * sizeof(*l.parts))))
        return dv_error_set(DV_ENOMEM, "out of memory decoding a manifest list of %lu parts",
                            (unsigned long)n);
    l.alloc = n;
    const uint8_t *record = p + LIST_HEADER_BYTES;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++, record += LIST_RECORD_BYTES) {
        dv_manifest_part *part = &l.parts[i];
        memcpy(part->id.id, record, DV_OID_BYTES);
        part->size = dv_get_be64(record + DV_OID_BYTES);
        if (part->size == 0 || __builtin_add_overflow(sum, part->size, &sum)) {
            error = dv_error_set(DV_ECORRUPT,
                                 "manifest list: part %lu has size %llu; expected at least 1 "
                                 "and a total below 2^64",
                                 (unsigned long)i, (unsigned long long)part->size);
            goto done;
        }
        l.n_parts++;
    }
    if (sum != size) {
        error = dv_error_set(DV_ECORRUPT,
                             "manifest list: size %llu; expected the sum of the part sizes, %llu",
                             (unsigned long long)size, (unsigned long long)sum);
        goto done;
    }
    l.size = size;
    *out = l;
    l = (dv_manifest_list)DV_MANIFEST_LIST_INIT;
done:
    dv_manifest_list_release(&l);
    return error;
}

void dv_manifest_list_release(dv_manifest_list *l)
{
    if (!l)
        return;
    free(l->parts);
    *l = (dv_manifest_list)DV_MANIFEST_LIST_INIT;
}

int dv_manifest_list_check_part(const dv_manifest_list *l, size_t i, const dv_manifest *m,
                                const dv_oid *list_id)
{
    int last = i + 1 == l->n_parts;
    if (m->size != l->parts[i].size)
        return dv_error_set(DV_ECORRUPT,
                            "manifest list %s: part %zu holds %llu bytes; the list says %llu",
                            dv_oid_hex(list_id), i, (unsigned long long)m->size,
                            (unsigned long long)l->parts[i].size);
    if (last ? m->n_chunks > DV_MANIFEST_PART_CHUNKS : m->n_chunks != DV_MANIFEST_PART_CHUNKS)
        return dv_error_set(DV_ECORRUPT, "manifest list %s: part %zu has %zu chunks; expected %s%u",
                            dv_oid_hex(list_id), i, m->n_chunks, last ? "at most " : "",
                            DV_MANIFEST_PART_CHUNKS);
    return 0;
}

void dv_manifest_clear(dv_manifest *m)
{
    if (!m)
        return;
    m->size = 0;
    m->n_chunks = 0;
}

void dv_manifest_release(dv_manifest *m)
{
    if (!m)
        return;
    free(m->chunks);
    *m = (dv_manifest)DV_MANIFEST_INIT;
}

/* ---- trees ---- */

/* NULL if name is a valid entry name, else what is wrong with it ("contains '/'"). */
static const char *name_problem(const char *name, size_t len)
{
    if (len > TREE_NAME_MAX_BYTES)
        return "is longer than 65535 bytes";
    return dv_pathname_problem(name, len);
}

static int mode_is_known(unsigned mode)
{
    return mode >= DV_MODE_FILE && mode <= DV_MODE_DIR;
}

/* memcmp order over the common length; on a common prefix the shorter name is first. */
static int name_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t common = a_len < b_len ? a_len : b_len;
    int cmp = common ? memcmp(a, b, common) : 0;
    if (cmp)
        return cmp;
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const dv_tree_entry *x = a, *y = b;
    return name_cmp(x->name, x->name_len, y->name, y->name_len);
}

int dv_tree_check_name(const char *name, size_t len)
{
    assert(name || len == 0);
    char shown[DV_QUOTE_BUF_BYTES];
    const char *problem = name_problem(name, len);
    if (problem)
        return dv_error_set(DV_EUSAGE, "entry name '%s' %s", dv_quote_bytes(shown, name, len),
                            problem);
    return 0;
}

int dv_tree_add(dv_tree *t, const char *name, size_t name_len, uint8_t mode, const dv_oid *id,
                uint64_t size)
{
    assert(t && id);
    int error;
    if ((error = dv_tree_check_name(name, name_len)) < 0)
        return error;
    if (!mode_is_known(mode))
        return dv_error_set(DV_EUSAGE, "tree: unknown mode %u for an entry; expected 1 to 4", mode);
    if (t->n_entries == t->alloc) {
        size_t alloc = t->alloc ? t->alloc * 2 : 16;
        if (alloc < t->alloc || alloc > SIZE_MAX / sizeof(*t->entries))
            return dv_error_set(DV_ENOMEM, "tree: too many entries");
        dv_tree_entry *entries = realloc(t->entries, alloc * sizeof(*entries));
        if (!entries)
            return dv_error_set(DV_ENOMEM, "out of memory growing a tree to %zu entries", alloc);
        t->entries = entries;
        t->alloc = alloc;
    }
    char *copy = malloc(name_len + 1);
    if (!copy)
        return dv_error_set(DV_ENOMEM, "out of memory copying a %zu-byte entry name", name_len);
    memcpy(copy, name, name_len);
    copy[name_len] = '\0';

    dv_tree_entry *entry = &t->entries[t->n_entries++];
    entry->name = copy;
    entry->name_len = name_len;
    entry->mode = mode;
    entry->id = *id;
    entry->size = size;
    return 0;
}

int dv_tree_sort(dv_tree *t)
{
    assert(t);
    char shown[DV_QUOTE_BUF_BYTES];
    if (t->n_entries > 1)
        qsort(t->entries, t->n_entries, sizeof(*t->entries), entry_cmp);
    for (size_t i = 1; i < t->n_entries; i++) {
        const dv_tree_entry *e = &t->entries[i];
        if (entry_cmp(&t->entries[i - 1], e) == 0)
            return dv_error_set(DV_EUSAGE, "tree: duplicate entry name '%s'",
                                dv_quote_bytes(shown, e->name, e->name_len));
    }
    return 0;
}

int dv_tree_encode(dv_buf *out, const dv_tree *t)
{
    assert(out && t);
    char shown[DV_QUOTE_BUF_BYTES];
    size_t start = out->len;
    int error = 0;

    if (t->n_entries > UINT32_MAX) {
        error = dv_error_set(DV_EUSAGE, "tree: %zu entries; at most %lu fit the format",
                             t->n_entries, (unsigned long)UINT32_MAX);
        goto done;
    }
    for (size_t i = 0; i < t->n_entries; i++) {
        const dv_tree_entry *e = &t->entries[i];
        const char *problem = name_problem(e->name, e->name_len);
        if (problem) {
            error = dv_error_set(DV_EUSAGE, "tree: entry %zu name '%s' %s", i,
                                 dv_quote_bytes(shown, e->name, e->name_len), problem);
            goto done;
        }
        if (!mode_is_known(e->mode)) {
            error = dv_error_set(DV_EUSAGE, "tree: entry %zu has unknown mode %u", i, e->mode);
            goto done;
        }
        if (i > 0 && entry_cmp(&t->entries[i - 1], e) >= 0) {
            error = dv_error_set(DV_EUSAGE,
                                 "tree: entry %zu '%s' is out of order or a duplicate; sort the "
                                 "tree before encoding",
                                 i, dv_quote_bytes(shown, e->name, e->name_len));
            goto done;
        }
    }

    if ((error = dv_buf_put(out, TREE_MAGIC, 4)) < 0 ||
        (error = dv_buf_put_be32(out, (uint32_t)t->n_entries)) < 0)
        goto done;
    for (size_t i = 0; i < t->n_entries; i++) {
        const dv_tree_entry *e = &t->entries[i];
        uint8_t mode = e->mode;
        if ((error = dv_buf_put_be16(out, (uint16_t)e->name_len)) < 0 ||
            (error = dv_buf_put(out, e->name, e->name_len)) < 0 ||
            (error = dv_buf_put(out, &mode, 1)) < 0 ||
            (error = dv_buf_put(out, e->id.id, DV_OID_BYTES)) < 0 ||
            (error = dv_buf_put_be64(out, e->size)) < 0)
            goto done;
    }

done:
    if (error < 0)
        dv_buf_truncate(out, start);
    return error;
}

int dv_tree_decode(dv_tree *out, const void *data, size_t len)
{
    return dv_tree_decode_in(out, data, len, NULL);
}

int dv_tree_decode_in(dv_tree *out, const void *data, size_t len, const char *dir)
{
    assert(out && (data || len == 0));
    const uint8_t *p = data;
    dv_tree t = DV_TREE_INIT;
    char shown[DV_QUOTE_BUF_BYTES];
    int error = 0;

    *out = (dv_tree)DV_TREE_INIT;
    if (len < TREE_HEADER_BYTES) {
        error = dv_error_set(DV_ECORRUPT,
                             "tree: truncated header (%zu bytes); expected at least %d bytes", len,
                             TREE_HEADER_BYTES);
        goto done;
    }
    if (memcmp(p, TREE_MAGIC, 4) != 0) {
        error = dv_error_set(DV_ECORRUPT, "tree: bad magic '%s'; expected '%s'",
                             dv_quote_bytes(shown, p, 4), TREE_MAGIC);
        goto done;
    }
    uint32_t n_entries = dv_get_be32(p + 4);
    size_t body = len - TREE_HEADER_BYTES;
    /* Check the count against the bytes present before allocating for it. */
    if (n_entries > body / TREE_ENTRY_MIN_BYTES) {
        error = dv_error_set(DV_ECORRUPT,
                             "tree: header says %lu entries but only %zu bytes follow; expected "
                             "at least %d bytes per entry",
                             (unsigned long)n_entries, body, TREE_ENTRY_MIN_BYTES);
        goto done;
    }
    if (n_entries > 0) {
        t.entries = calloc(n_entries, sizeof(*t.entries));
        if (!t.entries) {
            error = dv_error_set(DV_ENOMEM, "out of memory decoding a tree of %lu entries",
                                 (unsigned long)n_entries);
            goto done;
        }
        t.alloc = n_entries;
    }

    size_t off = TREE_HEADER_BYTES;
    for (uint32_t i = 0; i < n_entries; i++) {
        size_t entry_off = off;
        if (len - off < 2) {
            error = dv_error_set(DV_ECORRUPT,
                                 "tree: entry %lu truncated at offset %zu; expected a 2-byte "
                                 "name length",
                                 (unsigned long)i, off);
            goto done;
        }
        size_t name_len = dv_get_be16(p + off);
        off += 2;
        if (len - off < name_len + 1 + DV_OID_BYTES + 8) {
            error = dv_error_set(DV_ECORRUPT,
                                 "tree: entry %lu at offset %zu truncated; expected %zu more "
                                 "bytes, found %zu",
                                 (unsigned long)i, entry_off, name_len + 1 + DV_OID_BYTES + 8,
                                 len - off);
            goto done;
        }
        const char *name = (const char *)p + off;
        const char *problem = name_problem(name, name_len);
        if (problem && dir) {
            error = dv_error_set(DV_ECORRUPT, "%s%s%s: tree entry %lu: the name %s", dir,
                                 dir[0] ? "/" : "", dv_quote_bytes(shown, name, name_len),
                                 (unsigned long)i, problem);
            goto done;
        }
        if (problem) {
            error = dv_error_set(DV_ECORRUPT, "tree: entry %lu name %s%s%s%s", (unsigned long)i,
                                 problem, name_len ? ": '" : "",
                                 name_len ? dv_quote_bytes(shown, name, name_len) : "",
                                 name_len ? "'" : "");
            goto done;
        }
        off += name_len;
        uint8_t mode = p[off++];
        if (!mode_is_known(mode)) {
            error = dv_error_set(DV_ECORRUPT,
                                 "tree: entry %lu '%s' has unknown mode %u; expected 1 (file), "
                                 "2 (exec), 3 (symlink) or 4 (dir)",
                                 (unsigned long)i, dv_quote_bytes(shown, name, name_len), mode);
            goto done;
        }
        if (i > 0) {
            const dv_tree_entry *prev = &t.entries[i - 1];
            int cmp = name_cmp(prev->name, prev->name_len, name, name_len);
            if (cmp >= 0) {
                error =
                    dv_error_set(DV_ECORRUPT,
                                 "tree: entry %lu name '%s' %s entry %lu; expected names in "
                                 "strictly increasing byte order",
                                 (unsigned long)i, dv_quote_bytes(shown, name, name_len),
                                 cmp == 0 ? "duplicates" : "sorts before", (unsigned long)(i - 1));
                goto done;
            }
        }

        dv_tree_entry *e = &t.entries[i];
        e->name = malloc(name_len + 1);
        if (!e->name) {
            error =
                dv_error_set(DV_ENOMEM, "out of memory copying a %zu-byte entry name", name_len);
            goto done;
        }
        memcpy(e->name, name, name_len);
        e->name[name_len] = '\0';
        e->name_len = name_len;
        e->mode = mode;
        t.n_entries++;
        memcpy(e->id.id, p + off, DV_OID_BYTES);
        off += DV_OID_BYTES;
        e->size = dv_get_be64(p + off);
        off += 8;
    }
    if (off != len) {
        error = dv_error_set(DV_ECORRUPT,
                             "tree: %zu trailing bytes after the last of %lu entries; expected "
                             "the encoding to end at offset %zu",
                             len - off, (unsigned long)n_entries, off);
        goto done;
    }
    *out = t;
    t = (dv_tree)DV_TREE_INIT;

done:
    dv_tree_release(&t);
    return error;
}

const dv_tree_entry *dv_tree_find(const dv_tree *t, const char *name, size_t name_len)
{
    assert(t && (name || name_len == 0));
    size_t lo = 0, hi = t->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const dv_tree_entry *e = &t->entries[mid];
        int cmp = name_cmp(e->name, e->name_len, name, name_len);
        if (cmp == 0)
            return e;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void dv_tree_release(dv_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_entries; i++)
        free(t->entries[i].name);
    free(t->entries);
    *t = (dv_tree)DV_TREE_INIT;
}
