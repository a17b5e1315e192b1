/*
 * config: dv's settings in git-config syntax, read through libgit2:
 * .dv/config (committed) overlaid by .dv/config.local (ignored by git) and
 * the user's ~/.config/dv/config (lowest priority).
 */
#ifndef DV_CONFIG_H
#define DV_CONFIG_H

#include "core/base/error.h"

#include <stdint.h>

typedef struct dv_config dv_config;

/* A config file larger than this is refused when dv rewrites it. */
#define DV_CONFIG_FILE_MAX_BYTES (1024 * 1024)

/** Open the configuration of the .dv directory dv_dir. The committed file must exist. */
DV_NODISCARD int dv_config_open(dv_config **out, const char *dv_dir);
void dv_config_free(dv_config *cfg);

/** Integer setting (accepts k/m/g suffixes) or def when unset. DV_EUSAGE names a bad value. */
DV_NODISCARD int dv_config_get_int(int64_t *out, dv_config *cfg, const char *key, int64_t def);
/**
 * Integer setting (k/m/g suffixes) that must lie in [min, max], or def when unset. A value
 * that does not parse, overflows or is out of range is DV_EUSAGE with a message naming the
 * key, the allowed range and the value: "core.lockTimeout must be 0..31536000 (got ...)".
 */
DV_NODISCARD int dv_config_get_int_range(int64_t *out, dv_config *cfg, const char *key, int64_t def,
                                         int64_t min, int64_t max);

/** text as an integer setting of key in [min, max], with the forms and the messages of
 *  dv_config_get_int_range. */
DV_NODISCARD int dv_config_parse_int_range(int64_t *out, const char *key, const char *text,
                                           int64_t min, int64_t max);
/** text as a boolean setting of key (git-config's forms); DV_EUSAGE naming key otherwise. */
DV_NODISCARD int dv_config_parse_bool(int *out, const char *key, const char *text);

/**
 * Integer from the environment variable name, in [min, max] (decimal, no suffix). *found is
 * 0 (and *out untouched) when the variable is unset or empty. DV_EUSAGE names the variable
 * and the allowed range when the value is not a number in it.
 */
DV_NODISCARD int dv_config_env_int_range(int64_t *out, int *found, const char *name, int64_t min,
                                         int64_t max);

/** String setting into a malloc'd *out, or NULL when unset. */
DV_NODISCARD int dv_config_get_string(char **out, dv_config *cfg, const char *key);

/** String setting from the files that are not committed (.dv/config.local, then the
 *  user's ~/.config/dv/config), for settings that decide where dv writes; NULL when unset. */
DV_NODISCARD int dv_config_get_string_uncommitted(char **out, dv_config *cfg, const char *key);

/** Boolean setting (true/false/yes/no/on/off/1/0) or def when unset. */
DV_NODISCARD int dv_config_get_bool(int *out, dv_config *cfg, const char *key, int def);

/** Call fn for every setting (key with lowercased section and name), from the
 *  lowest-priority file to the highest; fn's non-zero return stops and is returned.
 *  value is NULL for a key written without '=' (git-config's short form of true). */
typedef int (*dv_config_entry_fn)(void *ctx, const char *key, const char *value);
DV_NODISCARD int dv_config_each(dv_config *cfg, dv_config_entry_fn fn, void *ctx);

/** dv_config_each over the one file at path (none when it is absent), in file order. */
DV_NODISCARD int dv_config_each_in_file(const char *path, dv_config_entry_fn fn, void *ctx);

/** A string setting from the one file at path (NULL when unset there). */
DV_NODISCARD int dv_config_get_string_in_file(char **out, const char *path, const char *key);

/** Set a string in the file at path (creating it), or delete the key when value is NULL.
 *  The file is rewritten atomically and durably (temp file, fsync, rename, fsync of the
 *  directory), its comments and other keys kept. */
DV_NODISCARD int dv_config_set_string_in_file(const char *path, const char *key, const char *value);

/** Move every key of old_section ("remote.origin": the section, a dot, the subsection as
 *  written) to new_section in the file at path, in one atomic rewrite of the file. */
DV_NODISCARD int dv_config_rename_section_in_file(const char *path, const char *old_section,
                                                  const char *new_section);

/** Set an integer in the committed file .dv/config (used by init). */
DV_NODISCARD int dv_config_set_int_in_file(const char *path, const char *key, int64_t value);

#endif
