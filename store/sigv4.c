/* AWS Signature Version 4, as specified in AWS's "Create a signed AWS API request" and checked
 * against its published test suite (tests/unit/test_sigv4.c). Every step is a pure function
 * of the request, the credentials and the time. */
#include "store/sigv4.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ALGORITHM "AWS4-HMAC-SHA256"

int wc_sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;

    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
        return -EINVAL;
    return strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 16 ? 0 : -EINVAL;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

char *wc_sigv4_uri_encode(const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c) || (keep_slash && c == '/')) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

static void to_hex(const unsigned char *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int wc_sigv4_sha256_hex(const void *buf, size_t len, char out[WC_SIGV4_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        return -EIO;
    to_hex(md, 32, out);
    return 0;
}

int wc_sigv4_sha256_fd(int fd, char out[WC_SIGV4_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = 0;
    ssize_t n;

    if (!ctx)
        return -ENOMEM;
    if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
        rc = -EIO;
    while (rc == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno != EINTR)
            rc = -errno;
        else if (n > 0 && !EVP_DigestUpdate(ctx, buf, (size_t)n))
            rc = -EIO;
    }
    if (rc == 0 && (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32))
        rc = -EIO;
    EVP_MD_CTX_free(ctx);
    if (rc == 0)
        to_hex(md, 32, out);
    return rc;
}

static int hmac(const void *key, size_t klen, const char *data, unsigned char out[32])
{
    unsigned int len = 0;

    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, strlen(data), out, &len) ||
        len != 32)
        return -EIO;
    return 0;
}

int wc_sigv4_signing_key(const char *secret, const char *date, const char *region,
                         const char *service, unsigned char key[32])
{
    size_t n = strlen(secret) + 5;
    char *k = malloc(n);
    int rc;

    if (!k)
        return -ENOMEM;
    snprintf(k, n, "AWS4%s", secret);
    rc = hmac(k, n - 1, date, key);
    OPENSSL_cleanse(k, n); /* a copy of the secret: do not leave it in freed memory */
    free(k);
    if (rc == 0)
        rc = hmac(key, 32, region, key);
    if (rc == 0)
        rc = hmac(key, 32, service, key);
    if (rc == 0)
        rc = hmac(key, 32, "aws4_request", key);
    return rc;
}

/* ---- canonical request ---- */

/* A header or query parameter on its way into the canonical request: name and value already
 * in their canonical spelling; pos keeps the order given, which decides among duplicates. */
