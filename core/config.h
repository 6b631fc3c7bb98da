/* Every setting of SPEC §3, parsed in one place. */
#ifndef WC_CONFIG_H
#define WC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Which store WAFCACHE names: a directory, or one of core/backends.def's (WC_STORE_HTTP for
 * http:// and https://, WC_STORE_S3, WC_STORE_GS and WC_STORE_MINIO for the bucket commands). */
enum wc_store_kind {
    WC_STORE_DIR, /* an absolute directory (the default) */
#define WC_BACKEND(kind, scheme, alias, constructor, where, cmd) WC_STORE_##kind,
#include "core/backends.def"
#undef WC_BACKEND
};

/* Where a setting's value came from. One resolution order: the environment (a variable set to
 * a non-empty value), else <cache>/wafcache.conf, else the default. */
enum wc_config_source { WC_SOURCE_DEFAULT, WC_SOURCE_ENV, WC_SOURCE_CONF };

#define WC_CONFIG_MAX_SETTINGS 32
#define WC_CONF_NAME "wafcache.conf"
#define WC_CONF_MAX_LEN (64u << 10)

struct wc_config {
    int disabled;             /* WAFCACHE_DISABLE set, or a bad value seen */
    char *cache;              /* WAFCACHE, or the default directory */
    enum wc_store_kind kind;  /* from the scheme of cache */
    char *cmd;                /* WAFCACHE_CMD or NULL */
    int no_push;              /* WAFCACHE_NO_PUSH */
    int verbosity;            /* WAFCACHE_VERBOSITY */
    int stats;                /* WAFCACHE_STATS */
    uint64_t trim_max_folder; /* WAFCACHE_TRIM_MAX_FOLDER, default 1000000; 0 = no limit */
    uint64_t evict_max_bytes; /* WAFCACHE_EVICT_MAX_BYTES, default 10G (10G, 500M); 0 = no limit */
    uint64_t evict_interval_minutes; /* WAFCACHE_EVICT_INTERVAL_MINUTES, default 3 */
    unsigned async_workers;          /* WAFCACHE_ASYNC_WORKERS, 0 = synchronous */
    int async_nowait;                /* WAFCACHE_ASYNC_NOWAIT */
    char *basedir;       /* WAFCACHE_BASEDIR (colon list) or NULL: computed by the caller */
    int hardlink;        /* WAFCACHE_HARDLINK */
    char *programs;      /* WAFCACHE_PROGRAMS (comma or colon list) or NULL: defaults */
    char *log;           /* WAFCACHE_LOG or NULL */
    char *local;         /* WAFCACHE_LOCAL or NULL */
    int http_put;        /* WAFCACHE_HTTP_METHOD=put (default post) */
    unsigned timeout_ms; /* WAFCACHE_TIMEOUT in seconds (may be fractional), default 5 s */
    int hash_dir;        /* WAFCACHE_HASHDIR, default 1: -g keeps the cwd in the key */
    unsigned dir_mode;   /* WAFCACHE_UMASK applied to 0777 for directories, default 0700 */
    int explain;         /* WAFCACHE_EXPLAIN: say on stderr why each miss missed */
    char *conf_path;     /* the wafcache.conf consulted (it may not exist), or NULL */
    int conf_error;      /* error comes from wafcache.conf (the environment was fine) */
    unsigned char source[WC_CONFIG_MAX_SETTINGS]; /* enum wc_config_source, per setting */
    char error[512];                              /* the one-line message when a value is bad */
    /* For `wafcache -p`: the setting error is about (-1: a line of wafcache.conf that sets
     * none), its value as given (quoted for one line) and what is wrong with it. */
    int bad_setting;
    char bad_value[200], bad_what[256];
    unsigned char bad[WC_CONFIG_MAX_SETTINGS]; /* 1 for every setting with a bad value */
};

/* Look up a variable: getenv-like, so tests can feed their own environment. */
typedef const char *(*wc_getenv_fn)(const char *name, void *ctx);

