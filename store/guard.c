/* The guard (store/guard.h): once a remote store has shown it is down (no answer within
 * the timeout, connection refused, unknown host) or refuses our credentials, every later
 * operation fails at once instead of costing another timeout. The verdict is shared with the
 * other runners of the build (and of other builds of this user) through a marker file that
 * expires after WC_GUARD_TTL_S seconds, so a build of hundreds of commands against a dead
 * server costs about one timeout per parallel job, not one per command, and a server that
 * comes back is used again soon. The process that creates the marker hands one line to its
 * caller. */
#include "store/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct guard {
    wc_store base; /* first: a wc_store * is a struct guard * */
    wc_store *inner;
    int down;
    char marker[4096]; /* "" when there is no place for one */
    char why[512];
    wc_guard_say_fn say;
    void *ctx;
};

static struct guard *guard_of(wc_store *s)
{
    return (struct guard *)s;
}

/* <marker dir>/down-<hash of WAFCACHE>: per user (the caller's directory), per store. */
static void marker_path(struct guard *g, const char *cache, const char *dir)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: the URL never appears in the name */

    if (!dir)
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
    if (marker_create(g->marker) && g->say) {
        char line[600];
        snprintf(line, sizeof line, "remote cache unavailable (%s); not used for %d s", g->why,
                 WC_GUARD_TTL_S);
        g->say(g->ctx, line);
    }
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

wc_store *wc_guard_open(wc_store *remote, const char *cache, const char *marker_dir,
                        wc_guard_say_fn say, void *ctx)
{
    struct guard *g = calloc(1, sizeof *g);
    if (!g) {
        remote->close(remote);
        return NULL;
    }
    g->inner = remote;
    g->say = say;
    g->ctx = ctx;
    g->base = (wc_store){.version = WC_STORE_VERSION,
                         .name = remote->name,
                         .get = g_get,
                         .read = g_read,
                         .put = g_put,
                         .write = g_write,
                         .exists = g_exists,
                         .touch = g_touch,
                         .remove = g_remove,
                         .close = g_close,
                         .reason = g_reason};
    marker_path(g, cache, marker_dir);
    if (marker_fresh(g->marker)) {
        g->down = 1;
        snprintf(g->why, sizeof g->why, "found unavailable by another run within the last %d s",
                 WC_GUARD_TTL_S);
    }
    return &g->base;
}

int wc_guard_down(wc_store *s)
{
    return guard_of(s)->down;
}
