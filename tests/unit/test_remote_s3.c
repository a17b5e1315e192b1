/*
 * Tests for remotes/s3: the parser of ListObjectsV2 responses, the credentials loader and
 * the URLs, which always run; and, when DV_TEST_S3_ENDPOINT names a running test rig
 * (tests/s3/rig.sh), puts, lists, ranged gets, removes, errors, retries and request counts
 * against a real S3-compatible server behind a proxy that checks SigV4 signatures.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "remotes/s3.h"

#include "testutil.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KIB ((size_t)1024)
#define MIB (1024 * KIB)
#define BIG_FILE_BYTES (20 * MIB + 12345)
#define EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char root_dir[64];

static void make_root(void)
{
    testutil_make_root(root_dir, sizeof(root_dir), "remote-s3");
}

static void remove_root(void)
{
    testutil_remove_tree(root_dir);
}

TestSuite(s3_parse);
TestSuite(s3_credentials, .init = make_root, .fini = remove_root);
TestSuite(s3_url);
TestSuite(s3_retry);
TestSuite(s3_rig, .init = make_root, .fini = remove_root, .timeout = 240);

/* ---- collecting list entries ---- */

#define MAX_ENTRIES 256

typedef struct entries {
    size_t n;
    char *names[MAX_ENTRIES];
    uint64_t sizes[MAX_ENTRIES];
    int64_t times[MAX_ENTRIES];
    int stop_after; /* return 42 after this many entries when > 0 */
} entries;

static int collect(void *ctx, const char *name, uint64_t size, int64_t modified)
{
    entries *e = ctx;
    cr_assert_lt(e->n, MAX_ENTRIES);
    e->times[e->n] = modified;
    e->names[e->n] = strdup(name);
    cr_assert_not_null(e->names[e->n]);
    e->sizes[e->n] = size;
    e->n++;
    if (e->stop_after > 0 && (int)e->n >= e->stop_after)
        return 42;
    return 0;
}

static void entries_release(entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->names[i]);
    e->n = 0;
}

/* The size listed for name, or -1 if it is not there (and fail if it is there twice). */
static int64_t entry_size(const entries *e, const char *name)
{
    int64_t size = -1;
    for (size_t i = 0; i < e->n; i++) {
        if (!strcmp(e->names[i], name)) {
            cr_assert_eq(size, -1, "%s listed twice", name);
            size = (int64_t)e->sizes[i];
        }
    }
    return size;
}

/* ---- the list parser ---- */

static int parse(const char *xml, entries *e, int *truncated, char **token)
{
    return dv_s3__parse_list(xml, strlen(xml), collect, e, truncated, token);
}

Test(s3_parse, keys_sizes_and_entities)
{
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>b</Name><Prefix>p/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>"
        "<IsTruncated>false</IsTruncated>"
        "<Contents><Key>p/packs/a.pack</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
        "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><Size>134217728</Size>"
        "<Owner><ID>123</ID><DisplayName>x</DisplayName></Owner>"
        "<StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>p/odd &amp; &lt;Key&gt; &quot;q&quot; &apos;a&apos; &#x27;h&#39; "
        "&#65;&#xe9;&#x1F600;</Key><Size>0</Size></Contents>"
        "<Contents><Size>9223372036854775807</Size><Key>p/max</Key></Contents>"
        "</ListBucketResult>";
    entries e = {0};
    int truncated = -1;
    char *token = (char *)"unset";

    cr_assert_eq(parse(xml, &e, &truncated, &token), 0, "%s", dv_error_last());
    cr_assert_eq(truncated, 0);
    cr_assert_null(token);
    cr_assert_eq(e.n, 3);
    cr_assert_str_eq(e.names[0], "p/packs/a.pack");
    cr_assert_eq(e.sizes[0], 134217728);
    cr_assert_str_eq(e.names[1], "p/odd & <Key> \"q\" 'a' 'h' A\xc3\xa9\xf0\x9f\x98\x80");
    cr_assert_eq(e.sizes[1], 0);
    cr_assert_str_eq(e.names[2], "p/max");
    cr_assert_eq(e.sizes[2], DV_REMOTE_SIZE_MAX);
    cr_assert_eq(e.times[0], 1704067200, "LastModified is read");
    cr_assert_eq(e.times[1], DV_REMOTE_TIME_UNKNOWN, "no LastModified: unknown");
    entries_release(&e);
}

Test(s3_parse, last_modified_times)
{
    const char *good[] = {"2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z",
                          "2024-01-01T00:00:00.123456Z"};
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(dv_s3__parse_time(good[i], strlen(good[i])), 1704067200, "%s", good[i]);
    const char *s = "2025-03-04T05:06:07.000Z";
    cr_assert_eq(dv_s3__parse_time(s, strlen(s)), 1741064767);
    const char *bad[] = {"",
                         "2024-01-01",
                         "2024-01-01T00:00:00.000",
                         "2024-13-01T00:00:00Z",
                         "2024-01-01 00:00:00Z",
                         "20x4-01-01T00:00:00Z",
                         "2024-01-01T00:00:00.Z",
                         "1969-12-31T23:59:59Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(dv_s3__parse_time(bad[i], strlen(bad[i])), DV_REMOTE_TIME_UNKNOWN, "%s",
                     bad[i]);
}

