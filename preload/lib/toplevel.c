/* The configuration, checked once per build by its first process (libwafcache.so). */
#include "preload/lib/preload.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"
#include "core/redact.h"

/* A bad setting gets its one line here, in the build's first process, and WAFCACHE_DISABLE=1
 * in the environment spares every later process of the build: the cache is bypassed for this
 * build and the message is not repeated by every compile. Returns 1 when the cache is off. */
int wc_toplevel_config_bad(void)
{
    struct wc_config c;
    int bad = wc_config_load(&c, NULL, NULL) < 0;

    if (bad) {
        char safe[sizeof(c.error)];
        wc_redact(c.error, safe, sizeof safe);
        if (c.error[0])
            dprintf(2, "%s\n", safe);
        setenv("WAFCACHE_DISABLE", "1", 1);
    }
    wc_config_free(&c);
    return bad;
}
