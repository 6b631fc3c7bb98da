/* libwafcache.so, the interposer loaded into every process of the build (make, ninja, sh,
 * python...): its constructor, and what it does with an exec or spawn (exec.c hands each one
 * here). An exec of a cached program becomes `<libdir>/wafcache-run <path> <argv...>`;
 * anything else is forwarded. It wraps nothing but the exec family: what a real command
 * opens and reads is observed by libwafcache-observe.so, which the runner loads in its
 * place (observe_exec.c).
 *
 * Everything reachable from wc_dispatch may run in a vfork child: the stack and raw system
 * calls only, no write to shared state. */
#undef _FORTIFY_SOURCE
#include "preload/lib/exec.h"
#include "preload/channel.h"
#include "core/programs.h"

#include <errno.h>
#include <string.h>

/* ---- the constructor ---- */

static void init_mode(void)
{
    const char *obs;

    if (wc_start() < 0)
        return;
    /* A process of a real command: libwafcache-observe.so does the work, and nothing may be
     * redirected there. */
    obs = wc_setting(WC_ENV_OBSERVE);
    if (obs && *obs)
        return;
    wc_settings_read();
    /* No WAFCACHE_BUILD yet: the build's first process (wc_session_init sets it). */
    if (!wc_setting(WC_ENV_BUILD) && wc_toplevel_config_bad())
        return;
    wc_session_init();
    wc_state.mode = WC_MODE_INTERCEPT;
    wc_env_snapshot_refresh();
}

__attribute__((constructor)) static void wc_init(void)
{
    init_mode();
}

__attribute__((destructor)) static void wc_fini(void)
{
    if (wc_state.mode == WC_MODE_INTERCEPT)
        wc_session_fini();
}

void wc_before_exit(void)
{
    wc_session_fini();
}

/* ---- redirection ---- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* Start `runner prog argv...`, with LD_PRELOAD renamed WC_ENV_PRELOAD (channel.h). Stack
 * only: this may run in a vfork child. Returns like the call it replaces. */
static int start_runner(const struct wc_call *c, const char *prog, char *const *env)
{
    size_t argc = wc_count_args(c->argv), envc = wc_count_args(env);
    char *nargv[argc + 3];
    char *nenv[envc + 1];
    char runner[PATH_MAX];
    long preload = -1;

    /* Beside the library; worked out here, not by every process's constructor. */
    if (wc_beside_lib("wafcache-run", runner, sizeof(runner)) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    nargv[0] = runner;
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
        return wc_real.posix_spawn(c->pid, runner, c->fa, c->attr, nargv, nenv);
    return wc_real.execve(runner, nargv, nenv);
}

/* The exact program to redirect, or 0: a cached program's basename, and the exact path is an
 * existing executable. Python and dash walk PATH themselves by trying execve on each
 * candidate: redirecting a candidate that does not exist would "succeed" wrongly. */
static int redirect_target(const struct wc_call *c, const struct wc_envscan *s, char *buf,
                           size_t cap)
{
    if (wc_state.passive || s->observe || s->disable || !c->path)
        return 0;
    if (wc_count_args(c->argv) > WC_MAX_ARGS)
        return 0;
    if (!wc_program_matches(wc_state.programs, base_name(c->path)))
        return 0;
    if (c->kind == CALL_EXECVPE || c->kind == CALL_SPAWNP)
        return wc_path_search(c->path, buf, cap, NULL);
    if (strlen(c->path) >= cap)
        return 0;
    strcpy(buf, c->path);
    return wc_is_executable_file(buf);
}

int wc_dispatch(const struct wc_call *c, const struct wc_envscan *s, char *const *env)
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
    return wc_forward(c, env);
}
