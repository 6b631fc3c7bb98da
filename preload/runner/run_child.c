/* Running the real command: the raw exec and what it takes (the bounds of a command line, a
 * response file for one too long), the observation channel, and the child whose stdout and
 * stderr are passed through live while they are recorded. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "hashing/atfile.h"
#include "preload/runner/runner.h"

/* ---- exec --------------------------------------------------------------------------------- */

void wc_exec_raw(const char *path, char *const *argv, char *const *envp)
{
    syscall(SYS_execve, path, argv, envp);
}

void wc_exec_or_die(const char *path, char *const *argv, char *const *envp)
{
    wc_exec_raw(path, argv, envp);
    int e = errno;
    dprintf(2, "wafcache-run: %s: %s\n", path, strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}

/* ---- what exec takes ---------------------------------------------------------------------- */

/* The kernel's limit on one argument or environment string (MAX_ARG_STRLEN, 32 pages). */
#define WC_MAX_ARG_STRLEN (32 * 4096)

/* Bytes exec counts for a vector: each string with its NUL, and its pointer. */
static size_t vector_bytes(char *const *v, int *too_long)
{
    size_t n = sizeof(char *);
    for (size_t i = 0; v && v[i]; i++) {
        size_t len = strlen(v[i]) + 1;
        *too_long |= len > WC_MAX_ARG_STRLEN;
        n += len + sizeof(char *);
    }
    return n;
}

/* Half of ARG_MAX is the bound: the child's environment grows by LD_PRELOAD and the
 * channel, and gcc passes most of its arguments on to cc1 and collect2 with more of its own;
 * an expanded response file could otherwise make a command line that works through the file
 * fail with E2BIG. */
int wc_exec_fits(char *const *argv, char *const *envp)
{
    int too_long = 0;
    long max = sysconf(_SC_ARG_MAX);
    size_t total = vector_bytes(argv, &too_long) + vector_bytes(envp, &too_long);
    if (max <= 0)
        max = 128 * 1024; /* POSIX's least ARG_MAX */
    return !too_long && total <= (size_t)max / 2;
}

int wc_argfile_write(char *const *argv, char **path)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    if (!realpath(tmp && tmp[0] == '/' ? tmp : "/tmp", dir))
        return -errno;
    if (asprintf(path, "%s/wafcache-args-XXXXXX", dir) < 0) {
        *path = NULL;
        return -ENOMEM;
    }
    int fd = mkostemp(*path, O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int err = errno;
        if (fd >= 0)
            close(fd), unlink(*path);
        free(*path), *path = NULL;
        return -err;
    }
    int rc = 0;
    for (size_t i = 1; argv[i] && rc >= 0; i++) {
        char *q = wc_atfile_quote(argv[i]);
        rc = q ? fprintf(f, "%s\n", q) : -1;
        free(q);
    }
    if (fclose(f) != 0 || rc < 0) {
        unlink(*path);
        free(*path), *path = NULL;
        return -EIO;
    }
    return 0;
}

/* ---- the channel -------------------------------------------------------------------------- */

static int tmp_unlinked(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* O_TMPFILE needs file-system support (not every tmpfs or overlay has it). */
    char *tmpl = wc_path_join(dir, "wafcache-channel.XXXXXX");
    if (!tmpl)
        return -ENOMEM;
    fd = mkostemp(tmpl, O_APPEND | O_CLOEXEC);
    int e = errno;
    if (fd >= 0)
        unlink(tmpl);
    free(tmpl);
    return fd >= 0 ? fd : -e;
}

int wc_channel_create(int *fd, char *value, size_t n)
{
    const char *dir = getenv("TMPDIR");
    int tmp = tmp_unlinked(dir && dir[0] == '/' ? dir : "/tmp");
    if (tmp < 0 && dir)
        tmp = tmp_unlinked("/tmp");
    if (tmp < 0)
        return tmp;
    /* Above 100, where a build's own descriptors rarely go, and without O_CLOEXEC: every
     * process of the command inherits it. */
    int hi = fcntl(tmp, F_DUPFD, 100);
    int e = errno;
    close(tmp);
    if (hi < 0)
        return -e;
    struct stat st;
    if (fstat(hi, &st) < 0) {
        e = errno;
        close(hi);
        return -e;
    }
    int w =
        snprintf(value, n, "%d:%lu:%lu", hi, (unsigned long)st.st_dev, (unsigned long)st.st_ino);
    /* The command's standard input as it gets it: only a read of that file is a read of the
     * build's stdin (bison's m4 reads a pipe of bison's on fd 0, gperf freopen()s its input
     * file there). */
    struct stat in;
    if (w > 0 && (size_t)w < n && fstat(0, &in) == 0)
        snprintf(value + w, n - (size_t)w, ":%lu:%lu", (unsigned long)in.st_dev,
                 (unsigned long)in.st_ino);
    *fd = hi;
    return 0;
}

