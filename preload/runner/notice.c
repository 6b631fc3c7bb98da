/* One line per build when the cache stops working (runner.h, wc_notice).
 *
 * A full disk, a cache directory we cannot write, a missing bucket command or a log that cannot
 * be opened make every command of the build fall back, or run without storing, for the same
 * reason: the user must hear it, but once, not once per compile. The runners of one build
 * agree on who says it through a marker file created with O_EXCL in the user's private
 * temporary directory, named by a hash of the build's identity and of the problem. */
#include "preload/runner/runner.h"
#include "preload/channel.h"
#include "core/redact.h"
#include "hashing/hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Markers older than this are another build's: removed when a new one is made. */
#define NOTICE_MARKER_MAX_AGE_S (24 * 3600)
/* How many ancestors a launcher looks through for its build tool (sh -c, recursive make...). */
#define NOTICE_MAX_ANCESTORS 16

/* From /proc/<pid>/stat: the name (comm), the parent's pid and the start time, which with the
 * pid names a process for good (a pid alone is reused). 0 or -1. */
static int proc_stat(pid_t pid, char *comm, size_t n, pid_t *ppid, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return -1;
    buf[len] = '\0';
    /* "pid (comm) state ppid ..." -- comm may hold spaces and parentheses: the last ')'. */
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren)
        return -1;
    snprintf(comm, n, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
    long parent = 0;
    int field = 3; /* state is field 3, ppid 4, starttime 22 */
    for (char *p = close_paren + 2; *p && field <= 22; field++) {
        if (field == 4)
            parent = strtol(p, NULL, 10);
        if (field == 22)
            *start = strtoull(p, NULL, 10);
        p = strchr(p, ' ');
        if (!p)
            break;
        p++;
    }
    *ppid = (pid_t)parent;
    return field > 22 ? 0 : -1;
}

static int is_one_of(const char *comm, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(comm, names[i]) == 0)
            return 1;
    return 0;
}

static int is_shell(const char *comm)
{
    static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh", "busybox", "wafcache"};
    return is_one_of(comm, shells, sizeof shells / sizeof shells[0]);
}

/* A build tool ends when its build does: a launcher's session may wait for it. A login shell's
 * parent (a terminal, a CI agent) does not, and must never be waited for. */
static int is_build_tool(const char *comm)
{
    static const char *const tools[] = {"make", "gmake", "ninja", "samu", "ninja-build"};
    return is_one_of(comm, tools, sizeof tools / sizeof tools[0]);
}

/* The build this runner belongs to: WAFCACHE_BUILD, which the library's top-level process sets,
 * else (a launcher, CC="wafcache gcc", with no library around) the nearest ancestor that is not
 * a shell: make or ninja, whose pid goes to *process (0 otherwise, and when that ancestor is
 * no build tool). */
static void build_identity(char *id, size_t n, pid_t *process)
{
    const char *env = getenv(WC_ENV_BUILD);
    *process = 0;
    if (env && *env) {
        snprintf(id, n, "build %s", env);
        return;
    }
    pid_t pid = getppid(), ppid = 0, tool = 0;
    unsigned long long start = 0, tool_start = 0;
    char comm[64] = "";
    /* Up through shells and build tools, to the first ancestor that is neither: a recursive
     * make (CMake's Makefiles, make -C sub) is one build, and its topmost make is the one. */
    for (int i = 0; i < NOTICE_MAX_ANCESTORS && pid > 1; i++, pid = ppid) {
        if (proc_stat(pid, comm, sizeof comm, &ppid, &start) < 0)
            break;
        if (is_build_tool(comm)) {
            tool = pid;
            tool_start = start;
        } else if (!is_shell(comm)) {
            break;
        }
        if (ppid <= 1)
            break;
    }
    if (!tool) {
        tool = pid; /* the nearest ancestor that is not a shell: an identity, not waited for */
        tool_start = start;
        *process = 0;
    } else {
        *process = tool;
    }
    snprintf(id, n, "process %ld:%llu", (long)tool, tool_start);
}

/* Remove the markers of builds long gone. Rare: only when a new marker was just made. */
static void sweep_markers(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    int dfd = dirfd(d);
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strncmp(e->d_name, "said-", 5) != 0 ||
            fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (S_ISREG(st.st_mode) && now - st.st_mtime > NOTICE_MARKER_MAX_AGE_S)
            unlinkat(dfd, e->d_name, 0);
    }
    closedir(d);
}

int wc_build_marker(const char *what, char *path, size_t n, pid_t *process)
{
    char dir[PATH_MAX], id[160], hex[WC_HASH_HEX_LEN + 1];
    if (wc_user_tmp_dir(dir, sizeof dir) < 0)
        return -1;
    build_identity(id, sizeof id, process);
    size_t idlen = strlen(id), wlen = strlen(what);
    char *both = malloc(idlen + 1 + wlen);
    if (!both)
        return -1;
    memcpy(both, id, idlen + 1);
    memcpy(both + idlen + 1, what, wlen);
    wc_hash h;
    wc_hash_buffer(both, idlen + 1 + wlen, &h);
    free(both);
    wc_hash_to_hex(&h, hex);
    if ((size_t)snprintf(path, n, "%s/said-%s", dir, hex) >= n)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    close(fd);
    sweep_markers(dir);
    return 1;
}

/* Without a private directory for the marker, every runner says it: better too often than
 * never. */
int wc_notice_first(const char *what)
{
    char path[PATH_MAX + 64];
    pid_t process;
    return wc_build_marker(what, path, sizeof path, &process) != 0;
}

void wc_notice(const char *what, const char *fmt, ...)
{
    char line[1024], safe[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || !wc_notice_first(what))
        return;
    wc_redact(line, safe, sizeof safe);
    dprintf(2, "wafcache: %s\n", safe);
}
