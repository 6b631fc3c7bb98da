/* core/config.c: every variable of SPEC §3, good and bad values, defaults, the error line. */
#include "core/config.h"
#include "core/util.h"
#include "core/programs.h"

#include <check.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fake environment: NULL-terminated pairs name, value. */
struct fake_env {
    const char *const *pairs;
};

static const char *fake_get(const char *name, void *ctx)
{
    const struct fake_env *env = ctx;

    for (size_t i = 0; env->pairs[i]; i += 2)
        if (strcmp(env->pairs[i], name) == 0)
            return env->pairs[i + 1];
    return NULL;
}

/* Load with the given pairs (HOME and USER included when the test wants them). */
static int load(struct wc_config *c, const char *const *pairs)
{
    struct fake_env env = {pairs};

    return wc_config_load(c, fake_get, &env);
}

/* Load a single variable on top of an absolute WAFCACHE, so the default directory and the
 * real HOME do not matter. Returns wc_config_load's result. */
static int load1(struct wc_config *c, const char *name, const char *value)
{
    /* First match wins in fake_get: name first, so load1("WAFCACHE", ...) tests it. */
    const char *pairs[] = {name, value, "WAFCACHE", "/var/cache/wc", NULL};

    return load(c, pairs);
}

/* Expect name=value to be refused with exactly this message. */
static void expect_bad(const char *name, const char *value, const char *line)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, name, value), -1);
    ck_assert_int_eq(c.disabled, 1);
    if (line)
        ck_assert_str_eq(c.error, line);
    else
        ck_assert_msg(strstr(c.error, name) != NULL, "error names the variable: %s", c.error);
    ck_assert_ptr_null(strchr(c.error, '\n'));
    wc_config_free(&c);
}

static char tmp_home[PATH_MAX];

static void make_home(void)
{
    snprintf(tmp_home, sizeof(tmp_home), "/tmp/wc_test_config.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_home));
}

static void remove_home(void)
{
    wc_rm_rf(tmp_home);
}

/* "<tmp_home>/<rel>" into buf. */
static const char *in_home(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", tmp_home, rel);
    return buf;
}

/* ---- defaults ---- */

START_TEST(defaults)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, "UNRELATED", "x"), 0);
    ck_assert_int_eq(c.disabled, 0);
    ck_assert_str_eq(c.cache, "/var/cache/wc");
    ck_assert_int_eq(c.kind, WC_STORE_DIR);
    ck_assert_ptr_null(c.cmd);
    ck_assert_int_eq(c.no_push, 0);
    ck_assert_int_eq(c.verbosity, 0);
    ck_assert_int_eq(c.stats, 0);
    ck_assert_uint_eq(c.trim_max_folder, 1000000);
    ck_assert_uint_eq(c.evict_max_bytes, 10000000000ULL);
    ck_assert_uint_eq(c.evict_interval_minutes, 3);
    ck_assert_uint_eq(c.async_workers, 0);
    ck_assert_int_eq(c.async_nowait, 0);
    ck_assert_ptr_null(c.basedir);
    ck_assert_int_eq(c.hardlink, 0);
    ck_assert_ptr_null(c.programs);
    ck_assert_ptr_null(c.log);
    ck_assert_ptr_null(c.local);
    ck_assert_int_eq(c.http_put, 0);
    ck_assert_uint_eq(c.timeout_ms, 5000);
    ck_assert_int_eq(c.hash_dir, 1);
    ck_assert_uint_eq(c.dir_mode, 0700);
    ck_assert_str_eq(c.error, "");
    wc_config_free(&c);
}
END_TEST

/* ~/.cache/wafcache, created later with ~/.cache (as ccache), never /tmp. */
START_TEST(default_dir_in_home)
{
    struct wc_config c;
    char want[PATH_MAX + 64];

    make_home();
    const char *pairs[] = {"HOME", tmp_home, "USER", "alice", NULL};
    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_str_eq(c.cache, in_home(want, sizeof(want), ".cache/wafcache"));
    ck_assert_int_eq(c.kind, WC_STORE_DIR);
    wc_config_free(&c);
    remove_home();
}
END_TEST

START_TEST(default_dir_xdg)
{
    struct wc_config c;
    char want[PATH_MAX + 64];

    make_home();
    const char *pairs[] = {"HOME", "/nonexistent", "XDG_CACHE_HOME", tmp_home, NULL};
    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_str_eq(c.cache, in_home(want, sizeof(want), "wafcache"));
    wc_config_free(&c);
    /* A relative XDG_CACHE_HOME is ignored, as the XDG spec says. */
    const char *rel[] = {"HOME", tmp_home, "XDG_CACHE_HOME", "rel", NULL};
    ck_assert_int_eq(load(&c, rel), 0);
    ck_assert_str_eq(c.cache, in_home(want, sizeof(want), ".cache/wafcache"));
    wc_config_free(&c);
    remove_home();
}
END_TEST

