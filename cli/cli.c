/* Helpers of the command line: messages, settings, the cache directory, sizes. */
#include "cli/cli.h"
#include "core/redact.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Control bytes of s as \n, \x01...: a value typed with a newline must not cut the message
 * in two (every error is one line). */
static void print_one_line(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n')
            fputs("\\n", out);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\x%02x", ch);
        else
            fputc(ch, out);
    }
}

static void vmessage(const char *fmt, va_list ap)
{
    char line[2048], safe[2048];

    vsnprintf(line, sizeof(line), fmt, ap);
    wc_redact(line, safe, sizeof(safe));
    fputs("wafcache: ", stderr);
    print_one_line(stderr, safe);
    fputc('\n', stderr);
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'wafcache --help' for more information.\n");
    return CLI_USAGE;
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    return CLI_CACHE;
}

int cli_no_argument(int argc, char **argv)
{
    if (argc <= 1)
        return 0;
    return cli_usage("option '%s' takes no argument", argv[0]);
}

int cli_load(struct wc_config *c)
{
    char safe[sizeof(c->error)];

    if (wc_config_load(c, NULL, NULL) == 0)
        return 0;
    wc_redact(c->error, safe, sizeof(safe));
    fprintf(stderr, "%s\n", safe);
    return CLI_CACHE;
}

int cli_cache_dir(const struct wc_config *c, const char *action, int must_exist, const char **dir)
{
    struct stat st;

    *dir = c->kind == WC_STORE_DIR ? c->cache : c->local;
    if (*dir == NULL)
        return cli_fail("%s works on a local cache directory and WAFCACHE=%s is remote "
                        "(set WAFCACHE_LOCAL to give it one)",
                        action, c->cache);
    if (stat(*dir, &st) != 0) {
        if (!must_exist && errno == ENOENT)
            return 0;
        if (errno == ENOENT)
            return cli_fail("%s: no such cache directory", *dir);
        return cli_fail("%s: %s", *dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return cli_fail("%s: not a directory", *dir);
    return 0;
}

void cli_format_size(uint64_t bytes, char *buf, size_t n)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)bytes;
    int u = -1;

    if (bytes < 1000) {
        snprintf(buf, n, "%llu bytes", (unsigned long long)bytes);
        return;
    }
    while (v >= 1000.0 && u < 5) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, n, "%.1f %s", v, units[u]);
}
