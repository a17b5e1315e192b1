/*
 * Tests for remotes/url: the URLs dv remote add takes and the parts it reads of them, those
 * it refuses and with which message, the URLs of HTTP mirrors and S3 endpoints, the
 * bucket-name rules and percent-encoding. The cases are those the three parsers this
 * module replaced (remoteconf's, http's and s3's) took or refused, including the ones
 * curl_url would read otherwise.
 */
#include "core/base/buf.h"
#include "core/base/error.h"
#include "remotes/url.h"

#include <criterion/criterion.h>
#include <string.h>

typedef int (*parse_fn)(dv_url *out, const char *text);

static void assert_parts(parse_fn parse, const char *text, dv_url_kind kind, const char *scheme,
                         const char *userinfo, const char *host, const char *path)
{
    dv_url url;
    cr_assert_eq(parse(&url, text), 0, "%s: %s", text, dv_error_last());
    cr_assert_eq(url.kind, kind, "%s", text);
    cr_assert_str_eq(url.scheme.ptr, scheme, "%s", text);
    cr_assert_eq(url.has_userinfo, userinfo != NULL, "%s", text);
    cr_assert_str_eq(url.userinfo.ptr, userinfo ? userinfo : "", "%s", text);
    cr_assert_str_eq(url.host.ptr, host, "%s", text);
    cr_assert_str_eq(url.path.ptr, path, "%s", text);
    dv_url_release(&url);
}

static void assert_refused(parse_fn parse, const char *text, const char *message)
{
    dv_url url;
    cr_assert_eq(parse(&url, text), DV_EUSAGE, "%s", text);
    cr_assert(strstr(dv_error_last(), message), "%s: %s", text, dv_error_last());
    dv_url_release(&url);
}

Test(url, s3_urls_name_a_bucket_and_a_prefix_as_written)
{
    assert_parts(dv_url_parse, "s3://my-bucket", DV_URL_S3, "s3", NULL, "my-bucket", "");
    assert_parts(dv_url_parse, "s3://my-bucket/", DV_URL_S3, "s3", NULL, "my-bucket", "/");
    assert_parts(dv_url_parse, "s3://my.bucket-1/team/repo", DV_URL_S3, "s3", NULL, "my.bucket-1",
                 "/team/repo");
    assert_parts(dv_url_parse, "s3://bucket//a//b/", DV_URL_S3, "s3", NULL, "bucket", "//a//b/");
    /* a prefix is part of a key, not a URL path: '?', '#', '%', spaces, tabs and dot
     * segments stay in it (curl_url would split off a query and fragment, or refuse) */
    assert_parts(dv_url_parse, "s3://bucket/a?b#c", DV_URL_S3, "s3", NULL, "bucket", "/a?b#c");
    assert_parts(dv_url_parse, "s3://bucket/a#", DV_URL_S3, "s3", NULL, "bucket", "/a#");
    assert_parts(dv_url_parse, "s3://bucket/a b\tc%zz/../d", DV_URL_S3, "s3", NULL, "bucket",
                 "/a b\tc%zz/../d");
    /* not normalised as an IPv4 address, as curl_url would ("127.0.0.1") */
    assert_parts(dv_url_parse, "s3://0x7f.1", DV_URL_S3, "s3", NULL, "0x7f.1", "");
    char longest[5 + 63 + 1] = "s3://";
    memset(longest + 5, 'a', 63);
    longest[5 + 63] = '\0';
    assert_parts(dv_url_parse, longest, DV_URL_S3, "s3", NULL, longest + 5, "");
}

Test(url, s3_urls_with_a_bad_bucket_are_refused)
{
    const char *length = "does not name a bucket (s3://<bucket>[/<prefix>])";
    const char *chars = "may hold only lowercase letters, digits, '-' and '.'";
    assert_refused(dv_url_parse, "s3://", length);
    assert_refused(dv_url_parse, "s3:///prefix", length);
    assert_refused(dv_url_parse, "s3://ab", length);
    char too_long[5 + 64 + 1] = "s3://";
    memset(too_long + 5, 'a', 64);
    too_long[5 + 64] = '\0';
    assert_refused(dv_url_parse, too_long, length);
    assert_refused(dv_url_parse, "s3://My-Bucket", chars);
    assert_refused(dv_url_parse, "s3://my_bucket", chars);
    /* what curl_url would read as userinfo, a port, an IPv6 host or a query */
    assert_refused(dv_url_parse, "s3://user@bucket/x", chars);
    assert_refused(dv_url_parse, "s3://bucket:9000/x", chars);
    assert_refused(dv_url_parse, "s3://[::1]/x", chars);
    assert_refused(dv_url_parse, "s3://bucket?x", chars);
    assert_refused(dv_url_parse, "s3://buc%41ket", chars);
}

