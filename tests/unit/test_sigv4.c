/* The SigV4 signer (store/sigv4.c) against AWS's published vectors: the Signature Version 4
 * test suite (credentials AKIDEXAMPLE, region us-east-1, service "service", 20150830T123600Z;
 * Authorization values as in aws-sig-v4-test-suite's .authz files) and the worked examples of
 * the Amazon S3 API Reference, "Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk" (examplebucket, 20130524T000000Z). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sigv4.h"

#define SUITE_TIME 1440938160 /* 2015-08-30T12:36:00Z */
#define S3_TIME 1369353600    /* 2013-05-24T00:00:00Z */
#define SUITE_SCOPE "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
#define HOST                                                                                       \
    {                                                                                              \
        "Host", "example.amazonaws.com"                                                            \
    }

static const struct wc_sigv4_credentials suite_creds = {
    .access_key = "AKIDEXAMPLE",
    .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "service",
};

static const struct wc_sigv4_credentials s3_creds = {
    .access_key = "AKIAIOSFODNN7EXAMPLE",
    .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    .region = "us-east-1",
    .service = "s3",
};

/* One vector of the suite: the request as its .req file gives it (X-Amz-Date left to the
 * signer), and what its .authz file expects. */
struct vector {
    const char *name, *method, *path;
    struct wc_sigv4_pair query[2];
    size_t n_query;
    struct wc_sigv4_pair headers[4];
    size_t n_headers;
    const char *body;
    const char *signed_headers, *signature;
};

