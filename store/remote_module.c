/* The entry point of wafcache-remote.so: the IN_MODULE backends of core/backends.def. */
#include <errno.h>
#include <stdio.h>

#include "store/backends.h"
#include "store/remote.h"

struct backend {
    enum wc_store_kind kind;
    wc_backend_open_fn open; /* NULL: in the core library, not reached through here */
};

#define CONSTRUCTOR_IN_CORE(fn) NULL
#define CONSTRUCTOR_IN_MODULE(fn) fn

static const struct backend backends[] = {
#define WC_BACKEND(kind, scheme, alias, constructor, where, cmd)                                   \
    {WC_STORE_##kind, CONSTRUCTOR_##where(constructor)},
#include "core/backends.def"
#undef WC_BACKEND
};

__attribute__((visibility("default"))) wc_store *wc_remote_open(const struct wc_config *c, int *err,
                                                                char *errbuf, size_t errlen)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (backends[i].kind == c->kind && backends[i].open)
            return backends[i].open(c, err, errbuf, errlen);
    snprintf(errbuf, errlen, "not a remote store kind");
    *err = -EINVAL;
    return NULL;
}