Test(url, http_urls_keep_their_host_and_userinfo_as_written)
{
    assert_parts(dv_url_parse, "http://example.com", DV_URL_HTTP, "http", NULL, "example.com", "");
    assert_parts(dv_url_parse, "https://user:secret@example.com/data/", DV_URL_HTTP, "https",
                 "user:secret", "example.com", "/data/");
    /* curl_url refuses an '@' in the password; the last '@' ends the userinfo */
    assert_parts(dv_url_parse, "http://u:p@ss@example.com:8080", DV_URL_HTTP, "http", "u:p@ss",
                 "example.com:8080", "");
    assert_parts(dv_url_parse, "http://@h/x", DV_URL_HTTP, "http", "", "h", "/x");
    assert_parts(dv_url_parse, "http://[::1]:8080/x", DV_URL_HTTP, "http", NULL, "[::1]:8080",
                 "/x");
    /* kept as written, where curl_url would normalise or refuse */
    assert_parts(dv_url_parse, "http://127.1/", DV_URL_HTTP, "http", NULL, "127.1", "/");
    assert_parts(dv_url_parse, "http://h:/x", DV_URL_HTTP, "http", NULL, "h:", "/x");
    assert_parts(dv_url_parse, "http://h:abc/x", DV_URL_HTTP, "http", NULL, "h:abc", "/x");
    assert_parts(dv_url_parse, "http://h/a b/%2F//./..", DV_URL_HTTP, "http", NULL, "h",
                 "/a b/%2F//./..");
}

Test(url, http_urls_without_a_server_or_with_a_query_are_refused)
{
    const char *message = "does not name a server (http[s]://<host>[:<port>][/<path>], no query)";
    assert_refused(dv_url_parse, "http://", message);
    assert_refused(dv_url_parse, "https:///data", message);
    assert_refused(dv_url_parse, "http://h/x?y=1", message);
    assert_refused(dv_url_parse, "http://h/?", message);
    assert_refused(dv_url_parse, "http://h#top", message);
    assert_refused(dv_url_parse, "http://?x", message);
}

Test(url, files_and_paths)
{
    assert_parts(dv_url_parse, "file:///srv/dv", DV_URL_FILE, "file", NULL, "", "/srv/dv");
    assert_parts(dv_url_parse, "/srv/dv", DV_URL_PATH, "", NULL, "", "/srv/dv");
    assert_parts(dv_url_parse, "../remote", DV_URL_PATH, "", NULL, "", "../remote");
    assert_parts(dv_url_parse, "a dir/with:colon", DV_URL_PATH, "", NULL, "", "a dir/with:colon");
    assert_parts(dv_url_parse, "s3:bucket", DV_URL_PATH, "", NULL, "", "s3:bucket");
    assert_refused(dv_url_parse, "file://srv/dv", "a file:// URL needs an absolute path");
    assert_refused(dv_url_parse, "file://", "a file:// URL needs an absolute path");
    assert_refused(dv_url_parse, "", "empty remote URL");
}

Test(url, other_schemes_and_other_cases_are_unknown)
{
    const char *message =
        "unknown kind of remote (use s3://, http://, https://, file:// or a path)";
    assert_refused(dv_url_parse, "ftp://example.com/data", message);
    assert_refused(dv_url_parse, "S3://bucket", message);
    assert_refused(dv_url_parse, "HTTP://example.com", message);
    assert_refused(dv_url_parse, "File:///srv", message);
    assert_refused(dv_url_parse, "://x", message);
    assert_refused(dv_url_parse, "dir/a://b", message);
    assert_refused(dv_url_parse, "1http://h", message);
}

