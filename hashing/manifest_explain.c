/* Explanations (wafcache --explain, WAFCACHE_EXPLAIN): the explain index's id of a command,
 * what changed in key1's ingredients, and why no recorded input set matches now. */
#include "hashing/manifest.h"

#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- explain ------------------------------------------------------------------------------ */

static void sayf(wc_explain_fn say, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sayf(wc_explain_fn say, void *ctx, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    say(ctx, line);
}

/* The output argument's value, or NULL. */
static const char *output_arg(const wc_key1 *k)
{
    for (size_t i = 1; i < k->argc; i++) {
        const char *a = k->argv[i];
        if (strcmp(a, "-o") == 0 && i + 1 < k->argc)
            return k->argv[i + 1];
        if (strncmp(a, "-o", 2) == 0 && a[2] != '\0')
            return a + 2;
        if (strncmp(a, "--output=", 9) == 0)
            return a + 9;
    }
    return NULL;
}

void wc_explain_id(const wc_key1 *k, wc_hash *out)
{
    const char *o = output_arg(k);
    wc_sig g;
    wc_sig_init(&g);
    wc_sig_add_str(&g, "wafcache explain");
    wc_sig_add_str(&g, k->cwd);
    if (o) {
        wc_sig_add_str(&g, "-o");
        wc_sig_add_str(&g, o);
    } else {
        for (size_t i = 1; i < k->argc; i++)
            if (k->argv[i][0] != '-')
                wc_sig_add_str(&g, k->argv[i]);
    }
    wc_sig_final(&g, out);
}

/* Arguments: the longest common subsequence aligns them, so that one inserted option shows
 * as one addition rather than as every later argument changed. Beyond this many cells the
 * table is not worth it and only the counts are told. */
#define LCS_MAX_CELLS (1u << 20)

struct argdiff {
    char *const *a, *const *b; /* was, now */
    size_t na, nb;
    unsigned *t; /* (na+1) x (nb+1): LCS length of the suffixes */
    wc_explain_fn say;
    void *ctx;
    size_t said;
};

static unsigned *lcs_table(char *const *a, size_t na, char *const *b, size_t nb)
{
    size_t w = nb + 1;
    unsigned *t = calloc((na + 1) * w, sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;) {
            if (strcmp(a[i], b[j]) == 0)
                t[i * w + j] = t[(i + 1) * w + j + 1] + 1;
            else {
                unsigned x = t[(i + 1) * w + j], y = t[i * w + j + 1];
                t[i * w + j] = x > y ? x : y;
            }
        }
    return t;
}

/* A run of removed a[i0..i1) and added b[j0..j1) between two common arguments: paired up
 * as changes where both sides have one. */
static void tell_run(struct argdiff *d, size_t i0, size_t i1, size_t j0, size_t j1)
{
    while (i0 < i1 && j0 < j1) {
        sayf(d->say, d->ctx, "argument %zu: \"%s\" (recorded: \"%s\")", j0, d->b[j0], d->a[i0]);
        d->said++;
        i0++;
        j0++;
    }
    for (; i0 < i1; i0++, d->said++)
        sayf(d->say, d->ctx, "argument removed: \"%s\"", d->a[i0]);
    for (; j0 < j1; j0++, d->said++)
        sayf(d->say, d->ctx, "argument added: \"%s\"", d->b[j0]);
}

static void diff_args(struct argdiff *d)
{
    size_t i = 0, j = 0, ri = 0, rj = 0, w = d->nb + 1;
    while (i < d->na && j < d->nb) {
        if (strcmp(d->a[i], d->b[j]) == 0) {
            tell_run(d, ri, i, rj, j);
            ri = ++i;
            rj = ++j;
        } else if (d->t[(i + 1) * w + j] >= d->t[i * w + j + 1]) {
            i++;
        } else {
            j++;
        }
    }
    tell_run(d, ri, d->na, rj, d->nb);
}

static size_t argv_diff(const wc_key1 *was, const wc_key1 *now, wc_explain_fn say, void *ctx)
{
    struct argdiff d = {was->argv, now->argv, was->argc, now->argc, NULL, say, ctx, 0};
    if ((was->argc + 1) * (now->argc + 1) <= LCS_MAX_CELLS)
        d.t = lcs_table(d.a, d.na, d.b, d.nb);
    if (!d.t) {
        sayf(say, ctx, "%zu arguments (recorded: %zu)", now->argc, was->argc);
        return 1;
    }
    diff_args(&d);
    free(d.t);
    return d.said;
}

static int str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

static size_t place_diff(const wc_key1 *was, const wc_key1 *now, wc_explain_fn say, void *ctx)
{
    size_t said = 0;
    if (str_differs(was->cwd, now->cwd) && ++said)
        sayf(say, ctx, "working directory: %s (recorded: %s)", now->cwd ? now->cwd : "",
             was->cwd ? was->cwd : "");
    if (str_differs(was->abs_cwd, now->abs_cwd) && ++said)
        sayf(say, ctx, "absolute working directory: %s (recorded: %s)",
             now->abs_cwd ? now->abs_cwd : "(not part of the key)",
             was->abs_cwd ? was->abs_cwd : "(not part of the key)");
    if (str_differs(was->debug_dir, now->debug_dir) && ++said)
        sayf(say, ctx, "debug compile directory: %s (recorded: %s)",
             now->debug_dir ? now->debug_dir : "(none)",
             was->debug_dir ? was->debug_dir : "(none)");
    return said;
}

size_t wc_key1_diff(const wc_key1 *was, const wc_key1 *now, wc_explain_fn say, void *ctx)
{
    size_t said = 0;
    if (!wc_hash_equal(&was->program, &now->program) && ++said)
        sayf(say, ctx, "program %s: its content differs from the recorded one (a new version?)",
             now->argc ? now->argv[0] : "");
    said += argv_diff(was, now, say, ctx);
    said += place_diff(was, now, say, ctx);
    if (was->stderr_tty != now->stderr_tty && ++said)
        sayf(say, ctx, "stderr is %sa terminal (recorded: %sa terminal)",
             now->stderr_tty ? "" : "not ", was->stderr_tty ? "" : "not ");
    else if (was->tty_columns != now->tty_columns && ++said)
        sayf(say, ctx, "terminal width: %u columns (recorded: %u)", now->tty_columns,
             was->tty_columns);
    if (str_differs(was->cpu, now->cpu) && ++said)
        sayf(say, ctx, "host CPU (an argument says =native) differs from the recorded one");
    return said;
}

/* What --explain tells about each kind of place that does not hold. */
static const char *const place_told[WC_MF_PLACES] = {
    [WC_MF_ABSENT] = "output exists before the command (the recorded run created it)",
    [WC_MF_ODIR] = "output directory is missing now",
    [WC_MF_OUTPUT] = "output is a symbolic link or a directory now",
    [WC_MF_DENIED] = "now reachable (was denied when recorded)",
};

/* What is wrong with one input now: NULL when it holds, else "changed", "missing"... */
static const char *input_state(const struct wc_mf_input *in, const wc_basedirs *bd, wc_memo *memo)
{
    char *path = wc_mf_path_resolve(bd, in->path);
    if (!path)
        return "outside every base dir now";
    wc_hash h;
    int rc = wc_memo_hash(memo, path, &h, NULL, NULL);
    free(path);
    if (rc == -ENOENT || rc == -ENOTDIR)
        return "missing";
    if (rc < 0)
        return "unreadable";
    return wc_hash_equal(&h, &in->hash) ? NULL : "changed";
}

/* How many things keep set s from matching now. */
static size_t set_differences(const struct wc_mf_set *s, const wc_basedirs *bd, wc_memo *memo,
                              char *const *envp)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_env; i++)
        n += !wc_mf_env_holds(&s->env[i], envp, bd);
    for (size_t i = 0; i < s->n_probes; i++)
        n += !wc_mf_probe_holds(s->probes[i], bd);
    for (size_t i = 0; i < s->n_inputs; i++)
        n += input_state(&s->inputs[i], bd, memo) != NULL;
    for (int k = 0; k < WC_MF_PLACES; k++)
        for (size_t i = 0; i < s->places[k].n; i++)
            n += !wc_mf_place_holds(k, s->places[k].v[i], bd);
    return n;
}

