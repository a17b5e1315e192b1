/* dv export: tracked data at a revision as one archive, straight from the store. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/export.h"
#include "core/repo/rev.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct export_options {
    const char *output, *format, *prefix;
    int reproducible, force;
} export_options;

static const cmd_option export_option_table[] = {
    CMD_VALUE(export_options, output, "output", 'o', "<file>",
              "write the archive to this file ('-': standard output)", CMD_COMPLETE_FILES),
    CMD_VALUE(export_options, format, "format", 0, "<format>",
              "tar, tar.gz, tar.zst, tar.xz or zip (default: from the\nfile's name; tar for "
              "standard output)",
              CMD_COMPLETE_NONE),
    CMD_VALUE(export_options, prefix, "prefix", 0, "<dir>/",
              "put the content under <dir>/ instead of the path's own\nname ('' for the top of "
              "the archive)",
              CMD_COMPLETE_NONE),
    CMD_FLAG(export_options, reproducible, "reproducible", 0,
             "the same bytes for the same content on any machine:\nevery time 0, no compressor "
             "timestamp"),
    CMD_FLAG(export_options, force, "force", 'f', "replace the output file if it exists"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_export_syntax = {
    "usage: dv export [<rev>] [--] <path> -o <file> [--format <format>] [--prefix <dir>/]\n"
    "                 [--reproducible] [-f]\n"
    "\n"
    "Write a tracked directory or file (or a path inside a tracked directory) as one\n"
    "archive, read straight from the store: at a git revision (a branch, tag, commit,\n"
    "HEAD~3, ...) without checking it out, or by default as the staged pointer files\n"
    "record it. Files keep their executable bit, symbolic links their targets. A file\n"
    "named by -o is written whole or not at all.\n",
    export_option_table,
    sizeof(export_options),
    1,
    2,
    "dv export takes [<rev>] and one <path>",
    CMD_COMPLETE_TRACKED,
};

int cmd_export(cmd_context *ctx)
{
    const export_options *opts = ctx->options;
    dv_export_options eo = {DV_EXPORT_TAR, opts->prefix, opts->reproducible};
    dv_export_result result;
    dv_rev *rev = NULL;
    char **paths = NULL;
    int rc = 0, n_paths = 0, error = 0;
    int to_stdout = opts->output && !strcmp(opts->output, "-");
    if (!opts->output) {
        rc = cmd_usage_error(ctx->command, "dv export needs -o <file> (or -o - for standard "
                                           "output)");
        goto done;
    }
    /* One argument is the path; a revision comes only before it. */
    if ((ctx->n_args > 1 || ctx->n_before_dashdash == 1) && (rc = cmd_take_rev(&rev, ctx)))
        goto done;
    int first = rev ? 1 : 0;
    n_paths = ctx->n_args - first;
    if (n_paths != 1) {
        rc = cmd_usage_error(ctx->command, "%s", cmd_export_syntax.args_error);
        n_paths = 0;
        goto done;
    }
    if ((rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + first)))
        goto done;
    if (opts->format)
        error = dv_export_format_parse(&eo.format, opts->format);
    else if (!to_stdout)
        error = dv_export_format_of_path(&eo.format, opts->output);
    if (error < 0)
        goto done;
    if (!to_stdout) {
        error = dv_export_file(&result, ctx->repo, rev, paths[0], &eo, opts->output, opts->force);
        goto done;
    }
    if (isatty(STDOUT_FILENO)) {
        error = dv_error_set(DV_EUSAGE, "standard output is a terminal: redirect it, or name a "
                                        "file with -o");
        goto done;
    }
    /* A reader that goes away is an answer, as for dv cat: see EPIPE instead of dying. */
    signal(SIGPIPE, SIG_IGN);
    struct stat out_st;
    if (fstat(STDOUT_FILENO, &out_st) == 0 && S_ISFIFO(out_st.st_mode))
        (void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
    int pipe_closed = 0;
    error = dv_export_fd(&result, ctx->repo, rev, paths[0], &eo, STDOUT_FILENO, "standard output",
                         &pipe_closed);
    if (pipe_closed)
        error = 0;
done:
    if (error < 0)
        rc = cmd_fail_at(error, rev);
    cmd_relpaths_free(paths, n_paths);
    dv_rev_free(rev);
    return rc;
}
