/* dv init: set up .dv in a git work tree. */
#include "cmd/common.h"

#include "core/base/error.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char cmd_init_usage[] =
    "usage: dv init [-q] [--chunk-min <bytes>] [--chunk-avg <bytes>] [--chunk-max <bytes>]\n"
    "\n"
    "Create .dv/ at the top of the current git work tree (config, .gitignore)\n"
    "and stage its committed files. Harmless when run again.\n"
    "\n"
    "  -q, --quiet          print nothing on success\n"
    "  --chunk-min <bytes>  smallest chunk (default 16384)\n"
    "  --chunk-avg <bytes>  average chunk, a power of two (default 65536)\n"
    "  --chunk-max <bytes>  largest chunk (default 262144)\n";

static int parse_size(uint32_t *out, const char *text, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || !*text || v > UINT32_MAX)
        return cmd_usage_error(cmd_init_usage, "%s needs a number of bytes, not '%s'", what, text);
    *out = (uint32_t)v;
    return 0;
}

int cmd_init(int argc, char **argv)
{
    struct {
        int quiet;
        dv_chunk_params params;
    } opts = {0, dv_chunk_params_default()};
    static const struct option longopts[] = {
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {"chunk-min", required_argument, NULL, 1}, {"chunk-avg", required_argument, NULL, 2},
        {"chunk-max", required_argument, NULL, 3}, {NULL, 0, NULL, 0}};
    int c, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'q':
            opts.quiet = 1;
            break;
        case 'h':
            return cmd_print_usage(cmd_init_usage);
        case 1:
            if ((rc = parse_size(&opts.params.min, optarg, "--chunk-min")))
                return rc;
            break;
        case 2:
            if ((rc = parse_size(&opts.params.avg, optarg, "--chunk-avg")))
                return rc;
            break;
        case 3:
            if ((rc = parse_size(&opts.params.max, optarg, "--chunk-max")))
                return rc;
            break;
        default:
            return cmd_usage_error(cmd_init_usage, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cmd_usage_error(cmd_init_usage, "dv init takes no paths");
    int already = 0;
    dv_buf top = DV_BUF_INIT;
    int error = dv_repo_init(&already, &top, ".", &opts.params);
    if (error < 0) {
        dv_buf_release(&top);
        return cmd_fail(error);
    }
    if (!opts.quiet) {
        if (already)
            printf("dv is already initialised in %s/.dv\n", top.ptr);
        else
            printf("initialised dv in %s/.dv (config and .gitignore staged for the next commit)\n",
                   top.ptr);
    }
    dv_buf_release(&top);
    return 0;
}
