/* Remote stores (the IN_MODULE rows of core/backends.def: HTTP, native S3) live in a module,
 * wafcache-remote.so, that the runner and the command line dlopen only when a remote store is
 * configured: libcurl and OpenSSL are never loaded for a local cache (DESIGN.md, "The hit path").
 */
#ifndef WC_REMOTE_H
#define WC_REMOTE_H

#include "store/backends.h"

#define WC_REMOTE_MODULE "wafcache-remote.so"
#define WC_REMOTE_OPEN_SYMBOL "wc_remote_open"

/* The module's one entry point: the IN_MODULE backend of core/backends.def for c->kind
 * (wc_http_open, wc_s3_open, declared in store/backends.h). NULL with *err = -errno on
 * failure; a one-line reason in errbuf (credentials never in it). */
typedef wc_backend_open_fn wc_remote_open_fn;

#endif
