/* libwafcache.so, the part every process of a build pays for: the constructor that decides
 * the mode, and the exec family. In a build process (INTERCEPT) an exec of a cached program
 * becomes `<libdir>/wafcache-run <path> <argv...>`; in a process of a real command
 * (OBSERVE) every exec is reported on the channel and nothing is redirected.
 *
 * The exec wrappers run in vfork children (dash, python's subprocess, gcc's pex): they use
 * the stack and raw system calls only, and never write to shared state. */
#undef _FORTIFY_SOURCE
#include "preload/lib/preload.h"
#include "preload/channel.h"
#include "core/config.h"
#include "core/programs.h"
#include "core/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

struct wc_real wc_real;
struct wc_state wc_state;

/* Bounds for what we build on the stack; anything larger is forwarded untouched. */
#define WC_MAX_ARGS 65536
#define WC_MAX_ENV 16384
#define WC_MAX_ENV_CHARS 65536
#define WC_MAX_SNAP 32

/* The WAFCACHE_* settings present at start, put back into an envp that lost them. */
static char snap_arena[8192];
static const char *snap[WC_MAX_SNAP];
static size_t snap_namelen[WC_MAX_SNAP]; /* up to and including '=' */
static unsigned snap_n;

int wc_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

int wc_sys_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

/* ---- the next definitions of the wrapped symbols ---- */

struct wc_sym {
    void **slot;
    const char *name;
};

/* POSIX guarantees a function pointer survives the round trip through void *. */
static const struct wc_sym wc_syms[] = {
#define WC_WRAP(field, sym, ret, params) {(void **)&wc_real.field, #sym},
#include "preload/lib/wrap.def"
};

void wc_resolve_real(void)
{
    for (size_t i = 0; i < sizeof(wc_syms) / sizeof(wc_syms[0]); i++)
        *wc_syms[i].slot = dlsym(RTLD_NEXT, wc_syms[i].name);
    wc_env_resolve();
    wc_real.resolved = 1;
}

/* ---- the constructor ---- */

static void lexical_dirname(char *path)
{
    char *slash = strrchr(path, '/');

    if (slash == path)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
}

/* Where this library lives, absolute: the runner is its neighbour. */
static int find_library(void)
{
    Dl_info info;
    char dir[PATH_MAX];

    if (!dladdr((void *)find_library, &info) || !info.dli_fname)
        return -1;
    if (info.dli_fname[0] == '/') {
        if (strlen(info.dli_fname) >= sizeof(wc_state.lib))
            return -1;
        strcpy(wc_state.lib, info.dli_fname);
    } else if (!realpath(info.dli_fname, wc_state.lib)) {
        return -1;
    }
    strcpy(dir, wc_state.lib);
    lexical_dirname(dir);
    if ((size_t)snprintf(wc_state.runner, sizeof(wc_state.runner), "%s/wafcache-run", dir) >=
        sizeof(wc_state.runner))
        return -1;
    snprintf(wc_state.preload, sizeof(wc_state.preload), "LD_PRELOAD=%s", wc_state.lib);
    return 0;
}

/* The runner loads the library too (it inherits LD_PRELOAD) and must stay passive: it
 * starts the real compiler, which must not be redirected back to a runner. */
static int is_runner_process(void)
{
    const char *fn = (const char *)getauxval(AT_EXECFN);
    const char *base;

    if (!fn)
        return 0;
    base = strrchr(fn, '/');
    return strcmp(base ? base + 1 : fn, "wafcache-run") == 0;
}

static void snapshot_env(void)
{
    size_t used = 0;

    for (char **e = environ; e && *e && snap_n < WC_MAX_SNAP; e++) {
        size_t len = strlen(*e) + 1;
        const char *eq = strchr(*e, '=');

        if (strncmp(*e, "WAFCACHE_", 9) != 0 || !eq || used + len > sizeof(snap_arena))
            continue;
        memcpy(snap_arena + used, *e, len);
        snap[snap_n] = snap_arena + used;
        snap_namelen[snap_n] = (size_t)(eq - *e) + 1;
        snap_n++;
        used += len;
    }
}

