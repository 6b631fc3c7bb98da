/* libFuzzer target: the settings (core/config.c), from the environment and wafcache.conf.
 * The input is "NAME=value" lines, the environment the getenv function answers from; after a
 * line "--conf--" the rest is the text of wafcache.conf, written into a private directory that
 * WAFCACHE names unless the input sets WAFCACHE itself. Every setting is then shown back
 * (wafcache -p), and an error must be one line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

#define MAX_VARS 64

struct env {
    size_t n;
    char *names[MAX_VARS], *values[MAX_VARS];
    const char *cache_dir;
};

static char conf_dir[] = "/tmp/wc-fuzz-config.XXXXXX";

static void remove_conf_dir(void)
{
    char path[64];

    snprintf(path, sizeof(path), "%s/wafcache.conf", conf_dir);
    unlink(path);
    rmdir(conf_dir);
}

static const char *fuzz_getenv(const char *name, void *ctx)
{
    const struct env *e = ctx;

    for (size_t i = e->n; i-- > 0;)
        if (strcmp(e->names[i], name) == 0)
            return e->values[i];
    if (strcmp(name, "WAFCACHE") == 0)
        return e->cache_dir;
    return NULL;
}

static void parse_env(struct env *e, char *text)
{
    for (char *line = text, *next; line && e->n < MAX_VARS; line = next) {
        char *eq;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        e->names[e->n] = line;
        e->values[e->n++] = eq + 1;
    }
}

static void write_conf(const char *text, size_t len)
{
    char path[64];
    FILE *f;

    snprintf(path, sizeof(path), "%s/wafcache.conf", conf_dir);
    f = fopen(path, "w");
    if (!f)
        return;
    fwrite(text, 1, len, f);
    fclose(f);
}

static void show_all(const struct wc_config *c)
{
    const char *name;
    char value[4096];

    for (unsigned i = 0; wc_config_setting(c, i, &name, value, sizeof(value)) == 0; i++)
        (void)wc_config_source_name(c, i);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!mkdtemp(conf_dir))
        abort();
    atexit(remove_conf_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *conf;
    struct env e = {.n = 0, .cache_dir = conf_dir};
    struct wc_config c;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    conf = strstr(text, "--conf--\n");
    if (conf) {
        *conf = '\0';
        conf += strlen("--conf--\n");
        write_conf(conf, size - (size_t)(conf - text));
    } else {
        write_conf("", 0);
    }
    parse_env(&e, text);
    if (wc_config_load(&c, fuzz_getenv, &e) != 0 && (!c.error[0] || strchr(c.error, '\n')))
        abort();
    show_all(&c);
    wc_config_free(&c);
    free(text);
    return 0;
}
