/* Cache entries (store/entry.c): the metadata format, push and fetch, and what a fetch must
 * refuse (corrupt entries, entries changing under it). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/dir.h"
#include "store/entry.h"

#define KEY "fedcba9876543210fedcba9876543210"

static char tmpdir[64];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/wc-entry-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    umask(022); /* the modes a restore gives depend on it */
}

static void teardown(void)
{
    wc_rm_rf(tmpdir);
}

static char *tpath(const char *name)
{
    static char buf[8][PATH_MAX];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", tmpdir, name);
    return b;
}

static void write_bytes(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    write_bytes(path, text, strlen(text), mode);
}

/* 1 when path holds exactly text. */
static int has_text(const char *path, const char *text)
{
    char *buf;
    size_t len;
    int ok;

    if (wc_read_file(path, 1 << 26, &buf, &len) != 0)
        return 0;
    ok = len == strlen(text) && memcmp(buf, text, len) == 0;
    free(buf);
    return ok;
}

static wc_store *open_store(int hardlink)
{
    struct wc_dir_options opt = {.hardlink = hardlink, .dir_mode = 0700};
    int err = 0;
    wc_store *s = wc_dir_open(tpath("cache"), &opt, &err);
    ck_assert_msg(s != NULL, "wc_dir_open: %s", strerror(-err));
    return s;
}

static char *store_file(const char *name)
{
    static char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s/cache/fe/%s/%s", tmpdir, KEY, name);
    return buf;
}

/* Count of names containing ".wctmp." in dir: leftovers of a fetch that gave up. */
static int count_tmp(const char *dir)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "ls -A %s | grep -c wctmp >/dev/null", dir);
    return system(cmd) == 0;
}

/* A build directory with three outputs, one in a subdirectory. */
static void make_outputs(void)
{
    ck_assert_int_eq(wc_mkdir_p(tpath("src/sub"), 0755), 0);
    write_file(tpath("src/a.o"), "object a", 0644);
    write_file(tpath("src/sub/prog"), "#!/bin/sh\necho prog\n", 0755);
    write_file(tpath("src/x y%.d"), "a.o: a.c\n", 0640);
}

static void push_entry(wc_store *s)
{
    struct wc_output outs[3] = {{.path = "a.o"}, {.path = "sub/prog"}, {.path = "x y%.d"}};
    struct wc_entry_meta m = {.run_ns = 123456789, .n_outputs = 3, .outputs = outs};
    int rc = wc_entry_push(s, KEY, tpath("src"), &m, "hello out\n", 10, "warning: x\n", 11);
    ck_assert_msg(rc == 0, "push: %s", strerror(-rc));
}

/* Fetches into cwd, whose directories (cwd/sub) are there, as a build's would be: a
 * restore never creates one. */
static int fetch_to(wc_store *s, const char *cwd, struct wc_entry_meta *m)
{
    struct wc_stream out, err;
    char sub[PATH_MAX];
    int rc;

    snprintf(sub, sizeof(sub), "%s/sub", cwd);
    ck_assert_int_eq(wc_mkdir_p(sub, 0755), 0);
    rc = wc_entry_fetch(s, KEY, cwd, NULL, m, &out, &err);

    if (rc == 0) {
        ck_assert_uint_eq(out.len, 10);
        ck_assert(memcmp(out.buf, "hello out\n", 10) == 0);
        ck_assert_uint_eq(err.len, 11);
        ck_assert(memcmp(err.buf, "warning: x\n", 11) == 0);
        wc_stream_free(&out);
        wc_stream_free(&err);
    } else {
        ck_assert_ptr_null(out.buf);
        ck_assert_ptr_null(err.buf);
        ck_assert_int_eq(out.fd, -1);
    }
    return rc;
}

/* Modes are what gcc, ld and ar would give under the current umask (022 here): 0777 or
 * 0666 less the umask, whatever was recorded (0755, 0640). */
static void assert_restored(const char *dst)
{
    char p[PATH_MAX];
    struct stat st;

    snprintf(p, sizeof(p), "%s/a.o", dst);
    ck_assert(has_text(p, "object a"));
    snprintf(p, sizeof(p), "%s/sub/prog", dst);
    ck_assert(has_text(p, "#!/bin/sh\necho prog\n"));
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0755);
    snprintf(p, sizeof(p), "%s/x y%%.d", dst);
    ck_assert(has_text(p, "a.o: a.c\n"));
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0644);
}

static void assert_nothing_restored(const char *dst)
{
    char cmd[PATH_MAX + 64];
    /* No file at all: neither an output nor a temporary (directories may remain). */
    snprintf(cmd, sizeof(cmd), "test -z \"$(find %s -type f 2>/dev/null)\"", dst);
    ck_assert_msg(system(cmd) == 0, "something was restored in %s", dst);
}

