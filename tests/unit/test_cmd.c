/* The bucket-command store: the shell-like splitter, placeholder expansion, running a command
 * with a time limit, and a round trip through a stand-in for gsutil written by the test. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/cmd.h"

#define KEY "0123456789abcdef0123456789abcdef"

static char tmp[PATH_MAX];

static void setup(void)
{
    snprintf(tmp, sizeof(tmp), "%s/wc-test-cmd.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
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

static void write_text(const char *path, const char *text, mode_t mode)
{
    ck_assert_int_eq(wc_write_file_atomic(path, text, strlen(text), mode), 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the splitter ---- */

static void expect_split(const char *line, int n, const char *const *want)
{
    char **argv;
    int rc = wc_cmd_split(line, &argv);

    ck_assert_msg(rc == n, "split [%s]: %d words, expected %d", line, rc, n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(!strcmp(argv[i], want[i]), "split [%s] word %d: [%s], expected [%s]", line, i,
                      argv[i], want[i]);
    ck_assert_ptr_null(argv[n]);
    wc_cmd_free(argv);
}

START_TEST(split_words)
{
    expect_split("gsutil cp a b", 4, (const char *[]){"gsutil", "cp", "a", "b"});
    expect_split("  a \t b\nc  ", 3, (const char *[]){"a", "b", "c"});
    expect_split("", 0, NULL);
    expect_split(" \t\n ", 0, NULL);
}
END_TEST

START_TEST(split_quotes)
{
    expect_split("'a b' c", 2, (const char *[]){"a b", "c"});
    expect_split("'it''s' x", 2, (const char *[]){"its", "x"});
    expect_split("a'b'\"c\"d", 1, (const char *[]){"abcd"});
    expect_split("'' \"\" x", 3, (const char *[]){"", "", "x"});
    /* Inside single quotes a backslash and a double quote are plain. */
    expect_split("'a\\b\"c'", 1, (const char *[]){"a\\b\"c"});
    /* Inside double quotes only \$ \` \" \\ are escapes. */
    expect_split("\"a \\\"b\\\" \\$x \\\\ \\n 'q'\"", 1, (const char *[]){"a \"b\" $x \\ \\n 'q'"});
    expect_split("\"$HOME\" ~ *", 3, (const char *[]){"$HOME", "~", "*"});
}
END_TEST

START_TEST(split_escapes)
{
    expect_split("a\\ b c", 2, (const char *[]){"a b", "c"});
    expect_split("\\'x\\\"", 1, (const char *[]){"'x\""});
    expect_split("a \\\n b", 2, (const char *[]){"a", "b"}); /* a line continuation */
    expect_split("\\\\", 1, (const char *[]){"\\"});
}
END_TEST

START_TEST(split_placeholders_in_quotes)
{
    expect_split("gsutil -h 'x: y' cp \"%{SRC}\" '%{TGT}'", 6,
                 (const char *[]){"gsutil", "-h", "x: y", "cp", "%{SRC}", "%{TGT}"});
}
END_TEST

START_TEST(split_unbalanced)
{
    const char *bad[] = {"'abc", "a \"b", "\"a\\\"", "abc\\", "'", "\""};
    char **argv = (char **)1;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(wc_cmd_split(bad[i], &argv) == -EINVAL, "[%s] accepted", bad[i]);
        ck_assert_ptr_null(argv);
    }
}
END_TEST

START_TEST(expand_placeholders)
{
    char *tmpl[] = {"cp", "%{SRC}", "x%{TGT}y", "%{SRC}%{SRC}", "%{src}", "%{SRC", NULL};
    char **argv;

    ck_assert_int_eq(wc_cmd_expand(tmpl, "a b", "'t'", &argv), 0);
    ck_assert_str_eq(argv[0], "cp");
    ck_assert_str_eq(argv[1], "a b"); /* never split again */
    ck_assert_str_eq(argv[2], "x't'y");
    ck_assert_str_eq(argv[3], "a ba b");
    ck_assert_str_eq(argv[4], "%{src}");
    ck_assert_str_eq(argv[5], "%{SRC");
    ck_assert_ptr_null(argv[6]);
    wc_cmd_free(argv);
}
END_TEST

