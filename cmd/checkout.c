/* dv checkout: make the work tree match the pointer files. */
#include "common.h"

#include "core/checkout.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

const char cmd_checkout_usage[] =
    "usage: dv checkout [-f] [-q] [<path>...]\n"
    "\n"
    "Restore tracked data so that it matches the pointer files (after git\n"
    "checkout, git pull or a clone). Files that already match are not touched.\n"
    "Refuses to overwrite changes whose content is not in the store.\n"
    "\n"
    "  -f, --force  overwrite unsaved changes (and say which)\n"
    "  -q, --quiet  print only warnings and errors\n";

int cmd_checkout(int argc, char **argv)
{
    struct {
        int force, quiet;
    } opts = {0, 0};
    const cmd_flag flags[] = {
        {"force", 'f', &opts.force}, {"quiet", 'q', &opts.quiet}, {NULL, 0, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_checkout_usage, flags);
    if (rc >= 0)
        return rc;
    int n = argc - first;
    dv_repo *repo = NULL;
    char **paths = NULL;
    dv_checkout_result result;
    memset(&result, 0, sizeof(result));
    dv_buf shown = DV_BUF_INIT;
    rc = cmd_open_repo(&repo);
    if (rc)
        return rc;
    if ((rc = cmd_relpaths(&paths, repo, n, argv + first)) || (rc = cmd_lock_repo(repo)))
        goto done;
    cmd_progress progress;
    cmd_progress_start(&progress, "restoring", 0, opts.quiet);
    dv_checkout_options copts = {opts.force, cmd_progress_update, &progress,
                                 cmd_progress_set_total};
    int error = dv_checkout(&result, repo, (const char *const *)paths, (size_t)n, &copts);
    cmd_progress_end(&progress);
    for (size_t i = 0; i < result.bad_pointers.n; i++)
        cmd_warn("skipping a pointer file that cannot be read: %s", result.bad_pointers.paths[i]);
    if (error == DV_ECONFLICT) {
        fprintf(stderr, "dv: these paths have changes that are not in the store:\n");
        for (size_t i = 0; i < result.conflicts.n; i++) {
            cmd_show_path(&shown, repo, result.conflicts.paths[i]);
            fprintf(stderr, "    %s\n", shown.ptr);
        }
    }
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    for (size_t i = 0; i < result.overwritten.n; i++) {
        cmd_show_path(&shown, repo, result.overwritten.paths[i]);
        cmd_warn("overwrote unsaved changes in %s", shown.ptr);
    }
    if (!opts.quiet)
        printf("restored %llu file%s (%s), %llu unchanged, %llu removed\n",
               (unsigned long long)result.files_restored, result.files_restored == 1 ? "" : "s",
               cmd_human_bytes(result.bytes_restored), (unsigned long long)result.unchanged,
               (unsigned long long)result.removed);
    if (result.bad_pointers.n)
        rc = DV_EXIT_FAILURE;
done:
    dv_buf_release(&shown);
    dv_checkout_result_free(&result);
    cmd_relpaths_free(paths, n);
    dv_repo_free(repo);
    return rc;
}