/* A stored path as the user knows it: relative to cwd when that is shorter to read. */
static char *shown_path(const wc_basedirs *bd, const char *stored, const char *cwd)
{
    char *abs = wc_mf_path_resolve(bd, stored);
    if (!abs || !cwd)
        return abs ? abs : strdup(stored);
    char *rel = wc_path_relative(cwd, abs);
    if (rel && strncmp(rel, "../../../", 9) != 0) {
        free(abs);
        return rel;
    }
    free(rel);
    return abs;
}

static void tell_places(const struct wc_mf_set *s, const wc_basedirs *bd, const char *cwd,
                        wc_explain_fn say, void *ctx)
{
    for (int k = 0; k < WC_MF_PLACES; k++)
        for (size_t i = 0; i < s->places[k].n; i++) {
            const char *stored = s->places[k].v[i];
            if (wc_mf_place_holds(k, stored, bd))
                continue;
            char *p = shown_path(bd, stored, cwd);
            sayf(say, ctx, "  %s: %s", place_told[k], p ? p : stored);
            free(p);
        }
}

static void tell_env(const struct wc_mf_env *e, char *const *envp, wc_explain_fn say, void *ctx)
{
    const char *now = wc_env_value(envp, e->name);
    char was[1024];
    if (e->value)
        snprintf(was, sizeof was, "\"%s\"%s", e->value,
                 e->canonical ? ", in the form kept of it" : "");
    else
        snprintf(was, sizeof was, "unset");
    if (now)
        sayf(say, ctx, "  environment: %s=\"%s\" (recorded: %s)", e->name, now, was);
    else
        sayf(say, ctx, "  environment: %s is unset (recorded: %s)", e->name, was);
}

