/* archive_read: an archive's entries checked and streamed into one dv tree (archive_read.h). */
#include "core/data/archive_read.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/pathname.h"
#include "core/base/quote.h"
#include "core/object/object.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libarchive reads its input in blocks of this size (file or pipe). */
#define DV_ARCHIVE_BLOCK_BYTES (1u << 20)
/* The longest symlink target Linux takes (PATH_MAX with its NUL). */
#define DV_ARCHIVE_MAX_TARGET_BYTES 4095

/* A name of the archive: a directory (declared by an entry, or implied by the names below
 * it), a file or a symlink. */
typedef struct node {
    struct node *parent;
    char *name;
    size_t name_len;
    uint8_t mode;     /* DV_MODE_* */
    uint8_t declared; /* the archive has an entry for it */
    uint64_t entry;   /* that entry's number (from 1), for messages */
    dv_oid id;
    uint64_t size;  /* a file's bytes, a target's length; for a directory, set by build */
    uint64_t files; /* for a directory, set by build */
    char *target;   /* a symlink's target, NUL-terminated */
    size_t target_len;
    struct node **children;
    size_t n_children, alloc_children;
} node;

typedef struct reader {
    struct archive *a;
    const char *name; /* the archive, for messages */
    dv_ingest *ing;
    dv_odb *odb;
    node root;
    node **slots; /* every node but the root, by (parent, name): open addressing */
    size_t n_slots, n_nodes;
    node **links; /* the symlinks, resolved once every name is known */
    size_t n_links, alloc_links;
    uint64_t entries;
    dv_buf path;   /* the current entry's name, normalised */
    dv_buf target; /* a hard link's target, normalised */
    char shown[DV_QUOTE_BUF_BYTES];
    /* the current entry's bytes, as dv_ingest_stream reads them */
    const uint8_t *block;
    size_t block_left;
    uint64_t offset_next; /* where the block (or the hole before it) ends in the entry */
    uint64_t pos;         /* bytes given out */
    uint64_t hole;        /* zeros to give before block (a sparse entry's gap) */
    uint64_t fill_to;     /* a sparse entry's size: a gap at its end has no block */
    int data_end;
    uint64_t bytes_read;
    /* resolving symlinks: the directories from the top down to where a target has led */
    node **stack;
    size_t depth, alloc_stack;
} reader;

static const char *shown_name(reader *r, const char *raw)
{
    return dv_quote_bytes(r->shown, raw, strlen(raw));
}

