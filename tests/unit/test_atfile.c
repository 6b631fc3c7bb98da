/* Response files: libiberty's quoting, recursion, what stays literal, and the bounds on
 * what an untrusted file can make us allocate. Real files in a temporary directory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashing/atfile.h"

static char dir[] = "/tmp/wc-test-atfile-XXXXXX";

static void setup(void)
{
    strcpy(dir + strlen(dir) - 6, "XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chdir(dir), 0);
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(chdir("/"), 0);
    ck_assert_int_eq(system(cmd), 0);
}

static void put(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void put_str(const char *path, const char *text)
{
    put(path, text, strlen(text));
}

static void free_argv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* want: the expected arguments, NULL-terminated. */
static void check_split(const char *text, size_t len, const char *const *want)
{
    char **v;
    size_t n, k = 0;
    ck_assert_int_eq(wc_atfile_split(text, len, 100, &v, &n), 0);
    for (; want[k]; k++) {
        ck_assert_uint_gt(n, k);
        ck_assert_str_eq(v[k], want[k]);
    }
    ck_assert_uint_eq(n, k);
    ck_assert_ptr_null(v[n]);
    free_argv(v);
}

#define SPLIT(text, ...)                                                                           \
    do {                                                                                           \
        const char *const w_[] = {__VA_ARGS__, NULL};                                              \
        check_split(text, strlen(text), w_);                                                       \
    } while (0)

START_TEST(split_like_buildargv)
{
    SPLIT("-O2 -g\n-DX=1\t\r-c", "-O2", "-g", "-DX=1", "-c");
    SPLIT("'a b' \"c d\" e\\ f", "a b", "c d", "e f");
    SPLIT("-DS=\"x y\"z", "-DS=x yz");
    /* A backslash escapes inside both kinds of quotes (libiberty, unlike a shell). */
    SPLIT("'a\\'b' \"c\\\"d\" '\\\\'", "a'b", "c\"d", "\\");
    SPLIT("\"\" x ''", "", "x", "");
    SPLIT("a\\\nb", "a\nb");
    SPLIT("trailing\\", "trailing");
    SPLIT("'unterminated quote", "unterminated quote");
    const char *const none[] = {NULL};
    check_split("", 0, none);
    check_split(" \n\t ", 4, none);
    /* The file's text ends at a NUL byte, as the C string libiberty parses. */
    const char *const one[] = {"a", NULL};
    check_split("a\0b c", 5, one);
}
END_TEST

START_TEST(split_is_bounded)
{
    char **v;
    size_t n;
    ck_assert_int_eq(wc_atfile_split("a b c", 5, 2, &v, &n), -E2BIG);
    ck_assert_int_eq(wc_atfile_split("a b", 3, 2, &v, &n), 0);
    ck_assert_uint_eq(n, 2);
    free_argv(v);
}
END_TEST

static char **expand(const char *const *argv, unsigned flags, size_t *files, int want_rc)
{
    char **out = NULL;
    ck_assert_int_eq(wc_atfile_expand((char *const *)argv, flags, &out, files), want_rc);
    return out;
}

static void check_argv(char **got, const char *const *want)
{
    size_t k = 0;
    for (; want[k]; k++) {
        ck_assert_ptr_nonnull(got[k]);
        ck_assert_str_eq(got[k], want[k]);
    }
    ck_assert_ptr_null(got[k]);
}

START_TEST(expands_recursively_in_place)
{
    put_str("a.rsp", "-g @b.rsp -o 'out dir/x.o'");
    put_str("b.rsp", "-march=native\n-MF x.d\n");
    put_str("empty.rsp", "  \n");
    const char *argv[] = {"@a.rsp", "-c", "@a.rsp", "@empty.rsp", "x.c", NULL};
    size_t files;
    char **out = expand(argv, 0, &files, 0);
    const char *want[] = {"@a.rsp", "-c", "-g",          "-march=native", "-MF",
                          "x.d",    "-o", "out dir/x.o", "x.c",           NULL};
    check_argv(out, want);
    ck_assert_uint_eq(files, 3);
    free_argv(out);
}
END_TEST

