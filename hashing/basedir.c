/* WAFCACHE_BASEDIR: roots stripped from signature material, and lexical path helpers. */
#include "hashing/basedir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- lexical paths ------------------------------------------------------------------------ */

/* Length of the first component of p (p does not start with '/'). */
static size_t component_len(const char *p)
{
    const char *s = strchr(p, '/');
    return s ? (size_t)(s - p) : strlen(p);
}

static const char *skip_slashes(const char *p)
{
    while (*p == '/')
        p++;
    return p;
}

/* Where the last component of out[0..o) starts. */
static size_t last_component(const char *out, size_t o)
{
    while (o > 0 && out[o - 1] != '/')
        o--;
    return o;
}

static int is_dotdot(const char *c, size_t n)
{
    return n == 2 && c[0] == '.' && c[1] == '.';
}

/* Normalise lexically: "//" and "/./" collapse, "x/.." cancels, ".." above the root stays at
 * the root. A relative path keeps its leading ".." and gives "." when nothing is left. */
char *wc_path_normalize(const char *path)
{
    size_t abs = path[0] == '/', o = abs;
    char *out = malloc(strlen(path) + 2);

    if (!out)
        return NULL;
    if (abs)
        out[0] = '/';
    for (const char *p = skip_slashes(path); *p; p = skip_slashes(p)) {
        const char *c = p;
        size_t n = component_len(p);
        p += n;
        if (n == 1 && c[0] == '.')
            continue;
        if (is_dotdot(c, n)) {
            size_t last = last_component(out, o);
            if (o > last && !is_dotdot(out + last, o - last)) {
                o = last > abs ? last - 1 : last; /* the slash before it goes too */
                continue;
            }
            if (abs)
                continue;
        }
        if (o > abs)
            out[o++] = '/';
        memcpy(out + o, c, n);
        o += n;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

static char *relative_normalized(const char *from, const char *to)
{
    const char *f = skip_slashes(from), *t = skip_slashes(to);

    /* Skip the components both share. */
    while (*f && *t) {
        size_t fn = component_len(f), tn = component_len(t);
        if (fn != tn || memcmp(f, t, fn) != 0)
            break;
        f = skip_slashes(f + fn);
        t = skip_slashes(t + tn);
    }
    size_t ups = 0;
    for (const char *p = f; *p; p = skip_slashes(p + component_len(p)))
        ups++;
    char *out = malloc(3 * ups + strlen(t) + 2);
    if (!out)
        return NULL;
    char *o = out;
    for (size_t i = 0; i < ups; i++) {
        memcpy(o, "../", 3);
        o += 3;
    }
    if (*t)
        strcpy(o, t);
    else if (o > out)
        o[-1] = '\0'; /* drop the last "/" of "../" */
    else
        strcpy(o, ".");
    return out;
}

char *wc_path_relative(const char *from, const char *to)
{
    char *f = wc_path_normalize(from), *t = wc_path_normalize(to), *r = NULL;

    if (f && t)
        r = relative_normalized(f, t);
    free(f);
    free(t);
    return r;
}

/* ---- base dirs ---------------------------------------------------------------------------- */

static int is_home(const char *norm, const char *home)
{
    if (!home || home[0] != '/')
        return 0;
    char *h = wc_path_normalize(home);
    int same = h && strcmp(h, norm) == 0;
    free(h);
    if (same)
        return 1;
    char real[PATH_MAX];
    return realpath(home, real) && strcmp(real, norm) == 0;
}

/* A base dir must be absolute and not "/" or home: stripping those would make unrelated
 * projects share signatures. */
static int acceptable(const char *norm, const char *home)
{
    return norm[0] == '/' && strcmp(norm, "/") != 0 && !is_home(norm, home);
}

static int add_dir(wc_basedirs *b, const char *dir)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->dirs[i], dir) == 0)
            return 0;
    char **d = realloc(b->dirs, (b->n + 1) * sizeof(*d));
    if (!d)
        return -1;
    b->dirs = d;
    if (!(b->dirs[b->n] = strdup(dir)))
        return -1;
    b->n++;
    return 0;
}

/* One entry of the list: itself, and its physical path when that differs (getcwd() and
 * the paths the runner observes are physical, a user's setting may go through a link). */
static int add_entry(wc_basedirs *b, const char *entry, const char *home)
{
    if (entry[0] != '/')
        return -1;
    char *norm = wc_path_normalize(entry);
    if (!norm)
        return -1;
    int rc = acceptable(norm, home) ? add_dir(b, norm) : -1;
    free(norm);
    char real[PATH_MAX];
    if (rc == 0 && realpath(entry, real)) {
        rc = acceptable(real, home) ? add_dir(b, real) : -1;
    }
    return rc;
}

static int longest_first(const void *a, const void *b)
{
    size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);
    if (la != lb)
        return la > lb ? -1 : 1;
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int wc_basedirs_parse(wc_basedirs *b, const char *list, const char *home)
{
    b->dirs = NULL;
    b->n = 0;
    char *copy = strdup(list ? list : "");
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *e = strtok_r(copy, ":", &save); e && rc == 0; e = strtok_r(NULL, ":", &save))
        rc = add_entry(b, e, home);
    free(copy);
    if (rc < 0) {
        wc_basedirs_free(b);
        return -1;
    }
    if (b->n > 1)
        qsort(b->dirs, b->n, sizeof(*b->dirs), longest_first);
    return 0;
}

