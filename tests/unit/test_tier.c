/* The tiered store: a local directory store in front of a "remote" one (another directory
 * store here), each wrapped so that the test can count calls and inject failures. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "store/dir.h"
#include "store/tier.h"

#define KEY "0123456789abcdef0123456789abcdef"

static char tmp[PATH_MAX];

static void setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmp, sizeof(tmp), "%s/wc-test-tier.XXXXXX", t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
    wc_rm_rf(tmp);
}

static char *path_in(const char *name)
{
    static char buf[4][PATH_MAX + 64];
    static int i;
    char *p = buf[i++ % 4];

    snprintf(p, sizeof(buf[0]), "%s/%s", tmp, name);
    return p;
}

/* ---- a wrapper store: counts calls, fails on demand ---- */

struct probe {
    wc_store base;
    wc_store *inner;
    int gets, reads, puts, writes, exists;
    int fail_push;  /* put/write return this (e.g. -ENOSPC) when non-zero */
    int fail_fetch; /* get/read return this when non-zero */
};

static struct probe *probe_of(wc_store *s)
{
    return (struct probe *)s;
}

static int p_get(wc_store *s, const char *k, const char *n, size_t m, const char *d)
{
    struct probe *p = probe_of(s);

    p->gets++;
    return p->fail_fetch ? p->fail_fetch : p->inner->get(p->inner, k, n, m, d);
}

static int p_read(wc_store *s, const char *k, const char *n, size_t m, char **b, size_t *l)
{
    struct probe *p = probe_of(s);

    p->reads++;
    *b = NULL;
    return p->fail_fetch ? p->fail_fetch : p->inner->read(p->inner, k, n, m, b, l);
}

static int p_put(wc_store *s, const char *k, const char *n, const char *src)
{
    struct probe *p = probe_of(s);

    p->puts++;
    return p->fail_push ? p->fail_push : p->inner->put(p->inner, k, n, src);
}

static int p_write(wc_store *s, const char *k, const char *n, const void *b, size_t l)
{
    struct probe *p = probe_of(s);

    p->writes++;
    return p->fail_push ? p->fail_push : p->inner->write(p->inner, k, n, b, l);
}

static int p_exists(wc_store *s, const char *k, const char *n)
{
    struct probe *p = probe_of(s);

    p->exists++;
    return p->inner->exists(p->inner, k, n);
}

static int p_touch(wc_store *s, const char *k)
{
    return probe_of(s)->inner->touch(probe_of(s)->inner, k);
}

static int p_remove(wc_store *s, const char *k)
{
    return probe_of(s)->inner->remove(probe_of(s)->inner, k);
}

static void p_close(wc_store *s)
{
    probe_of(s)->inner->close(probe_of(s)->inner);
    free(s);
}

static struct probe *probe_dir(const char *name)
{
    struct probe *p = calloc(1, sizeof(*p));
    int err;

    ck_assert_ptr_nonnull(p);
    p->inner = wc_dir_open(path_in(name), NULL, &err);
    ck_assert_ptr_nonnull(p->inner);
    p->base = (wc_store){.name = "probe",
                         .get = p_get,
                         .read = p_read,
                         .put = p_put,
                         .write = p_write,
                         .exists = p_exists,
                         .touch = p_touch,
                         .remove = p_remove,
                         .close = p_close};
    return p;
}

static struct probe *L, *R;

static wc_store *open_tier(void)
{
    wc_store *t;

    L = probe_dir("local");
    R = probe_dir("remote");
    t = wc_tier_open(&L->base, &R->base);
    ck_assert_ptr_nonnull(t);
    return t;
}

static void expect_file(const char *path, const char *text)
{
    char *buf;
    size_t len;

    ck_assert_int_eq(wc_read_file(path, 1 << 20, &buf, &len), 0);
    ck_assert_str_eq(buf, text);
    free(buf);
}

