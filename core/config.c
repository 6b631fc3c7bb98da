/* Every setting of SPEC §3, parsed in one place.
 *
 * A table maps each variable to a parser and a printer. Parsers store a good value in the
 * config and return NULL, or return the phrase that ends the error line ("is not a size").
 * The first bad value becomes c->error and disables the cache; the other settings are still
 * parsed so that `wafcache -p` and the message stay accurate. */
#include "core/config.h"
#include "core/cachedir.h"
#include "core/redact.h"
#include "core/util.h"
#include "core/programs.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TRIM_MAX_FOLDER 1000000
#define DEFAULT_EVICT_MAX_BYTES 10000000000ULL
#define DEFAULT_EVICT_INTERVAL_MINUTES 3
#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_DIR_MODE 0700

struct setting;
typedef const char *(*parse_fn)(struct wc_config *c, const struct setting *s, const char *v);
typedef void (*show_fn)(const struct wc_config *c, const struct setting *s, char *buf, size_t n);

struct setting {
    const char *name;
    parse_fn parse;
    show_fn show;
    size_t off;   /* offsetof the field in struct wc_config */
    int env_only; /* never from wafcache.conf (see conf_allowed) */
};

/* ---- field access: the table stores offsets, these give typed pointers back ---- */

static void *field(struct wc_config *c, const struct setting *s)
{
    return (char *)c + s->off;
}

static const void *cfield(const struct wc_config *c, const struct setting *s)
{
    return (const char *)c + s->off;
}

/* ---- number parsing ---- */

int wc_parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *s - '0', &v))
            return -1;
    }
    *out = v;
    return 0;
}

/* A decimal number "12", "1.5", ".5": the integer part, and the fraction as num / den with
 * at most 18 digits kept (the rest only has to be digits). Returns a pointer past the number,
 * or NULL when there is no digit or the integer part overflows. */
static const char *parse_decimal(const char *s, uint64_t *ip, uint64_t *num, uint64_t *den)
{
    int digits = 0;

    *ip = 0;
    *num = 0;
    *den = 1;
    for (; *s >= '0' && *s <= '9'; s++, digits++)
        if (__builtin_mul_overflow(*ip, 10, ip) || __builtin_add_overflow(*ip, *s - '0', ip))
            return NULL;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
            if (*den < 1000000000000000000ULL) {
                *num = *num * 10 + (uint64_t)(*s - '0');
                *den *= 10;
            }
        }
    }
    return digits ? s : NULL;
}

static const struct {
    const char *suffix;
    uint64_t mult;
} size_units[] = {
    {"", 1},
    {"k", 1000ULL},
    {"K", 1000ULL},
    {"M", 1000ULL * 1000},
    {"G", 1000ULL * 1000 * 1000},
    {"T", 1000ULL * 1000 * 1000 * 1000},
    {"Ki", 1ULL << 10},
    {"Mi", 1ULL << 20},
    {"Gi", 1ULL << 30},
    {"Ti", 1ULL << 40},
};

/* The multiplier for a unit suffix; a trailing 'B' is allowed ("10GB", "64KiB", "100B"). */
static int size_unit(const char *suffix, uint64_t *mult)
{
    char u[4];
    size_t len = strlen(suffix);

    if (len > 0 && suffix[len - 1] == 'B')
        len--;
    if (len >= sizeof(u))
        return -1;
    memcpy(u, suffix, len);
    u[len] = '\0';
    for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
        if (strcmp(u, size_units[i].suffix) == 0) {
            *mult = size_units[i].mult;
            return 0;
        }
    }
    return -1;
}

int wc_parse_size(const char *s, uint64_t *out)
{
    uint64_t ip, num, den, mult, v;
    const char *end;

    if (s == NULL || (end = parse_decimal(s, &ip, &num, &den)) == NULL)
        return -1;
    if (size_unit(end, &mult) < 0)
        return -1;
    /* A fraction of a byte means nothing: "1.5" alone is a typo, not 1 byte. */
    if (mult == 1 && num != 0)
        return -1;
    if (__builtin_mul_overflow(ip, mult, &v))
        return -1;
    /* num < den <= 10^18 and mult <= 2^40: the product needs 128 bits, and the quotient
     * is below mult, so it fits in 64. */
    uint64_t frac = (uint64_t)((unsigned __int128)num * mult / den);
    if (__builtin_add_overflow(v, frac, &v))
        return -1;
    *out = v;
    return 0;
}