Test(s3_parse, truncated_listing_gives_the_continuation_token)
{
    const char *xml = "<ListBucketResult><Name>b</Name><IsTruncated>true</IsTruncated>"
                      "<ContinuationToken>old</ContinuationToken>"
                      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
                      "&amp;x</NextContinuationToken>"
                      "<Contents><Key>k1</Key><Size>1</Size></Contents>"
                      "<Contents><Key>k2</Key><Size>22</Size></Contents>"
                      "</ListBucketResult>";
    entries e = {0};
    int truncated = 0;
    char *token = NULL;

    cr_assert_eq(parse(xml, &e, &truncated, &token), 0, "%s", dv_error_last());
    cr_assert_eq(truncated, 1);
    cr_assert_str_eq(token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x");
    cr_assert_eq(e.n, 2);
    cr_assert_str_eq(e.names[1], "k2");
    cr_assert_eq(e.sizes[1], 22);
    free(token);
    entries_release(&e);
}

Test(s3_parse, empty_listing_calls_nothing)
{
    const char *xml = "<ListBucketResult><Name>b</Name><Prefix>none/</Prefix>"
                      "<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>";
    entries e = {0};
    int truncated = 1;
    char *token = NULL;
    cr_assert_eq(parse(xml, &e, &truncated, &token), 0);
    cr_assert_eq(e.n, 0);
    cr_assert_eq(truncated, 0);
    cr_assert_null(token);
}

Test(s3_parse, a_callback_stops_the_parse)
{
    const char *xml = "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>"
                      "<Contents><Key>b</Key><Size>2</Size></Contents></ListBucketResult>";
    entries e = {.stop_after = 1};
    int truncated;
    char *token = NULL;
    cr_assert_eq(parse(xml, &e, &truncated, &token), 42);
    cr_assert_eq(e.n, 1);
    entries_release(&e);
}

Test(s3_parse, malformed_responses_are_corrupt)
{
    static const char *bad[] = {
        "<Error><Code>AccessDenied</Code></Error>",
        "<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1x</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size></Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>18446744073709551616</Size></Contents>"
        "</ListBucketResult>",
        /* past DV_REMOTE_SIZE_MAX: no object is that large, and 2^64 - 1 would read as
         * DV_REMOTE_SIZE_UNKNOWN */
        "<ListBucketResult><Contents><Key>a</Key><Size>9223372036854775808</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>18446744073709551615</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key></Key><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&#0;</Key><Size>1</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&#xD800;</Key><Size>1</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>a &amp</Key><Size>1</Size></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>a</Key><Size>1</Size>",
        "<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</ListBucketResult>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        entries e = {0};
        int truncated;
        char *token = NULL;
        cr_assert_eq(parse(bad[i], &e, &truncated, &token), DV_ECORRUPT, "accepted: %s", bad[i]);
        cr_assert_null(token);
        entries_release(&e);
    }
}

Test(s3_parse, a_truncated_response_body_is_corrupt_not_an_overread)
{
    const char *xml = "<ListBucketResult><Contents><Key>abc</Key><Size>12</Size></Contents>"
                      "</ListBucketResult>";
    size_t len = strlen(xml);
    for (size_t cut = 20; cut < len - strlen("</ListBucketResult>"); cut++) {
        /* A private copy of exactly cut bytes, so that reading past it is caught by ASan. */
        char *copy = malloc(cut);
        cr_assert_not_null(copy);
        memcpy(copy, xml, cut);
        entries e = {0};
        int truncated;
        char *token = NULL;
        int error = dv_s3__parse_list(copy, cut, collect, &e, &truncated, &token);
        cr_assert(error == DV_ECORRUPT || (error == 0 && e.n == 0) || (error == 0 && e.n == 1),
                  "cut at %zu: %d", cut, error);
        if (error == 0 && e.n == 1)
            cr_assert(cut >= strlen("<ListBucketResult><Contents><Key>abc</Key><Size>12</Size>"
                                    "</Contents>"));
        free(copy);
        entries_release(&e);
    }
}

/* ---- credentials ---- */

static void clear_aws_env(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fputs(text, f) >= 0, 1);
    cr_assert_eq(fclose(f), 0);
}

static const char credentials_text[] = "# a comment\n"
                                       "[default]\n"
                                       "aws_access_key_id = AKIDDEFAULT\n"
                                       "aws_secret_access_key=secret/default+x\n"
                                       "\n"
                                       "; another comment\n"
                                       "[work]\r\n"
                                       "  aws_access_key_id =  AKIDWORK  \r\n"
                                       "aws_secret_access_key = secret work\r\n"
                                       "aws_session_token = token=work\r\n"
                                       "region = eu-west-1\r\n"
                                       "[profile config-style]\n"
                                       "aws_access_key_id = AKIDCONFIG\n"
                                       "aws_secret_access_key = secretconfig\n"
                                       "[half]\n"
                                       "aws_access_key_id = AKIDHALF\n";

static void use_credentials_file(void)
{
    char path[128];
    clear_aws_env();
    snprintf(path, sizeof(path), "%s/credentials", root_dir);
    write_text(path, credentials_text);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
}

Test(s3_credentials, a_named_profile_wins_else_the_environment_comes_first)
{
    dv_s3_credentials creds;
    use_credentials_file();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    cr_assert_eq(dv_s3_credentials_load(&creds, "work"), 0, "%s", dv_error_last());
    cr_assert_str_eq(creds.access_key_id, "AKIDWORK", "a profile named for the remote wins");
    dv_s3_credentials_release(&creds);
    cr_assert_eq(dv_s3_credentials_load(&creds, NULL), 0, "%s", dv_error_last());
    cr_assert_str_eq(creds.access_key_id, "AKIDENV");
    cr_assert_str_eq(creds.secret_access_key, "secretenv");
    cr_assert_null(creds.session_token);
    dv_s3_credentials_release(&creds);

    setenv("AWS_SESSION_TOKEN", "tokenenv", 1);
    cr_assert_eq(dv_s3_credentials_load(&creds, NULL), 0);
    cr_assert_str_eq(creds.session_token, "tokenenv");
    dv_s3_credentials_release(&creds);
    cr_assert_null(creds.access_key_id);
    dv_s3_credentials_release(NULL);
}

Test(s3_credentials, half_set_environment_is_a_usage_error)
{
    dv_s3_credentials creds;
    use_credentials_file();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    cr_assert_eq(dv_s3_credentials_load(&creds, NULL), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "AWS_SECRET_ACCESS_KEY"), "%s", dv_error_last());
}

