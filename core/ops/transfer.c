/* transfer: push and fetch of objects between the local store and a remote. */
#include "core/ops/transfer.h"

#include "core/base/buf.h"
#include "core/base/bytes.h"
#include "core/base/error.h"
#include "core/base/pool.h"
#include "core/data/subpath.h"
#include "core/object/object.h"
#include "core/object/oidset.h"
#include "core/object/pointer.h"
#include "core/ops/gc_remote.h"
#include "core/ops/reach.h"
#include "core/ops/status.h"
#include "core/repo/settings.h"
#include "remotes/remote_index.h"
#include "remotes/remote_lock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

/* ---- shared: the roots named by pointer files ---- */

/* A path inside a tracked directory that a fetch asked for: its object is a root once the
 * trees down to it are read. */
typedef struct root_part {
    dv_subpath s;
    uint32_t root;
} root_part;

typedef struct roots {
    dv_reach_item *items;
    char **paths; /* pointer paths, for messages (items[i].root indexes them) */
    size_t n, n_paths;
    root_part *parts; /* fetch: paths inside directories, roots once found */
    size_t n_parts, alloc_parts;
} roots;

static void roots_release(roots *r)
{
    for (size_t i = 0; i < r->n_paths; i++)
        free(r->paths[i]);
    free(r->paths);
    free(r->items);
    free(r->parts);
    memset(r, 0, sizeof(*r));
}

/* ctx is a pusher or fetcher, whose first member points at the roots */
static const char *root_name(void *ctx, uint32_t root)
{
    const roots *r = *(const roots **)ctx;
    return r->paths[root];
}

void dv_transfer_result_free(dv_transfer_result *result)
{
    dv_path_list_free(&result->bad_pointers);
}

typedef struct root_collector {
    roots *out;
    size_t alloc;
    const char *const *filters;
    size_t n_filters;
    char *used; /* per filter: it matched a pointer */
    dv_path_list *bad;
    size_t *parts; /* when not NULL, paths inside a directory are roots of their own */
} root_collector;

