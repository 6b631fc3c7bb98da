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

/* The layout of struct wc_store this tree's backends fill (libgit2's backend version): a
 * backend built against another layout is refused by wc_store_open. */
#define WC_STORE_VERSION 1

/* Keys are exactly this many hex digits; anything else is refused with -EINVAL. */
#define WC_STORE_KEY_LEN 32

/* Room for a backend's last failure (wc_store_fail). */
#define WC_STORE_REASON_LEN 512

/* One entry, as foreach() tells it. */
struct wc_store_item {
    const char *key;
    long long mtime_ns;       /* last use: the LRU clock */
    unsigned long long bytes; /* space used on disk (st_blocks), its directory's included */
    int has_meta;             /* a result (its "meta" is written last: the entry is whole) */
    int has_manifest;         /* a key1's manifest */
    /* A local store's entry directory, open during the call: its files are opened relative
     * to it, with O_NOFOLLOW. -1 for a store that has none. */
    int fd;
};

/* Called by foreach() for each entry: 0 goes on, anything else stops the walk and is
 * returned. */
typedef int (*wc_store_item_fn)(void *ctx, const struct wc_store_item *it);

/* The two sides of a cache: this machine's directory and a shared remote store. */
enum wc_store_side { WC_STORE_LOCAL, WC_STORE_REMOTE };

struct wc_store {
    int version;      /* WC_STORE_VERSION */
    const char *name; /* "dir", "http", ... */
    int local;        /* 1 for a store on this machine (a directory) */

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
    /* Call fn for every entry (no particular order); an entry being written or removed
     * meanwhile may be told or not. 0, fn's non-zero return, or -errno. NULL for a store that
     * cannot list its entries (the remote ones). */
    int (*foreach)(wc_store *s, wc_store_item_fn fn, void *ctx);
    /* The store of one side inside a store made of two (a tier), or NULL when it has none;
     * NULL for a store that is all of one side (see wc_store_side). */
    wc_store *(*side)(wc_store *s, enum wc_store_side which);

    /* The last failure, written by wc_store_fail; a backend whose reason() is
     * wc_store_last_reason answers from here. */
    char why[WC_STORE_REASON_LEN];
};

/* The store contract, checked in one place for every backend. */

/* 1 when key is WC_STORE_KEY_LEN hex digits and nothing else. */
int wc_store_key_valid(const char *key);

/* 1 when name is a file name an entry may hold: 1 to 64 of [A-Za-z0-9._-], not "." or "..".
 * One safe path component, so that it needs no escaping in a directory, a URL, a bucket
 * object's name or a command line. */
int wc_store_name_valid(const char *name);

/* 0 when key is valid and name is NULL or valid, else -EINVAL: the first line of every
 * backend operation. */
int wc_store_check(const char *key, const char *name);

/* Record the reason of a failure in s->why (one line, credentials never in it) and return rc. */
int wc_store_fail(wc_store *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The part of s on one side: a tier's local directory or remote store; s itself when s is
 * all of that side (a directory is local, anything else remote); else NULL. */
wc_store *wc_store_side(wc_store *s, enum wc_store_side which);

/* A reason() for backends that record their failures with wc_store_fail: s->why ("" when
 * nothing failed yet). */
const char *wc_store_last_reason(wc_store *s);

#endif