START_TEST(default_dir_home_trailing_slash)
{
    struct wc_config c;
    char home[PATH_MAX + 2], want[PATH_MAX + 64];

    make_home();
    snprintf(home, sizeof(home), "%s/", tmp_home);
    const char *pairs[] = {"HOME", home, "USER", "carol", NULL};
    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_str_eq(c.cache, in_home(want, sizeof(want), ".cache/wafcache"));
    wc_config_free(&c);
    remove_home();
}
END_TEST

/* A cache under the older default names is still found, so no user loses it on upgrade. */
START_TEST(legacy_dirs_still_used)
{
    struct wc_config c;
    char want[PATH_MAX + 64], user[64], tmpdir[128];

    make_home();
    ck_assert_int_eq(wc_mkdir_p(in_home(want, sizeof(want), ".cache/wafcache_alice"), 0700), 0);
    const char *pairs[] = {"HOME", tmp_home, "USER", "alice", NULL};
    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_str_eq(c.cache, want);
    wc_config_free(&c);
    /* /tmp/wafcache_$USER only when it is ours and nobody else may write it. */
    snprintf(user, sizeof(user), "wctest%ld", (long)getpid());
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/wafcache_%s", user);
    ck_assert_int_eq(mkdir(tmpdir, 0700), 0);
    const char *tmp_pairs[] = {"HOME", tmp_home, "USER", user, NULL};
    ck_assert_int_eq(load(&c, tmp_pairs), 0);
    ck_assert_str_eq(c.cache, tmpdir);
    wc_config_free(&c);
    ck_assert_int_eq(chmod(tmpdir, 0777), 0);
    ck_assert_int_eq(load(&c, tmp_pairs), 0);
    ck_assert_str_eq(c.cache, in_home(want, sizeof(want), ".cache/wafcache"));
    wc_config_free(&c);
    rmdir(tmpdir);
    remove_home();
}
END_TEST

/* Without USER, the older names take the user's name from the password file, read directly
 * (the static runner has no NSS): the same name getpwuid gives. */
START_TEST(legacy_dir_user_from_passwd)
{
    struct wc_config c;
    char want[PATH_MAX + 64], rel[48];
    struct passwd *pw = getpwuid(getuid());

    if (!pw || !pw->pw_name[0] || strlen(pw->pw_name) > 24)
        return; /* not in the password database: nothing to compare with */
    make_home();
    snprintf(rel, sizeof(rel), ".cache/wafcache_%s", pw->pw_name);
    ck_assert_int_eq(wc_mkdir_p(in_home(want, sizeof(want), rel), 0700), 0);
    const char *pairs[] = {"HOME", tmp_home, NULL};
    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_str_eq(c.cache, want);
    wc_config_free(&c);
    remove_home();
}
END_TEST

/* No usable home: the cache is off, with one line saying why -- never a place in /tmp. */
START_TEST(no_home_no_cache)
{
    struct wc_config c;
    const char *pairs[] = {"HOME", "relative", "USER", "x", NULL};

    ck_assert_int_eq(load(&c, pairs), -1);
    ck_assert_int_eq(c.disabled, 1);
    ck_assert_ptr_nonnull(strstr(c.error, "no home directory"));
    ck_assert_ptr_null(strchr(c.error, '\n'));
    wc_config_free(&c);
}
END_TEST

static int load_cache(struct wc_config *c, const char *dir, const char *umask_value)
{
    const char *pairs[] = {"WAFCACHE", dir, "WAFCACHE_UMASK", umask_value, NULL};
    if (!umask_value)
        pairs[2] = NULL;
    return load(c, pairs);
}

