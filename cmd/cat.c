/* dv cat: one tracked file's bytes, at a revision or in the work tree's pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/cat.h"
#include "core/repo/rev.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct cat_options {
    const char *offset_text, *length_text;
} cat_options;

static const cmd_option cat_option_table[] = {
    CMD_VALUE(cat_options, offset_text, "offset", 0, "<n>", "start at byte n (default 0)",
              CMD_COMPLETE_NONE),
    CMD_VALUE(cat_options, length_text, "length", 0, "<n>", "write at most n bytes",
              CMD_COMPLETE_NONE),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_cat_syntax = {
    "usage: dv cat [--offset <n>] [--length <n>] [<rev>:]<path>\n"
    "\n"
    "Write the bytes of one tracked file (a file inside a tracked directory too) to\n"
    "standard output, read chunk by chunk from the store. With <rev>: (a branch, tag,\n"
    "commit, HEAD~3, ...) the file as that revision recorded it, its path relative to\n"
    "the top of the repository; without, as the staged pointer files record it.\n",
    cat_option_table,
    sizeof(cat_options),
    1,
    1,
    "dv cat takes one [<rev>:]<path>",
    CMD_COMPLETE_TRACKED,
};

/* A decimal byte count. */
static int parse_count(uint64_t *out, const char *text, const char *option)
{
    char *end = NULL;
    errno = 0;
    if (!text[0] || text[0] == '-' || text[0] == '+')
        goto bad;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        goto bad;
    *out = v;
    return 0;
bad:
    return dv_error_set(DV_EUSAGE, "--%s wants a number of bytes, not '%s'", option, text);
}

typedef struct cat_writer {
    int pipe_closed;
} cat_writer;

static int write_out(void *ctx, const void *data, size_t len)
{
    cat_writer *w = ctx;
    const char *p = data;
    while (len) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EPIPE) {
            w->pipe_closed = 1; /* the reader has all it wants (head -c 10) */
            return DV_EIO;
        }
        if (n < 0)
            return dv_error_errno("writing to standard output");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cmd_cat(cmd_context *ctx)
{
    const cat_options *opts = ctx->options;
    const char *arg = ctx->args[0];
    const char *colon = strchr(arg, ':');
    dv_rev *rev = NULL;
    dv_buf spec = DV_BUF_INIT, path = DV_BUF_INIT;
    cat_writer writer = {0};
    uint64_t offset = 0, length = DV_CAT_TO_END;
    int error = 0;
    if ((opts->offset_text && (error = parse_count(&offset, opts->offset_text, "offset")) < 0) ||
        (opts->length_text && (error = parse_count(&length, opts->length_text, "length")) < 0))
        goto done;
    if (!colon) {
        error = dv_repo_relpath(&path, ctx->repo, arg);
    } else {
        /* As git show: <rev>:<path> is relative to the top unless it starts with ./ or ../;
         * an empty <rev> is the staged pointer files. */
        const char *p = colon + 1;
        if ((error = dv_buf_put(&spec, arg, (size_t)(colon - arg))) < 0)
            goto done;
        if (spec.len && (error = dv_rev_resolve(&rev, ctx->repo, spec.ptr)) < 0)
            goto done;
        if (!strncmp(p, "./", 2) || !strncmp(p, "../", 3) || !strcmp(p, ".") || !strcmp(p, ".."))
            error = dv_repo_relpath(&path, ctx->repo, p);
        else if ((error = dv_buf_puts(&path, p)) == 0)
            while (path.len && path.ptr[path.len - 1] == '/')
                dv_buf_truncate(&path, path.len - 1);
    }
    if (error < 0)
        goto done;
    /* A reader that goes away is an answer, not a failure: see EPIPE instead of dying. */
    signal(SIGPIPE, SIG_IGN);
    /* Into a pipe, a larger buffer means far fewer wake-ups of both sides (Linux; a failure
     * leaves the default). */
    struct stat out_st;
    if (fstat(STDOUT_FILENO, &out_st) == 0 && S_ISFIFO(out_st.st_mode))
        (void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
    error = dv_cat(ctx->repo, rev, path.ptr, offset, length, write_out, &writer);
    if (writer.pipe_closed)
        error = 0;
done:
    if (error < 0)
        error = cmd_fail_at(error, rev);
    dv_rev_free(rev);
    dv_buf_release(&spec);
    dv_buf_release(&path);
    return error;
}