/* "archive <name>: entry <n> '<entry>': <what>", DV_ECORRUPT. */
static int refuse(reader *r, const char *raw, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(reader *r, const char *raw, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return dv_error_set(DV_ECORRUPT, "archive %s: entry %llu '%s' %s", r->name,
                        (unsigned long long)r->entries, shown_name(r, raw), what);
}

static int archive_failed(reader *r, const char *doing)
{
    const char *why = archive_error_string(r->a);
    return dv_error_set(DV_ECORRUPT, "archive %s: %s: %s", r->name, doing,
                        why ? why : "unreadable data");
}

/* ---- the names ---- */

static size_t slot_of(const reader *r, const node *parent, const char *name, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
    h ^= h >> 29;
    return (size_t)h & (r->n_slots - 1);
}

static node *lookup(const reader *r, const node *parent, const char *name, size_t len)
{
    if (!r->n_slots)
        return NULL;
    for (size_t i = slot_of(r, parent, name, len);; i = (i + 1) & (r->n_slots - 1)) {
        node *n = r->slots[i];
        if (!n)
            return NULL;
        if (n->parent == parent && n->name_len == len && !memcmp(n->name, name, len))
            return n;
    }
}

static void place(reader *r, node *n)
{
    size_t i = slot_of(r, n->parent, n->name, n->name_len);
    while (r->slots[i])
        i = (i + 1) & (r->n_slots - 1);
    r->slots[i] = n;
}

static int grow_slots(reader *r)
{
    size_t n = r->n_slots ? r->n_slots * 2 : 1024;
    node **old = r->slots;
    size_t n_old = r->n_slots;
    if (!(r->slots = calloc(n, sizeof(*r->slots)))) {
        r->slots = old;
        return dv_error_set(DV_ENOMEM, "out of memory for the names of archive %s", r->name);
    }
    r->n_slots = n;
    for (size_t i = 0; i < n_old; i++)
        if (old[i])
            place(r, old[i]);
    free(old);
    return 0;
}

/* A new child of parent named name (len bytes). */
static int new_node(node **out, reader *r, node *parent, const char *name, size_t len, uint8_t mode)
{
    if ((r->n_nodes + 1) * 2 > r->n_slots) {
        int error = grow_slots(r);
        if (error < 0)
            return error;
    }
    node *n = calloc(1, sizeof(*n));
    if (!n || !(n->name = malloc(len + 1))) {
        free(n);
        return dv_error_set(DV_ENOMEM, "out of memory for the names of archive %s", r->name);
    }
    if (parent->n_children == parent->alloc_children) {
        size_t alloc = parent->alloc_children ? parent->alloc_children * 2 : 8;
        node **c = realloc(parent->children, alloc * sizeof(*c));
        if (!c) {
            free(n->name);
            free(n);
            return dv_error_set(DV_ENOMEM, "out of memory for the names of archive %s", r->name);
        }
        parent->children = c;
        parent->alloc_children = alloc;
    }
    memcpy(n->name, name, len);
    n->name[len] = '\0';
    n->name_len = len;
    n->parent = parent;
    n->mode = mode;
    n->entry = r->entries;
    parent->children[parent->n_children++] = n;
    place(r, n);
    r->n_nodes++;
    *out = n;
    return 0;
}

/* What a node holds; the node itself is the caller's (the root is part of the reader, the
 * others are freed by free_node). */
static void release_node(node *n);

static void free_node(node *n)
{
    release_node(n);
    free(n);
}

static void release_node(node *n)
{
    for (size_t i = 0; i < n->n_children; i++)
        free_node(n->children[i]);
    free(n->children);
    free(n->name);
    free(n->target);
}

static const char *kind_name(uint8_t mode)
{
    return mode == DV_MODE_DIR ? "a directory" : mode == DV_MODE_SYMLINK ? "a symlink" : "a file";
}

/*
 * raw, an archive's name for an entry (or a hard link's target), as a path below the top:
 * its components joined by '/', without "." and empty ones (tar writes "./a", "a/" for a
 * directory). Refused: an absolute path, "..", a name dv never writes, one longer than the
 * platform takes, deeper nesting than a checkout restores. what is "" or "links to ".
 */
static int normalise(reader *r, dv_buf *out, const char *raw, const char *entry_name,
                     const char *what)
{
    dv_buf_clear(out);
    if (raw[0] == '/')
        return refuse(r, entry_name, "%sis an absolute path", what);
    size_t depth = 0;
    for (const char *p = raw; *p;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int skip = len == 0 || (len == 1 && p[0] == '.');
        if (!skip) {
            if (len == 2 && p[0] == '.' && p[1] == '.')
                return refuse(r, entry_name, "%sgoes up with '..'", what);
            if (len > DV_ARCHIVE_MAX_NAME_BYTES)
                return refuse(r, entry_name,
                              "%shas a name of %zu bytes; file systems here take at most %d", what,
                              len, DV_ARCHIVE_MAX_NAME_BYTES);
            const char *problem = dv_pathname_problem(p, len);
            if (problem) {
                char part[DV_QUOTE_BUF_BYTES];
                return refuse(r, entry_name, "%shas the name '%s', which %s", what,
                              dv_quote_bytes(part, p, len), problem);
            }
            if (++depth > DV_ARCHIVE_MAX_DEPTH)
                return refuse(r, entry_name, "%sis nested deeper than %d directories", what,
                              DV_ARCHIVE_MAX_DEPTH);
            int error;
            if ((out->len && (error = dv_buf_putc(out, '/')) < 0) ||
                (error = dv_buf_put(out, p, len)) < 0)
                return error;
        }
        p += len;
        if (*p == '/')
            p++;
    }
    return 0;
}

/* The node a normalised path names, or NULL. */
static node *find_path(reader *r, const char *path)
{
    node *at = &r->root;
    for (const char *p = path; *p && at;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        at = lookup(r, at, p, len);
        p += len;
        if (*p == '/')
            p++;
    }
    return at;
}

/*
 * The node for the entry at the normalised path, made with mode; the directories on the
 * way are made as they are needed (an archive need not list them, or list them first).
 * Refused: a name below a file or symlink, and a name already taken (but a directory
 * implied by earlier names may then get its own entry).
 */
static int insert(node **out, reader *r, const char *path, uint8_t mode, const char *raw)
{
    node *at = &r->root;
    int error;
    for (const char *p = path;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        node *child = lookup(r, at, p, len);
        if (!end) {
            if (child && child->mode == DV_MODE_DIR && !child->declared && mode == DV_MODE_DIR) {
                child->declared = 1;
                child->entry = r->entries;
                *out = child;
                return 0;
            }
            if (child && !child->declared)
                return refuse(r, raw, "is %s, but earlier entries have it as a directory",
                              kind_name(mode));
            if (child)
                return refuse(r, raw, "is there twice (entry %llu has the same name)",
                              (unsigned long long)child->entry);
            if ((error = new_node(out, r, at, p, len, mode)) < 0)
                return error;
            (*out)->declared = 1;
            return 0;
        }
        if (child && child->mode != DV_MODE_DIR)
            return refuse(r, raw, "lies below '%.*s', which entry %llu made %s", (int)(end - path),
                          path, (unsigned long long)child->entry, kind_name(child->mode));
        if (!child && (error = new_node(&child, r, at, p, len, DV_MODE_DIR)) < 0)
            return error;
        at = child;
        p = end + 1;
    }
}

static int remember_link(reader *r, node *n)
{
    if (r->n_links == r->alloc_links) {
        size_t alloc = r->alloc_links ? r->alloc_links * 2 : 64;
        node **l = realloc(r->links, alloc * sizeof(*l));
        if (!l)
            return dv_error_set(DV_ENOMEM, "out of memory");
        r->links = l;
        r->alloc_links = alloc;
    }
    r->links[r->n_links++] = n;
    return 0;
}

static int set_target(reader *r, node *n, const char *target, size_t len)
{
    if (!(n->target = malloc(len + 1)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    memcpy(n->target, target, len);
    n->target[len] = '\0';
    n->target_len = len;
    return remember_link(r, n);
}

/* ---- an entry's bytes ---- */

/* dv_ingest_read_fn over the current entry: its data blocks in order, the gaps between the
 * blocks of a sparse entry as zeros. */
static int read_entry(void *ctx, void *buf, size_t len, size_t *got)
{
    reader *r = ctx;
    uint8_t *out = buf;
    size_t done = 0;
    while (done < len) {
        if (r->hole) {
            size_t n = r->hole < len - done ? (size_t)r->hole : len - done;
            memset(out + done, 0, n);
            r->hole -= n;
            r->pos += n;
            done += n;
            continue;
        }
        if (r->block_left) {
            size_t n = r->block_left < len - done ? r->block_left : len - done;
            memcpy(out + done, r->block, n);
            r->block += n;
            r->block_left -= n;
            r->pos += n;
            r->bytes_read += n;
            done += n;
            continue;
        }
        if (r->data_end)
            break;
        const void *block;
        size_t size;
        la_int64_t offset;
        int rc = archive_read_data_block(r->a, &block, &size, &offset);
        if (rc == ARCHIVE_EOF) {
            r->data_end = 1;
            r->hole = r->fill_to > r->offset_next ? r->fill_to - r->offset_next : 0;
            continue;
        }
        if (rc != ARCHIVE_OK) {
            const char *why = archive_error_string(r->a);
            return dv_error_set(DV_ECORRUPT, "%s", why ? why : "unreadable data");
        }
        uint64_t end;
        if (offset < 0 || (uint64_t)offset < r->offset_next ||
            __builtin_add_overflow((uint64_t)offset, (uint64_t)size, &end))
            return dv_error_set(DV_ECORRUPT, "archive %s: the data of an entry is out of order",
                                r->name);
        r->hole = (uint64_t)offset - r->offset_next;
        r->offset_next = end;
        r->block = block;
        r->block_left = size;
    }
    *got = done;
    return 0;
}

/* The current entry's bytes through the ingester, checked against the size it declares. */
static int ingest_entry(reader *r, node *n, struct archive_entry *e, const char *raw)
{
    int error;
    int size_set = archive_entry_size_is_set(e);
    la_int64_t declared = archive_entry_size(e);
    if (size_set && declared < 0)
        return refuse(r, raw, "declares a negative size");
    r->block = NULL;
    r->block_left = 0;
    r->offset_next = 0;
    r->pos = 0;
    r->hole = 0;
    r->data_end = 0;
    r->fill_to = size_set && archive_entry_sparse_count(e) > 0 ? (uint64_t)declared : 0;
    uint64_t size = 0;
    if ((error = dv_ingest_stream(&n->id, &size, r->ing, read_entry, r,
                                  size_set ? (uint64_t)declared : 0, r->path.ptr)) < 0)
        return dv_error_wrap(error, "archive %s: entry %llu", r->name,
                             (unsigned long long)r->entries);
    if (size_set && size != (uint64_t)declared)
        return refuse(r, raw, "holds %llu bytes but declares %lld", (unsigned long long)size,
                      (long long)declared);
    n->size = size;
    return 0;
}

/* ---- one entry ---- */

static int add_symlink(reader *r, const char *raw, struct archive_entry *e)
{
    const char *target = archive_entry_symlink(e);
    if (!target || !target[0])
        return refuse(r, raw, "is a symlink without a target");
    size_t len = strlen(target);
    if (target[0] == '/')
        return refuse(r, raw, "is a symlink to an absolute path, outside the archive");
    if (len > DV_ARCHIVE_MAX_TARGET_BYTES)
        return refuse(r, raw, "is a symlink whose target has %zu bytes; at most %d", len,
                      DV_ARCHIVE_MAX_TARGET_BYTES);
    node *n;
    int error;
    if ((error = insert(&n, r, r->path.ptr, DV_MODE_SYMLINK, raw)) < 0 ||
        (error = set_target(r, n, target, len)) < 0 ||
        (error = dv_ingest_blob(&n->id, r->ing, target, len)) < 0)
        return error;
    n->size = len;
    return 0;
}

/* A hard link to an earlier entry: the same content under another name (stored once). */
static int add_hardlink(reader *r, const char *raw, const char *to, struct archive_entry *e)
{
    int error;
    if ((error = normalise(r, &r->target, to, raw, "links to a name that ")) < 0)
        return error;
    node *target = r->target.len ? find_path(r, r->target.ptr) : NULL;
    if (!target || !target->declared)
        return refuse(r, raw,
                      "is a hard link to '%s', which is not an earlier entry of the "
                      "archive",
                      r->target.ptr);
    if (target->mode == DV_MODE_DIR)
        return refuse(r, raw, "is a hard link to a directory");
    int has_data = archive_entry_size_is_set(e) && archive_entry_size(e) > 0;
    node *n;
    if ((error = insert(&n, r, r->path.ptr, target->mode, raw)) < 0)
        return error;
    if (has_data) /* some formats (pax, cpio) may give the link its bytes again */
        return ingest_entry(r, n, e, raw);
    n->id = target->id;
    n->size = target->size;
    if (target->mode == DV_MODE_SYMLINK)
        return set_target(r, n, target->target, target->target_len);
    return 0;
}

static int add_entry(reader *r, struct archive_entry *e)
{
    int error;
    const char *raw = archive_entry_pathname(e);
    if (!raw)
        raw = archive_entry_pathname_utf8(e);
    if (!raw || !raw[0])
        return dv_error_set(DV_ECORRUPT, "archive %s: entry %llu has no name", r->name,
                            (unsigned long long)r->entries);
    if ((error = normalise(r, &r->path, raw, raw, "")) < 0)
        return error;
    const char *hardlink = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    if (!r->path.len) {
        if (type == AE_IFDIR && !hardlink)
            return 0; /* "./": the top itself */
        return refuse(r, raw, "names the top of the archive itself");
    }
    if (hardlink)
        return add_hardlink(r, raw, hardlink, e);
    node *n;
    switch (type) {
    case AE_IFREG:
        if ((error = insert(&n, r, r->path.ptr,
                            (archive_entry_perm(e) & 0100) ? DV_MODE_EXEC : DV_MODE_FILE, raw)) < 0)
            return error;
        return ingest_entry(r, n, e, raw);
    case AE_IFDIR:
        return insert(&n, r, r->path.ptr, DV_MODE_DIR, raw);
    case AE_IFLNK:
        return add_symlink(r, raw, e);
    case AE_IFCHR:
    case AE_IFBLK:
        return refuse(r, raw,
                      "is a device file; only files, directories and symlinks are "
                      "imported");
    case AE_IFIFO:
        return refuse(r, raw,
                      "is a named pipe; only files, directories and symlinks are "
                      "imported");
    case AE_IFSOCK:
        return refuse(r, raw, "is a socket; only files, directories and symlinks are imported");
    default:
        return refuse(r, raw,
                      "has an unknown file type; only files, directories and symlinks "
                      "are imported");
    }
}

/* ---- the symlinks, once every name is known ---- */

static int push(reader *r, node *dir)
{
    if (r->depth == r->alloc_stack) {
        size_t alloc = r->alloc_stack ? r->alloc_stack * 2 : 64;
        node **s = realloc(r->stack, alloc * sizeof(*s));
        if (!s)
            return dv_error_set(DV_ENOMEM, "out of memory");
        r->stack = s;
        r->alloc_stack = alloc;
    }
    r->stack[r->depth++] = dir;
    return 0;
}

/* The path of n below the top, for messages. */
static int path_of(dv_buf *out, const node *n)
{
    if (!n->parent || !n->parent->parent)
        return dv_buf_put(out, n->name, n->name_len);
    int error = path_of(out, n->parent);
    if (!error && !(error = dv_buf_putc(out, '/')))
        error = dv_buf_put(out, n->name, n->name_len);
    return error;
}

static int link_refused(reader *r, node *link, const char *what)
{
    dv_buf path = DV_BUF_INIT;
    int error = path_of(&path, link);
    char target[DV_QUOTE_BUF_BYTES];
    if (!error)
        error = dv_error_set(DV_ECORRUPT, "archive %s: entry %llu '%s' is a symlink to '%s', %s",
                             r->name, (unsigned long long)link->entry, shown_name(r, path.ptr),
                             dv_quote_bytes(target, link->target, link->target_len), what);
    dv_buf_release(&path);
    return error;
}

/*
 * Follow target from the directory on top of the stack, as the kernel would in the
 * imported tree: symlinks of the archive are followed (at most DV_ARCHIVE_MAX_LINK_HOPS),
 * names it lacks are taken as they are. A ".." above the top leaves the archive.
 */
static int resolve(reader *r, node *link, const char *target, size_t len, int hops)
{
    int error;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && target[end] != '/')
            end++;
        const char *c = target + i;
        size_t n = end - i;
        i = end < len ? end + 1 : end;
        if (n == 0 || (n == 1 && c[0] == '.'))
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (r->depth <= 1)
                return link_refused(r, link, "which is outside the archive");
            r->depth--;
            continue;
        }
        node *dir = r->stack[r->depth - 1];
        node *child = dir ? lookup(r, dir, c, n) : NULL;
        if (child && child->mode == DV_MODE_SYMLINK) {
            if (hops >= DV_ARCHIVE_MAX_LINK_HOPS)
                return link_refused(r, link, "through too many symlinks");
            if ((error = resolve(r, link, child->target, child->target_len, hops + 1)) < 0)
                return error;
            continue;
        }
        /* past a file or a missing name, nothing more is known: only ".." can matter */
        if ((error = push(r, child && child->mode == DV_MODE_DIR ? child : NULL)) < 0)
            return error;
    }
    return 0;
}

