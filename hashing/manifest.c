/* The manifest of a key1: format, parse, lookup and update. See manifest.h. */
#include "hashing/manifest.h"

#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MF_MAGIC "wafcache-manifest 2"

/* ---- a growing text buffer ---------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* s escaped so that it fits on one line. */
static void buf_esc(struct buf *b, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "\\\n\t\r");
        buf_put(b, s, n);
        s += n;
        if (!*s)
            break;
        const char *e = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : *s == '\t' ? "\\t" : "\\r";
        buf_put(b, e, 2);
        s++;
    }
}

static void buf_item(struct buf *b, const char *tag, const char *s)
{
    buf_str(b, tag);
    buf_str(b, " ");
    buf_esc(b, s);
    buf_str(b, "\n");
}

static void buf_hash(struct buf *b, const wc_hash *h)
{
    char hex[WC_HASH_HEX_LEN + 1];
    wc_hash_to_hex(h, hex);
    buf_str(b, hex);
}

/* ---- format ------------------------------------------------------------------------------- */

static void format_key1(struct buf *b, const wc_key1 *k)
{
    char line[64];
    buf_str(b, "key1 ");
    buf_hash(b, &k->key);
    buf_str(b, "\nprogram ");
    buf_hash(b, &k->program);
    buf_str(b, "\n");
    buf_item(b, "cwd", k->cwd ? k->cwd : "");
    if (k->abs_cwd)
        buf_item(b, "abscwd", k->abs_cwd);
    if (k->debug_dir)
        buf_item(b, "debugdir", k->debug_dir);
    snprintf(line, sizeof line, "tty %d %u\n", k->stderr_tty ? 1 : 0, k->tty_columns);
    buf_str(b, line);
    if (k->cpu)
        buf_item(b, "cpu", k->cpu);
    for (size_t i = 0; i < k->argc; i++)
        buf_item(b, "arg", k->argv[i]);
}

/* " <dev> <ino> <size> <mtime_ns> <ctime_ns>" */
static void format_stamp(char *line, size_t n, const struct wc_stamp *st)
{
    snprintf(line, n, " %llu %llu %llu %lld %lld", (unsigned long long)st->dev,
             (unsigned long long)st->ino, (unsigned long long)st->size, (long long)st->mtime_ns,
             (long long)st->ctime_ns);
}

static const char *const place_tags[WC_MF_PLACES] = {"absent", "odir", "output"};

static void format_outplaces(struct buf *b, const struct wc_mf_set *s)
{
    for (int k = 0; k < WC_MF_PLACES; k++)
        for (size_t i = 0; i < s->places[k].n; i++)
            buf_item(b, place_tags[k], s->places[k].v[i]);
}

/* "env NAME=value" / "envu NAME": the name never holds '=', the value may. */
static void format_env(struct buf *b, const struct wc_mf_set *s)
{
    for (size_t i = 0; i < s->n_env; i++) {
        buf_str(b, s->env[i].value ? "env " : "envu ");
        buf_esc(b, s->env[i].name);
        if (s->env[i].value) {
            buf_str(b, "=");
            buf_esc(b, s->env[i].value);
        }
        buf_str(b, "\n");
    }
}

static void format_set(struct buf *b, const struct wc_mf_set *s)
{
    char line[160];
    buf_str(b, "set ");
    buf_hash(b, &s->result);
    snprintf(line, sizeof line, " %d %zu %zu\n", s->date ? 1 : 0, s->n_inputs, s->n_probes);
    buf_str(b, line);
    for (size_t i = 0; i < s->n_inputs; i++) {
        const struct wc_mf_input *in = &s->inputs[i];
        buf_str(b, in->stamped ? "ins " : "in ");
        buf_hash(b, &in->hash);
        if (in->stamped) {
            format_stamp(line, sizeof line, &in->stamp);
            buf_str(b, line);
        }
        buf_item(b, "", in->path);
    }
    for (size_t i = 0; i < s->n_probes; i++)
        buf_item(b, "probe", s->probes[i]);
    for (size_t i = 0; i < s->n_dirs; i++) {
        memcpy(line, "pdir", 4);
        format_stamp(line + 4, sizeof line - 4, &s->dirs[i].stamp);
        buf_item(b, line, s->dirs[i].path);
    }
    format_env(b, s);
    format_outplaces(b, s);
}

