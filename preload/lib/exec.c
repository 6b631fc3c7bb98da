/* The exec family and the exits, in both libraries: every spelling (execve, execvp, the execl
 * family, fexecve, posix_spawn[p], _exit, _Exit) becomes one struct wc_call, its environment
 * is repaired on the stack (LD_PRELOAD and the WAFCACHE_* settings put back when an explicit
 * envp lost them), and the library decides what to do with it (wc_dispatch: intercept.c in
 * libwafcache.so, observe_exec.c in libwafcache-observe.so).
 *
 * The exec wrappers run in vfork children (dash, python's subprocess, gcc's pex): they use
 * the stack and raw system calls only, and never write to shared state. */
#undef _FORTIFY_SOURCE
#include "preload/lib/exec.h"
#include "preload/lib/str.h"
#include "preload/channel.h"
#include "core/config.h"
#include "core/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

struct wc_real wc_real;
struct wc_state wc_state;

/* Bounds for what we build on the stack; anything larger is forwarded untouched. */
#define WC_MAX_ENV 16384
#define WC_MAX_ENV_CHARS 65536
#define WC_MAX_SNAP 32

int wc_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

int wc_sys_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

/* ---- the next definitions of the wrapped symbols ---- */

/* POSIX guarantees a function pointer survives the round trip through void *. The
 * interposer's table is its exec and open rows (preload.h). */
static const struct wc_next wc_syms[] = {
#define ROW(field, sym, ret, params) {(void **)&wc_real.field, #sym},
#include "preload/lib/wrap_rows.h"
#include "preload/lib/wrap.def"
#undef ROW
};

void wc_resolve_real(void)
{
    wc_find_next(wc_syms, sizeof(wc_syms) / sizeof(wc_syms[0]));
#ifdef WC_OBSERVE_LIB
    wc_env_resolve();
#endif
    wc_real.resolved = 1;
}

/* ---- what the constructor keeps ----
 * One arena for every string the constructor keeps (the settings below, the library's
 * LD_PRELOAD entry, the program list): each page of memory a process touches costs it a page
 * fault, and a build starts thousands of processes. Never reset: a string kept stays valid. */

static char arena[16384];
static size_t arena_used;

const char *wc_keep(const char *a, size_t alen, const char *b, size_t blen)
{
    char *at = arena + arena_used;

    if (alen + blen + 1 > sizeof(arena) - arena_used)
        return NULL;
    wc_memcpy(at, a, alen);
    wc_memcpy(at + alen, b, blen);
    at[alen + blen] = '\0';
    arena_used += alen + blen + 1;
    return at;
}

/* The WAFCACHE_* settings present at start. One pass over environ keeps them: the
 * constructor reads its settings from here (not one scan of environ per name), and an exec
 * whose envp lost some gets them back. */
static const char *snap[WC_MAX_SNAP];
static size_t snap_namelen[WC_MAX_SNAP]; /* up to and including '=' */
static unsigned snap_n;
static int snap_stale;         /* wc_env_set changed the environment since */
static const char *ld_preload; /* LD_PRELOAD's value at the snapshot, in environ */

/* The length of the name of entry e ("NAME=value"), 0 without '='. */
static size_t name_len(const char *e)
{
    size_t n = 0;

    while (e[n] && e[n] != '=')
        n++;
    return e[n] == '=' ? n : 0;
}

void wc_env_snapshot(void)
{
    snap_n = 0;
    snap_stale = 0;
    ld_preload = NULL;
    for (char **e = environ; e && *e; e++) {
        const char *v = *e;
        if (v[0] == 'L' && wc_starts(v, "LD_PRELOAD="))
            ld_preload = v + 11;
        if (v[0] != 'W' || !wc_starts(v, "WAFCACHE_") || snap_n == WC_MAX_SNAP)
            continue;
        size_t n = name_len(v);
        const char *kept = n ? wc_keep(v, wc_strlen(v), "", 0) : NULL;
        if (!kept)
            continue;
        snap[snap_n] = kept;
        snap_namelen[snap_n] = n + 1;
        snap_n++;
    }
}

const char *wc_setting(const char *name)
{
    size_t n = wc_strlen(name);

    for (unsigned i = 0; i < snap_n; i++)
        if (snap_namelen[i] == n + 1 && wc_starts(snap[i], name))
            return snap[i] + n + 1;
    return NULL;
}

const char *wc_start_preload(void)
{
    return ld_preload;
}

int wc_env_set(const char *name, const char *value, int replace)
{
    snap_stale = 1;
    return setenv(name, value, replace);
}

void wc_env_snapshot_refresh(void)
{
    if (snap_stale)
        wc_env_snapshot();
}

/* ---- the environment of an exec ---- */