static int check_link(reader *r, node *link)
{
    int error;
    size_t levels = 0;
    for (node *d = link->parent; d; d = d->parent)
        levels++;
    r->depth = 0;
    for (size_t i = 0; i < levels; i++)
        if ((error = push(r, NULL)) < 0)
            return error;
    size_t k = levels;
    for (node *d = link->parent; d; d = d->parent)
        r->stack[--k] = d;
    return resolve(r, link, link->target, link->target_len, 0);
}

/* ---- the trees ---- */

/* Encode (and store) the tree of dir, its subdirectories first. */
static int build(reader *r, node *dir, dv_buf *scratch)
{
    int error = 0;
    dv_tree t = DV_TREE_INIT;
    dir->size = 0;
    dir->files = 0;
    for (size_t i = 0; i < dir->n_children && !error; i++) {
        node *c = dir->children[i];
        if (c->mode == DV_MODE_DIR && (error = build(r, c, scratch)) < 0)
            break;
        if ((error = dv_tree_add(&t, c->name, c->name_len, c->mode, &c->id, c->size)) < 0)
            break;
        dir->size += c->size;
        dir->files += c->mode == DV_MODE_DIR ? c->files : 1;
    }
    dv_buf_clear(scratch);
    if (!error && !(error = dv_tree_sort(&t)) && !(error = dv_tree_encode(scratch, &t)) &&
        !(error = dv_hash_buffer(&dir->id, scratch->ptr, scratch->len)) && r->odb)
        error = dv_odb_put(r->odb, &dir->id, DV_OBJ_TREE, scratch->ptr, scratch->len, NULL);
    dv_tree_release(&t);
    return error;
}