/* Seconds, possibly fractional, > 0, to milliseconds rounded up so that a tiny positive value
 * never becomes 0 (which libcurl would read as "no timeout"). */
static int parse_seconds_ms(const char *s, unsigned *ms)
{
    uint64_t ip, num, den, total;
    const char *end = parse_decimal(s, &ip, &num, &den);

    if (end == NULL || *end != '\0')
        return -1;
    if (__builtin_mul_overflow(ip, 1000, &total))
        return -1;
    if (num != 0)
        total += (uint64_t)(((unsigned __int128)num * 1000 + den - 1) / den);
    if (total == 0 || total > UINT_MAX)
        return -1;
    *ms = (unsigned)total;
    return 0;
}

/* ---- parsers, one per kind of value ---- */

int wc_switch_on(const char *value)
{
    static const char *const off[] = {"0", "no", "false", "off"};

    if (value == NULL || *value == '\0')
        return 0;
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        if (strcasecmp(value, off[i]) == 0)
            return 0;
    return 1;
}

static const char *parse_switch(struct wc_config *c, const struct setting *s, const char *v)
{
    *(int *)field(c, s) = wc_switch_on(v);
    return NULL;
}

static const char *parse_count(struct wc_config *c, const struct setting *s, const char *v)
{
    if (wc_parse_uint(v, (uint64_t *)field(c, s)) < 0)
        return "is not a non-negative integer";
    return NULL;
}

static const char *parse_workers(struct wc_config *c, const struct setting *s, const char *v)
{
    uint64_t n;

    if (wc_parse_uint(v, &n) < 0 || n > UINT_MAX)
        return "is not a non-negative integer";
    *(unsigned *)field(c, s) = (unsigned)n;
    return NULL;
}

static const char *parse_size(struct wc_config *c, const struct setting *s, const char *v)
{
    if (wc_parse_size(v, (uint64_t *)field(c, s)) < 0)
        return "is not a size";
    return NULL;
}

static const char *parse_string(struct wc_config *c, const struct setting *s, const char *v)
{
    char **p = field(c, s);

    free(*p);
    *p = strdup(v);
    return *p ? NULL : "could not be stored (out of memory)";
}

/* WAFCACHE_PROGRAMS: names, "+name" and "-name" (core/programs.h). The phrase names the
 * first bad entry, so it lives in a static buffer (settings are parsed by one thread). */
static const char *parse_programs(struct wc_config *c, const struct setting *s, const char *v)
{
    static char why[200];
    const char *bad;
    size_t len;

    if (wc_programs_check(v, &bad, &len) < 0) {
        snprintf(why, sizeof why,
                 "has a bad entry \"%.*s\" (entries are NAME, +NAME or -NAME, a program's "
                 "basename without '/')",
                 (int)(len > 60 ? 60 : len), bad);
        return why;
    }
    return parse_string(c, s, v);
}

static const char *parse_abspath(struct wc_config *c, const struct setting *s, const char *v)
{
    if (v[0] != '/')
        return "is not an absolute path";
    return parse_string(c, s, v);
}

/* 1 when an absolute path names "/" once "." and ".." are taken lexically ("/a/.."). */
static int is_root(const char *p, size_t n)
{
    size_t depth = 0;
    for (size_t i = 0; i < n;) {
        size_t len = strcspn(p + i, "/");
        len = len < n - i ? len : n - i;
        if (len == 2 && p[i] == '.' && p[i + 1] == '.')
            depth -= depth > 0;
        else if (len > 0 && !(len == 1 && p[i] == '.'))
            depth++;
        i += len + 1;
    }
    return depth == 0;
}

/* WAFCACHE_BASEDIR: absolute directories other than "/", which would bound nothing. */
static const char *parse_basedir(struct wc_config *c, const struct setting *s, const char *v)
{
    for (const char *e = v; *e; e += *e == ':') {
        size_t n = strcspn(e, ":");
        if (n > 0 && e[0] != '/')
            return "has an entry that is not an absolute path";
        if (n > 0 && is_root(e, n))
            return "has \"/\" as an entry";
        e += n;
    }
    return parse_string(c, s, v);
}

static const char *parse_timeout(struct wc_config *c, const struct setting *s, const char *v)
{
    if (parse_seconds_ms(v, (unsigned *)field(c, s)) < 0)
        return "is not a number of seconds greater than 0";
    return NULL;
}

