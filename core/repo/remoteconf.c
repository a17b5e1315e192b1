/* remoteconf: configured remotes, and opening one with its settings through remote_url. */
#include "core/repo/remoteconf.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/repo/settings.h"
#include "remotes/bundle.h"
#include "remotes/remote_url.h"
#include "remotes/url.h"

#include <stdlib.h>
#include <string.h>

int dv_remoteconf_check_name(const char *name)
{
    if (!*name || name[0] == '-' || name[0] == '.')
        goto bad;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            goto bad;
    return 0;
bad:
    return dv_error_set(
        DV_EUSAGE, "'%s' is not a valid remote name (use letters, digits, '-', '_' and '.')", name);
}

int dv_remoteconf_check_url(const char **kind, const char *url)
{
    static const char *const kinds[] = {
        [DV_URL_PATH] = "file", [DV_URL_FILE] = "file", [DV_URL_S3] = "s3", [DV_URL_HTTP] = "http"};
    dv_url parts;
    int error = dv_url_parse(&parts, url);
    if (error == 0)
        *kind = kinds[parts.kind];
    dv_url_release(&parts);
    return error;
}

static int config_path(dv_buf *out, dv_repo *repo)
{
    dv_buf_clear(out);
    return dv_buf_joinpath(out, repo->dv_dir.ptr, "config");
}

static int set_key(dv_repo *repo, const char *path, const char *name, const char *var,
                   const char *value)
{
    (void)repo;
    dv_buf key = DV_BUF_INIT;
    int error = dv_buf_printf(&key, "remote.%s.%s", name, var);
    if (error == 0)
        error = dv_config_set_string_in_file(path, key.ptr, value);
    dv_buf_release(&key);
    return error;
}

static int reload_config(dv_repo *repo)
{
    dv_config *cfg;
    int error = dv_config_open(&cfg, repo->dv_dir.ptr);
    if (error < 0)
        return error;
    dv_config_free(repo->config);
    repo->config = cfg;
    return 0;
}

int dv_remoteconf_add(dv_repo *repo, const char *name, const dv_remote_settings *s,
                      int make_default)
{
    const char *kind = NULL;
    char *existing = NULL;
    dv_buf path = DV_BUF_INIT, key = DV_BUF_INIT;
    int error;
    if ((error = dv_remoteconf_check_name(name)) < 0 ||
        (error = dv_remoteconf_check_url(&kind, s->url)) < 0)
        return error;
    if (strcmp(kind, "s3") && (s->endpoint || s->region || s->path_style || s->profile))
        return dv_error_set(DV_EUSAGE, "--endpoint, --region, --path-style and --profile are for "
                                       "s3:// remotes only");
    if ((error = dv_buf_printf(&key, "remote.%s.url", name)) < 0 ||
        (error = dv_config_get_string(&existing, repo->config, key.ptr)) < 0)
        goto done;
    if (existing) {
        error = dv_error_set(DV_EUSAGE,
                             "remote %s already exists (%s); remove it first with dv remote "
                             "remove %s",
                             name, existing, name);
        goto done;
    }
    if ((error = config_path(&path, repo)) < 0 ||
        (error = set_key(repo, path.ptr, name, "url", s->url)) < 0 ||
        (s->endpoint && (error = set_key(repo, path.ptr, name, "endpoint", s->endpoint)) < 0) ||
        (s->region && (error = set_key(repo, path.ptr, name, "region", s->region)) < 0) ||
        (s->path_style && (error = set_key(repo, path.ptr, name, "path-style", "true")) < 0) ||
        (s->profile && (error = set_key(repo, path.ptr, name, "profile", s->profile)) < 0) ||
        (make_default && (error = dv_config_set_string_in_file(path.ptr, "core.remote", name)) < 0))
        goto done;
    error = reload_config(repo);
done:
    free(existing);
    dv_buf_release(&path);
    dv_buf_release(&key);
    return error;
}

typedef struct collect_ctx {
    dv_buf prefix; /* "remote.<name>." */
    dv_remote_list keys;
} collect_ctx;

