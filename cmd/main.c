/* main: global options and dispatch to one command. */
#include "cmd/common.h"
#include "cmd/pager.h"

#include "core/base/error.h"
#include "core/base/tempfile.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char main_usage_head[] =
    "usage: dv [-C <dir>] [--version] [--help] <command> [<args>]\n"
    "\n"
    "Version large files and directories next to git: git holds small pointer\n"
    "files, dv keeps the content in a deduplicating, compressed store.\n"
    "\n"
    "commands:\n";
static const char main_usage_tail[] = "\n"
                                      "See 'dv help <command>' or 'man dv-<command>' for more.\n";

/* dv help takes a command's name. */
static const cmd_syntax help_syntax = {
    NULL, NULL, 0, 0, 1, NULL, CMD_COMPLETE_COMMANDS,
};

/*
 * The dispatch table. The flags say what main does before it calls the command, in this order:
 * parse its options (unless CMD_RAW_ARGS) and check the number of its arguments, open the
 * repository (CMD_NEEDS_REPO), turn the arguments into work-tree paths (CMD_RELPATHS), take the
 * lock (CMD_TAKES_LOCK); and after it, release them.
 */
const cmd_command cmd_commands[] = {
    {"init", cmd_init, 0, "set up dv in the current git repository", &cmd_init_syntax, NULL},
    {"add", cmd_add, CMD_NEEDS_REPO | CMD_RELPATHS | CMD_TAKES_LOCK,
     "store files or directories and write their pointer files", &cmd_add_syntax, NULL},
    {"status", cmd_status, CMD_NEEDS_REPO | CMD_RELPATHS,
     "show which tracked paths differ from their pointer files", &cmd_status_syntax, NULL},
    {"checkout", cmd_checkout, CMD_NEEDS_REPO | CMD_TAKES_LOCK,
     "make the work tree match the pointer files (or a revision's)", &cmd_checkout_syntax, NULL},
    {"push", cmd_push, CMD_NEEDS_REPO | CMD_RELPATHS | CMD_TAKES_LOCK,
     "send the data named by the pointer files to a remote", &cmd_push_syntax, NULL},
    {"fetch", cmd_fetch, CMD_NEEDS_REPO | CMD_RELPATHS | CMD_TAKES_LOCK,
     "bring the data named by the pointer files into the store", &cmd_fetch_syntax, NULL},
    {"pull", cmd_pull, CMD_NEEDS_REPO | CMD_RELPATHS | CMD_TAKES_LOCK, "fetch, then check out",
     &cmd_pull_syntax, NULL},
    {"import", cmd_import, CMD_NEEDS_REPO | CMD_TAKES_LOCK,
     "store an archive's contents as a tracked directory", &cmd_import_syntax, NULL},
    {"commit", cmd_commit, CMD_NEEDS_REPO | CMD_RELPATHS | CMD_TAKES_LOCK,
     "add the data that changed, then make a git commit", &cmd_commit_syntax, NULL},
    {"install-hooks", cmd_install_hooks, CMD_NEEDS_REPO | CMD_TAKES_LOCK,
     "install git hooks that keep the data in line with the pointer files",
     &cmd_install_hooks_syntax, NULL},
    {"hook", cmd_hook, CMD_RAW_ARGS | CMD_HIDDEN | CMD_NEEDS_REPO | CMD_TAKES_LOCK,
     "what the hooks of dv install-hooks run", &cmd_hook_syntax, NULL},
    {"remote", NULL, CMD_NEEDS_REPO, "add, list, change, rename and remove remotes",
     &cmd_remote_syntax, cmd_remote_subcommands},
    {"bundle", NULL, CMD_NEEDS_REPO, "carry revisions' data in one file, and take it in",
     &cmd_bundle_syntax, cmd_bundle_subcommands},
    {"config", cmd_config, CMD_NEEDS_REPO | CMD_SETTINGS_ONLY,
     "get, set, list and unset dv's settings", &cmd_config_syntax, NULL},
    {"ls", cmd_ls, CMD_NEEDS_REPO, "list the files inside tracked data at a revision",
     &cmd_ls_syntax, NULL},
    {"cat", cmd_cat, CMD_NEEDS_REPO, "write one tracked file's bytes at a revision",
     &cmd_cat_syntax, NULL},
    {"export", cmd_export, CMD_NEEDS_REPO,
     "write tracked data at a revision as a tar or zip archive", &cmd_export_syntax, NULL},
    {"log", cmd_log, CMD_NEEDS_REPO, "show the commits where tracked data changed", &cmd_log_syntax,
     NULL},
    {"diff", cmd_diff, CMD_NEEDS_REPO, "show what changed in tracked data between revisions",
     &cmd_diff_syntax, NULL},
    {"fsck", cmd_fsck, CMD_NEEDS_REPO, "verify every pack and object in the store",
     &cmd_fsck_syntax, NULL},
    {"gc", cmd_gc, CMD_NEEDS_REPO | CMD_TAKES_LOCK | CMD_STORE_EXCLUSIVE,
     "delete from the store what no kept revision needs", &cmd_gc_syntax, NULL},
    {"drop", cmd_drop, CMD_NEEDS_REPO | CMD_RELPATHS | CMD_TAKES_LOCK | CMD_STORE_EXCLUSIVE,
     "delete from the store content that a remote holds", &cmd_drop_syntax, NULL},
    {"help", cmd_help, CMD_RAW_ARGS, "show help for a command", &help_syntax, NULL},
    {"completion", cmd_completion, CMD_RAW_ARGS | CMD_HIDDEN,
     "print the shell completion script, or what it is made from", &cmd_completion_syntax, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const cmd_command *cmd_find(const cmd_command *table, const char *name)
{
    for (; table->name; table++)
        if (!strcmp(table->name, name))
            return table;
    return NULL;
}

/* dv's usage: the commands from the table. */
static int print_main_usage(FILE *to)
{
    fputs(main_usage_head, to);
    for (const cmd_command *c = cmd_commands; c->name; c++)
        if (!(c->flags & CMD_HIDDEN))
            fprintf(to, "  %-13s %s\n", c->name, c->summary);
    fputs(main_usage_tail, to);
    return 0;
}

/* After the message of a usage error (its exit code rc), dv's usage. */
static int with_main_usage(int rc)
{
    fputc('\n', stderr);
    print_main_usage(stderr);
    return rc;
}

int cmd_help(cmd_context *ctx)
{
    if (ctx->n_args < 1)
        return print_main_usage(stdout);
    const char *name = ctx->args[0];
    const cmd_command *command = cmd_find(cmd_commands, name);
    if (!command)
        return cmd_usage_error(NULL, "'%s' is not a dv command (see dv help)", name);
    if (isatty(STDOUT_FILENO)) {
        /* The manual says more than the usage text; show it when one is installed. */
        char page[64], probe[128];
        snprintf(page, sizeof(page), "dv-%s", name);
        snprintf(probe, sizeof(probe), "man -w %s >/dev/null 2>&1", page);
        fflush(stdout);
        if (system(probe) == 0)
            execlp("man", "man", page, (char *)NULL);
    }
    return command->syntax->usage ? cmd_print_usage(command) : print_main_usage(stdout);
}

/* Run command with the preamble its flags ask for. usage_of is the top-level command whose
 * usage text errors show; repo is its repository when command is one of its subcommands. */
static int run_command(const cmd_command *command, const cmd_command *usage_of, dv_repo *repo,
                       int argc, char **argv)
{
    const cmd_syntax *syntax = command->syntax;
    cmd_context ctx = {usage_of, NULL, argv + 1, argc - 1, repo, NULL, -1};
    int rc = 0;
    if (!(command->flags & CMD_RAW_ARGS)) {
        int first;
        if (syntax->options_size && !(ctx.options = calloc(1, syntax->options_size)))
            return cmd_fail(dv_error_set(DV_ENOMEM, "out of memory"));
        if ((rc = cmd_parse_options(&first, &ctx.n_before_dashdash, argc, argv, usage_of,
                                    syntax->options, ctx.options)) >= 0)
            goto done;
        rc = 0;
        ctx.args = argv + first;
        ctx.n_args = argc - first;
        if (ctx.n_args < syntax->min_args ||
            (syntax->max_args >= 0 && ctx.n_args > syntax->max_args)) {
            rc = cmd_usage_error(usage_of, "%s", syntax->args_error);
            goto done;
        }
    }
    if ((command->flags & CMD_NEEDS_REPO) &&
        (rc = (command->flags & CMD_SETTINGS_ONLY) ? cmd_open_repo_settings(&ctx.repo)
                                                   : cmd_open_repo(&ctx.repo)))
        goto done;
    if ((command->flags & CMD_RELPATHS) &&
        (rc = cmd_relpaths(&ctx.paths, ctx.repo, ctx.n_args, ctx.args)))
        goto done;
    if ((command->flags & CMD_TAKES_LOCK) &&
        (rc = cmd_lock_repo_mode(ctx.repo, (command->flags & CMD_STORE_EXCLUSIVE) != 0)))
        goto done;
    rc = command->fn(&ctx);
done:
    cmd_relpaths_free(ctx.paths, ctx.n_args);
    if (ctx.repo != repo)
        dv_repo_free(ctx.repo);
    free(ctx.options);
    return rc;
}

/* A command with subcommands: the first argument names one, which runs in the command's
 * repository. */
static int run_subcommand(const cmd_command *command, int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : NULL;
    const cmd_command *sub = name ? cmd_find(command->subcommands, name) : NULL;
    if (!name || (name[0] == '-' && !sub))
        return name && (!strcmp(name, "--help") || !strcmp(name, "-h"))
                   ? cmd_print_usage(command)
                   : cmd_usage_error(command, "%s", command->syntax->args_error);
    dv_repo *repo = NULL;
    int rc = 0;
    if ((command->flags & CMD_NEEDS_REPO) && (rc = cmd_open_repo(&repo)))
        return rc;
    if (sub)
        rc = run_command(sub, command, repo, argc - 1, argv + 1);
    else
        rc = cmd_usage_error(command, "unknown dv %s subcommand '%s'", command->name, name);
    dv_repo_free(repo);
    return rc;
}

/* Signals that end the process: temp files go with it, as after an exit. */
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};

static void on_fatal_signal(int sig)
{
    /* Only async-signal-safe calls here: unlink, write, close, waitpid, signal, raise. */
    dv_tempfile_remove_all();
    cmd_pager_wait_in_signal();
    if (sig != SIGPIPE) {
        static const char interrupted[] = "dv: interrupted; temporary files removed\n";
        static const char terminated[] = "dv: terminated; temporary files removed\n";
        const char *m = sig == SIGINT ? interrupted : terminated;
        size_t len = sig == SIGINT ? sizeof(interrupted) - 1 : sizeof(terminated) - 1;
        if (write(STDERR_FILENO, m, len) < 0) {
            /* nothing to do: stderr is gone */
        }
    }
    /* Die of the signal, so the parent sees how the command ended. It is blocked while
     * this handler runs and is delivered on return. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
        sigaddset(&sa.sa_mask, fatal_signals[i]);
    for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
        sigaction(fatal_signals[i], &sa, NULL);
    /* Past `ulimit -f`, a write fails with EFBIG, which names the file, instead of the
     * process being killed with the temp file half written. */
    signal(SIGXFSZ, SIG_IGN);
    atexit(dv_tempfile_remove_all);
}

int main(int argc, char **argv)
{
    install_signal_handlers();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--version") || !strcmp(arg, "-v")) {
            printf("dv version %s\n", DV_VERSION);
            return 0;
        }
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
            return print_main_usage(stdout);
        if (!strcmp(arg, "-C")) {
            if (i + 1 >= argc)
                return with_main_usage(cmd_usage_error(NULL, "-C needs a directory"));
            if (chdir(argv[++i]) < 0) {
                fprintf(stderr, "dv: error: cannot change to %s: %s\n", argv[i], strerror(errno));
                return DV_EXIT_USAGE;
            }
            continue;
        }
        return with_main_usage(cmd_usage_error(NULL, "unknown option %s", arg));
    }
    if (i >= argc) {
        print_main_usage(stderr);
        return DV_EXIT_USAGE;
    }
    const cmd_command *command = cmd_find(cmd_commands, argv[i]);
    if (!command)
        return cmd_usage_error(NULL, "'%s' is not a dv command (see dv help)", argv[i]);
    int rc = command->subcommands ? run_subcommand(command, argc - i, argv + i)
                                  : run_command(command, command, NULL, argc - i, argv + i);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dv: error: cannot write output: %s\n", strerror(errno));
        return DV_EXIT_FAILURE;
    }
    return rc;
}
