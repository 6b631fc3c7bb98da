/* A cache store backend: a small table of function pointers filled by one constructor per
 * backend file (store/dir.c, later store/http.c, store/s3.c ...), as libgit2's
 * git_odb_backend. An entry is named by a key (32 hex digits) and holds named files: "0",
 * "1", ... for outputs, "meta" (written last: an entry without it does not exist),
 * "stdout", "stderr", "manifest". Every function returns 0 or a negative errno;
 * -ENOENT means "not in the store". None of them prints. */
#ifndef WC_STORE_H
#define WC_STORE_H

#include <stddef.h>

typedef struct wc_store wc_store;

/* get()'s max_len when the caller knows no size. */
#define WC_STORE_UNBOUNDED ((size_t)-1)

struct wc_store {
    const char *name; /* "dir", "http", ... */

    /* Put file `name` of entry `key` at dest, which must not exist (the caller picks a
     * temporary name, verifies size and hash, then renames). A file longer than max_len
     * bytes is refused with -EFBIG and nothing is left at dest: the caller passes the size
     * the entry's metadata declares, so a server that streams a huge or endless body costs
     * at most that much disk (WC_STORE_UNBOUNDED when there is no such size). */
    int (*get)(wc_store *s, const char *key, const char *name, size_t max_len, const char *dest);
    /* Read file `name` of entry `key` into a malloc'd NUL-terminated buffer, refusing more
     * than max_len bytes (-EFBIG). */
    int (*read)(wc_store *s, const char *key, const char *name, size_t max_len, char **buf,
                size_t *len);
    /* Store src as file `name` of entry `key`, atomically (a reader sees all or nothing). */
    int (*put)(wc_store *s, const char *key, const char *name, const char *src);
    /* Store a buffer as file `name` of entry `key`, atomically. */
    int (*write)(wc_store *s, const char *key, const char *name, const void *buf, size_t len);
    /* 0 when file `name` of entry `key` exists, else -ENOENT. */
    int (*exists)(wc_store *s, const char *key, const char *name);
    /* Mark entry `key` as used now (LRU). */
    int (*touch)(wc_store *s, const char *key);
    /* Remove entry `key` as a whole (rename, then delete). */
    int (*remove)(wc_store *s, const char *key);
    void (*close)(wc_store *s);
    /* The last failure in one line, credentials never in it; NULL when the backend has
     * nothing to add to its errno (a local directory). */
    const char *(*reason)(wc_store *s);
};

#endif