/* The paths inside the directory ptr names that the filters ask for, to be found. */
static int add_parts(root_collector *c, const char *data_relpath, const dv_pointer *ptr,
                     size_t n_parts)
{
    roots *r = c->out;
    if (ptr->kind != DV_KIND_DIR)
        return dv_error_set(DV_EUSAGE, "%s is not tracked by dv: %s is a %s, not a directory",
                            c->filters[c->parts[0]], data_relpath, dv_pointer_kind_name(ptr->kind));
    if (r->n_parts + n_parts > r->alloc_parts) {
        size_t alloc = (r->n_parts + n_parts) * 2;
        root_part *grown = realloc(r->parts, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        r->parts = grown;
        r->alloc_parts = alloc;
    }
    for (size_t i = 0; i < n_parts; i++) {
        root_part *part = &r->parts[r->n_parts++];
        dv_subpath_start(&part->s, c->filters[c->parts[i]], data_relpath, &ptr->oid);
        part->root = (uint32_t)r->n_paths;
    }
    return 0;
}

static int add_root(void *ctx, const char *data_relpath, const dv_pointer *ptr)
{
    root_collector *c = ctx;
    roots *r = c->out;
    size_t n_parts = 0;
    for (size_t i = 0; i < c->n_filters; i++)
        if (dv_rev_path_matches(data_relpath, c->filters[i]))
            c->used[i] = 1;
    int select = c->parts ? dv_rev_path_select(c->parts, &n_parts, data_relpath, c->filters,
                                               c->n_filters)
                          : DV_SELECT_WHOLE;
    if (r->n_paths == c->alloc) { /* n <= n_paths */
        size_t alloc = c->alloc ? c->alloc * 2 : 16;
        dv_reach_item *items = realloc(r->items, alloc * sizeof(*items));
        if (items)
            r->items = items;
        char **paths = items ? realloc(r->paths, alloc * sizeof(*paths)) : NULL;
        if (!paths)
            return dv_error_set(DV_ENOMEM, "out of memory");
        r->paths = paths;
        c->alloc = alloc;
    }
    if (!(r->paths[r->n_paths] = malloc(strlen(data_relpath) + sizeof(DV_POINTER_SUFFIX))))
        return dv_error_set(DV_ENOMEM, "out of memory");
    strcpy(r->paths[r->n_paths], data_relpath);
    strcat(r->paths[r->n_paths], DV_POINTER_SUFFIX);
    if (select == DV_SELECT_PARTS) {
        int error = add_parts(c, data_relpath, ptr, n_parts);
        r->n_paths++;
        return error;
    }
    r->items[r->n].id = ptr->oid;
    r->items[r->n].type = dv_object_type_of_mode(dv_pointer_mode(ptr));
    r->items[r->n].root = (uint32_t)r->n_paths++;
    r->n++;
    return 0;
}

static int note_bad(void *ctx, const char *message)
{
    root_collector *c = ctx;
    return dv_path_list_add(c->bad, message);
}

/* The roots of the pointer files, of the work tree or of the revisions asked for; one that
 * cannot be read is listed in bad and skipped, so one damaged pointer does not keep the
 * others' data from moving. A filter that matches no pointer is refused, naming it. With
 * parts, a filter naming a path inside a tracked directory selects that path alone
 * (out->parts, to be found); else the whole directory. */
static int collect_roots(roots *out, dv_repo *repo, const char *const *filters, size_t n_filters,
                         const dv_transfer_options *opts, dv_path_list *bad, int parts)
{
    dv_revset *revs = opts ? opts->revs : NULL;
    root_collector c = {out,        0,   filters,
                        n_filters,  calloc(n_filters + 1, 1),
                        bad,        parts ? calloc(n_filters + 1, sizeof(size_t)) : NULL};
    int error = 0;
    memset(out, 0, sizeof(*out));
    if (!c.used || (parts && !c.parts)) {
        free(c.used);
        free(c.parts);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    error = dv_revset_each_pointer(repo, revs, filters, n_filters, add_root, note_bad, &c);
    for (size_t i = 0; !error && i < n_filters; i++)
        if (!c.used[i])
            error =
                dv_error_set(DV_EUSAGE,
                             dv_revset_is_empty(revs)
                                 ? "%s is not tracked by dv (no pointer file for it is staged "
                                   "in git; run dv add %s)"
                                 : "%s is not tracked by dv at the revisions asked for%s",
                             filters[i][0] ? filters[i] : ".",
                             dv_revset_is_empty(revs) ? (filters[i][0] ? filters[i] : ".") : "");
    free(c.used);
    free(c.parts);
    if (error < 0)
        roots_release(out);
    return error;
}

int dv_transfer_jobs(int *out, dv_repo *repo, int requested)
{
    int64_t jobs = DV_TRANSFER_JOBS_DEFAULT;
    int error = 0;
    if (requested > 0)
        jobs = requested;
    else
        error = dv_config_get_int_range(&jobs, repo->config, "transfer.jobs",
                                        DV_TRANSFER_JOBS_DEFAULT, 1, DV_TRANSFER_JOBS_MAX);
    *out = error < 0 ? DV_TRANSFER_JOBS_DEFAULT : (int)jobs;
    return error;
}

static int transfer_jobs(int *out, dv_repo *repo, const dv_transfer_options *opts)
{
    return dv_transfer_jobs(out, repo, opts ? opts->jobs : 0);
}

/* ---- push ---- */

typedef struct upload {
    dv_oid pack_id;
    uint64_t pack_bytes;
    int names_objects; /* holds trees or manifests: its index goes up after the others */
    dv_pack *local;    /* the store's pack when it is sent as it is (lent), else NULL */
    dv_buf pack_path, idx_path;
} upload;

typedef struct pusher {
    const roots *roots_ref; /* first, for root_name */
    dv_repo *repo;
    dv_remote *remote;
    dv_odb *odb;
    const dv_transfer_options *opts;
    dv_transfer_result *result;
    dv_oidset needed;
    dv_oidset sending;
    dv_remote_index *remote_index;
    dv_pack_writer *writer; /* the pack being built from parts of local packs */
    int writer_names_objects;
    ZSTD_DCtx *dctx; /* for the hash check of copied objects */
    dv_buf decoded;
    dv_buf tmp_dir;
    upload *uploads;
    size_t n_uploads, alloc_uploads;
    pthread_mutex_t progress_lock;
    uint64_t progress_bytes;
    /* A remote copy counts only in a pack written at or after since (a gc --remote may
     * delete older ones: see recheck), and for a root, at or after root_since. */
    int64_t since, root_since;
    dv_oidset roots;   /* the pointers' ids */
    dv_oid *elsewhere; /* objects the store lacks that the push relies on the remote for */
    size_t n_elsewhere, alloc_elsewhere;
} pusher;

typedef struct local_pack {
    dv_pack *pack;
    struct stat st;
} local_pack;

static int note_needed(void *ctx, const dv_reach_item *item)
{
    pusher *p = ctx;
    int added = dv_oidset_add(&p->needed, &item->id);
    return added < 0 ? added : 0;
}

/* An object this store lacks (a clone that pulled only part of the data) is fine when the
 * remote has it: there, what it names is whole too. */
static int on_remote(void *ctx, const dv_reach_item *item)
{
    pusher *p = ctx;
    if (!dv_remote_index_find(p->remote_index, &item->id, NULL, NULL))
        return 0;
    if (p->n_elsewhere == p->alloc_elsewhere) {
        size_t alloc = p->alloc_elsewhere ? p->alloc_elsewhere * 2 : 64;
        dv_oid *grown = realloc(p->elsewhere, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        p->elsewhere = grown;
        p->alloc_elsewhere = alloc;
    }
    p->elsewhere[p->n_elsewhere++] = item->id;
    return 1;
}

/* Whether the remote holds id in a pack recent enough to rely on (see pusher). */
static int on_remote_recent(pusher *p, const dv_oid *id)
{
    int64_t since = p->since;
    if (p->root_since > since && dv_oidset_has(&p->roots, id))
        since = p->root_since;
    return dv_remote_index_find_since(p->remote_index, id, since);
}

static int add_upload(pusher *p, const dv_oid *pack_id, dv_pack *local, const char *pack_path,
                      const char *idx_path, int names_objects)
{
    struct stat st;
    if (stat(pack_path, &st) < 0)
        return dv_error_errno("cannot stat %s", pack_path);
    if (p->n_uploads == p->alloc_uploads) {
        size_t alloc = p->alloc_uploads ? p->alloc_uploads * 2 : 16;
        upload *grown = realloc(p->uploads, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        p->uploads = grown;
        p->alloc_uploads = alloc;
    }
    upload *u = &p->uploads[p->n_uploads];
    u->pack_id = *pack_id;
    u->pack_bytes = (uint64_t)st.st_size;
    u->names_objects = names_objects;
    u->local = local;
    u->pack_path = (dv_buf)DV_BUF_INIT;
    u->idx_path = (dv_buf)DV_BUF_INIT;
    p->n_uploads++;
    int error;
    if ((error = dv_buf_puts(&u->pack_path, pack_path)) < 0 ||
        (error = dv_buf_puts(&u->idx_path, idx_path)) < 0)
        return error;
    return 0;
}

/* Seal the pack being built and queue it for upload. */
static int seal_built(pusher *p)
{
    if (!p->writer)
        return 0;
    dv_oid pack_id;
    dv_pack_writer *w = p->writer;
    p->writer = NULL;
    dv_buf pack_path = DV_BUF_INIT, idx_path = DV_BUF_INIT;
    int error = dv_pack_writer_finish(&pack_id, w, p->tmp_dir.ptr);
    if (error == 0 && !dv_oid_is_zero(&pack_id)) {
        const char *hex = dv_oid_hex(&pack_id);
        if ((error = dv_buf_printf(&pack_path, "%s/%s.pack", p->tmp_dir.ptr, hex)) == 0 &&
            (error = dv_buf_printf(&idx_path, "%s/%s.idx", p->tmp_dir.ptr, hex)) == 0)
            error =
                add_upload(p, &pack_id, NULL, pack_path.ptr, idx_path.ptr, p->writer_names_objects);
        p->writer_names_objects = 0;
    }
    dv_buf_release(&pack_path);
    dv_buf_release(&idx_path);
    return error;
}

/* Copy entry e of pack into the pack being built, as stored (no recompression), once its
 * CRC-32C and its SHA-256 show that it is the object its id names: a damaged object must
 * not be spread to the remote under a fresh pack checksum. */
static int copy_entry(pusher *p, dv_pack *pack, const dv_pack_entry *e, dv_buf *stored)
{
    int error;
    if (!p->writer && (error = dv_pack_writer_new(&p->writer, p->tmp_dir.ptr)) < 0)
        return error;
    if (e->type != DV_OBJ_CHUNK)
        p->writer_names_objects = 1;
    if (!p->dctx && !(p->dctx = ZSTD_createDCtx()))
        return dv_error_set(DV_ENOMEM, "out of memory for zstd");
    if ((error = dv_pack_read_stored(stored, pack, e)) < 0)
        return error;
    if ((error = dv_pack_decode(&p->decoded, e, stored->ptr, stored->len, p->dctx,
                                dv_pack_path(pack))) < 0) {
        if (error == DV_ENOMEM)
            return error;
        dv_buf why = DV_BUF_INIT;
        if (dv_buf_puts(&why, dv_error_last()) == 0)
            error = dv_error_set(error, "pack %s is damaged: %s; run dv fsck", dv_pack_path(pack),
                                 why.ptr);
        dv_buf_release(&why);
        return error;
    }
    if ((error = dv_pack_writer_append(p->writer, &e->id, e->type, e->flags, e->raw_len,
                                       stored->ptr, (uint32_t)stored->len)) < 0)
        return error;
    if (dv_pack_writer_bytes(p->writer) >= p->repo->pack_target_bytes)
        return seal_built(p);
    return 0;
}

static int compare_mtime(const void *a, const void *b)
{
    const struct stat *x = &((const local_pack *)a)->st, *y = &((const local_pack *)b)->st;
    if (x->st_mtim.tv_sec != y->st_mtim.tv_sec)
        return x->st_mtim.tv_sec < y->st_mtim.tv_sec ? -1 : 1;
    return (x->st_mtim.tv_nsec > y->st_mtim.tv_nsec) - (x->st_mtim.tv_nsec < y->st_mtim.tv_nsec);
}

/* Decide, pack by pack in the order they were written (so what names comes after what
 * it names), what to send: whole local packs where every object is wanted, the wanted
 * objects of the others copied into new packs. */
static int plan_push(pusher *p)
{
    int error = 0;
    dv_buf stored = DV_BUF_INIT, idx_path = DV_BUF_INIT;
    size_t n_packs = dv_odb_pack_count(p->odb);
    local_pack *packs = calloc(n_packs ? n_packs : 1, sizeof(*packs));
    if (!packs)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_packs; i++) {
        packs[i].pack = dv_odb_pack_at(p->odb, i);
        if (stat(dv_pack_path(packs[i].pack), &packs[i].st) < 0) {
            error = dv_error_errno("cannot stat %s", dv_pack_path(packs[i].pack));
            goto done;
        }
    }
    qsort(packs, n_packs, sizeof(*packs), compare_mtime);
    for (size_t i = 0; i < n_packs && error == 0; i++) {
        dv_pack *pack = packs[i].pack;
        size_t count = dv_pack_count(pack), n_send = 0;
        int names_objects = 0;
        dv_pack_entry e;
        for (size_t j = 0; j < count; j++) {
            dv_pack_entry_at(pack, j, &e);
            if (dv_oidset_has(&p->needed, &e.id) && !dv_oidset_has(&p->sending, &e.id) &&
                !on_remote_recent(p, &e.id)) {
                n_send++;
                names_objects |= e.type != DV_OBJ_CHUNK;
            }
        }
        if (n_send == 0)
            continue;
        if (n_send == count) {
            dv_buf_clear(&idx_path);
            if ((error = dv_buf_printf(&idx_path, "%s/%s.idx", dv_odb_packs_dir(p->odb),
                                       dv_oid_hex(dv_pack_id(pack)))) < 0 ||
                (error = add_upload(p, dv_pack_id(pack), pack, dv_pack_path(pack), idx_path.ptr,
                                    names_objects)) < 0)
                break;
        }
        for (size_t j = 0; j < count && error == 0; j++) {
            dv_pack_entry_at(pack, j, &e);
            if (!dv_oidset_has(&p->needed, &e.id) || dv_oidset_has(&p->sending, &e.id) ||
                on_remote_recent(p, &e.id))
                continue;
            if ((error = dv_oidset_add(&p->sending, &e.id)) < 0)
                break;
            error = n_send == count ? 0 : copy_entry(p, pack, &e, &stored);
        }
    }
    if (error == 0)
        error = seal_built(p);
done:
    free(packs);
    dv_buf_release(&stored);
    dv_buf_release(&idx_path);
    return error;
}

static void push_progress(pusher *p, uint64_t bytes)
{
    if (!p->opts || !p->opts->progress)
        return;
    pthread_mutex_lock(&p->progress_lock);
    p->progress_bytes += bytes;
    p->opts->progress(p->opts->progress_ctx, p->progress_bytes);
    pthread_mutex_unlock(&p->progress_lock);
}

/* Upload a pack's index, the commit point of its upload, and remember it. */
static int commit_upload(pusher *p, const upload *u)
{
    dv_buf name = DV_BUF_INIT;
    int error;
    if ((error = dv_remote_pack_name(&name, &u->pack_id, ".idx")) == 0 &&
        (error = p->remote->ops->put_file(p->remote, name.ptr, u->idx_path.ptr)) == 0)
        error = dv_remote_index_add(p->remote_index, u->idx_path.ptr, &u->pack_id, u->pack_bytes);
    dv_buf_release(&name);
    return error;
}

/* Check every byte of a pack that is about to be uploaded against its checksums (see
 * dv_pack_check_whole): the remote gets the pack under its name, and a reader there trusts
 * that name. Packs built by this push were made from checked objects; they are read back
 * too, which costs one read of a file that is still in the page cache. */
static int check_upload(pusher *p, const upload *u)
{
    dv_pack *built = NULL;
    int error;
    if (!u->local && (error = dv_pack_open(&built, p->tmp_dir.ptr, &u->pack_id)) < 0)
        return error;
    error = dv_pack_check_whole(u->local ? u->local : built);
    dv_pack_free(built);
    return error;
}

/* Upload one pack, once checked, then its index (the commit point) unless the pack holds
 * trees or manifests: those indexes go up after every other, in order, so that whatever the
 * remote shows, it also has everything that it names. */
static int upload_one(void *ctx, size_t item, int worker)
{
    pusher *p = ctx;
    const upload *u = &p->uploads[item];
    dv_buf name = DV_BUF_INIT;
    int error;
    (void)worker;
    if ((error = check_upload(p, u)) < 0 ||
        (error = dv_remote_pack_name(&name, &u->pack_id, ".pack")) < 0 ||
        (error = p->remote->ops->put_file(p->remote, name.ptr, u->pack_path.ptr)) < 0)
        goto done;
    push_progress(p, u->pack_bytes);
    if (!u->names_objects)
        error = commit_upload(p, u);
done:
    if (error < 0)
        error = dv_error_wrap(error, "cannot upload pack %s to %s", dv_oid_short(&u->pack_id),
                              p->remote->name);
    dv_buf_release(&name);
    return error;
}

/* Upload p->uploads[first..]: the packs in parallel, each with its index unless it names
 * objects; those indexes after all the rest, in order. */
static int upload_from(pusher *p, dv_pool *pool, size_t first, uint64_t *total)
{
    int error = 0;
    for (size_t i = first; i < p->n_uploads; i++)
        *total += p->uploads[i].pack_bytes;
    if (p->n_uploads == first)
        return 0;
    dv_pool_task task;
    p->uploads += first;
    dv_pool_submit(pool, &task, upload_one, p, p->n_uploads - first);
    error = dv_pool_wait(pool, &task);
    p->uploads -= first;
    if (error < 0)
        return error;
    for (size_t i = first; i < p->n_uploads; i++)
        if (p->uploads[i].names_objects && (error = commit_upload(p, &p->uploads[i])) < 0)
            return dv_error_wrap(error, "cannot upload pack %s to %s",
                                 dv_oid_short(&p->uploads[i].pack_id), p->remote->name);
    return 0;
}

/* After the uploads: a dv gc --remote from another clone may be running (its lock is on the
 * remote) or may have run since this push listed the remote. It deletes only packs written
 * before its cutoff, and only what the revisions it sees and the packs younger than its
 * cutoff do not keep; this push's commit may be one it does not see. So list the remote
 * again, and send once more whatever the push relied on that is not in a pack at or after
 * the cutoff of every live lock (or no longer there at all). What the store lacks cannot be
 * sent: it is counted in objects_at_risk. */
static int recheck(pusher *p, dv_repo *repo, dv_pool *pool, uint64_t *total)
{
    dv_remote_lock *locks = NULL;
    size_t n_locks = 0;
    int error;
    if ((error = dv_remote_locks_live(&locks, &n_locks, p->remote, (int64_t)time(NULL))) < 0)
        return error;
    for (size_t i = 0; i < n_locks; i++) {
        int64_t cutoff = dv_remote_lock_cutoff(&locks[i]);
        if (cutoff > p->since)
            p->since = cutoff;
    }
    dv_remote_locks_free(locks, n_locks);
    dv_remote_index_free(p->remote_index);
    p->remote_index = NULL;
    if ((error = dv_remote_index_load(&p->remote_index, p->remote, repo->cache_dir.ptr, pool)) < 0)
        return error;
    size_t first = p->n_uploads;
    if ((error = plan_push(p)) < 0 || (error = upload_from(p, pool, first, total)) < 0)
        return error;
    for (size_t i = 0; i < p->n_elsewhere; i++)
        if (!on_remote_recent(p, &p->elsewhere[i]))
            p->result->objects_at_risk++;
    return 0;
}

int dv_push(dv_transfer_result *result, dv_repo *repo, dv_remote *remote,
            const char *const *filters, size_t n_filters, const dv_transfer_options *opts)
{
    int error;
    roots r;
    dv_pool *pool = NULL;
    pusher p;
    memset(result, 0, sizeof(*result));
    if (remote->ops->read_only)
        return dv_error_set(DV_EUSAGE,
                            "remote %s (%s) is a read-only %s mirror; push to the remote it "
                            "mirrors",
                            remote->name, remote->display, remote->ops->kind);
    memset(&p, 0, sizeof(p));
    p.repo = repo;
    p.remote = remote;
    p.opts = opts;
    p.result = result;
    p.tmp_dir = (dv_buf)DV_BUF_INIT;
    p.decoded = (dv_buf)DV_BUF_INIT;
    p.roots = (dv_oidset)DV_OIDSET_INIT;
    p.since = p.root_since = INT64_MIN;
    pthread_mutex_init(&p.progress_lock, NULL);
    if ((error = collect_roots(&r, repo, filters, n_filters, opts, &result->bad_pointers, 0)) < 0)
        goto out;
    p.roots_ref = &r;
    /* A root of this push is relied on only in a pack younger than half gc.pruneExpire, so
     * that a dv gc --remote that does not see this commit yet keeps what it names for at
     * least that long (docs/formats.md, "Remote gc"). */
    int64_t prune_expire;
    if ((error = dv_gc_remote_prune_expire(&prune_expire, repo)) < 0)
        goto done;
    if (prune_expire != DV_REMOTE_PRUNE_NEVER)
        p.root_since = (int64_t)time(NULL) - prune_expire / 2;
    for (size_t i = 0; i < r.n; i++)
        if ((error = dv_oidset_add(&p.roots, &r.items[i].id)) < 0)
            goto done;
    error = 0;
    if ((error = dv_repo_odb(&p.odb, repo)) < 0 || (error = dv_repo_clean_tmp(repo)) < 0 ||
        (error = dv_repo_tmp_dir(&p.tmp_dir, repo)) < 0)
        goto done;
    int jobs;
    if ((error = transfer_jobs(&jobs, repo, opts)) < 0 || (error = dv_pool_new(&pool, jobs)) < 0 ||
        (error = dv_remote_index_load(&p.remote_index, remote, repo->cache_dir.ptr, pool)) < 0)
        goto done;
    /* What pushes killed half-way left on the remote goes first (never what another push
     * is still writing: the backend tells them apart). */
    uint64_t leftovers = 0;
    if (remote->ops->clean && (error = remote->ops->clean(remote, "packs/", &leftovers)) < 0)
        goto done;
    dv_reach_ops walk = {NULL, NULL, on_remote, note_needed, root_name, &p};
    if ((error = dv_reach_walk(p.odb, r.items, r.n, &walk)) < 0)
        goto done;
    result->objects_reachable = dv_oidset_count(&p.needed);
    if ((error = plan_push(&p)) < 0)
        goto done;
    uint64_t total = 0;
    for (size_t i = 0; i < p.n_uploads; i++)
        total += p.uploads[i].pack_bytes;
    if (opts && opts->planned)
        opts->planned(opts->progress_ctx, total);
    total = 0;
    /* A push that sends nothing relies only on roots in recent packs (root_since), whose
     * closure any gc keeps; one that sends something checks again. */
    if ((error = upload_from(&p, pool, 0, &total)) < 0 ||
        (p.n_uploads && (error = recheck(&p, repo, pool, &total)) < 0))
        goto done;
    result->objects_moved = dv_oidset_count(&p.sending);
    result->packs_moved = p.n_uploads;
    result->bytes_moved = total;
done:
    dv_pool_free(pool);
    dv_pack_writer_free(p.writer);
    ZSTD_freeDCtx(p.dctx);
    dv_buf_release(&p.decoded);
    for (size_t i = 0; i < p.n_uploads; i++) {
        dv_buf_release(&p.uploads[i].pack_path);
        dv_buf_release(&p.uploads[i].idx_path);
    }
    free(p.uploads);
    dv_remote_index_free(p.remote_index);
    dv_oidset_release(&p.needed);
    dv_oidset_release(&p.sending);
    dv_oidset_release(&p.roots);
    free(p.elsewhere);
    if (p.tmp_dir.len)
        dv_repo_clean_tmp_after(repo, error);
    dv_buf_release(&p.tmp_dir);
    roots_release(&r);
out:
    pthread_mutex_destroy(&p.progress_lock);
    return error;
}

/* ---- fetch ---- */

typedef struct wanted {
    dv_pack *pack; /* a remote pack's index */
    dv_pack_entry entry;
} wanted;

typedef struct range {
    dv_pack *pack;
    uint64_t offset, len;
    size_t first, n; /* entries wanted[first .. first+n) */
} range;

/* A fetched tree or manifest, held until everything below it is stored. */
typedef struct held {
    dv_pack_entry entry;
    uint32_t crc;
    int reached; /* the walk passed it (else it only led to a path inside a directory) */
    dv_buf stored, decoded;
} held;

typedef struct fetcher {
    const roots *roots_ref; /* first, for root_name */
    dv_repo *repo;
    dv_remote *remote;
    dv_odb *odb;
    const dv_transfer_options *opts;
    dv_transfer_result *result;
    dv_pool *pool;
    int jobs;
    uint64_t range_bytes; /* largest range, so that jobs ranges fit DV_FETCH_BUFFER_BYTES */
    dv_remote_index *remote_index;
    ZSTD_DCtx **dctx;   /* one per worker */
    dv_buf *decoded;    /* DV_FETCH_HASH_GROUP per worker */
    dv_buf *range_bufs; /* one per worker */
    wanted *want;
    range *ranges;
    pthread_mutex_t lock; /* the odb's writes, held, progress and the result */
    uint64_t progress_bytes;
    held *held;
    size_t n_held, alloc_held;
    size_t *held_slots; /* held indexed by id (index_held) */
    size_t n_held_slots;
    size_t n_path_held; /* held[0 .. n_path_held): the trees down to the paths asked for */
    dv_odb *partial;    /* <cache>/partial, where the trees down to such paths are kept */
    dv_reach_item *later; /* dv_fetch: the chunks the walk found missing, fetched at its end */
    int gather_gaps;      /* ranges read across gaps of chunks, which are stored too */
    int walked_roots;     /* the walk's first level (the pointer files' targets) is done */
    size_t n_later, alloc_later;
} fetcher;

/* The slot of held[i] in the open-addressed table of held ids (held_slots, a power of two,
 * each slot 0 or an index + 1): the first free one from the id's hash. */
static size_t held_slot(const fetcher *f, const dv_oid *id)
{
    uint64_t h;
    memcpy(&h, id->id, sizeof(h)); /* ids are SHA-256: their bytes are already spread */
    size_t mask = f->n_held_slots - 1, slot = (size_t)h & mask;
    while (f->held_slots[slot] &&
           memcmp(f->held[f->held_slots[slot] - 1].entry.id.id, id->id, DV_OID_BYTES))
        slot = (slot + 1) & mask;
    return slot;
}

/* Index held[i] by its id, growing the table to keep it at most half full. */
static int index_held(fetcher *f, size_t i)
{
    if ((i + 1) * 2 > f->n_held_slots) {
        size_t n = f->n_held_slots ? f->n_held_slots * 2 : 1024;
        size_t *slots = calloc(n, sizeof(*slots));
        if (!slots)
            return dv_error_set(DV_ENOMEM, "out of memory");
        free(f->held_slots);
        f->held_slots = slots;
        f->n_held_slots = n;
        for (size_t k = 0; k < i; k++)
            f->held_slots[held_slot(f, &f->held[k].entry.id)] = k + 1;
    }
    f->held_slots[held_slot(f, &f->held[i].entry.id)] = i + 1;
    return 0;
}

static int hold(fetcher *f, const dv_pack_entry *e, const uint8_t *stored, uint32_t crc,
                const uint8_t *decoded, size_t decoded_len)
{
    if (f->n_held == f->alloc_held) {
        size_t alloc = f->alloc_held ? f->alloc_held * 2 : 64;
        held *grown = realloc(f->held, alloc * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        f->held = grown;
        f->alloc_held = alloc;
    }
    held *h = &f->held[f->n_held++];
    h->entry = *e;
    h->crc = crc;
    h->reached = 0;
    h->stored = (dv_buf)DV_BUF_INIT;
    h->decoded = (dv_buf)DV_BUF_INIT;
    int error = dv_buf_put(&h->stored, stored, e->stored_len);
    if (error == 0)
        error = dv_buf_put(&h->decoded, decoded, decoded_len);
    if (error == 0)
        error = index_held(f, f->n_held - 1);
    return error;
}

/* The held object id, or NULL. */
static held *find_held(const fetcher *f, const dv_oid *id)
{
    if (!f->n_held)
        return NULL;
    size_t i = f->held_slots[held_slot(f, id)];
    return i ? &f->held[i - 1] : NULL;
}

static int read_held(void *ctx, const dv_reach_item *item, dv_buf *out, uint8_t *type)
{
    fetcher *f = ctx;
    const held *h = find_held(f, &item->id);
    if (!h)
        return 0;
    dv_buf_clear(out);
    *type = h->entry.type;
    int error = dv_buf_put(out, h->decoded.ptr, h->decoded.len);
    return error < 0 ? error : 1;
}

/* The trees that only led down to the paths asked for go to <cache>/partial, which holds
 * trees and manifests without what they name (core/ops/ondemand): a checkout finds the
 * paths through them, and dv gc the objects below them that the store holds. */
static int store_path_trees(fetcher *f)
{
    int error = 0, wrote = 0;
    for (size_t i = 0; i < f->n_path_held && !error; i++) {
        const held *h = &f->held[i];
        if (h->reached)
            continue;
        if (!f->partial && (error = dv_repo_partial_odb(&f->partial, f->repo, 1)) < 0)
            break;
        wrote = 1;
        error = dv_odb_put_stored(f->partial, &h->entry.id, h->entry.type, h->entry.raw_len,
                                  h->entry.flags, h->stored.ptr, (uint32_t)h->stored.len, h->crc,
                                  NULL);
        f->result->objects_moved++;
        f->result->bytes_moved += DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)h->stored.len;
    }
    if (wrote) {
        int flushed = dv_odb_flush(f->partial);
        if (!error)
            error = flushed;
    }
    return error;
}

/* Store the held trees and manifests, deepest level first, once all they name is stored. */
static int store_held(fetcher *f)
{
    int error = store_path_trees(f);
    for (size_t i = f->n_held; i > 0 && !error; i--) {
        const held *h = &f->held[i - 1];
        int added = 0;
        if (i <= f->n_path_held && !h->reached)
            continue;
        error =
            dv_odb_put_stored(f->odb, &h->entry.id, h->entry.type, h->entry.raw_len, h->entry.flags,
                              h->stored.ptr, (uint32_t)h->stored.len, h->crc, &added);
        if (error < 0)
            return error;
        if (added) {
            f->result->objects_moved++;
            f->result->bytes_moved += DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)h->stored.len;
        }
    }
    return 0;
}

static int compare_wanted(const void *a, const void *b)
{
    const wanted *x = a, *y = b;
    if (x->pack != y->pack)
        return x->pack < y->pack ? -1 : 1;
    return x->entry.offset < y->entry.offset ? -1 : x->entry.offset > y->entry.offset;
}

static uint64_t entry_end(const dv_pack_entry *e)
{
    return e->offset + DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e->stored_len;
}

/* Check the entries want[first .. first+n) of a range read into buf (header, CRC-32C,
 * decoding), hash them side by side, and store them (chunks) or hold them (the rest). */
static int store_group(fetcher *f, const range *rg, const uint8_t *buf, const wanted *want,
                       size_t n, int worker)
{
    const uint8_t *data[DV_FETCH_HASH_GROUP];
    size_t lens[DV_FETCH_HASH_GROUP];
    dv_oid ids[DV_FETCH_HASH_GROUP];
    dv_buf *slots = &f->decoded[(size_t)worker * DV_FETCH_HASH_GROUP];
    const char *where = dv_pack_path(rg->pack);
    int error;
    for (size_t k = 0; k < n; k++) {
        const dv_pack_entry *e = &want[k].entry;
        const uint8_t *bytes = buf + (e->offset - rg->offset);
        const uint8_t *stored = bytes + DV_PACK_ENTRY_HEADER_BYTES;
        if ((error = dv_pack_check_entry(rg->pack, e, bytes)) < 0)
            return error;
        if (e->flags == DV_PACK_RAW && e->stored_len == e->raw_len) {
            data[k] = stored; /* hashed where it lies */
            lens[k] = e->raw_len;
            continue;
        }
        if ((error = dv_pack_unpack(&slots[k], e, stored, e->stored_len, f->dctx[worker], where)) <
            0)
            return error;
        data[k] = (const uint8_t *)slots[k].ptr;
        lens[k] = slots[k].len;
    }
    if ((error = dv_hash_many(ids, data, lens, n)) < 0)
        return error;
    for (size_t k = 0; k < n; k++)
        if (dv_oid_cmp(&ids[k], &want[k].entry.id))
            return dv_error_set(DV_ECORRUPT,
                                "object %s in %s is corrupt: its content hashes to %s (push it "
                                "again from a clone that has it)",
                                dv_oid_hex(&want[k].entry.id), where,
                                dv_oid_hex(&ids[k]));
    pthread_mutex_lock(&f->lock);
    for (size_t k = 0; k < n && error == 0; k++) {
        const dv_pack_entry *e = &want[k].entry;
        const uint8_t *bytes = buf + (e->offset - rg->offset);
        const uint8_t *stored = bytes + DV_PACK_ENTRY_HEADER_BYTES;
        uint32_t crc = dv_get_be32(bytes + DV_PACK_ENTRY_CRC_OFFSET);
        int added = 0;
        if (e->type != DV_OBJ_CHUNK) /* stored last, so nothing names what is absent */
            error = hold(f, e, stored, crc, data[k], lens[k]);
        else
            error = dv_odb_put_stored(f->odb, &e->id, e->type, e->raw_len, e->flags, stored,
                                      e->stored_len, crc, &added);
        if (error == 0 && added) {
            f->result->objects_moved++;
            f->result->bytes_moved += DV_PACK_ENTRY_HEADER_BYTES + (uint64_t)e->stored_len;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return error;
}

/*
 * The chunks that lie between the wanted entries of a range read at a level of trees and
 * manifests (their files' chunks, where each file's manifest follows its chunks), stored
 * now, verified as every fetched object is, when the store lacks them: the walk's last
 * batch then needs no request for them. An entry is taken only when its header names an
 * id that the pack's index puts at exactly that offset, whole inside the gap; the first
 * one that is not ends the gap's walk (those bytes are not used).
 */
static int store_gaps(fetcher *f, const range *rg, const uint8_t *buf, int worker)
{
    wanted found[DV_FETCH_HASH_GROUP];
    size_t n = 0;
    int error = 0;
    for (size_t i = rg->first; i + 1 < rg->first + rg->n && !error; i++) {
        uint64_t pos = entry_end(&f->want[i].entry), stop = f->want[i + 1].entry.offset;
        while (pos + DV_PACK_ENTRY_HEADER_BYTES <= stop && !error) {
            dv_oid id;
            dv_pack_entry e;
            memcpy(id.id, buf + (pos - rg->offset) + 12, DV_OID_BYTES);
            if (!dv_pack_find(rg->pack, &id, &e) || e.offset != pos || entry_end(&e) > stop)
                break;
            pos = entry_end(&e);
            if (e.type != DV_OBJ_CHUNK || dv_odb_has(f->odb, &e.id))
                continue;
            found[n].pack = rg->pack;
            found[n].entry = e;
            if (++n == DV_FETCH_HASH_GROUP) {
                error = store_group(f, rg, buf, found, n, worker);
                n = 0;
            }
        }
    }
    if (!error && n)
        error = store_group(f, rg, buf, found, n, worker);
    return error;
}

/* Read one range and store its entries. */
static int fetch_range(void *ctx, size_t item, int worker)
{
    fetcher *f = ctx;
    const range *rg = &f->ranges[item];
    dv_buf name = DV_BUF_INIT;
    int error;
    /* one buffer per worker, kept from range to range: freeing and allocating ranges of
     * many MiB on several threads leaves the allocator's arenas holding them */
    dv_buf *range_buf = &f->range_bufs[worker];
    if ((error = dv_buf_grow(range_buf, rg->len)) < 0)
        return error;
    uint8_t *buf = (uint8_t *)range_buf->ptr;
    if ((error = dv_remote_pack_name(&name, dv_pack_id(rg->pack), ".pack")) < 0 ||
        (error = f->remote->ops->get(f->remote, name.ptr, rg->offset, rg->len, buf)) < 0)
        goto done;
    for (size_t i = rg->first; i < rg->first + rg->n; i += DV_FETCH_HASH_GROUP) {
        size_t n = rg->first + rg->n - i;
        if ((error = store_group(f, rg, buf, &f->want[i],
                                 n < DV_FETCH_HASH_GROUP ? n : DV_FETCH_HASH_GROUP, worker)) < 0)
            goto done;
    }
    if (f->gather_gaps && (error = store_gaps(f, rg, buf, worker)) < 0)
        goto done;
    if (f->opts && f->opts->arrived)
        f->opts->arrived(f->opts->pipe_ctx);
    if (f->opts && f->opts->progress) {
        pthread_mutex_lock(&f->lock);
        f->progress_bytes += rg->len;
        f->opts->progress(f->opts->progress_ctx, f->progress_bytes);
        pthread_mutex_unlock(&f->lock);
    }
done:
    if (error < 0)
        error = dv_error_wrap(error, "fetching from %s", f->remote->name);
    dv_buf_release(&name);
    return error;
}

/* Fetch one level's missing objects: find each in the remote's indexes, merge neighbours
 * of one pack into ranged reads, and run the reads in parallel. */
static int fetch_missing(void *ctx, const dv_reach_item *items, size_t n)
{
    fetcher *f = ctx;
    int error = 0;
    size_t n_ranges = 0;
    if (!f->remote_index && (error = dv_remote_index_load(&f->remote_index, f->remote,
                                                          f->repo->cache_dir.ptr, f->pool)) < 0)
        return error;
    free(f->want);
    free(f->ranges);
    f->want = calloc(n, sizeof(*f->want));
    f->ranges = calloc(n, sizeof(*f->ranges));
    if (!f->want || !f->ranges)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int found = dv_remote_index_find(f->remote_index, &items[i].id, &f->want[i].pack,
                                         &f->want[i].entry);
        if (!found && !f->roots_ref)
            return dv_error_set(DV_ENOTFOUND,
                                "object %s is neither in the local store nor on remote %s (push "
                                "it from a clone that has it: dv push)",
                                dv_oid_hex(&items[i].id), f->remote->name);
        if (!found)
            return dv_error_set(DV_ENOTFOUND,
                                "%s %s, part of %s, is neither in the local store nor on remote "
                                "%s (push it from a clone that has it: dv push)",
                                dv_object_type_name(items[i].type), dv_oid_hex(&items[i].id),
                                f->roots_ref->paths[items[i].root], f->remote->name);
        if ((error = dv_pack_check_bounds(f->want[i].pack, &f->want[i].entry)) < 0)
            return error;
    }
    qsort(f->want, n, sizeof(*f->want), compare_wanted);
    uint64_t total = 0, last_wanted = 0;
    for (size_t i = 0; i < n; i++) {
        const dv_pack_entry *e = &f->want[i].entry;
        range *last = n_ranges ? &f->ranges[n_ranges - 1] : NULL;
        /* A gap is read across when it is small, and never larger than what the range
         * wants so far: at most half of what comes is bytes nobody asked for. Between
         * trees and manifests, the gaps hold their files' chunks, which come next: read
         * across any small gap (store_gaps keeps them). */
        uint64_t gap = last ? e->offset - (last->offset + last->len) : 0;
        if (last && last->pack == f->want[i].pack && e->offset >= last->offset + last->len &&
            gap <= DV_FETCH_GAP_BYTES && (f->gather_gaps || gap <= last_wanted) &&
            entry_end(e) - last->offset <= f->range_bytes) {
            total += entry_end(e) - (last->offset + last->len);
            last->len = entry_end(e) - last->offset;
            last->n++;
            last_wanted += entry_end(e) - e->offset;
            continue;
        }
        last_wanted = entry_end(e) - e->offset;
        range *rg = &f->ranges[n_ranges++];
        rg->pack = f->want[i].pack;
        rg->offset = e->offset;
        rg->len = entry_end(e) - e->offset;
        rg->first = i;
        rg->n = 1;
        total += rg->len;
    }
    if (f->opts && f->opts->planned)
        f->opts->planned(f->opts->progress_ctx, f->progress_bytes + total);
    dv_pool_task task;
    dv_pool_submit(f->pool, &task, fetch_range, f, n_ranges);
    return dv_pool_wait(f->pool, &task);
}

/* One level of the walk of dv_fetch: its trees and manifests are fetched now, its chunks
 * kept for the end (fetch_later); but for the first level's, the pointer files' own (a
 * symlink's target), which a checkout needs before it starts. */
static int fetch_level(void *ctx, const dv_reach_item *items, size_t n)
{
    fetcher *f = ctx;
    int first = !f->walked_roots;
    dv_reach_item *now = malloc(n * sizeof(*now));
    size_t n_now = 0;
    f->walked_roots = 1;
    if (!now)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (items[i].type != DV_OBJ_CHUNK && find_held(f, &items[i].id))
            continue; /* a tree on the way to a path asked for */
        if (items[i].type != DV_OBJ_CHUNK || first) {
            now[n_now++] = items[i];
            continue;
        }
        if (f->n_later == f->alloc_later) {
            size_t alloc = f->alloc_later ? f->alloc_later * 2 : 1024;
            dv_reach_item *grown = realloc(f->later, alloc * sizeof(*grown));
            if (!grown) {
                free(now);
                return dv_error_set(DV_ENOMEM, "out of memory");
            }
            f->later = grown;
            f->alloc_later = alloc;
        }
        f->later[f->n_later++] = items[i];
    }
    f->gather_gaps = 1;
    int error = n_now ? fetch_missing(f, now, n_now) : 0;
    f->gather_gaps = 0;
    free(now);
    return error < 0 || first ? error : 1; /* the chunks come in fetch_later */
}

/* Find the objects at the paths asked for inside tracked directories (r->parts), one level
 * of trees at a time: those the store lacks are fetched together and held (what they lead
 * to is the walk's). Each becomes a root of the walk. */
static int resolve_parts(fetcher *f, roots *r)
{
    dv_reach_item *missing = calloc(r->n_parts + 1, sizeof(*missing));
    dv_reach_item *items = realloc(r->items, (r->n + r->n_parts + 1) * sizeof(*items));
    int error = dv_repo_partial_odb(&f->partial, f->repo, 0);
    if (items)
        r->items = items;
    if (error < 0) {
        free(missing);
        return error;
    }
    if (!missing || !items) {
        free(missing);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    for (;;) {
        size_t n = 0, pending = 0;
        for (size_t i = 0; i < r->n_parts; i++) {
            const root_part *part = &r->parts[i];
            int seen = 0;
            if (dv_subpath_found(&part->s))
                continue;
            pending++;
            for (size_t k = 0; k < n && !seen; k++)
                seen = !dv_oid_cmp(&missing[k].id, &part->s.id);
            if (seen || find_held(f, &part->s.id) || dv_odb_has(f->odb, &part->s.id) ||
                (f->partial && dv_odb_has(f->partial, &part->s.id)))
                continue; /* at hand */
            missing[n].id = part->s.id;
            missing[n].type = DV_OBJ_TREE;
            missing[n++].root = part->root;
        }
        if (!pending || (n && (error = fetch_missing(f, missing, n)) < 0))
            break;
        for (size_t i = 0; i < r->n_parts && !error; i++) {
            root_part *part = &r->parts[i];
            const held *h = find_held(f, &part->s.id);
            if (dv_subpath_found(&part->s))
                continue;
            if (!h) { /* in the store, or partial */
                error = dv_subpath_step_in(&part->s, f->odb, f->partial);
                continue;
            }
            dv_tree t = DV_TREE_INIT;
            error = h->entry.type != DV_OBJ_TREE
                        ? dv_error_set(DV_ECORRUPT,
                                       "object %s in %s is a %s where a tree was expected",
                                       dv_oid_hex(&h->entry.id), r->paths[part->root],
                                       dv_object_type_name(h->entry.type))
                        : dv_tree_decode(&t, h->decoded.ptr, h->decoded.len);
            if (!error)
                error = dv_subpath_step(&part->s, &t);
            dv_tree_release(&t);
        }
        if (error < 0)
            break;
    }
    for (size_t i = 0; !error && i < r->n_parts; i++) {
        r->items[r->n].id = r->parts[i].s.id;
        r->items[r->n].type = dv_object_type_of_mode(r->parts[i].s.mode);
        r->items[r->n++].root = r->parts[i].root;
    }
    f->n_path_held = f->n_held;
    free(missing);
    return error;
}

/* The trees and manifests held, copied into the store a restore reads them from. */
static int copy_held(fetcher *f, dv_odb *into)
{
    for (size_t i = 0; i < f->n_held; i++) {
        const held *h = &f->held[i];
        int error = dv_odb_put_stored(into, &h->entry.id, h->entry.type, h->entry.raw_len,
                                      h->entry.flags, h->stored.ptr, (uint32_t)h->stored.len,
                                      h->crc, NULL);
        if (error < 0)
            return error;
    }
    return dv_odb_flush(into);
}

/* After the walk: the chunks it found missing, in one batch (neighbours merged into ranges
 * across every level), once a restore beside the fetch has what it needs to start. */
static int fetch_later(fetcher *f)
{
    int error = 0;
    if (f->opts && f->opts->held_copy && (error = copy_held(f, f->opts->held_copy)) < 0)
        return error;
    if (f->opts && f->opts->ready)
        f->opts->ready(f->opts->pipe_ctx);
    size_t n = 0; /* those the gaps of the levels did not bring */
    for (size_t i = 0; i < f->n_later; i++)
        if (!dv_odb_has(f->odb, &f->later[i].id))
            f->later[n++] = f->later[i];
    if (n && (error = fetch_missing(f, f->later, n)) < 0)
        return error;
    for (size_t i = 0; i < n; i++)
        if (!dv_odb_has(f->odb, &f->later[i].id))
            return dv_error_set(DV_ENOTFOUND, "chunk %s of %s did not arrive from %s",
                                dv_oid_hex(&f->later[i].id), f->roots_ref->paths[f->later[i].root],
                                f->remote->name);
    return 0;
}

static int count_reachable(void *ctx, const dv_reach_item *item)
{
    fetcher *f = ctx;
    f->result->objects_reachable++;
    if (f->n_path_held && item->type == DV_OBJ_TREE) {
        held *h = find_held(f, &item->id);
        if (h && h < f->held + f->n_path_held)
            h->reached = 1; /* the walk needs it whole: it is stored */
    }
    return 0;
}

/* Set up a fetcher storing into odb (NULL: the repository's store). Release it even when
 * this fails. */
static int fetcher_init(fetcher *f, dv_repo *repo, dv_remote *remote, dv_odb *odb,
                        const dv_transfer_options *opts, dv_transfer_result *result)
{
    memset(f, 0, sizeof(*f));
    f->repo = repo;
    f->remote = remote;
    f->opts = opts;
    f->result = result;
    pthread_mutex_init(&f->lock, NULL);
    int error = transfer_jobs(&f->jobs, repo, opts);
    f->range_bytes = DV_FETCH_BUFFER_BYTES / (uint64_t)f->jobs;
    if (f->range_bytes > DV_FETCH_RANGE_BYTES)
        f->range_bytes = DV_FETCH_RANGE_BYTES;
    if (f->range_bytes < (1u << 20))
        f->range_bytes = 1u << 20;
    if (error < 0)
        return error;
    f->dctx = calloc((size_t)f->jobs, sizeof(*f->dctx));
    size_t n_slots = (size_t)f->jobs * DV_FETCH_HASH_GROUP;
    f->decoded = calloc(n_slots, sizeof(*f->decoded));
    f->range_bufs = calloc((size_t)f->jobs, sizeof(*f->range_bufs));
    if (!f->dctx || !f->decoded || !f->range_bufs)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_slots; i++)
        f->decoded[i] = (dv_buf)DV_BUF_INIT;
    for (int i = 0; i < f->jobs; i++) {
        f->range_bufs[i] = (dv_buf)DV_BUF_INIT;
        if (!(f->dctx[i] = ZSTD_createDCtx()))
            return dv_error_set(DV_ENOMEM, "out of memory");
    }
    f->odb = odb;
    if (!odb && (error = dv_repo_odb(&f->odb, repo)) < 0)
        return error;
    return dv_pool_new(&f->pool, f->jobs);
}

static void release_held(fetcher *f)
{
    for (size_t i = 0; i < f->n_held; i++) {
        dv_buf_release(&f->held[i].stored);
        dv_buf_release(&f->held[i].decoded);
    }
    f->n_held = 0;
    if (f->held_slots)
        memset(f->held_slots, 0, f->n_held_slots * sizeof(*f->held_slots));
}

static void fetcher_release(fetcher *f)
{
    dv_pool_free(f->pool);
    if (f->dctx)
        for (int i = 0; i < f->jobs; i++)
            ZSTD_freeDCtx(f->dctx[i]);
    if (f->decoded)
        for (size_t i = 0; i < (size_t)f->jobs * DV_FETCH_HASH_GROUP; i++)
            dv_buf_release(&f->decoded[i]);
    if (f->range_bufs)
        for (int i = 0; i < f->jobs; i++)
            dv_buf_release(&f->range_bufs[i]);
    free(f->range_bufs);
    free(f->dctx);
    free(f->decoded);
    free(f->want);
    free(f->ranges);
    free(f->later);
    release_held(f);
    free(f->held);
    free(f->held_slots);
    dv_remote_index_free(f->remote_index);
    dv_odb_free(f->partial);
    pthread_mutex_destroy(&f->lock);
}

int dv_fetch(dv_transfer_result *result, dv_repo *repo, dv_remote *remote,
             const char *const *filters, size_t n_filters, const dv_transfer_options *opts)
{
    int error;
    roots r = {0};
    fetcher f;
    memset(result, 0, sizeof(*result));
    if ((error = fetcher_init(&f, repo, remote, NULL, opts, result)) < 0 ||
        (error = collect_roots(&r, repo, filters, n_filters, opts, &result->bad_pointers, 1)) < 0)
        goto done;
    f.roots_ref = &r;
    dv_reach_ops walk = {fetch_level, read_held, NULL, count_reachable, root_name, &f};
    error = r.n_parts ? resolve_parts(&f, &r) : 0;
    if (error == 0)
        error = dv_reach_walk(f.odb, r.items, r.n, &walk);
    if (error == 0)
        error = fetch_later(&f);
    if (error == 0)
        error = store_held(&f);
    /* What was fetched is verified: keep it even when the walk failed, so that a retry
     * does not fetch it again. Only chunks are stored then, which name nothing. */
    int flushed = dv_odb_flush(f.odb);
    if (error == 0)
        error = flushed;
done:
    fetcher_release(&f);
    roots_release(&r);
    return error;
}

/* ---- objects one by one, for reads (dv_fetcher) ---- */

struct dv_fetcher {
    fetcher f;
    dv_transfer_result result;
    dv_reach_item *items;
    size_t alloc_items;
};

int dv_fetcher_new(dv_fetcher **out, dv_repo *repo, dv_remote *remote, dv_odb *into,
                   const dv_transfer_options *opts)
{
    dv_fetcher *fr = calloc(1, sizeof(*fr));
    *out = NULL;
    if (!fr)
        return dv_error_set(DV_ENOMEM, "out of memory");
    int error = fetcher_init(&fr->f, repo, remote, into, opts, &fr->result);
    if (error < 0) {
        dv_fetcher_free(fr);
        return error;
    }
    *out = fr;
    return 0;
}

int dv_fetcher_get(dv_fetcher *fr, const dv_oid *ids, size_t n)
{
    if (n > fr->alloc_items) {
        dv_reach_item *grown = realloc(fr->items, n * sizeof(*grown));
        if (!grown)
            return dv_error_set(DV_ENOMEM, "out of memory");
        fr->items = grown;
        fr->alloc_items = n;
    }
    for (size_t i = 0; i < n; i++)
        fr->items[i] = (dv_reach_item){ids[i], 0, 0};
    int error = fetch_missing(&fr->f, fr->items, n);
    if (error == 0)
        error = store_held(&fr->f);
    release_held(&fr->f);
    return error;
}

int dv_fetcher_remote_has(dv_fetcher *fr, const dv_oid *id)
{
    fetcher *f = &fr->f;
    int error;
    if (!f->remote_index && (error = dv_remote_index_load(&f->remote_index, f->remote,
                                                          f->repo->cache_dir.ptr, f->pool)) < 0)
        return error;
    return dv_remote_index_find(f->remote_index, id, NULL, NULL);
}

void dv_fetcher_counts(const dv_fetcher *fr, uint64_t *objects, uint64_t *bytes)
{
    *objects = fr->result.objects_moved;
    *bytes = fr->result.bytes_moved;
}

void dv_fetcher_free(dv_fetcher *fr)
{
    if (!fr)
        return;
    fetcher_release(&fr->f);
    free(fr->items);
    free(fr);
}
