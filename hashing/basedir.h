/* WAFCACHE_BASEDIR: roots stripped from signature material so that two checkouts of one
 * project at different absolute paths share hits. */
#ifndef WC_BASEDIR_H
#define WC_BASEDIR_H

#include <stddef.h>

#define WC_BASEDIR_TOKEN "@WAFCACHE_BASEDIR@"

typedef struct wc_basedirs {
    char **dirs; /* normalised absolute paths, no trailing slash, longest first */
    size_t n;
} wc_basedirs;

/* Parse a colon-separated list. Relative entries, "/" and $HOME are refused (-1). An entry
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

/* The default when WAFCACHE_BASEDIR is unset: the nearest ancestor of topdir holding .git,
 * .hg or .svn, else topdir itself; never "/" or home (then NULL). malloc'd. */
char *wc_basedir_default(const char *topdir, const char *home);

/* Normalise an absolute path lexically ("//", "/./", "/x/../"). malloc'd. */
char *wc_path_normalize(const char *path);

/* malloc'd relative path from directory `from` to `to` (both absolute, normalised). */
char *wc_path_relative(const char *from, const char *to);

#endif
