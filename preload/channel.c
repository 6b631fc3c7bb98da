/* The reader of the observation channel (preload/channel.h): turns the events every process
 * of a real command appended into one deduplicated list of paths with what happened to them,
 * and decides whether the observation is complete. The input is whatever bytes the command
 * left in a file it could also have scribbled on: nothing here trusts it. */
#include "preload/channel.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A hash table of indices, open addressing; slots hold index + 1, 0 is empty. */
struct table {
    size_t *slots;
    size_t cap; /* a power of two */
};

/* What the parser needs to know about a path beyond its flags. */
struct pathent {
    int written; /* a write-type event was seen */
};

struct proc {
    long pid;
    int open;    /* between a hello and its bye */
    int exec_in; /* an "x" in the current image */
    int pending; /* exec'd ("x" then "B"): a hello must follow */
    int hello;   /* said hello at least once */
    int tool;    /* its current image is a compiler or linker (wc_channel_is_tool) */
};

struct parser {
    struct wc_observation *obs;
    struct pathent *ents; /* parallel to obs->paths */
    size_t cap;
    struct table paths;
    struct proc *procs;
    size_t nprocs, capprocs;
    struct table pids;
    struct table envs; /* over obs->env */
    size_t capenv;
    char *scratch; /* unescaped arguments of the current line */
};

static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 1469598103934665603ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h;
}

static void incomplete(struct parser *ps, const char *fmt, ...)
{
    va_list ap;

    if (!ps->obs->complete)
        return; /* keep the first reason: it is the cause, the rest follows from it */
    ps->obs->complete = 0;
    va_start(ap, fmt);
    vsnprintf(ps->obs->reason, sizeof(ps->obs->reason), fmt, ap);
    va_end(ap);
}

/* ---- hash tables ---- */

typedef uint64_t (*key_hash_fn)(const struct parser *ps, size_t index);

static uint64_t path_key(const struct parser *ps, size_t i)
{
    const char *p = ps->obs->paths[i].path;
    return hash_bytes(p, strlen(p));
}

static uint64_t pid_key(const struct parser *ps, size_t i)
{
    return hash_bytes(&ps->procs[i].pid, sizeof(long));
}

/* name '=' value, or name alone for unset: '=' never occurs in a name. */
static uint64_t env_hash(const char *name, const char *value)
{
    uint64_t h = hash_bytes(name, strlen(name));
    if (value) {
        h = (h ^ '=') * 1099511628211ull;
        h ^= hash_bytes(value, strlen(value));
    }
    return h;
}

static uint64_t env_key(const struct parser *ps, size_t i)
{
    return env_hash(ps->obs->env[i].name, ps->obs->env[i].value);
}

static int table_grow(struct parser *ps, struct table *t, size_t count, key_hash_fn key)
{
    size_t ncap = t->cap ? t->cap * 2 : 64;
    size_t *slots;

    if (count * 2 < t->cap)
        return 0;
    slots = calloc(ncap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        size_t s = (size_t)key(ps, i) & (ncap - 1);
        while (slots[s])
            s = (s + 1) & (ncap - 1);
        slots[s] = i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = ncap;
    return 0;
}

/* ---- paths ---- */

static long find_path(const struct parser *ps, const char *path, size_t len, size_t *slot)
{
    size_t s = (size_t)hash_bytes(path, len) & (ps->paths.cap - 1);

    for (; ps->paths.slots[s]; s = (s + 1) & (ps->paths.cap - 1)) {
        const char *p = ps->obs->paths[ps->paths.slots[s] - 1].path;
        if (strlen(p) == len && memcmp(p, path, len) == 0)
            return (long)ps->paths.slots[s] - 1;
    }
    *slot = s;
    return -1;
}

static int grow_paths(struct parser *ps)
{
    size_t ncap = ps->cap ? ps->cap * 2 : 64;
    struct wc_path_event *np;
    struct pathent *ne;

    np = realloc(ps->obs->paths, ncap * sizeof(*np));
    if (!np)
        return -ENOMEM;
    ps->obs->paths = np;
    ne = realloc(ps->ents, ncap * sizeof(*ne));
    if (!ne)
        return -ENOMEM;
    ps->ents = ne;
    ps->cap = ncap;
    return 0;
}

/* The index of path, created on first sight (first-seen order). -ENOMEM on OOM. */
static long path_index(struct parser *ps, const char *path)
{
    struct wc_observation *obs = ps->obs;
    size_t len = strlen(path), slot = 0;
    long at;
    char *copy;

    if (table_grow(ps, &ps->paths, obs->n, path_key) < 0)
        return -ENOMEM;
    at = find_path(ps, path, len, &slot);
    if (at >= 0)
        return at;
    if (obs->n == ps->cap && grow_paths(ps) < 0)
        return -ENOMEM;
    copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, path, len + 1);
    obs->paths[obs->n].path = copy;
    obs->paths[obs->n].flags = 0;
    ps->ents[obs->n].written = 0;
    ps->paths.slots[slot] = obs->n + 1;
    return (long)obs->n++;
}

