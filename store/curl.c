/* The libcurl layer of the remote stores (store/curl.h). */
#include "store/curl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sink_file(struct wc_sink *k, const char *p, size_t len)
{
    k->len += len;
    while (len > 0) {
        ssize_t w = write(k->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            k->io_err = w < 0 ? errno : EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int sink_memory(struct wc_sink *k, const char *p, size_t len)
{
    if (k->len + len + 1 > k->cap) {
        size_t cap = k->cap ? k->cap : 4096;
        char *b;
        while (cap < k->len + len + 1)
            cap *= 2;
        b = realloc(k->buf, cap);
        if (!b) {
            k->io_err = ENOMEM;
            return -1;
        }
        k->buf = b;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, p, len);
    k->len += len;
    k->buf[k->len] = '\0';
    return 0;
}

/* An unwanted body: its start kept when it is an error answer, the transfer cut when it goes
 * on too long. */
static size_t sink_unwanted(struct wc_sink *k, const char *p, size_t len, long code)
{
    if (code < 200 || code >= 300) {
        size_t keep = WC_SINK_ERROR_KEEP - k->error_len;
        keep = len < keep ? len : keep;
        memcpy(k->error_body + k->error_len, p, keep);
        k->error_len += keep;
        k->error_body[k->error_len] = '\0';
    }
    k->unwanted += len;
    if (k->unwanted <= k->unwanted_max)
        return len;
    k->cut = 1;
    return 0;
}

/* libcurl's write callback; returning less than len aborts the transfer. */
static size_t on_body(char *p, size_t size, size_t n, void *u)
{
    struct wc_sink *k = u;
    size_t len = size * n;
    long code = 0;

    curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code >= 300 || k->kind == WC_SINK_DISCARD)
        return sink_unwanted(k, p, len, code);
    if (len > k->max - k->len) {
        k->too_big = 1;
        return 0;
    }
    if (k->kind == WC_SINK_FILE)
        return sink_file(k, p, len) == 0 ? len : 0;
    return sink_memory(k, p, len) == 0 ? len : 0;
}

void wc_sink_attach(struct wc_sink *k, CURL *h)
{
    k->h = h;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
}

size_t wc_source_read(char *p, size_t size, size_t n, void *u)
{
    struct wc_source *src = u;
    size_t want = size * n;
    ssize_t r;

    if (src->fd < 0) {
        if (want > src->len - src->off)
            want = src->len - src->off;
        memcpy(p, src->buf + src->off, want);
        src->off += want;
        return want;
    }
    while ((r = read(src->fd, p, want)) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        src->err = errno;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)r;
}

int wc_source_seek(void *u, curl_off_t offset, int origin)
{
    struct wc_source *src = u;

    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    if (src->fd >= 0)
        return lseek(src->fd, (off_t)offset, SEEK_SET) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
    if ((size_t)offset > src->len)
        return CURL_SEEKFUNC_FAIL;
    src->off = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

int wc_curl_errno(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
        return -EPROTO;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    default:
        return -EIO;
    }
}