static void count_dirs(const node *dir, uint64_t *dirs)
{
    for (size_t i = 0; i < dir->n_children; i++)
        if (dir->children[i]->mode == DV_MODE_DIR) {
            (*dirs)++;
            count_dirs(dir->children[i], dirs);
        }
}

/* ---- the whole archive ---- */

static int support(reader *r, int rc, const char *what)
{
    if (rc == ARCHIVE_OK)
        return 0;
    const char *why = archive_error_string(r->a);
    return dv_error_set(DV_ERROR, "cannot read %s archives: %s", what, why ? why : "libarchive");
}

/* Formats and filters from libarchive's own code or the libraries it was built with; not
 * mtree, which names files of the machine it is read on, and no filter that would run an
 * external program over the archive. */
static int make_archive(reader *r)
{
    if (!(r->a = archive_read_new()))
        return dv_error_set(DV_ENOMEM, "out of memory");
    struct archive *a = r->a;
    int error;
    if ((error = support(r, archive_read_support_filter_compress(a), "compressed")) < 0 ||
        (error = support(r, archive_read_support_filter_uu(a), "uuencoded")) < 0 ||
        (archive_zlib_version() &&
         (error = support(r, archive_read_support_filter_gzip(a), "gzip")) < 0) ||
        (archive_bzlib_version() &&
         (error = support(r, archive_read_support_filter_bzip2(a), "bzip2")) < 0) ||
        (archive_liblzma_version() &&
         ((error = support(r, archive_read_support_filter_xz(a), "xz")) < 0 ||
          (error = support(r, archive_read_support_filter_lzma(a), "lzma")) < 0 ||
          (error = support(r, archive_read_support_filter_lzip(a), "lzip")) < 0)) ||
        (archive_libzstd_version() &&
         (error = support(r, archive_read_support_filter_zstd(a), "zstd")) < 0) ||
        (archive_liblz4_version() &&
         (error = support(r, archive_read_support_filter_lz4(a), "lz4")) < 0))
        return error;
    if ((error = support(r, archive_read_support_format_tar(a), "tar")) < 0 ||
        (error = support(r, archive_read_support_format_gnutar(a), "GNU tar")) < 0 ||
        (error = support(r, archive_read_support_format_zip(a), "zip")) < 0 ||
        (error = support(r, archive_read_support_format_cpio(a), "cpio")) < 0 ||
        (error = support(r, archive_read_support_format_7zip(a), "7-Zip")) < 0 ||
        (error = support(r, archive_read_support_format_ar(a), "ar")) < 0 ||
        (error = support(r, archive_read_support_format_iso9660(a), "ISO 9660")) < 0 ||
        (error = support(r, archive_read_support_format_xar(a), "xar")) < 0 ||
        (error = support(r, archive_read_support_format_empty(a), "empty")) < 0)
        return error;
    return 0;
}

