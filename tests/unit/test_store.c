/* The directory store (store/dir.c) and the file helpers under it (core/util.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/dir.h"

#define KEY "0123456789abcdef0123456789abcdef"

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/wc-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    wc_rm_rf(tmpdir);
}

static char *tpath(const char *name)
{
    static char buf[4][PATH_MAX];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, PATH_MAX, "%s/%s", tmpdir, name);
    return b;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static char *slurp(const char *path)
{
    char *buf;
    size_t len;
    int rc = wc_read_file(path, 1 << 24, &buf, &len);
    ck_assert_msg(rc == 0, "read %s: %s", path, strerror(-rc));
    return buf;
}

static wc_store *open_store(const char *root, int hardlink)
{
    struct wc_dir_options opt = {.hardlink = hardlink, .dir_mode = 0700};
    int err = 0;
    wc_store *s = wc_dir_open(root, &opt, &err);
    ck_assert_msg(s != NULL, "wc_dir_open %s: %s", root, strerror(-err));
    return s;
}

/* ---- util ---- */

START_TEST(mkdir_p_nested_and_existing)
{
    char *p = tpath("a/b/c");
    struct stat st;

    ck_assert_int_eq(wc_mkdir_p(p, 0755), 0);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(wc_mkdir_p(p, 0755), 0);
    write_file(tpath("f"), "x", 0644);
    ck_assert_int_eq(wc_mkdir_p(tpath("f"), 0755), -ENOTDIR);
    ck_assert_int_eq(wc_mkdir_p(tpath("f/g"), 0755), -ENOTDIR);
}
END_TEST

