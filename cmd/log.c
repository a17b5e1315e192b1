/* dv log: the commits where tracked data changed, newest first, with what changed by how much. */
#include "cmd/common.h"
#include "cmd/pager.h"

#include "core/base/error.h"
#include "core/base/json.h"
#include "core/ops/log.h"
#include "core/repo/rev.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Output is written in pieces this large (or line by line to a terminal). */
#define LOG_OUTPUT_BYTES 65536

typedef struct log_options {
    const char *count_text;
    int json, follow, no_pager;
} log_options;

static const cmd_option log_option_table[] = {
    CMD_VALUE(log_options, count_text, "max-count", 'n', "<count>", "show at most count commits",
              CMD_COMPLETE_NONE),
    CMD_FLAG(log_options, follow, "follow", 0,
             "one path: go on under the name its pointer file had\nbefore it was moved"),
    CMD_FLAG(log_options, json, "json", 0,
             "one JSON object a line: commit, date, subject, path,\nchange, files and bytes "
             "before and after"),
    CMD_FLAG(log_options, no_pager, "no-pager", 0, "do not send the output through a pager"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_log_syntax = {
    "usage: dv log [-n <count>] [--follow] [--json] [--no-pager] [<rev>] [--] [<path>...]\n"
    "\n"
    "Show the commits where tracked data changed, newest first, from <rev> (a branch,\n"
    "tag, commit, HEAD~3, ...; default HEAD): one line per commit and data path, with\n"
    "the change in files and bytes and the commit's subject. Without paths, every\n"
    "tracked path; a path may be tracked data or a directory above it. Put '--' before\n"
    "a path that is no longer in the work tree. On a terminal the output goes through\n"
    "a pager, as dv diff's does.\n",
    log_option_table,
    sizeof(log_options),
    0,
    -1,
    NULL,
    CMD_COMPLETE_TRACKED,
};

typedef struct log_printer {
    const log_options *opts;
    int to_terminal;
    int pipe_closed;
    dv_buf out, line, quoted;
} log_printer;

/* Write what is buffered. The reader going away (dv log | head) ends the output: DV_EIO with
 * pipe_closed set, for the caller to take as done. */
static int flush_output(log_printer *p)
{
    const char *data = p->out.ptr;
    size_t len = p->out.len;
    while (len) {
        ssize_t n = write(STDOUT_FILENO, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EPIPE) {
            p->pipe_closed = 1;
            return DV_EIO;
        }
        if (n < 0)
            return dv_error_errno("writing the log to standard output");
        data += n;
        len -= (size_t)n;
    }
    dv_buf_truncate(&p->out, 0);
    return 0;
}

/* 1,234,567 */
static void put_thousands(dv_buf *out, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            dv_buf_putc(out, ',');
        dv_buf_putc(out, digits[i]);
    }
}

/* The files a pointer stands for: those below a directory, one for a file or a link. */
static uint64_t files_of(const dv_pointer *p)
{
    return !p ? 0 : p->kind == DV_KIND_DIR ? p->files : 1;
}

static uint64_t bytes_of(const dv_pointer *p)
{
    return p ? p->size : 0;
}

/* "+1,204 files", "-1 file", "0 files" */
static void put_files_delta(dv_buf *out, uint64_t before, uint64_t after)
{
    uint64_t d = after > before ? after - before : before - after;
    if (d)
        dv_buf_putc(out, after > before ? '+' : '-');
    put_thousands(out, d);
    dv_buf_puts(out, d == 1 ? " file" : " files");
}

/* "+3.1 GiB", "-17 B", "0 B" */
static void put_bytes_delta(dv_buf *out, uint64_t before, uint64_t after)
{
    uint64_t d = after > before ? after - before : before - after;
    if (d)
        dv_buf_putc(out, after > before ? '+' : '-');
    dv_buf_puts(out, cmd_human_bytes(d));
}

/* The commit's time in its committer's zone: "2026-11-20" or, iso, "2026-11-20T14:03:11+01:00". */
static void put_date(dv_buf *out, const dv_log_commit *c, int iso)
{
    struct tm tm;
    int64_t offset = c->offset_minutes;
    int64_t local = 0;
    time_t t;
    if (offset < -24 * 60 || offset > 24 * 60 ||
        __builtin_add_overflow(c->time, offset * 60, &local) ||
        __builtin_add_overflow(local, 0, &t) || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
        tm.tm_year + 1900 < 0) {
        dv_buf_puts(out, iso ? "0000-00-00T00:00:00+00:00" : "0000-00-00");
        return;
    }
    dv_buf_printf(out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    if (iso) {
        int64_t a = offset < 0 ? -offset : offset;
        dv_buf_printf(out, "T%02d:%02d:%02d%c%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                      offset < 0 ? '-' : '+', (int)(a / 60), (int)(a % 60));
    }
}

/* A data path as shown: quoted when it needs to be, a directory with a trailing '/'. */
static void put_path(log_printer *p, const char *path, const dv_pointer *pointer)
{
    dv_buf_truncate(&p->line, 0);
    dv_buf_puts(&p->line, path);
    if (pointer && pointer->kind == DV_KIND_DIR)
        dv_buf_putc(&p->line, '/');
    dv_buf_puts(&p->out, cmd_quote_path(&p->quoted, p->line.ptr));
}

static const char *change_name(dv_log_change_kind kind)
{
    switch (kind) {
    case DV_LOG_ADDED:
        return "added";
    case DV_LOG_DELETED:
        return "deleted";
    case DV_LOG_RENAMED:
        return "renamed";
    default:
        return "modified";
    }
}

static void put_human(log_printer *p, const dv_log_commit *c, const dv_log_change *ch)
{
    const dv_pointer *shown = ch->after ? ch->after : ch->before;
    dv_buf_printf(&p->out, "%s ", c->short_id);
    put_date(&p->out, c, 0);
    dv_buf_putc(&p->out, ' ');
    put_path(p, ch->path, shown);
    if (ch->kind == DV_LOG_ADDED || ch->kind == DV_LOG_DELETED) {
        dv_buf_printf(&p->out, "  %s", change_name(ch->kind));
    } else if (ch->kind == DV_LOG_RENAMED) {
        dv_buf_puts(&p->out, "  renamed from ");
        put_path(p, ch->old_path, ch->before);
    }
    int dirs = (ch->before && ch->before->kind == DV_KIND_DIR) ||
               (ch->after && ch->after->kind == DV_KIND_DIR);
    if (dirs) {
        dv_buf_puts(&p->out, "  ");
        put_files_delta(&p->out, files_of(ch->before), files_of(ch->after));
    }
    dv_buf_puts(&p->out, "  ");
    put_bytes_delta(&p->out, bytes_of(ch->before), bytes_of(ch->after));
    dv_buf_puts(&p->out, "  ");
    /* The subject as one line that cannot move the terminal's cursor. */
    for (const unsigned char *s = (const unsigned char *)c->subject; *s; s++)
        dv_buf_putc(&p->out, *s == '\t' ? ' ' : (*s < 0x20 || *s == 0x7f) ? '?' : (char)*s);
    dv_buf_putc(&p->out, '\n');
}

static int put_json(log_printer *p, const dv_log_commit *c, const dv_log_change *ch)
{
    const dv_pointer *shown = ch->after ? ch->after : ch->before;
    char hex[GIT_OID_HEXSZ + 1];
    dv_json j;
    dv_json_init(&j, &p->out);
    dv_json_object_begin(&j);
    dv_json_key(&j, "commit");
    dv_json_string(&j, git_oid_tostr(hex, sizeof(hex), c->id));
    dv_json_key(&j, "parent");
    dv_json_string(&j, c->parent ? git_oid_tostr(hex, sizeof(hex), c->parent) : "");
    dv_json_key(&j, "date");
    dv_buf_truncate(&p->line, 0);
    put_date(&p->line, c, 1);
    dv_json_string(&j, p->line.ptr);
    dv_json_key(&j, "subject");
    dv_json_string(&j, c->subject);
    dv_json_key(&j, "path");
    dv_json_string(&j, ch->path);
    if (ch->old_path) {
        dv_json_key(&j, "old_path");
        dv_json_string(&j, ch->old_path);
    }
    dv_json_key(&j, "change");
    dv_json_string(&j, change_name(ch->kind));
    dv_json_key(&j, "kind");
    dv_json_string(&j, dv_pointer_kind_name(shown->kind));
    dv_json_key(&j, "files_before");
    dv_json_uint(&j, files_of(ch->before));
    dv_json_key(&j, "files_after");
    dv_json_uint(&j, files_of(ch->after));
    dv_json_key(&j, "bytes_before");
    dv_json_uint(&j, bytes_of(ch->before));
    dv_json_key(&j, "bytes_after");
    dv_json_uint(&j, bytes_of(ch->after));
    dv_json_key(&j, "id_before");
    dv_json_string(&j, ch->before ? dv_oid_hex(&ch->before->oid) : "");
    dv_json_key(&j, "id_after");
    dv_json_string(&j, ch->after ? dv_oid_hex(&ch->after->oid) : "");
    dv_json_object_end(&j);
    int error = dv_json_finish(&j);
    if (error < 0)
        return error == DV_ENOMEM ? dv_error_set(DV_ENOMEM, "out of memory") : error;
    return dv_buf_putc(&p->out, '\n');
}

static int print_change(void *ctx, const dv_log_commit *commit, const dv_log_change *change)
{
    log_printer *p = ctx;
    int error = 0;
    if (p->opts->json)
        error = put_json(p, commit, change);
    else
        put_human(p, commit, change);
    if (error < 0)
        return error;
    if (dv_buf_oom(&p->out) || dv_buf_oom(&p->line) || dv_buf_oom(&p->quoted))
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (p->to_terminal || p->out.len >= LOG_OUTPUT_BYTES)
        return flush_output(p);
    return 0;
}

/* -n: a count of commits, 0 or more. */
static int parse_count(long long *out, const char *text)
{
    char *end = NULL;
    errno = 0;
    if (text[0] < '0' || text[0] > '9')
        goto bad;
    long long v = strtoll(text, &end, 10);
    if (errno || *end)
        goto bad;
    *out = v;
    return 0;
bad:
    return dv_error_set(DV_EUSAGE, "-n wants a number of commits, not '%s'", text);
}

int cmd_log(cmd_context *ctx)
{
    const log_options *opts = ctx->options;
    log_printer printer = {opts, isatty(STDOUT_FILENO), 0, DV_BUF_INIT, DV_BUF_INIT, DV_BUF_INIT};
    dv_log_options log_opts = {-1, opts->follow};
    dv_log_result result;
    dv_rev *rev = NULL;
    char **paths = NULL;
    int rc = 0, n_paths = 0;
    int error = 0;
    memset(&result, 0, sizeof(result));
    if (opts->count_text && (error = parse_count(&log_opts.max_commits, opts->count_text)) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if ((rc = cmd_take_rev(&rev, ctx)))
        goto done;
    int first = rev ? 1 : 0;
    n_paths = ctx->n_args - first;
    if (opts->follow && n_paths != 1) {
        rc = cmd_usage_error(ctx->command, "--follow takes exactly one path");
        goto done;
    }
    if ((rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + first)))
        goto done;
    if (!rev && (error = dv_rev_resolve(&rev, ctx->repo, "HEAD")) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    /* A reader that goes away is an answer, not a failure: see EPIPE instead of dying. */
    signal(SIGPIPE, SIG_IGN);
    if (cmd_pager_start(!opts->no_pager, ctx->repo->git))
        printer.to_terminal = 1; /* each line as it is found, as on the terminal itself */
    error = dv_log(&result, ctx->repo, rev, (const char *const *)paths, (size_t)n_paths, &log_opts,
                   print_change, &printer);
    if (!printer.pipe_closed) {
        int flushed = flush_output(&printer);
        if (!error)
            error = flushed;
    }
    if (printer.pipe_closed)
        goto done;
    if (result.n_boundaries) {
        char commit[13], parent[13];
        git_oid_tostr(commit, sizeof(commit), &result.boundary);
        git_oid_tostr(parent, sizeof(parent), &result.boundary_parent);
        fprintf(stderr,
                "dv: note: the history ends at %s: its parent %s is not in this repository (a "
                "shallow clone?), so what %s changed is not shown",
                commit, parent, commit);
        if (result.n_boundaries > 1)
            fprintf(stderr, " (and %zu more such commits)", result.n_boundaries - 1);
        fputc('\n', stderr);
    }
    if (error < 0)
        rc = cmd_fail(error);
done:
    cmd_relpaths_free(paths, n_paths);
    dv_rev_free(rev);
    dv_buf_release(&printer.out);
    dv_buf_release(&printer.line);
    dv_buf_release(&printer.quoted);
    return rc;
}
