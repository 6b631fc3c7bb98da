/* libwafcache.so in the processes of a real command (OBSERVE mode): every path a process
 * reads, writes, probes, executes or maps is reported on the observation channel, in the
 * wire format of preload/channel.h. Also the copy-on-write of WAFCACHE_HARDLINK, which the
 * open wrappers do in both INTERCEPT and OBSERVE modes.
 *
 * Each process buffers its events in a static buffer and appends them with one write() (the
 * channel is O_APPEND on a regular file, so appends of different processes never interleave).
 * Only the process that owns the buffer may touch it: a vfork child runs in its parent's
 * memory, so it writes each event straight to the channel from its stack instead. */
#undef _FORTIFY_SOURCE
#include "preload/lib/preload.h"
#include "preload/channel.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Longest line: pid, kind, and two paths whose every byte may need an escape. */
#define WC_LINE_MAX (4 * PATH_MAX + 64)
#define WC_HELLO_MAX (2 * PATH_MAX + 64)

static int ch_fd = -1;
static dev_t ch_dev;
static ino_t ch_ino;
static int ch_ok;
static char exe[PATH_MAX];

static char buf[65536];
static size_t buf_len;
static pid_t owner;
static atomic_flag buf_lock = ATOMIC_FLAG_INIT;
static int ended;       /* the owner said its final bye */
static pid_t hello_for; /* the non-owner process that already said hello */
static int stdin_done;  /* "i" reported, or stdin is /dev/null */
static int in_known;    /* the command's standard input (the spec's tail) is known: */
static dev_t in_dev;    /* ... its device */
static ino_t in_ino;    /* ... and inode */

static int observing(void)
{
    return wc_state.mode == WC_MODE_OBSERVE && ch_ok;
}

/* ---- writing to the channel ---- */

