/* The LRU trim of the directory store (store/trim.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/dir.h"

static char tmpdir[64];
static char root[128];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/wc-trim-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(root, sizeof(root), "%s/cache", tmpdir);
}

static void teardown(void)
{
    wc_rm_rf(tmpdir);
}

/* Key number i: 32 hex digits, spread over a few <kk> buckets. */
static void key_of(int i, char key[33])
{
    snprintf(key, 33, "%02x%030x", (unsigned)(i % 3) * 0x11 & 0xff, (unsigned)i & 0xffff);
}

static void entry_dir(int i, char *buf, size_t n)
{
    char key[33];
    key_of(i, key);
    snprintf(buf, n, "%s/%.2s/%s", root, key, key);
}

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* Entry i with `size` bytes of output and a metadata file of 10 bytes, last used at t. */
static void make_entry(wc_store *s, int i, size_t size, time_t t)
{
    char key[33], dir[PATH_MAX], *buf = malloc(size + 1);

    key_of(i, key);
    memset(buf, 'a' + i % 26, size);
    ck_assert_int_eq(s->write(s, key, "0", buf, size), 0);
    ck_assert_int_eq(s->write(s, key, "meta", "0123456789", 10), 0);
    free(buf);
    entry_dir(i, dir, sizeof(dir));
    set_mtime(dir, t);
}

/* The space a file uses on disk, as du counts it. */
static uint64_t disk_bytes(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return (uint64_t)st.st_blocks * 512;
}

/* The space entry i (or file `name` of it, when not NULL) uses on disk. */
static uint64_t entry_file_bytes(int i, const char *name)
{
    char dir[PATH_MAX], f[PATH_MAX + 16];

    entry_dir(i, dir, sizeof(dir));
    snprintf(f, sizeof(f), "%s/%s", dir, name ? name : ".");
    return disk_bytes(f);
}

/* The space entry i uses on disk, as the trim counts it: its directory, 0 and meta. */
static uint64_t entry_bytes(int i)
{
    return entry_file_bytes(i, NULL) + entry_file_bytes(i, "0") + entry_file_bytes(i, "meta");
}

static int entry_exists(int i)
{
    char dir[PATH_MAX];
    entry_dir(i, dir, sizeof(dir));
    return access(dir, F_OK) == 0;
}

static wc_store *open_store(void)
{
    struct wc_dir_options opt = {.dir_mode = 0700};
    int err;
    wc_store *s = wc_dir_open(root, &opt, &err);
    ck_assert_ptr_nonnull(s);
    return s;
}

static char *lock_file(void)
{
    static char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s/all.lock", root);
    return buf;
}

/* Entries 0..n-1, entry i last used at base + i (so i = n-1 is the most recent), visited in
 * a scrambled order so creation order does not decide. */
static void make_entries(wc_store *s, int n, size_t size, time_t base)
{
    for (int k = 0; k < n; k++) {
        int i = (k * 7) % n;
        make_entry(s, i, size, base + i * 10);
    }
}

START_TEST(trim_to_max_entries_keeps_most_recent)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 4, .max_bytes = UINT64_MAX};
    struct wc_trim_result res;
    time_t base = time(NULL) - 100000;

    make_entries(s, 10, 100, base);
    uint64_t each = entry_bytes(0);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, &res), 0);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(entry_exists(i) == (i >= 6), "entry %d", i);
    ck_assert_uint_eq(res.entries, 4);
    ck_assert_uint_eq(res.results, 4);
    ck_assert_uint_eq(res.removed_entries, 6);
    ck_assert_uint_eq(res.bytes, 4 * each);
    ck_assert_uint_eq(res.removed_bytes, 6 * each);
    s->close(s);
}
END_TEST

START_TEST(trim_to_max_bytes_keeps_most_recent)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 1000};
    struct wc_trim_result res;
    time_t base = time(NULL) - 100000;

    make_entries(s, 8, 990, base);
    uint64_t each = entry_bytes(0); /* space on disk: blocks, not the 1000 bytes written */
    lim.max_bytes = 3 * each + each / 2;
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, &res), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(entry_exists(i) == (i >= 5), "entry %d", i);
    ck_assert_uint_eq(res.entries, 3);
    ck_assert_uint_eq(res.bytes, 3 * each);
    ck_assert_uint_eq(res.removed_bytes, 5 * each);

    /* A hit (touch) makes an old entry the most recent: it survives the next trim. */
    char key[33];
    key_of(5, key);
    ck_assert_int_eq(s->touch(s, key), 0);
    lim.max_bytes = each;
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, &res), 0);
    ck_assert(entry_exists(5));
    ck_assert(!entry_exists(6));
    ck_assert(!entry_exists(7));
    s->close(s);
}
END_TEST

