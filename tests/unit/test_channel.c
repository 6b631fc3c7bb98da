/* wc_channel_parse: the flag rules, completeness, escapes, and hostile input. */
#include "preload/channel.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct wc_observation obs;

static void parse(const char *text)
{
    ck_assert_int_eq(wc_channel_parse(text, strlen(text), &obs), 0);
}

/* Flags of path, or -1 when the path was not reported. */
static int flags_of(const char *path)
{
    for (size_t i = 0; i < obs.n; i++)
        if (strcmp(obs.paths[i].path, path) == 0)
            return (int)obs.paths[i].flags;
    return -1;
}

static void teardown(void)
{
    wc_observation_free(&obs);
}

/* ---- completeness ---- */

START_TEST(complete_single_process)
{
    parse("10 H 1 /usr/bin/cc1\n10 r /src/a.c\n10 w /out/a.o\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_uint_eq(obs.processes, 1);
    ck_assert_int_eq(obs.read_stdin, 0);
    ck_assert_int_eq(flags_of("/src/a.c"), WC_EV_READ);
    ck_assert_int_eq(flags_of("/out/a.o"), WC_EV_WRITE);
}
END_TEST

START_TEST(hello_exe_is_an_input)
{
    parse("10 H 1 /usr/bin/gcc\n10 B\n");
    ck_assert(obs.complete);
    ck_assert_int_eq(flags_of("/usr/bin/gcc"), WC_EV_READ | WC_EV_EXEC);
}
END_TEST

START_TEST(hello_without_exe)
{
    parse("10 H 1 \n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_uint_eq(obs.n, 0);
}
END_TEST

START_TEST(hello_without_bye)
{
    parse("10 H 1 /bin/gcc\n10 r /a\n");
    ck_assert(!obs.complete);
    ck_assert_ptr_nonnull(strstr(obs.reason, "10"));
}
END_TEST

START_TEST(events_without_hello)
{
    parse("10 H 1 /bin/gcc\n10 B\n11 r /a\n");
    ck_assert(!obs.complete);
}
END_TEST

START_TEST(bye_without_hello)
{
    parse("10 H 1 /bin/gcc\n10 B\n10 B\n");
    ck_assert(!obs.complete);
}
END_TEST

START_TEST(empty_channel)
{
    parse("");
    ck_assert(!obs.complete);
    ck_assert_uint_eq(obs.processes, 0);
    ck_assert_int_eq(wc_channel_parse(NULL, 0, &obs), 0);
    ck_assert(!obs.complete);
}
END_TEST

START_TEST(exec_with_hello)
{
    /* gcc's vfork child: hello, exec cc1, bye; cc1 says hello with the same pid. */
    parse("10 H 1 /bin/gcc\n"
          "11 H 10 /bin/gcc\n11 x /lib/cc1\n11 B\n"
          "11 H 10 /lib/cc1\n11 r /a.c\n11 B\n"
          "10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_uint_eq(obs.processes, 3);
    ck_assert_int_eq(flags_of("/lib/cc1"), WC_EV_READ | WC_EV_EXEC);
}
END_TEST

START_TEST(exec_without_hello)
{
    /* A static binary, or an env -i: the new image never spoke. */
    parse("10 H 1 /bin/gcc\n10 x /bin/static-as\n10 B\n");
    ck_assert(!obs.complete);
    ck_assert_ptr_nonnull(strstr(obs.reason, "10"));
}
END_TEST

START_TEST(exec_failed_then_hello_again)
{
    parse("10 H 1 /bin/sh\n10 x /bin/nope\n10 B\n10 H 1 /bin/sh\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
}
END_TEST

START_TEST(exec_hello_before_bye_of_others)
{
    /* Order between processes is free; within one pid it is causal. */
    parse("20 H 10 /bin/as\n20 B\n10 H 1 /bin/gcc\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
}
END_TEST

START_TEST(spawn_with_hello_either_order)
{
    parse("10 H 1 /bin/gcc\n11 s /bin/as\n10 B\n11 H 10 /bin/as\n11 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    wc_observation_free(&obs);
    parse("11 H 10 /bin/as\n11 B\n10 H 1 /bin/gcc\n11 s /bin/as\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_int_eq(flags_of("/bin/as"), WC_EV_READ | WC_EV_EXEC);
}
END_TEST

START_TEST(spawn_without_hello)
{
    parse("10 H 1 /bin/gcc\n11 s /bin/static-as\n10 B\n");
    ck_assert(!obs.complete);
}
END_TEST

START_TEST(event_after_bye_is_tolerated)
{
    /* A thread still running while the process exits, or a destructor after ours. */
    parse("10 H 1 /bin/ld\n10 B\n10 r /late\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_int_eq(flags_of("/late"), WC_EV_READ);
}
END_TEST

START_TEST(stdin_read)
{
    parse("10 H 1 /bin/cc1\n10 i\n10 B\n");
    ck_assert(obs.complete);
    ck_assert_int_eq(obs.read_stdin, 1);
}
END_TEST

/* ---- the flag rules ---- */

START_TEST(dedup_first_seen_order)
{
    parse("10 H 1 /bin/x\n10 r /b\n10 r /a\n10 r /b\n10 m /c\n10 r /a\n10 B\n");
    ck_assert_uint_eq(obs.n, 4);
    ck_assert_str_eq(obs.paths[0].path, "/bin/x");
    ck_assert_str_eq(obs.paths[1].path, "/b");
    ck_assert_str_eq(obs.paths[2].path, "/a");
    ck_assert_str_eq(obs.paths[3].path, "/c");
}
END_TEST

START_TEST(many_paths_dedup)
{
    /* Enough paths to grow the tables several times. */
    size_t cap = 5000 * 40, len = 0;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    len += (size_t)snprintf(text, cap, "10 H 1 /bin/x\n");
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 2000; i++)
            len += (size_t)snprintf(text + len, cap - len, "10 r /inc/h%d.h\n", i);
    len += (size_t)snprintf(text + len, cap - len, "10 B\n");
    ck_assert_int_eq(wc_channel_parse(text, len, &obs), 0);
    free(text);
    ck_assert(obs.complete);
    ck_assert_uint_eq(obs.n, 2001);
    ck_assert_str_eq(obs.paths[1500].path, "/inc/h1499.h");
}
END_TEST

START_TEST(read_after_own_write_is_not_input)
{
    parse("10 H 1 /bin/x\n10 w /tmp/cc.s\n10 r /tmp/cc.s\n10 B\n");
    ck_assert_int_eq(flags_of("/tmp/cc.s"), WC_EV_WRITE);
}
END_TEST

START_TEST(read_then_write_is_inplace)
{
    parse("10 H 1 /bin/x\n10 r /lib.a\n10 w /lib.a\n10 B\n");
    ck_assert_int_eq(flags_of("/lib.a"), WC_EV_READ | WC_EV_WRITE | WC_EV_INPLACE);
}
END_TEST

START_TEST(unlink_after_write_is_gone)
{
    parse("10 H 1 /bin/x\n10 w /tmp/t\n10 u /tmp/t\n10 B\n");
    ck_assert_int_eq(flags_of("/tmp/t"), WC_EV_WRITE | WC_EV_GONE);
}
END_TEST

START_TEST(write_after_unlink_is_not_gone)
{
    parse("10 H 1 /bin/x\n10 w /o\n10 u /o\n10 w /o\n10 B\n");
    ck_assert_int_eq(flags_of("/o"), WC_EV_WRITE);
}
END_TEST

START_TEST(rename_target_is_written)
{
    parse("10 H 1 /bin/ar\n10 w /tmp/stAbc\n10 n /tmp/stAbc\t/out/lib.a\n10 B\n");
    ck_assert_int_eq(flags_of("/tmp/stAbc"), WC_EV_WRITE | WC_EV_GONE);
    ck_assert_int_eq(flags_of("/out/lib.a"), WC_EV_WRITE);
}
END_TEST

START_TEST(rename_of_input)
{
    /* ar on an existing archive: read it, write a temp, rename over it. */
    parse("10 H 1 /bin/ar\n10 r /lib.a\n10 w /t\n10 n /t\t/lib.a\n10 n /in\t/moved\n10 B\n");
    ck_assert_int_eq(flags_of("/lib.a"), WC_EV_READ | WC_EV_WRITE | WC_EV_INPLACE);
    ck_assert_int_eq(flags_of("/in"), WC_EV_READ | WC_EV_GONE);
    ck_assert_int_eq(flags_of("/moved"), WC_EV_WRITE);
}
END_TEST

START_TEST(missing_before_creation)
{
    parse("10 H 1 /bin/x\n10 m /inc/a.h\n10 w /out/o\n10 m /out/o\n10 B\n");
    ck_assert_int_eq(flags_of("/inc/a.h"), WC_EV_MISSING);
    ck_assert_int_eq(flags_of("/out/o"), WC_EV_WRITE);
    wc_observation_free(&obs);
    parse("10 H 1 /bin/x\n10 m /out/o\n10 w /out/o\n10 B\n");
    ck_assert_int_eq(flags_of("/out/o"), WC_EV_MISSING | WC_EV_WRITE);
}
END_TEST

START_TEST(read_missing)
{
    parse("10 H 1 /bin/ar\n10 o /out/lib.a\n10 m /inc/a.h\n10 w /out/lib.a\n10 o /out/x\n"
          "10 w /out/x\n10 o /out/x\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_int_eq(flags_of("/out/lib.a"), WC_EV_MISSING | WC_EV_READ_MISSING | WC_EV_WRITE);
    ck_assert_int_eq(flags_of("/inc/a.h"), WC_EV_MISSING);
    wc_observation_free(&obs);
    /* After the command created it, a failed read says nothing about the world before. */
    parse("10 H 1 /bin/ar\n10 w /out/x\n10 u /out/x\n10 o /out/x\n10 B\n");
    ck_assert_int_eq(flags_of("/out/x") & (WC_EV_MISSING | WC_EV_READ_MISSING), 0);
}
END_TEST

START_TEST(dotdot_kept)
{
    parse("10 H 1 /bin/cc1\n10 r /src/inc/../common.h\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_int_eq(flags_of("/src/inc/../common.h"), WC_EV_READ);
    ck_assert_int_eq(flags_of("/src/common.h"), -1);
}
END_TEST

START_TEST(nonfile_refused)
{
    parse("10 H 1 /bin/cc1\n10 r /src/a.c\n10 z /dev/fd/63\n10 z /dev/urandom\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_str_eq(obs.refuse, "read /dev/fd/63, which is not a regular file");
    ck_assert_int_eq(flags_of("/dev/fd/63"), -1);
    wc_observation_free(&obs);
    parse("10 H 1 /bin/cc1\n10 z relative\n10 B\n");
    ck_assert(!obs.complete);
    wc_observation_free(&obs);
    parse("10 H 1 /bin/cc1\n10 r /src/a.c\n10 B\n");
    ck_assert_str_eq(obs.refuse, "");
}
END_TEST

static const struct wc_env_read *env_of(const char *name, size_t nth)
{
    for (size_t i = 0; i < obs.n_env; i++)
        if (strcmp(obs.env[i].name, name) == 0 && nth-- == 0)
            return &obs.env[i];
    return NULL;
}

START_TEST(env_reads_deduplicated)
{
    parse("10 H 1 /usr/lib/gcc/cc1\n10 e PATH=/usr/bin\n10 e CPATH\n10 e PATH=/usr/bin\n"
          "11 H 10 /usr/bin/as\n11 e PATH=/usr/bin\n11 e CPATH=/x\n11 e V=a=b\\nc\n"
          "11 e EMPTY=\n11 B\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_uint_eq(obs.n_env, 5);
    ck_assert_str_eq(obs.env[0].name, "PATH"); /* first-seen order */
    ck_assert_str_eq(obs.env[0].value, "/usr/bin");
    ck_assert_ptr_null(env_of("CPATH", 0)->value);
    ck_assert_str_eq(env_of("CPATH", 1)->value, "/x");
    ck_assert_str_eq(env_of("V", 0)->value, "a=b\nc");
    ck_assert_str_eq(env_of("EMPTY", 0)->value, "");
    ck_assert_int_eq(obs.whole_env, 0);
    ck_assert_uint_eq(obs.n, 2); /* variables are not paths */
}
END_TEST

/* issue 15: "a" marks a path denied before the command wrote it, and nothing after. */
START_TEST(denied_probes)
{
    parse("10 H 1 /usr/bin/gcc\n10 a /root/.cargo/bin/as\n10 m /usr/local/bin/as\n"
          "10 w /out/o\n10 a /out/o\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_int_eq(flags_of("/root/.cargo/bin/as"), WC_EV_DENIED);
    ck_assert_int_eq(flags_of("/usr/local/bin/as"), WC_EV_MISSING);
    ck_assert_int_eq(flags_of("/out/o"), WC_EV_WRITE);
}
END_TEST

/* A variable read only by compilers and linkers is by_tools; once any other program reads the
 * same pair, it is not. */
START_TEST(env_by_tools)
{
    parse("10 H 1 /usr/bin/x86_64-linux-gnu-gcc-12\n10 e PATH=/usr/bin\n"
          "11 H 10 /usr/lib/gcc/x86_64-linux-gnu/12/cc1\n11 e DEPENDENCIES_OUTPUT=x.d\n11 B\n"
          "12 H 10 /usr/local/bin/mytool\n12 e PATH=/usr/bin\n12 B\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_int_eq(env_of("PATH", 0)->by_tools, 0);
    ck_assert_int_eq(env_of("DEPENDENCIES_OUTPUT", 0)->by_tools, 1);
    const char *tools[] = {"gcc",    "/usr/bin/g++-12",   "clang++-15",  "collect2",
                           "ld.bfd", "arm-none-eabi-gcc", "lto-wrapper", "cc1plus"};
    const char *others[] = {"bison", "python3", "gcc-ar", "make", "ldconfig", "ascii"};
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
        ck_assert_msg(wc_channel_is_tool(tools[i]), "%s", tools[i]);
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        ck_assert_msg(!wc_channel_is_tool(others[i]), "%s", others[i]);
}
END_TEST

START_TEST(env_bad_names)
{
    const char *bad[] = {"10 H 1 /bin/x\n10 e =v\n10 B\n", "10 H 1 /bin/x\n10 e \n10 B\n",
                         "10 H 1 /bin/x\n10 e A\\q\n10 B\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse(bad[i]);
        ck_assert_msg(!obs.complete, "accepted #%zu", i);
        wc_observation_free(&obs);
    }
}
END_TEST

/* A shell or interpreter takes the environment whole; a compiler does not. */
START_TEST(env_whole_for_shells_and_interpreters)
{
    const char *whole[] = {
        "/bin/sh",          "/usr/bin/bash",     "/usr/bin/python3.11", "/usr/bin/perl5.36.0",
        "/usr/bin/busybox", "/usr/bin/tclsh8.6", "/usr/bin/node"};
    const char *not_whole[] = {"/usr/bin/gcc",           "/usr/bin/shasum", "/usr/bin/bashbug",
                               "/usr/bin/python-config", "/usr/bin/ld",     "/usr/bin/ar"};
    char text[256];
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        snprintf(text, sizeof text, "10 H 1 /usr/bin/gcc\n11 H 10 %s\n11 B\n10 B\n", whole[i]);
        parse(text);
        ck_assert_msg(obs.whole_env, "%s", whole[i]);
        wc_observation_free(&obs);
    }
    for (size_t i = 0; i < sizeof not_whole / sizeof not_whole[0]; i++) {
        snprintf(text, sizeof text, "10 H 1 %s\n10 B\n", not_whole[i]);
        parse(text);
        ck_assert_msg(!obs.whole_env, "%s", not_whole[i]);
        wc_observation_free(&obs);
    }
}
END_TEST

START_TEST(libraries)
{
    parse("10 H 1 /bin/x\n10 l /lib/libc.so.6\n10 B\n");
    ck_assert_int_eq(flags_of("/lib/libc.so.6"), WC_EV_READ | WC_EV_LIB);
}
END_TEST

/* ---- escapes ---- */

START_TEST(escapes)
{
    parse("10 H 1 /bin/x\n10 r /a\\nb\n10 r /c\\td\n10 r /e\\\\f\n10 r /g h\n"
          "10 n /p\\tq\t/r\\ns\n10 B\n");
    ck_assert_msg(obs.complete, "%s", obs.reason);
    ck_assert_int_eq(flags_of("/a\nb"), WC_EV_READ);
    ck_assert_int_eq(flags_of("/c\td"), WC_EV_READ);
    ck_assert_int_eq(flags_of("/e\\f"), WC_EV_READ);
    ck_assert_int_eq(flags_of("/g h"), WC_EV_READ);
    ck_assert_int_eq(flags_of("/p\tq"), WC_EV_READ | WC_EV_GONE);
    ck_assert_int_eq(flags_of("/r\ns"), WC_EV_WRITE);
}
END_TEST

START_TEST(exe_with_space)
{
    parse("10 H 1 /opt/my tools/gcc\n10 B\n");
    ck_assert(obs.complete);
    ck_assert_int_eq(flags_of("/opt/my tools/gcc"), WC_EV_READ | WC_EV_EXEC);
}
END_TEST

/* ---- garbage: each line makes the observation incomplete, never a crash ---- */

static const char *const bad_lines[] = {
    "10 r relative/path\n",
    "10 r /bad\\qescape\n",
    "10 r /trailing\\\n",
    "10 q /unknown\n",
    "10 E\n",
    "0 r /pid0\n",
    "99999999999 r /a\n",
    "-3 r /a\n",
    "10r /a\n",
    "10 r\n",
    "10 rr /a\n",
    "abc\n",
    "\n",
    "10 n /no-target\n",
    "10 n /a\t\n",
    "10 H x /bin/a\n",
    "10 H 5\n",
    "10 r /tab\tin\n",
    "10 r\t/a\n",
};

START_TEST(garbage_line)
{
    char text[256];
    snprintf(text, sizeof(text), "10 H 1 /bin/x\n%s10 B\n", bad_lines[_i]);
    parse(text);
    ck_assert_msg(!obs.complete, "accepted: %s", bad_lines[_i]);
    ck_assert_msg(obs.reason[0] != '\0', "no reason for: %s", bad_lines[_i]);
}
END_TEST

START_TEST(nul_byte_in_path)
{
    static const char text[] = "10 H 1 /bin/x\n10 r /a\0b\n10 B\n";
    ck_assert_int_eq(wc_channel_parse(text, sizeof(text) - 1, &obs), 0);
    ck_assert(!obs.complete);
}
END_TEST

START_TEST(truncated_last_line)
{
    parse("10 H 1 /bin/x\n10 B\n10 r /half");
    ck_assert(!obs.complete);
    ck_assert_int_eq(flags_of("/half"), -1);
}
END_TEST

START_TEST(first_reason_kept)
{
    parse("10 H 1 /bin/x\n10 r rel\n10 B\n11 r /a\n");
    ck_assert(!obs.complete);
    ck_assert_ptr_nonnull(strstr(obs.reason, "'r'"));
}
END_TEST

/* ---- fuzz: random bytes and mutations of a valid channel ---- */

static uint64_t rng = 88172645463325252ull;

static unsigned next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)rng;
}

START_TEST(fuzz_random_bytes)
{
    static const char alphabet[] = "0123456789 HBrwmxlnuisE/\\\t\nab";
    for (int round = 0; round < 3000; round++) {
        size_t len = next_rand() % 200;
        char *buf = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = (next_rand() & 1) ? alphabet[next_rand() % (sizeof(alphabet) - 1)]
                                       : (char)next_rand();
        ck_assert_int_eq(wc_channel_parse(buf, len, &obs), 0);
        for (size_t i = 0; i < obs.n; i++)
            ck_assert(obs.paths[i].path[0] == '/');
        wc_observation_free(&obs);
        free(buf);
    }
}
END_TEST

START_TEST(fuzz_mutations)
{
    static const char valid[] = "10 H 1 /bin/gcc\n11 H 10 /bin/gcc\n11 x /lib/cc1\n11 B\n"
                                "11 H 10 /lib/cc1\n11 r /a\\\\.c\n11 m /inc/x.h\n11 w /t.s\n"
                                "11 B\n12 s /bin/as\n12 H 10 /bin/as\n12 r /t.s\n12 w /a.o\n"
                                "12 B\n10 n /t.s\t/keep.s\n10 u /t.s\n10 i\n10 B\n";
    size_t len = sizeof(valid) - 1;
    char buf[sizeof(valid)];

    ck_assert_int_eq(wc_channel_parse(valid, len, &obs), 0);
    ck_assert_msg(obs.complete, "%s", obs.reason);
    wc_observation_free(&obs);
    for (int round = 0; round < 5000; round++) {
        size_t cut = len - next_rand() % 8;
        memcpy(buf, valid, len);
        for (int k = 0; k < 3; k++)
            buf[next_rand() % len] = (char)next_rand();
        ck_assert_int_eq(wc_channel_parse(buf, cut, &obs), 0);
        wc_observation_free(&obs);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("channel");
    TCase *tc = tcase_create("complete");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, complete_single_process);
    tcase_add_test(tc, hello_exe_is_an_input);
    tcase_add_test(tc, hello_without_exe);
    tcase_add_test(tc, hello_without_bye);
    tcase_add_test(tc, events_without_hello);
    tcase_add_test(tc, bye_without_hello);
    tcase_add_test(tc, empty_channel);
    tcase_add_test(tc, exec_with_hello);
    tcase_add_test(tc, exec_without_hello);
    tcase_add_test(tc, exec_failed_then_hello_again);
    tcase_add_test(tc, exec_hello_before_bye_of_others);
    tcase_add_test(tc, spawn_with_hello_either_order);
    tcase_add_test(tc, spawn_without_hello);
    tcase_add_test(tc, event_after_bye_is_tolerated);
    tcase_add_test(tc, stdin_read);
    suite_add_tcase(s, tc);

    tc = tcase_create("flags");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, dedup_first_seen_order);
    tcase_add_test(tc, many_paths_dedup);
    tcase_add_test(tc, read_after_own_write_is_not_input);
    tcase_add_test(tc, read_then_write_is_inplace);
    tcase_add_test(tc, unlink_after_write_is_gone);
    tcase_add_test(tc, write_after_unlink_is_not_gone);
    tcase_add_test(tc, rename_target_is_written);
    tcase_add_test(tc, rename_of_input);
    tcase_add_test(tc, missing_before_creation);
    tcase_add_test(tc, read_missing);
    tcase_add_test(tc, dotdot_kept);
    tcase_add_test(tc, nonfile_refused);
    tcase_add_test(tc, env_reads_deduplicated);
    tcase_add_test(tc, env_bad_names);
    tcase_add_test(tc, denied_probes);
    tcase_add_test(tc, env_by_tools);
    tcase_add_test(tc, env_whole_for_shells_and_interpreters);
    tcase_add_test(tc, libraries);
    tcase_add_test(tc, escapes);
    tcase_add_test(tc, exe_with_space);
    suite_add_tcase(s, tc);

    tc = tcase_create("garbage");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, garbage_line, 0, (int)(sizeof(bad_lines) / sizeof(bad_lines[0])));
    tcase_add_test(tc, nul_byte_in_path);
    tcase_add_test(tc, truncated_last_line);
    tcase_add_test(tc, first_reason_kept);
    tcase_add_test(tc, fuzz_random_bytes);
    tcase_add_test(tc, fuzz_mutations);
    suite_add_tcase(s, tc);

    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
