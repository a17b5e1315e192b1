/* bundle (operation): create, verify, unbundle and describe bundle files. */
#include "core/ops/bundle.h"

#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/tempfile.h"
#include "core/object/hash.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/object/pointer.h"
#include "core/ops/reach.h"
#include "core/repo/rev.h"
#include "storage/bundle.h"
#include "storage/odb.h"
#include "storage/pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define COPY_BUFFER_BYTES (1u << 20)

/* ---- the roots: the objects the revisions' pointer files name ---- */

typedef struct root_collector {
    dv_bundle_header *header; /* NULL: the roots go to items only */
    dv_reach_item *items;
    size_t n, alloc;
    dv_oidset seen;
    const char *const *filters;
    size_t n_filters;
    char *used; /* per filter: it matched a pointer */
} root_collector;

static int add_root(void *ctx, const char *data_relpath, const dv_pointer *ptr)
{
    root_collector *c = ctx;
    for (size_t i = 0; i < c->n_filters; i++)
        if (dv_rev_path_matches(data_relpath, c->filters[i]))
            c->used[i] = 1;
    int added = dv_oidset_add(&c->seen, &ptr->oid);
    if (added <= 0)
        return added;
    if (c->n == c->alloc) {
        size_t alloc = c->alloc ? c->alloc * 2 : 16;
        dv_reach_item *items = realloc(c->items, alloc * sizeof(*items));
        if (!items)
            return dv_error_set(DV_ENOMEM, "out of memory");
        c->items = items;
        c->alloc = alloc;
    }
    dv_reach_item *item = &c->items[c->n];
    item->id = ptr->oid;
    item->type = dv_object_type_of_mode(dv_pointer_mode(ptr));
    item->root = (uint32_t)c->n;
    c->n++;
    return c->header ? dv_bundle_header_add_root(c->header, item->type, &item->id) : 0;
}

static void collector_release(root_collector *c)
{
    free(c->items);
    free(c->used);
    dv_oidset_release(&c->seen);
}

/* The distinct roots of set's revisions below filters. With check_filters, a filter that
 * matches nothing is refused. */
