/* config: git-config syntax settings through libgit2. */
#include "core/repo/config.h"

#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/base/fs.h"
#include "core/base/tempfile.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dv_config {
    git_config *cfg;
};

static int git_failure(int code, const char *what)
{
    const git_error *e = git_error_last();
    return dv_error_set(code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

/* The repository's config files are read as they are, never through a symlink (which a
 * commit can carry) to some other file of the user's. */
static int regular_or_absent(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : dv_error_errno("cannot stat %s", path);
    if (S_ISREG(st.st_mode))
        return 0;
    return dv_error_set(DV_EUSAGE, "%s is %s; expected a regular file (replace it with one)", path,
                        S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
}

int dv_config_open(dv_config **out, const char *dv_dir)
{
    int error = 0;
    dv_buf path = DV_BUF_INIT;
    dv_config *c = calloc(1, sizeof(*c));
    if (!c)
        return dv_error_set(DV_ENOMEM, "out of memory");
    if (git_config_new(&c->cfg) < 0) {
        error = git_failure(DV_ERROR, "cannot create configuration");
        goto fail;
    }
    const char *home = getenv("HOME");
    if (home && *home) {
        if ((error = dv_buf_printf(&path, "%s/.config/dv/config", home)) < 0)
            goto fail;
        if (dv_fs_exists(path.ptr) == 1 &&
            git_config_add_file_ondisk(c->cfg, path.ptr, GIT_CONFIG_LEVEL_GLOBAL, NULL, 0) < 0) {
            error = git_failure(DV_EUSAGE, path.ptr);
            goto fail;
        }
    }
    dv_buf_clear(&path);
    if ((error = dv_buf_joinpath(&path, dv_dir, "config")) < 0)
        goto fail;
    if (dv_fs_exists(path.ptr) != 1) {
        error = dv_error_set(DV_ENOREPO, "%s does not exist (run dv init)", path.ptr);
        goto fail;
    }
    if ((error = regular_or_absent(path.ptr)) < 0)
        goto fail;
    if (git_config_add_file_ondisk(c->cfg, path.ptr, GIT_CONFIG_LEVEL_LOCAL, NULL, 0) < 0) {
        error = git_failure(DV_EUSAGE, path.ptr);
        goto fail;
    }
    if ((error = dv_buf_joinpath(&path, dv_dir, "config.local")) < 0 ||
        (error = regular_or_absent(path.ptr)) < 0)
        goto fail;
    if (dv_fs_exists(path.ptr) == 1 &&
        git_config_add_file_ondisk(c->cfg, path.ptr, GIT_CONFIG_LEVEL_APP, NULL, 0) < 0) {
        error = git_failure(DV_EUSAGE, path.ptr);
        goto fail;
    }
    dv_buf_release(&path);
    *out = c;
    return 0;
fail:
    dv_buf_release(&path);
    dv_config_free(c);
    return error;
}

void dv_config_free(dv_config *c)
{
    if (!c)
        return;
    git_config_free(c->cfg);
    free(c);
}

/* A decimal integer with an optional k, m or g suffix (powers of 1024), as git config
 * writes them, without wrapping around: libgit2 multiplies the suffix unchecked. 0, or -1
 * for text that is no such number or does not fit in 64 bits. */
static int parse_int64(int64_t *out, const char *text)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0); /* base 0, as git and libgit2: 0x10, 010 */
    if (errno || end == text)
        return -1;
    int64_t scale = 1;
    switch (*end) {
    case 'k':
    case 'K':
        scale = 1024;
        end++;
        break;
    case 'm':
    case 'M':
        scale = 1024 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        scale = 1024 * 1024 * 1024;
        end++;
        break;
    }
    if (*end || __builtin_mul_overflow((int64_t)v, scale, out))
        return -1;
    return 0;
}

/* The integer under key: 0, GIT_ENOTFOUND, or DV_EUSAGE naming the key (what says which
 * numbers are wanted). */
static int get_int64(int64_t *out, dv_config *c, const char *key, const char *what)
{
    git_buf value = GIT_BUF_INIT;
    int rc = git_config_get_string_buf(&value, c->cfg, key);
    if (rc == GIT_ENOTFOUND)
        return rc;
    if (rc < 0)
        return git_failure(DV_EUSAGE, "bad value in dv configuration");
    if (parse_int64(out, value.ptr) < 0)
        rc = dv_error_set(DV_EUSAGE, "%s in dv configuration must be %s (got '%s')", key, what,
                          value.ptr);
    git_buf_dispose(&value);
    return rc;
}

int dv_config_get_int(int64_t *out, dv_config *c, const char *key, int64_t def)
{
    int rc = get_int64(out, c, key, "a number");
    if (rc == GIT_ENOTFOUND) {
        *out = def;
        return 0;
    }
    return rc;
}

int dv_config_parse_int_range(int64_t *out, const char *key, const char *text, int64_t min,
                              int64_t max)
{
    int64_t v = 0;
    if (parse_int64(&v, text) < 0)
        return dv_error_set(DV_EUSAGE,
                            "%s in dv configuration must be a number from %lld to %lld (got '%s')",
                            key, (long long)min, (long long)max, text);
    if (v < min || v > max)
        return dv_error_set(DV_EUSAGE, "%s in dv configuration must be %lld..%lld (got %lld)", key,
                            (long long)min, (long long)max, (long long)v);
    *out = v;
    return 0;
}

int dv_config_parse_bool(int *out, const char *key, const char *text)
{
    if (git_config_parse_bool(out, text) < 0) {
        git_error_clear();
        return dv_error_set(DV_EUSAGE,
                            "%s in dv configuration must be a boolean (true/false, yes/no, on/off, "
                            "1/0) (got '%s')",
                            key, text);
    }
    return 0;
}

int dv_config_get_int_range(int64_t *out, dv_config *c, const char *key, int64_t def, int64_t min,
                            int64_t max)
{
    git_buf value = GIT_BUF_INIT;
    int rc = git_config_get_string_buf(&value, c->cfg, key);
    if (rc == GIT_ENOTFOUND) {
        *out = def;
        return 0;
    }
    if (rc < 0)
        return git_failure(DV_EUSAGE, "bad value in dv configuration");
    rc = dv_config_parse_int_range(out, key, value.ptr, min, max);
    git_buf_dispose(&value);
    return rc;
}

int dv_config_env_int_range(int64_t *out, int *found, const char *name, int64_t min, int64_t max)
{
    const char *text = getenv(name);
    *found = 0;
    if (!text || !*text)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || end == text || v < min || v > max)
        return dv_error_set(DV_EUSAGE, "%s must be a number from %lld to %lld (got '%s')", name,
                            (long long)min, (long long)max, text);
    *out = v;
    *found = 1;
    return 0;
}