static int read_all(dv_archive_result *result, reader *r)
{
    int error;
    struct archive_entry *e;
    for (;;) {
        int rc = archive_read_next_header(r->a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc != ARCHIVE_OK) {
            char doing[64];
            snprintf(doing, sizeof(doing), "cannot read entry %llu",
                     (unsigned long long)r->entries + 1);
            return archive_failed(r, doing);
        }
        if (++r->entries > DV_ARCHIVE_MAX_ENTRIES)
            return dv_error_set(DV_ECORRUPT, "archive %s has more than %llu entries", r->name,
                                DV_ARCHIVE_MAX_ENTRIES);
        if ((error = add_entry(r, e)) < 0)
            return error;
    }
    for (size_t i = 0; i < r->n_links; i++)
        if ((error = check_link(r, r->links[i])) < 0)
            return error;
    dv_buf scratch = DV_BUF_INIT;
    error = build(r, &r->root, &scratch);
    dv_buf_release(&scratch);
    if (error < 0)
        return error;
    memset(result, 0, sizeof(*result));
    result->id = r->root.id;
    result->size = r->root.size;
    result->files = r->root.files;
    result->entries = r->entries;
    result->bytes_read = r->bytes_read;
    count_dirs(&r->root, &result->dirs);
    return 0;
}