static int collect_roots(root_collector *c, dv_repo *repo, dv_revset *set,
                         const dv_bundle_create_options *opts, int check_filters)
{
    c->filters = opts->paths;
    c->n_filters = opts->n_paths;
    c->seen = (dv_oidset)DV_OIDSET_INIT;
    if (!(c->used = calloc(opts->n_paths + 1, 1)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    int error = dv_revset_each_pointer(repo, set, opts->paths, opts->n_paths, add_root, NULL, c);
    for (size_t i = 0; check_filters && !error && i < opts->n_paths; i++)
        if (!c->used[i])
            error = dv_error_set(DV_EUSAGE, "%s is not tracked by dv at the revisions asked for",
                                 opts->paths[i][0] ? opts->paths[i] : ".");
    return error;
}

/* ---- the revisions ---- */

/* Resolve spec, record it in h as kind, and add it to set. */
static int add_rev(dv_bundle_header *h, dv_revset *set, dv_repo *repo, uint8_t kind,
                   const char *spec)
{
    dv_rev *rev = NULL;
    char hex[GIT_OID_HEXSZ + 1];
    int error = dv_rev_resolve(&rev, repo, spec);
    if (error < 0)
        return error;
    git_oid_tostr(hex, sizeof(hex), git_commit_id(dv_rev_commit(rev)));
    dv_rev_free(rev);
    if ((error = dv_bundle_header_add_rev(h, kind, spec, hex)) < 0)
        return error;
    return dv_revset_add(set, spec);
}

/* Every reference matching glob that peels to a commit. */
static int add_refs(dv_bundle_header *h, dv_revset *set, dv_repo *repo, const char *glob)
{
    git_reference_iterator *it = NULL;
    git_reference *ref;
    int error = 0;
    if (git_reference_iterator_glob_new(&it, repo->git, glob) < 0)
        return dv_error_set(DV_ERROR, "cannot list the references %s: %s", glob,
                            git_error_last() ? git_error_last()->message : "unknown error");
    while (!error && git_reference_next(&ref, it) == 0) {
        git_object *peeled = NULL;
        if (git_reference_peel(&peeled, ref, GIT_OBJECT_COMMIT) == 0)
            error = add_rev(h, set, repo, DV_BUNDLE_REV_TIP, git_reference_name(ref));
        git_object_free(peeled);
        git_reference_free(ref);
    }
    git_reference_iterator_free(it);
    return error;
}

/* ---- create ---- */

typedef struct walk_ctx {
    dv_oidset *into;
    const dv_oidset *skip; /* NULL: none */
    const root_collector *roots;
    dv_odb *store;  /* check: the store that supplies what the bundle lacks */
    dv_oid missing; /* check: the first object neither holds */
    int have_missing;
} walk_ctx;

static int visit_add(void *ctx, const dv_reach_item *item)
{
    walk_ctx *w = ctx;
    if (w->skip && dv_oidset_has(w->skip, &item->id))
        return 0;
    int added = dv_oidset_add(w->into, &item->id);
    return added < 0 ? added : 0;
}

static const char *root_name(void *ctx, uint32_t root)
{
    walk_ctx *w = ctx;
    return w->roots ? dv_oid_hex(&w->roots->items[root].id) : "a root";
}

/* A base's object the store lacks: its data is not here, so nothing below it is left out. */
static int absent_base(void *ctx, const dv_reach_item *item)
{
    (void)ctx;
    (void)item;
    return 1;
}

typedef struct store_pack {
    dv_pack *pack;
    int64_t mtime_ns;
} store_pack;

static int compare_mtime(const void *a, const void *b)
{
    const store_pack *x = a, *y = b;
    return (x->mtime_ns > y->mtime_ns) - (x->mtime_ns < y->mtime_ns);
}

static int want_id(void *ctx, const dv_oid *id)
{
    return dv_oidset_has(ctx, id);
}

static void remove_series(dv_pack_series *s)
{
    dv_buf path = DV_BUF_INIT;
    for (size_t i = 0; i < s->n; i++)
        for (int k = 0; k < 2; k++) {
            dv_buf_clear(&path);
            if (dv_buf_printf(&path, "%s/%s.%s", s->dir, dv_oid_hex(&s->ids[i]),
                              k ? "idx" : "pack") == 0)
                if (dv_tempfile_remove(path.ptr) < 0)
                    dv_error_clear(); /* .dv/tmp is emptied by the next locked command */
        }
    dv_buf_release(&path);
}

/* Register the packs the series sealed since *registered as temp files, so that an
 * interrupted create leaves none of them in .dv/tmp. */
static int register_sealed(const dv_pack_series *s, size_t *registered)
{
    dv_buf path = DV_BUF_INIT;
    int error = 0;
    for (; *registered < s->n && !error; (*registered)++)
        for (int k = 0; k < 2 && !error; k++) {
            dv_buf_clear(&path);
            if ((error = dv_buf_printf(&path, "%s/%s.%s", s->dir, dv_oid_hex(&s->ids[*registered]),
                                       k ? "idx" : "pack")) == 0)
                error = dv_tempfile_register(path.ptr);
        }
    dv_buf_release(&path);
    return error;
}

/* Copy the wanted entries of the store's packs, in the order of writing and each pack's
 * entries in file order (so every new pack names only what it or one before it holds),
 * into the series: stored bytes as they are, CRC-32C and SHA-256 checked. */
static int copy_wanted(dv_pack_series *series, dv_odb *odb, const dv_oidset *wanted,
                       uint64_t *n_copied)
{
    size_t n_packs = dv_odb_pack_count(odb);
    store_pack *packs = calloc(n_packs + 1, sizeof(*packs));
    dv_pack_entry *entries = NULL;
    size_t entries_cap = 0;
    dv_oidset copied = DV_OIDSET_INIT;
    dv_buf stored = DV_BUF_INIT, decoded = DV_BUF_INIT;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    size_t registered = 0;
    int error = 0;
    if (!packs || !dctx) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_packs; i++) {
        struct stat st;
        packs[i].pack = dv_odb_pack_at(odb, i);
        if (stat(dv_pack_path(packs[i].pack), &st) < 0) {
            error = dv_error_errno("cannot read pack %s", dv_pack_path(packs[i].pack));
            goto done;
        }
        packs[i].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    qsort(packs, n_packs, sizeof(*packs), compare_mtime);
    for (size_t i = 0; i < n_packs; i++) {
        dv_pack *pack = packs[i].pack;
        size_t n = 0;
        if ((error = dv_pack_entries_in_order(&entries, &entries_cap, &n, pack, want_id,
                                              (void *)wanted)) < 0)
            goto done;
        for (size_t j = 0; j < n; j++) {
            const dv_pack_entry *e = &entries[j];
            int added = dv_oidset_add(&copied, &e->id);
            if (added < 0) {
                error = added;
                goto done;
            }
            if (!added)
                continue;
            if ((error = dv_pack_read_stored(&stored, pack, e)) < 0 ||
                (error = dv_pack_decode(&decoded, e, stored.ptr, stored.len, dctx,
                                        dv_pack_path(pack))) < 0) {
                error = dv_error_wrap(error, "cannot copy object %s into the bundle (run dv fsck)",
                                      dv_oid_short(&e->id));
                goto done;
            }
            if ((error = dv_pack_series_append(series, &e->id, e->type, e->flags, e->raw_len,
                                               stored.ptr, (uint32_t)stored.len)) < 0 ||
                (error = register_sealed(series, &registered)) < 0)
                goto done;
        }
    }
    if ((error = dv_pack_series_seal(series)) < 0 ||
        (error = register_sealed(series, &registered)) < 0)
        goto done;
    *n_copied = dv_oidset_count(&copied);
    if (*n_copied != dv_oidset_count(wanted))
        error = dv_error_set(DV_ENOTFOUND,
                             "the store's sealed packs lack %llu of the objects to bundle (run "
                             "dv fsck)",
                             (unsigned long long)(dv_oidset_count(wanted) - *n_copied));
done:
    ZSTD_freeDCtx(dctx);
    dv_buf_release(&stored);
    dv_buf_release(&decoded);
    dv_oidset_release(&copied);
    free(entries);
    free(packs);
    return error;
}

static int file_size(uint64_t *out, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return dv_error_errno("cannot read %s", path);
    *out = (uint64_t)st.st_size;
    return 0;
}

/* Append the file at path (length bytes) to fd, hashing it. */
static int append_file(int fd, dv_hasher *hasher, const char *path, uint64_t length,
                       const char *out_path, uint8_t *buf)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    int error = 0;
    if (in < 0)
        return dv_error_errno("cannot read %s", path);
    for (uint64_t at = 0; at < length && !error;) {
        size_t n = length - at < COPY_BUFFER_BYTES ? (size_t)(length - at) : COPY_BUFFER_BYTES;
        if ((error = dv_fs_pread_all(in, buf, n, at, path)) == 0 &&
            (error = dv_hasher_update(hasher, buf, n)) == 0)
            error = dv_fs_write_all(fd, buf, n, out_path);
        at += n;
    }
    close(in);
    return error;
}

/* The bundle file: header, the series' packs and indexes, trailer; through a temp file. */
static int write_bundle(dv_bundle_summary *out, const char *path, dv_bundle_header *h,
                        const dv_pack_series *s)
{
    dv_buf head = DV_BUF_INIT, tmp = DV_BUF_INIT, file = DV_BUF_INIT;
    dv_hasher *hasher = NULL;
    uint8_t *buf = malloc(COPY_BUFFER_BYTES);
    int fd = -1, error = 0;
    if (!buf)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n; i++)
        for (int k = 0; k < 2; k++) {
            uint64_t length = 0;
            dv_buf_clear(&file);
            if ((error = dv_buf_printf(&file, "%s/%s.%s", s->dir, dv_oid_hex(&s->ids[i]),
                                       k ? "idx" : "pack")) < 0 ||
                (error = file_size(&length, file.ptr)) < 0 ||
                (error = dv_bundle_header_add_file(
                     h, k ? DV_BUNDLE_FILE_INDEX : DV_BUNDLE_FILE_PACK, &s->ids[i], length)) < 0)
                goto done;
            out->pack_bytes += length;
        }
    if ((error = dv_bundle_header_encode(&head, h)) < 0 || (error = dv_hasher_new(&hasher)) < 0)
        goto done;
    if ((error = dv_fs_tmpfile(&fd, &tmp, path, 0644)) < 0) {
        error = dv_error_wrap(error, "cannot write bundle %s", path);
        goto done;
    }
    if ((error = dv_hasher_update(hasher, head.ptr, head.len)) < 0 ||
        (error = dv_fs_write_all(fd, head.ptr, head.len, tmp.ptr)) < 0)
        goto done;
    for (size_t i = 0; i < h->n_files; i++) {
        const dv_bundle_file *f = &h->files[i];
        dv_buf_clear(&file);
        if ((error = dv_buf_printf(&file, "%s/%s.%s", s->dir, dv_oid_hex(&f->pack_id),
                                   f->kind == DV_BUNDLE_FILE_INDEX ? "idx" : "pack")) < 0 ||
            (error = append_file(fd, hasher, file.ptr, f->length, tmp.ptr, buf)) < 0)
            goto done;
    }
    dv_oid sum;
    if ((error = dv_hasher_final(&sum, hasher)) < 0 ||
        (error = dv_fs_write_all(fd, sum.id, DV_OID_BYTES, tmp.ptr)) < 0)
        goto done;
    out->bundle_bytes = (uint64_t)head.len + out->pack_bytes + DV_BUNDLE_TRAILER_BYTES;
    error = dv_fs_commit_tmp(fd, tmp.ptr, path, DV_FS_DURABLE);
    fd = -1;
    if (error < 0)
        error = dv_error_wrap(error, "cannot write bundle %s", path);
done:
    if (fd >= 0) {
        close(fd);
        dv_fs_tmp_discard(tmp.ptr);
    }
    dv_hasher_free(hasher);
    free(buf);
    dv_buf_release(&head);
    dv_buf_release(&tmp);
    dv_buf_release(&file);
    return error;
}