int dv_config_get_string(char **out, dv_config *c, const char *key)
{
    git_buf value = GIT_BUF_INIT;
    *out = NULL;
    int rc = git_config_get_string_buf(&value, c->cfg, key);
    if (rc == GIT_ENOTFOUND)
        return 0;
    if (rc < 0)
        return git_failure(DV_EUSAGE, "bad value in dv configuration");
    *out = strdup(value.ptr);
    git_buf_dispose(&value);
    return *out ? 0 : dv_error_set(DV_ENOMEM, "out of memory");
}

int dv_config_get_string_uncommitted(char **out, dv_config *c, const char *key)
{
    static const git_config_level_t levels[] = {GIT_CONFIG_LEVEL_APP, GIT_CONFIG_LEVEL_GLOBAL};
    *out = NULL;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        git_config *level = NULL;
        git_buf value = GIT_BUF_INIT;
        int rc = git_config_open_level(&level, c->cfg, levels[i]);
        if (rc == GIT_ENOTFOUND)
            continue;
        if (rc < 0)
            return git_failure(DV_EUSAGE, "cannot read dv configuration");
        rc = git_config_get_string_buf(&value, level, key);
        git_config_free(level);
        if (rc == GIT_ENOTFOUND)
            continue;
        if (rc < 0)
            return git_failure(DV_EUSAGE, "bad value in dv configuration");
        *out = strdup(value.ptr);
        git_buf_dispose(&value);
        return *out ? 0 : dv_error_set(DV_ENOMEM, "out of memory");
    }
    return 0;
}

int dv_config_get_bool(int *out, dv_config *c, const char *key, int def)
{
    int rc = git_config_get_bool(out, c->cfg, key);
    if (rc == GIT_ENOTFOUND) {
        *out = def;
        return 0;
    }
    if (rc < 0)
        return git_failure(DV_EUSAGE, "bad value in dv configuration");
    return 0;
}

