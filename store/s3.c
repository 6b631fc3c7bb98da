/* The native S3 store: s3://bucket/prefix/ over libcurl, every request signed with SigV4
 * (store/sigv4.c), so AWS, MinIO, Ceph RGW and GCS's interoperable endpoint work without any
 * command-line tool. Objects keep the seed's layout, <prefix><key[:2]>/<key>/<name>.
 *
 * Addressing: with AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL set, path style
 * (<endpoint>/<bucket>/<object>), which every S3 clone serves; without, AWS's virtual-host
 * style (https://<bucket>.s3.<region>.amazonaws.com/<object>), or path style on
 * s3.<region>.amazonaws.com for a bucket name with dots, whose virtual host no wildcard
 * certificate covers.
 *
 * A PUT is atomic in S3 (readers see the old object, or none, or the whole new one), so
 * put/write need no temporary name; the entry's "meta" is written last by the caller and
 * removed first here, so a half-written or half-removed entry never exists.
 *
 * touch() is a no-op: S3 has no cheap way to refresh an object's time (a self-copy costs a
 * request per hit and rewrites the object), and a bucket is trimmed by its own lifecycle
 * rules, not by our LRU.
 *
 * One CURL handle per store, reused so that connections are kept alive; a store is not
 * meant to be shared between threads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "store/curl.h"
#include "store/remote.h"
#include "store/sigv4.h"

#define DEFAULT_TIMEOUT_MS 5000
#define LIST_MAX_LEN (4u << 20) /* one ListObjectsV2 page, 1000 keys at most */
#define REMOVE_ROUNDS 8         /* list+delete rounds before remove() gives up */
#define SIGNATURE_REASON "S3 refused the request signature (check AWS_SECRET_ACCESS_KEY)"

struct s3_store {
    wc_store base; /* first, so a wc_store * is a struct s3_store * */
    CURL *curl;
    char *origin;      /* "https://bucket.s3.us-east-1.amazonaws.com", "http://127.0.0.1:9000" */
    char *host;        /* the Host header, signed: host[:port] */
    char *bucket_path; /* raw path of the bucket, no trailing '/': "/bucket", "" (vhost) */
    char *prefix;      /* raw object-name prefix: "", or "dir/" (always ends in '/') */
    char *bucket;
    char *access_key, *secret_key, *token, *region;
    long timeout_ms;
};

static struct s3_store *s3_of(wc_store *s)
{
    return (struct s3_store *)s;
}

/* ---- one transfer ---- */

/* What a request sends and where its answer goes (store/curl.h). An error answer is read
 * whole: its start says why (S3's <Code>). */
struct xfer {
    struct wc_source up;
    struct wc_sink down;
};

static void xfer_init(struct xfer *x)
{
    memset(x, 0, sizeof(*x));
    x->up.fd = -1;
    x->down.kind = WC_SINK_MEMORY;
    x->down.unwanted_max = (size_t)-1;
}

/* ---- requests ---- */

/* origin + encoded path + "?" + encoded query, in the order given (the signer sorts its own
 * copy; the server does not care about the order on the wire). */
