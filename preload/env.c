/* libwafcache.so and the environment. In a process of a real command (OBSERVE mode) getenv,
 * secure_getenv and setlocale(cat, "") report the variables the process reads ("e" events,
 * preload/channel.h): the environment is an input observed like files (DESIGN.md). Anywhere
 * else the wrappers cost one branch and forward.
 *
 * getenv runs before our constructor (other libraries' constructors) and in vfork children:
 * it never resolves symbols itself, takes no lock and allocates nothing. Until the next
 * definition is known it scans environ itself, which is all glibc's getenv does. */
#undef _FORTIFY_SOURCE
#include "preload/preload.h"

#include <dlfcn.h>
#include <locale.h>
#include <string.h>
#include <sys/auxv.h>

extern char **environ;

static char *scan_environ(const char *name)
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

const char *wc_env_get(const char *name)
{
    return scan_environ(name);
}

WC_EXPORT char *getenv(const char *name)
{
    char *v = next_getenv(name);

    if (__builtin_expect(wc_state.mode == WC_MODE_OBSERVE, 0))
        wc_ev_env(name, v);
    return v;
}

WC_EXPORT char *secure_getenv(const char *name)
{
    char *v = next_secure_getenv(name);

    if (__builtin_expect(wc_state.mode == WC_MODE_OBSERVE, 0))
        wc_ev_env(name, v);
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
