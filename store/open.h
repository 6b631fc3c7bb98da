/* The one place that maps a configuration (WAFCACHE's scheme, WAFCACHE_LOCAL, WAFCACHE_CMD)
 * to a store backend. A new backend is a new file and one case here. */
#ifndef WC_STORE_OPEN_H
#define WC_STORE_OPEN_H

#include <stddef.h>
#include "core/config.h"
#include "store/store.h"

/* Open the store c names. libdir holds wafcache-remote.so (the HTTP and S3 backends, loaded
 * only when one of them is configured). With c->local set in front of a remote store, a tier.
 * NULL with *err = -errno and one line in errbuf (credentials never in it). */
wc_store *wc_store_open(const struct wc_config *c, const char *libdir, int *err, char *errbuf,
                        size_t errlen);

/* The local directory that goes with c, for the memo, stats and trims: the cache itself for a
 * local store, else WAFCACHE_LOCAL, else NULL. */
const char *wc_store_local_dir(const struct wc_config *c);

#endif
