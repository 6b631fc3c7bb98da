/* The top-level process of a build: it creates the session that runners count into (see
 * preload/session.h) and prints the WAFCACHE_STATS line when it exits. Runs only in the
 * constructor and destructor of an INTERCEPT process, never in a vfork child. */
#undef _FORTIFY_SOURCE
#include "preload/preload.h"
#include "preload/channel.h"
#include "preload/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int top_level;     /* this process prints the stats */
static pid_t session_pid; /* the pid in WAFCACHE_SESSION */
static char session_file[PATH_MAX];

static void set_topdir(void)
{
    char cwd[PATH_MAX];

    if (!getenv(WC_ENV_TOPDIR) && getcwd(cwd, sizeof(cwd)))
        setenv(WC_ENV_TOPDIR, cwd, 0);
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
}

static void create_session(void)
{
    const char *tmpdir = getenv("TMPDIR");
    char value[PATH_MAX + 32];
    int fd;

    if (!tmpdir || tmpdir[0] != '/')
        tmpdir = "/tmp";
    if ((size_t)snprintf(session_file, sizeof(session_file), "%s/wafcache-session-XXXXXX",
                         tmpdir) >= sizeof(session_file))
        return;
    fd = mkostemp(session_file, O_CLOEXEC);
    if (fd < 0)
        return;
    close(fd);
    session_pid = getpid();
    snprintf(value, sizeof(value), "%ld:%s", (long)session_pid, session_file);
    setenv(WC_ENV_SESSION, value, 1);
    top_level = 1;
}

void wc_session_init(void)
{
    const char *value = getenv(WC_ENV_SESSION);
    const char *stats = getenv("WAFCACHE_STATS");

    set_topdir();
    if (value)
        adopt_session(value);
    else if (stats && *stats)
        create_session();
}

void wc_session_fini(void)
{
    int saved = errno;

    /* A fork child that exits normally runs this too: only the session's own pid prints. */
    if (!top_level || getpid() != session_pid)
        return;
    wc_session_print(session_file);
    syscall(SYS_unlinkat, AT_FDCWD, session_file, 0);
    top_level = 0;
    errno = saved;
}