void wc_basedirs_free(wc_basedirs *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->dirs[i]);
    free(b->dirs);
    b->dirs = NULL;
    b->n = 0;
}

/* Length of the longest base dir that starts s and ends where a component ends: at the end
 * of s or before one of the characters in `ends`. */
static size_t prefix_before(const wc_basedirs *b, const char *s, const char *ends)
{
    if (!b)
        return 0;
    for (size_t i = 0; i < b->n; i++) {
        size_t n = strlen(b->dirs[i]);
        if (strncmp(s, b->dirs[i], n) == 0 && (s[n] == '\0' || strchr(ends, s[n])))
            return n;
    }
    return 0;
}

size_t wc_basedir_prefix(const wc_basedirs *b, const char *path)
{
    return prefix_before(b, path, "/");
}

/* Characters after which a path may start inside an argument: "--sysroot=/p", "-I/a:/b",
 * "-Wl,-rpath,/p", "@/p/rsp". A path found there may end before the same characters. */
#define PATH_SEPS "=:,@"

/* Options a path may follow directly, joined ("-I/p/inc", "-isystem/p"). Only known names:
 * "-Ifoo/a/b" is the relative directory "foo/a/b", whatever base dir "/a/b" says. */
static const char *const joined_path_options[] = {
    "-I",        "-L",       "-B",           "-F",
    "-o",        "-T",       "-MF",          "-MT",
    "-MQ",       "-isystem", "-idirafter",   "-iquote",
    "-isysroot", "-iprefix", "-iwithprefix", "-iwithprefixbefore",
    "-include",  "-imacros", "-iframework",
};

/* Length of the joined option name s starts with, when a path follows it directly, or 0. */
static size_t joined_option(const char *s)
{
    size_t n = sizeof(joined_path_options) / sizeof(joined_path_options[0]);

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(joined_path_options[i]);
        if (strncmp(s, joined_path_options[i], len) == 0 && s[len] == '/')
            return len;
    }
    return 0;
}

char *wc_basedir_strip(const wc_basedirs *b, const char *s)
{
    size_t len = strlen(s), tok = strlen(WC_BASEDIR_TOKEN);
    size_t opt = joined_option(s);
    /* Each replacement removes at least "/x" (2 bytes) and adds tok. */
    char *out = malloc(len + (len / 2 + 1) * tok + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        int starts = i == 0 || i == opt || strchr(PATH_SEPS, s[i - 1]) != NULL;
        size_t n = starts && s[i] == '/' ? prefix_before(b, s + i, "/" PATH_SEPS) : 0;
        if (n) {
            memcpy(out + o, WC_BASEDIR_TOKEN, tok);
            o += tok;
            i += n;
        } else {
            out[o++] = s[i++];
        }
    }
    out[o] = '\0';
    return out;
}

char *wc_basedir_expand(const wc_basedirs *b, const char *s)
{
    size_t tok = strlen(WC_BASEDIR_TOKEN);

    if (!b || b->n == 0 || strncmp(s, WC_BASEDIR_TOKEN, tok) != 0 ||
        (s[tok] != '\0' && s[tok] != '/'))
        return strdup(s);
    size_t n = strlen(b->dirs[0]), rest = strlen(s + tok);
    char *out = malloc(n + rest + 1);
    if (!out)
        return NULL;
    memcpy(out, b->dirs[0], n);
    memcpy(out + n, s + tok, rest + 1);
    return out;
}

static int has_vcs(const char *dir)
{
    static const char *const marks[] = {"/.git", "/.hg", "/.svn"};
    size_t n = strlen(dir);
    char p[PATH_MAX];
    struct stat st;

    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        if (n + strlen(marks[i]) >= sizeof(p))
            return 0;
        memcpy(p, dir, n);
        strcpy(p + n, marks[i]);
        /* A .git file counts: worktrees and submodules have one pointing elsewhere. */
        if (stat(p, &st) == 0)
            return 1;
    }
    return 0;
}

/* Strip the last component in place ("/a/b" -> "/a", "/a" -> "/"). */
static void to_parent(char *dir)
{
    char *s = strrchr(dir, '/');
    if (s == dir)
        s[1] = '\0';
    else if (s)
        *s = '\0';
}

char *wc_basedir_default(const char *topdir, const char *home)
{
    if (!topdir || topdir[0] != '/')
        return NULL;
    char *top = wc_path_normalize(topdir);
    if (!top)
        return NULL;
    char *d = strdup(top);
    if (!d) {
        free(top);
        return NULL;
    }
    /* Walk up to, not into, "/" and home: a checkout of one's dotfiles must not make home
     * the base dir of every project below it. */
    for (; acceptable(d, home); to_parent(d)) {
        if (has_vcs(d)) {
            free(top);
            return d;
        }
    }
    free(d);
    if (acceptable(top, home))
        return top;
    free(top);
    return NULL;
}
