/* export: tracked data at a revision written as an archive, through libarchive (export.h). */
#include "core/ops/export.h"

#include "core/base/buf.h"
#include "core/base/fs.h"
#include "core/base/pool.h"
#include "core/base/tempfile.h"
#include "core/data/objread.h"
#include "core/object/object.h"
#include "core/object/pointer.h"
#include "core/ops/cat.h"
#include "core/ops/ls.h"
#include "core/table/utf8.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Trees nested deeper than this, or more entries than this in one archive, are refused as
 * checkout refuses them: a few trees that name each other many times expand without end. */
#define EXPORT_MAX_DEPTH 1024
#define EXPORT_MAX_ENTRIES 100000000ull
/* libarchive hands its output over in blocks of this size (the last one not padded). */
#define EXPORT_BLOCK_BYTES (256 * 1024)
/* An output file's write-back is started each time this much more was written. */
#define EXPORT_WRITEBACK_BYTES (8u << 20)
/* zstd's workers: never 0, whose output differs from that of one or more workers (which
 * agree with each other), so the bytes do not depend on the machine's cores. */
#define EXPORT_ZSTD_MAX_THREADS 8

static const struct {
    const char *name;
    dv_export_format format;
} format_names[] = {
    {"tar", DV_EXPORT_TAR},         {"tar.gz", DV_EXPORT_TAR_GZ}, {"tgz", DV_EXPORT_TAR_GZ},
    {"tar.zst", DV_EXPORT_TAR_ZST}, {"tzst", DV_EXPORT_TAR_ZST},  {"tar.xz", DV_EXPORT_TAR_XZ},
    {"txz", DV_EXPORT_TAR_XZ},      {"zip", DV_EXPORT_ZIP},
};
#define N_FORMAT_NAMES (sizeof(format_names) / sizeof(format_names[0]))
#define FORMAT_LIST "tar, tar.gz, tar.zst, tar.xz, zip"

int dv_export_format_parse(dv_export_format *out, const char *name)
{
    for (size_t i = 0; i < N_FORMAT_NAMES; i++) {
        if (!strcasecmp(name, format_names[i].name)) {
            *out = format_names[i].format;
            return 0;
        }
    }
    return dv_error_set(DV_EUSAGE, "unknown archive format '%s' (formats: " FORMAT_LIST ")", name);
}

int dv_export_format_of_path(dv_export_format *out, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < N_FORMAT_NAMES; i++) {
        size_t n = strlen(format_names[i].name);
        if (len > n + 1 && path[len - n - 1] == '.' &&
            !strcasecmp(path + len - n, format_names[i].name) && path[len - n - 2] != '/') {
            *out = format_names[i].format;
            return 0;
        }
    }
    return dv_error_set(DV_EUSAGE,
                        "cannot tell the archive format from the name %s (end it in .tar, "
                        ".tar.gz, .tgz, .tar.zst, .tar.xz or .zip, or give --format)",
                        path);
}

const char *dv_export_format_name(dv_export_format format)
{
    switch (format) {
    case DV_EXPORT_TAR:
        return "tar";
    case DV_EXPORT_TAR_GZ:
        return "tar.gz";
    case DV_EXPORT_TAR_ZST:
        return "tar.zst";
    case DV_EXPORT_TAR_XZ:
        return "tar.xz";
    case DV_EXPORT_ZIP:
        return "zip";
    }
    return "?";
}

int dv_export_check_prefix(const char *prefix)
{
    const char *p = prefix;
    if (p[0] == '/')
        return dv_error_set(DV_EUSAGE,
                            "--prefix %s: must be relative (entries stay inside the "
                            "directory the archive is extracted in)",
                            prefix);
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!slash && !len)
            break;
        if (!len || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return dv_error_set(
                DV_EUSAGE, "--prefix %s: an empty, '.' or '..' component is not allowed", prefix);
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                return dv_error_set(DV_EUSAGE, "--prefix: a control character is not allowed");
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}

/* ---- the output: libarchive's blocks written to a file descriptor ---- */

typedef struct export_out {
    int fd;
    const char *name; /* for messages */
    int pipe_closed;
    int error;                 /* set by the write callback, with dv's message */
    int writeback;             /* a file fsynced at the end: start writing it out as it grows */
    uint64_t written, flushed; /* bytes written, and those whose write-back was started */
} export_out;