/* A cache directory others could write is refused with one line, whoever chose it. */
START_TEST(untrusted_cache_refused)
{
    struct wc_config c;
    char dir[PATH_MAX + 64], shard[PATH_MAX + 64];

    make_home();
    in_home(dir, sizeof(dir), "cache");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(load_cache(&c, dir, NULL), 0);
    wc_config_free(&c);
    ck_assert_int_eq(chmod(dir, 0777), 0);
    ck_assert_int_eq(load_cache(&c, dir, NULL), -1);
    ck_assert_ptr_nonnull(strstr(c.error, "is writable by other users"));
    ck_assert_ptr_nonnull(strstr(c.error, dir));
    ck_assert_ptr_null(strchr(c.error, '\n'));
    wc_config_free(&c);
    /* The sticky bit, or a group share that WAFCACHE_UMASK says is meant, is fine. */
    ck_assert_int_eq(chmod(dir, 01777), 0);
    ck_assert_int_eq(load_cache(&c, dir, NULL), 0);
    wc_config_free(&c);
    ck_assert_int_eq(chmod(dir, 0770), 0);
    ck_assert_int_eq(load_cache(&c, dir, NULL), -1);
    ck_assert_ptr_nonnull(strstr(c.error, "is writable by its group"));
    wc_config_free(&c);
    ck_assert_int_eq(load_cache(&c, dir, "007"), 0);
    wc_config_free(&c);
    /* A link planted among the statistics shards of a cache shared with everyone. */
    ck_assert_int_eq(chmod(dir, 0700), 0);
    ck_assert_int_eq(mkdir(in_home(shard, sizeof(shard), "cache/stats"), 0700), 0);
    ck_assert_int_eq(chmod(shard, 0777), 0);
    ck_assert_int_eq(symlink("/etc/passwd", in_home(shard, sizeof(shard), "cache/stats/3")), 0);
    ck_assert_int_eq(load_cache(&c, dir, "000"), -1);
    ck_assert_ptr_nonnull(strstr(c.error, "stats/3 is a symbolic link"));
    wc_config_free(&c);
    /* In a stats directory nobody else may write, nobody else planted it: the shards are not
     * looked at one by one (they are opened O_NOFOLLOW all the same). */
    ck_assert_int_eq(chmod(in_home(shard, sizeof(shard), "cache/stats"), 0700), 0);
    ck_assert_int_eq(load_cache(&c, dir, NULL), 0);
    wc_config_free(&c);
    in_home(shard, sizeof(shard), "cache/stats/3");
    /* Another user's (root excepted). */
    unlink(shard);
    if (getuid() == 0) {
        ck_assert_int_eq(chown(dir, 65534, 65534), 0);
        ck_assert_int_eq(load_cache(&c, dir, NULL), -1);
        ck_assert_ptr_nonnull(strstr(c.error, "is owned by another user"));
        wc_config_free(&c);
    }
    remove_home();
}
END_TEST

START_TEST(empty_is_unset)
{
    struct wc_config c;
    char want[PATH_MAX + 64];

    make_home();
    const char *pairs[] = {"HOME",
                           tmp_home,
                           "USER",
                           "dan",
                           "WAFCACHE",
                           "",
                           "WAFCACHE_NO_PUSH",
                           "",
                           "WAFCACHE_EVICT_MAX_BYTES",
                           "",
                           NULL};
    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_str_eq(c.cache, in_home(want, sizeof(want), ".cache/wafcache"));
    ck_assert_int_eq(c.no_push, 0);
    ck_assert_uint_eq(c.evict_max_bytes, 10000000000ULL);
    wc_config_free(&c);
    remove_home();
}
END_TEST

/* ---- WAFCACHE and its kinds ---- */

static void expect_store(const char *value, enum wc_store_kind kind, const char *kept)
{
    struct wc_config c;
    const char *pairs[] = {"WAFCACHE", value, NULL};

    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_int_eq(c.kind, kind);
    ck_assert_str_eq(c.cache, kept);
    wc_config_free(&c);
}

START_TEST(store_kinds)
{
    expect_store("/srv/cache", WC_STORE_DIR, "/srv/cache");
    expect_store("/srv/cache//", WC_STORE_DIR, "/srv/cache");
    expect_store("/", WC_STORE_DIR, "/");
    expect_store("http://localhost:8080/files/", WC_STORE_HTTP, "http://localhost:8080/files/");
    expect_store("https://cache.example/x", WC_STORE_HTTP, "https://cache.example/x");
    expect_store("s3://bucket/prefix/", WC_STORE_S3, "s3://bucket/prefix/");
    expect_store("gs://bucket/prefix/", WC_STORE_GS, "gs://bucket/prefix/");
    expect_store("minio://alias/bucket/", WC_STORE_MINIO, "minio://alias/bucket/");
}
END_TEST

START_TEST(store_bad)
{
    expect_bad("WAFCACHE", "relative/path",
               "wafcache: WAFCACHE=\"relative/path\" is not an absolute directory or a URL; "
               "cache disabled for this build");
    expect_bad("WAFCACHE", "ftp://host/x",
               "wafcache: WAFCACHE=\"ftp://host/x\" is not a supported URL (http://, https://, "
               "s3://, gs://, minio://); cache disabled for this build");
    expect_bad("WAFCACHE", "s3://", NULL);
    expect_bad("WAFCACHE", "http:///path", NULL);
    expect_bad("WAFCACHE", "~/cache", NULL);
}
END_TEST

