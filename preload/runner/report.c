/* What the runner tells: the outcome of a command and what its lookup found (wc_report), session
 * counters, the verbose line, the debug trail, and the trim it leaves to a detached process. */
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
#include "store/cache.h"
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
    if (fd < 0) {
        wc_notice("log", "cannot open WAFCACHE_LOG %s: %s", c->log, strerror(errno));
        return;
    }
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
    struct wc_trim_limits lim = {.max_entries = c->trim_max_folder,
                                 .max_bytes = c->evict_max_bytes,
                                 .interval_minutes = c->evict_interval_minutes};
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
        wc_notice(WC_PROBLEM_CACHE, "statistics not updated in %s: %s", dir, strerror(-rc));
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

/* ---- explanations ------------------------------------------------------------------------- */

static int explaining(const struct wc_report *rep)
{
    return rep->explain_only || (rep->cfg && rep->cfg->explain);
}

/* One line of the explanation: on stdout for `wafcache --explain`, else on stderr beside the
 * build's own output, after a first line that names the command. */
static void explain(struct wc_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void explain(struct wc_report *rep, const char *fmt, ...)
{
    if (!explaining(rep))
        return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int fd = rep->explain_only ? 1 : 2;
    const char *prefix = rep->explain_only ? "" : "wafcache: explain: ";
    char safe[4096];
    if (!rep->explained) {
        char *what = wc_describe_argv(rep->argv);
        wc_redact(what ? what : rep->path, safe, sizeof safe);
        dprintf(fd, "%s%s\n", prefix, safe);
        free(what);
        rep->explained = 1;
    }
    wc_redact(line, safe, sizeof safe);
    dprintf(fd, "%s  %s\n", prefix, safe);
}

static void explain_say(void *ctx, const char *line)
{
    explain(ctx, "  %s", line);
}

/* No manifest for key1: diff key1's ingredients against the last command stored for the
 * same output (the explain index), which names the argument or variable that changed. */
static void explain_no_manifest(struct wc_report *rep, int rc)
{
    char last[WC_HASH_HEX_LEN + 1];
    wc_manifest old;
    if (!explaining(rep))
        return;
    if (rc != -ENOENT) {
        explain(rep, "miss: the manifest of key1 %s is unusable: %s", rep->key1, strerror(-rc));
        return;
    }
    explain(rep, "miss: no manifest for key1 %s (this command line was not stored before)",
            rep->key1);
    if (wc_explain_last(rep->cfg, rep->k1, last) < 0) {
        explain(rep, "no command with the same output was stored before in this cache");
        return;
    }
    if (strcmp(last, rep->key1) == 0) {
        explain(rep, "it was stored before, and its manifest has since been trimmed or cleared");
        return;
    }
    if (wc_cache_manifest(rep->store, last, &old) < 0) {
        explain(rep, "the last command stored for the same output (key1 %s) is gone", last);
        return;
    }
    explain(rep, "the last command stored for the same output (key1 %s) differs:", last);
    if (wc_key1_diff(&old.k1, rep->k1, explain_say, rep) == 0)
        explain(rep, "  (in nothing wafcache can show: a different wafcache version?)");
    wc_manifest_free(&old);
}

/* ---- the lookup --------------------------------------------------------------------------- */

void wc_tally(struct wc_report *rep, enum wc_stat s, uint64_t n)
{
    rep->stats.v[s] += n;
}

const char *wc_rc_text(wc_store *s, int rc, char *buf, size_t n)
{
    const char *why = s && s->reason ? s->reason(s) : NULL;
    /* A store that skips its operations (store/guard.c) says why; its errno would only add
     * "Host is down" to a refused connection. */
    if (rc == -EHOSTDOWN && why && why[0])
        snprintf(buf, n, "not tried: %s", why);
    else
        snprintf(buf, n, "%s%s%s", strerror(-rc), why && why[0] ? ": " : "", why ? why : "");
    return buf;
}

/* An error of the cache on the way to a miss: counted, logged (why: wc_rc_text). */
static void lookup_error(struct wc_report *rep, const char *fmt, const char *what, const char *why)
{
    wc_session_count("e");
    wc_tally(rep, WC_STAT_ERRORS, 1);
    wc_log(rep->cfg, fmt, what, why);
}

/* No set of key1's manifest matches now: say which recorded inputs changed. */
static void tell_no_match(struct wc_report *rep, const struct wc_lookup *l)
{
    wc_log(rep->cfg, "key1=%s: no input set of the manifest matches", rep->key1);
    if (!explaining(rep))
        return;
    explain(rep,
            "miss: key1 %s is known, but no recorded input set matches the files and "
            "environment now",
            rep->key1);
    wc_manifest_explain(&l->manifest, rep->primary, rep->memo, environ, rep->cwd, explain_say, rep);
}

/* A set matched, and its entry is gone. */
static void tell_gone(struct wc_report *rep, const char *res)
{
    if (rep->explain_only) {
        explain(rep, "miss: key1 %s has a matching input set, but its entry %s is gone", rep->key1,
                res);
        explain(rep, "(trimmed or cleared; the next run stores it again)");
    } else {
        explain(rep, "an input set matches, but its entry %s is gone (trimmed or cleared)", res);
    }
}

/* A set matched, and its entry cannot be served. */
static void tell_unserved(struct wc_report *rep, const struct wc_lookup *l)
{
    const char *res = l->result;
    char why[700];
    switch (l->verdict) {
    case WC_VERDICT_CORRUPT:
        wc_session_count("e");
        wc_tally(rep, WC_STAT_ERRORS, 1);
        wc_verbose(rep->cfg, "error corrupt cache entry %s removed", res);
        wc_log(rep->cfg, "corrupt entry %s removed", res);
        explain(rep, "the matching entry %s was corrupt and has been removed", res);
        break;
    case WC_VERDICT_NO_OUTDIR:
        explain(rep, "an output directory of entry %s is missing or a symbolic link", res);
        break;
    case WC_VERDICT_UNREPLAYABLE:
        wc_log(rep->cfg, "entry %s: its output cannot be replayed here (base dir): not served",
               res);
        explain(rep, "the matching entry %s names a base dir in its output: not served here", res);
        break;
    default:
        lookup_error(rep, "fetch %s failed: %s", res,
                     wc_rc_text(rep->store, l->rc, why, sizeof why));
        wc_verbose(rep->cfg, "error fetching %s: %s", res, why);
        explain(rep, "the matching entry %s could not be restored: %s", res, why);
        break;
    }
}

void wc_report_lookup(struct wc_report *rep, const struct wc_lookup *l)
{
    char why[700];
    switch (l->verdict) {
    case WC_VERDICT_HIT: /* wc_report tells it */
        break;
    case WC_VERDICT_NO_MANIFEST:
        explain_no_manifest(rep, -ENOENT);
        break;
    case WC_VERDICT_BAD_MANIFEST:
        /* A garbage manifest is an error, counted; the miss then writes a good one. */
        lookup_error(rep, "manifest %s unusable: %s", rep->key1,
                     wc_rc_text(rep->store, l->rc, why, sizeof why));
        explain_no_manifest(rep, l->rc);
        break;
    case WC_VERDICT_NO_MATCH:
        tell_no_match(rep, l);
        break;
    case WC_VERDICT_MATCH: /* `wafcache --explain` on a command that would be served */
        explain(rep, "hit: key1 %s, result %s", rep->key1, l->result);
        break;
    case WC_VERDICT_GONE:
        tell_gone(rep, l->result);
        break;
    case WC_VERDICT_CORRUPT:
    case WC_VERDICT_NO_OUTDIR:
    case WC_VERDICT_UNREPLAYABLE:
    case WC_VERDICT_FAILED:
        tell_unserved(rep, l);
        break;
    }
}

/* ---- the outcome -------------------------------------------------------------------------- */

static double ms_since(int64_t t)
{
    return (double)(wc_now_ns() - t) / 1e6;
}

static void report_hit(struct wc_report *rep)
{
    const struct wc_lookup *l = rep->lookup;
    wc_session_count("qh");
    wc_tally(rep, WC_STAT_REQUESTS, 1);
    wc_tally(rep, WC_STAT_HITS, 1);
    wc_tally(rep, WC_STAT_TIME_SAVED_NS, l->meta.run_ns);
    wc_stats_flush(rep->cfg, &rep->stats);
    char *what = wc_describe_outputs(&l->meta, rep->root, rep->cwd);
    wc_verbose(rep->cfg, "fetched %s", what ? what : "");
    wc_log(rep->cfg, "hit key1=%s result=%s outputs=%s in %.2f ms", rep->key1, l->result,
           what ? what : "", ms_since(rep->t0));
    free(what);
}

/* A miss's counters: stored, failed to store, or not cacheable. */
static void count_miss(struct wc_report *rep)
{
    const struct wc_child *c = rep->child;
    wc_tally(rep, WC_STAT_REQUESTS, 1);
    wc_tally(rep, WC_STAT_MISSES, 1);
    if (strcmp(rep->stored, "qw") == 0) {
        uint64_t bytes = (uint64_t)c->out_len + (uint64_t)c->err_len;
        for (size_t i = 0; i < rep->meta->n_outputs; i++)
            bytes += rep->meta->outputs[i].size;
        wc_tally(rep, WC_STAT_WRITES, 1);
        wc_tally(rep, WC_STAT_BYTES_WRITTEN, bytes);
    } else if (strcmp(rep->stored, "qe") == 0) {
        wc_tally(rep, WC_STAT_ERRORS, 1);
    } else {
        wc_tally(rep, wc_stat_reason(rep->why), 1);
    }
}

/* What became of a miss's result: "stored" only when it was. */
static const char *miss_verdict(const struct wc_report *rep)
{
    if (rep->why[0])
        return rep->why;
    return strcmp(rep->stored, "qw") == 0 ? "stored" : "not stored: the push failed";
}

static void report_miss(struct wc_report *rep)
{
    const struct wc_entry_meta *meta = rep->meta;
    wc_session_count(rep->stored);
    count_miss(rep);
    char *what = meta->n_outputs ? wc_describe_outputs(meta, rep->root, rep->cwd)
                                 : wc_describe_argv(rep->argv);
    wc_verbose(rep->cfg, "no cache entry for %s", what ? what : "");
    if (strcmp(rep->stored, "qw") == 0)
        wc_verbose(rep->cfg, "uploaded %s", what ? what : "");
    else if (strcmp(rep->stored, "qe") == 0)
        wc_verbose(rep->cfg, "error uploading %s", what ? what : "");
    wc_log(rep->cfg, "miss key1=%s %s: %s (run %.1f ms, total %.1f ms)", rep->key1,
           what ? what : "", miss_verdict(rep), (double)rep->child->run_ns / 1e6,
           ms_since(rep->t0));
    free(what);
    wc_stats_flush(rep->cfg, &rep->stats);
    if (strcmp(rep->stored, "qw") == 0)
        wc_trim_in_background(rep->cfg);
}

/* An error inside the cache: the real command runs as if we had never been there. */
static void report_fallback(struct wc_report *rep)
{
    if (!rep->cfg)
        return;
    wc_log(rep->cfg, "fallback %s: %s", rep->path, rep->why);
    if (rep->cfg->verbosity)
        wc_verbose(rep->cfg, "error %s: %s", rep->why, rep->path);
    else
        wc_notice(rep->problem ? rep->problem : rep->why, "%s; commands run without the cache",
                  rep->why);
    wc_tally(rep, WC_STAT_ERRORS, 1);
    wc_stats_flush(rep->cfg, &rep->stats);
}

static void report_uncached(struct wc_report *rep)
{
    wc_log(rep->cfg, "not cached %s: %s", rep->path, rep->why);
    wc_tally(rep, wc_stat_reason(rep->why), 1);
    wc_stats_flush(rep->cfg, &rep->stats);
}

/* `wafcache --explain` says why nothing was looked up; the lookup told the rest. */
static void report_explained(struct wc_report *rep, enum wc_outcome o)
{
    if (o == WC_OUTCOME_FALLBACK || o == WC_OUTCOME_DISABLED)
        explain(rep, "not looked up: %s", rep->why ? rep->why : "the cache is disabled");
    else if (o == WC_OUTCOME_UNCACHED)
        explain(rep, "not cached: %s", rep->why);
}

void wc_report(struct wc_report *rep, enum wc_outcome o)
{
    if (o == WC_OUTCOME_BAD_CONFIG) { /* why: the settings' own message, when they have one */
        if (rep->why && rep->why[0] && wc_notice_first(rep->why))
            dprintf(2, "%s\n", rep->why);
        return;
    }
    if (rep->explain_only) {
        report_explained(rep, o);
        return;
    }
    switch (o) {
    case WC_OUTCOME_HIT:
        report_hit(rep);
        break;
    case WC_OUTCOME_MISS:
        report_miss(rep);
        break;
    case WC_OUTCOME_UNCACHED:
        explain(rep, "not cached: %s", rep->why);
        report_uncached(rep);
        break;
    case WC_OUTCOME_FALLBACK:
        report_fallback(rep);
        break;
    case WC_OUTCOME_NEXT:
    case WC_OUTCOME_EXPLAINED:
    case WC_OUTCOME_DISABLED:
    case WC_OUTCOME_BAD_CONFIG:
        break;
    }
}
