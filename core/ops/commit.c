/* commit: dv add what changed, then a git commit of git's index through libgit2. */
#include "core/ops/commit.h"

#include "core/base/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ dates */

/* Parse exactly n digits at *p into *out, moving *p past them. */
static int take_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return 0;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 1;
}

static void skip_spaces(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* A zone "+hhmm", "+hh:mm", "+hh" or "Z"; 1 when one was read. *bad set when it is malformed. */
static int take_zone(const char **p, int *offset_minutes, int *bad)
{
    const char *s = *p;
    int hh = 0, mm = 0;
    if (*s == 'Z' || *s == 'z') {
        *offset_minutes = 0;
        *p = s + 1;
        return 1;
    }
    if (*s != '+' && *s != '-')
        return 0;
    int sign = *s == '-' ? -1 : 1;
    s++;
    if (!take_digits(&s, 2, &hh)) {
        *bad = 1;
        return 0;
    }
    if (*s == ':')
        s++;
    if (isdigit((unsigned char)*s) && !take_digits(&s, 2, &mm)) {
        *bad = 1;
        return 0;
    }
    if (hh > 23 || mm > 59) {
        *bad = 1;
        return 0;
    }
    *offset_minutes = sign * (hh * 60 + mm);
    *p = s;
    return 1;
}

/* Seconds since the epoch of a civil date and time in a zone (local when !has_zone). */
static int civil_to_epoch(int64_t *seconds, int *offset_minutes, struct tm *tm, int has_zone)
{
    if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 || tm->tm_mday > 31 ||
        tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60 || tm->tm_year < 70 ||
        tm->tm_year > 8099)
        return 0;
    if (has_zone) {
        time_t t = timegm(tm);
        *seconds = (int64_t)t - (int64_t)*offset_minutes * 60;
        return 1;
    }
    tm->tm_isdst = -1;
    time_t t = mktime(tm);
    if (t == (time_t)-1)
        return 0;
    *seconds = (int64_t)t;
    *offset_minutes = (int)(tm->tm_gmtoff / 60);
    return 1;
}

static int parse_raw(int64_t *seconds, int *offset_minutes, const char *s)
{
    if (*s == '@')
        s++;
    if (!isdigit((unsigned char)*s))
        return 0;
    int64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        if (v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    int off = 0, bad = 0;
    skip_spaces(&s);
    if (*s && (!take_zone(&s, &off, &bad) || bad))
        return 0;
    skip_spaces(&s);
    if (*s)
        return 0;
    *seconds = v;
    *offset_minutes = off;
    return 1;
}

static int parse_iso(int64_t *seconds, int *offset_minutes, const char *s)
{
    struct tm tm;
    int year, mon, day, hh, mm, ss = 0, off = 0, bad = 0;
    memset(&tm, 0, sizeof(tm));
    if (!take_digits(&s, 4, &year) || *s++ != '-' || !take_digits(&s, 2, &mon) || *s++ != '-' ||
        !take_digits(&s, 2, &day) || (*s != 'T' && *s != ' '))
        return 0;
    s++;
    if (!take_digits(&s, 2, &hh) || *s++ != ':' || !take_digits(&s, 2, &mm))
        return 0;
    if (*s == ':') {
        s++;
        if (!take_digits(&s, 2, &ss))
            return 0;
        if (*s == '.' || *s == ',')
            for (s++; isdigit((unsigned char)*s); s++)
                ;
    }
    skip_spaces(&s);
    int has_zone = take_zone(&s, &off, &bad);
    skip_spaces(&s);
    if (bad || *s)
        return 0;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    *offset_minutes = off;
    return civil_to_epoch(seconds, offset_minutes, &tm, has_zone);
}

static int parse_rfc2822(int64_t *seconds, int *offset_minutes, const char *s)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    int day, year, hh, mm, ss = 0, off = 0, bad = 0, mon = -1;
    memset(&tm, 0, sizeof(tm));
    if (isalpha((unsigned char)*s)) { /* "Thu," */
        while (isalpha((unsigned char)*s))
            s++;
        if (*s++ != ',')
            return 0;
        skip_spaces(&s);
    }
    if (!take_digits(&s, 2, &day) && !take_digits(&s, 1, &day))
        return 0;
    skip_spaces(&s);
    for (int i = 0; i < 12; i++)
        if (!strncasecmp(s, months[i], 3))
            mon = i;
    if (mon < 0)
        return 0;
    s += 3;
    skip_spaces(&s);
    if (!take_digits(&s, 4, &year))
        return 0;
    skip_spaces(&s);
    if (!take_digits(&s, 2, &hh) || *s++ != ':' || !take_digits(&s, 2, &mm))
        return 0;
    if (*s == ':') {
        s++;
        if (!take_digits(&s, 2, &ss))
            return 0;
    }
    skip_spaces(&s);
    if (!take_zone(&s, &off, &bad) || bad)
        return 0;
    skip_spaces(&s);
    if (*s)
        return 0;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    *offset_minutes = off;
    return civil_to_epoch(seconds, offset_minutes, &tm, 1);
}

