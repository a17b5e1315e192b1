/*
 * remoteconf: the remotes configured for a repository ([remote "<name>"] sections of
 * .dv/config, credentials in .dv/config.local or the environment) and opening one.
 * URLs: s3://<bucket>[/<prefix>], http(s)://<host>[/<path>] (a read-only mirror),
 * file:///<dir>, or a directory path (relative paths are taken from the top of the work tree).
 */
#ifndef DV_REMOTECONF_H
#define DV_REMOTECONF_H

#include "core/base/error.h"

#include "core/repo/repo.h"
#include "remotes/remote.h"

typedef struct dv_remote_settings {
    const char *url;
    const char *endpoint; /* s3: http(s)://host[:port] of an S3-compatible service */
    const char *region;   /* s3 */
    int path_style;       /* s3: 1 for <endpoint>/<bucket>/<key> (most non-AWS services) */
    const char *profile;  /* s3: section of the shared AWS credentials file */
} dv_remote_settings;

/** Check a remote name: letters, digits, '-', '_' and '.', not starting with '-' or '.'. */
DV_NODISCARD int dv_remoteconf_check_name(const char *name);
/** Check a URL and say which kind of remote it names ("s3", "http", "file"). */
DV_NODISCARD int dv_remoteconf_check_url(const char **kind, const char *url);

/** Add a remote to the committed .dv/config; make_default also sets core.remote. */
DV_NODISCARD int dv_remoteconf_add(dv_repo *repo, const char *name,
                                   const dv_remote_settings *settings, int make_default);
/** Remove a remote's section (and core.remote when it names it). */
DV_NODISCARD int dv_remoteconf_remove(dv_repo *repo, const char *name);

/** Set one setting of the existing remote name in .dv/config: url, endpoint, region,
 *  profile or path-style (checked as dv remote add checks them; the S3 ones for s3://
 *  remotes only), or default (a boolean: set core.remote to name, or remove it when it
 *  names name). DV_EUSAGE names what is wrong. */
DV_NODISCARD int dv_remoteconf_modify(dv_repo *repo, const char *name, const char *var,
                                      const char *value);
/** Rename a remote: its keys in .dv/config and .dv/config.local (its credentials), and
 *  core.remote when it names it. new_name must not be a remote yet. */
DV_NODISCARD int dv_remoteconf_rename(dv_repo *repo, const char *old_name, const char *new_name);

/** Each configured remote's name and URL, in name order; *default_name (may be NULL) gets
 *  the remote used when none is named, or NULL. */
typedef struct dv_remote_list {
    char **names;
    char **urls;
    size_t n;
} dv_remote_list;
DV_NODISCARD int dv_remoteconf_list(dv_remote_list *out, dv_repo *repo);
void dv_remote_list_release(dv_remote_list *list);

/** The remote to use when the user names none: core.remote, else the only one configured.
 *  DV_EUSAGE saying what to do when there is none. *out is malloc'd. */
DV_NODISCARD int dv_remoteconf_default(char **out, dv_repo *repo);

/** Open the remote called name (NULL for the default one). */
DV_NODISCARD int dv_remoteconf_open(dv_remote **out, dv_repo *repo, const char *name);

#endif
