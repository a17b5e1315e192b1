/*
 * import: an archive becomes a tracked directory. Its entries are checked and streamed
 * into a store of their own (core/data/archive_read); only when the whole archive passed
 * are that store's packs moved into the repository's store, the pointer file written and
 * it and the .gitignore line staged. A refused archive leaves the store, the work tree and
 * git's index as they were. Checking the data out is the caller's next step.
 */
#ifndef DV_IMPORT_H
#define DV_IMPORT_H

#include "core/base/error.h"

#include "core/repo/repo.h"

#include <stdint.h>

/* Where imports build their packs: <cache>/import/<random>/ (a store of its own, moved
 * into the store's packs/ when the archive passed). */
#define DV_IMPORT_STAGING_DIR "import"

typedef struct dv_import_options {
    int force; /* replace what stands at the destination, even unsaved changes */
} dv_import_options;

typedef struct dv_import_result {
    uint64_t entries;      /* archive entries read */
    uint64_t files;        /* files and symlinks imported */
    uint64_t dirs;         /* directories below the destination */
    uint64_t bytes;        /* their total size */
    uint64_t bytes_stored; /* bytes added to the store, after compression */
    int pointer_written;   /* 0 when the pointer file already said exactly this */
    int stored;            /* the archive passed and its packs went to the store: after an
                              error, the pointer file may not be written, but the content is
                              there (an error before leaves everything as it was) */
} dv_import_result;

/**
 * Check that dest (a work-tree path) may receive an import: a path dv add would take,
 * and, when something stands there (or a pointer file names it), that it is a tracked path
 * whose work-tree data matches its pointer, or force. DV_EUSAGE for a path dv cannot track,
 * DV_ECONFLICT when it would replace data that is not saved.
 */
DV_NODISCARD int dv_import_check_dest(dv_repo *repo, const char *dest, int force);

/**
 * Import the archive open at fd (a file or a pipe; name for messages) as the directory
 * dest: checks dest (as dv_import_check_dest), reads and checks the whole archive into a
 * staging store, moves its packs into the store, writes <dest>.dv and stages it with the
 * .gitignore line. The caller holds the lock. On any error nothing was written outside
 * the staging store, which is removed: DV_ECORRUPT names the entry of an archive that was
 * refused or could not be read.
 */
DV_NODISCARD int dv_import(dv_import_result *result, dv_repo *repo, int fd, const char *name,
                           const char *dest, const dv_import_options *opts);

#endif
