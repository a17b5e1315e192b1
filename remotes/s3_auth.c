/*
 * s3_auth: finding S3 credentials: the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or a section of the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials). Secrets are wiped before they are freed.
 */
#include "remotes/s3.h"

#include "core/base/buf.h"
#include "core/base/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dv_s3_credentials_release(dv_s3_credentials *creds)
{
    if (!creds)
        return;
    free(creds->access_key_id);
    if (creds->secret_access_key) {
        explicit_bzero(creds->secret_access_key, strlen(creds->secret_access_key));
        free(creds->secret_access_key);
    }
    if (creds->session_token) {
        explicit_bzero(creds->session_token, strlen(creds->session_token));
        free(creds->session_token);
    }
    memset(creds, 0, sizeof(*creds));
}

static char *trim(char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' ||
                       text[len - 1] == '\r'))
        text[--len] = '\0';
    return text;
}

/* Does the section header "[...]" (brackets stripped, trimmed) name profile? The credentials
 * file says "[name]"; "[profile name]", the config file's form, is accepted too. */
static int section_is(const char *section, const char *profile)
{
    if (!strcmp(section, profile))
        return 1;
    if (!strncmp(section, "profile", 7) && (section[7] == ' ' || section[7] == '\t')) {
        const char *name = section + 8;
        while (*name == ' ' || *name == '\t')
            name++;
        return !strcmp(name, profile);
    }
    return 0;
}

static int set_string(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return dv_error_set(DV_ENOMEM, "out of memory reading credentials");
    free(*field);
    *field = copy;
    return 0;
}

/* Read [profile] of the credentials file at path into out. 1 if the file does not exist. */
static int load_credentials_file(dv_s3_credentials *out, const char *path, const char *profile)
{
    FILE *file = fopen(path, "re");
    char *line = NULL;
    size_t line_alloc = 0;
    int in_section = 0, found_section = 0, error = 0;
    unsigned line_no = 0;

    if (!file) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        return dv_error_errno("reading AWS credentials file %s", path);
    }
    errno = 0;
    while (getline(&line, &line_alloc, file) >= 0) {
        char *text = trim(line);
        line_no++;
        if (!*text || *text == '#' || *text == ';')
            continue;
        if (*text == '[') {
            char *close = strchr(text, ']');
            if (!close) {
                error = dv_error_set(DV_EUSAGE,
                                     "AWS credentials file %s, line %u: bad section "
                                     "header",
                                     path, line_no);
                goto done;
            }
            *close = '\0';
            in_section = section_is(trim(text + 1), profile);
            found_section |= in_section;
            continue;
        }
        if (!in_section)
            continue;
        char *eq = strchr(text, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *name = trim(text), *value = trim(eq + 1);
        if (!strcasecmp(name, "aws_access_key_id"))
            error = set_string(&out->access_key_id, value);
        else if (!strcasecmp(name, "aws_secret_access_key"))
            error = set_string(&out->secret_access_key, value);
        else if (!strcasecmp(name, "aws_session_token"))
            error = set_string(&out->session_token, value);
        if (error < 0)
            goto done;
    }
    if (ferror(file)) {
        error = dv_error_errno("reading AWS credentials file %s", path);
        goto done;
    }
    if (!found_section) {
        error = dv_error_set(DV_ENOTFOUND,
                             "no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
                             "not set, and %s has no [%s] section (set those variables, add the "
                             "section, or choose another profile with AWS_PROFILE)",
                             path, profile);
        goto done;
    }
    if (!out->access_key_id || !out->access_key_id[0] || !out->secret_access_key ||
        !out->secret_access_key[0]) {
        error = dv_error_set(DV_ENOTFOUND,
                             "no S3 credentials: section [%s] of %s lacks %s (add it, or set "
                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                             profile, path,
                             out->access_key_id && out->access_key_id[0] ? "aws_secret_access_key"
                                                                         : "aws_access_key_id");
        goto done;
    }
    if (out->session_token && !out->session_token[0]) {
        free(out->session_token);
        out->session_token = NULL;
    }

done:
    if (line) {
        explicit_bzero(line, line_alloc);
        free(line);
    }
    fclose(file);
    return error;
}

int dv_s3_credentials_load(dv_s3_credentials *out, const char *profile)
{
    const char *key_id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    dv_buf path = DV_BUF_INIT;
    int error = 0;

    memset(out, 0, sizeof(*out));
    if (profile && profile[0])
        key_id = secret = token = NULL; /* a profile named for this remote is a choice */
    if (key_id && key_id[0] && secret && secret[0]) {
        if ((error = set_string(&out->access_key_id, key_id)) < 0 ||
            (error = set_string(&out->secret_access_key, secret)) < 0 ||
            (token && token[0] && (error = set_string(&out->session_token, token)) < 0))
            goto done;
        return 0;
    }
    if ((key_id && key_id[0]) || (secret && secret[0]))
        return dv_error_set(DV_EUSAGE,
                            "%s is set but %s is not (set both, or neither to use "
                            "~/.aws/credentials)",
                            key_id && key_id[0] ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                            key_id && key_id[0] ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");

    if (!profile || !profile[0])
        profile = getenv("AWS_PROFILE");
    if (!profile || !profile[0])
        profile = "default";
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (file && file[0]) {
        error = dv_buf_puts(&path, file);
    } else {
        const char *home = getenv("HOME");
        if (!home || !home[0]) {
            error = dv_error_set(DV_ENOTFOUND,
                                 "no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                 "are not set, and HOME is not set to find ~/.aws/credentials");
            goto done;
        }
        error = dv_buf_printf(&path, "%s/.aws/credentials", home);
    }
    if (error < 0)
        goto done;
    error = load_credentials_file(out, path.ptr, profile);
    if (error == 1)
        error = dv_error_set(DV_ENOTFOUND,
                             "no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
                             "not set, and %s does not exist (set those variables, or write "
                             "aws_access_key_id and aws_secret_access_key under [%s] in that file)",
                             path.ptr, profile);

done:
    if (error < 0)
        dv_s3_credentials_release(out);
    dv_buf_release(&path);
    return error;
}
