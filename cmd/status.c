/* dv status: which tracked paths differ from their pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct status_options {
    int json, quiet;
} status_options;

static const cmd_option status_option_table[] = {
    CMD_FLAG(status_options, json, "json", 0, "one JSON object on stdout"),
    CMD_FLAG(status_options, quiet, "quiet", 'q', "print nothing; the exit status is the answer"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_status_syntax = {
    "usage: dv status [--json] [-q] [<path>...]\n"
    "\n"
    "For each tracked path: clean, modified (with the files added, changed and\n"
    "removed), missing from the work tree, or not in the store.\n"
    "Exit status 0 when everything is clean, 1 when not, 5 when a pointer file\n"
    "cannot be read or a path cannot be compared (the others are still shown).\n",
    status_option_table,
    sizeof(status_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

static int print_json(const dv_status_report *r, int clean)
{
    /* Built whole, then checked once: a failed allocation sticks to the buffer. */
    dv_buf out = DV_BUF_INIT;
    dv_buf_printf(&out, "{\"clean\": %s, \"paths\": [", clean ? "true" : "false");
    for (size_t i = 0; i < r->n; i++) {
        const dv_status_path *p = &r->paths[i];
        dv_buf_puts(&out, i ? ", {\"path\": " : "{\"path\": ");
        cmd_json_string(&out, p->path);
        dv_buf_puts(&out, ", \"pointer\": ");
        cmd_json_string(&out, p->pointer);
        dv_buf_printf(&out, ", \"state\": \"%s\", \"in_store\": %s", dv_status_state_name(p->state),
                      p->in_store ? "true" : "false");
        if (p->message) {
            dv_buf_puts(&out, ", \"message\": ");
            cmd_json_string(&out, p->message);
        }
        dv_buf_puts(&out, ", \"changes\": [");
        for (size_t j = 0; j < p->n_changes; j++) {
            dv_buf_puts(&out, j ? ", {\"path\": " : "{\"path\": ");
            cmd_json_string(&out, p->changes[j].path);
            dv_buf_printf(&out, ", \"change\": \"%s\"}",
                          dv_status_change_name(p->changes[j].change));
        }
        dv_buf_puts(&out, "]}");
    }
    dv_buf_puts(&out, "]}\n");
    int error = 0;
    if (dv_buf_oom(&out))
        error = dv_error_set(DV_ENOMEM, "out of memory building the JSON report");
    else
        fputs(out.ptr, stdout);
    dv_buf_release(&out);
    return error;
}

static void print_human(const dv_status_report *r, dv_repo *repo, int clean)
{
    dv_buf shown = DV_BUF_INIT;
    static const char letters[] = " AMD";
    for (size_t i = 0; i < r->n; i++) {
        const dv_status_path *p = &r->paths[i];
        if (p->state == DV_STATE_CLEAN)
            continue;
        cmd_show_path(&shown, repo, p->path);
        switch (p->state) {
        case DV_STATE_MODIFIED:
            printf("modified:      %s%s\n", shown.ptr,
                   p->in_store ? "" : "  (and its recorded content is not in the store)");
            for (size_t j = 0; j < p->n_changes; j++) {
                cmd_show_path(&shown, repo, p->changes[j].path);
                int is_dir = p->changes[j].path[strlen(p->changes[j].path) - 1] == '/';
                printf("    %c %s%s\n", letters[p->changes[j].change], shown.ptr,
                       is_dir && shown.ptr[shown.len - 1] != '/' ? "/" : "");
            }
            break;
        case DV_STATE_MISSING:
            printf("missing:       %s  (run dv checkout%s)\n", shown.ptr,
                   p->in_store ? "" : "; its content is not in the store either: dv pull");
            break;
        case DV_STATE_NOT_IN_STORE:
            printf("not in store:  %s  (run dv pull, or dv add %s to store it again)\n", shown.ptr,
                   shown.ptr);
            break;
        case DV_STATE_ERROR:
            fprintf(stderr, "dv: error: %s\n", p->message ? p->message : p->path);
            break;
        default:
            fprintf(stderr,
                    "dv: error: %s (fix or restore the pointer file, e.g. git checkout -- %s)\n",
                    p->message ? p->message : p->pointer, p->pointer);
        }
    }
    if (clean)
        printf("%zu tracked path%s, all clean\n", r->n, r->n == 1 ? "" : "s");
    dv_buf_release(&shown);
}

int cmd_status(cmd_context *ctx)
{
    const status_options *opts = ctx->options;
    dv_repo *repo = ctx->repo;
    dv_status_report report = {0};
    int rc;
    int error = dv_status(&report, repo, (const char *const *)ctx->paths, (size_t)ctx->n_args);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    int clean = 1, bad_pointers = 0;
    for (size_t i = 0; i < report.n; i++) {
        if (report.paths[i].state != DV_STATE_CLEAN)
            clean = 0;
        if (report.paths[i].state == DV_STATE_BAD_POINTER ||
            report.paths[i].state == DV_STATE_ERROR)
            bad_pointers++;
    }
    if (opts->json && (error = print_json(&report, clean)) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!opts->json && !opts->quiet)
        print_human(&report, repo, clean);
    /* An unreadable pointer file, or a path that could not be compared, is an error, not a
     * difference; the other paths were still reported. */
    rc = bad_pointers ? DV_EXIT_FAILURE : clean ? DV_EXIT_OK : DV_EXIT_NO;
done:
    dv_status_report_free(&report);
    return rc;
}
