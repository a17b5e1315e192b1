/* dv status: which tracked paths differ from their pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/base/json.h"
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
    /* Built whole, then checked once: a failure sticks to the writer. */
    dv_buf out = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &out);
    dv_json_object_begin(&j);
    dv_json_key(&j, "clean");
    dv_json_bool(&j, clean);
    dv_json_key(&j, "paths");
    dv_json_array_begin(&j);
    for (size_t i = 0; i < r->n; i++) {
        const dv_status_path *p = &r->paths[i];
        dv_json_object_begin(&j);
        dv_json_key(&j, "path");
        dv_json_string(&j, p->path);
        dv_json_key(&j, "pointer");
        dv_json_string(&j, p->pointer);
        dv_json_key(&j, "state");
        dv_json_string(&j, dv_status_state_name(p->state));
        dv_json_key(&j, "in_store");
        dv_json_bool(&j, p->in_store);
        if (p->message) {
            dv_json_key(&j, "message");
            dv_json_string(&j, p->message);
        }
        dv_json_key(&j, "changes");
        dv_json_array_begin(&j);
        for (size_t k = 0; k < p->n_changes; k++) {
            dv_json_object_begin(&j);
            dv_json_key(&j, "path");
            dv_json_string(&j, p->changes[k].path);
            dv_json_key(&j, "change");
            dv_json_string(&j, dv_status_change_name(p->changes[k].change));
            dv_json_object_end(&j);
        }
        dv_json_array_end(&j);
        dv_json_object_end(&j);
    }
    dv_json_array_end(&j);
    dv_json_object_end(&j);
    int error = dv_json_finish(&j);
    if (error == DV_ENOMEM)
        error = dv_error_set(DV_ENOMEM, "out of memory building the JSON report");
    else if (!error)
        printf("%s\n", out.ptr);
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