static la_ssize_t out_write(struct archive *a, void *ctx, const void *data, size_t len)
{
    export_out *o = ctx;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(o->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            if (err == EPIPE)
                o->pipe_closed = 1;
            o->error = dv_error_errno("cannot write %s", o->name);
            archive_set_error(a, err, "cannot write %s", o->name);
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    o->written += len;
    /* The fsync at the end then waits for the last few MiB, not for the whole archive: the
     * disk writes while the archive is made (as checkout does for restored files). */
    if (o->writeback && o->written - o->flushed >= EXPORT_WRITEBACK_BYTES) {
        (void)sync_file_range(o->fd, (off_t)o->flushed, (off_t)(o->written - o->flushed),
                              SYNC_FILE_RANGE_WRITE);
        o->flushed = o->written;
    }
    return (la_ssize_t)len;
}

/* A libarchive failure as dv's error: the write callback's own message when it failed. */
static int archive_fail(struct archive *a, const export_out *o, const char *what)
{
    if (o->error)
        return o->error;
    const char *why = archive_error_string(a);
    return dv_error_set(DV_EIO, "%s: %s", what, why ? why : "libarchive failed");
}

static int add_filter(struct archive *a, const dv_export_options *opts)
{
    char options[64] = "";
    int r = ARCHIVE_OK;
    switch (opts->format) {
    case DV_EXPORT_TAR:
    case DV_EXPORT_ZIP:
        return 0;
    case DV_EXPORT_TAR_GZ:
        r = archive_write_add_filter_gzip(a);
        if (opts->reproducible)
            snprintf(options, sizeof(options), "gzip:!timestamp");
        break;
    case DV_EXPORT_TAR_ZST: {
        int threads = dv_pool_default_threads();
        if (threads < 1)
            threads = 1;
        if (threads > EXPORT_ZSTD_MAX_THREADS)
            threads = EXPORT_ZSTD_MAX_THREADS;
        r = archive_write_add_filter_zstd(a);
        snprintf(options, sizeof(options), "zstd:threads=%d", threads);
        break;
    }
    case DV_EXPORT_TAR_XZ:
        /* One thread: liblzma's threaded encoder cuts blocks its single-threaded one does not,
         * so the bytes would depend on the cores. */
        r = archive_write_add_filter_xz(a);
        break;
    }
    if (r != ARCHIVE_OK)
        return dv_error_set(DV_EIO, "cannot write %s archives: %s",
                            dv_export_format_name(opts->format), archive_error_string(a));
    if (options[0] && archive_write_set_options(a, options) != ARCHIVE_OK)
        return dv_error_set(DV_EIO, "cannot set %s on the %s writer: %s", options,
                            dv_export_format_name(opts->format), archive_error_string(a));
    return 0;
}

static int archive_start(struct archive **out, export_out *o, const dv_export_options *opts)
{
    struct archive *a = archive_write_new();
    int error = 0;
    *out = NULL;
    if (!a)
        return dv_error_set(DV_ENOMEM, "out of memory");
    int r = opts->format == DV_EXPORT_ZIP ? archive_write_set_format_zip(a)
                                          : archive_write_set_format_pax_restricted(a);
    if (r != ARCHIVE_OK) {
        error = dv_error_set(DV_EIO, "cannot write %s archives: %s",
                             dv_export_format_name(opts->format), archive_error_string(a));
        goto fail;
    }
    if ((error = add_filter(a, opts)) < 0)
        goto fail;
    if (archive_write_set_bytes_per_block(a, EXPORT_BLOCK_BYTES) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open2(a, o, NULL, out_write, NULL, NULL) != ARCHIVE_OK) {
        error = archive_fail(a, o, o->name);
        goto fail;
    }
    *out = a;
    return 0;
fail:
    archive_write_free(a);
    return error;
}

/* ---- names: libarchive writes them through the thread's locale ---- */

/*
 * libarchive converts names to UTF-8 (pax path records) and marks zip names as UTF-8
 * through the thread's locale: C.UTF-8 for the export, whatever the user's, so the bytes do
 * not depend on it. zip's writer marks every name that is not ASCII as UTF-8 when the
 * locale's charset is, so a name that is not UTF-8 is written in the C locale, unmarked.
 */
typedef struct export_locale {
    locale_t utf8, c, before;
} export_locale;

static void locale_enter(export_locale *l)
{
    l->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    l->c = newlocale(LC_CTYPE_MASK, "C", (locale_t)0);
    l->before = l->utf8 ? uselocale(l->utf8) : (locale_t)0;
}

static void locale_leave(export_locale *l)
{
    if (l->utf8) {
        uselocale(l->before);
        freelocale(l->utf8);
    }
    if (l->c)
        freelocale(l->c);
}

static int is_utf8(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t left = strlen(name);
    while (left) {
        int n = 1;
        if (*p >= 0x80 && (n = dv_utf8_char(p, left)) <= 0)
            return 0;
        p += n;
        left -= (size_t)n;
    }
    return 1;
}

/* ---- the walk: one entry at a time, in tree order ---- */

typedef struct export_walk {
    dv_odb *odb;
    struct archive *a;
    struct archive_entry *entry;
    export_out *out;
    time_t mtime;
    dv_buf name;    /* the entry's name in the archive */
    dv_buf relpath; /* its work-tree path, for messages */
    uint64_t n_entries;
    uint64_t written; /* bytes of the current file handed to the archive */
    dv_export_result *result;
    int zip;
    export_locale *locale;
} export_walk;

static int write_header(export_walk *w, unsigned type, unsigned perm, uint64_t size,
                        const char *link_target)
{
    struct archive_entry *e = w->entry;
    if (++w->n_entries > EXPORT_MAX_ENTRIES)
        return dv_error_set(DV_ECORRUPT,
                            "%s: more than %llu entries below it; dv refuses to export it",
                            w->relpath.ptr, (unsigned long long)EXPORT_MAX_ENTRIES);
    if (size > INT64_MAX)
        return dv_error_set(DV_ECORRUPT, "%s: size %llu is out of range", w->relpath.ptr,
                            (unsigned long long)size);
    archive_entry_clear(e);
    archive_entry_copy_pathname(e, w->name.ptr);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, w->mtime, 0);
    if (type == AE_IFREG)
        archive_entry_set_size(e, (la_int64_t)size);
    if (link_target)
        archive_entry_copy_symlink(e, link_target);
    int plain = w->zip && w->locale->utf8 && w->locale->c && !is_utf8(w->name.ptr);
    if (plain)
        uselocale(w->locale->c);
    /* ARCHIVE_WARN: written, with a name that is not UTF-8 kept as its bytes */
    int r = archive_write_header(w->a, e);
    if (plain)
        uselocale(w->locale->utf8);
    if (r < ARCHIVE_WARN)
        return archive_fail(w->a, w->out, w->relpath.ptr);
    return 0;
}

