/* common: shared command-line helpers. */
#include "cmd/common.h"

#include "core/ops/checkout.h"
#include "core/ops/transfer.h"
#include "core/repo/remoteconf.h"

#include "core/base/error.h"
#include "core/base/fs.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_exit_code(int code)
{
    switch (code) {
    case 0:
        return DV_EXIT_OK;
    case DV_EUSAGE:
    case DV_ENOREPO:
        return DV_EXIT_USAGE;
    case DV_ELOCKED:
        return DV_EXIT_LOCKED;
    case DV_ECONFLICT:
        return DV_EXIT_CONFLICT;
    default:
        return DV_EXIT_FAILURE;
    }
}

int cmd_fail(int code)
{
    fprintf(stderr, "dv: error: %s\n", dv_error_last());
    return cmd_exit_code(code);
}

int cmd_usage_error(const cmd_command *command, const char *fmt, ...)
{
    va_list ap;
    fputs("dv: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    dv_buf usage = DV_BUF_INIT;
    if (command && cmd_usage_text(&usage, command) == 0)
        fprintf(stderr, "\n%s", usage.ptr);
    dv_buf_release(&usage);
    return DV_EXIT_USAGE;
}

void cmd_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("dv: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char *cmd_human_bytes(uint64_t bytes)
{
    static _Thread_local char ring[8][32];
    static _Thread_local unsigned next;
    char *out = ring[next++ % 8];
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(out, 32, "%llu B", (unsigned long long)bytes);
        return out;
    }
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(out, 32, "%.1f %s", v, units[u]);
    return out;
}

void cmd_print_repack(const dv_repack_result *r, int dry_run)
{
    const char *would = dry_run ? "would be " : "";
    uint64_t freed = r->bytes_freed < 0 ? (uint64_t)-r->bytes_freed : (uint64_t)r->bytes_freed;
    printf("%skept: %" PRIu64 " object%s, %" PRIu64 " bytes (%s)\n", would, r->objects_kept,
           r->objects_kept == 1 ? "" : "s", r->bytes_kept, cmd_human_bytes(r->bytes_kept));
    printf("%sfreed: %" PRIu64 " object%s, %" PRId64 " bytes (%s%s)\n", would, r->objects_freed,
           r->objects_freed == 1 ? "" : "s", r->bytes_freed, r->bytes_freed < 0 ? "-" : "",
           cmd_human_bytes(freed));
    printf("packs%s: %" PRIu64 " unchanged, %" PRIu64 " merged, %" PRIu64 " rewritten, %" PRIu64
           " deleted, %" PRIu64 " written\n",
           dry_run ? " would be" : "", r->packs_kept, r->packs_merged, r->packs_rewritten,
           r->packs_deleted, r->packs_written);
}

const char *cmd_mode_text(uint8_t mode)
{
    switch (mode) {
    case DV_MODE_EXEC:
        return "100755";
    case DV_MODE_SYMLINK:
        return "120000";
    case DV_MODE_DIR:
        return "040000";
    default:
        return "100644";
    }
}

const char *cmd_quote_path(dv_buf *out, const char *path)
{
    int plain = 1;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            plain = 0;
    dv_buf_clear(out);
    if (plain) {
        dv_buf_puts(out, path);
        return out->ptr;
    }
    /* Like git: C-style quoting when a name holds control characters or quotes. */
    dv_buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        switch (*p) {
        case '\n':
            dv_buf_puts(out, "\\n");
            break;
        case '\t':
            dv_buf_puts(out, "\\t");
            break;
        case '"':
        case '\\':
            dv_buf_printf(out, "\\%c", *p);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                dv_buf_printf(out, "\\%03o", *p);
            else
                dv_buf_putc(out, (char)*p);
        }
    }
    dv_buf_putc(out, '"');
    return out->ptr;
}

const char *cmd_show_path(dv_buf *out, const dv_repo *repo, const char *relpath)
{
    dv_buf shown = DV_BUF_INIT;
    if (dv_repo_display_path(&shown, repo, relpath) < 0)
        dv_buf_set(&shown, relpath);
    cmd_quote_path(out, shown.ptr);
    dv_buf_release(&shown);
    return out->ptr;
}

int cmd_open_repo(dv_repo **out)
{
    int error = dv_repo_open(out, ".");
    return error < 0 ? cmd_fail(error) : 0;
}

