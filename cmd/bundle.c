/* dv bundle: create, verify, unbundle and list bundle files (packs in one file). */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/base/json.h"
#include "core/ops/bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cmd_syntax cmd_bundle_syntax = {
    "usage: dv bundle create <file> [--rev <rev>]... [--all-branches] [--all-tags]\n"
    "                        [--since <rev>]... [-q] [<path>...]\n"
    "   or: dv bundle verify [-q] <file>\n"
    "   or: dv bundle unbundle [-q] <file>\n"
    "   or: dv bundle list [--json] <file>\n"
    "\n"
    "A bundle is one file holding the packs that revisions' data needs and only\n"
    "those, for carrying data where no remote reaches (a disk to an air-gapped\n"
    "site). create writes the objects the revisions' pointer files reach (below\n"
    "the paths, when given); with --since, minus what those revisions reach, for\n"
    "a receiver that has them. verify checks the whole file: its checksum, every\n"
    "pack and index, every object's SHA-256, and that what the bundle needs is in\n"
    "it or in the store. unbundle checks the same, then adds the packs to the\n"
    "store; when a check fails it adds nothing. list says what a bundle holds.\n"
    "A bundle also serves where a remote is taken: dv fetch -r ./data.dvbundle,\n"
    "dv pull -r ./data.dvbundle --rev v2.\n",
    NULL,
    0,
    1,
    -1,
    "dv bundle needs create, verify, unbundle or list",
    CMD_COMPLETE_NONE,
};

/* The options of all the subcommands. */
typedef struct bundle_options {
    cmd_values revs, since;
    int all_branches, all_tags, quiet, json;
} bundle_options;

static const cmd_option bundle_create_option_table[] = {
    CMD_VALUES(bundle_options, revs, "rev", 0, "<rev>",
               "create: the data of this revision (a branch, tag,\ncommit...; repeatable)",
               CMD_COMPLETE_NONE),
    CMD_FLAG(bundle_options, all_branches, "all-branches", 0, "create: the data of every branch"),
    CMD_FLAG(bundle_options, all_tags, "all-tags", 0, "create: the data of every tag"),
    CMD_VALUES(bundle_options, since, "since", 0, "<rev>",
               "create: leave out what this revision's data holds\n(an incremental bundle; "
               "repeatable)",
               CMD_COMPLETE_NONE),
    CMD_FLAG(bundle_options, quiet, "quiet", 'q', "print only warnings and errors"),
    CMD_OPTIONS_END,
};

static const cmd_option bundle_check_option_table[] = {
    CMD_FLAG(bundle_options, quiet, "quiet", 'q', "print only warnings and errors"),
    CMD_OPTIONS_END,
};

static const cmd_option bundle_list_option_table[] = {
    CMD_FLAG(bundle_options, json, "json", 0, "list: print one JSON object"),
    CMD_OPTIONS_END,
};

static const cmd_syntax bundle_create_syntax = {
    NULL,
    bundle_create_option_table,
    sizeof(bundle_options),
    1,
    -1,
    "dv bundle create needs the file to write",
    CMD_COMPLETE_TRACKED,
};

static const cmd_syntax bundle_verify_syntax = {
    NULL,
    bundle_check_option_table,
    sizeof(bundle_options),
    1,
    1,
    "dv bundle verify needs one bundle file",
    CMD_COMPLETE_FILES,
};

static const cmd_syntax bundle_unbundle_syntax = {
    NULL,
    bundle_check_option_table,
    sizeof(bundle_options),
    1,
    1,
    "dv bundle unbundle needs one bundle file",
    CMD_COMPLETE_FILES,
};

static const cmd_syntax bundle_list_syntax = {
    NULL,
    bundle_list_option_table,
    sizeof(bundle_options),
    1,
    1,
    "dv bundle list needs one bundle file",
    CMD_COMPLETE_FILES,
};

static int bundle_create(cmd_context *ctx)
{
    const bundle_options *o = ctx->options;
    char **paths = NULL;
    int n_paths = ctx->n_args - 1, rc;
    if ((rc = cmd_relpaths(&paths, ctx->repo, n_paths, ctx->args + 1)))
        return rc;
    dv_bundle_create_options opts = {
        o->revs.v,          (size_t)o->revs.n,          o->all_branches, o->all_tags, o->since.v,
        (size_t)o->since.n, (const char *const *)paths, (size_t)n_paths,
    };
    dv_bundle_summary s;
    int error = dv_bundle_create(&s, ctx->repo, ctx->args[0], &opts);
    cmd_relpaths_free(paths, n_paths);
    if (error < 0)
        return cmd_fail(error);
    if (!o->quiet)
        fprintf(stderr, "dv: wrote %s: %llu objects in %llu packs, %s\n", ctx->args[0],
                (unsigned long long)s.objects, (unsigned long long)s.packs,
                cmd_human_bytes(s.bundle_bytes));
    return 0;
}

static int bundle_check(cmd_context *ctx, int apply)
{
    const bundle_options *o = ctx->options;
    dv_bundle_summary s;
    int error = dv_bundle_check(&s, ctx->repo, ctx->args[0], apply);
    if (error < 0)
        return cmd_fail(error);
    if (o->quiet)
        return 0;
    if (apply)
        fprintf(stderr, "dv: unbundled %s: %llu objects in %llu packs (%llu new to the store)\n",
                ctx->args[0], (unsigned long long)s.objects, (unsigned long long)s.packs,
                (unsigned long long)s.packs_added);
    else
        printf("%s is whole: %llu objects in %llu packs, %s; what its %llu roots need is in it%s\n",
               ctx->args[0], (unsigned long long)s.objects, (unsigned long long)s.packs,
               cmd_human_bytes(s.bundle_bytes), (unsigned long long)s.roots,
               s.roots_in_store ? " or in the store" : "");
    return 0;
}

