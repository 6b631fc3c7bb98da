/* LRU trim of the local store (SPEC §5; the seed's lru_evict and lru_trim).
 *
 * The clock of an entry is its directory's mtime: put() creates the directory and a hit
 * touches it. all.lock serves twice: its mtime says when the last trim ran (so most callers
 * pay one stat), and flock() on it keeps trimmers from running at the same time. */
#include "store/dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

struct trim_item {
    int64_t mtime_ns;
    uint64_t size;
    int result; /* has metadata: the limit on entries counts these, as ccache counts results */
    char *path;
};

struct trim_list {
    const char *root;
    const struct wc_trim_limits *lim;
    struct trim_item *v;
    size_t n, cap;
};

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int lock_path(const char *root, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s/all.lock", root);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int interval_elapsed(const struct stat *st, const struct wc_trim_limits *lim)
{
    int64_t interval = (int64_t)lim->interval_minutes * 60 * 1000000000LL;

    return mtime_ns(st) <= wc_now_ns() - interval;
}

int wc_dir_trim_due(const char *root, const struct wc_trim_limits *lim)
{
    char lock[PATH_MAX];
    struct stat st;

    if (lock_path(root, lock, sizeof(lock)) < 0)
        return 0;
    if (stat(lock, &st) != 0)
        return errno == ENOENT;
    return interval_elapsed(&st, lim);
}

static int list_push(struct trim_list *l, const struct wc_store_item *it, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct trim_item *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].path = strdup(path);
    if (!l->v[l->n].path)
        return -ENOMEM;
    l->v[l->n].mtime_ns = it->mtime_ns;
    l->v[l->n].size = it->bytes;
    l->v[l->n].result = it->has_meta;
    l->n++;
    return 0;
}

static void list_free(struct trim_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
}

/* The walk's callback: every entry goes on the list, by its path. */
static int collect(void *ctx, const struct wc_store_item *it)
{
    struct trim_list *l = ctx;
    char path[PATH_MAX];

    if (l->lim->progress)
        l->lim->progress(l->lim->progress_ctx, l->n, 0);
    if ((size_t)snprintf(path, sizeof path, "%s/%.2s/%s", l->root, it->key, it->key) >= sizeof path)
        return 0;
    return list_push(l, it, path);
}

static int by_mtime(const void *a, const void *b)
{
    const struct trim_item *x = a, *y = b;

    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* A limit of 0 is no limit (as ccache's -M 0 and -F 0). */
static int over(uint64_t v, uint64_t max)
{
    return max != 0 && v > max;
}

/* Evicts from the oldest until both limits hold. An entry whose mtime moved since the scan
 * was hit meanwhile: it is no longer among the least recently used, so it is kept. While only
 * the count is over, manifests stay: they are not counted, and removing one frees no result. */
static void evict(struct trim_list *l, const struct wc_trim_limits *lim, struct wc_trim_result *res)
{
    for (size_t i = 0; i < l->n; i++) {
        struct trim_item *it = &l->v[i];
        struct stat st;
        int over_bytes = over(res->bytes, lim->max_bytes);

        if (!over_bytes && !over(res->results, lim->max_entries))
            break;
        if (lim->progress)
            lim->progress(lim->progress_ctx, i, l->n);
        if (!over_bytes && !it->result)
            continue;
        if (lstat(it->path, &st) == 0 && mtime_ns(&st) != it->mtime_ns)
            continue;
        int rc = wc_dir_remove_entry(it->path);
        if (rc < 0 && rc != -ENOENT)
            continue;
        res->entries--;
        res->results -= (uint64_t)it->result;
        res->bytes -= it->size;
        if (rc == 0) {
            res->removed_entries++;
            res->removed_bytes += it->size;
        }
    }
}

static int run_trim(const char *root, const struct wc_trim_limits *lim, struct wc_trim_result *res)
{
    struct trim_list l = {.root = root, .lim = lim};
    /* Leftovers are swept on the way (store/dir_walk.c). */
    int rc = wc_dir_walk(root, 1, collect, &l);

    if (rc == 0) {
        if (l.n > 1)
            qsort(l.v, l.n, sizeof(*l.v), by_mtime);
        for (size_t i = 0; i < l.n; i++) {
            res->entries++;
            res->results += (uint64_t)l.v[i].result;
            res->bytes += l.v[i].size;
        }
        evict(&l, lim, res);
    }
    list_free(&l);
    return rc;
}

int wc_dir_trim(const char *root, const struct wc_trim_limits *lim, int force,
                struct wc_trim_result *res)
{
    struct wc_trim_result dummy;
    char lock[PATH_MAX];
    int64_t seen_ns = -1;
    struct stat st;
    int fd, rc;

    if (!res)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    rc = lock_path(root, lock, sizeof(lock));
    if (rc < 0)
        return rc;
    if (stat(lock, &st) == 0)
        seen_ns = mtime_ns(&st);
    if (!force && seen_ns >= 0 && !interval_elapsed(&st, lim))
        return 1;
    /* Never through a link planted at all.lock (futimens would touch its target). */
    fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? 2 : -errno;
        close(fd);
        return rc;
    }
    /* Another trimmer may have finished between our stat and our flock: its refresh of the
     * lock's mtime is the sign. */
    if (!force && seen_ns >= 0 && fstat(fd, &st) == 0 && mtime_ns(&st) != seen_ns &&
        !interval_elapsed(&st, lim)) {
        close(fd);
        return 1;
    }
    /* Refreshed before the work, so the processes that stat it meanwhile do not queue up on
     * the lock, and after it, so the interval counts from the end (as the seed). */
    futimens(fd, NULL);
    rc = run_trim(root, lim, res);
    futimens(fd, NULL);
    close(fd);
    return rc;
}
