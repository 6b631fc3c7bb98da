/* wafcache --trim, -C / --clear, --verify, and the walk of the local store they share with -s.
 *
 * The store's layout (store/dir.c): <dir>/<kk>/<key>/<files>, kk the key's first two hex
 * digits. An entry with "meta" is a result, one with "manifest" a key1's manifest; one with
 * neither is being written (or the remains of a writer that died, which the trim sweeps). */
#include "core/util.h"
#include "hashing/manifest.h"
#include "store/dir.h"
#include "store/entry.h"
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the walk ---- */

/* Every entry of the store at dir (store/dir_walk.c: nothing below dir is reached through a
 * symbolic link); a missing store is an empty one. 0, fn's non-zero return, or -errno. */
static int walk_store(const char *dir, wc_store_item_fn fn, void *ctx)
{
    int rc = wc_dir_walk(dir, 0, fn, ctx);
    return rc == -ENOENT ? 0 : rc;
}

/* 1 when the entry has file `name` (of any kind: the checks below say what is wrong). */
static int has_file(int efd, const char *name)
{
    struct stat st;
    return fstatat(efd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int count_entry(void *ctx, const struct wc_store_item *it)
{
    struct cli_usage_info *u = ctx;

    u->entries++;
    u->results += it->has_meta;
    u->manifests += it->has_manifest;
    u->bytes += it->bytes;
    return 0;
}

int cli_store_usage(const char *dir, struct cli_usage_info *u)
{
    memset(u, 0, sizeof(*u));
    return walk_store(dir, count_entry, u);
}

/* ---- --trim ---- */

struct trim_progress {
    struct cli_progress line;
    uint64_t entries; /* counted before the scan */
};

/* The scan is the first half of the line, the removals the second. */
static void trim_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct trim_progress *t = ctx;

    if (total == 0)
        cli_progress_update(&t->line, done, 2 * t->entries);
    else
        cli_progress_update(&t->line, total + done, 2 * total);
}

int cmd_trim(int argc, char **argv)
{
    struct wc_config c;
    struct wc_trim_result res;
    struct trim_progress tp;
    const char *dir;
    char a[32], b[32];
    int rc;

    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    if ((rc = cli_load(&c)) != 0 || (rc = cli_cache_dir(&c, argv[0], 1, &dir)) != 0)
        goto out;
    cli_progress_start(&tp.line, "Trimming");
    tp.entries = tp.line.on ? cli_count_entries(dir, NULL) : 0;
    struct wc_trim_limits lim = {c.trim_max_folder, c.evict_max_bytes, c.evict_interval_minutes,
                                 trim_progress, &tp};
    int t = wc_dir_trim(dir, &lim, 1, &res);
    cli_progress_end(&tp.line);
    if (t == 2) {
        rc = cli_fail("%s: another process is trimming this cache now; try again", dir);
    } else if (t < 0) {
        rc = cli_fail("cannot trim %s: %s", dir, strerror(-t));
    } else {
        cli_format_size(res.removed_bytes, a, sizeof(a));
        cli_format_size(res.bytes, b, sizeof(b));
        printf("Trimmed %s: removed %" PRIu64 " entries (%s), kept %" PRIu64 " results and %" PRIu64
               " manifests (%s)\n",
               dir, res.removed_entries, a, res.results, res.entries - res.results, b);
    }
out:
    wc_config_free(&c);
    return rc;
}

/* ---- -C / --clear ---- */

/* A bucket goes as the store removes an entry: renamed first (relative to the store's own
 * descriptor: a link in its place is renamed, never followed), so that no reader ever sees a
 * half-deleted entry, then deleted. */
static int clear_bucket(const char *dir, int dfd, const char *name)
{
    static unsigned n;
    char to[NAME_MAX + 64], path[PATH_MAX];

    snprintf(to, sizeof(to), "%s.remove.%ld.%u", name, (long)getpid(), n++);
    if (renameat(dfd, name, dfd, to) != 0)
        return errno == ENOENT ? 0 : -errno;
    snprintf(path, sizeof(path), "%s/%s", dir, to);
    return wc_rm_rf(path);
}

static int clear_buckets(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    struct cli_progress p;
    uint64_t done = 0, total = 0;
    int rc = 0;

    if (!d)
        return -errno;
    cli_progress_start(&p, "Clearing");
    if (p.on)
        cli_count_entries(dir, &total);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (!cli_is_bucket(de->d_name))
            continue;
        rc = clear_bucket(dir, dirfd(d), de->d_name);
        cli_progress_update(&p, ++done, total);
    }
    cli_progress_end(&p);
    closedir(d);
    return rc;
}