START_TEST(bad_store_keeps_a_default_dir)
{
    struct wc_config c;
    char want[PATH_MAX + 64];

    make_home();
    const char *pairs[] = {"HOME", tmp_home, "USER", "eve", "WAFCACHE", "rel", NULL};
    ck_assert_int_eq(load(&c, pairs), -1);
    ck_assert_int_eq(c.disabled, 1);
    ck_assert_int_eq(c.kind, WC_STORE_DIR);
    ck_assert_str_eq(c.cache, in_home(want, sizeof(want), ".cache/wafcache"));
    wc_config_free(&c);
    remove_home();
}
END_TEST

/* ---- booleans ---- */

static int flag_of(const char *name, const char *value, int (*pick)(const struct wc_config *))
{
    struct wc_config c;
    int v;

    ck_assert_int_eq(load1(&c, name, value), 0);
    v = pick(&c);
    wc_config_free(&c);
    return v;
}

static int pick_no_push(const struct wc_config *c)
{
    return c->no_push;
}
static int pick_verbosity(const struct wc_config *c)
{
    return c->verbosity;
}
static int pick_stats(const struct wc_config *c)
{
    return c->stats;
}
static int pick_nowait(const struct wc_config *c)
{
    return c->async_nowait;
}
static int pick_hardlink(const struct wc_config *c)
{
    return c->hardlink;
}
static int pick_disabled(const struct wc_config *c)
{
    return c->disabled;
}
static int pick_hash_dir(const struct wc_config *c)
{
    return c->hash_dir;
}

static int pick_explain(const struct wc_config *c)
{
    return c->explain;
}

/* Every on/off variable, with its value when unset. */
static const struct {
    const char *name;
    int (*pick)(const struct wc_config *);
    int unset;
} switches[] = {
    {"WAFCACHE_DISABLE", pick_disabled, 0},    {"WAFCACHE_NO_PUSH", pick_no_push, 0},
    {"WAFCACHE_VERBOSITY", pick_verbosity, 0}, {"WAFCACHE_STATS", pick_stats, 0},
    {"WAFCACHE_ASYNC_NOWAIT", pick_nowait, 0}, {"WAFCACHE_HARDLINK", pick_hardlink, 0},
    {"WAFCACHE_HASHDIR", pick_hash_dir, 1},    {"WAFCACHE_EXPLAIN", pick_explain, 0},
};

START_TEST(one_switch_rule)
{
    /* One rule for every switch: WAFCACHE_NO_PUSH=0 is off like WAFCACHE_DISABLE=0. */
    const char *off[] = {"0", "no", "off"}, *on[] = {"1", "yes"};

    for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++) {
        for (size_t k = 0; k < sizeof(off) / sizeof(off[0]); k++)
            ck_assert_msg(flag_of(switches[i].name, off[k], switches[i].pick) == 0, "%s=%s",
                          switches[i].name, off[k]);
        for (size_t k = 0; k < sizeof(on) / sizeof(on[0]); k++)
            ck_assert_msg(flag_of(switches[i].name, on[k], switches[i].pick) == 1, "%s=%s",
                          switches[i].name, on[k]);
        /* Empty is unset: the default. */
        ck_assert_msg(flag_of(switches[i].name, "", switches[i].pick) == switches[i].unset,
                      "%s=", switches[i].name);
    }
}
END_TEST

START_TEST(switch_on_rule)
{
    ck_assert_int_eq(wc_switch_on(NULL), 0);
    ck_assert_int_eq(wc_switch_on(""), 0);
    ck_assert_int_eq(wc_switch_on("0"), 0);
    ck_assert_int_eq(wc_switch_on("No"), 0);
    ck_assert_int_eq(wc_switch_on("FALSE"), 0);
    ck_assert_int_eq(wc_switch_on("off"), 0);
    ck_assert_int_eq(wc_switch_on("1"), 1);
    ck_assert_int_eq(wc_switch_on("yes"), 1);
    ck_assert_int_eq(wc_switch_on("00"), 1);
    ck_assert_int_eq(wc_switch_on("anything"), 1);
}
END_TEST