/* ---- metadata format ---- */

static struct wc_entry_meta sample_meta(struct wc_output *outs)
{
    outs[0] = (struct wc_output){.path = "obj/a.o", .mode = 0644, .size = 12};
    outs[1] = (struct wc_output){.path = "/abs/with space/%odd\n\x7f\x01é", .mode = 04755};
    outs[0].hash = (wc_hash){.lo = 0x0123456789abcdefULL, .hi = 0xfedcba9876543210ULL};
    outs[1].hash = (wc_hash){.lo = 1, .hi = UINT64_MAX};
    outs[1].size = UINT64_MAX;
    return (struct wc_entry_meta){.run_ns = 42,
                                  .stdout_size = 5,
                                  .stderr_size = 0,
                                  .stdout_hash = {.lo = 7, .hi = 8},
                                  .stderr_hash = {.lo = 9, .hi = 10},
                                  .n_outputs = 2,
                                  .outputs = outs};
}

START_TEST(meta_round_trip)
{
    struct wc_output outs[2];
    struct wc_entry_meta m = sample_meta(outs), p;
    size_t len;
    char *text = wc_meta_format(&m, &len);

    ck_assert_ptr_nonnull(text);
    ck_assert(strncmp(text, "wafcache-entry 1\n", 17) == 0);
    /* Every byte a line parser could stumble on is escaped. */
    ck_assert_ptr_null(strchr(strstr(text, "/abs"), ' '));
    ck_assert_int_eq(wc_meta_parse(text, len, &p), 0);
    ck_assert_uint_eq(p.run_ns, 42);
    ck_assert_uint_eq(p.stdout_size, 5);
    ck_assert_uint_eq(p.stderr_size, 0);
    ck_assert(wc_hash_equal(&p.stdout_hash, &m.stdout_hash));
    ck_assert(wc_hash_equal(&p.stderr_hash, &m.stderr_hash));
    ck_assert_uint_eq(p.n_outputs, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_str_eq(p.outputs[i].path, outs[i].path);
        ck_assert_uint_eq(p.outputs[i].mode, outs[i].mode);
        ck_assert_uint_eq(p.outputs[i].size, outs[i].size);
        ck_assert(wc_hash_equal(&p.outputs[i].hash, &outs[i].hash));
    }
    wc_meta_free(&p);
    ck_assert_ptr_null(p.outputs);

    /* Any truncation is refused, never half-accepted. */
    for (size_t n = 0; n < len; n++) {
        ck_assert_msg(wc_meta_parse(text, n, &p) == -EINVAL, "prefix %zu accepted", n);
        ck_assert_ptr_null(p.outputs);
        ck_assert_uint_eq(p.n_outputs, 0);
    }
    free(text);
}
END_TEST

static int parses(const char *text)
{
    struct wc_entry_meta m;
    int rc = wc_meta_parse(text, strlen(text), &m);
    wc_meta_free(&m);
    return rc == 0;
}

#define H32 "0123456789abcdef0123456789abcdef"
#define HEAD "wafcache-entry 1\nrun_ns 5\nstdout 0 " H32 "\nstderr 0 " H32 "\n"

