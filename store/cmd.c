/* The seed's bucket commands (wafcache.py's bucket_cache): every file is one run of a copy
 * program, `gsutil cp SRC TGT` and the like, with the bucket object named
 * <cache>/<key[:2]>/<key>/<name>. The program runs directly (fork + execvp, no shell) so
 * that paths with blanks or quotes reach it unchanged, with a time limit, and what it prints
 * is kept as the reason of a failure instead of reaching the build's output. */
#include "store/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

/* ---- splitting a command line like a shell ---- */

struct words {
    char **v;
    size_t n, cap;
};

static int words_push(struct words *w, const char *s, size_t len)
{
    if (w->n + 2 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        char **v = realloc(w->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n] = strndup(s, len);
    if (!w->v[w->n])
        return -ENOMEM;
    w->v[++w->n] = NULL;
    return 0;
}

void wc_cmd_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/* '...': everything up to the next quote, literally. *p is at the opening quote. */
static int scan_single(const char **p, char *word, size_t *wl)
{
    const char *end = strchr(*p + 1, '\'');
    size_t len;

    if (!end)
        return -EINVAL;
    len = (size_t)(end - (*p + 1));
    memcpy(word + *wl, *p + 1, len);
    *wl += len;
    *p = end + 1;
    return 0;
}

/* "...": a backslash escapes only $ ` " \ (and joins lines before a newline), as in sh. */
static int scan_double(const char **p, char *word, size_t *wl)
{
    const char *q = *p + 1;

    for (;;) {
        if (*q == '\0')
            return -EINVAL;
        if (*q == '"')
            break;
        if (*q == '\\' && q[1] && strchr("$`\"\\\n", q[1])) {
            if (q[1] != '\n')
                word[(*wl)++] = q[1];
            q += 2;
            continue;
        }
        word[(*wl)++] = *q++;
    }
    *p = q + 1;
    return 0;
}

/* One step of the scanner outside quotes; *in_word says whether a word has begun (so that
 * '' is an empty word but a line continuation is nothing). */
static int scan_step(const char **p, char *word, size_t *wl, int *in_word)
{
    const char *q = *p;

    if (*q == '\'' || *q == '"') {
        *in_word = 1;
        return *q == '\'' ? scan_single(p, word, wl) : scan_double(p, word, wl);
    }
    if (*q == '\\') {
        if (q[1] == '\0')
            return -EINVAL;
        if (q[1] != '\n') {
            word[(*wl)++] = q[1];
            *in_word = 1;
        }
        *p = q + 2;
        return 0;
    }
    word[(*wl)++] = *q;
    *in_word = 1;
    *p = q + 1;
    return 0;
}

int wc_cmd_split(const char *cmdline, char ***argv_out)
{
    struct words w = {0};
    char *word = malloc(strlen(cmdline) + 1); /* no word is longer than the line */
    const char *p = cmdline;
    size_t wl = 0;
    int in_word = 0, rc = 0;

    *argv_out = NULL;
    if (!word)
        return -ENOMEM;
    while (*p && rc == 0) {
        if (!is_blank(*p)) {
            rc = scan_step(&p, word, &wl, &in_word);
            continue;
        }
        if (in_word)
            rc = words_push(&w, word, wl);
        in_word = 0;
        wl = 0;
        p++;
    }
    if (rc == 0 && in_word)
        rc = words_push(&w, word, wl);
    if (rc == 0 && !w.v && !(w.v = calloc(1, sizeof(*w.v))))
        rc = -ENOMEM; /* a blank line: an empty list, still NULL-terminated */
    free(word);
    if (rc < 0) {
        wc_cmd_free(w.v);
        return rc;
    }
    *argv_out = w.v;
    return (int)w.n;
}

/* ---- placeholders ---- */

#define PH_SRC "%{SRC}"
#define PH_TGT "%{TGT}"
#define PH_LEN 6

/* The value of a placeholder starting at s, or NULL when none starts there. */
static const char *placeholder(const char *s, const char *src, const char *tgt)
{
    if (!strncmp(s, PH_SRC, PH_LEN))
        return src;
    if (!strncmp(s, PH_TGT, PH_LEN))
        return tgt;
    return NULL;
}

/* Writes the expansion of w into out (when not NULL) and returns its length. */
static size_t subst(const char *w, const char *src, const char *tgt, char *out)
{
    size_t n = 0;

    while (*w) {
        const char *v = placeholder(w, src, tgt);
        size_t len = v ? strlen(v) : 1;
        if (out)
            memcpy(out + n, v ? v : w, len);
        n += len;
        w += v ? PH_LEN : 1;
    }
    if (out)
        out[n] = '\0';
    return n;
}

int wc_cmd_expand(char *const *tmpl, const char *src, const char *tgt, char ***argv_out)
{
    size_t n = 0;
    char **v;

    while (tmpl[n])
        n++;
    *argv_out = NULL;
    v = calloc(n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        v[i] = malloc(subst(tmpl[i], src, tgt, NULL) + 1);
        if (!v[i]) {
            wc_cmd_free(v);
            return -ENOMEM;
        }
        subst(tmpl[i], src, tgt, v[i]);
    }
    *argv_out = v;
    return 0;
}

/* ---- running a command ---- */

static int64_t mono_ms(void)
{
    return wc_clock_ns(CLOCK_MONOTONIC) / 1000000;
}

/* A pipe whose ends are above the standard descriptors, so that the child's dup2 onto 1 and
 * 2 never meets one of them (a runner started with a closed stdin would get fd 0). */
static int pipe_high(int fds[2])
{
    int raw[2];

    if (pipe2(raw, O_CLOEXEC) != 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        fds[i] = raw[i] > 2 ? raw[i] : fcntl(raw[i], F_DUPFD_CLOEXEC, 3);
        if (fds[i] != raw[i])
            close(raw[i]);
    }
    if (fds[0] >= 0 && fds[1] >= 0)
        return 0;
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    return -EMFILE;
}

/* In the child: only async-signal-safe calls until exec. The errno of a failed exec goes
 * back on errfd (close-on-exec, so a successful exec closes it and the parent reads EOF). */
/* fsize > 0: no file the command writes may grow past it (RLIMIT_FSIZE; the write fails
 * and SIGXFSZ ends the copy), so a bucket streaming an endless object cannot fill the disk. */
static _Noreturn void child_exec(char *const *argv, int outfd, int errfd, off_t fsize)
{
    sigset_t none;
    int null = open("/dev/null", O_RDONLY);
    int e;

    setpgid(0, 0); /* one group, so a timeout kills gsutil's helpers too */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (null < 0 || dup2(null, 0) < 0 || dup2(outfd, 1) < 0 || dup2(outfd, 2) < 0)
        _exit(127);
    /* The runner's own descriptors (the build's jobserver, the observation channel) must
     * not leak into a copy program that may outlive us. */
    close_range(3, (unsigned)errfd - 1, 0);
    close_range((unsigned)errfd + 1, ~0U, 0);
    if (fsize > 0) {
        struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(127);
    }
    execvp(argv[0], argv);
    e = errno;
    if (write(errfd, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

struct capture {
    char *out;
    size_t outlen, used;
};

/* Reads what is available on fd into the capture; 1 at EOF, 0 otherwise. */
static int capture_read(int fd, struct capture *cap)
{
    char buf[4096];
    ssize_t r = read(fd, buf, sizeof(buf));

    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : 1;
    if (r == 0)
        return 1;
    if (cap->used + 1 < cap->outlen) {
        size_t take = (size_t)r;
        if (take > cap->outlen - 1 - cap->used)
            take = cap->outlen - 1 - cap->used;
        memcpy(cap->out + cap->used, buf, take);
        cap->used += take;
        cap->out[cap->used] = '\0';
    }
    return 0;
}

/* Collects output until the child exits or the deadline passes (then the group is
 * killed). Once the child has exited we stop at once, even if a grandchild it left behind
 * still holds the pipe open. Returns 0 with *status set, or -ETIMEDOUT. */
static int wait_child(pid_t pid, int fd, int64_t deadline, struct capture *cap, int *status)
{
    int eof = 0;

    for (;;) {
        pid_t w = waitpid(pid, status, WNOHANG);
        int64_t left = deadline - mono_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};

        if (w < 0 && errno == ECHILD)
            return -ECHILD; /* SIGCHLD ignored by our caller: the status is lost */
        if (w == pid) {
            while (!eof && poll(&pfd, 1, 0) > 0)
                eof = capture_read(fd, cap);
            return 0;
        }
        if (left <= 0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return -ETIMEDOUT;
        }
        /* Short slices: the exit is noticed by waitpid, not by the pipe. */
        if (eof || poll(&pfd, 1, left < 20 ? (int)left : 20) <= 0) {
            if (eof)
                poll(NULL, 0, left < 10 ? (int)left : 10);
            continue;
        }
        eof = capture_read(fd, cap);
    }
}

/* What the parent does after fork: collect, then read the exec error if there was one. */
static int parent_wait(pid_t pid, int outfd, int errfd, unsigned timeout_ms, struct capture *cap)
{
    int status = 0, e = 0;
    int rc = wait_child(pid, outfd, mono_ms() + timeout_ms, cap, &status);
    ssize_t r;

    while ((r = read(errfd, &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    if (r == (ssize_t)sizeof(e)) {
        snprintf(cap->out, cap->outlen, "cannot run: %s", strerror(e));
        return -ENOEXEC;
    }
    if (rc < 0)
        return rc;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    return -EIO;
}

static int run_limited(char *const *argv, unsigned timeout_ms, off_t fsize, char *out,
                       size_t outlen)
{
    char dummy[1];
    struct capture cap = {out ? out : dummy, out ? outlen : sizeof(dummy), 0};
    int outp[2], errp[2], rc;
    pid_t pid;

    cap.out[0] = '\0';
    if (!argv || !argv[0])
        return -EINVAL;
    rc = pipe_high(outp);
    if (rc < 0)
        return rc;
    rc = pipe_high(errp);
    if (rc < 0) {
        close(outp[0]);
        close(outp[1]);
        return rc;
    }
    pid = fork();
    if (pid == 0)
        child_exec(argv, outp[1], errp[1], fsize);
    rc = pid < 0 ? -errno : 0;
    close(outp[1]);
    close(errp[1]);
    if (pid > 0) {
        setpgid(pid, pid); /* also here: a kill(-pid) before the child's own call must work */
        rc = parent_wait(pid, outp[0], errp[0], timeout_ms, &cap);
    }
    close(outp[0]);
    close(errp[0]);
    return rc;
}

int wc_cmd_run(char *const *argv, unsigned timeout_ms, char *out, size_t outlen)
{
    return run_limited(argv, timeout_ms, 0, out, outlen);
}

/* ---- the store ---- */

struct wc_cmd_store {
    wc_store base; /* first, so a wc_store * is a struct wc_cmd_store * */
    char **tmpl;   /* the command, placeholders not yet replaced */
    char *url;     /* the bucket URL, ending in '/' */
    unsigned timeout_ms;
};

static struct wc_cmd_store *cmd_of(wc_store *s)
{
    return (struct wc_cmd_store *)s;
}

/* One line for a log: the program's output with line breaks and control bytes blanked. */
static void one_line(char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = ' ';
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
}

static int object_url(struct wc_cmd_store *m, const char *key, const char *name, char *buf,
                      size_t n)
{
    int w;

    if (!name || wc_store_check(key, name) < 0)
        return -EINVAL;
    w = snprintf(buf, n, "%s%.2s/%s/%s", m->url, key, key, name);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

/* Room for the small files a bucket CLI writes beside a download (its own temporary and
 * credential cache files) under the file size limit of a get. */
#define GET_FSIZE_SLACK (1 << 20)

/* The most exists() downloads to learn that an object is there. */
#define EXISTS_MAX_LEN (1u << 20)

/* Runs the command once (no file it writes larger than fsize, when > 0); on failure the
 * reason names the program and what it printed. */
static int copy(struct wc_cmd_store *m, const char *src, const char *tgt, off_t fsize)
{
    char out[400];
    char **argv;
    int rc = wc_cmd_expand(m->tmpl, src, tgt, &argv);

    if (rc < 0)
        return wc_store_fail(&m->base, rc, "out of memory");
    rc = run_limited(argv, m->timeout_ms, fsize, out, sizeof(out));
    one_line(out);
    if (rc == -ETIMEDOUT)
        wc_store_fail(&m->base, rc, "%s: killed after %u ms", argv[0], m->timeout_ms);
    else if (rc < 0)
        wc_store_fail(&m->base, rc, "%s %s -> %s: %s", argv[0], src, tgt, out[0] ? out : "failed");
    wc_cmd_free(argv);
    return rc;
}

/* The limit a get puts on the copy command: the declared size plus some slack, saturated. */
static off_t get_fsize(size_t max_len)
{
    const size_t cap = (size_t)INT64_MAX - GET_FSIZE_SLACK;

    return (off_t)(max_len < cap ? max_len + GET_FSIZE_SLACK : cap);
}

static int cmd_get(wc_store *s, const char *key, const char *name, size_t max_len, const char *dest)
{
    struct wc_cmd_store *m = cmd_of(s);
    char url[PATH_MAX];
    struct stat st;
    int rc = object_url(m, key, name, url, sizeof(url));

    if (rc < 0)
        return rc;
    if (lstat(dest, &st) == 0)
        return -EEXIST;
    rc = copy(m, url, dest, get_fsize(max_len));
    if (rc == -EIO)
        rc = -ENOENT; /* the copy failed: most likely no such object (see cmd.h) */
    else if (rc == 0 && lstat(dest, &st) != 0)
        rc = wc_store_fail(&m->base, -EIO, "%s: the command succeeded but wrote no file",
                           m->tmpl[0]);
    else if (rc == 0 && (uint64_t)st.st_size > max_len)
        rc = wc_store_fail(&m->base, -EFBIG, "%s: the object is larger than its entry declares",
                           m->tmpl[0]);
    if (rc < 0)
        unlink(dest); /* a partial download: the name was ours (it did not exist) */
    return rc;
}

/* A private directory for read/write/exists, which go through files. */
static int scratch_dir(char *dir, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    int w = snprintf(dir, n, "%s/wafcache-cmd.XXXXXX", tmp && *tmp ? tmp : "/tmp");

    if (w < 0 || (size_t)w >= n)
        return -ENAMETOOLONG;
    return mkdtemp(dir) ? 0 : -errno;
}

static int cmd_read(wc_store *s, const char *key, const char *name, size_t max_len, char **buf,
                    size_t *len)
{
    char dir[PATH_MAX], file[PATH_MAX + 8];
    int rc;

    *buf = NULL;
    *len = 0;
    rc = scratch_dir(dir, sizeof(dir));
    if (rc < 0)
        return rc;
    snprintf(file, sizeof(file), "%s/f", dir);
    rc = cmd_get(s, key, name, max_len, file);
    if (rc == 0)
        rc = wc_read_file(file, max_len, buf, len);
    wc_rm_rf(dir);
    return rc;
}

static int cmd_put(wc_store *s, const char *key, const char *name, const char *src)
{
    struct wc_cmd_store *m = cmd_of(s);
    char url[PATH_MAX];
    struct stat st;
    int rc = object_url(m, key, name, url, sizeof(url));

    if (rc < 0)
        return rc;
    if (stat(src, &st) != 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    return copy(m, src, url, 0);
}

static int cmd_write(wc_store *s, const char *key, const char *name, const void *buf, size_t len)
{
    char dir[PATH_MAX], file[PATH_MAX + 8];
    int rc = scratch_dir(dir, sizeof(dir));

    if (rc < 0)
        return rc;
    snprintf(file, sizeof(file), "%s/f", dir);
    rc = wc_write_file_atomic(file, buf, len, 0600);
    if (rc == 0)
        rc = cmd_put(s, key, name, file);
    wc_rm_rf(dir);
    return rc;
}

static int cmd_exists(wc_store *s, const char *key, const char *name)
{
    char dir[PATH_MAX], file[PATH_MAX + 8];
    int rc = scratch_dir(dir, sizeof(dir));

    if (rc < 0)
        return rc;
    snprintf(file, sizeof(file), "%s/f", dir);
    /* Existence is asked of "meta" files: a download larger than any metadata is cut off
     * (an error, not "present": such a file is no valid metadata). */
    rc = cmd_get(s, key, name, EXISTS_MAX_LEN, file);
    wc_rm_rf(dir);
    return rc;
}

static int cmd_touch(wc_store *s, const char *key)
{
    (void)s;
    (void)key;
    return 0;
}

static int cmd_remove(wc_store *s, const char *key)
{
    (void)key;
    return wc_store_fail(s, -ENOTSUP, "bucket commands cannot remove entries");
}

static void cmd_close(wc_store *s)
{
    struct wc_cmd_store *m = cmd_of(s);

    if (!m)
        return;
    wc_cmd_free(m->tmpl);
    free(m->url);
    free(m);
}

/* ---- opening ---- */

static const char *default_cmd(enum wc_store_kind kind)
{
    switch (kind) {
    case WC_STORE_GS:
        return "gsutil cp %{SRC} %{TGT}";
    case WC_STORE_S3:
        return "aws s3 cp %{SRC} %{TGT}";
    case WC_STORE_MINIO:
        return "mc cp %{SRC} %{TGT}";
    default:
        return NULL;
    }
}

static int has_placeholder(char *const *argv, const char *ph)
{
    for (; *argv; argv++)
        if (strstr(*argv, ph))
            return 1;
    return 0;
}

/* "gsutil -q cp" alone means "... %{SRC} %{TGT}": append the two when neither is there. */
static int complete_template(struct wc_cmd_store *m, int argc)
{
    int src = has_placeholder(m->tmpl, PH_SRC), tgt = has_placeholder(m->tmpl, PH_TGT);
    char **v;

    if (src && tgt)
        return 0;
    if (src || tgt)
        return wc_store_fail(&m->base, -EINVAL,
                             "WAFCACHE_CMD names only one of %%{SRC} and %%{TGT}");
    v = realloc(m->tmpl, (size_t)(argc + 3) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    m->tmpl = v;
    v[argc] = strdup(PH_SRC);
    v[argc + 1] = strdup(PH_TGT);
    v[argc + 2] = NULL;
    return v[argc] && v[argc + 1] ? 0 : -ENOMEM;
}

/* 0 when prog can be executed as execvp would find it. */
static int find_program(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0 ? 0 : -errno;
    if (!path || !*path)
        path = "/bin:/usr/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        /* An empty element means the current directory, as for execvp. */
        int w = len ? snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog)
                    : snprintf(buf, sizeof(buf), "./%s", prog);
        if (w > 0 && (size_t)w < sizeof(buf) && access(buf, X_OK) == 0)
            return 0;
        path += len + (path[len] == ':');
    }
    return -ENOENT;
}

static int parse_command(struct wc_cmd_store *m, const struct wc_config *c)
{
    const char *line = c->cmd ? c->cmd : default_cmd(c->kind);
    int argc, rc;

    if (!line)
        return wc_store_fail(&m->base, -EINVAL, "not a bucket URL (gs://, s3://, minio://)");
    argc = wc_cmd_split(line, &m->tmpl);
    if (argc == -EINVAL)
        return wc_store_fail(&m->base, argc,
                             "WAFCACHE_CMD has an unbalanced quote or a trailing backslash");
    if (argc < 0)
        return argc;
    if (argc == 0)
        return wc_store_fail(&m->base, -EINVAL, "WAFCACHE_CMD is empty");
    rc = complete_template(m, argc);
    if (rc < 0)
        return rc;
    if (find_program(m->tmpl[0]) < 0)
        return wc_store_fail(&m->base, -ENOENT, "%s: not found in PATH (%s)", m->tmpl[0],
                             c->cmd ? "WAFCACHE_CMD" : "install it or set WAFCACHE_CMD");
    return 0;
}

/* The bucket URL with one trailing '/'; minio:// is dropped as the seed did (mc takes
 * "alias/bucket/path"). */
static int bucket_url(struct wc_cmd_store *m, const struct wc_config *c)
{
    const char *u = c->cache;
    size_t len;

    if (!u)
        return wc_store_fail(&m->base, -EINVAL, "no bucket URL");
    if (c->kind == WC_STORE_MINIO && !strncasecmp(u, "minio://", 8))
        u += 8;
    len = strlen(u);
    while (len > 0 && u[len - 1] == '/')
        len--;
    if (len == 0)
        return wc_store_fail(&m->base, -EINVAL, "the bucket URL is empty");
    if (asprintf(&m->url, "%.*s/", (int)len, u) < 0) {
        m->url = NULL;
        return -ENOMEM;
    }
    return 0;
}

wc_store *wc_cmd_open(const struct wc_config *c, int *err, char *errbuf, size_t errlen)
{
    struct wc_cmd_store *m = calloc(1, sizeof(*m));
    int rc;

    if (errlen)
        errbuf[0] = '\0';
    if (!m) {
        *err = -ENOMEM;
        return NULL;
    }
    rc = parse_command(m, c);
    if (rc == 0)
        rc = bucket_url(m, c);
    if (rc < 0) {
        if (errlen)
            snprintf(errbuf, errlen, "%s", m->base.why[0] ? m->base.why : strerror(-rc));
        cmd_close(&m->base);
        *err = rc;
        return NULL;
    }
    m->timeout_ms = c->timeout_ms ? c->timeout_ms : 5000;
    m->base = (wc_store){
        .version = WC_STORE_VERSION,
        .name = "cmd",
        .get = cmd_get,
        .read = cmd_read,
        .put = cmd_put,
        .write = cmd_write,
        .exists = cmd_exists,
        .touch = cmd_touch,
        .remove = cmd_remove,
        .close = cmd_close,
        .reason = wc_store_last_reason,
    };
    *err = 0;
    return &m->base;
}
