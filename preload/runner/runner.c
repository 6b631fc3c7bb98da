/* wafcache-run: the runner (DESIGN.md "Three kinds of process", 2).
 *
 *   wafcache-run <path to execute> <original argv[0]> <argv[1]> ...
 *
 * started by libwafcache.so in place of a cached program, with the build's environment.
 * It computes key1, looks up the manifest and either restores the outputs and replays
 * stdout/stderr (a hit: exit 0), or runs the real command with an observation channel and,
 * when the run qualifies, stores it. Whatever goes wrong inside the cache, the real command
 * runs: until the child has been started any failure ends in fallback(), and after it the
 * runner exits as the child did. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/redact.h"
#include "core/util.h"
#include "hashing/atfile.h"
#include "hashing/replay.h"
#include "hashing/signature.h"
#include "store/dir.h"
#include "store/open.h"
#include "core/programs.h"
#include "preload/runner/runner.h"

extern char **environ;

struct runner {
    const char *path; /* what the build asked to execute */
    char **orig_argv; /* the build's argv */
    char **argv;      /* @files expanded, then the base-dir rewrite: what is analysed and run */
    char **exec_argv; /* what exec gets: argv, or argv[0] and a response file when too long */
    char *argfile;    /* that response file (ours, removed after the run), or NULL */
    struct wc_config cfg;
    int cfg_loaded;
    char *prog; /* path resolved through symbolic links */
    char cwd[PATH_MAX];
    const char *root; /* outputs are stored relative to it */
    wc_basedirs bd;
    wc_basedirs primary; /* the base dir holding the cwd (else the first): manifest paths */
    wc_memo *memo;
    wc_store *store;  /* what lookups and pushes use: a directory, a remote, or a tier */
    wc_store *remote; /* the guarded remote store inside, or NULL for a local cache */
    wc_key1 k1;
    char key1[WC_HASH_HEX_LEN + 1];
    int64_t t0;
    struct wc_stats stats;  /* this run's counters, added to the cache's at the end */
    int explain_only;       /* `wafcache --explain`: say what a lookup finds, run nothing */
    int explained;          /* the explanation's first line is out */
    int archiver;           /* ar and its wrappers: they update an archive that exists */
    struct wc_prehash *pre; /* an archiver's operands hashed before the run */
    size_t n_pre;
};

static double ms_since(int64_t t)
{
    return (double)(wc_now_ns() - t) / 1e6;
}

/* ---- statistics and explanations --------------------------------------------------------- */

static void tally(struct runner *r, enum wc_stat s, uint64_t n)
{
    r->stats.v[s] += n;
}

/* Once, on the way out: one lock of one shard per runner. */
static void flush_stats(struct runner *r)
{
    if (r->cfg_loaded && !r->explain_only)
        wc_stats_flush(&r->cfg, &r->stats);
}

static int explaining(const struct runner *r)
{
    return r->explain_only || (r->cfg_loaded && r->cfg.explain);
}

/* One line of the explanation: on stdout for `wafcache --explain`, else on stderr beside the
 * build's own output, after a first line that names the command. */
