/* The command line's state in the cache directory: the sharded statistics (core/stats.c), the
 * wafcache.conf layer of the settings (core/config.c), and the explain helpers that say why a
 * command missed (hashing/manifest_explain.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "core/stats.h"
#include "core/util.h"
#include "hashing/manifest.h"

static char dir[256];

static void setup(void)
{
    strcpy(dir, "/tmp/wc-test-stats.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    wc_rm_rf(dir);
}

static void write_text(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_int_eq(wc_write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* ---- statistics ---- */

START_TEST(stats_missing_dir_is_zero)
{
    struct wc_stats st;
    int64_t z = 42;
    char path[512];
    snprintf(path, sizeof path, "%s/nothing-here", dir);
    ck_assert_int_eq(wc_stats_read(path, &st, &z), 0);
    for (int i = 0; i < WC_STATS_SLOTS; i++)
        ck_assert_uint_eq(st.v[i], 0);
    ck_assert_int_eq(z, 0);
}
END_TEST

START_TEST(stats_shards_are_summed)
{
    struct wc_stats d = {0}, st;
    d.v[WC_STAT_REQUESTS] = 2;
    d.v[WC_STAT_HITS] = 1;
    d.v[WC_STAT_TIME_SAVED_NS] = 1000;
    for (unsigned s = 0; s < WC_STATS_SHARDS; s++)
        ck_assert_int_eq(wc_stats_add_shard(dir, 0700, s, &d), 0);
    ck_assert_int_eq(wc_stats_add_shard(dir, 0700, 3 + WC_STATS_SHARDS, &d), 0);
    ck_assert_int_eq(wc_stats_add(dir, 0700, &d), 0);
    ck_assert_int_eq(wc_stats_read(dir, &st, NULL), 0);
    ck_assert_uint_eq(st.v[WC_STAT_REQUESTS], 2 * (WC_STATS_SHARDS + 2));
    ck_assert_uint_eq(st.v[WC_STAT_HITS], WC_STATS_SHARDS + 2);
    ck_assert_uint_eq(st.v[WC_STAT_TIME_SAVED_NS], 1000 * (WC_STATS_SHARDS + 2));
    ck_assert_uint_eq(st.v[WC_STAT_MISSES], 0);
}
END_TEST

/* A link planted at a shard is never written through (nor read as counters). */
START_TEST(stats_shard_link_not_followed)
{
    struct wc_stats d = {0};
    char link[512], victim[512];
    char *buf;
    size_t len;

    d.v[WC_STAT_REQUESTS] = 1;
    ck_assert_int_eq(wc_stats_add_shard(dir, 0700, 0, &d), 0);
    write_text("victim", "precious");
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(link, sizeof link, "%s/stats/5", dir);
    ck_assert_int_eq(symlink(victim, link), 0);
    ck_assert_int_lt(wc_stats_add_shard(dir, 0700, 5, &d), 0);
    ck_assert_int_eq(wc_read_file(victim, 64, &buf, &len), 0);
    ck_assert_str_eq(buf, "precious");
    free(buf);
}
END_TEST

/* A damaged shard counts as zeros and the next update makes it whole again. */
START_TEST(stats_garbage_shard)
{
    struct wc_stats d = {0}, st;
    char path[512];
    d.v[WC_STAT_WRITES] = 5;
    ck_assert_int_eq(wc_stats_add_shard(dir, 0700, 1, &d), 0);
    ck_assert_int_eq(wc_stats_add_shard(dir, 0700, 2, &d), 0);
    snprintf(path, sizeof path, "%s/stats/2", dir);
    ck_assert_int_eq(wc_write_file_atomic(path, "garbage", 7, 0644), 0);
    ck_assert_int_eq(wc_stats_read(dir, &st, NULL), 0);
    ck_assert_uint_eq(st.v[WC_STAT_WRITES], 5);
    ck_assert_int_eq(wc_stats_add_shard(dir, 0700, 2, &d), 0);
    ck_assert_int_eq(wc_stats_read(dir, &st, NULL), 0);
    ck_assert_uint_eq(st.v[WC_STAT_WRITES], 10);
}
END_TEST