static const char *parse_method(struct wc_config *c, const struct setting *s, const char *v)
{
    if (strcasecmp(v, "post") == 0)
        *(int *)field(c, s) = 0;
    else if (strcasecmp(v, "put") == 0)
        *(int *)field(c, s) = 1;
    else
        return "is not post or put";
    return NULL;
}

static const char *parse_umask(struct wc_config *c, const struct setting *s, const char *v)
{
    unsigned mask = 0;
    const char *p = v;

    for (; *p >= '0' && *p <= '7' && mask <= 0777; p++)
        mask = mask * 8 + (unsigned)(*p - '0');
    /* A mask taking the owner's rights away would make every cache directory unusable. */
    if (*p != '\0' || mask > 0777 || (mask & 0700) != 0)
        return "is not an octal umask that keeps the owner's rights (such as 022)";
    *(unsigned *)field(c, s) = 0777 & ~mask;
    return NULL;
}

/* Every WAFCACHE prefix of core/backends.def; a NULL prefix is a backend without an alias. */
static const struct {
    const char *prefix;
    enum wc_store_kind kind;
} schemes[] = {
#define WC_BACKEND(kind, scheme, alias, constructor, where, cmd)                                   \
    {scheme, WC_STORE_##kind}, {alias, WC_STORE_##kind},
#include "core/backends.def"
#undef WC_BACKEND
};

#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

/* "is not a supported URL (http://, https://, ...)", from the table. Per thread: the
 * interposer may load settings from several threads at once. */
static const char *unsupported_url(void)
{
    static __thread char msg[256];
    size_t n = (size_t)snprintf(msg, sizeof msg, "is not a supported URL (");

    for (size_t i = 0; i < N_SCHEMES && n < sizeof msg; i++)
        if (schemes[i].prefix)
            n +=
                (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", i ? ", " : "", schemes[i].prefix);
    if (n < sizeof msg)
        snprintf(msg + n, sizeof msg - n, ")");
    return msg;
}

static const char *parse_url(struct wc_config *c, const char *v)
{
    for (size_t i = 0; i < N_SCHEMES; i++) {
        size_t len = schemes[i].prefix ? strlen(schemes[i].prefix) : 0;
        if (!len || strncasecmp(v, schemes[i].prefix, len) != 0)
            continue;
        if (v[len] == '\0' || v[len] == '/')
            return "is not a URL: the host or bucket is missing";
        c->kind = schemes[i].kind;
        c->cache = strdup(v);
        return c->cache ? NULL : "could not be stored (out of memory)";
    }
    return unsupported_url();
}

static const char *parse_store(struct wc_config *c, const struct setting *s, const char *v)
{
    size_t len = strlen(v);

    (void)s;
    if (strstr(v, "://") != NULL)
        return parse_url(c, v);
    if (v[0] != '/')
        return "is not an absolute directory or a URL";
    /* "/var/cache/wc/" and "/var/cache/wc" are one cache: keep a single spelling. */
    while (len > 1 && v[len - 1] == '/')
        len--;
    c->kind = WC_STORE_DIR;
    c->cache = strndup(v, len);
    return c->cache ? NULL : "could not be stored (out of memory)";
}

/* ---- printers for wc_config_setting ---- */

static void show_store(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    (void)s;
    wc_redact_url(c->cache ? c->cache : "", buf, n);
}

static void show_flag(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s", *(const int *)cfield(c, s) ? "yes" : "no");
}

static void show_count(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    snprintf(buf, n, "%" PRIu64, *(const uint64_t *)cfield(c, s));
}

static void show_workers(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    unsigned w = *(const unsigned *)cfield(c, s);

    if (w == 0)
        snprintf(buf, n, "0 (synchronous)");
    else
        snprintf(buf, n, "%u", w);
}

static void show_string(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    const char *v = *(char *const *)cfield(c, s);

    /* WAFCACHE_CMD's curl -u user:password too. */
    wc_redact_command(v ? v : "(unset)", buf, n);
}

static void show_basedir(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    const char *v = *(char *const *)cfield(c, s);

    snprintf(buf, n, "%s", v ? v : "(unset: decided per command, below $HOME or /)");
}

static void show_programs(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    const char *v = *(char *const *)cfield(c, s);

    snprintf(buf, n, "%s", v ? v : WC_DEFAULT_PROGRAMS);
}

static void show_timeout(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    unsigned ms = *(const unsigned *)cfield(c, s);

    if (ms % 1000 == 0)
        snprintf(buf, n, "%u", ms / 1000);
    else if (ms % 100 == 0)
        snprintf(buf, n, "%u.%01u", ms / 1000, ms % 1000 / 100);
    else if (ms % 10 == 0)
        snprintf(buf, n, "%u.%02u", ms / 1000, ms % 1000 / 10);
    else
        snprintf(buf, n, "%u.%03u", ms / 1000, ms % 1000);
}

static void show_method(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    snprintf(buf, n, "%s", *(const int *)cfield(c, s) ? "put" : "post");
}

static void show_umask(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    snprintf(buf, n, "%03o", 0777 & ~*(const unsigned *)cfield(c, s));
}

/* The order of SPEC §3: the seed's variables first, then ours. env_only: WAFCACHE and
 * WAFCACHE_LOCAL say where wafcache.conf is; libwafcache.so reads WAFCACHE_PROGRAMS and
 * WAFCACHE_STATS in every process of the build, and it never reads files. */
#define OFF(f) offsetof(struct wc_config, f)
static const struct setting settings[] = {
    {"WAFCACHE", parse_store, show_store, OFF(cache), 1},
    {"WAFCACHE_CMD", parse_string, show_string, OFF(cmd), 0},
    {"WAFCACHE_NO_PUSH", parse_switch, show_flag, OFF(no_push), 0},
    {"WAFCACHE_VERBOSITY", parse_switch, show_flag, OFF(verbosity), 0},
    {"WAFCACHE_STATS", parse_switch, show_flag, OFF(stats), 1},
    {"WAFCACHE_TRIM_MAX_FOLDER", parse_count, show_count, OFF(trim_max_folder), 0},
    {"WAFCACHE_EVICT_MAX_BYTES", parse_size, show_count, OFF(evict_max_bytes), 0},
    {"WAFCACHE_EVICT_INTERVAL_MINUTES", parse_count, show_count, OFF(evict_interval_minutes), 0},
    {"WAFCACHE_ASYNC_WORKERS", parse_workers, show_workers, OFF(async_workers), 0},
    {"WAFCACHE_ASYNC_NOWAIT", parse_switch, show_flag, OFF(async_nowait), 0},
    {"WAFCACHE_BASEDIR", parse_basedir, show_basedir, OFF(basedir), 0},
    {"WAFCACHE_HARDLINK", parse_switch, show_flag, OFF(hardlink), 0},
    {"WAFCACHE_PROGRAMS", parse_programs, show_programs, OFF(programs), 1},
    {"WAFCACHE_LOG", parse_string, show_string, OFF(log), 0},
    {"WAFCACHE_DISABLE", parse_switch, show_flag, OFF(disabled), 0},
    {"WAFCACHE_LOCAL", parse_abspath, show_string, OFF(local), 1},
    {"WAFCACHE_HTTP_METHOD", parse_method, show_method, OFF(http_put), 0},
    {"WAFCACHE_TIMEOUT", parse_timeout, show_timeout, OFF(timeout_ms), 0},
    {"WAFCACHE_HASHDIR", parse_switch, show_flag, OFF(hash_dir), 0},
    {"WAFCACHE_UMASK", parse_umask, show_umask, OFF(dir_mode), 0},
    {"WAFCACHE_EXPLAIN", parse_switch, show_flag, OFF(explain), 0},
};

/* ccache's names, for the settings `wafcache -M` and `-F` write. bare_g: under this name a
 * bare number is gigabytes, as ccache reads max_size ("5" is 5G). */
static const struct {
    const char *alias, *name;
    int bare_g;
} conf_aliases[] = {
    {"max_size", "WAFCACHE_EVICT_MAX_BYTES", 1},
    {"max_files", "WAFCACHE_TRIM_MAX_FOLDER", 0},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))
_Static_assert(NSETTINGS <= WC_CONFIG_MAX_SETTINGS, "raise WC_CONFIG_MAX_SETTINGS");

const char *wc_config_source_name(const struct wc_config *c, unsigned i)
{
    if (i >= NSETTINGS || c->source[i] == WC_SOURCE_DEFAULT)
        return "default";
    return c->source[i] == WC_SOURCE_ENV ? "environment" : WC_CONF_NAME;
}

int wc_config_setting(const struct wc_config *c, unsigned i, const char **name, char *value,
                      size_t n)
{
    if (i >= NSETTINGS)
        return -1;
    *name = settings[i].name;
    settings[i].show(c, &settings[i], value, n);
    return 0;
}

/* ---- the default cache directory ---- */

static const char *env_get(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static int is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* /tmp/wafcache_$USER, the seed's default, is still used when it holds a cache of ours: a
 * real directory (not a link), owned by us, that nobody else may write. */
static int legacy_tmp_ours(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
           (st.st_mode & 0022) == 0;
}

/* The password file's entry for us, read directly rather than through NSS (getpwuid): the
 * runner is a static program. Asked only for what the environment does not say. */
static int passwd_entry(char *user, size_t un, char *home, size_t hn)
{
    return wc_passwd_find("/etc/passwd", getuid(), user, un, home, hn);
}

/* The user's home: HOME, else the password file's; "" when there is no absolute one. */
static void user_home(wc_getenv_fn get, void *ctx, char *home, size_t hn)
{
    const char *h = get("HOME", ctx);
    char pw_user[256], pw_home[PATH_MAX];

    if ((!h || !*h) && passwd_entry(pw_user, sizeof(pw_user), pw_home, sizeof(pw_home)) == 0)
        h = pw_home;
    home[0] = '\0';
    if (h && h[0] == '/') {
        size_t len = strlen(h);
        while (len > 1 && h[len - 1] == '/')
            len--;
        snprintf(home, hn, "%.*s", (int)len, h);
    }
}

/* The user's name: USER, else the password file's, else the uid in digits. Only the older
 * default names need it, so only they pay for reading the password file. */
static void user_name(wc_getenv_fn get, void *ctx, char *user, size_t un)
{
    const char *u = get("USER", ctx);
    char pw_home[PATH_MAX];

    /* A name with '/' would put the cache somewhere else than the user asked. */
    if (u && *u && !strchr(u, '/'))
        snprintf(user, un, "%s", u);
    else if (passwd_entry(user, un, pw_home, sizeof(pw_home)) != 0)
        snprintf(user, un, "%u", (unsigned)getuid());
}

/* $XDG_CACHE_HOME/wafcache, else ~/.cache/wafcache (created later, with ~/.cache, as ccache
 * does). A cache under an older default name is still found and used, so that no user loses
 * it on upgrade: ~/.cache/wafcache_$USER, or /tmp/wafcache_$USER when it is ours alone.
 * Never a new directory in a world-writable place: without a usable home, NULL and *why. */
static char *default_cache_dir(wc_getenv_fn get, void *ctx, const char **why)
{
    const char *xdg = get("XDG_CACHE_HOME", ctx);
    char user[256], home[PATH_MAX], legacy[PATH_MAX + 300], *out = NULL;
    int w;

    user_home(get, ctx, home, sizeof(home));
    *why = NULL;
    /* The XDG spec ignores a relative XDG_CACHE_HOME. */
    if (xdg && xdg[0] == '/')
        w = asprintf(&out, "%s/wafcache", xdg);
    else if (home[0] && is_dir(home))
        w = asprintf(&out, "%s/.cache/wafcache", strcmp(home, "/") ? home : "");
    else
        w = 0;
    if (w < 0)
        return NULL;
    if (out && is_dir(out))
        return out;
    user_name(get, ctx, user, sizeof(user));
    snprintf(legacy, sizeof(legacy), "%s/.cache/wafcache_%s", home, user);
    if (home[0] && is_dir(legacy)) {
        free(out);
        return strdup(legacy);
    }
    snprintf(legacy, sizeof(legacy), "/tmp/wafcache_%s", user);
    if (legacy_tmp_ours(legacy)) {
        free(out);
        return strdup(legacy);
    }
    if (!out)
        *why = "wafcache: no home directory to keep the cache in (set HOME, XDG_CACHE_HOME or "
               "WAFCACHE); cache disabled for this build";
    return out;
}

/* One line, and the cache off, when the local cache directory could be written by someone
 * else: what is in it becomes the build's outputs. */
static void check_cache_dirs(struct wc_config *c)
{
    const char *dirs[] = {c->kind == WC_STORE_DIR ? c->cache : NULL, c->local};
    char why[PATH_MAX + 128];

    for (size_t i = 0; i < 2 && c->error[0] == '\0'; i++)
        if (dirs[i] && wc_cache_dir_check(dirs[i], c->dir_mode, why, sizeof(why)) < 0)
            snprintf(c->error, sizeof(c->error),
                     "wafcache: %.380s (set WAFCACHE_UMASK to share a cache with a group); cache "
                     "disabled for this build",
                     why);
}

/* ---- loading ---- */

void wc_redact_url(const char *v, char *buf, size_t n)
{
    wc_redact(v, buf, n);
}

/* Quote a value for the one-line message: escape quotes, backslashes and control bytes so
 * the line stays one line, and cut very long values. */
static void quote_value(const char *value, char *buf, size_t n)
{
    char redacted[1024];
    const char *v = redacted;
    size_t o = 0;

    /* Credentials never reach a message. */
    wc_redact_command(value, redacted, sizeof(redacted));

    for (; *v && o + 8 < n; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch == '"' || ch == '\\')
            o += (size_t)snprintf(buf + o, n - o, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    if (*v)
        o += (size_t)snprintf(buf + o, n - o, "...");
    buf[o] = '\0';
}

static int find_setting(const char *name);

/* For `wafcache -p`: every bad setting flagged, the first one's value and error kept. */
static void mark_bad(struct wc_config *c, const char *name, const char *value, const char *what)
{
    int i = find_setting(name);

    if (i >= 0)
        c->bad[i] = 1;
    if (c->error[0] != '\0')
        return;
    c->bad_setting = i;
    quote_value(value, c->bad_value, sizeof(c->bad_value));
    snprintf(c->bad_what, sizeof(c->bad_what), "%s", what);
}

static void set_error(struct wc_config *c, const char *name, const char *value, const char *what)
{
    char quoted[200];

    mark_bad(c, name, value, what);
    if (c->error[0] != '\0')
        return; /* the first bad value is the one the line tells */
    quote_value(value, quoted, sizeof(quoted));
    snprintf(c->error, sizeof(c->error), "wafcache: %s=\"%s\" %s; cache disabled for this build",
             name, quoted, what);
}

/* A wafcache.conf error names the file and the line, as a compiler would. */
static void set_conf_error(struct wc_config *c, unsigned line, const char *what)
{
    if (c->error[0] != '\0')
        return;
    c->conf_error = 1;
    if (line == 0)
        snprintf(c->error, sizeof(c->error), "wafcache: %s: %s; cache disabled for this build",
                 c->conf_path, what);
    else
        snprintf(c->error, sizeof(c->error), "wafcache: %s:%u: %s; cache disabled for this build",
                 c->conf_path, line, what);
}

static void set_defaults(struct wc_config *c)
{
    memset(c, 0, sizeof(*c));
    c->kind = WC_STORE_DIR;
    c->trim_max_folder = DEFAULT_TRIM_MAX_FOLDER;
    c->evict_max_bytes = DEFAULT_EVICT_MAX_BYTES;
    c->evict_interval_minutes = DEFAULT_EVICT_INTERVAL_MINUTES;
    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    c->hash_dir = 1;
    c->dir_mode = DEFAULT_DIR_MODE;
    c->bad_setting = -1;
}

static int find_setting(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].name, name) == 0)
            return (int)i;
    return -1;
}

