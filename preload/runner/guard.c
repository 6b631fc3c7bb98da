/* A guard in front of a remote store: once the store has shown it is down (no answer within
 * the timeout, connection refused, unknown host) or refuses our credentials, every later
 * operation fails at once instead of costing another timeout. The verdict is shared with the
 * other runners of the build (and of other builds of this user) through a marker file that
 * expires after WC_GUARD_TTL_S seconds, so a build of hundreds of commands against a dead
 * server costs about one timeout per parallel job, not one per command, and a server that
 * comes back is used again soon. The runner that creates the marker prints one line. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "preload/runner/runner.h"
#include "store/open.h"
#include "core/util.h"

struct guard {
    wc_store base; /* first: a wc_store * is a struct guard * */
    wc_store *inner;
    int down;
    char marker[4096]; /* "" when there is no place for one */
    char why[512];
};

static struct guard *guard_of(wc_store *s)
{
    return (struct guard *)s;
}

/* <user tmp dir>/down-<hash of WAFCACHE>: per user, per store. */
static void marker_path(struct guard *g, const char *cache)
{
    char dir[4000];
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: the URL never appears in the name */

    if (wc_user_tmp_dir(dir, sizeof dir) < 0)
        return;
    for (const char *p = cache; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(g->marker, sizeof g->marker, "%s/down-%016llx", dir, (unsigned long long)h);
}

static int marker_fresh(const char *path)
{
    struct stat st;
    return path[0] && stat(path, &st) == 0 && time(NULL) - st.st_mtime < WC_GUARD_TTL_S &&
           time(NULL) >= st.st_mtime;
}

/* 1 when this process created the marker (and so is the one to say it). Runners that fail
 * at the same moment race here: O_EXCL picks one, and a stale marker is renamed away first,
 * which only one of them can do. */
static int marker_create(const char *path)
{
    char stale[4200];

    if (!path[0])
        return 1;
    for (int tries = 0; tries < 2; tries++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return 1;
        }
        if (errno != EEXIST || marker_fresh(path))
            return 0;
        snprintf(stale, sizeof stale, "%s.stale.%ld", path, (long)getpid());
        if (rename(path, stale) != 0)
            return 0; /* another runner took it */
        unlink(stale);
    }
    return 0;
}

/* Failures that say "nobody is answering" or "not with these credentials". EACCES only when
 * nothing local was involved (read, write, exists): get and put open local files, whose
 * permission errors say nothing about the server. */
static int is_down(int rc, int remote_only)
{
    return rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ENETUNREACH ||
           (remote_only && rc == -EACCES);
}

static void mark_down(struct guard *g, int rc)
{
    const char *r = g->inner->reason ? g->inner->reason(g->inner) : NULL;

    g->down = 1;
    snprintf(g->why, sizeof g->why, "%s", r && r[0] ? r : strerror(-rc));
    if (marker_create(g->marker))
        dprintf(2, "wafcache: remote cache unavailable (%s); not used for %d s\n", g->why,
                WC_GUARD_TTL_S);
}

static int seen(struct guard *g, int rc, int remote_only)
{
    if (rc < 0 && is_down(rc, remote_only))
        mark_down(g, rc);
    return rc;
}

static int g_get(wc_store *s, const char *key, const char *name, size_t max_len, const char *dest)
{
    struct guard *g = guard_of(s);
    return g->down ? -EHOSTDOWN : seen(g, g->inner->get(g->inner, key, name, max_len, dest), 0);
}

static int g_read(wc_store *s, const char *key, const char *name, size_t max, char **buf,
                  size_t *len)
{
    struct guard *g = guard_of(s);
    *buf = NULL;
    *len = 0;
    return g->down ? -EHOSTDOWN : seen(g, g->inner->read(g->inner, key, name, max, buf, len), 1);
}

static int g_put(wc_store *s, const char *key, const char *name, const char *src)
{
    struct guard *g = guard_of(s);
    return g->down ? -EHOSTDOWN : seen(g, g->inner->put(g->inner, key, name, src), 0);
}

static int g_write(wc_store *s, const char *key, const char *name, const void *buf, size_t len)
{
    struct guard *g = guard_of(s);
    return g->down ? -EHOSTDOWN : seen(g, g->inner->write(g->inner, key, name, buf, len), 1);
}

static int g_exists(wc_store *s, const char *key, const char *name)
{
    struct guard *g = guard_of(s);
    return g->down ? -EHOSTDOWN : seen(g, g->inner->exists(g->inner, key, name), 1);
}

static int g_touch(wc_store *s, const char *key)
{
    struct guard *g = guard_of(s);
    return g->down ? -EHOSTDOWN : seen(g, g->inner->touch(g->inner, key), 1);
}

static int g_remove(wc_store *s, const char *key)
{
    struct guard *g = guard_of(s);
    return g->down ? -EHOSTDOWN : seen(g, g->inner->remove(g->inner, key), 1);
}

static void g_close(wc_store *s)
{
    struct guard *g = guard_of(s);
    g->inner->close(g->inner);
    free(g);
}

static const char *g_reason(wc_store *s)
{
    struct guard *g = guard_of(s);
    if (g->down)
        return g->why;
    return g->inner->reason ? g->inner->reason(g->inner) : NULL;
}

wc_store *wc_guard_open(wc_store *remote, const struct wc_config *c)
{
    struct guard *g = calloc(1, sizeof *g);
    if (!g) {
        remote->close(remote);
        return NULL;
    }
    g->inner = remote;
    g->base = (wc_store){.name = remote->name,
                         .get = g_get,
                         .read = g_read,
                         .put = g_put,
                         .write = g_write,
                         .exists = g_exists,
                         .touch = g_touch,
                         .remove = g_remove,
                         .close = g_close,
                         .reason = g_reason};
    marker_path(g, c->cache);
    if (marker_fresh(g->marker)) {
        g->down = 1;
        snprintf(g->why, sizeof g->why,
                 "skipped: found unavailable by another run within the last %d s", WC_GUARD_TTL_S);
    }
    return &g->base;
}

int wc_guard_down(wc_store *s)
{
    return guard_of(s)->down;
}

wc_store *wc_remote_open_guarded(const struct wc_config *c, int *err, char *why, size_t n)
{
    char libdir[4096];
    struct wc_config remote_only = *c;

    remote_only.local = NULL; /* the runner builds the tier itself, around the guard */
    *err = wc_self_dir(libdir, sizeof libdir); /* wafcache-remote.so is beside us */
    if (*err < 0) {
        snprintf(why, n, "cannot find the runner's own directory");
        return NULL;
    }
    wc_store *s = wc_store_open(&remote_only, libdir, err, why, n);
    if (!s)
        return NULL;
    s = wc_guard_open(s, c);
    if (!s) {
        *err = -ENOMEM;
        snprintf(why, n, "out of memory");
    }
    return s;
}
