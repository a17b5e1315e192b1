/*
 * file: a remote on a directory (local disk, NFS, a mounted share), written with temp
 * files, fsync and rename so that readers never see part of an object.
 */
#ifndef DV_REMOTE_FILE_H
#define DV_REMOTE_FILE_H

#include "core/base/error.h"

#include "remotes/remote.h"

/** A remote on a local (or network) directory; created if missing. */
DV_NODISCARD int dv_remote_file_open(dv_remote **out, const char *dir);

#endif
