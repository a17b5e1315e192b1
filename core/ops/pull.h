/*
 * pull: dv fetch and dv checkout at once. The fetch runs on threads of its own; once
 * every tree and manifest has arrived (held aside by the fetch, copied into a staging
 * store that the checkout reads them from) the checkout plans and starts restoring,
 * and a chunk it needs that has not arrived yet is waited for until the fetch stores
 * it. The download and the writing of the work tree overlap: a pull takes about as
 * long as its download.
 */
#ifndef DV_PULL_H
#define DV_PULL_H

#include "core/base/error.h"

#include "core/ops/checkout.h"
#include "core/ops/transfer.h"

/**
 * Fetch what the store lacks of the data named by the pointer files staged in git (all, or
 * those under filters) from remote, and make the work tree match them, as dv_fetch then
 * dv_checkout would (topts->revs and copts->rev must be unset: a revision's checkout checks
 * that the store holds all it needs before it writes, so it runs after its fetch). The caller
 * holds the lock. Returns the fetch's error (the checkout, if it started, ended early then,
 * each file it restored whole); *restore_error is the checkout's (0 when it did not run).
 * Both results are filled in (free both).
 */
DV_NODISCARD int dv_pull(dv_transfer_result *fetched, dv_checkout_result *restored,
                         int *restore_error, dv_repo *repo, dv_remote *remote,
                         const char *const *filters, size_t n_filters,
                         const dv_transfer_options *topts, const dv_checkout_options *copts);

#endif
