/* The one place that assembles stores: maps a configuration (WAFCACHE's scheme,
 * WAFCACHE_LOCAL, WAFCACHE_CMD) to a backend (core/backends.def), and puts the guard
 * (store/guard.h) and the local tier (store/tier.h) around it. */
#ifndef WC_STORE_OPEN_H
#define WC_STORE_OPEN_H

#include <stddef.h>
#include "core/config.h"
#include "store/guard.h"
#include "store/store.h"

/* What does not stop wc_store_open but the caller may want to say. */
enum wc_store_notice {
    WC_STORE_NOTICE_LOCAL, /* WAFCACHE_LOCAL could not be opened: the remote is used alone */
    WC_STORE_NOTICE_DOWN   /* the guard's one line: the remote store was found down */
};

struct wc_store_options {
    const char *libdir;    /* holds wafcache-remote.so (the HTTP and S3 backends) */
    int remote_only;       /* the remote store alone, without WAFCACHE_LOCAL's tier in front */
    int guard;             /* wrap a remote store in a guard (store/guard.h) */
    const char *guard_dir; /* where the guard's markers live (per user); NULL: none */
    /* Told each notice, one line (credentials never in it); NULL: nobody is told. */
    void (*notice)(void *ctx, enum wc_store_notice what, const char *line);
    void *ctx;
};

/* Open the store c names: a directory; or a remote store (the module loaded from o->libdir
 * only when one of its backends is configured), guarded when o->guard, with c->local in
 * front of it as a tier unless o->remote_only. A local directory that cannot be opened
 * leaves the remote alone (the build still shares its results): a WC_STORE_NOTICE_LOCAL.
 * NULL with *err = -errno and one line in errbuf (credentials never in it). o must live as
 * long as the store: the guard tells its line through it. */
wc_store *wc_store_open(const struct wc_config *c, const struct wc_store_options *o, int *err,
                        char *errbuf, size_t errlen);

/* The local directory that goes with c, for the memo, stats and trims: the cache itself for a
 * local store, else WAFCACHE_LOCAL, else NULL. */
const char *wc_store_local_dir(const struct wc_config *c);

/* The IN_MODULE backend of c's kind, from wafcache-remote.so in libdir (store/module.c). NULL
 * with *err = -errno and one line in errbuf. */
wc_store *wc_store_open_module(const struct wc_config *c, const char *libdir, int *err,
                               char *errbuf, size_t errlen);

/* 1 when the store c names lives in wafcache-remote.so, which wc_store_open would dlopen. */
int wc_store_in_module(const struct wc_config *c);

#endif
