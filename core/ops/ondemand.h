/*
 * ondemand: objects that a read needs and the local store lacks, fetched from a remote as
 * the read asks for them (dv diff). They go to a store of their own beside the local one,
 * <cache>/partial: a tree or manifest fetched there without what it names never makes the
 * local store look as if it held that data, so status, checkout, add, push and gc go on
 * trusting what the local store holds. Reads look in the local store, then the partial
 * one, then ask the remote (unless offline); what was fetched is kept for the next read.
 */
#ifndef DV_ONDEMAND_H
#define DV_ONDEMAND_H

#include "core/base/error.h"

#include "core/repo/repo.h"

#include <stdint.h>

typedef struct dv_ondemand dv_ondemand;

/**
 * Attach to the repository's store until dv_ondemand_detach: reads of repo's odb that miss
 * it look in <cache>/partial, then fetch from the remote called remote_name (NULL: the
 * default one). offline, or no remote configured and none named: nothing is fetched and a
 * missing object is the reader's usual error. The remote is opened at the first miss. A
 * remote named that is not configured is DV_EUSAGE.
 */
DV_NODISCARD int dv_ondemand_attach(dv_ondemand **out, dv_repo *repo, const char *remote_name,
                                    int offline);

/** Objects and pack bytes fetched so far, and the remote's name (NULL when none was used). */
const char *dv_ondemand_counts(const dv_ondemand *od, uint64_t *objects, uint64_t *bytes);

/** Detach from the store; what was fetched is made durable in <cache>/partial first. An
 *  error there is returned (what was read stays correct). od may be NULL. */
DV_NODISCARD int dv_ondemand_detach(dv_ondemand *od);

#endif
