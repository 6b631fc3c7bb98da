/* The guard (store/guard.h): a remote store found down is skipped at once, here and, through
 * the marker file, by a second guard on the same store; one line is handed to the caller, by
 * the guard that found the store down first. The remote is a fake whose answers the test sets.
 * Then wc_store_open (store/open.c), the one place that puts guard and tier together. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "core/util.h"
#include "store/guard.h"
#include "store/open.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define CACHE "http://cache.example/x"

static char tmp[PATH_MAX];

static void make_tmp(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmp, sizeof(tmp), "%s/wc-test-guard.XXXXXX", t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
    wc_rm_rf(tmp);
}

/* ---- a fake remote store: every operation answers rc and is counted ---- */

struct fake {
    wc_store base;
    int rc;    /* what every operation returns */
    int calls; /* how many reached it */
};

static struct fake *fake_of(wc_store *s)
{
    return (struct fake *)s;
}

static int answer(wc_store *s)
{
    struct fake *f = fake_of(s);
    f->calls++;
    return f->rc < 0 ? wc_store_fail(s, f->rc, "no answer from cache.example") : 0;
}

static int f_get(wc_store *s, const char *k, const char *n, size_t m, const char *d)
{
    (void)k, (void)n, (void)m, (void)d;
    return answer(s);
}

static int f_read(wc_store *s, const char *k, const char *n, size_t m, char **b, size_t *l)
{
    (void)k, (void)n, (void)m;
    *b = NULL;
    *l = 0;
    return answer(s);
}

static int f_put(wc_store *s, const char *k, const char *n, const char *src)
{
    (void)k, (void)n, (void)src;
    return answer(s);
}

static int f_write(wc_store *s, const char *k, const char *n, const void *b, size_t l)
{
    (void)k, (void)n, (void)b, (void)l;
    return answer(s);
}

static int f_exists(wc_store *s, const char *k, const char *n)
{
    (void)k, (void)n;
    return answer(s);
}

static int f_touch(wc_store *s, const char *k)
{
    (void)k;
    return answer(s);
}

static int f_remove(wc_store *s, const char *k)
{
    (void)k;
    return answer(s);
}

static void f_close(wc_store *s)
{
    free(s);
}

static struct fake *fake_new(int rc)
{
    struct fake *f = calloc(1, sizeof(*f));

    ck_assert_ptr_nonnull(f);
    f->rc = rc;
    f->base = (wc_store){.version = WC_STORE_VERSION,
                         .name = "fake",
                         .get = f_get,
                         .read = f_read,
                         .put = f_put,
                         .write = f_write,
                         .exists = f_exists,
                         .touch = f_touch,
                         .remove = f_remove,
                         .close = f_close,
                         .reason = wc_store_last_reason};
    return f;
}

/* ---- what the guard says ---- */

static int said;
static char last_line[700];

static void say(void *ctx, const char *line)
{
    ck_assert_ptr_eq(ctx, &said);
    said++;
    snprintf(last_line, sizeof last_line, "%s", line);
}

static wc_store *guard(struct fake *f, const char *cache, const char *dir)
{
    wc_store *g = wc_guard_open(&f->base, cache, dir, say, &said);

    ck_assert_ptr_nonnull(g);
    return g;
}

/* The markers in tmp: down-<16 hex digits>, one per store found down. */
static int markers(void)
{
    DIR *d = opendir(tmp);
    int n = 0;

    ck_assert_ptr_nonnull(d);
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += strncmp(de->d_name, "down-", 5) == 0 && strlen(de->d_name) == 21;
    closedir(d);
    return n;
}

/* The one marker's path (markers() == 1). */
static void marker(char *buf, size_t n)
{
    DIR *d = opendir(tmp);

    ck_assert_ptr_nonnull(d);
    buf[0] = '\0';
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (strncmp(de->d_name, "down-", 5) == 0)
            snprintf(buf, n, "%s/%s", tmp, de->d_name);
    closedir(d);
    ck_assert(buf[0] != '\0');
}