START_TEST(read_file_bounded)
{
    char *buf;
    size_t len;

    write_file(tpath("f"), "hello", 0644);
    ck_assert_int_eq(wc_read_file(tpath("f"), 5, &buf, &len), 0);
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(buf, "hello");
    free(buf);
    ck_assert_int_eq(wc_read_file(tpath("f"), 4, &buf, &len), -EFBIG);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(wc_read_file(tpath("none"), 4, &buf, &len), -ENOENT);
    write_file(tpath("e"), "", 0644);
    ck_assert_int_eq(wc_read_file(tpath("e"), 4, &buf, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(buf, "");
    free(buf);
}
END_TEST

START_TEST(write_atomic_and_copy_keep_mode)
{
    struct stat st;
    char *b;
    mode_t old = umask(077);

    ck_assert_int_eq(wc_write_file_atomic(tpath("w"), "abc", 3, 0755), 0);
    ck_assert_int_eq(stat(tpath("w"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0755);
    ck_assert_str_eq(b = slurp(tpath("w")), "abc");
    free(b);
    ck_assert_int_eq(wc_write_file_atomic(tpath("w"), "xy", 2, 0644), 0);
    ck_assert_str_eq(b = slurp(tpath("w")), "xy");
    free(b);

    ck_assert_int_eq(wc_copy_file(tpath("w"), tpath("c"), 0751), 0);
    ck_assert_int_eq(stat(tpath("c"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0751);
    ck_assert_str_eq(b = slurp(tpath("c")), "xy");
    free(b);
    /* The destination must not exist: a copy never overwrites. */
    ck_assert_int_eq(wc_copy_file(tpath("w"), tpath("c"), 0644), -EEXIST);
    ck_assert_int_eq(wc_copy_file(tpath("none"), tpath("d"), 0644), -ENOENT);
    ck_assert_int_eq(access(tpath("d"), F_OK), -1);
    umask(old);
}
END_TEST

START_TEST(copy_large_file)
{
    size_t n = 3 * 1024 * 1024 + 17;
    char *data = malloc(n), *b;
    size_t len;

    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7 + i / 4096);
    ck_assert_int_eq(wc_write_file_atomic(tpath("big"), data, n, 0644), 0);
    ck_assert_int_eq(wc_copy_file(tpath("big"), tpath("big2"), 0644), 0);
    ck_assert_int_eq(wc_read_file(tpath("big2"), n, &b, &len), 0);
    ck_assert_uint_eq(len, n);
    ck_assert(memcmp(b, data, n) == 0);
    free(b);
    free(data);
}
END_TEST

START_TEST(tmp_names_unique)
{
    char a[PATH_MAX], b[PATH_MAX], small[8];
    char pid[32];

    ck_assert_int_eq(wc_tmp_name(a, sizeof(a), "/x/y"), 0);
    ck_assert_int_eq(wc_tmp_name(b, sizeof(b), "/x/y"), 0);
    ck_assert_str_ne(a, b);
    snprintf(pid, sizeof(pid), ".wctmp.%ld.", (long)getpid());
    ck_assert_ptr_nonnull(strstr(a, pid));
    ck_assert(strncmp(a, "/x/y.wctmp.", 11) == 0);
    ck_assert_int_eq(wc_tmp_name(small, sizeof(small), "/x/y"), -ENAMETOOLONG);
}
END_TEST

START_TEST(path_join)
{
    char *p;

    ck_assert_str_eq(p = wc_path_join("/a/", "b"), "/a/b");
    free(p);
    ck_assert_str_eq(p = wc_path_join("/a", "/b/c"), "/a/b/c");
    free(p);
    ck_assert_str_eq(p = wc_path_join("/", "b"), "/b");
    free(p);
}
END_TEST

/* ---- the directory store ---- */

START_TEST(put_get_round_trip)
{
    wc_store *s = open_store(tpath("cache"), 0);
    char path[PATH_MAX];
    struct stat st, src;
    char *b;
    size_t len;
    mode_t old = umask(077);

    write_file(tpath("obj"), "object bytes", 0755);
    ck_assert_int_eq(s->exists(s, KEY, "0"), -ENOENT);
    ck_assert_int_eq(s->put(s, KEY, "0", tpath("obj")), 0);
    ck_assert_int_eq(s->exists(s, KEY, "0"), 0);
    snprintf(path, sizeof(path), "%s/cache/01/%s/0", tmpdir, KEY);
    ck_assert_int_eq(stat(path, &st), 0);
    /* put keeps the source's permission bits, whatever the umask. */
    ck_assert_uint_eq(st.st_mode & 0777, 0755);

    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, tpath("out")), 0);
    ck_assert_str_eq(b = slurp(tpath("out")), "object bytes");
    free(b);
    ck_assert_int_eq(stat(tpath("out"), &st), 0);
    ck_assert_int_eq(stat(path, &src), 0);
    ck_assert(st.st_ino != src.st_ino);
    ck_assert_uint_eq(st.st_nlink, 1);
    /* get never overwrites: the caller picks a fresh temporary name. */
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, tpath("out")), -EEXIST);
    ck_assert_int_eq(s->get(s, KEY, "1", WC_STORE_UNBOUNDED, tpath("out1")), -ENOENT);
    /* A file larger than the entry declares is not copied (a giant planted in the cache). */
    ck_assert_int_eq(s->get(s, KEY, "0", 11, tpath("short")), -EFBIG);
    ck_assert_int_eq(access(tpath("short"), F_OK), -1);
    ck_assert_int_eq(s->get(s, KEY, "0", 12, tpath("exact")), 0);

    ck_assert_int_eq(s->write(s, KEY, "meta", "m\0x", 3), 0);
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &b, &len), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert(memcmp(b, "m\0x", 3) == 0);
    free(b);
    ck_assert_int_eq(s->read(s, KEY, "meta", 2, &b, &len), -EFBIG);
    ck_assert_int_eq(s->read(s, KEY, "stdout", 2, &b, &len), -ENOENT);

    /* Overwriting is a rename: the new bytes replace the old ones whole. */
    write_file(tpath("obj"), "second", 0644);
    ck_assert_int_eq(s->put(s, KEY, "0", tpath("obj")), 0);
    ck_assert_str_eq(b = slurp(path), "second");
    free(b);
    umask(old);
    s->close(s);
}
END_TEST

START_TEST(no_temporaries_left)
{
    wc_store *s = open_store(tpath("cache"), 0);
    char dir[PATH_MAX], cmd[PATH_MAX + 64];

    write_file(tpath("obj"), "o", 0644);
    ck_assert_int_eq(s->put(s, KEY, "0", tpath("obj")), 0);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    snprintf(dir, sizeof(dir), "%s/cache/01/%s", tmpdir, KEY);
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) = 2", dir);
    ck_assert_int_eq(system(cmd), 0);
    s->close(s);
}
END_TEST