START_TEST(our_switches)
{
    const char *off[] = {"0", "no", "false", "off", "NO", "False", "OFF"};
    const char *on[] = {"1", "yes", "true", "on", "x"};

    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        ck_assert_int_eq(flag_of("WAFCACHE_HARDLINK", off[i], pick_hardlink), 0);
        ck_assert_int_eq(flag_of("WAFCACHE_DISABLE", off[i], pick_disabled), 0);
        ck_assert_int_eq(flag_of("WAFCACHE_HASHDIR", off[i], pick_hash_dir), 0);
    }
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        ck_assert_int_eq(flag_of("WAFCACHE_HARDLINK", on[i], pick_hardlink), 1);
        ck_assert_int_eq(flag_of("WAFCACHE_DISABLE", on[i], pick_disabled), 1);
        ck_assert_int_eq(flag_of("WAFCACHE_HASHDIR", on[i], pick_hash_dir), 1);
    }
}
END_TEST

/* ---- sizes and counts ---- */

static uint64_t size_of(const char *s)
{
    uint64_t v = 0;

    ck_assert_msg(wc_parse_size(s, &v) == 0, "size %s refused", s);
    return v;
}

START_TEST(sizes_good)
{
    ck_assert_uint_eq(size_of("10G"), 10000000000ULL);
    ck_assert_uint_eq(size_of("500M"), 500000000ULL);
    ck_assert_uint_eq(size_of("1.5G"), 1500000000ULL);
    ck_assert_uint_eq(size_of("64Ki"), 65536);
    ck_assert_uint_eq(size_of("64KiB"), 65536);
    ck_assert_uint_eq(size_of("1.5Ki"), 1536);
    ck_assert_uint_eq(size_of("2Mi"), 2ULL << 20);
    ck_assert_uint_eq(size_of("3Gi"), 3ULL << 30);
    ck_assert_uint_eq(size_of("1Ti"), 1ULL << 40);
    ck_assert_uint_eq(size_of("2T"), 2000000000000ULL);
    ck_assert_uint_eq(size_of("7k"), 7000);
    ck_assert_uint_eq(size_of("7K"), 7000);
    ck_assert_uint_eq(size_of("10GB"), 10000000000ULL);
    ck_assert_uint_eq(size_of(".5M"), 500000);
    ck_assert_uint_eq(size_of("123"), 123);
    ck_assert_uint_eq(size_of("0"), 0);
    ck_assert_uint_eq(size_of("18446744073709551615"), UINT64_MAX);
}
END_TEST

START_TEST(sizes_bad)
{
    const char *bad[] = {"",
                         "G",
                         "10G+",
                         "-1",
                         "1.5",
                         "10X",
                         "10 G",
                         " 10G",
                         "1e9",
                         "10Gi+",
                         "1..5G",
                         "0x10",
                         "18446744073709551616",
                         "99999999999999999999G",
                         "18446744073709551615K",
                         "17179870Ti"};
    uint64_t v;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(wc_parse_size(bad[i], &v) == -1, "size '%s' accepted", bad[i]);
}
END_TEST

START_TEST(evict_max_bytes)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, "WAFCACHE_EVICT_MAX_BYTES", "500M"), 0);
    ck_assert_uint_eq(c.evict_max_bytes, 500000000ULL);
    wc_config_free(&c);
    expect_bad("WAFCACHE_EVICT_MAX_BYTES", "10G+",
               "wafcache: WAFCACHE_EVICT_MAX_BYTES=\"10G+\" is not a size; "
               "cache disabled for this build");
    expect_bad("WAFCACHE_EVICT_MAX_BYTES", "99999999999999999999G",
               "wafcache: WAFCACHE_EVICT_MAX_BYTES=\"99999999999999999999G\" is not a size; "
               "cache disabled for this build");
}
END_TEST

