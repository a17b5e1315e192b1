/* filediff: what changed inside one modified file (filediff.h). */
#include "core/ops/filediff.h"

#include "core/base/wtfs.h"
#include "core/ops/cat.h"

#include <errno.h>
#include <inttypes.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define TEXT_SNIFF_BYTES 8000u
#define WORKTREE_READ_BYTES (1u << 20)

static int ends_with(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    return n > m && !strcasecmp(path + n - m, suffix);
}

int dv_filediff_table_format(const char *path)
{
    if (ends_with(path, ".csv"))
        return DV_TABLE_CSV;
    if (ends_with(path, ".tsv") || ends_with(path, ".tab"))
        return DV_TABLE_TSV;
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson"))
        return DV_TABLE_JSONL;
    return 0;
}

/* The bytes [offset, offset + length) of the work tree's file, cut at s->size. */
static int read_worktree_range(const dv_filediff_side *s, uint64_t offset, uint64_t length,
                               dv_cat_write_fn fn, void *ctx)
{
    int fd = -1, error = dv_wtfs_open_regular(&fd, s->wt_fd, s->wt_path);
    if (error < 0)
        return error;
    uint64_t end = offset >= s->size           ? offset
                   : s->size - offset > length ? offset + length
                                               : s->size;
    char *buf = malloc(WORKTREE_READ_BYTES);
    if (!buf)
        error = dv_error_set(DV_ENOMEM, "out of memory");
    while (!error && offset < end) {
        size_t want = end - offset > WORKTREE_READ_BYTES ? WORKTREE_READ_BYTES : end - offset;
        ssize_t got = pread(fd, buf, want, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            error = dv_error_errno("cannot read %s", s->name);
        else if (got == 0)
            error = dv_error_set(
                DV_ERROR, "%s: the file shrank while it was read; run the diff again", s->name);
        else if ((error = fn(ctx, buf, (size_t)got)) >= 0)
            offset += (uint64_t)got;
    }
    free(buf);
    close(fd);
    return error < 0 ? error : 0;
}

/* The bytes [offset, offset + length) of a side, through fn. */
static int read_range(const dv_filediff_side *s, uint64_t offset, uint64_t length,
                      dv_cat_write_fn fn, void *ctx)
{
    if (s->wt_path)
        return read_worktree_range(s, offset, length, fn, ctx);
    return dv_cat_object(s->odb, &s->id, s->size, s->name, offset, length, fn, ctx);
}

int dv_filediff_is_parquet(const char *path)
{
    return ends_with(path, ".parquet") || ends_with(path, ".parq") || ends_with(path, ".pq");
}

static int collect(void *ctx, const void *data, size_t len)
{
    return dv_buf_put(ctx, data, len);
}

int dv_filediff_parquet(dv_parquet_meta *out, const dv_filediff_side *s)
{
    dv_buf tail = DV_BUF_INIT, footer = DV_BUF_INIT;
    uint32_t len = 0;
    int error;
    if (s->size < DV_PARQUET_TAIL_BYTES)
        return dv_error_set(DV_ECORRUPT, "%s: not a Parquet file (%" PRIu64 " bytes)", s->name,
                            s->size);
    if ((error = read_range(s, s->size - DV_PARQUET_TAIL_BYTES, DV_PARQUET_TAIL_BYTES, collect,
                            &tail)) < 0)
        goto done;
    if (tail.len != DV_PARQUET_TAIL_BYTES) {
        error = dv_error_set(DV_ECORRUPT, "%s: the file is shorter than its size", s->name);
        goto done;
    }
    if ((error = dv_parquet_footer_length(&len, (const uint8_t *)tail.ptr, s->size, s->name)) < 0 ||
        (error = read_range(s, s->size - DV_PARQUET_TAIL_BYTES - len, len, collect, &footer)) < 0)
        goto done;
    if (footer.len != len) {
        error = dv_error_set(DV_ECORRUPT, "%s: the file is shorter than its size", s->name);
        goto done;
    }
    error = dv_parquet_meta_parse(out, (const uint8_t *)footer.ptr, footer.len, s->name);
done:
    dv_buf_release(&tail);
    dv_buf_release(&footer);
    return error;
}

static int stream_side(void *ctx, dv_table_write_fn write, void *write_ctx)
{
    return read_range(ctx, 0, DV_CAT_TO_END, write, write_ctx);
}

int dv_filediff_table(dv_table_report *out, const dv_filediff_side *old_side,
                      const dv_filediff_side *new_side, const dv_table_options *opts)
{
    dv_table_source a = {stream_side, (void *)old_side, old_side->name, old_side->size};
    dv_table_source b = {stream_side, (void *)new_side, new_side->name, new_side->size};
    return dv_table_diff(out, &a, &b, opts);
}

static int looks_binary(const dv_buf *b)
{
    return memchr(b->ptr, '\0', b->len < TEXT_SNIFF_BYTES ? b->len : TEXT_SNIFF_BYTES) != NULL;
}

static int git_fail(const char *what)
{
    const git_error *e = git_error_last();
    return dv_error_set(DV_ERROR, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int dv_filediff_text(dv_buf *out, int *result, const dv_filediff_side *old_side,
                     const dv_filediff_side *new_side, const char *old_path, const char *new_path,
                     uint64_t limit, int force_text)
{
    dv_buf a = DV_BUF_INIT, b = DV_BUF_INIT;
    git_patch *patch = NULL;
    git_buf text = {NULL, 0, 0};
    int error = 0;
    *result = DV_FILEDIFF_TEXT_BINARY;
    if (!force_text) { /* git's test, on the first bytes alone */
        if ((error = read_range(old_side, 0, TEXT_SNIFF_BYTES, collect, &a)) < 0 ||
            (error = read_range(new_side, 0, TEXT_SNIFF_BYTES, collect, &b)) < 0)
            goto done;
        if (looks_binary(&a) || looks_binary(&b))
            goto done;
        dv_buf_clear(&a);
        dv_buf_clear(&b);
    }
    *result = DV_FILEDIFF_TEXT_TOO_LARGE;
    if (old_side->size > limit || new_side->size > limit)
        goto done;
    if ((error = read_range(old_side, 0, DV_CAT_TO_END, collect, &a)) < 0 ||
        (error = read_range(new_side, 0, DV_CAT_TO_END, collect, &b)) < 0)
        goto done;
    git_diff_options opts;
    if (git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION) < 0) {
        error = git_fail("comparing the text");
        goto done;
    }
    opts.context_lines = 3;
    if (force_text)
        opts.flags |= GIT_DIFF_FORCE_TEXT;
    if (git_patch_from_buffers(&patch, a.ptr, a.len, old_path, b.ptr, b.len, new_path, &opts) < 0 ||
        git_patch_to_buf(&text, patch) < 0) {
        error = git_fail("comparing the text");
        goto done;
    }
    *result = DV_FILEDIFF_TEXT_DONE;
    if (text.size && dv_buf_put(out, text.ptr, text.size) < 0)
        error = dv_error_set(DV_ENOMEM, "out of memory");
done:
    git_buf_dispose(&text);
    git_patch_free(patch);
    dv_buf_release(&a);
    dv_buf_release(&b);
    return error;
}
