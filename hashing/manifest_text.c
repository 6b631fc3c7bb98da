/* The manifest's text format (version 4, described in manifest.h; version 3 is read too): writing a
 * manifest out and parsing one back, bounding everything a store someone else controls could send.
 */
#include "hashing/manifest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MF_MAGIC "wafcache-manifest 4"
/* Version 3 is version 4 without "at" lines: still read, so that its hits are kept. */
#define MF_MAGIC_V3 "wafcache-manifest 3"

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

/* s[0..len) escaped so that it fits on one line. */
static void buf_esc_n(struct buf *b, const char *s, size_t len)
{
    const char *end = s + len;
    while (s < end) {
        size_t n = 0;
        while (s + n < end && s[n] != '\\' && s[n] != '\n' && s[n] != '\t' && s[n] != '\r')
            n++;
        buf_put(b, s, n);
        s += n;
        if (s == end)
            break;
        const char *e = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : *s == '\t' ? "\\t" : "\\r";
        buf_put(b, e, 2);
        s++;
    }
}

static void buf_esc(struct buf *b, const char *s)
{
    buf_esc_n(b, s, strlen(s));
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

static const char *const place_tags[WC_MF_PLACES] = {"absent", "odir", "output", "denied"};

static void format_outplaces(struct buf *b, const struct wc_mf_set *s)
{
    for (int k = 0; k < WC_MF_PLACES; k++)
        for (size_t i = 0; i < s->places[k].n; i++)
            buf_item(b, place_tags[k], s->places[k].v[i]);
}

/* "env NAME=value" / "envc NAME=form" / "envu NAME": the name never holds '=', the value
 * may. */
static void format_env(struct buf *b, const struct wc_mf_set *s)
{
    for (size_t i = 0; i < s->n_env; i++) {
        buf_str(b, !s->env[i].value ? "envu " : s->env[i].canonical ? "envc " : "env ");
        buf_esc(b, s->env[i].name);
        if (s->env[i].value) {
            buf_str(b, "=");
            buf_esc(b, s->env[i].value);
        }
        buf_str(b, "\n");
    }
}

/* The directory an input's or a probe's path is written under, as a name: "d/name" with a
 * non-empty d and a name that cannot be taken for a whole path. 0: written whole. */
static size_t dir_part(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t t = strlen(WC_BASEDIR_TOKEN);
    if (!slash || slash == path || !slash[1] || strncmp(slash + 1, WC_BASEDIR_TOKEN, t) == 0)
        return 0;
    return (size_t)(slash - path);
}

/* What an input's or a probe's line holds of its path: its name, after an "at <dir>" line
 * when its directory is not the current one (*cur, *cur_len: the last "at"); else the whole
 * path. Probes are all the include directories times the headers looked for: without the
 * prefix, zstd finds each directory's run of names again in the next one, and 6,000 probes
 * compress to a tenth of what whole paths do. */
static const char *format_at(struct buf *b, const char *path, const char **cur, size_t *cur_len)
{
    size_t d = dir_part(path);
    if (d == 0)
        return path;
    if (d != *cur_len || memcmp(path, *cur, d) != 0) {
        buf_str(b, "at ");
        buf_esc_n(b, path, d);
        buf_str(b, "\n");
        *cur = path;
        *cur_len = d;
    }
    return path + d + 1;
}

static void format_set(struct buf *b, const struct wc_mf_set *s)
{
    const char *cur = NULL;
    size_t cur_len = 0;
    char line[160];
    buf_str(b, "set ");
    buf_hash(b, &s->result);
    snprintf(line, sizeof line, " %d %zu %zu\n", s->date ? 1 : 0, s->n_inputs, s->n_probes);
    buf_str(b, line);
    for (size_t i = 0; i < s->n_inputs; i++) {
        const struct wc_mf_input *in = &s->inputs[i];
        const char *name = format_at(b, in->path, &cur, &cur_len);
        buf_str(b, in->stamped ? "ins " : "in ");
        buf_hash(b, &in->hash);
        if (in->stamped) {
            format_stamp(line, sizeof line, &in->stamp);
            buf_str(b, line);
        }
        buf_item(b, "", name);
    }
    for (size_t i = 0; i < s->n_probes; i++)
        buf_item(b, "probe", format_at(b, s->probes[i], &cur, &cur_len));
    for (size_t i = 0; i < s->n_dirs; i++) {
        memcpy(line, "pdir", 4);
        format_stamp(line + 4, sizeof line - 4, &s->dirs[i].stamp);
        buf_item(b, line, s->dirs[i].path);
    }
    for (size_t i = 0; i < s->n_gone; i++)
        buf_item(b, "pgone", s->gone[i]);
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
static char *unescape_under(const char *dir, size_t dlen, const char *s, size_t n, int *err);

static char *unescape(const char *s, size_t n, int *err)
{
    return unescape_under(NULL, 0, s, n, err);
}

/* malloc'd "dir/" (when dir) followed by s[0..n) unescaped, in one allocation: a manifest's
 * paths are mostly names under an "at" directory, and a hit parses hundreds of them. NULL
 * with *err set on a bad escape, a NUL or OOM. */
static char *unescape_under(const char *dir, size_t dlen, const char *s, size_t n, int *err)
{
    size_t plen = dir ? dlen + 1 : 0;
    char *out = malloc(plen + n + 1), *o = out + plen;
    if (!out) {
        *err = -ENOMEM;
        return NULL;
    }
    if (dir) {
        memcpy(out, dir, dlen);
        out[dlen] = '/';
    }
    /* Almost every field has nothing to unescape: memchr's vector scans answer that for a
     * fraction of the per-byte loop's cost, which was a fifth of a hit's instructions. */
    if (!memchr(s, '\\', n) && !memchr(s, '\0', n) && !memchr(s, '\r', n) && !memchr(s, '\t', n)) {
        memcpy(o, s, n);
        o[n] = '\0';
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

/* Any "at <dir>" lines before an input or a probe: the last one is the current directory
 * (*dir, malloc'd). The cursor is left on the item's line. */
static int parse_at(struct cursor *c, char **dir)
{
    const char *rest;
    size_t n;
    int err = 0;
    while (tagged(c, "at", &rest, &n)) {
        free(*dir);
        if (!(*dir = unescape(rest, n, &err)))
            return err;
        if (!valid_path(*dir) || !next_line(c))
            return -EINVAL; /* *dir is freed by the caller */
    }
    return 0;
}

/* The path of an input's or a probe's line s[0..n): whole (absolute or the base-dir token),
 * or a name (no '/', which no escape gives) under dir, joined byte for byte as the writer
 * split it ("a//b" stays so). malloc'd, or NULL with *err. */
static char *item_path(const char *s, size_t n, const char *dir, int *err)
{
    size_t t = strlen(WC_BASEDIR_TOKEN);
    int whole = (n > 0 && s[0] == '/') || (n >= t && memcmp(s, WC_BASEDIR_TOKEN, t) == 0);
    char *p = NULL;
    *err = 0;
    if (whole)
        p = unescape(s, n, err);
    else if (dir && n > 0 && !memchr(s, '/', n))
        p = unescape_under(dir, strlen(dir), s, n, err);
    if (p && !valid_path(p)) {
        free(p);
        p = NULL;
    }
    if (!p && *err == 0)
        *err = -EINVAL;
    return p;
}

static int parse_input(struct cursor *c, struct wc_mf_input *in, char **dir)
{
    const char *rest, *p;
    size_t n;
    int err = 0;
    if (!next_line(c) || (err = parse_at(c, dir)) < 0)
        return err < 0 ? err : -EINVAL;
    in->stamped = tagged(c, "ins", &rest, &n);
    if ((!in->stamped && !tagged(c, "in", &rest, &n)) || n < WC_HASH_HEX_LEN + 2 ||
        rest[WC_HASH_HEX_LEN] != ' ' || parse_hex(rest, WC_HASH_HEX_LEN, &in->hash) < 0)
        return -EINVAL;
    p = rest + WC_HASH_HEX_LEN + 1;
    if (in->stamped && parse_stamp(&p, rest + n, &in->stamp) < 0)
        return -EINVAL;
    in->path = item_path(p, (size_t)(rest + n - p), *dir, &err);
    return in->path ? 0 : err;
}

static int parse_probe(struct cursor *c, char **out, char **dir)
{
    const char *rest;
    size_t n;
    int err = 0;
    if (!next_line(c) || (err = parse_at(c, dir)) < 0 || !tagged(c, "probe", &rest, &n))
        return err < 0 ? err : -EINVAL;
    *out = item_path(rest, n, *dir, &err);
    return *out ? 0 : err;
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
    e->canonical = !unset && tagged(c, "envc", &rest, &n);
    if (!unset && !e->canonical && !tagged(c, "env", &rest, &n)) {
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

/* The inputs and the probes, with the directory of their "at" lines. */
static int parse_items(struct cursor *c, struct wc_mf_set *s, size_t ni, size_t np)
{
    char *dir = NULL;
    int err = 0;
    for (; err == 0 && s->n_inputs < ni; s->n_inputs++)
        err = parse_input(c, &s->inputs[s->n_inputs], &dir);
    for (; err == 0 && s->n_probes < np; s->n_probes++)
        err = parse_probe(c, &s->probes[s->n_probes], &dir);
    free(dir);
    return err; /* the counts include a half-parsed item, so that it is freed */
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
    if ((err = parse_items(c, s, ni, np)) < 0)
        return err;
    if ((err = parse_dirs(c, s)) < 0 || (err = parse_place(c, "pgone", &s->gone, &s->n_gone)) < 0)
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
    if (!next_line(c) || c->len != strlen(MF_MAGIC) ||
        (memcmp(c->line, MF_MAGIC, c->len) != 0 && memcmp(c->line, MF_MAGIC_V3, c->len) != 0))
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
