/* The HTTP store: the seed's protocol (GET, and POST of a multipart field "file" named
 * "<key>/<name>") or plain PUT/GET/HEAD/DELETE for stock servers; see store/http.h.
 *
 * One libcurl easy handle per store, reset before each request, so that its connection cache
 * carries the keep-alive connection from one file of an entry to the next. Every request is
 * bounded by the configured timeout: a store that is slow or down costs a short wait and
 * then a miss, never a stuck build. */
#include "store/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/curl.h"
#include "store/remote.h"

/* Most of an error page we read before dropping the connection instead. */
#define ERROR_BODY_MAX (64 * 1024)

struct wc_http_store {
    wc_store base; /* first, so a wc_store * is a struct wc_http_store * */
    CURL *h;
    char *url;             /* the base URL: no userinfo, no trailing '/' */
    char *user, *password; /* from the URL's userinfo, decoded; NULL without */
    struct curl_slist *headers;
    long timeout_ms;
    int put_mode; /* WAFCACHE_HTTP_METHOD=put */
    int no_head;  /* the server refused HEAD once: exists() uses GET */
    int global;   /* curl_global_init succeeded (to balance in close) */
    long code;    /* status of the last response, 0 when none */
    char curl_err[CURL_ERROR_SIZE];
};

static struct wc_http_store *http_of(wc_store *s)
{
    return (struct wc_http_store *)s;
}

/* <base>/<key>/<name>, or <base>/<key>/ when name is NULL. */
static int object_url(struct wc_http_store *s, const char *key, const char *name, char **url)
{
    *url = NULL;
    if (wc_store_check(key, name) < 0)
        return -EINVAL;
    if (asprintf(url, "%s/%s/%s", s->url, key, name ? name : "") < 0) {
        *url = NULL;
        return -ENOMEM;
    }
    return 0;
}

/* ---- one request ---- */

/* Options common to every request; the handle keeps its connections across the reset. */
static void prepare(struct wc_http_store *s, const char *url)
{
    CURL *h = s->h;

    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM in the runner */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->curl_err);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "wafcache/" WAFCACHE_VERSION);
    if (s->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, s->password ? s->password : "");
    }
}

static int status_errno(long code)
{
    if (code >= 200 && code < 300)
        return 0;
    if (code == 404 || code == 410)
        return -ENOENT;
    if (code == 401 || code == 403)
        return -EACCES;
    return -EIO;
}

/* Runs the prepared request, the body going to k. 0 for a 2xx status, else -errno with the
 * reason set. URLs in reasons are ours (s->url has no userinfo). */
static int perform(struct wc_http_store *s, const char *method, const char *url, struct wc_sink *k)
{
    CURLcode cc;
    int rc;

    s->curl_err[0] = '\0';
    s->code = 0;
    wc_sink_attach(k, s->h);
    cc = curl_easy_perform(s->h);
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->code);
    if (k->too_big)
        return wc_store_fail(&s->base, -EFBIG, "%s %s: more than %zu bytes", method, url, k->max);
    if (k->io_err)
        return wc_store_fail(&s->base, -k->io_err, "%s %s: %s", method, url, strerror(k->io_err));
    /* A body we cut short after its status arrived: the status is the answer. */
    if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && k->cut && s->code > 0))
        return wc_store_fail(&s->base, wc_curl_errno(cc), "%s %s: %s", method, url,
                             s->curl_err[0] ? s->curl_err : curl_easy_strerror(cc));
    rc = status_errno(s->code);
    if (rc < 0)
        wc_store_fail(&s->base, rc, "%s %s: HTTP status %ld", method, url, s->code);
    return rc;
}

/* ---- the store's functions ---- */