Test(s3_credentials, the_file_gives_default_or_the_named_profile)
{
    dv_s3_credentials creds;
    use_credentials_file();

    cr_assert_eq(dv_s3_credentials_load(&creds, NULL), 0, "%s", dv_error_last());
    cr_assert_str_eq(creds.access_key_id, "AKIDDEFAULT");
    cr_assert_str_eq(creds.secret_access_key, "secret/default+x");
    cr_assert_null(creds.session_token);
    dv_s3_credentials_release(&creds);

    cr_assert_eq(dv_s3_credentials_load(&creds, "work"), 0, "%s", dv_error_last());
    cr_assert_str_eq(creds.access_key_id, "AKIDWORK");
    cr_assert_str_eq(creds.secret_access_key, "secret work");
    cr_assert_str_eq(creds.session_token, "token=work");
    dv_s3_credentials_release(&creds);

    setenv("AWS_PROFILE", "config-style", 1);
    cr_assert_eq(dv_s3_credentials_load(&creds, NULL), 0, "%s", dv_error_last());
    cr_assert_str_eq(creds.access_key_id, "AKIDCONFIG");
    dv_s3_credentials_release(&creds);

    /* The argument wins over AWS_PROFILE. */
    cr_assert_eq(dv_s3_credentials_load(&creds, "default"), 0);
    cr_assert_str_eq(creds.access_key_id, "AKIDDEFAULT");
    dv_s3_credentials_release(&creds);
}

Test(s3_credentials, home_is_searched_without_AWS_SHARED_CREDENTIALS_FILE)
{
    char path[128];
    dv_s3_credentials creds;
    clear_aws_env();
    snprintf(path, sizeof(path), "%s/.aws", root_dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/.aws/credentials", root_dir);
    write_text(path, credentials_text);
    setenv("HOME", root_dir, 1);
    cr_assert_eq(dv_s3_credentials_load(&creds, "work"), 0, "%s", dv_error_last());
    cr_assert_str_eq(creds.access_key_id, "AKIDWORK");
    dv_s3_credentials_release(&creds);
}

Test(s3_credentials, nothing_found_says_where_it_looked)
{
    char path[128];
    dv_s3_credentials creds;
    clear_aws_env();
    snprintf(path, sizeof(path), "%s/no-such-file", root_dir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    cr_assert_eq(dv_s3_credentials_load(&creds, NULL), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), path), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "AWS_ACCESS_KEY_ID"), "%s", dv_error_last());
    cr_assert_null(creds.access_key_id);

    use_credentials_file();
    cr_assert_eq(dv_s3_credentials_load(&creds, "nope"), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "[nope]"), "%s", dv_error_last());

    cr_assert_eq(dv_s3_credentials_load(&creds, "half"), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "aws_secret_access_key"), "%s", dv_error_last());
    cr_assert_null(creds.access_key_id);
}

/* ---- URLs ---- */

static dv_remote *open_for_url(const char *endpoint, const char *region, int path_style,
                               const char *prefix)
{
    dv_s3_options opts = {.bucket = "my-bucket",
                          .prefix = prefix,
                          .endpoint = endpoint,
                          .region = region,
                          .path_style = path_style,
                          .access_key_id = "AKID",
                          .secret_access_key = "secret"};
    dv_remote *remote = NULL;
    cr_assert_eq(dv_remote_s3_open(&remote, &opts), 0, "%s", dv_error_last());
    return remote;
}

static void assert_url(dv_remote *remote, const char *name, const char *want)
{
    char *url = NULL;
    cr_assert_eq(dv_s3__object_url(&url, remote, name), 0);
    cr_assert_str_eq(url, want);
    free(url);
}

Test(s3_url, virtual_host_on_aws_by_default)
{
    dv_remote *remote = open_for_url(NULL, NULL, 0, "");
    cr_assert_str_eq(remote->ops->kind, "s3");
    cr_assert_str_eq(remote->display, "s3://my-bucket");
    assert_url(remote, "packs/ab.pack",
               "https://my-bucket.s3.us-east-1.amazonaws.com/packs/ab.pack");
    dv_remote_free(remote);

    remote = open_for_url(NULL, "eu-west-3", 0, "team/repo");
    cr_assert_str_eq(remote->display, "s3://my-bucket/team/repo");
    assert_url(remote, "packs/ab.idx",
               "https://my-bucket.s3.eu-west-3.amazonaws.com/team/repo/packs/ab.idx");
    dv_remote_free(remote);
}

Test(s3_url, path_style_encodes_each_segment)
{
    dv_remote *remote = open_for_url("http://127.0.0.1:9000/", "us-west-2", 1, "/a b/c/");
    assert_url(remote, "packs/x+y=z&%~_-.pack",
               "http://127.0.0.1:9000/my-bucket/a%20b/c/packs/x%2By%3Dz%26%25~_-.pack");
    assert_url(remote, "caf\xc3\xa9", "http://127.0.0.1:9000/my-bucket/a%20b/c/caf%C3%A9");
    dv_remote_free(remote);

    remote = open_for_url("https://minio.example:9443", NULL, 0, NULL);
    assert_url(remote, "k", "https://my-bucket.minio.example:9443/k");
    dv_remote_free(remote);
}

Test(s3_url, bad_settings_are_usage_errors)
{
    dv_remote *remote = NULL;
    dv_s3_options opts = {
        .bucket = "b", .endpoint = "ftp://x", .access_key_id = "a", .secret_access_key = "s"};
    cr_assert_eq(dv_remote_s3_open(&remote, &opts), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "ftp://x"), "%s", dv_error_last());
    opts.endpoint = NULL;
    opts.secret_access_key = NULL;
    cr_assert_eq(dv_remote_s3_open(&remote, &opts), DV_EUSAGE);
    cr_assert(strstr(dv_error_last(), "AWS_SECRET_ACCESS_KEY"), "%s", dv_error_last());
    opts.secret_access_key = "s";
    opts.bucket = "bad/bucket";
    cr_assert_eq(dv_remote_s3_open(&remote, &opts), DV_EUSAGE);
    cr_assert_null(remote);
}

