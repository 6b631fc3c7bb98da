/* Small file-system helpers. Every descriptor is O_CLOEXEC: the runner forks the real
 * command, which must not inherit our files. */
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int wc_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);

    if (len == 0)
        return -EINVAL;
    if (len >= sizeof(buf))
        return -ENAMETOOLONG;
    /* The common case, on every hit: the directory is there already. One stat answers it,
     * where the walk below costs a mkdir per component. */
    struct stat st0;
    if (stat(path, &st0) == 0 && S_ISDIR(st0.st_mode))
        return 0;
    memcpy(buf, path, len + 1);
    /* Create each prefix in turn; a component that already exists is fine, as long as the
     * whole path ends up being a directory (checked once at the end). */
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) {
            int e = errno;
            *p = '/';
            return -e;
        }
        *p = '/';
    }
    if (mkdir(buf, mode) != 0) {
        struct stat st;
        if (errno != EEXIST)
            return -errno;
        if (stat(buf, &st) != 0)
            return -errno;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
    }
    return 0;
}

static int read_all(int fd, char *buf, size_t cap, size_t *got)
{
    size_t n = 0;

    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return 0;
}

/* Reads until EOF whatever fstat says: the file may grow while we read, and a pipe or
 * /proc file reports size 0. Reading one byte beyond max_len proves it is too large. */
static int read_bounded(int fd, size_t hint, size_t max_len, char **bufp, size_t *lenp)
{
    size_t cap = hint + 1, got = 0;
    char *buf = NULL;

    for (;;) {
        size_t n = 0;
        char *nb = realloc(buf, cap + 1);
        int rc;

        if (!nb) {
            free(buf);
            return -ENOMEM;
        }
        buf = nb;
        rc = read_all(fd, buf + got, cap - got, &n);
        if (rc < 0) {
            free(buf);
            return rc;
        }
        got += n;
        if (got > max_len) {
            free(buf);
            return -EFBIG;
        }
        if (got < cap)
            break;
        /* Filled the buffer: grow, but never past the limit plus the probe byte. */
        cap = cap > max_len / 2 ? max_len + 1 : cap * 2;
    }
    buf[got] = '\0';
    *bufp = buf;
    *lenp = got;
    return 0;
}

int wc_read_fd(int fd, size_t max_len, char **bufp, size_t *lenp)
{
    struct stat st;
    size_t hint = 4096;

    *bufp = NULL;
    *lenp = 0;
    /* "No limit" callers pass SIZE_MAX; keep the growth arithmetic below from wrapping. */
    if (max_len > SIZE_MAX / 4)
        max_len = SIZE_MAX / 4;
    if (fstat(fd, &st) != 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    /* The size a file declares is checked before a byte is read or allocated. */
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_len)
        return -EFBIG;
    if (S_ISREG(st.st_mode))
        hint = (size_t)st.st_size;
    return read_bounded(fd, hint, max_len, bufp, lenp);
}

int wc_read_file(const char *path, size_t max_len, char **bufp, size_t *lenp)
{
    int fd, rc;

    *bufp = NULL;
    *lenp = 0;
    /* Every file read by name lives in the cache (wafcache.conf, the explain index, stats) or
     * is the kernel's: a symbolic link there was planted, not chosen, and is not followed. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    rc = wc_read_fd(fd, max_len, bufp, lenp);
    close(fd);
    return rc;
}

int wc_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            /* Someone made fd non-blocking (a pipe shared with the build): wait until it
             * drains rather than lose output. */
            struct pollfd pfd = {fd, POLLOUT, 0};
            poll(&pfd, 1, 1000);
            continue;
        }
        if (w < 0)
            return -errno;
        if (w == 0)
            return -EIO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Creates path exclusively and sets exactly `mode`: open() would apply the umask, and a
 * cached executable must come back executable for everyone it was executable for. */
static int create_exclusive(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (fchmod(fd, mode & 07777) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return -e;
    }
    return fd;
}

/* Measured here: a rename over a 1.4 KB file costs ~1.5-2 ms of waiting for that flush, the
 * exchange and unlink ~0.2 ms. Anything but a regular file at dest (a directory, a link, a
 * file system without RENAME_EXCHANGE) gets rename's own behaviour. */
int wc_replace_at(int fd1, const char *tmp, int fd2, const char *dest)
{
    struct stat st;

    if (renameat2(fd1, tmp, fd2, dest, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST && fstatat(fd2, dest, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && renameat2(fd1, tmp, fd2, dest, RENAME_EXCHANGE) == 0) {
        /* tmp now names the old file (or, for two links to one inode, still the new one:
         * dest keeps it either way). */
        unlinkat(fd1, tmp, 0);
        return 0;
    }
    return renameat(fd1, tmp, fd2, dest) == 0 ? 0 : -errno;
}

int wc_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    int fd, rc;

    rc = wc_tmp_name(tmp, sizeof(tmp), path);
    if (rc < 0)
        return rc;
    fd = create_exclusive(tmp, mode);
    if (fd < 0)
        return fd;
    rc = wc_write_all(fd, buf, len);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0)
        rc = wc_replace_at(AT_FDCWD, tmp, AT_FDCWD, path);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

static int copy_rw(int in, int out)
{
    char buf[65536];

    for (;;) {
        ssize_t r = read(in, buf, sizeof(buf));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return 0;
        int rc = wc_write_all(out, buf, (size_t)r);
        if (rc < 0)
            return rc;
    }
}

/* copy_file_range advances both file offsets, so when it fails part way (EXDEV on older
 * kernels, EINVAL on some file systems, ENOSYS) read/write can carry on from there. */
int wc_copy_fds(int in, int out)
{
    if (ioctl(out, FICLONE, in) == 0)
        return 0;
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSPC || errno == EDQUOT || errno == EIO)
                return -errno;
            return copy_rw(in, out);
        }
    }
}