START_TEST(meta_rejects_garbage)
{
    /* The control: a well-formed text is accepted, so each refusal below is about its flaw. */
    ck_assert(parses(HEAD "outputs 1\no 0644 3 " H32 " a.o\nend\n"));
    ck_assert(parses(HEAD "outputs 0\nend\n"));

    ck_assert(!parses(""));
    ck_assert(!parses("garbage"));
    ck_assert(!parses("\n\n\n\n"));
    ck_assert(!parses("wafcache-entry 2\nrun_ns 5\n"));
    ck_assert(!parses(HEAD "outputs 0\n"));             /* no end */
    ck_assert(!parses(HEAD "outputs 0\nend\nextra\n")); /* trailing junk */
    ck_assert(!parses(HEAD "outputs 0\nend"));          /* no final newline */
    ck_assert(!parses(HEAD "outputs 1\nend\n"));        /* fewer lines than said */
    ck_assert(!parses(HEAD "outputs 2\no 0644 3 " H32 " a\nend\n"));
    ck_assert(!parses(HEAD "outputs 4097\nend\n")); /* above WC_META_MAX_OUTPUTS */
    ck_assert(!parses(HEAD "outputs 99999999999999999999999\nend\n")); /* overflow */
    ck_assert(!parses(HEAD "outputs 18446744073709551616\nend\n"));    /* 2^64 */
    ck_assert(!parses(HEAD "outputs -1\nend\n"));
    ck_assert(!parses("wafcache-entry 1\nrun_ns 18446744073709551616\nstdout 0 " H32
                      "\nstderr 0 " H32 "\noutputs 0\nend\n"));
    ck_assert(!parses("wafcache-entry 1\nrun_ns 5\nstdout 0 0123\nstderr 0 " H32
                      "\noutputs 0\nend\n")); /* short hash */
    ck_assert(!parses("wafcache-entry 1\nrun_ns 5\nstdout 0 " H32 "0\nstderr 0 " H32
                      "\noutputs 0\nend\n")); /* long hash */
    ck_assert(!parses("wafcache-entry 1\nrun_ns 5\nstdout 0 0123456789abcdef0123456789abcdeg"
                      "\nstderr 0 " H32 "\noutputs 0\nend\n")); /* bad hex */
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " ..\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " ../x.o\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " a/../../x.o\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " a/..\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " %2E%2E/x\nend\n")); /* escaped .. */
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " \nend\n"));         /* empty path */
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 "\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " a b\nend\n"));   /* raw space */
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " a%00b\nend\n")); /* NUL */
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " a%4\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " a%zz\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0644 3 " H32 " dir/\nend\n"));
    ck_assert(!parses(HEAD "outputs 1\no 0844 3 " H32 " a\nend\n"));  /* not octal */
    ck_assert(!parses(HEAD "outputs 1\no 17777 3 " H32 " a\nend\n")); /* too large */
    ck_assert(!parses(HEAD "outputs 1\no 0644 -3 " H32 " a\nend\n"));
    ck_assert(!parses(HEAD "outputs 2\no 0644 3 " H32 " a.o\no 0644 3 " H32 " a.o\nend\n"));
    ck_assert(!parses(HEAD "outputs 2\no 0644 3 " H32 " a.o\no 0644 3 " H32 " a%2Eo\nend\n"));

    /* An embedded NUL byte anywhere is refused. */
    const char nul[] = HEAD "outputs 0\nend\n";
    char buf[sizeof(nul)];
    struct wc_entry_meta m;
    memcpy(buf, nul, sizeof(nul));
    buf[20] = '\0';
    ck_assert_int_eq(wc_meta_parse(buf, sizeof(nul) - 1, &m), -EINVAL);
}
END_TEST

/* Random damage never crashes the parser (run under ASan in CI) and never yields paths with
 * "..". */
START_TEST(meta_parse_survives_damage)
{
    struct wc_output outs[2];
    struct wc_entry_meta m = sample_meta(outs), p;
    size_t len;
    char *text = wc_meta_format(&m, &len);
    unsigned seed = 12345;

    for (int round = 0; round < 20000; round++) {
        char *dup = malloc(len);
        memcpy(dup, text, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245 + 12345;
            dup[(seed >> 8) % len] = (char)(seed >> 20);
        }
        if (wc_meta_parse(dup, len, &p) == 0) {
            for (size_t i = 0; i < p.n_outputs; i++)
                ck_assert(strcmp(p.outputs[i].path, "..") != 0);
        }
        wc_meta_free(&p);
        free(dup);
    }
    free(text);
}
END_TEST

/* ---- push and fetch ---- */

START_TEST(push_fetch_round_trip)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;
    struct stat st;
    time_t start = time(NULL);
    char p[PATH_MAX];

    make_outputs();
    push_entry(s);
    ck_assert_int_eq(access(store_file("meta"), F_OK), 0);
    ck_assert_int_eq(access(store_file("stdout"), F_OK), 0);
    ck_assert_int_eq(access(store_file("2"), F_OK), 0);
    ck_assert_int_eq(wc_mkdir_p(tpath("dst"), 0755), 0);
    /* An old output is in the way: a restore replaces it. */
    write_file(tpath("dst/a.o"), "stale", 0600);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), 0);
    ck_assert_uint_eq(m.n_outputs, 3);
    ck_assert_uint_eq(m.run_ns, 123456789);
    ck_assert_str_eq(m.outputs[1].path, "sub/prog");
    ck_assert_uint_eq(m.outputs[1].mode, 0755);
    wc_meta_free(&m);
    assert_restored(tpath("dst"));
    /* Restored outputs look fresh to make; they are copies, not links into the store. */
    snprintf(p, sizeof(p), "%s/a.o", tpath("dst"));
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_ge(st.st_mtime, start - 1);
    ck_assert_uint_eq(st.st_nlink, 1);
    ck_assert(!count_tmp(tpath("dst")));
    s->close(s);
}
END_TEST

