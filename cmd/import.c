/* dv import: an archive becomes a tracked directory. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/ops/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct import_options {
    int no_checkout, force, quiet;
} import_options;

static const cmd_option import_option_table[] = {
    CMD_FLAG(import_options, no_checkout, "no-checkout", 0,
             "store it and write the pointer file, but leave the work tree alone"),
    CMD_FLAG(import_options, force, "force", 'f',
             "replace what stands at <dest-path>, even unsaved changes"),
    CMD_FLAG(import_options, quiet, "quiet", 'q', "print only warnings and errors"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_import_syntax = {
    "usage: dv import [--no-checkout] [-f] [-q] <archive> <dest-path>\n"
    "\n"
    "Store the contents of an archive (tar, compressed or not, zip, and the other\n"
    "formats libarchive reads; - for standard input) as the tracked directory\n"
    "<dest-path>, without extracting it: write <dest-path>.dv, stage it, then\n"
    "check the directory out. An archive with an entry dv refuses (a name with '..',\n"
    "an absolute path, a device file, a link that leads outside, a name twice)\n"
    "changes nothing.\n",
    import_option_table,
    sizeof(import_options),
    2,
    2,
    "name an archive (or -) and the directory to import it into",
    CMD_COMPLETE_FILES,
};

/* The archive argument, open for reading: a file, or standard input for "-". */
static int open_archive(int *fd, const char *arg)
{
    if (!strcmp(arg, "-")) {
        *fd = STDIN_FILENO;
        return 0;
    }
    *fd = open(arg, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        int saved = errno;
        if (saved == ENOENT)
            return dv_error_set(DV_EUSAGE, "archive %s does not exist", arg);
        errno = saved;
        return dv_error_errno("cannot open archive %s", arg);
    }
    struct stat st;
    if (fstat(*fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(*fd);
        *fd = -1;
        return dv_error_set(DV_EUSAGE, "%s is a directory, not an archive (use dv add for it)",
                            arg);
    }
    return 0;
}

int cmd_import(cmd_context *ctx)
{
    const import_options *opts = ctx->options;
    dv_repo *repo = ctx->repo;
    const char *archive = ctx->args[0];
    char **dest_path = NULL;
    int fd = -1, rc = 0;
    if ((rc = cmd_relpaths(&dest_path, repo, 1, &ctx->args[1])) != 0)
        return rc;
    const char *dest = dest_path[0];
    int error = open_archive(&fd, archive);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    dv_import_options import_opts = {opts->force};
    dv_import_result result;
    error = dv_import(&result, repo, fd, !strcmp(archive, "-") ? "(standard input)" : archive, dest,
                      &import_opts);
    if (error < 0) {
        rc = cmd_fail(error);
        if (!result.stored)
            fprintf(stderr, "dv: nothing was imported\n");
        goto done;
    }
    dv_buf shown = DV_BUF_INIT;
    if (!opts->quiet)
        printf("imported %llu entr%s into %s (%llu file%s, %llu director%s, %s): %s new in "
               "store\n",
               (unsigned long long)result.entries, result.entries == 1 ? "y" : "ies",
               cmd_show_path(&shown, repo, dest), (unsigned long long)result.files,
               result.files == 1 ? "" : "s", (unsigned long long)result.dirs,
               result.dirs == 1 ? "y" : "ies", cmd_human_bytes(result.bytes),
               cmd_human_bytes(result.bytes_stored));
    dv_buf_release(&shown);
    if (!opts->no_checkout) {
        const char *paths[] = {dest};
        rc = cmd_restore(repo, NULL, paths, 1, opts->force, opts->quiet);
    }
done:
    if (fd > STDIN_FILENO)
        close(fd);
    cmd_relpaths_free(dest_path, 1);
    return rc;
}