struct item {
    char *name, *value;
    size_t pos;
};

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Query parameters sort by name, then by value (the suite's get-vanilla-query-order-value). */
static int query_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

static void items_free(struct item *it, size_t n)
{
    for (size_t i = 0; it && i < n; i++) {
        free(it[i].name);
        free(it[i].value);
    }
    free(it);
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);

    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

/* Leading and trailing blanks removed, each run of inner blanks made one space. */
static char *trim_dup(const char *s)
{
    char *d = malloc(strlen(s) + 1), *o = d;

    if (!d)
        return NULL;
    while (*s == ' ' || *s == '\t')
        s++;
    while (*s) {
        if (*s == ' ' || *s == '\t') {
            while (*s == ' ' || *s == '\t')
                s++;
            if (*s)
                *o++ = ' ';
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return d;
}

static int header_item(struct item *it, const char *name, const char *value, size_t pos)
{
    it->name = lower_dup(name);
    it->value = trim_dup(value ? value : "");
    it->pos = pos;
    return it->name && it->value ? 0 : -ENOMEM;
}

/* The headers to sign: the caller's, plus those the signer adds. */
static int collect_headers(const struct wc_sigv4_request *r, const struct wc_sigv4_credentials *cr,
                           const char *amz_date, struct item **out, size_t *n_out)
{
    size_t n = 0, cap = r->n_headers + 3;
    struct item *it = calloc(cap, sizeof(*it));
    int rc = 0, host = 0;

    if (!it)
        return -ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n_headers; i++) {
        rc = header_item(&it[n], r->headers[i].name, r->headers[i].value, n);
        n++;
        host |= rc == 0 && !strcmp(it[n - 1].name, "host");
    }
    if (rc == 0 && r->content_sha256_header) {
        rc = header_item(&it[n], "x-amz-content-sha256", r->payload_hash, n);
        n++;
    }
    if (rc == 0) {
        rc = header_item(&it[n], "x-amz-date", amz_date, n);
        n++;
    }
    if (rc == 0 && cr->token && *cr->token) {
        rc = header_item(&it[n], "x-amz-security-token", cr->token, n);
        n++;
    }
    if (rc == 0 && !host)
        rc = -EINVAL; /* SigV4 requires host; a request without it cannot be verified */
    if (rc < 0) {
        items_free(it, n);
        return rc;
    }
    qsort(it, n, sizeof(*it), item_cmp);
    *out = it;
    *n_out = n;
    return 0;
}

static int collect_query(const struct wc_sigv4_request *r, struct item **out)
{
    struct item *it = calloc(r->n_query + 1, sizeof(*it));

    if (!it)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_query; i++) {
        const char *v = r->query[i].value ? r->query[i].value : "";
        it[i].name = wc_sigv4_uri_encode(r->query[i].name, 0);
        it[i].value = wc_sigv4_uri_encode(v, 0);
        it[i].pos = i;
        if (!it[i].name || !it[i].value) {
            items_free(it, r->n_query);
            return -ENOMEM;
        }
    }
    qsort(it, r->n_query, sizeof(*it), query_cmp);
    *out = it;
    return 0;
}

static void put_query(FILE *f, const struct item *q, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value);
    fputc('\n', f);
}

/* "name:v1,v2\n" per distinct name: duplicates are adjacent after the sort. */
static void put_headers(FILE *f, const struct item *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !strcmp(h[i].name, h[i - 1].name))
            fprintf(f, ",%s", h[i].value);
        else
            fprintf(f, "%s%s:%s", i ? "\n" : "", h[i].name, h[i].value);
    }
    fputs("\n\n", f);
}

static char *signed_header_names(const struct item *h, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(h[i].name, h[i - 1].name))
            fprintf(f, "%s%s", i ? ";" : "", h[i].name);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int canonical_request(const struct wc_sigv4_request *r, const struct item *h, size_t nh,
                             const char *names, char **out)
{
    struct item *q = NULL;
    char *path = wc_sigv4_uri_encode(r->path, 1), *buf = NULL;
    size_t len = 0;
    FILE *f;
    int rc = path ? collect_query(r, &q) : -ENOMEM;

    if (rc == 0 && !(f = open_memstream(&buf, &len)))
        rc = -ENOMEM;
    if (rc == 0) {
        fprintf(f, "%s\n%s\n", r->method, path);
        put_query(f, q, r->n_query);
        put_headers(f, h, nh);
        fprintf(f, "%s\n%s", names, r->payload_hash);
        if (fclose(f) != 0) {
            free(buf);
            rc = -ENOMEM;
        }
    }
    items_free(q, r->n_query);
    free(path);
    *out = rc == 0 ? buf : NULL;
    return rc;
}

/* ---- string to sign, signature, headers to send ---- */

static char *string_to_sign(const char *amz_date, const char *scope, const char *creq)
{
    char hash[WC_SIGV4_HEX_LEN + 1], *s = NULL;

    if (wc_sigv4_sha256_hex(creq, strlen(creq), hash) < 0)
        return NULL;
    if (asprintf(&s, ALGORITHM "\n%s\n%s\n%s", amz_date, scope, hash) < 0)
        return NULL;
    return s;
}

