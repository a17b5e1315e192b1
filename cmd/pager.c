/* pager: dv's standard output through a pager, as git's pager.c does. */
#include "cmd/pager.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The pager of this process: one at most, waited for by the atexit handler (or the handler
 * of a fatal signal). Set once, before any signal handler may read it. */
static volatile pid_t pager_pid = -1;

/* A copy of git's core.pager, or NULL when it is unset or cannot be read. */
static char *config_pager(git_repository *git)
{
    git_config *config = NULL, *snapshot = NULL;
    const char *value = NULL;
    char *copy = NULL;
    int opened =
        git ? git_repository_config_snapshot(&snapshot, git) : git_config_open_default(&config);
    if (opened < 0)
        return NULL;
    if (!git && git_config_snapshot(&snapshot, config) < 0)
        snapshot = NULL;
    if (snapshot && git_config_get_string(&value, snapshot, "core.pager") == 0 && value)
        copy = strdup(value);
    git_config_free(snapshot);
    git_config_free(config);
    return copy;
}

/* Whether an executable file name is in a directory of PATH. */
static int on_path(const char *name)
{
    const char *path = getenv("PATH");
    char file[4096];
    while (path && *path) {
        size_t len = strcspn(path, ":");
        if (len &&
            snprintf(file, sizeof(file), "%.*s/%s", (int)len, path, name) < (int)sizeof(file) &&
            access(file, X_OK) == 0)
            return 1;
        path += len + (path[len] == ':');
    }
    return 0;
}

/* The pager command, or NULL for none (also when none is configured and less is not
 * installed: the output is written directly then). The caller frees it. */
static char *pager_command(git_repository *git)
{
    const char *env = getenv("DV_PAGER");
    char *command = env ? strdup(env) : config_pager(git);
    if (!env && !command && (env = getenv("PAGER")))
        command = strdup(env);
    if (!env && !command && on_path("less"))
        command = strdup("less");
    if (command && (!command[0] || !strcmp(command, "cat"))) {
        free(command);
        command = NULL;
    }
    return command;
}

static void wait_for_pager(void)
{
    if (pager_pid < 0)
        return;
    /* The pager sees the end of its input only when every copy of the pipe is closed;
     * stderr never went to it. */
    fflush(stdout);
    close(STDOUT_FILENO);
    while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    pager_pid = -1;
}

int cmd_pager_start(int enabled, git_repository *git)
{
    if (!enabled || pager_pid >= 0 || !isatty(STDOUT_FILENO))
        return 0;
    char *command = pager_command(git);
    int fds[2];
    if (!command)
        return 0;
    if (pipe(fds) < 0) {
        free(command);
        return 0;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        free(command);
        return 0;
    }
    if (pid == 0) {
        /* The child of a process that has started no thread yet: setenv is safe here. */
        if (dup2(fds[0], STDIN_FILENO) < 0)
            _exit(127);
        close(fds[0]);
        close(fds[1]);
        if (!getenv("LESS"))
            setenv("LESS", "FRX", 1);
        if (!getenv("LV"))
            setenv("LV", "-c", 1);
        signal(SIGPIPE, SIG_DFL);
        execl("/bin/sh", "sh", "-c", command, (char *)NULL);
        _exit(127);
    }
    free(command);
    close(fds[0]);
    if (dup2(fds[1], STDOUT_FILENO) < 0) {
        /* stdout is still the terminal: write there, and let the pager see its end */
        close(fds[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return 0;
    }
    close(fds[1]);
    pager_pid = pid;
    atexit(wait_for_pager);
    return 1;
}

void cmd_pager_wait_in_signal(void)
{
    pid_t pid = pager_pid;
    if (pid < 0)
        return;
    close(STDOUT_FILENO); /* what stdio still holds is lost, as with any fatal signal */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

int cmd_pager_active(void)
{
    return pager_pid >= 0;
}