static void wc_init_mode(void)
{
    const char *obs;

    if (!wc_real.resolved)
        wc_resolve_real();
    if (wc_settings_disabled() || getauxval(AT_SECURE))
        return;
    if (find_library() < 0 || is_runner_process())
        return;
    wc_settings_read();
    obs = wc_env_get(WC_ENV_OBSERVE);
    if (obs && *obs) {
        wc_state.mode = WC_MODE_OBSERVE;
        wc_observe_init(obs);
    } else {
        /* No WAFCACHE_BUILD yet: the build's first process (wc_session_init sets it). */
        if (!wc_env_get(WC_ENV_BUILD) && wc_toplevel_config_bad())
            return;
        wc_session_init();
        wc_state.mode = WC_MODE_INTERCEPT;
    }
    snapshot_env();
}

__attribute__((constructor)) static void wc_init(void)
{
    wc_init_mode();
    wc_env_ctor_done();
}

__attribute__((destructor)) static void wc_fini(void)
{
    if (wc_state.mode == WC_MODE_OBSERVE)
        wc_observe_fini();
    else if (wc_state.mode == WC_MODE_INTERCEPT)
        wc_session_fini();
}

/* ---- the environment of an exec ---- */

struct envscan {
    size_t n;         /* entries */
    unsigned missing; /* bit i: snap[i] is absent */
    long preload;     /* index of LD_PRELOAD=, or -1 */
    int has_lib;      /* LD_PRELOAD names this library */
    int observe;      /* WAFCACHE_OBSERVE_FD=: the runner starting a real command */
    int disable;      /* WAFCACHE_DISABLE= turned on for this command */
};

static void env_scan(char *const *envp, struct envscan *s)
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
            s->has_lib = wc_preload_has_wafcache(e + 11);
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

static int env_intact(const struct envscan *s)
{
    return s->missing == 0 && s->preload >= 0 && s->has_lib;
}

static size_t env_slots(const struct envscan *s)
{
    return s->n + (size_t)__builtin_popcount(s->missing) + 2;
}

static size_t env_chars(char *const *envp, const struct envscan *s)
{
    if (s->preload < 0 || s->has_lib)
        return 1;
    return strlen(envp[s->preload]) + strlen(wc_state.lib) + 2;
}