/* Fill c from the environment and the cache's wafcache.conf (environment > wafcache.conf >
 * default). The file lives in the local cache directory: WAFCACHE when it is a directory,
 * else WAFCACHE_LOCAL; a remote store without WAFCACHE_LOCAL has none. It holds
 * "NAME = value" lines (blank lines and "#" comments allowed), NAME a variable of the table
 * (or the ccache-style aliases max_size and max_files), except those that say where the file
 * is or that libwafcache.so itself reads (WAFCACHE, WAFCACHE_LOCAL, WAFCACHE_PROGRAMS,
 * WAFCACHE_STATS). A line that is not that, or a bad value, is an error like a bad variable:
 *   wafcache: /c/wafcache.conf:3: expected "NAME = value"; cache disabled for this build
 * Returns 0, or -1 with c->error set to one line such as
 *   wafcache: WAFCACHE_EVICT_MAX_BYTES="10G+" is not a size; cache disabled for this build
 * and c->disabled set; the settings after the bad one are still read, so that `wafcache -p`
 * shows them all. get may be NULL for getenv(). c need not be initialised; call
 * wc_config_free afterwards in both cases. A variable set to "" counts as unset. */
int wc_config_load(struct wc_config *c, wc_getenv_fn get, void *ctx);
void wc_config_free(struct wc_config *c);

/* For `wafcache -p`: setting number i (0, 1, ...) of a loaded c, as its variable name and its
 * value written as text into value (n bytes). Returns 0, or -1 when i is past the last setting.
 * A variable set to the empty string counts as unset, here as in wc_config_load. */
int wc_config_setting(const struct wc_config *c, unsigned i, const char **name, char *value,
                      size_t n);

/* 1 when key is a variable that comes from the environment only (WAFCACHE, WAFCACHE_LOCAL,
 * WAFCACHE_PROGRAMS, WAFCACHE_STATS, WAFCACHE_HTTP_TOKEN, WAFCACHE_LIBDIR): wafcache.conf
 * refuses it, saying so. */
int wc_conf_env_only(const char *key);

/* The number of setting key (a variable name, or an alias such as max_size) for
 * wc_config_setting, or -1 when there is none. */
int wc_config_index(const char *key);

/* NULL when value is a good value of setting name (a variable name, as wc_config_setting
 * gives it), else what is wrong with it ("is not a size"), as a bad variable is told. */
const char *wc_config_check(const char *name, const char *value);

/* "environment", "wafcache.conf" or "default": where setting i of c came from. */
const char *wc_config_source_name(const struct wc_config *c, unsigned i);

/* The canonical variable name for a wafcache.conf key (a variable name, or an alias such as
 * max_size), or NULL when the key is unknown or not allowed in the file. */
const char *wc_conf_key(const char *key);

/* value as the canonical setting of key reads it: under ccache's max_size (and -M) a bare
 * number is gigabytes, so "5" comes back as "5G" (in buf, n bytes); any other key or value
 * comes back as it is. Under WAFCACHE_EVICT_MAX_BYTES, the original tool's variable, a bare
 * number stays bytes, as its name says. */
const char *wc_conf_value(const char *key, const char *value, char *buf, size_t n);

/* Set name (a wafcache.conf key) to value in the file at path: the first line for that
 * setting (under any of its names) is replaced and later ones dropped, or a line is appended;
 * every other line stays as it was. The file is replaced atomically, with mode. 0 or -errno. */
int wc_conf_set(const char *path, const char *name, const char *value, unsigned mode);

/* "10G", "500M", "1.5G", "64Ki", "123" (bytes). Decimal suffixes k/K M G T, binary Ki Mi Gi Ti.
 * Returns 0 or -1. The one parser of every size limit (-M, max_size, WAFCACHE_EVICT_MAX_BYTES);
 * as for every limit (-F, max_files, WAFCACHE_TRIM_MAX_FOLDER), 0 means no limit. */
int wc_parse_size(const char *s, uint64_t *out);

/* v with the credentials of a URL's userinfo masked by three stars: the password of
 * "http://user:pw@host/", or the whole userinfo when it has no colon ("https://token@host/");
 * anything else is copied. Used by every message and by `wafcache -p`, so that secrets never
 * reach a log. */
void wc_redact_url(const char *v, char *buf, size_t n);

/* The one rule for every on/off setting (WAFCACHE_DISABLE, _NO_PUSH, _VERBOSITY, _STATS,
 * _ASYNC_NOWAIT, _HARDLINK, _HASHDIR, _EXPLAIN), wherever it is read: unset or empty is off;
 * "0", "no", "false" or "off" in any case is off; anything else is on. Safe in
 * libwafcache.so (no allocation, no lock). */
int wc_switch_on(const char *value);

/* A non-negative integer without suffix. Returns 0 or -1. */
int wc_parse_uint(const char *s, uint64_t *out);

#endif