START_TEST(stats_zero)
{
    struct wc_stats d = {0}, st;
    int64_t z = 0;
    d.v[WC_STAT_ERRORS] = 3;
    for (unsigned s = 0; s < 4; s++)
        ck_assert_int_eq(wc_stats_add_shard(dir, 0700, s, &d), 0);
    ck_assert_int_eq(wc_stats_zero(dir, 0700), 0);
    ck_assert_int_eq(wc_stats_read(dir, &st, &z), 0);
    ck_assert_uint_eq(st.v[WC_STAT_ERRORS], 0);
    ck_assert_int_gt(z, 1600000000);
    ck_assert_int_eq(wc_stats_add_shard(dir, 0700, 0, &d), 0);
    ck_assert_int_eq(wc_stats_read(dir, &st, NULL), 0);
    ck_assert_uint_eq(st.v[WC_STAT_ERRORS], 3);
}
END_TEST

/* Many processes on few shards: every increment is kept (the lock works). */
START_TEST(stats_parallel_updates_are_not_lost)
{
    enum { PROCS = 8, ROUNDS = 300 };
    struct wc_stats d = {0}, st;
    d.v[WC_STAT_REQUESTS] = 1;
    d.v[WC_STAT_BYTES_WRITTEN] = 7;
    for (int p = 0; p < PROCS; p++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            int bad = 0;
            for (int i = 0; i < ROUNDS; i++)
                bad |= wc_stats_add_shard(dir, 0700, (unsigned)(p % 2), &d) != 0;
            _exit(bad);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int status;
        ck_assert_int_gt(wait(&status), 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_eq(wc_stats_read(dir, &st, NULL), 0);
    ck_assert_uint_eq(st.v[WC_STAT_REQUESTS], PROCS * ROUNDS);
    ck_assert_uint_eq(st.v[WC_STAT_BYTES_WRITTEN], 7 * PROCS * ROUNDS);
}
END_TEST

START_TEST(stats_reasons)
{
    ck_assert_int_eq(wc_stat_reason("the command failed"), WC_STAT_UNC_FAILED);
    ck_assert_int_eq(wc_stat_reason("no output file"), WC_STAT_UNC_NO_OUTPUT);
    ck_assert_int_eq(wc_stat_reason("the command read its standard input"), WC_STAT_UNC_STDIN);
    ck_assert_int_eq(wc_stat_reason("reads stdin or writes stdout ('-')"), WC_STAT_UNC_STDIN);
    ck_assert_int_eq(wc_stat_reason("input /a/x.h modified during the run"), WC_STAT_UNC_LATE);
    ck_assert_int_eq(wc_stat_reason("/a/y.h appeared during the run"), WC_STAT_UNC_LATE);
    ck_assert_int_eq(wc_stat_reason("incomplete observation: static binary"),
                     WC_STAT_UNC_INCOMPLETE);
    ck_assert_int_eq(wc_stat_reason("no process of the command was observed"),
                     WC_STAT_UNC_INCOMPLETE);
    ck_assert_int_eq(wc_stat_reason("x.c uses __TIME__ and SOURCE_DATE_EPOCH is unset"),
                     WC_STAT_UNC_TIME);
    ck_assert_int_eq(wc_stat_reason("WAFCACHE_NO_PUSH is set"), WC_STAT_UNC_NO_PUSH);
    ck_assert_int_eq(wc_stat_reason("output /x is a directory"), WC_STAT_UNC_OTHER);
    ck_assert_str_eq(wc_stat_key(WC_STAT_HITS), "hits");
    ck_assert_str_eq(wc_stat_label(WC_STAT_UNC_FAILED), "command failed");
}
END_TEST

/* ---- wafcache.conf ---- */

struct fake_env {
    const char *const *pairs;
};

static const char *fake_get(const char *name, void *ctx)
{
    const struct fake_env *e = ctx;
    for (size_t i = 0; e->pairs[i]; i += 2)
        if (strcmp(e->pairs[i], name) == 0)
            return e->pairs[i + 1];
    return NULL;
}

/* Load with WAFCACHE=dir plus the pairs given. */
static int load(struct wc_config *c, const char *a, const char *b)
{
    const char *pairs[] = {"WAFCACHE", dir, a, b, NULL};
    struct fake_env e = {pairs};
    if (!a)
        pairs[2] = NULL;
    return wc_config_load(c, fake_get, &e);
}

static unsigned index_of(const struct wc_config *c, const char *want)
{
    const char *name;
    char buf[256];
    for (unsigned i = 0; wc_config_setting(c, i, &name, buf, sizeof buf) == 0; i++)
        if (strcmp(name, want) == 0)
            return i;
    ck_abort_msg("no setting %s", want);
    return 0;
}

START_TEST(conf_values_and_sources)
{
    struct wc_config c;
    write_text("wafcache.conf", "# sizes\n\n  WAFCACHE_EVICT_MAX_BYTES = 5G  \nmax_files=12\n"
                                "WAFCACHE_NO_PUSH = 1\nWAFCACHE_LOG =\n");
    ck_assert_int_eq(load(&c, NULL, NULL), 0);
    ck_assert_uint_eq(c.evict_max_bytes, 5000000000ULL);
    ck_assert_uint_eq(c.trim_max_folder, 12);
    ck_assert_int_eq(c.no_push, 1);
    ck_assert_ptr_null(c.log);
    ck_assert_str_eq(wc_config_source_name(&c, index_of(&c, "WAFCACHE_EVICT_MAX_BYTES")),
                     "wafcache.conf");
    ck_assert_str_eq(wc_config_source_name(&c, index_of(&c, "WAFCACHE_TRIM_MAX_FOLDER")),
                     "wafcache.conf");
    ck_assert_str_eq(wc_config_source_name(&c, index_of(&c, "WAFCACHE")), "environment");
    ck_assert_str_eq(wc_config_source_name(&c, index_of(&c, "WAFCACHE_LOG")), "default");
    ck_assert_str_eq(wc_config_source_name(&c, index_of(&c, "WAFCACHE_TIMEOUT")), "default");
    wc_config_free(&c);
}
END_TEST

START_TEST(conf_environment_wins)
{
    struct wc_config c;
    write_text("wafcache.conf", "WAFCACHE_EVICT_MAX_BYTES = 5G\n");
    ck_assert_int_eq(load(&c, "WAFCACHE_EVICT_MAX_BYTES", "1M"), 0);
    ck_assert_uint_eq(c.evict_max_bytes, 1000000);
    ck_assert_str_eq(wc_config_source_name(&c, index_of(&c, "WAFCACHE_EVICT_MAX_BYTES")),
                     "environment");
    wc_config_free(&c);
    /* Set to "" in the environment is unset: the file applies. */
    ck_assert_int_eq(load(&c, "WAFCACHE_EVICT_MAX_BYTES", ""), 0);
    ck_assert_uint_eq(c.evict_max_bytes, 5000000000ULL);
    wc_config_free(&c);
}
END_TEST

static void expect_conf_error(const char *text, const char *tail)
{
    struct wc_config c;
    char want[1024];
    write_text("wafcache.conf", text);
    ck_assert_int_eq(load(&c, NULL, NULL), -1);
    ck_assert_int_eq(c.disabled, 1);
    ck_assert_int_eq(c.conf_error, 1);
    snprintf(want, sizeof want, "wafcache: %s/wafcache.conf:%s; cache disabled for this build", dir,
             tail);
    ck_assert_str_eq(c.error, want);
    wc_config_free(&c);
}

START_TEST(conf_garbage)
{
    expect_conf_error("# ok\ngarbage\n", "2: expected \"NAME = value\", got \"garbage\"");
    expect_conf_error("WAFCACHE_NOPE = 1\n", "1: unknown setting \"WAFCACHE_NOPE\"");
    expect_conf_error("\nWAFCACHE = /elsewhere\n",
                      "2: this setting cannot be in wafcache.conf: \"WAFCACHE\"");
    expect_conf_error("max_size = banana\n",
                      "1: WAFCACHE_EVICT_MAX_BYTES=\"banana\" is not a size");
    expect_conf_error(" = 3\n", "1: expected \"NAME = value\", got \"= 3\"");
}
END_TEST

/* A bad environment value is told first, and is not a wafcache.conf error. */
START_TEST(conf_env_error_first)
{
    struct wc_config c;
    write_text("wafcache.conf", "garbage\n");
    ck_assert_int_eq(load(&c, "WAFCACHE_TIMEOUT", "x"), -1);
    ck_assert_int_eq(c.conf_error, 0);
    ck_assert_ptr_nonnull(strstr(c.error, "WAFCACHE_TIMEOUT=\"x\""));
    wc_config_free(&c);
}
END_TEST

START_TEST(conf_set_rewrites_one_line)
{
    char path[512], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/wafcache.conf", dir);
    ck_assert_int_eq(wc_conf_set(path, "max_size", "1G", 0644), 0);
    ck_assert_int_eq(wc_read_file(path, 4096, &text, &len), 0);
    ck_assert_str_eq(text, "WAFCACHE_EVICT_MAX_BYTES = 1G\n");
    free(text);
    write_text("wafcache.conf", "# mine\nmax_size = 3G\nWAFCACHE_NO_PUSH = 1\n"
                                "WAFCACHE_EVICT_MAX_BYTES=4G\nno newline");
    ck_assert_int_eq(wc_conf_set(path, "WAFCACHE_EVICT_MAX_BYTES", "2G", 0644), 0);
    ck_assert_int_eq(wc_read_file(path, 4096, &text, &len), 0);
    ck_assert_str_eq(text, "# mine\nWAFCACHE_EVICT_MAX_BYTES = 2G\nWAFCACHE_NO_PUSH = 1\n"
                           "no newline\n");
    free(text);
    ck_assert_int_eq(wc_conf_set(path, "WAFCACHE_TRIM_MAX_FOLDER", "9", 0644), 0);
    ck_assert_int_eq(wc_read_file(path, 4096, &text, &len), 0);
    ck_assert_ptr_nonnull(strstr(text, "no newline\nWAFCACHE_TRIM_MAX_FOLDER = 9\n"));
    free(text);
    ck_assert_int_eq(wc_conf_set(path, "WAFCACHE", "/x", 0644), -EINVAL);
    ck_assert_int_eq(wc_conf_set(path, "max_size", "1G\nWAFCACHE_NO_PUSH=1", 0644), -EINVAL);
}
END_TEST

/* ---- explain ---- */

struct said {
    char text[8192];
    size_t n;
};

static void collect(void *ctx, const char *line)
{
    struct said *s = ctx;
    s->n += (size_t)snprintf(s->text + s->n, sizeof s->text - s->n, "%s\n", line);
}

static wc_key1 key1_of(char **argv, char **env)
{
    wc_key1 k;
    memset(&k, 0, sizeof k);
    k.argv = argv;
    while (argv[k.argc])
        k.argc++;
    (void)env; /* the environment is in the input sets, not key1 */
    k.cwd = "@WAFCACHE_BASEDIR@/build";
    return k;
}

START_TEST(explain_define_changed)
{
    char *a[] = {"gcc", "-DX=1", "-c", "x.c", "-o", "x.o", NULL};
    char *b[] = {"gcc", "-DX=2", "-c", "x.c", "-o", "x.o", NULL};
    char *env[] = {NULL};
    wc_key1 was = key1_of(a, env), now = key1_of(b, env);
    wc_hash ia, ib;
    struct said s = {0};
    wc_explain_id(&was, &ia);
    wc_explain_id(&now, &ib);
    ck_assert(wc_hash_equal(&ia, &ib)); /* the same command: its output names it */
    ck_assert_uint_eq(wc_key1_diff(&was, &now, collect, &s), 1);
    ck_assert_str_eq(s.text, "argument 1: \"-DX=2\" (recorded: \"-DX=1\")\n");
}
END_TEST

START_TEST(explain_argument_added_and_removed)
{
    char *a[] = {"gcc", "-O2", "-c", "x.c", "-o", "x.o", NULL};
    char *b[] = {"gcc", "-g", "-O2", "-c", "x.c", "-o", "x.o", NULL};
    char *c[] = {"gcc", "-c", "x.c", "-o", "x.o", NULL};
    char *env[] = {NULL};
    wc_key1 ka = key1_of(a, env), kb = key1_of(b, env), kc = key1_of(c, env);
    struct said s = {0};
    ck_assert_uint_eq(wc_key1_diff(&ka, &kb, collect, &s), 1);
    ck_assert_str_eq(s.text, "argument added: \"-g\"\n");
    memset(&s, 0, sizeof s);
    ck_assert_uint_eq(wc_key1_diff(&ka, &kc, collect, &s), 1);
    ck_assert_str_eq(s.text, "argument removed: \"-O2\"\n");
}
END_TEST

START_TEST(explain_program_and_terminal)
{
    char *a[] = {"gcc", "-c", "x.c", NULL};
    char *env[] = {NULL};
    wc_key1 was = key1_of(a, env), now = key1_of(a, env);
    struct said s = {0};
    now.program.lo = 1;
    now.stderr_tty = 1;
    ck_assert_uint_eq(wc_key1_diff(&was, &now, collect, &s), 2);
    ck_assert_ptr_nonnull(strstr(s.text, "program gcc: its content differs"));
    ck_assert_ptr_nonnull(strstr(s.text, "stderr is a terminal (recorded: not a terminal)\n"));
}
END_TEST

/* A set whose variables differ from the environment now says which, and how. */
START_TEST(explain_environment_of_a_set)
{
    wc_manifest m;
    struct said s = {0};
    char *now[] = {"CPATH=/b", "SOURCE_DATE_EPOCH=1", "UNRELATED=x", NULL};
    memset(&m, 0, sizeof m);
    m.n_sets = 1;
    m.sets[0].n_env = 3;
    m.sets[0].env = calloc(3, sizeof *m.sets[0].env);
    m.sets[0].env[0].name = strdup("CPATH");
    m.sets[0].env[0].value = strdup("/a");
    m.sets[0].env[1].name = strdup("LANG");
    m.sets[0].env[1].value = strdup("C");
    m.sets[0].env[2].name = strdup("SOURCE_DATE_EPOCH");
    ck_assert_int_eq(wc_manifest_explain(&m, NULL, NULL, now, dir, collect, &s), -1);
    ck_assert_str_eq(s.text, "closest of 1 recorded input sets: 3 differences\n"
                             "  environment: CPATH=\"/b\" (recorded: \"/a\")\n"
                             "  environment: LANG is unset (recorded: \"C\")\n"
                             "  environment: SOURCE_DATE_EPOCH=\"1\" (recorded: unset)\n");
    char *same[] = {"CPATH=/a", "LANG=C", "OTHER=1", NULL};
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(wc_manifest_explain(&m, NULL, NULL, same, dir, collect, &s), 0);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(explain_id_follows_the_output)
{
    char *a[] = {"gcc", "-c", "x.c", "-o", "x.o", NULL};
    char *b[] = {"gcc", "-c", "x.c", "-oy.o", NULL};
    char *c[] = {"gcc", "-c", "x.c", NULL};
    char *d[] = {"gcc", "-c", "-Wall", "x.c", NULL};
    char *env[] = {NULL};
    wc_key1 ka = key1_of(a, env), kb = key1_of(b, env), kc = key1_of(c, env), kd = key1_of(d, env);
    wc_hash ha, hb, hc, hd;
    wc_explain_id(&ka, &ha);
    wc_explain_id(&kb, &hb);
    wc_explain_id(&kc, &hc);
    wc_explain_id(&kd, &hd);
    ck_assert(!wc_hash_equal(&ha, &hb));
    ck_assert(!wc_hash_equal(&ha, &hc));
    ck_assert(wc_hash_equal(&hc, &hd)); /* without -o: the operands, options aside */
    kd.cwd = "@WAFCACHE_BASEDIR@/other";
    wc_explain_id(&kd, &hd);
    ck_assert(!wc_hash_equal(&hc, &hd));
}
END_TEST

/* The closest input set is told: the header that changed, the probe that now exists. */
START_TEST(explain_closest_set)
{
    char hpath[512], other[512], probe[512];
    wc_manifest m;
    wc_hash h;
    struct said s = {0};
    snprintf(hpath, sizeof hpath, "%s/common.h", dir);
    snprintf(other, sizeof other, "%s/other.h", dir);
    snprintf(probe, sizeof probe, "%s/shadow.h", dir);
    write_text("common.h", "#define A 1\n");
    write_text("other.h", "#define B 1\n");
    memset(&m, 0, sizeof m);
    m.n_sets = 2;
    /* set 0: other.h with a hash that no longer holds, and the probe; set 1: common.h. */
    m.sets[0].n_inputs = 1;
    m.sets[0].inputs = calloc(1, sizeof *m.sets[0].inputs);
    m.sets[0].inputs[0].path = strdup(other);
    m.sets[0].n_probes = 1;
    m.sets[0].probes = calloc(1, sizeof(char *));
    m.sets[0].probes[0] = strdup(probe);
    m.sets[1].n_inputs = 1;
    m.sets[1].inputs = calloc(1, sizeof *m.sets[1].inputs);
    m.sets[1].inputs[0].path = strdup(hpath);
    ck_assert_int_eq(wc_hash_path(hpath, &h, NULL), 0);
    m.sets[1].inputs[0].hash = h;
    ck_assert_int_eq(wc_hash_path(other, &m.sets[0].inputs[0].hash, NULL), 0);

    ck_assert_int_eq(wc_manifest_explain(&m, NULL, NULL, NULL, dir, collect, &s), 0);
    write_text("shadow.h", "\n"); /* set 0 no longer holds: its probe exists now */
    ck_assert_int_eq(wc_manifest_explain(&m, NULL, NULL, NULL, dir, collect, &s), 1);
    ck_assert_uint_eq(s.n, 0); /* a match says nothing */
    write_text("common.h", "#define A 2\n");
    write_text("other.h", "#define B 2\n");
    ck_assert_int_eq(wc_manifest_explain(&m, NULL, NULL, NULL, dir, collect, &s), -1);
    ck_assert_str_eq(s.text, "closest of 2 recorded input sets: 1 difference\n"
                             "  changed: common.h\n");
    wc_manifest_free(&m);
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, stats_missing_dir_is_zero);
    tcase_add_test(tc, stats_shards_are_summed);
    tcase_add_test(tc, stats_shard_link_not_followed);
    tcase_add_test(tc, stats_garbage_shard);
    tcase_add_test(tc, stats_zero);
    tcase_add_test(tc, stats_parallel_updates_are_not_lost);
    tcase_add_test(tc, stats_reasons);
    suite_add_tcase(s, tc);
    tc = tcase_create("conf");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, conf_values_and_sources);
    tcase_add_test(tc, conf_environment_wins);
    tcase_add_test(tc, conf_garbage);
    tcase_add_test(tc, conf_env_error_first);
    tcase_add_test(tc, conf_set_rewrites_one_line);
    suite_add_tcase(s, tc);
    tc = tcase_create("explain");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, explain_define_changed);
    tcase_add_test(tc, explain_argument_added_and_removed);
    tcase_add_test(tc, explain_program_and_terminal);
    tcase_add_test(tc, explain_environment_of_a_set);
    tcase_add_test(tc, explain_id_follows_the_output);
    tcase_add_test(tc, explain_closest_set);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stats_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
