/* dv fsck: verify the store. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/object/object.h"
#include "core/ops/fsck.h"

#include <string.h>

typedef struct fsck_options {
    int quiet;
} fsck_options;

static const cmd_option fsck_option_table[] = {
    CMD_FLAG(fsck_options, quiet, "quiet", 'q', "print only the problems"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_fsck_syntax = {
    "usage: dv fsck [-q]\n"
    "\n"
    "Re-read every pack: check its checksum and index, decompress every object\n"
    "and verify its SHA-256, and check that every manifest's chunks and every\n"
    "tree's entries exist. Exit status 1 if anything is wrong.\n",
    fsck_option_table,
    sizeof(fsck_options),
    0,
    0,
    "dv fsck takes no paths",
    CMD_COMPLETE_NONE,
};

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

typedef struct fsck_output {
    dv_buf quoted;
    uint64_t missing_packs; /* indexes whose pack held objects now lost */
} fsck_output;

static void orphan(void *ctx, const char *idx_path, uint64_t objects, uint64_t lost,
                   const char *message)
{
    fsck_output *o = ctx;
    const char *shown = cmd_quote_path(&o->quoted, idx_path);
    if (message) {
        printf("bad pack index %s, whose pack is missing: %s (remove it: rm %s)\n",
               base_name(idx_path), message, shown);
    } else if (lost) {
        o->missing_packs++;
        printf("missing pack for index %s: %llu of the %llu objects it lists are in no other "
               "pack\n",
               base_name(idx_path), (unsigned long long)lost, (unsigned long long)objects);
    } else {
        printf("leftover index %s: its pack is gone, but all %llu objects it lists are in "
               "other packs (remove it: rm %s)\n",
               base_name(idx_path), (unsigned long long)objects, shown);
    }
}

int cmd_fsck(cmd_context *ctx)
{
    int quiet = ((const fsck_options *)ctx->options)->quiet, rc;
    dv_odb *odb;
    dv_fsck_result result;
    fsck_output out = {DV_BUF_INIT, 0};
    int error = dv_repo_odb(&odb, ctx->repo);
    if (!error)
        error = dv_fsck(&result, odb, problem, orphan, &out);
    if (error < 0) {
        rc = cmd_fail(error);
        goto done;
    }
    if (!quiet || result.problems || result.leftovers) {
        printf("checked %llu pack%s, %llu objects (%s): %llu problem%s",
               (unsigned long long)result.packs, result.packs == 1 ? "" : "s",
               (unsigned long long)result.objects, cmd_human_bytes(result.bytes),
               (unsigned long long)result.problems, result.problems == 1 ? "" : "s");
        if (result.leftovers)
            printf(", %llu leftover file%s", (unsigned long long)result.leftovers,
                   result.leftovers == 1 ? "" : "s");
        putchar('\n');
    }
    if (result.problems)
        printf("to repair: dv add the affected paths again from a work tree that has them, "
               "or fetch them from a remote%s\n",
               out.missing_packs ? " (the index of a missing pack is then reported as a "
                                   "leftover, to remove)"
                                 : "");
    rc = result.problems ? DV_EXIT_NO : DV_EXIT_OK;
done:
    dv_buf_release(&out.quoted);
    return rc;
}
