/* remote_url: a URL and its settings to an open remote of the right backend. */
#include "remotes/remote_url.h"

#include "remotes/bundle.h"
#include "remotes/file.h"
#include "remotes/http.h"
#include "remotes/s3.h"
#include "remotes/url.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "storage/bundle.h"

#include <stdlib.h>
#include <string.h>

/* A setting, else the environment variable env, else NULL (an empty value is not set). */
static const char *setting_or_env(const char *setting, const char *env)
{
    if (setting)
        return setting;
    const char *value = getenv(env);
    return value && *value ? value : NULL;
}

static int open_s3(dv_remote **out, const dv_url *url, const dv_remote_url_options *opts,
                   const char *name)
{
    dv_s3_credentials creds;
    int error;
    memset(&creds, 0, sizeof(creds));
    const char *prefix = url->path.ptr;
    while (*prefix == '/')
        prefix++;
    int own_keys = opts->access_key_id && opts->secret_access_key;
    if (!own_keys && (error = dv_s3_credentials_load(&creds, opts->profile)) < 0) {
        /* missing credentials are a setup problem, like a bad option */
        return dv_error_wrap(error == DV_ENOTFOUND ? DV_EUSAGE : error, "remote %s", name);
    }
    const char *region = setting_or_env(opts->region, "AWS_REGION");
    dv_s3_options s3 = {
        .bucket = url->host.ptr,
        .prefix = prefix,
        .endpoint = setting_or_env(opts->endpoint, "AWS_ENDPOINT_URL"),
        .region = region ? region : setting_or_env(NULL, "AWS_DEFAULT_REGION"),
        .path_style = opts->path_style,
        .access_key_id = own_keys ? opts->access_key_id : creds.access_key_id,
        .secret_access_key = own_keys ? opts->secret_access_key : creds.secret_access_key,
        .session_token = own_keys ? NULL : creds.session_token,
    };
    error = dv_remote_s3_open(out, &s3);
    dv_s3_credentials_release(&creds);
    return error;
}

static int open_dir(dv_remote **out, const dv_url *url, const dv_remote_url_options *opts)
{
    dv_buf dir = DV_BUF_INIT;
    const char *path = url->path.ptr;
    int error;
    if (path[0] == '/' || !opts->base_dir)
        error = dv_buf_puts(&dir, path);
    else
        error = dv_buf_joinpath(&dir, opts->base_dir, path);
    char *resolved = error == 0 ? realpath(dir.ptr, NULL) : NULL;
    if (error == 0 && dv_remote_url_is_bundle(dir.ptr))
        error = dv_remote_bundle_open(out, dir.ptr);
    else if (error == 0)
        error = dv_remote_file_open(out, resolved ? resolved : dir.ptr);
    free(resolved);
    dv_buf_release(&dir);
    return error;
}

int dv_remote_url_is_bundle(const char *path)
{
    size_t len = strlen(path), suffix = strlen(DV_BUNDLE_SUFFIX);
    return (len > suffix && !strcmp(path + len - suffix, DV_BUNDLE_SUFFIX)) ||
           dv_bundle_is_bundle(path) == 1;
}

int dv_remote_url_open(dv_remote **out, const char *url, const dv_remote_url_options *opts)
{
    static const dv_remote_url_options no_options;
    dv_url parts;
    int error;
    if (!opts)
        opts = &no_options;
    const char *name = opts->name ? opts->name : url;

    if ((error = dv_url_parse(&parts, url)) < 0)
        goto done;
    if (parts.kind == DV_URL_S3)
        error = open_s3(out, &parts, opts, name);
    else if (parts.kind == DV_URL_HTTP)
        error = dv_remote_http_open(out, url);
    else
        error = open_dir(out, &parts, opts);
    if (error < 0 || !opts->name)
        goto done;
    char *copy = strdup(opts->name);
    if (!copy) {
        dv_remote_free(*out);
        *out = NULL;
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    free((*out)->name);
    (*out)->name = copy;
done:
    if (error == 0)
        (*out)->timeout_seconds = opts->timeout_seconds;
    dv_url_release(&parts);
    return error;
}
