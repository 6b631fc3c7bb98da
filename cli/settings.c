/* wafcache -p / --show-config, -k / --get-config, -o / --set-config, -M / --max-size,
 * -F / --max-files. */
#include "core/redact.h"
#include "core/util.h"
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* As ccache -p: "(source) NAME = value", one setting a line, the source being environment,
 * wafcache.conf or default. With a bad setting, every setting all the same (that is when they
 * are needed), the bad one with its error, and the error line on stderr. */
int cmd_show_config(int argc, char **argv)
{
    struct wc_config c;
    const char *name;
    char value[16384];
    int rc;

    if (cli_no_argument(argc, argv) != 0)
        return CLI_USAGE;
    rc = cli_load(&c);
    for (unsigned i = 0; wc_config_setting(&c, i, &name, value, sizeof(value)) == 0; i++) {
        if ((int)i == c.bad_setting)
            printf("(%s) %s = \"%s\" (error: %s)\n", wc_config_source_name(&c, i), name,
                   c.bad_value, c.bad_what);
        else if (c.bad[i])
            printf("(%s) %s = (error: a bad value too)\n", wc_config_source_name(&c, i), name);
        else
            printf("(%s) %s = %s\n", wc_config_source_name(&c, i), name, value);
    }
    wc_config_free(&c);
    return rc;
}

/* The value of "-M 10G", "--max-size 10G" or "--max-size=10G" (main splits the last form). */
static int option_value(int argc, char **argv, const char **value)
{
    if (argc < 2)
        return cli_usage("option '%s' needs a value", argv[0]);
    if (argc > 2)
        return cli_usage("option '%s' takes one value", argv[0]);
    *value = argv[1];
    return 0;
}

/* Writes name = value into wafcache.conf of the local cache directory (created if needed: a
 * size is often set before the first build). A conf that was already broken is rewritten all
 * the same, since -M is how a bad size line gets fixed; what is still wrong is then told. */
static int set_in_conf(const char *opt, const char *name, const char *value)
{
    struct wc_config c;
    const char *dir;
    int rc = 0, err;

    if (wc_config_load(&c, NULL, NULL) < 0 && !c.conf_error) {
        char safe[sizeof(c.error)];
        wc_redact(c.error, safe, sizeof(safe));
        fprintf(stderr, "%s\n", safe);
        rc = CLI_CACHE;
        goto out;
    }
    if ((rc = cli_cache_dir(&c, opt, 0, &dir)) != 0)
        goto out;
    if ((err = wc_mkdir_p(dir, c.dir_mode)) < 0 ||
        (err = wc_conf_set(c.conf_path, name, value, c.dir_mode & 0666)) < 0) {
        rc = cli_fail("cannot write %s: %s", c.conf_path, strerror(-err));
        goto out;
    }
    char shown[1024];
    wc_redact(value, shown, sizeof(shown));
    printf("Set %s = %s in %s\n", name, shown, c.conf_path);
    if (getenv(name) && *getenv(name))
        fprintf(stderr, "wafcache: note: %s is set in the environment, which overrides %s\n", name,
                WC_CONF_NAME);
    wc_config_free(&c);
    rc = cli_load(&c);
out:
    wc_config_free(&c);
    return rc;
}

/* -M SIZE: ccache's rule, a bare number is gigabytes ("-M 5" is 5G) and 0 is no limit. */
int cmd_max_size(int argc, char **argv)
{
    const char *v = NULL;
    char unit[64];
    uint64_t n;

    if (option_value(argc, argv, &v) != 0)
        return CLI_USAGE;
    v = wc_conf_value("max_size", v, unit, sizeof(unit));
    if (wc_parse_size(v, &n) < 0)
        return cli_usage("%s: \"%s\" is not a size (such as 10G, 500M, 64Ki or 0 for no limit)",
                         argv[0], argv[1]);
    return set_in_conf(argv[0], "WAFCACHE_EVICT_MAX_BYTES", v);
}

/* -F N: results kept, 0 is no limit. */
int cmd_max_files(int argc, char **argv)
{
    const char *v = NULL;
    uint64_t n;

    if (option_value(argc, argv, &v) != 0)
        return CLI_USAGE;
    if (wc_parse_uint(v, &n) < 0)
        return cli_usage("%s: \"%s\" is not a number of entries (0 for no limit)", argv[0], v);
    return set_in_conf(argv[0], "WAFCACHE_TRIM_MAX_FOLDER", v);
}

/* -k KEY, as ccache: the value of one setting, as -p shows it. */
int cmd_get_config(int argc, char **argv)
{
    struct wc_config c;
    const char *v = NULL, *name;
    char value[16384];
    int i, rc;

    if (option_value(argc, argv, &v) != 0)
        return CLI_USAGE;
    if ((i = wc_config_index(v)) < 0)
        return cli_usage("%s: unknown setting \"%s\"", argv[0], v);
    rc = cli_load(&c);
    if (!c.bad[i] && wc_config_setting(&c, (unsigned)i, &name, value, sizeof(value)) == 0)
        printf("%s\n", value);
    wc_config_free(&c);
    return rc;
}

/* -o KEY=VALUE, as ccache: one setting into wafcache.conf, checked first (a bad value is a
 * usage error, as -M banana). An empty VALUE leaves the setting to its default. */
int cmd_set_config(int argc, char **argv)
{
    const char *arg = NULL, *eq, *name, *value, *what;
    char key[128], unit[64];

    if (option_value(argc, argv, &arg) != 0)
        return CLI_USAGE;
    eq = strchr(arg, '=');
    if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(key))
        return cli_usage("%s: expected KEY=VALUE, got \"%s\"", argv[0], arg);
    snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
    if ((name = wc_conf_key(key)) == NULL)
        return cli_usage(!wc_conf_env_only(key) ? "%s: unknown setting \"%s\""
                                                : "%s: %s cannot be in " WC_CONF_NAME
                                                  " (set it in the environment)",
                         argv[0], key);
    value = wc_conf_value(key, eq + 1, unit, sizeof(unit));
    if (strchr(value, '\n'))
        return cli_usage("%s: a value is one line", argv[0]);
    if (*value && (what = wc_config_check(name, value)) != NULL)
        return cli_usage("%s: %s=\"%s\" %s", argv[0], key, eq + 1, what);
    return set_in_conf(argv[0], name, value);
}