static char *request_url(struct s3_store *s, const char *path, const struct wc_sigv4_pair *q,
                         size_t nq)
{
    char *enc = wc_sigv4_uri_encode(path, 1), *buf = NULL;
    size_t len = 0;
    FILE *f = enc ? open_memstream(&buf, &len) : NULL;

    if (!f) {
        free(enc);
        return NULL;
    }
    fprintf(f, "%s%s", s->origin, enc);
    for (size_t i = 0; i < nq; i++) {
        char *n = wc_sigv4_uri_encode(q[i].name, 0);
        char *v = wc_sigv4_uri_encode(q[i].value ? q[i].value : "", 0);
        if (n && v)
            fprintf(f, "%c%s=%s", i ? '&' : '?', n, v);
        else
            fputc('\x01', f); /* OOM: poison the URL so the caller fails below */
        free(n);
        free(v);
    }
    free(enc);
    if (fclose(f) != 0 || strchr(buf, '\x01')) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int slist_add(struct curl_slist **l, const char *line)
{
    struct curl_slist *t = curl_slist_append(*l, line);

    if (t)
        *l = t;
    return t != NULL;
}

/* The signed headers, and those curl must not add on its own. */
static struct curl_slist *request_headers(struct s3_store *s, const char *method, const char *path,
                                          const struct wc_sigv4_pair *q, size_t nq,
                                          const char *payload_hash)
{
    struct wc_sigv4_pair host = {"Host", s->host};
    struct wc_sigv4_request r = {.method = method,
                                 .path = path,
                                 .query = q,
                                 .n_query = nq,
                                 .headers = &host,
                                 .n_headers = 1,
                                 .payload_hash = payload_hash,
                                 .content_sha256_header = 1};
    struct wc_sigv4_credentials cr = {s->access_key, s->secret_key, s->token, s->region, "s3"};
    struct wc_sigv4_result res;
    struct curl_slist *l = NULL;
    char line[512];
    int ok;

    if (wc_sigv4_sign(&r, &cr, time(NULL), &res) < 0)
        return NULL;
    /* Host is set here, not by curl, so that what is signed is exactly what is sent; an
     * empty Expect saves a round trip that S3 does not need. */
    snprintf(line, sizeof(line), "Host: %s", s->host);
    ok = slist_add(&l, line) && slist_add(&l, "Expect:");
    for (size_t i = 0; ok && i < res.n_send; i++)
        ok = slist_add(&l, res.send[i]);
    wc_sigv4_result_free(&res);
    if (!ok) {
        curl_slist_free_all(l);
        return NULL;
    }
    return l;
}

static void set_common_options(struct s3_store *s, struct xfer *x, char *errbuf)
{
    CURL *c = s->curl;

    curl_easy_reset(c); /* keeps the connection cache: the next request reuses the socket */
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    wc_sink_attach(&x->down, c);
}

static void set_method(CURL *c, const char *method, struct xfer *x, curl_off_t up_size)
{
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, wc_source_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &x->up);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, up_size);
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
}

/* S3's error <Code>, or "" (a HEAD answer has no body). */
static void error_code(const struct xfer *x, char *code, size_t n)
{
    const char *b = strstr(x->down.error_body, "<Code>"), *e;

    code[0] = '\0';
    if (b && (e = strstr(b + 6, "</Code>")) && (size_t)(e - b - 6) < n)
        snprintf(code, n, "%.*s", (int)(e - b - 6), b + 6);
}

static int http_status_error(struct s3_store *s, long status, const struct xfer *x)
{
    char code[64];

    error_code(x, code, sizeof(code));
    if (status == 404 && !strcmp(code, "NoSuchBucket")) {
        snprintf(s->base.why, sizeof(s->base.why), "S3 bucket \"%s\" does not exist", s->bucket);
        return -ENOENT;
    }
    if (status == 404) {
        snprintf(s->base.why, sizeof(s->base.why), "not in the S3 store");
        return -ENOENT;
    }
    if (status == 403) {
        if (!strcmp(code, "SignatureDoesNotMatch"))
            snprintf(s->base.why, sizeof(s->base.why), SIGNATURE_REASON);
        else if (!strcmp(code, "InvalidAccessKeyId"))
            snprintf(s->base.why, sizeof(s->base.why), "S3 does not know AWS_ACCESS_KEY_ID");
        else if (!strcmp(code, "RequestTimeTooSkewed"))
            snprintf(s->base.why, sizeof(s->base.why), "S3 refused the request: the clock is off");
        else if (code[0])
            snprintf(s->base.why, sizeof(s->base.why), "S3 denied access (%s)", code);
        else /* HEAD: no body tells why */
            snprintf(s->base.why, sizeof(s->base.why),
                     "S3 refused the request (403; check AWS_SECRET_ACCESS_KEY and the bucket "
                     "policy)");
        return -EACCES;
    }
    /* 301 PermanentRedirect and 400 AuthorizationHeaderMalformed: the bucket lives in
     * another region than the one we signed for. */
    snprintf(s->base.why, sizeof(s->base.why), "S3 answered HTTP %ld%s%s%s", status,
             code[0] ? " " : "", code,
             status == 301 || !strcmp(code, "AuthorizationHeaderMalformed") ? " (check AWS_REGION)"
                                                                            : "");
    return -EIO;
}

static int curl_error(struct s3_store *s, CURLcode cc, const struct xfer *x, const char *errbuf)
{
    int local_errno = x->down.io_err ? x->down.io_err : x->up.err;

    if (x->down.too_big) {
        snprintf(s->base.why, sizeof(s->base.why), "S3 object larger than allowed");
        return -EFBIG;
    }
    if (local_errno) {
        snprintf(s->base.why, sizeof(s->base.why), "S3 transfer: %s", strerror(local_errno));
        return -local_errno;
    }
    snprintf(s->base.why, sizeof(s->base.why), "S3 request to %s failed: %s", s->host,
             errbuf[0] ? errbuf : curl_easy_strerror(cc));
    return wc_curl_errno(cc);
}

