/* wc_program_matches: which basenames are cached programs. */
#include "core/programs.h"

#include <check.h>
#include <stdlib.h>

struct row {
    const char *list; /* NULL: the default list */
    const char *name;
    int match;
};

static const struct row rows[] = {
    /* the default list, plain */
    {NULL, "gcc", 1},
    {NULL, "g++", 1},
    {NULL, "cc", 1},
    {NULL, "c++", 1},
    {NULL, "clang", 1},
    {NULL, "clang++", 1},
    {NULL, "ld", 1},
    {NULL, "ld.bfd", 1},
    {NULL, "ld.gold", 1},
    {NULL, "ld.lld", 1},
    {NULL, "ar", 1},
    /* version suffixes */
    {NULL, "gcc-12", 1},
    {NULL, "gcc-12.2", 1},
    {NULL, "clang++-14", 1},
    {NULL, "clang-14", 1},
    {NULL, "g++-12", 1},
    /* target prefixes, with and without versions */
    {NULL, "x86_64-linux-gnu-gcc", 1},
    {NULL, "x86_64-linux-gnu-gcc-12", 1},
    {NULL, "arm-none-eabi-gcc", 1},
    {NULL, "aarch64-linux-gnu-g++", 1},
    {NULL, "x86_64-linux-gnu-ld.bfd", 1},
    {NULL, "arm-none-eabi-ar", 1},
    {NULL, "i686-w64-mingw32-c++", 1},
    /* look-alikes that are other programs */
    {NULL, "ccache", 0},
    {NULL, "cc1", 0},
    {NULL, "cc1plus", 0},
    {NULL, "collect2", 0},
    {NULL, "gcc-ar", 0},
    {NULL, "gcc-nm", 0},
    {NULL, "gcc-ranlib", 0},
    {NULL, "gcc-ar-12", 0},
    {NULL, "x86_64-linux-gnu-gcc-ar-12", 0},
    {NULL, "llvm-ar", 0},
    {NULL, "lld-link", 0},
    {NULL, "c++filt", 0},
    {NULL, "clang-format", 0},
    {NULL, "clang-tidy", 0},
    {NULL, "gcc-", 0},
    {NULL, "gcc-12.", 0},
    {NULL, "gcc12", 0},
    {NULL, "-gcc", 0},
    {NULL, "x86_64--gcc", 0},
    {NULL, "make", 0},
    {NULL, "sh", 0},
    {NULL, "ranlib", 0},
    {NULL, "", 0},
    {NULL, "/usr/bin/gcc", 0},
    /* custom lists: comma, colon, blanks, empty entries */
    {"fakecc", "fakecc", 1},
    {"fakecc", "gcc", 0},
    {"fakecc", "fakecc-3", 1},
    {"gcc,nvcc", "nvcc", 1},
    {"gcc:nvcc", "nvcc", 1},
    {"gcc, nvcc", "nvcc", 1},
    {"gcc,,nvcc", "nvcc", 1},
    {"gcc:nvcc", "clang", 0},
    {"", "gcc", 0},
    {",", "gcc", 0},
    {"c++", "c++", 1},
    {"c++", "x86_64-linux-gnu-c++-12", 1},
    {"c++", "g++", 0},
};

START_TEST(table)
{
    const struct row *r = &rows[_i];
    ck_assert_msg(wc_program_matches(r->list, r->name) == r->match, "list %s, name \"%s\": want %d",
                  r->list ? r->list : "(default)", r->name, r->match);
}
END_TEST

START_TEST(null_name)
{
    ck_assert_int_eq(wc_program_matches(NULL, NULL), 0);
}
END_TEST

START_TEST(default_list_macro)
{
    /* NULL means exactly WC_DEFAULT_PROGRAMS. */
    ck_assert_int_eq(wc_program_matches(WC_DEFAULT_PROGRAMS, "gcc-12"), 1);
    ck_assert_int_eq(wc_program_matches(WC_DEFAULT_PROGRAMS, "ccache"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("programs");
    TCase *tc = tcase_create("matches");
    tcase_add_loop_test(tc, table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, null_name);
    tcase_add_test(tc, default_list_macro);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
