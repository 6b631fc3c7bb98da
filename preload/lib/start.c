/* What both libraries' constructors do first, and cheaply: a build runs thousands of
 * processes and each pays for this (issue 16: no more than 20 µs over an empty library).
 * One pass over environ for the settings (exec.c's snapshot), the library's own path from
 * the LD_PRELOAD word that names it (dladdr only when none does), the few symbols this
 * library wraps. Runs in the constructor only, never in a vfork child. */
#include "preload/lib/preload.h"
#include "preload/lib/str.h"
#include "core/util.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

extern char **environ;

const char *wc_env_get(const char *name)
{
    size_t n;

    if (!name || !*name || !environ)
        return NULL;
    n = strlen(name);
    for (char **e = environ; *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

/* wc_state.preload ("LD_PRELOAD=<absolute path of this library>") and wc_state.lib. */
static int set_lib(const char *path, size_t len)
{
    const char *kept;

    if (len >= PATH_MAX || !(kept = wc_keep("LD_PRELOAD=", 11, path, len)))
        return -1;
    wc_state.preload = kept;
    wc_state.lib = kept + 11;
    return 0;
}

/* The LD_PRELOAD word naming this library, when there is exactly one and it is absolute:
 * it is the name ld.so loaded us by, the very string dladdr would return. */
static int lib_from_preload(void)
{
    const char *list = wc_start_preload(), *word;
    size_t len, other;

    if (!list || !(word = wc_preload_word(list, WC_LIB_NAME, &len)) || word[0] != '/' ||
        wc_preload_word(word + len, WC_LIB_NAME, &other))
        return -1;
    return set_lib(word, len);
}

/* Loaded some other way (a relative LD_PRELOAD word, /etc/ld.so.preload, dlopen): ask the
 * dynamic loader, which costs a walk of every loaded object. */
static int lib_from_dladdr(void)
{
    Dl_info info;
    char real[PATH_MAX];
    const char *name;

    if (!dladdr((void *)lib_from_dladdr, &info) || !info.dli_fname)
        return -1;
    name = info.dli_fname;
    if (name[0] != '/' && !(name = realpath(name, real)))
        return -1;
    return set_lib(name, strlen(name));
}

/* Where this library lives, absolute. */
static int find_library(void)
{
    return lib_from_preload() < 0 ? lib_from_dladdr() : 0;
}

int wc_beside_lib(const char *name, char *out, size_t cap)
{
    const char *slash = strrchr(wc_state.lib, '/');
    size_t dir = slash ? (size_t)(slash - wc_state.lib) : 0; /* 0: the root directory */

    if (!slash || dir + strlen(name) + 2 > cap)
        return -1;
    memcpy(out, wc_state.lib, dir);
    out[dir] = '/';
    strcpy(out + dir + 1, name);
    return 0;
}

/* The runner loads the interposer too (it inherits LD_PRELOAD) and must stay passive: it
 * starts the real compiler, which must not be redirected back to a runner. */
static int is_runner_process(void)
{
    const char *fn = (const char *)getauxval(AT_EXECFN);

    return fn && wc_streq(wc_basename(fn), "wafcache-run");
}

int wc_start(void)
{
    if (!wc_real.resolved)
        wc_resolve_real();
    wc_env_snapshot();
    if (wc_settings_disabled() || getauxval(AT_SECURE))
        return -1;
    if (find_library() < 0 || is_runner_process())
        return -1;
    return 0;
}
