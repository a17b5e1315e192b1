/* lock: flock-based repository lock with a pid note. */
#include "core/base/lock.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct dv_lock {
    int fd;
    int shared; /* holders of a shared lock leave the pid note alone */
};

static long read_holder(int fd)
{
    char text[64];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    /* Anyone can write the file: a number that is no pid is no holder we can name. */
    char *end;
    errno = 0;
    long pid = strtol(text, &end, 10);
    if (errno || end == text || (*end && *end != '\n') || pid <= 0 || pid > INT32_MAX)
        return 0;
    /* A holder killed outright leaves its note behind (shared holders of the store's gc
     * lock write none): name only a process that is still there. */
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return 0;
    return pid;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int dv_lock_acquire(dv_lock **out, const char *path, long timeout_ms, dv_lock_wait_fn on_wait,
                    void *ctx)
{
    return dv_lock_acquire_mode(out, path, 0, timeout_ms, on_wait, ctx);
}

int dv_lock_acquire_mode(dv_lock **out, const char *path, int shared, long timeout_ms,
                         dv_lock_wait_fn on_wait, void *ctx)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ELOOP)
        return dv_error_set(DV_EIO, "the lock file %s is a symbolic link (remove it)", path);
    if (fd < 0)
        return dv_error_errno("cannot open lock file %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return dv_error_set(DV_EIO, "the lock file %s is not a regular file (remove it)", path);
    }
    if (timeout_ms < 0)
        timeout_ms = 0;
    if (timeout_ms > DV_LOCK_TIMEOUT_MAX_SECONDS * 1000)
        timeout_ms = DV_LOCK_TIMEOUT_MAX_SECONDS * 1000;
    long waited = 0;
    int told = 0;
    for (;;) {
        if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int error = dv_error_errno("cannot lock %s", path);
            close(fd);
            return error;
        }
        long holder = read_holder(fd);
        if (waited >= timeout_ms) {
            close(fd);
            if (holder > 0)
                return dv_error_set(DV_ELOCKED,
                                    "another dv command (pid %ld) holds %s; gave up after %ld s "
                                    "(wait for it to finish, or raise core.lockTimeout)",
                                    holder, path, timeout_ms / 1000);
            return dv_error_set(DV_ELOCKED, "another dv command holds %s; gave up after %ld s",
                                path, timeout_ms / 1000);
        }
        if (!told && on_wait) {
            on_wait(ctx, holder);
            told = 1;
        }
        sleep_ms(50);
        waited += 50;
    }
    /* We hold it: record our pid for whoever waits next. */
    char text[32];
    int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
    if (!shared && (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len)) {
        int error = dv_error_errno("cannot write lock file %s", path);
        close(fd);
        return error;
    }
    dv_lock *lock = malloc(sizeof(*lock));
    if (!lock) {
        close(fd);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    lock->fd = fd;
    lock->shared = shared;
    *out = lock;
    return 0;
}

void dv_lock_release(dv_lock *lock)
{
    if (!lock)
        return;
    if (!lock->shared && ftruncate(lock->fd, 0) < 0) {
        /* Harmless: the pid note is advisory; the flock is what counts. */
    }
    close(lock->fd);
    free(lock);
}