static int push_str(char ***arr, size_t n, const char *s)
{
    char **grown = realloc(*arr, (n + 1) * sizeof(char *));
    if (!grown)
        return dv_error_set(DV_ENOMEM, "out of memory");
    *arr = grown;
    if (!(grown[n] = strdup(s)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    return 0;
}

static int collect_key(void *ctx, const char *key, const char *value)
{
    collect_ctx *c = ctx;
    (void)value;
    if (strncmp(key, c->prefix.ptr, c->prefix.len))
        return 0;
    int error = push_str(&c->keys.names, c->keys.n, key);
    if (error == 0)
        c->keys.n++;
    return error;
}

int dv_remoteconf_remove(dv_repo *repo, const char *name)
{
    collect_ctx c = {DV_BUF_INIT, {0}};
    dv_buf path = DV_BUF_INIT;
    char *def = NULL;
    int error;
    if ((error = dv_remoteconf_check_name(name)) < 0 ||
        (error = dv_buf_printf(&c.prefix, "remote.%s.", name)) < 0 ||
        (error = dv_config_each(repo->config, collect_key, &c)) < 0 ||
        (error = config_path(&path, repo)) < 0)
        goto done;
    if (c.keys.n == 0) {
        error = dv_error_set(DV_EUSAGE, "there is no remote called %s (see dv remote list)", name);
        goto done;
    }
    for (size_t i = 0; i < c.keys.n; i++)
        if ((error = dv_config_set_string_in_file(path.ptr, c.keys.names[i], NULL)) < 0)
            goto done;
    dv_buf_clear(&path);
    if ((error = dv_buf_joinpath(&path, repo->dv_dir.ptr, "config.local")) < 0)
        goto done;
    if (dv_fs_exists(path.ptr) == 1)
        for (size_t i = 0; i < c.keys.n; i++)
            if ((error = dv_config_set_string_in_file(path.ptr, c.keys.names[i], NULL)) < 0)
                goto done;
    if ((error = config_path(&path, repo)) < 0)
        goto done;
    if ((error = dv_config_get_string(&def, repo->config, "core.remote")) < 0)
        goto done;
    if (def && !strcmp(def, name) &&
        (error = dv_config_set_string_in_file(path.ptr, "core.remote", NULL)) < 0)
        goto done;
    error = reload_config(repo);
done:
    free(def);
    for (size_t i = 0; i < c.keys.n; i++)
        free(c.keys.names[i]);
    free(c.keys.names);
    dv_buf_release(&c.prefix);
    dv_buf_release(&path);
    return error;
}

static int get_remote_string(char **out, dv_repo *repo, const char *name, const char *var);

/* The URL of the remote called name, which must exist, into *url (malloc'd). */
static int existing_url(char **url, dv_repo *repo, const char *name)
{
    dv_buf key = DV_BUF_INIT;
    int error;
    *url = NULL;
    if ((error = dv_remoteconf_check_name(name)) < 0 ||
        (error = dv_buf_printf(&key, "remote.%s.url", name)) < 0 ||
        (error = dv_config_get_string(url, repo->config, key.ptr)) < 0)
        goto done;
    if (!*url)
        error = dv_error_set(DV_EUSAGE, "there is no remote called %s (see dv remote list)", name);
done:
    dv_buf_release(&key);
    return error;
}

int dv_remoteconf_modify(dv_repo *repo, const char *name, const char *var, const char *value)
{
    static const char *const vars[] = {"url", "endpoint", "region", "profile", "path-style"};
    char *url = NULL;
    const char *kind = NULL;
    dv_buf path = DV_BUF_INIT, key = DV_BUF_INIT;
    int error, is_default = 0, known = 0;
    if ((error = existing_url(&url, repo, name)) < 0 || (error = config_path(&path, repo)) < 0)
        goto done;
    if (!strcmp(var, "default")) {
        char *def = NULL;
        if ((error = dv_config_parse_bool(&is_default, "default", value)) < 0 ||
            (error = dv_config_get_string(&def, repo->config, "core.remote")) < 0)
            goto done;
        if (is_default)
            error = dv_config_set_string_in_file(path.ptr, "core.remote", name);
        else if (def && !strcmp(def, name))
            error = dv_config_set_string_in_file(path.ptr, "core.remote", NULL);
        free(def);
        if (error == 0)
            error = reload_config(repo);
        goto done;
    }
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        known |= !strcmp(var, vars[i]);
    if (!known) {
        error = dv_error_set(DV_EUSAGE,
                             "dv remote modify cannot set '%s' (it sets url, endpoint, region, "
                             "profile, path-style and default)",
                             var);
        goto done;
    }
    if ((error = dv_buf_printf(&key, "remote.%s.%s", name, var)) < 0 ||
        (error = dv_settings_check(key.ptr, value, 0)) < 0 ||
        (error = dv_remoteconf_check_url(&kind, strcmp(var, "url") ? url : value)) < 0)
        goto done;
    if (strcmp(var, "url") && strcmp(kind, "s3")) {
        error =
            dv_error_set(DV_EUSAGE, "%s is for s3:// remotes only, and %s is %s", var, name, url);
        goto done;
    }
    if ((error = dv_config_set_string_in_file(path.ptr, key.ptr, value)) < 0)
        goto done;
    error = reload_config(repo);
done:
    free(url);
    dv_buf_release(&path);
    dv_buf_release(&key);
    return error;
}

int dv_remoteconf_rename(dv_repo *repo, const char *old_name, const char *new_name)
{
    char *url = NULL, *taken = NULL, *def = NULL;
    dv_buf path = DV_BUF_INIT, old_section = DV_BUF_INIT, new_section = DV_BUF_INIT;
    int error;
    if ((error = existing_url(&url, repo, old_name)) < 0 ||
        (error = dv_remoteconf_check_name(new_name)) < 0)
        goto done;
    if (!strcmp(old_name, new_name))
        goto done;
    if ((error = get_remote_string(&taken, repo, new_name, "url")) < 0)
        goto done;
    if (taken) {
        error = dv_error_set(DV_EUSAGE, "remote %s already exists (%s)", new_name, taken);
        goto done;
    }
    if ((error = dv_buf_printf(&old_section, "remote.%s", old_name)) < 0 ||
        (error = dv_buf_printf(&new_section, "remote.%s", new_name)) < 0 ||
        (error = dv_config_get_string(&def, repo->config, "core.remote")) < 0)
        goto done;
    /* .dv/config.local first: after a crash between the two rewrites the remote still has
     * its old name in .dv/config, and running the rename again finishes it */
    if ((error = dv_buf_joinpath(&path, repo->dv_dir.ptr, "config.local")) < 0)
        goto done;
    if (dv_fs_exists(path.ptr) == 1 &&
        (error = dv_config_rename_section_in_file(path.ptr, old_section.ptr, new_section.ptr)) < 0)
        goto done;
    if ((error = config_path(&path, repo)) < 0 ||
        (error = dv_config_rename_section_in_file(path.ptr, old_section.ptr, new_section.ptr)) < 0)
        goto done;
    if (def && !strcmp(def, old_name) &&
        (error = dv_config_set_string_in_file(path.ptr, "core.remote", new_name)) < 0)
        goto done;
    error = reload_config(repo);
done:
    free(url);
    free(taken);
    free(def);
    dv_buf_release(&path);
    dv_buf_release(&old_section);
    dv_buf_release(&new_section);
    return error;
}

static int collect_url(void *ctx, const char *key, const char *value)
{
    dv_remote_list *list = ctx;
    size_t key_len = strlen(key);
    /* only "remote.<name>.url" */
    if (strncmp(key, "remote.", 7) || key_len <= strlen("remote..url") ||
        strcmp(key + key_len - 4, ".url"))
        return 0;
    size_t name_len = key_len - strlen("remote.") - strlen(".url");
    if (!value) /* "url" alone on its line, which git-config reads as a boolean */
        return dv_error_set(DV_EUSAGE, "%s has no value; expected %s = <url>", key, key);
    char *name = strndup(key + strlen("remote."), name_len);
    if (!name)
        return dv_error_set(DV_ENOMEM, "out of memory");
    for (size_t i = 0; i < list->n; i++) {
        if (!strcmp(list->names[i], name)) { /* a higher-priority file overrides */
            free(name);
            char *url = strdup(value);
            if (!url)
                return dv_error_set(DV_ENOMEM, "out of memory");
            free(list->urls[i]);
            list->urls[i] = url;
            return 0;
        }
    }
    int error = push_str(&list->names, list->n, name);
    free(name);
    if (error == 0 && (error = push_str(&list->urls, list->n, value)) == 0)
        list->n++;
    else if (error == 0)
        free(list->names[list->n]);
    return error;
}

int dv_remoteconf_list(dv_remote_list *out, dv_repo *repo)
{
    memset(out, 0, sizeof(*out));
    int error = dv_config_each(repo->config, collect_url, out);
    if (error < 0) {
        dv_remote_list_release(out);
        return error;
    }
    /* name order, for stable output */
    for (size_t i = 1; i < out->n; i++)
        for (size_t j = i; j > 0 && strcmp(out->names[j - 1], out->names[j]) > 0; j--) {
            char *t = out->names[j];
            out->names[j] = out->names[j - 1];
            out->names[j - 1] = t;
            t = out->urls[j];
            out->urls[j] = out->urls[j - 1];
            out->urls[j - 1] = t;
        }
    return 0;
}

void dv_remote_list_release(dv_remote_list *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->names[i]);
        free(list->urls[i]);
    }
    free(list->names);
    free(list->urls);
    memset(list, 0, sizeof(*list));
}