START_TEST(invalid_keys_and_names_refused)
{
    wc_store *s = open_store(tpath("cache"), 0);
    const char *bad_keys[] = {
        "",
        "0123456789abcdef",
        "0123456789abcdef0123456789abcde",   /* 31 */
        "0123456789abcdef0123456789abcdef0", /* 33 */
        "0123456789abcdef0123456789abcdeg",
        "../../../../../../../../../../etc",
        "01/3456789abcdef0123456789abcdef",
        "..23456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcde\n",
    };
    char *b;
    size_t len;

    write_file(tpath("obj"), "o", 0644);
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(*bad_keys); i++) {
        const char *k = bad_keys[i];
        ck_assert_int_eq(s->put(s, k, "0", tpath("obj")), -EINVAL);
        ck_assert_int_eq(s->write(s, k, "0", "x", 1), -EINVAL);
        ck_assert_int_eq(s->get(s, k, "0", WC_STORE_UNBOUNDED, tpath("out")), -EINVAL);
        ck_assert_int_eq(s->read(s, k, "0", 10, &b, &len), -EINVAL);
        ck_assert_int_eq(s->exists(s, k, "0"), -EINVAL);
        ck_assert_int_eq(s->touch(s, k), -EINVAL);
        ck_assert_int_eq(s->remove(s, k), -EINVAL);
    }
    const char *bad_names[] = {"", ".", "..", "a/b", "../x", "/etc"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++) {
        const char *n = bad_names[i];
        ck_assert_int_eq(s->put(s, KEY, n, tpath("obj")), -EINVAL);
        ck_assert_int_eq(s->write(s, KEY, n, "x", 1), -EINVAL);
        ck_assert_int_eq(s->get(s, KEY, n, WC_STORE_UNBOUNDED, tpath("out")), -EINVAL);
        ck_assert_int_eq(s->read(s, KEY, n, 10, &b, &len), -EINVAL);
    }
    /* Nothing was created anywhere. */
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s/cache)\"", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(access(tpath("out"), F_OK), -1);
    ck_assert(wc_store_key_valid(KEY));
    ck_assert(wc_store_key_valid("ABCDEF6789abcdef0123456789abcdef"));
    s->close(s);
}
END_TEST

