/*
 * testrepo: a dv repository on a fresh git repository in a scratch directory, and files
 * written into it, for the unit tests that need a work tree.
 */
#ifndef DV_TESTREPO_H
#define DV_TESTREPO_H

#include "core/base/error.h"
#include "core/repo/repo.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/** dv init in root, which must already be a git repository, then open it. */
static inline dv_repo *testrepo_init_dv(const char *root)
{
    cr_assert_eq(dv_repo_global_init(), 0);
    int already = 0;
    dv_buf top = DV_BUF_INIT;
    dv_chunk_params params = dv_chunk_params_default();
    cr_assert_eq(dv_repo_init(&already, &top, root, &params), 0, "%s", dv_error_last());
    dv_buf_release(&top);
    dv_repo *repo;
    cr_assert_eq(dv_repo_open(&repo, root), 0, "%s", dv_error_last());
    return repo;
}

/** A git repository made through libgit2 in root, then dv_init on it. */
static inline dv_repo *testrepo_init(const char *root)
{
    cr_assert_eq(dv_repo_global_init(), 0);
    git_repository *git = NULL;
    cr_assert_eq(git_repository_init(&git, root, 0), 0);
    git_repository_free(git);
    return testrepo_init_dv(root);
}

/** Write len bytes to root/relpath, replacing what is there. */
static inline void testrepo_write_file(const char *root, const char *relpath, const void *data,
                                       size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, relpath);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "%s", path);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

#endif
