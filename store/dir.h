/* The local directory store: CACHE_DIR/<key[:2]>/<key>/<name>, the seed's layout. */
#ifndef WC_STORE_DIR_H
#define WC_STORE_DIR_H

#include <stdint.h>
#include "store/store.h"

struct wc_dir_options {
    int hardlink;      /* get() hard-links (copy on EXDEV or any link failure) */
    unsigned dir_mode; /* mode for created directories, e.g. 0700 */
};

/* Remove an entry directory as a whole: rename it to "<dir>.remove.<pid>.<n>", then delete
 * that. 0 or -errno (-ENOENT when it was already gone). Used by remove() and the trim. */
int wc_dir_remove_entry(const char *dir);

/* Open (creating if needed) a directory store. NULL with *err = -errno on failure. */
wc_store *wc_dir_open(const char *root, const struct wc_dir_options *opt, int *err);

/* The walk of the layout, for foreach(), the trim and the command line's maintenance: fn for
 * each <root>/<kk>/<key> directory. Every directory below the root is opened relative to its
 * parent with O_NOFOLLOW: a symbolic link planted in the cache is never followed (the root is
 * the user's choice and is followed). With sweep, what writers and removals left behind more
 * than an hour ago (temporaries, renamed entries; also in explain/ and stats/) is deleted on
 * the way, without moving an entry's LRU clock. 0, fn's non-zero return, or -errno (-ENOENT:
 * no root). */
int wc_dir_walk(const char *root, int sweep, wc_store_item_fn fn, void *ctx);

/* A limit of 0 is no limit. */
struct wc_trim_limits {
    uint64_t max_entries;      /* WAFCACHE_TRIM_MAX_FOLDER: results (manifests are not counted) */
    uint64_t max_bytes;        /* WAFCACHE_EVICT_MAX_BYTES: space used on disk */
    uint64_t interval_minutes; /* WAFCACHE_EVICT_INTERVAL_MINUTES */
    /* Now and then, for a progress line (NULL: not called): while the store is scanned, done
     * entries seen and total 0; then done of the total entries considered for removal. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
};

struct wc_trim_result {
    uint64_t entries, results, bytes; /* what is left (entries: results and manifests) */
    uint64_t removed_entries, removed_bytes;
};

/* LRU trim of the store at root, least recently used (entry directory mtime) first, until
 * both limits hold. Unless force, does nothing (returns 1) when all.lock was touched less
 * than interval_minutes ago; returns 2 when another trimmer holds all.lock (flock). Removal is
 * rename-then-delete, so readers never see half an entry. Also sweeps temporary files older
 * than an hour. 0 when a trim ran. */
int wc_dir_trim(const char *root, const struct wc_trim_limits *lim, int force,
                struct wc_trim_result *res);

/* 1 when a trim is due (all.lock older than the interval, or absent): one stat. */
int wc_dir_trim_due(const char *root, const struct wc_trim_limits *lim);

#endif