START_TEST(push_without_streams)
{
    wc_store *s = open_store(0);
    struct wc_output outs[1] = {{.path = "a.o"}};
    struct wc_entry_meta m = {.n_outputs = 1, .outputs = outs}, f;
    struct wc_stream out, err;

    make_outputs();
    ck_assert_int_eq(wc_entry_push(s, KEY, tpath("src"), &m, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(access(store_file("stdout"), F_OK), -1);
    ck_assert_int_eq(access(store_file("stderr"), F_OK), -1);
    ck_assert_int_eq(wc_entry_fetch(s, KEY, tpath("src"), NULL, &f, &out, &err), 0);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_uint_eq(err.len, 0);
    ck_assert_ptr_nonnull(out.buf);
    wc_stream_free(&out);
    wc_stream_free(&err);
    wc_meta_free(&f);
    s->close(s);
}
END_TEST

START_TEST(fetch_missing_entry)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;

    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), -ENOENT);
    /* Outputs but no metadata: the entry does not exist. */
    make_outputs();
    push_entry(s);
    ck_assert_int_eq(unlink(store_file("meta")), 0);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), -ENOENT);
    assert_nothing_restored(tpath("dst"));
    s->close(s);
}
END_TEST

static void corrupt_and_check(void (*damage)(void), int expect)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;

    make_outputs();
    push_entry(s);
    damage();
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), expect);
    ck_assert_uint_eq(m.n_outputs, 0);
    assert_nothing_restored(tpath("dst"));
    s->close(s);
}

static void drop_output(void)
{
    ck_assert_int_eq(unlink(store_file("1")), 0);
}

static void truncate_output(void)
{
    ck_assert_int_eq(truncate(store_file("2"), 3), 0);
}

static void flip_byte(void)
{
    int fd = open(store_file("1"), O_RDWR);
    char c;
    ck_assert_int_eq(pread(fd, &c, 1, 5), 1);
    c ^= 0x20;
    ck_assert_int_eq(pwrite(fd, &c, 1, 5), 1);
    close(fd);
}

static void flip_stderr(void)
{
    int fd = open(store_file("stderr"), O_RDWR);
    ck_assert_int_eq(pwrite(fd, "W", 1, 0), 1);
    close(fd);
}

static void drop_stdout(void)
{
    ck_assert_int_eq(unlink(store_file("stdout")), 0);
}

static void garble_meta(void)
{
    write_file(store_file("meta"), "wafcache-entry 1\nrun_ns x\n", 0644);
}

START_TEST(corrupt_entries_restore_nothing)
{
    corrupt_and_check(drop_output, -EBADMSG);
}
END_TEST

START_TEST(truncated_output_restores_nothing)
{
    corrupt_and_check(truncate_output, -EBADMSG);
}
END_TEST

START_TEST(flipped_byte_restores_nothing)
{
    corrupt_and_check(flip_byte, -EBADMSG);
}
END_TEST

START_TEST(bad_streams_restore_nothing)
{
    corrupt_and_check(flip_stderr, -EBADMSG);
}
END_TEST

START_TEST(missing_stdout_restores_nothing)
{
    corrupt_and_check(drop_stdout, -EBADMSG);
}
END_TEST

START_TEST(garbled_meta_restores_nothing)
{
    corrupt_and_check(garble_meta, -EBADMSG);
}
END_TEST

/* A corrupt entry must not even disturb an output already in place. */
START_TEST(corrupt_entry_keeps_existing_outputs)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;

    make_outputs();
    push_entry(s);
    flip_byte();
    ck_assert_int_eq(wc_mkdir_p(tpath("dst"), 0755), 0);
    write_file(tpath("dst/a.o"), "previous", 0644);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), -EBADMSG);
    ck_assert(has_text(tpath("dst/a.o"), "previous"));
    ck_assert(!count_tmp(tpath("dst")));
    s->close(s);
}
END_TEST

/* In copy mode a compiler rewriting a restored output in place (cc1 -MF opens with
 * O_TRUNC; others overwrite a byte with O_RDWR) changes only its own copy. */
START_TEST(copy_mode_in_place_writes_leave_cache_intact)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;
    char *d = tpath("dst");
    char p[PATH_MAX];
    int fd;

    make_outputs();
    push_entry(s);
    ck_assert_int_eq(fetch_to(s, d, &m), 0);
    wc_meta_free(&m);

    snprintf(p, sizeof(p), "%s/x y%%.d", d);
    fd = open(p, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "rewritten\n", 10), 10);
    close(fd);
    snprintf(p, sizeof(p), "%s/a.o", d);
    fd = open(p, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "X", 1, 0), 1);
    close(fd);

    ck_assert(has_text(store_file("0"), "object a"));
    ck_assert(has_text(store_file("2"), "a.o: a.c\n"));
    ck_assert_int_eq(fetch_to(s, tpath("dst2"), &m), 0);
    wc_meta_free(&m);
    assert_restored(tpath("dst2"));
    s->close(s);
}
END_TEST