int wc_copy_fd(int in, const char *dst, mode_t mode)
{
    int out = create_exclusive(dst, mode), rc;

    if (out < 0)
        return out;
    rc = wc_copy_fds(in, out);
    if (close(out) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlink(dst);
    return rc;
}

int wc_copy_file(const char *src, const char *dst, mode_t mode)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), rc;

    if (in < 0)
        return -errno;
    rc = wc_copy_fd(in, dst, mode);
    close(in);
    return rc;
}

int wc_tmp_name(char *buf, size_t n, const char *path)
{
    static unsigned long counter;
    unsigned long c = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    int w = snprintf(buf, n, "%s.wctmp.%ld.%lu", path, (long)getpid(), c);

    if (w < 0)
        return -EINVAL;
    if ((size_t)w >= n)
        return -ENAMETOOLONG;
    return 0;
}

char *wc_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb;
    char *r;

    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    lb = strlen(b);
    r = malloc(la + 1 + lb + 1);
    if (!r)
        return NULL;
    memcpy(r, a, la);
    if (la > 0 && a[la - 1] != '/')
        r[la++] = '/';
    memcpy(r + la, b, lb + 1);
    return r;
}

int64_t wc_clock_ns(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) < 0)
        clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t wc_now_ns(void)
{
    return wc_clock_ns(CLOCK_REALTIME);
}

static int rm_tree_at(int dfd, const char *name);

static int rm_children(int fd)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    int rc = 0;

    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int r = rm_tree_at(dirfd(d), de->d_name);
        if (r < 0 && rc == 0)
            rc = r;
    }
    closedir(d);
    return rc;
}

/* Never follows a symbolic link: a link inside the cache pointing elsewhere is removed as a
 * link, not walked. */
static int rm_tree_at(int dfd, const char *name)
{
    int fd, rc;

    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -errno;
    fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    rc = rm_children(fd);
    if (unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT && rc == 0)
        rc = -errno;
    return rc;
}

int wc_rm_rf(const char *path)
{
    return rm_tree_at(AT_FDCWD, path);
}

int wc_self_dir(char *buf, size_t n)
{
    ssize_t len;
    char *slash;

    if (n < 2)
        return -ENAMETOOLONG;
    len = readlink("/proc/self/exe", buf, n - 1);
    if (len < 0)
        return -errno;
    buf[len] = '\0';
    slash = strrchr(buf, '/');
    if (slash == NULL)
        return -ENOENT;
    *slash = '\0';
    return 0;
}

/* Plain loops, no libc call: the preload libraries' constructors run this in every process,
 * where each libc function's first call costs a lazy binding (preload/lib/str.h). */
const char *wc_preload_word(const char *list, const char *name, size_t *len)
{
    size_t k = 0;

    while (name[k])
        k++;
    /* Word by word, as ld.so splits: a word is ours when its last component is the name. */
    for (size_t i = 0; list[i];) {
        size_t j = i, m = 0;
        while (list[j] && list[j] != ':' && list[j] != ' ')
            j++;
        if (j - i >= k && (j - i == k || list[j - k - 1] == '/'))
            while (m < k && list[j - k + m] == name[m])
                m++;
        if (k && m == k) {
            *len = j - i;
            return list + i;
        }
        i = list[j] ? j + 1 : j;
    }
    return NULL;
}

int wc_preload_has(const char *list, const char *name)
{
    size_t len;

    return wc_preload_word(list, name, &len) != NULL;
}

int wc_preload_has_wafcache(const char *list)
{
    return wc_preload_has(list, "libwafcache.so");
}

/* The n-th ':'-separated field of line [s, end), as [*f, *fe). 0, or -1 when it has fewer. */
static int passwd_field(const char *s, const char *end, int n, const char **f, const char **fe)
{
    for (; n > 0; n--) {
        s = memchr(s, ':', (size_t)(end - s));
        if (!s)
            return -1;
        s++;
    }
    const char *e = memchr(s, ':', (size_t)(end - s));
    *f = s;
    *fe = e ? e : end;
    return 0;
}

/* One line "name:password:uid:gid:gecos:home:shell": 1 when it is uid's (name and home
 * copied), 0 when not or malformed. */
static int passwd_line(const char *s, const char *end, uid_t uid, char *name, size_t nn, char *home,
                       size_t hn)
{
    const char *f, *fe, *h, *he;
    uint64_t v = 0;

    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    /* As glibc's files backend: blank lines and comments are skipped. */
    if (s == end || *s == '#' || passwd_field(s, end, 2, &f, &fe) < 0 || fe - f <= 0 || fe - f > 10)
        return 0;
    for (; f < fe; f++) {
        if (*f < '0' || *f > '9')
            return 0;
        v = v * 10 + (uint64_t)(*f - '0');
    }
    if (v != (uint64_t)uid)
        return 0;
    if (passwd_field(s, end, 5, &h, &he) < 0)
        return 0;
    f = memchr(s, ':', (size_t)(end - s));
    if ((size_t)(f - s) >= nn || (size_t)(he - h) >= hn)
        return 0;
    snprintf(name, nn, "%.*s", (int)(f - s), s);
    snprintf(home, hn, "%.*s", (int)(he - h), h);
    return 1;
}

int wc_passwd_find(const char *path, uid_t uid, char *name, size_t nn, char *home, size_t hn)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = wc_read_file(path, 64 << 20, &buf, &len);

    if (rc < 0)
        return rc;
    rc = -ENOENT;
    for (const char *s = buf, *end = buf + len; s < end && rc != 0;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        if (passwd_line(s, e, uid, name, nn, home, hn))
            rc = 0;
        s = e + 1;
    }
    free(buf);
    return rc;
}
