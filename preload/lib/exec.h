/* One exec or spawn as both libraries see it (exec.c): the call whatever its spelling, what
 * its environment holds, and the helpers intercept.c and observe_exec.c share. Everything
 * here may run in a vfork child: stack and raw system calls only. */
#ifndef WC_EXEC_H
#define WC_EXEC_H

#include "preload/lib/preload.h"

/* The most arguments an exec may have for the library to lay out its own on the stack. */
#define WC_MAX_ARGS 65536

enum wc_call_kind { CALL_EXECVE, CALL_EXECVPE, CALL_FEXECVE, CALL_SPAWN, CALL_SPAWNP };

struct wc_call {
    /* The most arguments an exec may have for the library to lay out its own on the stack. */
#define WC_MAX_ARGS 65536

    enum wc_call_kind kind;
    const char *path; /* the path or file; NULL for fexecve */
    int fd;           /* fexecve */
    char *const *argv;
    char *const *envp;
    pid_t *pid;
    const posix_spawn_file_actions_t *fa;
    const posix_spawnattr_t *attr;
};

struct wc_envscan {
    size_t n;         /* entries */
    unsigned missing; /* bit i: the snapshot's setting i is absent */
    long preload;     /* index of LD_PRELOAD=, or -1 */
    int has_lib;      /* LD_PRELOAD names this library */
    int observe;      /* WAFCACHE_OBSERVE_FD=: the runner starting a real command */
    int disable;      /* WAFCACHE_DISABLE= turned on for this command */
};

/* The call as the program made it, with env in place of its envp. */
WC_HIDDEN int wc_forward(const struct wc_call *c, char *const *env);
WC_HIDDEN size_t wc_count_args(char *const *argv);
/* 1 when path is an executable regular file. */
WC_HIDDEN int wc_is_executable_file(const char *path);
/* The program glibc's execvp would run for file, into buf: the first PATH entry holding an
 * executable regular file. missed (or NULL) hears of each candidate that could not be
 * looked at, with its errno. 1 when found. */
WC_HIDDEN int wc_path_search(const char *file, char *buf, size_t cap,
                             void (*missed)(int err, const char *path));

#endif