/* ---- running ---- */

START_TEST(run_captures_and_fails)
{
    char *ok[] = {"sh", "-c", "echo out; echo err >&2", NULL};
    char *bad[] = {"sh", "-c", "echo boom >&2; exit 3", NULL};
    char *missing[] = {"/nonexistent/wafcache-copy", NULL};
    char out[128];

    ck_assert_int_eq(wc_cmd_run(ok, 5000, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "out\nerr\n");
    ck_assert_int_eq(wc_cmd_run(bad, 5000, out, sizeof(out)), -EIO);
    ck_assert_str_eq(out, "boom\n");
    ck_assert_int_eq(wc_cmd_run(missing, 5000, out, sizeof(out)), -ENOEXEC);
    ck_assert_ptr_nonnull(strstr(out, "No such file"));
}
END_TEST

START_TEST(run_stdin_is_null)
{
    char *argv[] = {"sh", "-c", "cat; echo done", NULL};
    char out[64];

    /* A command that reads stdin gets EOF at once, not the runner's input. */
    ck_assert_int_eq(wc_cmd_run(argv, 5000, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "done\n");
}
END_TEST

START_TEST(run_bounds_output)
{
    char *argv[] = {"sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x; exit 1", NULL};
    char out[100];

    ck_assert_int_eq(wc_cmd_run(argv, 20000, out, sizeof(out)), -EIO);
    ck_assert_uint_eq(strlen(out), sizeof(out) - 1);
}
END_TEST

/* 1 when the process is gone or a zombie (killed, waiting for a reaper). */
static int dead(pid_t pid)
{
    char path[64], buf[256];
    FILE *f;
    char *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return 1;
    p = fgets(buf, sizeof(buf), f);
    fclose(f);
    p = p ? strrchr(buf, ')') : NULL;
    return !p || p[2] == 'Z' || p[2] == 'X';
}

START_TEST(run_kills_after_timeout)
{
    char script[PATH_MAX + 64];
    char *argv[] = {"sh", "-c", script, NULL};
    char out[64], text[32] = "";
    int64_t t0 = now_ms();
    size_t len;
    char *buf;
    int rc;

    /* sleep is a grandchild: the whole process group must go. */
    snprintf(script, sizeof(script), "sleep 30 & echo $! > %s; wait", path_in("pid"));
    rc = wc_cmd_run(argv, 300, out, sizeof(out));
    ck_assert_int_eq(rc, -ETIMEDOUT);
    ck_assert_int_lt(now_ms() - t0, 5000);
    ck_assert_int_eq(wc_read_file(path_in("pid"), 100, &buf, &len), 0);
    snprintf(text, sizeof(text), "%s", buf);
    free(buf);
    for (int i = 0; i < 100 && !dead(atoi(text)); i++)
        usleep(10000);
    ck_assert_msg(dead(atoi(text)), "the command's child %s survived the timeout", text);
}
END_TEST

START_TEST(run_does_not_wait_for_leftovers)
{
    char *argv[] = {"sh", "-c", "sleep 5 & echo started", NULL};
    char out[64];
    int64_t t0 = now_ms();

    /* The background sleep keeps the output pipe open; the exit of the command is what
     * counts. */
    ck_assert_int_eq(wc_cmd_run(argv, 10000, out, sizeof(out)), 0);
    ck_assert_int_lt(now_ms() - t0, 2500);
}
END_TEST

/* ---- the store, through a stand-in for gsutil ---- */

/* `cp SRC TGT` that maps gs://bucket/... and alias/bucket/... to <tmp>/bucket/...,
 * complaining as gsutil does when the source is missing, and logging its argument count. */
static char *write_fake_gsutil(void)
{
    char *script = path_in("fake gsutil"); /* a blank in the path: no shell in between */
    char text[4 * PATH_MAX];

    snprintf(text, sizeof(text),
             "#!/bin/sh\n"
             "echo $# >> '%s/argc'\n"
             "[ \"$1\" = cp ] && shift\n"
             "map() { case \"$1\" in gs://bucket/*) echo \"%s/bucket/${1#gs://bucket/}\";;\n"
             "  alias/bucket/*) echo \"%s/bucket/${1#alias/bucket/}\";; *) echo \"$1\";; esac; }\n"
             "src=$(map \"$1\"); tgt=$(map \"$2\")\n"
             "[ -f \"$src\" ] || { echo \"CommandException: No URLs matched: $1\" >&2; exit 1; }\n"
             "mkdir -p \"$(dirname \"$tgt\")\" && cp \"$src\" \"$tgt\"\n",
             tmp, tmp, tmp);
    write_text(script, text, 0755);
    return script;
}

static wc_store *open_fake(struct wc_config *c, const char *cmd_fmt, unsigned timeout_ms)
{
    static char cmd[2 * PATH_MAX];
    char errbuf[256];
    int err = 1;
    wc_store *s;

    snprintf(cmd, sizeof(cmd), cmd_fmt, write_fake_gsutil());
    memset(c, 0, sizeof(*c));
    c->cache = "gs://bucket/prefix/";
    c->kind = WC_STORE_GS;
    c->cmd = cmd;
    c->timeout_ms = timeout_ms;
    s = wc_cmd_open(c, &err, errbuf, sizeof(errbuf));
    ck_assert_msg(s != NULL, "open: %d %s", err, errbuf);
    ck_assert_int_eq(err, 0);
    return s;
}

START_TEST(store_round_trip)
{
    struct wc_config c;
    wc_store *s = open_fake(&c, "'%s' cp %%{SRC} \"%%{TGT}\"", 10000);
    char *src = path_in("an output.o"), *dest = path_in("restored.o");
    char stored[PATH_MAX + 80], *buf;
    size_t len;

    write_text(src, "object bytes\n", 0644);
    ck_assert_int_eq(s->put(s, KEY, "0", src), 0);
    /* The seed's bucket layout: <url><key[:2]>/<key>/<i>. */
    snprintf(stored, sizeof(stored), "%s/bucket/prefix/01/%s/0", tmp, KEY);
    ck_assert_int_eq(access(stored, F_OK), 0);

    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    ck_assert_int_eq(wc_read_file(dest, 1000, &buf, &len), 0);
    ck_assert_str_eq(buf, "object bytes\n");
    free(buf);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, dest), -EEXIST);

    ck_assert_int_eq(s->write(s, KEY, "meta", "meta text", 9), 0);
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), 0);
    ck_assert_uint_eq(len, 9);
    ck_assert_str_eq(buf, "meta text");
    free(buf);
    ck_assert_int_eq(s->read(s, KEY, "meta", 4, &buf, &len), -EFBIG);
    ck_assert_ptr_null(buf);

    ck_assert_int_eq(s->exists(s, KEY, "meta"), 0);
    ck_assert_int_eq(s->exists(s, KEY, "1"), -ENOENT);
    ck_assert_int_eq(s->touch(s, KEY), 0);
    ck_assert_int_eq(s->remove(s, KEY), -ENOTSUP);
    ck_assert_int_eq(s->get(s, KEY, "../x", WC_STORE_UNBOUNDED, path_in("y")), -EINVAL);
    ck_assert_int_eq(s->get(s, "nothex", "0", WC_STORE_UNBOUNDED, path_in("y")), -EINVAL);
    s->close(s);
}
END_TEST