static int http_get(wc_store *st, const char *key, const char *name, size_t max_len,
                    const char *dest)
{
    struct wc_http_store *s = http_of(st);
    struct wc_sink k = {.kind = WC_SINK_FILE, .max = max_len, .unwanted_max = ERROR_BODY_MAX};
    char *url;
    int rc = object_url(s, key, name, &url);

    if (rc < 0)
        return rc;
    k.fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (k.fd < 0) {
        free(url);
        return -errno;
    }
    prepare(s, url);
    curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
    rc = perform(s, "GET", url, &k);
    if (close(k.fd) != 0 && rc == 0)
        rc = wc_store_fail(&s->base, -errno, "GET %s: closing %s: %s", url, dest, strerror(errno));
    if (rc < 0)
        unlink(dest); /* ours: O_EXCL created it */
    free(url);
    return rc;
}

static int http_read(wc_store *st, const char *key, const char *name, size_t max_len, char **buf,
                     size_t *len)
{
    struct wc_http_store *s = http_of(st);
    struct wc_sink k = {.kind = WC_SINK_MEMORY, .max = max_len, .unwanted_max = ERROR_BODY_MAX};
    char *url;
    int rc = object_url(s, key, name, &url);

    *buf = NULL;
    *len = 0;
    if (rc < 0)
        return rc;
    prepare(s, url);
    curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
    rc = perform(s, "GET", url, &k);
    if (rc == 0 && !k.buf && !(k.buf = calloc(1, 1)))
        rc = -ENOMEM; /* an empty body is still a NUL-terminated buffer */
    if (rc < 0) {
        free(k.buf);
    } else {
        *buf = k.buf;
        *len = k.len;
    }
    free(url);
    return rc;
}

/* The seed's form: one part "file", its filename "<key>/<name>". */
static int post_form(struct wc_http_store *s, const char *key, const char *name,
                     struct wc_source *src, curl_mime **mime)
{
    char filename[WC_STORE_KEY_LEN + 80];
    curl_mimepart *part;

    snprintf(filename, sizeof(filename), "%s/%s", key, name);
    *mime = curl_mime_init(s->h);
    if (!*mime || !(part = curl_mime_addpart(*mime)))
        return -ENOMEM;
    if (curl_mime_name(part, "file") != CURLE_OK ||
        curl_mime_data_cb(part, (curl_off_t)src->len, wc_source_read, wc_source_seek, NULL, src) !=
            CURLE_OK ||
        curl_mime_filename(part, filename) != CURLE_OK ||
        curl_mime_type(part, "application/octet-stream") != CURLE_OK)
        return -ENOMEM;
    curl_easy_setopt(s->h, CURLOPT_MIMEPOST, *mime);
    return 0;
}