int dv_bundle_create(dv_bundle_summary *out, dv_repo *repo, const char *path,
                     const dv_bundle_create_options *opts)
{
    dv_bundle_header h = {0};
    dv_revset *tips = NULL, *bases = NULL;
    root_collector tip_roots = {0}, base_roots = {0};
    dv_oidset wanted = DV_OIDSET_INIT, based = DV_OIDSET_INIT;
    dv_pack_series series = DV_PACK_SERIES_INIT;
    dv_buf tmp_dir = DV_BUF_INIT;
    dv_odb *odb;
    int error;
    memset(out, 0, sizeof(*out));
    if (!opts->n_revs && !opts->all_branches && !opts->all_tags)
        return dv_error_set(DV_EUSAGE, "name what to bundle: --rev <rev>, --all-branches or "
                                       "--all-tags");
    if ((error = dv_repo_odb(&odb, repo)) < 0 || (error = dv_revset_new(&tips, repo)) < 0 ||
        (error = dv_revset_new(&bases, repo)) < 0)
        goto done;
    for (size_t i = 0; i < opts->n_revs; i++)
        if ((error = add_rev(&h, tips, repo, DV_BUNDLE_REV_TIP, opts->revs[i])) < 0)
            goto done;
    if ((opts->all_branches && (error = add_refs(&h, tips, repo, "refs/heads/*")) < 0) ||
        (opts->all_tags && (error = add_refs(&h, tips, repo, "refs/tags/*")) < 0))
        goto done;
    if (!h.n_revs) {
        error = dv_error_set(DV_EUSAGE, "there are no %s to bundle",
                             opts->all_branches ? "branches" : "tags");
        goto done;
    }
    for (size_t i = 0; i < opts->n_since; i++)
        if ((error = add_rev(&h, bases, repo, DV_BUNDLE_REV_BASE, opts->since[i])) < 0)
            goto done;
    for (size_t i = 0; i < opts->n_paths; i++)
        if ((error = dv_bundle_header_add_path(&h, opts->paths[i])) < 0)
            goto done;

    tip_roots.header = &h;
    if ((error = collect_roots(&tip_roots, repo, tips, opts, 1)) < 0)
        goto done;
    out->roots = tip_roots.n;
    if (opts->n_since) {
        walk_ctx w = {&based, NULL, &base_roots, NULL, {{0}}, 0};
        dv_reach_ops ops = {NULL, NULL, absent_base, visit_add, root_name, &w};
        if ((error = collect_roots(&base_roots, repo, bases, opts, 0)) < 0 ||
            (error = dv_reach_walk(odb, base_roots.items, base_roots.n, &ops)) < 0)
            goto done;
    }
    walk_ctx w = {&wanted, opts->n_since ? &based : NULL, &tip_roots, NULL, {{0}}, 0};
    dv_reach_ops ops = {NULL, NULL, NULL, visit_add, root_name, &w};
    if ((error = dv_reach_walk(odb, tip_roots.items, tip_roots.n, &ops)) < 0) {
        error = dv_error_wrap(error, "the store lacks data of the revisions to bundle (dv fetch "
                                     "--rev <rev> brings it)");
        goto done;
    }

    if ((error = dv_repo_tmp_dir(&tmp_dir, repo)) < 0)
        goto done;
    series.dir = tmp_dir.ptr;
    series.target_bytes = repo->pack_target_bytes;
    if ((error = copy_wanted(&series, odb, &wanted, &out->objects)) < 0)
        goto done;
    out->packs = series.n;
    error = write_bundle(out, path, &h, &series);
done:
    remove_series(&series);
    dv_pack_series_release(&series);
    dv_buf_release(&tmp_dir);
    dv_oidset_release(&wanted);
    dv_oidset_release(&based);
    collector_release(&tip_roots);
    collector_release(&base_roots);
    dv_revset_free(tips);
    dv_revset_free(bases);
    dv_bundle_header_release(&h);
    return error;
}