/* A bucket that streams far more than the entry declares: the copy command runs under a file
 * size limit (the declared size plus a small slack), and what it wrote is removed. */
START_TEST(store_get_bounded)
{
    struct wc_config c;
    wc_store *s = open_fake(&c, "'%s' cp %%{SRC} %%{TGT}", 10000);
    char text[2 * PATH_MAX], *dest = path_in("giant"), *buf;
    size_t len;

    snprintf(text, sizeof(text),
             "#!/bin/sh\n"
             "head -c 8000000 /dev/zero > \"$3\"\n"
             "stat -c %%s \"$3\" > '%s/written'\n",
             tmp);
    write_text(path_in("fake gsutil"), text, 0755); /* replaces the copying stand-in */
    ck_assert_int_eq(s->get(s, KEY, "0", 100, dest), -EFBIG);
    ck_assert_int_eq(access(dest, F_OK), -1);
    ck_assert_int_eq(wc_read_file(path_in("written"), 100, &buf, &len), 0);
    ck_assert_int_le(atol(buf), (1 << 20) + 100);
    free(buf);
    s->close(s);
}
END_TEST

START_TEST(store_miss)
{
    struct wc_config c;
    wc_store *s = open_fake(&c, "'%s' cp %%{SRC} %%{TGT}", 10000);
    char *dest = path_in("never");
    char *buf = (char *)1;
    size_t len;

    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, dest), -ENOENT);
    ck_assert_int_eq(access(dest, F_OK), -1);
    ck_assert_ptr_nonnull(strstr(s->reason(s), "No URLs matched"));
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), -ENOENT);
    ck_assert_ptr_null(buf);
    s->close(s);
}
END_TEST

