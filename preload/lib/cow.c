/* WAFCACHE_HARDLINK (SPEC §5): a hit may restore outputs as hard links to the cache's files,
 * so no process under either library may write through a link it shares: an open for
 * writing of a file with more than one link first replaces it by a private copy. In
 * libwafcache.so this is all its open wrappers do (the WC_OPEN, WC_OPEN_MODE and WC_FOPEN
 * rows of wrap.def, generated at the end); libwafcache-observe.so's (observe.c) report the
 * open too.
 *
 * Open wrappers run in vfork children (dash opens its redirections there): raw system calls
 * and the stack only. */
#undef _FORTIFY_SOURCE
#include "preload/lib/preload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t wc_put_uint(char *out, unsigned long v)
{
    char tmp[24];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

int wc_open_writes(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

int wc_is_tmpfile(int flags)
{
    return (flags & O_TMPFILE) == O_TMPFILE;
}

static int copy_fd(int src, int dst)
{
    char chunk[16384];

    for (;;) {
        ssize_t r = syscall(SYS_read, src, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return (int)r;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = syscall(SYS_write, dst, chunk + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            off += w;
        }
    }
}

static int sys_renameat(int dirfd, const char *from, const char *to)
{
#ifdef SYS_renameat
    return (int)syscall(SYS_renameat, dirfd, from, dirfd, to);
#else
    return (int)syscall(SYS_renameat2, dirfd, from, dirfd, to, 0);
#endif
}

/* Build the private copy as tmp, then rename it over path. */
static void replace_by_copy(int dirfd, const char *path, const char *tmp, const struct stat *st,
                            int truncating)
{
    int src = -1, dst, ok = 0;

    dst = (int)syscall(SYS_openat, dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (dst < 0)
        return;
    if (!truncating)
        src = (int)syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC);
    if (truncating || (src >= 0 && copy_fd(src, dst) == 0))
        ok = syscall(SYS_fchmod, dst, st->st_mode & 07777) == 0;
    if (src >= 0)
        syscall(SYS_close, src);
    syscall(SYS_close, dst);
    if (!ok || sys_renameat(dirfd, tmp, path) < 0)
        syscall(SYS_unlinkat, dirfd, tmp, 0);
}

void wc_cow_before_open(int dirfd, const char *path, int flags)
{
    struct stat st;
    char tmp[PATH_MAX + 32];
    size_t len = strlen(path);
    int saved = errno;

    if (!wc_state.hardlink || !wc_open_writes(flags) || wc_is_tmpfile(flags) || len == 0 ||
        len >= PATH_MAX)
        return;
    if (wc_sys_fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        st.st_nlink > 1) {
        memcpy(tmp, path, len);
        memcpy(tmp + len, ".wccow.", 7);
        tmp[len + 7 + wc_put_uint(tmp + len + 7, (unsigned long)getpid())] = '\0';
        replace_by_copy(dirfd, path, tmp, &st, (flags & O_TRUNC) != 0);
    }
    errno = saved;
}

/* The open(2) flags an fopen mode stands for. */
int wc_fopen_flags(const char *mode)
{
    int flags, plus = mode && strchr(mode, '+') != NULL;

    if (!mode)
        return O_RDONLY;
    switch (mode[0]) {
    case 'w':
        flags = O_CREAT | O_TRUNC | (plus ? O_RDWR : O_WRONLY);
        break;
    case 'a':
        flags = O_CREAT | O_APPEND | (plus ? O_RDWR : O_WRONLY);
        break;
    default:
        flags = plus ? O_RDWR : O_RDONLY;
    }
    if (strchr(mode, 'x') && (flags & O_CREAT))
        flags |= O_EXCL;
    return flags;
}

#ifndef WC_OBSERVE_LIB
/* ---- libwafcache.so's open wrappers, from wrap.def ---- */

static int open_pre(int dirfd, const char *path, int flags)
{
    if (wc_state.mode != WC_MODE_OFF && path)
        wc_cow_before_open(dirfd, path, flags);
    return 0;
}

static void open_post(int dirfd, const char *path, int flags, int pre, int fd)
{
    (void)dirfd, (void)path, (void)flags, (void)pre, (void)fd;
}

/* Each wrapper is declared first: glibc's headers do not declare every spelling. */
#define WC_WRAP(field, sym, ret, params)
#define WC_EXEC(field, sym, ret, params) /* exec.c */
#include "preload/lib/open_rows.h"
#include "preload/lib/wrap.def"
#endif