START_TEST(directories_created_0700)
{
    wc_store *s;
    struct stat st;
    char path[PATH_MAX];
    mode_t old = umask(0);

    s = open_store(tpath("cache/deep"), 0);
    write_file(tpath("obj"), "o", 0644);
    ck_assert_int_eq(s->put(s, KEY, "0", tpath("obj")), 0);
    ck_assert_int_eq(stat(tpath("cache/deep"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    snprintf(path, sizeof(path), "%s/cache/deep/01", tmpdir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    snprintf(path, sizeof(path), "%s/cache/deep/01/%s", tmpdir, KEY);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    s->close(s);

    /* A group-shared mode is applied exactly, whatever the process umask. */
    umask(077);
    struct wc_dir_options opt = {.dir_mode = 0770};
    int err;
    s = wc_dir_open(tpath("shared"), &opt, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    snprintf(path, sizeof(path), "%s/shared/01/%s", tmpdir, KEY);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0770);
    umask(old);
    s->close(s);
}
END_TEST

START_TEST(open_refuses_relative_root)
{
    struct wc_dir_options opt = {0};
    int err = 0;

    ck_assert_ptr_null(wc_dir_open("relative/cache", &opt, &err));
    ck_assert_int_eq(err, -EINVAL);
    write_file(tpath("file"), "x", 0644);
    ck_assert_ptr_null(wc_dir_open(tpath("file"), &opt, &err));
    ck_assert_int_eq(err, -ENOTDIR);
}
END_TEST

START_TEST(hardlink_get_shares_inode)
{
    wc_store *s = open_store(tpath("cache"), 1);
    char path[PATH_MAX];
    struct stat a, b;

    write_file(tpath("obj"), "linked", 0644);
    ck_assert_int_eq(s->put(s, KEY, "0", tpath("obj")), 0);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, tpath("out")), 0);
    snprintf(path, sizeof(path), "%s/cache/01/%s/0", tmpdir, KEY);
    ck_assert_int_eq(stat(path, &a), 0);
    ck_assert_int_eq(stat(tpath("out"), &b), 0);
    ck_assert(a.st_ino == b.st_ino);
    ck_assert_uint_eq(b.st_nlink, 2);
    ck_assert_int_eq(s->get(s, KEY, "9", WC_STORE_UNBOUNDED, tpath("out9")), -ENOENT);
    s->close(s);
}
END_TEST

/* The cache on /tmp's disk, the destination on /dev/shm (tmpfs): link() fails with EXDEV
 * and get must fall back to a copy. */
START_TEST(hardlink_exdev_falls_back_to_copy)
{
    char shm[] = "/dev/shm/wc-store-XXXXXX";
    struct stat a, b;
    char dest[PATH_MAX], *buf;

    if (!mkdtemp(shm)) {
        fprintf(stderr, "skipped: no /dev/shm (%s)\n", strerror(errno));
        return;
    }
    ck_assert_int_eq(stat(shm, &a), 0);
    ck_assert_int_eq(stat(tmpdir, &b), 0);
    if (a.st_dev == b.st_dev) {
        fprintf(stderr, "skipped: /dev/shm and /tmp on one file system\n");
        rmdir(shm);
        return;
    }
    wc_store *s = open_store(tpath("cache"), 1);
    write_file(tpath("obj"), "across devices", 0640);
    ck_assert_int_eq(s->put(s, KEY, "0", tpath("obj")), 0);
    snprintf(dest, sizeof(dest), "%s/out", shm);
    /* Prove the premise: a plain link() really is refused with EXDEV. */
    char src[PATH_MAX];
    snprintf(src, sizeof(src), "%s/cache/01/%s/0", tmpdir, KEY);
    ck_assert_int_eq(link(src, dest), -1);
    ck_assert_int_eq(errno, EXDEV);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    ck_assert_int_eq(stat(dest, &a), 0);
    ck_assert_uint_eq(a.st_nlink, 1);
    ck_assert_uint_eq(a.st_mode & 0777, 0640);
    buf = slurp(dest);
    ck_assert_str_eq(buf, "across devices");
    free(buf);
    s->close(s);
    wc_rm_rf(shm);
}
END_TEST

START_TEST(touch_refreshes_entry_mtime)
{
    wc_store *s = open_store(tpath("cache"), 0);
    char dir[PATH_MAX];
    struct timespec old[2] = {{1000000, 0}, {1000000, 0}};
    struct stat st;

    ck_assert_int_eq(s->touch(s, KEY), -ENOENT);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    snprintf(dir, sizeof(dir), "%s/cache/01/%s", tmpdir, KEY);
    ck_assert_int_eq(utimensat(AT_FDCWD, dir, old, 0), 0);
    ck_assert_int_eq(s->touch(s, KEY), 0);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_int_gt(st.st_mtime, time(NULL) - 60);
    s->close(s);
}
END_TEST

START_TEST(remove_whole_entry)
{
    wc_store *s = open_store(tpath("cache"), 0);
    char bucket[PATH_MAX], cmd[PATH_MAX + 64];

    write_file(tpath("obj"), "o", 0644);
    ck_assert_int_eq(s->put(s, KEY, "0", tpath("obj")), 0);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(s->remove(s, KEY), 0);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), -ENOENT);
    ck_assert_int_eq(s->exists(s, KEY, "0"), -ENOENT);
    ck_assert_int_eq(s->remove(s, KEY), -ENOENT);
    /* Nothing left behind: neither the entry nor its ".remove." name. */
    snprintf(bucket, sizeof(bucket), "%s/cache/01", tmpdir);
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", bucket);
    ck_assert_int_eq(system(cmd), 0);
    /* And the entry can be written again. */
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), 0);
    s->close(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("store");
    TCase *tu = tcase_create("util");
    TCase *td = tcase_create("dir");
    SRunner *r;
    int failed;

    tcase_add_checked_fixture(tu, setup, teardown);
    tcase_add_test(tu, mkdir_p_nested_and_existing);
    tcase_add_test(tu, read_file_bounded);
    tcase_add_test(tu, write_atomic_and_copy_keep_mode);
    tcase_add_test(tu, copy_large_file);
    tcase_add_test(tu, tmp_names_unique);
    tcase_add_test(tu, path_join);
    suite_add_tcase(su, tu);

    tcase_add_checked_fixture(td, setup, teardown);
    tcase_add_test(td, put_get_round_trip);
    tcase_add_test(td, no_temporaries_left);
    tcase_add_test(td, invalid_keys_and_names_refused);
    tcase_add_test(td, directories_created_0700);
    tcase_add_test(td, open_refuses_relative_root);
    tcase_add_test(td, hardlink_get_shares_inode);
    tcase_add_test(td, hardlink_exdev_falls_back_to_copy);
    tcase_add_test(td, touch_refreshes_entry_mtime);
    tcase_add_test(td, remove_whole_entry);
    suite_add_tcase(su, td);

    r = srunner_create(su);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