Test(s3_retry, unreachable_endpoints_are_retried_then_reported)
{
    /* Port 1 on loopback refuses at once: every attempt fails fast and is retried. */
    dv_s3_options opts = {.bucket = "b",
                          .endpoint = "http://127.0.0.1:1",
                          .path_style = 1,
                          .access_key_id = "a",
                          .secret_access_key = "s",
                          .max_attempts = 3};
    dv_remote *remote = NULL;
    char byte;
    cr_assert_eq(dv_remote_s3_open(&remote, &opts), 0);
    cr_assert_eq(remote->ops->get(remote, "x", 0, 1, &byte), DV_EIO);
    cr_assert(strstr(dv_error_last(), "s3 GET s3://b/x"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "after 3 attempts"), "%s", dv_error_last());
    cr_assert_eq(remote->stats.get_requests, 3);
    cr_assert_eq(remote->stats.retries, 2);
    dv_remote_free(remote);
}

/* ---- against the rig ---- */

static const char *rig_endpoint(void)
{
    const char *endpoint = getenv("DV_TEST_S3_ENDPOINT");
    if (!endpoint || !endpoint[0])
        cr_skip_test("DV_TEST_S3_ENDPOINT is not set (run under tests/s3/with-rig.sh)");
    return endpoint;
}

static const char *rig_bucket(void)
{
    const char *bucket = getenv("DV_TEST_S3_BUCKET");
    return bucket && bucket[0] ? bucket : "dv-test";
}

/* A prefix of its own for each test, so that tests sharing the rig see only their objects and
 * their own request counts (the proxy counts by the first segment of the key). */
static void test_prefix(char *out, size_t size, const char *test_name)
{
    snprintf(out, size, "ut-%ld-%ld-%s", (long)getpid(), (long)time(NULL), test_name);
}

static dv_remote *open_rig(const char *prefix, const char *secret)
{
    const char *endpoint = rig_endpoint();
    dv_s3_credentials creds;
    dv_remote *remote = NULL;
    cr_assert_eq(dv_s3_credentials_load(&creds, NULL), 0, "%s", dv_error_last());
    dv_s3_options opts = {.bucket = rig_bucket(),
                          .prefix = prefix,
                          .endpoint = endpoint,
                          .region = "us-east-1",
                          .path_style = 1,
                          .access_key_id = creds.access_key_id,
                          .secret_access_key = secret ? secret : creds.secret_access_key,
                          .session_token = creds.session_token};
    cr_assert_eq(dv_remote_s3_open(&remote, &opts), 0, "%s", dv_error_last());
    dv_s3_credentials_release(&creds);
    return remote;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "%s", path);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        cr_assert_gt(n, 0);
        done += (size_t)n;
    }
    cr_assert_eq(close(fd), 0);
}

static void local_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", root_dir, name);
}

/* A plain HTTP request (no signature unless sign_secret is set) to the rig; returns the status
 * and the body in *body. */
static long rig_http(const char *method, const char *url, const char *sign_secret,
                     const char *payload_sha256, const char *upload, dv_buf *body);

static size_t buf_write(char *data, size_t size, size_t count, void *ctx)
{
    cr_assert_eq(dv_buf_put(ctx, data, size * count), 0);
    return size * count;
}

typedef struct upload_state {
    const char *data;
    size_t left;
} upload_state;

static size_t upload_read(char *out, size_t size, size_t count, void *ctx)
{
    upload_state *state = ctx;
    size_t n = size * count < state->left ? size * count : state->left;
    memcpy(out, state->data, n);
    state->data += n;
    state->left -= n;
    return n;
}

static long rig_http(const char *method, const char *url, const char *sign_secret,
                     const char *payload_sha256, const char *upload, dv_buf *body)
{
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    upload_state state = {upload, upload ? strlen(upload) : 0};
    char line[128];
    long status = 0;
    cr_assert_not_null(curl);
    dv_buf_clear(body);
    cr_assert_eq(curl_easy_setopt(curl, CURLOPT_URL, url), CURLE_OK);
    cr_assert_eq(curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buf_write), CURLE_OK);
    cr_assert_eq(curl_easy_setopt(curl, CURLOPT_WRITEDATA, body), CURLE_OK);
    if (sign_secret) {
        snprintf(line, sizeof(line), "x-amz-content-sha256: %s", payload_sha256);
        headers = curl_slist_append(headers, line);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3"), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_USERNAME, getenv("AWS_ACCESS_KEY_ID")),
                     CURLE_OK);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_PASSWORD, sign_secret), CURLE_OK);
    }
    if (upload) {
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)state.left),
                     CURLE_OK);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_READDATA, &state), CURLE_OK);
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L), CURLE_OK);
    } else if (strcmp(method, "GET") != 0) {
        cr_assert_eq(curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method), CURLE_OK);
    }
    CURLcode rc = curl_easy_perform(curl);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    cr_assert_eq(curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return status;
}

/* The proxy's counts for one prefix. */
typedef struct rig_counts {
    uint64_t requests, list, get, head, put, del, rejected, faults, expect_wait_ms_max, bytes_in;
} rig_counts;

static uint64_t json_field(const char *json, const char *name)
{
    char key[64];
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *at = strstr(json, key);
    cr_assert_not_null(at, "no %s in %s", name, json);
    return strtoull(at + strlen(key), NULL, 10);
}

