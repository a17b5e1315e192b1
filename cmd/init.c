/* dv init: set up .dv in a git work tree. */
#include "cmd/common.h"

#include "core/base/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct init_options {
    int quiet;
    const char *chunk_min, *chunk_avg, *chunk_max;
} init_options;

static const cmd_option init_option_table[] = {
    CMD_FLAG(init_options, quiet, "quiet", 'q', "print nothing on success"),
    CMD_VALUE(init_options, chunk_min, "chunk-min", 0, "<bytes>", "smallest chunk (default 16384)",
              CMD_COMPLETE_NONE),
    CMD_VALUE(init_options, chunk_avg, "chunk-avg", 0, "<bytes>",
              "average chunk, a power of two (default 65536)", CMD_COMPLETE_NONE),
    CMD_VALUE(init_options, chunk_max, "chunk-max", 0, "<bytes>", "largest chunk (default 262144)",
              CMD_COMPLETE_NONE),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_init_syntax = {
    "usage: dv init [-q] [--chunk-min <bytes>] [--chunk-avg <bytes>] [--chunk-max <bytes>]\n"
    "\n"
    "Create .dv/ at the top of the current git work tree (config, .gitignore)\n"
    "and stage its committed files. Harmless when run again.\n",
    init_option_table,
    sizeof(init_options),
    0,
    0,
    "dv init takes no paths",
    CMD_COMPLETE_NONE,
};

/* A chunk size given as text (NULL: not given, *out keeps its default). */
static int parse_size(uint32_t *out, const char *text, const char *what, const cmd_command *usage)
{
    char *end;
    if (!text)
        return 0;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || !*text || v > UINT32_MAX)
        return cmd_usage_error(usage, "%s needs a number of bytes, not '%s'", what, text);
    *out = (uint32_t)v;
    return 0;
}

int cmd_init(cmd_context *ctx)
{
    const init_options *opts = ctx->options;
    dv_chunk_params params = dv_chunk_params_default();
    int rc;
    if ((rc = parse_size(&params.min, opts->chunk_min, "--chunk-min", ctx->command)) ||
        (rc = parse_size(&params.avg, opts->chunk_avg, "--chunk-avg", ctx->command)) ||
        (rc = parse_size(&params.max, opts->chunk_max, "--chunk-max", ctx->command)))
        return rc;
    int already = 0;
    dv_buf top = DV_BUF_INIT;
    int error = dv_repo_init(&already, &top, ".", &params);
    if (error < 0) {
        dv_buf_release(&top);
        return cmd_fail(error);
    }
    if (!opts->quiet) {
        if (already)
            printf("dv is already initialised in %s/.dv\n", top.ptr);
        else
            printf("initialised dv in %s/.dv (config and .gitignore staged for the next commit)\n",
                   top.ptr);
    }
    dv_buf_release(&top);
    return 0;
}
