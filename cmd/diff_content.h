/*
 * diff_content: dv diff's look inside a modified file — a table's rows, columns and drift,
 * a Parquet file's footer, a text file's lines — read through core/ops/filediff and
 * written for people, as JSON and as Markdown.
 */
#ifndef DV_CMD_DIFF_CONTENT_H
#define DV_CMD_DIFF_CONTENT_H

#include "core/base/buf.h"
#include "core/base/json.h"
#include "core/ops/diff.h"
#include "core/ops/filediff.h"
#include "core/table/pqdiff.h"

#include <stdio.h>

enum diff_content_kind {
    DIFF_CONTENT_NONE = 0, /* not looked into: not a modified regular file */
    DIFF_CONTENT_TABLE,
    DIFF_CONTENT_TEXT,
    DIFF_CONTENT_BINARY,    /* neither a table nor text */
    DIFF_CONTENT_TOO_LARGE, /* text larger than --text-limit */
    DIFF_CONTENT_ERROR,     /* could not be compared: message says why */
    DIFF_CONTENT_PARQUET,   /* two Parquet footers compared */
};

typedef struct diff_content_options {
    dv_table_options table;
    uint64_t text_limit;
    int force_text;
    int worktree_fd; /* the work tree, for new sides in_worktree */
    int color;       /* colour the output for people (diff_content_print) */
} diff_content_options;

/* The colours of dv diff's output for people, as git's (SGR sequences). */
#define DIFF_COLOR_RESET "\033[m"
#define DIFF_COLOR_BOLD "\033[1m"
#define DIFF_COLOR_RED "\033[31m"
#define DIFF_COLOR_GREEN "\033[32m"
#define DIFF_COLOR_YELLOW "\033[33m"
#define DIFF_COLOR_CYAN "\033[36m"

typedef struct diff_content {
    int kind;
    int format; /* for TABLE and errors of tables: DV_TABLE_* */
    dv_table_report table;
    dv_pqdiff_report parquet;
    dv_buf patch;
    char *message;  /* for ERROR */
    int error_code; /* for ERROR: the DV_E* code */
} diff_content;

/** Look inside entry's two versions (both in odb) into c, which the caller releases. An
 *  error comparing them is kept in c as DIFF_CONTENT_ERROR; only DV_ENOMEM is returned. */
int diff_content_read(diff_content *c, dv_odb *odb, const dv_diff_entry *entry, const char *old_rev,
                      const char *new_rev, const diff_content_options *opts);

/** The content for people, under the file's line, indented. */
void diff_content_print(const diff_content *c, const diff_content_options *opts);
/** The content as the value of key "content" of the file's JSON object. */
void diff_content_json(dv_json *j, const diff_content *c, const diff_content_options *opts);
/** The content as Markdown, after the file's heading. */
void diff_content_md(dv_buf *out, const diff_content *c, const diff_content_options *opts);
/** A one-cell summary for the Markdown table of files ("+3 / -1 / ~2 rows"); "" if none. */
void diff_content_md_brief(dv_buf *out, const diff_content *c);

void diff_content_release(diff_content *c);

#endif