typedef struct each_ctx {
    dv_config_entry_fn fn;
    void *ctx;
    int error;
} each_ctx;

static int each_entry(const git_config_entry *entry, void *payload)
{
    each_ctx *e = payload;
    e->error = e->fn(e->ctx, entry->name, entry->value);
    return e->error ? GIT_EUSER : 0;
}

int dv_config_each(dv_config *c, dv_config_entry_fn fn, void *ctx)
{
    each_ctx e = {fn, ctx, 0};
    /* every entry, filtered by the caller: libgit2's regex matching leaks (pcre2 match
     * data) in the version Debian 12 ships */
    int rc = git_config_foreach(c->cfg, each_entry, &e);
    if (rc == GIT_EUSER)
        return e.error;
    if (rc < 0)
        return git_failure(DV_EUSAGE, "cannot read dv configuration");
    return 0;
}

/* The file at path changed by edit, all at once: its bytes (none when it is absent) are
 * copied to a temp file beside it, libgit2 edits the copy (keeping comments and the other
 * keys), and the copy is fsynced and renamed over path, then the directory fsynced. A
 * crash leaves the old file or the new one, never half of one. */
typedef int (*file_edit_fn)(git_config *cfg, void *ctx);

static int edit_file(const char *path, file_edit_fn edit, void *ctx)
{
    dv_buf old = DV_BUF_INIT, tmp = DV_BUF_INIT;
    git_config *cfg = NULL;
    struct stat st;
    mode_t mode = 0644;
    int fd = -1, error;
    if ((error = regular_or_absent(path)) < 0)
        return error;
    if (stat(path, &st) == 0) /* kept: .dv/config.local may have been made private */
        mode = st.st_mode & 07777;
    error = dv_fs_read_file(&old, path, DV_CONFIG_FILE_MAX_BYTES);
    if (error == DV_ENOTFOUND) {
        dv_error_clear();
        error = 0;
    }
    if (error < 0 || (error = dv_fs_tmpfile(&fd, &tmp, path, mode)) < 0)
        goto done;
    error = dv_fs_write_all(fd, old.ptr, old.len, tmp.ptr);
    if (close(fd) < 0 && error == 0)
        error = dv_error_errno("cannot write %s", tmp.ptr);
    fd = -1;
    if (error < 0)
        goto done;
    if (git_config_open_ondisk(&cfg, tmp.ptr) < 0) {
        error = git_failure(DV_EUSAGE, path);
        goto done;
    }
    if ((error = edit(cfg, ctx)) < 0)
        goto done;
    git_config_free(cfg);
    cfg = NULL;
    /* libgit2 replaced the copy by a file of its own: open that one to fsync it */
    if ((fd = open(tmp.ptr, O_RDONLY | O_CLOEXEC)) < 0) {
        error = dv_error_errno("cannot open %s", tmp.ptr);
        goto done;
    }
    if (fchmod(fd, mode) < 0) {
        error = dv_error_errno("cannot set the mode of %s", tmp.ptr);
        close(fd);
        fd = -1;
        goto done;
    }
    error = dv_fs_commit_tmp(fd, tmp.ptr, path, DV_FS_DURABLE);
    fd = -1;
    if (error == 0)
        dv_tempfile_forget(tmp.ptr);
done:
    git_config_free(cfg);
    if (error < 0 && tmp.len)
        dv_fs_tmp_discard(tmp.ptr);
    dv_buf_release(&old);
    dv_buf_release(&tmp);
    return error;
}

typedef struct set_ctx {
    const char *path, *key, *value;
    int64_t int_value;
    int is_int;
} set_ctx;

static int set_entry(git_config *cfg, void *ctx)
{
    const set_ctx *s = ctx;
    int rc = s->is_int  ? git_config_set_int64(cfg, s->key, s->int_value)
             : s->value ? git_config_set_string(cfg, s->key, s->value)
                        : git_config_delete_entry(cfg, s->key);
    if (rc == GIT_ENOTFOUND && !s->is_int && !s->value)
        return 0;
    return rc < 0 ? git_failure(DV_EIO, s->path) : 0;
}

int dv_config_set_int_in_file(const char *path, const char *key, int64_t value)
{
    set_ctx s = {path, key, NULL, value, 1};
    return edit_file(path, set_entry, &s);
}

