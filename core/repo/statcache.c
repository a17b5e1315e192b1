/*
 * statcache: the `.dv/index` stat cache. Entries are kept in memory in their on-disk record
 * encoding: the loaded file is read in one piece and its records are used (and updated) in
 * place, while new entries get a record of their own. An open-addressing hash table (linear
 * probing) finds a record by path. Since the loaded records are sorted, saving is a merge of
 * them with the sorted new records, so a lookup touches two places in memory and a save of
 * an unchanged set of paths sorts nothing.
 */
#include "core/repo/statcache.h"

#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/fs.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#define STATCACHE_MAGIC "DVSC"
#define STATCACHE_MAGIC_BYTES 4
/* magic, be32 version, be32 entry count */
#define STATCACHE_HEADER_BYTES 12
#define STATCACHE_TRAILER_BYTES DV_OID_BYTES
#define STATCACHE_FILE_MODE 0644

/*
 * A record: be32 path_len, the path bytes, then these fields (offsets from the end of the
 * path): be64 size, be64 mtime_ns, be64 ctime_ns, be64 inode, be32 st_mode, be64 hashed_ns,
 * the 32-byte id.
 */
#define FIELD_SIZE 0
#define FIELD_MTIME_NS 8
#define FIELD_CTIME_NS 16
#define FIELD_INODE 24
#define FIELD_MODE 32
#define FIELD_HASHED_NS 36
#define FIELD_ID 44
#define FIELDS_BYTES (FIELD_ID + DV_OID_BYTES)
#define RECORD_BYTES(path_len) (4 + (size_t)(path_len) + FIELDS_BYTES)
/* In memory only: set in a record's path_len once its entry is removed. Paths are at most
 * 65535 bytes, so a valid file never has this bit set. */
#define RECORD_REMOVED 0x80000000u

#define SLOT_OWNED 0x80000000u /* the record was allocated on its own, not loaded */
#define STATCACHE_MIN_SLOTS 16
/* Buffers at least this large are aligned to it and offered huge pages (see alloc_big). */
#define STATCACHE_HUGE_PAGE_BYTES ((size_t)2 << 20)

struct statcache_slot {
    uint8_t *record; /* NULL: empty slot */
    uint32_t hash;
    uint32_t info; /* path_len, | SLOT_OWNED */
};

struct dv_statcache {
    struct statcache_slot *slots;
    size_t n_slots; /* a power of two, at least twice n_entries */
    size_t n_entries;
    uint8_t **owned; /* records allocated on their own, in insertion order; removed ones
                        stay (marked RECORD_REMOVED) until compact_owned frees them */
    size_t owned_len;
    size_t owned_alloc;
    size_t n_owned;       /* entries with a record of their own: the unremoved ones in owned */
    size_t body_bytes;    /* sum of the record sizes of all entries */
    uint8_t *file_data;   /* the loaded file; loaded records live in it */
    size_t file_body_end; /* end of the loaded records in file_data */
    int dirty;            /* differs from the file on disk */
    int discarded;        /* the file on disk was damaged and ignored */
};

/*
 * malloc (or calloc when zero) for the large buffers: the file bytes, the slots and the
 * file being written. With a 100,000-entry cache these are megabytes touched at random;
 * with 4 KiB pages, page faults and TLB misses took more than half the load time, and huge
 * pages halve it. The result is freed with free().
 */
