/* remote_lock: the lock object of dv gc --remote (remote_lock.h). */
#include "remotes/remote_lock.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define LOCK_ID_BYTES 16

typedef struct listed_locks {
    char **names;
    int64_t *times;
    size_t n, alloc;
} listed_locks;

static int on_lock(void *ctx, const char *name, uint64_t size, int64_t modified)
{
    listed_locks *l = ctx;
    const char *base = name + strlen(DV_REMOTE_LOCKS_PREFIX);
    (void)size;
    if (strncmp(name, DV_REMOTE_LOCKS_PREFIX, strlen(DV_REMOTE_LOCKS_PREFIX)) || !*base ||
        strchr(base, '/'))
        return 0;
    if (l->n == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 4;
        char **names = realloc(l->names, alloc * sizeof(*names));
        if (!names)
            return dv_error_set(DV_ENOMEM, "out of memory");
        l->names = names;
        int64_t *times = realloc(l->times, alloc * sizeof(*times));
        if (!times)
            return dv_error_set(DV_ENOMEM, "out of memory");
        l->times = times;
        l->alloc = alloc;
    }
    if (!(l->names[l->n] = strdup(name)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    l->times[l->n++] = modified;
    return 0;
}

static void listed_release(listed_locks *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l->times);
}

static int64_t field_int(const char *body, const char *key, int64_t fallback)
{
    const char *p = body;
    size_t key_len = strlen(key);
    while (p && *p) {
        if (!strncmp(p, key, key_len) && p[key_len] == ':') {
            const char *v = p + key_len + 1;
            while (*v == ' ')
                v++;
            if (!strncmp(v, "never", 5))
                return DV_REMOTE_PRUNE_NEVER;
            char *end;
            errno = 0;
            long long n = strtoll(v, &end, 10);
            return end == v || errno ? fallback : (int64_t)n;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return fallback;
}

static char *field_str(const char *body, const char *key)
{
    const char *p = body;
    size_t key_len = strlen(key);
    while (p && *p) {
        if (!strncmp(p, key, key_len) && p[key_len] == ':') {
            const char *v = p + key_len + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            return strndup(v, len > 255 ? 255 : len);
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return strdup("?");
}

/* Read lock name's body into out (listed at modified). */
static int read_lock(dv_remote_lock *out, dv_remote *remote, const char *name, int64_t modified)
{
    dv_buf body = DV_BUF_INIT;
    int error = remote->ops->get_all(remote, name, &body, DV_REMOTE_LOCK_MAX_BYTES);
    memset(out, 0, sizeof(*out));
    if (error == DV_ENOTFOUND) {
        dv_buf_release(&body);
        return DV_ENOTFOUND; /* removed since the listing: not live */
    }
    if (error < 0 && error != DV_ECORRUPT) {
        dv_buf_release(&body);
        return error;
    }
    if (error < 0) {
        dv_error_clear();
        dv_buf_clear(&body); /* too large: a lock that says nothing */
    }
    out->name = strdup(name);
    out->host = field_str(body.ptr, "host");
    out->pid = field_int(body.ptr, "pid", 0);
    out->time = field_int(body.ptr, "time", 0);
    out->prune_expire = field_int(body.ptr, "prune-expire", 0);
    if (out->prune_expire < 0)
        out->prune_expire = 0;
    out->modified = modified != DV_REMOTE_TIME_UNKNOWN ? modified : out->time;
    dv_buf_release(&body);
    if (!out->name || !out->host) {
        dv_remote_lock_clear(out);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    return 0;
}

int64_t dv_remote_lock_cutoff(const dv_remote_lock *lock)
{
    if (lock->prune_expire == DV_REMOTE_PRUNE_NEVER)
        return INT64_MIN;
    if (lock->modified < INT64_MIN + lock->prune_expire)
        return INT64_MIN;
    return lock->modified - lock->prune_expire;
}

void dv_remote_lock_clear(dv_remote_lock *lock)
{
    free(lock->name);
    free(lock->host);
    memset(lock, 0, sizeof(*lock));
}

void dv_remote_locks_free(dv_remote_lock *locks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dv_remote_lock_clear(&locks[i]);
    free(locks);
}

int dv_remote_locks_live(dv_remote_lock **out, size_t *n, dv_remote *remote, int64_t now)
{
    listed_locks l = {0};
    dv_remote_lock *locks = NULL;
    int error;
    *out = NULL;
    *n = 0;
    if ((error = remote->ops->list(remote, DV_REMOTE_LOCKS_PREFIX, on_lock, &l)) < 0) {
        error = dv_error_wrap(error, "cannot list the gc locks of remote %s", remote->name);
        goto done;
    }
    if (!l.n)
        goto done;
    if (!(locks = calloc(l.n, sizeof(*locks)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < l.n; i++) {
        dv_remote_lock lock;
        if ((error = read_lock(&lock, remote, l.names[i], l.times[i])) == DV_ENOTFOUND) {
            dv_error_clear();
            error = 0;
            continue;
        }
        if (error < 0)
            goto done;
        /* unknown times are live: nothing says the gc is over */
        if (lock.modified != 0 && lock.modified < now - DV_REMOTE_LOCK_LIVE_SECONDS) {
            dv_remote_lock_clear(&lock);
            continue;
        }
        locks[(*n)++] = lock;
    }
    *out = locks;
    locks = NULL;
done:
    if (locks)
        dv_remote_locks_free(locks, *n);
    if (error < 0)
        *n = 0;
    listed_release(&l);
    return error;
}

static void this_host(char *host, size_t size)
{
    if (gethostname(host, size) < 0)
        snprintf(host, size, "?");
    host[size - 1] = '\0';
    host[strcspn(host, "\r\n")] = '\0';
}

int dv_remote_lock_died_here(const dv_remote_lock *lock)
{
    char host[256];
    this_host(host, sizeof(host));
    if (strcmp(lock->host, host) || lock->pid <= 0 || lock->pid > INT_MAX ||
        lock->pid == (int64_t)getpid())
        return 0;
    return kill((pid_t)lock->pid, 0) < 0 && errno == ESRCH;
}

int dv_remote_lock_take(dv_remote_lock *out, dv_remote *remote, const char *tmp_dir,
                        int64_t prune_expire)
{
    uint8_t random[LOCK_ID_BYTES];
    char hex[2 * LOCK_ID_BYTES + 1], host[256];
    dv_buf name = DV_BUF_INIT, path = DV_BUF_INIT, body = DV_BUF_INIT;
    dv_remote_lock *live = NULL;
    size_t n_live = 0;
    int error = 0, written = 0;
    memset(out, 0, sizeof(*out));
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random))
        return dv_error_errno("cannot draw a random lock name");
    for (size_t i = 0; i < sizeof(random); i++)
        snprintf(hex + 2 * i, 3, "%02x", random[i]);
    this_host(host, sizeof(host));
    if ((error = dv_buf_printf(&name, DV_REMOTE_LOCKS_PREFIX "%s", hex)) < 0 ||
        (error = dv_buf_printf(&path, "%s/gc-lock-%s", tmp_dir, hex)) < 0 ||
        (error = dv_buf_printf(&body, "dv-gc-lock: 1\nhost: %s\npid: %ld\ntime: %lld\n", host,
                               (long)getpid(), (long long)time(NULL))) < 0)
        goto done;
    error = prune_expire == DV_REMOTE_PRUNE_NEVER
                ? dv_buf_puts(&body, "prune-expire: never\n")
                : dv_buf_printf(&body, "prune-expire: %" PRId64 "\n", prune_expire);
    if (error < 0 ||
        (error = dv_fs_write_atomic(path.ptr, body.ptr, body.len, 0644, DV_FS_DURABLE)) < 0)
        goto done;
    error = remote->ops->put_file(remote, name.ptr, path.ptr);
    unlink(path.ptr);
    if (error < 0) {
        error =
            dv_error_wrap(error, "cannot write the gc lock %s on remote %s; nothing was deleted",
                          name.ptr, remote->name);
        goto done;
    }
    written = 1;
    if ((error = dv_remote_locks_live(&live, &n_live, remote, (int64_t)time(NULL))) < 0)
        goto done;
    const dv_remote_lock *other = NULL;
    for (size_t i = 0; i < n_live; i++) {
        if (!strcmp(live[i].name, name.ptr)) {
            *out = live[i];
            memset(&live[i], 0, sizeof(live[i]));
            continue;
        }
        if (dv_remote_lock_died_here(&live[i])) {
            if (remote->ops->remove(remote, live[i].name) == 0)
                continue;     /* its gc is over: nothing it did goes on */
            dv_error_clear(); /* then it counts as live */
        }
        if (!other)
            other = &live[i];
    }
    if (other) {
        struct tm tm;
        char when[64] = "?";
        time_t t = (time_t)(other->time ? other->time : other->modified);
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
        error = dv_error_set(DV_ELOCKED,
                             "remote %s is locked by another dv gc --remote (%s, on host %s, pid "
                             "%" PRId64 ", since %s); nothing was deleted (try again once it "
                             "ends; a lock older than %d hours is ignored)",
                             remote->name, other->name, other->host, other->pid, when,
                             DV_REMOTE_LOCK_LIVE_SECONDS / 3600);
        goto done;
    }
    if (!out->name) {
        error = dv_error_set(DV_EIO,
                             "the gc lock %s written on remote %s is not listed there; nothing "
                             "was deleted",
                             name.ptr, remote->name);
        goto done;
    }
done:
    if (error < 0) {
        dv_remote_lock_clear(out);
        if (written) {
            dv_error_state kept;
            int code = dv_error_state_capture(&kept, error);
            if (remote->ops->remove(remote, name.ptr) < 0)
                dv_error_clear();
            error = dv_error_state_restore(&kept);
            (void)code;
        }
    }
    dv_remote_locks_free(live, n_live);
    dv_buf_release(&name);
    dv_buf_release(&path);
    dv_buf_release(&body);
    return error;
}

int dv_remote_lock_release(dv_remote_lock *lock, dv_remote *remote)
{
    int error = 0;
    if (lock->name && (error = remote->ops->remove(remote, lock->name)) < 0)
        error = dv_error_wrap(error,
                              "cannot remove the gc lock %s from remote %s (remove it by hand; "
                              "it is ignored after %d hours)",
                              lock->name, remote->name, DV_REMOTE_LOCK_LIVE_SECONDS / 3600);
    dv_remote_lock_clear(lock);
    return error;
}
