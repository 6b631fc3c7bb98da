/* State shared by the files of libwafcache.so (intercept.c, observe.c, session.c). Internal:
 * nothing here is exported from the library.
 *
 * Everything reachable from an exec or open wrapper must be safe in a vfork child: no malloc,
 * no stdio, no locks, and no write to shared state the parent relies on. That is why the
 * helpers below use raw system calls (never our own exported wrappers) and stack buffers. */
#ifndef WC_PRELOAD_H
#define WC_PRELOAD_H

#include <dirent.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <limits.h>
#include <wchar.h>

#define WC_HIDDEN __attribute__((visibility("hidden")))
#define WC_EXPORT __attribute__((visibility("default")))

enum wc_mode {
    WC_MODE_OFF = 0,   /* disabled, setuid, the runner itself, or before the constructor */
    WC_MODE_INTERCEPT, /* a build process: redirect cached programs to the runner */
    WC_MODE_OBSERVE    /* a process of a real command: report on the channel */
};

/* The next definition of every symbol we wrap (wrap.def), found once by the constructor. */
struct wc_real {
    int resolved;
#define WC_WRAP(field, sym, ret, params) ret(*field) params;
#include "preload/lib/wrap.def"
};

struct wc_state {
    enum wc_mode mode;
    int hardlink;                /* WAFCACHE_HARDLINK: copy-on-write of shared inodes */
    const char *programs;        /* WAFCACHE_PROGRAMS, or NULL for the default list */
    int passive;                 /* WAFCACHE_PASSIVE: inside a command run uncached */
    int stats;                   /* WAFCACHE_STATS: the top-level process prints a line */
    int wait_uploads;            /* WAFCACHE_ASYNC_WORKERS without WAFCACHE_ASYNC_NOWAIT */
    char lib[PATH_MAX];          /* absolute path of libwafcache.so */
    char runner[PATH_MAX];       /* <libdir>/wafcache-run */
    char preload[PATH_MAX + 16]; /* "LD_PRELOAD=<lib>", for an envp that lost it */
};

extern struct wc_real wc_real WC_HIDDEN;
extern struct wc_state wc_state WC_HIDDEN;

/* intercept.c */
WC_HIDDEN void wc_resolve_real(void);
/* Resolve the wrapped symbols if a wrapper runs before the constructor did. */
static inline void wc_ensure_real(void)
{
    if (!wc_real.resolved)
        wc_resolve_real();
}

/* observe.c: the channel writer. */
WC_HIDDEN void wc_observe_init(const char *spec);
WC_HIDDEN void wc_observe_fini(void);
/* One event about path (resolved against dirfd, AT_FDCWD for the cwd). */
WC_HIDDEN void wc_ev_path(char kind, int dirfd, const char *path);
/* A call on path failed with err: "m" when missing (ENOENT, ENOTDIR), "a" when denied
 * (EACCES), nothing for any other error. */
WC_HIDDEN void wc_ev_probe_failed(int err, int dirfd, const char *path);
/* "x path" and "B", flushed with everything pending, just before an exec. */
WC_HIDDEN void wc_ev_exec_begin(int dirfd, const char *path);
/* The exec returned: this image goes on, say hello again. */
WC_HIDDEN void wc_ev_exec_failed(void);
/* "<child> s path": a posix_spawn'ed child that must say hello. */
WC_HIDDEN void wc_ev_spawned(pid_t child, const char *path);
/* _exit: flush and say bye. */
WC_HIDDEN void wc_ev_exit(void);
/* Copy-on-write for WAFCACHE_HARDLINK (SPEC §5), before an open for writing. */
WC_HIDDEN void wc_cow_before_open(int dirfd, const char *path, int flags);

/* "e NAME=value" (value NULL: "e NAME", unset), once per process and pair. */
WC_HIDDEN void wc_ev_env(const char *name, const char *value);

/* env.c: the environment wrappers. */
WC_HIDDEN void wc_env_resolve(void);
/* The constructor is done: the reads made before it are reported (OBSERVE) or forgotten. */
WC_HIDDEN void wc_env_ctor_done(void);
/* Some read could not be reported: an 'E' event (the run is not cached). */
WC_HIDDEN void wc_ev_env_lost(void);
/* The library's own lookups (its settings, the PATH of an execvp): never reported, safe
 * before the constructor and in a vfork child. */
WC_HIDDEN const char *wc_env_get(const char *name);

/* session.c: the top-level process. */
WC_HIDDEN void wc_session_init(void);
WC_HIDDEN void wc_session_fini(void);

/* Raw system calls (errno-setting), so that the library never re-enters its own wrappers. */
WC_HIDDEN int wc_sys_fstatat(int dirfd, const char *path, struct stat *st, int flags);
WC_HIDDEN int wc_sys_fstat(int fd, struct stat *st);

/* settings.c: the settings the library reads. 1 when WAFCACHE_DISABLE is on. */
WC_HIDDEN int wc_settings_disabled(void);
/* The rest of wc_state's settings (hardlink, passive, stats, wait_uploads, programs). */
WC_HIDDEN void wc_settings_read(void);
/* Check the configuration once per build; 1 when the cache is off for it. */
WC_HIDDEN int wc_toplevel_config_bad(void);

#endif