static void reset_said(void)
{
    said = 0;
    last_line[0] = '\0';
    make_tmp();
}

/* ---- the tests ---- */

START_TEST(other_failures_pass_through)
{
    struct fake *f = fake_new(-ENOENT);
    wc_store *g = guard(f, CACHE, tmp);
    char *buf;
    size_t len;

    ck_assert_int_eq(g->exists(g, KEY, "meta"), -ENOENT);
    ck_assert_int_eq(g->read(g, KEY, "meta", 10, &buf, &len), -ENOENT);
    ck_assert_int_eq(g->put(g, KEY, "0", "/nonexistent"), -ENOENT);
    ck_assert_int_eq(f->calls, 3);
    ck_assert_int_eq(wc_guard_down(g), 0);
    ck_assert_str_eq(g->reason(g), "no answer from cache.example"); /* the inner store's */
    ck_assert_int_eq(markers(), 0);
    ck_assert_int_eq(said, 0);
    f->rc = 0;
    ck_assert_int_eq(g->touch(g, KEY), 0);
    g->close(g);
}
END_TEST

static const int down_errors[] = {-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH};

START_TEST(down_is_skipped_and_said_once)
{
    struct fake *f = fake_new(down_errors[_i]);
    wc_store *g = guard(f, CACHE, tmp);
    char *buf = (char *)"x";
    size_t len = 1;

    ck_assert_int_eq(g->get(g, KEY, "0", 10, "/nonexistent/x"), down_errors[_i]);
    ck_assert_int_eq(wc_guard_down(g), 1);
    ck_assert_int_eq(said, 1);
    ck_assert_str_eq(last_line,
                     "remote cache unavailable (no answer from cache.example); not used for 30 s");
    ck_assert_int_eq(markers(), 1);
    /* From now on the remote is not asked. */
    ck_assert_int_eq(g->get(g, KEY, "0", 10, "/nonexistent/x"), -EHOSTDOWN);
    ck_assert_int_eq(g->read(g, KEY, "meta", 10, &buf, &len), -EHOSTDOWN);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(g->put(g, KEY, "0", "/x"), -EHOSTDOWN);
    ck_assert_int_eq(g->write(g, KEY, "0", "x", 1), -EHOSTDOWN);
    ck_assert_int_eq(g->exists(g, KEY, "0"), -EHOSTDOWN);
    ck_assert_int_eq(g->touch(g, KEY), -EHOSTDOWN);
    ck_assert_int_eq(g->remove(g, KEY), -EHOSTDOWN);
    ck_assert_int_eq(f->calls, 1);
    ck_assert_int_eq(said, 1);
    ck_assert_str_eq(g->reason(g), "no answer from cache.example");
    g->close(g);
}
END_TEST

START_TEST(marker_shared_with_another_guard)
{
    struct fake *f1 = fake_new(-ETIMEDOUT), *f2 = fake_new(0), *f3 = fake_new(0);
    wc_store *g1 = guard(f1, CACHE, tmp), *g2, *g3;

    ck_assert_int_eq(g1->exists(g1, KEY, "meta"), -ETIMEDOUT);
    /* Another runner on the same store: down from the start, silent, the remote not asked. */
    g2 = guard(f2, CACHE, tmp);
    ck_assert_int_eq(wc_guard_down(g2), 1);
    ck_assert_int_eq(g2->exists(g2, KEY, "meta"), -EHOSTDOWN);
    ck_assert_int_eq(f2->calls, 0);
    ck_assert_ptr_nonnull(strstr(g2->reason(g2), "found unavailable by another run"));
    ck_assert_int_eq(said, 1);
    /* Another store is not concerned. */
    g3 = guard(f3, "http://other.example/", tmp);
    ck_assert_int_eq(wc_guard_down(g3), 0);
    ck_assert_int_eq(g3->exists(g3, KEY, "meta"), 0);
    g1->close(g1);
    g2->close(g2);
    g3->close(g3);
}
END_TEST