int dv_remoteconf_default(char **out, dv_repo *repo)
{
    dv_remote_list list;
    int error = dv_config_get_string(out, repo->config, "core.remote");
    if (error < 0 || *out)
        return error;
    if ((error = dv_remoteconf_list(&list, repo)) < 0)
        return error;
    if (list.n == 1) {
        *out = list.names[0];
        list.names[0] = NULL;
        free(list.urls[0]);
        list.urls[0] = NULL;
        list.n = 0;
    } else {
        error = dv_error_set(DV_EUSAGE,
                             list.n == 0 ? "no remote is configured (add one with dv remote add "
                                           "<name> <url>)"
                                         : "several remotes are configured and none is the "
                                           "default; name one with -r <name> or set core.remote");
    }
    dv_remote_list_release(&list);
    return error;
}

static int get_remote_string(char **out, dv_repo *repo, const char *name, const char *var)
{
    dv_buf key = DV_BUF_INIT;
    int error = dv_buf_printf(&key, "remote.%s.%s", name, var);
    if (error == 0)
        error = dv_config_get_string(out, repo->config, key.ptr);
    dv_buf_release(&key);
    return error;
}

/* A credential, read only from .dv/config.local: the committed .dv/config must not hold
 * one, and one found there is refused rather than used. */
static int get_local_secret(char **out, dv_repo *repo, const char *name, const char *var)
{
    dv_buf key = DV_BUF_INIT, path = DV_BUF_INIT;
    char *committed = NULL;
    int error;
    *out = NULL;
    if ((error = dv_buf_printf(&key, "remote.%s.%s", name, var)) < 0 ||
        (error = dv_buf_joinpath(&path, repo->dv_dir.ptr, "config")) < 0 ||
        (error = dv_config_get_string_in_file(&committed, path.ptr, key.ptr)) < 0)
        goto done;
    if (committed) {
        error = dv_error_set(DV_EUSAGE,
                             "%s holds %s, which is committed to git; move it to "
                             ".dv/config.local (and change the key: it may be public now)",
                             path.ptr, key.ptr);
        goto done;
    }
    dv_buf_clear(&path);
    if ((error = dv_buf_joinpath(&path, repo->dv_dir.ptr, "config.local")) < 0)
        goto done;
    if (dv_fs_exists(path.ptr) == 1)
        error = dv_config_get_string_in_file(out, path.ptr, key.ptr);
done:
    if (committed)
        explicit_bzero(committed, strlen(committed));
    free(committed);
    dv_buf_release(&key);
    dv_buf_release(&path);
    return error;
}

