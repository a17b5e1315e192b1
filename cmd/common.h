/*
 * common: what every command shares: error reporting and exit codes, human
 * sizes, JSON strings, the progress bar, and the repository opening step.
 */
#ifndef DV_CMD_COMMON_H
#define DV_CMD_COMMON_H

#include "core/base/buf.h"
#include "core/ops/checkout.h"
#include "core/repo/repo.h"
#include "remotes/remote.h"

#include <stdint.h>
#include <stdio.h>

/* Exit codes (documented in dv(1)). */
enum {
    DV_EXIT_OK = 0,
    DV_EXIT_NO = 1,       /* the answer is no: differences, not clean, problems found */
    DV_EXIT_USAGE = 2,    /* bad usage, not in a repository */
    DV_EXIT_LOCKED = 3,   /* the lock could not be taken in time */
    DV_EXIT_CONFLICT = 4, /* would overwrite unsaved data */
    DV_EXIT_FAILURE = 5,  /* corrupt store, I/O error, anything else */
};

/** Print "dv: error: <last error>" and return the exit code for code. */
int cmd_fail(int code);
/** Print "dv: error: <message>" and return DV_EXIT_USAGE. */
int cmd_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cmd_exit_code(int code);

/** 1024-based size ("1.5 GiB", "17 B") into a static per-thread ring. */
const char *cmd_human_bytes(uint64_t bytes);
/** Append s as a JSON string literal (with quotes). Bytes that are not UTF-8 become
 *  lone surrogate escapes \udc80..\udcff (the "surrogateescape" convention). */
int cmd_json_string(dv_buf *out, const char *s);
/** path as shown to people: as is, or C-quoted when it holds control characters or
 *  quotes (as git does). Returns out->ptr. */
const char *cmd_quote_path(dv_buf *out, const char *path);
/** A work-tree path as shown to people: relative to the current directory, quoted
 *  when needed. Returns out->ptr. */
const char *cmd_show_path(dv_buf *out, const dv_repo *repo, const char *relpath);

/** Open the repository for the current directory; on failure prints and returns the exit code. */
int cmd_open_repo(dv_repo **out);
/** Take the lock, telling the user if we have to wait. Returns 0 or an exit code. */
int cmd_lock_repo(dv_repo *repo);

/** Convert user paths to work-tree paths; returns 0 or an exit code (error printed). */
int cmd_relpaths(char ***out, dv_repo *repo, int argc, char **argv);
void cmd_relpaths_free(char **paths, int n);

typedef struct cmd_progress {
    int enabled;
    const char *label;
    uint64_t total, done;
    int64_t started_ns, last_ns;
} cmd_progress;

/** A progress bar on stderr, enabled only when stderr is a terminal and not quiet. */
void cmd_progress_start(cmd_progress *p, const char *label, uint64_t total, int quiet);
/** Set the total once it is known. */
void cmd_progress_set_total(void *p, uint64_t total);
/** dv_ingest_progress_fn-compatible update. */
void cmd_progress_update(void *p, uint64_t bytes);
void cmd_progress_end(cmd_progress *p);

/** A command's option: --long_name or -short_name sets *value to 1; or, when text is set,
 *  the option takes a value (--name VALUE, --name=VALUE, -n VALUE) that goes to *text. */
typedef struct cmd_flag {
    const char *long_name;
    char short_name; /* 0 for none */
    int *value;
    const char **text;
} cmd_flag;

/**
 * Parse options (flags, valued options and --help) wherever they are among the
 * arguments, until "--"; the arguments are moved, in order, to the end of argv. Returns -1 with
 * *first_arg set to continue, or an exit code for the command to return (usage printed).
 */
int cmd_parse_flags(int *first_arg, int argc, char **argv, const char *usage,
                    const cmd_flag *flags);

/** Commands report --help through this: prints usage to stdout, returns 0. */
int cmd_print_usage(const char *usage);

/* Commands */
int cmd_init(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_remote(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_help(int argc, char **argv);

/** Usage text of a command for `dv help`, or NULL. */
const char *cmd_usage_of(const char *name);

extern const char cmd_init_usage[], cmd_add_usage[], cmd_status_usage[], cmd_checkout_usage[],
    cmd_fsck_usage[], cmd_remote_usage[], cmd_push_usage[], cmd_fetch_usage[], cmd_pull_usage[];

/* Push, fetch and pull share their options and their report. */
typedef struct cmd_transfer_args {
    const char *remote_name; /* -r, --remote */
    const char *jobs_text;   /* -j, --jobs */
    int quiet, stats, force;
} cmd_transfer_args;

/** Open the remote named in args (or the default one) and turn --jobs into *jobs (0 when not
 *  given). Returns 0 or an exit code (error printed). */
int cmd_transfer_open(dv_remote **out, int *jobs, dv_repo *repo, const cmd_transfer_args *args);
/** With --stats, print the remote's request counters to stderr. */
void cmd_transfer_stats(const dv_remote *remote, const cmd_transfer_args *args);

/** Make the work-tree data under paths (all when n is 0) match the pointer files and
 *  report it, as dv checkout does. The caller holds the lock. Returns an exit code. */
int cmd_restore(dv_repo *repo, const char *const *paths, size_t n, int force, int quiet);

/** Warn about each pointer file that could not be read and was skipped. */
void cmd_warn_bad_pointers(const dv_path_list *bad);
/** Fetch (as dv fetch does) and report. The caller holds the lock. Returns an exit code;
 *  unreadable pointer files are skipped and counted in *n_bad (and warned about when
 *  warn_bad is set), for the caller to exit non-zero. */
int cmd_transfer_fetch(dv_repo *repo, dv_remote *remote, const char *const *paths, size_t n,
                       int jobs, const cmd_transfer_args *args, int warn_bad, size_t *n_bad);

#endif