int wc_config_index(const char *key)
{
    for (size_t a = 0; a < sizeof(conf_aliases) / sizeof(conf_aliases[0]); a++)
        if (strcmp(key, conf_aliases[a].alias) == 0)
            key = conf_aliases[a].name;
    return find_setting(key);
}

const char *wc_config_check(const char *name, const char *value)
{
    struct wc_config c;
    int i = find_setting(name);
    const char *what;

    if (i < 0)
        return "is not a setting";
    set_defaults(&c);
    what = settings[i].parse(&c, &settings[i], value);
    wc_config_free(&c);
    return what;
}

const char *wc_conf_value(const char *key, const char *value, char *buf, size_t n)
{
    size_t len = strlen(value);

    for (size_t a = 0; a < sizeof(conf_aliases) / sizeof(conf_aliases[0]); a++)
        if (conf_aliases[a].bare_g && strcmp(key, conf_aliases[a].alias) == 0 && len > 0 &&
            value[len - 1] >= '0' && value[len - 1] <= '9' && len + 2 <= n) {
            snprintf(buf, n, "%sG", value);
            return buf;
        }
    return value;
}

int wc_conf_env_only(const char *key)
{
    /* Read elsewhere than here: the token by the HTTP store (a secret, kept out of files),
     * WAFCACHE_LIBDIR by the wafcache command to find the library. */
    static const char *const others[] = {"WAFCACHE_HTTP_TOKEN", "WAFCACHE_LIBDIR"};
    int i = find_setting(key);

    if (i >= 0)
        return settings[i].env_only;
    for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++)
        if (strcmp(key, others[k]) == 0)
            return 1;
    return 0;
}

