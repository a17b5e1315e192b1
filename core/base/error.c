/* error: thread-local error message storage. */
#include "core/base/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static _Thread_local char error_message[DV_ERROR_MESSAGE_MAX];
static _Thread_local int error_code;

int dv_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_message, sizeof(error_message), fmt, ap);
    va_end(ap);
    error_code = code;
    return code;
}

int dv_error_errno(const char *fmt, ...)
{
    int saved = errno;
    char what[DV_ERROR_MESSAGE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    int code = DV_EIO;
    if (saved == ENOMEM)
        code = DV_ENOMEM;
    else if (saved == ENOENT)
        code = DV_ENOTFOUND;
    const char *hint = "";
    char limit[128];
    struct rlimit rl;
    if (saved == ENOSPC || saved == EDQUOT)
        hint = " (free some space and run the command again; nothing was lost)";
    if (saved == EFBIG && getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* A write past the size limit of `ulimit -f` (SIGXFSZ is ignored, see main.c). */
        snprintf(limit, sizeof(limit),
                 " (this process may write files of at most %llu bytes: raise ulimit -f)",
                 (unsigned long long)rl.rlim_cur);
        hint = limit;
    }
    snprintf(error_message, sizeof(error_message), "%s: %s%s", what, strerror(saved), hint);
    error_code = code;
    errno = saved;
    return code;
}

int dv_error_wrap(int code, const char *fmt, ...)
{
    char prefix[DV_ERROR_MESSAGE_MAX / 2];
    char old[DV_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, error_message, sizeof(old));
    size_t used = strlen(prefix);
    memcpy(error_message, prefix, used);
    const char *parts[2] = {": ", old};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(parts[i]);
        if (n > sizeof(error_message) - 1 - used)
            n = sizeof(error_message) - 1 - used;
        memcpy(error_message + used, parts[i], n);
        used += n;
    }
    error_message[used] = '\0';
    error_code = code;
    return code;
}

const char *dv_error_last(void)
{
    return error_message[0] ? error_message : "unknown error";
}

int dv_error_last_code(void)
{
    return error_code;
}

void dv_error_clear(void)
{
    error_message[0] = '\0';
    error_code = 0;
}

int dv_error_state_capture(dv_error_state *state, int code)
{
    state->code = code;
    snprintf(state->message, sizeof(state->message), "%s", dv_error_last());
    return code;
}

int dv_error_state_restore(const dv_error_state *state)
{
    if (state->code == 0)
        return 0;
    snprintf(error_message, sizeof(error_message), "%s", state->message);
    error_code = state->code;
    return state->code;
}