static int bundle_verify(cmd_context *ctx)
{
    return bundle_check(ctx, 0);
}

static int bundle_unbundle(cmd_context *ctx)
{
    return bundle_check(ctx, 1);
}

static const char *rev_kind(const dv_bundle_rev *r)
{
    return r->kind == DV_BUNDLE_REV_BASE ? "since" : "rev";
}

static int list_json(const dv_bundle *b, const dv_bundle_pack_info *packs, uint64_t objects)
{
    const dv_bundle_header *h = &b->header;
    dv_buf out = DV_BUF_INIT;
    dv_json j;
    dv_json_init(&j, &out);
    dv_json_object_begin(&j);
    dv_json_key(&j, "revisions");
    dv_json_array_begin(&j);
    for (size_t i = 0; i < h->n_revs; i++) {
        dv_json_object_begin(&j);
        dv_json_key(&j, "kind");
        dv_json_string(&j, rev_kind(&h->revs[i]));
        dv_json_key(&j, "name");
        dv_json_string(&j, h->revs[i].name);
        dv_json_key(&j, "commit");
        dv_json_string(&j, h->revs[i].commit);
        dv_json_object_end(&j);
    }
    dv_json_array_end(&j);
    dv_json_key(&j, "paths");
    dv_json_array_begin(&j);
    for (size_t i = 0; i < h->n_paths; i++)
        dv_json_string(&j, h->paths[i]);
    dv_json_array_end(&j);
    dv_json_key(&j, "roots");
    dv_json_uint(&j, h->n_roots);
    dv_json_key(&j, "packs");
    dv_json_array_begin(&j);
    for (size_t i = 0; i < h->n_files / 2; i++) {
        dv_json_object_begin(&j);
        dv_json_key(&j, "id");
        dv_json_string(&j, dv_oid_hex(&packs[i].id));
        dv_json_key(&j, "objects");
        dv_json_uint(&j, packs[i].objects);
        dv_json_key(&j, "bytes");
        dv_json_uint(&j, packs[i].pack_bytes);
        dv_json_key(&j, "index_bytes");
        dv_json_uint(&j, packs[i].index_bytes);
        dv_json_object_end(&j);
    }
    dv_json_array_end(&j);
    dv_json_key(&j, "objects");
    dv_json_uint(&j, objects);
    dv_json_key(&j, "bytes");
    dv_json_uint(&j, b->bytes);
    dv_json_object_end(&j);
    int error = dv_json_finish(&j);
    if (error == 0)
        printf("%s\n", out.ptr);
    dv_buf_release(&out);
    return error < 0 ? cmd_fail(error) : 0;
}

static int bundle_list(cmd_context *ctx)
{
    const bundle_options *o = ctx->options;
    dv_bundle *b;
    dv_bundle_pack_info *packs;
    int error = dv_bundle_describe(&b, &packs, ctx->args[0]);
    if (error < 0)
        return cmd_fail(error);
    const dv_bundle_header *h = &b->header;
    uint64_t objects = 0;
    for (size_t i = 0; i < h->n_files / 2; i++)
        objects += packs[i].objects;
    int rc = 0;
    if (o->json) {
        rc = list_json(b, packs, objects);
    } else {
        dv_buf quoted = DV_BUF_INIT;
        for (size_t i = 0; i < h->n_revs; i++)
            printf("%-5s %s %s\n", rev_kind(&h->revs[i]), h->revs[i].commit,
                   cmd_quote_path(&quoted, h->revs[i].name));
        for (size_t i = 0; i < h->n_paths; i++)
            printf("path  %s\n", cmd_quote_path(&quoted, h->paths[i]));
        for (size_t i = 0; i < h->n_files / 2; i++)
            printf("pack  %s %u objects %llu bytes\n", dv_oid_hex(&packs[i].id), packs[i].objects,
                   (unsigned long long)(packs[i].pack_bytes + packs[i].index_bytes));
        printf("total %zu roots, %zu packs, %llu objects, %llu bytes\n", h->n_roots, h->n_files / 2,
               (unsigned long long)objects, (unsigned long long)b->bytes);
        dv_buf_release(&quoted);
    }
    free(packs);
    dv_bundle_free(b);
    return rc;
}

const cmd_command cmd_bundle_subcommands[] = {
    {"create", bundle_create, CMD_TAKES_LOCK, "write a bundle of revisions' data",
     &bundle_create_syntax, NULL},
    {"verify", bundle_verify, CMD_TAKES_LOCK | CMD_STORE_EXCLUSIVE,
     "check a bundle whole, against the store", &bundle_verify_syntax, NULL},
    {"unbundle", bundle_unbundle, CMD_TAKES_LOCK | CMD_STORE_EXCLUSIVE,
     "check a bundle, then add its packs to the store", &bundle_unbundle_syntax, NULL},
    {"list", bundle_list, 0, "say what a bundle holds", &bundle_list_syntax, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL},
};
