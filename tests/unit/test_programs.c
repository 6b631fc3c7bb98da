/* wc_program_matches: which basenames are cached programs. */
#include "core/programs.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

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
    /* generators (issue 15), with prefixes and versions */
    {NULL, "bison", 1},
    {NULL, "yacc", 1},
    {NULL, "flex", 1},
    {NULL, "lex", 1},
    {NULL, "m4", 1},
    {NULL, "gperf", 1},
    {NULL, "protoc", 1},
    {NULL, "moc", 1},
    {NULL, "uic", 1},
    {NULL, "rcc", 1},
    {NULL, "glib-compile-resources", 1},
    {NULL, "glib-mkenums", 1},
    {NULL, "glib-genmarshal", 1},
    {NULL, "objcopy", 1},
    {NULL, "strip", 1},
    {NULL, "nasm", 1},
    {NULL, "yasm", 1},
    {NULL, "xxd", 1},
    {NULL, "windres", 1},
    {NULL, "x86_64-w64-mingw32-windres", 1},
    {NULL, "x86_64-linux-gnu-strip", 1},
    {NULL, "arm-none-eabi-objcopy", 1},
    {NULL, "bison-3.8", 1},
    /* generator look-alikes: a name inside another word is not it */
    {NULL, "llvm-strip", 0},
    {NULL, "llvm-objcopy", 0},
    {NULL, "gcc-strip", 0},
    {NULL, "eu-strip", 0},
    {NULL, "gm4", 0},
    {NULL, "m4sugar", 0},
    {NULL, "byacc", 0},
    {NULL, "flex++", 0},
    {NULL, "reflex", 0},
    {NULL, "protoc-gen-go", 0},
    {NULL, "protoc-c", 0},
    {NULL, "moc-qt5", 0},
    {NULL, "striptease", 0},
    {NULL, "xxd2", 0},
    {NULL, "python3", 0},
    {NULL, "perl", 0},
    {NULL, "bash", 0},
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
    /* +name adds to the default list, -name removes from it */
    {"+python3", "python3", 1},
    {"+python3", "gcc", 1},
    {"+python3", "bison", 1},
    {"+python3", "perl", 0},
    {"-bison", "bison", 0},
    {"-bison", "bison-3.8", 0},
    {"-bison", "yacc", 1},
    {"-bison", "gcc", 1},
    {"-strip", "x86_64-linux-gnu-strip", 0},
    {"+python3,-m4", "python3", 1},
    {"+python3,-m4", "m4", 0},
    {"+python3,-m4", "flex", 1},
    {"+python3:-m4", "m4", 0},
    {" +python3 , -m4 ", "m4", 0},
    {" +python3 , -m4 ", "python3", 1},
    /* a removal wins, in any order */
    {"+perl,-perl", "perl", 0},
    {"-perl,+perl", "perl", 0},
    {"-gcc,gcc", "gcc", 0},
    /* with a plain name the list replaces the default, and +/- adjust that list */
    {"gcc,+perl", "perl", 1},
    {"gcc,+perl", "gcc", 1},
    {"gcc,+perl", "bison", 0},
    {"gcc,-gcc", "gcc", 0},
    {"gcc,clang,-clang", "clang", 0},
    {"gcc,clang,-clang", "gcc", 1},
    {"-bison,fakecc", "fakecc", 1},
    {"-bison,fakecc", "flex", 0},
    /* an empty or a lone sign adds nothing (the settings parser refuses them) */
    {"+", "gcc", 1},
    {"-", "gcc", 1},
    {"-", "", 0},
    {"+python3,", "gcc", 1},
    {",-m4,", "m4", 0},
    {",-m4,", "gcc", 1},
};

struct check_row {
    const char *list;
    const char *bad; /* the entry reported, NULL: the list is fine */
};

static const struct check_row checks[] = {
    {"", NULL},
    {"gcc", NULL},
    {"gcc,,nvcc", NULL},
    {"gcc, nvcc", NULL},
    {"+python3,-m4", NULL},
    {"+g++,-clang++", NULL},
    {"+", "+"},
    {"-", "-"},
    {"gcc,+", "+"},
    {"gcc, - ,clang", " - "},
    {"+/usr/bin/python3", "+/usr/bin/python3"},
    {"/usr/bin/gcc", "/usr/bin/gcc"},
    {"gcc:-tools/x", "-tools/x"},
    {"+-x", "+-x"},
    {"--x", "--x"},
    {"+ x", "+ x"},
    {"my cc", "my cc"},
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

START_TEST(check)
{
    const struct check_row *r = &checks[_i];
    const char *bad = NULL;
    size_t len = 0;
    int rc = wc_programs_check(r->list, &bad, &len);
    if (!r->bad) {
        ck_assert_msg(rc == 0, "\"%s\" refused", r->list);
        return;
    }
    ck_assert_msg(rc == -1, "\"%s\" accepted", r->list);
    ck_assert_msg(len == strlen(r->bad) && strncmp(bad, r->bad, len) == 0,
                  "\"%s\": reported \"%.*s\", want \"%s\"", r->list, (int)len, bad, r->bad);
}
END_TEST

START_TEST(check_null)
{
    const char *bad;
    size_t len;
    ck_assert_int_eq(wc_programs_check(NULL, &bad, &len), 0);
    ck_assert_int_eq(wc_programs_check(WC_DEFAULT_PROGRAMS, &bad, &len), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("programs");
    TCase *tc = tcase_create("matches");
    tcase_add_loop_test(tc, table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, null_name);
    tcase_add_test(tc, default_list_macro);
    tcase_add_loop_test(tc, check, 0, (int)(sizeof(checks) / sizeof(checks[0])));
    tcase_add_test(tc, check_null);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