/* Fill slots (env_slots) and chars (env_chars) with envp plus what it lost. */
static char *const *env_fill(char *const *envp, const struct envscan *s, char **slots, char *chars)
{
    size_t k = 0;

    for (size_t i = 0; i < s->n; i++)
        slots[k++] = envp[i];
    for (unsigned i = 0; i < snap_n; i++)
        if (s->missing & (1u << i))
            slots[k++] = (char *)snap[i];
    if (s->preload < 0) {
        slots[k++] = wc_state.preload;
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

/* ---- one exec or spawn, whatever spelling it came in ---- */

enum call_kind { CALL_EXECVE, CALL_EXECVPE, CALL_FEXECVE, CALL_SPAWN, CALL_SPAWNP };

struct call {
    enum call_kind kind;
    const char *path; /* the path or file; NULL for fexecve */
    int fd;           /* fexecve */
    char *const *argv;
    char *const *envp;
    pid_t *pid;
    const posix_spawn_file_actions_t *fa;
    const posix_spawnattr_t *attr;
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int is_executable_file(const char *path)
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

/* The program glibc's execvp would run for file: the first PATH entry holding an executable
 * regular file. In observe mode the candidates found missing are reported. 1 when found. */
static int path_search(const char *file, char *buf, size_t cap, int report)
{
    const char *p = wc_env_get("PATH");
    size_t flen = strlen(file);

    /* The walk is the command reading PATH: another PATH can select another program. */
    if (report && !strchr(file, '/'))
        wc_ev_env("PATH", p);
    if (strchr(file, '/')) {
        if (flen >= cap)
            return 0;
        memcpy(buf, file, flen + 1);
        return is_executable_file(buf);
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
                if (report)
                    wc_ev_probe_failed(errno, AT_FDCWD, buf);
                if (!path_search_goes_on(errno))
                    return 0;
            }
        }
        if (!*end)
            break;
        p = end + 1;
    }
    return 0;
}

static size_t count_args(char *const *argv)
{
    size_t n = 0;

    while (argv && argv[n])
        n++;
    return n;
}

/* Start `runner prog argv...`, with LD_PRELOAD renamed WC_ENV_PRELOAD (channel.h). Stack
 * only: this may run in a vfork child. Returns like the call it replaces. */
static int start_runner(const struct call *c, const char *prog, char *const *env)
{
    size_t argc = count_args(c->argv), envc = count_args(env);
    char *nargv[argc + 3];
    char *nenv[envc + 1];
    long preload = -1;

    nargv[0] = wc_state.runner;
    nargv[1] = (char *)prog;
    for (size_t i = 0; i < argc; i++)
        nargv[i + 2] = c->argv[i];
    nargv[argc + 2] = NULL;
    for (size_t i = 0; i <= envc; i++) {
        nenv[i] = env[i];
        if (i < envc && strncmp(env[i], "LD_PRELOAD=", 11) == 0)
            preload = (long)i;
    }
    const char *value = preload >= 0 ? env[preload] + 11 : "";
    char renamed[sizeof(WC_ENV_PRELOAD "=") + strlen(value)];
    if (preload >= 0) {
        memcpy(renamed, WC_ENV_PRELOAD "=", sizeof(WC_ENV_PRELOAD "="));
        strcat(renamed, value);
        nenv[preload] = renamed;
    }
    if (c->kind == CALL_SPAWN || c->kind == CALL_SPAWNP)
        return wc_real.posix_spawn(c->pid, wc_state.runner, c->fa, c->attr, nargv, nenv);
    return wc_real.execve(wc_state.runner, nargv, nenv);
}

/* The call as the program made it, with env in place of its envp. */
static int forward(const struct call *c, char *const *env)
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

/* The exact program to redirect, or 0: a cached program's basename, and the exact path is an
 * existing executable. Python and dash walk PATH themselves by trying execve on each
 * candidate: redirecting a candidate that does not exist would "succeed" wrongly. */
static int redirect_target(const struct call *c, const struct envscan *s, char *buf, size_t cap)
{
    if (wc_state.mode != WC_MODE_INTERCEPT || wc_state.passive || s->observe || s->disable ||
        !c->path)
        return 0;
    if (count_args(c->argv) > WC_MAX_ARGS)
        return 0;
    if (!wc_program_matches(wc_state.programs, base_name(c->path)))
        return 0;
    if (c->kind == CALL_EXECVPE || c->kind == CALL_SPAWNP)
        return path_search(c->path, buf, cap, 0);
    if (strlen(c->path) >= cap)
        return 0;
    strcpy(buf, c->path);
    return is_executable_file(buf);
}

static int intercept_call(const struct call *c, const struct envscan *s, char *const *env)
{
    char prog[PATH_MAX];
    int saved = errno;

    if (redirect_target(c, s, prog, sizeof(prog))) {
        int r = start_runner(c, prog, env);
        if (c->kind == CALL_SPAWN || c->kind == CALL_SPAWNP) {
            if (r == 0)
                return 0;
        }
        /* The runner could not start: the build goes on without the cache. */
    }
    errno = saved;
    return forward(c, env);
}

/* The program an exec or spawn will run, into prog: the path itself for execve and
 * posix_spawn, the PATH search for the p spellings. 1 when it exists. */
static int find_program(const struct call *c, char *prog, size_t cap)
{
    struct stat st;

    if (c->kind == CALL_EXECVPE || c->kind == CALL_SPAWNP)
        return path_search(c->path, prog, cap, 1);
    if (strlen(c->path) >= cap)
        return 0;
    strcpy(prog, c->path);
    return wc_sys_fstatat(AT_FDCWD, prog, &st, 0) == 0;
}

static int observe_exec(const struct call *c, char *const *env)
{
    char prog[PATH_MAX];
    int r, err;

    if (c->kind == CALL_FEXECVE) {
        wc_ev_exec_begin(c->fd, "");
    } else if (!find_program(c, prog, sizeof(prog))) {
        /* Nothing will run: let the real call fail as it would, and report the probe. */
        r = forward(c, env);
        err = errno;
        if (strchr(c->path, '/') || c->kind == CALL_EXECVE)
            wc_ev_probe_failed(err, AT_FDCWD, c->path);
        errno = err;
        return r;
    } else {
        wc_ev_exec_begin(AT_FDCWD, prog);
    }
    r = forward(c, env);
    err = errno;
    wc_ev_exec_failed();
    errno = err;
    return r;
}

static int observe_spawn(const struct call *c, char *const *env)
{
    char prog[PATH_MAX];
    pid_t child = 0;
    struct call own = *c;
    int found = find_program(c, prog, sizeof(prog));
    int r;

    own.pid = &child;
    r = forward(&own, env);
    if (c->pid)
        *c->pid = child;
    if (r == 0 && found)
        wc_ev_spawned(child, prog);
    else if (r != 0 && (strchr(c->path, '/') || c->kind == CALL_SPAWN))
        wc_ev_probe_failed(r, AT_FDCWD, c->path);
    return r;
}

static int dispatch(const struct call *c, const struct envscan *s, char *const *env)
{
    if (wc_state.mode == WC_MODE_INTERCEPT)
        return intercept_call(c, s, env);
    if (c->kind == CALL_SPAWN || c->kind == CALL_SPAWNP)
        return observe_spawn(c, env);
    return observe_exec(c, env);
}

/* Every exec and spawn ends here: the environment is repaired on the stack, then the call
 * is redirected, observed or forwarded. */
static int do_call(const struct call *c)
{
    struct envscan s;
    size_t nslots, nchars;

    wc_ensure_real();
    if (wc_state.mode == WC_MODE_OFF)
        return forward(c, c->envp);
    env_scan(c->envp, &s);
    if (env_intact(&s))
        return dispatch(c, &s, c->envp);
    nslots = env_slots(&s);
    nchars = env_chars(c->envp, &s);
    if (nslots > WC_MAX_ENV || nchars > WC_MAX_ENV_CHARS)
        return dispatch(c, &s, c->envp);
    char *slots[nslots];
    char chars[nchars];
    return dispatch(c, &s, env_fill(c->envp, &s, slots, chars));
}

/* ---- the exported spellings ---- */

WC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    struct call c = {.kind = CALL_EXECVE, .path = path, .argv = argv, .envp = envp};
    return do_call(&c);
}

WC_EXPORT int execv(const char *path, char *const argv[])
{
    struct call c = {.kind = CALL_EXECVE, .path = path, .argv = argv, .envp = environ};
    return do_call(&c);
}

WC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    struct call c = {.kind = CALL_EXECVPE, .path = file, .argv = argv, .envp = envp};
    return do_call(&c);
}

WC_EXPORT int execvp(const char *file, char *const argv[])
{
    struct call c = {.kind = CALL_EXECVPE, .path = file, .argv = argv, .envp = environ};
    return do_call(&c);
}

WC_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct call c = {.kind = CALL_FEXECVE, .fd = fd, .argv = argv, .envp = envp};
    return do_call(&c);
}

WC_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    struct call c = {.kind = CALL_SPAWN,
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
    struct call c = {.kind = CALL_SPAWNP,
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

/* Say bye on the channel (OBSERVE) or end the session (INTERCEPT), then leave through the
 * next definition of _exit or _Exit. */
static _Noreturn void leave(int status, int plain_exit)
{
    void (*real)(int);

    wc_ensure_real();
    if (wc_state.mode == WC_MODE_OBSERVE)
        wc_ev_exit();
    else if (wc_state.mode == WC_MODE_INTERCEPT)
        wc_session_fini();
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