START_TEST(stale_marker_expires)
{
    struct fake *f1 = fake_new(-ECONNREFUSED), *f2 = fake_new(-ECONNREFUSED);
    wc_store *g1 = guard(f1, CACHE, tmp), *g2;
    char path[PATH_MAX + 300];
    struct utimbuf old;

    ck_assert_int_eq(g1->touch(g1, KEY), -ECONNREFUSED);
    marker(path, sizeof path);
    old.actime = old.modtime = time(NULL) - WC_GUARD_TTL_S - 5;
    ck_assert_int_eq(utime(path, &old), 0);
    /* The server is tried again, and the runner that finds it still down says so again. */
    g2 = guard(f2, CACHE, tmp);
    ck_assert_int_eq(wc_guard_down(g2), 0);
    ck_assert_int_eq(g2->touch(g2, KEY), -ECONNREFUSED);
    ck_assert_int_eq(f2->calls, 1);
    ck_assert_int_eq(said, 2);
    ck_assert_int_eq(markers(), 1);
    g1->close(g1);
    g2->close(g2);
}
END_TEST

/* EACCES says "refused credentials" only when nothing local was involved: get and put open
 * local files. */
START_TEST(eacces_only_on_remote_only_requests)
{
    struct fake *f = fake_new(-EACCES);
    wc_store *g = guard(f, CACHE, tmp);
    char *buf;
    size_t len;

    ck_assert_int_eq(g->get(g, KEY, "0", 10, "/x"), -EACCES);
    ck_assert_int_eq(g->put(g, KEY, "0", "/x"), -EACCES);
    ck_assert_int_eq(wc_guard_down(g), 0);
    ck_assert_int_eq(g->read(g, KEY, "meta", 10, &buf, &len), -EACCES);
    ck_assert_int_eq(wc_guard_down(g), 1);
    ck_assert_int_eq(said, 1);
    g->close(g);
}
END_TEST

START_TEST(no_marker_dir_keeps_the_verdict_here)
{
    struct fake *f = fake_new(-ETIMEDOUT);
    wc_store *g = guard(f, CACHE, NULL);

    ck_assert_int_eq(g->write(g, KEY, "meta", "m", 1), -ETIMEDOUT);
    ck_assert_int_eq(wc_guard_down(g), 1);
    ck_assert_int_eq(said, 1);
    ck_assert_int_eq(markers(), 0);
    ck_assert_int_eq(g->write(g, KEY, "meta", "m", 1), -EHOSTDOWN);
    ck_assert_int_eq(f->calls, 1);
    g->close(g);
}
END_TEST

START_TEST(silent_without_say)
{
    struct fake *f = fake_new(-ETIMEDOUT);
    wc_store *g = wc_guard_open(&f->base, CACHE, tmp, NULL, NULL);

    ck_assert_int_eq(g->exists(g, KEY, "meta"), -ETIMEDOUT);
    ck_assert_int_eq(wc_guard_down(g), 1);
    ck_assert_int_eq(markers(), 1);
    g->close(g);
}
END_TEST

/* A guarded store is all remote: wc_store_side finds it, as it finds a tier's remote side. */
START_TEST(guard_is_a_remote_side)
{
    struct fake *f = fake_new(0);
    wc_store *g = guard(f, CACHE, tmp);

    ck_assert_ptr_eq(wc_store_side(g, WC_STORE_REMOTE), g);
    ck_assert_ptr_null(wc_store_side(g, WC_STORE_LOCAL));
    ck_assert_int_eq(g->version, WC_STORE_VERSION);
    g->close(g);
}
END_TEST

/* ---- assembled by wc_store_open (store/open.c) ---- */

static int notices[2];

static void notice(void *ctx, enum wc_store_notice what, const char *line)
{
    ck_assert_ptr_eq(ctx, notices);
    ck_assert(line[0] != '\0');
    notices[what]++;
}