int cmd_stage_config(dv_repo *repo, int error)
{
    if (error < 0)
        return cmd_fail(error);
    const char *config = DV_DIR_NAME "/config";
    if (dv_repo_stage(repo, &config, 1) < 0)
        cmd_warn("could not stage .dv/config: %s", dv_error_last());
    return 0;
}

int cmd_open_repo_settings(dv_repo **out)
{
    int error = dv_repo_open_settings(out, ".");
    return error < 0 ? cmd_fail(error) : 0;
}

static void on_lock_wait(void *ctx, long holder)
{
    (void)ctx;
    if (holder > 0)
        fprintf(stderr, "dv: waiting for another dv command (pid %ld) to finish...\n", holder);
    else
        fprintf(stderr, "dv: waiting for another dv command to finish...\n");
}

static void on_store_wait(void *ctx, long holder)
{
    const dv_repo *repo = ctx;
    if (holder > 0)
        fprintf(stderr, "dv: waiting for dv gc (pid %ld) to finish with the store %s...\n", holder,
                repo->cache_dir.ptr);
    else
        fprintf(stderr, "dv: waiting for dv gc to finish with the store %s...\n",
                repo->cache_dir.ptr);
}

static void on_store_wait_exclusive(void *ctx, long holder)
{
    const dv_repo *repo = ctx;
    (void)holder;
    fprintf(stderr,
            "dv: waiting for the other dv commands using the store %s to finish (other "
            "worktrees or clones share it)...\n",
            repo->cache_dir.ptr);
}

int cmd_lock_repo_mode(dv_repo *repo, int store_exclusive)
{
    int error = dv_repo_lock(repo, on_lock_wait, NULL);
    if (!error)
        error = dv_repo_lock_store(repo, store_exclusive,
                                   store_exclusive ? on_store_wait_exclusive : on_store_wait, repo);
    return error < 0 ? cmd_fail(error) : 0;
}

int cmd_lock_store_exclusive(dv_repo *repo)
{
    dv_lock_release(repo->store_lock);
    repo->store_lock = NULL;
    int error = dv_repo_lock_store(repo, 1, on_store_wait_exclusive, repo);
    return error < 0 ? cmd_fail(error) : 0;
}

int cmd_lock_repo(dv_repo *repo)
{
    return cmd_lock_repo_mode(repo, 0);
}

int cmd_relpaths(char ***out, dv_repo *repo, int argc, char **argv)
{
    char **paths = calloc((size_t)argc + 1, sizeof(*paths));
    dv_buf rel = DV_BUF_INIT;
    if (!paths)
        return cmd_fail(dv_error_set(DV_ENOMEM, "out of memory"));
    for (int i = 0; i < argc; i++) {
        int error = dv_repo_relpath(&rel, repo, argv[i]);
        if (error < 0) {
            cmd_relpaths_free(paths, i);
            dv_buf_release(&rel);
            return cmd_fail(error);
        }
        paths[i] = dv_buf_detach(&rel);
    }
    *out = paths;
    return 0;
}

/* 1 if arg is a path in the work tree, as it is or as a pointer file. */
static int is_worktree_path(const char *arg)
{
    struct stat st;
    dv_buf pointer = DV_BUF_INIT;
    int is_path = lstat(arg, &st) == 0;
    if (!is_path && dv_buf_printf(&pointer, "%s%s", arg, DV_POINTER_SUFFIX) == 0)
        is_path = lstat(pointer.ptr, &st) == 0;
    dv_buf_release(&pointer);
    return is_path;
}

int cmd_take_rev(dv_rev **rev, cmd_context *ctx)
{
    *rev = NULL;
    if (!ctx->n_args || ctx->n_before_dashdash == 0)
        return 0;
    const char *arg = ctx->args[0];
    if (ctx->n_before_dashdash > 1)
        return cmd_fail(dv_error_set(DV_EUSAGE,
                                     "only one revision may come before '--' (got '%s' and "
                                     "'%s')",
                                     arg, ctx->args[1]));
    if (ctx->n_before_dashdash < 0 && is_worktree_path(arg))
        return 0;
    int error = dv_rev_resolve(rev, ctx->repo, arg);
    if (error == DV_EUSAGE && ctx->n_before_dashdash < 0 && strchr(arg, '/'))
        return 0; /* a path inside data that is not checked out */
    if (error == DV_EUSAGE && ctx->n_before_dashdash < 0) {
        char why[512];
        snprintf(why, sizeof(why), "%s", dv_error_last());
        error = dv_error_set(DV_EUSAGE,
                             "%s; nor is '%s' a path in the work tree (put '--' "
                             "before paths)",
                             why, arg);
    }
    return error < 0 ? cmd_fail(error) : 0;
}