/* ---- environment reads ---- */

static int same_value(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int find_env(const struct parser *ps, const char *name, const char *value, size_t *slot)
{
    size_t s = (size_t)env_hash(name, value) & (ps->envs.cap - 1);

    for (; ps->envs.slots[s]; s = (s + 1) & (ps->envs.cap - 1)) {
        const struct wc_env_read *e = &ps->obs->env[ps->envs.slots[s] - 1];
        if (strcmp(e->name, name) == 0 && same_value(e->value, value)) {
            *slot = s;
            return 1;
        }
    }
    *slot = s;
    return 0;
}

/* Record (name, value) once, in first-seen order, and whether only tools read it. 0 or
 * -ENOMEM. */
static int add_env(struct parser *ps, const char *name, const char *value, int tool)
{
    struct wc_observation *obs = ps->obs;
    size_t slot = 0;

    if (table_grow(ps, &ps->envs, obs->n_env, env_key) < 0)
        return -ENOMEM;
    if (find_env(ps, name, value, &slot)) {
        obs->env[ps->envs.slots[slot] - 1].by_tools &= tool;
        return 0;
    }
    if (obs->n_env == ps->capenv) {
        size_t ncap = ps->capenv ? ps->capenv * 2 : 32;
        struct wc_env_read *ne = realloc(obs->env, ncap * sizeof(*ne));
        if (!ne)
            return -ENOMEM;
        obs->env = ne;
        ps->capenv = ncap;
    }
    struct wc_env_read *e = &obs->env[obs->n_env];
    e->name = strdup(name);
    e->value = value ? strdup(value) : NULL;
    e->by_tools = tool;
    if (!e->name || (value && !e->value)) {
        free(e->name);
        free(e->value);
        return -ENOMEM;
    }
    ps->envs.slots[slot] = obs->n_env + 1;
    obs->n_env++;
    return 0;
}

/* Programs that take their environment whole: a shell expands any variable a script names,
 * an interpreter hands os.environ, %ENV, ENV, process.env or ENVIRON to the script. A name
 * may carry a version ("python3.11", "perl5.36.0", "tclsh8.6"). */
static const char *const whole_env_programs[] = {
    "sh",   "dash",   "bash",  "zsh", "ksh",    "mksh", "busybox", "python", "perl", "ruby",
    "node", "nodejs", "tclsh", "lua", "luajit", "php",  "awk",     "gawk",   "mawk", NULL};

static int is_version_suffix(const char *s)
{
    for (; *s; s++)
        if (!(*s >= '0' && *s <= '9') && *s != '.')
            return 0;
    return 1;
}

static int takes_whole_env(const char *exe)
{
    const char *base = strrchr(exe, '/');

    base = base ? base + 1 : exe;
    for (size_t i = 0; whole_env_programs[i]; i++) {
        size_t n = strlen(whole_env_programs[i]);
        if (strncmp(base, whole_env_programs[i], n) == 0 && is_version_suffix(base + n))
            return 1;
    }
    return 0;
}

/* The programs of wc_channel_is_tool, matched as a whole name or as the last part after a
 * '-' (a target prefix: "x86_64-linux-gnu-gcc"), with any version suffix ("-12", "-15.0")
 * removed first. */
static const char *const tool_programs[] = {
    "gcc", "g++",     "cc",      "c++",      "cpp",         "clang", "clang++",
    "cc1", "cc1plus", "cc1obj",  "collect2", "lto-wrapper", "lto1",  "as",
    "ld",  "ld.bfd",  "ld.gold", "ld.lld",   "lld",         "mold",  NULL};

static int is_tool_name(const char *name, size_t n)
{
    for (size_t i = 0; tool_programs[i]; i++)
        if (strlen(tool_programs[i]) == n && memcmp(tool_programs[i], name, n) == 0)
            return 1;
    return 0;
}

int wc_channel_is_tool(const char *exe)
{
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    size_t n = strlen(base);
    const char *dash = memrchr(base, '-', n);
    if (dash && dash[1] && is_version_suffix(dash + 1))
        n = (size_t)(dash - base);
    if (is_tool_name(base, n))
        return 1;
    dash = memrchr(base, '-', n);
    return dash && is_tool_name(dash + 1, n - (size_t)(dash + 1 - base));
}

/* ---- processes ---- */

static struct proc *proc_entry(struct parser *ps, long pid)
{
    size_t s;

    if (table_grow(ps, &ps->pids, ps->nprocs, pid_key) < 0)
        return NULL;
    s = (size_t)hash_bytes(&pid, sizeof(pid)) & (ps->pids.cap - 1);
    for (; ps->pids.slots[s]; s = (s + 1) & (ps->pids.cap - 1))
        if (ps->procs[ps->pids.slots[s] - 1].pid == pid)
            return &ps->procs[ps->pids.slots[s] - 1];
    if (ps->nprocs == ps->capprocs) {
        size_t ncap = ps->capprocs ? ps->capprocs * 2 : 16;
        struct proc *np = realloc(ps->procs, ncap * sizeof(*np));
        if (!np)
            return NULL;
        ps->procs = np;
        ps->capprocs = ncap;
    }
    memset(&ps->procs[ps->nprocs], 0, sizeof(struct proc));
    ps->procs[ps->nprocs].pid = pid;
    ps->pids.slots[s] = ps->nprocs + 1;
    return &ps->procs[ps->nprocs++];
}

/* ---- what an event does to a path: the WC_EV_* rules of channel.h ---- */

static void on_read(unsigned *flags, const struct pathent *e, unsigned extra)
{
    /* Reading back what the command wrote itself is not an input. */
    if (!e->written)
        *flags |= WC_EV_READ;
    *flags |= extra;
}

static void on_write(unsigned *flags, struct pathent *e)
{
    if (*flags & WC_EV_READ)
        *flags |= WC_EV_INPLACE;
    *flags = (*flags | WC_EV_WRITE) & ~(unsigned)WC_EV_GONE;
    e->written = 1;
}

static void on_missing(unsigned *flags, const struct pathent *e, unsigned extra)
{
    /* A probe after the command created the path says nothing about the world before. */
    if (!e->written)
        *flags |= WC_EV_MISSING | extra;
}

/* kind: an event letter, or 'f'/'t' for the source and target of a rename. */
static int apply(struct parser *ps, char kind, const char *path)
{
    long i = path_index(ps, path);
    unsigned *flags;
    struct pathent *e;

    if (i < 0)
        return (int)i;
    flags = &ps->obs->paths[i].flags;
    e = &ps->ents[i];
    switch (kind) {
    case 'r':
        on_read(flags, e, 0);
        break;
    case 'x':
    case 's':
    case 'H':
        on_read(flags, e, WC_EV_EXEC);
        break;
    case 'l':
        on_read(flags, e, WC_EV_LIB);
        break;
    case 'w':
    case 't':
        on_write(flags, e);
        break;
    case 'm':
        on_missing(flags, e, 0);
        break;
    case 'o':
        on_missing(flags, e, WC_EV_READ_MISSING);
        break;
    case 'a':
        /* Denied after the command wrote it: its own doing, not the world before. */
        if (!e->written)
            *flags |= WC_EV_DENIED;
        break;
    case 'f':
        /* The content moves to the target: it was an input unless the command wrote it. */
        on_read(flags, e, WC_EV_GONE);
        break;
    case 'u':
        *flags |= WC_EV_GONE;
        break;
    }
    return 0;
}

/* ---- what an event does to its process ---- */

static void on_hello(struct parser *ps, struct proc *p)
{
    p->open = 1;
    p->exec_in = 0;
    p->pending = 0;
    p->hello = 1;
    ps->obs->processes++;
}

static void on_bye(struct parser *ps, struct proc *p)
{
    if (!p->open) {
        incomplete(ps, "process %ld said bye without hello", p->pid);
        return;
    }
    p->open = 0;
    /* The image exec'd: the next one must say hello, or it ran unobserved. */
    if (p->exec_in)
        p->pending = 1;
    p->exec_in = 0;
}

static void check_procs(struct parser *ps)
{
    for (size_t i = 0; i < ps->nprocs; i++) {
        const struct proc *p = &ps->procs[i];
        if (!p->hello)
            incomplete(ps, "process %ld was not observed (static binary or cleared environment)",
                       p->pid);
        else if (p->open)
            incomplete(ps, "process %ld said hello without bye", p->pid);
        else if (p->pending)
            incomplete(ps, "process %ld exec'd a program that was not observed", p->pid);
    }
    if (ps->obs->processes == 0)
        incomplete(ps, "no process was observed");
}

/* ---- lines ---- */

/* Unescape s[0..n) into out (n + 1 bytes). -1 on a bad escape or a NUL byte. */
static int unescape(const char *s, size_t n, char *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\0' || c == '\t' || c == '\n')
            return -1;
        if (c == '\\') {
            if (++i == n)
                return -1;
            c = s[i] == '\\' ? '\\' : s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : '\0';
            if (c == '\0')
                return -1;
        }
        out[k++] = c;
    }
    out[k] = '\0';
    return 0;
}

