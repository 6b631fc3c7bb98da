/* The small shared helpers of core/util.c that more than one program uses: writing all of a
 * buffer (also to a descriptor someone made non-blocking), the running executable's
 * directory, and the LD_PRELOAD check shared by libwafcache.so and wafcache-run. */
#include "core/util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(write_all_regular_file)
{
    char path[] = "/tmp/wc-test-util-XXXXXX", back[16] = {0};
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wc_write_all(fd, "hello world", 11), 0);
    ck_assert_int_eq(pread(fd, back, sizeof back, 0), 11);
    ck_assert_str_eq(back, "hello world");
    close(fd);
    unlink(path);
}
END_TEST

START_TEST(write_all_bad_fd)
{
    ck_assert_int_eq(wc_write_all(-1, "x", 1), -EBADF);
}
END_TEST

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    size_t total = 0;
    ssize_t r;

    usleep(50 * 1000); /* let the writer fill the pipe and meet EAGAIN first */
    while ((r = read(fd, buf, sizeof buf)) > 0)
        total += (size_t)r;
    return (void *)total;
}

START_TEST(write_all_nonblocking_pipe_waits)
{
    /* More than a pipe holds, on a non-blocking end: every byte arrives, none is lost. */
    size_t len = 1 << 20;
    char *big = calloc(1, len);
    int p[2];
    pthread_t t;
    void *got;

    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, drain, &p[0]), 0);
    ck_assert_int_eq(wc_write_all(p[1], big, len), 0);
    close(p[1]);
    pthread_join(t, &got);
    ck_assert_uint_eq((size_t)got, len);
    close(p[0]);
    free(big);
}
END_TEST

START_TEST(self_dir_is_the_test_binary_dir)
{
    char dir[PATH_MAX], exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    ck_assert_int_gt(n, 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    ck_assert_int_eq(wc_self_dir(dir, sizeof dir), 0);
    ck_assert_str_eq(dir, exe);
    ck_assert_int_lt(wc_self_dir(dir, 1), 0);
}
END_TEST

struct preload_row {
    const char *list;
    int ours;
};

static const struct preload_row preload_rows[] = {
    {"", 0},
    {"libwafcache.so", 1},
    {"/usr/lib/wafcache/libwafcache.so", 1},
    {"/a/libfoo.so:/b/libwafcache.so", 1},
    {"/a/libfoo.so /b/libwafcache.so", 1},
    {"/b/libwafcache.so:/a/libfoo.so", 1},
    {"::/b/libwafcache.so", 1},
    {"/a/libfoo.so", 0},
    {"/a/xlibwafcache.so", 0},
    {"/a/libwafcache.so.1", 0},
    {"/a/libwafcache.so/x", 0},
    {"libwafcache.sox:other", 0},
};

START_TEST(preload_has_wafcache)
{
    const struct preload_row *r = &preload_rows[_i];

    ck_assert_msg(wc_preload_has_wafcache(r->list) == r->ours, "\"%s\"", r->list);
}
END_TEST

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wc_write_all(fd, text, strlen(text)), 0);
    close(fd);
}

static void expect_text(const char *path, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(wc_read_file(path, 100, &buf, &len), 0);
    ck_assert_str_eq(buf, text);
    free(buf);
}

/* wc_replace_at is rename's contract: the new file at dest, tmp gone, the old file gone (by
 * exchanging names when dest is a regular file), rename's own error for a directory. */
START_TEST(replace_like_rename)
{
    char dir[] = "/tmp/wc_replace_XXXXXX", tmp[64], dest[64], sub[64];
    struct stat st;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(tmp, sizeof tmp, "%s/t", dir);
    snprintf(dest, sizeof dest, "%s/d", dir);
    put(tmp, "one");
    ck_assert_int_eq(wc_replace_at(AT_FDCWD, tmp, AT_FDCWD, dest), 0); /* no dest yet */
    expect_text(dest, "one");
    ck_assert_int_eq(access(tmp, F_OK), -1);
    int old = open(dest, O_RDONLY);
    put(tmp, "two");
    ck_assert_int_eq(wc_replace_at(AT_FDCWD, tmp, AT_FDCWD, dest), 0); /* over a file */
    expect_text(dest, "two");
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(fstat(old, &st), 0);
    ck_assert_int_eq(st.st_nlink, 0); /* the old file has no name left */
    close(old);
    ck_assert_int_eq(link(dest, tmp), 0); /* two links to one inode */
    ck_assert_int_eq(wc_replace_at(AT_FDCWD, tmp, AT_FDCWD, dest), 0);
    expect_text(dest, "two");
    ck_assert_int_eq(access(tmp, F_OK), -1);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    put(tmp, "three");
    ck_assert_int_eq(wc_replace_at(AT_FDCWD, tmp, AT_FDCWD, sub), -EISDIR);
    ck_assert_int_eq(stat(sub, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    expect_text(tmp, "three");
    unlink(tmp);
    unlink(dest);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

/* The password file is read directly (the static runner has no NSS): the line with the uid,
 * never a malformed one, a longer uid that starts with the same digits, or a comment. */
START_TEST(passwd_find)
{
    char path[] = "/tmp/wc_passwd_XXXXXX", name[64], home[256];
    int fd = mkstemp(path);
    const char *text = "# comment:x:1000:1000::/nope:/bin/sh\n"
                       "short:x:1000\n"
                       "other:x:10000:10000::/home/other:/bin/sh\n"
                       "bad:x:1a00:1000::/home/bad:/bin/sh\n"
                       "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
                       "last:x:42:42::/var/last";
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wc_write_all(fd, text, strlen(text)), 0);
    close(fd);
    ck_assert_int_eq(wc_passwd_find(path, 1000, name, sizeof name, home, sizeof home), 0);
    ck_assert_str_eq(name, "alice");
    ck_assert_str_eq(home, "/home/alice");
    ck_assert_int_eq(wc_passwd_find(path, 42, name, sizeof name, home, sizeof home), 0);
    ck_assert_str_eq(name, "last");
    ck_assert_str_eq(home, "/var/last");
    ck_assert_int_eq(wc_passwd_find(path, 7, name, sizeof name, home, sizeof home), -ENOENT);
    /* A home that does not fit is no answer rather than a cut one. */
    ck_assert_int_eq(wc_passwd_find(path, 1000, name, sizeof name, home, 5), -ENOENT);
    unlink(path);
    ck_assert_int_eq(wc_passwd_find(path, 1000, name, sizeof name, home, sizeof home), -ENOENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, write_all_regular_file);
    tcase_add_test(tc, write_all_bad_fd);
    tcase_add_test(tc, write_all_nonblocking_pipe_waits);
    tcase_add_test(tc, self_dir_is_the_test_binary_dir);
    tcase_add_test(tc, passwd_find);
    tcase_add_test(tc, replace_like_rename);
    tcase_add_loop_test(tc, preload_has_wafcache, 0,
                        (int)(sizeof(preload_rows) / sizeof(preload_rows[0])));
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