START_TEST(uints)
{
    uint64_t v;

    ck_assert_int_eq(wc_parse_uint("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(wc_parse_uint("1000000", &v), 0);
    ck_assert_uint_eq(v, 1000000);
    ck_assert_int_eq(wc_parse_uint("18446744073709551615", &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(wc_parse_uint("18446744073709551616", &v), -1);
    ck_assert_int_eq(wc_parse_uint("", &v), -1);
    ck_assert_int_eq(wc_parse_uint("-1", &v), -1);
    ck_assert_int_eq(wc_parse_uint("+1", &v), -1);
    ck_assert_int_eq(wc_parse_uint("1k", &v), -1);
    ck_assert_int_eq(wc_parse_uint("1.0", &v), -1);
    ck_assert_int_eq(wc_parse_uint(" 1", &v), -1);
}
END_TEST

START_TEST(counts)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, "WAFCACHE_TRIM_MAX_FOLDER", "42"), 0);
    ck_assert_uint_eq(c.trim_max_folder, 42);
    wc_config_free(&c);
    ck_assert_int_eq(load1(&c, "WAFCACHE_EVICT_INTERVAL_MINUTES", "0"), 0);
    ck_assert_uint_eq(c.evict_interval_minutes, 0);
    wc_config_free(&c);
    ck_assert_int_eq(load1(&c, "WAFCACHE_ASYNC_WORKERS", "8"), 0);
    ck_assert_uint_eq(c.async_workers, 8);
    wc_config_free(&c);

    expect_bad("WAFCACHE_TRIM_MAX_FOLDER", "1M",
               "wafcache: WAFCACHE_TRIM_MAX_FOLDER=\"1M\" is not a non-negative integer; "
               "cache disabled for this build");
    expect_bad("WAFCACHE_EVICT_INTERVAL_MINUTES", "-3", NULL);
    expect_bad("WAFCACHE_ASYNC_WORKERS", "four", NULL);
    /* Fits in 64 bits but not in the unsigned field. */
    expect_bad("WAFCACHE_ASYNC_WORKERS", "4294967296", NULL);
}
END_TEST

/* ---- timeout, method, umask ---- */

static unsigned timeout_of(const char *v)
{
    struct wc_config c;
    unsigned ms;

    ck_assert_msg(load1(&c, "WAFCACHE_TIMEOUT", v) == 0, "timeout %s refused", v);
    ms = c.timeout_ms;
    wc_config_free(&c);
    return ms;
}

START_TEST(timeout)
{
    ck_assert_uint_eq(timeout_of("2"), 2000);
    ck_assert_uint_eq(timeout_of("0.5"), 500);
    ck_assert_uint_eq(timeout_of("1.25"), 1250);
    /* Rounded up: a positive timeout never becomes 0 ("no timeout" for libcurl). */
    ck_assert_uint_eq(timeout_of("0.0001"), 1);
    ck_assert_uint_eq(timeout_of("0.00000000001"), 1);
    expect_bad("WAFCACHE_TIMEOUT", "0",
               "wafcache: WAFCACHE_TIMEOUT=\"0\" is not a number of seconds greater than 0; "
               "cache disabled for this build");
    expect_bad("WAFCACHE_TIMEOUT", "0.0", NULL);
    expect_bad("WAFCACHE_TIMEOUT", "-1", NULL);
    expect_bad("WAFCACHE_TIMEOUT", "5s", NULL);
    expect_bad("WAFCACHE_TIMEOUT", "nan", NULL);
    expect_bad("WAFCACHE_TIMEOUT", "99999999999", NULL);
}
END_TEST

/* WAFCACHE_BASEDIR: absolute entries other than "/"; $HOME is one (issue 15). */
START_TEST(basedir_setting)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, "WAFCACHE_BASEDIR", "/ws:/home/u::/a/b/"), 0);
    ck_assert_str_eq(c.basedir, "/ws:/home/u::/a/b/");
    wc_config_free(&c);
    expect_bad("WAFCACHE_BASEDIR", "relative/dir",
               "wafcache: WAFCACHE_BASEDIR=\"relative/dir\" has an entry that is not an absolute "
               "path; cache disabled for this build");
    expect_bad("WAFCACHE_BASEDIR", "/ok:rel", NULL);
    expect_bad("WAFCACHE_BASEDIR", "/", NULL);
    expect_bad("WAFCACHE_BASEDIR", "/ok://", NULL);
    expect_bad("WAFCACHE_BASEDIR", "/a/../.", NULL);
}
END_TEST

START_TEST(http_method)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, "WAFCACHE_HTTP_METHOD", "PUT"), 0);
    ck_assert_int_eq(c.http_put, 1);
    wc_config_free(&c);
    ck_assert_int_eq(load1(&c, "WAFCACHE_HTTP_METHOD", "put"), 0);
    ck_assert_int_eq(c.http_put, 1);
    wc_config_free(&c);
    ck_assert_int_eq(load1(&c, "WAFCACHE_HTTP_METHOD", "Post"), 0);
    ck_assert_int_eq(c.http_put, 0);
    wc_config_free(&c);
    expect_bad("WAFCACHE_HTTP_METHOD", "get",
               "wafcache: WAFCACHE_HTTP_METHOD=\"get\" is not post or put; "
               "cache disabled for this build");
}
END_TEST