/* A decimal number in 1..2^31-1 at the start of s[0..n); its length, or 0. */
static size_t parse_pid(const char *s, size_t n, long *pid)
{
    size_t i = 0;
    long v = 0;

    while (i < n && s[i] >= '0' && s[i] <= '9' && i < 10) {
        v = v * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0 || v <= 0 || v > 2147483647L || (i < n && s[i] >= '0' && s[i] <= '9'))
        return 0;
    *pid = v;
    return i;
}

static int parse_path(struct parser *ps, const char *s, size_t n, char kind)
{
    if (unescape(s, n, ps->scratch) < 0 || ps->scratch[0] != '/') {
        incomplete(ps, "bad path in a '%c' event", kind);
        return 0;
    }
    return apply(ps, kind, ps->scratch);
}

/* "NAME=value" or "NAME" (unset). A name is non-empty. */
static int parse_env(struct parser *ps, const struct proc *p, const char *s, size_t n)
{
    char *eq;

    if (unescape(s, n, ps->scratch) < 0 || ps->scratch[0] == '\0' || ps->scratch[0] == '=') {
        incomplete(ps, "bad variable in an 'e' event");
        return 0;
    }
    eq = strchr(ps->scratch, '=');
    if (eq)
        *eq = '\0';
    return add_env(ps, ps->scratch, eq ? eq + 1 : NULL, p->tool);
}

