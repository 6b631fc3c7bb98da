/* The WAFCACHE_STATS line in launcher mode (runner.h, wc_launcher_session).
 *
 * Under the library, the build's top-level process owns the session and prints the line at its
 * exit (preload/lib/session.c). A launcher (make CC="wafcache gcc") has no such process: the
 * build is make or ninja itself, which knows nothing of us. So the session is a file named by
 * the build's identity (notice.c), the first runner of the build creates it, and a small
 * detached watcher waits for the build's process to exit, then prints the line on the build's
 * stderr, as `wafcache make` would, and removes the file. */
#include "preload/runner/runner.h"
#include "preload/channel.h"
#include "preload/session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A watcher never outlives a build by more than this, even if it cannot see the build end. */
#define WATCH_MAX_S (24 * 3600)
#define WATCH_POLL_MS 50

/* Until process exits: a pidfd when the kernel has them (5.3), else kill(pid, 0) polling. */
static void wait_for_exit(pid_t process)
{
    time_t deadline = time(NULL) + WATCH_MAX_S;
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, process, 0);
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        while (poll(&p, 1, 1000) == 0 && time(NULL) < deadline)
            ;
        close(fd);
        return;
    }
#endif
    while (kill(process, 0) == 0 && time(NULL) < deadline) {
        struct timespec ts = {0, WATCH_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The build's own stderr, opened anew through /proc (appending: a log file is not written from
 * its start), as fd 2. Never the runner's: ninja gives each job a pipe that it reads until EOF,
 * and make -O a temporary file, so a watcher holding the job's stderr would hold the job --
 * and the build it waits for -- for ever. -1 when it cannot be opened. */
static int build_stderr(pid_t process)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd/2", (long)process);
    int fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (dup2(fd, 2) < 0) {
        close(fd);
        return -1;
    }
    if (fd != 2)
        close(fd);
    return 0;
}

/* The watcher: its own session (a ^C of the build does not stop it before the line), nothing
 * open but the build's stderr. */
static void start_watcher(pid_t process, const char *session)
{
    pid_t pid = fork();
    if (pid != 0) {
        if (pid > 0)
            waitpid(pid, NULL, 0); /* the intermediate child exits at once */
        return;
    }
    setsid();
    if (fork() != 0)
        _exit(0); /* reparented to init: the runner does not wait for it */
    if (chdir("/") != 0) {
        /* nothing depends on the directory */
    }
    for (int fd = 0; fd < 1024; fd++)
        close(fd);
    /* Nowhere to print: still the one to remove the session once the build is over. */
    int can_print = build_stderr(process) == 0;
    wait_for_exit(process);
    if (can_print)
        wc_session_print(session);
    unlink(session);
    _exit(0);
}

void wc_launcher_session(void)
{
    char path[PATH_MAX + 64], value[PATH_MAX + 96];
    pid_t process;
    int made = wc_build_marker("stats session", path, sizeof path, &process);
    if (made < 0 || process <= 1)
        return;
    /* The pid in the value is not ours: no runner takes itself for the session's owner. */
    snprintf(value, sizeof value, "%ld:%s", (long)process, path);
    setenv(WC_ENV_SESSION, value, 1);
    if (made)
        start_watcher(process, path);
}
