/* Which of the two runners this is (preload/runner/CMakeLists.txt): compiled into each with
 * its own WC_RUNNER_STATIC, while every other file is shared. */
#include "preload/runner/runner.h"

#include <errno.h>
#include <stdio.h>

#include "store/open.h"
#include "store/remote.h"

int wc_runner_is_static(void)
{
    return WC_RUNNER_STATIC;
}

#if WC_RUNNER_STATIC
/* A static program has no dynamic loader: this definition stands in for store/module.c's, so
 * that dlopen is not linked in at all. runner.c execs the twin before it could be needed. */
wc_store *wc_store_open_module(const struct wc_config *c, const char *libdir, int *err,
                               char *errbuf, size_t errlen)
{
    (void)c;
    (void)libdir;
    *err = -ENOEXEC;
    snprintf(errbuf, errlen, "%s cannot be loaded by the static runner", WC_REMOTE_MODULE);
    return NULL;
}
#endif