static void env_scan(char *const *envp, struct wc_envscan *s)
{
    s->n = 0;
    s->missing = snap_n >= 32 ? 0xffffffffu : (1u << snap_n) - 1;
    s->preload = -1;
    s->has_lib = 0;
    s->observe = 0;
    s->disable = 0;
    for (; envp && envp[s->n]; s->n++) {
        const char *e = envp[s->n];
        if (strncmp(e, "LD_PRELOAD=", 11) == 0) {
            s->preload = (long)s->n;
            s->has_lib = wc_preload_has(e + 11, WC_LIB_NAME);
        }
        if (e[0] != 'W' || strncmp(e, "WAFCACHE_", 9) != 0)
            continue;
        if (strncmp(e, WC_ENV_OBSERVE "=", sizeof(WC_ENV_OBSERVE)) == 0)
            s->observe = 1;
        if (strncmp(e, "WAFCACHE_DISABLE=", 17) == 0)
            s->disable = wc_switch_on(e + 17);
        for (unsigned i = 0; i < snap_n; i++)
            if (strncmp(e, snap[i], snap_namelen[i]) == 0)
                s->missing &= ~(1u << i);
    }
}

static int env_intact(const struct wc_envscan *s)
{
    return s->missing == 0 && s->preload >= 0 && s->has_lib;
}

static size_t env_slots(const struct wc_envscan *s)
{
    return s->n + (size_t)__builtin_popcount(s->missing) + 2;
}

static size_t env_chars(char *const *envp, const struct wc_envscan *s)
{
    if (s->preload < 0 || s->has_lib)
        return 1;
    return strlen(envp[s->preload]) + strlen(wc_state.lib) + 2;
}

/* Fill slots (env_slots) and chars (env_chars) with envp plus what it lost. */
static char *const *env_fill(char *const *envp, const struct wc_envscan *s, char **slots,
                             char *chars)
{
    size_t k = 0;

    for (size_t i = 0; i < s->n; i++)
        slots[k++] = envp[i];
    for (unsigned i = 0; i < snap_n; i++)
        if (s->missing & (1u << i))
            slots[k++] = (char *)snap[i];
    if (s->preload < 0) {
        slots[k++] = (char *)wc_state.preload;
    } else if (!s->has_lib) {
        /* Append, never replace: the user's own preloads keep working. */
        const char *old = envp[s->preload];
        int sep = old[11] != '\0';
        size_t len = strlen(old);
        memcpy(chars, old, len);
        if (sep)
            chars[len++] = ':';
        strcpy(chars + len, wc_state.lib);
        slots[s->preload] = chars;
    }
    slots[k] = NULL;
    return slots;
}

/* ---- helpers of both dispatchers ---- */

size_t wc_count_args(char *const *argv)
{
    size_t n = 0;

    while (argv && argv[n])
        n++;
    return n;
}

int wc_is_executable_file(const char *path)
{
    struct stat st;

    return wc_sys_fstatat(AT_FDCWD, path, &st, 0) == 0 && S_ISREG(st.st_mode) &&
           (st.st_mode & 0111);
}

/* Errors after which glibc's execvp tries the next PATH entry. */
static int path_search_goes_on(int err)
{
    return err == EACCES || err == ENOENT || err == ESTALE || err == ENOTDIR || err == ENODEV ||
           err == ETIMEDOUT;
}

int wc_path_search(const char *file, char *buf, size_t cap, void (*missed)(int, const char *))
{
    const char *p = wc_env_get("PATH");
    size_t flen = strlen(file);

    if (strchr(file, '/')) {
        if (flen >= cap)
            return 0;
        memcpy(buf, file, flen + 1);
        return wc_is_executable_file(buf);
    }
    if (!p)
        p = "/bin:/usr/bin";
    while (flen && *file) {
        const char *end = strchrnul(p, ':');
        size_t dlen = (size_t)(end - p);
        struct stat st;
        if (dlen + flen + 2 <= cap) {
            /* An empty entry is the current directory. */
            memcpy(buf, p, dlen);
            if (dlen)
                buf[dlen++] = '/';
            memcpy(buf + dlen, file, flen + 1);
            if (wc_sys_fstatat(AT_FDCWD, buf, &st, 0) == 0) {
                if (S_ISREG(st.st_mode) && (st.st_mode & 0111))
                    return 1;
            } else {
                /* A denied entry ("/root/.cargo/bin" of another user) is skipped, as
                 * glibc does: its being denied is what the command saw. */
                int err = errno;
                if (missed)
                    missed(err, buf);
                if (!path_search_goes_on(err))
                    return 0;
            }
        }
        if (!*end)
            break;
        p = end + 1;
    }
    return 0;
}

int wc_forward(const struct wc_call *c, char *const *env)
{
    switch (c->kind) {
    case CALL_EXECVE:
        return wc_real.execve(c->path, c->argv, env);
    case CALL_EXECVPE:
        return wc_real.execvpe(c->path, c->argv, env);
    case CALL_FEXECVE:
        return wc_real.fexecve(c->fd, c->argv, env);
    case CALL_SPAWN:
        return wc_real.posix_spawn(c->pid, c->path, c->fa, c->attr, c->argv, env);
    case CALL_SPAWNP:
        return wc_real.posix_spawnp(c->pid, c->path, c->fa, c->attr, c->argv, env);
    }
    return -1;
}

