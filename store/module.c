/* Loading wafcache-remote.so (store/remote.h), in a file of its own: the static runner
 * (preload/runner/linkage.c) defines wc_store_open_module itself, so that this file, and with
 * it dlopen, is never linked into a program that cannot load a shared object. */
#include "store/open.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "store/remote.h"

/* libcurl and OpenSSL come with the module: a build on a local cache never loads them. The
 * module stays loaded for the life of the process (its store points into it). */
wc_store *wc_store_open_module(const struct wc_config *c, const char *libdir, int *err,
                               char *errbuf, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", libdir, WC_REMOTE_MODULE) >= sizeof path) {
        *err = -ENAMETOOLONG;
        snprintf(errbuf, errlen, "library directory path too long");
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        *err = -ENOENT;
        snprintf(errbuf, errlen, "cannot load %s: %s", path, dlerror());
        return NULL;
    }
    wc_remote_open_fn fn = (wc_remote_open_fn)dlsym(h, WC_REMOTE_OPEN_SYMBOL);
    if (!fn) {
        *err = -ENOENT;
        snprintf(errbuf, errlen, "%s lacks %s", path, WC_REMOTE_OPEN_SYMBOL);
        dlclose(h);
        return NULL;
    }
    wc_store *s = fn(c, err, errbuf, errlen);
    if (s && s->version != WC_STORE_VERSION) {
        /* A module of another build: its store's layout is not ours. */
        *err = -ENOEXEC;
        snprintf(errbuf, errlen, "%s is of another wafcache version", path);
        return NULL;
    }
    return s;
}
