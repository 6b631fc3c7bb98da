/* The manifest's input sets: canonical order, the result key, adding a set, the stored form
 * of paths, and matching the sets against the files and the environment now (a lookup). The
 * text format is in manifest_text.c, explanations in manifest_explain.c. */
#include "hashing/manifest.h"

#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- sets --------------------------------------------------------------------------------- */

void wc_mf_set_free(struct wc_mf_set *s)
{
    for (size_t i = 0; s->inputs && i < s->n_inputs; i++)
        free(s->inputs[i].path);
    for (size_t i = 0; s->probes && i < s->n_probes; i++)
        free(s->probes[i]);
    for (size_t i = 0; s->dirs && i < s->n_dirs; i++)
        free(s->dirs[i].path);
    for (size_t i = 0; s->gone && i < s->n_gone; i++)
        free(s->gone[i]);
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
    free(s->gone);
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
        wc_sig_add_u64(&g, (uint64_t)s->env[i].canonical);
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
            a->env[i].canonical != b->env[i].canonical ||
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

/* The stamped directory (index in s->dirs) nearest above a path (stored form), taking
 * components off its end; -1 when there is none. *below: the length of the stamped one's
 * path in it. */
static ssize_t stamped_above(const struct wc_mf_set *s, const char *path, size_t *below)
{
    char *p = strdup(path), *slash;
    ssize_t found = -1;
    while (p && found < 0 && (slash = strrchr(p, '/')) && slash > p) {
        *slash = '\0';
        const struct wc_mf_dir *d = bsearch(p, s->dirs, s->n_dirs, sizeof *s->dirs, cmp_dir_key);
        if (d) {
            found = d - s->dirs;
            *below = (size_t)(slash - p);
        }
    }
    free(p);
    return found;
}

/* The state of a set's stamped directories during one lookup, each stat'ed once however many
 * probe groups it answers for (a directory's probes are not always neighbours: "bits/a.h" <
 * "bits/types/b.h" < "bits/z.h"). */
enum { DIR_UNKNOWN, DIR_STAMPED, DIR_MISSING, DIR_CHANGED };

struct dir_states {
    const struct wc_mf_set *s;
    const wc_basedirs *bd;
    unsigned char *v; /* one per s->dirs */
};

static int dir_state(struct dir_states *ds, size_t i)
{
    if (ds->v[i] == DIR_UNKNOWN) {
        const struct wc_mf_dir *d = &ds->s->dirs[i];
        char *path = wc_mf_path_resolve(ds->bd, d->path);
        struct stat st;
        int rc = !path ? -EINVAL : stat(path, &st) < 0 ? -errno : 0;
        free(path);
        ds->v[i] = rc == -ENOENT || rc == -ENOTDIR ? DIR_MISSING
                   : rc == 0 && S_ISDIR(st.st_mode) && wc_stamp_matches(&d->stamp, &st)
                       ? DIR_STAMPED
                       : DIR_CHANGED;
    }
    return ds->v[i];
}

static int cmp_str_key(const void *key, const void *elem)
{
    return strcmp(key, *(char *const *)elem);
}

/* A group's directory (stored[0..len)) answered without a stat of its own: it is stamped and
 * still that version (nothing was created in it since), or missing now; or it was missing
 * when the set was recorded with no entry of its first missing component in the stamped
 * directory above it ("gone", wc_mf_set_stamp_dirs), and that one is still the same version
 * (or missing). 1 when answered; 0 when the directory is stamped and changed (its probes are
 * checked one by one); -1 when its own stat must tell. */
static int dir_answers(struct dir_states *ds, const char *stored, size_t len)
{
    const struct wc_mf_set *s = ds->s;
    char *dir = len > 0 ? strndup(stored, len) : NULL;
    const struct wc_mf_dir *d =
        dir && s->n_dirs ? bsearch(dir, s->dirs, s->n_dirs, sizeof *s->dirs, cmp_dir_key) : NULL;
    ssize_t i = -1;
    size_t below;
    if (d)
        i = d - s->dirs;
    else if (dir && s->n_gone && bsearch(dir, s->gone, s->n_gone, sizeof *s->gone, cmp_str_key))
        i = stamped_above(s, dir, &below);
    free(dir);
    if (i >= 0 && dir_state(ds, (size_t)i) != DIR_CHANGED)
        return 1;
    return d ? 0 : -1;
}

/* Whether a group's directory answers for all its probes with one stat: when it is missing,
 * so is every path under it (gcc probes bits/, sys/, ... of every -I and system directory for
 * each header). */
static int group_dir_missing(const char *stored, size_t len, const wc_basedirs *bd)
{
    struct stat st;
    char *dir;
    int rc = stat_group_dir(stored, len, bd, &dir, &st);
    free(dir);
    return rc == -ENOENT || rc == -ENOTDIR;
}

/* Each group of probes: answered by its directory (stamped, gone or missing), else one stat
 * per probe. A stamp that no longer matches is never a miss, only the end of the shortcut. */
static int probes_hold(const struct wc_mf_set *s, const wc_basedirs *bd)
{
    struct dir_states ds = {s, bd, calloc(s->n_dirs + 1, 1)};
    int holds = ds.v != NULL;
    for (size_t i = 0, len, end; holds && i < s->n_probes; i = end) {
        end = group_end(s, i, &len);
        int answer = dir_answers(&ds, s->probes[i], len);
        if (answer > 0 || (answer < 0 && group_dir_missing(s->probes[i], len, bd)))
            continue;
        for (size_t k = i; holds && k < end; k++)
            holds = probe_holds(s->probes[k], bd);
    }
    free(ds.v);
    return holds;
}

/* Whether a missing directory of probes (stored form) is one that a stamped directory above
 * it answers for: its first component below that one is a name (not "." or "..") with no
 * entry there -- lstat: a dangling symbolic link could come to point somewhere without the
 * stamped directory changing. While the stamped one is that version, the name is still
 * free, and nothing below it exists. */
static int is_gone(const struct wc_mf_set *s, const char *dir, const wc_basedirs *bd)
{
    size_t below;
    if (stamped_above(s, dir, &below) < 0)
        return 0;
    const char *c = dir + below + 1;
    size_t n = strcspn(c, "/");
    if (n == 0 || strncmp(c, ".", n) == 0 || strncmp(c, "..", n) == 0)
        return 0;
    char *first = strndup(dir, below + 1 + n);
    char *path = first ? wc_mf_path_resolve(bd, first) : NULL;
    struct stat st;
    int gone = path && lstat(path, &st) < 0 && errno == ENOENT;
    free(first);
    free(path);
    return gone;
}

/* The missing directories of s's probe groups that a stamped one answers for (s->dirs sorted):
 * sorted, unique. 0 or -ENOMEM. */
static int find_gone(struct wc_mf_set *s, const wc_basedirs *bd)
{
    if (s->n_dirs == 0)
        return 0;
    if (!(s->gone = calloc(s->n_probes, sizeof *s->gone)))
        return -ENOMEM;
    for (size_t i = 0, len, end; i < s->n_probes; i = end) {
        end = group_end(s, i, &len);
        char *dir = len > 0 ? strndup(s->probes[i], len) : NULL;
        if (dir && !bsearch(dir, s->dirs, s->n_dirs, sizeof *s->dirs, cmp_dir_key) &&
            is_gone(s, dir, bd)) {
            s->gone[s->n_gone++] = dir;
            dir = NULL;
        }
        free(dir);
    }
    sort_unique(s->gone, &s->n_gone);
    return 0;
}

/* The nearest existing directory above a missing one (stored forms: *dir is replaced by it),
 * stat'ed into *st. 0 or -errno. gcc looks for each header in bits/, sys/, ... of every
 * include directory, and for its programs in "12/../../../../x86_64-linux-gnu/bin": one
 * stamp above answers for all of them (find_gone). */
static int existing_above(char **dir, const wc_basedirs *bd, struct stat *st)
{
    char *slash;
    int rc = -ENOENT;
    while ((rc == -ENOENT || rc == -ENOTDIR) && (slash = strrchr(*dir, '/')) && slash > *dir) {
        *slash = '\0';
        char *path = wc_mf_path_resolve(bd, *dir);
        rc = !path ? -EINVAL : stat(path, st) < 0 ? -errno : 0;
        free(path);
    }
    return rc == 0 && S_ISDIR(st->st_mode) ? 0 : -ENOENT;
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
        int rc = stat_group_dir(s->probes[i], len, bd, &dir, &st);
        if (dir && rc == -ENOENT)
            rc = existing_above(&dir, bd, &st);
        if (rc == 0 && S_ISDIR(st.st_mode) && wc_stamp_of(&st, &d->stamp)) {
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
    return find_gone(s, bd);
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

int wc_path_unreachable(const char *path)
{
    struct stat st;
    char dot[PATH_MAX];
    if (stat(path, &st) < 0)
        return errno == EACCES;
    if (!S_ISDIR(st.st_mode) || (size_t)snprintf(dot, sizeof dot, "%s/.", path) >= sizeof dot)
        return 0;
    return stat(dot, &st) < 0 && errno == EACCES;
}

/* Once a denied path is reachable (another user, root, a chmod), what is there may be
 * found: the set no longer says what the command would see. */
static int denied_holds(const char *stored, const wc_basedirs *bd)
{
    char *path = wc_mf_path_resolve(bd, stored);
    int denied = path && wc_path_unreachable(path);
    free(path);
    return denied;
}

/* How each kind of place is checked. */
static int (*const place_checks[WC_MF_PLACES])(const char *stored, const wc_basedirs *bd) = {
    [WC_MF_ABSENT] = probe_holds,
    [WC_MF_ODIR] = dir_holds,
    [WC_MF_OUTPUT] = output_holds,
    [WC_MF_DENIED] = denied_holds,
};

int wc_mf_place_holds(enum wc_mf_place k, const char *stored, const wc_basedirs *bd)
{
    return place_checks[k](stored, bd);
}

int wc_mf_probe_holds(const char *stored, const wc_basedirs *bd)
{
    return probe_holds(stored, bd);
}

/* Each place as recorded: one stat each. */
static int places_hold(const struct wc_mf_set *s, const wc_basedirs *bd)
{
    for (int k = 0; k < WC_MF_PLACES; k++)
        for (size_t i = 0; i < s->places[k].n; i++)
            if (!place_checks[k](s->places[k].v[i], bd))
                return 0;
    return 1;
}

/* ---- canonical forms of variables ------------------------------------------------------- */

/* An absolute PATH entry that names nothing this user can search: "dir/." does not resolve
 * (missing, not a directory, or denied on the way). glibc's execvp and gcc's driver skip such
 * an entry, finding nothing there. A relative entry ("", ".") is kept: it follows the cwd. */
static int unsearchable(const char *entry, size_t n)
{
    char path[PATH_MAX];
    struct stat st;
    if (n == 0 || entry[0] != '/' || n + 3 > sizeof path)
        return 0;
    memcpy(path, entry, n);
    memcpy(path + n, "/.", 3);
    return stat(path, &st) < 0 && (errno == ENOENT || errno == ENOTDIR || errno == EACCES);
}

static int search_path_form(const char *value, char **out)
{
    size_t len = strlen(value), k = 0;
    char *form = malloc(len + 1);
    if (!form)
        return -ENOMEM;
    for (const char *p = value;; p++) {
        const char *end = strchrnul(p, ':');
        size_t n = (size_t)(end - p);
        if (!unsearchable(p, n)) {
            if (k > 0)
                form[k++] = ':';
            memcpy(form + k, p, n);
            k += n;
        }
        if (!*end)
            break;
        p = end;
    }
    form[k] = '\0';
    *out = form;
    return 1;
}

static int depfile_form(const char *value, const wc_basedirs *bd, char **out)
{
    const char *space = strchr(value, ' ');
    size_t n = space ? (size_t)(space - value) : strlen(value);
    char *file = strndup(value, n);
    char *stored = file && file[0] == '/' ? wc_mf_path_store(bd, file) : file;
    if (stored != file)
        free(file);
    if (!stored)
        return -ENOMEM;
    int rc = asprintf(out, "%s%s", stored, space ? space : "");
    free(stored);
    return rc < 0 ? -ENOMEM : 1;
}

int wc_env_canonical(const char *name, const char *value, const wc_basedirs *bd, char **out)
{
    *out = NULL;
    if (!value)
        return 0;
    if (strcmp(name, "PATH") == 0)
        return search_path_form(value, out);
    if (strcmp(name, "DEPENDENCIES_OUTPUT") == 0 || strcmp(name, "SUNPRO_DEPENDENCIES") == 0)
        return depfile_form(value, bd, out);
    return 0;
}

const char *wc_env_value(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
            return envp[i] + n + 1;
    return NULL;
}

int wc_mf_env_holds(const struct wc_mf_env *e, char *const *envp, const wc_basedirs *bd)
{
    const char *now = wc_env_value(envp, e->name);
    if (!e->canonical || !now)
        return same_opt_str(e->value, now);
    char *form = NULL;
    int holds = wc_env_canonical(e->name, now, bd, &form) > 0 && strcmp(form, e->value) == 0;
    free(form);
    return holds;
}

static int set_holds(const struct wc_mf_set *s, const wc_basedirs *bd, wc_memo *memo,
                     char *const *envp)
{
    /* The variables first: no system call. */
    for (size_t i = 0; i < s->n_env; i++)
        if (!wc_mf_env_holds(&s->env[i], envp, bd))
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
