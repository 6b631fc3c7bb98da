/* Statistics of a local cache directory (`wafcache -s`, `-z`, `--json`).
 *
 * Every runner adds what it did to one of WC_STATS_SHARDS counter files, <cache>/stats/<n>
 * with n = pid % WC_STATS_SHARDS, under flock() of that one file only: parallel runners of a
 * `make -j` rarely meet on a lock, and when they do the critical section is a pread and a
 * pwrite of one small record. `wafcache -s` sums the shards. A shard is a fixed binary record
 * (this machine's byte order; the cache directory is local): the magic, then WC_STATS_SLOTS
 * 64-bit counters. A shard that is short or has another magic counts as zeros and is
 * overwritten by the next update: statistics are never worth failing a build for. */
#ifndef WC_STATS_H
#define WC_STATS_H

#include <stdint.h>

#define WC_STATS_SHARDS 16
#define WC_STATS_SLOTS 32 /* the record's size is fixed: new counters fit without a new format */

enum wc_stat {
    WC_STAT_REQUESTS,       /* cacheable commands looked up: hits + misses */
    WC_STAT_HITS,           /* served from the cache */
    WC_STAT_MISSES,         /* looked up and not found: the real command ran */
    WC_STAT_WRITES,         /* entries stored */
    WC_STAT_ERRORS,         /* cache errors: a corrupt entry, a failed push, ... */
    WC_STAT_UNC_FAILED,     /* uncacheable: the command failed */
    WC_STAT_UNC_NO_OUTPUT,  /* uncacheable: no output file */
    WC_STAT_UNC_STDIN,      /* uncacheable: read stdin or wrote stdout in place of a file */
    WC_STAT_UNC_LATE,       /* uncacheable: an input changed during the run */
    WC_STAT_UNC_INCOMPLETE, /* uncacheable: the observation was incomplete */
    WC_STAT_UNC_TIME,       /* uncacheable: __TIME__ without SOURCE_DATE_EPOCH */
    WC_STAT_UNC_NO_PUSH,    /* not stored: WAFCACHE_NO_PUSH */
    WC_STAT_UNC_OTHER,      /* uncacheable for another reason (see WAFCACHE_LOG) */
    WC_STAT_BYTES_WRITTEN,  /* bytes of the entries stored (outputs, stdout, stderr) */
    WC_STAT_TIME_SAVED_NS,  /* the recorded run time of every hit */
    WC_STAT_COUNT
};

#define WC_STAT_UNC_FIRST WC_STAT_UNC_FAILED
#define WC_STAT_UNC_LAST WC_STAT_UNC_OTHER

struct wc_stats {
    uint64_t v[WC_STATS_SLOTS];
};

/* The key of a counter in `--json` ("hits", "uncacheable_failed", ...). */
const char *wc_stat_key(enum wc_stat s);
/* Its label in `-s` ("Hits", "command failed", ...). */
const char *wc_stat_label(enum wc_stat s);

/* The uncacheable counter for one of the runner's "why not cached" phrases. */
enum wc_stat wc_stat_reason(const char *why);

/* Add delta to the shard of this process in cache_dir/stats (created with dir_mode, files
 * with dir_mode & 0666). 0 or -errno. */
int wc_stats_add(const char *cache_dir, unsigned dir_mode, const struct wc_stats *delta);
/* The same with an explicit shard number (tests). */
int wc_stats_add_shard(const char *cache_dir, unsigned dir_mode, unsigned shard,
                       const struct wc_stats *delta);

/* The sum of every shard into *out, and when they were last zeroed (seconds since the epoch,
 * 0 = never) into *zeroed_at (may be NULL). A cache without statistics is all zeros. 0 or
 * -errno (an unreadable shard). */
int wc_stats_read(const char *cache_dir, struct wc_stats *out, int64_t *zeroed_at);

/* Zero every shard (each under its lock) and record the time. 0 or -errno. */
int wc_stats_zero(const char *cache_dir, unsigned dir_mode);

#endif
