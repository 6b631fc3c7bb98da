/* AWS Signature Version 4 (the "AWS4-HMAC-SHA256" Authorization header), for the native S3
 * store. Pure functions over an explicit request and an explicit time, so that AWS's published
 * test-suite vectors check them byte for byte (tests/unit/test_sigv4.c).
 *
 * The canonical URI encodes each byte of the raw path once, '/' kept, as S3 wants (S3 does
 * not normalise or double-encode paths; most other services double-encode, which this signer
 * does not do). The same encoder builds the URL that is sent, so what is signed is what goes
 * on the wire. */
#ifndef WC_SIGV4_H
#define WC_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "store/store.h"

#define WC_SIGV4_HEX_LEN 64 /* a SHA-256 or an HMAC-SHA256, in lowercase hex */
#define WC_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* The hex SHA-256 of nothing: the payload hash of every request without a body. */
#define WC_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct wc_sigv4_pair {
    const char *name;
    const char *value;
};

struct wc_sigv4_request {
    const char *method; /* "GET", "PUT", ... */
    const char *path;   /* raw, not percent-encoded: "/bucket/dir/a b"; encoded here */
    /* Raw query parameters (encoded here, sorted here); NULL value counts as "". */
    const struct wc_sigv4_pair *query;
    size_t n_query;
    /* Headers to sign, any case and order, duplicates allowed (their values are joined with
     * "," in the order given, as the suite's get-header-key-duplicate wants). "host" must be
     * among them. Do not pass x-amz-date, x-amz-content-sha256 or x-amz-security-token: the
     * signer adds those. */
    const struct wc_sigv4_pair *headers;
    size_t n_headers;
    /* Hex SHA-256 of the body, or WC_SIGV4_UNSIGNED_PAYLOAD. */
    const char *payload_hash;
    /* Also sign and send x-amz-content-sha256 (S3 requires it; the generic suite has none). */
    int content_sha256_header;
};

struct wc_sigv4_credentials {
    const char *access_key; /* AWS_ACCESS_KEY_ID */
    const char *secret_key; /* AWS_SECRET_ACCESS_KEY */
    const char *token;      /* AWS_SESSION_TOKEN or NULL: sent and signed as x-amz-security-token */
    const char *region;     /* "us-east-1" */
    const char *service;    /* "s3" */
};

#define WC_SIGV4_MAX_SEND 4

/* What signing produced. All strings are malloc'd; free with wc_sigv4_result_free. */
struct wc_sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char signature[WC_SIGV4_HEX_LEN + 1];
    char *authorization; /* the value of the Authorization header */
    /* The headers the signer added, as "Name: value" lines ready for curl: x-amz-date,
     * x-amz-content-sha256 and x-amz-security-token when asked for, and Authorization. */
    char *send[WC_SIGV4_MAX_SEND + 1];
    size_t n_send;
};

/* "20150830T123600Z" for t (UTC) into out (at least 17 bytes). 0, or -EINVAL when t does not
 * fit four digits of year. */
int wc_sigv4_amz_date(time_t t, char out[17]);

/* Percent-encode s as SigV4 wants: A-Z a-z 0-9 - _ . ~ kept, '/' kept when keep_slash, every
 * other byte as %XY (uppercase hex). malloc'd; NULL on OOM. */
char *wc_sigv4_uri_encode(const char *s, int keep_slash);

/* Hex SHA-256 of a buffer, and of what remains to read of a descriptor (read to EOF). 0 or
 * -errno. */
int wc_sigv4_sha256_hex(const void *buf, size_t len, char out[WC_SIGV4_HEX_LEN + 1]);
int wc_sigv4_sha256_fd(int fd, char out[WC_SIGV4_HEX_LEN + 1]);

/* The signing key: HMAC chain of "AWS4"+secret over the date (YYYYMMDD), region, service and
 * "aws4_request". 0 or -EINVAL/-ENOMEM. */
int wc_sigv4_signing_key(const char *secret, const char *date, const char *region,
                         const char *service, unsigned char key[32]);

/* Sign r with cr at time t. 0, or -EINVAL (a missing field, no host header) or -ENOMEM; on
 * error out is freed. The secret key appears in none of out's strings. */
int wc_sigv4_sign(const struct wc_sigv4_request *r, const struct wc_sigv4_credentials *cr, time_t t,
                  struct wc_sigv4_result *out);
void wc_sigv4_result_free(struct wc_sigv4_result *out);

#endif