int cmd_fail_at(int error, const dv_rev *rev)
{
    if (error == DV_ENOTFOUND && rev) {
        char why[512];
        snprintf(why, sizeof(why), "%s", dv_error_last());
        error = dv_error_set(DV_ENOTFOUND, "%s; for revision %s: dv fetch --rev %s", why,
                             dv_rev_name(rev), dv_rev_name(rev));
    }
    return cmd_fail(error);
}

void cmd_relpaths_free(char **paths, int n)
{
    if (!paths)
        return;
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

void cmd_progress_start(cmd_progress *p, const char *label, uint64_t total, int quiet)
{
    memset(p, 0, sizeof(*p));
    p->enabled = !quiet && isatty(STDERR_FILENO) && !getenv("DV_NO_PROGRESS");
    p->label = label;
    p->total = total;
    p->started_ns = p->last_ns = dv_fs_now_ns();
}

static void progress_draw(cmd_progress *p, int64_t now)
{
    double secs = (double)(now - p->started_ns) / 1e9;
    double rate = secs > 0 ? (double)p->done / secs : 0;
    char eta[32] = "";
    if (rate > 0 && p->total > p->done)
        snprintf(eta, sizeof(eta), "  ETA %.0fs", (double)(p->total - p->done) / rate);
    int pct = p->total ? (int)(100.0 * (double)p->done / (double)p->total) : 0;
    if (pct > 100)
        pct = 100;
    char bar[21];
    int filled = pct / 5;
    for (int i = 0; i < 20; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "\r\033[K%s [%s] %3d%%  %s / %s  %s/s%s", p->label, bar, pct,
            cmd_human_bytes(p->done), cmd_human_bytes(p->total), cmd_human_bytes((uint64_t)rate),
            eta);
    fflush(stderr);
}

void cmd_progress_set_total(void *ctx, uint64_t total)
{
    ((cmd_progress *)ctx)->total = total;
}

void cmd_progress_update(void *ctx, uint64_t bytes)
{
    cmd_progress *p = ctx;
    p->done += bytes;
    if (!p->enabled)
        return;
    int64_t now = dv_fs_now_ns();
    if (now - p->last_ns < 100000000)
        return;
    p->last_ns = now;
    progress_draw(p, now);
}

void cmd_progress_end(cmd_progress *p)
{
    if (!p->enabled)
        return;
    /* Only leave a trace when the bar was ever drawn. */
    if (p->last_ns != p->started_ns)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

/* The most option tables one usage text lists: a command's own, or one per subcommand. */
#define CMD_MAX_OPTION_TABLES 8

/* The option tables of command into tables: its own, or each of its subcommands' once. */
static size_t option_tables(const cmd_option **tables, const cmd_command *command)
{
    size_t n = 0;
    if (!command->subcommands) {
        if (command->syntax && command->syntax->options)
            tables[n++] = command->syntax->options;
        return n;
    }
    for (const cmd_command *sub = command->subcommands; sub->name; sub++) {
        const cmd_option *options = sub->syntax->options;
        int seen = !options;
        for (size_t i = 0; i < n && !seen; i++)
            seen = tables[i] == options;
        assert(seen || n < CMD_MAX_OPTION_TABLES);
        if (!seen)
            tables[n++] = options;
    }
    return n;
}

/* The left column of an option's line in a usage text: "-r, --remote <name>", "    --stats". */
static void option_synopsis(dv_buf *out, const cmd_option *option)
{
    dv_buf_clear(out);
    if (option->short_name)
        dv_buf_printf(out, "-%c, ", option->short_name);
    else
        dv_buf_puts(out, "    ");
    dv_buf_printf(out, "--%s", option->long_name);
    if (option->value_name)
        dv_buf_printf(out, option->bare_value ? "[=%s]" : " %s", option->value_name);
}

/* Whether an option of the same long name is in one of the first n tables (subcommands
 * that share an option, such as -q, list it once). */
static int listed_before(const cmd_option *const *tables, size_t n, const cmd_option *option)
{
    for (size_t t = 0; t < n; t++)
        for (const cmd_option *o = tables[t]; o->long_name; o++)
            if (!strcmp(o->long_name, option->long_name))
                return 1;
    return 0;
}

int cmd_usage_text(dv_buf *out, const cmd_command *command)
{
    const cmd_option *tables[CMD_MAX_OPTION_TABLES];
    size_t n_tables = option_tables(tables, command), width = 0;
    dv_buf left = DV_BUF_INIT;
    for (size_t t = 0; t < n_tables; t++)
        for (const cmd_option *o = tables[t]; o->long_name; o++) {
            option_synopsis(&left, o);
            if (left.len > width)
                width = left.len;
        }
    dv_buf_clear(out);
    dv_buf_puts(out, command->syntax->usage);
    if (n_tables)
        dv_buf_putc(out, '\n');
    for (size_t t = 0; t < n_tables; t++)
        for (const cmd_option *o = tables[t]; o->long_name; o++) {
            if (listed_before(tables, t, o))
                continue;
            option_synopsis(&left, o);
            dv_buf_printf(out, "  %-*s  ", (int)width, left.ptr);
            for (const char *h = o->help; *h; h++) {
                if (*h == '\n')
                    dv_buf_printf(out, "\n%*s", (int)width + 4, "");
                else
                    dv_buf_putc(out, *h);
            }
            dv_buf_putc(out, '\n');
        }
    int oom = dv_buf_oom(out) || dv_buf_oom(&left);
    dv_buf_release(&left);
    return oom ? dv_error_set(DV_ENOMEM, "out of memory building the usage text") : 0;
}

int cmd_print_usage(const cmd_command *command)
{
    dv_buf usage = DV_BUF_INIT;
    int error = cmd_usage_text(&usage, command);
    if (!error)
        fputs(usage.ptr, stdout);
    dv_buf_release(&usage);
    return error < 0 ? cmd_fail(error) : 0;
}

/* The option named long_name (or short_name) or NULL. */
static const cmd_option *find_option(const cmd_option *options, const char *long_name,
                                     size_t long_len, char short_name)
{
    for (const cmd_option *o = options; o && o->long_name; o++)
        if ((long_name && strlen(o->long_name) == long_len &&
             !memcmp(long_name, o->long_name, long_len)) ||
            (!long_name && short_name && short_name == o->short_name))
            return o;
    return NULL;
}

static void set_flag(void *dest, const cmd_option *option)
{
    *(int *)((char *)dest + option->offset) = 1;
}

/* 0, or -1 when a repeatable option was given too often. */
static int set_value(void *dest, const cmd_option *option, const char *value)
{
    if (!option->repeatable) {
        *(const char **)((char *)dest + option->offset) = value;
        return 0;
    }
    cmd_values *values = (cmd_values *)((char *)dest + option->offset);
    if (values->n == CMD_VALUES_MAX)
        return -1;
    values->v[values->n++] = value;
    return 0;
}

int cmd_parse_options(int *first_arg, int *n_before_dashdash, int argc, char **argv,
                      const cmd_command *usage_of, const cmd_option *options, void *dest)
{
    /* Options may come before, between or after the arguments (until "--"); the
     * arguments are moved, in order, to the end of argv. */
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    int n_args = 0, i = 1, rc = -1;
    *n_before_dashdash = -1;
    if (!args)
        return cmd_usage_error(NULL, "out of memory");
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || !arg[1]) {
            args[n_args++] = argv[i];
            continue;
        }
        if (!strcmp(arg, "--")) {
            *n_before_dashdash = n_args;
            for (i++; i < argc; i++)
                args[n_args++] = argv[i];
            break;
        }
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            rc = cmd_print_usage(usage_of);
            goto done;
        }
        if (arg[1] == '-') {
            const char *eq = strchr(arg + 2, '=');
            size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            const cmd_option *o = find_option(options, arg + 2, len, 0);
            if (!o) {
                rc = cmd_usage_error(usage_of, "unknown option %s", arg);
                goto done;
            }
            if (!o->value_name) {
                if (eq) {
                    rc = cmd_usage_error(usage_of, "option --%s takes no value", o->long_name);
                    goto done;
                }
                set_flag(dest, o);
            } else if (!eq && o->bare_value) {
                set_value(dest, o, o->bare_value);
            } else if (eq || i + 1 < argc) {
                if (set_value(dest, o, eq ? eq + 1 : argv[++i]) < 0) {
                    rc = cmd_usage_error(usage_of, "option --%s given more than %d times",
                                         o->long_name, CMD_VALUES_MAX);
                    goto done;
                }
            } else {
                rc = cmd_usage_error(usage_of, "option --%s needs a value", o->long_name);
                goto done;
            }
            continue;
        }
        for (const char *c = arg + 1; *c; c++) {
            const cmd_option *o = find_option(options, NULL, 0, *c);
            if (!o) {
                rc = cmd_usage_error(usage_of, "unknown option -%c", *c);
                goto done;
            }
            if (!o->value_name) {
                set_flag(dest, o);
                continue;
            }
            if (!c[1] && i + 1 >= argc) {
                rc = cmd_usage_error(usage_of, "option -%c needs a value", *c);
                goto done;
            }
            if (set_value(dest, o, c[1] ? c + 1 : argv[++i]) < 0) { /* -rorigin, -r origin */
                rc = cmd_usage_error(usage_of, "option -%c given more than %d times", *c,
                                     CMD_VALUES_MAX);
                goto done;
            }
            break;
        }
    }
    *first_arg = argc - n_args;
    memcpy(argv + *first_arg, args, (size_t)n_args * sizeof(*args));