START_TEST(store_appends_placeholders)
{
    struct wc_config c;
    wc_store *s = open_fake(&c, "'%s'", 10000); /* neither placeholder: SRC TGT appended */
    char *buf;
    size_t len;

    ck_assert_int_eq(s->write(s, KEY, "1", "x", 1), 0);
    ck_assert_int_eq(s->read(s, KEY, "1", 10, &buf, &len), 0);
    ck_assert_str_eq(buf, "x");
    free(buf);
    ck_assert_int_eq(wc_read_file(path_in("argc"), 100, &buf, &len), 0);
    ck_assert_str_eq(buf, "2\n2\n");
    free(buf);
    s->close(s);
}
END_TEST

START_TEST(store_minio_drops_scheme)
{
    struct wc_config c;
    wc_store *s;
    char stored[PATH_MAX + 80], errbuf[128];
    int err;

    s = open_fake(&c, "'%s' cp %%{SRC} %%{TGT}", 10000); /* fills c */
    s->close(s);
    c.cache = "minio://alias/bucket/p";
    c.kind = WC_STORE_MINIO;
    s = wc_cmd_open(&c, &err, errbuf, sizeof(errbuf));
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->write(s, KEY, "0", "m", 1), 0);
    snprintf(stored, sizeof(stored), "%s/bucket/p/01/%s/0", tmp, KEY);
    ck_assert_int_eq(access(stored, F_OK), 0);
    s->close(s);
}
END_TEST

START_TEST(store_failing_command)
{
    struct wc_config c = {.cache = "gs://bucket/",
                          .kind = WC_STORE_GS,
                          .cmd = "sh -c 'echo denied >&2; exit 1' %{SRC} %{TGT}",
                          .timeout_ms = 5000};
    char errbuf[128];
    int err;
    wc_store *s = wc_cmd_open(&c, &err, errbuf, sizeof(errbuf));

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->write(s, KEY, "0", "x", 1), -EIO);
    ck_assert_ptr_nonnull(strstr(s->reason(s), "denied"));
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, path_in("d")), -ENOENT);
    s->close(s);
}
END_TEST

