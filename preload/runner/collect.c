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

#include "core/util.h"
#include "preload/runner/runner.h"

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

enum kind { TEXT, BINARY, PCH };

/* Executables, libraries and objects hold the strings "__DATE__" and "__TIME__" (cc1
 * implements them) without making the output depend on the clock. gcc's precompiled headers
 * ("gpch") hold them too, always, and whether a macro of the header uses them cannot be told
 * from the bytes: a .gch made from a header with "#define STAMP __TIME__" holds the name once,
 * as one made without does (the definition points at cc1's own identifier; measured with gcc
 * 12). clang's ("CPCH") hold a name only when the header uses it: they are scanned as text. */
static enum kind file_kind(const char *path)
{
    unsigned char b[8];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TEXT;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n >= 4 && memcmp(b, "gpch", 4) == 0)
        return PCH;
    if (n >= 4 && memcmp(b, "\177ELF", 4) == 0)
        return BINARY;
    return n == 8 && memcmp(b, "!<arch>\n", 8) == 0 ? BINARY : TEXT;
}

/* What the clock does to the run through content (an input's, or an argument's) that
 * mentions the date and time macros: nothing, a key that holds today's date, or not cached.
 * __TIMESTAMP__ is the mtime of the file being compiled, not the build's date: a touch
 * changes it and SOURCE_DATE_EPOCH does not fix it, so it is never cached. */
static int temporal(struct wc_collect *x, struct wc_mf_set *set, unsigned flags, const char *what)
{
    if (flags & WC_CONTENT_TIMESTAMP)
        return not_cached(x, "%s uses __TIMESTAMP__ (a file's mtime)", what);
    if (x->source_date_epoch)
        return 0;
    if (flags & WC_CONTENT_TIME)
        return not_cached(x, "%s uses __TIME__ and SOURCE_DATE_EPOCH is unset", what);
    if (flags & WC_CONTENT_DATE)
        set->date = 1;
    return 0;
}

/* Where an input's content meets the clock. A precompiled header may hide __TIME__ (see
 * file_kind): with SOURCE_DATE_EPOCH unset it counts as using it. */
static int input_temporal(struct wc_collect *x, const struct wc_path_event *e,
                          struct wc_mf_set *set, unsigned flags)
{
    if (e->flags & (WC_EV_EXEC | WC_EV_LIB))
        return 0;
    /* A .gch always mentions __TIME__: only files with a flag need a look at their kind. */
    enum kind k = flags ? file_kind(e->path) : TEXT;
    if (k == PCH && !x->source_date_epoch)
        return not_cached(
            x, "precompiled header %s may use __TIME__ and SOURCE_DATE_EPOCH is unset", e->path);
    return k == TEXT ? temporal(x, set, flags, e->path) : 0;
}