int wc_channel_read(int fd, size_t max, char **buf, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if ((uint64_t)st.st_size > max)
        return -EFBIG;
    size_t size = (size_t)st.st_size, got = 0;
    char *p = malloc(size + 1);
    if (!p)
        return -ENOMEM;
    while (got < size) {
        ssize_t r = pread(fd, p + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* a shorter file than fstat said: parse what there is */
        got += (size_t)r;
    }
    p[got] = '\0';
    *buf = p;
    *len = got;
    return 0;
}

/* ---- signals ------------------------------------------------------------------------------ */

static volatile pid_t g_child;
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

static void forward(int sig)
{
    int e = errno;
    if (g_child > 0)
        kill(g_child, sig);
    errno = e;
}

static void block_forwarded(int how, sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaddset(&set, forwarded[i]);
    sigprocmask(how, &set, old);
}

/* No SA_RESTART: poll() returns EINTR and the loop goes on. */
static void install_forwarding(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_FORWARDED; i++)
        sigaction(forwarded[i], &sa, NULL);
}

void wc_exit_like(int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        kill(getpid(), sig);
        exit(128 + sig);
    }
    exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* ---- the pseudo-terminal for stderr ------------------------------------------------------- */

/* A terminal in raw mode (no "\n" -> "\r\n"), as wide as ours: the compiler sees what it
 * would see on our stderr (colours, line width) and we see its bytes unchanged. */
static int open_pty(int *master, int *slave)
{
    char name[128];
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return -errno;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof name) != 0)
        goto fail;
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s < 0)
        goto fail;
    struct termios t;
    if (tcgetattr(s, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(s, TCSANOW, &t);
    }
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0)
        ioctl(s, TIOCSWINSZ, &ws);
    *master = m;
    *slave = s;
    return 0;
fail:
    close(m);
    return -EIO;
}

/* ---- the child ---------------------------------------------------------------------------- */

struct stream {
    int fd;     /* our end; -1 once closed */
    int dst;    /* 1 or 2 */
    int broken; /* dst no longer takes bytes */
    char **buf;
    size_t *len;
    size_t cap;
};

static struct sigaction g_old_pipe;