START_TEST(hardlink_mode_restores_links)
{
    wc_store *s = open_store(1);
    struct wc_entry_meta m;
    struct stat a, b;
    char p[PATH_MAX];

    make_outputs();
    push_entry(s);
    /* The restore must not chmod through a link: that would change the cached inode. */
    ck_assert_int_eq(chmod(store_file("0"), 0600), 0);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), 0);
    wc_meta_free(&m);
    ck_assert_int_eq(stat(store_file("0"), &b), 0);
    ck_assert_uint_eq(b.st_mode & 07777, 0600);
    ck_assert_int_eq(chmod(store_file("0"), 0644), 0);
    assert_restored(tpath("dst"));
    snprintf(p, sizeof(p), "%s/sub/prog", tpath("dst"));
    ck_assert_int_eq(stat(p, &a), 0);
    ck_assert_int_eq(stat(store_file("1"), &b), 0);
    ck_assert(a.st_ino == b.st_ino);
    /* A second restore over the same links leaves no temporary behind. */
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), 0);
    wc_meta_free(&m);
    ck_assert(!count_tmp(tpath("dst")));
    ck_assert(!count_tmp(tpath("dst/sub")));
    s->close(s);
}
END_TEST

/* In hard-link mode an in-place write to a restored output goes through to the shared
 * inode; the next fetch must notice and serve nothing. */
START_TEST(hardlink_mode_in_place_write_detected)
{
    wc_store *s = open_store(1);
    struct wc_entry_meta m;
    char p[PATH_MAX];
    int fd;

    make_outputs();
    push_entry(s);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), 0);
    wc_meta_free(&m);
    snprintf(p, sizeof(p), "%s/a.o", tpath("dst"));
    fd = open(p, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "X", 1, 0), 1);
    close(fd);
    ck_assert(has_text(store_file("0"), "Xbject a")); /* the premise: the cache changed */

    ck_assert_int_eq(fetch_to(s, tpath("dst2"), &m), -EBADMSG);
    assert_nothing_restored(tpath("dst2"));
    s->close(s);
}
END_TEST

/* Hard-link mode with the destination on another file system (/dev/shm): copies, and the
 * copies get their recorded mode. */
START_TEST(hardlink_mode_across_devices)
{
    char shm[] = "/dev/shm/wc-entry-XXXXXX";
    struct stat a, b;
    struct wc_entry_meta m;

    if (!mkdtemp(shm)) {
        fprintf(stderr, "skipped: no /dev/shm (%s)\n", strerror(errno));
        return;
    }
    ck_assert_int_eq(stat(shm, &a), 0);
    ck_assert_int_eq(stat(tmpdir, &b), 0);
    if (a.st_dev == b.st_dev) {
        fprintf(stderr, "skipped: /dev/shm and %s on one file system\n", tmpdir);
        rmdir(shm);
        return;
    }
    wc_store *s = open_store(1);
    make_outputs();
    push_entry(s);
    int rc = fetch_to(s, shm, &m);
    wc_meta_free(&m);
    if (rc == 0)
        assert_restored(shm);
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/a.o", shm);
    int have = stat(p, &a);
    wc_rm_rf(shm);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(have, 0);
    ck_assert_uint_eq(a.st_nlink, 1);
    s->close(s);
}
END_TEST

/* A store whose entry is trimmed away between the first and the second output of a fetch,
 * deterministically: a removal under a reader is a plain miss, not a corrupt entry. */
struct racing_store {
    wc_store base;
    wc_store *inner;
    int gets;
};

static int racing_get(wc_store *s, const char *key, const char *name, size_t max, const char *dest)
{
    struct racing_store *r = (struct racing_store *)s;
    if (r->gets++ == 1)
        ck_assert_int_eq(r->inner->remove(r->inner, key), 0);
    return r->inner->get(r->inner, key, name, max, dest);
}

static int racing_read(wc_store *s, const char *key, const char *name, size_t max, char **buf,
                       size_t *len)
{
    struct racing_store *r = (struct racing_store *)s;
    return r->inner->read(r->inner, key, name, max, buf, len);
}

static int racing_exists(wc_store *s, const char *key, const char *name)
{
    struct racing_store *r = (struct racing_store *)s;
    return r->inner->exists(r->inner, key, name);
}

static int racing_touch(wc_store *s, const char *key)
{
    struct racing_store *r = (struct racing_store *)s;
    return r->inner->touch(r->inner, key);
}