START_TEST(store_hanging_command)
{
    struct wc_config c = {.cache = "gs://bucket/",
                          .kind = WC_STORE_GS,
                          .cmd = "sh -c 'sleep 30' %{SRC} %{TGT}",
                          .timeout_ms = 300};
    char errbuf[128];
    int err;
    wc_store *s = wc_cmd_open(&c, &err, errbuf, sizeof(errbuf));
    int64_t t0 = now_ms();

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, path_in("d")), -ETIMEDOUT);
    ck_assert_int_eq(s->write(s, KEY, "0", "x", 1), -ETIMEDOUT);
    ck_assert_int_lt(now_ms() - t0, 5000);
    ck_assert_int_eq(access(path_in("d"), F_OK), -1);
    s->close(s);
}
END_TEST

START_TEST(open_errors)
{
    struct wc_config c = {.cache = "gs://bucket/", .kind = WC_STORE_GS, .timeout_ms = 1000};
    const char *path = getenv("PATH");
    char *saved = path ? strdup(path) : NULL;
    char errbuf[256];
    int err;

    /* The default program, absent from PATH: one clear message at open. */
    setenv("PATH", tmp, 1);
    ck_assert_ptr_null(wc_cmd_open(&c, &err, errbuf, sizeof(errbuf)));
    ck_assert_int_eq(err, -ENOENT);
    ck_assert_ptr_nonnull(strstr(errbuf, "gsutil"));
    c.kind = WC_STORE_S3;
    ck_assert_ptr_null(wc_cmd_open(&c, &err, errbuf, sizeof(errbuf)));
    ck_assert_ptr_nonnull(strstr(errbuf, "aws"));
    if (saved)
        setenv("PATH", saved, 1);
    free(saved);

    c.cmd = "cp %{SRC} somewhere";
    ck_assert_ptr_null(wc_cmd_open(&c, &err, errbuf, sizeof(errbuf)));
    ck_assert_int_eq(err, -EINVAL);
    c.cmd = "cp '%{SRC} %{TGT}";
    ck_assert_ptr_null(wc_cmd_open(&c, &err, errbuf, sizeof(errbuf)));
    ck_assert_int_eq(err, -EINVAL);
    ck_assert_ptr_nonnull(strstr(errbuf, "quote"));
    c.cmd = "  ";
    ck_assert_ptr_null(wc_cmd_open(&c, &err, errbuf, sizeof(errbuf)));
    ck_assert_int_eq(err, -EINVAL);
    c.cmd = NULL;
    c.kind = WC_STORE_HTTP;
    ck_assert_ptr_null(wc_cmd_open(&c, &err, errbuf, sizeof(errbuf)));
    ck_assert_int_eq(err, -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cmd");
    TCase *split = tcase_create("split");
    TCase *run = tcase_create("run");
    TCase *store = tcase_create("store");
    SRunner *r;
    int failed;

    tcase_add_test(split, split_words);
    tcase_add_test(split, split_quotes);
    tcase_add_test(split, split_escapes);
    tcase_add_test(split, split_placeholders_in_quotes);
    tcase_add_test(split, split_unbalanced);
    tcase_add_test(split, expand_placeholders);
    suite_add_tcase(s, split);

    tcase_add_checked_fixture(run, setup, teardown);
    tcase_add_test(run, run_captures_and_fails);
    tcase_add_test(run, run_stdin_is_null);
    tcase_add_test(run, run_bounds_output);
    tcase_add_test(run, run_kills_after_timeout);
    tcase_add_test(run, run_does_not_wait_for_leftovers);
    suite_add_tcase(s, run);

    tcase_add_checked_fixture(store, setup, teardown);
    tcase_add_test(store, store_round_trip);
    tcase_add_test(store, store_miss);
    tcase_add_test(store, store_get_bounded);
    tcase_add_test(store, store_appends_placeholders);
    tcase_add_test(store, store_minio_drops_scheme);
    tcase_add_test(store, store_failing_command);
    tcase_add_test(store, store_hanging_command);
    tcase_add_test(store, open_errors);
    suite_add_tcase(s, store);

    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
