/* Every setting of SPEC §3, parsed in one place.
 *
 * A table maps each variable to a parser and a printer. Parsers store a good value in the
 * config and return NULL, or return the phrase that ends the error line ("is not a size").
 * The first bad value becomes c->error and disables the cache; the other settings are still
 * parsed so that `wafcache -p` and the message stay accurate. */
#include "core/config.h"
#include "preload/programs.h"

#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
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
    size_t off; /* offsetof the field in struct wc_config */
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

static const char *parse_flag(struct wc_config *c, const struct setting *s, const char *v)
{
    /* The seed's rule: set and non-empty means on, whatever the value ("0" included). */
    (void)v;
    *(int *)field(c, s) = 1;
    return NULL;
}

static const char *parse_switch(struct wc_config *c, const struct setting *s, const char *v)
{
    /* Our own variables: also accept the usual spellings of "off". */
    static const char *const off[] = {"0", "no", "false", "off"};
    int on = 1;

    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        if (strcasecmp(v, off[i]) == 0)
            on = 0;
    *(int *)field(c, s) = on;
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

static const char *parse_abspath(struct wc_config *c, const struct setting *s, const char *v)
{
    if (v[0] != '/')
        return "is not an absolute path";
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

static const struct {
    const char *prefix;
    enum wc_store_kind kind;
} schemes[] = {
    {"http://", WC_STORE_HTTP}, {"https://", WC_STORE_HTTP},  {"s3://", WC_STORE_S3},
    {"gs://", WC_STORE_GS},     {"minio://", WC_STORE_MINIO},
};

static const char *parse_url(struct wc_config *c, const char *v)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t len = strlen(schemes[i].prefix);
        if (strncasecmp(v, schemes[i].prefix, len) != 0)
            continue;
        if (v[len] == '\0' || v[len] == '/')
            return "is not a URL: the host or bucket is missing";
        c->kind = schemes[i].kind;
        c->cache = strdup(v);
        return c->cache ? NULL : "could not be stored (out of memory)";
    }
    return "is not a supported URL (http://, https://, s3://, gs://, minio://)";
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
    snprintf(buf, n, "%s", c->cache ? c->cache : "");
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

    snprintf(buf, n, "%s", v ? v : "(unset)");
}

