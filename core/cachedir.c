/* Whether a local cache directory can be trusted (core/cachedir.h). */
#include "core/cachedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *wc_cache_untrusted(const struct stat *st, unsigned dir_mode)
{
    mode_t loose = st->st_mode & 0022 & ~(mode_t)dir_mode;

    if (S_ISLNK(st->st_mode))
        return "is a symbolic link";
    if (st->st_uid != getuid() && st->st_uid != 0)
        return "is owned by another user";
    /* In a sticky directory others may add names but not replace ours; a file has no such
     * protection. */
    if (loose && !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)))
        return (loose & 0002) ? "is writable by other users" : "is writable by its group";
    return NULL;
}

/* The things the cache keeps at its top, checked without following a link. */
static const char *const top_names[] = {"stats", "all.lock", "memo"};

static int check_one(int dfd, const char *name, const char *shown, unsigned dir_mode, char *why,
                     size_t n)
{
    struct stat st;
    const char *bad;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    bad = wc_cache_untrusted(&st, dir_mode);
    if (!bad)
        return 0;
    snprintf(why, n, "%s %s", shown, bad);
    return -EPERM;
}

/* Whether anyone but us (and root) could have added a name to the directory open at fd. */
static int others_may_write(int fd)
{
    struct stat st;

    return fstat(fd, &st) != 0 || (st.st_uid != getuid() && st.st_uid != 0) ||
           (st.st_mode & 0022) != 0;
}

/* stats/0 .. stats/15 and stats/zeroed: a link planted at any of them would make our
 * counters overwrite its target. Only someone who may write the stats directory can plant
 * one, so a directory nobody else may write spares the 17 checks that every runner would
 * otherwise pay (the shards are opened O_NOFOLLOW all the same: core/stats.c). */
static int check_stats(int root, const char *dir, unsigned dir_mode, char *why, size_t n)
{
    int fd = openat(root, "stats", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = 0;
    char name[16], shown[PATH_MAX + 32];

    if (fd < 0)
        return 0; /* absent, or already refused as a link by check_one */
    if (!others_may_write(fd)) {
        close(fd);
        return 0;
    }
    for (int i = 0; i <= 16 && rc == 0; i++) {
        if (i < 16)
            snprintf(name, sizeof(name), "%d", i);
        else
            snprintf(name, sizeof(name), "zeroed");
        snprintf(shown, sizeof(shown), "%s/stats/%s", dir, name);
        rc = check_one(fd, name, shown, dir_mode, why, n);
    }
    close(fd);
    return rc;
}

int wc_cache_dir_check(const char *dir, unsigned dir_mode, char *why, size_t n)
{
    char shown[PATH_MAX + 32];
    struct stat st;
    const char *bad;
    int root, rc = 0;

    /* The directory itself is the user's choice and may be reached through a link of theirs;
     * what it is, once there, must be trusted all the same. */
    root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return 0;
    if (fstat(root, &st) == 0 && (bad = wc_cache_untrusted(&st, dir_mode)) != NULL) {
        snprintf(why, n, "the cache directory %s %s", dir, bad);
        rc = -EPERM;
    }
    for (size_t i = 0; rc == 0 && i < sizeof(top_names) / sizeof(top_names[0]); i++) {
        snprintf(shown, sizeof(shown), "the cache's %s/%s", dir, top_names[i]);
        rc = check_one(root, top_names[i], shown, dir_mode, why, n);
    }
    if (rc == 0)
        rc = check_stats(root, dir, dir_mode, why, n);
    close(root);
    return rc;
}
