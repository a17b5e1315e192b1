/*
 * pager: a command's standard output through a pager, as git does: started only when
 * stdout is a terminal, waited for at exit so the shell prompt comes back after it.
 */
#ifndef DV_CMD_PAGER_H
#define DV_CMD_PAGER_H

#include <git2.h>

/**
 * When enabled and stdout is a terminal, run the pager (DV_PAGER, else git's core.pager
 * read from git, or from the user's git configuration when git is NULL, else PAGER, else
 * less; empty or "cat" for none) through /bin/sh -c with stdout going to it, and wait for
 * it at exit. LESS=FRX and LV=-c are set in its environment when unset. Standard error
 * stays where it is. A pager that cannot be started leaves stdout as it was. Returns 1
 * when a pager runs, else 0. Call it once, before anything is written to stdout.
 */
int cmd_pager_start(int enabled, git_repository *git);

/** For a handler of a fatal signal: end the pager's input and wait for it to quit (as git
 *  does, so the terminal is the shell's again when dv is gone). Async-signal-safe; does
 *  nothing without a pager. */
void cmd_pager_wait_in_signal(void);

/** Whether cmd_pager_start started a pager (so stdout goes to a terminal, through it). */
int cmd_pager_active(void);

#endif