static void ch_write(const char *p, size_t n)
{
    struct stat st;

    /* The command may have closed the channel and reused its number for its own file. */
    if (!ch_ok || n == 0 || wc_sys_fstat(ch_fd, &st) < 0 || st.st_dev != ch_dev ||
        st.st_ino != ch_ino)
        return;
    while (n > 0) {
        ssize_t w = syscall(SYS_write, ch_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* s with '\\', '\n' and '\t' escaped; out must hold 2 * strlen(s). */
static size_t put_escaped(char *out, const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        char c = *s;
        if (c == '\\' || c == '\n' || c == '\t') {
            out[n++] = '\\';
            c = c == '\\' ? '\\' : c == '\n' ? 'n' : 't';
        }
        out[n++] = c;
    }
    return n;
}

/* "<pid> <kind>[ <a>[\t<b>]]\n" into out (WC_LINE_MAX); a and b at most PATH_MAX long. */
static size_t format_line(char *out, pid_t pid, char kind, const char *a, const char *b)
{
    size_t n = wc_put_uint(out, (unsigned long)pid);

    out[n++] = ' ';
    out[n++] = kind;
    if (a) {
        out[n++] = ' ';
        n += put_escaped(out + n, a);
    }
    if (b) {
        out[n++] = '\t';
        n += put_escaped(out + n, b);
    }
    out[n++] = '\n';
    return n;
}

/* "<pid> H <ppid> <exe>\n" into out (WC_HELLO_MAX). */
static size_t format_hello(char *out, pid_t pid)
{
    char arg[PATH_MAX + 24];
    size_t n = wc_put_uint(arg, (unsigned long)getppid());

    arg[n++] = ' ';
    strcpy(arg + n, exe);
    return format_line(out, pid, 'H', arg, NULL);
}

static void write_hello(pid_t pid)
{
    char line[WC_HELLO_MAX];

    ch_write(line, format_hello(line, pid));
}

static void flush_locked(void)
{
    ch_write(buf, buf_len);
    buf_len = 0;
}

static void append_locked(const char *line, size_t n)
{
    if (n > sizeof(buf) - buf_len)
        flush_locked();
    if (n > sizeof(buf)) {
        ch_write(line, n);
        return;
    }
    memcpy(buf + buf_len, line, n);
    buf_len += n;
}

/* The buffer is ours when this is the owning process and no other thread (or a signal
 * handler interrupting this one) holds it. Never waits: a busy buffer means a direct write. */
static int take_buffer(pid_t pid)
{
    if (pid != owner || ended)
        return 0;
    if (atomic_flag_test_and_set_explicit(&buf_lock, memory_order_acquire))
        return 0;
    /* A vfork child that ran since our last event may have left its pid here. */
    hello_for = 0;
    return 1;
}

static void release_buffer(void)
{
    atomic_flag_clear_explicit(&buf_lock, memory_order_release);
}

/* One write from the stack, for a process that cannot use the buffer. A non-owner (fork or
 * vfork child) says hello before its first event; an owner past its bye reopens and closes. */
static void emit_direct(pid_t pid, const char *line, size_t n)
{
    char out[n + 2 * WC_HELLO_MAX];
    size_t k = 0;
    int close_after = 0;

    if (pid == owner && ended) {
        k = format_hello(out, pid);
        close_after = 1;
    } else if (pid != owner && hello_for != pid) {
        k = format_hello(out, pid);
        hello_for = pid;
    }
    memcpy(out + k, line, n);
    k += n;
    if (close_after)
        k += format_line(out + k, pid, 'B', NULL, NULL);
    ch_write(out, k);
}

static void emit(const char *line, size_t n)
{
    pid_t pid = getpid();

    if (take_buffer(pid)) {
        append_locked(line, n);
        release_buffer();
        return;
    }
    emit_direct(pid, line, n);
}

/* ---- paths ---- */

/* Append the components of s to out (len bytes so far, "" meaning "/"): "." and empty
 * components vanish, ".." stays. Why not collapse it: after a symbolic link "dir/link/.."
 * is the link target's parent, which only the kernel knows (an include dir reached through a
 * symlink whose header includes "../common.h"). -1 when out would overflow. */
static int push_components(char *out, size_t *len, size_t cap, const char *s)
{
    while (*s) {
        const char *end = strchrnul(s, '/');
        size_t clen = (size_t)(end - s);
        if (clen > 0 && !(clen == 1 && s[0] == '.')) {
            if (*len + 1 + clen + 1 > cap)
                return -1;
            out[(*len)++] = '/';
            memcpy(out + *len, s, clen);
            *len += clen;
        }
        s = *end ? end + 1 : end;
    }
    return 0;
}

/* Where a relative path starts from: the cwd, or the directory dirfd names. */
static int base_dir(int dirfd, char *out, size_t cap)
{
    char proc[32] = "/proc/self/fd/";
    long n;

    if (dirfd == AT_FDCWD) {
        if (syscall(SYS_getcwd, out, cap) < 0)
            return -1;
        return out[0] == '/' ? 0 : -1;
    }
    if (dirfd < 0)
        return -1;
    proc[14 + wc_put_uint(proc + 14, (unsigned long)dirfd)] = '\0';
    n = syscall(SYS_readlinkat, AT_FDCWD, proc, out, cap - 1);
    if (n <= 0)
        return -1;
    out[n] = '\0';
    return out[0] == '/' ? 0 : -1;
}

/* The absolute form of path relative to dirfd, into out (PATH_MAX), ".." kept. */
static int resolve(int dirfd, const char *path, char *out)
{
    char base[PATH_MAX];
    size_t len = 0;

    if (path[0] != '/') {
        if (base_dir(dirfd, base, sizeof(base)) < 0 ||
            push_components(out, &len, PATH_MAX, base) < 0)
            return -1;
    }
    if (push_components(out, &len, PATH_MAX, path) < 0)
        return -1;
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return 0;
}

/* A path we cannot express: an event the parser does not know makes the run uncacheable,
 * which is the truth. */
static void emit_unresolvable(void)
{
    char line[64];

    emit(line, format_line(line, getpid(), 'E', NULL, NULL));
}

static void emit_paths(pid_t pid, char kind, int dirfd1, const char *p1, int dirfd2, const char *p2)
{
    char a[PATH_MAX], b[PATH_MAX], line[WC_LINE_MAX];

    if (resolve(dirfd1, p1, a) < 0 || (p2 && resolve(dirfd2, p2, b) < 0)) {
        emit_unresolvable();
        return;
    }
    emit(line, format_line(line, pid, kind, a, p2 ? b : NULL));
}

void wc_ev_path(char kind, int dirfd, const char *path)
{
    int saved = errno;

    if (observing() && path)
        emit_paths(getpid(), kind, dirfd, path, AT_FDCWD, NULL);
    errno = saved;
}

/* EACCES from the path's resolution: a directory on the way denies this user the search
 * (another user's PATH entry, mode 0700). A file whose own mode refused the call (access
 * X_OK on a plain file) resolves, and is not reported. */
static int resolution_denied(int dirfd, const char *path)
{
    struct stat st;
    int saved = errno, denied = wc_sys_fstatat(dirfd, path, &st, 0) < 0 && errno == EACCES;

    errno = saved;
    return denied;
}

void wc_ev_probe_failed(int err, int dirfd, const char *path)
{
    if (!path || !*path)
        return;
    if (err == ENOENT || err == ENOTDIR)
        wc_ev_path('m', dirfd, path);
    else if (err == EACCES && observing() && resolution_denied(dirfd, path))
        wc_ev_path('a', dirfd, path);
}

static void ev_rename(int olddirfd, const char *from, int newdirfd, const char *to)
{
    int saved = errno;

    if (observing() && from && to)
        emit_paths(getpid(), 'n', olddirfd, from, newdirfd, to);
    errno = saved;
}

void wc_ev_spawned(pid_t child, const char *path)
{
    int saved = errno;

    if (observing() && child > 0)
        emit_paths(child, 's', AT_FDCWD, path, AT_FDCWD, NULL);
    errno = saved;
}

/* ---- environment reads ---- */

/* Longest name=value reported; a longer one makes an 'E' (not cached), never a truncation. */
#define WC_ENV_MAX (2 * PATH_MAX)
/* Pairs already reported by this process: a hot getenv loop costs one line, not thousands.
 * Open addressing on a hash; 0 is empty; when full, pairs are simply reported again. */
#define WC_ENV_SEEN 512
static uint64_t env_seen[WC_ENV_SEEN];

static uint64_t env_hash(const char *name, const char *value)
{
    uint64_t h = 1469598103934665603ull;

    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    /* '=' never occurs in a name: it separates, and an unset value hashes differently. */
    h = (h ^ (value ? '=' : 0)) * 1099511628211ull;
    for (const char *s = value ? value : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* 1 when h was recorded before; records it otherwise. Only under the buffer lock. */
static int env_seen_before(uint64_t h)
{
    size_t s = (size_t)h & (WC_ENV_SEEN - 1);

    for (size_t k = 0; k < WC_ENV_SEEN; k++, s = (s + 1) & (WC_ENV_SEEN - 1)) {
        if (env_seen[s] == h)
            return 1;
        if (env_seen[s] == 0) {
            env_seen[s] = h;
            return 0;
        }
    }
    return 0;
}

/* "<pid> e NAME[=value]\n" into out, which holds 32 + 2 * (name and value lengths). */
static size_t format_env(char *out, pid_t pid, const char *name, const char *value)
{
    size_t n = wc_put_uint(out, (unsigned long)pid);

    out[n++] = ' ';
    out[n++] = 'e';
    out[n++] = ' ';
    n += put_escaped(out + n, name);
    if (value) {
        out[n++] = '=';
        n += put_escaped(out + n, value);
    }
    out[n++] = '\n';
    return n;
}

static void emit_env(pid_t pid, const char *name, const char *value, size_t len)
{
    char line[32 + 2 * len];
    size_t n = format_env(line, pid, name, value);

    /* Deduplicated by the owner only: a vfork child must not write the parent's table. */
    if (take_buffer(pid)) {
        if (!env_seen_before(env_hash(name, value)))
            append_locked(line, n);
        release_buffer();
        return;
    }
    emit_direct(pid, line, n);
}

void wc_ev_env_lost(void)
{
    int saved = errno;

    if (observing())
        emit_unresolvable();
    errno = saved;
}

void wc_ev_env(const char *name, const char *value)
{
    int saved = errno;
    size_t len;

    if (!observing() || !name || !*name || strchr(name, '=')) {
        errno = saved;
        return;
    }
    len = strlen(name) + (value ? strlen(value) + 1 : 0);
    if (len > WC_ENV_MAX)
        emit_unresolvable();
    else
        emit_env(getpid(), name, value, len);
    errno = saved;
}

/* ---- process boundaries ---- */

void wc_ev_exec_begin(int dirfd, const char *path)
{
    char prog[PATH_MAX], line[WC_LINE_MAX + 32];
    pid_t pid = getpid();
    size_t n;
    int saved = errno;

    if (!observing())
        return;
    if (resolve(dirfd, path, prog) < 0) {
        /* Still close this image: the new one's hello must follow. */
        n = format_line(line, pid, 'E', NULL, NULL);
    } else {
        n = format_line(line, pid, 'x', prog, NULL);
    }
    n += format_line(line + n, pid, 'B', NULL, NULL);
    if (take_buffer(pid)) {
        append_locked(line, n);
        flush_locked();
        release_buffer();
    } else {
        emit_direct(pid, line, n);
    }
    errno = saved;
}

void wc_ev_exec_failed(void)
{
    int saved = errno;

    if (observing())
        write_hello(getpid());
    errno = saved;
}

void wc_ev_exit(void)
{
    char line[64];
    pid_t pid = getpid();
    size_t n;
    int saved = errno;

    if (!observing())
        return;
    n = format_line(line, pid, 'B', NULL, NULL);
    if (take_buffer(pid)) {
        append_locked(line, n);
        flush_locked();
        ended = 1;
        release_buffer();
    } else if (pid != owner && hello_for == pid) {
        ch_write(line, n);
    }
    errno = saved;
}

void wc_observe_fini(void)
{
    wc_ev_exit();
}

/* A fork child has its own copy of the buffer: it owns it from now on, empty, and says its
 * own hello. (vfork and posix_spawn children do not come here.) */
static void atfork_child(void)
{
    if (!ch_ok)
        return;
    owner = getpid();
    buf_len = 0;
    ended = 0;
    hello_for = 0;
    atomic_flag_clear(&buf_lock);
    write_hello(owner);
}

static int parse_spec(const char *spec)
{
    char *end;
    unsigned long fd, dev, ino;

    errno = 0;
    fd = strtoul(spec, &end, 10);
    if (*end != ':')
        return -1;
    dev = strtoul(end + 1, &end, 10);
    if (*end != ':')
        return -1;
    ino = strtoul(end + 1, &end, 10);
    if ((*end != '\0' && *end != ':') || errno || fd > INT_MAX)
        return -1;
    ch_fd = (int)fd;
    ch_dev = (dev_t)dev;
    ch_ino = (ino_t)ino;
    if (*end == ':') {
        in_dev = (dev_t)strtoul(end + 1, &end, 10);
        if (*end == ':')
            in_ino = (ino_t)strtoul(end + 1, &end, 10);
        in_known = *end == '\0' && !errno;
    }
    return 0;
}

static int report_object(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    /* The main program has no name here (its path is in the hello), the vDSO a bare one; the
     * library itself is not an input of the command. */
    if (info->dlpi_name && info->dlpi_name[0] == '/' && strcmp(info->dlpi_name, wc_state.lib))
        wc_ev_path('l', AT_FDCWD, info->dlpi_name);
    return 0;
}

void wc_observe_init(const char *spec)
{
    struct stat st;
    ssize_t n;

    if (parse_spec(spec) < 0 || wc_sys_fstat(ch_fd, &st) < 0 || st.st_dev != ch_dev ||
        st.st_ino != ch_ino)
        return;
    n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    owner = getpid();
    ch_ok = 1;
    /* Hello goes out at once: a process killed before its first flush then shows up as
     * hello-without-bye (incomplete) instead of not at all. */
    write_hello(owner);
    pthread_atfork(NULL, NULL, atfork_child);
    dl_iterate_phdr(report_object, NULL);
}

/* ---- standard input ---- */

static int is_dev_null(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

static void report_stdin(void)
{
    char line[32];

    stdin_done = 1;
    emit(line, format_line(line, getpid(), 'i', NULL, NULL));
}

/* Is st the command's standard input? With the runner's word for it, only that file is: a
 * pipe a process of the command put on fd 0 (bison feeding m4) or an input file freopen()ed
 * there (gperf) carries nothing from the build that observation does not see. Without it,
 * whatever fd 0 holds now. */
static int is_command_stdin(const struct stat *st)
{
    struct stat in;

    if (in_known)
        return st->st_dev == in_dev && st->st_ino == in_ino;
    return wc_sys_fstat(0, &in) == 0 && st->st_dev == in.st_dev && st->st_ino == in.st_ino;
}

/* Checked on every read of fd 0 until reported, not once: a process whose fd 0 was /dev/null
 * may dup2 a pipe onto it later. Any process counts (stdin_done is per image). */
static void note_stdin(int fd)
{
    struct stat st;
    int saved;

    if (fd != 0 || stdin_done || !observing())
        return;
    saved = errno;
    if (wc_sys_fstat(0, &st) < 0 || (!is_dev_null(&st) && is_command_stdin(&st)))
        report_stdin();
    errno = saved;
}

static void note_stdin_stream(FILE *f)
{
    if (f && !stdin_done && wc_state.mode == WC_MODE_OBSERVE)
        note_stdin(f == stdin ? 0 : fileno_unlocked(f));
}

/* ---- opens ---- */

/* Whether the file existed before an open that may create it: only asked when its old
 * content survives the open (no O_TRUNC, no O_EXCL), since only then is it an input. */
static int open_pre(int dirfd, const char *path, int flags)
{
    struct stat st;
    int saved = errno, existed = 0;

    if (wc_state.mode == WC_MODE_OFF || !path)
        return 0;
    wc_cow_before_open(dirfd, path, flags);
    if (observing() && (flags & O_CREAT) && !(flags & (O_EXCL | O_TRUNC)))
        existed = wc_sys_fstatat(dirfd, path, &st, 0) == 0;
    errno = saved;
    return existed;
}

/* An open that would have read the file's old content had it existed ("o" when missing):
 * neither created nor truncated, nor a directory probe. O_RDWR counts: it reads too. */
static int wants_content(int flags)
{
    return !(flags & (O_CREAT | O_TRUNC | O_DIRECTORY)) && (flags & O_ACCMODE) != O_WRONLY;
}

/* Names that stand for a descriptor (/dev/stdin, /dev/fd/N, /proc/self/fd/N): the kernel
 * hands back the descriptor's file, whatever the name says. */
static int is_fd_alias(const char *path)
{
    return strncmp(path, "/dev/std", 8) == 0 || strncmp(path, "/dev/fd/", 8) == 0 ||
           (strncmp(path, "/proc/", 6) == 0 && strstr(path, "/fd/") != NULL);
}

/* A regular file opened through a descriptor alias is recorded under its real name ("r"):
 * the collector ignores /dev and /proc. Without one (deleted, or not a path), "z". */
static void report_alias_target(int fd, int dirfd, const char *path)
{
    char proc[32] = "/proc/self/fd/", target[PATH_MAX];
    long n;

    proc[14 + wc_put_uint(proc + 14, (unsigned long)fd)] = '\0';
    n = syscall(SYS_readlinkat, AT_FDCWD, proc, target, sizeof(target) - 1);
    if (n > 0 && target[0] == '/' && !strstr(target, " (deleted)")) {
        target[n] = '\0';
        wc_ev_path('r', AT_FDCWD, target);
    } else {
        wc_ev_path('z', dirfd, path);
    }
}

/* After a successful open that may read: what the descriptor holds. A pipe, FIFO, socket,
 * terminal or device has no content to hash ("z", the run is refused); /dev/null and
 * /dev/zero always read the same. Standard input reopened by name is a read of it. */
static void check_read_target(int fd, int dirfd, const char *path)
{
    struct stat st;
    int saved = errno;

    if (wc_sys_fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
        errno = saved;
        return;
    }
    if (!is_dev_null(&st) && is_command_stdin(&st) && !stdin_done)
        report_stdin();
    if (S_ISREG(st.st_mode)) {
        if (path[0] == '/' && is_fd_alias(path))
            report_alias_target(fd, dirfd, path);
    } else if (!(S_ISCHR(st.st_mode) &&
                 (st.st_rdev == makedev(1, 3) || st.st_rdev == makedev(1, 5)))) {
        wc_ev_path('z', dirfd, path);
    }
    errno = saved;
}

static void open_post(int dirfd, const char *path, int flags, int existed_before, int fd)
{
    int err = errno;
    int kills, existed;

    if (!observing() || !path)
        return;
    if (fd < 0) {
        if (wants_content(flags) && (err == ENOENT || err == ENOTDIR) && *path)
            wc_ev_path('o', dirfd, path);
        else
            wc_ev_probe_failed(err, dirfd, path);
        return;
    }
    if (wc_is_tmpfile(flags))
        return;
    if ((flags & O_ACCMODE) != O_WRONLY && !(flags & O_PATH))
        check_read_target(fd, dirfd, path);
    kills = (flags & O_TRUNC) || ((flags & O_CREAT) && (flags & O_EXCL));
    existed = !(flags & O_CREAT) ? 1 : (flags & O_EXCL) ? 0 : existed_before;
    /* Old content that survives the open is an input, even when the file is written. */
    if (!kills && existed)
        wc_ev_path('r', dirfd, path);
    /* An append that created the file: had it existed, its content would have stayed in
     * front of what the command wrote (gcc appends to DEPENDENCIES_OUTPUT's file), so its
     * absence is an input, as a read that found nothing. Before the "w": a probe after a
     * write is not one. */
    else if ((flags & O_APPEND) && !existed)
        wc_ev_path('o', dirfd, path);
    if (wc_open_writes(flags) || !existed)
        wc_ev_path('w', dirfd, path);
}

/* ---- probes: stat, access and friends report only what is missing ---- */

static int probed(int r, int dirfd, const char *path)
{
    if (r < 0 && observing())
        wc_ev_probe_failed(errno, dirfd, path);
    return r;
}

WC_EXPORT DIR *opendir(const char *path)
{
    wc_ensure_real();
    DIR *d = wc_real.opendir(path);
    if (!d)
        probed(-1, AT_FDCWD, path);
    return d;
}

WC_EXPORT ssize_t readlink(const char *path, char *out, size_t n)
{
    wc_ensure_real();
    ssize_t r = wc_real.readlink(path, out, n);
    probed(r < 0 ? -1 : 0, AT_FDCWD, path);
    return r;
}

WC_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *out, size_t n)
{
    wc_ensure_real();
    ssize_t r = wc_real.readlinkat(dirfd, path, out, n);
    probed(r < 0 ? -1 : 0, dirfd, path);
    return r;
}

WC_EXPORT char *realpath(const char *path, char *resolved)
{
    wc_ensure_real();
    char *r = wc_real.realpath(path, resolved);
    if (!r)
        probed(-1, AT_FDCWD, path);
    return r;
}

/* ---- changes to the tree ---- */

WC_EXPORT int rename(const char *from, const char *to)
{
    wc_ensure_real();
    int r = wc_real.rename(from, to);
    if (r == 0)
        ev_rename(AT_FDCWD, from, AT_FDCWD, to);
    return probed(r, AT_FDCWD, from);
}

WC_EXPORT int renameat(int olddirfd, const char *from, int newdirfd, const char *to)
{
    wc_ensure_real();
    int r = wc_real.renameat(olddirfd, from, newdirfd, to);
    if (r == 0)
        ev_rename(olddirfd, from, newdirfd, to);
    return probed(r, olddirfd, from);
}

WC_EXPORT int renameat2(int olddirfd, const char *from, int newdirfd, const char *to,
                        unsigned flags)
{
    wc_ensure_real();
    int r = wc_real.renameat2(olddirfd, from, newdirfd, to, flags);
    if (r == 0 && (flags & RENAME_EXCHANGE)) {
        /* Both names now hold the other's content: each is written. */
        wc_ev_path('w', olddirfd, from);
        wc_ev_path('w', newdirfd, to);
    } else if (r == 0) {
        ev_rename(olddirfd, from, newdirfd, to);
    }
    return probed(r, olddirfd, from);
}

WC_EXPORT int unlink(const char *path)
{
    wc_ensure_real();
    int r = wc_real.unlink(path);
    if (r == 0)
        wc_ev_path('u', AT_FDCWD, path);
    return r;
}

WC_EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
    wc_ensure_real();
    int r = wc_real.unlinkat(dirfd, path, flags);
    if (r == 0)
        wc_ev_path('u', dirfd, path);
    return r;
}

WC_EXPORT int rmdir(const char *path)
{
    wc_ensure_real();
    int r = wc_real.rmdir(path);
    if (r == 0)
        wc_ev_path('u', AT_FDCWD, path);
    return r;
}

WC_EXPORT int link(const char *from, const char *to)
{
    wc_ensure_real();
    int r = wc_real.link(from, to);
    if (r == 0) {
        /* The new name holds the old one's content. */
        wc_ev_path('r', AT_FDCWD, from);
        wc_ev_path('w', AT_FDCWD, to);
    }
    return probed(r, AT_FDCWD, from);
}

WC_EXPORT int linkat(int olddirfd, const char *from, int newdirfd, const char *to, int flags)
{
    wc_ensure_real();
    int r = wc_real.linkat(olddirfd, from, newdirfd, to, flags);
    if (r == 0) {
        /* linkat(fd, "", ..., AT_EMPTY_PATH) names an O_TMPFILE: nothing was read. */
        if (*from)
            wc_ev_path('r', olddirfd, from);
        wc_ev_path('w', newdirfd, to);
    }
    return probed(r, olddirfd, from);
}

WC_EXPORT int symlink(const char *target, const char *path)
{
    wc_ensure_real();
    int r = wc_real.symlink(target, path);
    if (r == 0)
        wc_ev_path('w', AT_FDCWD, path);
    return r;
}

WC_EXPORT void *dlopen(const char *file, int flags)
{
    struct link_map *map = NULL;

    wc_ensure_real();
    void *h = wc_real.dlopen(file, flags);
    if (h && file && observing() && dlinfo(h, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name &&
        map->l_name[0] == '/')
        wc_ev_path('l', AT_FDCWD, map->l_name);
    return h;
}

/* ---- the wrappers of one shape: opens, probes and reads of standard input, from wrap.def ---- */

static int no_symbol(void)
{
    errno = ENOSYS;
    return -1;
}

/* <bits/stdio.h> makes fread_unlocked a macro when optimising: the call to the next
 * definition below must not expand it. */
#undef fread_unlocked

/* Each wrapper is declared first: glibc's headers do not declare every spelling. */
#define WC_WRAP(field, sym, ret, params) /* written by hand above */
#include "preload/lib/open_rows.h"
#define WC_PROBE(field, sym, ret, params, args, dirfd, path)                                       \
    ret sym params;                                                                                \
    WC_EXPORT ret sym params                                                                       \
    {                                                                                              \
        wc_ensure_real();                                                                          \
        if (!wc_real.field)                                                                        \
            return no_symbol();                                                                    \
        return probed(wc_real.field args, dirfd, path);                                            \
    }
#define WC_STDIN_FD(field, sym, ret, params, args, fd)                                             \
    ret sym params;                                                                                \
    WC_EXPORT ret sym params                                                                       \
    {                                                                                              \
        wc_ensure_real();                                                                          \
        note_stdin(fd);                                                                            \
        return wc_real.field args;                                                                 \
    }
#define WC_STDIN_FILE(field, sym, ret, params, args, stream)                                       \
    ret sym params;                                                                                \
    WC_EXPORT ret sym params                                                                       \
    {                                                                                              \
        wc_ensure_real();                                                                          \
        note_stdin_stream(stream);                                                                 \
        return wc_real.field args;                                                                 \
    }
#include "preload/lib/wrap.def"
