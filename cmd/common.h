/*
 * common: what every command shares: error reporting and exit codes, human
 * sizes, JSON strings, the progress bar, and the repository opening step.
 */
#ifndef DV_CMD_COMMON_H
#define DV_CMD_COMMON_H

#include "core/base/buf.h"
#include "core/ops/checkout.h"
#include "core/ops/transfer.h"
#include "core/repo/repo.h"
#include "core/repo/rev.h"
#include "remotes/remote.h"
#include "storage/repack.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cmd_command cmd_command;

/* Exit codes (documented in dv(1)). */
enum {
    DV_EXIT_OK = 0,
    DV_EXIT_NO = 1,       /* the answer is no: differences, not clean, problems found */
    DV_EXIT_USAGE = 2,    /* bad usage, not in a repository */
    DV_EXIT_LOCKED = 3,   /* the lock could not be taken in time */
    DV_EXIT_CONFLICT = 4, /* would overwrite unsaved data */
    DV_EXIT_FAILURE = 5,  /* corrupt store, I/O error, anything else */
    DV_EXIT_PARTIAL = 6,  /* done, but some content could not be compared (dv diff) */
};

/** Print "dv: error: <last error>" and return the exit code for code. */
int cmd_fail(int code);
/** Print "dv: error: <message>", then the usage of command (unless NULL), and return
 *  DV_EXIT_USAGE. */
