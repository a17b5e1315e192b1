/*
 * staging: a private directory of one command under <cache>/<kind>/<random>/ (dv import's
 * store of the archive's packs, dv pull's copy of the trees and manifests it fetched),
 * flocked while the command runs. What a killed command left is removed by the next one
 * that makes a staging directory of the same kind, once nobody holds it.
 */
#ifndef DV_STAGING_H
#define DV_STAGING_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/repo/repo.h"

/* A staging directory nobody holds is removed once it is this old. */
#define DV_STAGING_STALE_SECONDS 60

typedef struct dv_staging {
    dv_buf base; /* <cache>/<kind> */
    dv_buf dir;  /* <cache>/<kind>/<random> */
    int lock_fd; /* the directory, flocked while the command runs */
} dv_staging;

#define DV_STAGING_INIT {DV_BUF_INIT, DV_BUF_INIT, -1}

/** Make a new staging directory of kind (one path component) in the repository's cache,
 *  after removing the unheld leftovers of that kind. Remove it even when this fails. */
DV_NODISCARD int dv_staging_make(dv_staging *s, dv_repo *repo, const char *kind);
/** Remove the directory and all in it (left to a later sweep if that fails; this thread's
 *  error is kept as it was) and release s. */
void dv_staging_remove(dv_staging *s);

#endif