static int put_data(void *ctx, const void *data, size_t len)
{
    export_walk *w = ctx;
    const char *p = data;
    while (len) {
        la_ssize_t n = archive_write_data(w->a, p, len);
        if (n < 0)
            return archive_fail(w->a, w->out, w->relpath.ptr);
        if (n == 0)
            return dv_error_set(DV_ECORRUPT, "%s: the store holds more bytes than its size",
                                w->relpath.ptr);
        p += n;
        len -= (size_t)n;
        w->written += (uint64_t)n;
    }
    return 0;
}

static int export_file(export_walk *w, const dv_oid *id, uint64_t size, int exec)
{
    int error = write_header(w, AE_IFREG, exec ? 0755 : 0644, size, NULL);
    if (error < 0)
        return error;
    w->written = 0;
    if ((error = dv_cat_object(w->odb, id, size, w->relpath.ptr, 0, DV_CAT_TO_END, put_data, w)) <
        0)
        return error;
    if (w->written != size)
        return dv_error_set(DV_ECORRUPT, "%s: the store holds %llu bytes, its tree says %llu",
                            w->relpath.ptr, (unsigned long long)w->written,
                            (unsigned long long)size);
    w->result->files++;
    w->result->bytes += size;
    return 0;
}

static int export_symlink(export_walk *w, const dv_oid *id, uint64_t size)
{
    dv_buf target = DV_BUF_INIT;
    uint8_t type = 0;
    int error = dv_odb_read(&target, &type, w->odb, id);
    if (error == DV_ENOTFOUND)
        error = dv_error_set(DV_ENOTFOUND,
                             "%s: its link target %s is not in the store (run dv "
                             "fetch)",
                             w->relpath.ptr, dv_oid_hex(id));
    else if (error < 0)
        error = dv_error_wrap(error, "%s", w->relpath.ptr);
    else if (type != DV_OBJ_CHUNK || target.len != size || !target.len ||
             memchr(target.ptr, '\0', target.len))
        error = dv_error_set(DV_ECORRUPT,
                             "%s: its link target %s is not a chunk of %llu bytes without NUL",
                             w->relpath.ptr, dv_oid_hex(id), (unsigned long long)size);
    else if ((error = write_header(w, AE_IFLNK, 0777, 0, target.ptr)) == 0)
        w->result->symlinks++;
    dv_buf_release(&target);
    return error;
}