START_TEST(entry_removed_during_fetch_is_a_miss)
{
    wc_store *s = open_store(0);
    struct racing_store r = {.base = {.name = "racing",
                                      .get = racing_get,
                                      .read = racing_read,
                                      .exists = racing_exists,
                                      .touch = racing_touch},
                             .inner = s};
    struct wc_entry_meta m;

    make_outputs();
    push_entry(s);
    ck_assert_int_eq(fetch_to(&r.base, tpath("dst"), &m), -ENOENT);
    ck_assert_int_eq(r.gets, 2);
    assert_nothing_restored(tpath("dst"));
    s->close(s);
}
END_TEST

/* Eight processes push the same entry at once: one whole entry results. */
START_TEST(concurrent_pushes)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;
    pid_t pids[8];
    char big[300000];

    make_outputs();
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 31 + i / 997);
    write_bytes(tpath("src/a.o"), big, sizeof(big), 0644);
    for (int i = 0; i < 8; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            struct wc_output outs[3] = {{.path = "a.o"}, {.path = "sub/prog"}, {.path = "x y%.d"}};
            struct wc_entry_meta pm = {.run_ns = 1, .n_outputs = 3, .outputs = outs};
            int ok = 1;
            for (int k = 0; k < 10 && ok; k++)
                ok = wc_entry_push(s, KEY, tpath("src"), &pm, "hello out\n", 10, "warning: x\n",
                                   11) == 0;
            _exit(ok ? 0 : 1);
        }
    }
    for (int i = 0; i < 8; i++) {
        int status;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), 0);
    wc_meta_free(&m);
    char p[PATH_MAX], *buf;
    size_t len;
    snprintf(p, sizeof(p), "%s/a.o", tpath("dst"));
    ck_assert_int_eq(wc_read_file(p, sizeof(big), &buf, &len), 0);
    ck_assert_uint_eq(len, sizeof(big));
    ck_assert(memcmp(buf, big, len) == 0);
    free(buf);
    /* Exactly the entry's files: no temporary left by any writer. */
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s/cache/fe/%s | wc -l) = 6", tmpdir, KEY);
    ck_assert_int_eq(system(cmd), 0);
    s->close(s);
}
END_TEST

/* A trimmer removes the entry again and again while this process fetches (and pushes it
 * back): every fetch is a whole, correct restore or a miss that restores nothing. */
START_TEST(reader_during_trim)
{
    wc_store *s = open_store(0);
    /* A limit of one byte removes every entry (0 would be no limit). */
    struct wc_trim_limits lim = {.max_entries = 1000, .max_bytes = 1, .interval_minutes = 0};
    struct wc_output outs[4] = {{.path = "o0"}, {.path = "o1"}, {.path = "o2"}, {.path = "o3"}};
    static char data[4][200000];
    int hits = 0, misses = 0, pipefd[2];
    pid_t child;

    ck_assert_int_eq(wc_mkdir_p(tpath("src"), 0755), 0);
    for (int k = 0; k < 4; k++) {
        char name[32];
        for (size_t i = 0; i < sizeof(data[k]); i++)
            data[k][i] = (char)(i * (k + 3) + i / 4093);
        snprintf(name, sizeof(name), "src/o%d", k);
        write_bytes(tpath(name), data[k], sizeof(data[k]), 0644);
    }
    ck_assert_int_eq(pipe(pipefd), 0);
    child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        char c;
        close(pipefd[1]);
        fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
        /* Bursts of trims that cut through fetches, then pauses in which fetches complete. */
        for (unsigned i = 0; read(pipefd[0], &c, 1) < 0; i++) {
            wc_dir_trim(tpath("cache"), &lim, 1, NULL);
            usleep((i / 16) % 2 ? 10000 : 300);
        }
        _exit(0);
    }
    close(pipefd[0]);
    time_t end = time(NULL) + 20;
    for (int round = 0; time(NULL) < end && (round < 300 || !hits || misses < 2); round++) {
        struct wc_entry_meta pm = {.n_outputs = 4, .outputs = outs}, m;
        struct wc_stream out, err;
        int rc;

        wc_rm_rf(tpath("dst"));
        ck_assert_int_eq(mkdir(tpath("dst"), 0755), 0);
        rc = wc_entry_fetch(s, KEY, tpath("dst"), NULL, &m, &out, &err);
        if (rc == 0) {
            hits++;
            for (int k = 0; k < 4; k++) {
                char p[PATH_MAX], *b;
                size_t len;
                snprintf(p, sizeof(p), "%s/dst/o%d", tmpdir, k);
                ck_assert_int_eq(wc_read_file(p, sizeof(data[k]), &b, &len), 0);
                ck_assert_uint_eq(len, sizeof(data[k]));
                ck_assert(memcmp(b, data[k], len) == 0);
                free(b);
            }
            ck_assert_uint_eq(out.len, 3);
            wc_stream_free(&out);
            wc_stream_free(&err);
            wc_meta_free(&m);
        } else {
            ck_assert_msg(rc == -ENOENT || rc == -EBADMSG, "fetch: %s", strerror(-rc));
            misses++;
            assert_nothing_restored(tpath("dst"));
            wc_entry_push(s, KEY, tpath("src"), &pm, "out", 3, NULL, 0);
        }
    }
    close(pipefd[1]);
    int status;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the trimmer died");
    fprintf(stderr, "reader_during_trim: %d hits, %d misses\n", hits, misses);
    ck_assert_int_gt(hits, 0);
    /* The first fetch always misses; more prove the trimmer removed entries meanwhile. */
    ck_assert_int_gt(misses, 1);
    s->close(s);
}
END_TEST