START_TEST(umask_setting)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, "WAFCACHE_UMASK", "022"), 0);
    ck_assert_uint_eq(c.dir_mode, 0755);
    wc_config_free(&c);
    ck_assert_int_eq(load1(&c, "WAFCACHE_UMASK", "0002"), 0);
    ck_assert_uint_eq(c.dir_mode, 0775);
    wc_config_free(&c);
    ck_assert_int_eq(load1(&c, "WAFCACHE_UMASK", "0"), 0);
    ck_assert_uint_eq(c.dir_mode, 0777);
    wc_config_free(&c);
    expect_bad("WAFCACHE_UMASK", "8", NULL);
    expect_bad("WAFCACHE_UMASK", "1000", NULL);
    expect_bad("WAFCACHE_UMASK", "0700", NULL);
    expect_bad("WAFCACHE_UMASK", "u=rwx", NULL);
}
END_TEST

/* ---- strings ---- */

START_TEST(strings)
{
    struct wc_config c;
    const char *pairs[] = {"WAFCACHE",
                           "gs://b/p/",
                           "WAFCACHE_CMD",
                           "gsutil cp %{SRC} %{TGT}",
                           "WAFCACHE_BASEDIR",
                           "/src/a:/src/b",
                           "WAFCACHE_PROGRAMS",
                           "gcc,clang",
                           "WAFCACHE_LOG",
                           "/tmp/wc.log",
                           "WAFCACHE_LOCAL",
                           "/var/cache/local",
                           NULL};

    ck_assert_int_eq(load(&c, pairs), 0);
    ck_assert_str_eq(c.cmd, "gsutil cp %{SRC} %{TGT}");
    ck_assert_str_eq(c.basedir, "/src/a:/src/b");
    ck_assert_str_eq(c.programs, "gcc,clang");
    ck_assert_str_eq(c.log, "/tmp/wc.log");
    ck_assert_str_eq(c.local, "/var/cache/local");
    /* The config owns copies, not the caller's strings. */
    ck_assert_ptr_ne(c.cmd, pairs[3]);
    wc_config_free(&c);
    ck_assert_ptr_null(c.cmd);
    ck_assert_ptr_null(c.cache);
    ck_assert_ptr_null(c.local);

    expect_bad("WAFCACHE_LOCAL", "cache/local",
               "wafcache: WAFCACHE_LOCAL=\"cache/local\" is not an absolute path; "
               "cache disabled for this build");
}
END_TEST

START_TEST(programs_entries)
{
    struct wc_config c;

    ck_assert_int_eq(load1(&c, "WAFCACHE_PROGRAMS", "+python3,-m4"), 0);
    ck_assert_str_eq(c.programs, "+python3,-m4");
    wc_config_free(&c);
    expect_bad("WAFCACHE_PROGRAMS", "gcc,+",
               "wafcache: WAFCACHE_PROGRAMS=\"gcc,+\" has a bad entry \"+\" (entries are NAME, "
               "+NAME or -NAME, a program's basename without '/'); cache disabled for this build");
    expect_bad("WAFCACHE_PROGRAMS", "-", NULL);
    expect_bad("WAFCACHE_PROGRAMS", "+/usr/bin/python3",
               "wafcache: WAFCACHE_PROGRAMS=\"+/usr/bin/python3\" has a bad entry "
               "\"+/usr/bin/python3\" (entries are NAME, +NAME or -NAME, a program's basename "
               "without '/'); cache disabled for this build");
}
END_TEST

/* ---- the error line ---- */

START_TEST(error_line_is_one_line)
{
    struct wc_config c;

    expect_bad("WAFCACHE_EVICT_MAX_BYTES", "1\n0G",
               "wafcache: WAFCACHE_EVICT_MAX_BYTES=\"1\\x0a0G\" is not a size; "
               "cache disabled for this build");
    expect_bad("WAFCACHE_HTTP_METHOD", "\"x\"",
               "wafcache: WAFCACHE_HTTP_METHOD=\"\\\"x\\\"\" is not post or put; "
               "cache disabled for this build");

    /* A very long value is cut, and the line still ends as it should. */
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(load1(&c, "WAFCACHE_TIMEOUT", big), -1);
    ck_assert_msg(strstr(c.error, "...\" is not a number of seconds") != NULL, "%s", c.error);
    ck_assert_msg(strstr(c.error, "; cache disabled for this build") != NULL, "%s", c.error);
    wc_config_free(&c);
}
END_TEST

START_TEST(first_error_wins_and_rest_parsed)
{
    struct wc_config c;
    const char *pairs[] = {"WAFCACHE",
                           "/c",
                           "WAFCACHE_TRIM_MAX_FOLDER",
                           "x",
                           "WAFCACHE_TIMEOUT",
                           "y",
                           "WAFCACHE_STATS",
                           "1",
                           NULL};

    ck_assert_int_eq(load(&c, pairs), -1);
    ck_assert_int_eq(c.disabled, 1);
    ck_assert_msg(strstr(c.error, "WAFCACHE_TRIM_MAX_FOLDER=\"x\"") != NULL, "%s", c.error);
    ck_assert_int_eq(c.stats, 1);
    ck_assert_uint_eq(c.trim_max_folder, 1000000);
    ck_assert_uint_eq(c.timeout_ms, 5000);
    wc_config_free(&c);
}
END_TEST