/* One signed request. path is raw (encoded here); payload_hash is the hex SHA-256 of what
 * x uploads. 0, or -errno with s->base.why set. */
static int s3_request(struct s3_store *s, const char *method, const char *path,
                      const struct wc_sigv4_pair *q, size_t nq, const char *payload_hash,
                      struct xfer *x, curl_off_t up_size)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = request_url(s, path, q, nq);
    struct curl_slist *h = url ? request_headers(s, method, path, q, nq, payload_hash) : NULL;
    long status = 0;
    CURLcode cc;
    int rc;

    if (!h) {
        free(url);
        snprintf(s->base.why, sizeof(s->base.why), "out of memory");
        return -ENOMEM;
    }
    set_common_options(s, x, errbuf);
    set_method(s->curl, method, x, up_size);
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
    cc = curl_easy_perform(s->curl);
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK)
        rc = curl_error(s, cc, x, errbuf);
    else if (status < 200 || status > 299)
        rc = http_status_error(s, status, x);
    else
        rc = 0;
    if (rc == 0)
        s->base.why[0] = '\0';
    /* The handle keeps pointers to these until the next reset: clear them first. */
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(h);
    free(url);
    return rc;
}

/* ---- object names ---- */

/* The raw path of file `name` of entry `key` ("" name: the entry's own "directory/"). */
static char *object_path(struct s3_store *s, const char *key, const char *name)
{
    char *p = NULL;

    if (wc_store_check(key, name[0] ? name : NULL) < 0) {
        errno = EINVAL;
        return NULL;
    }
    if (asprintf(&p, "%s/%s%.2s/%s/%s", s->bucket_path, s->prefix, key, key, name) < 0) {
        errno = ENOMEM;
        return NULL;
    }
    return p;
}

/* ---- the store's functions ---- */