/* "z": the run read something without content to hash. The first one is the reason. */
static int parse_nonfile(struct parser *ps, const char *s, size_t n)
{
    if (unescape(s, n, ps->scratch) < 0 || ps->scratch[0] != '/') {
        incomplete(ps, "bad path in a 'z' event");
        return 0;
    }
    if (!ps->obs->refuse[0])
        snprintf(ps->obs->refuse, sizeof(ps->obs->refuse), "read %s, which is not a regular file",
                 ps->scratch);
    return 0;
}

static int parse_rename(struct parser *ps, const char *s, size_t n)
{
    const char *tab = memchr(s, '\t', n);
    int r;

    if (!tab) {
        incomplete(ps, "rename without a target");
        return 0;
    }
    r = parse_path(ps, s, (size_t)(tab - s), 'f');
    if (r == 0)
        r = parse_path(ps, tab + 1, n - (size_t)(tab - s) - 1, 't');
    return r;
}

static int parse_hello(struct parser *ps, struct proc *p, const char *s, size_t n)
{
    long ppid;
    size_t k = parse_pid(s, n, &ppid);

    if (k == 0 || k == n || s[k] != ' ') {
        incomplete(ps, "bad hello of process %ld", p->pid);
        return 0;
    }
    on_hello(ps, p);
    p->tool = 0;
    /* The program itself is an input; an unreadable /proc/self/exe leaves it empty. */
    if (k + 1 == n)
        return 0;
    int r = parse_path(ps, s + k + 1, n - k - 1, 'H');
    /* Only a complete channel has the exe in scratch (a bad path leaves it half unescaped),
     * and only a complete one is ever cached. */
    if (r != 0 || !ps->obs->complete)
        return r;
    if (takes_whole_env(ps->scratch))
        ps->obs->whole_env = 1;
    p->tool = wc_channel_is_tool(ps->scratch);
    return r;
}