static rig_counts counts_for(const char *prefix)
{
    char url[512];
    dv_buf body = DV_BUF_INIT;
    rig_counts c;
    snprintf(url, sizeof(url), "%s/__dv_counts?prefix=%s", rig_endpoint(), prefix);
    cr_assert_eq(rig_http("GET", url, NULL, NULL, NULL, &body), 200, "%s", body.ptr);
    c.requests = json_field(body.ptr, "requests");
    c.list = json_field(body.ptr, "list");
    c.get = json_field(body.ptr, "get");
    c.head = json_field(body.ptr, "head");
    c.put = json_field(body.ptr, "put");
    c.del = json_field(body.ptr, "delete");
    c.rejected = json_field(body.ptr, "rejected");
    c.faults = json_field(body.ptr, "faults");
    c.expect_wait_ms_max = json_field(body.ptr, "expect_wait_ms_max");
    c.bytes_in = json_field(body.ptr, "bytes_in");
    dv_buf_release(&body);
    return c;
}

static void inject_faults(const char *prefix, const char *status, const char *code, int count)
{
    char url[512];
    dv_buf body = DV_BUF_INIT;
    snprintf(url, sizeof(url), "%s/__dv_faults?prefix=%s&status=%s&code=%s&count=%d",
             rig_endpoint(), prefix, status, code, count);
    cr_assert_eq(rig_http("POST", url, NULL, NULL, NULL, &body), 200, "%s", body.ptr);
    dv_buf_release(&body);
}

static void assert_get_equals(dv_remote *remote, const char *name, const uint8_t *data,
                              uint64_t offset, size_t len)
{
    uint8_t *got = malloc(len ? len : 1);
    cr_assert_not_null(got);
    memset(got, 0xa5, len);
    cr_assert_eq(remote->ops->get(remote, name, offset, len, got), 0, "get %s %" PRIu64 "+%zu: %s",
                 name, offset, len, dv_error_last());
    cr_assert(len == 0 || !memcmp(got, data + offset, len), "bytes differ at %" PRIu64 "+%zu",
              offset, len);
    free(got);
}

Test(s3_rig, put_list_and_ranged_get_round_trip)
{
    char prefix[128], big_path[128], empty_path[128], small_path[128];
    test_prefix(prefix, sizeof(prefix), "roundtrip");
    dv_remote *remote = open_rig(prefix, NULL);
    uint8_t *big = malloc(BIG_FILE_BYTES);
    cr_assert_not_null(big);
    fill_random(big, BIG_FILE_BYTES, 7);
    local_path(big_path, sizeof(big_path), "big");
    local_path(empty_path, sizeof(empty_path), "empty");
    local_path(small_path, sizeof(small_path), "small");
    write_file(big_path, big, BIG_FILE_BYTES);
    write_file(empty_path, big, 0);
    write_file(small_path, big, 100);

    const char *odd_name = "packs/odd name+&=~'(x)%.bin";
    cr_assert_eq(remote->ops->put_file(remote, "packs/big.pack", big_path), 0, "%s",
                 dv_error_last());
    cr_assert_eq(remote->ops->put_file(remote, "packs/empty.idx", empty_path), 0, "%s",
                 dv_error_last());
    cr_assert_eq(remote->ops->put_file(remote, odd_name, small_path), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->put_file(remote, "other/x", small_path), 0, "%s", dv_error_last());

    entries e = {0};
    cr_assert_eq(remote->ops->list(remote, "packs/", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, 3);
    cr_assert_eq(entry_size(&e, "packs/big.pack"), (int64_t)BIG_FILE_BYTES);
    cr_assert_eq(entry_size(&e, "packs/empty.idx"), 0);
    cr_assert_eq(entry_size(&e, odd_name), 100);
    entries_release(&e);
    cr_assert_eq(remote->ops->list(remote, "", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, 4);
    cr_assert_eq(entry_size(&e, "other/x"), 100);
    entries_release(&e);

    static const struct {
        uint64_t offset;
        size_t len;
    } ranges[] = {
        {0, 1},
        {0, 4096},
        {1, 65536},
        {MIB + 7, 3 * MIB},
        {BIG_FILE_BYTES - 1, 1},
        {BIG_FILE_BYTES - 100000, 100000},
        {5 * MIB, 0},
        {0, BIG_FILE_BYTES},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        assert_get_equals(remote, "packs/big.pack", big, ranges[i].offset, ranges[i].len);
    assert_get_equals(remote, odd_name, big, 0, 100);
    assert_get_equals(remote, odd_name, big, 37, 50);
    assert_get_equals(remote, "packs/empty.idx", big, 0, 0);

    rig_counts c = counts_for(prefix);
    /* The rig never answers "Expect: 100-continue"; a client waiting for it would lose a
     * second (libcurl's default) on every large PUT. */
    cr_assert_lt(c.expect_wait_ms_max, 500, "a PUT waited %" PRIu64 " ms for 100 Continue",
                 c.expect_wait_ms_max);
    cr_assert_eq(c.rejected, 0);

    free(big);
    dv_remote_free(remote);
}

Test(s3_rig, missing_objects_and_short_reads_are_errors)
{
    char prefix[128], path[128];
    uint8_t data[1000], got[2000];
    test_prefix(prefix, sizeof(prefix), "errors");
    dv_remote *remote = open_rig(prefix, NULL);
    fill_random(data, sizeof(data), 3);
    local_path(path, sizeof(path), "thousand");
    write_file(path, data, sizeof(data));
    cr_assert_eq(remote->ops->put_file(remote, "packs/a.pack", path), 0, "%s", dv_error_last());

    cr_assert_eq(remote->ops->get(remote, "packs/missing.pack", 0, 10, got), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "packs/missing.pack"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), prefix), "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/missing.pack", 0, 0, got), DV_ENOTFOUND);

    /* Running past the end, starting inside the object or beyond it. */
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 900, 200, got), DV_ECORRUPT);
    cr_assert(strstr(dv_error_last(), "shorter"), "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 0, 1001, got), DV_ECORRUPT);
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 1000, 1, got), DV_ECORRUPT);
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 5000, 10, got), DV_ECORRUPT);
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 1001, 0, got), DV_ECORRUPT);
    assert_get_equals(remote, "packs/a.pack", data, 1000, 0);
    assert_get_equals(remote, "packs/a.pack", data, 999, 1);

    char missing[160];
    local_path(missing, sizeof(missing), "no-such-file");
    cr_assert_eq(remote->ops->put_file(remote, "packs/b.pack", missing), DV_ENOTFOUND);
    cr_assert(strstr(dv_error_last(), "no-such-file"), "%s", dv_error_last());
    cr_assert_eq(remote->stats.retries, 0);
    dv_remote_free(remote);
}

