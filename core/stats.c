/* Statistics of a local cache directory: sharded counter files. See stats.h. */
#include "core/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define STATS_MAGIC "WCSTATS1"
#define MAGIC_LEN 8

struct record {
    char magic[MAGIC_LEN];
    uint64_t v[WC_STATS_SLOTS];
};

static const struct {
    const char *key, *label;
} names[WC_STAT_COUNT] = {
    [WC_STAT_REQUESTS] = {"requests", "Requests"},
    [WC_STAT_HITS] = {"hits", "Hits"},
    [WC_STAT_MISSES] = {"misses", "Misses"},
    [WC_STAT_WRITES] = {"writes", "Writes"},
    [WC_STAT_ERRORS] = {"errors", "Errors"},
    [WC_STAT_UNC_FAILED] = {"uncacheable_failed", "command failed"},
    [WC_STAT_UNC_NO_OUTPUT] = {"uncacheable_no_output", "no output file"},
    [WC_STAT_UNC_STDIN] = {"uncacheable_stdin", "stdin or stdout used"},
    [WC_STAT_UNC_LATE] = {"uncacheable_late_modification", "input modified during the run"},
    [WC_STAT_UNC_INCOMPLETE] = {"uncacheable_incomplete", "incomplete observation"},
    [WC_STAT_UNC_TIME] = {"uncacheable_time_macro", "__TIME__ without SOURCE_DATE_EPOCH"},
    [WC_STAT_UNC_NO_PUSH] = {"uncacheable_no_push", "WAFCACHE_NO_PUSH set"},
    [WC_STAT_UNC_OTHER] = {"uncacheable_other", "other reason"},
    [WC_STAT_BYTES_WRITTEN] = {"bytes_written", "Bytes written"},
    [WC_STAT_TIME_SAVED_NS] = {"time_saved_ns", "Time saved"},
};

const char *wc_stat_key(enum wc_stat s)
{
    return (unsigned)s < WC_STAT_COUNT ? names[s].key : "unknown";
}

const char *wc_stat_label(enum wc_stat s)
{
    return (unsigned)s < WC_STAT_COUNT ? names[s].label : "unknown";
}

/* The runner's phrases (preload/runner/runner.c, collect.c): matched by a word they all keep, so
 * that rewording the rest of a message does not move it to "other". */
enum wc_stat wc_stat_reason(const char *why)
{
    static const struct {
        const char *needle;
        enum wc_stat stat;
    } map[] = {
        {"command failed", WC_STAT_UNC_FAILED},
        {"no output file", WC_STAT_UNC_NO_OUTPUT},
        {"standard input", WC_STAT_UNC_STDIN},
        {"stdin", WC_STAT_UNC_STDIN},
        {"during the run", WC_STAT_UNC_LATE},
        {"incomplete observation", WC_STAT_UNC_INCOMPLETE},
        {"observ", WC_STAT_UNC_INCOMPLETE},
        {"__TIME__", WC_STAT_UNC_TIME},
        {"WAFCACHE_NO_PUSH", WC_STAT_UNC_NO_PUSH},
    };

    for (size_t i = 0; why && i < sizeof(map) / sizeof(map[0]); i++)
        if (strstr(why, map[i].needle))
            return map[i].stat;
    return WC_STAT_UNC_OTHER;
}