/* ---- one exec or spawn, whatever spelling it came in ---- */

/* Every exec and spawn ends here: the environment is repaired on the stack, then the call
 * is redirected, observed or forwarded. */
static int do_call(const struct wc_call *c)
{
    struct wc_envscan s;
    size_t nslots, nchars;

    wc_ensure_real();
    if (wc_state.mode == WC_MODE_OFF)
        return wc_forward(c, c->envp);
    env_scan(c->envp, &s);
    if (env_intact(&s))
        return wc_dispatch(c, &s, c->envp);
    nslots = env_slots(&s);
    nchars = env_chars(c->envp, &s);
    if (nslots > WC_MAX_ENV || nchars > WC_MAX_ENV_CHARS)
        return wc_dispatch(c, &s, c->envp);
    char *slots[nslots];
    char chars[nchars];
    return wc_dispatch(c, &s, env_fill(c->envp, &s, slots, chars));
}

/* ---- the exported spellings ---- */

WC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    struct wc_call c = {.kind = CALL_EXECVE, .path = path, .argv = argv, .envp = envp};
    return do_call(&c);
}

WC_EXPORT int execv(const char *path, char *const argv[])
{
    struct wc_call c = {.kind = CALL_EXECVE, .path = path, .argv = argv, .envp = environ};
    return do_call(&c);
}

WC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    struct wc_call c = {.kind = CALL_EXECVPE, .path = file, .argv = argv, .envp = envp};
    return do_call(&c);
}

WC_EXPORT int execvp(const char *file, char *const argv[])
{
    struct wc_call c = {.kind = CALL_EXECVPE, .path = file, .argv = argv, .envp = environ};
    return do_call(&c);
}

WC_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct wc_call c = {.kind = CALL_FEXECVE, .fd = fd, .argv = argv, .envp = envp};
    return do_call(&c);
}

WC_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    struct wc_call c = {.kind = CALL_SPAWN,
                        .path = path,
                        .argv = argv,
                        .envp = envp,
                        .pid = pid,
                        .fa = fa,
                        .attr = attr};
    return do_call(&c);
}

WC_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    struct wc_call c = {.kind = CALL_SPAWNP,
                        .path = file,
                        .argv = argv,
                        .envp = envp,
                        .pid = pid,
                        .fa = fa,
                        .attr = attr};
    return do_call(&c);
}

/* The execl family: count the arguments, then lay them out on the stack as glibc does. */
static size_t count_varargs(const char *arg, va_list ap)
{
    size_t n = 1;

    if (!arg)
        return 1;
    while (va_arg(ap, const char *))
        n++;
    return n + 1;
}

static void collect_varargs(const char *arg, va_list ap, char **argv, size_t n)
{
    argv[0] = (char *)arg;
    for (size_t i = 1; i < n && argv[i - 1]; i++)
        argv[i] = va_arg(ap, char *);
    argv[n - 1] = NULL;
}

enum list_kind { LIST_EXECL, LIST_EXECLP, LIST_EXECLE };

/* Lay out the arguments of an execl spelling on the stack and take its v spelling; execle's
 * environment follows the terminating NULL. ap is the caller's, started after arg. */
static int exec_list(enum list_kind kind, const char *path, const char *arg, va_list ap)
{
    va_list count;
    size_t n;

    va_copy(count, ap);
    n = count_varargs(arg, count);
    va_end(count);
    if (n > WC_MAX_ARGS * 4) {
        errno = E2BIG;
        return -1;
    }
    char *argv[n];
    collect_varargs(arg, ap, argv, n);
    switch (kind) {
    case LIST_EXECLP:
        return execvp(path, argv);
    case LIST_EXECLE:
        return execve(path, argv, va_arg(ap, char *const *));
    default:
        return execv(path, argv);
    }
}

WC_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    int r;

    va_start(ap, arg);
    r = exec_list(LIST_EXECL, path, arg, ap);
    va_end(ap);
    return r;
}

WC_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    int r;

    va_start(ap, arg);
    r = exec_list(LIST_EXECLP, file, arg, ap);
    va_end(ap);
    return r;
}

WC_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    int r;

    va_start(ap, arg);
    r = exec_list(LIST_EXECLE, path, arg, ap);
    va_end(ap);
    return r;
}

/* ---- exits that skip the destructors (dash ends with _exit) ---- */

/* Say bye on the channel or end the session (wc_before_exit), then leave through the next
 * definition of _exit or _Exit. */
static _Noreturn void leave(int status, int plain_exit)
{
    void (*real)(int);

    wc_ensure_real();
    if (wc_state.mode != WC_MODE_OFF)
        wc_before_exit();
    real = plain_exit ? wc_real.exit_ : wc_real.Exit;
    if (real)
        real(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

WC_EXPORT void _exit(int status)
{
    leave(status, 1);
}

WC_EXPORT void _Exit(int status)
{
    leave(status, 0);
}