Test(s3_rig, remove_deletes_and_absent_is_fine)
{
    char prefix[128], path[128];
    uint8_t data[10] = "0123456789", got[10];
    test_prefix(prefix, sizeof(prefix), "remove");
    dv_remote *remote = open_rig(prefix, NULL);
    local_path(path, sizeof(path), "ten");
    write_file(path, data, sizeof(data));
    cr_assert_eq(remote->ops->put_file(remote, "packs/a.pack", path), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 0, 10, got), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->remove(remote, "packs/a.pack"), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 0, 10, got), DV_ENOTFOUND);
    cr_assert_eq(remote->ops->remove(remote, "packs/a.pack"), 0, "%s", dv_error_last());
    entries e = {0};
    cr_assert_eq(remote->ops->list(remote, "packs/", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, 0);
    dv_remote_free(remote);
}

Test(s3_rig, list_follows_continuation_tokens)
{
    char prefix[128], path[128], name[64];
    test_prefix(prefix, sizeof(prefix), "continuation");
    dv_remote *remote = open_rig(prefix, NULL);
    local_path(path, sizeof(path), "tiny");
    write_file(path, (const uint8_t *)"x", 1);
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "packs/%02d&<%d>.pack", i, i);
        cr_assert_eq(remote->ops->put_file(remote, name, path), 0, "%s", dv_error_last());
    }
    cr_assert_eq(remote->ops->put_file(remote, "packsX/not-listed", path), 0, "%s",
                 dv_error_last());
    dv_s3__set_list_page_keys(remote, 7);

    uint64_t lists_before = remote->stats.list_requests;
    entries e = {0};
    cr_assert_eq(remote->ops->list(remote, "packs/", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, 25);
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "packs/%02d&<%d>.pack", i, i);
        cr_assert_eq(entry_size(&e, name), 1, "%s", name);
    }
    entries_release(&e);
    cr_assert_eq(remote->stats.list_requests - lists_before, 4); /* 7 + 7 + 7 + 4 */

    /* A callback's non-zero return stops the listing and comes back. */
    e.stop_after = 9;
    cr_assert_eq(remote->ops->list(remote, "packs/", collect, &e), 42);
    cr_assert_eq(e.n, 9);
    entries_release(&e);

    e.stop_after = 0;
    cr_assert_eq(remote->ops->list(remote, "nothing/", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, 0);
    dv_remote_free(remote);
}

Test(s3_rig, a_wrong_secret_is_refused_with_a_hint_at_the_credentials)
{
    char prefix[128], path[128];
    uint8_t got[4];
    test_prefix(prefix, sizeof(prefix), "wrongsecret");
    dv_remote *good = open_rig(prefix, NULL);
    dv_remote *bad = open_rig(prefix, "not-the-secret");
    local_path(path, sizeof(path), "four");
    write_file(path, (const uint8_t *)"abcd", 4);
    cr_assert_eq(good->ops->put_file(good, "packs/a.pack", path), 0, "%s", dv_error_last());

    cr_assert_eq(bad->ops->put_file(bad, "packs/b.pack", path), DV_EIO);
    cr_assert(strstr(dv_error_last(), "s3 PUT s3://"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "/packs/b.pack"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "HTTP 403 SignatureDoesNotMatch"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "AWS_SECRET_ACCESS_KEY"), "%s", dv_error_last());
    cr_assert_neq(bad->ops->get(bad, "packs/a.pack", 0, 4, got), 0);
    cr_assert(strstr(dv_error_last(), "credentials"), "%s", dv_error_last());
    entries e = {0};
    cr_assert_neq(bad->ops->list(bad, "packs/", collect, &e), 0);
    cr_assert(strstr(dv_error_last(), "s3 LIST"), "%s", dv_error_last());
    cr_assert_eq(bad->stats.retries, 0, "a 403 was retried");
    cr_assert_eq(bad->stats.put_requests + bad->stats.get_requests + bad->stats.list_requests, 3);

    rig_counts c = counts_for(prefix);
    cr_assert_eq(c.rejected, 3);
    dv_remote_free(bad);
    dv_remote_free(good);
}

Test(s3_rig, a_session_token_is_sent_signed)
{
    char prefix[128], path[128];
    uint8_t got[3];
    test_prefix(prefix, sizeof(prefix), "token");
    const char *endpoint = rig_endpoint();
    /* The rig refuses any x-amz-* header left out of the signature. */
    dv_s3_options opts = {.bucket = rig_bucket(),
                          .prefix = prefix,
                          .endpoint = endpoint,
                          .path_style = 1,
                          .access_key_id = getenv("AWS_ACCESS_KEY_ID"),
                          .secret_access_key = getenv("AWS_SECRET_ACCESS_KEY"),
                          .session_token = "FwoGZXIvYXdzEJr//////////wEaDM+token="};
    dv_remote *remote = NULL;
    cr_assert_eq(dv_remote_s3_open(&remote, &opts), 0, "%s", dv_error_last());
    local_path(path, sizeof(path), "abc");
    write_file(path, (const uint8_t *)"abc", 3);
    cr_assert_eq(remote->ops->put_file(remote, "packs/a.pack", path), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 0, 3, got), 0, "%s", dv_error_last());
    cr_assert_eq(memcmp(got, "abc", 3), 0);
    cr_assert_eq(counts_for(prefix).rejected, 0);
    dv_remote_free(remote);
}