static int upload(struct wc_http_store *s, const char *key, const char *name, struct wc_source *src)
{
    struct wc_sink k = {.kind = WC_SINK_DISCARD, .unwanted_max = ERROR_BODY_MAX};
    curl_mime *mime = NULL;
    char *url;
    int rc = object_url(s, key, name, &url);

    if (rc < 0)
        return rc;
    prepare(s, url);
    if (s->put_mode) {
        curl_easy_setopt(s->h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(s->h, CURLOPT_READFUNCTION, wc_source_read);
        curl_easy_setopt(s->h, CURLOPT_READDATA, src);
        curl_easy_setopt(s->h, CURLOPT_SEEKFUNCTION, wc_source_seek);
        curl_easy_setopt(s->h, CURLOPT_SEEKDATA, src);
        curl_easy_setopt(s->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src->len);
    } else {
        rc = post_form(s, key, name, src, &mime);
    }
    if (rc == 0)
        rc = perform(s, s->put_mode ? "PUT" : "POST", url, &k);
    else
        wc_store_fail(&s->base, rc, "POST %s: cannot build the form", url);
    curl_mime_free(mime);
    free(url);
    return rc;
}

static int http_put(wc_store *st, const char *key, const char *name, const char *path)
{
    struct wc_source src = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
    struct stat sb;
    int rc;

    if (src.fd < 0)
        return -errno;
    if (fstat(src.fd, &sb) != 0)
        rc = -errno;
    else
        rc = S_ISREG(sb.st_mode) ? 0 : -EINVAL;
    if (rc < 0) {
        close(src.fd);
        return rc;
    }
    src.len = (size_t)sb.st_size;
    rc = upload(http_of(st), key, name, &src);
    close(src.fd);
    return rc;
}

static int http_write(wc_store *st, const char *key, const char *name, const void *buf, size_t len)
{
    struct wc_source src = {.fd = -1, .buf = buf, .len = len};

    return upload(http_of(st), key, name, &src);
}

/* GET in place of HEAD: stop at the first byte of a body, the status is all we need. */
static int exists_by_get(struct wc_http_store *s, const char *url)
{
    struct wc_sink k = {.kind = WC_SINK_DISCARD};

    prepare(s, url);
    curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
    return perform(s, "GET", url, &k);
}

static int http_exists(wc_store *st, const char *key, const char *name)
{
    struct wc_http_store *s = http_of(st);
    struct wc_sink k = {.kind = WC_SINK_DISCARD, .unwanted_max = ERROR_BODY_MAX};
    char *url;
    int rc = object_url(s, key, name, &url);

    if (rc < 0)
        return rc;
    if (!s->no_head) {
        prepare(s, url);
        curl_easy_setopt(s->h, CURLOPT_NOBODY, 1L);
        rc = perform(s, "HEAD", url, &k);
        /* Python's http.server answers 501 for a method its handler lacks. */
        s->no_head = s->code == 405 || s->code == 501;
    }
    if (s->no_head)
        rc = exists_by_get(s, url);
    free(url);
    return rc;
}

static int http_touch(wc_store *st, const char *key)
{
    (void)st;
    (void)key;
    return 0; /* the server decides what to evict */
}

static int delete_url(struct wc_http_store *s, const char *key, const char *name)
{
    struct wc_sink k = {.kind = WC_SINK_DISCARD, .unwanted_max = ERROR_BODY_MAX};
    char *url;
    int rc = object_url(s, key, name, &url);

    if (rc < 0)
        return rc;
    prepare(s, url);
    curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, "DELETE");
    rc = perform(s, "DELETE", url, &k);
    free(url);
    return rc;
}

/* "meta" first: without it the entry no longer exists, even on a server that cannot delete
 * a collection; then the entry's collection, for WebDAV servers (its failure is ignored). */
static int http_remove(wc_store *st, const char *key)
{
    struct wc_http_store *s = http_of(st);
    int rc;

    if (!s->put_mode)
        return wc_store_fail(&s->base, -ENOTSUP, "the seed's HTTP protocol cannot remove entries");
    rc = delete_url(s, key, "meta");
    if (rc == 0 || rc == -ENOENT)
        delete_url(s, key, NULL);
    return rc;
}

static void http_close(wc_store *st)
{
    struct wc_http_store *s = http_of(st);

    if (!s)
        return;
    if (s->h)
        curl_easy_cleanup(s->h);
    curl_slist_free_all(s->headers);
    free(s->url);
    free(s->user);
    if (s->password)
        explicit_bzero(s->password, strlen(s->password));
    free(s->password);
    if (s->global)
        curl_global_cleanup();
    free(s);
}

/* ---- opening ---- */

static char *dup_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *v = NULL, *copy;

    if (curl_url_get(u, part, &v, flags) != CURLUE_OK)
        return NULL;
    copy = strdup(v);
    curl_free(v);
    return copy;
}

/* Takes the userinfo out of the URL (to libcurl's credential options, never into a
 * message) and keeps the rest without trailing slashes. */
