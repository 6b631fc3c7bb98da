/* stub: being written */
#include <check.h>
#include <stdlib.h>
START_TEST(not_written)
{
    ck_abort_msg("test not written yet");
}
END_TEST
int main(void)
{
    Suite *s = suite_create("stub");
    TCase *tc = tcase_create("stub");
    tcase_add_test(tc, not_written);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
