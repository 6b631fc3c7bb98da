/* wafcache -s / --show-stats [--json], --json, -z / --zero-stats. */
#include "core/redact.h"
#include "core/stats.h"
#include "cli/cli.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Everything -s shows, gathered before anything is printed. */
struct report {
    const char *dir;
    int exists;
    struct wc_stats st;
    int64_t zeroed_at;
    struct cli_usage_info use;
    uint64_t max_entries, max_bytes;
    const char *conf_path;
};

static uint64_t uncacheable(const struct wc_stats *st)
{
    uint64_t n = 0;

    for (int i = WC_STAT_UNC_FIRST; i <= WC_STAT_UNC_LAST; i++)
        n += st->v[i];
    return n;
}

static int gather(struct wc_config *c, struct report *r)
{
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = cli_load(c)) != 0 || (rc = cli_cache_dir(c, "--show-stats", 0, &r->dir)) != 0)
        return rc;
    r->max_entries = c->trim_max_folder;
    r->max_bytes = c->evict_max_bytes;
    r->conf_path = c->conf_path;
    if ((rc = wc_stats_read(r->dir, &r->st, &r->zeroed_at)) < 0)
        return cli_fail("cannot read the statistics in %s/stats: %s", r->dir, strerror(-rc));
    rc = cli_store_usage(r->dir, &r->use);
    if (rc < 0)
        return cli_fail("cannot read %s: %s", r->dir, strerror(-rc));
    return 0;
}

static void line(const char *label, const char *value)
{
    char safe[4096];

    wc_redact(value, safe, sizeof(safe));
    printf("%-36s %s\n", label, safe);
}

static void line_u64(const char *label, uint64_t v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    line(label, buf);
}

static void print_zeroed(int64_t t)
{
    char buf[64] = "never";
    struct tm tm;
    time_t tt = (time_t)t;

    if (t > 0 && localtime_r(&tt, &tm))
        strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    line("Statistics zeroed", buf);
}

static void print_counters(const struct wc_stats *st)
{
    char buf[96], size[32];
    uint64_t req = st->v[WC_STAT_REQUESTS];

    line_u64("Requests", req);
    snprintf(buf, sizeof(buf), "%" PRIu64 " (%.2f %%)", st->v[WC_STAT_HITS],
             req ? 100.0 * (double)st->v[WC_STAT_HITS] / (double)req : 0.0);
    line("  Hits", buf);
    line_u64("  Misses", st->v[WC_STAT_MISSES]);
    cli_format_size(st->v[WC_STAT_BYTES_WRITTEN], size, sizeof(size));
    snprintf(buf, sizeof(buf), "%" PRIu64 " (%s)", st->v[WC_STAT_WRITES], size);
    line("Writes", buf);
    line_u64("Errors", st->v[WC_STAT_ERRORS]);
    line_u64("Uncacheable", uncacheable(st));
    for (int i = WC_STAT_UNC_FIRST; i <= WC_STAT_UNC_LAST; i++) {
        snprintf(buf, sizeof(buf), "  %s", wc_stat_label(i));
        line_u64(buf, st->v[i]);
    }
    snprintf(buf, sizeof(buf), "%.3f s", (double)st->v[WC_STAT_TIME_SAVED_NS] / 1e9);
    line("Time saved", buf);
}

static void print_report(const struct report *r)
{
    char buf[PATH_MAX + 32], a[32], b[32];

    snprintf(buf, sizeof(buf), "%s%s", r->dir, r->exists ? "" : " (does not exist yet)");
    line("Cache directory", buf);
    snprintf(buf, sizeof(buf), "%s%s", r->conf_path ? r->conf_path : "(none)",
             r->conf_path && access(r->conf_path, F_OK) != 0 ? " (absent)" : "");
    line("Configuration file", buf);
    print_zeroed(r->zeroed_at);
    print_counters(&r->st);
    snprintf(buf, sizeof(buf), "%" PRIu64 " results (and %" PRIu64 " manifests)", r->use.results,
             r->use.manifests);
    line("Entries", buf);
    if (r->max_entries)
        line_u64("  Limit (WAFCACHE_TRIM_MAX_FOLDER)", r->max_entries);
    else
        line("  Limit (WAFCACHE_TRIM_MAX_FOLDER)", "no limit");
    cli_format_size(r->use.bytes, a, sizeof(a));
    line("Cache size (on disk)", a);
    if (r->max_bytes)
        cli_format_size(r->max_bytes, b, sizeof(b));
    else
        snprintf(b, sizeof(b), "no limit");
    line("  Limit (WAFCACHE_EVICT_MAX_BYTES)", b);
}

/* A JSON string: the directory is the only one, and may hold anything a path can. */
static void json_string(const char *text)
{
    char safe[4096];
    const char *s = safe;

    wc_redact(text, safe, sizeof(safe));
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void json_u64(const char *key, uint64_t v, int last)
{
    printf("  \"%s\": %" PRIu64 "%s\n", key, v, last ? "" : ",");
}

static void print_json(const struct report *r)
{
    printf("{\n  \"cache_directory\": ");
    json_string(r->dir);
    printf(",\n  \"zeroed_at\": %lld,\n", (long long)r->zeroed_at);
    for (int i = 0; i < WC_STAT_COUNT; i++)
        json_u64(wc_stat_key(i), r->st.v[i], 0);
    json_u64("uncacheable", uncacheable(&r->st), 0);
    json_u64("entries", r->use.entries, 0);
    json_u64("results", r->use.results, 0);
    json_u64("manifests", r->use.manifests, 0);
    json_u64("bytes", r->use.bytes, 0);
    json_u64("max_entries", r->max_entries, 0);
    json_u64("max_bytes", r->max_bytes, 1);
    printf("}\n");
}

static int show(int json)
{
    struct wc_config c;
    struct report r;
    int rc = gather(&c, &r);

    if (rc == 0) {
        struct stat st;
        r.exists = stat(r.dir, &st) == 0;
        if (json)
            print_json(&r);
        else
            print_report(&r);
    }
    wc_config_free(&c);
    return rc;
}

int cmd_show_stats(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--json") == 0)
        return show(1);
    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    return show(0);
}

int cmd_json(int argc, char **argv)
{
    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    return show(1);
}

int cmd_zero_stats(int argc, char **argv)
{
    struct wc_config c;
    const char *dir;
    int rc;

    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    /* As -s and -M, -z takes a cache that does not exist yet: its statistics are zero. */
    if ((rc = cli_load(&c)) == 0 && (rc = cli_cache_dir(&c, argv[0], 0, &dir)) == 0) {
        struct stat st;
        int err = stat(dir, &st) == 0 ? wc_stats_zero(dir, c.dir_mode) : 0;
        if (err < 0)
            rc = cli_fail("cannot zero the statistics in %s/stats: %s", dir, strerror(-err));
        else
            printf("Statistics zeroed\n");
    }
    wc_config_free(&c);
    return rc;
}
