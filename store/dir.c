/* The local directory store: CACHE_DIR/<key[:2]>/<key>/<name>, the seed's layout.
 *
 * Every file appears by rename() of a temporary written beside it in the entry directory,
 * so a reader sees a whole file or none. No fsync: the metadata is written last and every
 * restore checks sizes and hashes, so a file lost in a crash is a miss, never an output. */
#include "store/dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cachedir.h"
#include "core/util.h"

struct wc_dir_store {
    wc_store base; /* first, so a wc_store * is a struct wc_dir_store * */
    char *root;
    struct wc_dir_options opt;
};

static struct wc_dir_store *dir_of(wc_store *s)
{
    return (struct wc_dir_store *)s;
}

static int entry_dir(struct wc_dir_store *d, const char *key, char *buf, size_t n)
{
    int w;

    if (!wc_store_key_valid(key))
        return -EINVAL;
    w = snprintf(buf, n, "%s/%.2s/%s", d->root, key, key);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* Opens directory `name` below dfd without following a symbolic link, creating it with
 * exactly `mode` when asked: the mode is set with fchmod after mkdir, dir_mode was already
 * derived from the user's WAFCACHE_UMASK and the process umask must not narrow a cache
 * shared by a group. */
static int open_subdir(int dfd, const char *name, unsigned mode, int create)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;

    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(dfd, name, mode) != 0 && errno != EEXIST)
            return -errno;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == geteuid() && fchmod(fd, mode) != 0) {
            int e = -errno;
            close(fd);
            return e;
        }
    }
    if (fd < 0)
        return errno == ELOOP ? -ENOTDIR : -errno;
    /* A directory of the tree that another user owns or may write holds what they put there:
     * -EPERM, the entry is not used (core/cachedir.h). */
    if (fstat(fd, &st) != 0 || wc_cache_untrusted(&st, mode) != NULL) {
        close(fd);
        return -EPERM;
    }
    return fd;
}

/* A descriptor of <root>/<kk>/<key>, opened component by component with O_NOFOLLOW so that
 * a symbolic link planted anywhere below the root is never followed (creating the missing
 * directories when create is set). The root itself is the user's choice and is followed. */
static int open_entry(struct wc_dir_store *d, const char *key, int create)
{
    char kk[3];
    int root, mid, fd;

    if (!wc_store_key_valid(key))
        return -EINVAL;
    root = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return -errno;
    memcpy(kk, key, 2);
    kk[2] = '\0';
    mid = open_subdir(root, kk, d->opt.dir_mode, create);
    close(root);
    if (mid < 0)
        return mid;
    fd = open_subdir(mid, key, d->opt.dir_mode, create);
    close(mid);
    return fd;
}

/* Opens file `name` of entry `key` for reading. What is not a regular file reached without
 * a symbolic link (a link planted in the store, a FIFO) is corrupt: -EINVAL. *st is filled. */
static int open_entry_file(struct wc_dir_store *d, const char *key, const char *name,
                           struct stat *st, int *dirfd)
{
    int efd, fd;

    if (!wc_store_name_valid(name))
        return -EINVAL;
    efd = open_entry(d, key, 0);
    if (efd < 0)
        return efd == -ENOTDIR ? -EINVAL : efd;
    fd = openat(efd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fd = errno == ELOOP ? -EINVAL : -errno;
    } else if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        fd = -EINVAL;
    }
    if (fd >= 0 && dirfd)
        *dirfd = efd;
    else
        close(efd);
    return fd;
}

static int dir_get(wc_store *s, const char *key, const char *name, size_t max_len, const char *dest)
{
    struct wc_dir_store *d = dir_of(s);
    struct stat st;
    int efd = -1, fd = open_entry_file(d, key, name, &st, &efd), rc;

    if (fd < 0)
        return fd;
    /* A file larger than declared (a sparse giant planted in a shared cache) is not copied. */
    if ((uint64_t)st.st_size > max_len) {
        rc = -EFBIG;
    } else if (d->opt.hardlink && linkat(efd, name, AT_FDCWD, dest, 0) == 0) {
        rc = 0; /* linkat without AT_SYMLINK_FOLLOW links the name just checked as regular */
    } else if (d->opt.hardlink && (errno == ENOENT || errno == EEXIST)) {
        /* ENOENT and EEXIST are answers; anything else (EXDEV, EMLINK, EPERM on protected
         * hard links, a file system without links) means "copy instead". */
        rc = -errno;
    } else {
        rc = wc_copy_fd(fd, dest, st.st_mode & 0777);
    }
    close(fd);
    close(efd);
    return rc;
}

static int dir_read(wc_store *s, const char *key, const char *name, size_t max_len, char **buf,
                    size_t *len)
{
    struct stat st;
    int fd = open_entry_file(dir_of(s), key, name, &st, NULL), rc;

    *buf = NULL;
    *len = 0;
    if (fd < 0)
        return fd;
    rc = wc_read_fd(fd, max_len, buf, len);
    close(fd);
    return rc;
}

/* Writes file `name` in the entry directory efd: a temporary created exclusively (never
 * through a link), filled by fill(), then renamed over name. */