done:
    free(args);
    return rc;
}

int cmd_transfer_open(dv_remote **out, int *jobs, dv_repo *repo, const cmd_transfer_args *args)
{
    *jobs = 0;
    if (args->jobs_text) {
        char *end;
        long n = strtol(args->jobs_text, &end, 10);
        if (*end || n < 1 || n > 64)
            return cmd_usage_error(NULL, "--jobs needs a number from 1 to 64, not '%s'",
                                   args->jobs_text);
        *jobs = (int)n;
    }
    int error = dv_remoteconf_open(out, repo, args->remote_name);
    return error < 0 ? cmd_fail(error) : 0;
}

void cmd_transfer_stats(const dv_remote *remote, const cmd_transfer_args *args)
{
    if (!args->stats || !remote)
        return;
    const dv_remote_stats *s = &remote->stats;
    fprintf(stderr,
            "dv: remote %s: requests list=%llu get=%llu put=%llu other=%llu retries=%llu "
            "sent=%llu received=%llu\n",
            remote->name, (unsigned long long)s->list_requests, (unsigned long long)s->get_requests,
            (unsigned long long)s->put_requests, (unsigned long long)s->other_requests,
            (unsigned long long)s->retries, (unsigned long long)s->bytes_sent,
            (unsigned long long)s->bytes_received);
}