static void *alloc_big(size_t len, int zero)
{
    if (len < STATCACHE_HUGE_PAGE_BYTES)
        return zero ? calloc(1, len ? len : 1) : malloc(len ? len : 1);
    size_t rounded = (len + STATCACHE_HUGE_PAGE_BYTES - 1) & ~(STATCACHE_HUGE_PAGE_BYTES - 1);
    void *p = NULL;
    if (rounded < len || posix_memalign(&p, STATCACHE_HUGE_PAGE_BYTES, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* Only advice: without huge pages everything still works, just slower. */
    (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    if (zero)
        memset(p, 0, len);
    return p;
}

/* Word-at-a-time multiply-xor hash with a murmur3 finalizer: the low bits pick the slot. */
static uint32_t path_hash(const char *path, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    uint64_t word;
    while (len >= 8) {
        memcpy(&word, path, 8);
        h = (h ^ word) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        path += 8;
        len -= 8;
    }
    word = 0;
    memcpy(&word, path, len);
    h ^= word;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (uint32_t)h;
}

/* Computed modulo 2^64 so that absurd timestamps cannot overflow a signed integer. */
static uint64_t timespec_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* memcmp order, a proper prefix first. */
static int path_cmp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    int rc = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (rc)
        return rc;
    return a_len < b_len ? -1 : a_len > b_len;
}

/* Compare two live records by path. */
static int record_cmp(const uint8_t *a, const uint8_t *b)
{
    return path_cmp(a + 4, dv_get_be32(a), b + 4, dv_get_be32(b));
}

static int record_ptr_cmp(const void *a, const void *b)
{
    return record_cmp(*(uint8_t *const *)a, *(uint8_t *const *)b);
}

/* The encoded fields for st, id and hashed_ns, as they appear after the path. */
static void encode_fields(uint8_t fields[FIELDS_BYTES], const struct stat *st, const dv_oid *id,
                          int64_t hashed_ns)
{
    dv_put_be64(fields + FIELD_SIZE, (uint64_t)st->st_size);
    dv_put_be64(fields + FIELD_MTIME_NS, timespec_ns(&st->st_mtim));
    dv_put_be64(fields + FIELD_CTIME_NS, timespec_ns(&st->st_ctim));
    dv_put_be64(fields + FIELD_INODE, (uint64_t)st->st_ino);
    dv_put_be32(fields + FIELD_MODE, (uint32_t)st->st_mode);
    dv_put_be64(fields + FIELD_HASHED_NS, (uint64_t)hashed_ns);
    memcpy(fields + FIELD_ID, id->id, DV_OID_BYTES);
}

/* The slot holding path, or the empty slot where it would go. */
static size_t find_slot(const dv_statcache *c, const char *path, size_t len, uint32_t hash)
{
    size_t mask = c->n_slots - 1;
    size_t i = hash & mask;
    for (;; i = (i + 1) & mask) {
        const struct statcache_slot *s = &c->slots[i];
        if (!s->record)
            return i;
        if (s->hash == hash && (s->info & ~SLOT_OWNED) == len && !memcmp(s->record + 4, path, len))
            return i;
    }
}

/* Put a slot for a path known not to be in the table into slots. */
static void slot_insert(struct statcache_slot *slots, size_t n_slots, struct statcache_slot slot)
{
    size_t mask = n_slots - 1;
    size_t i = slot.hash & mask;
    while (slots[i].record)
        i = (i + 1) & mask;
    slots[i] = slot;
}

/* Empty slot i, shifting later members of its probe run back so lookups still find them. */
static void slot_delete(dv_statcache *c, size_t i)
{
    size_t mask = c->n_slots - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!c->slots[j].record)
            break;
        size_t home = c->slots[j].hash & mask;
        /* The slot at j may fill the hole at i unless its home lies cyclically in (i, j]. */
        int home_between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!home_between) {
            c->slots[i] = c->slots[j];
            i = j;
        }
    }
    c->slots[i].record = NULL;
}

/* Make the table big enough for want entries at most half full. */
static int slots_reserve(dv_statcache *c, size_t want)
{
    if (c->n_slots && want <= c->n_slots / 2)
        return 0;
    size_t n_slots = c->n_slots ? c->n_slots : STATCACHE_MIN_SLOTS;
    while (want > n_slots / 2) {
        if (n_slots > SIZE_MAX / 2 / sizeof(struct statcache_slot))
            return dv_error_set(DV_ENOMEM, "stat cache is too large (%zu entries)", want);
        n_slots *= 2;
    }
    struct statcache_slot *slots = alloc_big(n_slots * sizeof(*slots), 1);
    if (!slots)
        return dv_error_set(DV_ENOMEM, "out of memory for a stat cache of %zu entries", want);
    for (size_t i = 0; i < c->n_slots; i++)
        if (c->slots[i].record)
            slot_insert(slots, n_slots, c->slots[i]);
    free(c->slots);
    c->slots = slots;
    c->n_slots = n_slots;
    return 0;
}

