/* WAFCACHE_BASEDIR: roots stripped from signature material so that two checkouts of one
 * project at different absolute paths share hits. */
#ifndef WC_BASEDIR_H
#define WC_BASEDIR_H

#include <stddef.h>

#define WC_BASEDIR_TOKEN "@WAFCACHE_BASEDIR@"

typedef struct wc_basedirs {
    char **dirs; /* normalised absolute paths, no trailing slash, longest first */
    size_t n;
    /* How many levels above dirs[0] a path may still be stored relative to it
     * (wc_basedir_near): up to the bound of wc_basedir_decide. 0 from wc_basedirs_parse. */
    size_t up;
} wc_basedirs;

/* Parse a colon-separated list. Relative entries and "/" are refused (-1); $HOME is accepted
 * (as a bound of wc_basedir_decide, it is what ccache's base_dir=$HOME means). An entry
 * reached through a symbolic link adds its physical path too (getcwd() gives that one).
 * Every function below takes b == NULL as "no base dirs". */
int wc_basedirs_parse(wc_basedirs *b, const char *list, const char *home);
void wc_basedirs_free(wc_basedirs *b);

/* Length of the longest base dir that is a whole-component prefix of path
 * ("/a/b" matches "/a/b" and "/a/b/x", not "/a/bc"), or 0. */
size_t wc_basedir_prefix(const wc_basedirs *b, const char *path);

/* malloc'd copy of s with every base dir occurrence that starts a path replaced by
 * WC_BASEDIR_TOKEN: at the start of s, after '=' ':' ',' or '@', or after a known joined
 * option name ("-I/a/b/inc", "-isystem/a/b", -L -B -F -o -T -MF -MT -MQ -iquote -idirafter
 * -include ...; not "-Ifoo/a/b"). Only whole components: the base dir must be followed by
 * the end, '/' or one of "=:,@". */
char *wc_basedir_strip(const wc_basedirs *b, const char *s);

/* malloc'd inverse for one path: WC_BASEDIR_TOKEN at the start replaced by dirs[0]. */
char *wc_basedir_expand(const wc_basedirs *b, const char *s);

/* What decides one command's base dir. */
struct wc_basedir_query {
    const char *cwd;           /* the command's physical working directory (getcwd) */
    char *const *argv;         /* after @file expansion; argv[0] is not looked at */
    const char *home;          /* $HOME, or NULL */
    const wc_basedirs *bounds; /* WAFCACHE_BASEDIR, or NULL when unset */
    /* 1 when dir holds a checkout's marker; NULL: look for .git, .hg or .svn in it. */
    int (*has_vcs)(const char *dir, void *ctx);
    void *ctx;
};

/* The base dir of one command (issue 15), decided from its own cwd and argv:
 *   bound: the WAFCACHE_BASEDIR entry holding the cwd (itself allowed; none holds it: no
 *          base dir), else the directory just below $HOME (cwd under home) or just below "/"
 *          on the way to the cwd: never "/", home or above by default;
 *   start: the nearest ancestor of the cwd holding a checkout, not above the bound, else the
 *          cwd itself;
 *   reach: widened to the common ancestor of the cwd and every path in argv, relative ones
 *          with ".." ("../src/x.c", "-I../../inc", "-Wl,-T,../x.ld") and absolute ones (CMake's
 *          "/p/A/src/x.c" from /p/A/build) alike, as long as that ancestor is not above the
 *          bound. A path that leaves the bound keeps the cwd absolute in key1 (signature.c).
 * out gets one dir (n == 1, up = levels from it to the bound) or none (n == 0).
 * 0, or -ENOMEM. */
int wc_basedir_decide(const struct wc_basedir_query *q, wc_basedirs *out);

/* malloc'd manifest form of an absolute path outside dirs[0] but not more than b->up levels
 * above it: WC_BASEDIR_TOKEN "/../x.h". NULL when it is under dirs[0], too far, or on OOM
 * (*oom set). Such a file may have been reached through a relative path (a source's
 * #include "../inc/x.h") that means another file in another checkout. */
char *wc_basedir_near(const wc_basedirs *b, const char *abs, int *oom);

/* Normalise an absolute path lexically ("//", "/./", "/x/../"). malloc'd. */
char *wc_path_normalize(const char *path);

/* malloc'd relative path from directory `from` to `to` (both absolute, normalised). */
char *wc_path_relative(const char *from, const char *to);

#endif