static int stats_path(char *buf, size_t n, const char *cache_dir, const char *name)
{
    int w = snprintf(buf, n, "%s/stats%s%s", cache_dir, name ? "/" : "", name ? name : "");
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* A shard's counters, zeros when it is new, short or not ours. */
static void read_record(int fd, struct record *r)
{
    ssize_t n;

    do
        n = pread(fd, r, sizeof(*r), 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(*r) || memcmp(r->magic, STATS_MAGIC, MAGIC_LEN) != 0)
        memset(r, 0, sizeof(*r));
    memcpy(r->magic, STATS_MAGIC, MAGIC_LEN);
}

static int write_record(int fd, const struct record *r)
{
    ssize_t n;

    do
        n = pwrite(fd, r, sizeof(*r), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return n == (ssize_t)sizeof(*r) ? 0 : -EIO;
}

static int lock(int fd, int how)
{
    while (flock(fd, how) != 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

/* Open (creating the stats directory and the shard when needed) for update. */
static int open_shard(const char *cache_dir, unsigned dir_mode, unsigned shard)
{
    char path[PATH_MAX], dir[PATH_MAX], name[16];
    int fd, rc;

    snprintf(name, sizeof(name), "%u", shard % WC_STATS_SHARDS);
    if ((rc = stats_path(path, sizeof(path), cache_dir, name)) < 0)
        return rc;
    /* Never through a link: one planted at stats/N would get our counters written over its
     * target. */
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, dir_mode & 0666);
    if (fd >= 0 || errno != ENOENT)
        return fd >= 0 ? fd : -errno;
    /* The first count in this cache: one mkdir, then the open again. */
    if ((rc = stats_path(dir, sizeof(dir), cache_dir, NULL)) < 0)
        return rc;
    if (mkdir(dir, dir_mode) != 0 && errno != EEXIST)
        return -errno;
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, dir_mode & 0666);
    return fd >= 0 ? fd : -errno;
}

int wc_stats_add_shard(const char *cache_dir, unsigned dir_mode, unsigned shard,
                       const struct wc_stats *delta)
{
    struct record r;
    int fd = open_shard(cache_dir, dir_mode, shard), rc;

    if (fd < 0)
        return fd;
    rc = lock(fd, LOCK_EX);
    if (rc == 0) {
        read_record(fd, &r);
        for (size_t i = 0; i < WC_STATS_SLOTS; i++)
            r.v[i] += delta->v[i];
        rc = write_record(fd, &r);
    }
    close(fd); /* releases the lock */
    return rc;
}

int wc_stats_add(const char *cache_dir, unsigned dir_mode, const struct wc_stats *delta)
{
    return wc_stats_add_shard(cache_dir, dir_mode, (unsigned)getpid(), delta);
}

static int64_t read_zeroed_at(const char *cache_dir)
{
    char path[PATH_MAX], *buf = NULL;
    size_t len;
    int64_t t = 0;

    if (stats_path(path, sizeof(path), cache_dir, "zeroed") < 0 ||
        wc_read_file(path, 64, &buf, &len) < 0)
        return 0;
    t = strtoll(buf, NULL, 10);
    free(buf);
    return t > 0 ? t : 0;
}

int wc_stats_read(const char *cache_dir, struct wc_stats *out, int64_t *zeroed_at)
{
    memset(out, 0, sizeof(*out));
    if (zeroed_at)
        *zeroed_at = read_zeroed_at(cache_dir);
    for (unsigned s = 0; s < WC_STATS_SHARDS; s++) {
        char path[PATH_MAX], name[16];
        struct record r;
        int fd, rc;

        snprintf(name, sizeof(name), "%u", s);
        if ((rc = stats_path(path, sizeof(path), cache_dir, name)) < 0)
            return rc;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                continue;
            return -errno;
        }
        /* Shared: a record is never seen half-written by pwrite's writer. */
        rc = lock(fd, LOCK_SH);
        if (rc == 0)
            read_record(fd, &r);
        close(fd);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < WC_STATS_SLOTS; i++)
            out->v[i] += r.v[i];
    }
    return 0;
}

static int zero_shard(const char *cache_dir, unsigned dir_mode, unsigned shard)
{
    struct record r;
    int fd = open_shard(cache_dir, dir_mode, shard), rc;

    if (fd < 0)
        return fd;
    rc = lock(fd, LOCK_EX);
    if (rc == 0) {
        memset(&r, 0, sizeof(r));
        memcpy(r.magic, STATS_MAGIC, MAGIC_LEN);
        rc = write_record(fd, &r);
    }
    close(fd);
    return rc;
}

int wc_stats_zero(const char *cache_dir, unsigned dir_mode)
{
    char path[PATH_MAX], stamp[32];
    int rc, w;

    for (unsigned s = 0; s < WC_STATS_SHARDS; s++)
        if ((rc = zero_shard(cache_dir, dir_mode, s)) < 0)
            return rc;
    if ((rc = stats_path(path, sizeof(path), cache_dir, "zeroed")) < 0)
        return rc;
    w = snprintf(stamp, sizeof(stamp), "%lld\n", (long long)time(NULL));
    return wc_write_file_atomic(path, stamp, (size_t)w, dir_mode & 0666);
}