static int export_tree(export_walk *w, const dv_oid *id, unsigned depth);

/* The entry at w->name (w->relpath in the work tree); a directory with an empty name is the
 * top of the archive and has no entry of its own. */
static int export_entry(export_walk *w, uint8_t mode, const dv_oid *id, uint64_t size,
                        unsigned depth)
{
    int error;
    switch (mode) {
    case DV_MODE_DIR:
        if (w->name.len) {
            if ((error = write_header(w, AE_IFDIR, 0755, 0, NULL)) < 0)
                return error;
            w->result->dirs++;
        }
        return export_tree(w, id, depth + 1);
    case DV_MODE_SYMLINK:
        return export_symlink(w, id, size);
    case DV_MODE_FILE:
    case DV_MODE_EXEC:
        return export_file(w, id, size, mode == DV_MODE_EXEC);
    default:
        return dv_error_set(DV_ECORRUPT, "%s: unknown mode %u", w->relpath.ptr, (unsigned)mode);
    }
}

static int export_tree(export_walk *w, const dv_oid *id, unsigned depth)
{
    dv_tree tree = DV_TREE_INIT;
    size_t name_len = w->name.len, rel_len = w->relpath.len;
    int error = 0;
    if (depth > EXPORT_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "%s/: trees nested deeper than %d", w->relpath.ptr,
                            EXPORT_MAX_DEPTH);
    if ((error = dv_tree_read(&tree, w->odb, id, w->relpath.ptr)) < 0)
        return error;
    for (size_t i = 0; i < tree.n_entries && !error; i++) {
        const dv_tree_entry *te = &tree.entries[i];
        dv_buf_truncate(&w->name, name_len);
        dv_buf_truncate(&w->relpath, rel_len);
        if ((name_len && dv_buf_putc(&w->name, '/') < 0) || dv_buf_puts(&w->name, te->name) < 0 ||
            dv_buf_printf(&w->relpath, "/%s", te->name) < 0) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            break;
        }
        error = export_entry(w, te->mode, &te->id, te->size, depth);
    }
    dv_buf_truncate(&w->name, name_len);
    dv_buf_truncate(&w->relpath, rel_len);
    dv_tree_release(&tree);
    return error;
}

/*
 * The entries below a tree, counted before anything is written, each distinct tree decoded
 * once (a table of counts by tree id, open addressing): a few trees that name each other
 * many times are measured without being expanded, and refused before an archive of
 * billions of entries is begun. Counts saturate at EXPORT_MAX_ENTRIES + 1.
 */
typedef struct tree_count {
    dv_oid id;
    uint64_t entries; /* UINT64_MAX: an empty slot */
} tree_count;

typedef struct count_table {
    tree_count *slots;
    size_t n, cap; /* cap is 0 or a power of two */
} count_table;

static size_t count_slot(const count_table *t, const dv_oid *id)
{
    size_t s = 0;
    memcpy(&s, id->id, sizeof(s)); /* ids are uniformly random */
    return s & (t->cap - 1);
}

static const tree_count *count_find(const count_table *t, const dv_oid *id)
{
    for (size_t s = t->cap ? count_slot(t, id) : 0; t->cap; s = (s + 1) & (t->cap - 1)) {
        if (t->slots[s].entries == UINT64_MAX)
            return NULL;
        if (!dv_oid_cmp(&t->slots[s].id, id))
            return &t->slots[s];
    }
    return NULL;
}

static int count_add(count_table *t, const dv_oid *id, uint64_t entries)
{
    if ((t->n + 1) * 2 > t->cap) {
        count_table bigger = {NULL, 0, t->cap ? t->cap * 2 : 64};
        if (!(bigger.slots = malloc(bigger.cap * sizeof(*bigger.slots))))
            return dv_error_set(DV_ENOMEM, "out of memory");
        for (size_t i = 0; i < bigger.cap; i++)
            bigger.slots[i].entries = UINT64_MAX;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].entries != UINT64_MAX &&
                count_add(&bigger, &t->slots[i].id, t->slots[i].entries) < 0)
                return DV_ENOMEM; /* cannot happen: bigger has room for them all */
        free(t->slots);
        *t = bigger;
    }
    size_t s = count_slot(t, id);
    while (t->slots[s].entries != UINT64_MAX)
        s = (s + 1) & (t->cap - 1);
    t->slots[s].id = *id;
    t->slots[s].entries = entries;
    t->n++;
    return 0;
}

