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

typedef int (*entry_fn)(void *ctx, const char *path, const char *key);

static int is_bucket(const char *name)
{
    return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

static int walk_bucket(const char *bucket, const char *kk, entry_fn fn, void *ctx)
{
    DIR *d = opendir(bucket);
    struct dirent *de;
    int rc = 0;

    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        if (!wc_store_key_valid(de->d_name) || strncmp(de->d_name, kk, 2) != 0)
            continue; /* ".", temporaries, removals in progress: not entries */
        if (snprintf(path, sizeof(path), "%s/%s", bucket, de->d_name) >= (int)sizeof(path))
            continue;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = fn(ctx, path, de->d_name);
    }
    closedir(d);
    return rc;
}

/* Calls fn for every entry directory; a missing store is an empty one. 0, fn's non-zero
 * return, or -errno. */
static int walk_store(const char *dir, entry_fn fn, void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (!d)
        return errno == ENOENT ? 0 : -errno;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        if (!is_bucket(de->d_name))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
            continue;
        rc = walk_bucket(path, de->d_name, fn, ctx);
    }
    closedir(d);
    return rc;
}

static int has_file(const char *entry, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", entry, name);
    return access(path, F_OK) == 0;
}

/* The sum of an entry's files, as the trim counts it. */
static uint64_t entry_bytes(const char *entry)
{
    DIR *d = opendir(entry);
    struct dirent *de;
    uint64_t n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            n += (uint64_t)st.st_size;
    }
    closedir(d);
    return n;
}

static int count_entry(void *ctx, const char *path, const char *key)
{
    struct cli_usage_info *u = ctx;

    (void)key;
    u->entries++;
    u->results += has_file(path, "meta");
    u->manifests += has_file(path, "manifest");
    u->bytes += entry_bytes(path);
    return 0;
}

int cli_store_usage(const char *dir, struct cli_usage_info *u)
{
    memset(u, 0, sizeof(*u));
    return walk_store(dir, count_entry, u);
}

/* ---- --trim ---- */

int cmd_trim(int argc, char **argv)
{
    struct wc_config c;
    struct wc_trim_result res;
    const char *dir;
    char a[32], b[32];
    int rc;

    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    if ((rc = cli_load(&c)) != 0 || (rc = cli_cache_dir(&c, argv[0], 1, &dir)) != 0)
        goto out;
    struct wc_trim_limits lim = {c.trim_max_folder, c.evict_max_bytes, c.evict_interval_minutes};
    int t = wc_dir_trim(dir, &lim, 1, &res);
    if (t == 2) {
        rc = cli_fail("%s: another process is trimming this cache now; try again", dir);
    } else if (t < 0) {
        rc = cli_fail("cannot trim %s: %s", dir, strerror(-t));
    } else {
        cli_format_size(res.removed_bytes, a, sizeof(a));
        cli_format_size(res.bytes, b, sizeof(b));
        printf("Trimmed %s: removed %" PRIu64 " entries (%s), kept %" PRIu64 " entries (%s)\n", dir,
               res.removed_entries, a, res.entries, b);
    }
out:
    wc_config_free(&c);
    return rc;
}

/* ---- -C / --clear ---- */

/* A bucket goes as the store removes an entry: renamed first, so that no reader ever sees a
 * half-deleted entry, then deleted. */
static int clear_bucket(const char *dir, const char *name)
{
    static unsigned n;
    char from[PATH_MAX], to[PATH_MAX];

    snprintf(from, sizeof(from), "%s/%s", dir, name);
    snprintf(to, sizeof(to), "%s/%s.remove.%ld.%u", dir, name, (long)getpid(), n++);
    if (rename(from, to) != 0)
        return errno == ENOENT ? 0 : -errno;
    return wc_rm_rf(to);
}

static int clear_buckets(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (!d)
        return -errno;
    while (rc == 0 && (de = readdir(d)) != NULL)
        if (is_bucket(de->d_name))
            rc = clear_bucket(dir, de->d_name);
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
    uint64_t results, manifests, partial, broken, unremoved;
};

/* NULL when file `name` of the entry has this size and hash, else what is wrong. */
static const char *check_file(const char *entry, const char *name, uint64_t size,
                              const wc_hash *want)
{
    char path[PATH_MAX];
    struct stat st;
    wc_hash h;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", entry, name);
    rc = wc_hash_path(path, &h, &st);
    if (rc == -ENOENT)
        return "missing";
    if (rc < 0)
        return "unreadable";
    if ((uint64_t)st.st_size != size)
        return "wrong size";
    return wc_hash_equal(&h, want) ? NULL : "wrong content hash";
}

/* A result: every output, stdout and stderr as the metadata describes them. */
static int check_result(const char *entry, char *why, size_t n)
{
    struct wc_entry_meta m;
    char path[PATH_MAX], name[32], *text = NULL;
    size_t len;
    const char *bad = NULL;

    snprintf(path, sizeof(path), "%s/meta", entry);
    if (wc_read_file(path, WC_META_MAX_LEN, &text, &len) < 0 || wc_meta_parse(text, len, &m) < 0) {
        free(text);
        snprintf(why, n, "unreadable metadata");
        return -1;
    }
    free(text);
    for (size_t i = 0; i < m.n_outputs && !bad; i++) {
        snprintf(name, sizeof(name), "%zu", i);
        if ((bad = check_file(entry, name, m.outputs[i].size, &m.outputs[i].hash)))
            snprintf(why, n, "output %s (%s): %s", name, m.outputs[i].path, bad);
    }
    if (!bad && m.stdout_size && (bad = check_file(entry, "stdout", m.stdout_size, &m.stdout_hash)))
        snprintf(why, n, "stdout: %s", bad);
    if (!bad && m.stderr_size && (bad = check_file(entry, "stderr", m.stderr_size, &m.stderr_hash)))
        snprintf(why, n, "stderr: %s", bad);
    wc_meta_free(&m);
    return bad ? -1 : 0;
}

static int check_manifest(const char *entry, const char *key, char *why, size_t n)
{
    char path[PATH_MAX], *text = NULL;
    size_t len;
    wc_manifest m;
    wc_hash k;
    int ok;

    snprintf(path, sizeof(path), "%s/manifest", entry);
    if (wc_read_file(path, WC_MANIFEST_MAX_LEN, &text, &len) < 0 ||
        wc_manifest_parse(text, len, &m) < 0) {
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
static int check_entry(const char *path, const char *key, struct verify *v, char *why, size_t n)
{
    if (has_file(path, "meta")) {
        v->results++;
        return check_result(path, why, n) < 0;
    }
    if (has_file(path, "manifest")) {
        v->manifests++;
        return check_manifest(path, key, why, n) < 0;
    }
    return -1;
}

static int verify_entry(void *ctx, const char *path, const char *key)
{
    struct verify *v = ctx, again = {0};
    char why[PATH_MAX + 64];
    int rc = check_entry(path, key, v, why, sizeof(why));

    if (rc < 0)
        v->partial++;
    if (rc <= 0)
        return 0;
    /* A build may have been rewriting this very entry (same key, same content): a second look
     * tells a race from damage, so a good entry is never removed. */
    if (check_entry(path, key, &again, why, sizeof(why)) != 1)
        return 0;
    v->broken++;
    rc = wc_dir_remove_entry(path);
    if (rc < 0 && rc != -ENOENT) {
        v->unremoved++;
        fprintf(stderr, "wafcache: broken entry %s: %s; cannot remove it: %s\n", key, why,
                strerror(-rc));
    } else {
        printf("Broken entry %s: %s: removed\n", key, why);
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
    int err = walk_store(dir, verify_entry, &v);
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