int dv_config_each_in_file(const char *path, dv_config_entry_fn fn, void *ctx)
{
    git_config *cfg = NULL;
    each_ctx e = {fn, ctx, 0};
    int error = regular_or_absent(path);
    if (error < 0)
        return error;
    if (git_config_open_ondisk(&cfg, path) < 0)
        return git_failure(DV_EUSAGE, path);
    int rc = git_config_foreach(cfg, each_entry, &e);
    if (rc == GIT_EUSER)
        error = e.error;
    else if (rc < 0)
        error = git_failure(DV_EUSAGE, path);
    git_config_free(cfg);
    return error;
}

int dv_config_set_string_in_file(const char *path, const char *key, const char *value)
{
    set_ctx s = {path, key, value, 0, 0};
    return edit_file(path, set_entry, &s);
}

typedef struct rename_ctx {
    const char *path;
    dv_buf old_prefix, new_prefix; /* "<section>.<subsection>." */
    char **keys, **values;
    size_t n;
    int error;
} rename_ctx;

static int collect_section(const git_config_entry *entry, void *payload)
{
    rename_ctx *r = payload;
    if (strncmp(entry->name, r->old_prefix.ptr, r->old_prefix.len))
        return 0;
    char **keys = realloc(r->keys, (r->n + 1) * sizeof(*keys));
    if (keys)
        r->keys = keys;
    char **values = keys ? realloc(r->values, (r->n + 1) * sizeof(*values)) : NULL;
    if (values)
        r->values = values;
    if (!keys || !values || !(r->keys[r->n] = strdup(entry->name))) {
        r->error = dv_error_set(DV_ENOMEM, "out of memory");
        return GIT_EUSER;
    }
    /* a key alone on its line is git-config's short form of true */
    if (!(r->values[r->n] = strdup(entry->value ? entry->value : "true"))) {
        free(r->keys[r->n]);
        r->error = dv_error_set(DV_ENOMEM, "out of memory");
        return GIT_EUSER;
    }
    r->n++;
    return 0;
}

static int rename_entries(git_config *cfg, void *ctx)
{
    rename_ctx *r = ctx;
    dv_buf key = DV_BUF_INIT;
    int error = 0;
    if (git_config_foreach(cfg, collect_section, r) < 0)
        return r->error ? r->error : git_failure(DV_EUSAGE, r->path);
    for (size_t i = 0; i < r->n && error == 0; i++) {
        dv_buf_clear(&key);
        if ((error = dv_buf_printf(&key, "%s%s", r->new_prefix.ptr,
                                   r->keys[i] + r->old_prefix.len)) < 0)
            break;
        if (git_config_set_string(cfg, key.ptr, r->values[i]) < 0 ||
            git_config_delete_entry(cfg, r->keys[i]) < 0)
            error = git_failure(DV_EIO, r->path);
    }
    dv_buf_release(&key);
    return error;
}

int dv_config_rename_section_in_file(const char *path, const char *old_section,
                                     const char *new_section)
{
    rename_ctx r = {path, DV_BUF_INIT, DV_BUF_INIT, NULL, NULL, 0, 0};
    int error;
    if ((error = dv_buf_printf(&r.old_prefix, "%s.", old_section)) == 0 &&
        (error = dv_buf_printf(&r.new_prefix, "%s.", new_section)) == 0)
        error = edit_file(path, rename_entries, &r);
    for (size_t i = 0; i < r.n; i++) {
        explicit_bzero(r.values[i], strlen(r.values[i])); /* credentials among them */
        free(r.values[i]);
        free(r.keys[i]);
    }
    free(r.keys);
    free(r.values);
    dv_buf_release(&r.old_prefix);
    dv_buf_release(&r.new_prefix);
    return error;
}

int dv_config_get_string_in_file(char **out, const char *path, const char *key)
{
    git_config *cfg = NULL;
    git_buf value = GIT_BUF_INIT;
    int error = 0;
    *out = NULL;
    if (git_config_open_ondisk(&cfg, path) < 0)
        return git_failure(DV_EIO, path);
    int rc = git_config_get_string_buf(&value, cfg, key);
    if (rc == 0) {
        if (!(*out = strdup(value.ptr)))
            error = dv_error_set(DV_ENOMEM, "out of memory");
    } else if (rc != GIT_ENOTFOUND) {
        error = git_failure(DV_EUSAGE, path);
    }
    git_buf_dispose(&value);
    git_config_free(cfg);
    return error;
}
