/*
 * hooks: the git hooks dv installs (post-checkout, post-merge, post-rewrite and, by choice,
 * pre-push) and what they run. Each hook file is a small fixed shell script that calls
 * "dv hook <name>" and then the hook that was there before (kept as <name>.dv-chained);
 * uninstalling puts that one back as it was. The scripts are in docs/formats.md.
 */
#ifndef DV_HOOKS_H
#define DV_HOOKS_H

#include "core/base/error.h"

#include "core/base/buf.h"
#include "core/ops/checkout.h"
#include "core/repo/repo.h"

#include <stdint.h>

#define DV_HOOKS_FORMAT 1
#define DV_HOOKS_CHAINED_SUFFIX ".dv-chained"
/* Largest hook file read to tell whether it is dv's. */
#define DV_HOOKS_MAX_BYTES 65536

/** The hooks dv knows, in the order they are installed; pre-push is last. */
extern const char *const dv_hooks_names[];
#define DV_HOOKS_COUNT 4

/** What install or uninstall did to one hook. */
enum dv_hook_action {
    DV_HOOK_INSTALLED = 1, /* dv's hook written where there was none */
    DV_HOOK_CHAINED,       /* the hook that was there moved to <name>.dv-chained, dv's written */
    DV_HOOK_UPDATED,       /* dv's hook was there and was rewritten (another dv binary) */
    DV_HOOK_UNCHANGED,     /* dv's hook was there as it would be written */
    DV_HOOK_REMOVED,       /* dv's hook removed, nothing to restore */
    DV_HOOK_RESTORED,      /* dv's hook removed and the chained one put back */
    DV_HOOK_NOT_OURS,      /* uninstall: the hook there is not dv's; left alone */
    DV_HOOK_ABSENT,        /* uninstall: no hook there */
};

typedef struct dv_hooks_report {
    char *dir; /* the hooks directory */
    struct {
        const char *name; /* one of dv_hooks_names */
        int action;       /* enum dv_hook_action */
    } hooks[DV_HOOKS_COUNT];
    size_t n;
} dv_hooks_report;

void dv_hooks_report_free(dv_hooks_report *report);

/**
 * The directory git runs hooks from: core.hooksPath (a relative one from the top of the work
 * tree, "~/" expanded, as git does) or else the hooks directory of the repository's common
 * git directory (shared by linked worktrees).
 */
DV_NODISCARD int dv_hooks_dir(dv_buf *out, dv_repo *repo);

/** The bytes of dv's hook called name, which falls back to dv_bin when dv is not on PATH.
 *  DV_EUSAGE when dv_bin is not absolute or holds a control character. */
DV_NODISCARD int dv_hooks_script(dv_buf *out, const char *name, const char *dv_bin);

/** 1 if data (a hook file's content) is a hook dv wrote, of any format. */
DV_NODISCARD int dv_hooks_is_ours(const char *data, size_t len);

/**
 * Install dv's hooks (pre-push too when pre_push is set), calling dv_bin as a fallback. A hook
 * that is there and is not dv's is renamed to <name>.dv-chained and runs after dv's, with the
 * same arguments and stdin; DV_EEXISTS, nothing changed for that hook, when that name is
 * taken too. Running it again changes nothing (or rewrites dv's hooks only).
 */
DV_NODISCARD int dv_hooks_install(dv_hooks_report *out, dv_repo *repo, int pre_push,
                                  const char *dv_bin);

/** Remove dv's hooks, putting back the hook each one chained; hooks that are not dv's are
 *  left alone. */
DV_NODISCARD int dv_hooks_uninstall(dv_hooks_report *out, dv_repo *repo);

/**
 * Whether the hook name run by git with args (as git passes them) should bring the work
 * tree's data in line with the pointer files: post-checkout for a branch checkout whose
 * pointer files differ from those of the previous HEAD (args[0]); post-merge when they differ
 * from ORIG_HEAD's; post-rewrite after a rebase (not after an amend, made from this work
 * tree). DV_EUSAGE for another name or arguments git would not pass.
 */
DV_NODISCARD int dv_hooks_should_sync(int *sync, dv_repo *repo, const char *name, int argc,
                                      const char *const *args);

/** 1 in *changed when the pointer files staged in git's index differ from those of rev (a
 *  commit-ish); also when rev is the null id (no previous commit). */
DV_NODISCARD int dv_hooks_pointers_changed(int *changed, dv_repo *repo, const char *rev);

typedef struct dv_hooks_sync_result {
    char *remote;      /* the remote fetched from, or NULL */
    int no_remote;     /* data was lacking and no remote is configured */
    char *fetch_error; /* why the fetch failed, or NULL */
    uint64_t objects_fetched, bytes_fetched;
    dv_path_list lacking;        /* data paths whose content the store lacks (left as they are) */
    dv_path_list conflicts;      /* paths with changes not in the store (left as they are) */
    dv_path_list problems;       /* messages: pointer files or paths that could not be read */
    char *checkout_error;        /* why the checkout failed, or NULL */
    dv_checkout_result checkout; /* what it restored */
} dv_hooks_sync_result;

/**
 * Make the work-tree data match the pointer files staged in git, as far as can be done
 * without losing anything: the content the store lacks is fetched from the default remote
 * when there is one; then each tracked path that differs from its pointer is checked out,
 * except those with changes not in the store (never forced) and those whose content is still
 * missing, which are listed. Problems are reported in the result, not as errors: only running
 * out of memory (or the like) fails. The caller holds the lock and frees the result.
 */
DV_NODISCARD int dv_hooks_sync(dv_hooks_sync_result *out, dv_repo *repo);
void dv_hooks_sync_result_free(dv_hooks_sync_result *result);

#endif
