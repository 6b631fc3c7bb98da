/* Two stores as one: a local directory in front of a remote store. The local side is a
 * cache of the remote one, so every local failure degrades to "ask the remote", and every
 * remote failure to "as if there were no remote". */
#include "store/tier.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wc_tier_store {
    wc_store base; /* first, so a wc_store * is a struct wc_tier_store * */
    wc_store *local, *remote;
    int last_local, last_remote;
    /* The key whose push failed on each side, until its "meta" went by (see tier.h). */
    char bad_local[80], bad_remote[80];
};

static struct wc_tier_store *tier_of(wc_store *s)
{
    return (struct wc_tier_store *)s;
}

static void set_last(struct wc_tier_store *t, int l, int r)
{
    t->last_local = l;
    t->last_remote = r;
}

static int tier_get(wc_store *s, const char *key, const char *name, size_t max_len,
                    const char *dest)
{
    struct wc_tier_store *t = tier_of(s);
    int l = t->local->get(t->local, key, name, max_len, dest), r;

    /* -EEXIST and -EINVAL are the caller's mistakes, the same on both sides. */
    if (l == 0 || l == -EEXIST || l == -EINVAL) {
        set_last(t, l, 0);
        return l;
    }
    if (l != -ENOENT)
        unlink(dest); /* dest did not exist (else -EEXIST): whatever is there is a remnant */
    r = t->remote->get(t->remote, key, name, max_len, dest);
    if (r == 0)
        t->local->put(t->local, key, name, dest); /* best effort: see tier.h */
    set_last(t, l, r);
    return r;
}

static int tier_read(wc_store *s, const char *key, const char *name, size_t max_len, char **buf,
                     size_t *len)
{
    struct wc_tier_store *t = tier_of(s);
    int l = t->local->read(t->local, key, name, max_len, buf, len), r;

    if (l == 0 || l == -EINVAL) {
        set_last(t, l, 0);
        return l;
    }
    r = t->remote->read(t->remote, key, name, max_len, buf, len);
    if (r == 0)
        t->local->write(t->local, key, name, *buf, *len);
    set_last(t, l, r);
    return r;
}

/* Whether to send file `name` of `key` to a side: not after a failure for the same key. */
static int side_ok(const char *bad, const char *key)
{
    return strcmp(bad, key) != 0;
}

/* After one push to a side: remember a failure for the key; forget it at "meta", the last
 * file of an entry, so that a later push of the same key tries again. */
static void side_done(char *bad, size_t n, const char *key, const char *name, int rc)
{
    if (rc < 0 && strlen(key) < n)
        snprintf(bad, n, "%s", key);
    if (!strcmp(name, "meta") && !strcmp(bad, key))
        bad[0] = '\0';
}

/* 0 when either side took it; else the local error (the more telling one: the remote's
 * reason is in the remote store). */
static int push_result(struct wc_tier_store *t, int l, int r)
{
    set_last(t, l, r);
    return l == 0 || r == 0 ? 0 : l;
}

static int tier_put(wc_store *s, const char *key, const char *name, const char *src)
{
    struct wc_tier_store *t = tier_of(s);
    int l = -EIO, r = -EIO;

    if (side_ok(t->bad_local, key))
        l = t->local->put(t->local, key, name, src);
    side_done(t->bad_local, sizeof(t->bad_local), key, name, l);
    if (side_ok(t->bad_remote, key))
        r = t->remote->put(t->remote, key, name, src);
    side_done(t->bad_remote, sizeof(t->bad_remote), key, name, r);
    return push_result(t, l, r);
}

static int tier_write(wc_store *s, const char *key, const char *name, const void *buf, size_t len)
{
    struct wc_tier_store *t = tier_of(s);
    int l = -EIO, r = -EIO;

    if (side_ok(t->bad_local, key))
        l = t->local->write(t->local, key, name, buf, len);
    side_done(t->bad_local, sizeof(t->bad_local), key, name, l);
    if (side_ok(t->bad_remote, key))
        r = t->remote->write(t->remote, key, name, buf, len);
    side_done(t->bad_remote, sizeof(t->bad_remote), key, name, r);
    return push_result(t, l, r);
}

static int tier_exists(wc_store *s, const char *key, const char *name)
{
    struct wc_tier_store *t = tier_of(s);
    int l = t->local->exists(t->local, key, name), r = 0;

    if (l != 0 && l != -EINVAL)
        r = t->remote->exists(t->remote, key, name);
    set_last(t, l, r);
    return l == 0 || l == -EINVAL ? l : r;
}

static int tier_touch(wc_store *s, const char *key)
{
    struct wc_tier_store *t = tier_of(s);
    int l = t->local->touch(t->local, key);
    int r = t->remote->touch(t->remote, key);

    set_last(t, l, r);
    return l == 0 || r == 0 ? 0 : l;
}

static int tier_remove(wc_store *s, const char *key)
{
    struct wc_tier_store *t = tier_of(s);
    int l = t->local->remove(t->local, key);
    int r = t->remote->remove(t->remote, key);

    set_last(t, l, r);
    if (l == 0 || r == 0)
        return 0;
    if (l == -ENOENT && (r == -ENOENT || r == -ENOTSUP))
        return -ENOENT; /* a remote that cannot remove has nothing to say about presence */
    return l != -ENOENT ? l : r;
}

static void tier_close(wc_store *s)
{
    struct wc_tier_store *t = tier_of(s);

    if (!t)
        return;
    t->local->close(t->local);
    t->remote->close(t->remote);
    free(t);
}

void wc_tier_last(wc_store *tier, int *local_rc, int *remote_rc)
{
    *local_rc = tier_of(tier)->last_local;
    *remote_rc = tier_of(tier)->last_remote;
}

wc_store *wc_tier_local(wc_store *tier)
{
    return tier_of(tier)->local;
}

static wc_store *tier_side(wc_store *s, enum wc_store_side which)
{
    return which == WC_STORE_LOCAL ? tier_of(s)->local : tier_of(s)->remote;
}

/* The local side says nothing beyond its errno: the reason is the remote's, when the remote
 * failed last (else its reason is an old one, about another request). */
static const char *tier_reason(wc_store *s)
{
    struct wc_tier_store *t = tier_of(s);
    if (t->last_remote == 0)
        return NULL;
    return t->remote->reason ? t->remote->reason(t->remote) : NULL;
}

wc_store *wc_tier_open(wc_store *local, wc_store *remote)
{
    struct wc_tier_store *t = calloc(1, sizeof(*t));

    if (!t) {
        local->close(local);
        remote->close(remote);
        return NULL;
    }
    t->local = local;
    t->remote = remote;
    t->base = (wc_store){
        .version = WC_STORE_VERSION,
        .name = "tier",
        .get = tier_get,
        .read = tier_read,
        .put = tier_put,
        .write = tier_write,
        .exists = tier_exists,
        .touch = tier_touch,
        .remove = tier_remove,
        .close = tier_close,
        .reason = tier_reason,
        .side = tier_side,
    };
    return &t->base;
}