static int write_in_entry(int efd, const char *name, unsigned mode,
                          int (*fill)(int fd, const void *arg, size_t len), const void *arg,
                          size_t len)
{
    char tmp[NAME_MAX + 64];
    int fd, rc = wc_tmp_name(tmp, sizeof(tmp), name);

    if (rc < 0)
        return rc;
    fd = openat(efd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    rc = fchmod(fd, mode) == 0 ? fill(fd, arg, len) : -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0)
        rc = wc_replace_at(efd, tmp, efd, name);
    if (rc < 0)
        unlinkat(efd, tmp, 0);
    return rc;
}

static int fill_from_fd(int fd, const void *arg, size_t len)
{
    (void)len;
    return wc_copy_fds(*(const int *)arg, fd);
}

static int fill_from_buf(int fd, const void *arg, size_t len)
{
    return wc_write_all(fd, arg, len);
}

static int dir_put(wc_store *s, const char *key, const char *name, const char *src)
{
    struct wc_dir_store *d = dir_of(s);
    struct stat st;
    int in, efd, rc;

    if (!wc_store_name_valid(name))
        return -EINVAL;
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        return -EINVAL;
    }
    efd = open_entry(d, key, 1);
    rc = efd < 0 ? efd : write_in_entry(efd, name, st.st_mode & 0777, fill_from_fd, &in, 0);
    if (efd >= 0)
        close(efd);
    close(in);
    return rc;
}

static int dir_write(wc_store *s, const char *key, const char *name, const void *buf, size_t len)
{
    int efd, rc;

    if (!wc_store_name_valid(name))
        return -EINVAL;
    efd = open_entry(dir_of(s), key, 1);
    if (efd < 0)
        return efd;
    rc = write_in_entry(efd, name, 0644, fill_from_buf, buf, len);
    close(efd);
    return rc;
}

static int dir_exists(wc_store *s, const char *key, const char *name)
{
    struct stat st;
    int efd, rc;

    if (!wc_store_name_valid(name))
        return -EINVAL;
    efd = open_entry(dir_of(s), key, 0);
    if (efd < 0)
        return efd == -ENOTDIR ? -ENOENT : efd;
    rc = fstatat(efd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
    close(efd);
    return rc;
}

/* The entry directory's mtime is the LRU clock read by wc_dir_trim. */
static int dir_touch(wc_store *s, const char *key)
{
    int efd = open_entry(dir_of(s), key, 0), rc;

    if (efd < 0)
        return efd;
    rc = futimens(efd, NULL) == 0 ? 0 : -errno;
    close(efd);
    return rc;
}

int wc_dir_remove_entry(const char *dir)
{
    static unsigned long counter;
    char gone[PATH_MAX];
    unsigned long c = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    int w = snprintf(gone, sizeof(gone), "%s.remove.%ld.%lu", dir, (long)getpid(), c);

    if (w < 0 || (size_t)w >= sizeof(gone))
        return -ENAMETOOLONG;
    /* After the rename the entry is gone as a whole: a reader that opens files by name
     * finds all of them or none. What is left under the new name is swept later if the
     * delete below does not finish. */
    if (rename(dir, gone) != 0)
        return -errno;
    wc_rm_rf(gone);
    return 0;
}

static int dir_remove(wc_store *s, const char *key)
{
    char dir[PATH_MAX];
    int rc = entry_dir(dir_of(s), key, dir, sizeof(dir)), efd;

    if (rc < 0)
        return rc;
    /* The rename below goes by path: <kk> and <key> are checked first to be directories of
     * ours, not links, so that a removal never renames something elsewhere. */
    efd = open_entry(dir_of(s), key, 0);
    if (efd < 0)
        return efd;
    close(efd);
    return wc_dir_remove_entry(dir);
}

static int dir_foreach(wc_store *s, wc_store_item_fn fn, void *ctx)
{
    return wc_dir_walk(dir_of(s)->root, 0, fn, ctx);
}

static void dir_close(wc_store *s)
{
    struct wc_dir_store *d = dir_of(s);

    if (!d)
        return;
    free(d->root);
    free(d);
}

wc_store *wc_dir_open(const char *root, const struct wc_dir_options *opt, int *err)
{
    struct wc_dir_store *d;
    int rc;

    *err = 0;
    if (!root || root[0] != '/') {
        *err = -EINVAL;
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (!d || !(d->root = strdup(root))) {
        free(d);
        *err = -ENOMEM;
        return NULL;
    }
    if (opt)
        d->opt = *opt;
    if (d->opt.dir_mode == 0)
        d->opt.dir_mode = 0700;
    rc = wc_mkdir_p(root, d->opt.dir_mode);
    if (rc < 0) {
        dir_close(&d->base);
        *err = rc;
        return NULL;
    }
    d->base = (wc_store){
        .version = WC_STORE_VERSION,
        .name = "dir",
        .local = 1,
        .get = dir_get,
        .read = dir_read,
        .put = dir_put,
        .write = dir_write,
        .exists = dir_exists,
        .touch = dir_touch,
        .remove = dir_remove,
        .foreach = dir_foreach,
        .close = dir_close,
    };
    return &d->base;
}