Test(url, http_mirrors_take_the_scheme_in_any_case)
{
    assert_parts(dv_url_parse_http, "HTTP://Example.COM/A", DV_URL_HTTP, "HTTP", NULL,
                 "Example.COM", "/A");
    assert_parts(dv_url_parse_http, "https://user:secret@example.com/data/", DV_URL_HTTP, "https",
                 "user:secret", "example.com", "/data/");
    assert_parts(dv_url_parse_http, "http://@/x", DV_URL_HTTP, "http", "", "", "/x");
    assert_refused(dv_url_parse_http, "ftp://example.com", "starts with http:// or https://");
    assert_refused(dv_url_parse_http, "example.com", "starts with http:// or https://");
    assert_refused(dv_url_parse_http, "http://", "no host");
    assert_refused(dv_url_parse_http, "http://?x=1", "no host");
    assert_refused(dv_url_parse_http, "http://h/x?y=1", "has no query or fragment");
    assert_refused(dv_url_parse_http, "http://h#f", "has no query or fragment");
}

Test(url, s3_endpoints_drop_trailing_slashes)
{
    assert_parts(dv_url_parse_endpoint, "http://127.0.0.1:9000/", DV_URL_HTTP, "http", NULL,
                 "127.0.0.1:9000", "");
    assert_parts(dv_url_parse_endpoint, "HTTPS://minio.example:9443///", DV_URL_HTTP, "HTTPS", NULL,
                 "minio.example:9443", "");
    assert_parts(dv_url_parse_endpoint, "https://h/sub/", DV_URL_HTTP, "https", NULL, "h/sub", "");
    assert_refused(dv_url_parse_endpoint, "ftp://x", "s3 endpoint ftp://x: must start with");
    assert_refused(dv_url_parse_endpoint, "127.0.0.1:9000", "must start with http://");
    assert_refused(dv_url_parse_endpoint, "http:///", "s3 endpoint http:: must start with");
    assert_refused(dv_url_parse_endpoint, "http://", "s3 endpoint http:: must start with");
}

Test(url, bucket_rules)
{
    cr_assert_eq(dv_url_check_bucket("my-bucket.1", 11, DV_URL_BUCKET_STRICT), 0);
    cr_assert_eq(dv_url_check_bucket("b", 1, DV_URL_BUCKET_STRICT), DV_URL_BUCKET_BAD_LENGTH);
    cr_assert_eq(dv_url_check_bucket("b", 1, DV_URL_BUCKET_LEGACY), 0);
    cr_assert_eq(dv_url_check_bucket("My_Bucket", 9, DV_URL_BUCKET_STRICT), DV_URL_BUCKET_BAD_CHAR);
    cr_assert_eq(dv_url_check_bucket("My_Bucket", 9, DV_URL_BUCKET_LEGACY), 0);
    cr_assert_eq(dv_url_check_bucket("bad/bucket", 10, DV_URL_BUCKET_LEGACY),
                 DV_URL_BUCKET_BAD_CHAR);
    cr_assert_eq(dv_url_check_bucket("", 0, DV_URL_BUCKET_LEGACY), DV_URL_BUCKET_BAD_LENGTH);
    cr_assert_eq(dv_url_check_bucket("abcdef", 3, DV_URL_BUCKET_STRICT), 0, "len bounds it");
}

static void assert_encoded(const char *text, unsigned flags, const char *want)
{
    dv_buf out = DV_BUF_INIT;
    cr_assert_eq(dv_url_encode(&out, text, flags), 0);
    cr_assert_str_eq(out.ptr, want);
    dv_buf_release(&out);
}

Test(url, encoding_keeps_only_the_unreserved_set)
{
    /* SigV4's canonical form: RFC 3986 unreserved bytes as they are, others %XX uppercase */
    assert_encoded("AZaz09-._~", 0, "AZaz09-._~");
    assert_encoded("a b/c+d=e&f%g", 0, "a%20b%2Fc%2Bd%3De%26f%25g");
    assert_encoded("caf\xc3\xa9!*'()", 0, "caf%C3%A9%21%2A%27%28%29");
    /* object keys in URL paths (S3 and HTTP mirrors alike) keep their slashes */
    assert_encoded("packs/x+y=z&%~_-.pack", DV_URL_ENCODE_KEEP_SLASH,
                   "packs/x%2By%3Dz%26%25~_-.pack");
    assert_encoded("//a b//", DV_URL_ENCODE_KEEP_SLASH, "//a%20b//");
    assert_encoded("", DV_URL_ENCODE_KEEP_SLASH, "");
}
