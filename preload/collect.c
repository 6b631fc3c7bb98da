/* From what the real command did (the observation channel) to what the cache keeps: the input
 * set of the manifest and the list of outputs of the entry -- or the reason not to keep it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/runner.h"

static int under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    while (n > 0 && dir[n - 1] == '/')
        n--;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Kernel interfaces, not files: their contents say nothing about the outputs. */
static int is_system(const char *path)
{
    return under(path, "/proc") || under(path, "/sys") || under(path, "/dev");
}

static int not_cached(struct wc_collect *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int not_cached(struct wc_collect *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, sizeof x->why, fmt, ap);
    va_end(ap);
    return 1;
}

/* Executables, libraries, objects and precompiled headers hold the strings "__DATE__" and
 * "__TIME__" (cc1 implements them) without making the output depend on the clock. */
static int is_binary(const char *path)
{
    unsigned char b[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n >= 4 && memcmp(b, "\177ELF", 4) == 0)
        return 1;
    if (n >= 4 && memcmp(b, "gpch", 4) == 0)
        return 1;
    return n == 8 && memcmp(b, "!<arch>\n", 8) == 0;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static int add_input(struct wc_mf_set *set, size_t *cap, char *stored, const wc_hash *h,
                     const struct stat *st)
{
    if (set->n_inputs == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        struct wc_mf_input *p = realloc(set->inputs, nc * sizeof *p);
        if (!p) {
            free(stored);
            return -ENOMEM;
        }
        set->inputs = p;
        *cap = nc;
    }
    struct wc_mf_input *in = &set->inputs[set->n_inputs++];
    in->path = stored;
    in->hash = *h;
    in->stamped = wc_stamp_of(st, &in->stamp);
    return 0;
}

static int add_probe(struct wc_mf_set *set, size_t *cap, char *stored)
{
    if (set->n_probes == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        char **p = realloc(set->probes, nc * sizeof *p);
        if (!p) {
            free(stored);
            return -ENOMEM;
        }
        set->probes = p;
        *cap = nc;
    }
    set->probes[set->n_probes++] = stored;
    return 0;
}

struct caps {
    size_t inputs, probes, outputs;
};

/* A file the command read: hashed now (after the run) and checked to be older than the run,
 * so that what we record is what the command saw. */
static int take_input(struct wc_collect *x, const struct wc_path_event *e, struct wc_mf_set *set,
                      struct caps *caps)
{
    wc_hash h;
    struct stat st;
    unsigned flags = 0;
    int rc = wc_memo_hash(x->memo, e->path, &h, &st, &flags);
    if (rc == -EISDIR || rc == -EINVAL)
        return 0; /* a directory listed, a device or fifo opened: not content */
    if (rc == -ENOENT || rc == -ENOTDIR)
        return not_cached(x, "input %s vanished during the run", e->path);
    if (rc < 0)
        return not_cached(x, "cannot hash input %s: %s", e->path, strerror(-rc));
    if (ts_ns(&st.st_mtim) >= x->start_ns || ts_ns(&st.st_ctim) >= x->start_ns)
        return not_cached(x, "input %s modified during the run", e->path);
    int source = !(e->flags & (WC_EV_EXEC | WC_EV_LIB));
    if (source && !x->source_date_epoch && (flags & (WC_CONTENT_DATE | WC_CONTENT_TIME)) &&
        !is_binary(e->path)) {
        if (flags & WC_CONTENT_TIME)
            return not_cached(x, "%s uses __TIME__ and SOURCE_DATE_EPOCH is unset", e->path);
        set->date = 1;
    }
    char *stored = wc_mf_path_store(x->primary, e->path);
    if (!stored)
        return -ENOMEM;
    return add_input(set, &caps->inputs, stored, &h, &st);
}

/* A path probed and found missing: it must still be missing, or the run raced with someone
 * creating it and what we would record is not what the command saw. */
static int take_probe(struct wc_collect *x, const struct wc_path_event *e, struct wc_mf_set *set,
                      struct caps *caps)
{
    struct stat st;
    if (stat(e->path, &st) == 0)
        return not_cached(x, "%s appeared during the run", e->path);
    if (errno != ENOENT && errno != ENOTDIR)
        return not_cached(x, "cannot check %s: %s", e->path, strerror(errno));
    char *stored = wc_mf_path_store(x->primary, e->path);
    if (!stored)
        return -ENOMEM;
    return add_probe(set, &caps->probes, stored);
}

/* Temporary files a compiler leaves behind are not outputs, unless the build itself lives
 * there. */
static int is_stray_temp(struct wc_collect *x, const char *path)
{
    const char *tmp = getenv("TMPDIR");
    int in_tmp = under(path, "/tmp") || under(path, "/var/tmp") ||
                 (tmp && tmp[0] == '/' && under(path, tmp));
    return in_tmp && !under(path, x->cwd) && !under(path, x->root) &&
           wc_basedir_prefix(x->bd, path) == 0;
}

/* An output's path in the entry: relative to root (the first base dir, or the cwd when there
 * is none), absolute outside every base dir. Under another base dir an absolute path would be
 * restored into the first checkout by a build of the second: not cached. */
static int output_path(struct wc_collect *x, const char *path, char **out)
{
    *out = NULL;
    if (under(path, x->root)) {
        size_t n = strlen(x->root);
        while (n > 0 && x->root[n - 1] == '/')
            n--;
        if (path[n] != '/')
            return not_cached(x, "output %s is a directory", path);
        *out = strdup(path + n + 1);
    } else if (wc_basedir_prefix(x->bd, path) > 0) {
        return not_cached(x, "output %s is under another base dir", path);
    } else {
        *out = strdup(path);
    }
    return *out ? 0 : -ENOMEM;
}

static int take_output(struct wc_collect *x, const struct wc_path_event *e,
                       struct wc_entry_meta *meta, struct caps *caps)
{
    struct stat st;
    if (is_stray_temp(x, e->path))
        return 0;
    /* Written, never removed by the command, and gone: someone else removed it (make deletes
     * the target of a job it interrupts). An entry without it would later "hit" and leave
     * the build without that file. */
    if (lstat(e->path, &st) < 0)
        return not_cached(x, "output %s vanished during the run", e->path);
    if (!S_ISREG(st.st_mode))
        return 0;
    char *p;
    int rc = output_path(x, e->path, &p);
    if (rc != 0)
        return rc;
    if (meta->n_outputs == caps->outputs) {
        size_t nc = caps->outputs ? caps->outputs * 2 : 8;
        struct wc_output *o = realloc(meta->outputs, nc * sizeof *o);
        if (!o) {
            free(p);
            return -ENOMEM;
        }
        meta->outputs = o;
        caps->outputs = nc;
    }
    memset(&meta->outputs[meta->n_outputs], 0, sizeof *meta->outputs);
    meta->outputs[meta->n_outputs++].path = p;
    return 0;
}

/* The observer itself is loaded into every process of the command and changes none of its
 * outputs: a new version of wafcache must not invalidate the cache. */
static int is_observer(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && strcmp(slash + 1, "libwafcache.so") == 0;
}

static int take(struct wc_collect *x, const struct wc_path_event *e, struct wc_mf_set *set,
                struct wc_entry_meta *meta, struct caps *caps)
{
    if (is_system(e->path) || (is_observer(e->path) && !(e->flags & WC_EV_WRITE)))
        return 0;
    if (x->ignore && strcmp(e->path, x->ignore) == 0)
        return 0;
    /* Written by the command and gone at its end: a temporary (gcc's driver writes the
     * expansion of an @file to /tmp for cc1 to read). The order of a read and a write seen
     * in two processes says nothing, each process's events being buffered on its own. */
    if ((e->flags & WC_EV_WRITE) && (e->flags & WC_EV_GONE))
        return 0;
    if (e->flags & WC_EV_INPLACE)
        return not_cached(x, "%s is both read and written", e->path);
    if (e->flags & WC_EV_WRITE)
        return take_output(x, e, meta, caps);
    if (e->flags & (WC_EV_READ | WC_EV_EXEC | WC_EV_LIB))
        return take_input(x, e, set, caps);
    if (e->flags & WC_EV_MISSING)
        return take_probe(x, e, set, caps);
    return 0;
}

int wc_collect(struct wc_collect *x, const struct wc_observation *obs, struct wc_mf_set *set,
               struct wc_entry_meta *meta)
{
    struct caps caps = {0, 0, 0};
    memset(set, 0, sizeof *set);
    memset(meta, 0, sizeof *meta);
    x->why[0] = '\0';
    if (!obs->complete)
        return not_cached(x, "incomplete observation: %s", obs->reason);
    if (obs->read_stdin)
        return not_cached(x, "the command read its standard input");
    if (obs->refuse[0])
        return not_cached(x, "%s", obs->refuse);
    for (size_t i = 0; i < obs->n; i++) {
        int rc = take(x, &obs->paths[i], set, meta, &caps);
        if (rc != 0)
            return rc;
    }
    if (meta->n_outputs == 0)
        return not_cached(x, "no output file");
    if (meta->n_outputs > WC_META_MAX_OUTPUTS)
        return not_cached(x, "too many outputs");
    wc_mf_set_canonical(set);
    return wc_mf_set_stamp_dirs(set, x->primary);
}