/* ---- verify and unbundle ---- */

/* <cache>/unbundle/packs, emptied of what a killed unbundle left: the bundle's packs are
 * checked there before they move into the store. */
static int staging_prepare(dv_buf *dir, dv_buf *packs, dv_repo *repo)
{
    int error;
    if ((error = dv_buf_joinpath(dir, repo->cache_dir.ptr, "unbundle")) < 0 ||
        (error = dv_buf_joinpath(packs, dir->ptr, "packs")) < 0 ||
        (error = dv_fs_mkdir_p(packs->ptr, 0755)) < 0)
        return error;
    dv_buf tmp = DV_BUF_INIT;
    if ((error = dv_buf_joinpath(&tmp, dir->ptr, "tmp")) == 0)
        error = dv_fs_mkdir_p(tmp.ptr, 0755);
    dv_buf_release(&tmp);
    return error;
}

/* Remove every file in dir/packs and dir/tmp, then the three directories. */
static int staging_remove(const char *dir)
{
    static const char *const subs[] = {"packs", "tmp"};
    dv_buf sub = DV_BUF_INIT, path = DV_BUF_INIT;
    int error = 0;
    for (size_t i = 0; i < 2 && !error; i++) {
        dv_buf_clear(&sub);
        if ((error = dv_buf_joinpath(&sub, dir, subs[i])) < 0)
            break;
        DIR *d = opendir(sub.ptr);
        if (!d) {
            if (errno != ENOENT)
                error = dv_error_errno("cannot read %s", sub.ptr);
            continue;
        }
        struct dirent *de;
        while (!error && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            dv_buf_clear(&path);
            if ((error = dv_buf_joinpath(&path, sub.ptr, de->d_name)) == 0)
                error = dv_tempfile_remove(path.ptr);
        }
        closedir(d);
        if (!error && rmdir(sub.ptr) < 0 && errno != ENOENT)
            error = dv_error_errno("cannot remove %s", sub.ptr);
    }
    if (!error && rmdir(dir) < 0 && errno != ENOENT)
        error = dv_error_errno("cannot remove %s", dir);
    dv_buf_release(&sub);
    dv_buf_release(&path);
    return error;
}