static void reader_release(reader *r)
{
    if (r->a)
        archive_read_free(r->a);
    release_node(&r->root);
    free(r->slots);
    free(r->links);
    free(r->stack);
    dv_buf_release(&r->path);
    dv_buf_release(&r->target);
}

static void reader_init(reader *r, const char *name, dv_ingest *ing, dv_odb *odb)
{
    memset(r, 0, sizeof(*r));
    r->name = name;
    r->ing = ing;
    r->odb = odb;
    r->root.mode = DV_MODE_DIR;
    r->root.declared = 1;
    r->path = (dv_buf)DV_BUF_INIT;
    r->target = (dv_buf)DV_BUF_INIT;
}

/* A pipe read through libarchive's callbacks: the bytes read before, then the rest. */
typedef struct stream_source {
    const uint8_t *prefix;
    size_t prefix_len;
    int fd;
    uint8_t *buf;
} stream_source;

static la_ssize_t read_stream(struct archive *a, void *ctx, const void **out)
{
    stream_source *s = ctx;
    if (s->prefix_len) {
        *out = s->prefix;
        la_ssize_t n = (la_ssize_t)s->prefix_len;
        s->prefix_len = 0;
        return n;
    }
    for (;;) {
        ssize_t n = read(s->fd, s->buf, DV_ARCHIVE_BLOCK_BYTES);
        if (n >= 0) {
            *out = s->buf;
            return n;
        }
        if (errno != EINTR) {
            archive_set_error(a, errno, "cannot read: %s", strerror(errno));
            return -1;
        }
    }
}