static void child_exec(const struct wc_child *c, int out_w, int err_w, const sigset_t *mask)
{
    if (dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
        _exit(127);
    /* Dispositions the build gave us, not ours: exec keeps an ignored SIGPIPE ignored. */
    for (size_t i = 0; i < N_FORWARDED; i++)
        signal(forwarded[i], SIG_DFL);
    sigaction(SIGPIPE, &g_old_pipe, NULL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    wc_exec_or_die(c->path, c->argv, c->envp);
}

static void record(struct stream *s, const char *p, size_t n, int *overflow)
{
    if (*overflow || *s->len + n > WC_MAX_RECORDED) {
        *overflow = 1;
        return;
    }
    if (*s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 16384;
        while (cap < *s->len + n)
            cap *= 2;
        char *q = realloc(*s->buf, cap);
        if (!q) {
            *overflow = 1;
            return;
        }
        *s->buf = q;
        s->cap = cap;
    }
    memcpy(*s->buf + *s->len, p, n);
    *s->len += n;
}

/* Read what is there on one stream; pass it on and record it. A pty's master reads EIO once
 * the last slave is closed: that is its end of file. */
static void pump(struct stream *s, int *overflow)
{
    char chunk[65536];
    ssize_t r = read(s->fd, chunk, sizeof chunk);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        close(s->fd);
        s->fd = -1;
        return;
    }
    if (!s->broken && wc_write_all(s->dst, chunk, (size_t)r) < 0)
        s->broken = 1; /* the build stopped reading: keep draining so the child ends */
    record(s, chunk, (size_t)r, overflow);
}

static void pass_through(struct stream *st, int *overflow)
{
    while (st[0].fd >= 0 || st[1].fd >= 0) {
        struct pollfd p[2];
        for (int i = 0; i < 2; i++)
            p[i] = (struct pollfd){st[i].fd, POLLIN, 0};
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        /* stdout first, then stderr: within a stream, order is kept. */
        for (int i = 0; i < 2; i++)
            if (st[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
                pump(&st[i], overflow);
    }
    for (int i = 0; i < 2; i++)
        if (st[i].fd >= 0)
            close(st[i].fd);
}

static pid_t wait_child(pid_t pid, int *status)
{
    pid_t r;
    do
        r = waitpid(pid, status, 0);
    while (r < 0 && errno == EINTR);
    return r;
}

/* Pipes (or a pty for stderr): fds[0..1] stdout read/write, fds[2..3] stderr read/write. */
static int open_streams(struct wc_child *c, int fds[4])
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    if (c->stderr_pty && open_pty(&fds[2], &fds[3]) == 0)
        return 0;
    c->pty_failed = c->stderr_pty;
    if (pipe2(fds + 2, O_CLOEXEC) < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return -e;
    }
    return 0;
}

/* The clock file systems stamp mtimes with: a coarse one, behind the precise one (a tick, or
 * more on a busy virtual machine). Compared with it, a file changed after the start can never
 * look older than the start. */
static int64_t coarse_now_ns(void)
{
    return wc_clock_ns(CLOCK_REALTIME_COARSE);
}

/* The command's start on the coarse clock, such that every change made before the runner
 * started is stamped before it. A change stamped by the file system is stamped at most at
 * the precise time it happened (fine-grained stamps are precise, coarse ones lag), so a
 * coarse time past the precise time the runner started (c->runner_ns) is later than all of
 * them, however far the coarse clock lagged: make restores an object, then runs ar at once,
 * and ar must not see its input "modified during the run". Changes after the start are
 * stamped at least at the coarse time they happen, so never before the start. Waiting for
 * the coarse clock takes at most a tick, usually less (the runner's own work comes first).
 * Bounded: if the clock does not catch up, keep its time, which is only more cautious. */
static int64_t start_tick_ns(const struct wc_child *c)
{
    const struct timespec nap = {0, 250000};
    int64_t floor = c->runner_ns ? c->runner_ns : wc_now_ns();
    int64_t t = coarse_now_ns();
    for (int i = 0; i < 400 && t <= floor; i++) {
        nanosleep(&nap, NULL);
        t = coarse_now_ns();
    }
    return t;
}

static pid_t start(struct wc_child *c, int fds[4])
{
    sigset_t old;
    c->start_ns = start_tick_ns(c);
    block_forwarded(SIG_BLOCK, &old);
    pid_t pid = fork();
    if (pid == 0)
        child_exec(c, fds[1], fds[3], &old);
    if (pid > 0)
        g_child = pid;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return pid;
}

int wc_child_run(struct wc_child *c)
{
    int fds[4];
    int rc = open_streams(c, fds);
    if (rc < 0)
        return rc;
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &g_old_pipe);
    install_forwarding();
    pid_t pid = start(c, fds);
    int64_t t0 = wc_clock_ns(CLOCK_MONOTONIC);
    int e = errno;
    close(fds[1]);
    close(fds[3]);
    if (pid < 0) {
        close(fds[0]);
        close(fds[2]);
        sigaction(SIGPIPE, &g_old_pipe, NULL);
        return -e;
    }
    struct stream st[2] = {{fds[0], 1, 0, &c->out, &c->out_len, 0},
                           {fds[2], 2, 0, &c->err, &c->err_len, 0}};
    pass_through(st, &c->overflow);
    if (wait_child(pid, &c->status) < 0)
        c->status = 127 << 8; /* cannot happen with our own child; never cached */
    c->run_ns = wc_clock_ns(CLOCK_MONOTONIC) - t0;
    sigaction(SIGPIPE, &g_old_pipe, NULL);
    return 0;
}

void wc_child_free(struct wc_child *c)
{
    free(c->out);
    free(c->err);
    c->out = c->err = NULL;
    c->out_len = c->err_len = 0;
}
