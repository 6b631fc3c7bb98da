/* libwafcache-observe.so and the environment. In a process of a real command (OBSERVE mode) getenv,
 * secure_getenv and setlocale(cat, "") report the variables the process reads ("e" events,
 * preload/channel.h): the environment is an input observed like files (DESIGN.md). Anywhere
 * else the wrappers cost one branch and forward.
 *
 * getenv runs before our constructor (other libraries' constructors) and in vfork children:
 * it never resolves symbols itself, takes no lock and allocates nothing. Until the next
 * definition is known it scans environ itself, which is all glibc's getenv does. */
#undef _FORTIFY_SOURCE
#include "preload/lib/preload.h"

#include <dlfcn.h>
#include <locale.h>
#include <string.h>
#include <sys/auxv.h>

extern char **environ;

/* What glibc's getenv does, for the reads before the constructor resolved it. */
static char *scan_environ(const char *name)
{
    return (char *)wc_env_get(name);
}

static char *scan_secure(const char *name)
{
    return getauxval(AT_SECURE) ? NULL : scan_environ(name);
}

static char *(*next_getenv)(const char *) = scan_environ;
static char *(*next_secure_getenv)(const char *) = scan_secure;
static char *(*next_setlocale)(int, const char *);

void wc_env_resolve(void)
{
    void *p;

    if ((p = dlsym(RTLD_NEXT, "getenv")))
        next_getenv = (char *(*)(const char *))p;
    if ((p = dlsym(RTLD_NEXT, "secure_getenv")))
        next_secure_getenv = (char *(*)(const char *))p;
    next_setlocale = (char *(*)(int, const char *))dlsym(RTLD_NEXT, "setlocale");
}

/* ---- reads before our constructor ----
 * Libraries the program needs are initialised before a preloaded one: their constructors'
 * reads are remembered here (names only, copied) and reported once the mode is known. Only
 * the process's single thread runs constructors, so no lock. */

static char early_arena[2048];
static size_t early_used;
static int ctor_done;
static int early_lost; /* the arena was full: some name could not be kept */

static void remember_early(const char *name)
{
    size_t n = name ? strlen(name) + 1 : 0;

    if (ctor_done || n <= 1)
        return;
    for (size_t at = 0; at < early_used; at += strlen(early_arena + at) + 1)
        if (strcmp(early_arena + at, name) == 0)
            return;
    if (early_used + n > sizeof(early_arena)) {
        early_lost = 1;
        return;
    }
    memcpy(early_arena + early_used, name, n);
    early_used += n;
}

void wc_env_ctor_done(void)
{
    ctor_done = 1;
    if (wc_state.mode != WC_MODE_OBSERVE)
        return;
    for (size_t at = 0; at < early_used; at += strlen(early_arena + at) + 1)
        wc_ev_env(early_arena + at, scan_environ(early_arena + at));
    if (early_lost)
        wc_ev_env_lost();
}

/* Everything but a build process (INTERCEPT) comes here: observe, or remember. */
static void env_read(const char *name, const char *value)
{
    if (wc_state.mode == WC_MODE_OBSERVE)
        wc_ev_env(name, value);
    else if (!ctor_done)
        remember_early(name);
}

WC_EXPORT char *getenv(const char *name)
{
    char *v = next_getenv(name);

    if (__builtin_expect(wc_state.mode != WC_MODE_INTERCEPT, 0))
        env_read(name, v);
    return v;
}

WC_EXPORT char *secure_getenv(const char *name)
{
    char *v = next_secure_getenv(name);

    if (__builtin_expect(wc_state.mode != WC_MODE_INTERCEPT, 0))
        env_read(name, v);
    return v;
}

/* ---- setlocale(cat, ""): glibc reads LC_ALL, the category's variable(s), LANG and LOCPATH
 * from inside libc, where no wrapper sees it; gettext reads LANGUAGE the same way. ---- */

struct lc_name {
    int cat;
    const char *name;
};

static const struct lc_name lc_names[] = {
    {LC_CTYPE, "LC_CTYPE"},
    {LC_NUMERIC, "LC_NUMERIC"},
    {LC_TIME, "LC_TIME"},
    {LC_COLLATE, "LC_COLLATE"},
    {LC_MONETARY, "LC_MONETARY"},
    {LC_MESSAGES, "LC_MESSAGES"},
    {LC_PAPER, "LC_PAPER"},
    {LC_NAME, "LC_NAME"},
    {LC_ADDRESS, "LC_ADDRESS"},
    {LC_TELEPHONE, "LC_TELEPHONE"},
    {LC_MEASUREMENT, "LC_MEASUREMENT"},
    {LC_IDENTIFICATION, "LC_IDENTIFICATION"},
};

static void report_var(const char *name)
{
    wc_ev_env(name, scan_environ(name));
}

static void report_locale(int cat)
{
    report_var("LC_ALL");
    for (size_t i = 0; i < sizeof(lc_names) / sizeof(lc_names[0]); i++)
        if (cat == LC_ALL || cat == lc_names[i].cat)
            report_var(lc_names[i].name);
    report_var("LANG");
    report_var("LANGUAGE");
    report_var("LOCPATH");
}

WC_EXPORT char *setlocale(int cat, const char *locale)
{
    if (!next_setlocale)
        wc_ensure_real();
    if (!next_setlocale)
        return NULL;
    if (__builtin_expect(wc_state.mode == WC_MODE_OBSERVE, 0) && locale && !*locale)
        report_locale(cat);
    return next_setlocale(cat, locale);
}
