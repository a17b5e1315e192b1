/* dv diff: what changed in tracked data between two revisions, or a revision and the work tree
 * (or its pointer files). */
#include "cmd/common.h"
#include "cmd/diff_content.h"
#include "cmd/pager.h"

#include "core/base/error.h"
#include "core/base/json.h"
#include "core/object/pointer.h"
#include "core/ops/diff.h"
#include "core/ops/ls.h"
#include "core/ops/ondemand.h"
#include "core/repo/rev.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct diff_options {
    int name_status, stat, json, md, exit_code, quiet, cached, find_renames, find_copies;
    const char *key, *rows, *tolerance, *drift_threshold, *text_limit, *rename_threshold;
    const char *textconv, *remote_name;
    int no_header, text, offline;
    const char *color; /* --color[=<when>] */
    int no_color, no_pager;
} diff_options;

/* Files of a Markdown report beyond this many are folded into <details>. */
#define MD_FOLD_FILES 20u
#define DEFAULT_EXAMPLE_ROWS 5
#define DEFAULT_DRIFT_THRESHOLD 0.2
#define DEFAULT_TEXT_LIMIT_BYTES (1u << 20)
#define DEFAULT_RENAME_THRESHOLD 50

static const cmd_option diff_option_table[] = {
    CMD_FLAG(diff_options, name_status, "name-status", 0,
             "one line a file: A, D, M or R, then its path(s)"),
    CMD_FLAG(diff_options, stat, "stat", 0, "one line a file with its sizes, then a summary"),
    CMD_FLAG(diff_options, json, "json", 0, "one JSON object: the files and a summary"),
    CMD_FLAG(diff_options, md, "md", 0, "a Markdown report, for a pull request comment"),
    CMD_VALUE(diff_options, key, "key", 0, "<col>[,<col>...]",
              "match table rows by these columns (default: by whole rows)", CMD_COMPLETE_NONE),
    CMD_VALUE(diff_options, rows, "rows", 0, "<n>",
              "example rows of each kind a table shows (default 5)", CMD_COMPLETE_NONE),
    CMD_VALUE(diff_options, tolerance, "tolerance", 0, "<x>",
              "numbers in tables within x of each other are equal", CMD_COMPLETE_NONE),
    CMD_FLAG(diff_options, no_header, "no-header", 0,
             "the first row of a CSV or TSV is data; columns are 1, 2, ..."),
    CMD_VALUE(diff_options, drift_threshold, "drift-threshold", 0, "<psi>",
              "flag a column whose PSI passes this (default 0.2)", CMD_COMPLETE_NONE),
    CMD_FLAG(diff_options, text, "text", 0, "compare every modified file as text"),
    CMD_VALUE(diff_options, text_limit, "text-limit", 0, "<bytes>",
              "show text diffs of files up to this size (default 1048576)", CMD_COMPLETE_NONE),
    CMD_FLAG(diff_options, find_renames, "find-renames", 'M',
             "a deleted and an added file sharing most chunks are a rename"),
    CMD_VALUE(diff_options, rename_threshold, "rename-threshold", 0, "<percent>",
              "share this much of the larger file for -M (default 50)", CMD_COMPLETE_NONE),
    CMD_FLAG(diff_options, find_copies, "find-copies", 'C',
             "look for copies' sources in the whole old side, not only changed files"),
    CMD_FLAG(diff_options, cached, "cached", 0,
             "compare with the pointer files, not the work tree's data"),
    CMD_VALUE(diff_options, remote_name, "remote", 'r', "<name>",
              "fetch what the store lacks from this remote (default: core.remote)",
              CMD_COMPLETE_REMOTES),
    CMD_FLAG(diff_options, offline, "offline", 0,
             "fetch nothing: compare what the local store holds"),
    CMD_FLAG(diff_options, exit_code, "exit-code", 0, "exit 1 when there are differences"),
    CMD_FLAG(diff_options, quiet, "quiet", 'q', "print nothing; implies --exit-code"),
    CMD_VALUE(diff_options, textconv, "textconv", 0, "<pointer-file>",
              "print what a pointer file holds, one line a file (for git's textconv)",
              CMD_COMPLETE_FILES),
    CMD_VALUE_OPTIONAL(diff_options, color, "color", "<when>", "always",
                       "colour: auto (on a terminal, the default), always or never"),
    CMD_FLAG(diff_options, no_color, "no-color", 0, "no colour (--color=never)"),
    CMD_FLAG(diff_options, no_pager, "no-pager", 0, "do not send the output through a pager"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_diff_syntax = {
    "usage: dv diff [--name-status | --stat | --json | --md] [--cached] [--exit-code] [-q]\n"
    "               [--color[=<when>] | --no-color] [--no-pager] [-r <remote> | --offline]\n"
    "               [-M] [--rename-threshold <percent>] [-C]\n"
    "               [--key <col>,...] [--rows <n>] [--tolerance <x>] [--no-header]\n"
    "               [--drift-threshold <psi>] [--text] [--text-limit <bytes>]\n"
    "               [<rev-a> [<rev-b>] | <rev-a>..<rev-b> | <rev-a>...<rev-b>] [--] [<path>...]\n"
    "\n"
    "Show what changed in tracked data, file by file, inside tracked directories too:\n"
    "added, deleted, modified, renamed (the same content at a new path; with -M, mostly\n"
    "the same chunks) or copied (content a changed file had; with -C, any file of the\n"
    "old side), with the sizes before and after. Two revisions compare the first with the second; "
    "one, it\n"
    "with the work tree's data; none, HEAD with the work tree's data (--cached: with\n"
    "the pointer files instead). A...B compares the merge base of A and B with B. A\n"
    "subtree the same on both sides is not entered.\n"
    "\n"
    "Inside a modified file: for CSV, TSV and JSON Lines, the rows added, removed and\n"
    "changed, schema changes, per-column statistics and drift; for Parquet (*.parquet),\n"
    "rows, row groups, schema changes and column nulls, min and max from the footers;\n"
    "for text, a unified diff. Exit 6 when some content could not be compared (the\n"
    "file-level diff is complete).\n"
    "\n"
    "Trees, manifests and the compared files' chunks that the local store lacks are\n"
    "fetched from the remote (the default one, or -r), only those, into the store's\n"
    "partial/ beside it; --offline fetches nothing.\n"
    "\n"
    "On a terminal the output goes through a pager (DV_PAGER, git's core.pager, PAGER,\n"
    "else less) and is coloured (not with NO_COLOR set, nor JSON or Markdown).\n",
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
    case DV_DIFF_COPIED:
        return "copied";
    default:
        return "renamed";
    }
}

/* The status words of the human form are padded to this many columns. */
#define STATUS_WORD_WIDTH 10

/* The colour of a status, as git's: green added, red deleted, yellow for the rest. */
static const char *status_color(int status)
{
    switch (status) {
    case DV_DIFF_ADDED:
        return DIFF_COLOR_GREEN;
    case DV_DIFF_DELETED:
        return DIFF_COLOR_RED;
    default:
        return DIFF_COLOR_YELLOW;
    }
}

typedef struct diff_printer {
    const diff_options *opts;
    dv_json *json; /* with --json */
    dv_buf quoted, quoted_old, sizes;
    int pipe_closed;
    /* looking inside modified files */
    int content; /* the form shows content */
    diff_content_options content_opts;
    dv_odb *odb;
    const char *old_rev, *new_rev;
    int content_failed;
    /* with --md: the files' table and the details, printed after the summary */
    dv_buf md_files, md_details;
    uint64_t md_n_files;
    /* the bytes of the new versions in chunks their old versions lack, where known */
    uint64_t entry_new_bytes;
    int entry_new_known;
    uint64_t new_bytes_unique, new_bytes_of_known;
    int new_bytes_unknown;
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

static int print_file(diff_printer *p, const dv_diff_entry *e, const diff_content *c);

/* One file of a Markdown report: its row in the files' table, its section when it has
 * content to show. */
static void md_entry(diff_printer *p, const dv_diff_entry *e, const diff_content *c)
{
    dv_buf *f = &p->md_files;
    dv_buf_printf(f, "| `%s` | %s", e->path, status_name(e->status));
    if (e->old_path)
        dv_buf_printf(f, " from `%s`", e->old_path);
    if (e->old_path && e->similarity < 100)
        dv_buf_printf(f, " (%u%% similar)", e->similarity);
    dv_buf_puts(f, " | ");
    if (e->status == DV_DIFF_MODIFIED || (e->status == DV_DIFF_RENAMED && e->similarity < 100))
        dv_buf_printf(f, "%s → ", cmd_human_bytes(e->old_side.size));
    dv_buf_printf(
        f, "%s | ",
        cmd_human_bytes(e->status == DV_DIFF_DELETED ? e->old_side.size : e->new_side.size));
    diff_content_md_brief(f, c);
    dv_buf_puts(f, " |\n");
    p->md_n_files++;
    if (c->kind == DIFF_CONTENT_NONE || c->kind == DIFF_CONTENT_BINARY ||
        c->kind == DIFF_CONTENT_TOO_LARGE)
        return;
    dv_buf_printf(&p->md_details, "#### `%s`\n\n", e->path);
    diff_content_md(&p->md_details, c, &p->content_opts);
}

/* Whether stdout is a pipe whose reader has gone (a pager that quit, head): errno of the
 * failed write may be long gone, the pipe's state is not. */
static int reader_gone(void)
{
    struct pollfd out = {STDOUT_FILENO, 0, 0};
    return poll(&out, 1, 0) == 1 && (out.revents & POLLERR);
}

static int print_entry(void *ctx, const dv_diff_entry *e)
{
    diff_printer *p = ctx;
    diff_content c;
    int error = 0;
    if (p->opts->quiet || p->pipe_closed)
        return 0;
    if (ferror(stdout) && reader_gone()) {
        /* the reader (a pager, head) has gone: the counts go on, the output stops */
        p->pipe_closed = 1;
        return 0;
    }
    if ((error = diff_content_read(&c, p->content ? p->odb : NULL, p->content ? e : NULL,
                                   p->old_rev, p->new_rev, &p->content_opts)) < 0)
        return error;
    p->entry_new_known = 0;
    if (p->content && e->status != DV_DIFF_DELETED && e->new_side.kind == DV_KIND_FILE) {
        /* a work-tree file not added yet has no manifest to count from */
        error = e->new_side.in_worktree && !dv_odb_has(p->odb, &e->new_side.id)
                    ? DV_ENOTFOUND
                    : dv_diff_new_bytes(&p->entry_new_bytes, p->odb, e);
        if (error == DV_ENOMEM) {
            diff_content_release(&c);
            return error;
        }
        p->entry_new_known = !error;
        p->new_bytes_unknown |= error < 0;
        if (!error) {
            p->new_bytes_unique += p->entry_new_bytes;
            p->new_bytes_of_known += e->new_side.size;
        }
        error = 0;
    }
    if (c.kind == DIFF_CONTENT_ERROR) {
        p->content_failed = 1;
        fflush(stdout);
        fprintf(stderr, "dv: error: %s\n", c.message);
    }
    error = print_file(p, e, &c);
    diff_content_release(&c);
    return error;
}

static int print_file(diff_printer *p, const dv_diff_entry *e, const diff_content *c)
{
    if (p->opts->md) {
        md_entry(p, e, c);
        return 0;
    }
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
        if (e->old_path) {
            dv_json_key(j, "similarity");
            dv_json_uint(j, e->similarity);
        }
        json_side(j, "old", &e->old_side);
        json_side(j, "new", &e->new_side);
        if (p->entry_new_known) {
            dv_json_key(j, "new_bytes_unique");
            dv_json_uint(j, p->entry_new_bytes);
        }
        diff_content_json(j, c, &p->content_opts);
        dv_json_object_end(j);
        return 0;
    }
    const char *path = cmd_quote_path(&p->quoted, e->path);
    const char *old = e->old_path ? cmd_quote_path(&p->quoted_old, e->old_path) : NULL;
    int color = p->content_opts.color;
    const char *on = color ? status_color(e->status) : "", *off = color ? DIFF_COLOR_RESET : "";
    if (p->opts->name_status) {
        if (old)
            printf("%s%c%03u%s\t%s\t%s\n", on, e->status, e->similarity, off, old, path);
        else
            printf("%s%c%s\t%s\n", on, e->status, off, path);
        return 0;
    }
    dv_buf_truncate(&p->sizes, 0);
    int changed = e->status == DV_DIFF_MODIFIED || (old && e->similarity < 100);
    if (changed) {
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
    if (old && e->similarity < 100)
        dv_buf_printf(&p->sizes, ", %u%% similar", e->similarity);
    if (p->entry_new_known && changed)
        dv_buf_printf(&p->sizes, ", %s new", cmd_human_bytes(p->entry_new_bytes));
    if (dv_buf_oom(&p->sizes))
        return dv_error_set(DV_ENOMEM, "out of memory");
    const char *word = e->status == DV_DIFF_COPIED    ? "copied:"
                       : e->status == DV_DIFF_RENAMED ? "renamed:"
                       : e->status == DV_DIFF_ADDED   ? "added:"
                       : e->status == DV_DIFF_DELETED ? "deleted:"
                                                      : "modified:";
    int pad = STATUS_WORD_WIDTH - (int)strlen(word);
    if (p->opts->stat)
        printf(" %s%s%s | %s\n", old ? old : "", old ? " → " : "", path, p->sizes.ptr);
    else if (old)
        printf("%s%s%s%*s %s → %s  (%s)\n", on, word, off, pad, "", old, path, p->sizes.ptr);
    else
        printf("%s%s%s%*s %s  (%s)\n", on, word, off, pad, "", path, p->sizes.ptr);
    if (!p->opts->stat)
        diff_content_print(c, &p->content_opts);
    return 0;
}

static void print_summary(const diff_printer *p, const dv_diff_summary *s)
{
    uint64_t files = s->added + s->deleted + s->modified + s->renamed + s->copied;
    if (!files) {
        printf("no differences\n");
        return;
    }
    printf("%" PRIu64 " file%s changed: %" PRIu64 " added, %" PRIu64 " modified, %" PRIu64
           " deleted, %" PRIu64 " renamed",
           files, files == 1 ? "" : "s", s->added, s->modified, s->deleted, s->renamed);
    if (s->copied)
        printf(", %" PRIu64 " copied", s->copied);
    printf(" (+%s", cmd_human_bytes(s->bytes_added));
    printf(", -%s)\n", cmd_human_bytes(s->bytes_removed));
    if (p->new_bytes_of_known && !p->new_bytes_unknown)
        printf("new content: %s of %s (%.1f%% shared with the old side)\n",
               cmd_human_bytes(p->new_bytes_unique), cmd_human_bytes(p->new_bytes_of_known),
               100.0 * (double)(p->new_bytes_of_known - p->new_bytes_unique) /
                   (double)p->new_bytes_of_known);
}

static void json_summary(dv_json *j, const diff_printer *p, const dv_diff_summary *s)
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
    dv_json_key(j, "copied");
    dv_json_uint(j, s->copied);
    dv_json_key(j, "bytes_added");
    dv_json_uint(j, s->bytes_added);
    dv_json_key(j, "bytes_removed");
    dv_json_uint(j, s->bytes_removed);
    dv_json_key(j, "old_bytes");
    dv_json_uint(j, s->old_bytes);
    dv_json_key(j, "new_bytes");
    dv_json_uint(j, s->new_bytes);
    if (p->content && !p->new_bytes_unknown) {
        dv_json_key(j, "new_bytes_unique");
        dv_json_uint(j, p->new_bytes_unique);
    }
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

/* A number option: a finite double >= 0. */
static int parse_number(double *out, const char *name, const char *text)
{
    char *end;
    errno = 0;
    double v = text ? strtod(text, &end) : 0;
    if (!text)
        return 0;
    if (errno || end == text || *end || !isfinite(v) || v < 0)
        return cmd_fail(dv_error_set(DV_EUSAGE, "--%s wants a number >= 0, not '%s'", name, text));
    *out = v;
    return 0;
}

static int parse_count(uint64_t *out, const char *name, const char *text)
{
    char *end;
    if (!text)
        return 0;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-')
        return cmd_fail(dv_error_set(DV_EUSAGE, "--%s wants a whole number, not '%s'", name, text));
    *out = v;
    return 0;
}

/* --key a,b,c into keys (pointing into copy, which the caller frees). */
static int parse_keys(diff_printer *p, char **copy, const char **keys, const char *text)
{
    if (!text)
        return 0;
    if (!(*copy = strdup(text)))
        return cmd_fail(dv_error_set(DV_ENOMEM, "out of memory"));
    size_t n = 0;
    for (char *save = NULL, *k = strtok_r(*copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        if (n == CMD_VALUES_MAX)
            return cmd_fail(
                dv_error_set(DV_EUSAGE, "--key takes at most %d columns", CMD_VALUES_MAX));
        keys[n++] = k;
    }
    if (!n)
        return cmd_fail(dv_error_set(DV_EUSAGE, "--key wants column names"));
    p->content_opts.table.keys = keys;
    p->content_opts.table.n_keys = n;
    return 0;
}

static int content_options(diff_printer *p, char **key_copy, const char **keys)
{
    const diff_options *o = p->opts;
    uint64_t rows = DEFAULT_EXAMPLE_ROWS, limit = DEFAULT_TEXT_LIMIT_BYTES;
    dv_table_options *t = &p->content_opts.table;
    t->drift_threshold = DEFAULT_DRIFT_THRESHOLD;
    t->no_header = o->no_header;
    int rc;
    if ((rc = parse_keys(p, key_copy, keys, o->key)) ||
        (rc = parse_count(&rows, "rows", o->rows)) ||
        (rc = parse_count(&limit, "text-limit", o->text_limit)) ||
        (rc = parse_number(&t->tolerance, "tolerance", o->tolerance)) ||
        (rc = parse_number(&t->drift_threshold, "drift-threshold", o->drift_threshold)))
        return rc;
    if (rows > 100000)
        return cmd_fail(dv_error_set(DV_EUSAGE, "--rows wants at most 100000"));
    t->example_rows = (size_t)rows;
    p->content_opts.text_limit = limit;
    p->content_opts.force_text = o->text;
    p->content = !o->name_status && !o->stat && !o->quiet;
    return 0;
}

/* -M and --rename-threshold into *out: 0 (off) or a percent from 1 to 100. */
static int rename_threshold(unsigned *out, const diff_options *o)
{
    uint64_t percent = DEFAULT_RENAME_THRESHOLD;
    int rc = parse_count(&percent, "rename-threshold", o->rename_threshold);
    if (rc)
        return rc;
    if (percent < 1 || percent > 100)
        return cmd_fail(
            dv_error_set(DV_EUSAGE, "--rename-threshold wants a percent from 1 to 100"));
    *out = o->find_renames || o->rename_threshold ? (unsigned)percent : 0;
    return 0;
}

/* Whether colour is on: --color=always, or auto (the default) on a terminal or a pager dv
 * started, with NO_COLOR unset or empty and TERM set and not "dumb" (git's test). Returns 0, 1 or
 * -1 for a value it does not know. */
static int color_wanted(const diff_options *o)
{
    const char *when = o->no_color ? "never" : o->color ? o->color : "auto";
    if (!strcmp(when, "always"))
        return 1;
    if (!strcmp(when, "never"))
        return 0;
    if (strcmp(when, "auto"))
        return -1;
    const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
    if ((no_color && *no_color) || !term || !strcmp(term, "dumb"))
        return 0;
    return cmd_pager_active() || isatty(STDOUT_FILENO);
}

/* The pager (on a terminal, unless --no-pager or -q) and the colour. Returns 0 or an exit
 * code (error printed). */
static int start_output(diff_printer *p, const cmd_context *ctx)
{
    const diff_options *o = p->opts;
    int color = color_wanted(o);
    if (color < 0)
        return cmd_fail(
            dv_error_set(DV_EUSAGE, "--color wants auto, always or never, not '%s'", o->color));
    cmd_pager_start(!o->no_pager && !o->quiet, ctx->repo->git);
    /* decided again: a pager dv started is a terminal for auto */
    color = color_wanted(o);
    p->content_opts.color = color && !o->json && !o->md;
    return 0;
}

static void print_md(diff_printer *p, const dv_diff_summary *s)
{
    uint64_t files = s->added + s->deleted + s->modified + s->renamed + s->copied;
    printf("### dv diff `%s` → `%s`\n\n", p->old_rev, p->new_rev);
    if (!files) {
        printf("No differences in tracked data.\n");
        return;
    }
    printf("| | files |\n|---|---:|\n| added | %" PRIu64 " |\n| modified | %" PRIu64
           " |\n| deleted | %" PRIu64 " |\n| renamed | %" PRIu64 " |\n| copied | %" PRIu64 " |\n",
           s->added, s->modified, s->deleted, s->renamed, s->copied);
    printf("| bytes added | %s |\n", cmd_human_bytes(s->bytes_added));
    printf("| bytes removed | %s |\n", cmd_human_bytes(s->bytes_removed));
    if (p->new_bytes_of_known && !p->new_bytes_unknown)
        printf("| new bytes (chunks the old side lacks) | %s of %s |\n",
               cmd_human_bytes(p->new_bytes_unique), cmd_human_bytes(p->new_bytes_of_known));
    printf("\n");
    int fold = p->md_n_files > MD_FOLD_FILES;
    if (fold)
        printf("<details><summary>%" PRIu64 " files</summary>\n\n", p->md_n_files);
    printf("| path | change | size | content |\n|---|---|---:|---|\n%s\n", p->md_files.ptr);
    if (fold)
        printf("</details>\n\n");
    fwrite(p->md_details.ptr, 1, p->md_details.len, stdout);
}

static int textconv_entry(void *ctx, const dv_ls_entry *e)
{
    const char *path = e->path[0] == '/' ? e->path + 1 : e->path;
    printf("%s %12" PRIu64 " %s\t%s\n", cmd_mode_text(e->mode), e->size, dv_oid_hex(&e->id),
           cmd_quote_path(ctx, path[0] ? path : "."));
    return 0;
}

/*
 * --textconv: a pointer file as text for git's diff — a line naming what it tracks, then,
 * from the store's trees, one line a file below it as dv ls -l prints them — so git diff and
 * git log -p of pointer files show the files that changed. The listing is left out, with a
 * line saying so, when the store lacks its trees: git still gets the pointer's line.
 */
static int diff_textconv(cmd_context *ctx, const char *file)
{
    if (ctx->n_args)
        return cmd_usage_error(ctx->command, "--textconv takes no other argument");
    dv_pointer p;
    int error = dv_pointer_read(&p, file);
    if (error < 0)
        return cmd_fail(error);
    printf("dv %s: %s (%" PRIu64 " bytes), %s\n", dv_pointer_kind_name(p.kind),
           cmd_human_bytes(p.size), p.size, dv_oid_hex(&p.oid));
    dv_buf quoted = DV_BUF_INIT;
    error = dv_ls_pointer(ctx->repo, &p, "", textconv_entry, &quoted);
    dv_buf_release(&quoted);
    if (error == DV_ENOTFOUND) {
        printf("(the files are not listed: %s)\n", dv_error_last());
        error = 0;
    }
    if (error < 0)
        return cmd_fail(error);
    if (fflush(stdout) != 0)
        return cmd_fail(dv_error_errno("writing the listing"));
    return DV_EXIT_OK;
}

int cmd_diff(cmd_context *ctx)
{
    const diff_options *opts = ctx->options;
    if (opts->textconv)
        return diff_textconv(ctx, opts->textconv);
    diff_printer p;
    memset(&p, 0, sizeof(p));
    p.opts = opts;
    p.quoted = p.quoted_old = p.sizes = p.md_files = p.md_details = (dv_buf)DV_BUF_INIT;
    char *key_copy = NULL;
    const char *keys[CMD_VALUES_MAX];
    dv_rev *a = NULL, *b = NULL;
    char **paths = NULL;
    int used = 0, n_paths = 0, rc = 0;
    dv_buf out = DV_BUF_INIT;
    dv_json j;
    dv_diff_summary summary;
    dv_ondemand *ondemand = NULL;
    if (opts->offline && opts->remote_name) {
        rc = cmd_usage_error(ctx->command, "--offline and --remote do not go together");
        goto done;
    }
    if ((rc = content_options(&p, &key_copy, keys)) || (rc = take_revs(&a, &b, &used, ctx)))
        goto done;
    int error = a ? 0 : dv_rev_resolve(&a, ctx->repo, "HEAD");
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    n_paths = ctx->n_args - used;
    if ((rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + used)))
        goto done;
    if ((p.content && (error = dv_repo_odb(&p.odb, ctx->repo)) < 0) ||
        (error = dv_ondemand_attach(&ondemand, ctx->repo, opts->remote_name, opts->offline)) < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if ((rc = start_output(&p, ctx)))
        goto done;
    int worktree = !b && !opts->cached;
    p.old_rev = dv_rev_name(a);
    p.new_rev = b ? dv_rev_name(b) : worktree ? "work tree" : "pointer files";
    p.content_opts.worktree_fd = ctx->repo->workdir_fd;
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
        dv_json_key(&j, "to_side");
        dv_json_string(&j, b ? "revision" : worktree ? "worktree" : "pointers");
        dv_json_key(&j, "files");
        dv_json_array_begin(&j);
        p.json = &j;
    }
    dv_diff_options diff_opts = {(const char *const *)paths, (size_t)n_paths, 0, opts->find_copies,
                                 p.content};
    if ((rc = rename_threshold(&diff_opts.find_renames, opts)))
        goto done;
    error = worktree ? dv_diff_worktree(ctx->repo, a, &diff_opts, print_entry, &p, &summary)
                     : dv_diff(ctx->repo, a, b, &diff_opts, print_entry, &p, &summary);
    if (error < 0) {
        rc = cmd_fail_at(error, b ? b : a);
        goto done;
    }
    if (summary.similar_skipped)
        fprintf(stderr,
                "dv: note: renames by shared chunks were not looked for: the deleted "
                "files have over %u chunks\n",
                DV_DIFF_SIMILAR_MAX_CHUNKS);
    if (summary.not_checked_out)
        fprintf(stderr,
                "dv: note: %" PRIu64 " tracked path%s not checked out; compared as %s pointer "
                "file%s say%s (run dv checkout)\n",
                summary.not_checked_out, summary.not_checked_out == 1 ? " is" : "s are",
                summary.not_checked_out == 1 ? "its" : "their",
                summary.not_checked_out == 1 ? "" : "s", summary.not_checked_out == 1 ? "s" : "");
    if (opts->json) {
        dv_json_array_end(&j);
        json_summary(&j, &p, &summary);
        dv_json_object_end(&j);
        if ((error = dv_json_finish(&j)) < 0) {
            rc = cmd_fail(error == DV_ENOMEM ? dv_error_set(DV_ENOMEM, "out of memory") : error);
            goto done;
        }
        if (!opts->quiet)
            printf("%s\n", out.ptr);
    } else if (opts->md && !opts->quiet) {
        if (dv_buf_oom(&p.md_files) || dv_buf_oom(&p.md_details)) {
            rc = cmd_fail(dv_error_set(DV_ENOMEM, "out of memory"));
            goto done;
        }
        print_md(&p, &summary);
    } else if (!opts->quiet && !opts->name_status) {
        print_summary(&p, &summary);
    }
    if ((fflush(stdout) != 0 || ferror(stdout)) && !reader_gone()) {
        rc = cmd_fail(dv_error_errno("writing the diff"));
        goto done;
    }
    clearerr(stdout); /* a reader that went away is not a failure to report */
    uint64_t fetched, fetched_bytes;
    const char *fetched_from = dv_ondemand_counts(ondemand, &fetched, &fetched_bytes);
    if (fetched && !opts->quiet)
        fprintf(stderr, "dv: fetched %" PRIu64 " object%s (%s) from remote %s\n", fetched,
                fetched == 1 ? "" : "s", cmd_human_bytes(fetched_bytes), fetched_from);
    uint64_t changed =
        summary.added + summary.deleted + summary.modified + summary.renamed + summary.copied;
    rc = p.content_failed                              ? DV_EXIT_PARTIAL
         : (opts->exit_code || opts->quiet) && changed ? DV_EXIT_NO
                                                       : DV_EXIT_OK;
done:
    if ((error = dv_ondemand_detach(ondemand)) < 0 && !rc)
        rc = cmd_fail(error);
    cmd_relpaths_free(paths, n_paths);
    dv_rev_free(a);
    dv_rev_free(b);
    dv_buf_release(&out);
    dv_buf_release(&p.quoted);
    dv_buf_release(&p.quoted_old);
    dv_buf_release(&p.sizes);
    dv_buf_release(&p.md_files);
    dv_buf_release(&p.md_details);
    free(key_copy);
    return rc;
}