static int split_url(struct wc_http_store *s, CURLU *u)
{
    char *scheme = dup_part(u, CURLUPART_SCHEME, 0), *q = NULL, *f = NULL;
    size_t len;
    int web = scheme && (!strcmp(scheme, "http") || !strcmp(scheme, "https"));

    free(scheme);
    if (!web)
        return wc_store_fail(&s->base, -EINVAL, "WAFCACHE is not an http:// or https:// URL");
    q = dup_part(u, CURLUPART_QUERY, 0);
    f = dup_part(u, CURLUPART_FRAGMENT, 0);
    web = !q && !f;
    free(q);
    free(f);
    if (!web)
        return wc_store_fail(&s->base, -EINVAL,
                             "WAFCACHE: a URL with a query or a fragment is not supported");
    s->user = dup_part(u, CURLUPART_USER, CURLU_URLDECODE);
    s->password = dup_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE);
    curl_url_set(u, CURLUPART_USER, NULL, 0);
    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0);
    s->url = dup_part(u, CURLUPART_URL, 0);
    if (!s->url)
        return -ENOMEM;
    len = strlen(s->url);
    while (len > 0 && s->url[len - 1] == '/')
        s->url[--len] = '\0';
    return 0;
}

static int parse_url(struct wc_http_store *s, const char *text)
{
    CURLU *u = curl_url();
    int rc;

    if (!u)
        return -ENOMEM;
    /* The URL itself is not repeated: it may hold a password. */
    if (!text || curl_url_set(u, CURLUPART_URL, text, 0) != CURLUE_OK)
        rc = wc_store_fail(&s->base, -EINVAL, "WAFCACHE is not a valid http:// or https:// URL");
    else
        rc = split_url(s, u);
    curl_url_cleanup(u);
    return rc;
}

static int add_header(struct wc_http_store *s, const char *h)
{
    struct curl_slist *l = curl_slist_append(s->headers, h);

    if (!l)
        return -ENOMEM;
    s->headers = l;
    return 0;
}

static int make_headers(struct wc_http_store *s)
{
    const char *token = getenv(WC_HTTP_TOKEN_ENV);
    char *h;
    int rc;

    /* No "Expect: 100-continue": http.server and some proxies never answer it, and libcurl
     * would wait a second before each upload. */
    rc = add_header(s, "Expect:");
    if (rc < 0 || !token || !*token)
        return rc;
    for (const char *p = token; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return wc_store_fail(&s->base, -EINVAL, WC_HTTP_TOKEN_ENV " holds a control character");
    if (asprintf(&h, "Authorization: Bearer %s", token) < 0)
        return -ENOMEM;
    rc = add_header(s, h);
    explicit_bzero(h, strlen(h));
    free(h);
    /* The token wins: libcurl would otherwise send both headers. */
    free(s->user);
    s->user = NULL;
    return rc;
}

static int setup(struct wc_http_store *s, const struct wc_config *c)
{
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return wc_store_fail(&s->base, -EIO, "libcurl could not be initialised");
    s->global = 1;
    rc = parse_url(s, c->cache);
    if (rc == 0)
        rc = make_headers(s);
    if (rc == 0 && !(s->h = curl_easy_init()))
        rc = wc_store_fail(&s->base, -ENOMEM, "libcurl could not make a handle");
    s->timeout_ms = c->timeout_ms ? (long)c->timeout_ms : 5000;
    s->put_mode = c->http_put;
    return rc;
}

wc_store *wc_http_open(const struct wc_config *c, int *err, char *errbuf, size_t errlen)
{
    struct wc_http_store *s = calloc(1, sizeof(*s));
    int rc;

    if (errlen)
        errbuf[0] = '\0';
    if (!s) {
        *err = -ENOMEM;
        return NULL;
    }
    rc = setup(s, c);
    if (rc < 0) {
        if (errlen)
            snprintf(errbuf, errlen, "%s", s->base.why[0] ? s->base.why : strerror(-rc));
        http_close(&s->base);
        *err = rc;
        return NULL;
    }
    s->base = (wc_store){
        .version = WC_STORE_VERSION,
        .name = "http",
        .get = http_get,
        .read = http_read,
        .put = http_put,
        .write = http_write,
        .exists = http_exists,
        .touch = http_touch,
        .remove = http_remove,
        .close = http_close,
        .reason = wc_store_last_reason,
    };
    *err = 0;
    return &s->base;
}