/* The settings of an s3 remote: endpoint, region, profile and path style from the
 * configuration, keys from .dv/config.local. The strings are malloc'd into *owned. */
typedef struct s3_settings {
    char *endpoint, *region, *profile, *key_id, *secret;
} s3_settings;

static void s3_settings_release(s3_settings *s)
{
    free(s->endpoint);
    free(s->region);
    free(s->profile);
    free(s->key_id);
    free(s->secret);
}

static int read_s3_settings(dv_remote_url_options *opts, s3_settings *owned, dv_repo *repo,
                            const char *name)
{
    dv_buf key = DV_BUF_INIT;
    int error;
    if ((error = get_remote_string(&owned->endpoint, repo, name, "endpoint")) < 0 ||
        (error = get_remote_string(&owned->region, repo, name, "region")) < 0 ||
        (error = get_remote_string(&owned->profile, repo, name, "profile")) < 0 ||
        (error = get_local_secret(&owned->key_id, repo, name, "access-key-id")) < 0 ||
        (error = get_local_secret(&owned->secret, repo, name, "secret-access-key")) < 0 ||
        (error = dv_buf_printf(&key, "remote.%s.path-style", name)) < 0 ||
        (error = dv_config_get_bool(&opts->path_style, repo->config, key.ptr, 0)) < 0)
        goto done;
    if (!owned->key_id != !owned->secret) {
        error = dv_error_set(DV_EUSAGE,
                             "remote %s: .dv/config.local sets only one of "
                             "remote.%s.access-key-id and remote.%s.secret-access-key (set both)",
                             name, name, name);
        goto done;
    }
    opts->endpoint = owned->endpoint;
    opts->region = owned->region;
    opts->profile = owned->profile;
    opts->access_key_id = owned->key_id;
    opts->secret_access_key = owned->secret;
done:
    dv_buf_release(&key);
    return error;
}