char *wc_manifest_format(const wc_manifest *m, size_t *len)
{
    struct buf b = {0};
    buf_str(&b, MF_MAGIC "\n");
    format_key1(&b, &m->k1);
    for (size_t i = 0; i < m->n_sets; i++)
        format_set(&b, &m->sets[i]);
    buf_str(&b, "end\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* ---- parse -------------------------------------------------------------------------------- */

struct cursor {
    const char *p, *end;
    const char *line; /* the current line, without its '\n' */
    size_t len;
};

/* Next line; 0 at the end of the buffer or when the last line lacks its '\n' (a truncated
 * file is garbage, never half a manifest). */
static int next_line(struct cursor *c)
{
    if (c->p >= c->end)
        return 0;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    if (!nl)
        return 0;
    c->line = c->p;
    c->len = (size_t)(nl - c->p);
    c->p = nl + 1;
    return 1;
}

/* When the current line is "<tag> <rest>", point *rest at rest and give its length. */
static int tagged(const struct cursor *c, const char *tag, const char **rest, size_t *n)
{
    size_t t = strlen(tag);
    if (c->len < t + 1 || memcmp(c->line, tag, t) != 0 || c->line[t] != ' ')
        return 0;
    *rest = c->line + t + 1;
    *n = c->len - t - 1;
    return 1;
}

/* malloc'd unescaped copy of s[0..n); NULL with *err set on a bad escape, a NUL or OOM. */
static char *unescape(const char *s, size_t n, int *err)
{
    char *out = malloc(n + 1), *o = out;
    if (!out) {
        *err = -ENOMEM;
        return NULL;
    }
    /* Almost every field has nothing to unescape: memchr's vector scans answer that for a
     * fraction of the per-byte loop's cost, which was a fifth of a hit's instructions. */
    if (!memchr(s, '\\', n) && !memchr(s, '\0', n) && !memchr(s, '\r', n) && !memchr(s, '\t', n)) {
        memcpy(out, s, n);
        out[n] = '\0';
        return out;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\0' || ch == '\r' || ch == '\t')
            goto bad;
        if (ch == '\\') {
            if (++i >= n)
                goto bad;
            switch (s[i]) {
            case '\\':
                ch = '\\';
                break;
            case 'n':
                ch = '\n';
                break;
            case 't':
                ch = '\t';
                break;
            case 'r':
                ch = '\r';
                break;
            default:
                goto bad;
            }
        }
        *o++ = ch;
    }
    *o = '\0';
    return out;
bad:
    free(out);
    *err = -EINVAL;
    return NULL;
}

static int parse_hex(const char *s, size_t n, wc_hash *h)
{
    if (n != WC_HASH_HEX_LEN)
        return -EINVAL;
    char hex[WC_HASH_HEX_LEN + 1];
    memcpy(hex, s, n);
    hex[n] = '\0';
    return wc_hash_from_hex(hex, h) == 0 ? 0 : -EINVAL;
}

/* A decimal number without sign or leading junk, at most max. */
static int parse_num(const char *s, size_t n, unsigned long long max, unsigned long long *v)
{
    if (n == 0 || n > 20)
        return -EINVAL;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (x > (ULLONG_MAX - 9) / 10)
            return -EINVAL;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    if (x > max)
        return -EINVAL;
    *v = x;
    return 0;
}

/* Split "a b c ..." into exactly n space-separated words. */
static int words(const char *s, size_t len, const char **w, size_t *wl, size_t n)
{
    size_t k = 0, i = 0;
    while (k < n) {
        size_t j = i;
        while (j < len && s[j] != ' ')
            j++;
        if (j == i)
            return -EINVAL;
        w[k] = s + i;
        wl[k++] = j - i;
        if (j == len)
            break;
        i = j + 1;
    }
    return k == n && w[n - 1] + wl[n - 1] == s + len ? 0 : -EINVAL;
}

/* An optional string field "<tag> <str>": 1 when present (then *out is set), 0 when absent. */
static int opt_str(struct cursor *c, const char *tag, char **out, int *err)
{
    const char *rest;
    size_t n;
    if (!tagged(c, tag, &rest, &n))
        return 0;
    *out = unescape(rest, n, err);
    return *out ? 1 : -1;
}

/* A stored path: absolute, or the base-dir token followed by "/" or nothing. */
static int valid_path(const char *p)
{
    size_t t = strlen(WC_BASEDIR_TOKEN);
    if (p[0] == '/')
        return strlen(p) < PATH_MAX;
    return strncmp(p, WC_BASEDIR_TOKEN, t) == 0 && (p[t] == '\0' || p[t] == '/') &&
           strlen(p) < PATH_MAX;
}

/* Append a string item to a vector capped at WC_MANIFEST_MAX_ITEMS. */
static int push_str(char ***v, size_t *n, size_t *cap, char *s)
{
    if (*n >= WC_MANIFEST_MAX_ITEMS) {
        free(s);
        return -EINVAL;
    }
    if (*n + 1 >= *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **p = realloc(*v, nc * sizeof *p);
        if (!p) {
            free(s);
            return -ENOMEM;
        }
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = s;
    (*v)[*n] = NULL;
    return 0;
}

static int parse_tty(struct cursor *c, wc_key1 *k)
{
    const char *rest, *w[2];
    size_t n, wl[2];
    unsigned long long tty, cols;
    if (!tagged(c, "tty", &rest, &n) || words(rest, n, w, wl, 2) < 0 ||
        parse_num(w[0], wl[0], 1, &tty) < 0 || parse_num(w[1], wl[1], 1u << 20, &cols) < 0)
        return -EINVAL;
    k->stderr_tty = (int)tty;
    k->tty_columns = (unsigned)cols;
    return 0;
}

/* A repeated "<tag> <str>" item, as many as there are. */
static int parse_list(struct cursor *c, const char *tag, char ***v, size_t *n, int *more)
{
    size_t cap = 0;
    const char *rest;
    size_t len;
    int err = 0;
    *more = 1;
    while (tagged(c, tag, &rest, &len)) {
        char *s = unescape(rest, len, &err);
        if (!s)
            return err;
        if ((err = push_str(v, n, &cap, s)) < 0)
            return err;
        if (!next_line(c)) {
            *more = 0;
            return 0;
        }
    }
    if (!*v && !(*v = calloc(1, sizeof **v)))
        return -ENOMEM;
    return 0;
}

/* Optional fields in their fixed order; each present one moves the cursor on. */
static int parse_optional(struct cursor *c, const char *tag, char **out)
{
    int err = 0;
    int r = opt_str(c, tag, out, &err);
    if (r < 0)
        return err;
    if (r == 1 && !next_line(c))
        return -EINVAL;
    return 0;
}

static int parse_key1(struct cursor *c, wc_key1 *k)
{
    const char *rest;
    size_t n;
    int err = 0, more;
    if (!next_line(c) || !tagged(c, "key1", &rest, &n) || parse_hex(rest, n, &k->key) < 0)
        return -EINVAL;
    if (!next_line(c) || !tagged(c, "program", &rest, &n) || parse_hex(rest, n, &k->program) < 0)
        return -EINVAL;
    if (!next_line(c) || opt_str(c, "cwd", &k->cwd, &err) != 1)
        return err ? err : -EINVAL;
    if (!next_line(c))
        return -EINVAL;
    if ((err = parse_optional(c, "abscwd", &k->abs_cwd)) < 0 ||
        (err = parse_optional(c, "debugdir", &k->debug_dir)) < 0)
        return err;
    if ((err = parse_tty(c, k)) < 0 || !next_line(c))
        return -EINVAL;
    if ((err = parse_optional(c, "cpu", &k->cpu)) < 0)
        return err;
    if ((err = parse_list(c, "arg", &k->argv, &k->argc, &more)) < 0)
        return err;
    return more && k->argc > 0 ? 0 : -EINVAL;
}

static int parse_set_header(struct cursor *c, struct wc_mf_set *s, size_t *ni, size_t *np)
{
    const char *rest, *w[4];
    size_t n, wl[4];
    unsigned long long date, a, b;
    if (!tagged(c, "set", &rest, &n) || words(rest, n, w, wl, 4) < 0 ||
        parse_hex(w[0], wl[0], &s->result) < 0 || parse_num(w[1], wl[1], 1, &date) < 0 ||
        parse_num(w[2], wl[2], WC_MANIFEST_MAX_ITEMS, &a) < 0 ||
        parse_num(w[3], wl[3], WC_MANIFEST_MAX_ITEMS, &b) < 0)
        return -EINVAL;
    s->date = (int)date;
    *ni = (size_t)a;
    *np = (size_t)b;
    return 0;
}

/* The next space-separated word of [*p, end) as a number; a leading '-' when negative is
 * allowed. Moves *p past the word and its space. */
static int take_num(const char **p, const char *end, int negative_ok, long long *out)
{
    const char *w = *p, *sp = memchr(w, ' ', (size_t)(end - w));
    unsigned long long v, max = negative_ok ? LLONG_MAX : ULLONG_MAX;
    int neg = negative_ok && sp && sp > w && *w == '-';
    if (!sp || parse_num(w + neg, (size_t)(sp - w - neg), max, &v) < 0)
        return -EINVAL;
    *out = neg ? -(long long)v : (long long)v;
    *p = sp + 1;
    return 0;
}

static int parse_stamp(const char **p, const char *end, struct wc_stamp *st)
{
    long long v[5];
    for (int i = 0; i < 5; i++)
        if (take_num(p, end, i >= 3, &v[i]) < 0)
            return -EINVAL;
    st->dev = (uint64_t)v[0];
    st->ino = (uint64_t)v[1];
    st->size = (uint64_t)v[2];
    st->mtime_ns = v[3];
    st->ctime_ns = v[4];
    return 0;
}

static int parse_input(struct cursor *c, struct wc_mf_input *in)
{
    const char *rest, *p;
    size_t n;
    int err = 0;
    if (!next_line(c))
        return -EINVAL;
    in->stamped = tagged(c, "ins", &rest, &n);
    if ((!in->stamped && !tagged(c, "in", &rest, &n)) || n < WC_HASH_HEX_LEN + 2 ||
        rest[WC_HASH_HEX_LEN] != ' ' || parse_hex(rest, WC_HASH_HEX_LEN, &in->hash) < 0)
        return -EINVAL;
    p = rest + WC_HASH_HEX_LEN + 1;
    if (in->stamped && parse_stamp(&p, rest + n, &in->stamp) < 0)
        return -EINVAL;
    in->path = unescape(p, (size_t)(rest + n - p), &err);
    if (!in->path)
        return err;
    return valid_path(in->path) ? 0 : -EINVAL;
}

static int parse_probe(struct cursor *c, char **out)
{
    const char *rest;
    size_t n;
    int err = 0;
    if (!next_line(c) || !tagged(c, "probe", &rest, &n))
        return -EINVAL;
    if (!(*out = unescape(rest, n, &err)))
        return err;
    return valid_path(*out) ? 0 : -EINVAL;
}

/* One "pdir" line if the next line is one (else the cursor stays): 1, 0, or -errno. */
static int parse_dir(struct cursor *c, struct wc_mf_dir *d)
{
    struct cursor save = *c;
    const char *rest, *p;
    size_t n;
    int err = 0;
    if (!next_line(c) || !tagged(c, "pdir", &rest, &n)) {
        *c = save;
        return 0;
    }
    p = rest;
    if (parse_stamp(&p, rest + n, &d->stamp) < 0)
        return -EINVAL;
    if (!(d->path = unescape(p, (size_t)(rest + n - p), &err)))
        return err;
    return valid_path(d->path) ? 1 : -EINVAL;
}

/* The optional directory stamps, sorted and unique (the lookup bsearches them), no more of
 * them than probes. */
static int parse_dirs(struct cursor *c, struct wc_mf_set *s)
{
    int rc;
    if (s->n_probes == 0)
        return 0;
    if (!(s->dirs = calloc(s->n_probes, sizeof *s->dirs)))
        return -ENOMEM;
    while (s->n_dirs < s->n_probes && (rc = parse_dir(c, &s->dirs[s->n_dirs])) != 0) {
        s->n_dirs++; /* freed with the set even when half parsed */
        if (rc < 0)
            return rc;
        if (s->n_dirs > 1 && strcmp(s->dirs[s->n_dirs - 2].path, s->dirs[s->n_dirs - 1].path) >= 0)
            return -EINVAL;
    }
    return 0;
}

/* One "env"/"envu" line into e: 1, 0 when the next line is neither (the cursor stays), or
 * -errno. A name is non-empty and holds no '='. */
static int parse_env_line(struct cursor *c, struct wc_mf_env *e)
{
    struct cursor save = *c;
    const char *rest;
    size_t n;
    int err = 0, unset;
    if (!next_line(c)) {
        *c = save;
        return 0;
    }
    unset = tagged(c, "envu", &rest, &n);
    if (!unset && !tagged(c, "env", &rest, &n)) {
        *c = save;
        return 0;
    }
    if (!(e->name = unescape(rest, n, &err)))
        return err;
    char *eq = strchr(e->name, '=');
    if (!unset && eq) {
        if (!(e->value = strdup(eq + 1)))
            return -ENOMEM;
        *eq = '\0';
    } else if (!unset || eq) {
        return -EINVAL;
    }
    return e->name[0] ? 1 : -EINVAL;
}

/* The optional variables, sorted by name and unique (the lookup relies on neither, but a
 * manifest that is not canonical was not written by us). */
static int parse_env(struct cursor *c, struct wc_mf_set *s)
{
    size_t cap = 0;
    for (;;) {
        if (s->n_env == cap) {
            if (cap == WC_MANIFEST_MAX_ENV)
                return -EINVAL;
            size_t nc = cap ? cap * 2 : 16;
            struct wc_mf_env *p = realloc(s->env, nc * sizeof *p);
            if (!p)
                return -ENOMEM;
            s->env = p;
            cap = nc;
        }
        struct wc_mf_env *e = &s->env[s->n_env];
        memset(e, 0, sizeof *e);
        int rc = parse_env_line(c, e);
        if (rc == 0)
            return 0;
        s->n_env++; /* freed with the set even when half parsed */
        if (rc < 0)
            return rc;
        if (s->n_env > 1 && strcmp(s->env[s->n_env - 2].name, e->name) >= 0)
            return -EINVAL;
    }
}

/* The optional "<tag> <path>" lines of one kind of place: valid paths, strictly sorted (the
 * canonical order: a repeat or a disorder is garbage, as the result key would not be the one
 * recorded). */
static int parse_place(struct cursor *c, const char *tag, char ***v, size_t *n)
{
    size_t cap = 0;
    for (;;) {
        struct cursor save = *c;
        const char *rest;
        size_t len;
        int err = 0;
        if (!next_line(c) || !tagged(c, tag, &rest, &len)) {
            *c = save;
            return 0;
        }
        char *p = unescape(rest, len, &err);
        if (!p)
            return err;
        if ((err = push_str(v, n, &cap, p)) < 0)
            return err;
        if (!valid_path(p) || (*n > 1 && strcmp((*v)[*n - 2], p) >= 0))
            return -EINVAL;
    }
}

/* The counts are checked against what the buffer can hold before anything is allocated: a
 * line takes at least 8 bytes. */
static int parse_set(struct cursor *c, struct wc_mf_set *s)
{
    size_t ni, np;
    int err = parse_set_header(c, s, &ni, &np);
    if (err < 0)
        return err;
    if ((ni + np) > (size_t)(c->end - c->p) / 8)
        return -EINVAL;
    s->inputs = calloc(ni + 1, sizeof *s->inputs);
    s->probes = calloc(np + 1, sizeof *s->probes);
    if (!s->inputs || !s->probes)
        return -ENOMEM;
    for (; s->n_inputs < ni; s->n_inputs++)
        if ((err = parse_input(c, &s->inputs[s->n_inputs])) < 0) {
            s->n_inputs++; /* so that the half-parsed path is freed */
            return err;
        }
    for (; s->n_probes < np; s->n_probes++)
        if ((err = parse_probe(c, &s->probes[s->n_probes])) < 0) {
            s->n_probes++;
            return err;
        }
    if ((err = parse_dirs(c, s)) < 0)
        return err;
    if ((err = parse_env(c, s)) < 0)
        return err;
    for (int k = 0; k < WC_MF_PLACES; k++)
        if ((err = parse_place(c, place_tags[k], &s->places[k].v, &s->places[k].n)) < 0)
            return err;
    return 0;
}

static int parse_all(struct cursor *c, wc_manifest *m)
{
    int err;
    if (!next_line(c) || c->len != strlen(MF_MAGIC) || memcmp(c->line, MF_MAGIC, c->len) != 0)
        return -EINVAL;
    if ((err = parse_key1(c, &m->k1)) < 0)
        return err;
    /* parse_key1 leaves the cursor on the first line after the key1 fields. */
    while (!(c->len == 3 && memcmp(c->line, "end", 3) == 0)) {
        if (m->n_sets >= WC_MANIFEST_MAX_SETS)
            return -EINVAL;
        err = parse_set(c, &m->sets[m->n_sets++]);
        if (err < 0)
            return err;
        if (!next_line(c))
            return -EINVAL;
    }
    return c->p == c->end ? 0 : -EINVAL;
}

int wc_manifest_parse(const char *buf, size_t len, wc_manifest *m)
{
    memset(m, 0, sizeof *m);
    if (len > WC_MANIFEST_MAX_LEN)
        return -EINVAL;
    struct cursor c = {buf, buf + len, NULL, 0};
    int err = parse_all(&c, m);
    if (err < 0)
        wc_manifest_free(m);
    return err;
}

/* ---- sets --------------------------------------------------------------------------------- */

void wc_mf_set_free(struct wc_mf_set *s)
{
    for (size_t i = 0; s->inputs && i < s->n_inputs; i++)
        free(s->inputs[i].path);
    for (size_t i = 0; s->probes && i < s->n_probes; i++)
        free(s->probes[i]);
    for (size_t i = 0; s->dirs && i < s->n_dirs; i++)
        free(s->dirs[i].path);
    for (size_t i = 0; s->env && i < s->n_env; i++) {
        free(s->env[i].name);
        free(s->env[i].value);
    }
    for (int k = 0; k < WC_MF_PLACES; k++) {
        for (size_t i = 0; i < s->places[k].n; i++)
            free(s->places[k].v[i]);
        free(s->places[k].v);
    }
    free(s->inputs);
    free(s->probes);
    free(s->dirs);
    free(s->env);
    memset(s, 0, sizeof *s);
}

void wc_manifest_free(wc_manifest *m)
{
    wc_key1_free(&m->k1);
    for (size_t i = 0; i < m->n_sets; i++)
        wc_mf_set_free(&m->sets[i]);
    memset(m, 0, sizeof *m);
}

static int cmp_input(const void *a, const void *b)
{
    return strcmp(((const struct wc_mf_input *)a)->path, ((const struct wc_mf_input *)b)->path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_dir_path(const void *a, const void *b)
{
    return strcmp(((const struct wc_mf_dir *)a)->path, ((const struct wc_mf_dir *)b)->path);
}

/* Sort a vector of malloc'd strings, freeing repeats. */
static void sort_unique(char **v, size_t *n)
{
    if (*n < 2)
        return;
    qsort(v, *n, sizeof *v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < *n; i++) {
        if (strcmp(v[i], v[k - 1]) == 0)
            free(v[i]);
        else
            v[k++] = v[i];
    }
    *n = k;
}

void wc_mf_set_canonical(struct wc_mf_set *s)
{
    if (s->n_inputs > 1) {
        qsort(s->inputs, s->n_inputs, sizeof *s->inputs, cmp_input);
        size_t k = 1;
        for (size_t i = 1; i < s->n_inputs; i++) {
            if (strcmp(s->inputs[i].path, s->inputs[k - 1].path) == 0)
                free(s->inputs[i].path);
            else
                s->inputs[k++] = s->inputs[i];
        }
        s->n_inputs = k;
    }
    sort_unique(s->probes, &s->n_probes);
    for (int k = 0; k < WC_MF_PLACES; k++)
        sort_unique(s->places[k].v, &s->places[k].n);
}

static int cmp_env(const void *a, const void *b)
{
    const struct wc_mf_env *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    /* Stable for equal names: the first added stays first. */
    return c ? c : (x < y ? -1 : x > y);
}

void wc_mf_set_env_canonical(struct wc_mf_set *s)
{
    if (s->n_env < 2)
        return;
    qsort(s->env, s->n_env, sizeof *s->env, cmp_env);
    size_t k = 1;
    for (size_t i = 1; i < s->n_env; i++) {
        if (strcmp(s->env[i].name, s->env[k - 1].name) == 0) {
            free(s->env[i].name);
            free(s->env[i].value);
        } else {
            s->env[k++] = s->env[i];
        }
    }
    s->n_env = k;
}

void wc_result_key(const wc_hash *key1, const struct wc_mf_set *s, const char *date, wc_hash *out)
{
    wc_sig g;
    wc_sig_init(&g);
    wc_sig_add_str(&g, "wafcache result");
    wc_sig_add_u64(&g, WC_SIGNATURE_VERSION);
    wc_sig_add_hash(&g, key1);
    wc_sig_add_u64(&g, s->n_inputs);
    for (size_t i = 0; i < s->n_inputs; i++) {
        wc_sig_add_str(&g, s->inputs[i].path);
        wc_sig_add_hash(&g, &s->inputs[i].hash);
    }
    wc_sig_add_u64(&g, s->n_probes);
    for (size_t i = 0; i < s->n_probes; i++)
        wc_sig_add_str(&g, s->probes[i]);
    wc_sig_add_u64(&g, s->n_env);
    for (size_t i = 0; i < s->n_env; i++) {
        wc_sig_add_str(&g, s->env[i].name);
        wc_sig_add_str(&g, s->env[i].value);
    }
    for (int k = 0; k < WC_MF_PLACES; k++) {
        wc_sig_add_u64(&g, s->places[k].n);
        for (size_t i = 0; i < s->places[k].n; i++)
            wc_sig_add_str(&g, s->places[k].v[i]);
    }
    /* Today is looked up only for the rare set that needs it: localtime reads the zone file,
     * five system calls on every hit otherwise. */
    char today[11];
    if (s->date && !date) {
        wc_today(today);
        date = today;
    }
    wc_sig_add_str(&g, s->date ? date : NULL);
    wc_sig_final(&g, out);
}

void wc_today(char buf[11])
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        gmtime_r(&now, &tm);
    if (strftime(buf, 11, "%Y-%m-%d", &tm) != 10)
        strcpy(buf, "0000-00-00");
}

static int same_opt_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_env(const struct wc_mf_set *a, const struct wc_mf_set *b)
{
    if (a->n_env != b->n_env)
        return 0;
    for (size_t i = 0; i < a->n_env; i++)
        if (strcmp(a->env[i].name, b->env[i].name) != 0 ||
            !same_opt_str(a->env[i].value, b->env[i].value))
            return 0;
    return 1;
}

static int same_places(const struct wc_mf_set *a, const struct wc_mf_set *b)
{
    for (int k = 0; k < WC_MF_PLACES; k++) {
        if (a->places[k].n != b->places[k].n)
            return 0;
        for (size_t i = 0; i < a->places[k].n; i++)
            if (strcmp(a->places[k].v[i], b->places[k].v[i]) != 0)
                return 0;
    }
    return 1;
}

static int same_set(const struct wc_mf_set *a, const struct wc_mf_set *b)
{
    if (a->n_inputs != b->n_inputs || a->n_probes != b->n_probes || a->date != b->date ||
        !same_places(a, b))
        return 0;
    for (size_t i = 0; i < a->n_inputs; i++)
        if (strcmp(a->inputs[i].path, b->inputs[i].path) != 0 ||
            !wc_hash_equal(&a->inputs[i].hash, &b->inputs[i].hash))
            return 0;
    for (size_t i = 0; i < a->n_probes; i++)
        if (strcmp(a->probes[i], b->probes[i]) != 0)
            return 0;
    return same_env(a, b);
}

void wc_manifest_add(wc_manifest *m, struct wc_mf_set *s)
{
    for (size_t i = 0; i < m->n_sets; i++) {
        if (!same_set(&m->sets[i], s))
            continue;
        wc_mf_set_free(&m->sets[i]);
        memmove(&m->sets[i], &m->sets[i + 1], (m->n_sets - i - 1) * sizeof *m->sets);
        m->n_sets--;
        break;
    }
    if (m->n_sets == WC_MANIFEST_MAX_SETS)
        wc_mf_set_free(&m->sets[--m->n_sets]);
    memmove(&m->sets[1], &m->sets[0], m->n_sets * sizeof *m->sets);
    m->sets[0] = *s;
    m->n_sets++;
    memset(s, 0, sizeof *s);
}

/* ---- key1 ingredients --------------------------------------------------------------------- */

static char **dup_vec(char *const *v, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            while (i > 0)
                free(out[--i]);
            free(out);
            return NULL;
        }
    return out;
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    return !src || (*dst = strdup(src)) ? 0 : -ENOMEM;
}

int wc_manifest_set_key1(wc_manifest *m, const wc_key1 *k)
{
    wc_key1 c = *k;
    c.argv = dup_vec(k->argv, k->argc);
    int a = dup_opt(&c.cwd, k->cwd), b = dup_opt(&c.abs_cwd, k->abs_cwd);
    int d = dup_opt(&c.debug_dir, k->debug_dir), e = dup_opt(&c.cpu, k->cpu);
    if (!c.argv || a || b || d || e) {
        if (!c.argv)
            c.argc = 0;
        wc_key1_free(&c);
        return -ENOMEM;
    }
    wc_key1_free(&m->k1);
    m->k1 = c;
    return 0;
}

/* ---- paths -------------------------------------------------------------------------------- */

/* Only the first base dir is stripped: wc_basedir_expand gives back dirs[0], and a path of
 * another base dir turned into the token would come back as a different file. */
static int under_dir(const char *path, const char *dir, size_t n)
{
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Whether a path with ".." components still lies under dir once they are taken lexically:
 * "<dir>/inc/../x.h" does, "<dir>/../other/x.h" does not. */
static int normal_under(const char *path, const char *dir, size_t n)
{
    size_t len = strlen(path);
    if (!strstr(path, "/../") && !(len >= 3 && strcmp(path + len - 3, "/..") == 0))
        return 1;
    char *norm = wc_path_normalize(path);
    int ok = norm && under_dir(norm, dir, n);
    free(norm);
    return ok;
}

char *wc_mf_path_store(const wc_basedirs *bd, const char *abs)
{
    if (!bd || bd->n == 0)
        return strdup(abs);
    size_t n = strlen(bd->dirs[0]);
    if (!under_dir(abs, bd->dirs[0], n) || !normal_under(abs, bd->dirs[0], n))
        return strdup(abs);
    size_t t = strlen(WC_BASEDIR_TOKEN), r = strlen(abs + n);
    char *s = malloc(t + r + 1);
    if (!s)
        return NULL;
    memcpy(s, WC_BASEDIR_TOKEN, t);
    memcpy(s + t, abs + n, r + 1);
    return s;
}

char *wc_mf_path_resolve(const wc_basedirs *bd, const char *stored)
{
    size_t t = strlen(WC_BASEDIR_TOKEN);
    if (strncmp(stored, WC_BASEDIR_TOKEN, t) != 0)
        return strdup(stored);
    if (!bd || bd->n == 0)
        return NULL;
    return wc_path_join(bd->dirs[0], stored + t + (stored[t] == '/'));
}

/* ---- lookup ------------------------------------------------------------------------------- */

/* The stamp first: the file as it was when the set was recorded on this machine has the
 * recorded hash, and that saves the memo lookup. Anything else goes by the hash. */
static int input_holds(const struct wc_mf_input *in, const wc_basedirs *bd, wc_memo *memo)
{
    char *path = wc_mf_path_resolve(bd, in->path);
    if (!path)
        return 0;
    wc_hash h;
    struct stat st;
    int rc = stat(path, &st) < 0 ? -errno : 0;
    if (rc == 0 && in->stamped && wc_stamp_matches(&in->stamp, &st)) {
        free(path);
        return 1;
    }
    if (rc == 0)
        rc = wc_memo_hash_stat(memo, path, &st, &h, NULL);
    free(path);
    return rc == 0 && wc_hash_equal(&h, &in->hash);
}

/* stat, not lstat: the command's open() followed symbolic links, so a dangling one is as
 * missing to it as no file at all. */
static int probe_holds(const char *stored, const wc_basedirs *bd)
{
    char *path = wc_mf_path_resolve(bd, stored);
    if (!path)
        return 0;
    struct stat st;
    int rc = stat(path, &st);
    int missing = rc < 0 && (errno == ENOENT || errno == ENOTDIR);
    free(path);
    return missing;
}

/* Probes are sorted, so the probes directly under one directory come in runs (mostly one):
 * the run that starts at probe i ends before the index returned, and its directory is
 * probes[i][0..*len). */
static size_t group_end(const struct wc_mf_set *s, size_t i, size_t *len)
{
    const char *p = s->probes[i], *slash = strrchr(p, '/');
    size_t j = i + 1;
    *len = slash ? (size_t)(slash - p) : 0;
    while (j < s->n_probes) {
        const char *q = s->probes[j], *qs = strrchr(q, '/');
        if (!qs || (size_t)(qs - q) != *len || strncmp(q, p, *len) != 0)
            break;
        j++;
    }
    return j;
}

static int cmp_dir_key(const void *key, const void *d)
{
    return strcmp(key, ((const struct wc_mf_dir *)d)->path);
}

/* The directory of a probe group (stored form: stored[0..len)) into *dir (malloc'd, NULL when
 * there is none), stat'ed into *st: 0, -errno from stat, or -EINVAL when it has no directory
 * part or cannot be resolved (a base dir token without a base dir). */
static int stat_group_dir(const char *stored, size_t len, const wc_basedirs *bd, char **dir,
                          struct stat *st)
{
    *dir = len > 0 ? strndup(stored, len) : NULL;
    char *path = *dir ? wc_mf_path_resolve(bd, *dir) : NULL;
    int rc = !path ? -EINVAL : stat(path, st) < 0 ? -errno : 0;
    free(path);
    return rc;
}

/* Whether a group's directory (stored form) answers for all its probes with one stat: when
 * it is missing, so is every path under it (gcc probes bits/, sys/, ... of every -I and
 * system directory for each header); when it is the version stamped at record time, nothing
 * was created in it since. */
static int group_holds(const struct wc_mf_set *s, const char *stored, size_t len,
                       const wc_basedirs *bd)
{
    struct stat st;
    char *dir;
    int rc = stat_group_dir(stored, len, bd, &dir, &st);
    int holds = rc == -ENOENT || rc == -ENOTDIR;
    if (rc == 0 && S_ISDIR(st.st_mode) && s->n_dirs > 0) {
        const struct wc_mf_dir *d = bsearch(dir, s->dirs, s->n_dirs, sizeof *s->dirs, cmp_dir_key);
        holds = d && wc_stamp_matches(&d->stamp, &st);
    }
    free(dir);
    return holds;
}

static int probes_hold(const struct wc_mf_set *s, const wc_basedirs *bd)
{
    for (size_t i = 0, len, end; i < s->n_probes; i = end) {
        end = group_end(s, i, &len);
        if (group_holds(s, s->probes[i], len, bd))
            continue;
        for (size_t k = i; k < end; k++)
            if (!probe_holds(s->probes[k], bd))
                return 0;
    }
    return 1;
}

int wc_mf_set_stamp_dirs(struct wc_mf_set *s, const wc_basedirs *bd)
{
    struct stat st;
    if (s->n_probes == 0 || !(s->dirs = calloc(s->n_probes, sizeof *s->dirs)))
        return s->n_probes == 0 ? 0 : -ENOMEM;
    for (size_t i = 0, len, end; i < s->n_probes; i = end) {
        end = group_end(s, i, &len);
        char *dir;
        struct wc_mf_dir *d = &s->dirs[s->n_dirs];
        if (stat_group_dir(s->probes[i], len, bd, &dir, &st) == 0 && S_ISDIR(st.st_mode) &&
            wc_stamp_of(&st, &d->stamp)) {
            d->path = dir;
            dir = NULL;
            s->n_dirs++;
        }
        free(dir);
    }
    /* The probes of one directory are not always neighbours ("a/b/c.h" < "a/b/sub/d.h" <
     * "a/b/z.h"): sort, then drop repeats. */
    qsort(s->dirs, s->n_dirs, sizeof *s->dirs, cmp_dir_path);
    size_t k = 0;
    for (size_t i = 0; i < s->n_dirs; i++) {
        if (k > 0 && strcmp(s->dirs[i].path, s->dirs[k - 1].path) == 0)
            free(s->dirs[i].path);
        else
            s->dirs[k++] = s->dirs[i];
    }
    s->n_dirs = k;
    return 0;
}

static int dir_holds(const char *stored, const wc_basedirs *bd)
{
    char *path = wc_mf_path_resolve(bd, stored);
    struct stat st;
    int rc = path ? stat(path, &st) : -1;
    free(path);
    return rc == 0 && S_ISDIR(st.st_mode);
}

/* lstat: a symbolic link is what must not be there. */
static int output_holds(const char *stored, const wc_basedirs *bd)
{
    char *path = wc_mf_path_resolve(bd, stored);
    struct stat st;
    int rc = path ? lstat(path, &st) : -1;
    int missing = rc < 0 && path && (errno == ENOENT || errno == ENOTDIR);
    free(path);
    return missing || (rc == 0 && S_ISREG(st.st_mode));
}

/* How each kind of place is checked, and told about by --explain when it does not hold. */
static const struct {
    int (*holds)(const char *stored, const wc_basedirs *bd);
    const char *told;
} place_checks[WC_MF_PLACES] = {
    {probe_holds, "output exists before the command (the recorded run created it)"},
    {dir_holds, "output directory is missing now"},
    {output_holds, "output is a symbolic link or a directory now"},
};

/* Each place as recorded: one stat each. */
static int places_hold(const struct wc_mf_set *s, const wc_basedirs *bd)
{
    for (int k = 0; k < WC_MF_PLACES; k++)
        for (size_t i = 0; i < s->places[k].n; i++)
            if (!place_checks[k].holds(s->places[k].v[i], bd))
                return 0;
    return 1;
}

const char *wc_env_value(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

/* Whether variable e has its recorded value (or is still unset) in envp. */
static int env_holds(const struct wc_mf_env *e, char *const *envp)
{
    return same_opt_str(e->value, wc_env_value(envp, e->name));
}

static int set_holds(const struct wc_mf_set *s, const wc_basedirs *bd, wc_memo *memo,
                     char *const *envp)
{
    /* The variables first: no system call. */
    for (size_t i = 0; i < s->n_env; i++)
        if (!env_holds(&s->env[i], envp))
            return 0;
    if (!places_hold(s, bd) || !probes_hold(s, bd))
        return 0;
    for (size_t i = 0; i < s->n_inputs; i++)
        if (!input_holds(&s->inputs[i], bd, memo))
            return 0;
    return 1;
}

int wc_manifest_lookup(const wc_manifest *m, const wc_basedirs *bd, wc_memo *memo,
                       char *const *envp, const char *date, wc_hash *result)
{
    for (size_t i = 0; i < m->n_sets; i++) {
        if (!set_holds(&m->sets[i], bd, memo, envp))
            continue;
        wc_result_key(&m->k1.key, &m->sets[i], date, result);
        return (int)i;
    }
    return -1;
}

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
        n += !env_holds(&s->env[i], envp);
    for (size_t i = 0; i < s->n_probes; i++)
        n += !probe_holds(s->probes[i], bd);
    for (size_t i = 0; i < s->n_inputs; i++)
        n += input_state(&s->inputs[i], bd, memo) != NULL;
    for (int k = 0; k < WC_MF_PLACES; k++)
        for (size_t i = 0; i < s->places[k].n; i++)
            n += !place_checks[k].holds(s->places[k].v[i], bd);
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
            if (place_checks[k].holds(stored, bd))
                continue;
            char *p = shown_path(bd, stored, cwd);
            sayf(say, ctx, "  %s: %s", place_checks[k].told, p ? p : stored);
            free(p);
        }
}

static void tell_env(const struct wc_mf_env *e, char *const *envp, wc_explain_fn say, void *ctx)
{
    const char *now = wc_env_value(envp, e->name);
    char was[1024];
    if (e->value)
        snprintf(was, sizeof was, "\"%s\"", e->value);
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
        if (!env_holds(&s->env[i], envp))
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
        if (probe_holds(s->probes[i], bd))
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
