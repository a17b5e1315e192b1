/* dv config: get, set, list and unset the settings in .dv/config and .dv/config.local. */
#include "cmd/common.h"

#include "core/base/error.h"
#include "core/repo/config.h"
#include "core/repo/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct config_options {
    int local;
    int list;
    int unset;
} config_options;

static const cmd_option config_option_table[] = {
    CMD_FLAG(config_options, local, "local", 0,
             "read or write .dv/config.local (not committed) instead\nof .dv/config"),
    CMD_FLAG(config_options, list, "list", 'l', "print every setting as <key>=<value>"),
    CMD_FLAG(config_options, unset, "unset", 0, "remove <key> from the file"),
    CMD_OPTIONS_END,
};

const cmd_syntax cmd_config_syntax = {
    "usage: dv config [--local] <key> [<value>]\n"
    "   or: dv config [--local] --list\n"
    "   or: dv config [--local] --unset <key>\n"
    "\n"
    "With a key, print its value (exit status 1 when it is unset); with a value, set\n"
    "it, after checking it as dv does when it reads it. Writes go to .dv/config, which\n"
    "is committed (and staged), or with --local to .dv/config.local, which is not;\n"
    "credentials (remote.<name>.access-key-id, remote.<name>.secret-access-key) and\n"
    "cache.dir go only there. Reading without --local sees every file:\n"
    "~/.config/dv/config, .dv/config, then .dv/config.local, the last one winning.\n",
    config_option_table,
    sizeof(config_options),
    0,
    2,
    "dv config takes a key and an optional value",
    CMD_COMPLETE_NONE,
};

static int print_entry(void *ctx, const char *key, const char *value)
{
    (void)ctx;
    if (value)
        printf("%s=%s\n", key, value);
    else
        printf("%s\n", key);
    return 0;
}

static int config_list(cmd_context *ctx, const char *local_path)
{
    if (ctx->n_args)
        return cmd_usage_error(ctx->command, "dv config --list takes no key");
    int error = local_path ? dv_config_each_in_file(local_path, print_entry, NULL)
                           : dv_config_each(ctx->repo->config, print_entry, NULL);
    return error < 0 ? cmd_fail(error) : 0;
}

static int config_get(cmd_context *ctx, const char *local_path)
{
    const char *key = ctx->args[0];
    char *value = NULL;
    int error = dv_settings_check_key(key);
    if (error == 0)
        error = local_path ? dv_config_get_string_in_file(&value, local_path, key)
                           : dv_config_get_string(&value, ctx->repo->config, key);
    if (error < 0)
        return cmd_fail(error);
    if (!value)
        return DV_EXIT_NO;
    printf("%s\n", value);
    explicit_bzero(value, strlen(value));
    free(value);
    return 0;
}

static int config_unset(cmd_context *ctx, const char *path, int local)
{
    const char *key = ctx->args[0];
    char *value = NULL;
    if (ctx->n_args != 1)
        return cmd_usage_error(ctx->command, "dv config --unset takes one key");
    int error = dv_config_get_string_in_file(&value, path, key);
    if (error < 0)
        return cmd_fail(error);
    if (!value) {
        fprintf(stderr, "dv: %s is not set in %s\n", key,
                local ? DV_DIR_NAME "/config.local" : DV_DIR_NAME "/config");
        return DV_EXIT_NO;
    }
    explicit_bzero(value, strlen(value));
    free(value);
    error = dv_config_set_string_in_file(path, key, NULL);
    if (local)
        return error < 0 ? cmd_fail(error) : 0;
    return cmd_stage_config(ctx->repo, error);
}

int cmd_config(cmd_context *ctx)
{
    const config_options *opts = ctx->options;
    dv_buf path = DV_BUF_INIT;
    int rc, error;
    if (opts->list + opts->unset > 1)
        return cmd_usage_error(ctx->command, "--list and --unset do not go together");
    if ((error = dv_buf_joinpath(&path, ctx->repo->dv_dir.ptr,
                                 opts->local ? "config.local" : "config")) < 0)
        return cmd_fail(error);
    if (opts->list)
        rc = config_list(ctx, opts->local ? path.ptr : NULL);
    else if (ctx->n_args == 0)
        rc = cmd_usage_error(ctx->command, "%s", cmd_config_syntax.args_error);
    else if (opts->unset)
        rc = config_unset(ctx, path.ptr, opts->local);
    else if (ctx->n_args == 1)
        rc = config_get(ctx, opts->local ? path.ptr : NULL);
    else if ((error = dv_settings_check(ctx->args[0], ctx->args[1], opts->local)) < 0 ||
             (error = dv_config_set_string_in_file(path.ptr, ctx->args[0], ctx->args[1])) < 0)
        rc = cmd_fail(error);
    else
        rc = opts->local ? 0 : cmd_stage_config(ctx->repo, 0);
    dv_buf_release(&path);
    return rc;
}
