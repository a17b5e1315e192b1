/*
 * tempfile: registry of live temp files, removed on exit and on signals.
 *
 * Slots live in blocks that are never freed, so a signal handler can walk them while
 * another thread registers or forgets a file. A slot's state says who may touch its
 * path: FREE and WRITING belong to the registering thread (under the mutex), ACTIVE is
 * read-only for everyone, and REMOVING belongs to the remover, which took it from
 * ACTIVE with one compare-and-swap. Atomic ints are lock-free here, so the remover
 * needs no lock and never sees a path half written.
 */
#include "core/base/tempfile.h"

#include "core/base/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_WRITING, SLOT_ACTIVE, SLOT_REMOVING };

#define SLOTS_PER_BLOCK 32

typedef struct slot {
    atomic_int state;
    pid_t owner; /* the process that created the file */
    char *path;  /* NUL-terminated, cap bytes allocated; kept when the slot is freed */
    size_t cap;
} slot;

typedef struct block {
    slot slots[SLOTS_PER_BLOCK];
    _Atomic(struct block *) next;
} block;

static block first_block;
static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "slot states must be lock-free for signal handlers");
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "block links must be lock-free for signal handlers");

/* A FREE slot taken for writing, or NULL on ENOMEM. Under registry_mutex. */
static slot *take_slot(void)
{
    block *b = &first_block;
    for (;;) {
        for (int i = 0; i < SLOTS_PER_BLOCK; i++) {
            int expected = SLOT_FREE;
            if (atomic_compare_exchange_strong(&b->slots[i].state, &expected, SLOT_WRITING))
                return &b->slots[i];
        }
        block *next = atomic_load(&b->next);
        if (!next) {
            if (!(next = calloc(1, sizeof(*next))))
                return NULL;
            atomic_store(&b->next, next);
        }
        b = next;
    }
}

int dv_tempfile_register(const char *path)
{
    size_t len = strlen(path);
    int error = 0;
    pthread_mutex_lock(&registry_mutex);
    slot *s = take_slot();
    if (!s) {
        error = dv_error_set(DV_ENOMEM, "out of memory registering temporary file %s", path);
        goto done;
    }
    if (s->cap < len + 1) {
        /* WRITING: no remover reads this slot, so its path may move. */
        char *p = realloc(s->path, len + 1);
        if (!p) {
            atomic_store(&s->state, SLOT_FREE);
            error = dv_error_set(DV_ENOMEM, "out of memory registering temporary file %s", path);
            goto done;
        }
        s->path = p;
        s->cap = len + 1;
    }
    memcpy(s->path, path, len + 1);
    s->owner = getpid();
    atomic_store(&s->state, SLOT_ACTIVE); /* publishes the path */
done:
    pthread_mutex_unlock(&registry_mutex);
    return error;
}

void dv_tempfile_forget(const char *path)
{
    pthread_mutex_lock(&registry_mutex);
    for (block *b = &first_block; b; b = atomic_load(&b->next)) {
        for (int i = 0; i < SLOTS_PER_BLOCK; i++) {
            slot *s = &b->slots[i];
            int expected = SLOT_ACTIVE;
            if (atomic_load(&s->state) == SLOT_ACTIVE && !strcmp(s->path, path) &&
                atomic_compare_exchange_strong(&s->state, &expected, SLOT_FREE))
                goto done;
        }
    }
done:
    pthread_mutex_unlock(&registry_mutex);
}

int dv_tempfile_remove(const char *path)
{
    int error = 0;
    if (unlink(path) < 0 && errno != ENOENT)
        error = dv_error_errno("cannot remove temporary file %s", path);
    dv_tempfile_forget(path);
    return error;
}

void dv_tempfile_remove_all(void)
{
    int saved = errno;
    pid_t self = getpid();
    for (block *b = &first_block; b; b = atomic_load(&b->next)) {
        for (int i = 0; i < SLOTS_PER_BLOCK; i++) {
            slot *s = &b->slots[i];
            int expected = SLOT_ACTIVE;
            if (atomic_compare_exchange_strong(&s->state, &expected, SLOT_REMOVING)) {
                if (s->owner == self)
                    unlink(s->path);
            }
        }
    }
    errno = saved;
}

size_t dv_tempfile_count(void)
{
    size_t n = 0;
    for (block *b = &first_block; b; b = atomic_load(&b->next))
        for (int i = 0; i < SLOTS_PER_BLOCK; i++)
            n += atomic_load(&b->slots[i].state) == SLOT_ACTIVE;
    return n;
}