/* A stdout larger than WC_STREAM_INLINE_MAX is replayed from a file, not from memory, and
 * byte for byte; one whose size differs from what the metadata declares is corrupt. */
START_TEST(large_stdout_streamed)
{
    wc_store *s = open_store(0);
    struct wc_output outs[1] = {{.path = "a.o"}};
    struct wc_entry_meta m = {.n_outputs = 1, .outputs = outs}, f;
    struct wc_stream out, err;
    size_t n = 3u << 20;
    char *big = malloc(n), *back;
    size_t len;
    int fd;

    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 23);
    make_outputs();
    ck_assert_int_eq(wc_entry_push(s, KEY, tpath("src"), &m, big, n, NULL, 0), 0);
    ck_assert_int_eq(wc_entry_fetch(s, KEY, tpath("src"), NULL, &f, &out, &err), 0);
    ck_assert_ptr_null(out.buf);
    ck_assert_int_ge(out.fd, 0);
    ck_assert_uint_eq(out.len, n);
    fd = open(tpath("replayed"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wc_stream_replay(&out, fd), 0);
    close(fd);
    ck_assert_int_eq(wc_read_file(tpath("replayed"), n, &back, &len), 0);
    ck_assert(len == n && memcmp(back, big, n) == 0);
    free(back);
    wc_stream_free(&out);
    wc_stream_free(&err);
    wc_meta_free(&f);
    /* One byte more in the store than the metadata says: refused before it is read. */
    fd = open(store_file("stdout"), O_WRONLY | O_APPEND);
    ck_assert_int_eq(write(fd, "x", 1), 1);
    close(fd);
    ck_assert_int_eq(wc_entry_fetch(s, KEY, tpath("src"), NULL, &f, &out, &err), -EBADMSG);
    ck_assert_int_eq(out.fd, -1);
    free(big);
    s->close(s);
}
END_TEST

/* ---- where and how a restore writes ---- */

/* The real gcc fails with "cannot open output file" when the output's directory is
 * missing: a restore never creates it, and leaves nothing behind. */
START_TEST(missing_output_directory_not_created)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;
    struct wc_stream out, err;

    make_outputs();
    push_entry(s);
    ck_assert_int_eq(mkdir(tpath("dst"), 0755), 0);
    ck_assert_int_eq(wc_entry_fetch(s, KEY, tpath("dst"), NULL, &m, &out, &err), -ENOTDIR);
    ck_assert_int_ne(access(tpath("dst/sub"), F_OK), 0);
    assert_nothing_restored(tpath("dst"));
    /* The entry itself is fine: it is still there for a build that has the directory. */
    ck_assert_int_eq(access(store_file("meta"), F_OK), 0);
    s->close(s);
}
END_TEST

/* An output directory that is a symbolic link is never written through. */
START_TEST(symlinked_output_directory_refused)
{
    wc_store *s = open_store(0);
    struct wc_entry_meta m;
    struct wc_stream out, err;

    make_outputs();
    push_entry(s);
    ck_assert_int_eq(mkdir(tpath("dst"), 0755), 0);
    ck_assert_int_eq(mkdir(tpath("elsewhere"), 0755), 0);
    ck_assert_int_eq(symlink(tpath("elsewhere"), tpath("dst/sub")), 0);
    ck_assert_int_eq(wc_entry_fetch(s, KEY, tpath("dst"), NULL, &m, &out, &err), -ENOTDIR);
    assert_nothing_restored(tpath("elsewhere"));
    assert_nothing_restored(tpath("dst"));
    s->close(s);
}
END_TEST

static mode_t mode_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Under umask 077 gcc makes 0600 objects and ld 0700 programs: so does a restore, whatever
 * mode the entry was recorded with. */