static int count_tree(uint64_t *out, count_table *t, dv_odb *odb, const dv_oid *id,
                      const char *relpath, unsigned depth)
{
    const tree_count *known = count_find(t, id);
    if (known) {
        *out = known->entries;
        return 0;
    }
    if (depth > EXPORT_MAX_DEPTH)
        return dv_error_set(DV_ECORRUPT, "%s/: trees nested deeper than %d", relpath,
                            EXPORT_MAX_DEPTH);
    dv_tree tree = DV_TREE_INIT;
    dv_buf child = DV_BUF_INIT;
    uint64_t total = 0;
    int error = dv_tree_read(&tree, odb, id, relpath);
    for (size_t i = 0; !error && i < tree.n_entries && total <= EXPORT_MAX_ENTRIES; i++) {
        uint64_t below = 0;
        const dv_tree_entry *te = &tree.entries[i];
        if (te->mode == DV_MODE_DIR) {
            dv_buf_truncate(&child, 0);
            if (dv_buf_printf(&child, "%s/%s", relpath, te->name) < 0)
                error = dv_error_set(DV_ENOMEM, "out of memory");
            else
                error = count_tree(&below, t, odb, &te->id, child.ptr, depth + 1);
        }
        total += 1 + below; /* each at most EXPORT_MAX_ENTRIES + 1: no overflow */
    }
    if (total > EXPORT_MAX_ENTRIES)
        total = EXPORT_MAX_ENTRIES + 1;
    if (!error)
        error = count_add(t, id, total);
    if (!error)
        *out = total;
    dv_buf_release(&child);
    dv_tree_release(&tree);
    return error;
}

static int check_size(dv_odb *odb, const dv_ls_entry *top, const char *path)
{
    count_table t = {NULL, 0, 0};
    uint64_t entries = 0;
    int error = top->kind == DV_KIND_DIR ? count_tree(&entries, &t, odb, &top->id, path, 0) : 0;
    if (!error && entries > EXPORT_MAX_ENTRIES)
        error = dv_error_set(DV_ECORRUPT,
                             "%s: more than %llu entries below it; dv refuses to export it", path,
                             (unsigned long long)EXPORT_MAX_ENTRIES);
    free(t.slots);
    return error;
}

/* The directories of the prefix, each an entry, then the exported path's own name. */
static int export_top(export_walk *w, const char *path, const dv_ls_entry *top,
                      const dv_export_options *opts)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int error = 0;
    if (dv_buf_puts(&w->relpath, path) < 0)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (!opts->prefix)
        return dv_buf_puts(&w->name, base) < 0 ? dv_error_set(DV_ENOMEM, "out of memory") : 0;
    for (const char *p = opts->prefix; *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (w->name.len && dv_buf_putc(&w->name, '/') < 0)
            return dv_error_set(DV_ENOMEM, "out of memory");
        if (dv_buf_put(&w->name, p, len) < 0)
            return dv_error_set(DV_ENOMEM, "out of memory");
        p += len + (slash ? 1 : 0);
        /* The last component of a directory's prefix is its top entry, written by the walk. */
        if (*p || top->kind != DV_KIND_DIR) {
            if ((error = write_header(w, AE_IFDIR, 0755, 0, NULL)) < 0)
                return error;
            w->result->dirs++;
        }
    }
    if (top->kind != DV_KIND_DIR &&
        ((w->name.len && dv_buf_putc(&w->name, '/') < 0) || dv_buf_puts(&w->name, base) < 0))
        return dv_error_set(DV_ENOMEM, "out of memory");
    return 0;
}

typedef struct export_plan {
    dv_ls_entry top;
    dv_odb *odb;
    time_t mtime;
} export_plan;

/* What is exported, checked before any output is made. */
static int export_prepare(export_plan *plan, dv_repo *repo, dv_rev *rev, const char *path,
                          const dv_export_options *opts)
{
    int error;
    if (opts->prefix && (error = dv_export_check_prefix(opts->prefix)) < 0)
        return error;
    if (!path[0])
        return dv_error_set(DV_EUSAGE, "name one tracked path to export (dv ls lists them)");
    if ((error = dv_ls_find(&plan->top, repo, rev, path)) < 0 ||
        (error = dv_repo_odb(&plan->odb, repo)) < 0 ||
        (error = check_size(plan->odb, &plan->top, path)) < 0)
        return error;
    if (opts->reproducible)
        plan->mtime = 0;
    else if (rev)
        plan->mtime = (time_t)git_commit_time(dv_rev_commit(rev));
    else
        plan->mtime = time(NULL);
    return 0;
}