const char *wc_conf_key(const char *key)
{
    int i = wc_config_index(key);

    return i >= 0 && !settings[i].env_only ? settings[i].name : NULL;
}

/* The environment's value of setting i, into c. */
static void load_env_one(struct wc_config *c, size_t i, wc_getenv_fn get, void *ctx)
{
    const char *v = get(settings[i].name, ctx);
    const char *what;

    /* Empty is unset: `WAFCACHE= make` must not mean "the current directory". */
    if (v == NULL || *v == '\0')
        return;
    c->source[i] = WC_SOURCE_ENV;
    what = settings[i].parse(c, &settings[i], v);
    if (what != NULL)
        set_error(c, settings[i].name, v, what);
}

/* ---- wafcache.conf ---- */

static char *trim_space(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* Split "NAME = value" in place. 0, or -1 when the line is not of that form. */
static int split_line(char *line, char **key, char **value)
{
    char *eq = strchr(line, '=');

    if (!eq)
        return -1;
    *eq = '\0';
    *key = trim_space(line);
    *value = trim_space(eq + 1);
    return **key ? 0 : -1;
}

/* One line of the file (NUL-terminated, without its newline). */
static void conf_line(struct wc_config *c, unsigned lineno, char *line)
{
    char *key, *value, what[300], quoted[100], unit[96];
    const char *name, *err;
    int i;

    line = trim_space(line);
    if (*line == '\0' || *line == '#')
        return;
    quote_value(line, quoted, sizeof(quoted)); /* before split_line cuts it */
    if (split_line(line, &key, &value) < 0) {
        snprintf(what, sizeof(what), "expected \"NAME = value\", got \"%s\"", quoted);
        set_conf_error(c, lineno, what);
        return;
    }
    quote_value(key, quoted, sizeof(quoted));
    if ((name = wc_conf_key(key)) == NULL) {
        snprintf(what, sizeof(what), "%s \"%s\"",
                 wc_conf_env_only(key) ? "this setting cannot be in " WC_CONF_NAME ":"
                                       : "unknown setting",
                 quoted);
        set_conf_error(c, lineno, what);
        return;
    }
    i = find_setting(name);
    if (c->source[i] == WC_SOURCE_ENV)
        return; /* the environment wins; the value was checked when it was set */
    if (*value == '\0')
        return; /* as in the environment: empty means unset */
    c->source[i] = WC_SOURCE_CONF;
    if ((err = settings[i].parse(c, &settings[i], wc_conf_value(key, value, unit, sizeof unit))) !=
        NULL) {
        char v[200];
        mark_bad(c, name, value, err);
        quote_value(value, v, sizeof(v));
        snprintf(what, sizeof(what), "%s=\"%s\" %s", name, v, err);
        set_conf_error(c, lineno, what);
    }
}

/* Where wafcache.conf is: the local cache directory, if there is one. */
static void conf_locate(struct wc_config *c)
{
    const char *dir = c->kind == WC_STORE_DIR ? c->cache : c->local;

    if (dir && asprintf(&c->conf_path, "%s/" WC_CONF_NAME, dir) < 0)
        c->conf_path = NULL;
}

static void load_conf(struct wc_config *c)
{
    char *buf = NULL, *line, *next;
    size_t len;
    unsigned lineno = 0;
    int rc;

    conf_locate(c);
    if (!c->conf_path)
        return;
    rc = wc_read_file(c->conf_path, WC_CONF_MAX_LEN, &buf, &len);
    if (rc == -ENOENT || rc == -ENOTDIR)
        return;
    if (rc < 0) {
        set_conf_error(c, 0, rc == -EFBIG ? "the file is too large" : strerror(-rc));
        return;
    }
    if (memchr(buf, '\0', len) != NULL)
        set_conf_error(c, 0, "the file holds a NUL byte");
    /* Past a bad line too: the first error is the one told, the rest is for `wafcache -p`. */
    for (line = buf; line < buf + len; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : buf + len;
        if (nl)
            *nl = '\0';
        conf_line(c, ++lineno, line);
    }
    free(buf);
}

/* ---- loading ---- */

/* Where wafcache.conf is, unless the bad value is one that says where it is. */
static int conf_known(const struct wc_config *c)
{
    const char *bad = c->bad_setting >= 0 ? settings[c->bad_setting].name : "";

    if (c->cache == NULL || (c->error[0] != '\0' && c->bad_setting < 0))
        return 0;
    return strcmp(bad, "WAFCACHE") != 0 && strcmp(bad, "WAFCACHE_LOCAL") != 0;
}

int wc_config_load(struct wc_config *c, wc_getenv_fn get, void *ctx)
{
    if (get == NULL)
        get = env_get;
    set_defaults(c);
    /* Where the cache and its wafcache.conf are, first; then the file, then the environment
     * over it (a setting's parser frees what the file gave it). */
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].env_only)
            load_env_one(c, i, get, ctx);
    if (c->cache == NULL) {
        const char *why = NULL;
        c->kind = WC_STORE_DIR;
        c->cache = default_cache_dir(get, ctx, &why);
        if (c->cache == NULL)
            snprintf(c->error, sizeof(c->error), "%s",
                     why ? why
                         : "wafcache: out of memory reading the settings; cache disabled for "
                           "this build");
    }
    for (size_t i = 0; i < NSETTINGS; i++)
        if (!settings[i].env_only)
            load_env_one(c, i, get, ctx);
    if (conf_known(c))
        load_conf(c);
    if (c->error[0] == '\0')
        check_cache_dirs(c);
    if (c->error[0] != '\0') {
        c->disabled = 1;
        return -1;
    }
    return 0;
}

