/* dv status: which tracked paths differ from their pointer files. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/base/json.h"
#include "core/ops/presence.h"
#include "core/ops/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct status_options {
    int json, quiet, remote;
    const char *remote_name;
} status_options;

static const cmd_option status_option_table[] = {
    CMD_FLAG(status_options, json, "json", 0, "one JSON object on stdout"),
    CMD_FLAG(status_options, quiet, "quiet", 'q', "print nothing; the exit status is the answer"),
    CMD_FLAG(status_options, remote, "remote", 'c',
             "also say how much of each path's content the remote holds"),
    CMD_VALUE(status_options, remote_name, "remote-name", 'r', "<name>",
              "the remote for --remote (default: core.remote, or the only one)",
              CMD_COMPLETE_REMOTES),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_status_syntax = {
    "usage: dv status [--json] [-q] [-c [-r <remote>]] [<path>...]\n"
    "\n"
    "For each tracked path: clean, modified (with the files added, changed and\n"
    "removed), missing from the work tree, or not in the store; content that only\n"
    "the default remote holds (after dv drop, by its cached indexes) is on that\n"
    "remote only, which counts as clean. A path inside a tracked directory is\n"
    "compared with what the directory records there. With -c, also\n"
    "whether the remote holds its content: all, partly (with the bytes missing) or\n"
    "none, from the remote's pack indexes (cached) and one listing.\n"
    "Exit status 0 when everything is clean (and with -c, all on the remote), 1 when\n"
    "not, 5 when a pointer file cannot be read or a path cannot be compared (the\n"
    "others are still shown).\n",
    status_option_table,
    sizeof(status_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

/* What the remote holds of each path, in the report's order (both are index order). */
typedef struct remote_view {
    const char *name; /* the remote's, NULL without --remote */
    dv_presence *paths;
    size_t n, alloc;
    int all; /* every path wholly on the remote */
} remote_view;

static int note_presence(void *ctx, const dv_presence *p)
{
    remote_view *v = ctx;
    if (v->n == v->alloc) {
        size_t alloc = v->alloc ? v->alloc * 2 : 16;
        dv_presence *paths = realloc(v->paths, alloc * sizeof(*paths));
        if (!paths)
            return dv_error_set(DV_ENOMEM, "out of memory");
        v->paths = paths;
        v->alloc = alloc;
    }
    dv_presence *copy = &v->paths[v->n];
    *copy = *p;
    copy->path = strdup(p->path);
    copy->message = p->message ? strdup(p->message) : NULL;
    if (!copy->path || (p->message && !copy->message))
        return dv_error_set(DV_ENOMEM, "out of memory");
    v->n++;
    if (p->state != DV_PRESENCE_ALL)
        v->all = 0;
    return 0;
}

static void remote_view_free(remote_view *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free((char *)v->paths[i].path);
        free((char *)v->paths[i].message);
    }
    free(v->paths);
}

static const dv_presence *presence_of(const remote_view *v, const char *path)
{
    for (size_t i = 0; i < v->n; i++)
        if (!strcmp(v->paths[i].path, path))
            return &v->paths[i];
    return NULL;
}

static int load_remote_view(remote_view *v, cmd_context *ctx)
{
    const status_options *opts = ctx->options;
    cmd_transfer_args args = {0};
    dv_remote *remote = NULL;
    int jobs;
    args.remote_name = opts->remote_name;
    int rc = cmd_transfer_open(&remote, &jobs, ctx->repo, &args);
    if (rc) {
        dv_remote_free(remote);
        return rc;
    }
    v->all = 1;
    int error = dv_presence_each(ctx->repo, remote, (const char *const *)ctx->paths,
                                 (size_t)ctx->n_args, note_presence, v);
    if (!error && !(v->name = strdup(remote->name)))
        error = dv_error_set(DV_ENOMEM, "out of memory");
    dv_remote_free(remote);
    return error < 0 ? cmd_fail(error) : 0;
}

static int print_json(const dv_status_report *r, const remote_view *v, int clean)
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
        if (p->remote) {
            dv_json_key(&j, "content_on");
            dv_json_string(&j, p->remote);
        }
        const dv_presence *on = v->name ? presence_of(v, p->path) : NULL;
        if (on) {
            dv_json_key(&j, "remote");
            dv_json_object_begin(&j);
            dv_json_key(&j, "name");
            dv_json_string(&j, v->name);
            dv_json_key(&j, "state");
            dv_json_string(&j, dv_presence_state_name(on->state));
            dv_json_key(&j, "bytes");
            dv_json_uint(&j, on->bytes);
            dv_json_key(&j, "missing_bytes");
            dv_json_uint(&j, on->missing_bytes);
            dv_json_object_end(&j);
        }
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

static void print_remote(const remote_view *v, dv_repo *repo)
{
    dv_buf shown = DV_BUF_INIT;
    printf("on %s:\n", v->name);
    for (size_t i = 0; i < v->n; i++) {
        const dv_presence *p = &v->paths[i];
        cmd_show_path(&shown, repo, p->path);
        if (p->state == DV_PRESENCE_PARTLY)
            printf("    partly   %s  (%s of ", shown.ptr, cmd_human_bytes(p->missing_bytes));
        else
            printf("    %-8s %s", dv_presence_state_name(p->state), shown.ptr);
        if (p->state == DV_PRESENCE_PARTLY)
            printf("%s missing: dv push)\n", cmd_human_bytes(p->bytes));
        else if (p->state == DV_PRESENCE_NONE)
            printf("  (dv push)\n");
        else if (p->state == DV_PRESENCE_UNKNOWN)
            printf("  (%s)\n", p->message);
        else
            printf("\n");
    }
    dv_buf_release(&shown);
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
            if (!p->in_store && p->remote)
                printf("missing:       %s  (run dv checkout, which fetches its content from %s)\n",
                       shown.ptr, p->remote);
            else
                printf("missing:       %s  (run dv checkout%s)\n", shown.ptr,
                       p->in_store ? "" : "; its content is not in the store either: dv pull");
            break;
        case DV_STATE_ON_REMOTE:
            printf("on %s only:  %s  (not in the store; dv checkout fetches it when needed)\n",
                   p->remote, shown.ptr);
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
    remote_view view = {0};
    int rc;
    int error = dv_status(&report, repo, (const char *const *)ctx->paths, (size_t)ctx->n_args);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    int clean = 1, bad_pointers = 0;
    for (size_t i = 0; i < report.n; i++) {
        /* content dv drop left on the remote only is no difference from the pointer */
        if (report.paths[i].state != DV_STATE_CLEAN && report.paths[i].state != DV_STATE_ON_REMOTE)
            clean = 0;
        if (report.paths[i].state == DV_STATE_BAD_POINTER ||
            report.paths[i].state == DV_STATE_ERROR)
            bad_pointers++;
    }
    if (opts->remote && (rc = load_remote_view(&view, ctx)))
        goto done;
    if (opts->json && (error = print_json(&report, &view, clean)) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!opts->json && !opts->quiet) {
        print_human(&report, repo, clean);
        if (view.name)
            print_remote(&view, repo);
    }
    if (view.name && !view.all)
        clean = 0;
    /* An unreadable pointer file, or a path that could not be compared, is an error, not a
     * difference; the other paths were still reported. */
    rc = bad_pointers ? DV_EXIT_FAILURE : clean ? DV_EXIT_OK : DV_EXIT_NO;
done:
    remote_view_free(&view);
    free((char *)view.name);
    dv_status_report_free(&report);
    return rc;
}