/* Copy the table's file i to dir/<id>.pack or .idx, durable, read-only. */
static int extract(dv_bundle *b, size_t i, const char *dir, dv_buf *path)
{
    const dv_bundle_file *f = &b->header.files[i];
    dv_buf_clear(path);
    int error = dv_buf_printf(path, "%s/%s.%s", dir, dv_oid_hex(&f->pack_id),
                              f->kind == DV_BUNDLE_FILE_INDEX ? "idx" : "pack");
    if (error < 0)
        return error;
    int fd = open(path->ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0)
        return dv_error_errno("cannot create %s", path->ptr);
    if ((error = dv_tempfile_register(path->ptr)) < 0 ||
        (error = dv_bundle_copy_out(b, i, fd, path->ptr)) < 0)
        goto done;
    if (fsync(fd) < 0)
        error = dv_error_errno("cannot write %s", path->ptr);
done:
    if (close(fd) < 0 && !error)
        error = dv_error_errno("cannot write %s", path->ptr);
    return error;
}

typedef struct problems {
    const char *bundle;
    int n;
} problems;

static void note_problem(void *ctx, const dv_pack *pack, const dv_oid *object, const char *message)
{
    problems *p = ctx;
    if (p->n++ == 0 && dv_error_set(DV_ECORRUPT, "bundle %s is damaged: pack %s%s%s: %s", p->bundle,
                                    dv_oid_short(dv_pack_id(pack)), object ? ", object " : "",
                                    object ? dv_oid_short(object) : "", message) < 0)
        return; /* the message is kept for the caller */
}

