/* main: global options and dispatch to one command. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/base/tempfile.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char main_usage[] =
    "usage: dv [-C <dir>] [--version] [--help] <command> [<args>]\n"
    "\n"
    "Version large files and directories next to git: git holds small pointer\n"
    "files, dv keeps the content in a deduplicating, compressed store.\n"
    "\n"
    "commands:\n"
    "  init       set up dv in the current git repository\n"
    "  add        store files or directories and write their pointer files\n"
    "  status     show which tracked paths differ from their pointer files\n"
    "  checkout   make the work tree match the pointer files\n"
    "  push       send the data named by the pointer files to a remote\n"
    "  fetch      bring the data named by the pointer files into the store\n"
    "  pull       fetch, then check out\n"
    "  remote     add, list and remove remotes\n"
    "  fsck       verify every pack and object in the store\n"
    "  help       show help for a command\n"
    "\n"
    "See 'dv help <command>' or 'man dv-<command>' for more.\n";

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    {"init", cmd_init, cmd_init_usage},       {"add", cmd_add, cmd_add_usage},
    {"status", cmd_status, cmd_status_usage}, {"checkout", cmd_checkout, cmd_checkout_usage},
    {"push", cmd_push, cmd_push_usage},       {"fetch", cmd_fetch, cmd_fetch_usage},
    {"pull", cmd_pull, cmd_pull_usage},       {"remote", cmd_remote, cmd_remote_usage},
    {"fsck", cmd_fsck, cmd_fsck_usage},       {"help", cmd_help, NULL},
};

const char *cmd_usage_of(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, name))
            return commands[i].usage;
    return NULL;
}

int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_usage, stdout);
        return 0;
    }
    const char *usage = cmd_usage_of(argv[1]);
    if (!usage && strcmp(argv[1], "help"))
        return cmd_usage_error(NULL, "'%s' is not a dv command (see dv help)", argv[1]);
    if (isatty(STDOUT_FILENO)) {
        /* The manual says more than the usage text; show it when one is installed. */
        char page[64], probe[128];
        snprintf(page, sizeof(page), "dv-%s", argv[1]);
        snprintf(probe, sizeof(probe), "man -w %s >/dev/null 2>&1", page);
        fflush(stdout);
        if (system(probe) == 0)
            execlp("man", "man", page, (char *)NULL);
    }
    fputs(usage ? usage : main_usage, stdout);
    return 0;
}

/* Signals that end the process: temp files go with it, as after an exit. */
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};

static void on_fatal_signal(int sig)
{
    /* Only async-signal-safe calls here: unlink, write, signal, raise. */
    dv_tempfile_remove_all();
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
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            fputs(main_usage, stdout);
            return 0;
        }
        if (!strcmp(arg, "-C")) {
            if (i + 1 >= argc)
                return cmd_usage_error(main_usage, "-C needs a directory");
            if (chdir(argv[++i]) < 0) {
                fprintf(stderr, "dv: error: cannot change to %s: %s\n", argv[i], strerror(errno));
                return DV_EXIT_USAGE;
            }
            continue;
        }
        return cmd_usage_error(main_usage, "unknown option %s", arg);
    }
    if (i >= argc) {
        fputs(main_usage, stderr);
        return DV_EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (!strcmp(commands[c].name, argv[i])) {
            int rc = commands[c].fn(argc - i, argv + i);
            if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "dv: error: cannot write output: %s\n", strerror(errno));
                return DV_EXIT_FAILURE;
            }
            return rc;
        }
    }
    return cmd_usage_error(NULL, "'%s' is not a dv command (see dv help)", argv[i]);
}
