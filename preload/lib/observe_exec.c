/* libwafcache-observe.so, loaded by the runner into the processes of a real command in place
 * of the interposer (runner.c, child_env): its constructor, and what it does with an exec or
 * spawn (exec.c hands each one here). Every exec is reported on the channel (observe.c) and
 * forwarded; nothing is ever redirected.
 *
 * Everything reachable from wc_dispatch may run in a vfork child: the stack and raw system
 * calls only, no write to shared state. */
#undef _FORTIFY_SOURCE
#include "preload/lib/exec.h"
#include "preload/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

/* ---- the constructor ---- */

static void init_mode(void)
{
    const char *obs;

    if (wc_start() < 0)
        return;
    /* Outside a command the runner observes (no channel), this library has nothing to do. */
    obs = wc_setting(WC_ENV_OBSERVE);
    if (!obs || !*obs)
        return;
    wc_settings_read();
    wc_state.mode = WC_MODE_OBSERVE;
    wc_observe_init(obs);
}

__attribute__((constructor)) static void wc_init(void)
{
    init_mode();
    wc_env_ctor_done();
}

__attribute__((destructor)) static void wc_fini(void)
{
    if (wc_state.mode == WC_MODE_OBSERVE)
        wc_observe_fini();
}

void wc_before_exit(void)
{
    wc_ev_exit();
}

/* ---- execs and spawns ---- */

/* A PATH candidate that could not be looked at: what the command probed. */
static void report_missed(int err, const char *path)
{
    wc_ev_probe_failed(err, AT_FDCWD, path);
}

/* The program an exec or spawn will run, into prog: the path itself for execve and
 * posix_spawn, the PATH search for the p spellings. 1 when it exists. */
static int find_program(const struct wc_call *c, char *prog, size_t cap)
{
    struct stat st;

    if (c->kind == CALL_EXECVPE || c->kind == CALL_SPAWNP) {
        /* The walk is the command reading PATH: another PATH can select another program. */
        if (!strchr(c->path, '/'))
            wc_ev_env("PATH", wc_env_get("PATH"));
        return wc_path_search(c->path, prog, cap, report_missed);
    }
    if (strlen(c->path) >= cap)
        return 0;
    strcpy(prog, c->path);
    return wc_sys_fstatat(AT_FDCWD, prog, &st, 0) == 0;
}

static int observe_exec(const struct wc_call *c, char *const *env)
{
    char prog[PATH_MAX];
    int r, err;

    if (c->kind == CALL_FEXECVE) {
        wc_ev_exec_begin(c->fd, "");
    } else if (!find_program(c, prog, sizeof(prog))) {
        /* Nothing will run: let the real call fail as it would, and report the probe. */
        r = wc_forward(c, env);
        err = errno;
        if (strchr(c->path, '/') || c->kind == CALL_EXECVE)
            wc_ev_probe_failed(err, AT_FDCWD, c->path);
        errno = err;
        return r;
    } else {
        wc_ev_exec_begin(AT_FDCWD, prog);
    }
    r = wc_forward(c, env);
    err = errno;
    wc_ev_exec_failed();
    errno = err;
    return r;
}

static int observe_spawn(const struct wc_call *c, char *const *env)
{
    char prog[PATH_MAX];
    pid_t child = 0;
    struct wc_call own = *c;
    int found = find_program(c, prog, sizeof(prog));
    int r;

    own.pid = &child;
    r = wc_forward(&own, env);
    if (c->pid)
        *c->pid = child;
    if (r == 0 && found)
        wc_ev_spawned(child, prog);
    else if (r != 0 && (strchr(c->path, '/') || c->kind == CALL_SPAWN))
        wc_ev_probe_failed(r, AT_FDCWD, c->path);
    return r;
}

int wc_dispatch(const struct wc_call *c, const struct wc_envscan *s, char *const *env)
{
    (void)s;
    if (c->kind == CALL_SPAWN || c->kind == CALL_SPAWNP)
        return observe_spawn(c, env);
    return observe_exec(c, env);
}