/* Every pack staged: its index's own checksum, the pack's trailer, index against entries,
 * every entry's CRC-32C, and every object's SHA-256. */
static int check_packs(dv_bundle_summary *out, dv_odb *staged, const dv_bundle *b)
{
    dv_buf idx = DV_BUF_INIT, stored = DV_BUF_INIT, decoded = DV_BUF_INIT;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    int error = 0;
    if (!dctx)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (dv_odb_broken_count(staged)) {
        error = dv_error_set(DV_ECORRUPT, "bundle %s is damaged: %s", b->path,
                             dv_odb_broken_at(staged, 0));
        goto done;
    }
    if (dv_odb_pack_count(staged) != b->header.n_files / 2) {
        error = dv_error_set(DV_ECORRUPT, "bundle %s is damaged: %zu of its %zu packs are usable",
                             b->path, dv_odb_pack_count(staged), b->header.n_files / 2);
        goto done;
    }
    for (size_t i = 0; i < dv_odb_pack_count(staged); i++) {
        dv_pack *pack = dv_odb_pack_at(staged, i);
        problems p = {b->path, 0};
        dv_buf_clear(&idx);
        size_t len = strlen(dv_pack_path(pack));
        if ((error = dv_buf_put(&idx, dv_pack_path(pack), len - 4)) < 0 ||
            (error = dv_buf_puts(&idx, "idx")) < 0)
            goto done;
        dv_buf index = DV_BUF_INIT;
        if ((error = dv_fs_read_file(&index, idx.ptr, (size_t)DV_BUNDLE_INDEX_MAX_BYTES)) == 0)
            error = dv_pack_check_index((const uint8_t *)index.ptr, index.len, dv_pack_id(pack),
                                        b->path);
        dv_buf_release(&index);
        if (error < 0) {
            if (error == DV_ECORRUPT)
                error = dv_error_wrap(error, "bundle %s is damaged: the index of pack %s", b->path,
                                      dv_oid_short(dv_pack_id(pack)));
            goto done;
        }
        if ((error = dv_pack_verify(pack, DV_PACK_VERIFY_CRC, note_problem, &p)) < 0)
            goto done;
        if (p.n) {
            error = DV_ECORRUPT;
            goto done;
        }
        for (size_t j = 0; j < dv_pack_count(pack); j++) {
            dv_pack_entry e;
            dv_pack_entry_at(pack, j, &e);
            if ((error = dv_pack_read_stored(&stored, pack, &e)) < 0 ||
                (error = dv_pack_decode(&decoded, &e, stored.ptr, stored.len, dctx,
                                        dv_pack_path(pack))) < 0) {
                if (error == DV_ECORRUPT)
                    error =
                        dv_error_wrap(error, "bundle %s is damaged: object %s of pack %s", b->path,
                                      dv_oid_short(&e.id), dv_oid_short(dv_pack_id(pack)));
                goto done;
            }
            out->objects++;
        }
        out->packs++;
    }
done:
    ZSTD_freeDCtx(dctx);
    dv_buf_release(&idx);
    dv_buf_release(&stored);
    dv_buf_release(&decoded);
    return error;
}

