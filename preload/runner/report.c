/* What the runner tells: session counters, the verbose line, the debug trail, and the trim it
 * leaves to a detached process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/redact.h"
#include "core/stats.h"
#include "core/util.h"
#include "hashing/basedir.h"
#include "store/dir.h"
#include "store/open.h"
#include "preload/runner/runner.h"
#include "preload/session.h"

/* WAFCACHE_SESSION="<pid>:<path>". One write of a few bytes to a file opened O_APPEND is
 * atomic with respect to the other runners of the build. */
void wc_session_count(const char *bytes)
{
    const char *path = wc_session_path(getenv(WC_ENV_SESSION));
    if (!path)
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t w;
    do
        w = write(fd, bytes, strlen(bytes));
    while (w < 0 && errno == EINTR);
    close(fd);
}

/* When the build's top-level process exec'd a cached program itself (`sh -c 'gcc -c x.c'`),
 * the runner has the session's pid and is the last process of the build: it prints the
 * stats line that the top-level process would have printed at its exit. */
static void session_end_if_owner(void)
{
    const char *s = getenv(WC_ENV_SESSION);
    const char *path = wc_session_path(s);
    if (!path || strtol(s, NULL, 10) != (long)getpid())
        return;
    wc_session_print(path);
    unlink(path);
}

void wc_session_watch(void)
{
    atexit(session_end_if_owner);
}

void wc_verbose(const struct wc_config *c, const char *fmt, ...)
{
    if (!c->verbosity)
        return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char safe[4096];
    wc_redact(line, safe, sizeof safe);
    dprintf(2, "wafcache: %s\n", safe);
}

void wc_log(const struct wc_config *c, const char *fmt, ...)
{
    if (!c->log || !c->log[0])
        return;
    char line[8192];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    int off = (int)strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    off += snprintf(line + off, sizeof line - (size_t)off, ".%03ld %d ", ts.tv_nsec / 1000000L,
                    (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + off, sizeof line - (size_t)off - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* Credentials never reach the trail: redacted in place (it only gets shorter). */
    char safe[8192];
    wc_redact(line, safe, sizeof safe);
    memcpy(line, safe, strlen(safe) + 1);
    size_t len = strlen(line);
    line[len++] = '\n';
    int fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, line, len) < 0) {
        /* a debug trail that cannot be written is not worth failing for */
    }
    close(fd);
}

static char *join_words(const char *const *w, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(w[i]) + 1;
    char *s = malloc(len), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(w[i]);
        if (i)
            *p++ = ' ';
        memcpy(p, w[i], l);
        p += l;
    }
    *p = '\0';
    return s;
}

/* An output as the user knows it: relative to the cwd when it is stored under root. */
static char *display_path(const char *path, const char *root, const char *cwd)
{
    if (path[0] == '/')
        return strdup(path);
    char *abs = wc_path_join(root, path);
    char *rel = abs ? wc_path_relative(cwd, abs) : NULL;
    free(abs);
    return rel;
}

char *wc_describe_outputs(const struct wc_entry_meta *meta, const char *root, const char *cwd)
{
    char **w = calloc(meta->n_outputs + 1, sizeof *w);
    char *s = NULL;
    if (!w)
        return NULL;
    for (size_t i = 0; i < meta->n_outputs; i++)
        if (!(w[i] = display_path(meta->outputs[i].path, root, cwd)))
            goto out;
    s = join_words((const char *const *)w, meta->n_outputs);
out:
    for (size_t i = 0; i < meta->n_outputs; i++)
        free(w[i]);
    free(w);
    return s;
}

char *wc_describe_argv(char *const *argv)
{
    size_t n = 0;
    while (argv[n])
        n++;
    return join_words((const char *const *)argv, n);
}

/* The trimmer is detached like an uploader (wc_detach): everything inherited is closed, since
 * the build tool reads our stdout and stderr until EOF and would wait for the trim. */
void wc_trim_in_background(const struct wc_config *c)
{
    struct wc_trim_limits lim = {c->trim_max_folder, c->evict_max_bytes, c->evict_interval_minutes};
    const char *dir = wc_local_dir(c); /* a remote store trims itself */
    if (!dir || !wc_dir_trim_due(dir, &lim))
        return;
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        /* The first child exits at once, so the trimmer is nobody's child to wait for. */
        if (fork() == 0) {
            wc_detach(-1);
            struct wc_trim_result res;
            wc_dir_trim(dir, &lim, 0, &res);
        }
        _exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

const char *wc_local_dir(const struct wc_config *c)
{
    return wc_store_local_dir(c);
}

void wc_stats_flush(const struct wc_config *c, const struct wc_stats *delta)
{
    const char *dir = wc_local_dir(c);
    if (!dir)
        return;
    int rc = wc_stats_add(dir, c->dir_mode, delta);
    if (rc < 0)
        wc_log(c, "statistics not updated in %s: %s", dir, strerror(-rc));
}

/* <dir>/explain/<id>: one small file per command, holding the last key1 stored for it. */
static int explain_path(const struct wc_config *c, const wc_key1 *k, char *buf, size_t n)
{
    const char *dir = wc_local_dir(c);
    char hex[WC_HASH_HEX_LEN + 1];
    wc_hash id;
    if (!dir)
        return -ENOENT;
    wc_explain_id(k, &id);
    wc_hash_to_hex(&id, hex);
    int w = snprintf(buf, n, "%s/explain/%s", dir, hex);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

int wc_explain_record(const struct wc_config *c, const wc_key1 *k, const char *key1_hex)
{
    char path[PATH_MAX], line[WC_HASH_HEX_LEN + 2];
    int rc = explain_path(c, k, path, sizeof path);
    if (rc < 0)
        return rc;
    snprintf(line, sizeof line, "%s\n", key1_hex);
    rc = wc_write_file_atomic(path, line, strlen(line), c->dir_mode & 0666);
    if (rc == -ENOENT) {
        /* The first record in this cache: the directory, then the file again. */
        *strrchr(path, '/') = '\0';
        if (mkdir(path, c->dir_mode) != 0 && errno != EEXIST)
            return -errno;
        *(path + strlen(path)) = '/';
        rc = wc_write_file_atomic(path, line, strlen(line), c->dir_mode & 0666);
    }
    return rc;
}

int wc_explain_last(const struct wc_config *c, const wc_key1 *k, char hex[WC_HASH_HEX_LEN + 1])
{
    char path[PATH_MAX], *buf = NULL;
    size_t len;
    wc_hash h;
    int rc = explain_path(c, k, path, sizeof path);
    if (rc == 0)
        rc = wc_read_file(path, 64, &buf, &len);
    if (rc < 0)
        return rc;
    rc = wc_hash_from_hex(buf, &h) == 0 ? 0 : -EINVAL;
    if (rc == 0)
        wc_hash_to_hex(&h, hex);
    free(buf);
    return rc;
}