int cmd_usage_error(const cmd_command *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cmd_exit_code(int code);

/** 1024-based size ("1.5 GiB", "17 B") into a static per-thread ring. */
const char *cmd_human_bytes(uint64_t bytes);
/** Print what a repack kept, freed and did to the packs (dv gc, dv drop): "kept: ...",
 *  "freed: ...", "packs: ..." lines, each starting "would be" with dry_run. */
void cmd_print_repack(const dv_repack_result *r, int dry_run);
/** A tree entry's mode (DV_MODE_*) as git's tree-entry modes: "100644", "100755", "120000",
 *  "040000". */
const char *cmd_mode_text(uint8_t mode);
/** path as shown to people: as is, or C-quoted when it holds control characters or
 *  quotes (as git does). Returns out->ptr. */
const char *cmd_quote_path(dv_buf *out, const char *path);
/** A work-tree path as shown to people: relative to the current directory, quoted
 *  when needed. Returns out->ptr. */
const char *cmd_show_path(dv_buf *out, const dv_repo *repo, const char *relpath);

/** Open the repository for the current directory; on failure prints and returns the exit code. */
int cmd_open_repo(dv_repo **out);
/** The same, as far as the configuration (dv_repo_open_settings). */
int cmd_open_repo_settings(dv_repo **out);
/** After a change to the committed .dv/config that returned error: print the error and
 *  return its exit code, or stage the file (a failure to is a warning) and return 0. */
int cmd_stage_config(dv_repo *repo, int error);
/** Take the lock, then the store's gc lock shared, telling the user if we have to wait.
 *  Returns 0 or an exit code. */
int cmd_lock_repo(dv_repo *repo);
/** The same, with the store's gc lock exclusive when store_exclusive is set (dv gc). */
int cmd_lock_repo_mode(dv_repo *repo, int store_exclusive);
/** With the repository lock held and the store's gc lock shared: hold the gc lock
 *  exclusively instead (waiting for the other writers of the store). 0 or an exit code. */
int cmd_lock_store_exclusive(dv_repo *repo);
/** dv fsck --repair (and dv fetch --repair) from remote_name (NULL: the default), with the
 *  locks held, the gc lock exclusively. Returns the exit code. */
int cmd_repair_store(dv_repo *repo, const char *remote_name, int quiet);

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

/* What completion offers for an argument or an option's value. */
typedef enum cmd_complete {
    CMD_COMPLETE_NONE,     /* nothing (a name, a number, a URL) */
    CMD_COMPLETE_FILES,    /* files and directories of the work tree */
    CMD_COMPLETE_TRACKED,  /* the data paths of the pointer files git tracks */
    CMD_COMPLETE_REMOTES,  /* the names dv remote list prints */
    CMD_COMPLETE_COMMANDS, /* dv's commands */
} cmd_complete;

/** One option of a command: --long_name or -short_name. A flag sets an int to 1; an option
 *  with a value_name takes a value (--name VALUE, --name=VALUE, -n VALUE; only --name=VALUE
 *  when it has a bare_value) that goes to a const char *. Either lives at offset in the command's
 * options struct. */
typedef struct cmd_option {
    const char *long_name;
    char short_name;        /* 0 for none */
    const char *value_name; /* "<name>" for an option with a value, NULL for a flag */
    size_t offset;
    const char *help;      /* for the usage text; a line after a '\n' is indented under the first */
    cmd_complete complete; /* what the value is, for completion */
    int repeatable;        /* the value goes to a cmd_values, once for each time it is given */
    /* For an optional value (--name or --name=VALUE, never --name VALUE): the value of a
     * bare --name; NULL when the value is required. */
    const char *bare_value;
} cmd_option;

/** The values of an option that may be given more than once. */
#define CMD_VALUES_MAX 64
typedef struct cmd_values {
    const char *v[CMD_VALUES_MAX];
    int n;
} cmd_values;

#define CMD_FLAG(type, field, long_name, short_name, help)                                         \
    {                                                                                              \
        long_name, short_name, NULL, offsetof(type, field), help, CMD_COMPLETE_NONE, 0, NULL       \
    }
#define CMD_VALUE(type, field, long_name, short_name, value_name, help, complete)                  \
    {                                                                                              \
        long_name, short_name, value_name, offsetof(type, field), help, complete, 0, NULL          \
    }
#define CMD_VALUES(type, field, long_name, short_name, value_name, help, complete)                 \
    {                                                                                              \
        long_name, short_name, value_name, offsetof(type, field), help, complete, 1, NULL          \
    }
/* A long option whose value is optional: a bare --long_name gives bare_value. */
#define CMD_VALUE_OPTIONAL(type, field, long_name, value_name, bare_value, help)                   \
    {                                                                                              \
        long_name, 0, value_name, offsetof(type, field), help, CMD_COMPLETE_NONE, 0, bare_value    \
    }
#define CMD_OPTIONS_END                                                                            \
    {                                                                                              \
        NULL, 0, NULL, 0, NULL, CMD_COMPLETE_NONE, 0, NULL                                         \
    }

/** A command's options and arguments, defined in its file beside the command. */
typedef struct cmd_syntax {
    /** The synopsis and the description, ending in a newline; the options are listed below it
     *  from the table. NULL for a subcommand, which shows its command's usage. */
    const char *usage;
    const cmd_option *options; /* ends with CMD_OPTIONS_END; NULL for none */
    size_t options_size;       /* of the struct that options point into */
    int min_args, max_args;    /* arguments after the options; max_args -1 for any number */
    const char *args_error;    /* the usage error when their number is out of range */
    cmd_complete args;         /* what the arguments are, for completion */
} cmd_syntax;

/* What main does before it runs a command, as git's RUN_SETUP flags. */
enum {
    CMD_NEEDS_REPO = 1 << 0,      /* open the repository of the current directory */
    CMD_RELPATHS = 1 << 1,        /* the arguments are paths: turn them into work-tree paths */
    CMD_TAKES_LOCK = 1 << 2,      /* hold the repository lock while the command runs */
    CMD_RAW_ARGS = 1 << 3,        /* no option parsing: the arguments are passed on as they are */
    CMD_HIDDEN = 1 << 4,          /* not in dv --help, the completion or the man page check */
    CMD_SETTINGS_ONLY = 1 << 5,   /* with CMD_NEEDS_REPO: open it without checking the values
                                     of its configuration (dv config, which mends them) */
    CMD_STORE_EXCLUSIVE = 1 << 6, /* with CMD_TAKES_LOCK: the store's gc lock exclusive, not
                                     shared (dv gc: no other command uses the store) */
};

typedef struct cmd_context cmd_context;

/** An entry of the dispatch table (cmd/main.c), or of a command's subcommands. */
struct cmd_command {
    const char *name; /* NULL ends a table */
    int (*fn)(cmd_context *ctx);
    unsigned flags;      /* CMD_NEEDS_REPO, ... */
    const char *summary; /* one line for dv --help */
    const cmd_syntax *syntax;
    /** With subcommands the first argument names one (after the repository is opened, when
     *  the command needs one); fn is not used. Ends with a NULL name. */
    const cmd_command *subcommands;
};

/** What a command gets from main: its options parsed and its preamble done. */
struct cmd_context {
    const cmd_command *command; /* the top-level command, for its usage text */
    void *options;              /* the struct its option table fills, zeroed first */
    char **args;                /* the arguments after the options (all, with CMD_RAW_ARGS) */
    int n_args;
    dv_repo *repo;         /* with CMD_NEEDS_REPO (for a subcommand: when its command has it) */
    char **paths;          /* with CMD_RELPATHS: args as work-tree paths, n_args of them */
    int n_before_dashdash; /* arguments before "--", or -1 when there was none */
};

/**
 * For a command taking [<rev>] [--] [<path>...]: whether its first argument names a
 * revision, as git decides. Before "--" it does; with "--" first it does not; without
 * "--", it does when it resolves and is not a path in the work tree (as is or with
 * ".dv"), and an argument that is neither is refused naming it. *rev is NULL when there
 * is none. Returns 0 or an exit code (error printed).
 */
int cmd_take_rev(dv_rev **rev, cmd_context *ctx);
/** cmd_fail, with a hint to fetch rev's data when the store lacks what error names. */
int cmd_fail_at(int error, const dv_rev *rev);

/** The dispatch table: dv's commands, ending with a NULL name. */
extern const cmd_command cmd_commands[];
/** The command of that name in a table (hidden ones too), or NULL. */
const cmd_command *cmd_find(const cmd_command *table, const char *name);

/**
 * Parse options (flags, valued options and --help) wherever they are among the
 * arguments, until "--", into dest; the arguments are moved, in order, to the end of argv.
 * *n_before_dashdash is the number of arguments before "--", or -1 without one.
 * Returns -1 with *first_arg set to continue, or an exit code for the command to return
 * (usage printed).
 */
int cmd_parse_options(int *first_arg, int *n_before_dashdash, int argc, char **argv,
                      const cmd_command *usage_of, const cmd_option *options, void *dest);

/** The usage text of a command: its synopsis and description, then its options (those of
 *  every subcommand) from the tables. Returns 0 or DV_ENOMEM. */
int cmd_usage_text(dv_buf *out, const cmd_command *command);

/** Commands report --help through this: prints the usage to stdout, returns 0. */
int cmd_print_usage(const cmd_command *command);

/* Commands */
int cmd_init(cmd_context *ctx);
int cmd_add(cmd_context *ctx);
int cmd_status(cmd_context *ctx);
int cmd_checkout(cmd_context *ctx);
int cmd_fsck(cmd_context *ctx);
int cmd_gc(cmd_context *ctx);
int cmd_drop(cmd_context *ctx);
int cmd_ls(cmd_context *ctx);
int cmd_cat(cmd_context *ctx);
int cmd_export(cmd_context *ctx);
int cmd_log(cmd_context *ctx);
int cmd_push(cmd_context *ctx);
int cmd_fetch(cmd_context *ctx);
int cmd_pull(cmd_context *ctx);
int cmd_commit(cmd_context *ctx);
int cmd_install_hooks(cmd_context *ctx);
int cmd_hook(cmd_context *ctx);
int cmd_diff(cmd_context *ctx);
int cmd_config(cmd_context *ctx);
int cmd_help(cmd_context *ctx);
int cmd_completion(cmd_context *ctx);
int cmd_import(cmd_context *ctx);

extern const cmd_syntax cmd_init_syntax, cmd_add_syntax, cmd_status_syntax, cmd_checkout_syntax,
    cmd_fsck_syntax, cmd_remote_syntax, cmd_push_syntax, cmd_fetch_syntax, cmd_pull_syntax,
    cmd_completion_syntax, cmd_ls_syntax, cmd_cat_syntax, cmd_log_syntax, cmd_diff_syntax;
extern const cmd_syntax cmd_commit_syntax, cmd_config_syntax, cmd_gc_syntax, cmd_drop_syntax;
extern const cmd_syntax cmd_install_hooks_syntax, cmd_hook_syntax, cmd_export_syntax,
    cmd_import_syntax;
extern const cmd_command cmd_remote_subcommands[];
extern const cmd_syntax cmd_bundle_syntax;
extern const cmd_command cmd_bundle_subcommands[];

/* Push, fetch and pull share their options and their report. */
typedef struct cmd_transfer_args {
    const char *remote_name; /* -r, --remote */
    const char *jobs_text;   /* -j, --jobs */
    int quiet, stats, force, repair;
    cmd_values revs; /* --rev */
    int all_branches, all_tags, all_commits;
    dv_revset *preset; /* revisions a caller made (the pre-push hook), instead of those options;
                          lent */
} cmd_transfer_args;

/* Their option table's entries. */
#define CMD_TRANSFER_REMOTE                                                                        \
    CMD_VALUE(cmd_transfer_args, remote_name, "remote", 'r', "<name>",                             \
              "the remote (default: core.remote, or the only one)", CMD_COMPLETE_REMOTES)
#define CMD_TRANSFER_JOBS(what)                                                                    \
    CMD_VALUE(cmd_transfer_args, jobs_text, "jobs", 'j', "<n>",                                    \
              what " in flight (default: transfer.jobs, or 4)", CMD_COMPLETE_NONE)
#define CMD_TRANSFER_FORCE                                                                         \
    CMD_FLAG(cmd_transfer_args, force, "force", 'f', "overwrite unsaved changes (and say which)")
#define CMD_TRANSFER_REPAIR(what) CMD_FLAG(cmd_transfer_args, repair, "repair", 0, what)
#define CMD_TRANSFER_QUIET                                                                         \
    CMD_FLAG(cmd_transfer_args, quiet, "quiet", 'q', "print only warnings and errors")
#define CMD_TRANSFER_STATS                                                                         \
    CMD_FLAG(cmd_transfer_args, stats, "stats", 0, "print the requests made to the remote")
#define CMD_TRANSFER_REV                                                                           \
    CMD_VALUES(cmd_transfer_args, revs, "rev", 0, "<rev>",                                         \
               "the data of this revision (a branch, tag, commit...)\ninstead of the work tree's " \
               "(repeatable)",                                                                     \
               CMD_COMPLETE_NONE)
#define CMD_TRANSFER_REVS                                                                          \
    CMD_TRANSFER_REV,                                                                              \
        CMD_FLAG(cmd_transfer_args, all_branches, "all-branches", 0, "the data of every branch"),  \
        CMD_FLAG(cmd_transfer_args, all_tags, "all-tags", 0, "the data of every tag"),             \
        CMD_FLAG(cmd_transfer_args, all_commits, "all-commits", 0,                                 \
                 "the data of every commit of the history")
/* Their syntax: the usage text, then the entries of the option table; any paths. */
#define CMD_TRANSFER_SYNTAX(usage, ...)                                                            \
    {                                                                                              \
        usage, (const cmd_option[]){__VA_ARGS__, CMD_OPTIONS_END}, sizeof(cmd_transfer_args), 0,   \
            -1, NULL, CMD_COMPLETE_TRACKED                                                         \
    }

/** Open the remote named in args (or the default one) and turn --jobs into *jobs (0 when not
 *  given). Returns 0 or an exit code (error printed). */
int cmd_transfer_open(dv_remote **out, int *jobs, dv_repo *repo, const cmd_transfer_args *args);
/** dv_push or dv_fetch. */
typedef int (*cmd_transfer_fn)(dv_transfer_result *result, dv_repo *repo, dv_remote *remote,
                               const char *const *filters, size_t n_filters,
                               const dv_transfer_options *opts);
/** Open the remote that ctx's options (cmd_transfer_args) name and run transfer over ctx's
 *  paths with a progress bar labelled label, then print --stats. Returns 0 with *error set to
 *  what transfer returned (the caller frees *result and *remote), or an exit code when the
 *  remote could not be opened (error printed, nothing to free). */
int cmd_transfer_run(dv_transfer_result *result, int *error, dv_remote **remote, cmd_context *ctx,
                     const char *label, cmd_transfer_fn transfer);
/** The revisions that --rev, --all-branches, --all-tags and --all-commits name (NULL when
 *  none: the work tree's pointers). Returns 0 or an exit code (error printed). */
int cmd_transfer_revs(dv_revset **out, cmd_context *ctx);
/** With --stats, print the remote's request counters to stderr. */
void cmd_transfer_stats(const dv_remote *remote, const cmd_transfer_args *args);

/** Make the work-tree data under paths (all when n is 0) match the pointer files (those of
 *  rev when it is not NULL) and report it, as dv checkout does. The caller holds the lock.
 *  Returns an exit code. */
int cmd_restore(dv_repo *repo, dv_rev *rev, const char *const *paths, size_t n, int force,
                int quiet);
/** Report a checkout that returned error: conflicts, overwritten paths, then what it
 *  wrote (unless quiet). Returns an exit code. */
int cmd_restore_report(dv_repo *repo, const dv_rev *rev, const dv_checkout_result *result,
                       int error, int quiet);
/** Report a fetch that returned error: what it brought (unless quiet). Returns an exit code. */
int cmd_fetch_report(const dv_transfer_result *result, const dv_remote *remote, int error,
                     int quiet);

/** Warn about each pointer file that could not be read and was skipped. */
void cmd_warn_bad_pointers(const dv_path_list *bad);
/** Fetch the data of ctx's paths from the remote its options (cmd_transfer_args) name, as
 *  dv fetch does, and report. The caller holds the lock. Returns an exit code; unreadable
 *  pointer files are skipped and counted in *n_bad (and warned about when warn_bad is set),
 *  for the caller to exit non-zero. */
int cmd_transfer_fetch(cmd_context *ctx, int warn_bad, size_t *n_bad);

#endif
