/* State shared by the files of the two libraries built from this folder. Internal: nothing
 * here is exported.
 *
 *   both                     exec.c (the exec family), next.c, start.c, settings.c, cow.c
 *   libwafcache.so           the interposer, in every process of the build: intercept.c,
 *                            session.c; its only other wrappers are cow.c's opens
 *   libwafcache-observe.so   in the processes of a real command the runner observes
 *                            (WC_OBSERVE_LIB): observe_exec.c, observe.c, env.c
 *
 * The runner puts the second in place of the first in the real command's LD_PRELOAD, so a
 * build process pays for its exec wrappers (and a branch per open) only.
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

/* This library's file name: what an LD_PRELOAD must name for it to be loaded. */
#ifdef WC_OBSERVE_LIB
#define WC_LIB_NAME "libwafcache-observe.so"
#else
#define WC_LIB_NAME "libwafcache.so"
#endif

/* The next definition of every symbol this library wraps (wrap.def), found once by the
 * constructor. */
struct wc_real {
    int resolved;
#define ROW(field, sym, ret, params) ret(*field) params;
#include "preload/lib/wrap_rows.h"
#include "preload/lib/wrap.def"
#undef ROW
};

struct wc_state {
    enum wc_mode mode;
    int hardlink;         /* WAFCACHE_HARDLINK: copy-on-write of shared inodes */
    const char *programs; /* WAFCACHE_PROGRAMS, or NULL for the default list */
    int passive;          /* WAFCACHE_PASSIVE: inside a command run uncached */
    int stats;            /* WAFCACHE_STATS: the top-level process prints a line */
    int wait_uploads;     /* WAFCACHE_ASYNC_WORKERS without WAFCACHE_ASYNC_NOWAIT */
    int session;          /* session.c has something to do at exit */
    const char *lib;      /* absolute path of this library (in preload) */
    const char *preload;  /* "LD_PRELOAD=<lib>", for an envp that lost it */
};

extern struct wc_real wc_real WC_HIDDEN;
extern struct wc_state wc_state WC_HIDDEN;

/* next.c: for each name, the definition dlsym(RTLD_NEXT, name) returns, into *slot. */
struct wc_next {
    void **slot;
    const char *name;
};
WC_HIDDEN void wc_find_next(const struct wc_next *want, size_t n);

/* exec.c: the exec family, in both libraries. */
WC_HIDDEN void wc_resolve_real(void);
/* Resolve the wrapped symbols if a wrapper runs before the constructor did. */
static inline void wc_ensure_real(void)
{
    if (!wc_real.resolved)
        wc_resolve_real();
}
/* a then b (lengths alen, blen), NUL-terminated, in the constructor's arena: a string that
 * stays, or NULL when the arena is full. */
WC_HIDDEN const char *wc_keep(const char *a, size_t alen, const char *b, size_t blen);
/* Keep the WAFCACHE_* settings present now, to put back into an envp that lost them. */
WC_HIDDEN void wc_env_snapshot(void);
/* A WAFCACHE_* setting as of the last snapshot (the constructor's one pass over environ). */
WC_HIDDEN const char *wc_setting(const char *name);
/* LD_PRELOAD's value at the last snapshot (NULL when unset): valid in the constructor. */
WC_HIDDEN const char *wc_start_preload(void);
/* setenv for the constructor: the snapshot is taken again once it is done. 0 or -1. */
WC_HIDDEN int wc_env_set(const char *name, const char *value, int replace);
/* The snapshot again if wc_env_set changed the environment since. */
WC_HIDDEN void wc_env_snapshot_refresh(void);

/* start.c: what both constructors do first. 0 when this process may use the library: not
 * disabled, not setuid, not the runner; wc_real, wc_state.lib and the snapshot are set. */
WC_HIDDEN int wc_start(void);
/* "<dir of this library>/name" into out (cap bytes). 0 or -1. */
WC_HIDDEN int wc_beside_lib(const char *name, char *out, size_t cap);

/* What each library does with an exec or spawn (intercept.c, observe_exec.c), and before a
 * process leaves through _exit (the session's end, or the observer's bye). */
struct wc_call;
struct wc_envscan;
WC_HIDDEN int wc_dispatch(const struct wc_call *c, const struct wc_envscan *s, char *const *env);
WC_HIDDEN void wc_before_exit(void);

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

/* "e NAME=value" (value NULL: "e NAME", unset), once per process and pair. */
WC_HIDDEN void wc_ev_env(const char *name, const char *value);

/* env.c: the environment wrappers (the observe library only). */
WC_HIDDEN void wc_env_resolve(void);
/* The constructor is done: the reads made before it are reported (OBSERVE) or forgotten. */
WC_HIDDEN void wc_env_ctor_done(void);
/* Some read could not be reported: an 'E' event (the run is not cached). */
WC_HIDDEN void wc_ev_env_lost(void);
/* start.c: the library's own lookups (the PATH of an execvp, TMPDIR): a scan of environ,
 * never reported, safe before the constructor and in a vfork child. */
WC_HIDDEN const char *wc_env_get(const char *name);

/* cow.c: copy-on-write for WAFCACHE_HARDLINK (SPEC §5), before an open for writing. */
WC_HIDDEN void wc_cow_before_open(int dirfd, const char *path, int flags);
/* An open with these flags may write the file. */
WC_HIDDEN int wc_open_writes(int flags);
WC_HIDDEN int wc_is_tmpfile(int flags);
/* The open(2) flags an fopen mode stands for. */
WC_HIDDEN int wc_fopen_flags(const char *mode);
/* v in decimal at out, no terminator; the length. */
WC_HIDDEN size_t wc_put_uint(char *out, unsigned long v);
/* The mode argument of a variadic open, when its flags need one. */
#define wc_open_mode(flags, ap) (__OPEN_NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0)

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