static void tell_set(const struct wc_mf_set *s, const wc_basedirs *bd, wc_memo *memo,
                     char *const *envp, const char *cwd, wc_explain_fn say, void *ctx)
{
    for (size_t i = 0; i < s->n_env; i++)
        if (!wc_mf_env_holds(&s->env[i], envp, bd))
            tell_env(&s->env[i], envp, say, ctx);
    for (size_t i = 0; i < s->n_inputs; i++) {
        const char *st = input_state(&s->inputs[i], bd, memo);
        if (!st)
            continue;
        char *p = shown_path(bd, s->inputs[i].path, cwd);
        sayf(say, ctx, "  %s: %s", st, p ? p : s->inputs[i].path);
        free(p);
    }
    for (size_t i = 0; i < s->n_probes; i++) {
        if (wc_mf_probe_holds(s->probes[i], bd))
            continue;
        char *p = shown_path(bd, s->probes[i], cwd);
        sayf(say, ctx, "  now exists (was missing when recorded): %s", p ? p : s->probes[i]);
        free(p);
    }
    tell_places(s, bd, cwd, say, ctx);
}

int wc_manifest_explain(const wc_manifest *m, const wc_basedirs *bd, wc_memo *memo,
                        char *const *envp, const char *cwd, wc_explain_fn say, void *ctx)
{
    size_t best = 0, best_n = (size_t)-1;
    for (size_t i = 0; i < m->n_sets; i++) {
        size_t n = set_differences(&m->sets[i], bd, memo, envp);
        if (n == 0)
            return (int)i;
        if (n < best_n) {
            best = i;
            best_n = n;
        }
    }
    if (m->n_sets == 0) {
        sayf(say, ctx, "no input set is recorded for this command");
        return -1;
    }
    sayf(say, ctx, "closest of %zu recorded input sets: %zu difference%s", m->n_sets, best_n,
         best_n == 1 ? "" : "s");
    tell_set(&m->sets[best], bd, memo, envp, cwd, say, ctx);
    return -1;
}
