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

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int wc_dir_key_valid(const char *key)
{
    size_t i;

    if (!key)
        return 0;
    for (i = 0; i < WC_DIR_KEY_LEN; i++)
        if (!is_hex(key[i]))
            return 0;
    return key[i] == '\0';
}

/* A name is one path component: a hostile name must not reach outside its entry. */
static int name_valid(const char *name)
{
    size_t len;

    if (!name || !*name || strchr(name, '/'))
        return 0;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    len = strlen(name);
    return len <= NAME_MAX;
}

static int entry_dir(struct wc_dir_store *d, const char *key, char *buf, size_t n)
{
    int w;

    if (!wc_dir_key_valid(key))
        return -EINVAL;
    w = snprintf(buf, n, "%s/%.2s/%s", d->root, key, key);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int entry_file(struct wc_dir_store *d, const char *key, const char *name, char *buf,
                      size_t n)
{
    int w;

    if (!wc_dir_key_valid(key) || !name_valid(name))
        return -EINVAL;
    w = snprintf(buf, n, "%s/%.2s/%s/%s", d->root, key, key, name);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int dir_get(wc_store *s, const char *key, const char *name, size_t max_len, const char *dest)
{
    struct wc_dir_store *d = dir_of(s);
    char src[PATH_MAX];
    struct stat st;
    int rc = entry_file(d, key, name, src, sizeof(src));

    if (rc < 0)
        return rc;
    /* A file larger than declared (a sparse giant planted in a shared cache) is not copied. */
    if (stat(src, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_len)
        return -EFBIG;
    if (d->opt.hardlink) {
        if (link(src, dest) == 0)
            return 0;
        /* ENOENT and EEXIST are answers; anything else (EXDEV, EMLINK, EPERM on protected
         * hard links, a file system without links) means "copy instead". */
        if (errno == ENOENT || errno == EEXIST)
            return -errno;
    }
    if (stat(src, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    return wc_copy_file(src, dest, st.st_mode & 07777);
}

static int dir_read(wc_store *s, const char *key, const char *name, size_t max_len, char **buf,
                    size_t *len)
{
    char path[PATH_MAX];
    int rc = entry_file(dir_of(s), key, name, path, sizeof(path));

    *buf = NULL;
    *len = 0;
    if (rc < 0)
        return rc;
    return wc_read_file(path, max_len, buf, len);
}

/* The mode is set with chmod after mkdir: dir_mode was already derived from the user's
 * WAFCACHE_UMASK, and the process umask must not narrow a cache shared by a group. */
static int mkdir_exact(const char *path, unsigned mode)
{
    if (mkdir(path, mode) != 0)
        return errno == EEXIST ? 0 : -errno;
    return chmod(path, mode) == 0 ? 0 : -errno;
}

/* Creates <root>/<kk>/<key> when missing. */
static int make_entry_dir(struct wc_dir_store *d, const char *key)
{
    char dir[PATH_MAX];
    int rc = entry_dir(d, key, dir, sizeof(dir));
    size_t kk = strlen(d->root) + 3; /* "<root>/<kk>" */

    if (rc < 0)
        return rc;
    rc = mkdir_exact(dir, d->opt.dir_mode);
    if (rc != -ENOENT)
        return rc;
    dir[kk] = '\0';
    rc = mkdir_exact(dir, d->opt.dir_mode);
    dir[kk] = '/';
    if (rc < 0)
        return rc;
    return mkdir_exact(dir, d->opt.dir_mode);
}

static int dir_put(wc_store *s, const char *key, const char *name, const char *src)
{
    struct wc_dir_store *d = dir_of(s);
    char path[PATH_MAX], tmp[PATH_MAX];
    struct stat st;
    int rc = entry_file(d, key, name, path, sizeof(path));

    if (rc < 0)
        return rc;
    if (stat(src, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    rc = make_entry_dir(d, key);
    if (rc < 0)
        return rc;
    rc = wc_tmp_name(tmp, sizeof(tmp), path);
    if (rc < 0)
        return rc;
    rc = wc_copy_file(src, tmp, st.st_mode & 0777);
    if (rc < 0)
        return rc;
    if (rename(tmp, path) != 0) {
        rc = -errno;
        unlink(tmp);
    }
    return rc;
}

static int dir_write(wc_store *s, const char *key, const char *name, const void *buf, size_t len)
{
    struct wc_dir_store *d = dir_of(s);
    char path[PATH_MAX];
    int rc = entry_file(d, key, name, path, sizeof(path));

    if (rc < 0)
        return rc;
    rc = make_entry_dir(d, key);
    if (rc < 0)
        return rc;
    return wc_write_file_atomic(path, buf, len, 0644);
}

static int dir_exists(wc_store *s, const char *key, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = entry_file(dir_of(s), key, name, path, sizeof(path));

    if (rc < 0)
        return rc;
    return stat(path, &st) == 0 ? 0 : -errno;
}

/* The entry directory's mtime is the LRU clock read by wc_dir_trim. */
static int dir_touch(wc_store *s, const char *key)
{
    char dir[PATH_MAX];
    int rc = entry_dir(dir_of(s), key, dir, sizeof(dir));

    if (rc < 0)
        return rc;
    return utimensat(AT_FDCWD, dir, NULL, 0) == 0 ? 0 : -errno;
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
    int rc = entry_dir(dir_of(s), key, dir, sizeof(dir));

    if (rc < 0)
        return rc;
    return wc_dir_remove_entry(dir);
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
        .name = "dir",
        .get = dir_get,
        .read = dir_read,
        .put = dir_put,
        .write = dir_write,
        .exists = dir_exists,
        .touch = dir_touch,
        .remove = dir_remove,
        .close = dir_close,
    };
    return &d->base;
}
