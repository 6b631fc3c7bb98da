/* Small helpers shared by the runner, the store, the command line and libwafcache.so: files,
 * clocks, the running executable's place, the LD_PRELOAD check. The file-system ones return 0
 * on success or a negative errno; none of them prints. */
#ifndef WC_UTIL_H
#define WC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* mkdir -p; existing directories are fine. */
int wc_mkdir_p(const char *path, mode_t mode);

/* Read a whole file into a malloc'd, NUL-terminated buffer. Refuses files above max_len
 * (-EFBIG) so a hostile cache cannot make us allocate without bound; a final symbolic link is
 * not followed (-ELOOP). */
int wc_read_file(const char *path, size_t max_len, char **buf, size_t *len);
/* The same from an open descriptor (its size is checked with fstat before reading). */
int wc_read_fd(int fd, size_t max_len, char **buf, size_t *len);

/* renameat(fd1, tmp, fd2, dest), faster where dest is a regular file: ext4 (auto_da_alloc)
 * writes tmp's data out at once when a rename replaces a file, but not when two names are
 * exchanged, so tmp and dest swap names and the old file goes. A reader of dest sees the old
 * file or the new one, whole, as with rename. 0 or a negative errno; tmp is gone on success. */
int wc_replace_at(int fd1, const char *tmp, int fd2, const char *dest);

/* Write buf to path atomically: a temporary name beside it, then rename. The file gets
 * exactly mode (the umask is not applied). */
int wc_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* Copy src to dst (dst must not exist; created with exactly mode, the umask is not
 * applied). Tries a reflink (FICLONE) first, then copy_file_range, then read/write. On
 * failure dst is removed. */
int wc_copy_file(const char *src, const char *dst, mode_t mode);
/* The same from an open descriptor, read from its current offset. */
int wc_copy_fd(int in, const char *dst, mode_t mode);

/* Writes all of buf to fd (EINTR retried; on a descriptor someone made non-blocking, EAGAIN
 * waits until it drains). */
int wc_write_all(int fd, const void *buf, size_t len);
/* Copies what is left of in to out: a reflink, copy_file_range, or read/write. */
int wc_copy_fds(int in, int out);

/* A unique temporary name beside path: "<path>.wctmp.<pid>.<counter>". */
int wc_tmp_name(char *buf, size_t n, const char *path);

/* malloc'd "a/b" (no double slash). NULL on OOM. */
char *wc_path_join(const char *a, const char *b);

/* Clock id in nanoseconds; CLOCK_REALTIME if this kernel has not got that clock. */
int64_t wc_clock_ns(clockid_t id);
/* Monotonic-enough wall clock in nanoseconds (CLOCK_REALTIME), for comparing with mtimes. */
int64_t wc_now_ns(void);

/* rm -rf: removes path and, if it is a directory, everything below it. Symbolic links are
 * removed, never followed. A path that does not exist is not an error. */
int wc_rm_rf(const char *path);

/* The directory of the running executable (from /proc/self/exe) into buf (n bytes):
 * wafcache-run finds libwafcache.so and wafcache-remote.so beside itself, `wafcache` its
 * ../lib. 0 or a negative errno. */
int wc_self_dir(char *buf, size_t n);

/* 1 when an LD_PRELOAD value (words separated by ':' or ' ', as ld.so splits it) already loads
 * a libwafcache.so, from any directory: a second copy would observe every call twice. Plain
 * string work, no allocation: safe in libwafcache.so, even in a vfork child. */
int wc_preload_has_wafcache(const char *list);
/* The same for the library file name name (libwafcache-observe.so...). */
int wc_preload_has(const char *list, const char *name);
/* The first word of an LD_PRELOAD value whose last component is name, its length in *len;
 * NULL when there is none. */
const char *wc_preload_word(const char *list, const char *name, size_t *len);

/* uid's name and home directory from a passwd(5) file (path: /etc/passwd), read directly:
 * the runner is a static program, where glibc's NSS (getpwuid) does not work. 0, or
 * -ENOENT when no well-formed line has that uid, or another negative errno. */
int wc_passwd_find(const char *path, uid_t uid, char *name, size_t nn, char *home, size_t hn);

#endif