/* -DSTAMP=__TIME__ expands as if the macro were in a file. */
static int argv_temporal(struct wc_collect *x, struct wc_mf_set *set)
{
    for (size_t i = 1; x->argv && x->argv[i]; i++) {
        unsigned flags = wc_content_flags(x->argv[i], strlen(x->argv[i]));
        char what[64];
        snprintf(what, sizeof what, "argument %zu", i);
        int rc = flags ? temporal(x, set, flags, what) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* st: the version hashed, or NULL when it is not the file's version now (no stamp). */
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
    in->stamped = st ? wc_stamp_of(st, &in->stamp) : 0;
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
    size_t inputs, probes, outputs, places[WC_MF_PLACES];
};

/* A file outside the base dir but a few levels above it only (wc_basedir_near) may have been
 * reached through a relative path, a source's #include "../inc/x.h", which names another file
 * in another checkout: the set then holds its form relative to the base dir besides the
 * absolute one, so that a hit needs the file to be the same under both names. *rel is
 * malloc'd, or NULL when the absolute form is enough. */
static int relative_form(struct wc_collect *x, const char *path, char **rel)
{
    int oom = 0;
    *rel = wc_basedir_near(x->primary, path, &oom);
    return oom ? -ENOMEM : 0;
}

/* An input under its stored name and, near the base dir, under its relative one too. */
static int add_input_forms(struct wc_collect *x, struct wc_mf_set *set, struct caps *caps,
                           const char *path, const wc_hash *h, const struct stat *st)
{
    char *rel, *stored = wc_mf_path_store(x->primary, path);
    if (!stored)
        return -ENOMEM;
    int rc = add_input(set, &caps->inputs, stored, h, st);
    if (rc == 0)
        rc = relative_form(x, path, &rel);
    return rc == 0 && rel ? add_input(set, &caps->inputs, rel, h, st) : rc;
}

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
    if ((rc = input_temporal(x, e, set, flags)) != 0)
        return rc;
    return add_input_forms(x, set, caps, e->path, &h, &st);
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
    char *rel, *stored = wc_mf_path_store(x->primary, e->path);
    if (!stored)
        return -ENOMEM;
    int rc = add_probe(set, &caps->probes, stored);
    if (rc == 0)
        rc = relative_form(x, e->path, &rel);
    return rc == 0 && rel ? add_probe(set, &caps->probes, rel) : rc;
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

static int push_str(char ***v, size_t *n, size_t *cap, char *s)
{
    if (!s)
        return -ENOMEM;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 8;
        char **p = realloc(*v, nc * sizeof *p);
        if (!p) {
            free(s);
            return -ENOMEM;
        }
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = s;
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

static int add_place(struct wc_collect *x, struct wc_mf_set *set, struct caps *caps,
                     enum wc_mf_place k, const char *abs)
{
    struct wc_mf_paths *pl = &set->places[k];
    return push_str(&pl->v, &pl->n, &caps->places[k], wc_mf_path_store(x->primary, abs));
}

/* A path the command could not reach (EACCES while resolving it): another user's PATH entry
 * that gcc's driver and collect2 look into. It must still be unreachable, for the same reason
 * as a probe must still be missing; and at each lookup it is checked again, since once
 * reachable it may hold a program or header the command would have taken. */
static int take_denied(struct wc_collect *x, const struct wc_path_event *e, struct wc_mf_set *set,
                       struct caps *caps)
{
    if (!wc_path_unreachable(e->path))
        return not_cached(x, "%s was denied during the run and is not now", e->path);
    return add_place(x, set, caps, WC_MF_DENIED, e->path);
}

/* The places of an output (normal form): a hit must find what the command found. Its
 * directory must exist, or the command fails ("cannot open output file") where a restore
 * would succeed; and the output must not be a symbolic link, which the command would write
 * through and a restore would replace. */
static int take_output_places(struct wc_collect *x, const char *norm, struct wc_mf_set *set,
                              struct caps *caps)
{
    char *dir = dir_of(norm);
    if (!dir)
        return -ENOMEM;
    int rc = add_place(x, set, caps, WC_MF_ODIR, dir);
    free(dir);
    return rc != 0 ? rc : add_place(x, set, caps, WC_MF_OUTPUT, norm);
}

/* The kernel resolved the output's path (observed, ".." kept) through every symbolic link;
 * the entry keeps its lexical normal form. The two name the same file only when the output
 * is no link itself and the physical directory the kernel wrote into is the normal form's:
 * else the command wrote through a link ("-o out.d" -> elsewhere/real.d, or
 * "inc/../x.o" with inc a link), and a restore at the normal form would write elsewhere. */
static int written_through_link(const char *observed, const char *norm, const struct stat *lst)
{
    if (S_ISLNK(lst->st_mode))
        return 1;
    char *dir = dir_of(observed), *want = dir_of(norm);
    char *phys = dir ? realpath(dir, NULL) : NULL;
    int differs = !phys || !want || strcmp(phys, want) != 0;
    free(dir);
    free(want);
    free(phys);
    return differs;
}

static int take_output(struct wc_collect *x, const struct wc_path_event *e, struct wc_mf_set *set,
                       struct wc_entry_meta *meta, struct caps *caps)
{
    struct stat st;
    /* Written, never removed by the command, and gone: someone else removed it (make deletes
     * the target of a job it interrupts). An entry without it would later "hit" and leave
     * the build without that file. */
    if (lstat(e->path, &st) < 0)
        return not_cached(x, "output %s vanished during the run", e->path);
    /* A file the command left behind that the entry does not keep would be missing after a
     * hit: rather store nothing. (Temporaries it removed never get here.) */
    if (is_stray_temp(x, e->path))
        return not_cached(x, "output %s in a temporary directory is not stored", e->path);
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return not_cached(x, "output %s is not a regular file", e->path);
    char *norm = wc_path_normalize(e->path), *p = NULL;
    if (!norm)
        return -ENOMEM;
    int rc = written_through_link(e->path, norm, &st)
                 ? not_cached(x, "output %s is written through a symbolic link", e->path)
                 : output_path(x, norm, &p);
    if (rc == 0)
        rc = take_output_places(x, norm, set, caps);
    free(norm);
    if (rc != 0) {
        free(p);
        return rc;
    }
    for (size_t i = 0; i < meta->n_outputs; i++)
        if (strcmp(meta->outputs[i].path, p) == 0) { /* "a/../x.o" and "x.o" */
            free(p);
            return 0;
        }
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

/* An output that a process wanted to read first and found missing: had it existed, the
 * command would have updated it (ar adds members to an existing archive), so its absence is
 * an input. A mere stat or lstat that found nothing (as and ld, before they unlink and
 * create their output) is not, or every incremental build would miss -- except under an
 * archiver: ar stat()s the archive to decide between "creating" and updating, then creates
 * it with O_TRUNC, and no open for reading ever fails (binutils 2.40, measured). */
static int take_absent(struct wc_collect *x, const struct wc_path_event *e, struct wc_mf_set *set,
                       struct caps *caps)
{
    if (!(e->flags & WC_EV_MISSING) || (!(e->flags & WC_EV_READ_MISSING) && !x->archiver))
        return 0;
    char *norm = wc_path_normalize(e->path);
    int rc = norm ? add_place(x, set, caps, WC_MF_ABSENT, norm) : -ENOMEM;
    free(norm);
    return rc;
}

static const struct wc_prehash *find_prehash(const struct wc_collect *x, const char *norm)
{
    for (size_t i = 0; i < x->n_pre; i++)
        if (strcmp(x->pre[i].path, norm) == 0)
            return &x->pre[i];
    return NULL;
}

/* A file read, then written: its old content is an input that only a hash taken before the
 * run knows (an archive ar updates, from wc_prehash_operands). Anything else is not cached. */
static int take_prehashed(struct wc_collect *x, const struct wc_path_event *e,
                          struct wc_mf_set *set, struct caps *caps)
{
    char *norm = wc_path_normalize(e->path);
    if (!norm)
        return -ENOMEM;
    const struct wc_prehash *pre = find_prehash(x, norm);
    free(norm);
    if (!pre)
        return not_cached(x, "%s is both read and written", e->path);
    return add_input_forms(x, set, caps, e->path, &pre->hash, NULL); /* it changed since */
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
    if (e->flags & WC_EV_INPLACE) {
        int rc = take_prehashed(x, e, set, caps);
        return rc != 0 ? rc : take_output(x, e, set, meta, caps);
    }
    if (e->flags & WC_EV_WRITE) {
        int rc = take_absent(x, e, set, caps);
        return rc != 0 ? rc : take_output(x, e, set, meta, caps);
    }
    if (e->flags & (WC_EV_READ | WC_EV_EXEC | WC_EV_LIB))
        return take_input(x, e, set, caps);
    if (e->flags & WC_EV_MISSING)
        return take_probe(x, e, set, caps);
    if (e->flags & WC_EV_DENIED)
        return take_denied(x, e, set, caps);
    return 0;
}

/* ---- the environment: the variables the command read and inherited ---- */

/* Never recorded: the build tool's and the session's bookkeeping and where temporaries go,
 * which change from run to run and not the outputs (firebuild's fingerprint_skip, MAKE_TERMOUT
 * and MAKE_TERMERR, is the anchor); LD_PRELOAD, since the libraries a process loads are
 * inputs as files. PWD: cc1 reads it for -g's compile directory, which key1 holds when it
 * matters (debug_dir); as a value it would keep two checkouts from sharing anything. */
static const char *const env_skip[] = {"MAKEFLAGS",
                                       "MFLAGS",
                                       "GNUMAKEFLAGS",
                                       "MAKELEVEL",
                                       "MAKEOVERRIDES",
                                       "MAKE_TERMOUT",
                                       "MAKE_TERMERR",
                                       "CARGO_MAKEFLAGS",
                                       "PWD",
                                       "OLDPWD",
                                       "SHLVL",
                                       "_",
                                       "TMPDIR",
                                       "TMP",
                                       "TEMP",
                                       "LD_PRELOAD",
                                       "DBUS_SESSION_BUS_ADDRESS",
                                       "XDG_SESSION_ID",
                                       "XDG_RUNTIME_DIR",
                                       "SSH_AUTH_SOCK",
                                       "SSH_AGENT_PID",
                                       "SSH_CLIENT",
                                       "SSH_CONNECTION",
                                       "SSH_TTY",
                                       "WINDOWID",
                                       "INVOCATION_ID",
                                       "JOURNAL_STREAM",
                                       NULL};

/* They only shape diagnostics: colours, links, line width, fix-it hints. With nothing
 * printed they changed no byte we restore or replay, so a silent compile hits whatever the
 * terminal. (Not LC_MESSAGES or LANGUAGE: translated text reaches files too, ld -Map's
 * headings and as -a listings.) */
static const char *const env_diagnostic[] = {
    "TERM", "COLUMNS", "GCC_COLORS", "GCC_URLS", "TERM_URLS", "GCC_EXTRA_DIAGNOSTIC_OUTPUT", NULL};

/* Read by gcc's driver on every run but used only to build the link's -L list (collect2 and
 * ld get it from the driver): an input only when something linked. */
static const char *const env_link_only[] = {"LIBRARY_PATH", "LPATH", NULL};

static int in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int is_linker(const char *path)
{
    static const char *const linkers[] = {"collect2", "ld",  "ld.bfd", "ld.gold",
                                          "ld.lld",   "lld", "mold",   NULL};
    const char *b = base_name(path);
    size_t n = strlen(b);
    return in_list(linkers, b) || (n > 3 && strcmp(b + n - 3, "-ld") == 0);
}

static int ran_linker(const struct wc_observation *obs)
{
    for (size_t i = 0; i < obs->n; i++)
        if ((obs->paths[i].flags & WC_EV_EXEC) && is_linker(obs->paths[i].path))
            return 1;
    return 0;
}

static int env_counts(const struct wc_collect *x, const char *name, int linked)
{
    if (strncmp(name, "WAFCACHE_", 9) == 0 || in_list(env_skip, name))
        return 0;
    if (!x->printed && in_list(env_diagnostic, name))
        return 0;
    return linked || !in_list(env_link_only, name);
}

static int add_env(struct wc_mf_set *set, size_t *cap, const char *name, size_t name_len,
                   const char *value, int canonical)
{
    if (set->n_env == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct wc_mf_env *p = realloc(set->env, nc * sizeof *p);
        if (!p)
            return -ENOMEM;
        set->env = p;
        *cap = nc;
    }
    struct wc_mf_env *e = &set->env[set->n_env];
    e->name = strndup(name, name_len);
    e->value = value ? strdup(value) : NULL;
    e->canonical = canonical;
    if (!e->name || (value && !e->value)) {
        free(e->name);
        free(e->value);
        return -ENOMEM;
    }
    set->n_env++;
    return 0;
}

static int same_value(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* One variable read: in its canonical form (wc_env_canonical) when it has one and only
 * compilers and linkers read it, whose use of it is known; else as it is. Never canonical when
 * a shell or an interpreter ran: it may print the value ("echo $PATH > out"). */
static int take_env_read(struct wc_collect *x, const struct wc_observation *obs,
                         const struct wc_env_read *e, const char *now, struct wc_mf_set *set,
                         size_t *cap)
{
    char *form = NULL;
    int rc = e->by_tools && !obs->whole_env ? wc_env_canonical(e->name, now, x->primary, &form) : 0;
    if (rc >= 0)
        rc = add_env(set, cap, e->name, strlen(e->name), form ? form : now, form != NULL);
    free(form);
    return rc < 0 ? -ENOMEM : 0;
}

/* A variable a process read is an input when the value it saw is the one the command
 * inherited (unset and unset included); a value the command's own processes set (gcc's
 * driver sets COLLECT_GCC_OPTIONS for its children) is derived from what they read. Values
 * are kept as they are, base dir and all, but for the canonical forms: a base dir in CPATH
 * is not rewritten in the command and reaches the outputs (.d files, __FILE__), so
 * stripping it would let another checkout take them. */
static int take_env_reads(struct wc_collect *x, const struct wc_observation *obs,
                          struct wc_mf_set *set, size_t *cap, int linked)
{
    for (size_t i = 0; i < obs->n_env; i++) {
        const struct wc_env_read *e = &obs->env[i];
        const char *now = wc_env_value(x->envp, e->name);
        if (!env_counts(x, e->name, linked) || !same_value(e->value, now))
            continue;
        if (take_env_read(x, obs, e, now, set, cap) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* A shell or an interpreter ran: any variable may have been expanded. */
static int take_whole_env(struct wc_collect *x, struct wc_mf_set *set, size_t *cap, int linked)
{
    for (size_t i = 0; x->envp && x->envp[i]; i++) {
        const char *kv = x->envp[i], *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            continue;
        char name[256];
        size_t n = (size_t)(eq - kv);
        if (n >= sizeof name)
            return not_cached(x, "environment variable name too long");
        memcpy(name, kv, n);
        name[n] = '\0';
        if (env_counts(x, name, linked) && add_env(set, cap, kv, n, eq + 1, 0) < 0)
            return -ENOMEM;
    }
    return 0;
}

static int take_env(struct wc_collect *x, const struct wc_observation *obs, struct wc_mf_set *set)
{
    size_t cap = 0;
    int linked = ran_linker(obs);
    int rc = take_env_reads(x, obs, set, &cap, linked);
    if (rc == 0 && obs->whole_env)
        rc = take_whole_env(x, set, &cap, linked);
    if (rc == 0)
        wc_mf_set_env_canonical(set);
    return rc;
}

int wc_collect(struct wc_collect *x, const struct wc_observation *obs, struct wc_mf_set *set,
               struct wc_entry_meta *meta)
{
    struct caps caps;
    memset(&caps, 0, sizeof caps);
    memset(set, 0, sizeof *set);
    memset(meta, 0, sizeof *meta);
    x->why[0] = '\0';
    if (!obs->complete)
        return not_cached(x, "incomplete observation: %s", obs->reason);
    if (obs->read_stdin)
        return not_cached(x, "the command read its standard input");
    if (obs->refuse[0])
        return not_cached(x, "%s", obs->refuse);
    int rc = argv_temporal(x, set);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < obs->n; i++) {
        rc = take(x, &obs->paths[i], set, meta, &caps);
        if (rc != 0)
            return rc;
    }
    if (meta->n_outputs == 0)
        return not_cached(x, "no output file");
    if (meta->n_outputs > WC_META_MAX_OUTPUTS)
        return not_cached(x, "too many outputs");
    rc = take_env(x, obs, set);
    if (rc != 0)
        return rc;
    wc_mf_set_canonical(set);
    return wc_mf_set_stamp_dirs(set, x->primary);
}

void wc_prehash_free(struct wc_prehash *pre, size_t n)
{
    for (size_t i = 0; pre && i < n; i++)
        free(pre[i].path);
    free(pre);
}

static int prehash_one(const char *cwd, const char *arg, wc_memo *memo, struct wc_prehash *p)
{
    char *abs = arg[0] == '/' ? strdup(arg) : wc_path_join(cwd, arg);
    p->path = abs ? wc_path_normalize(abs) : NULL;
    free(abs);
    if (!p->path)
        return -ENOMEM;
    struct stat st;
    if (stat(p->path, &st) == 0 && S_ISREG(st.st_mode) &&
        wc_memo_hash(memo, p->path, &p->hash, NULL, NULL) == 0)
        return 1;
    free(p->path);
    return 0;
}

/* The window between this hash and the archiver's read is the start of the child: only a
 * build that writes one archive from two jobs at once (broken without a cache too) falls in
 * it. */
int wc_prehash_operands(const char *cwd, char *const *argv, wc_memo *memo, struct wc_prehash **pre,
                        size_t *n)
{
    size_t argc = 0;
    while (argv[argc])
        argc++;
    *n = 0;
    *pre = calloc(argc + 1, sizeof **pre);
    if (!*pre)
        return -ENOMEM;
    for (size_t i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        int rc = prehash_one(cwd, argv[i], memo, &(*pre)[*n]);
        if (rc < 0)
            return rc;
        *n += (size_t)rc;
    }
    return 0;
}

/* gcc appends its rules to the file DEPENDENCIES_OUTPUT or SUNPRO_DEPENDENCIES names ("file"
 * or "file target"), read and written in place when it exists: its old content is an input,
 * as an archive's is to ar. */
int wc_prehash_depfiles(const char *cwd, char *const *envp, wc_memo *memo, struct wc_prehash **pre,
                        size_t *n)
{
    static const char *const vars[] = {"DEPENDENCIES_OUTPUT", "SUNPRO_DEPENDENCIES"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = wc_env_value(envp, vars[i]);
        if (!v || !*v)
            continue;
        struct wc_prehash *p = realloc(*pre, (*n + 1) * sizeof *p);
        char *file = strndup(v, strcspn(v, " "));
        if (p)
            *pre = p;
        int rc = p && file ? prehash_one(cwd, file, memo, &(*pre)[*n]) : -ENOMEM;
        free(file);
        if (rc < 0)
            return rc;
        *n += (size_t)rc;
    }
    return 0;
}
