/*
 * Fuzz the reading of .dv/config (core/config.c, and what core/repo.c and
 * core/remoteconf.c take from it): the input is written as the committed .dv/config of a
 * repository made once in a temp directory, which is then opened as dv opens it, its
 * remotes listed, and each of them opened (which makes no request). A repository that
 * opens has settings in their documented ranges.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "core/data/chunker.h"
#include "core/repo/remoteconf.h"
#include "core/repo/repo.h"
#include "remotes/remote.h"
#include "storage/odb.h"

#include <fcntl.h>
#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[] = "/tmp/dv-fuzz-config-XXXXXX";
static dv_buf config_path = DV_BUF_INIT;

static void remove_top(void)
{
    char command[sizeof(top) + 16];
    snprintf(command, sizeof(command), "rm -rf '%s'", top);
    if (system(command) != 0)
        fprintf(stderr, "fuzz_config: cannot remove %s\n", top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    git_repository *git = NULL;
    dv_buf path = DV_BUF_INIT;
    if (!mkdtemp(top) || dv_repo_global_init() < 0 || git_repository_init(&git, top, 0) < 0)
        abort();
    git_repository_free(git);
    atexit(remove_top);
    /* nothing from the user running the fuzzer: no ~/.config/dv/config, ~/.aws, AWS_* */
    if (setenv("HOME", top, 1) || dv_buf_printf(&path, "%s/no-credentials", top) < 0 ||
        setenv("AWS_SHARED_CREDENTIALS_FILE", path.ptr, 1) || unsetenv("AWS_PROFILE") ||
        setenv("AWS_ACCESS_KEY_ID", "fuzz", 1) || setenv("AWS_SECRET_ACCESS_KEY", "fuzz", 1) ||
        unsetenv("AWS_ENDPOINT_URL") || unsetenv("DV_LOCK_TIMEOUT"))
        abort();
    dv_buf_clear(&path);
    if (dv_buf_printf(&path, "%s/.dv", top) < 0 || mkdir(path.ptr, 0755) < 0 ||
        dv_buf_printf(&config_path, "%s/.dv/config", top) < 0)
        abort();
    dv_buf_release(&path);
    return 0;
}

static void write_config(const uint8_t *data, size_t size)
{
    int fd = open(config_path.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dv_repo *repo = NULL;
    dv_remote_list list;
    char *def = NULL;

    write_config(data, size);
    if (dv_repo_open(&repo, top) < 0) {
        if (repo || !dv_error_last()[0])
            abort();
        return 0;
    }
    if (dv_chunk_params_check(&repo->chunk_params) < 0 || repo->compression_level < 1 ||
        repo->compression_level > 22 || repo->pack_target_bytes < (1u << 20) ||
        repo->pack_target_bytes > (uint64_t)DV_PACK_TARGET_BYTES_MAX || repo->lock_timeout_ms < 0)
        abort();
    if (dv_remoteconf_list(&list, repo) == 0) {
        for (size_t i = 0; i < list.n; i++) {
            const char *kind;
            dv_remote *remote = NULL;
            if (!list.names[i] || !list.urls[i])
                abort();
            (void)dv_remoteconf_check_url(&kind, list.urls[i]);
            if (dv_remoteconf_open(&remote, repo, list.names[i]) == 0)
                dv_remote_free(remote);
        }
        dv_remote_list_release(&list);
    }
    if (dv_remoteconf_default(&def, repo) == 0 && !def)
        abort();
    free(def);
    dv_repo_free(repo);
    return 0;
}