/* Not in the bundle: whole in the store (whose closure invariant covers what is below). */
static int absent_in_store(void *ctx, const dv_reach_item *item)
{
    walk_ctx *w = ctx;
    int has = dv_odb_has(w->store, &item->id);
    if (has == 1)
        return 1;
    if (!w->have_missing) {
        w->missing = item->id;
        w->have_missing = 1;
    }
    return 0;
}

static int check_closure(dv_bundle_summary *out, dv_odb *staged, dv_odb *store, const dv_bundle *b)
{
    const dv_bundle_header *h = &b->header;
    dv_reach_item *items = calloc(h->n_roots + 1, sizeof(*items));
    dv_oidset seen = DV_OIDSET_INIT;
    int error = 0;
    if (!items)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->n_roots; i++) {
        items[i].id = h->roots[i].id;
        items[i].type = h->roots[i].type;
        items[i].root = (uint32_t)i;
        if (dv_odb_has(staged, &items[i].id) != 1)
            out->roots_in_store++;
    }
    out->roots = h->n_roots;
    walk_ctx w = {&seen, NULL, NULL, store, {{0}}, 0};
    dv_reach_ops ops = {NULL, NULL, absent_in_store, NULL, root_name, &w};
    error = dv_reach_walk(staged, items, h->n_roots, &ops);
    if (error < 0 && w.have_missing) {
        const dv_bundle_rev *base = NULL;
        for (size_t i = 0; i < h->n_revs && !base; i++)
            if (h->revs[i].kind == DV_BUNDLE_REV_BASE)
                base = &h->revs[i];
        if (base)
            error = dv_error_set(DV_ENOTFOUND,
                                 "bundle %s builds on revision %s (commit %.12s), whose data the "
                                 "store lacks (object %s): unbundle a bundle of %s first, or "
                                 "fetch it",
                                 b->path, base->name, base->commit, dv_oid_short(&w.missing),
                                 base->name);
        else
            error = dv_error_set(DV_ECORRUPT,
                                 "bundle %s is incomplete: neither it nor the store holds object "
                                 "%s, which its revisions need",
                                 b->path, dv_oid_short(&w.missing));
    }
    dv_oidset_release(&seen);
    free(items);
    return error;
}

/* Move the staged packs into the store in the table's order, each pack before its index;
 * a pack the store has already is left as it is. */
