/* The settings the two libraries read, all in one place: the switches and the program list,
 * read once by the constructor into wc_state from the WAFCACHE_* snapshot (exec.c), and the
 * configuration check of the build's first process. Every switch follows core/config.c's one rule
 * (wc_switch_on). Runs in the constructor only, never in a vfork child. */
#include "preload/lib/preload.h"
#include "preload/channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/redact.h"

/* Longer program lists are ignored (the default list applies), as they always were. */
#define PROGRAMS_MAX 4096

int wc_settings_disabled(void)
{
    return wc_switch_on(wc_setting("WAFCACHE_DISABLE"));
}

/* WAFCACHE_ASYNC_WORKERS is a count: background uploads when it is above 0. */
static int workers_on(void)
{
    uint64_t n;

    return wc_parse_uint(wc_setting("WAFCACHE_ASYNC_WORKERS"), &n) == 0 && n > 0;
}

static void read_programs(void)
{
    const char *p = wc_setting("WAFCACHE_PROGRAMS");

    /* As in core/config.c, a variable set to "" counts as unset. The snapshot's copy stays
     * valid (exec.c's arena is never reset). */
    if (!p || !*p || strlen(p) >= PROGRAMS_MAX)
        return;
    wc_state.programs = p;
}

void wc_settings_read(void)
{
    wc_state.hardlink = wc_switch_on(wc_setting("WAFCACHE_HARDLINK"));
    wc_state.passive = wc_setting(WC_ENV_PASSIVE) != NULL;
    wc_state.stats = wc_switch_on(wc_setting("WAFCACHE_STATS"));
    wc_state.wait_uploads = workers_on() && !wc_switch_on(wc_setting("WAFCACHE_ASYNC_NOWAIT"));
    read_programs();
}

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
        wc_env_set("WAFCACHE_DISABLE", "1", 1);
    }
    wc_config_free(&c);
    return bad;
}