static const struct vector suite[] = {
    {"get-vanilla",
     "GET",
     "/",
     {{0}},
     0,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-vanilla-query-order-key-case",
     "GET",
     "/",
     {{"Param2", "value2"}, {"Param1", "value1"}},
     2,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-unreserved",
     "GET",
     "/",
     {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
     1,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"get-vanilla-utf8-query",
     "GET",
     "/",
     {{"\xe1\x88\xb4", "bar"}},
     1,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-unreserved",
     "GET",
     "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
     {{0}},
     0,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-utf8",
     "GET",
     "/\xe1\x88\xb4",
     {{0}},
     0,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"get-header-key-duplicate",
     "GET",
     "/",
     {{0}},
     0,
     {HOST, {"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
     4,
     "",
     "host;my-header1;x-amz-date",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-trim",
     "GET",
     "/",
     {{0}},
     0,
     {HOST, {"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
     3,
     "",
     "host;my-header1;my-header2;x-amz-date",
     "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"post-vanilla",
     "POST",
     "/",
     {{0}},
     0,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"post-header-key-sort",
     "POST",
     "/",
     {{0}},
     0,
     {HOST, {"My-Header1", "value1"}},
     2,
     "",
     "host;my-header1;x-amz-date",
     "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {"post-header-value-case",
     "POST",
     "/",
     {{0}},
     0,
     {HOST, {"My-Header1", "VALUE1"}},
     2,
     "",
     "host;my-header1;x-amz-date",
     "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
    {"post-vanilla-query",
     "POST",
     "/",
     {{"Param1", "value1"}},
     1,
     {HOST},
     1,
     "",
     "host;x-amz-date",
     "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
    {"post-x-www-form-urlencoded",
     "POST",
     "/",
     {{0}},
     0,
     {{"Content-Type", "application/x-www-form-urlencoded"}, HOST},
     2,
     "Param1=value1",
     "content-type;host;x-amz-date",
     "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
};

static void sign_vector(const struct vector *v, const struct wc_sigv4_credentials *cr,
                        struct wc_sigv4_result *res)
{
    char hash[WC_SIGV4_HEX_LEN + 1];
    struct wc_sigv4_request r = {
        .method = v->method,
        .path = v->path,
        .query = v->query,
        .n_query = v->n_query,
        .headers = v->headers,
        .n_headers = v->n_headers,
        .payload_hash = hash,
    };

    ck_assert_int_eq(wc_sigv4_sha256_hex(v->body, strlen(v->body), hash), 0);
    ck_assert_int_eq(wc_sigv4_sign(&r, cr, SUITE_TIME, res), 0);
}

START_TEST(suite_vectors)
{
    const struct vector *v = &suite[_i];
    struct wc_sigv4_result res;
    char *want = NULL;

    sign_vector(v, &suite_creds, &res);
    ck_assert_int_gt(asprintf(&want,
                              "AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE
                              ", SignedHeaders=%s, Signature=%s",
                              v->signed_headers, v->signature),
                     0);
    ck_assert_msg(!strcmp(res.authorization, want), "%s:\n got  %s\n want %s\ncanonical:\n%s",
                  v->name, res.authorization, want, res.canonical_request);
    ck_assert_str_eq(res.signature, v->signature);
    free(want);
    wc_sigv4_result_free(&res);
}
END_TEST

/* get-vanilla's .creq and .sts, whole. */
START_TEST(suite_get_vanilla_steps)
{
    struct wc_sigv4_result res;

    sign_vector(&suite[0], &suite_creds, &res);
    ck_assert_str_eq(res.canonical_request, "GET\n/\n\n"
                                            "host:example.amazonaws.com\n"
                                            "x-amz-date:20150830T123600Z\n\n"
                                            "host;x-amz-date\n" WC_SIGV4_EMPTY_SHA256);
    ck_assert_str_eq(
        res.string_to_sign,
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
        "aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    wc_sigv4_result_free(&res);
}
END_TEST

/* Duplicated headers join in the order given; the query sorts by encoded name; UTF-8 in the
 * path and the query is percent-encoded byte by byte, uppercase. */
START_TEST(suite_canonical_forms)
{
    struct wc_sigv4_result res;

    sign_vector(&suite[6], &suite_creds, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "\nmy-header1:value2,value2,value1\n"));
    wc_sigv4_result_free(&res);
    sign_vector(&suite[7], &suite_creds, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "\nmy-header1:value1\n"
                                                        "my-header2:\"a b c\"\n"));
    wc_sigv4_result_free(&res);
    sign_vector(&suite[1], &suite_creds, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "GET\n/\nParam1=value1&Param2=value2\n"));
    wc_sigv4_result_free(&res);
    sign_vector(&suite[3], &suite_creds, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "GET\n/\n%E1%88%B4=bar\n"));
    wc_sigv4_result_free(&res);
    sign_vector(&suite[5], &suite_creds, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "GET\n/%E1%88%B4\n\n"));
    wc_sigv4_result_free(&res);
}
END_TEST

/* get-vanilla-with-session-token (the suite's newer v4 set): the token is sent and signed. */
START_TEST(suite_session_token)
{
    struct wc_sigv4_credentials cr = suite_creds;
    struct wc_sigv4_result res;

    cr.token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    sign_vector(&suite[0], &cr, &res);
    ck_assert_str_eq(res.authorization,
                     "AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE
                     ", SignedHeaders=host;x-amz-date;x-amz-security-token, "
                     "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
    ck_assert_uint_eq(res.n_send, 3);
    ck_assert_str_eq(res.send[0], "x-amz-date: 20150830T123600Z");
    ck_assert_str_eq(res.send[1],
                     "x-amz-security-token: "
                     "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267");
    ck_assert_str_eq(res.send[2], "Authorization: AWS4-HMAC-SHA256 Credential=" SUITE_SCOPE
                                  ", SignedHeaders=host;x-amz-date;x-amz-security-token, "
                                  "Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a9704"
                                  "4c66dd9f74e7f8");
    wc_sigv4_result_free(&res);
}
END_TEST

/* AWS's "derive a signing key" example (service iam). */
START_TEST(signing_key_example)
{
    unsigned char key[32];
    char hex[65];

    ck_assert_int_eq(wc_sigv4_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
                                          "us-east-1", "iam", key),
                     0);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    ck_assert_str_eq(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}
END_TEST

static void s3_sign(const char *method, const char *path, const struct wc_sigv4_pair *q, size_t nq,
                    const struct wc_sigv4_pair *h, size_t nh, const char *payload_hash,
                    struct wc_sigv4_result *res)
{
    struct wc_sigv4_request r = {
        .method = method,
        .path = path,
        .query = q,
        .n_query = nq,
        .headers = h,
        .n_headers = nh,
        .payload_hash = payload_hash,
        .content_sha256_header = 1,
    };

    ck_assert_int_eq(wc_sigv4_sign(&r, &s3_creds, S3_TIME, res), 0);
}

/* S3's "Example: GET Object": every intermediate value the documentation prints. */
START_TEST(s3_get_object_example)
{
    static const struct wc_sigv4_pair h[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                                             {"Range", "bytes=0-9"}};
    struct wc_sigv4_result res;

    s3_sign("GET", "/test.txt", NULL, 0, h, 2, WC_SIGV4_EMPTY_SHA256, &res);
    ck_assert_str_eq(res.canonical_request,
                     "GET\n/test.txt\n\n"
                     "host:examplebucket.s3.amazonaws.com\n"
                     "range:bytes=0-9\n"
                     "x-amz-content-sha256:" WC_SIGV4_EMPTY_SHA256 "\n"
                     "x-amz-date:20130524T000000Z\n\n"
                     "host;range;x-amz-content-sha256;x-amz-date\n" WC_SIGV4_EMPTY_SHA256);
    ck_assert_str_eq(res.string_to_sign,
                     "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                     "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    ck_assert_str_eq(res.signature,
                     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    ck_assert_str_eq(res.authorization,
                     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                     "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                     "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    ck_assert_uint_eq(res.n_send, 3);
    ck_assert_str_eq(res.send[0], "x-amz-content-sha256: " WC_SIGV4_EMPTY_SHA256);
    ck_assert_str_eq(res.send[1], "x-amz-date: 20130524T000000Z");
    wc_sigv4_result_free(&res);
}
END_TEST

/* S3's "Example: PUT Object": a signed payload, and '$' in the key encoded once. */
START_TEST(s3_put_object_example)
{
    static const struct wc_sigv4_pair h[] = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                             {"Host", "examplebucket.s3.amazonaws.com"},
                                             {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    const char *body = "Welcome to Amazon S3.";
    char hash[WC_SIGV4_HEX_LEN + 1];
    struct wc_sigv4_result res;

    ck_assert_int_eq(wc_sigv4_sha256_hex(body, strlen(body), hash), 0);
    ck_assert_str_eq(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    s3_sign("PUT", "/test$file.text", NULL, 0, h, 3, hash, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "PUT\n/test%24file.text\n\n"));
    ck_assert_str_eq(res.signature,
                     "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    wc_sigv4_result_free(&res);
}
END_TEST

/* S3's "GET Bucket Lifecycle" (a parameter without value) and "Get Bucket (List Objects)". */
START_TEST(s3_bucket_examples)
{
    static const struct wc_sigv4_pair h[] = {{"Host", "examplebucket.s3.amazonaws.com"}};
    static const struct wc_sigv4_pair lifecycle[] = {{"lifecycle", NULL}};
    static const struct wc_sigv4_pair list[] = {{"prefix", "J"}, {"max-keys", "2"}};
    struct wc_sigv4_result res;

    s3_sign("GET", "/", lifecycle, 1, h, 1, WC_SIGV4_EMPTY_SHA256, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "GET\n/\nlifecycle=\n"));
    ck_assert_str_eq(res.signature,
                     "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    wc_sigv4_result_free(&res);
    s3_sign("GET", "/", list, 2, h, 1, WC_SIGV4_EMPTY_SHA256, &res);
    ck_assert_ptr_nonnull(strstr(res.canonical_request, "GET\n/\nmax-keys=2&prefix=J\n"));
    ck_assert_str_eq(res.signature,
                     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    wc_sigv4_result_free(&res);
}
END_TEST

/* Another secret gives another signature, and no secret ever reaches the output. */
START_TEST(secret_never_in_output)
{
    struct wc_sigv4_credentials cr = suite_creds;
    struct wc_sigv4_result res;

    cr.secret_key = "S3RVER-wrong-secret";
    sign_vector(&suite[0], &cr, &res);
    ck_assert_str_ne(res.signature, suite[0].signature);
    ck_assert_ptr_null(strstr(res.canonical_request, "wrong-secret"));
    ck_assert_ptr_null(strstr(res.string_to_sign, "wrong-secret"));
    ck_assert_ptr_null(strstr(res.authorization, "wrong-secret"));
    for (size_t i = 0; i < res.n_send; i++)
        ck_assert_ptr_null(strstr(res.send[i], "wrong-secret"));
    wc_sigv4_result_free(&res);
}
END_TEST

START_TEST(refuses_incomplete_requests)
{
    static const struct wc_sigv4_pair no_host[] = {{"Range", "bytes=0-9"}};
    struct wc_sigv4_request r = {.method = "GET",
                                 .path = "/",
                                 .headers = no_host,
                                 .n_headers = 1,
                                 .payload_hash = WC_SIGV4_EMPTY_SHA256};
    struct wc_sigv4_credentials cr = suite_creds;
    struct wc_sigv4_result res;

    ck_assert_int_eq(wc_sigv4_sign(&r, &cr, SUITE_TIME, &res), -EINVAL);
    ck_assert_ptr_null(res.authorization);
    r.headers = (const struct wc_sigv4_pair[]){HOST};
    r.path = "relative";
    ck_assert_int_eq(wc_sigv4_sign(&r, &cr, SUITE_TIME, &res), -EINVAL);
    r.path = "/";
    cr.secret_key = NULL;
    ck_assert_int_eq(wc_sigv4_sign(&r, &cr, SUITE_TIME, &res), -EINVAL);
}
END_TEST

START_TEST(amz_date_and_encoding)
{
    char d[17], *e;

    ck_assert_int_eq(wc_sigv4_amz_date(SUITE_TIME, d), 0);
    ck_assert_str_eq(d, "20150830T123600Z");
    ck_assert_int_eq(wc_sigv4_amz_date(0, d), 0);
    ck_assert_str_eq(d, "19700101T000000Z");
    e = wc_sigv4_uri_encode("a b/c+d%e~f$\xe1\x88\xb4", 1);
    ck_assert_str_eq(e, "a%20b/c%2Bd%25e~f%24%E1%88%B4");
    free(e);
    e = wc_sigv4_uri_encode("a/b=c&d", 0);
    ck_assert_str_eq(e, "a%2Fb%3Dc%26d");
    free(e);
}
END_TEST

/* The file hash (used for PUT) agrees with the buffer hash, read to EOF in several chunks. */
START_TEST(sha256_of_a_file)
{
    char path[] = "/tmp/wc-sigv4-XXXXXX", a[65], b[65];
    size_t len = 200000;
    char *buf = malloc(len);
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    unlink(path);
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(i * 7 + i / 251);
    ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    ck_assert_int_eq(wc_sigv4_sha256_fd(fd, a), 0);
    ck_assert_int_eq(wc_sigv4_sha256_hex(buf, len, b), 0);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(wc_sigv4_sha256_hex("", 0, a), 0);
    ck_assert_str_eq(a, WC_SIGV4_EMPTY_SHA256);
    close(fd);
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sigv4");
    TCase *tc = tcase_create("vectors");
    SRunner *r;
    int failed;

    tcase_add_loop_test(tc, suite_vectors, 0, (int)(sizeof(suite) / sizeof(suite[0])));
    tcase_add_test(tc, suite_get_vanilla_steps);
    tcase_add_test(tc, suite_canonical_forms);
    tcase_add_test(tc, suite_session_token);
    tcase_add_test(tc, signing_key_example);
    tcase_add_test(tc, s3_get_object_example);
    tcase_add_test(tc, s3_put_object_example);
    tcase_add_test(tc, s3_bucket_examples);
    tcase_add_test(tc, secret_never_in_output);
    tcase_add_test(tc, refuses_incomplete_requests);
    tcase_add_test(tc, amz_date_and_encoding);
    tcase_add_test(tc, sha256_of_a_file);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