static int move_in(dv_bundle_summary *out, const char *staged_dir, dv_odb *store,
                   const dv_bundle *b)
{
    dv_buf from = DV_BUF_INIT, to = DV_BUF_INIT;
    const char *packs_dir = dv_odb_packs_dir(store);
    int error = 0;
    for (size_t i = 0; i < b->header.n_files && !error; i += 2) {
        const char *hex = dv_oid_hex(&b->header.files[i].pack_id);
        dv_buf_clear(&to);
        if ((error = dv_buf_printf(&to, "%s/%s.idx", packs_dir, hex)) < 0)
            break;
        int exists = dv_fs_exists(to.ptr);
        if (exists < 0) {
            error = exists;
            break;
        }
        if (exists)
            continue;
        for (int k = 0; k < 2 && !error; k++) {
            const char *suffix = k ? "idx" : "pack";
            dv_buf_clear(&from);
            dv_buf_clear(&to);
            if ((error = dv_buf_printf(&from, "%s/%s.%s", staged_dir, hex, suffix)) < 0 ||
                (error = dv_buf_printf(&to, "%s/%s.%s", packs_dir, hex, suffix)) < 0)
                break;
            if (rename(from.ptr, to.ptr) < 0) {
                error = dv_error_errno("cannot move %s to %s", from.ptr, to.ptr);
                break;
            }
            dv_tempfile_forget(from.ptr);
            error = dv_fs_fsync_dir(packs_dir);
        }
        if (!error)
            out->packs_added++;
    }
    dv_buf_release(&from);
    dv_buf_release(&to);
    return error;
}

int dv_bundle_check(dv_bundle_summary *out, dv_repo *repo, const char *path, int apply)
{
    dv_bundle *b = NULL;
    dv_odb *store, *staged = NULL;
    dv_buf dir = DV_BUF_INIT, packs = DV_BUF_INIT, file = DV_BUF_INIT;
    int error, staging = 0;
    memset(out, 0, sizeof(*out));
    if ((error = dv_repo_odb(&store, repo)) < 0 || (error = dv_bundle_open(&b, path)) < 0 ||
        (error = dv_bundle_check_sum(b)) < 0)
        goto done;
    out->bundle_bytes = b->bytes;
    if ((error = staging_prepare(&dir, &packs, repo)) < 0 ||
        (error = staging_remove(dir.ptr)) < 0 || (error = staging_prepare(&dir, &packs, repo)) < 0)
        goto done;
    staging = 1;
    for (size_t i = 0; i < b->header.n_files; i++) {
        if ((error = extract(b, i, packs.ptr, &file)) < 0)
            goto done;
        out->pack_bytes += b->header.files[i].length;
    }
    if ((error = dv_fs_fsync_dir(packs.ptr)) < 0 ||
        (error = dv_odb_open(&staged, dir.ptr, NULL)) < 0 ||
        (error = check_packs(out, staged, b)) < 0 ||
        (error = check_closure(out, staged, store, b)) < 0)
        goto done;
    if (apply)
        error = move_in(out, packs.ptr, store, b);
done:
    dv_odb_free(staged);
    if (staging) {
        int removed = staging_remove(dir.ptr);
        if (!error)
            error = removed;
    }
    dv_bundle_free(b);
    dv_buf_release(&dir);
    dv_buf_release(&packs);
    dv_buf_release(&file);
    return error;
}

/* ---- describe ---- */

int dv_bundle_describe(dv_bundle **bundle, dv_bundle_pack_info **packs, const char *path)
{
    dv_bundle *b = NULL;
    dv_bundle_pack_info *info = NULL;
    int error;
    *bundle = NULL;
    *packs = NULL;
    if ((error = dv_bundle_open(&b, path)) < 0)
        return error;
    size_t n = b->header.n_files / 2;
    if (!(info = calloc(n + 1, sizeof(*info)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t head[DV_INDEX_HEADER_BYTES];
        info[i].id = b->header.files[2 * i].pack_id;
        info[i].pack_bytes = b->header.files[2 * i].length;
        info[i].index_bytes = b->header.files[2 * i + 1].length;
        if ((error = dv_bundle_read(b, 2 * i + 1, 0, sizeof(head), head)) < 0)
            goto done;
        info[i].objects = dv_get_be32(head + 8);
    }
    *bundle = b;
    *packs = info;
    b = NULL;
    info = NULL;
done:
    free(info);
    dv_bundle_free(b);
    return error;
}