/* gs:// through the bucket command ("true" stands for gsutil: only its presence matters). */
static struct wc_config bucket_config(const char *local)
{
    return (struct wc_config){.cache = (char *)"gs://bucket/",
                              .kind = WC_STORE_GS,
                              .cmd = (char *)"true",
                              .local = (char *)local,
                              .timeout_ms = 1000,
                              .dir_mode = 0700};
}

START_TEST(open_assembles_tier_and_guard)
{
    char local[PATH_MAX + 16], why[256];
    struct wc_config c;
    struct wc_store_options o = {.guard = 1, .guard_dir = tmp, .notice = notice, .ctx = notices};
    wc_store *s, *remote;
    int err;

    snprintf(local, sizeof local, "%s/local", tmp);
    c = bucket_config(local);
    s = wc_store_open(&c, &o, &err, why, sizeof why);
    ck_assert_msg(s != NULL, "%s", why);
    ck_assert_str_eq(s->name, "tier");
    ck_assert_str_eq(wc_store_side(s, WC_STORE_LOCAL)->name, "dir");
    remote = wc_store_side(s, WC_STORE_REMOTE);
    ck_assert_ptr_nonnull(remote);
    ck_assert_int_eq(wc_guard_down(remote), 0); /* the guard is the remote side */
    s->close(s);
    /* The remote alone, for the background uploader. */
    o.remote_only = 1;
    s = wc_store_open(&c, &o, &err, why, sizeof why);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_eq(wc_store_side(s, WC_STORE_REMOTE), s);
    ck_assert_int_eq(wc_guard_down(s), 0);
    s->close(s);
    ck_assert_int_eq(notices[WC_STORE_NOTICE_LOCAL] + notices[WC_STORE_NOTICE_DOWN], 0);
}
END_TEST

/* A WAFCACHE_LOCAL that cannot be opened leaves the remote alone, and says so. */
START_TEST(open_without_its_local_tier)
{
    char why[256];
    struct wc_config c = bucket_config("relative/dir");
    struct wc_store_options o = {.guard = 1, .guard_dir = tmp, .notice = notice, .ctx = notices};
    wc_store *s;
    int err;

    notices[0] = notices[1] = 0;
    s = wc_store_open(&c, &o, &err, why, sizeof why);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_eq(wc_store_side(s, WC_STORE_REMOTE), s);
    ck_assert_int_eq(notices[WC_STORE_NOTICE_LOCAL], 1);
    s->close(s);
}
END_TEST

START_TEST(open_a_directory)
{
    char dir[PATH_MAX + 16], why[256];
    struct wc_config c = {.kind = WC_STORE_DIR, .cache = dir, .dir_mode = 0700};
    struct wc_store_options o = {.guard = 1};
    wc_store *s;
    int err;

    snprintf(dir, sizeof dir, "%s/cache", tmp);
    s = wc_store_open(&c, &o, &err, why, sizeof why);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->name, "dir"); /* a local cache is never guarded */
    ck_assert_ptr_nonnull(s->foreach);
    s->close(s);
    c.cache = (char *)"relative";
    ck_assert_ptr_null(wc_store_open(&c, &o, &err, why, sizeof why));
    ck_assert_int_eq(err, -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "cannot open the cache relative"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("guard");
    SRunner *r;
    int failed;

    tcase_add_checked_fixture(tc, reset_said, teardown);
    tcase_add_test(tc, other_failures_pass_through);
    tcase_add_loop_test(tc, down_is_skipped_and_said_once, 0,
                        sizeof(down_errors) / sizeof(down_errors[0]));
    tcase_add_test(tc, marker_shared_with_another_guard);
    tcase_add_test(tc, stale_marker_expires);
    tcase_add_test(tc, eacces_only_on_remote_only_requests);
    tcase_add_test(tc, no_marker_dir_keeps_the_verdict_here);
    tcase_add_test(tc, silent_without_say);
    tcase_add_test(tc, guard_is_a_remote_side);
    tcase_add_test(tc, open_assembles_tier_and_guard);
    tcase_add_test(tc, open_without_its_local_tier);
    tcase_add_test(tc, open_a_directory);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
