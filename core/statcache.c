/*
 * statcache: the `.dv/index` stat cache. Entries live in one dense array, found through an
 * open-addressing (linear probing) hash table of entry indexes keyed by path; the file is
 * read in one piece and loaded entries keep pointing into it. Saving sorts by path bytes.
 */
#include "statcache.h"

#include "buf.h"
#include "bytes.h"
#include "error.h"
#include "fs.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define STATCACHE_MAGIC "DVSC"
#define STATCACHE_MAGIC_BYTES 4
/* magic, be32 version, be32 entry count */
#define STATCACHE_HEADER_BYTES 12
/* be32 path_len, be64 size, mtime_ns, ctime_ns, inode, be32 st_mode, be64 hashed_ns, id */
#define STATCACHE_ENTRY_FIXED_BYTES (4 + 8 + 8 + 8 + 8 + 4 + 8 + DV_OID_BYTES)
#define STATCACHE_TRAILER_BYTES DV_OID_BYTES
#define STATCACHE_FILE_MODE 0644
#define STATCACHE_MIN_SLOTS 16
/* Slots hold entry index + 1 as uint32_t and the table is kept at most half full. */
#define STATCACHE_MAX_ENTRIES ((size_t)UINT32_MAX / 4)

struct statcache_entry {
    char *path; /* path_len bytes, not NUL-terminated: into file_data unless path_owned */
    uint32_t path_len;
    uint32_t hash;
    uint32_t mode;
    int path_owned;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint64_t inode;
    int64_t hashed_ns;
    dv_oid id;
};

struct dv_statcache {
    struct statcache_entry *entries;
    size_t n_entries;
    size_t alloc_entries;
    uint32_t *slots; /* 0: empty; else index + 1 into entries */
    size_t n_slots;  /* a power of two, at least twice n_entries */
    char *file_data; /* the loaded file, which loaded entries' paths point into */
    int dirty;       /* differs from the file on disk */
    int discarded;   /* the file on disk was damaged and ignored */
};

/* FNV-1a (64-bit), folded to 32 bits so the low bits used for slots see all of it. */
static uint32_t path_hash(const char *path, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)path[i];
        h *= 0x100000001b3ull;
    }
    return (uint32_t)(h ^ (h >> 32));
}

/* Computed modulo 2^64 so that absurd timestamps cannot overflow a signed integer. */
static int64_t timespec_ns(const struct timespec *ts)
{
    return (int64_t)((uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec);
}

/* memcmp order, a proper prefix first. */
static int path_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int rc = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (rc)
        return rc;
    return a_len < b_len ? -1 : a_len > b_len;
}

/* The slot holding path, or the empty slot where it would go. */
static size_t find_slot(const dv_statcache *c, const char *path, size_t len, uint32_t hash)
{
    size_t mask = c->n_slots - 1;
    size_t i = hash & mask;
    while (c->slots[i]) {
        const struct statcache_entry *e = &c->entries[c->slots[i] - 1];
        if (e->hash == hash && e->path_len == len && !memcmp(e->path, path, len))
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

/* Put entries[index], known not to be in the table, into it. */
static void slot_insert(dv_statcache *c, size_t index)
{
    size_t mask = c->n_slots - 1;
    size_t i = c->entries[index].hash & mask;
    while (c->slots[i])
        i = (i + 1) & mask;
    c->slots[i] = (uint32_t)(index + 1);
}

/* Empty slot i, shifting later members of its probe run back so lookups still find them. */
static void slot_delete(dv_statcache *c, size_t i)
{
    size_t mask = c->n_slots - 1;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!c->slots[j])
            break;
        size_t home = c->entries[c->slots[j] - 1].hash & mask;
        /* The entry at j may fill the hole at i unless its home lies cyclically in (i, j]. */
        int home_between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!home_between) {
            c->slots[i] = c->slots[j];
            i = j;
        }
    }
    c->slots[i] = 0;
}

static void slots_rebuild(dv_statcache *c)
{
    memset(c->slots, 0, c->n_slots * sizeof(*c->slots));
    for (size_t k = 0; k < c->n_entries; k++)
        slot_insert(c, k);
}

/* Make the table big enough for want entries at most half full. */
static int slots_reserve(dv_statcache *c, size_t want)
{
    if (want > STATCACHE_MAX_ENTRIES)
        return dv_error_set(DV_ENOMEM, "stat cache is full (%zu entries)", c->n_entries);
    if (c->n_slots && want <= c->n_slots / 2)
        return 0;
    size_t n_slots = c->n_slots ? c->n_slots : STATCACHE_MIN_SLOTS;
    while (want > n_slots / 2)
        n_slots *= 2;
    uint32_t *slots = calloc(n_slots, sizeof(*slots));
    if (!slots)
        return dv_error_set(DV_ENOMEM, "out of memory for a stat cache of %zu entries", want);
    free(c->slots);
    c->slots = slots;
    c->n_slots = n_slots;
    slots_rebuild(c);
    return 0;
}