int dv_commit_parse_date(int64_t *seconds, int *offset_minutes, const char *text)
{
    const char *s = text;
    skip_spaces(&s);
    if (parse_raw(seconds, offset_minutes, s) || parse_iso(seconds, offset_minutes, s) ||
        parse_rfc2822(seconds, offset_minutes, s))
        return 0;
    return dv_error_set(DV_EUSAGE,
                        "cannot read the date '%s' (use \"<seconds> <+hhmm>\", ISO 8601 "
                        "\"2005-04-07T22:13:13+0200\" or RFC 2822 \"Thu, 07 Apr 2005 22:13:13 "
                        "+0200\")",
                        text);
}

/* --------------------------------------------------------------- identity */

/* The value of an environment variable, or NULL when unset or empty. */
static const char *env_value(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The string at key in cfg into *out (malloc'd), or NULL when unset or empty. */
static int config_string(char **out, git_config *cfg, const char *key)
{
    git_buf value = {0};
    *out = NULL;
    int rc = git_config_get_string_buf(&value, cfg, key);
    if (rc == GIT_ENOTFOUND)
        return 0;
    if (rc < 0)
        return dv_repo_git_error(DV_EUSAGE, key);
    if (value.size && !(*out = strdup(value.ptr))) {
        git_buf_dispose(&value);
        return dv_error_set(DV_ENOMEM, "out of memory");
    }
    git_buf_dispose(&value);
    return 0;
}

/* The first of: env variable, role.key, user.key (the config ones malloc'd into *owned). */
static int ident_part(const char **out, char **owned, git_config *cfg, const char *env_name,
                      const char *role, const char *key)
{
    char name[64];
    int error;
    *owned = NULL;
    if ((*out = env_value(env_name)))
        return 0;
    snprintf(name, sizeof(name), "%s.%s", role, key);
    if ((error = config_string(owned, cfg, name)) < 0)
        return error;
    if (!*owned) {
        snprintf(name, sizeof(name), "user.%s", key);
        if ((error = config_string(owned, cfg, name)) < 0)
            return error;
    }
    *out = *owned;
    return 0;
}

static int make_signature(git_signature **out, git_config *cfg, const char *role, const char *ROLE)
{
    char env_name[64], env_email[64], env_date[64];
    char *owned_name = NULL, *owned_email = NULL;
    const char *name, *email;
    int error;
    snprintf(env_name, sizeof(env_name), "GIT_%s_NAME", ROLE);
    snprintf(env_email, sizeof(env_email), "GIT_%s_EMAIL", ROLE);
    snprintf(env_date, sizeof(env_date), "GIT_%s_DATE", ROLE);
    if ((error = ident_part(&name, &owned_name, cfg, env_name, role, "name")) < 0 ||
        (error = ident_part(&email, &owned_email, cfg, env_email, role, "email")) < 0)
        goto done;
    if (!email)
        email = env_value("EMAIL");
    if (!name || !email) {
        error = dv_error_set(DV_EUSAGE,
                             "%s identity unknown: git needs your %s%s%s to make a commit; set "
                             "them with\n"
                             "    git config --global user.name \"Your Name\"\n"
                             "    git config --global user.email \"you@example.com\"\n"
                             "(without --global for this repository only)",
                             role, !name ? "name" : "", !name && !email ? " and " : "",
                             !email ? "email" : "");
        goto done;
    }
    const char *date = env_value(env_date);
    int rc;
    if (date) {
        int64_t seconds;
        int offset;
        if ((error = dv_commit_parse_date(&seconds, &offset, date)) < 0) {
            error = dv_error_wrap(error, "%s", env_date);
            goto done;
        }
        rc = git_signature_new(out, name, email, (git_time_t)seconds, offset);
    } else {
        rc = git_signature_now(out, name, email);
    }
    if (rc < 0)
        error = dv_repo_git_error(DV_EUSAGE, role);
done:
    free(owned_name);
    free(owned_email);
    return error;
}

int dv_commit_identity(git_signature **author, git_signature **committer, dv_repo *repo)
{
    git_config *cfg = NULL;
    int error;
    *author = *committer = NULL;
    if (git_repository_config_snapshot(&cfg, repo->git) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot read git's configuration");
    if ((error = make_signature(author, cfg, "author", "AUTHOR")) < 0 ||
        (error = make_signature(committer, cfg, "committer", "COMMITTER")) < 0) {
        git_signature_free(*author);
        *author = NULL;
    }
    git_config_free(cfg);
    return error;
}

/* ---------------------------------------------------------------- prepare */

/* Refuse when git is in the middle of something a plain commit would not finish. */
static int check_state(dv_repo *repo)
{
    const char *what = NULL;
    switch (git_repository_state(repo->git)) {
    case GIT_REPOSITORY_STATE_NONE:
    case GIT_REPOSITORY_STATE_BISECT:
        return 0;
    case GIT_REPOSITORY_STATE_MERGE:
        what = "a merge";
        break;
    case GIT_REPOSITORY_STATE_REVERT:
    case GIT_REPOSITORY_STATE_REVERT_SEQUENCE:
        what = "a revert";
        break;
    case GIT_REPOSITORY_STATE_CHERRYPICK:
    case GIT_REPOSITORY_STATE_CHERRYPICK_SEQUENCE:
        what = "a cherry-pick";
        break;
    case GIT_REPOSITORY_STATE_APPLY_MAILBOX:
    case GIT_REPOSITORY_STATE_APPLY_MAILBOX_OR_REBASE:
        what = "git am";
        break;
    default:
        what = "a rebase";
    }
    return dv_error_set(DV_EUSAGE,
                        "%s is in progress; dv commit makes plain commits only (dv add the data, "
                        "then finish it with git)",
                        what);
}

/* HEAD's branch (NULL when detached) and commit (NULL on an unborn branch). */
static int read_head(char **branch, git_commit **parent, dv_repo *repo)
{
    git_reference *head = NULL;
    git_oid id;
    int error = 0;
    *branch = NULL;
    *parent = NULL;
    if (git_reference_lookup(&head, repo->git, "HEAD") < 0)
        return dv_repo_git_error(DV_ERROR, "cannot read HEAD");
    if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
        const char *target = git_reference_symbolic_target(head);
        const char *shown = !strncmp(target, "refs/heads/", 11) ? target + 11 : target;
        if (!(*branch = strdup(shown))) {
            error = dv_error_set(DV_ENOMEM, "out of memory");
            goto done;
        }
        int rc = git_reference_name_to_id(&id, repo->git, target);
        if (rc == GIT_ENOTFOUND)
            goto done; /* unborn: the first commit */
        if (rc < 0) {
            error = dv_repo_git_error(DV_ERROR, target);
            goto done;
        }
    } else {
        git_oid_cpy(&id, git_reference_target(head));
    }
    if (git_commit_lookup(parent, repo->git, &id) < 0)
        error = dv_repo_git_error(DV_ECORRUPT, "HEAD does not name a commit");
done:
    git_reference_free(head);
    return error;
}

static int is_pointer_path(const char *path)
{
    size_t len = strlen(path), suffix = strlen(DV_POINTER_SUFFIX);
    return len > suffix && !strcmp(path + len - suffix, DV_POINTER_SUFFIX) &&
           strncmp(path, DV_DIR_NAME "/", strlen(DV_DIR_NAME) + 1);
}

/* The staged pointer blob id, its size checked before it is read. 0 when it does not parse. */
static int read_staged_pointer(int *ok, dv_pointer *out, dv_repo *repo, const git_oid *id,
                               const char *path)
{
    git_odb *odb = NULL;
    git_blob *blob = NULL;
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    int error = 0;
    *ok = 0;
    if (git_repository_odb(&odb, repo->git) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot open git's object database");
    if (git_odb_read_header(&size, &type, odb, id) < 0 || type != GIT_OBJECT_BLOB ||
        size > DV_POINTER_MAX_BYTES || git_blob_lookup(&blob, repo->git, id) < 0)
        goto done;
    git_object_size_t len = git_blob_rawsize(blob);
    if (len <= DV_POINTER_MAX_BYTES &&
        dv_pointer_parse(out, git_blob_rawcontent(blob), (size_t)len, path) == 0)
        *ok = 1;
done:
    dv_error_clear();
    git_blob_free(blob);
    git_odb_free(odb);
    return error;
}

static int add_change(dv_commit_plan *plan, dv_repo *repo, const git_diff_delta *d)
{
    dv_commit_change *c = &plan->changes[plan->n_changes];
    const char *path = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;
    memset(c, 0, sizeof(*c));
    switch (d->status) {
    case GIT_DELTA_ADDED:
        c->status = 'A';
        break;
    case GIT_DELTA_DELETED:
        c->status = 'D';
        break;
    case GIT_DELTA_TYPECHANGE:
        c->status = 'T';
        break;
    default:
        c->status = 'M';
    }
    c->is_data = is_pointer_path(path);
    size_t len = strlen(path);
    if (c->is_data)
        len -= strlen(DV_POINTER_SUFFIX);
    if (!(c->path = strndup(path, len)))
        return dv_error_set(DV_ENOMEM, "out of memory");
    plan->n_changes++;
    if (!c->is_data)
        return 0;
    plan->n_data_changes++;
    if (c->status == 'D')
        return 0;
    return read_staged_pointer(&c->has_pointer, &c->pointer, repo, &d->new_file.id, path);
}

/* What the index holds that HEAD does not. */
static int list_changes(dv_commit_plan *plan, dv_repo *repo, git_index *index)
{
    git_tree *head_tree = NULL;
    git_diff *diff = NULL;
    git_diff_options opts;
    int error = 0;
    if (git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot set up a diff");
    opts.flags |= GIT_DIFF_IGNORE_SUBMODULES;
    if (plan->parent && git_commit_tree(&head_tree, plan->parent) < 0)
        return dv_repo_git_error(DV_ECORRUPT, "cannot read HEAD's tree");
    if (git_diff_tree_to_index(&diff, repo->git, head_tree, index, &opts) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot compare git's index with HEAD");
        goto done;
    }
    size_t n = git_diff_num_deltas(diff);
    if (n && !(plan->changes = calloc(n, sizeof(*plan->changes)))) {
        error = dv_error_set(DV_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n && !error; i++)
        error = add_change(plan, repo, git_diff_get_delta(diff, i));
done:
    git_diff_free(diff);
    git_tree_free(head_tree);
    return error;
}

int dv_commit_prepare(dv_commit_plan *plan, dv_repo *repo, const char *const *filters,
                      size_t n_filters, const dv_add_options *opts)
{
    git_index *index = NULL;
    int error;
    memset(plan, 0, sizeof(*plan));
    /* Everything that can refuse the commit is checked before anything is added. */
    if ((error = dv_commit_identity(&plan->author, &plan->committer, repo)) < 0 ||
        (error = check_state(repo)) < 0 ||
        (error = read_head(&plan->branch, &plan->parent, repo)) < 0)
        goto done;
    if (git_repository_index(&index, repo->git) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot open git's index");
        goto done;
    }
    if (git_index_read(index, 0) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot read git's index");
        goto done;
    }
    if (git_index_has_conflicts(index)) {
        error = dv_error_set(DV_EUSAGE, "git's index has unmerged paths; resolve them (git add) "
                                        "before committing");
        goto done;
    }
    if ((error = dv_status(&plan->status, repo, filters, n_filters)) < 0)
        goto done;
    for (size_t i = 0; i < plan->status.n && !error; i++)
        if (plan->status.paths[i].state == DV_STATE_MODIFIED)
            error = dv_path_list_add(&plan->added_paths, plan->status.paths[i].path);
    if (error < 0)
        goto done;
    if (plan->added_paths.n &&
        (error = dv_add(&plan->added, repo, (const char *const *)plan->added_paths.paths,
                        plan->added_paths.n, opts)) < 0)
        goto done;
    plan->added_done = plan->added_paths.n > 0;
    if (git_index_read(index, 0) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot read git's index");
        goto done;
    }
    if (git_index_write_tree(&plan->tree_id, index) < 0) {
        error = dv_repo_git_error(DV_ERROR, "cannot write git's index as a tree");
        goto done;
    }
    error = list_changes(plan, repo, index);
done:
    git_index_free(index);
    return error;
}

void dv_commit_plan_free(dv_commit_plan *plan)
{
    if (!plan)
        return;
    git_signature_free(plan->author);
    git_signature_free(plan->committer);
    git_commit_free(plan->parent);
    free(plan->branch);
    dv_path_list_free(&plan->added_paths);
    dv_status_report_free(&plan->status);
    for (size_t i = 0; i < plan->n_changes; i++)
        free(plan->changes[i].path);
    free(plan->changes);
    memset(plan, 0, sizeof(*plan));
}

/* ---------------------------------------------------------------- message */

int dv_commit_template(dv_buf *out, const dv_commit_plan *plan)
{
    char short_id[8];
    dv_buf_clear(out);
    dv_buf_puts(out, "\n"
                     "# Please enter the commit message for your changes. Lines starting\n"
                     "# with '#' will be ignored, and an empty message aborts the commit.\n"
                     "#\n");
    if (plan->branch) {
        dv_buf_printf(out, "# On branch %s\n", plan->branch);
    } else {
        git_oid_tostr(short_id, sizeof(short_id), git_commit_id(plan->parent));
        dv_buf_printf(out, "# HEAD detached at %s\n", short_id);
    }
    if (!plan->parent)
        dv_buf_puts(out, "#\n# Initial commit\n#\n");
    dv_buf_puts(out, "# Changes to be committed:\n");
    for (size_t i = 0; i < plan->n_changes; i++) {
        const dv_commit_change *c = &plan->changes[i];
        const char *what = c->status == 'A'   ? "new file:   "
                           : c->status == 'D' ? "deleted:    "
                           : c->status == 'T' ? "typechange: "
                                              : "modified:   ";
        dv_buf_printf(out, "#\t%s%s%s\n", what, c->path, c->is_data ? DV_POINTER_SUFFIX : "");
    }
    dv_buf_puts(out, "#\n");
    if (plan->added_paths.n) {
        dv_buf_puts(out, "# Data stored and staged by dv commit:\n");
        for (size_t i = 0; i < plan->added_paths.n; i++)
            dv_buf_printf(out, "#\t%s\n", plan->added_paths.paths[i]);
        dv_buf_puts(out, "#\n");
    }
    return dv_buf_oom(out) ? dv_error_set(DV_ENOMEM, "out of memory") : 0;
}

int dv_commit_message_path(dv_buf *out, dv_repo *repo)
{
    dv_buf_clear(out);
    return dv_buf_joinpath(out, git_repository_path(repo->git), "COMMIT_EDITMSG");
}

int dv_commit_editor(dv_buf *out, dv_repo *repo)
{
    const char *editor = env_value("GIT_EDITOR");
    char *configured = NULL;
    int error = 0;
    dv_buf_clear(out);
    if (!editor) {
        git_config *cfg = NULL;
        if (git_repository_config_snapshot(&cfg, repo->git) < 0)
            return dv_repo_git_error(DV_ERROR, "cannot read git's configuration");
        error = config_string(&configured, cfg, "core.editor");
        git_config_free(cfg);
        if (error < 0)
            return error;
        editor = configured;
    }
    const char *term = getenv("TERM");
    int dumb = !term || !strcmp(term, "dumb");
    if (!editor && !dumb)
        editor = env_value("VISUAL");
    if (!editor)
        editor = env_value("EDITOR");
    if (!editor && dumb)
        error = dv_error_set(DV_EUSAGE, "the terminal is dumb and no editor is set: give the "
                                        "message with -m, or set GIT_EDITOR or core.editor");
    else
        error = dv_buf_puts(out, editor ? editor : "vi");
    free(configured);
    return error;
}

int dv_commit_clean_message(dv_buf *out, const char *raw, int strip_comments)
{
    git_buf clean = {0};
    dv_buf_clear(out);
    if (git_message_prettify(&clean, raw, strip_comments, '#') < 0)
        return dv_repo_git_error(DV_ERROR, "cannot clean up the commit message");
    int error = dv_buf_put(out, clean.ptr ? clean.ptr : "", clean.size);
    git_buf_dispose(&clean);
    return error;
}

/* ----------------------------------------------------------------- create */

int dv_commit_create(git_oid *out, dv_repo *repo, const dv_commit_plan *plan, const char *message)
{
    git_tree *tree = NULL;
    int error = 0;
    if (!*message)
        return dv_error_set(DV_EUSAGE, "the commit message is empty");
    if (git_tree_lookup(&tree, repo->git, &plan->tree_id) < 0)
        return dv_repo_git_error(DV_ERROR, "cannot read the tree of git's index");
    const git_commit *parents[1] = {plan->parent};
    if (git_commit_create(out, repo->git, "HEAD", plan->author, plan->committer, NULL, message,
                          tree, plan->parent ? 1 : 0, parents) < 0)
        error = dv_repo_git_error(DV_ERROR, "cannot create the commit");
    git_tree_free(tree);
    return error;
}
