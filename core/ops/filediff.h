/*
 * filediff: what changed inside one modified file, each version read from the store or from the
 * work tree: a table diff for CSV, TSV and JSON Lines, or a unified line diff of a text file under
 * a size cap, or two Parquet files' footers compared. Only the two files' bytes are read.
 */
#ifndef DV_FILEDIFF_H
#define DV_FILEDIFF_H

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/object/hash.h"
#include "core/table/parquet.h"
#include "core/table/tablediff.h"
#include "storage/odb.h"

#include <stdint.h>

/**
 * One version of a file: in the store (odb, id its manifest, size), or, when wt_path is not
 * NULL, the work tree's regular file wt_path below the directory wt_fd, opened without
 * following symlinks, of which size bytes are read (a file that shrank since is an error).
 */
typedef struct dv_filediff_side {
    dv_odb *odb;
    dv_oid id;
    uint64_t size;
    const char *name; /* in messages: "data/x.csv (main)" */
    int wt_fd;
    const char *wt_path;
} dv_filediff_side;

/** The table format a path's name says (.csv, .tsv/.tab, .jsonl/.ndjson, any case), or 0. */
int dv_filediff_table_format(const char *path);

/** Whether a path's name says Parquet (.parquet, .parq, .pq, any case). */
int dv_filediff_is_parquet(const char *path);

/**
 * The footer of one version that is a Parquet file into out (DV_PARQUET_META_INIT): its last
 * 8 bytes, then the footer they give the length of, and nothing else. DV_ECORRUPT naming the
 * side when it is not Parquet or its footer does not decode; the store's errors; DV_ENOMEM.
 */
DV_NODISCARD int dv_filediff_parquet(dv_parquet_meta *out, const dv_filediff_side *side);

/** The table diff of the two versions (dv_table_diff, streaming both from the store). */
DV_NODISCARD int dv_filediff_table(dv_table_report *out, const dv_filediff_side *old_side,
                                   const dv_filediff_side *new_side, const dv_table_options *opts);

enum dv_filediff_text_result {
    DV_FILEDIFF_TEXT_DONE = 0,  /* the patch is in out */
    DV_FILEDIFF_TEXT_BINARY,    /* a side holds a NUL byte in its first 8000: not text */
    DV_FILEDIFF_TEXT_TOO_LARGE, /* a side is larger than the limit */
};

/**
 * A unified diff (three lines of context, git's format) of the two versions into out,
 * through libgit2's buffer diff, when both are text (no NUL in their first 8000 bytes, or
 * force_text) and each is at most limit bytes. *result says which. Errors: the store's,
 * libgit2's, DV_ENOMEM.
 */
DV_NODISCARD int dv_filediff_text(dv_buf *out, int *result, const dv_filediff_side *old_side,
                                  const dv_filediff_side *new_side, const char *old_path,
                                  const char *new_path, uint64_t limit, int force_text);

#endif