START_TEST(trim_both_limits)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 5};
    time_t base = time(NULL) - 100000;

    make_entries(s, 8, 990, base);
    uint64_t each = entry_bytes(0);
    lim.max_bytes = 2 * each + each / 2;
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, NULL), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(entry_exists(i) == (i >= 6), "entry %d", i);
    /* Within both limits: nothing to do. */
    lim.max_entries = 2;
    lim.max_bytes = 2 * each;
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, NULL), 0);
    ck_assert(entry_exists(6) && entry_exists(7));
    s->close(s);
}
END_TEST

/* A limit of 0 is no limit, as ccache's -M 0 and -F 0. */
START_TEST(zero_is_no_limit)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 0, .max_bytes = 0};
    struct wc_trim_result res;

    make_entries(s, 5, 100, time(NULL) - 1000);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, &res), 0);
    ck_assert_uint_eq(res.removed_entries, 0);
    for (int i = 0; i < 5; i++)
        ck_assert(entry_exists(i));
    s->close(s);
}
END_TEST

/* The limit on entries counts results: manifests (the oldest here) stay while it alone is
 * over. */
START_TEST(manifests_not_counted)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 2};
    struct wc_trim_result res;
    char key[33], dir[PATH_MAX];
    time_t base = time(NULL) - 100000;

    make_entries(s, 4, 100, base);
    for (int i = 10; i < 13; i++) {
        key_of(i, key);
        ck_assert_int_eq(s->write(s, key, "manifest", "m", 1), 0);
        entry_dir(i, dir, sizeof(dir));
        set_mtime(dir, base - 1000);
    }
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, &res), 0);
    ck_assert_uint_eq(res.results, 2);
    ck_assert_uint_eq(res.entries, 5);
    for (int i = 10; i < 13; i++)
        ck_assert(entry_exists(i));
    ck_assert(!entry_exists(0) && !entry_exists(1) && entry_exists(2) && entry_exists(3));
    s->close(s);
}
END_TEST

START_TEST(trim_ignores_foreign_files)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 1000, .max_bytes = 1}; /* removes all */
    char p[PATH_MAX];

    make_entries(s, 2, 10, time(NULL) - 1000);
    snprintf(p, sizeof(p), "%s/README", root);
    ck_assert_int_eq(wc_write_file_atomic(p, "x", 1, 0644), 0);
    snprintf(p, sizeof(p), "%s/zz/notakey", root);
    ck_assert_int_eq(wc_mkdir_p(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/00/short", root);
    ck_assert_int_eq(wc_mkdir_p(p, 0700), 0);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, NULL), 0);
    ck_assert(!entry_exists(0) && !entry_exists(1));
    snprintf(p, sizeof(p), "%s/README", root);
    ck_assert_int_eq(access(p, F_OK), 0);
    snprintf(p, sizeof(p), "%s/zz/notakey", root);
    ck_assert_int_eq(access(p, F_OK), 0);
    snprintf(p, sizeof(p), "%s/00/short", root);
    ck_assert_int_eq(access(p, F_OK), 0);
    s->close(s);
}
END_TEST

START_TEST(interval_respected)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 2, .max_bytes = UINT64_MAX, .interval_minutes = 3};
    struct stat st;
    time_t base = time(NULL) - 100000;

    /* No lock yet: due, and the first non-forced trim runs. */
    ck_assert_int_eq(wc_dir_trim_due(root, &lim), 1);
    make_entries(s, 4, 10, base);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 0, NULL), 0);
    ck_assert(!entry_exists(0) && !entry_exists(1) && entry_exists(3));
    ck_assert_int_eq(stat(lock_file(), &st), 0);
    ck_assert_int_ge(st.st_mtime, time(NULL) - 5);

    /* Within the interval: nothing happens, even over the limits. */
    ck_assert_int_eq(wc_dir_trim_due(root, &lim), 0);
    make_entries(s, 4, 10, base);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 0, NULL), 1);
    for (int i = 0; i < 4; i++)
        ck_assert(entry_exists(i));

    /* Forced: runs anyway. */
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, NULL), 0);
    ck_assert(!entry_exists(0) && entry_exists(3));

    /* The interval has passed (the lock is 4 minutes old): due again, and the trim runs and
     * refreshes the lock. */
    make_entries(s, 4, 10, base);
    set_mtime(lock_file(), time(NULL) - 4 * 60);
    ck_assert_int_eq(wc_dir_trim_due(root, &lim), 1);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 0, NULL), 0);
    ck_assert(!entry_exists(0) && entry_exists(3));
    ck_assert_int_eq(stat(lock_file(), &st), 0);
    ck_assert_int_ge(st.st_mtime, time(NULL) - 5);
    ck_assert_int_eq(wc_dir_trim_due(root, &lim), 0);

    /* An interval of 0 minutes: always due. */
    lim.interval_minutes = 0;
    ck_assert_int_eq(wc_dir_trim_due(root, &lim), 1);
    s->close(s);
}
END_TEST