static int s3_get(wc_store *st, const char *key, const char *name, size_t max_len, const char *dest)
{
    struct s3_store *s = s3_of(st);
    char *path = object_path(s, key, name);
    struct xfer x;
    int rc;

    if (!path)
        return -errno;
    xfer_init(&x);
    x.down.max = max_len;
    x.down.kind = WC_SINK_FILE;
    x.down.fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (x.down.fd < 0) {
        rc = -errno;
        free(path);
        return rc;
    }
    rc = s3_request(s, "GET", path, NULL, 0, WC_SIGV4_EMPTY_SHA256, &x, 0);
    if (close(x.down.fd) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlink(dest); /* nothing half-written is left behind */
    free(path);
    return rc;
}

static int s3_read(wc_store *st, const char *key, const char *name, size_t max_len, char **buf,
                   size_t *len)
{
    struct s3_store *s = s3_of(st);
    char *path = object_path(s, key, name);
    struct xfer x;
    int rc;

    *buf = NULL;
    *len = 0;
    if (!path)
        return -errno;
    xfer_init(&x);
    x.down.max = max_len;
    rc = s3_request(s, "GET", path, NULL, 0, WC_SIGV4_EMPTY_SHA256, &x, 0);
    if (rc == 0 && !x.down.buf && !(x.down.buf = calloc(1, 1)))
        rc = -ENOMEM;
    if (rc < 0) {
        free(x.down.buf);
    } else {
        *buf = x.down.buf;
        *len = x.down.len;
    }
    free(path);
    return rc;
}

/* The payload's SHA-256 is signed (not UNSIGNED-PAYLOAD): S3 then refuses a body that
 * changed or was cut on the way. */
static int s3_put(wc_store *st, const char *key, const char *name, const char *src)
{
    struct s3_store *s = s3_of(st);
    char hash[WC_SIGV4_HEX_LEN + 1], *path = object_path(s, key, name);
    struct xfer x;
    struct stat sb;
    int rc = path ? 0 : -errno;

    xfer_init(&x);
    if (rc == 0 && (x.up.fd = open(src, O_RDONLY | O_CLOEXEC)) < 0)
        rc = -errno;
    if (rc == 0 && fstat(x.up.fd, &sb) != 0)
        rc = -errno;
    if (rc == 0 && !S_ISREG(sb.st_mode))
        rc = -EINVAL;
    if (rc == 0)
        rc = wc_sigv4_sha256_fd(x.up.fd, hash);
    if (rc == 0 && lseek(x.up.fd, 0, SEEK_SET) != 0)
        rc = -errno;
    if (rc == 0)
        rc = s3_request(s, "PUT", path, NULL, 0, hash, &x, (curl_off_t)sb.st_size);
    if (x.up.fd >= 0)
        close(x.up.fd);
    free(path);
    return rc;
}

static int s3_write(wc_store *st, const char *key, const char *name, const void *buf, size_t len)
{
    struct s3_store *s = s3_of(st);
    char hash[WC_SIGV4_HEX_LEN + 1], *path = object_path(s, key, name);
    struct xfer x;
    int rc = path ? wc_sigv4_sha256_hex(buf, len, hash) : -errno;

    xfer_init(&x);
    x.up.buf = buf;
    x.up.len = len;
    if (rc == 0)
        rc = s3_request(s, "PUT", path, NULL, 0, hash, &x, (curl_off_t)len);
    free(path);
    return rc;
}

static int s3_exists(wc_store *st, const char *key, const char *name)
{
    struct s3_store *s = s3_of(st);
    char *path = object_path(s, key, name);
    struct xfer x;
    int rc;

    if (!path)
        return -errno;
    xfer_init(&x);
    rc = s3_request(s, "HEAD", path, NULL, 0, WC_SIGV4_EMPTY_SHA256, &x, 0);
    free(path);
    return rc;
}

static int s3_touch(wc_store *st, const char *key)
{
    (void)st;
    return wc_store_key_valid(key) ? 0 : -EINVAL; /* see the top of this file */
}

static int s3_delete(struct s3_store *s, const char *object)
{
    char *path = NULL;
    struct xfer x;
    int rc;

    if (asprintf(&path, "%s/%s", s->bucket_path, object) < 0)
        return -ENOMEM;
    xfer_init(&x);
    rc = s3_request(s, "DELETE", path, NULL, 0, WC_SIGV4_EMPTY_SHA256, &x, 0);
    free(path);
    return rc == -ENOENT ? 0 : rc; /* gone already: what we wanted */
}

/* The text of each <Key> of a ListObjectsV2 answer, XML entities decoded, in place. */
static char *next_key(char **cur)
{
    char *b = strstr(*cur, "<Key>"), *e, *o, *k;

    if (!b || !(e = strstr(b + 5, "</Key>")))
        return NULL;
    *e = '\0';
    *cur = e + 6;
    k = o = b + 5;
    for (char *p = k; *p; p++) {
        static const char *const ent[][2] = {
            {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
        size_t i;
        for (i = 0; i < 5 && strncmp(p, ent[i][0], strlen(ent[i][0])); i++)
            ;
        *o++ = i < 5 ? ent[i][1][0] : *p;
        p += i < 5 ? strlen(ent[i][0]) - 1 : 0;
    }
    *o = '\0';
    return k;
}

/* One page of the objects under the entry, as a ListObjectsV2 XML document in *doc. */
static int list_entry(struct s3_store *s, const char *key, char **doc)
{
    char *entry = object_path(s, key, ""), *bucket = NULL;
    struct wc_sigv4_pair q[2] = {{"list-type", "2"}, {"prefix", NULL}};
    struct xfer x;
    int rc = entry ? 0 : -errno;

    *doc = NULL;
    if (rc == 0 && asprintf(&bucket, "%s/", s->bucket_path) < 0) {
        bucket = NULL;
        rc = -ENOMEM;
    }
    xfer_init(&x);
    x.down.max = LIST_MAX_LEN;
    if (rc == 0) {
        q[1].value = entry + strlen(s->bucket_path) + 1; /* the object-name part */
        rc = s3_request(s, "GET", bucket, q, 2, WC_SIGV4_EMPTY_SHA256, &x, 0);
    }
    if (rc == 0 && !x.down.buf && !(x.down.buf = calloc(1, 1)))
        rc = -ENOMEM;
    if (rc == 0)
        *doc = x.down.buf;
    else
        free(x.down.buf);
    free(entry);
    free(bucket);
    return rc;
}

/* Deletes every object the document lists, "meta" first: from then on the entry no longer
 * exists for a reader, whatever is left. *n counts the objects listed. */
static int delete_listed(struct s3_store *s, char *doc, size_t *n)
{
    size_t cap = 16, count = 0;
    char **keys = malloc(cap * sizeof(*keys)), *k, *cur = doc;
    int rc = keys ? 0 : -ENOMEM;

    while (rc == 0 && (k = next_key(&cur))) {
        char **more = count < cap ? keys : realloc(keys, (cap *= 2) * sizeof(*keys));
        if (!more) {
            rc = -ENOMEM;
            break;
        }
        keys = more;
        keys[count++] = k;
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        size_t l = strlen(keys[i]);
        if (l >= 5 && !strcmp(keys[i] + l - 5, "/meta"))
            rc = s3_delete(s, keys[i]);
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        size_t l = strlen(keys[i]);
        if (l < 5 || strcmp(keys[i] + l - 5, "/meta"))
            rc = s3_delete(s, keys[i]);
    }
    free(keys);
    *n = count;
    return rc;
}

static int s3_remove(wc_store *st, const char *key)
{
    struct s3_store *s = s3_of(st);
    size_t n = 0, total = 0;
    char *doc;
    int rc = 0;

    if (!wc_store_key_valid(key))
        return -EINVAL;
    /* S3 has no directories: list what the entry holds and delete it, until nothing is left
     * (a page holds at most 1000 keys). */
    for (int round = 0; round < REMOVE_ROUNDS; round++) {
        rc = list_entry(s, key, &doc);
        if (rc < 0)
            return rc;
        rc = delete_listed(s, doc, &n);
        free(doc);
        if (rc < 0)
            return rc;
        total += n;
        if (n == 0)
            return total ? 0 : -ENOENT;
    }
    snprintf(s->base.why, sizeof(s->base.why), "S3 entry %s still not empty", key);
    return -EAGAIN;
}

static void s3_close(wc_store *st)
{
    struct s3_store *s = s3_of(st);

    if (!s)
        return;
    if (s->curl) {
        curl_easy_cleanup(s->curl);
        curl_global_cleanup();
    }
    if (s->secret_key)
        OPENSSL_cleanse(s->secret_key, strlen(s->secret_key));
    free(s->origin);
    free(s->host);
    free(s->bucket_path);
    free(s->prefix);
    free(s->bucket);
    free(s->access_key);
    free(s->secret_key);
    free(s->token);
    free(s->region);
    free(s);
}

/* ---- opening ---- */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL; /* set to "" counts as unset, as in core/config.c */
}

/* S3's own rules are stricter (lowercase, 3-63); this only keeps the bucket one host label
 * or path component, so clones with laxer names still work. */
static int bucket_valid(const char *b, size_t n)
{
    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", b[i]))
            return 0;
    return 1;
}

/* "s3://bucket/some/prefix" -> bucket "bucket", prefix "some/prefix/" (as os.path.join in
 * the seed, a prefix always ends with '/'). */
static int parse_cache_url(struct s3_store *s, const char *url, char *errbuf, size_t errlen)
{
    const char *b = url + 5, *slash;
    size_t bn;
    int w;

    if (strncmp(url, "s3://", 5)) {
        snprintf(errbuf, errlen, "%s is not an s3:// URL", url);
        return -EINVAL;
    }
    slash = strchr(b, '/');
    bn = slash ? (size_t)(slash - b) : strlen(b);
    if (!bucket_valid(b, bn)) {
        snprintf(errbuf, errlen, "%s: no valid bucket name after s3://", url);
        return -EINVAL;
    }
    s->bucket = strndup(b, bn);
    b = slash ? slash : b + bn;
    while (*b == '/')
        b++;
    w = asprintf(&s->prefix, "%s%s", b, *b && b[strlen(b) - 1] != '/' ? "/" : "");
    if (w < 0)
        s->prefix = NULL;
    return s->bucket && s->prefix ? 0 : -ENOMEM;
}

static int endpoint_parts(CURLU *u, char **scheme, char **host, char **port, char **path)
{
    CURLUcode pc;

    if (curl_url_get(u, CURLUPART_SCHEME, scheme, 0) || curl_url_get(u, CURLUPART_HOST, host, 0))
        return -EINVAL;
    pc = curl_url_get(u, CURLUPART_PORT, port, 0);
    if (pc && pc != CURLUE_NO_PORT)
        return -EINVAL;
    if (curl_url_get(u, CURLUPART_PATH, path, CURLU_URLDECODE))
        return -EINVAL;
    return strcmp(*scheme, "http") && strcmp(*scheme, "https") ? -EINVAL : 0;
}

/* Path style below a user-given endpoint: <endpoint>/<bucket>/<object>. */
static int set_endpoint(struct s3_store *s, const char *name, const char *endpoint, char *errbuf,
                        size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    int rc = !u ? -ENOMEM : curl_url_set(u, CURLUPART_URL, endpoint, 0) ? -EINVAL : 0;

    if (rc == 0)
        rc = endpoint_parts(u, &scheme, &host, &port, &path);
    if (rc == -EINVAL)
        snprintf(errbuf, errlen, "%s=\"%s\" is not an http:// or https:// URL", name, endpoint);
    if (rc == 0) {
        size_t pl = strlen(path);
        while (pl > 0 && path[pl - 1] == '/')
            path[--pl] = '\0';
        if (asprintf(&s->host, "%s%s%s", host, port ? ":" : "", port ? port : "") < 0 ||
            asprintf(&s->origin, "%s://%s", scheme, s->host) < 0 ||
            asprintf(&s->bucket_path, "%s/%s", path, s->bucket) < 0)
            rc = -ENOMEM;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

/* AWS itself: virtual-host style, except for dotted bucket names (see the top). */
static int set_aws_endpoint(struct s3_store *s)
{
    int dotted = strchr(s->bucket, '.') != NULL;
    int w = dotted ? asprintf(&s->host, "s3.%s.amazonaws.com", s->region)
                   : asprintf(&s->host, "%s.s3.%s.amazonaws.com", s->bucket, s->region);

    if (w < 0) {
        s->host = NULL;
        return -ENOMEM;
    }
    if (asprintf(&s->origin, "https://%s", s->host) < 0 ||
        asprintf(&s->bucket_path, "%s%s", dotted ? "/" : "", dotted ? s->bucket : "") < 0)
        return -ENOMEM;
    return 0;
}

static int set_credentials(struct s3_store *s, char *errbuf, size_t errlen)
{
    const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *token = env("AWS_SESSION_TOKEN");
    const char *region = env("AWS_REGION");

    if (!id || !secret) {
        snprintf(errbuf, errlen,
                 "the S3 store needs %s%s%s in the environment (no other credential source "
                 "is read)",
                 id ? "" : "AWS_ACCESS_KEY_ID", !id && !secret ? " and " : "",
                 secret ? "" : "AWS_SECRET_ACCESS_KEY");
        return -EINVAL;
    }
    if (!region)
        region = env("AWS_DEFAULT_REGION");
    s->access_key = strdup(id);
    s->secret_key = strdup(secret);
    s->token = token ? strdup(token) : NULL;
    s->region = strdup(region ? region : "us-east-1");
    if (!s->access_key || !s->secret_key || (token && !s->token) || !s->region)
        return -ENOMEM;
    return 0;
}

static int s3_setup(struct s3_store *s, const struct wc_config *c, char *errbuf, size_t errlen)
{
    const char *ep_name = "AWS_ENDPOINT_URL_S3", *ep = env(ep_name);
    int rc;

    if (!ep)
        ep = env(ep_name = "AWS_ENDPOINT_URL");
    rc = parse_cache_url(s, c->cache, errbuf, errlen);
    if (rc == 0)
        rc = set_credentials(s, errbuf, errlen);
    if (rc == 0)
        rc = ep ? set_endpoint(s, ep_name, ep, errbuf, errlen) : set_aws_endpoint(s);
    if (rc == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        rc = -ENOMEM;
    if (rc == 0 && !(s->curl = curl_easy_init())) {
        curl_global_cleanup();
        rc = -ENOMEM;
    }
    if (rc == -ENOMEM)
        snprintf(errbuf, errlen, "out of memory");
    s->timeout_ms = c->timeout_ms ? (long)c->timeout_ms : DEFAULT_TIMEOUT_MS;
    return rc;
}

wc_store *wc_s3_open(const struct wc_config *c, int *err, char *errbuf, size_t errlen)
{
    struct s3_store *s = calloc(1, sizeof(*s));
    int rc;

    *err = 0;
    if (errlen)
        errbuf[0] = '\0';
    if (!s) {
        snprintf(errbuf, errlen, "out of memory");
        *err = -ENOMEM;
        return NULL;
    }
    rc = s3_setup(s, c, errbuf, errlen);
    if (rc < 0) {
        s3_close(&s->base);
        *err = rc;
        return NULL;
    }
    s->base = (wc_store){
        .version = WC_STORE_VERSION,
        .name = "s3",
        .get = s3_get,
        .read = s3_read,
        .put = s3_put,
        .write = s3_write,
        .exists = s3_exists,
        .touch = s3_touch,
        .remove = s3_remove,
        .close = s3_close,
        .reason = wc_store_last_reason,
    };
    return &s->base;
}
