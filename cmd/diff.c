/* dv diff: what changed in tracked data between two revisions, or a revision and git's index. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/base/json.h"
#include "core/ops/diff.h"
#include "core/repo/rev.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef struct diff_options {
    int name_status, stat, json, exit_code, quiet;
} diff_options;

static const cmd_option diff_option_table[] = {
    CMD_FLAG(diff_options, name_status, "name-status", 0,
             "one line a file: A, D, M or R, then its path(s)"),
    CMD_FLAG(diff_options, stat, "stat", 0, "one line a file with its sizes, then a summary"),
    CMD_FLAG(diff_options, json, "json", 0, "one JSON object: the files and a summary"),
    CMD_FLAG(diff_options, exit_code, "exit-code", 0, "exit 1 when there are differences"),
    CMD_FLAG(diff_options, quiet, "quiet", 'q', "print nothing; implies --exit-code"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_diff_syntax = {
    "usage: dv diff [--name-status | --stat | --json] [--exit-code] [-q]\n"
    "               [<rev-a> [<rev-b>] | <rev-a>..<rev-b> | <rev-a>...<rev-b>] [--] [<path>...]\n"
    "\n"
    "Show what changed in tracked data, file by file, inside tracked directories too:\n"
    "added, deleted, modified or renamed (the same content at a new path), with the\n"
    "sizes before and after. Two revisions compare the first with the second; one, it\n"
    "with the pointer files staged in git; none, HEAD with them. A...B compares the\n"
    "merge base of A and B with B. Read from git's objects and the store's trees alone:\n"
    "a subtree the same on both sides is not entered.\n",
    diff_option_table,
    sizeof(diff_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

static const char *status_name(int status)
{
    switch (status) {
    case DV_DIFF_ADDED:
        return "added";
    case DV_DIFF_DELETED:
        return "deleted";
    case DV_DIFF_MODIFIED:
        return "modified";
    default:
        return "renamed";
    }
}

typedef struct diff_printer {
    const diff_options *opts;
    dv_json *json; /* with --json */
    dv_buf quoted, quoted_old, sizes;
    int pipe_closed;
} diff_printer;

static void json_side(dv_json *j, const char *key, const dv_diff_side *s)
{
    dv_json_key(j, key);
    if (!s->kind) {
        dv_json_null(j);
        return;
    }
    dv_json_object_begin(j);
    dv_json_key(j, "kind");
    dv_json_string(j, dv_pointer_kind_name(s->kind));
    dv_json_key(j, "mode");
    dv_json_string(j, s->mode == DV_MODE_EXEC      ? "100755"
                      : s->mode == DV_MODE_SYMLINK ? "120000"
                                                   : "100644");
    dv_json_key(j, "size");
    dv_json_uint(j, s->size);
    dv_json_key(j, "id");
    dv_json_string(j, dv_oid_hex(&s->id));
    dv_json_object_end(j);
}

static int print_entry(void *ctx, const dv_diff_entry *e)
{
    diff_printer *p = ctx;
    if (p->opts->quiet)
        return 0;
    if (p->json) {
        dv_json *j = p->json;
        dv_json_object_begin(j);
        dv_json_key(j, "path");
        dv_json_string(j, e->path);
        if (e->old_path) {
            dv_json_key(j, "old_path");
            dv_json_string(j, e->old_path);
        }
        dv_json_key(j, "status");
        dv_json_string(j, status_name(e->status));
        json_side(j, "old", &e->old_side);
        json_side(j, "new", &e->new_side);
        dv_json_object_end(j);
        return 0;
    }
    const char *path = cmd_quote_path(&p->quoted, e->path);
    const char *old = e->old_path ? cmd_quote_path(&p->quoted_old, e->old_path) : NULL;
    if (p->opts->name_status) {
        if (old)
            printf("R\t%s\t%s\n", old, path);
        else
            printf("%c\t%s\n", e->status, path);
        return 0;
    }
    dv_buf_truncate(&p->sizes, 0);
    if (e->status == DV_DIFF_MODIFIED) {
        dv_buf_printf(&p->sizes, "%s", cmd_human_bytes(e->old_side.size));
        dv_buf_printf(&p->sizes, " → %s", cmd_human_bytes(e->new_side.size));
        if (e->old_side.mode != e->new_side.mode)
            dv_buf_puts(&p->sizes, e->new_side.mode == DV_MODE_EXEC   ? ", now executable"
                                   : e->old_side.mode == DV_MODE_EXEC ? ", no longer executable"
                                                                      : ", type changed");
    } else {
        dv_buf_puts(&p->sizes, cmd_human_bytes(e->status == DV_DIFF_DELETED ? e->old_side.size
                                                                            : e->new_side.size));
    }
    if (dv_buf_oom(&p->sizes))
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (p->opts->stat)
        printf(" %s%s%s | %s\n", old ? old : "", old ? " → " : "", path, p->sizes.ptr);
    else if (old)
        printf("renamed:   %s → %s  (%s)\n", old, path, p->sizes.ptr);
    else
        printf("%-10s %s  (%s)\n",
               e->status == DV_DIFF_ADDED     ? "added:"
               : e->status == DV_DIFF_DELETED ? "deleted:"
                                              : "modified:",
               path, p->sizes.ptr);
    return 0;
}