START_TEST(lock_held_elsewhere_returns_2)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 1000, .max_bytes = 1}; /* removes all */
    int ready[2], go[2];
    pid_t child;
    char c;

    make_entries(s, 3, 10, time(NULL) - 1000);
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(go), 0);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        int fd = open(lock_file(), O_RDWR | O_CREAT, 0644);
        if (fd < 0 || flock(fd, LOCK_EX) != 0)
            _exit(1);
        if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        _exit(0);
    }
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, NULL), 2);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 0, NULL), 2);
    for (int i = 0; i < 3; i++)
        ck_assert(entry_exists(i));
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, NULL), 0);
    for (int i = 0; i < 3; i++)
        ck_assert(!entry_exists(i));
    s->close(s);
}
END_TEST

/* Leftovers of dead writers and unfinished removals are swept once an hour old. */
START_TEST(sweeps_stale_leftovers)
{
    wc_store *s = open_store();
    struct wc_trim_limits lim = {.max_entries = 100, .max_bytes = UINT64_MAX};
    struct wc_trim_result res;
    char dir[512], old_tmp[PATH_MAX], new_tmp[PATH_MAX], old_rm[1024], new_rm[1024],
        root_tmp[PATH_MAX], p[PATH_MAX];
    time_t now = time(NULL);

    make_entry(s, 1, 100, now - 10);
    entry_dir(1, dir, sizeof(dir));
    snprintf(old_tmp, sizeof(old_tmp), "%s/0.wctmp.99999.1", dir);
    snprintf(new_tmp, sizeof(new_tmp), "%s/0.wctmp.99999.2", dir);
    ck_assert_int_eq(wc_write_file_atomic(old_tmp, "12345", 5, 0644), 0);
    ck_assert_int_eq(wc_write_file_atomic(new_tmp, "12345", 5, 0644), 0);
    set_mtime(old_tmp, now - 2 * 3600);
    snprintf(old_rm, sizeof(old_rm), "%s.remove.99999.1", dir);
    snprintf(new_rm, sizeof(new_rm), "%s.remove.99999.2", dir);
    snprintf(p, sizeof(p), "%s/0", old_rm);
    ck_assert_int_eq(wc_mkdir_p(old_rm, 0700), 0);
    ck_assert_int_eq(wc_write_file_atomic(p, "x", 1, 0644), 0);
    ck_assert_int_eq(wc_mkdir_p(new_rm, 0700), 0);
    set_mtime(old_rm, now - 2 * 3600);
    snprintf(root_tmp, sizeof(root_tmp), "%s/stats.wctmp.99999.3", root);
    ck_assert_int_eq(wc_write_file_atomic(root_tmp, "x", 1, 0644), 0);
    set_mtime(root_tmp, now - 2 * 3600);
    /* The entry's own time must not move because of the sweep within it. */
    set_mtime(dir, now - 10);

    ck_assert_int_eq(wc_dir_trim(root, &lim, 1, &res), 0);
    ck_assert_int_eq(access(old_tmp, F_OK), -1);
    ck_assert_int_eq(access(new_tmp, F_OK), 0);
    ck_assert_int_eq(access(old_rm, F_OK), -1);
    ck_assert_int_eq(access(new_rm, F_OK), 0);
    ck_assert_int_eq(access(root_tmp, F_OK), -1);
    ck_assert(entry_exists(1));
    struct stat st;
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_eq(st.st_mtime, now - 10);
    ck_assert_uint_eq(res.entries, 1); /* a ".remove." directory is not an entry */
    ck_assert_uint_eq(res.bytes, entry_bytes(1) + disk_bytes(new_tmp));
    s->close(s);
}
END_TEST

