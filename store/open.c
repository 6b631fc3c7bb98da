/* Which backend a configuration names, and what goes around it (store/open.h). */
#include "store/open.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/backends.h"
#include "store/dir.h"
#include "store/remote.h"
#include "store/tier.h"

static wc_store *open_dir(const struct wc_config *c, const char *root, int *err, char *errbuf,
                          size_t errlen)
{
    struct wc_dir_options opt = {c->hardlink, c->dir_mode};
    wc_store *s = wc_dir_open(root, &opt, err);
    if (!s)
        snprintf(errbuf, errlen, "cannot open the cache %s: %s", root, strerror(-*err));
    return s;
}

static void tell(const struct wc_store_options *o, enum wc_store_notice what, const char *line)
{
    if (o->notice)
        o->notice(o->ctx, what, line);
}

static void tell_down(void *ctx, const char *line)
{
    tell(ctx, WC_STORE_NOTICE_DOWN, line);
}

/* One row of core/backends.def. The module's constructors are not linked into the core:
 * their rows are reached through wafcache-remote.so's entry point instead. */
struct backend {
    enum wc_store_kind kind;
    wc_backend_open_fn open; /* NULL: in the module */
    int cmd;                 /* WAFCACHE_CMD hands it to the bucket command */
};

#define CONSTRUCTOR_IN_CORE(fn) fn
#define CONSTRUCTOR_IN_MODULE(fn) NULL

static const struct backend backends[] = {
#define WC_BACKEND(kind, scheme, alias, constructor, where, cmd)                                   \
    {WC_STORE_##kind, CONSTRUCTOR_##where(constructor), cmd},
#include "core/backends.def"
#undef WC_BACKEND
};

/* The row of c's kind, or NULL for a local directory. */
static const struct backend *backend_of(const struct wc_config *c)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (backends[i].kind == c->kind)
            return &backends[i];
    return NULL;
}

/* The backend of c's kind; s3:// goes to the seed's bucket command when WAFCACHE_CMD asks. */
static wc_store *open_remote(const struct wc_config *c, const char *libdir, int *err, char *errbuf,
                             size_t errlen)
{
    const struct backend *b = backend_of(c);
    if (!b) {
        *err = -EINVAL;
        snprintf(errbuf, errlen, "not a remote store");
        return NULL;
    }
    if (b->cmd && c->cmd)
        return wc_cmd_open(c, err, errbuf, errlen);
    return b->open ? b->open(c, err, errbuf, errlen)
                   : wc_store_open_module(c, libdir, err, errbuf, errlen);
}

int wc_store_in_module(const struct wc_config *c)
{
    const struct backend *b = backend_of(c);
    return b && !b->open && !(b->cmd && c->cmd);
}

/* The remote store c names, guarded when asked. */
static wc_store *open_guarded(const struct wc_config *c, const struct wc_store_options *o, int *err,
                              char *errbuf, size_t errlen)
{
    wc_store *remote = open_remote(c, o->libdir, err, errbuf, errlen);
    if (!remote || !o->guard)
        return remote;
    /* The guard outlives this call: it keeps o, which the caller keeps as long as the store. */
    wc_store *g = wc_guard_open(remote, c->cache, o->guard_dir, tell_down, (void *)o);
    if (!g) {
        *err = -ENOMEM;
        snprintf(errbuf, errlen, "out of memory");
    }
    return g;
}

wc_store *wc_store_open(const struct wc_config *c, const struct wc_store_options *o, int *err,
                        char *errbuf, size_t errlen)
{
    char why[600];

    *err = 0;
    errbuf[0] = '\0';
    if (c->kind == WC_STORE_DIR)
        return open_dir(c, c->cache, err, errbuf, errlen);
    wc_store *remote = open_guarded(c, o, err, errbuf, errlen);
    if (!remote || !c->local || o->remote_only)
        return remote;
    int lerr = 0;
    wc_store *local = open_dir(c, c->local, &lerr, why, sizeof why);
    if (!local) {
        tell(o, WC_STORE_NOTICE_LOCAL, why);
        return remote;
    }
    wc_store *tier = wc_tier_open(local, remote);
    if (!tier) {
        *err = -ENOMEM;
        snprintf(errbuf, errlen, "out of memory");
    }
    return tier;
}

const char *wc_store_local_dir(const struct wc_config *c)
{
    return c->kind == WC_STORE_DIR ? c->cache : c->local;
}