static int entries_reserve(dv_statcache *c, size_t want)
{
    if (want <= c->alloc_entries)
        return 0;
    size_t alloc = c->alloc_entries ? c->alloc_entries : 64;
    while (alloc < want)
        alloc *= 2;
    struct statcache_entry *entries = realloc(c->entries, alloc * sizeof(*entries));
    if (!entries)
        return dv_error_set(DV_ENOMEM, "out of memory for a stat cache of %zu entries", want);
    c->entries = entries;
    c->alloc_entries = alloc;
    return 0;
}

static void entries_clear(dv_statcache *c)
{
    for (size_t k = 0; k < c->n_entries; k++)
        if (c->entries[k].path_owned)
            free(c->entries[k].path);
    c->n_entries = 0;
    memset(c->slots, 0, c->n_slots * sizeof(*c->slots));
}

/*
 * Fill the empty cache c from the file bytes data (which must outlive c's entries).
 * DV_ECORRUPT (no message) if the bytes are not a valid index; every read is bounds-checked.
 */
static int parse_file(dv_statcache *c, char *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    int error = 0;
    if (len < STATCACHE_HEADER_BYTES + STATCACHE_TRAILER_BYTES ||
        memcmp(bytes, STATCACHE_MAGIC, STATCACHE_MAGIC_BYTES) != 0 ||
        dv_get_be32(bytes + 4) != DV_STATCACHE_VERSION)
        return DV_ECORRUPT;

    size_t body_end = len - STATCACHE_TRAILER_BYTES;
    dv_oid sum;
    if ((error = dv_hash_buffer(&sum, bytes, body_end)) < 0)
        return error;
    if (memcmp(sum.id, bytes + body_end, DV_OID_BYTES) != 0)
        return DV_ECORRUPT;

    size_t count = dv_get_be32(bytes + 8);
    if (count > (body_end - STATCACHE_HEADER_BYTES) / (STATCACHE_ENTRY_FIXED_BYTES + 1))
        return DV_ECORRUPT;
    if ((error = entries_reserve(c, count)) < 0 || (error = slots_reserve(c, count)) < 0)
        return error;

    size_t pos = STATCACHE_HEADER_BYTES;
    for (size_t k = 0; k < count; k++) {
        if (body_end - pos < 4)
            return DV_ECORRUPT;
        size_t path_len = dv_get_be32(bytes + pos);
        pos += 4;
        if (path_len == 0 || path_len > DV_STATCACHE_MAX_PATH_BYTES ||
            body_end - pos < path_len + (STATCACHE_ENTRY_FIXED_BYTES - 4))
            return DV_ECORRUPT;
        char *path = data + pos;
        /* Strictly increasing order also rules out duplicates. */
        if (memchr(path, '\0', path_len) ||
            (k > 0 && path_cmp(c->entries[k - 1].path, c->entries[k - 1].path_len, path,
                               path_len) >= 0))
            return DV_ECORRUPT;
        pos += path_len;

        struct statcache_entry *e = &c->entries[k];
        e->path = path;
        e->path_len = (uint32_t)path_len;
        e->hash = path_hash(path, path_len);
        e->path_owned = 0;
        e->size = dv_get_be64(bytes + pos);
        e->mtime_ns = (int64_t)dv_get_be64(bytes + pos + 8);
        e->ctime_ns = (int64_t)dv_get_be64(bytes + pos + 16);
        e->inode = dv_get_be64(bytes + pos + 24);
        e->mode = dv_get_be32(bytes + pos + 32);
        e->hashed_ns = (int64_t)dv_get_be64(bytes + pos + 36);
        memcpy(e->id.id, bytes + pos + 44, DV_OID_BYTES);
        pos += STATCACHE_ENTRY_FIXED_BYTES - 4;
        c->n_entries = k + 1;
        slot_insert(c, k);
    }
    if (pos != body_end)
        return DV_ECORRUPT;
    return 0;
}

