/* dv ls: the files inside tracked data, at a revision or in the work tree's pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/base/json.h"
#include "core/object/object.h"
#include "core/ops/ls.h"
#include "core/repo/rev.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct ls_options {
    int long_format, recursive, json;
} ls_options;

static const cmd_option ls_option_table[] = {
    CMD_FLAG(ls_options, long_format, "long", 'l', "also show the mode, size and content id"),
    CMD_FLAG(ls_options, recursive, "recursive", 'r',
             "list every file below a directory that is named\n(the default without paths)"),
    CMD_FLAG(ls_options, json, "json", 0, "one JSON object a line: path, kind, mode, size, id"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_ls_syntax = {
    "usage: dv ls [-l] [-r] [--json] [<rev>] [--] [<path>...]\n"
    "\n"
    "List the files inside tracked data at a git revision (a branch, tag, commit,\n"
    "HEAD~3, ...), or by default in the pointer files staged in git, from the store's\n"
    "trees alone: the work tree's data is not read. Paths are relative to the top of\n"
    "the repository. A directory that is named is listed one level unless -r is given.\n",
    ls_option_table,
    sizeof(ls_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

typedef struct ls_printer {
    const ls_options *opts;
    dv_buf line, quoted;
} ls_printer;

static int print_entry(void *ctx, const dv_ls_entry *e)
{
    ls_printer *p = ctx;
    int error = 0;
    dv_buf_truncate(&p->line, 0);
    if (p->opts->json) {
        dv_json j;
        dv_json_init(&j, &p->line);
        dv_json_object_begin(&j);
        dv_json_key(&j, "path");
        dv_json_string(&j, e->path);
        dv_json_key(&j, "kind");
        dv_json_string(&j, dv_pointer_kind_name(e->kind));
        dv_json_key(&j, "mode");
        dv_json_string(&j, cmd_mode_text(e->mode));
        dv_json_key(&j, "size");
        dv_json_uint(&j, e->size);
        dv_json_key(&j, "id");
        dv_json_string(&j, dv_oid_hex(&e->id));
        dv_json_object_end(&j);
        if ((error = dv_json_finish(&j)) < 0)
            return error == DV_ENOMEM ? dv_error_set(DV_ENOMEM, "out of memory") : error;
        printf("%s\n", p->line.ptr);
    } else if (p->opts->long_format) {
        printf("%s %12" PRIu64 " %s\t%s\n", cmd_mode_text(e->mode), e->size, dv_oid_hex(&e->id),
               cmd_quote_path(&p->quoted, e->path));
    } else {
        /* a million of these in a listing of a large tree: no format to parse */
        fputs(cmd_quote_path(&p->quoted, e->path), stdout);
        putchar('\n');
    }
    return 0;
}

int cmd_ls(cmd_context *ctx)
{
    const ls_options *opts = ctx->options;
    ls_printer printer = {opts, DV_BUF_INIT, DV_BUF_INIT};
    dv_rev *rev = NULL;
    char **paths = NULL;
    int rc = 0, n_paths = 0;
    int error = 0;
    if ((rc = cmd_take_rev(&rev, ctx)))
        goto done;
    int first = rev ? 1 : 0;
    n_paths = ctx->n_args - first;
    if ((rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + first)))
        goto done;
    error = dv_ls(ctx->repo, rev, (const char *const *)paths, (size_t)n_paths, opts->recursive,
                  print_entry, &printer);
    if (fflush(stdout) != 0 && !error)
        error = dv_error_errno("writing the listing");
    if (error < 0)
        rc = cmd_fail_at(error, rev);
done:
    cmd_relpaths_free(paths, n_paths);
    dv_rev_free(rev);
    dv_buf_release(&printer.line);
    dv_buf_release(&printer.quoted);
    return rc;
}
