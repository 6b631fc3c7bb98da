/* Whether a local cache directory can be trusted (issue 13): nothing in it may belong to
 * another user or be writable by anyone the user did not mean to share it with, since what
 * is in it becomes the build's outputs. libc only: the interposer checks it once per build. */
#ifndef WC_CACHEDIR_H
#define WC_CACHEDIR_H

#include <stddef.h>
#include <sys/stat.h>

/* NULL when a file or directory of the cache with status st may be trusted: owned by us or
 * by root, and writable by group or others only where WAFCACHE_UMASK's dir_mode says so (a
 * group share) or, for a directory, with the sticky bit. Else a short reason. */
const char *wc_cache_untrusted(const struct stat *st, unsigned dir_mode);

/* Checks the cache directory dir (when it exists) and what the cache keeps at its top
 * (stats/ and its shards, all.lock, memo): none a symbolic link, each trusted. 0, or -EPERM
 * with a one-line reason in why ("the cache directory /x is owned by another user"). A
 * directory that does not exist yet is fine: we create it. */
int wc_cache_dir_check(const char *dir, unsigned dir_mode, char *why, size_t n);

#endif