/* Everything but the configuration and the statistics (as ccache -C keeps them): the entries,
 * the file-hash memo and the explain index. */
static int clear_all(const char *dir)
{
    char path[PATH_MAX];
    int rc = clear_buckets(dir);

    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/memo", dir);
        if (unlink(path) != 0 && errno != ENOENT)
            rc = -errno;
    }
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/explain", dir);
        rc = wc_rm_rf(path);
    }
    return rc;
}

int cmd_clear(int argc, char **argv)
{
    struct wc_config c;
    struct cli_usage_info u;
    const char *dir;
    char size[32];
    int rc;

    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    if ((rc = cli_load(&c)) != 0 || (rc = cli_cache_dir(&c, argv[0], 1, &dir)) != 0)
        goto out;
    cli_store_usage(dir, &u);
    int err = clear_all(dir);
    if (err < 0) {
        rc = cli_fail("cannot clear %s: %s", dir, strerror(-err));
    } else {
        cli_format_size(u.bytes, size, sizeof(size));
        printf("Cleared %s: removed %" PRIu64 " entries (%s)\n", dir, u.entries, size);
    }
out:
    wc_config_free(&c);
    return rc;
}

/* ---- --verify ---- */

struct verify {
    const char *dir;
    uint64_t results, manifests, partial, broken, unremoved;
    uint64_t seen, total; /* for the progress line */
    struct cli_progress line;
};

/* File `name` of the entry, opened without following a symbolic link: -errno, or -EINVAL
 * for what is not a regular file (a link planted in the store, a FIFO). */