int cmd_restore(dv_repo *repo, dv_rev *rev, const char *const *paths, size_t n, int force,
                int quiet)
{
    dv_checkout_result result;
    cmd_progress progress;
    cmd_progress_start(&progress, "restoring", 0, quiet);
    dv_checkout_options copts = {force, cmd_progress_update, &progress, cmd_progress_set_total,
                                 rev};
    int error = dv_checkout(&result, repo, paths, n, &copts);
    cmd_progress_end(&progress);
    int rc = cmd_restore_report(repo, rev, &result, error, quiet);
    dv_checkout_result_free(&result);
    return rc;
}

int cmd_restore_report(dv_repo *repo, const dv_rev *rev, const dv_checkout_result *result,
                       int error, int quiet)
{
    int rc = 0;
    dv_buf shown = DV_BUF_INIT;
    cmd_warn_bad_pointers(&result->bad_pointers);
    if (error == DV_ECONFLICT) {
        fprintf(stderr, "dv: these paths have changes that are not in the store:\n");
        for (size_t i = 0; i < result->conflicts.n; i++) {
            cmd_show_path(&shown, repo, result->conflicts.paths[i]);
            fprintf(stderr, "    %s\n", shown.ptr);
        }
    }
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    for (size_t i = 0; i < result->overwritten.n; i++) {
        cmd_show_path(&shown, repo, result->overwritten.paths[i]);
        cmd_warn("overwrote unsaved changes in %s", shown.ptr);
    }
    if (!quiet && rev)
        printf("wrote %llu pointer file%s of %s, removed %llu\n",
               (unsigned long long)result->pointers_written,
               result->pointers_written == 1 ? "" : "s", dv_rev_name(rev),
               (unsigned long long)result->pointers_removed);
    if (!quiet)
        printf("restored %llu file%s (%s), %llu unchanged, %llu removed\n",
               (unsigned long long)result->files_restored, result->files_restored == 1 ? "" : "s",
               cmd_human_bytes(result->bytes_restored), (unsigned long long)result->unchanged,
               (unsigned long long)result->removed);
    if (result->bad_pointers.n)
        rc = DV_EXIT_FAILURE;
done:
    dv_buf_release(&shown);
    return rc;
}