Test(s3_rig, the_rig_refuses_unsigned_and_badly_signed_requests)
{
    char prefix[128], url[512];
    dv_buf body = DV_BUF_INIT;
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    test_prefix(prefix, sizeof(prefix), "unsigned");
    rig_endpoint();
    cr_assert_not_null(secret);

    snprintf(url, sizeof(url), "%s/%s/%s/obj", rig_endpoint(), rig_bucket(), prefix);
    cr_assert_eq(rig_http("PUT", url, NULL, NULL, "hello", &body), 403, "%s", body.ptr);
    cr_assert(strstr(body.ptr, "AccessDenied"), "%s", body.ptr);
    cr_assert_eq(rig_http("GET", url, NULL, NULL, NULL, &body), 403, "%s", body.ptr);
    cr_assert_eq(rig_http("PUT", url, "wrong", EMPTY_SHA256_HEX, "", &body), 403, "%s", body.ptr);
    cr_assert(strstr(body.ptr, "SignatureDoesNotMatch"), "%s", body.ptr);
    /* Signed, but the body does not hash to the x-amz-content-sha256 it was signed with. */
    cr_assert_eq(rig_http("PUT", url, secret, EMPTY_SHA256_HEX, "hello", &body), 400, "%s",
                 body.ptr);
    cr_assert(strstr(body.ptr, "XAmzContentSHA256Mismatch"), "%s", body.ptr);
    /* Signed properly, it goes through; the object the bad requests named was never made. */
    cr_assert_eq(rig_http("GET", url, secret, EMPTY_SHA256_HEX, NULL, &body), 404, "%s", body.ptr);
    cr_assert(strstr(body.ptr, "NoSuchKey"), "%s", body.ptr);
    cr_assert_eq(rig_http("PUT", url, secret,
                          "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
                          "hello", &body),
                 200, "%s", body.ptr);
    cr_assert_eq(rig_http("GET", url, secret, EMPTY_SHA256_HEX, NULL, &body), 200, "%s", body.ptr);
    cr_assert_str_eq(body.ptr, "hello");
    dv_buf_release(&body);

    rig_counts c = counts_for(prefix);
    cr_assert_eq(c.requests, 7);
    cr_assert_eq(c.rejected, 3);
}

Test(s3_rig, stats_count_every_request)
{
    char prefix[128], path[128];
    uint8_t data[5000], got[5000];
    test_prefix(prefix, sizeof(prefix), "stats");
    dv_remote *remote = open_rig(prefix, NULL);
    fill_random(data, sizeof(data), 11);
    local_path(path, sizeof(path), "five-thousand");
    write_file(path, data, sizeof(data));

    cr_assert_eq(remote->ops->put_file(remote, "packs/a.pack", path), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->put_file(remote, "packs/a.idx", path), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 0, 100, got), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 4000, 1000, got), 0, "%s",
                 dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/a.idx", 17, 0, got), 0, "%s", dv_error_last());
    cr_assert_eq(remote->ops->get(remote, "packs/none", 0, 1, got), DV_ENOTFOUND);
    entries e = {0};
    cr_assert_eq(remote->ops->list(remote, "packs/", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, 2);
    entries_release(&e);
    cr_assert_eq(remote->ops->remove(remote, "packs/a.idx"), 0, "%s", dv_error_last());

    dv_remote_stats s = remote->stats;
    cr_assert_eq(s.put_requests, 2);
    cr_assert_eq(s.get_requests, 4);
    cr_assert_eq(s.list_requests, 1);
    cr_assert_eq(s.other_requests, 1);
    cr_assert_eq(s.bytes_sent, 2 * sizeof(data));
    cr_assert_eq(s.bytes_received, 1100);
    cr_assert_eq(s.retries, 0);

    rig_counts c = counts_for(prefix);
    cr_assert_eq(c.put, s.put_requests);
    cr_assert_eq(c.get + c.head, s.get_requests);
    cr_assert_eq(c.list, s.list_requests);
    cr_assert_eq(c.del, s.other_requests);
    cr_assert_eq(c.requests, 8);
    cr_assert_eq(c.bytes_in, s.bytes_sent);
    cr_assert_eq(c.rejected, 0);
    dv_remote_free(remote);
}

