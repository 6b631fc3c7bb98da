/* The top-level process of a build: it creates the session that runners count into (see
 * preload/session.h) and prints the WAFCACHE_STATS line when it exits. Runs only in the
 * constructor and destructor of an INTERCEPT process, never in a vfork child. */
#undef _FORTIFY_SOURCE
#include "preload/lib/preload.h"
#include "preload/channel.h"
#include "preload/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int top_level;     /* this process prints the stats */
static pid_t session_pid; /* the pid in WAFCACHE_SESSION */
static char session_file[PATH_MAX];
static pid_t uploads_pid; /* the pid in WAFCACHE_UPLOADS, when this process owns the slots */
static char uploads_dir[PATH_MAX];

static void set_build_identity(void)
{
    char id[64];
    struct timespec ts;

    if (wc_setting(WC_ENV_BUILD) || clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return;
    snprintf(id, sizeof(id), "%ld.%lld%09ld", (long)getpid(), (long long)ts.tv_sec, ts.tv_nsec);
    wc_env_set(WC_ENV_BUILD, id, 0);
}

/* An existing session: still ours when its pid is ours (`sh -c make` execs make). */
static void adopt_session(const char *value)
{
    const char *path = wc_session_path(value);
    long pid = strtol(value, NULL, 10);

    if (!path || pid != (long)getpid() || strlen(path) >= sizeof(session_file))
        return;
    strcpy(session_file, path);
    session_pid = (pid_t)pid;
    top_level = 1;
    wc_state.session = 1;
}

/* Where the session's files go: TMPDIR when absolute, else /tmp. */
static const char *tmp_dir(void)
{
    const char *tmpdir = wc_env_get("TMPDIR");

    return tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp";
}

static void create_session(void)
{
    char value[PATH_MAX + 32];
    int fd;

    if ((size_t)snprintf(session_file, sizeof(session_file), "%s/wafcache-session-XXXXXX",
                         tmp_dir()) >= sizeof(session_file))
        return;
    fd = mkostemp(session_file, O_CLOEXEC);
    if (fd < 0)
        return;
    close(fd);
    session_pid = getpid();
    snprintf(value, sizeof(value), "%ld:%s", (long)session_pid, session_file);
    wc_env_set(WC_ENV_SESSION, value, 1);
    top_level = 1;
    wc_state.session = 1;
}

/* WAFCACHE_UPLOADS: ours when it names our pid (`sh -c make`), else a new directory when the
 * build uploads in the background and waits for it. */
static void uploads_init(void)
{
    const char *value = wc_setting(WC_ENV_UPLOADS), *path = wc_session_path(value);
    char env[PATH_MAX + 32];

    if (value) {
        if (path && strtol(value, NULL, 10) == (long)getpid() &&
            strlen(path) < sizeof(uploads_dir)) {
            strcpy(uploads_dir, path);
            uploads_pid = getpid();
            wc_state.session = 1;
        }
        return;
    }
    if (!wc_state.wait_uploads)
        return;
    if ((size_t)snprintf(uploads_dir, sizeof(uploads_dir), "%s/wafcache-uploads-XXXXXX",
                         tmp_dir()) >= sizeof(uploads_dir) ||
        !mkdtemp(uploads_dir)) {
        uploads_dir[0] = '\0';
        return;
    }
    uploads_pid = getpid();
    wc_state.session = 1;
    snprintf(env, sizeof(env), "%ld:%s", (long)uploads_pid, uploads_dir);
    wc_env_set(WC_ENV_UPLOADS, env, 1);
}

/* Take the slot's lock, polling until the deadline: an uploader is bounded by its requests'
 * timeouts, the deadline guards against anything else. */
static void wait_slot(int dirfd, const char *name, time_t deadline)
{
    struct timespec tick = {0, 20 * 1000 * 1000};
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK && time(NULL) < deadline)
        nanosleep(&tick, NULL);
    close(fd);
}

/* Every uploader of the build holds one slot until it is done: take each lock in turn, then
 * remove the directory. */
static void uploads_wait(void)
{
    time_t deadline = time(NULL) + WC_UPLOADS_WAIT_S;
    DIR *d;
    struct dirent *e;

    if (uploads_pid != getpid() || !(d = opendir(uploads_dir)))
        return;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "slot-", 5) == 0)
            wait_slot(dirfd(d), e->d_name, deadline);
    rewinddir(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    syscall(SYS_unlinkat, AT_FDCWD, uploads_dir, AT_REMOVEDIR);
    uploads_pid = 0;
}

void wc_session_init(void)
{
    const char *value = wc_setting(WC_ENV_SESSION);

    set_build_identity();
    uploads_init();
    if (value)
        adopt_session(value);
    else if (wc_state.stats)
        create_session();
}

void wc_session_fini(void)
{
    int saved = errno;

    /* Most processes of a build own nothing: they leave without a system call. */
    if (!wc_state.session)
        return;
    uploads_wait(); /* before the stats line: an upload that fails counts as an error */
    /* A fork child that exits normally runs this too: only the session's own pid prints. */
    if (top_level && getpid() == session_pid) {
        wc_session_print(session_file);
        syscall(SYS_unlinkat, AT_FDCWD, session_file, 0);
        top_level = 0;
    }
    errno = saved;
}