static void check_umask_applies(int hardlink)
{
    wc_store *s = open_store(hardlink);
    struct wc_entry_meta m;

    make_outputs();
    push_entry(s);
    umask(077);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), 0);
    wc_meta_free(&m);
    ck_assert_uint_eq(mode_of(tpath("dst/a.o")), 0600);
    ck_assert_uint_eq(mode_of(tpath("dst/sub/prog")), 0700);
    ck_assert_uint_eq(mode_of(tpath("dst/x y%.d")), 0600);
    /* Hard links of another mode became private copies; the store kept its modes. */
    ck_assert_uint_eq(mode_of(store_file("1")), 0755);
    umask(022);
    s->close(s);
}

START_TEST(current_umask_applies)
{
    check_umask_applies(0);
}
END_TEST

START_TEST(current_umask_applies_hardlinked)
{
    check_umask_applies(1);
}
END_TEST

/* A store that says 6755 (or holds a set-user-ID file) never makes a set-user-ID output,
 * copied or hard-linked. */
static void check_no_setuid(int hardlink)
{
    wc_store *s = open_store(hardlink);
    struct wc_entry_meta m;
    char *buf, *p;
    size_t len;

    make_outputs();
    push_entry(s);
    ck_assert_int_eq(wc_read_file(store_file("meta"), 1 << 20, &buf, &len), 0);
    p = strstr(buf, "o 0755 ");
    ck_assert_ptr_nonnull(p);
    memcpy(p, "o 6755 ", 7);
    unlink(store_file("meta"));
    write_bytes(store_file("meta"), buf, len, 0644);
    free(buf);
    ck_assert_int_eq(chmod(store_file("1"), 07755), 0);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), 0);
    ck_assert_uint_eq(m.outputs[1].mode, 06755);
    wc_meta_free(&m);
    ck_assert_uint_eq(mode_of(tpath("dst/sub/prog")), 0755);
    s->close(s);
}

START_TEST(never_setuid)
{
    check_no_setuid(0);
}
END_TEST

START_TEST(never_setuid_hardlinked)
{
    check_no_setuid(1);
}
END_TEST

/* With hard links on, an entry file that is a symbolic link is corrupt: it is neither
 * linked nor chmod-ed through (its target keeps its mode). */
START_TEST(hardlink_mode_symlink_in_store_is_corrupt)
{
    wc_store *s = open_store(1);
    struct wc_entry_meta m;

    make_outputs();
    push_entry(s);
    write_file(tpath("victim"), "#!/bin/sh\necho prog\n", 0700);
    unlink(store_file("1"));
    ck_assert_int_eq(symlink(tpath("victim"), store_file("1")), 0);
    ck_assert_int_eq(fetch_to(s, tpath("dst"), &m), -EBADMSG);
    ck_assert_uint_eq(mode_of(tpath("victim")), 0700);
    assert_nothing_restored(tpath("dst"));
    s->close(s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("entry");
    TCase *tm = tcase_create("meta");
    TCase *te = tcase_create("entry");
    SRunner *r;
    int failed;

    tcase_add_test(tm, meta_round_trip);
    tcase_add_test(tm, meta_rejects_garbage);
    tcase_add_test(tm, meta_parse_survives_damage);
    suite_add_tcase(su, tm);

    tcase_add_checked_fixture(te, setup, teardown);
    tcase_set_timeout(te, 120);
    tcase_add_test(te, push_fetch_round_trip);
    tcase_add_test(te, push_without_streams);
    tcase_add_test(te, fetch_missing_entry);
    tcase_add_test(te, corrupt_entries_restore_nothing);
    tcase_add_test(te, truncated_output_restores_nothing);
    tcase_add_test(te, flipped_byte_restores_nothing);
    tcase_add_test(te, bad_streams_restore_nothing);
    tcase_add_test(te, missing_stdout_restores_nothing);
    tcase_add_test(te, garbled_meta_restores_nothing);
    tcase_add_test(te, corrupt_entry_keeps_existing_outputs);
    tcase_add_test(te, copy_mode_in_place_writes_leave_cache_intact);
    tcase_add_test(te, hardlink_mode_restores_links);
    tcase_add_test(te, hardlink_mode_in_place_write_detected);
    tcase_add_test(te, hardlink_mode_across_devices);
    tcase_add_test(te, entry_removed_during_fetch_is_a_miss);
    tcase_add_test(te, concurrent_pushes);
    tcase_add_test(te, reader_during_trim);
    tcase_add_test(te, large_stdout_streamed);
    tcase_add_test(te, missing_output_directory_not_created);
    tcase_add_test(te, symlinked_output_directory_refused);
    tcase_add_test(te, current_umask_applies);
    tcase_add_test(te, current_umask_applies_hardlinked);
    tcase_add_test(te, never_setuid);
    tcase_add_test(te, never_setuid_hardlinked);
    tcase_add_test(te, hardlink_mode_symlink_in_store_is_corrupt);
    suite_add_tcase(su, te);

    r = srunner_create(su);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
