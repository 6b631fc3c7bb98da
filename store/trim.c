/* LRU trim of the local store (SPEC §5; the seed's lru_evict and lru_trim).
 *
 * The clock of an entry is its directory's mtime: put() creates the directory and a hit
 * touches it. all.lock serves twice: its mtime says when the last trim ran (so most callers
 * pay one stat), and flock() on it keeps trimmers from running at the same time. */
#include "store/dir.h"

#include <dirent.h>
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

/* Leftovers of a crashed writer or an unfinished delete are swept after this long: a
 * younger one may belong to a process that is still working. */
#define WC_STALE_NS (3600LL * 1000000000LL)

struct trim_item {
    int64_t mtime_ns;
    uint64_t size;
    char *path;
};

struct trim_list {
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

static int is_hex2(const char *name)
{
    return strlen(name) == 2 && strspn(name, "0123456789abcdefABCDEF") == 2;
}

static int is_stale(const struct stat *st, int64_t now)
{
    return mtime_ns(st) < now - WC_STALE_NS;
}

static int list_push(struct trim_list *l, int64_t mt, uint64_t size, const char *path)
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
    l->v[l->n].mtime_ns = mt;
    l->v[l->n].size = size;
    l->n++;
    return 0;
}

static void list_free(struct trim_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
}

/* Size of an entry: the sum of its files (as the seed). Old temporaries in it are the
 * remains of a writer that died; they are removed rather than counted. */
static uint64_t entry_size(const char *path, const struct stat *dst, int64_t now)
{
    int swept = 0;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    uint64_t size = 0;
    struct dirent *de;
    DIR *d;

    if (fd < 0)
        return 0;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (strstr(de->d_name, ".wctmp.") && is_stale(&st, now)) {
            swept += unlinkat(dirfd(d), de->d_name, 0) == 0;
            continue;
        }
        size += (uint64_t)st.st_size;
    }
    /* The unlink moved the directory's mtime, which is the entry's LRU clock: put it back,
     * a sweep is not a use. */
    if (swept) {
        struct timespec ts[2] = {{0, UTIME_OMIT}, dst->st_mtim};
        futimens(dirfd(d), ts);
    }
    closedir(d);
    return size;
}

/* One <root>/<kk> directory: entries are listed, leftovers of removals swept. */
static int scan_bucket(const char *bucket, const char *kk, struct trim_list *l, int64_t now)
{
    /* A <kk> that is a link (planted, or an old cache's) is not ours to walk or trim. */
    int fd = open(bucket, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    int rc = 0;

    if (fd >= 0 && !d)
        close(fd);
    if (!d)
        return 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        int w = snprintf(path, sizeof(path), "%s/%s", bucket, de->d_name);

        if (w < 0 || (size_t)w >= sizeof(path) || de->d_name[0] == '.')
            continue;
        if (lstat(path, &st) != 0)
            continue;
        if (strstr(de->d_name, ".remove.") || strstr(de->d_name, ".wctmp.")) {
            if (is_stale(&st, now))
                wc_rm_rf(path);
            continue;
        }
        /* Only <kk>/<key> directories are entries; anything else is not ours to judge. */
        if (!S_ISDIR(st.st_mode) || !wc_store_key_valid(de->d_name) ||
            strncmp(de->d_name, kk, 2) != 0)
            continue;
        rc = list_push(l, mtime_ns(&st), entry_size(path, &st, now), path);
    }
    closedir(d);
    return rc;
}

/* Old temporaries in a directory of small files beside the entries (explain/, stats/): what a
 * writer killed between its write and its rename left behind. */
static void sweep_dir(const char *dir, int64_t now)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct dirent *de;
    DIR *d;

    if (fd < 0)
        return;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!strstr(de->d_name, ".wctmp."))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            is_stale(&st, now))
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

/* Root-level temporaries (all.lock's neighbours written atomically, the memo's) are swept
 * too, and those of explain/ and stats/. */
static int scan_root(const char *root, struct trim_list *l, int64_t now)
{
    DIR *d = opendir(root);
    struct dirent *de;
    int rc = 0;

    if (!d)
        return -errno;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        int w = snprintf(path, sizeof(path), "%s/%s", root, de->d_name);

        if (w < 0 || (size_t)w >= sizeof(path) || de->d_name[0] == '.')
            continue;
        if (strstr(de->d_name, ".wctmp.") || strstr(de->d_name, ".remove.")) {
            if (lstat(path, &st) == 0 && is_stale(&st, now))
                wc_rm_rf(path);
            continue;
        }
        if (is_hex2(de->d_name))
            rc = scan_bucket(path, de->d_name, l, now);
        else if (!strcmp(de->d_name, "explain") || !strcmp(de->d_name, "stats"))
            sweep_dir(path, now);
    }
    closedir(d);
    return rc;
}

static int by_mtime(const void *a, const void *b)
{
    const struct trim_item *x = a, *y = b;

    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Evicts from the oldest until both limits hold. An entry whose mtime moved since the scan
 * was hit meanwhile: it is no longer among the least recently used, so it is kept. */
static void evict(struct trim_list *l, const struct wc_trim_limits *lim, struct wc_trim_result *res)
{
    for (size_t i = 0; i < l->n; i++) {
        struct trim_item *it = &l->v[i];
        struct stat st;

        if (res->entries <= lim->max_entries && res->bytes <= lim->max_bytes)
            break;
        if (lstat(it->path, &st) == 0 && mtime_ns(&st) != it->mtime_ns)
            continue;
        int rc = wc_dir_remove_entry(it->path);
        if (rc < 0 && rc != -ENOENT)
            continue;
        res->entries--;
        res->bytes -= it->size;
        if (rc == 0) {
            res->removed_entries++;
            res->removed_bytes += it->size;
        }
    }
}

static int run_trim(const char *root, const struct wc_trim_limits *lim, struct wc_trim_result *res)
{
    struct trim_list l = {0};
    int rc = scan_root(root, &l, wc_now_ns());

    if (rc == 0) {
        if (l.n > 1)
            qsort(l.v, l.n, sizeof(*l.v), by_mtime);
        for (size_t i = 0; i < l.n; i++) {
            res->entries++;
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
