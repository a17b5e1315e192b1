/* settings: dv's known configuration keys and the checks of their values. */
#include "core/repo/settings.h"

#include "core/base/buf.h"
#include "core/base/lock.h"
#include "core/data/chunker.h"
#include "core/repo/config.h"
#include "core/repo/remoteconf.h"
#include "remotes/remote.h"
#include "storage/odb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum setting_kind {
    SETTING_INT,
    SETTING_BOOL,
    SETTING_STRING,
    SETTING_REMOTE_NAME,
    SETTING_URL,
    SETTING_EXPIRE, /* gc.reflogExpire, gc.pruneExpire: dv_settings_parse_expire */
} setting_kind;

enum {
    SETTING_LOCAL_ONLY = 1 << 0, /* read only from the files that are not committed */
    SETTING_SECRET = 1 << 1,     /* a credential: never in the committed file */
    SETTING_FIXED = 1 << 2,      /* written by dv init, not changed after */
};

typedef struct setting {
    const char *section;
    int per_remote; /* remote.<name>.<key> */
    const char *name;
    setting_kind kind;
    int64_t min, max;
    unsigned flags;
} setting;

static const setting settings[] = {
    {"core", 0, "version", SETTING_INT, 0, 0, SETTING_FIXED},
    {"core", 0, "remote", SETTING_REMOTE_NAME, 0, 0, 0},
    {"core", 0, "lockTimeout", SETTING_INT, 0, DV_LOCK_TIMEOUT_MAX_SECONDS, 0},
    {"chunking", 0, "min", SETTING_INT, 0, 0, SETTING_FIXED},
    {"chunking", 0, "avg", SETTING_INT, 0, 0, SETTING_FIXED},
    {"chunking", 0, "max", SETTING_INT, 0, 0, SETTING_FIXED},
    {"pack", 0, "compressionLevel", SETTING_INT, DV_COMPRESSION_LEVEL_MIN, DV_COMPRESSION_LEVEL_MAX,
     0},
    {"pack", 0, "targetSize", SETTING_INT, 0, DV_PACK_TARGET_BYTES_MAX, 0},
    {"pack", 0, "minSize", SETTING_INT, 0, DV_PACK_TARGET_BYTES_MAX, 0},
    {"transfer", 0, "jobs", SETTING_INT, 1, DV_TRANSFER_JOBS_MAX, 0},
    {"transfer", 0, "timeout", SETTING_INT, DV_REMOTE_TIMEOUT_MIN_SECONDS,
     DV_REMOTE_TIMEOUT_MAX_SECONDS, 0},
    {"cache", 0, "dir", SETTING_STRING, 0, 0, SETTING_LOCAL_ONLY},
    {"gc", 0, "reflogExpire", SETTING_EXPIRE, 0, 0, 0},
    {"gc", 0, "pruneExpire", SETTING_EXPIRE, 0, 0, 0},
    {"remote", 1, "url", SETTING_URL, 0, 0, 0},
    {"remote", 1, "endpoint", SETTING_STRING, 0, 0, 0},
    {"remote", 1, "region", SETTING_STRING, 0, 0, 0},
    {"remote", 1, "path-style", SETTING_BOOL, 0, 0, 0},
    {"remote", 1, "profile", SETTING_STRING, 0, 0, 0},
    {"remote", 1, "access-key-id", SETTING_STRING, 0, 0, SETTING_SECRET},
    {"remote", 1, "secret-access-key", SETTING_STRING, 0, 0, SETTING_SECRET},
};
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* key split as git-config splits it: section, the subsection (between the first and the
 * last dot, may be empty) and the name. */
typedef struct key_parts {
    const char *section, *sub, *name;
    size_t section_len, sub_len;
    int has_sub;
} key_parts;

static int split_key(key_parts *out, const char *key)
{
    const char *first = strchr(key, '.'), *last = strrchr(key, '.');
    if (!first || first == key || !last[1])
        return -1;
    out->section = key;
    out->section_len = (size_t)(first - key);
    out->name = last + 1;
    out->has_sub = first != last;
    out->sub = first + 1;
    out->sub_len = out->has_sub ? (size_t)(last - first - 1) : 0;
    return 0;
}

/* The known setting that key names (section and name compared as git does, without case),
 * or NULL. */
static const setting *find_setting(const key_parts *k)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        if (strlen(s->section) == k->section_len &&
            !strncasecmp(s->section, k->section, k->section_len) && !strcasecmp(s->name, k->name) &&
            s->per_remote == k->has_sub)
            return s;
    }
    return NULL;
}

static char tolower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Levenshtein distance without case, for the suggestion of an unknown key. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(b), prev_diag, *row = calloc(n + 1, sizeof(*row));
    if (!row)
        return SIZE_MAX;
    for (size_t j = 0; j <= n; j++)
        row[j] = j;
    for (size_t i = 1; a[i - 1]; i++) {
        prev_diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= n; j++) {
            size_t above = row[j];
            size_t cost = tolower_ascii(a[i - 1]) != tolower_ascii(b[j - 1]);
            size_t best = prev_diag + cost;
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev_diag = above;
        }
    }
    size_t d = row[n];
    free(row);
    return d;
}