/* Mark the entry of slot s removed (the slot itself is left to the caller). */
static void release_record(dv_statcache *c, const struct statcache_slot *s)
{
    uint32_t path_len = s->info & ~SLOT_OWNED;
    dv_put_be32(s->record, path_len | RECORD_REMOVED);
    if (s->info & SLOT_OWNED)
        c->n_owned--;
    c->n_entries--;
    c->body_bytes -= RECORD_BYTES(path_len);
}

/* Free the removed records in owned, keeping the order of the others. */
static void compact_owned(dv_statcache *c)
{
    size_t kept = 0;
    for (size_t k = 0; k < c->owned_len; k++) {
        if (dv_get_be32(c->owned[k]) & RECORD_REMOVED)
            free(c->owned[k]);
        else
            c->owned[kept++] = c->owned[k];
    }
    c->owned_len = kept;
}

/* Make room to append one record to owned. */
static int owned_reserve(dv_statcache *c)
{
    /* Removed records are freed once they are half the list, so memory follows the entries. */
    if (c->owned_len - c->n_owned > c->owned_len / 2)
        compact_owned(c);
    if (c->owned_len < c->owned_alloc)
        return 0;
    size_t alloc = c->owned_alloc ? c->owned_alloc * 2 : 64;
    uint8_t **owned =
        alloc < SIZE_MAX / sizeof(*owned) ? realloc(c->owned, alloc * sizeof(*owned)) : NULL;
    if (!owned)
        return dv_error_set(DV_ENOMEM, "out of memory for a stat cache of %zu entries",
                            c->n_entries + 1);
    c->owned = owned;
    c->owned_alloc = alloc;
    return 0;
}

/*
 * Index the records of the file bytes in c->file_data (len bytes) into the empty cache c.
 * DV_ECORRUPT (no message) if they are not a valid index; every read is bounds-checked.
 */
static int parse_file(dv_statcache *c, size_t len)
{
    const uint8_t *data = c->file_data;
    int error = 0;
    if (len < STATCACHE_HEADER_BYTES + STATCACHE_TRAILER_BYTES ||
        memcmp(data, STATCACHE_MAGIC, STATCACHE_MAGIC_BYTES) != 0 ||
        dv_get_be32(data + 4) != DV_STATCACHE_VERSION)
        return DV_ECORRUPT;

    size_t body_end = len - STATCACHE_TRAILER_BYTES;
    dv_oid sum;
    if ((error = dv_hash_buffer(&sum, data, body_end)) < 0)
        return error;
    if (memcmp(sum.id, data + body_end, DV_OID_BYTES) != 0)
        return DV_ECORRUPT;

    size_t count = dv_get_be32(data + 8);
    if (count > (body_end - STATCACHE_HEADER_BYTES) / RECORD_BYTES(1))
        return DV_ECORRUPT;
    if ((error = slots_reserve(c, count)) < 0)
        return error;

    size_t pos = STATCACHE_HEADER_BYTES;
    const uint8_t *prev = NULL;
    for (size_t k = 0; k < count; k++) {
        if (body_end - pos < 4)
            return DV_ECORRUPT;
        size_t path_len = dv_get_be32(data + pos);
        if (path_len == 0 || path_len > DV_STATCACHE_MAX_PATH_BYTES ||
            body_end - pos < RECORD_BYTES(path_len))
            return DV_ECORRUPT;
        const uint8_t *record = data + pos;
        const char *path = (const char *)record + 4;
        /* Strictly increasing order also rules out duplicates. */
        if (memchr(path, '\0', path_len) || (prev && record_cmp(prev, record) >= 0))
            return DV_ECORRUPT;
        struct statcache_slot slot = {c->file_data + pos, path_hash(path, path_len),
                                      (uint32_t)path_len};
        slot_insert(c->slots, c->n_slots, slot);
        c->n_entries++;
        c->body_bytes += RECORD_BYTES(path_len);
        prev = record;
        pos += RECORD_BYTES(path_len);
    }
    if (pos != body_end)
        return DV_ECORRUPT;
    c->file_body_end = body_end;
    return 0;
}