START_TEST(what_cannot_be_read_stays_literal)
{
    ck_assert_int_eq(mkdir("d.rsp", 0755), 0);
    ck_assert_int_eq(mkfifo("fifo.rsp", 0600), 0); /* never opened for reading: no block */
    const char *argv[] = {"gcc", "@missing.rsp", "@d.rsp", "@fifo.rsp", "@", "-c", NULL};
    size_t files = 9;
    char **out = expand(argv, 0, &files, 0);
    check_argv(out, argv);
    ck_assert_uint_eq(files, 0);
    free_argv(out);
}
END_TEST

START_TEST(nested_names_follow_the_tool)
{
    ck_assert_int_eq(mkdir("sub", 0755), 0);
    put_str("sub/outer.rsp", "@inner.rsp");
    put_str("sub/inner.rsp", "-DFROM_SUB");
    put_str("inner.rsp", "-DFROM_CWD");
    const char *argv[] = {"cc", "@sub/outer.rsp", NULL};
    size_t files;
    /* libiberty (gcc, ld, ar): from the working directory. */
    char **out = expand(argv, 0, &files, 0);
    const char *gnu[] = {"cc", "-DFROM_CWD", NULL};
    check_argv(out, gnu);
    free_argv(out);
    /* clang: from the including file's directory. */
    out = expand(argv, WC_ATFILE_NESTED_RELATIVE, &files, 0);
    const char *llvm[] = {"cc", "-DFROM_SUB", NULL};
    check_argv(out, llvm);
    free_argv(out);
    ck_assert_uint_eq(wc_atfile_flags_for("clang-14"), WC_ATFILE_NESTED_RELATIVE);
    ck_assert_uint_eq(wc_atfile_flags_for("x86_64-linux-gnu-gcc-12"), 0);
}
END_TEST

START_TEST(hostile_files_are_bounded)
{
    size_t files;
    put_str("self.rsp", "-x @self.rsp");
    const char *loop[] = {"gcc", "@self.rsp", NULL};
    ck_assert_ptr_null(expand(loop, 0, &files, -ELOOP));
    /* Two files naming each other twice: exponential, stopped by the bounds. */
    put_str("p.rsp", "@q.rsp @q.rsp");
    put_str("q.rsp", "@p.rsp @p.rsp");
    const char *fork_bomb[] = {"gcc", "@p.rsp", NULL};
    ck_assert_ptr_null(expand(fork_bomb, 0, &files, -ELOOP));
    /* One big file. */
    size_t big = WC_ATFILE_MAX_BYTES + 1;
    char *text = malloc(big);
    ck_assert_ptr_nonnull(text);
    memset(text, 'a', big);
    put("big.rsp", text, big);
    const char *large[] = {"gcc", "@big.rsp", NULL};
    ck_assert_ptr_null(expand(large, 0, &files, -E2BIG));
    /* Too many arguments. */
    size_t n = WC_ATFILE_MAX_ARGS + 1;
    for (size_t i = 0; i < n; i++)
        memcpy(text + 2 * i, "a ", 2);
    put("many.rsp", text, 2 * n);
    free(text);
    const char *many[] = {"gcc", "@many.rsp", NULL};
    ck_assert_ptr_null(expand(many, 0, &files, -E2BIG));
}
END_TEST

/* What the runner writes when the expanded command line is too long for exec reads back as
 * the same arguments. */
START_TEST(quote_round_trips)
{
    const char *args[] = {"plain",     "",         "a b",         "tab\there",
                          "new\nline", "q'uo\"te", "back\\slash", "-DS=\"x y\"",
                          "\\",        NULL};
    FILE *f = fopen("rt.rsp", "w");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; args[i]; i++) {
        char *q = wc_atfile_quote(args[i]);
        ck_assert_ptr_nonnull(q);
        fprintf(f, "%s\n", q);
        free(q);
    }
    ck_assert_int_eq(fclose(f), 0);
    const char *argv[] = {"gcc", "@rt.rsp", NULL};
    size_t files;
    char **out = expand(argv, 0, &files, 0);
    ck_assert_str_eq(out[0], "gcc");
    check_argv(out + 1, args);
    free_argv(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("atfile");
    TCase *tc = tcase_create("atfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, split_like_buildargv);
    tcase_add_test(tc, split_is_bounded);
    tcase_add_test(tc, expands_recursively_in_place);
    tcase_add_test(tc, what_cannot_be_read_stays_literal);
    tcase_add_test(tc, nested_names_follow_the_tool);
    tcase_add_test(tc, hostile_files_are_bounded);
    tcase_add_test(tc, quote_round_trips);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