static void explain(struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void explain(struct runner *r, const char *fmt, ...)
{
    if (!explaining(r))
        return;
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int fd = r->explain_only ? 1 : 2;
    const char *prefix = r->explain_only ? "" : "wafcache: explain: ";
    char safe[4096];
    if (!r->explained) {
        char *what = wc_describe_argv(r->argv ? r->argv : r->orig_argv);
        wc_redact(what ? what : r->path, safe, sizeof safe);
        dprintf(fd, "%s%s\n", prefix, safe);
        free(what);
        r->explained = 1;
    }
    wc_redact(line, safe, sizeof safe);
    dprintf(fd, "%s  %s\n", prefix, safe);
}

static void explain_say(void *ctx, const char *line)
{
    explain(ctx, "  %s", line);
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

/* 1 when exec takes argv with our environment. Half of ARG_MAX is the bound: the child's
 * environment grows by LD_PRELOAD and the channel, and gcc passes most of its arguments on
 * to cc1 and collect2 with more of its own; an expanded response file could otherwise make
 * a command line that works through the file fail with E2BIG. */
static int exec_fits(char *const *argv)
{
    int too_long = 0;
    long max = sysconf(_SC_ARG_MAX);
    size_t total = vector_bytes(argv, &too_long) + vector_bytes(environ, &too_long);
    if (max <= 0)
        max = 128 * 1024; /* POSIX's least ARG_MAX */
    return !too_long && total <= (size_t)max / 2;
}

/* The rewritten argv when exec takes it, else the build's own (a failure inside the cache
 * must not make the command fail). */
static char *const *real_argv(const struct runner *r)
{
    return r->argv && exec_fits(r->argv) ? r->argv : r->orig_argv;
}

/* ---- falling back ------------------------------------------------------------------------- */

/* The real command, unobserved: its children (collect2 -> ld) are part of it, not commands
 * to cache on their own. */
__attribute__((noreturn)) static void run_real(const char *path, char *const *argv)
{
    setenv(WC_ENV_PASSIVE, "1", 1);
    wc_exec_or_die(path, argv, environ);
}

/* The real command, as if we had never been there. why, when given, is an error. */
__attribute__((noreturn)) static void fallback(struct runner *r, const char *why)
{
    if (r->explain_only) {
        explain(r, "not looked up: %s", why ? why : "the cache is disabled");
        exit(why ? 2 : 0);
    }
    if (r->cfg_loaded && why) {
        wc_log(&r->cfg, "fallback %s: %s", r->path, why);
        wc_verbose(&r->cfg, "error %s: %s", why, r->path);
        tally(r, WC_STAT_ERRORS, 1);
        flush_stats(r);
    }
    run_real(r->path, real_argv(r));
}

/* The real command, not cached for a reason that is no error. */
__attribute__((noreturn)) static void uncached(struct runner *r, const char *why)
{
    explain(r, "not cached: %s", why);
    if (r->explain_only)
        exit(0);
    wc_log(&r->cfg, "not cached %s: %s", r->path, why);
    tally(r, wc_stat_reason(why), 1);
    flush_stats(r);
    run_real(r->path, real_argv(r));
}

/* ---- setting up --------------------------------------------------------------------------- */

static void load_config(struct runner *r)
{
    if (wc_config_load(&r->cfg, NULL, NULL) < 0) {
        if (r->cfg.error[0])
            dprintf(2, "%s\n", r->cfg.error);
        if (r->explain_only)
            exit(2);
        run_real(r->path, r->orig_argv);
    }
    r->cfg_loaded = 1;
    if (r->cfg.disabled)
        fallback(r, NULL);
}

/* WAFCACHE_BASEDIR, else the checkout around the build's top-level directory. */
static void load_basedirs(struct runner *r)
{
    const char *home = getenv("HOME");
    if (r->cfg.basedir) {
        if (wc_basedirs_parse(&r->bd, r->cfg.basedir, home) < 0)
            fallback(r, "bad WAFCACHE_BASEDIR");
        return;
    }
    const char *top = getenv(WC_ENV_TOPDIR);
    char *dir = wc_basedir_default(top && top[0] == '/' ? top : r->cwd, home);
    if (dir && wc_basedirs_parse(&r->bd, dir, home) < 0)
        memset(&r->bd, 0, sizeof r->bd);
    free(dir);
}

/* Paths in manifests and entries are relative to one base dir. The one that holds the cwd,
 * since the command's paths are resolved from the physical cwd: with a base dir reached
 * through a symbolic link, both spellings are base dirs, and only the physical one is a
 * prefix of what the command opens. */
static void choose_primary(struct runner *r)
{
    size_t n = wc_basedir_prefix(&r->bd, r->cwd);
    size_t pick = 0;
    for (size_t i = 0; n > 0 && i < r->bd.n; i++)
        if (strlen(r->bd.dirs[i]) == n && strncmp(r->bd.dirs[i], r->cwd, n) == 0) {
            pick = i;
            break;
        }
    r->primary.n = r->bd.n > 0 ? 1 : 0;
    r->primary.dirs = r->bd.n > 0 ? &r->bd.dirs[pick] : NULL;
    r->root = r->bd.n > 0 ? r->bd.dirs[pick] : r->cwd;
}

/* The backend's own words for its last failure (never credentials), or "". */
static const char *store_reason(const struct runner *r)
{
    const char *why = r->store && r->store->reason ? r->store->reason(r->store) : NULL;
    return why ? why : "";
}

static const char *rc_text(const struct runner *r, int rc, char *buf, size_t n)
{
    const char *why = store_reason(r);
    snprintf(buf, n, "%s%s%s", strerror(-rc), why[0] ? ": " : "", why);
    return buf;
}

static wc_store *open_dir_store(struct runner *r, const char *root)
{
    struct wc_dir_options opt = {r->cfg.hardlink, r->cfg.dir_mode};
    int err = 0;
    wc_store *s = wc_dir_open(root, &opt, &err);
    if (!s)
        wc_log(&r->cfg, "cannot open the cache %s: %s", root, strerror(-err));
    return s;
}

/* A remote store, guarded (guard.c), behind WAFCACHE_LOCAL when it is set. A local tier
 * that cannot be opened leaves the remote alone: the build still shares its results. */
static void open_remote_store(struct runner *r)
{
    char why[512];
    int err = 0;
    wc_store *remote = wc_remote_open_guarded(&r->cfg, &err, why, sizeof why);
    if (!remote) {
        wc_log(&r->cfg, "cannot open the remote cache: %s", why);
        wc_verbose(&r->cfg, "error cannot open the remote cache: %s", why);
        fallback(r, "cannot open the remote cache");
    }
    r->remote = remote;
    wc_store *local = r->cfg.local ? open_dir_store(r, r->cfg.local) : NULL;
    r->store = local ? wc_tier_open(local, remote) : remote;
    if (!r->store)
        fallback(r, "out of memory");
}

/* The default cache directory (~/.cache/wafcache_$USER), as the configuration computes it:
 * the configuration loaded again without WAFCACHE. */
static const char *hide_wafcache(const char *name, void *ctx)
{
    (void)ctx;
    return strcmp(name, "WAFCACHE") == 0 ? NULL : getenv(name);
}

/* The file-hash memo lives in the local directory; a remote store without WAFCACHE_LOCAL
 * keeps it in the default local cache directory, so that hits need not rehash every input. */
static void open_memo(struct runner *r)
{
    const char *dir = wc_store_local_dir(&r->cfg);
    struct wc_config dflt;
    char *memo = NULL;
    int loaded = 0;

    if (!dir) {
        loaded = 1;
        if (wc_config_load(&dflt, hide_wafcache, NULL) == 0 && dflt.kind == WC_STORE_DIR &&
            wc_mkdir_p(dflt.cache, r->cfg.dir_mode) == 0)
            dir = dflt.cache;
    }
    if (dir)
        memo = wc_path_join(dir, "memo");
    r->memo = wc_memo_open(memo); /* NULL path: a memo in memory, for this run only */
    free(memo);
    if (loaded)
        wc_config_free(&dflt);
}

static void open_store(struct runner *r)
{
    if (r->cfg.kind == WC_STORE_DIR) {
        r->store = open_dir_store(r, r->cfg.cache);
        if (!r->store)
            fallback(r, "cannot open the cache");
    } else {
        open_remote_store(r);
    }
    open_memo(r);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The basename under which the runner knows the program: the build's name for it, the
 * file's name, or where its symbolic links lead, whichever is known. */
static const char *program_name(const struct runner *r, int (*known)(const char *))
{
    const char *names[] = {base_name(r->orig_argv[0]), base_name(r->path), base_name(r->prog)};
    for (size_t i = 0; i < 3; i++)
        if (known(names[i]))
            return names[i];
    return NULL;
}

static int is_cc_or_ar(const char *name)
{
    return wc_tool_of(name) != WC_TOOL_OTHER;
}

/* The default programs (gcc, clang, ld, ar) all read @file arguments themselves; a program
 * added through WAFCACHE_PROGRAMS may not, and its "@x" is then an argument like any other. */
static int reads_atfiles(const char *name)
{
    return wc_program_matches(NULL, name);
}

/* Response files are part of the command line (issue 12): expanded before anything looks
 * at the arguments, and the real command gets the expansion, so that the rewrite below
 * reaches paths inside them and the file itself is no longer an input. A response file
 * past the bounds of atfile.h leaves the command uncached, run as the build wrote it. */
static char **expand_argv(struct runner *r)
{
    const char *name = program_name(r, reads_atfiles);
    char **out = NULL;
    size_t files = 0;
    if (!name)
        return wc_argv_rewrite(r->orig_argv, r->cwd, NULL, WC_TOOL_OTHER); /* a copy */
    int rc = wc_atfile_expand(r->orig_argv, wc_atfile_flags_for(name), &out, &files);
    if (rc == -ELOOP || rc == -E2BIG)
        uncached(r, rc == -ELOOP ? "too many response files (@file)"
                                 : "a response file (@file) is too large");
    if (rc < 0)
        fallback(r, "out of memory");
    if (files > 0)
        wc_log(&r->cfg, "%zu response files expanded", files);
    return out;
}

static void rewrite_argv(struct runner *r)
{
    const char *name = program_name(r, is_cc_or_ar);
    enum wc_tool t = name ? wc_tool_of(name) : WC_TOOL_OTHER;
    r->archiver = t == WC_TOOL_AR ||
                  wc_program_matches("gcc-ar,llvm-ar", base_name(r->orig_argv[0])) ||
                  wc_program_matches("gcc-ar,llvm-ar", base_name(r->prog));
    char **expanded = expand_argv(r);
    if (!expanded)
        fallback(r, "out of memory");
    r->argv = wc_argv_rewrite(expanded, r->cwd, &r->bd, t);
    wc_argv_free(expanded);
    if (!r->argv)
        fallback(r, "out of memory");
}

/* $PWD when it names the working directory: what gcc records as -g's compile directory. */
static const char *logical_pwd(void)
{
    const char *pwd = getenv("PWD");
    struct stat a, b;
    if (!pwd || pwd[0] != '/' || stat(pwd, &a) < 0 || stat(".", &b) < 0)
        return NULL;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? pwd : NULL;
}

static void compute_key1(struct runner *r)
{
    wc_hash prog;
    int rc = wc_memo_hash(r->memo, r->prog, &prog, NULL, NULL);
    if (rc < 0)
        fallback(r, "cannot hash the program");
    struct winsize ws;
    int tty = isatty(2);
    unsigned cols = tty && ioctl(2, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
    struct wc_key1_params p = {r->argv, r->cwd, logical_pwd(),   &r->bd, prog,
                               tty,     cols,   r->cfg.hash_dir, NULL};
    if (wc_key1_build(&r->k1, &p) < 0)
        fallback(r, "out of memory");
    wc_hash_to_hex(&r->k1.key, r->key1);
}

static void setup(struct runner *r)
{
    load_config(r);
    r->prog = realpath(r->path, NULL);
    if (!r->prog)
        fallback(r, "cannot resolve the program");
    if (!getcwd(r->cwd, sizeof r->cwd) || r->cwd[0] != '/')
        fallback(r, "cannot get the working directory");
    load_basedirs(r);
    choose_primary(r);
    open_store(r);
    rewrite_argv(r);
}

/* ---- the hit ------------------------------------------------------------------------------ */

/* The manifest of key1, if the store has one that really is key1's. 0 or -errno. */
/* The manifest of key1 (hex), if the store has one that really is key1's. 0 or -errno. */
static int read_manifest_key(struct runner *r, const char *key1, wc_manifest *m)
{
    char *buf = NULL;
    size_t len = 0;
    wc_hash want;
    int rc = r->store->read(r->store, key1, "manifest", WC_MANIFEST_MAX_LEN, &buf, &len);
    if (rc < 0)
        return rc;
    rc = wc_manifest_parse(buf, len, m);
    free(buf);
    if (rc == 0 && (wc_hash_from_hex(key1, &want) < 0 || !wc_hash_equal(&m->k1.key, &want))) {
        wc_manifest_free(m);
        rc = -EINVAL;
    }
    return rc;
}

static int read_manifest(struct runner *r, wc_manifest *m)
{
    return read_manifest_key(r, r->key1, m);
}

__attribute__((noreturn)) static void hit(struct runner *r, const char *result,
                                          struct wc_entry_meta *meta, struct wc_stream *out,
                                          struct wc_stream *err)
{
    wc_stream_replay(out, 1);
    wc_stream_replay(err, 2);
    /* wc_entry_fetch refreshed the entry itself; the manifest is key1's own. */
    r->store->touch(r->store, r->key1);
    wc_session_count("qh");
    tally(r, WC_STAT_REQUESTS, 1);
    tally(r, WC_STAT_HITS, 1);
    tally(r, WC_STAT_TIME_SAVED_NS, meta->run_ns);
    flush_stats(r);
    char *what = wc_describe_outputs(meta, r->root, r->cwd);
    wc_verbose(&r->cfg, "fetched %s", what ? what : "");
    wc_log(&r->cfg, "hit key1=%s result=%s outputs=%s in %.2f ms", r->key1, result,
           what ? what : "", ms_since(r->t0));
    free(what);
    exit(0);
}

/* The base dir that recorded stdout and stderr are marked with (replay.h): the one entry
 * paths are relative to, when there is one. */
static const char *replay_dir(const struct runner *r)
{
    return r->bd.n > 0 ? r->root : NULL;
}

/* The recorded streams with this checkout's base dir in place of the recording one. 0, or
 * -EINVAL when a stream names a base dir and this command has none: the hit is refused. */
static int unmark_streams(const struct runner *r, struct wc_stream *out, struct wc_stream *err)
{
    /* A stream above WC_STREAM_INLINE_MAX is replayed from a file, never held in memory: its
     * marks cannot be replaced on the way, so such a hit is refused (the command runs). */
    if (out->fd >= 0 || err->fd >= 0)
        return -EFBIG;
    char *o = NULL, *e = NULL;
    size_t ol = 0, el = 0;
    int rc = wc_replay_unmark(out->buf ? out->buf : "", out->len, replay_dir(r), &o, &ol);
    if (rc == 0)
        rc = wc_replay_unmark(err->buf ? err->buf : "", err->len, replay_dir(r), &e, &el);
    free(out->buf);
    free(err->buf);
    out->buf = o, out->len = ol;
    err->buf = e, err->len = el;
    if (rc < 0)
        free(o), free(e), out->buf = err->buf = NULL, out->len = err->len = 0;
    return rc;
}

/* Restores the entry and exits (a hit), or returns on a miss. */
static void try_fetch(struct runner *r, const char *result)
{
    struct wc_entry_meta meta;
    struct wc_stream out, err;
    /* A hostile entry must not name a file the command does not write. */
    struct wc_declared decl = {r->argv ? r->argv : r->orig_argv, r->cwd};
    int rc = wc_entry_fetch(r->store, result, r->root, &decl, &meta, &out, &err);
    if (rc == 0 && unmark_streams(r, &out, &err) < 0) {
        wc_stream_free(&out);
        wc_stream_free(&err);
        wc_meta_free(&meta);
        wc_log(&r->cfg, "entry %s: its output cannot be replayed here (base dir): not served",
               result);
        explain(r, "the matching entry %s names a base dir in its output: not served here", result);
        return;
    }
    if (rc == 0)
        hit(r, result, &meta, &out, &err);
    if (rc == -EBADMSG) {
        /* Corrupt: never served, counted, and removed so that the next run stores it again. */
        wc_session_count("e");
        tally(r, WC_STAT_ERRORS, 1);
        r->store->remove(r->store, result);
        wc_verbose(&r->cfg, "error corrupt cache entry %s removed", result);
        wc_log(&r->cfg, "corrupt entry %s removed", result);
        explain(r, "the matching entry %s was corrupt and has been removed", result);
    } else if (rc == -ENOTDIR) {
        /* The real command decides what a missing output directory means (gcc fails). */
        explain(r, "an output directory of entry %s is missing or a symbolic link", result);
    } else if (rc != -ENOENT) {
        char why[700];
        rc_text(r, rc, why, sizeof why);
        wc_session_count("e");
        tally(r, WC_STAT_ERRORS, 1);
        wc_log(&r->cfg, "fetch %s failed: %s", result, why);
        wc_verbose(&r->cfg, "error fetching %s: %s", result, why);
        explain(r, "the matching entry %s could not be restored: %s", result, why);
    } else {
        explain(r, "an input set matches, but its entry %s is gone (trimmed or cleared)", result);
    }
}

/* No manifest for key1: diff key1's ingredients against the last command stored for the
 * same output (the explain index), which names the argument or variable that changed. */
static void explain_no_manifest(struct runner *r, int rc)
{
    char last[WC_HASH_HEX_LEN + 1];
    wc_manifest old;
    if (!explaining(r))
        return;
    if (rc != -ENOENT) {
        explain(r, "miss: the manifest of key1 %s is unusable: %s", r->key1, strerror(-rc));
        return;
    }
    explain(r, "miss: no manifest for key1 %s (this command line was not stored before)", r->key1);
    if (wc_explain_last(&r->cfg, &r->k1, last) < 0) {
        explain(r, "no command with the same output was stored before in this cache");
        return;
    }
    if (strcmp(last, r->key1) == 0) {
        explain(r, "it was stored before, and its manifest has since been trimmed or cleared");
        return;
    }
    if (read_manifest_key(r, last, &old) < 0) {
        explain(r, "the last command stored for the same output (key1 %s) is gone", last);
        return;
    }
    explain(r, "the last command stored for the same output (key1 %s) differs:", last);
    if (wc_key1_diff(&old.k1, &r->k1, explain_say, r) == 0)
        explain(r, "  (in nothing wafcache can show: a different wafcache version?)");
    wc_manifest_free(&old);
}

/* `wafcache --explain` on a command that would be served: say so, restore nothing. */
__attribute__((noreturn)) static void explain_hit(struct runner *r, const char *result)
{
    if (r->store->exists(r->store, result, "meta") == 0) {
        explain(r, "hit: key1 %s, result %s", r->key1, result);
    } else {
        explain(r, "miss: key1 %s has a matching input set, but its entry %s is gone", r->key1,
                result);
        explain(r, "(trimmed or cleared; the next run stores it again)");
    }
    exit(0);
}

/* A tier whose local manifest has no matching set asks the remote one (DESIGN.md): another
 * machine may have stored this command's inputs since the local copy was made. 0 with *res. */
static int lookup_remote(struct runner *r, wc_hash *res)
{
    wc_manifest m;
    char *buf = NULL;
    size_t len = 0;
    wc_hash want;
    if (!r->remote || r->store == r->remote || r->explain_only)
        return -ENOENT;
    int rc = r->remote->read(r->remote, r->key1, "manifest", WC_MANIFEST_MAX_LEN, &buf, &len);
    if (rc == 0 && (rc = wc_manifest_parse(buf, len, &m)) == 0) {
        rc = -ENOENT;
        if (wc_hash_from_hex(r->key1, &want) == 0 && wc_hash_equal(&m.k1.key, &want) &&
            wc_manifest_lookup(&m, &r->primary, r->memo, environ, NULL, res) >= 0)
            rc = 0;
        wc_manifest_free(&m);
    }
    if (rc == 0) { /* the local tier gets the newer manifest too (best effort) */
        wc_store *local = wc_tier_local(r->store);
        local->write(local, r->key1, "manifest", buf, len);
    }
    free(buf);
    return rc;
}

static void lookup(struct runner *r)
{
    wc_manifest m;
    int rc = read_manifest(r, &m);
    if (rc < 0) {
        char why[700];
        if (rc != -ENOENT) {
            /* A garbage manifest is an error, counted; the miss then writes a good one. */
            wc_log(&r->cfg, "manifest %s unusable: %s", r->key1, rc_text(r, rc, why, sizeof why));
            wc_session_count("e");
            tally(r, WC_STAT_ERRORS, 1);
        }
        explain_no_manifest(r, rc);
        return;
    }
    wc_hash res;
    int i = wc_manifest_lookup(&m, &r->primary, r->memo, environ, NULL, &res);
    if (i < 0 && lookup_remote(r, &res) == 0)
        i = 0;
    if (i < 0) {
        wc_log(&r->cfg, "key1=%s: no input set of the manifest matches", r->key1);
        if (explaining(r)) {
            explain(r,
                    "miss: key1 %s is known, but no recorded input set matches the files and "
                    "environment now",
                    r->key1);
            wc_manifest_explain(&m, &r->primary, r->memo, environ, r->cwd, explain_say, r);
        }
        wc_manifest_free(&m);
        return;
    }
    wc_manifest_free(&m);
    char hex[WC_HASH_HEX_LEN + 1];
    wc_hash_to_hex(&res, hex);
    if (r->explain_only)
        explain_hit(r, hex);
    try_fetch(r, hex);
}

/* ---- the miss ----------------------------------------------------------------------------- */

/* A response file of ours holding argv[1...] quoted as libiberty reads it (mode 0600, in
 * TMPDIR or /tmp, spelt as the kernel resolves it so that collect can recognise it). */
static int write_argfile(struct runner *r)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    if (!realpath(tmp && tmp[0] == '/' ? tmp : "/tmp", dir))
        return -errno;
    if (asprintf(&r->argfile, "%s/wafcache-args-XXXXXX", dir) < 0) {
        r->argfile = NULL;
        return -ENOMEM;
    }
    int fd = mkostemp(r->argfile, O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int err = errno;
        if (fd >= 0)
            close(fd), unlink(r->argfile);
        free(r->argfile), r->argfile = NULL;
        return -err;
    }
    int rc = 0;
    for (size_t i = 1; r->argv[i] && rc >= 0; i++) {
        char *q = wc_atfile_quote(r->argv[i]);
        rc = q ? fprintf(f, "%s\n", q) : -1;
        free(q);
    }
    if (fclose(f) != 0 || rc < 0) {
        unlink(r->argfile);
        free(r->argfile), r->argfile = NULL;
        return -EIO;
    }
    return 0;
}

static void remove_argfile(struct runner *r)
{
    if (r->argfile)
        unlink(r->argfile);
}

/* What exec gets: the rewritten argv, or, when the expansion of response files made it too
 * long for exec, argv[0] and a response file of ours (which every default program reads). */
static void prepare_exec(struct runner *r)
{
    r->exec_argv = r->argv;
    if (exec_fits(r->argv) || !program_name(r, reads_atfiles))
        return; /* a program that takes no @file fails with E2BIG and falls back */
    char **v = calloc(3, sizeof *v);
    if (!v || write_argfile(r) < 0 || !(v[0] = strdup(r->argv[0])) ||
        asprintf(&v[1], "@%s", r->argfile) < 0) {
        if (v)
            v[1] = NULL;
        remove_argfile(r);
        wc_argv_free(v);
        fallback(r, "cannot write a response file for a long command line");
    }
    wc_log(&r->cfg, "command line too long for exec: passed through %s", r->argfile);
    r->exec_argv = v;
}

/* The library's directory is ours: libwafcache.so is installed beside wafcache-run. */
static char *library_path(void)
{
    char self[PATH_MAX];
    if (wc_self_dir(self, sizeof self) < 0)
        return NULL;
    return wc_path_join(self, "libwafcache.so");
}

static char *env_entry(const char *name, const char *a, const char *sep, const char *b)
{
    char *s;
    if (asprintf(&s, "%s=%s%s%s", name, a, sep, b) < 0)
        return NULL;
    return s;
}

/* The build's environment, with the channel and the library for the real command. */
static char **child_env(const char *observe)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    char *lib = library_path();
    if (!env || !lib)
        goto oom;
    size_t k = 0;
    int have_preload = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (strncmp(e, WC_ENV_OBSERVE "=", strlen(WC_ENV_OBSERVE) + 1) == 0)
            continue;
        if (strncmp(e, "LD_PRELOAD=", 11) == 0) {
            have_preload = 1;
            if (!wc_preload_has_wafcache(e + 11)) {
                if (!(env[k++] = env_entry("LD_PRELOAD", e + 11, e[11] ? ":" : "", lib)))
                    goto oom;
                continue;
            }
        }
        if (!(env[k++] = strdup(e)))
            goto oom;
    }
    if (!have_preload && !(env[k++] = env_entry("LD_PRELOAD", lib, "", "")))
        goto oom;
    if (!(env[k++] = env_entry(WC_ENV_OBSERVE, observe, "", "")))
        goto oom;
    free(lib);
    return env;
oom:
    free(lib);
    wc_argv_free(env);
    return NULL;
}

/* The manifest of key1 in store s, read again just before writing it: another build may
 * have added a set. Moves set into it. 0 or -errno. */
static int update_manifest_in(struct runner *r, wc_store *s, struct wc_mf_set *set)
{
    wc_manifest m;
    char *buf = NULL, *text = NULL;
    size_t len = 0;
    wc_hash want;
    int rc = s->read(s, r->key1, "manifest", WC_MANIFEST_MAX_LEN, &buf, &len);
    if (rc < 0 || wc_manifest_parse(buf, len, &m) < 0)
        memset(&m, 0, sizeof m);
    else if (wc_hash_from_hex(r->key1, &want) < 0 || !wc_hash_equal(&m.k1.key, &want))
        wc_manifest_free(&m), memset(&m, 0, sizeof m); /* someone else's: replaced */
    free(buf);
    rc = -ENOMEM;
    if (wc_manifest_set_key1(&m, &r->k1) == 0) {
        wc_manifest_add(&m, set);
        text = wc_manifest_format(&m, &len);
    }
    if (text)
        rc = s->write(s, r->key1, "manifest", text, len);
    free(text);
    wc_manifest_free(&m);
    return rc;
}

static void update_manifest(struct runner *r, wc_store *s, struct wc_mf_set *set)
{
    char why[700];
    int rc = update_manifest_in(r, s, set);
    if (rc < 0) {
        wc_session_count("e");
        tally(r, WC_STAT_ERRORS, 1);
        wc_log(&r->cfg, "key1=%s: manifest not written: %s", r->key1,
               rc_text(r, rc, why, sizeof why));
    } else if (wc_explain_record(&r->cfg, &r->k1, r->key1) < 0) {
        wc_log(&r->cfg, "key1=%s: explain index not written", r->key1);
    }
}

/* ---- asynchronous uploads (upload.c) ------------------------------------------------------ */

/* In the detached uploader: the staged entry to a fresh connection (the runner's own
 * connections were closed with every other inherited descriptor), then the manifest. */
__attribute__((noreturn)) static void uploader(struct runner *r, struct wc_stage *st,
                                               const char *hex, const struct wc_entry_meta *meta,
                                               struct wc_mf_set *set)
{
    char why[600] = "";
    int err = 0, rc;
    wc_store *remote = wc_remote_open_guarded(&r->cfg, &err, why, sizeof why);
    int64_t t = wc_now_ns();

    rc = remote ? wc_upload_entry(remote, st->root, hex, meta) : err;
    if (rc == 0)
        rc = update_manifest_in(r, remote, set);
    if (rc < 0 && remote && remote->reason && remote->reason(remote))
        snprintf(why, sizeof why, "%s", remote->reason(remote));
    wc_stage_close(st, 1);
    if (rc < 0) {
        struct wc_stats d = {0};
        d.v[WC_STAT_ERRORS] = 1;
        wc_session_count("e");
        wc_stats_flush(&r->cfg, &d);
        wc_log(&r->cfg, "key1=%s result=%s: background upload failed: %s%s%s", r->key1, hex,
               strerror(-rc), why[0] ? ": " : "", why);
    } else {
        wc_log(&r->cfg, "key1=%s result=%s: uploaded in the background in %.1f ms", r->key1, hex,
               ms_since(t));
    }
    _exit(0); /* not exit(): no atexit handler of the runner's (the stats line) */
}

/* Stage the entry, then hand its upload to a detached process: 0 once the entry is staged
 * (the upload is then the uploader's business, or done here when no slot is free), -EAGAIN
 * when it could not be staged (the caller pushes synchronously). */
static int push_async(struct runner *r, struct wc_child *c, struct wc_mf_set *set,
                      struct wc_entry_meta *meta, const char *hex)
{
    struct wc_stage st;
    if (wc_stage_open(&r->cfg, r->store, &st) < 0)
        return -EAGAIN;
    int rc = wc_entry_push(st.store, hex, r->root, meta, c->out, c->out_len, c->err, c->err_len);
    if (rc < 0) {
        wc_log(&r->cfg, "key1=%s result=%s: staging failed: %s", r->key1, hex, strerror(-rc));
        wc_stage_close(&st, 1);
        return -EAGAIN; /* the synchronous push tries again, and says why if it fails */
    }
    int slot = wc_upload_slot(&r->cfg);
    int forked = slot >= 0 ? wc_upload_fork(slot) : -1;
    if (forked == 0)
        uploader(r, &st, hex, meta, set);
    if (forked < 0) {
        /* No free slot: upload here, which also keeps the build to N uploads at a time. */
        rc = wc_upload_entry(r->remote, st.root, hex, meta);
        wc_stage_close(&st, 1);
        if (rc < 0)
            return rc;
        update_manifest(r, r->store, set);
        return 0;
    }
    wc_stage_close(&st, 0);
    if (st.private_dir) /* no local tier: the explain index still wants its record */
        wc_explain_record(&r->cfg, &r->k1, r->key1);
    else
        update_manifest(r, st.store, set);
    wc_log(&r->cfg, "key1=%s result=%s: staged, upload handed to the background", r->key1, hex);
    return 0;
}

static int async_wanted(const struct runner *r)
{
    return r->cfg.async_workers > 0 && r->remote && !wc_guard_down(r->remote);
}

static int push(struct runner *r, struct wc_child *c, struct wc_mf_set *set,
                struct wc_entry_meta *meta)
{
    char hex[WC_HASH_HEX_LEN + 1], why[700];
    wc_result_key(&r->k1.key, set, NULL, &set->result);
    wc_hash_to_hex(&set->result, hex);
    meta->run_ns = (uint64_t)c->run_ns;
    int rc = async_wanted(r) ? push_async(r, c, set, meta, hex) : -EAGAIN;
    if (rc == 0)
        return 0;
    if (rc == -EAGAIN)
        rc = wc_entry_push(r->store, hex, r->root, meta, c->out, c->out_len, c->err, c->err_len);
    if (rc < 0) {
        wc_log(&r->cfg, "key1=%s result=%s: push failed: %s", r->key1, hex,
               rc_text(r, rc, why, sizeof why));
        wc_verbose(&r->cfg, "error pushing %s: %s", hex, why);
        return rc;
    }
    wc_log(&r->cfg, "key1=%s result=%s: stored (%zu inputs, %zu probes, run %.1f ms)", r->key1, hex,
           set->n_inputs, set->n_probes, (double)meta->run_ns / 1e6);
    update_manifest(r, r->store, set); /* moves the set into the manifest */
    return 0;
}

/* The recorded streams with the base dir marked (replay.h), in place. 0 or -ENOMEM. */
static int mark_streams(const struct runner *r, struct wc_child *c)
{
    char *o = NULL, *e = NULL;
    size_t ol = 0, el = 0;
    int rc = wc_replay_mark(c->out ? c->out : "", c->out_len, replay_dir(r), &o, &ol);
    if (rc == 0)
        rc = wc_replay_mark(c->err ? c->err : "", c->err_len, replay_dir(r), &e, &el);
    if (rc < 0) {
        free(o);
        return rc;
    }
    free(c->out);
    free(c->err);
    c->out = o, c->out_len = ol;
    c->err = e, c->err_len = el;
    return 0;
}

/* Why this run may not be stored, or NULL. */
static const char *disqualified(const struct wc_child *c)
{
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
        return "the command failed";
    if (c->overflow)
        return "too much output on stdout or stderr";
    if (c->pty_failed)
        return "no terminal for stderr";
    return NULL;
}

/* Observe, qualify, push. Returns what the session counts: "q", "qw" or "qe". */
static const char *store_run(struct runner *r, struct wc_child *c, int chan,
                             struct wc_entry_meta *meta, char *why, size_t why_len)
{
    const char *bad = disqualified(c);
    if (bad) {
        snprintf(why, why_len, "%s", bad);
        return "q";
    }
    char *text = NULL;
    size_t len = 0;
    struct wc_observation obs;
    memset(&obs, 0, sizeof obs);
    int rc = wc_channel_read(chan, WC_MAX_CHANNEL, &text, &len);
    if (rc == 0)
        rc = wc_channel_parse(text, len, &obs);
    free(text);
    if (rc < 0) {
        snprintf(why, why_len, "cannot read the observation: %s", strerror(-rc));
        return "q";
    }
    struct wc_collect x = {.cwd = r->cwd,
                           .root = r->root,
                           .bd = &r->bd,
                           .primary = &r->primary,
                           .memo = r->memo,
                           .ignore = r->argfile,
                           .start_ns = c->start_ns,
                           .source_date_epoch = getenv("SOURCE_DATE_EPOCH") != NULL,
                           .argv = r->argv,
                           .archiver = r->archiver,
                           .pre = r->pre,
                           .n_pre = r->n_pre,
                           .envp = environ,
                           .printed = c->out_len + c->err_len > 0};
    struct wc_mf_set set;
    memset(&set, 0, sizeof set);
    rc = obs.processes == 0 ? 1 : wc_collect(&x, &obs, &set, meta);
    if (obs.processes == 0)
        snprintf(x.why, sizeof x.why, "no process of the command was observed");
    wc_observation_free(&obs);
    const char *count = "q";
    if (rc != 0)
        snprintf(why, why_len, "%s", rc < 0 ? "out of memory" : x.why);
    else if (r->cfg.no_push)
        snprintf(why, why_len, "WAFCACHE_NO_PUSH is set");
    else if (mark_streams(r, c) < 0)
        snprintf(why, why_len, "out of memory");
    else
        count = push(r, c, &set, meta) == 0 ? "qw" : "qe";
    wc_mf_set_free(&set);
    return count;
}

/* A miss's counters from store_run's verdict: stored, failed to store, or not cacheable. */
static void count_miss(struct runner *r, const char *verdict, const char *why,
                       const struct wc_entry_meta *meta, const struct wc_child *c)
{
    tally(r, WC_STAT_REQUESTS, 1);
    tally(r, WC_STAT_MISSES, 1);
    if (strcmp(verdict, "qw") == 0) {
        uint64_t bytes = (uint64_t)c->out_len + (uint64_t)c->err_len;
        for (size_t i = 0; i < meta->n_outputs; i++)
            bytes += meta->outputs[i].size;
        tally(r, WC_STAT_WRITES, 1);
        tally(r, WC_STAT_BYTES_WRITTEN, bytes);
    } else if (strcmp(verdict, "qe") == 0) {
        tally(r, WC_STAT_ERRORS, 1);
    } else {
        tally(r, wc_stat_reason(why), 1);
    }
}

__attribute__((noreturn)) static void miss(struct runner *r)
{
    int chan;
    char observe[96];
    if (wc_channel_create(&chan, observe, sizeof observe) < 0)
        fallback(r, "cannot create the observation channel");
    char **env = child_env(observe);
    if (!env)
        fallback(r, "out of memory");
    if (r->archiver && wc_prehash_operands(r->cwd, r->argv, r->memo, &r->pre, &r->n_pre) < 0)
        fallback(r, "out of memory");
    prepare_exec(r);
    struct wc_child c = {.path = r->path,
                         .argv = r->exec_argv,
                         .envp = env,
                         .stderr_pty = isatty(2),
                         .runner_ns = r->t0};
    int started = wc_child_run(&c);
    remove_argfile(r);
    if (started < 0) {
        close(chan);
        fallback(r, "cannot start the command");
    }
    struct wc_entry_meta meta;
    memset(&meta, 0, sizeof meta);
    char why[300] = "";
    const char *count = store_run(r, &c, chan, &meta, why, sizeof why);
    close(chan);
    wc_session_count(count);
    count_miss(r, count, why, &meta, &c);
    char *what =
        meta.n_outputs ? wc_describe_outputs(&meta, r->root, r->cwd) : wc_describe_argv(r->argv);
    wc_verbose(&r->cfg, "no cache entry for %s", what ? what : "");
    if (strcmp(count, "qw") == 0)
        wc_verbose(&r->cfg, "uploaded %s", what ? what : "");
    else if (strcmp(count, "qe") == 0)
        wc_verbose(&r->cfg, "error uploading %s", what ? what : "");
    wc_log(&r->cfg, "miss key1=%s %s: %s (run %.1f ms, total %.1f ms)", r->key1, what ? what : "",
           why[0] ? why : "stored", (double)c.run_ns / 1e6, ms_since(r->t0));
    free(what);
    wc_meta_free(&meta);
    flush_stats(r);
    if (strcmp(count, "qw") == 0)
        wc_trim_in_background(&r->cfg);
    wc_exit_like(c.status);
}

/* ---- main --------------------------------------------------------------------------------- */

/* The library started us with LD_PRELOAD renamed (WC_ENV_PRELOAD): put it back for the
 * real command and everything else we start. */
static void restore_preload(void)
{
    const char *saved = getenv(WC_ENV_PRELOAD);
    if (!saved)
        return;
    setenv("LD_PRELOAD", saved, 1);
    unsetenv(WC_ENV_PRELOAD);
}

/* wafcache-run [--explain] PATH ARGV0 [ARGS...]: --explain (from `wafcache --explain`) looks
 * the command up and says what it finds, on stdout, without running or restoring anything. */
int main(int argc, char **argv)
{
    struct runner r;
    memset(&r, 0, sizeof r);
    if (argc >= 2 && strcmp(argv[1], "--explain") == 0) {
        r.explain_only = 1;
        argv++;
        argc--;
    }
    if (argc < 3) {
        dprintf(2, "usage: wafcache-run [--explain] PATH ARGV0 [ARGS...]\n"
                   "(started by libwafcache.so in place of a cached program)\n");
        return 2;
    }
    restore_preload();
    r.path = argv[1];
    r.orig_argv = argv + 2;
    r.t0 = wc_now_ns();
    if (!r.explain_only)
        wc_session_watch();
    setup(&r);
    if (wc_argv_uses_stdio(r.argv))
        uncached(&r, "reads stdin or writes stdout ('-')");
    if (wc_argv_info_only(r.argv))
        uncached(&r, "no output file (it only prints information)");
    compute_key1(&r);
    lookup(&r);
    if (r.explain_only)
        return 0;
    miss(&r);
}
