/* dv remote: add, list and remove the remotes of a repository. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/repo/remoteconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cmd_syntax cmd_remote_syntax = {
    "usage: dv remote add [--default] [--endpoint <url>] [--region <r>] [--path-style]\n"
    "                     [--profile <p>] <name> <url>\n"
    "   or: dv remote list [-v]\n"
    "   or: dv remote remove <name>\n"
    "   or: dv remote modify <name> <key> <value>\n"
    "   or: dv remote rename <old> <new>\n"
    "\n"
    "Remotes are kept in .dv/config, which is committed, so clones know them.\n"
    "URLs: s3://<bucket>[/<prefix>] for S3-compatible storage, a directory (a path,\n"
    "or file:///<path>), or http[s]://<host>[/<path>] for a read-only mirror of a\n"
    "directory remote (a web server that lists packs/ and answers range requests;\n"
    "fetch and pull only). S3 credentials, first found wins:\n"
    "remote.<name>.access-key-id and .secret-access-key in .dv/config.local (never\n"
    "in .dv/config, which is refused); with --profile, that section of\n"
    "~/.aws/credentials; AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and\n"
    "AWS_SESSION_TOKEN); the AWS_PROFILE or [default] section of ~/.aws/credentials.\n"
    "AWS_ENDPOINT_URL and AWS_REGION (or AWS_DEFAULT_REGION) stand in for\n"
    "--endpoint and --region when those are not configured.\n"
    "modify sets one of url, endpoint, region, profile, path-style (true/false) or\n"
    "default (true/false); rename moves the remote's keys, its credentials in\n"
    ".dv/config.local and core.remote when it names it.\n",
    NULL,
    0,
    1,
    -1,
    "dv remote needs add, list, remove, modify or rename",
    CMD_COMPLETE_NONE,
};

/* The options of all the subcommands. */
typedef struct remote_options {
    int make_default; /* add */
    dv_remote_settings settings;
    int verbose; /* list */
} remote_options;

static const cmd_option remote_add_option_table[] = {
    CMD_FLAG(remote_options, make_default, "default", 0,
             "make it the remote push, fetch and pull use by default"),
    CMD_VALUE(remote_options, settings.endpoint, "endpoint", 0, "<url>",
              "S3: the service's address (e.g. http://127.0.0.1:9000)", CMD_COMPLETE_NONE),
    CMD_VALUE(remote_options, settings.region, "region", 0, "<r>",
              "S3: the region to sign for (default: AWS_REGION,\nAWS_DEFAULT_REGION, or us-east-1)",
              CMD_COMPLETE_NONE),
    CMD_FLAG(remote_options, settings.path_style, "path-style", 0,
             "S3: address buckets as <endpoint>/<bucket> (most services\nother than AWS need it)"),
    CMD_VALUE(remote_options, settings.profile, "profile", 0, "<p>",
              "S3: the section of ~/.aws/credentials to use", CMD_COMPLETE_NONE),
    CMD_OPTIONS_END,
};

static const cmd_syntax remote_add_syntax = {
    NULL,
    remote_add_option_table,
    sizeof(remote_options),
    2,
    2,
    "dv remote add needs a name and a URL",
    CMD_COMPLETE_NONE,
};

static const cmd_option remote_list_option_table[] = {
    CMD_FLAG(remote_options, verbose, "verbose", 'v', "list: show each remote's URL"),
    CMD_OPTIONS_END,
};

static const cmd_syntax remote_list_syntax = {
    NULL,
    remote_list_option_table,
    sizeof(remote_options),
    0,
    0,
    "dv remote list takes no arguments",
    CMD_COMPLETE_NONE,
};

static const cmd_syntax remote_remove_syntax = {
    NULL, NULL, 0, 1, 1, "dv remote remove needs a name", CMD_COMPLETE_REMOTES,
};

static int remote_add(cmd_context *ctx)
{
    remote_options *opts = ctx->options;
    opts->settings.url = ctx->args[1];
    return cmd_stage_config(
        ctx->repo, dv_remoteconf_add(ctx->repo, ctx->args[0], &opts->settings, opts->make_default));
}

static int remote_list(cmd_context *ctx)
{
    int verbose = ((const remote_options *)ctx->options)->verbose;
    dv_repo *repo = ctx->repo;
    dv_remote_list list;
    char *def = NULL;
    int error = dv_remoteconf_list(&list, repo);
    if (error < 0)
        return cmd_fail(error);
    if (dv_remoteconf_default(&def, repo) < 0)
        dv_error_clear();
    for (size_t i = 0; i < list.n; i++) {
        if (verbose)
            printf("%s\t%s%s\n", list.names[i], list.urls[i],
                   def && !strcmp(def, list.names[i]) ? "\t(default)" : "");
        else
            printf("%s\n", list.names[i]);
    }
    free(def);
    dv_remote_list_release(&list);
    return 0;
}

static int remote_remove(cmd_context *ctx)
{
    return cmd_stage_config(ctx->repo, dv_remoteconf_remove(ctx->repo, ctx->args[0]));
}

static const cmd_syntax remote_modify_syntax = {
    NULL, NULL, 0, 3, 3, "dv remote modify needs a name, a key and a value", CMD_COMPLETE_REMOTES,
};

static const cmd_syntax remote_rename_syntax = {
    NULL,
    NULL,
    0,
    2,
    2,
    "dv remote rename needs the old name and the new one",
    CMD_COMPLETE_REMOTES,
};

static int remote_modify(cmd_context *ctx)
{
    return cmd_stage_config(
        ctx->repo, dv_remoteconf_modify(ctx->repo, ctx->args[0], ctx->args[1], ctx->args[2]));
}

static int remote_rename(cmd_context *ctx)
{
    return cmd_stage_config(ctx->repo, dv_remoteconf_rename(ctx->repo, ctx->args[0], ctx->args[1]));
}

/* dv remote -v, as git has it: dv remote list -v. */
static int remote_list_verbose(cmd_context *ctx)
{
    ((remote_options *)ctx->options)->verbose = 1;
    return remote_list(ctx);
}

const cmd_command cmd_remote_subcommands[] = {
    {"add", remote_add, 0, "add a remote", &remote_add_syntax, NULL},
    {"list", remote_list, 0, "list the remotes", &remote_list_syntax, NULL},
    {"-v", remote_list_verbose, CMD_HIDDEN, NULL, &remote_list_syntax, NULL},
    {"remove", remote_remove, 0, "remove a remote", &remote_remove_syntax, NULL},
    {"rm", remote_remove, CMD_HIDDEN, NULL, &remote_remove_syntax, NULL},
    {"modify", remote_modify, 0, "set one setting of a remote", &remote_modify_syntax, NULL},
    {"rename", remote_rename, 0, "rename a remote", &remote_rename_syntax, NULL},
    {NULL, NULL, 0, NULL, NULL, NULL},
};