static void show_basedir(const struct wc_config *c, const struct setting *s, char *buf, size_t n)
{
    const char *v = *(char *const *)cfield(c, s);

    snprintf(buf, n, "%s", v ? v : "(unset: the root of the checkout holding the build)");
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

/* The order of SPEC §3: the seed's variables first, then ours. */
static const struct setting settings[] = {
    {"WAFCACHE", parse_store, show_store, offsetof(struct wc_config, cache)},
    {"WAFCACHE_CMD", parse_string, show_string, offsetof(struct wc_config, cmd)},
    {"WAFCACHE_NO_PUSH", parse_flag, show_flag, offsetof(struct wc_config, no_push)},
    {"WAFCACHE_VERBOSITY", parse_flag, show_flag, offsetof(struct wc_config, verbosity)},
    {"WAFCACHE_STATS", parse_flag, show_flag, offsetof(struct wc_config, stats)},
    {"WAFCACHE_TRIM_MAX_FOLDER", parse_count, show_count,
     offsetof(struct wc_config, trim_max_folder)},
    {"WAFCACHE_EVICT_MAX_BYTES", parse_size, show_count,
     offsetof(struct wc_config, evict_max_bytes)},
    {"WAFCACHE_EVICT_INTERVAL_MINUTES", parse_count, show_count,
     offsetof(struct wc_config, evict_interval_minutes)},
    {"WAFCACHE_ASYNC_WORKERS", parse_workers, show_workers,
     offsetof(struct wc_config, async_workers)},
    {"WAFCACHE_ASYNC_NOWAIT", parse_flag, show_flag, offsetof(struct wc_config, async_nowait)},
    {"WAFCACHE_BASEDIR", parse_string, show_basedir, offsetof(struct wc_config, basedir)},
    {"WAFCACHE_HARDLINK", parse_switch, show_flag, offsetof(struct wc_config, hardlink)},
    {"WAFCACHE_PROGRAMS", parse_string, show_programs, offsetof(struct wc_config, programs)},
    {"WAFCACHE_LOG", parse_string, show_string, offsetof(struct wc_config, log)},
    {"WAFCACHE_DISABLE", parse_switch, show_flag, offsetof(struct wc_config, disabled)},
    {"WAFCACHE_LOCAL", parse_abspath, show_string, offsetof(struct wc_config, local)},
    {"WAFCACHE_HTTP_METHOD", parse_method, show_method, offsetof(struct wc_config, http_put)},
    {"WAFCACHE_TIMEOUT", parse_timeout, show_timeout, offsetof(struct wc_config, timeout_ms)},
    {"WAFCACHE_HASHDIR", parse_switch, show_flag, offsetof(struct wc_config, hash_dir)},
    {"WAFCACHE_UMASK", parse_umask, show_umask, offsetof(struct wc_config, dir_mode)},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

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

/* ~/.cache/wafcache_$USER, or /tmp/wafcache_$USER when ~/.cache does not exist, as the seed.
 * HOME and USER come from the environment; the password database fills in what is missing. */
static char *default_cache_dir(wc_getenv_fn get, void *ctx)
{
    const char *home = get("HOME", ctx), *user = get("USER", ctx);
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096], uid[32], *cache = NULL, *out = NULL;
    size_t len;

    if (!home || !*home || !user || !*user || strchr(user, '/'))
        getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &pwp);
    if ((!home || !*home) && pwp)
        home = pwp->pw_dir;
    /* A name with '/' would put the cache somewhere else than the user asked. */
    if (!user || !*user || strchr(user, '/')) {
        snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
        user = pwp ? pwp->pw_name : uid;
    }
    if (home && *home) {
        len = strlen(home);
        while (len > 0 && home[len - 1] == '/')
            len--;
        if (asprintf(&cache, "%.*s/.cache", (int)len, home) < 0)
            return NULL;
    }
    if (cache && is_dir(cache)) {
        if (asprintf(&out, "%s/wafcache_%s", cache, user) < 0)
            out = NULL;
    } else if (asprintf(&out, "/tmp/wafcache_%s", user) < 0) {
        out = NULL;
    }
    free(cache);
    return out;
}

/* ---- loading ---- */

/* Quote a value for the one-line message: escape quotes, backslashes and control bytes so
 * the line stays one line, and cut very long values. */
static void quote_value(const char *v, char *buf, size_t n)
{
    size_t o = 0;

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

static void set_error(struct wc_config *c, const char *name, const char *value, const char *what)
{
    char quoted[200];

    quote_value(value, quoted, sizeof(quoted));
    snprintf(c->error, sizeof(c->error), "wafcache: %s=\"%s\" %s; cache disabled for this build",
             name, quoted, what);
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
}

int wc_config_load(struct wc_config *c, wc_getenv_fn get, void *ctx)
{
    if (get == NULL)
        get = env_get;
    set_defaults(c);
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = get(settings[i].name, ctx);
        const char *what;
        /* Empty is unset: `WAFCACHE= make` must not mean "the current directory". */
        if (v == NULL || *v == '\0')
            continue;
        what = settings[i].parse(c, &settings[i], v);
        if (what != NULL && c->error[0] == '\0')
            set_error(c, settings[i].name, v, what);
    }
    if (c->cache == NULL) {
        c->kind = WC_STORE_DIR;
        c->cache = default_cache_dir(get, ctx);
        if (c->cache == NULL && c->error[0] == '\0')
            snprintf(c->error, sizeof(c->error),
                     "wafcache: out of memory reading the settings; cache disabled for this build");
    }
    if (c->error[0] != '\0') {
        c->disabled = 1;
        return -1;
    }
    return 0;
}

void wc_config_free(struct wc_config *c)
{
    char **strings[] = {&c->cache, &c->cmd, &c->basedir, &c->programs, &c->log, &c->local};

    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
}
