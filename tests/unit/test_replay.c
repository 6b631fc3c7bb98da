/* Recorded stdout/stderr: the recording base dir becomes a token and comes back as the
 * current one; every other byte (the escape byte included) comes back as it was. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashing/replay.h"

/* text recorded under from, replayed under to: must read want. */
static void replay(const char *text, size_t n, const char *from, const char *to, const char *want,
                   size_t want_n)
{
    char *m, *u;
    size_t mn, un;
    ck_assert_int_eq(wc_replay_mark(text, n, from, &m, &mn), 0);
    ck_assert_int_eq(wc_replay_unmark(m, mn, to, &u, &un), 0);
    ck_assert_uint_eq(un, want_n);
    ck_assert(memcmp(u, want, un) == 0);
    free(m);
    free(u);
}

#define REPLAY(text, from, to, want) replay(text, strlen(text), from, to, want, strlen(want))

START_TEST(basedir_follows_the_checkout)
{
    REPLAY("/w/a/src/x.c:3:5: warning: unused variable\n", "/w/a", "/other/longer/b",
           "/other/longer/b/src/x.c:3:5: warning: unused variable\n");
    REPLAY("In file included from /w/a/inc/h.h:1,\n  from '/w/a':\n", "/w/a/", "/b",
           "In file included from /b/inc/h.h:1,\n  from '/b':\n");
    REPLAY("/w/a", "/w/a", "/b", "/b");
    /* Not a whole path: a longer name, or the base dir inside another path. */
    REPLAY("/w/a2/x /w/a.old /x/w/a/y w/a/z", "/w/a", "/b", "/w/a2/x /w/a.old /x/w/a/y w/a/z");
    /* No base dir at either end: the text as it was. */
    REPLAY("/w/a/x", NULL, NULL, "/w/a/x");
    REPLAY("/w/a/x", "/", "/b", "/w/a/x");
}
END_TEST

START_TEST(escape_bytes_survive)
{
    const char t[] = "a\001B\001\001b\001\0c\001";
    replay(t, sizeof t - 1, "/w/a", "/b", t, sizeof t - 1);
    replay(t, sizeof t - 1, NULL, "/b", t, sizeof t - 1);
    replay("", 0, "/w/a", "/b", "", 0);
}
END_TEST

START_TEST(malformed_or_unplaceable_is_refused)
{
    char *u;
    size_t un;
    ck_assert_int_eq(wc_replay_unmark("x\001", 2, "/b", &u, &un), -EINVAL);
    ck_assert_int_eq(wc_replay_unmark("x\001Z", 3, "/b", &u, &un), -EINVAL);
    /* A token, and no base dir now to put in its place. */
    ck_assert_int_eq(wc_replay_unmark("\001B/x", 4, NULL, &u, &un), -EINVAL);
    ck_assert_int_eq(wc_replay_unmark("\001\001", 2, NULL, &u, &un), 0);
    ck_assert_uint_eq(un, 1);
    ck_assert_int_eq(u[0], '\001');
    free(u);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("replay");
    tcase_add_test(tc, basedir_follows_the_checkout);
    tcase_add_test(tc, escape_bytes_survive);
    tcase_add_test(tc, malformed_or_unplaceable_is_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