int dv_archive_is_zip(const void *start, size_t len)
{
    const uint8_t *p = start;
    return len >= 4 && p[0] == 'P' && p[1] == 'K' &&
           ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6) || (p[2] == 7 && p[3] == 8));
}

/*
 * Read the archive from fd, or from data when fd < 0. Names are bytes to dv, as to the
 * kernel: libarchive gives them in the locale's character set, converting those an archive
 * records as UTF-8 (pax, zip), which fails for any name beyond ASCII in the C locale. So
 * this thread reads in C.UTF-8 (where the system has it), whatever the process's locale.
 */
static int read_archive(dv_archive_result *result, int fd, stream_source *stream, const void *data,
                        size_t len, const char *name, dv_ingest *ing, dv_odb *odb)
{
    reader r;
    reader_init(&r, name, ing, odb);
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t before = utf8 ? uselocale(utf8) : (locale_t)0;
    int error = make_archive(&r);
    if (!error && (stream    ? archive_read_open(r.a, stream, NULL, read_stream, NULL)
                   : fd >= 0 ? archive_read_open_fd(r.a, fd, DV_ARCHIVE_BLOCK_BYTES)
                             : archive_read_open_memory(r.a, data, len)) != ARCHIVE_OK)
        error = archive_failed(&r, "cannot open it");
    if (!error)
        error = read_all(result, &r);
    reader_release(&r);
    if (utf8) {
        uselocale(before);
        freelocale(utf8);
    }
    return error;
}

int dv_archive_read_fd(dv_archive_result *result, int fd, const char *name, dv_ingest *ing,
                       dv_odb *odb)
{
    return read_archive(result, fd, NULL, NULL, 0, name, ing, odb);
}

int dv_archive_read_stream(dv_archive_result *result, const void *prefix, size_t prefix_len, int fd,
                           const char *name, dv_ingest *ing, dv_odb *odb)
{
    stream_source s = {prefix, prefix_len, fd, malloc(DV_ARCHIVE_BLOCK_BYTES)};
    if (!s.buf)
        return dv_error_set(DV_ENOMEM, "out of memory");
    int error = read_archive(result, -1, &s, NULL, 0, name, ing, odb);
    free(s.buf);
    return error;
}

int dv_archive_read_memory(dv_archive_result *result, const void *data, size_t len,
                           const char *name, dv_ingest *ing, dv_odb *odb)
{
    return read_archive(result, -1, NULL, data, len, name, ing, odb);
}