static void print_summary(const dv_diff_summary *s)
{
    uint64_t files = s->added + s->deleted + s->modified + s->renamed;
    if (!files) {
        printf("no differences\n");
        return;
    }
    printf("%" PRIu64 " file%s changed: %" PRIu64 " added, %" PRIu64 " modified, %" PRIu64
           " deleted, %" PRIu64 " renamed",
           files, files == 1 ? "" : "s", s->added, s->modified, s->deleted, s->renamed);
    printf(" (+%s", cmd_human_bytes(s->bytes_added));
    printf(", -%s)\n", cmd_human_bytes(s->bytes_removed));
}

static void json_summary(dv_json *j, const dv_diff_summary *s)
{
    dv_json_key(j, "summary");
    dv_json_object_begin(j);
    dv_json_key(j, "added");
    dv_json_uint(j, s->added);
    dv_json_key(j, "deleted");
    dv_json_uint(j, s->deleted);
    dv_json_key(j, "modified");
    dv_json_uint(j, s->modified);
    dv_json_key(j, "renamed");
    dv_json_uint(j, s->renamed);
    dv_json_key(j, "bytes_added");
    dv_json_uint(j, s->bytes_added);
    dv_json_key(j, "bytes_removed");
    dv_json_uint(j, s->bytes_removed);
    dv_json_key(j, "old_bytes");
    dv_json_uint(j, s->old_bytes);
    dv_json_key(j, "new_bytes");
    dv_json_uint(j, s->new_bytes);
    dv_json_object_end(j);
}

/* Up to two revisions, or one "A..B" / "A...B", before the paths (the rule of cmd_take_rev
 * for each). */
static int take_revs(dv_rev **a, dv_rev **b, int *used, cmd_context *ctx)
{
    *a = *b = NULL;
    *used = 0;
    if (ctx->n_args && ctx->n_before_dashdash != 0) {
        int range = dv_rev_resolve_range(a, b, ctx->repo, ctx->args[0]);
        if (range < 0)
            return cmd_fail(range);
        if (range) {
            *used = 1;
            return 0;
        }
    }
    if (ctx->n_before_dashdash > 2)
        return cmd_fail(dv_error_set(DV_EUSAGE, "at most two revisions come before '--'"));
    cmd_context first = *ctx;
    if (first.n_before_dashdash == 2)
        first.n_before_dashdash = 1;
    int rc = cmd_take_rev(a, &first);
    if (rc || !*a)
        return rc;
    *used = 1;
    cmd_context rest = *ctx;
    rest.args = ctx->args + 1;
    rest.n_args = ctx->n_args - 1;
    rest.n_before_dashdash = ctx->n_before_dashdash < 0 ? -1 : ctx->n_before_dashdash - 1;
    if ((rc = cmd_take_rev(b, &rest)))
        return rc;
    if (*b)
        *used = 2;
    return 0;
}

int cmd_diff(cmd_context *ctx)
{
    const diff_options *opts = ctx->options;
    diff_printer p = {opts, NULL, DV_BUF_INIT, DV_BUF_INIT, DV_BUF_INIT, 0};
    dv_rev *a = NULL, *b = NULL;
    char **paths = NULL;
    int used = 0, n_paths = 0, rc = 0;
    dv_buf out = DV_BUF_INIT;
    dv_json j;
    dv_diff_summary summary;
    if ((rc = take_revs(&a, &b, &used, ctx)))
        goto done;
    int error = a ? 0 : dv_rev_resolve(&a, ctx->repo, "HEAD");
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    n_paths = ctx->n_args - used;
    if ((rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + used)))
        goto done;
    signal(SIGPIPE, SIG_IGN);
    if (opts->json) {
        dv_json_init(&j, &out);
        dv_json_object_begin(&j);
        dv_json_key(&j, "from");
        dv_json_string(&j, dv_rev_name(a));
        dv_json_key(&j, "to");
        if (b)
            dv_json_string(&j, dv_rev_name(b));
        else
            dv_json_null(&j);
        dv_json_key(&j, "files");
        dv_json_array_begin(&j);
        p.json = &j;
    }
    error = dv_diff(ctx->repo, a, b, (const char *const *)paths, (size_t)n_paths, print_entry, &p,
                    &summary);
    if (error < 0) {
        rc = cmd_fail_at(error, b ? b : a);
        goto done;
    }
    if (opts->json) {
        dv_json_array_end(&j);
        json_summary(&j, &summary);
        dv_json_object_end(&j);
        if ((error = dv_json_finish(&j)) < 0) {
            rc = cmd_fail(error == DV_ENOMEM ? dv_error_set(DV_ENOMEM, "out of memory") : error);
            goto done;
        }
        if (!opts->quiet)
            printf("%s\n", out.ptr);
    } else if (!opts->quiet && !opts->name_status) {
        print_summary(&summary);
    }
    if (fflush(stdout) != 0 && errno != EPIPE) {
        rc = cmd_fail(dv_error_errno("writing the diff"));
        goto done;
    }
    uint64_t changed = summary.added + summary.deleted + summary.modified + summary.renamed;
    rc = (opts->exit_code || opts->quiet) && changed ? DV_EXIT_NO : DV_EXIT_OK;
done:
    cmd_relpaths_free(paths, n_paths);
    dv_rev_free(a);
    dv_rev_free(b);
    dv_buf_release(&out);
    dv_buf_release(&p.quoted);
    dv_buf_release(&p.quoted_old);
    dv_buf_release(&p.sizes);
    return rc;
}