static int unknown_key(const char *key, const key_parts *k)
{
    dv_buf candidate = DV_BUF_INIT, best = DV_BUF_INIT;
    size_t best_distance = SIZE_MAX;
    int error = 0;
    for (size_t i = 0; i < N_SETTINGS && error == 0; i++) {
        const setting *s = &settings[i];
        dv_buf_clear(&candidate);
        if (s->per_remote && k && k->has_sub)
            error = dv_buf_printf(&candidate, "%s.%.*s.%s", s->section, (int)k->sub_len, k->sub,
                                  s->name);
        else if (s->per_remote)
            error = dv_buf_printf(&candidate, "%s.<name>.%s", s->section, s->name);
        else
            error = dv_buf_printf(&candidate, "%s.%s", s->section, s->name);
        size_t d = error == 0 ? edit_distance(key, candidate.ptr) : SIZE_MAX;
        if (d < best_distance) {
            best_distance = d;
            dv_buf_clear(&best);
            error = dv_buf_puts(&best, candidate.ptr);
        }
    }
    /* as git's "did you mean": only a key close enough to be a slip */
    size_t key_len = strlen(key);
    if (error == 0 && best_distance <= 3 + key_len / 4)
        error =
            dv_error_set(DV_EUSAGE, "'%s' is not a dv setting; did you mean '%s'?", key, best.ptr);
    else if (error == 0)
        error = dv_error_set(DV_EUSAGE, "'%s' is not a dv setting (see dv help config)", key);
    dv_buf_release(&candidate);
    dv_buf_release(&best);
    return error;
}

static int lookup(const setting **out, const char *key)
{
    key_parts k;
    if (split_key(&k, key) < 0)
        return unknown_key(key, NULL);
    if (!(*out = find_setting(&k)))
        return unknown_key(key, &k);
    if ((*out)->per_remote) {
        char *name = strndup(k.sub, k.sub_len);
        if (!name)
            return dv_error_set(DV_ENOMEM, "out of memory");
        int error = dv_remoteconf_check_name(name);
        free(name);
        return error;
    }
    return 0;
}

int dv_settings_check_key(const char *key)
{
    const setting *s;
    return lookup(&s, key);
}

int dv_settings_check(const char *key, const char *value, int local)
{
    const setting *s;
    int64_t number;
    int boolean;
    const char *kind;
    int error = lookup(&s, key);
    if (error < 0)
        return error;
    if (s->flags & SETTING_FIXED)
        return dv_error_set(DV_EUSAGE, "%s is written by dv init and is not changed after", key);
    if ((s->flags & SETTING_SECRET) && !local)
        return dv_error_set(DV_EUSAGE,
                            "%s is a credential and .dv/config is committed to git; keep it in "
                            ".dv/config.local with dv config --local",
                            key);
    if ((s->flags & SETTING_LOCAL_ONLY) && !local)
        return dv_error_set(DV_EUSAGE,
                            "%s is read only from .dv/config.local and ~/.config/dv/config, "
                            "never from the committed .dv/config; set it with dv config --local",
                            key);
    switch (s->kind) {
    case SETTING_INT:
        return dv_config_parse_int_range(&number, key, value, s->min, s->max);
    case SETTING_BOOL:
        return dv_config_parse_bool(&boolean, key, value);
    case SETTING_REMOTE_NAME:
        return dv_remoteconf_check_name(value);
    case SETTING_URL:
        return dv_remoteconf_check_url(&kind, value);
    case SETTING_EXPIRE:
        return dv_settings_parse_expire(&number, key, value);
    case SETTING_STRING:
        break;
    }
    return 0;
}

int dv_settings_parse_expire(int64_t *days, const char *key, const char *text)
{
    if (!strcasecmp(text, "now")) {
        *days = 0;
        return 0;
    }
    if (!strcasecmp(text, "never") || !strcasecmp(text, "false")) {
        *days = DV_EXPIRE_NEVER;
        return 0;
    }
    char *end;
    int64_t n = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > DV_EXPIRE_DAYS_MAX)
            break;
        n = n * 10 + (*p - '0');
    }
    end = (char *)p;
    if (p != text && n <= DV_EXPIRE_DAYS_MAX &&
        (!*end || !strcasecmp(end, ".days") || !strcasecmp(end, ".days.ago") ||
         !strcasecmp(end, ".day") || !strcasecmp(end, ".day.ago"))) {
        *days = n;
        return 0;
    }
    return dv_error_set(DV_EUSAGE,
                        "%s must be now, never or a number of days 0..%d (as 90 or 90.days.ago; "
                        "got '%s')",
                        key, DV_EXPIRE_DAYS_MAX, text);
}