/* An event without argument: B, i. */
static void parse_bare(struct parser *ps, struct proc *p, char kind)
{
    if (kind == 'B')
        on_bye(ps, p);
    else if (kind == 'i')
        ps->obs->read_stdin = 1;
    else
        incomplete(ps, "unknown event '%c' from process %ld", kind, p->pid);
}

static int parse_event(struct parser *ps, struct proc *p, char kind, const char *arg, size_t n)
{
    switch (kind) {
    case 'H':
        return parse_hello(ps, p, arg, n);
    case 'n':
        return parse_rename(ps, arg, n);
    case 'z':
        return parse_nonfile(ps, arg, n);
    case 'e':
        return parse_env(ps, p, arg, n);
    case 'x':
        if (p->open)
            p->exec_in = 1;
        return parse_path(ps, arg, n, kind);
    case 's': /* written by the parent; the child's own hello may come before or after */
    case 'r':
    case 'w':
    case 'm':
    case 'o':
    case 'a':
    case 'l':
    case 'u':
        return parse_path(ps, arg, n, kind);
    }
    incomplete(ps, "unknown event '%c' from process %ld", kind, p->pid);
    return 0;
}

/* One line, without its '\n'. 0, or -ENOMEM. */
static int parse_line(struct parser *ps, const char *s, size_t n)
{
    long pid;
    size_t k = parse_pid(s, n, &pid);
    struct proc *p;

    if (k == 0 || k + 2 > n || s[k] != ' ' || (k + 2 < n && s[k + 2] != ' ')) {
        incomplete(ps, "unparsable line");
        return 0;
    }
    p = proc_entry(ps, pid);
    if (!p)
        return -ENOMEM;
    if (k + 2 == n) {
        parse_bare(ps, p, s[k + 1]);
        return 0;
    }
    return parse_event(ps, p, s[k + 1], s + k + 3, n - k - 3);
}

static int parse_all(struct parser *ps, const char *buf, size_t len)
{
    size_t at = 0;

    while (at < len) {
        const char *nl = memchr(buf + at, '\n', len - at);
        int r;
        if (!nl) {
            /* A torn append: something of that process was lost. */
            incomplete(ps, "truncated last line");
            break;
        }
        r = parse_line(ps, buf + at, (size_t)(nl - (buf + at)));
        if (r < 0)
            return r;
        at = (size_t)(nl - buf) + 1;
    }
    check_procs(ps);
    return 0;
}

static void parser_free(struct parser *ps)
{
    free(ps->ents);
    free(ps->paths.slots);
    free(ps->procs);
    free(ps->pids.slots);
    free(ps->envs.slots);
    free(ps->scratch);
}

int wc_channel_parse(const char *buf, size_t len, struct wc_observation *obs)
{
    struct parser ps;
    size_t longest = 0;
    int r;

    memset(obs, 0, sizeof(*obs));
    memset(&ps, 0, sizeof(ps));
    if (!buf)
        len = 0;
    obs->complete = 1;
    ps.obs = obs;
    /* Every argument fits in the longest line; unescaping only shrinks. */
    for (size_t at = 0, start = 0; at <= len; at++) {
        if (at == len || buf[at] == '\n') {
            if (at - start > longest)
                longest = at - start;
            start = at + 1;
        }
    }
    ps.scratch = malloc(longest + 1);
    r = ps.scratch ? parse_all(&ps, buf, len) : -ENOMEM;
    parser_free(&ps);
    if (r < 0) {
        wc_observation_free(obs);
        return r;
    }
    return 0;
}

void wc_observation_free(struct wc_observation *obs)
{
    if (!obs)
        return;
    for (size_t i = 0; i < obs->n; i++)
        free(obs->paths[i].path);
    free(obs->paths);
    obs->paths = NULL;
    obs->n = 0;
    for (size_t i = 0; i < obs->n_env; i++) {
        free(obs->env[i].name);
        free(obs->env[i].value);
    }
    free(obs->env);
    obs->env = NULL;
    obs->n_env = 0;
}
