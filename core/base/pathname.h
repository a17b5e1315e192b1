/*
 * pathname: the names dv never writes into a work tree. Besides the names no file
 * system takes ("", ".", "..", '/' and NUL inside), these are ".git" and ".dv" in any
 * letter case and in every form that some file system folds to them: trailing dots and
 * spaces and NTFS stream suffixes (".git.", ".git ", ".git::$INDEX_ALLOCATION"), the
 * 8.3 short names ("GIT~1", "DV~1") and HFS+'s ignored code points (".g\u200cit"),
 * as git refuses them. Trees, pointer paths and archives are checked against this one
 * rule before anything is written.
 */
#ifndef DV_PATHNAME_H
#define DV_PATHNAME_H

#include "core/base/error.h"

#include <stddef.h>

/** NULL if name (len bytes, one path component) may be written, else what is wrong with
 *  it, for a message ("is '..'", "names a repository's .git directory"). */
const char *dv_pathname_problem(const char *name, size_t len);

/** 1 if name is ".git" or ".dv" in one of the forms above (a name dv never enters). */
DV_NODISCARD int dv_pathname_reserved(const char *name, size_t len);

/**
 * Check every component of a '/'-separated relative path. NULL if all may be written,
 * else what is wrong; *bad_offset (when not NULL) gets the offending component's
 * offset and *bad_len its length.
 */
const char *dv_pathname_check_path(const char *path, size_t *bad_offset, size_t *bad_len);

#endif