int dv_statcache_load(dv_statcache **out, const char *path)
{
    dv_statcache *c = NULL;
    dv_buf data = DV_BUF_INIT;
    int error = 0;
    assert(out && path);

    if (!(c = calloc(1, sizeof(*c)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory loading %s", path);
        goto done;
    }
    if ((error = slots_reserve(c, 0)) < 0)
        goto done;

    error = dv_fs_read_file(&data, path, DV_STATCACHE_MAX_FILE_BYTES);
    if (error == DV_ENOTFOUND) {
        dv_error_clear();
        error = 0;
        goto done;
    }
    if (error == DV_EUSAGE) { /* too large to be one of ours */
        error = DV_ECORRUPT;
    } else if (error == 0) {
        size_t len = data.len;
        if (!(c->file_data = dv_buf_detach(&data))) {
            error = dv_error_set(DV_ENOMEM, "out of memory loading %s", path);
            goto done;
        }
        error = parse_file(c, c->file_data, len);
    }
    if (error == DV_ECORRUPT) {
        entries_clear(c);
        free(c->file_data);
        c->file_data = NULL;
        c->discarded = 1;
        c->dirty = 1; /* so the next save replaces the damaged file */
        dv_error_clear();
        error = 0;
    }

done:
    dv_buf_release(&data);
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
    size_t i = find_slot(c, relpath, len, path_hash(relpath, len));
    if (!c->slots[i])
        return 0;
    const struct statcache_entry *e = &c->entries[c->slots[i] - 1];
    if (e->size != (uint64_t)st->st_size || e->mtime_ns != timespec_ns(&st->st_mtim) ||
        e->ctime_ns != timespec_ns(&st->st_ctim) || e->inode != (uint64_t)st->st_ino ||
        e->mode != (uint32_t)st->st_mode)
        return 0;
    /* Racy: the file may have changed after hashing without its mtime moving. Written so
     * that no value read from the file can overflow. */
    if (e->hashed_ns < INT64_MIN + DV_STATCACHE_RACY_NS ||
        e->mtime_ns > e->hashed_ns - DV_STATCACHE_RACY_NS)
        return 0;
    *id = e->id;
    return 1;
}

int dv_statcache_update(dv_statcache *c, const char *relpath, const struct stat *st,
                        const dv_oid *id, int64_t hashed_ns)
{
    int error = 0;
    char *path_copy = NULL;
    assert(c && relpath && st && id);
    size_t len = strlen(relpath);
    if (len == 0 || len > DV_STATCACHE_MAX_PATH_BYTES) {
        error = dv_error_set(DV_EUSAGE, "cannot record '%.64s' in the stat cache: path is %s",
                             relpath, len ? "too long" : "empty");
        goto done;
    }

    struct statcache_entry fresh = {
        .path_len = (uint32_t)len,
        .hash = path_hash(relpath, len),
        .mode = (uint32_t)st->st_mode,
        .size = (uint64_t)st->st_size,
        .mtime_ns = timespec_ns(&st->st_mtim),
        .ctime_ns = timespec_ns(&st->st_ctim),
        .inode = (uint64_t)st->st_ino,
        .hashed_ns = hashed_ns,
        .id = *id,
    };
    size_t i = find_slot(c, relpath, len, fresh.hash);
    if (c->slots[i]) {
        struct statcache_entry *e = &c->entries[c->slots[i] - 1];
        if (e->mode == fresh.mode && e->size == fresh.size && e->mtime_ns == fresh.mtime_ns &&
            e->ctime_ns == fresh.ctime_ns && e->inode == fresh.inode &&
            e->hashed_ns == fresh.hashed_ns && !dv_oid_cmp(&e->id, &fresh.id))
            goto done;
        fresh.path = e->path;
        fresh.path_owned = e->path_owned;
        *e = fresh;
        c->dirty = 1;
        goto done;
    }

    if (!(path_copy = malloc(len))) {
        error = dv_error_set(DV_ENOMEM, "out of memory recording %s in the stat cache", relpath);
        goto done;
    }
    memcpy(path_copy, relpath, len);
    if ((error = entries_reserve(c, c->n_entries + 1)) < 0 ||
        (error = slots_reserve(c, c->n_entries + 1)) < 0)
        goto done;
    fresh.path = path_copy;
    fresh.path_owned = 1;
    path_copy = NULL;
    c->entries[c->n_entries] = fresh;
    slot_insert(c, c->n_entries);
    c->n_entries++;
    c->dirty = 1;

done:
    free(path_copy);
    return error;
}

int dv_statcache_remove(dv_statcache *c, const char *relpath)
{
    assert(c && relpath);
    size_t len = strlen(relpath);
    size_t i = find_slot(c, relpath, len, path_hash(relpath, len));
    if (!c->slots[i])
        return 0;
    size_t index = c->slots[i] - 1;
    slot_delete(c, i);
    if (c->entries[index].path_owned)
        free(c->entries[index].path);

    /* Keep entries dense: move the last one into the hole and repoint its slot. */
    size_t last = c->n_entries - 1;
    if (index != last) {
        c->entries[index] = c->entries[last];
        size_t mask = c->n_slots - 1;
        size_t j = c->entries[index].hash & mask;
        while (c->slots[j] != last + 1)
            j = (j + 1) & mask;
        c->slots[j] = (uint32_t)(index + 1);
    }
    c->n_entries--;
    c->dirty = 1;
    return 1;
}

int dv_statcache_remove_under(dv_statcache *c, const char *dir_relpath)
{
    assert(c && dir_relpath);
    size_t dir_len = strlen(dir_relpath);
    while (dir_len > 0 && dir_relpath[dir_len - 1] == '/')
        dir_len--;

    size_t kept = 0;
    for (size_t k = 0; k < c->n_entries; k++) {
        struct statcache_entry *e = &c->entries[k];
        int below = dir_len == 0 || (e->path_len > dir_len && e->path[dir_len] == '/' &&
                                     !memcmp(e->path, dir_relpath, dir_len));
        if (!below) {
            c->entries[kept++] = *e;
            continue;
        }
        if (e->path_owned)
            free(e->path);
    }
    if (kept != c->n_entries) {
        c->n_entries = kept;
        slots_rebuild(c);
        c->dirty = 1;
    }
    return 0;
}

static int entry_ptr_cmp(const void *a, const void *b)
{
    const struct statcache_entry *x = *(const struct statcache_entry *const *)a;
    const struct statcache_entry *y = *(const struct statcache_entry *const *)b;
    return path_cmp(x->path, x->path_len, y->path, y->path_len);
}

int dv_statcache_save(dv_statcache *c, const char *path)
{
    const struct statcache_entry **sorted = NULL;
    uint8_t *data = NULL;
    int error = 0;
    assert(c && path);
    if (!c->dirty)
        goto done;

    size_t total = STATCACHE_HEADER_BYTES + STATCACHE_TRAILER_BYTES;
    for (size_t k = 0; k < c->n_entries; k++)
        total += STATCACHE_ENTRY_FIXED_BYTES + c->entries[k].path_len;
    if (total > DV_STATCACHE_MAX_FILE_BYTES) {
        error = dv_error_set(DV_ERROR, "cannot write %s: %zu entries are too many for the stat cache",
                             path, c->n_entries);
        goto done;
    }
    if (!(sorted = malloc((c->n_entries ? c->n_entries : 1) * sizeof(*sorted))) ||
        !(data = malloc(total))) {
        error = dv_error_set(DV_ENOMEM, "out of memory writing %s", path);
        goto done;
    }
    for (size_t k = 0; k < c->n_entries; k++)
        sorted[k] = &c->entries[k];
    qsort(sorted, c->n_entries, sizeof(*sorted), entry_ptr_cmp);

    memcpy(data, STATCACHE_MAGIC, STATCACHE_MAGIC_BYTES);
    dv_put_be32(data + 4, DV_STATCACHE_VERSION);
    dv_put_be32(data + 8, (uint32_t)c->n_entries);
    uint8_t *p = data + STATCACHE_HEADER_BYTES;
    for (size_t k = 0; k < c->n_entries; k++) {
        const struct statcache_entry *e = sorted[k];
        dv_put_be32(p, e->path_len);
        p += 4;
        memcpy(p, e->path, e->path_len);
        p += e->path_len;
        dv_put_be64(p, e->size);
        dv_put_be64(p + 8, (uint64_t)e->mtime_ns);
        dv_put_be64(p + 16, (uint64_t)e->ctime_ns);
        dv_put_be64(p + 24, e->inode);
        dv_put_be32(p + 32, e->mode);
        dv_put_be64(p + 36, (uint64_t)e->hashed_ns);
        memcpy(p + 44, e->id.id, DV_OID_BYTES);
        p += STATCACHE_ENTRY_FIXED_BYTES - 4;
    }
    assert((size_t)(p - data) == total - STATCACHE_TRAILER_BYTES);
    dv_oid sum;
    if ((error = dv_hash_buffer(&sum, data, total - STATCACHE_TRAILER_BYTES)) < 0)
        goto done;
    memcpy(p, sum.id, DV_OID_BYTES);

    if ((error = dv_fs_write_atomic(path, data, total, STATCACHE_FILE_MODE, 0)) < 0) {
        error = dv_error_wrap(error, "cannot save the stat cache");
        goto done;
    }
    c->dirty = 0;

done:
    free(data);
    free(sorted);
    return error;
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
    for (size_t k = 0; k < c->n_entries; k++)
        if (c->entries[k].path_owned)
            free(c->entries[k].path);
    free(c->entries);
    free(c->slots);
    free(c->file_data);
    free(c);
}