Test(s3_rig, transient_failures_are_retried_and_counted)
{
    char prefix[128], path[128];
    uint8_t data[3000], got[3000];
    test_prefix(prefix, sizeof(prefix), "retries");
    dv_remote *remote = open_rig(prefix, NULL);
    fill_random(data, sizeof(data), 5);
    local_path(path, sizeof(path), "three-thousand");
    write_file(path, data, sizeof(data));

    inject_faults(prefix, "503", "SlowDown", 2);
    cr_assert_eq(remote->ops->put_file(remote, "packs/a.pack", path), 0, "%s", dv_error_last());
    cr_assert_eq(remote->stats.put_requests, 3);
    cr_assert_eq(remote->stats.retries, 2);

    inject_faults(prefix, "429", "TooManyRequests", 1);
    entries e = {0};
    cr_assert_eq(remote->ops->list(remote, "packs/", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, 1);
    entries_release(&e);
    inject_faults(prefix, "500", "InternalError", 1);
    cr_assert_eq(remote->ops->remove(remote, "packs/none"), 0, "%s", dv_error_last());
    cr_assert_eq(remote->stats.retries, 4);

    /* Past max_attempts (5), the last answer is reported. */
    inject_faults(prefix, "503", "SlowDown", 5);
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 0, 10, got), DV_EIO);
    cr_assert(strstr(dv_error_last(), "HTTP 503 SlowDown"), "%s", dv_error_last());
    cr_assert(strstr(dv_error_last(), "after 5 attempts"), "%s", dv_error_last());
    cr_assert_eq(remote->stats.retries, 8);

    /* A client error is not retried. */
    inject_faults(prefix, "400", "InvalidArgument", 1);
    cr_assert_eq(remote->ops->get(remote, "packs/a.pack", 0, 10, got), DV_EIO);
    cr_assert(strstr(dv_error_last(), "HTTP 400 InvalidArgument"), "%s", dv_error_last());
    cr_assert_eq(remote->stats.retries, 8);

    rig_counts c = counts_for(prefix);
    cr_assert_eq(c.faults, 2 + 1 + 1 + 5 + 1);
    cr_assert_eq(c.requests, remote->stats.put_requests + remote->stats.get_requests +
                                 remote->stats.list_requests + remote->stats.other_requests);

    /* A connection closed without an answer. libcurl itself may resend on a fresh connection
     * when a reused one dies that way, so this may or may not show as a retry. */
    uint64_t retries_before = remote->stats.retries;
    inject_faults(prefix, "drop", "x", 1);
    assert_get_equals(remote, "packs/a.pack", data, 10, 2000);
    cr_assert_leq(remote->stats.retries - retries_before, 1);
    cr_assert_eq(counts_for(prefix).faults, c.faults + 1);
    dv_remote_free(remote);
}

/* ---- several threads on one remote ---- */

#define THREADS 4
#define OBJECTS_PER_THREAD 6
#define THREAD_OBJECT_BYTES (256 * KIB + 3)

typedef struct worker {
    dv_remote *remote;
    int id;
    const uint8_t *data;
    char path[128];
    int error;
    char message[512];
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    char name[64];
    uint8_t *got = malloc(THREAD_OBJECT_BYTES);
    if (!got) {
        w->error = DV_ENOMEM;
        return NULL;
    }
    for (int i = 0; i < OBJECTS_PER_THREAD && !w->error; i++) {
        snprintf(name, sizeof(name), "packs/t%d-%d.pack", w->id, i);
        if ((w->error = w->remote->ops->put_file(w->remote, name, w->path)) < 0)
            break;
        uint64_t offset = (uint64_t)(i * 997);
        size_t len = THREAD_OBJECT_BYTES - (size_t)offset;
        if ((w->error = w->remote->ops->get(w->remote, name, offset, len, got)) < 0)
            break;
        if (memcmp(got, w->data + offset, len) != 0) {
            w->error = DV_ECORRUPT;
            snprintf(w->message, sizeof(w->message), "%s: bytes differ", name);
        }
    }
    if (w->error < 0 && !w->message[0])
        snprintf(w->message, sizeof(w->message), "%s", dv_error_last());
    free(got);
    return NULL;
}

Test(s3_rig, threads_share_one_remote)
{
    char prefix[128];
    pthread_t threads[THREADS];
    worker workers[THREADS];
    test_prefix(prefix, sizeof(prefix), "threads");
    dv_remote *remote = open_rig(prefix, NULL);
    uint8_t *data = malloc(THREAD_OBJECT_BYTES);
    cr_assert_not_null(data);

    for (int t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof(workers[t]));
        workers[t].remote = remote;
        workers[t].id = t;
        workers[t].data = data;
        local_path(workers[t].path, sizeof(workers[t].path), "shared");
    }
    fill_random(data, THREAD_OBJECT_BYTES, 99);
    write_file(workers[0].path, data, THREAD_OBJECT_BYTES);
    for (int t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&threads[t], NULL, worker_run, &workers[t]), 0);
    for (int t = 0; t < THREADS; t++) {
        cr_assert_eq(pthread_join(threads[t], NULL), 0);
        cr_assert_eq(workers[t].error, 0, "thread %d: %s", t, workers[t].message);
    }

    entries e = {0};
    cr_assert_eq(remote->ops->list(remote, "packs/", collect, &e), 0, "%s", dv_error_last());
    cr_assert_eq(e.n, THREADS * OBJECTS_PER_THREAD);
    entries_release(&e);
    cr_assert_eq(remote->stats.put_requests, THREADS * OBJECTS_PER_THREAD);
    cr_assert_eq(remote->stats.get_requests, THREADS * OBJECTS_PER_THREAD);
    cr_assert_eq(remote->stats.bytes_sent,
                 (uint64_t)THREADS * OBJECTS_PER_THREAD * THREAD_OBJECT_BYTES);
    free(data);
    dv_remote_free(remote);
}

Test(s3_parse, a_key_with_a_raw_nul_byte_is_corrupt)
{
    /* "packs/a\0b" would reach the callback as "packs/a", another object's name */
    static const char xml[] = "<ListBucketResult><Contents><Key>packs/a\0b</Key><Size>1</Size>"
                              "</Contents></ListBucketResult>";
    entries e = {0};
    int truncated;
    char *token = NULL;
    cr_assert_eq(dv_s3__parse_list(xml, sizeof(xml) - 1, collect, &e, &truncated, &token),
                 DV_ECORRUPT);
    cr_assert_eq(e.n, 0);
    cr_assert_null(token);
}

Test(s3_parse, a_continuation_token_with_a_raw_nul_byte_is_corrupt)
{
    /* the token would be sent back as "ab", not as the server wrote it */
    static const char xml[] = "<ListBucketResult><IsTruncated>true</IsTruncated>"
                              "<NextContinuationToken>ab\0cd</NextContinuationToken>"
                              "</ListBucketResult>";
    entries e = {0};
    int truncated;
    char *token = NULL;
    cr_assert_eq(dv_s3__parse_list(xml, sizeof(xml) - 1, collect, &e, &truncated, &token),
                 DV_ECORRUPT);
    cr_assert_null(token);
}
