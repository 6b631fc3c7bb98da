/* The libcurl layer of the HTTP and S3 stores (in wafcache-remote.so): where a response body
 * goes, bounded; where a request body comes from; what a libcurl failure is as an errno. */
#ifndef WC_STORE_CURL_H
#define WC_STORE_CURL_H

#include <stddef.h>

#include <curl/curl.h>

enum wc_sink_kind {
    WC_SINK_MEMORY, /* into buf: malloc'd, NUL-terminated */
    WC_SINK_FILE,   /* into fd */
    WC_SINK_DISCARD /* nowhere: the answer is the status */
};

/* The start of an error answer kept for the reason (enough for S3's <Code>). */
#define WC_SINK_ERROR_KEEP 2048

/* Where a response body goes. A wanted body (2xx status, not WC_SINK_DISCARD) beyond max
 * bytes stops the transfer with too_big: the caller's bound (the size an entry's metadata
 * declares) keeps a server that streams a huge or endless body from filling memory or disk.
 * An unwanted body (an error answer, a discarded one) is never written where the caller's
 * data goes; after unwanted_max bytes of it the transfer is cut (cut). */
struct wc_sink {
    enum wc_sink_kind kind;
    int fd;               /* WC_SINK_FILE */
    char *buf;            /* WC_SINK_MEMORY */
    size_t len, cap, max; /* len and max: both kinds (a file is bounded too) */
    size_t unwanted_max, unwanted;
    char error_body[WC_SINK_ERROR_KEEP + 1]; /* the start of an error answer */
    size_t error_len;
    int too_big, io_err, cut; /* io_err: an errno of ours (a full disk, no memory) */
    CURL *h;                  /* set by wc_sink_attach */
};

/* Send h's response bodies to k. */
void wc_sink_attach(struct wc_sink *k, CURL *h);

/* Where a request body comes from: a file (fd >= 0) or len bytes at buf. err: the errno of a
 * failed read of the file. */
struct wc_source {
    int fd;
    const char *buf;
    size_t len, off;
    int err;
};

/* libcurl's read and seek callbacks for a struct wc_source (libcurl rewinds a body it must
 * send again, on a connection that was closed under a reused handle). */
size_t wc_source_read(char *p, size_t size, size_t n, void *src);
int wc_source_seek(void *src, curl_off_t offset, int origin);

/* What a failed transfer means: -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH (name not resolved),
 * -EPROTO (TLS: the certificate or the handshake), -ENOMEM, else -EIO (a short body, a
 * garbled response...). */
int wc_curl_errno(CURLcode cc);

#endif
