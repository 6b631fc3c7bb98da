/* The store front (store/store.c): the one rule for keys and names every backend checks, the
 * reason kept in the base struct, and which side of a cache a store is. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define KEY "0123456789abcdef0123456789abcdef"

START_TEST(keys)
{
    ck_assert(wc_store_key_valid(KEY));
    ck_assert(wc_store_key_valid("ABCDEF6789abcdef0123456789abcdef"));
    ck_assert(!wc_store_key_valid(NULL));
    ck_assert(!wc_store_key_valid(""));
    ck_assert(!wc_store_key_valid(KEY "0"));
    ck_assert(!wc_store_key_valid("0123456789abcdef0123456789abcde"));
    ck_assert(!wc_store_key_valid("0123456789abcdef0123456789abcdeg"));
    ck_assert(!wc_store_key_valid("../../../../../../../../../../etc"));
}
END_TEST

START_TEST(names)
{
    const char *good[] = {"0", "17", "meta", "manifest", "stdout", "stderr", "a.b-c_d"};
    const char *bad[] = {NULL, "", ".", "..", "a/b", "../x", "/etc", "a b", "a\nb", "%2e"};
    char long_name[66];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(wc_store_name_valid(good[i]), "%s refused", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!wc_store_name_valid(bad[i]), "%s accepted", bad[i] ? bad[i] : "NULL");
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    ck_assert(wc_store_name_valid(long_name));
    long_name[64] = 'a';
    long_name[65] = '\0';
    ck_assert(!wc_store_name_valid(long_name));
}
END_TEST

START_TEST(check)
{
    ck_assert_int_eq(wc_store_check(KEY, "meta"), 0);
    ck_assert_int_eq(wc_store_check(KEY, NULL), 0); /* the entry itself */
    ck_assert_int_eq(wc_store_check("nothex", "meta"), -EINVAL);
    ck_assert_int_eq(wc_store_check(KEY, "../meta"), -EINVAL);
}
END_TEST

START_TEST(reason)
{
    wc_store s = {.version = WC_STORE_VERSION, .name = "t", .reason = wc_store_last_reason};

    ck_assert_str_eq(s.reason(&s), "");
    ck_assert_int_eq(wc_store_fail(&s, -EIO, "GET %s: HTTP status %d", "http://h/k", 500), -EIO);
    ck_assert_str_eq(s.reason(&s), "GET http://h/k: HTTP status 500");
}
END_TEST

START_TEST(sides)
{
    wc_store dir = {.name = "dir", .local = 1}, remote = {.name = "http"};

    ck_assert_ptr_eq(wc_store_side(&dir, WC_STORE_LOCAL), &dir);
    ck_assert_ptr_null(wc_store_side(&dir, WC_STORE_REMOTE));
    ck_assert_ptr_eq(wc_store_side(&remote, WC_STORE_REMOTE), &remote);
    ck_assert_ptr_null(wc_store_side(&remote, WC_STORE_LOCAL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("front");
    TCase *tc = tcase_create("front");
    SRunner *r;
    int failed;

    tcase_add_test(tc, keys);
    tcase_add_test(tc, names);
    tcase_add_test(tc, check);
    tcase_add_test(tc, reason);
    tcase_add_test(tc, sides);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