static int export_run(dv_export_result *result, const export_plan *plan, const char *path,
                      const dv_export_options *opts, export_out *out)
{
    export_walk w = {plan->odb,
                     NULL,
                     NULL,
                     out,
                     plan->mtime,
                     DV_BUF_INIT,
                     DV_BUF_INIT,
                     0,
                     0,
                     result,
                     opts->format == DV_EXPORT_ZIP,
                     NULL};
    export_locale loc;
    int error = 0;
    memset(result, 0, sizeof(*result));
    locale_enter(&loc);
    w.locale = &loc;
    if ((error = archive_start(&w.a, out, opts)) < 0)
        goto done;
    if (!(w.entry = archive_entry_new())) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    if ((error = export_top(&w, path, &plan->top, opts)) < 0)
        goto done;
    if ((error = export_entry(&w, plan->top.mode, &plan->top.id, plan->top.size, 0)) < 0)
        goto done;
    if (archive_write_close(w.a) != ARCHIVE_OK)
        error = archive_fail(w.a, out, out->name);
done:
    archive_entry_free(w.entry);
    if (w.a)
        archive_write_free(w.a); /* after a failure: nothing more is written that counts */
    locale_leave(&loc);
    dv_buf_release(&w.name);
    dv_buf_release(&w.relpath);
    return error;
}

int dv_export_fd(dv_export_result *result, dv_repo *repo, dv_rev *rev, const char *path,
                 const dv_export_options *opts, int fd, const char *out_name, int *pipe_closed)
{
    export_plan plan;
    export_out out = {fd, out_name, 0, 0, 0, 0, 0};
    int error = export_prepare(&plan, repo, rev, path, opts);
    if (!error)
        error = export_run(result, &plan, path, opts, &out);
    *pipe_closed = out.pipe_closed;
    return error;
}

/* Rename tmp to out_path unless something is there (renameat2's RENAME_NOREPLACE, or where the
 * file system lacks it a hard link, which fails as well when the name is taken). */
static int rename_noreplace(const char *tmp, const char *out_path)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out_path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
        if (link(tmp, out_path) == 0)
            return unlink(tmp) < 0 ? dv_error_errno("cannot remove %s", tmp) : 0;
    }
    if (errno == EEXIST)
        return dv_error_set(DV_EUSAGE, "%s already exists (add --force to replace it)", out_path);
    return dv_error_errno("cannot rename %s to %s", tmp, out_path);
}

int dv_export_file(dv_export_result *result, dv_repo *repo, dv_rev *rev, const char *path,
                   const dv_export_options *opts, const char *out_path, int replace)
{
    export_plan plan;
    dv_buf tmp = DV_BUF_INIT;
    int fd = -1, error;
    struct stat st;
    if (lstat(out_path, &st) == 0 && (S_ISDIR(st.st_mode) || !replace))
        return dv_error_set(DV_EUSAGE,
                            S_ISDIR(st.st_mode) ? "%s is a directory"
                                                : "%s already exists (add --force to "
                                                  "replace it)",
                            out_path);
    if ((error = export_prepare(&plan, repo, rev, path, opts)) < 0)
        return error;
    if ((error = dv_fs_tmpfile(&fd, &tmp, out_path, 0666)) < 0)
        goto done;
    export_out out = {fd, out_path, 0, 0, 1, 0, 0};
    if ((error = export_run(result, &plan, path, opts, &out)) < 0) {
        close(fd);
        dv_fs_tmp_discard(tmp.ptr);
        goto done;
    }
    if (replace) {
        error = dv_fs_commit_tmp(fd, tmp.ptr, out_path, DV_FS_DURABLE);
        goto done;
    }
    if (fsync(fd) < 0) {
        error = dv_error_errno("cannot fsync %s", tmp.ptr);
        close(fd);
    } else if (close(fd) < 0) {
        error = dv_error_errno("cannot close %s", tmp.ptr);
    } else if ((error = rename_noreplace(tmp.ptr, out_path)) == 0) {
        dv_tempfile_forget(tmp.ptr);
        error = dv_fs_fsync_parent(out_path);
        goto done;
    }
    dv_fs_tmp_discard(tmp.ptr);
done:
    dv_buf_release(&tmp);
    return error;
}