/* ---- getenv by default, and the table used by `wafcache -p` ---- */

START_TEST(real_environment)
{
    struct wc_config c;

    setenv("WAFCACHE", "https://cache.example/", 1);
    setenv("WAFCACHE_ASYNC_WORKERS", "3", 1);
    ck_assert_int_eq(wc_config_load(&c, NULL, NULL), 0);
    ck_assert_int_eq(c.kind, WC_STORE_HTTP);
    ck_assert_uint_eq(c.async_workers, 3);
    wc_config_free(&c);
    unsetenv("WAFCACHE");
    unsetenv("WAFCACHE_ASYNC_WORKERS");
}
END_TEST

static const char *setting_value(const struct wc_config *c, const char *want, char *buf, size_t n)
{
    const char *name;

    for (unsigned i = 0; wc_config_setting(c, i, &name, buf, n) == 0; i++)
        if (strcmp(name, want) == 0)
            return buf;
    return NULL;
}

START_TEST(settings_table)
{
    struct wc_config c;
    char buf[256];
    const char *name;
    unsigned count = 0;
    const char *pairs[] = {"WAFCACHE",
                           "/c",
                           "WAFCACHE_EVICT_MAX_BYTES",
                           "1Ki",
                           "WAFCACHE_TIMEOUT",
                           "2.5",
                           "WAFCACHE_UMASK",
                           "022",
                           "WAFCACHE_HARDLINK",
                           "1",
                           NULL};

    ck_assert_int_eq(load(&c, pairs), 0);
    while (wc_config_setting(&c, count, &name, buf, sizeof(buf)) == 0) {
        ck_assert_int_eq(strncmp(name, "WAFCACHE", 8), 0);
        count++;
    }
    /* Every variable of SPEC §3 plus ours. */
    ck_assert_uint_eq(count, 21);
    ck_assert_str_eq(setting_value(&c, "WAFCACHE", buf, sizeof(buf)), "/c");
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_EVICT_MAX_BYTES", buf, sizeof(buf)), "1024");
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_TIMEOUT", buf, sizeof(buf)), "2.5");
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_UMASK", buf, sizeof(buf)), "022");
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_HARDLINK", buf, sizeof(buf)), "yes");
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_NO_PUSH", buf, sizeof(buf)), "no");
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_HTTP_METHOD", buf, sizeof(buf)), "post");
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_PROGRAMS", buf, sizeof(buf)), WC_DEFAULT_PROGRAMS);
    ck_assert_str_eq(setting_value(&c, "WAFCACHE_TRIM_MAX_FOLDER", buf, sizeof(buf)), "1000000");
    wc_config_free(&c);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_test(tc, defaults);
    tcase_add_test(tc, default_dir_in_home);
    tcase_add_test(tc, default_dir_xdg);
    tcase_add_test(tc, default_dir_home_trailing_slash);
    tcase_add_test(tc, legacy_dir_user_from_passwd);
    tcase_add_test(tc, legacy_dirs_still_used);
    tcase_add_test(tc, no_home_no_cache);
    tcase_add_test(tc, untrusted_cache_refused);
    tcase_add_test(tc, empty_is_unset);
    tcase_add_test(tc, store_kinds);
    tcase_add_test(tc, store_bad);
    tcase_add_test(tc, bad_store_keeps_a_default_dir);
    tcase_add_test(tc, one_switch_rule);
    tcase_add_test(tc, switch_on_rule);
    tcase_add_test(tc, our_switches);
    tcase_add_test(tc, sizes_good);
    tcase_add_test(tc, sizes_bad);
    tcase_add_test(tc, evict_max_bytes);
    tcase_add_test(tc, uints);
    tcase_add_test(tc, counts);
    tcase_add_test(tc, timeout);
    tcase_add_test(tc, basedir_setting);
    tcase_add_test(tc, http_method);
    tcase_add_test(tc, umask_setting);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, programs_entries);
    tcase_add_test(tc, error_line_is_one_line);
    tcase_add_test(tc, first_error_wins_and_rest_parsed);
    tcase_add_test(tc, real_environment);
    tcase_add_test(tc, settings_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(config_suite());
    int failed;

    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
