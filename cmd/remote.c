/* dv remote: add, list and remove the remotes of a repository. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/repo/remoteconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cmd_remote_usage[] =
    "usage: dv remote add [--default] [--endpoint <url>] [--region <r>] [--path-style]\n"
    "                     [--profile <p>] <name> <url>\n"
    "   or: dv remote list [-v]\n"
    "   or: dv remote remove <name>\n"
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
    "\n"
    "  --default         make it the remote push, fetch and pull use by default\n"
    "  --endpoint <url>  S3: the service's address (e.g. http://127.0.0.1:9000)\n"
    "  --region <r>      S3: the region to sign for (default: AWS_REGION,\n"
    "                    AWS_DEFAULT_REGION, or us-east-1)\n"
    "  --path-style      S3: address buckets as <endpoint>/<bucket> (most services\n"
    "                    other than AWS need it)\n"
    "  --profile <p>     S3: the section of ~/.aws/credentials to use\n"
    "  -v, --verbose     list: show each remote's URL\n";

static int remote_add(dv_repo *repo, int argc, char **argv)
{
    dv_remote_settings s = {0};
    int make_default = 0;
    const cmd_flag flags[] = {
        {"default", 0, &make_default, NULL}, {"endpoint", 0, NULL, &s.endpoint},
        {"region", 0, NULL, &s.region},      {"path-style", 0, &s.path_style, NULL},
        {"profile", 0, NULL, &s.profile},    {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_remote_usage, flags);
    if (rc >= 0)
        return rc;
    if (argc - first != 2)
        return cmd_usage_error(cmd_remote_usage, "dv remote add needs a name and a URL");
    s.url = argv[first + 1];
    int error = dv_remoteconf_add(repo, argv[first], &s, make_default);
    if (error < 0)
        return cmd_fail(error);
    const char *config = DV_DIR_NAME "/config";
    if (dv_repo_stage(repo, &config, 1) < 0)
        cmd_warn("could not stage .dv/config: %s", dv_error_last());
    return 0;
}

static int remote_list(dv_repo *repo, int argc, char **argv)
{
    int verbose = 0;
    const cmd_flag flags[] = {{"verbose", 'v', &verbose, NULL}, {NULL, 0, NULL, NULL}};
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_remote_usage, flags);
    if (rc >= 0)
        return rc;
    if (first != argc)
        return cmd_usage_error(cmd_remote_usage, "dv remote list takes no arguments");
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

static int remote_remove(dv_repo *repo, int argc, char **argv)
{
    int first, rc = cmd_parse_flags(&first, argc, argv, cmd_remote_usage,
                                    (const cmd_flag[]){{NULL, 0, NULL, NULL}});
    if (rc >= 0)
        return rc;
    if (argc - first != 1)
        return cmd_usage_error(cmd_remote_usage, "dv remote remove needs a name");
    int error = dv_remoteconf_remove(repo, argv[first]);
    if (error < 0)
        return cmd_fail(error);
    const char *config = DV_DIR_NAME "/config";
    if (dv_repo_stage(repo, &config, 1) < 0)
        cmd_warn("could not stage .dv/config: %s", dv_error_last());
    return 0;
}

int cmd_remote(int argc, char **argv)
{
    if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "-v")))
        return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
                   ? cmd_print_usage(cmd_remote_usage)
                   : cmd_usage_error(cmd_remote_usage, "dv remote needs add, list or remove");
    const char *sub = argv[1];
    dv_repo *repo = NULL;
    int rc = cmd_open_repo(&repo);
    if (rc)
        return rc;
    if (!strcmp(sub, "add"))
        rc = remote_add(repo, argc - 1, argv + 1);
    else if (!strcmp(sub, "list"))
        rc = remote_list(repo, argc - 1, argv + 1);
    else if (!strcmp(sub, "-v")) /* dv remote -v, as git has it */
        rc = remote_list(repo, argc, argv);
    else if (!strcmp(sub, "remove") || !strcmp(sub, "rm"))
        rc = remote_remove(repo, argc - 1, argv + 1);
    else
        rc = cmd_usage_error(cmd_remote_usage, "unknown dv remote subcommand '%s'", sub);
    dv_repo_free(repo);
    return rc;
}