/*
 * Read the whole file at path into c->file_data. DV_ENOTFOUND (no message) if it does not
 * exist, DV_ECORRUPT (no message) if it is too large to be an index.
 */
static int read_index_file(dv_statcache *c, size_t *len_out, const char *path)
{
    int error = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return DV_ENOTFOUND;
        if (errno == ELOOP)
            return dv_error_set(DV_EIO, "the stat cache %s is a symbolic link (remove it)", path);
        return dv_error_errno("cannot open the stat cache %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        error = dv_error_errno("cannot stat the stat cache %s", path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        error = dv_error_set(DV_EIO, "the stat cache %s is not a regular file (remove it)", path);
        goto done;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > DV_STATCACHE_MAX_FILE_BYTES) {
        error = DV_ECORRUPT;
        goto done;
    }
    size_t len = (size_t)st.st_size, got = 0;
    if (!(c->file_data = alloc_big(len, 0))) {
        error = dv_error_set(DV_ENOMEM, "out of memory reading the stat cache %s", path);
        goto done;
    }
    if ((error = dv_fs_read_full(fd, c->file_data, len, &got, path)) < 0)
        goto done;
    /* A file that shrank while being read is short; one that grew fails its checksum. */
    *len_out = got;
done:
    if (close(fd) < 0 && !error)
        error = dv_error_errno("cannot close the stat cache %s", path);
    return error;
}

