/* wc_find_next (preload/lib/next.c): one walk of the loaded objects finds, for every name,
 * exactly what dlsym(RTLD_NEXT, name) returns. Here the caller is this test program, so the
 * next objects are its libraries (libc, and libasan in the sanitizer build). Names with more
 * than one version (realpath, posix_spawn, pthread_cond_wait, memcpy, an indirect function),
 * every row of wrap.def's kinds, and a name no object defines. */
#include "preload/lib/preload.h"

#include <check.h>
#include <dlfcn.h>
#include <stdlib.h>

static const char *const names[] = {
    "execve",
    "execvpe",
    "fexecve",
    "posix_spawn",
    "posix_spawnp",
    "_exit",
    "_Exit",
    "open",
    "open64",
    "openat",
    "__open_2",
    "__openat64_2",
    "creat64",
    "fopen",
    "fopen64",
    "freopen",
    "stat",
    "__xstat",
    "statx",
    "access",
    "realpath",
    "opendir",
    "readlinkat",
    "renameat2",
    "dlopen",
    "getenv",
    "secure_getenv",
    "setlocale",
    "read",
    "__read_chk",
    "fread_unlocked",
    "_IO_getc",
    "getwc",
    "__getdelim",
    "pthread_cond_wait",
    "sched_setaffinity",
    "fmemopen",
    "memcpy",
    "strlen",
    "environ",
    "no_such_symbol_wc",
};
#define N (sizeof(names) / sizeof(names[0]))

START_TEST(same_as_dlsym)
{
    void *found[N];
    struct wc_next want[N];

    for (size_t i = 0; i < N; i++)
        want[i] = (struct wc_next){&found[i], names[i]};
    wc_find_next(want, N);
    for (size_t i = 0; i < N; i++)
        ck_assert_msg(found[i] == dlsym(RTLD_NEXT, names[i]), "%s: %p, dlsym says %p", names[i],
                      found[i], dlsym(RTLD_NEXT, names[i]));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("next");
    TCase *tc = tcase_create("lookup");
    tcase_add_test(tc, same_as_dlsym);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