int dv_remoteconf_open(dv_remote **out, dv_repo *repo, const char *name)
{
    char *chosen = NULL, *url = NULL;
    const char *kind = NULL;
    s3_settings owned = {0};
    int error;
    if (!name) {
        if ((error = dv_remoteconf_default(&chosen, repo)) < 0)
            return error;
        name = chosen;
    }
    /* A bundle file named where a remote is taken (-r ./data.dvbundle), unless a configured
     * remote has that name: opened as it is, relative to the current directory. */
    if (dv_remoteconf_check_name(name) == 0 &&
        (error = get_remote_string(&url, repo, name, "url")) < 0)
        goto done;
    if (!url && dv_remote_url_is_bundle(name)) {
        error = dv_remote_bundle_open(out, name);
        goto done;
    }
    if ((error = dv_remoteconf_check_name(name)) < 0)
        goto done;
    if (!url) {
        error = dv_error_set(DV_EUSAGE,
                             "there is no remote called %s (see dv remote list, or add it with "
                             "dv remote add %s <url>)",
                             name, name);
        goto done;
    }
    int64_t timeout;
    if ((error = dv_remoteconf_check_url(&kind, url)) < 0)
        goto done;
    if (dv_config_get_int(&timeout, repo->config, "transfer.timeout",
                          DV_REMOTE_TIMEOUT_DEFAULT_SECONDS) < 0) {
        error =
            dv_error_set(DV_EUSAGE, "transfer.timeout must be a whole number of seconds (%d..%d)",
                         DV_REMOTE_TIMEOUT_MIN_SECONDS, DV_REMOTE_TIMEOUT_MAX_SECONDS);
        goto done;
    }
    if (timeout < DV_REMOTE_TIMEOUT_MIN_SECONDS || timeout > DV_REMOTE_TIMEOUT_MAX_SECONDS) {
        error = dv_error_set(DV_EUSAGE, "transfer.timeout must be %d..%d seconds (got %lld)",
                             DV_REMOTE_TIMEOUT_MIN_SECONDS, DV_REMOTE_TIMEOUT_MAX_SECONDS,
                             (long long)timeout);
        goto done;
    }
    dv_remote_url_options opts = {
        .name = name, .base_dir = repo->workdir.ptr, .timeout_seconds = (int)timeout};
    if (!strcmp(kind, "s3") && (error = read_s3_settings(&opts, &owned, repo, name)) < 0)
        goto done;
    error = dv_remote_url_open(out, url, &opts);
done:
    s3_settings_release(&owned);
    free(chosen);
    free(url);
    return error;
}