static int open_file(int efd, const char *name)
{
    struct stat st;
    int fd = openat(efd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return fd;
}

/* NULL when file `name` of the entry has this size and hash, else what is wrong. */
static const char *check_file(int efd, const char *name, uint64_t size, const wc_hash *want)
{
    struct stat st;
    wc_hash h;
    int fd = open_file(efd, name), rc;

    if (fd == -ENOENT)
        return "missing";
    if (fd < 0)
        return "unreadable";
    rc = fstat(fd, &st) == 0 ? wc_hash_fd(fd, &h) : -errno;
    close(fd);
    if (rc < 0)
        return "unreadable";
    if ((uint64_t)st.st_size != size)
        return "wrong size";
    return wc_hash_equal(&h, want) ? NULL : "wrong content hash";
}

/* The text of a small file of the entry (meta, manifest), at most max bytes. */
static int read_small(int efd, const char *name, size_t max, char **text, size_t *len)
{
    int fd = open_file(efd, name), rc;

    *text = NULL;
    if (fd < 0)
        return fd;
    rc = wc_read_fd(fd, max, text, len);
    close(fd);
    return rc;
}

/* A result: every output, stdout and stderr as the metadata describes them. */
static int check_result(int efd, char *why, size_t n)
{
    struct wc_entry_meta m;
    char name[32], *text = NULL;
    size_t len;
    const char *bad = NULL;

    if (read_small(efd, "meta", WC_META_MAX_LEN, &text, &len) < 0 ||
        wc_meta_parse(text, len, &m) < 0) {
        free(text);
        snprintf(why, n, "unreadable metadata");
        return -1;
    }
    free(text);
    for (size_t i = 0; i < m.n_outputs && !bad; i++) {
        snprintf(name, sizeof(name), "%zu", i);
        if ((bad = check_file(efd, name, m.outputs[i].size, &m.outputs[i].hash)))
            snprintf(why, n, "output %s (%s): %s", name, m.outputs[i].path, bad);
    }
    if (!bad && m.stdout_size && (bad = check_file(efd, "stdout", m.stdout_size, &m.stdout_hash)))
        snprintf(why, n, "stdout: %s", bad);
    if (!bad && m.stderr_size && (bad = check_file(efd, "stderr", m.stderr_size, &m.stderr_hash)))
        snprintf(why, n, "stderr: %s", bad);
    wc_meta_free(&m);
    return bad ? -1 : 0;
}

static int check_manifest(int efd, const char *key, char *why, size_t n)
{
    char *text = NULL;
    size_t len;
    wc_manifest m;
    wc_hash k;
    int ok;

    if (read_small(efd, "manifest", WC_MANIFEST_MAX_LEN, &text, &len) < 0 ||
        wc_manifest_decode(text, len, &m) < 0) {
        free(text);
        snprintf(why, n, "unreadable manifest");
        return -1;
    }
    free(text);
    ok = wc_hash_from_hex(key, &k) == 0 && wc_hash_equal(&k, &m.k1.key);
    wc_manifest_free(&m);
    if (!ok)
        snprintf(why, n, "manifest of another key");
    return ok ? 0 : -1;
}

/* 1 when the entry is broken (why says how), 0 when good, -1 when it is no entry yet. */
static int check_entry(int efd, const char *key, struct verify *v, char *why, size_t n)
{
    if (has_file(efd, "meta")) {
        v->results++;
        return check_result(efd, why, n) < 0;
    }
    if (has_file(efd, "manifest")) {
        v->manifests++;
        return check_manifest(efd, key, why, n) < 0;
    }
    return -1;
}

static int verify_entry(void *ctx, const struct wc_store_item *it)
{
    struct verify *v = ctx, again = {0};
    char why[PATH_MAX + 64], path[PATH_MAX];
    int rc = check_entry(it->fd, it->key, v, why, sizeof(why));

    cli_progress_update(&v->line, ++v->seen, v->total);
    if (rc < 0)
        v->partial++;
    if (rc <= 0)
        return 0;
    /* A build may have been rewriting this very entry (same key, same content): a second look
     * tells a race from damage, so a good entry is never removed. */
    if (check_entry(it->fd, it->key, &again, why, sizeof(why)) != 1)
        return 0;
    v->broken++;
    cli_progress_erase(&v->line);
    snprintf(path, sizeof(path), "%s/%.2s/%s", v->dir, it->key, it->key);
    rc = wc_dir_remove_entry(path);
    if (rc < 0 && rc != -ENOENT) {
        v->unremoved++;
        fprintf(stderr, "wafcache: broken entry %s: %s; cannot remove it: %s\n", it->key, why,
                strerror(-rc));
    } else {
        printf("Broken entry %s: %s: removed\n", it->key, why);
    }
    return 0;
}

int cmd_verify(int argc, char **argv)
{
    struct wc_config c;
    struct verify v = {0};
    const char *dir;
    int rc;

    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    if ((rc = cli_load(&c)) != 0 || (rc = cli_cache_dir(&c, argv[0], 1, &dir)) != 0)
        goto out;
    v.dir = dir;
    cli_progress_start(&v.line, "Verifying");
    v.total = v.line.on ? cli_count_entries(dir, NULL) : 0;
    int err = walk_store(dir, verify_entry, &v);
    cli_progress_end(&v.line);
    if (err < 0) {
        rc = cli_fail("cannot verify %s: %s", dir, strerror(-err));
        goto out;
    }
    printf("Verified %s: %" PRIu64 " results, %" PRIu64 " manifests; %" PRIu64
           " broken (removed %" PRIu64 ")",
           dir, v.results, v.manifests, v.broken, v.broken - v.unremoved);
    if (v.partial)
        printf("; %" PRIu64 " incomplete entries left alone", v.partial);
    printf("\n");
    if (v.unremoved)
        rc = CLI_CACHE;
out:
    wc_config_free(&c);
    return rc;
}