void wc_config_free(struct wc_config *c)
{
    char **strings[] = {&c->cache, &c->cmd,   &c->basedir,  &c->programs,
                        &c->log,   &c->local, &c->conf_path};

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
}

/* ---- writing wafcache.conf (wafcache -M, -F) ---- */

/* The setting a line of the file sets, or NULL (comment, blank, garbage). */
static const char *line_setting(const char *line, size_t len)
{
    char buf[256], *key, *value;

    if (len >= sizeof(buf))
        return NULL;
    memcpy(buf, line, len);
    buf[len] = '\0';
    key = trim_space(buf);
    if (*key == '#' || split_line(key, &key, &value) < 0)
        return NULL;
    return wc_conf_key(key);
}

/* The new text: old with the line(s) of name replaced by one "name = value". */
static int conf_rewrite(const char *old, size_t len, const char *name, const char *value,
                        char **out, size_t *out_len)
{
    size_t cap = len + strlen(name) + strlen(value) + 8, o = 0;
    char *text = malloc(cap);
    int done = 0;

    if (!text)
        return -ENOMEM;
    for (const char *p = old; p < old + len;) {
        const char *nl = memchr(p, '\n', (size_t)(old + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(old + len - p);
        const char *set = line_setting(p, n);
        if (set && strcmp(set, name) == 0) {
            if (!done)
                o += (size_t)sprintf(text + o, "%s = %s\n", name, value);
            done = 1;
        } else {
            memcpy(text + o, p, n);
            o += n;
            text[o++] = '\n';
        }
        p += n + (nl != NULL);
    }
    if (!done)
        o += (size_t)sprintf(text + o, "%s = %s\n", name, value);
    *out = text;
    *out_len = o;
    return 0;
}

int wc_conf_set(const char *path, const char *name, const char *value, unsigned mode)
{
    const char *canon = wc_conf_key(name);
    char *old = NULL, *text = NULL;
    size_t len = 0, text_len;
    int rc;

    if (!canon || strchr(value, '\n'))
        return -EINVAL;
    rc = wc_read_file(path, WC_CONF_MAX_LEN, &old, &len);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    rc = conf_rewrite(old ? old : "", len, canon, value, &text, &text_len);
    if (rc == 0)
        rc = wc_write_file_atomic(path, text, text_len, mode);
    free(old);
    free(text);
    return rc;
}
