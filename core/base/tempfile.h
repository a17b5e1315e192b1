/*
 * tempfile: the temp files this process created and has not yet renamed into place or
 * removed, so that none is left behind by an exit or a SIGINT/SIGTERM (as git's
 * tempfile.c). Removal is async-signal-safe: every path is copied when it is
 * registered, and removing them only reads those copies and calls unlink().
 */
#ifndef DV_TEMPFILE_H
#define DV_TEMPFILE_H

#include "core/base/error.h"

#include <stddef.h>

/** Remember path (just created by this process) for removal on exit or signal. Returns 0
 *  or DV_ENOMEM. Thread-safe. */
DV_NODISCARD int dv_tempfile_register(const char *path);

/** Stop remembering path: it was renamed into place or removed. Unknown paths are fine.
 *  Thread-safe. */
void dv_tempfile_forget(const char *path);

/** unlink(path) (a missing file is fine) and forget it. Returns 0 or DV_EIO. */
DV_NODISCARD int dv_tempfile_remove(const char *path);

/**
 * unlink() every registered temp file of this process (not of a child that inherited the
 * list through fork). Async-signal-safe: for signal handlers and atexit(). The files
 * stay forgotten: this is for the end of the process.
 */
void dv_tempfile_remove_all(void);

/** How many temp files are registered now (for tests and checks). */
size_t dv_tempfile_count(void);

#endif