static int compute_signature(const struct wc_sigv4_credentials *cr, const char *amz_date,
                             const char *sts, char out[WC_SIGV4_HEX_LEN + 1])
{
    unsigned char key[32], sig[32];
    char date[9];
    int rc;

    snprintf(date, sizeof(date), "%.8s", amz_date);
    rc = wc_sigv4_signing_key(cr->secret_key, date, cr->region, cr->service, key);
    if (rc == 0)
        rc = hmac(key, sizeof(key), sts, sig);
    OPENSSL_cleanse(key, sizeof(key)); /* derived from the secret: as good as it for a day */
    if (rc == 0)
        to_hex(sig, 32, out);
    return rc;
}

static int add_send(struct wc_sigv4_result *out, const char *name, const char *value)
{
    char *line = NULL;

    if (out->n_send >= WC_SIGV4_MAX_SEND || asprintf(&line, "%s: %s", name, value) < 0)
        return -ENOMEM;
    out->send[out->n_send++] = line;
    return 0;
}

static int fill_send(const struct wc_sigv4_request *r, const struct wc_sigv4_credentials *cr,
                     const char *amz_date, struct wc_sigv4_result *out)
{
    int rc = 0;

    if (r->content_sha256_header)
        rc = add_send(out, "x-amz-content-sha256", r->payload_hash);
    if (rc == 0)
        rc = add_send(out, "x-amz-date", amz_date);
    if (rc == 0 && cr->token && *cr->token)
        rc = add_send(out, "x-amz-security-token", cr->token);
    if (rc == 0)
        rc = add_send(out, "Authorization", out->authorization);
    return rc;
}

static int request_valid(const struct wc_sigv4_request *r, const struct wc_sigv4_credentials *cr)
{
    return r->method && r->path && r->path[0] == '/' && r->payload_hash &&
           (r->n_headers == 0 || r->headers) && (r->n_query == 0 || r->query) && cr->access_key &&
           cr->secret_key && cr->region && cr->service;
}

static int sign_steps(const struct wc_sigv4_request *r, const struct wc_sigv4_credentials *cr,
                      const char *amz_date, const struct item *h, size_t nh,
                      struct wc_sigv4_result *out)
{
    char *scope = NULL, *names = signed_header_names(h, nh);
    int rc = names ? canonical_request(r, h, nh, names, &out->canonical_request) : -ENOMEM;

    if (rc == 0 &&
        asprintf(&scope, "%.8s/%s/%s/aws4_request", amz_date, cr->region, cr->service) < 0) {
        scope = NULL;
        rc = -ENOMEM;
    }
    if (rc == 0 && !(out->string_to_sign = string_to_sign(amz_date, scope, out->canonical_request)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = compute_signature(cr, amz_date, out->string_to_sign, out->signature);
    if (rc == 0 &&
        asprintf(&out->authorization, ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                 cr->access_key, scope, names, out->signature) < 0) {
        out->authorization = NULL;
        rc = -ENOMEM;
    }
    free(scope);
    free(names);
    return rc;
}

int wc_sigv4_sign(const struct wc_sigv4_request *r, const struct wc_sigv4_credentials *cr, time_t t,
                  struct wc_sigv4_result *out)
{
    char amz_date[17];
    struct item *h = NULL;
    size_t nh = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!request_valid(r, cr))
        return -EINVAL;
    rc = wc_sigv4_amz_date(t, amz_date);
    if (rc == 0)
        rc = collect_headers(r, cr, amz_date, &h, &nh);
    if (rc == 0)
        rc = sign_steps(r, cr, amz_date, h, nh, out);
    if (rc == 0)
        rc = fill_send(r, cr, amz_date, out);
    items_free(h, nh);
    if (rc < 0)
        wc_sigv4_result_free(out);
    return rc;
}

void wc_sigv4_result_free(struct wc_sigv4_result *out)
{
    free(out->canonical_request);
    free(out->string_to_sign);
    free(out->authorization);
    for (size_t i = 0; i < out->n_send; i++)
        free(out->send[i]);
    memset(out, 0, sizeof(*out));
}
