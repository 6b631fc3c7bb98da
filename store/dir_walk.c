/* The walk of a directory store's layout (store/dir.h, wc_dir_walk): <root>/<kk>/<key>/<files>,
 * kk the key's first two hex digits. The one place that knows which names are entries and
 * which are leftovers: "<name>.wctmp.*" (a writer's temporary, store/dir.c) and
 * "<name>.remove.*" (an entry renamed for removal). */
#include "store/dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

/* Leftovers of a crashed writer or an unfinished delete are swept after this long: a
 * younger one may belong to a process that is still working. */
#define STALE_NS (3600LL * 1000000000LL)

struct walk {
    int sweep;
    int64_t now;
    wc_store_item_fn fn;
    void *ctx;
};

static int64_t mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int is_stale(const struct walk *w, const struct stat *st)
{
    return mtime_ns(st) < w->now - STALE_NS;
}

static int is_leftover(const char *name)
{
    return strstr(name, ".wctmp.") != NULL || strstr(name, ".remove.") != NULL;
}

static int is_bucket(const char *name)
{
    return strlen(name) == 2 && strspn(name, "0123456789abcdefABCDEF") == 2;
}

/* A directory below dfd, never through a symbolic link; NULL when it is not one. */
static DIR *open_below(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

    if (fd >= 0 && !d)
        close(fd);
    return d;
}

/* A stale leftover at <dir>/<name> is deleted (a renamed entry is a whole directory). The
 * path goes by name: dir was reached without links and name is an entry of it (lstat). */
static void sweep_leftover(const struct walk *w, const char *dir, DIR *d, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    if (!w->sweep || fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !is_stale(w, &st))
        return;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) < sizeof path)
        wc_rm_rf(path);
}

/* Space used on disk, as du counts it: a 10-byte file takes a whole block. */
static unsigned long long disk_bytes(const struct stat *st)
{
    return (unsigned long long)st->st_blocks * 512;
}

/* An entry's files: the space they and the entry's directory use, and whether "meta" and "manifest"
 * are there. Old temporaries in it are the remains of a writer that died: swept, not counted. */
static void read_entry(const struct walk *w, DIR *d, const struct stat *dst,
                       struct wc_store_item *it)
{
    int swept = 0;

    it->bytes = disk_bytes(dst);
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (strstr(de->d_name, ".wctmp.") && w->sweep && is_stale(w, &st)) {
            swept += unlinkat(dirfd(d), de->d_name, 0) == 0;
            continue;
        }
        it->bytes += disk_bytes(&st);
        it->has_meta |= !strcmp(de->d_name, "meta");
        it->has_manifest |= !strcmp(de->d_name, "manifest");
    }
    /* The unlink moved the directory's mtime, which is the entry's LRU clock: put it back,
     * a sweep is not a use. */
    if (swept) {
        struct timespec ts[2] = {{0, UTIME_OMIT}, dst->st_mtim};
        futimens(dirfd(d), ts);
    }
}

static int walk_entry(const struct walk *w, DIR *bucket, const char *key)
{
    struct wc_store_item it = {.key = key, .fd = -1};
    DIR *d = open_below(dirfd(bucket), key);
    struct stat st;
    int rc = 0;

    if (!d)
        return 0; /* not a directory (or gone meanwhile): not an entry */
    if (fstat(dirfd(d), &st) == 0) {
        it.mtime_ns = mtime_ns(&st);
        read_entry(w, d, &st, &it);
        it.fd = dirfd(d);
        rc = w->fn(w->ctx, &it);
    }
    closedir(d);
    return rc;
}

/* One <root>/<kk>: its entries, and its leftovers swept. A <kk> that is a link (planted, or
 * an old cache's) is not ours to walk. */
static int walk_bucket(const struct walk *w, const char *root, DIR *rd, const char *kk)
{
    char dir[PATH_MAX];
    DIR *d = open_below(dirfd(rd), kk);
    int rc = 0;

    if (!d)
        return 0;
    snprintf(dir, sizeof dir, "%s/%s", root, kk);
    for (struct dirent *de; rc == 0 && (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        if (is_leftover(de->d_name))
            sweep_leftover(w, dir, d, de->d_name);
        else if (wc_store_key_valid(de->d_name) && !strncmp(de->d_name, kk, 2))
            rc = walk_entry(w, d, de->d_name);
    }
    closedir(d);
    return rc;
}

/* Old temporaries in a directory of small files beside the entries (explain/, stats/): what
 * a writer killed between its write and its rename left behind. */
static void sweep_files(const struct walk *w, DIR *rd, const char *name)
{
    DIR *d = open_below(dirfd(rd), name);

    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        struct stat st;
        if (strstr(de->d_name, ".wctmp.") &&
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            is_stale(w, &st))
            unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
}

int wc_dir_walk(const char *root, int sweep, wc_store_item_fn fn, void *ctx)
{
    struct walk w = {sweep, wc_now_ns(), fn, ctx};
    DIR *d = opendir(root);
    int rc = 0;

    if (!d)
        return -errno;
    for (struct dirent *de; rc == 0 && (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        if (is_leftover(de->d_name))
            sweep_leftover(&w, root, d, de->d_name);
        else if (is_bucket(de->d_name))
            rc = walk_bucket(&w, root, d, de->d_name);
        else if (sweep && (!strcmp(de->d_name, "explain") || !strcmp(de->d_name, "stats")))
            sweep_files(&w, d, de->d_name);
    }
    closedir(d);
    return rc;
}