/* ---- the walk of the layout (store/dir_walk.c), behind foreach() ---- */

struct seen {
    int n, metas, manifests;
    unsigned long long bytes;
    char keys[8][33];
};

static int see(void *ctx, const struct wc_store_item *it)
{
    struct seen *w = ctx;

    ck_assert_int_ge(it->fd, 0);
    if (w->n < 8)
        snprintf(w->keys[w->n], 33, "%s", it->key);
    w->n++;
    w->metas += it->has_meta;
    w->manifests += it->has_manifest;
    w->bytes += it->bytes;
    return 0;
}

START_TEST(foreach_tells_each_entry)
{
    wc_store *s = open_store();
    struct seen w = {0};
    char key[33];

    make_entry(s, 0, 100, 1000);
    make_entry(s, 1, 5, 2000);
    key_of(2, key);
    ck_assert_int_eq(s->write(s, key, "manifest", "m", 1), 0);
    ck_assert_ptr_nonnull(s->foreach);
    ck_assert_int_eq(s->foreach (s, see, &w), 0);
    ck_assert_int_eq(w.n, 3);
    ck_assert_int_eq(w.metas, 2);
    ck_assert_int_eq(w.manifests, 1);
    ck_assert_uint_eq(w.bytes, entry_bytes(0) + entry_bytes(1) + entry_file_bytes(2, NULL) +
                                   entry_file_bytes(2, "manifest"));
    s->close(s);
}
END_TEST

static int stop_at_first(void *ctx, const struct wc_store_item *it)
{
    (void)it;
    ++*(int *)ctx;
    return 42;
}

START_TEST(foreach_stops_when_asked)
{
    wc_store *s = open_store();
    int calls = 0;

    make_entry(s, 0, 1, 1000);
    make_entry(s, 1, 1, 1000);
    ck_assert_int_eq(s->foreach (s, stop_at_first, &calls), 42);
    ck_assert_int_eq(calls, 1);
    s->close(s);
}
END_TEST

/* Links planted in the cache, as a bucket or as an entry, lead elsewhere: never walked. */
START_TEST(walk_follows_no_link)
{
    wc_store *s = open_store();
    struct seen w = {0};
    char key[33], dir[256], elsewhere[128], link[PATH_MAX + 40];

    make_entry(s, 0, 1, 1000);
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", tmpdir);
    ck_assert_int_eq(rename(root, elsewhere), 0);
    s->close(s);
    s = open_store();
    /* <kk> a link to a bucket elsewhere, and an entry that is a link to an entry elsewhere. */
    key_of(0, key);
    snprintf(dir, sizeof dir, "%s/%.2s", elsewhere, key);
    snprintf(link, sizeof link, "%s/%.2s", root, key);
    ck_assert_int_eq(symlink(dir, link), 0);
    key_of(1, key);
    snprintf(link, sizeof link, "%s/%.2s", root, key);
    ck_assert_int_eq(mkdir(link, 0700), 0);
    snprintf(link, sizeof link, "%s/%.2s/%s", root, key, key);
    snprintf(dir, sizeof dir, "%s/%.2s", elsewhere, "00");
    ck_assert_int_eq(symlink(dir, link), 0);
    ck_assert_int_eq(wc_dir_walk(root, 1, see, &w), 0);
    ck_assert_int_eq(w.n, 0);
    s->close(s);
}
END_TEST

START_TEST(walk_of_no_store)
{
    struct seen w = {0};
    ck_assert_int_eq(wc_dir_walk("/nonexistent/wafcache", 0, see, &w), -ENOENT);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("trim");
    TCase *tc = tcase_create("trim");
    SRunner *r;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, trim_to_max_entries_keeps_most_recent);
    tcase_add_test(tc, trim_to_max_bytes_keeps_most_recent);
    tcase_add_test(tc, trim_both_limits);
    tcase_add_test(tc, zero_is_no_limit);
    tcase_add_test(tc, manifests_not_counted);
    tcase_add_test(tc, trim_ignores_foreign_files);
    tcase_add_test(tc, interval_respected);
    tcase_add_test(tc, lock_held_elsewhere_returns_2);
    tcase_add_test(tc, sweeps_stale_leftovers);
    tcase_add_test(tc, foreach_tells_each_entry);
    tcase_add_test(tc, foreach_stops_when_asked);
    tcase_add_test(tc, walk_follows_no_link);
    tcase_add_test(tc, walk_of_no_store);
    suite_add_tcase(su, tc);

    r = srunner_create(su);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