int dv_statcache_load(dv_statcache **out, const char *path)
{
    dv_statcache *c = NULL;
    size_t len = 0;
    int error = 0;
    assert(out && path);

    if (!(c = calloc(1, sizeof(*c)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory loading the stat cache %s", path);
        goto done;
    }
    if ((error = slots_reserve(c, 0)) < 0)
        goto done;

    error = read_index_file(c, &len, path);
    if (error == DV_ENOTFOUND) {
        error = 0;
        goto done;
    }
    if (error == 0)
        error = parse_file(c, len);
    if (error == DV_ECORRUPT) {
        memset(c->slots, 0, c->n_slots * sizeof(*c->slots));
        c->n_entries = 0;
        c->body_bytes = 0;
        c->file_body_end = 0;
        free(c->file_data);
        c->file_data = NULL;
        c->discarded = 1;
        c->dirty = 1; /* so the next save replaces the damaged file */
        error = 0;
    }

done:
    if (error < 0) {
        dv_statcache_free(c);
        c = NULL;
    }
    *out = c;
    return error;
}

int dv_statcache_was_discarded(const dv_statcache *c)
{
    assert(c);
    return c->discarded;
}

int dv_statcache_lookup(dv_oid *id, dv_statcache *c, const char *relpath, const struct stat *st)
{
    assert(id && c && relpath && st);
    size_t len = strlen(relpath);
    const struct statcache_slot *s = &c->slots[find_slot(c, relpath, len, path_hash(relpath, len))];
    if (!s->record)
        return 0;
    const uint8_t *fields = s->record + 4 + len;
    if (dv_get_be64(fields + FIELD_SIZE) != (uint64_t)st->st_size ||
        dv_get_be64(fields + FIELD_MTIME_NS) != timespec_ns(&st->st_mtim) ||
        dv_get_be64(fields + FIELD_CTIME_NS) != timespec_ns(&st->st_ctim) ||
        dv_get_be64(fields + FIELD_INODE) != (uint64_t)st->st_ino ||
        dv_get_be32(fields + FIELD_MODE) != (uint32_t)st->st_mode)
        return 0;
    /* Racy: the file may have changed after hashing without its mtime moving. Written so
     * that no value read from the file can overflow. */
    int64_t mtime_ns = (int64_t)dv_get_be64(fields + FIELD_MTIME_NS);
    int64_t hashed_ns = (int64_t)dv_get_be64(fields + FIELD_HASHED_NS);
    if (hashed_ns < INT64_MIN + DV_STATCACHE_RACY_NS || mtime_ns > hashed_ns - DV_STATCACHE_RACY_NS)
        return 0;
    memcpy(id->id, fields + FIELD_ID, DV_OID_BYTES);
    return 1;
}

int dv_statcache_last_id(dv_oid *id, const dv_statcache *c, const char *relpath)
{
    assert(id && c && relpath);
    size_t len = strlen(relpath);
    const struct statcache_slot *s = &c->slots[find_slot(c, relpath, len, path_hash(relpath, len))];
    if (!s->record)
        return 0;
    memcpy(id->id, s->record + 4 + len + FIELD_ID, DV_OID_BYTES);
    return 1;
}

int dv_statcache_update(dv_statcache *c, const char *relpath, const struct stat *st,
                        const dv_oid *id, int64_t hashed_ns)
{
    uint8_t *record = NULL;
    int error = 0;
    assert(c && relpath && st && id);
    size_t len = strlen(relpath);
    if (len == 0 || len > DV_STATCACHE_MAX_PATH_BYTES) {
        error = dv_error_set(DV_EUSAGE, "cannot record '%.64s' in the stat cache: path is %s",
                             relpath, len ? "too long" : "empty");
        goto done;
    }

    uint8_t fields[FIELDS_BYTES];
    encode_fields(fields, st, id, hashed_ns);
    uint32_t hash = path_hash(relpath, len);
    size_t i = find_slot(c, relpath, len, hash);
    if (c->slots[i].record) {
        uint8_t *old_fields = c->slots[i].record + 4 + len;
        if (memcmp(old_fields, fields, FIELDS_BYTES) != 0) {
            memcpy(old_fields, fields, FIELDS_BYTES);
            c->dirty = 1;
        }
        goto done;
    }

    if (!(record = malloc(RECORD_BYTES(len)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory recording %s in the stat cache", relpath);
        goto done;
    }
    dv_put_be32(record, (uint32_t)len);
    memcpy(record + 4, relpath, len);
    memcpy(record + 4 + len, fields, FIELDS_BYTES);
    if ((error = slots_reserve(c, c->n_entries + 1)) < 0 || (error = owned_reserve(c)) < 0)
        goto done;
    struct statcache_slot slot = {record, hash, (uint32_t)len | SLOT_OWNED};
    slot_insert(c->slots, c->n_slots, slot);
    c->owned[c->owned_len++] = record;
    record = NULL;
    c->n_entries++;
    c->n_owned++;
    c->body_bytes += RECORD_BYTES(len);
    c->dirty = 1;

done:
    free(record);
    return error;
}

int dv_statcache_remove(dv_statcache *c, const char *relpath)
{
    assert(c && relpath);
    size_t len = strlen(relpath);
    size_t i = find_slot(c, relpath, len, path_hash(relpath, len));
    if (!c->slots[i].record)
        return 0;
    release_record(c, &c->slots[i]);
    slot_delete(c, i);
    c->dirty = 1;
    return 1;
}

int dv_statcache_remove_under(dv_statcache *c, const char *dir_relpath)
{
    struct statcache_slot *slots = NULL;
    int error = 0;
    assert(c && dir_relpath);
    size_t dir_len = strlen(dir_relpath);
    while (dir_len > 0 && dir_relpath[dir_len - 1] == '/')
        dir_len--;

    /* Rebuild the table from the entries that stay: simpler than deleting while scanning. */
    if (!(slots = alloc_big(c->n_slots * sizeof(*slots), 1))) {
        error =
            dv_error_set(DV_ENOMEM, "out of memory removing %s from the stat cache", dir_relpath);
        goto done;
    }
    size_t n_before = c->n_entries;
    for (size_t i = 0; i < c->n_slots; i++) {
        const struct statcache_slot *s = &c->slots[i];
        if (!s->record)
            continue;
        const uint8_t *path = s->record + 4;
        size_t path_len = s->info & ~SLOT_OWNED;
        int below = dir_len == 0 || (path_len > dir_len && path[dir_len] == '/' &&
                                     !memcmp(path, dir_relpath, dir_len));
        if (below)
            release_record(c, s);
        else
            slot_insert(slots, c->n_slots, *s);
    }
    if (c->n_entries != n_before) {
        free(c->slots);
        c->slots = slots;
        slots = NULL;
        c->dirty = 1;
    }
done:
    free(slots);
    return error;
}

/* Append the record at r to *p. */
/* Fill in the checksum at the end of data (total bytes, header and records in place) and
 * write it to path. */
static int write_index_file(dv_statcache *c, uint8_t *data, size_t total, const char *path)
{
    dv_oid sum;
    int error = 0;
    size_t body_end = total - STATCACHE_TRAILER_BYTES;
    if ((error = dv_hash_buffer(&sum, data, body_end)) < 0)
        return error;
    memcpy(data + body_end, sum.id, DV_OID_BYTES);
    if ((error = dv_fs_write_atomic(path, data, total, STATCACHE_FILE_MODE, 0)) < 0)
        return dv_error_wrap(error, "cannot save the stat cache");
    c->dirty = 0;
    return 0;
}

/* The file being written by dv_statcache_save: records gather in a fixed buffer that is
 * hashed and written each time it fills, so saving costs no copy of the whole index. */
#define STATCACHE_WRITE_BUFFER_BYTES ((size_t)1 << 20)

typedef struct index_writer {
    int fd;
    dv_buf tmp_path;
    dv_hasher *hasher;
    uint8_t *buf;
    size_t len;
} index_writer;

static int writer_flush(index_writer *w)
{
    int error;
    if ((error = dv_hasher_update(w->hasher, w->buf, w->len)) < 0 ||
        (error = dv_fs_write_all(w->fd, w->buf, w->len, w->tmp_path.ptr)) < 0)
        return error;
    w->len = 0;
    return 0;
}

static int writer_put(index_writer *w, const uint8_t *record)
{
    size_t bytes = RECORD_BYTES(dv_get_be32(record));
    int error;
    if (w->len + bytes > STATCACHE_WRITE_BUFFER_BYTES && (error = writer_flush(w)) < 0)
        return error;
    memcpy(w->buf + w->len, record, bytes);
    w->len += bytes;
    return 0;
}

/* Write the loaded records (sorted, skipping removed ones) merged with the sorted new ones,
 * the header before them and the checksum after, to a temp file renamed over path. */
static int write_merged(dv_statcache *c, const char *path)
{
    index_writer w = {-1, DV_BUF_INIT, NULL, NULL, 0};
    int error;
    if (!(w.buf = malloc(STATCACHE_WRITE_BUFFER_BYTES))) {
        error = dv_error_set(DV_ENOMEM, "out of memory writing %s", path);
        goto done;
    }
    if ((error = dv_hasher_new(&w.hasher)) < 0 ||
        (error = dv_fs_tmpfile(&w.fd, &w.tmp_path, path, STATCACHE_FILE_MODE)) < 0)
        goto done;
    memcpy(w.buf, STATCACHE_MAGIC, STATCACHE_MAGIC_BYTES);
    dv_put_be32(w.buf + 4, DV_STATCACHE_VERSION);
    dv_put_be32(w.buf + 8, (uint32_t)c->n_entries);
    w.len = STATCACHE_HEADER_BYTES;
    size_t next_owned = 0;
    size_t pos = c->file_data ? STATCACHE_HEADER_BYTES : 0;
    while (pos < c->file_body_end) {
        const uint8_t *record = c->file_data + pos;
        uint32_t raw_len = dv_get_be32(record);
        pos += RECORD_BYTES(raw_len & ~RECORD_REMOVED);
        if (raw_len & RECORD_REMOVED)
            continue;
        while (next_owned < c->owned_len && record_cmp(c->owned[next_owned], record) < 0)
            if ((error = writer_put(&w, c->owned[next_owned++])) < 0)
                goto done;
        if ((error = writer_put(&w, record)) < 0)
            goto done;
    }
    while (next_owned < c->owned_len)
        if ((error = writer_put(&w, c->owned[next_owned++])) < 0)
            goto done;
    dv_oid sum;
    if ((error = writer_flush(&w)) < 0 || (error = dv_hasher_final(&sum, w.hasher)) < 0 ||
        (error = dv_fs_write_all(w.fd, sum.id, DV_OID_BYTES, w.tmp_path.ptr)) < 0)
        goto done;
    error = dv_fs_commit_tmp(w.fd, w.tmp_path.ptr, path, 0);
    w.fd = -1; /* closed, and on failure removed, by dv_fs_commit_tmp */
done:
    if (w.fd >= 0) {
        close(w.fd);
        dv_fs_tmp_discard(w.tmp_path.ptr);
    }
    dv_hasher_free(w.hasher);
    free(w.buf);
    dv_buf_release(&w.tmp_path);
    return error;
}

int dv_statcache_save(dv_statcache *c, const char *path)
{
    int error = 0;
    assert(c && path);
    if (!c->dirty)
        return 0;

    size_t total = STATCACHE_HEADER_BYTES + c->body_bytes + STATCACHE_TRAILER_BYTES;
    if (c->n_owned == 0 && c->file_data &&
        c->body_bytes == c->file_body_end - STATCACHE_HEADER_BYTES) {
        /* The same paths as loaded, changed in place at most: the loaded bytes are the file. */
        return write_index_file(c, c->file_data, total, path);
    }
    if (total > DV_STATCACHE_MAX_FILE_BYTES)
        return dv_error_set(DV_ERROR,
                            "cannot write %s: %zu entries are too many for the stat cache", path,
                            c->n_entries);
    /* Sorted in place, so saving again sorts nothing; often inserted in order already. */
    compact_owned(c);
    for (size_t k = 1; k < c->owned_len; k++) {
        if (record_cmp(c->owned[k - 1], c->owned[k]) > 0) {
            qsort(c->owned, c->owned_len, sizeof(*c->owned), record_ptr_cmp);
            break;
        }
    }
    if ((error = write_merged(c, path)) < 0)
        return dv_error_wrap(error, "cannot save the stat cache");
    c->dirty = 0;
    return 0;
}

size_t dv_statcache_count(const dv_statcache *c)
{
    assert(c);
    return c->n_entries;
}

void dv_statcache_free(dv_statcache *c)
{
    if (!c)
        return;
    for (size_t k = 0; k < c->owned_len; k++)
        free(c->owned[k]);
    free(c->owned);
    free(c->slots);
    free(c->file_data);
    free(c);
}

/* The step of a file time: the largest power of ten (ns) dividing its nanoseconds. A file
 * system that keeps whole seconds (or coarser) gives 0 ns, which says nothing; then 0. */
static int64_t time_step_ns(const struct timespec *t)
{
    if (t->tv_nsec == 0)
        return 0;
    int64_t step = 1;
    for (long n = t->tv_nsec; n % 10 == 0; n /= 10)
        step *= 10;
    return step;
}

int64_t dv_statcache_change_visible_ns(const struct stat *st)
{
    int64_t mstep = time_step_ns(&st->st_mtim), cstep = time_step_ns(&st->st_ctim);
    if (!mstep || !cstep)
        return 0;
    int64_t m = timespec_ns(&st->st_mtim) + mstep, c = timespec_ns(&st->st_ctim) + cstep;
    return m > c ? m : c;
}

int64_t dv_statcache_file_clock_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    return timespec_ns(&now);
}

int dv_statcache_update_written(dv_statcache *c, const char *relpath, const struct stat *st,
                                const dv_oid *id)
{
    return dv_statcache_update(c, relpath, st, id,
                               timespec_ns(&st->st_mtim) + DV_STATCACHE_RACY_NS);
}