void cmd_warn_bad_pointers(const dv_path_list *bad)
{
    for (size_t i = 0; i < bad->n; i++)
        cmd_warn("skipping a pointer file that cannot be read: %s", bad->paths[i]);
}

int cmd_transfer_run(dv_transfer_result *result, int *error, dv_remote **remote, cmd_context *ctx,
                     const char *label, cmd_transfer_fn transfer)
{
    const cmd_transfer_args *args = ctx->options;
    int jobs, rc = cmd_transfer_open(remote, &jobs, ctx->repo, args);
    if (rc) {
        dv_remote_free(*remote);
        *remote = NULL;
        return rc;
    }
    dv_revset *revs = NULL;
    if (!args->preset && (rc = cmd_transfer_revs(&revs, ctx))) {
        dv_remote_free(*remote);
        *remote = NULL;
        return rc;
    }
    cmd_progress progress;
    cmd_progress_start(&progress, label, 0, args->quiet);
    dv_transfer_options topts = {.jobs = jobs,
                                 .progress = cmd_progress_update,
                                 .progress_ctx = &progress,
                                 .planned = cmd_progress_set_total,
                                 .revs = args->preset ? args->preset : revs};
    *error = transfer(result, ctx->repo, *remote, (const char *const *)ctx->paths,
                      (size_t)ctx->n_args, &topts);
    cmd_progress_end(&progress);
    cmd_transfer_stats(*remote, args);
    dv_revset_free(revs);
    return 0;
}

int cmd_transfer_revs(dv_revset **out, cmd_context *ctx)
{
    const cmd_transfer_args *args = ctx->options;
    unsigned refs = (args->all_branches ? DV_REVSET_BRANCHES : 0) |
                    (args->all_tags ? DV_REVSET_TAGS : 0) |
                    (args->all_commits ? DV_REVSET_COMMITS : 0);
    int error = 0;
    *out = NULL;
    if (!args->revs.n && !refs)
        return 0;
    if ((error = dv_revset_new(out, ctx->repo)) < 0)
        return cmd_fail(error);
    dv_revset_add_refs(*out, refs);
    for (int i = 0; i < args->revs.n && !error; i++)
        error = dv_revset_add(*out, args->revs.v[i]);
    if (error < 0) {
        dv_revset_free(*out);
        *out = NULL;
        return cmd_fail(error);
    }
    return 0;
}

int cmd_transfer_fetch(cmd_context *ctx, int warn_bad, size_t *n_bad)
{
    *n_bad = 0;
    dv_remote *remote = NULL;
    dv_transfer_result result;
    int error, rc = cmd_transfer_run(&result, &error, &remote, ctx, "downloading", dv_fetch);
    if (rc)
        return rc;
    const cmd_transfer_args *args = ctx->options;
    *n_bad = result.bad_pointers.n;
    if (warn_bad)
        cmd_warn_bad_pointers(&result.bad_pointers);
    rc = cmd_fetch_report(&result, remote, error, args->quiet);
    dv_transfer_result_free(&result);
    dv_remote_free(remote);
    return rc;
}

int cmd_fetch_report(const dv_transfer_result *result, const dv_remote *remote, int error,
                     int quiet)
{
    if (error < 0)
        return cmd_fail(error);
    if (quiet)
        return 0;
    if (result->objects_moved)
        printf("fetched %llu object%s (%s) from %s\n", (unsigned long long)result->objects_moved,
               result->objects_moved == 1 ? "" : "s", cmd_human_bytes(result->bytes_moved),
               remote->name);
    else
        printf("the store already has all %llu object%s\n",
               (unsigned long long)result->objects_reachable,
               result->objects_reachable == 1 ? "" : "s");
    return 0;
}
