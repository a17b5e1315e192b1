/*
 * commit: dv add the tracked paths whose data changed, then make a git commit of git's
 * index through libgit2, as git commit would: parent HEAD (none on an unborn branch),
 * HEAD's branch (or a detached HEAD) moved with a reflog entry "commit: <subject>",
 * author and committer from the environment and git's configuration.
 */
#ifndef DV_COMMIT_H
#define DV_COMMIT_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/object/pointer.h"
#include "core/ops/add.h"
#include "core/ops/checkout.h"
#include "core/ops/status.h"
#include "core/repo/repo.h"

#include <git2.h>
#include <stdint.h>

/* Largest commit message read back from the editor. */
#define DV_COMMIT_MESSAGE_MAX_BYTES (16u << 20)

/** One path that the commit changes, against HEAD. */
typedef struct dv_commit_change {
    char *path;         /* for a pointer file its data path, else the file's path */
    int is_data;        /* the path is a pointer file's data path */
    char status;        /* 'A' new, 'M' modified, 'D' deleted, 'T' type changed */
    int has_pointer;    /* is_data and not deleted, and the staged pointer parsed */
    dv_pointer pointer; /* the staged pointer, with has_pointer */
} dv_commit_change;

/** What dv_commit_prepare found and did; what dv_commit_create commits. */
typedef struct dv_commit_plan {
    git_signature *author, *committer;
    git_oid tree_id;          /* the tree of git's index */
    git_commit *parent;       /* HEAD's commit; NULL on an unborn branch */
    char *branch;             /* the branch HEAD names ("main"); NULL when detached */
    dv_add_result added;      /* what dv add did (all zero when nothing was added) */
    dv_path_list added_paths; /* the data paths whose data changed, to add */
    int added_done;           /* dv add stored and staged them */
    dv_status_report status;  /* of the tracked paths looked at (for warnings) */
    dv_commit_change *changes;
    size_t n_changes, n_data_changes;
} dv_commit_plan;

/**
 * Author and committer as git would make them: name from GIT_<ROLE>_NAME, else
 * <role>.name, else user.name; email from GIT_<ROLE>_EMAIL, else <role>.email, else
 * user.email, else EMAIL; time from GIT_<ROLE>_DATE, else now. DV_EUSAGE saying how to set
 * them (git config user.name / user.email) when a name or an email is missing. Free both
 * with git_signature_free.
 */
DV_NODISCARD int dv_commit_identity(git_signature **author, git_signature **committer,
                                    dv_repo *repo);

/**
 * Parse a date as git's GIT_AUTHOR_DATE takes it: "<seconds> <+hhmm>" (also with "@"),
 * ISO 8601 "YYYY-MM-DD[T ]HH:MM[:SS][Z|<+hh[:]mm>]" and RFC 2822 "[Thu, ]07 Apr 2005
 * 22:13:13 +0200". Without a zone, ISO dates are local time. DV_EUSAGE for anything else.
 */
DV_NODISCARD int dv_commit_parse_date(int64_t *seconds, int *offset_minutes, const char *text);

/**
 * Check that a commit can be made (an identity, no merge or rebase in progress), dv add the
 * tracked paths under filters (all when n_filters is 0) whose data changed, write git's index
 * as a tree and list what differs from HEAD. plan->n_changes 0 means nothing to commit. The
 * caller holds the lock and frees the plan, which it passes to dv_commit_create.
 */
DV_NODISCARD int dv_commit_prepare(dv_commit_plan *plan, dv_repo *repo, const char *const *filters,
                                   size_t n_filters, const dv_add_options *opts);
void dv_commit_plan_free(dv_commit_plan *plan);

/** The text the editor starts from: an empty line, then '#' lines saying what will be
 *  committed, as git writes them. */
DV_NODISCARD int dv_commit_template(dv_buf *out, const dv_commit_plan *plan);

/** <git dir>/COMMIT_EDITMSG, where the message is edited (the work tree's own git dir). */
DV_NODISCARD int dv_commit_message_path(dv_buf *out, dv_repo *repo);

/**
 * The editor command, as git picks it: GIT_EDITOR, core.editor, VISUAL (unless TERM is
 * "dumb"), EDITOR, else vi. DV_EUSAGE when the terminal is dumb and none is set.
 */
DV_NODISCARD int dv_commit_editor(dv_buf *out, dv_repo *repo);

/** Clean a message as git does: trailing spaces and blank lines at the ends dropped, runs of
 *  blank lines made one, and with strip_comments lines starting with '#' dropped. An empty
 *  result means the commit is to be aborted. */
DV_NODISCARD int dv_commit_clean_message(dv_buf *out, const char *raw, int strip_comments);

/**
 * Make the commit of plan's tree with message (cleaned, not empty), its parent plan's HEAD,
 * and move HEAD (its branch, or HEAD itself when detached) to it with the reflog message
 * "commit: <subject>" ("commit (initial): ..." for the first). Fails when HEAD moved since
 * the plan was made. The commit's id goes to *out.
 */
DV_NODISCARD int dv_commit_create(git_oid *out, dv_repo *repo, const dv_commit_plan *plan,
                                  const char *message);

#endif
