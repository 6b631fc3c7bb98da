/* Remote stores (HTTP, native S3) live in a module, wafcache-remote.so, that the runner and
 * the command line dlopen only when a remote store is configured: libcurl and OpenSSL are
 * never loaded for a local cache (DESIGN.md, "The hit path"). */
#ifndef WC_REMOTE_H
#define WC_REMOTE_H

#include "core/config.h"
#include "store/store.h"

#define WC_REMOTE_MODULE "wafcache-remote.so"
#define WC_REMOTE_OPEN_SYMBOL "wc_remote_open"

/* The module's one entry point: a backend for c->cache (kind WC_STORE_HTTP or WC_STORE_S3).
 * NULL with *err = -errno on failure; a one-line reason in errbuf (credentials never in it). */
typedef wc_store *(*wc_remote_open_fn)(const struct wc_config *c, int *err, char *errbuf,
                                       size_t errlen);

wc_store *wc_http_open(const struct wc_config *c, int *err, char *errbuf, size_t errlen);
wc_store *wc_s3_open(const struct wc_config *c, int *err, char *errbuf, size_t errlen);

#endif