static void expect_in(wc_store *s, const char *name, const char *text)
{
    char *buf;
    size_t len;

    ck_assert_int_eq(s->read(s, KEY, name, 1 << 20, &buf, &len), 0);
    ck_assert_str_eq(buf, text);
    free(buf);
}

/* ---- tests ---- */

START_TEST(remote_hit_kept_locally)
{
    wc_store *t = open_tier();
    char *dest = path_in("out.o");
    int gets;

    ck_assert_int_eq(R->inner->write(R->inner, KEY, "0", "remote bytes", 12), 0);
    ck_assert_int_eq(t->get(t, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    expect_file(dest, "remote bytes");
    expect_in(L->inner, "0", "remote bytes"); /* copied into the local tier */

    /* The next get is served locally: the remote is neither asked nor needed. */
    gets = R->gets;
    ck_assert_int_eq(R->inner->remove(R->inner, KEY), 0);
    unlink(dest);
    ck_assert_int_eq(t->get(t, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    expect_file(dest, "remote bytes");
    ck_assert_int_eq(R->gets, gets);
    t->close(t);
}
END_TEST

START_TEST(remote_read_kept_locally)
{
    wc_store *t = open_tier();
    char *buf;
    size_t len;

    ck_assert_int_eq(R->inner->write(R->inner, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(t->read(t, KEY, "meta", 100, &buf, &len), 0);
    ck_assert_str_eq(buf, "m");
    free(buf);
    expect_in(L->inner, "meta", "m");
    ck_assert_int_eq(R->reads, 1);
    ck_assert_int_eq(t->read(t, KEY, "meta", 100, &buf, &len), 0);
    free(buf);
    ck_assert_int_eq(R->reads, 1);
    t->close(t);
}
END_TEST

START_TEST(miss_everywhere)
{
    wc_store *t = open_tier();
    char *buf = (char *)1;
    size_t len;

    ck_assert_int_eq(t->get(t, KEY, "0", WC_STORE_UNBOUNDED, path_in("x")), -ENOENT);
    ck_assert_int_eq(access(path_in("x"), F_OK), -1);
    ck_assert_int_eq(t->read(t, KEY, "meta", 10, &buf, &len), -ENOENT);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(t->exists(t, KEY, "meta"), -ENOENT);
    ck_assert_int_eq(t->remove(t, KEY), -ENOENT);
    t->close(t);
}
END_TEST

START_TEST(push_goes_to_both)
{
    wc_store *t = open_tier();
    char *src = path_in("src.o");
    int l, r;

    ck_assert_int_eq(wc_write_file_atomic(src, "obj", 3, 0644), 0);
    ck_assert_int_eq(t->put(t, KEY, "0", src), 0);
    ck_assert_int_eq(t->write(t, KEY, "meta", "m", 1), 0);
    wc_tier_last(t, &l, &r);
    ck_assert_int_eq(l, 0);
    ck_assert_int_eq(r, 0);
    expect_in(L->inner, "0", "obj");
    expect_in(R->inner, "0", "obj");
    expect_in(L->inner, "meta", "m");
    expect_in(R->inner, "meta", "m");
    ck_assert_int_eq(t->exists(t, KEY, "meta"), 0);
    ck_assert_int_eq(R->exists, 0); /* answered locally */
    ck_assert_int_eq(t->touch(t, KEY), 0);
    ck_assert_int_eq(t->remove(t, KEY), 0);
    ck_assert_int_eq(L->inner->exists(L->inner, KEY, "0"), -ENOENT);
    ck_assert_int_eq(R->inner->exists(R->inner, KEY, "0"), -ENOENT);
    t->close(t);
}
END_TEST

START_TEST(exists_falls_through)
{
    wc_store *t = open_tier();

    ck_assert_int_eq(R->inner->write(R->inner, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(t->exists(t, KEY, "meta"), 0);
    ck_assert_int_eq(R->exists, 1);
    t->close(t);
}
END_TEST

START_TEST(full_local_disk_does_not_fail_remote_hit)
{
    wc_store *t = open_tier();
    char *dest = path_in("out.o"), *buf;
    size_t len;
    int l, r;

    L->fail_push = -ENOSPC;
    ck_assert_int_eq(R->inner->write(R->inner, KEY, "0", "remote", 6), 0);
    ck_assert_int_eq(t->get(t, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    expect_file(dest, "remote");
    ck_assert_int_eq(L->puts, 1); /* it tried */
    ck_assert_int_eq(t->read(t, KEY, "0", 100, &buf, &len), 0);
    ck_assert_str_eq(buf, "remote");
    free(buf);

    /* A push still reaches the remote and counts as done. */
    ck_assert_int_eq(t->write(t, KEY, "1", "x", 1), 0);
    wc_tier_last(t, &l, &r);
    ck_assert_int_eq(l, -ENOSPC);
    ck_assert_int_eq(r, 0);
    expect_in(R->inner, "1", "x");
    t->close(t);
}
END_TEST

START_TEST(removed_local_dir_does_not_fail_remote_hit)
{
    wc_store *t = open_tier();
    char *dest = path_in("out.o");

    ck_assert_int_eq(R->inner->write(R->inner, KEY, "0", "remote", 6), 0);
    ck_assert_int_eq(wc_rm_rf(path_in("local")), 0);
    ck_assert_int_eq(t->get(t, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    expect_file(dest, "remote");
    t->close(t);
}
END_TEST

START_TEST(broken_local_get_falls_through)
{
    wc_store *t = open_tier();
    char *dest = path_in("out.o");

    L->fail_fetch = -EIO;
    ck_assert_int_eq(R->inner->write(R->inner, KEY, "0", "remote", 6), 0);
    ck_assert_int_eq(t->get(t, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    expect_file(dest, "remote");
    t->close(t);
}
END_TEST

START_TEST(remote_push_failure_keeps_local_entry)
{
    wc_store *t = open_tier();
    int l, r;

    R->fail_push = -ECONNREFUSED;
    ck_assert_int_eq(t->write(t, KEY, "0", "obj", 3), 0);
    wc_tier_last(t, &l, &r);
    ck_assert_int_eq(l, 0);
    ck_assert_int_eq(r, -ECONNREFUSED);
    expect_in(L->inner, "0", "obj");

    /* The remote is back, but it lacks output 0: it must not get the entry's meta. */
    R->fail_push = 0;
    ck_assert_int_eq(t->write(t, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(R->writes, 1);
    ck_assert_int_eq(R->inner->exists(R->inner, KEY, "meta"), -ENOENT);
    expect_in(L->inner, "meta", "m");

    /* After that entry's meta, a new push of the key goes to the remote again. */
    ck_assert_int_eq(t->write(t, KEY, "0", "obj", 3), 0);
    expect_in(R->inner, "0", "obj");
    t->close(t);
}
END_TEST

START_TEST(both_failing_is_an_error)
{
    wc_store *t = open_tier();

    L->fail_push = -ENOSPC;
    R->fail_push = -EIO;
    ck_assert_int_eq(t->write(t, KEY, "0", "x", 1), -ENOSPC);
    t->close(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tier");
    TCase *tc = tcase_create("tier");
    SRunner *r;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, remote_hit_kept_locally);
    tcase_add_test(tc, remote_read_kept_locally);
    tcase_add_test(tc, miss_everywhere);
    tcase_add_test(tc, push_goes_to_both);
    tcase_add_test(tc, exists_falls_through);
    tcase_add_test(tc, full_local_disk_does_not_fail_remote_hit);
    tcase_add_test(tc, removed_local_dir_does_not_fail_remote_hit);
    tcase_add_test(tc, broken_local_get_falls_through);
    tcase_add_test(tc, remote_push_failure_keeps_local_entry);
    tcase_add_test(tc, both_failing_is_an_error);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
