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

/* The next definition of every symbol we wrap, found once by the constructor. */
struct wc_real {
    int resolved;
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                       const posix_spawnattr_t *, char *const[], char *const[]);
    int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[], char *const[]);
    void (*exit_)(int);
    void (*Exit)(int);
    int (*open)(const char *, int, ...);
    int (*open64)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*openat64)(int, const char *, int, ...);
    int (*open_2)(const char *, int);
    int (*open64_2)(const char *, int);
    int (*openat_2)(int, const char *, int);
    int (*openat64_2)(int, const char *, int);
    int (*creat)(const char *, mode_t);
    int (*creat64)(const char *, mode_t);
    FILE *(*fopen)(const char *, const char *);
    FILE *(*fopen64)(const char *, const char *);
    FILE *(*freopen)(const char *, const char *, FILE *);
    FILE *(*freopen64)(const char *, const char *, FILE *);
    int (*stat)(const char *, struct stat *);
    int (*lstat)(const char *, struct stat *);
    int (*fstatat)(int, const char *, struct stat *, int);
    int (*stat64)(const char *, struct stat64 *);
    int (*lstat64)(const char *, struct stat64 *);
    int (*fstatat64)(int, const char *, struct stat64 *, int);
    int (*statx)(int, const char *, int, unsigned, struct statx *);
    int (*xstat)(int, const char *, struct stat *);
    int (*lxstat)(int, const char *, struct stat *);
    int (*fxstatat)(int, int, const char *, struct stat *, int);
    int (*xstat64)(int, const char *, struct stat64 *);
    int (*lxstat64)(int, const char *, struct stat64 *);
    int (*fxstatat64)(int, int, const char *, struct stat64 *, int);
    int (*access)(const char *, int);
    int (*faccessat)(int, const char *, int, int);
    int (*euidaccess)(const char *, int);
    int (*eaccess)(const char *, int);
    DIR *(*opendir)(const char *);
    ssize_t (*readlink)(const char *, char *, size_t);
    ssize_t (*readlinkat)(int, const char *, char *, size_t);
    char *(*realpath)(const char *, char *);
    int (*rename)(const char *, const char *);
    int (*renameat)(int, const char *, int, const char *);
    int (*renameat2)(int, const char *, int, const char *, unsigned);
    int (*unlink)(const char *);
    int (*unlinkat)(int, const char *, int);
    int (*rmdir)(const char *);
    int (*link)(const char *, const char *);
    int (*linkat)(int, const char *, int, const char *, int);
    int (*symlink)(const char *, const char *);
    void *(*dlopen)(const char *, int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    size_t (*fread)(void *, size_t, size_t, FILE *);
    size_t (*fread_unlocked)(void *, size_t, size_t, FILE *);
    char *(*fgets)(char *, int, FILE *);
    int (*getc)(FILE *);
    int (*fgetc)(FILE *);
    int (*io_getc)(FILE *);
    int (*getchar)(void);
    int (*getc_unlocked)(FILE *);
    int (*fgetc_unlocked)(FILE *);
    int (*getchar_unlocked)(void);
    ssize_t (*getline)(char **, size_t *, FILE *);
    ssize_t (*getdelim)(char **, size_t *, int, FILE *);
    int (*uflow)(FILE *);
    int (*underflow)(FILE *);
    ssize_t (*read_chk)(int, void *, size_t, size_t);
    ssize_t (*pread)(int, void *, size_t, off_t);
    ssize_t (*pread64)(int, void *, size_t, off64_t);
    size_t (*fread_chk)(void *, size_t, size_t, size_t, FILE *);
    size_t (*fread_unlocked_chk)(void *, size_t, size_t, size_t, FILE *);
    char *(*fgets_chk)(char *, size_t, int, FILE *);
    char *(*fgets_unlocked_chk)(char *, size_t, int, FILE *);
    char *(*fgets_unlocked)(char *, int, FILE *);
    ssize_t (*getdelim_)(char **, size_t *, int, FILE *);
    wint_t (*fgetwc)(FILE *);
    wint_t (*getwc)(FILE *);
    wint_t (*getwchar)(void);
    wchar_t *(*fgetws)(wchar_t *, int, FILE *);
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
WC_HIDDEN void wc_ev_missing_if(int err, int dirfd, const char *path);
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
