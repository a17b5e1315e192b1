/* dv fsck: verify the store. */
#include "common.h"

#include "core/error.h"
#include "core/fsck.h"
#include "core/object.h"

#include <string.h>

const char cmd_fsck_usage[] =
    "usage: dv fsck [-q]\n"
    "\n"
    "Re-read every pack: check its checksum and index, decompress every object\n"
    "and verify its SHA-256, and check that every manifest's chunks and every\n"
    "tree's entries exist. Exit status 1 if anything is wrong.\n"
    "\n"
    "  -q, --quiet  print only the problems\n";

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void problem(void *ctx, const char *pack_path, const dv_oid *object, int type,
                    const char *message)
{
    (void)ctx;
    if (object)
        printf("bad %s %s in pack %s: %s\n", type ? dv_object_type_name(type) : "object",
               dv_oid_hex(object), base_name(pack_path), message);
    else if (pack_path[0])
        printf("bad pack %s: %s\n", base_name(pack_path), message);
    else
        printf("bad pack: %s\n", message);
}

int cmd_fsck(int argc, char **argv)
{
    int quiet = 0;
    const cmd_flag flags[] = {{"quiet", 'q', &quiet, NULL}, {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_fsck_usage, flags);
    if (rc >= 0)
        return rc;
    if (first < argc)
        return cmd_usage_error(cmd_fsck_usage, "dv fsck takes no paths");
    dv_repo *repo = NULL;
    dv_odb *odb;
    dv_fsck_result result;
    rc = cmd_open_repo(&repo);
    if (rc)
        return rc;
    int error = dv_repo_odb(&odb, repo);
    if (!error)
        error = dv_fsck(&result, odb, problem, NULL);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!quiet || result.problems)
        printf("checked %llu pack%s, %llu objects (%s): %llu problem%s\n",
               (unsigned long long)result.packs, result.packs == 1 ? "" : "s",
               (unsigned long long)result.objects, cmd_human_bytes(result.bytes),
               (unsigned long long)result.problems, result.problems == 1 ? "" : "s");
    if (result.problems)
        printf("to repair: dv add the affected paths again from a work tree that has them, "
               "or fetch them from a remote\n");
    rc = result.problems ? DV_EXIT_NO : DV_EXIT_OK;
done:
    dv_repo_free(repo);
    return rc;
}
