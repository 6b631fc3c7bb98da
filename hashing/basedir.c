/* WAFCACHE_BASEDIR: roots stripped from signature material, and lexical path helpers. */
#include "hashing/basedir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/util.h"

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

/* A configured base dir must be absolute and not "/": it bounds how far up a command's base
 * dir may go (wc_basedir_decide), and every path is under "/". */
static int acceptable(const char *norm)
{
    return norm[0] == '/' && strcmp(norm, "/") != 0;
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
static int add_entry(wc_basedirs *b, const char *entry)
{
    if (entry[0] != '/')
        return -1;
    char *norm = wc_path_normalize(entry);
    if (!norm)
        return -1;
    int rc = acceptable(norm) ? add_dir(b, norm) : -1;
    free(norm);
    char real[PATH_MAX];
    if (rc == 0 && realpath(entry, real)) {
        rc = acceptable(real) ? add_dir(b, real) : -1;
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
    (void)home; /* accepted since issue 15: a bound, see wc_basedir_decide */
    b->dirs = NULL;
    b->n = 0;
    b->up = 0;
    char *copy = strdup(list ? list : "");
    if (!copy)
        return -1;
    int rc = 0;
    char *save = NULL;
    for (char *e = strtok_r(copy, ":", &save); e && rc == 0; e = strtok_r(NULL, ":", &save))
        rc = add_entry(b, e);
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
    b->up = 0;
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

/* ---- one command's base dir (issue 15) ----------------------------------------------------- */

static int fs_has_vcs(const char *dir, void *ctx)
{
    static const char *const marks[] = {"/.git", "/.hg", "/.svn"};
    size_t n = strlen(dir);
    char p[PATH_MAX];
    struct stat st;

    (void)ctx;
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

/* Length of the longest whole-component prefix that normalised absolute paths a and b share
 * ("/a/b/c" and "/a/bc" share "/a": 2); 0 when only "/" is shared. */
static size_t common_len(const char *a, const char *b)
{
    size_t n = 0, i = 0;
    for (;;) {
        if ((a[i] == '/' || a[i] == '\0') && (b[i] == '/' || b[i] == '\0') && i > 0)
            n = i;
        if (a[i] == '\0' || b[i] == '\0' || a[i] != b[i])
            return n;
        i++;
    }
}

/* 1 when dir is path or one of its ancestors (both normalised). */
static int is_ancestor(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    if (strcmp(dir, "/") == 0)
        return 1;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Length of the component of cwd that follows its prefix of length floor ("/" is 0). */
static size_t next_component(const char *cwd, size_t floor)
{
    size_t n = floor + 1;
    while (cwd[n] && cwd[n] != '/')
        n++;
    return n;
}

/* The default bound: the directory just below home (its normalised or physical spelling)
 * when the cwd is under it, else the one just below "/". 0 when the cwd is "/", home or
 * above home: such a command has no base dir. */
static size_t default_bound(const char *cwd, const char *home)
{
    char real[PATH_MAX];
    char *norm = home && home[0] == '/' ? wc_path_normalize(home) : NULL;
    const char *homes[] = {norm, norm && realpath(home, real) ? real : NULL};
    size_t bound = strcmp(cwd, "/") == 0 ? 0 : next_component(cwd, 0);

    for (size_t i = 0; i < 2 && bound; i++) {
        if (!homes[i])
            continue;
        if (is_ancestor(cwd, homes[i]))
            bound = 0;
        else if (is_ancestor(homes[i], cwd) && strcmp(homes[i], "/") != 0)
            bound = next_component(cwd, strlen(homes[i]));
    }
    free(norm);
    return bound;
}

/* Length of cwd's prefix that bounds its base dir, 0 for none (see wc_basedir_decide). */
static size_t bound_of(const struct wc_basedir_query *q)
{
    if (q->bounds && q->bounds->n > 0)
        return wc_basedir_prefix(q->bounds, q->cwd);
    return default_bound(q->cwd, q->home);
}

/* Length of the nearest ancestor of the cwd (not above the bound) holding a checkout, else
 * of the cwd itself. */
static size_t checkout_len(const struct wc_basedir_query *q, size_t bound, char *dir)
{
    int (*vcs)(const char *, void *) = q->has_vcs ? q->has_vcs : fs_has_vcs;
    size_t n = strlen(dir);
    for (;;) {
        dir[n] = '\0';
        if (vcs(dir, q->ctx))
            return n;
        if (n <= bound)
            return strlen(q->cwd);
        while (dir[n] != '/')
            n--;
    }
}

static int has_dotdot(const char *p)
{
    for (const char *c = p; *c; c += strcspn(c, "/"), c += *c == '/') {
        if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
            return 1;
        if (!*c)
            break;
    }
    return 0;
}

/* How far up the cwd one path in an argument reaches: the length of their common ancestor,
 * or SIZE_MAX when the path stays below the cwd (or is no path). */
static size_t piece_reach(const char *cwd, const char *piece, size_t len, int *oom)
{
    char *p = strndup(piece, len), *joined = NULL, *norm = NULL;
    size_t r = SIZE_MAX;
    if (!p) {
        *oom = 1;
        return r;
    }
    if (p[0] == '/' || has_dotdot(p)) {
        joined = p[0] == '/' ? strdup(p) : wc_path_join(cwd, p);
        norm = joined ? wc_path_normalize(joined) : NULL;
        if (norm)
            r = common_len(cwd, norm);
        else
            *oom = 1;
    }
    free(p);
    free(joined);
    free(norm);
    return r;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* How far up the cwd argument a reaches, over-approximated: the whole argument, what follows a
 * joined path option ("-I../inc"), and every piece after '=' or ',' up to the next one
 * ("-Wl,-T,../x.ld", "--sysroot=../s", the OLD of "-fdebug-prefix-map=/p/A=."). A further reach
 * only widens the base dir, which is always sound. */
static size_t arg_reach(const char *cwd, const char *a, int *oom)
{
    size_t r = a[0] != '-' ? piece_reach(cwd, a, strlen(a), oom) : SIZE_MAX;
    size_t n = sizeof(joined_path_options) / sizeof(joined_path_options[0]);
    for (size_t i = 0; a[0] == '-' && i < n; i++) {
        size_t len = strlen(joined_path_options[i]);
        if (strncmp(a, joined_path_options[i], len) == 0 && a[len])
            r = min_size(r, piece_reach(cwd, a + len, strlen(a + len), oom));
    }
    for (const char *p = a; *p; p++)
        if (*p == '=' || *p == ',')
            r = min_size(r, piece_reach(cwd, p + 1, strcspn(p + 1, ",="), oom));
    return r;
}

static size_t count_components(const char *s, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += s[i] == '/';
    return n;
}

int wc_basedir_decide(const struct wc_basedir_query *q, wc_basedirs *out)
{
    memset(out, 0, sizeof *out);
    char *cwd = q->cwd && q->cwd[0] == '/' ? wc_path_normalize(q->cwd) : NULL;
    if (!cwd)
        return q->cwd && q->cwd[0] == '/' ? -ENOMEM : 0;
    struct wc_basedir_query c = *q;
    c.cwd = cwd;
    size_t bound = bound_of(&c), base = 0;
    int oom = 0;
    char *dir = bound ? strdup(cwd) : NULL;
    if (bound && dir) {
        base = checkout_len(&c, bound, dir);
        for (size_t i = 1; q->argv && q->argv[0] && q->argv[i]; i++) {
            size_t r = arg_reach(cwd, q->argv[i], &oom);
            if (r >= bound && r < base)
                base = r;
        }
        memcpy(dir, cwd, base);
        dir[base] = '\0';
    }
    int rc = bound && (!dir || oom) ? -ENOMEM : 0;
    if (rc == 0 && bound) {
        rc = add_dir(out, dir);
        out->up = count_components(cwd, bound, base);
    }
    free(dir);
    free(cwd);
    if (rc < 0)
        wc_basedirs_free(out);
    return rc;
}

char *wc_basedir_near(const wc_basedirs *b, const char *abs, int *oom)
{
    if (!b || b->n == 0 || b->up == 0 || abs[0] != '/')
        return NULL;
    char *norm = wc_path_normalize(abs), *s = NULL;
    if (!norm) {
        *oom = 1;
        return NULL;
    }
    const char *dir = b->dirs[0];
    size_t common = common_len(dir, norm), ups = count_components(dir, common, strlen(dir));
    /* Under dir: the token form does it (wc_mf_path_store). */
    if (common < strlen(dir) && ups <= b->up && common > 0) {
        const char *rest = norm + common + (norm[common] == '/');
        size_t t = strlen(WC_BASEDIR_TOKEN);
        s = malloc(t + 3 * ups + strlen(rest) + 2);
        if (s) {
            char *o = s + t;
            memcpy(s, WC_BASEDIR_TOKEN, t);
            for (size_t i = 0; i < ups; i++, o += 3)
                memcpy(o, "/..", 3);
            sprintf(o, "%s%s", *rest ? "/" : "", rest);
        } else {
            *oom = 1;
        }
    }
    free(norm);
    return s;
}
