/* wafcache-run: the runner (DESIGN.md "Three kinds of process", 2).
 *
 *   wafcache-run <path to execute> <original argv[0]> <argv[1]> ...
 *
 * started by libwafcache.so in place of a cached program, with the build's environment.
 * It computes key1, looks it up (store/cache.c) and either restores the outputs and replays
 * stdout/stderr (a hit: exit 0), or runs the real command with an observation channel and,
 * when the run qualifies, stores it. Whatever goes wrong inside the cache, the real command
 * runs: until the child has been started any failure ends in fallback(), and after it the
 * runner exits as the child did. run() reads top to bottom; every way out goes through
 * finish(), which tells the outcome once (report.c) and then execs or exits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "hashing/atfile.h"
#include "hashing/signature.h"
#include "store/cache.h"
#include "store/dir.h"
#include "store/guard.h"
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
    char *prog; /* path resolved through symbolic links */
    char cwd[PATH_MAX];
    const char *root;    /* outputs are stored relative to it */
    wc_basedirs bd;      /* this command's base dir (load_basedirs), or none */
    wc_basedirs primary; /* the same: what manifest paths are relative to */
    wc_memo *memo;
    wc_store *store;  /* what lookups and pushes use: a directory, a remote, or a tier */
    wc_store *remote; /* the guarded remote store inside, or NULL for a local cache */
    wc_key1 k1;
    char key1[WC_HASH_HEX_LEN + 1];
    int64_t t0;
    int explain_only; /* `wafcache --explain`: say what a lookup finds, run nothing */
    int archiver;     /* ar and its wrappers, strip and objcopy: they update a file that exists */
    struct wc_prehash *pre; /* an archiver's operands, a depfile gcc appends to: hashed before */
    size_t n_pre;
    struct wc_lookup look;     /* what the lookup found */
    struct wc_child child;     /* a miss: the real command's run */
    struct wc_entry_meta meta; /* ... its outputs */
    char why[300];             /* ... why it is not stored */
    struct wc_report rep;      /* what becomes of the command, told once (report.c) */
};

static double ms_since(int64_t t)
{
    return (double)(wc_now_ns() - t) / 1e6;
}

/* ---- what exec takes ---------------------------------------------------------------------- */

/* The rewritten argv when exec takes it, else the build's own (a failure inside the cache
 * must not make the command fail). */
static char *const *real_argv(const struct runner *r)
{
    return r->argv && wc_exec_fits(r->argv, environ) ? r->argv : r->orig_argv;
}

/* ---- the way out ------------------------------------------------------------------------- */

/* The real command, unobserved: its children (collect2 -> ld) are part of it, not commands
 * to cache on their own. */
__attribute__((noreturn)) static void run_real(const char *path, char *const *argv)
{
    setenv(WC_ENV_PASSIVE, "1", 1);
    wc_exec_or_die(path, argv, environ);
}

/* Tell the outcome, then act on it: the one place where the runner ends (an uploader it
 * forks ends on its own). `wafcache --explain` runs nothing: 2 when it could not look up. */
__attribute__((noreturn)) static void finish(struct runner *r, enum wc_outcome o)
{
    wc_report(&r->rep, o);
    if (r->explain_only)
        exit(o == WC_OUTCOME_FALLBACK || o == WC_OUTCOME_BAD_CONFIG ? 2 : 0);
    if (o == WC_OUTCOME_HIT)
        exit(0);
    if (o == WC_OUTCOME_MISS)
        wc_exit_like(r->child.status);
    run_real(r->path, real_argv(r));
}

/* The real command, as if we had never been there. why, when given, is an error. */
__attribute__((noreturn)) static void fallback(struct runner *r, const char *why)
{
    r->rep.why = why;
    finish(r, why ? WC_OUTCOME_FALLBACK : WC_OUTCOME_DISABLED);
}

/* The real command, not cached for a reason that is no error. */
static enum wc_outcome not_cached(struct runner *r, const char *why)
{
    r->rep.why = why;
    return WC_OUTCOME_UNCACHED;
}

__attribute__((noreturn)) static void uncached(struct runner *r, const char *why)
{
    finish(r, not_cached(r, why));
}

/* ---- setting up --------------------------------------------------------------------------- */

/* The settings were loaded by main() (cfg_rc): here they are acted on. */
static void load_config(struct runner *r, int cfg_rc)
{
    if (cfg_rc < 0) {
        r->rep.why = r->cfg.error;
        finish(r, WC_OUTCOME_BAD_CONFIG);
    }
    r->rep.cfg = &r->cfg;
    if (r->cfg.disabled)
        fallback(r, NULL);
    /* No library around (a launcher): the build's session is ours to find. */
    if (r->cfg.stats && !r->explain_only && !getenv(WC_ENV_BUILD) && !getenv(WC_ENV_SESSION))
        wc_launcher_session();
}

/* This command's base dir, decided from its own cwd and argv (wc_basedir_decide, issue 15):
 * not from the build's top-level directory, which may be home, another checkout, or a build
 * dir below the sources. WAFCACHE_BASEDIR's entries bound how far up it may go. */
static void load_basedirs(struct runner *r, char *const *argv)
{
    const char *home = getenv("HOME");
    wc_basedirs bounds = {NULL, 0, 0};
    if (r->cfg.basedir && wc_basedirs_parse(&bounds, r->cfg.basedir, home) < 0)
        fallback(r, "bad WAFCACHE_BASEDIR: not a list of absolute directories other than /");
    struct wc_basedir_query q = {
        .cwd = r->cwd, .argv = argv, .home = home, .bounds = r->cfg.basedir ? &bounds : NULL};
    int rc = wc_basedir_decide(&q, &r->bd);
    wc_basedirs_free(&bounds);
    if (rc < 0)
        fallback(r, "out of memory");
    if (r->bd.n > 0)
        wc_log(&r->cfg, "base dir %s (%zu levels below its bound)", r->bd.dirs[0], r->bd.up);
}

/* Paths in manifests and entries are relative to the base dir, or to the cwd without one. */
static void choose_primary(struct runner *r)
{
    r->primary = r->bd; /* one dir at most: shares its storage */
    r->root = r->bd.n > 0 ? r->bd.dirs[0] : r->cwd;
}

/* The guard's one line goes to stderr (only the runner that found the store down says it);
 * a local tier that cannot be opened goes to the log. */
static void store_notice(void *ctx, enum wc_store_notice what, const char *line)
{
    struct runner *r = ctx;
    if (what == WC_STORE_NOTICE_DOWN)
        dprintf(2, "wafcache: %s\n", line);
    else
        wc_log(&r->cfg, "%s", line);
}

/* The store the configuration names, a remote one guarded (store/guard.h), with its local
 * tier unless remote_only. NULL with *err and one line in why. The options live as long as
 * the process: the guard tells through them. */
static wc_store *open_cache(struct runner *r, int remote_only, int *err, char *why, size_t n)
{
    static char libdir[PATH_MAX], tmp[PATH_MAX];
    static struct wc_store_options o;

    *err = wc_self_dir(libdir, sizeof libdir); /* wafcache-remote.so is beside us */
    if (*err < 0 && r->cfg.kind != WC_STORE_DIR) {
        snprintf(why, n, "cannot find the runner's own directory");
        return NULL;
    }
    o = (struct wc_store_options){.libdir = libdir,
                                  .remote_only = remote_only,
                                  .guard = 1,
                                  .guard_dir = wc_user_tmp_dir(tmp, sizeof tmp) == 0 ? tmp : NULL,
                                  .notice = store_notice,
                                  .ctx = r};
    return wc_store_open(&r->cfg, &o, err, why, n);
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
    char why[600];
    static char msg[700]; /* the fallback's reason, said once per build (report.c) */
    int err = 0;

    r->store = open_cache(r, 0, &err, why, sizeof why);
    if (!r->store) {
        if (r->cfg.kind == WC_STORE_DIR && why[0]) /* it names the directory */
            snprintf(msg, sizeof msg, "%s", why);
        else
            snprintf(msg, sizeof msg, "cannot open the %scache: %s",
                     r->cfg.kind == WC_STORE_DIR ? "" : "remote ", why[0] ? why : strerror(-err));
        r->rep.problem = WC_PROBLEM_CACHE;
        fallback(r, msg);
    }
    r->remote = wc_store_side(r->store, WC_STORE_REMOTE);
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

/* The toolchain (gcc, clang, ld, ar) and binutils' objcopy and strip read @file arguments
 * themselves (libiberty's expandargv); bison, m4 or a program added through
 * WAFCACHE_PROGRAMS may not, and its "@x" is then an argument like any other. */
static int reads_atfiles(const char *name)
{
    return wc_program_matches(WC_TOOLCHAIN_PROGRAMS ",objcopy,strip", name);
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

/* strip and objcopy rewrite the file they are given, as ar updates an archive: its old
 * content is an input, hashed before the run (collect.c, take_prehashed). */
static int edits_in_place(const char *name)
{
    return wc_program_matches("strip,objcopy", name);
}

/* The base dir is decided on the expanded argv: a response file's "../src/x.c" reaches as
 * far up as the same argument on the command line. */
static void rewrite_argv(struct runner *r)
{
    const char *name = program_name(r, is_cc_or_ar);
    enum wc_tool t = name ? wc_tool_of(name) : WC_TOOL_OTHER;
    r->archiver = t == WC_TOOL_AR ||
                  wc_program_matches("gcc-ar,llvm-ar", base_name(r->orig_argv[0])) ||
                  wc_program_matches("gcc-ar,llvm-ar", base_name(r->prog)) ||
                  program_name(r, edits_in_place) != NULL;
    char **expanded = expand_argv(r);
    if (!expanded)
        fallback(r, "out of memory");
    load_basedirs(r, expanded);
    choose_primary(r);
    r->rep.root = r->root;
    r->rep.primary = &r->primary;
    r->argv = wc_argv_rewrite(expanded, r->cwd, &r->bd, t);
    wc_argv_free(expanded);
    if (!r->argv)
        fallback(r, "out of memory");
    r->rep.argv = r->argv;
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
    r->rep.k1 = &r->k1;
    r->rep.key1 = r->key1;
}

static void setup(struct runner *r, int cfg_rc)
{
    load_config(r, cfg_rc);
    r->prog = realpath(r->path, NULL);
    if (!r->prog)
        fallback(r, "cannot resolve the program");
    if (!getcwd(r->cwd, sizeof r->cwd) || r->cwd[0] != '/')
        fallback(r, "cannot get the working directory");
    r->rep.cwd = r->cwd;
    open_store(r);
    r->rep.store = r->store;
    r->rep.memo = r->memo;
    rewrite_argv(r);
}

/* ---- the hit ------------------------------------------------------------------------------ */

/* The base dir that recorded stdout and stderr are marked with (replay.h): the one entry
 * paths are relative to, when there is one. */
static const char *replay_dir(const struct runner *r)
{
    return r->bd.n > 0 ? r->root : NULL;
}

/* Look key1 up (store/cache.c). A hit's entry is restored, and its streams are replayed
 * here; anything else is told (report.c) and, but under --explain, the miss follows. */
static enum wc_outcome lookup(struct runner *r)
{
    /* A hostile entry must not name a file the command does not write. */
    struct wc_declared decl = {r->argv ? r->argv : r->orig_argv, r->cwd, environ};
    struct wc_lookup_ctx ctx = {.primary = &r->primary,
                                .memo = r->memo,
                                .envp = environ,
                                .root = r->root,
                                .decl = &decl,
                                .replay_dir = replay_dir(r),
                                .fetch = !r->explain_only};
    if (wc_cache_lookup(r->store, r->key1, &ctx, &r->look) == WC_VERDICT_HIT) {
        wc_stream_replay(&r->look.out, 1);
        wc_stream_replay(&r->look.err, 2);
        r->rep.lookup = &r->look;
        return WC_OUTCOME_HIT;
    }
    wc_report_lookup(&r->rep, &r->look);
    wc_lookup_free(&r->look);
    return r->explain_only ? WC_OUTCOME_EXPLAINED : WC_OUTCOME_NEXT;
}

/* ---- the miss ----------------------------------------------------------------------------- */

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
    if (wc_exec_fits(r->argv, environ) || !program_name(r, reads_atfiles))
        return; /* a program that takes no @file fails with E2BIG and falls back */
    char **v = calloc(3, sizeof *v);
    if (!v || wc_argfile_write(r->argv, &r->argfile) < 0 || !(v[0] = strdup(r->argv[0])) ||
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

/* The observer's directory is ours: libwafcache-observe.so is installed beside wafcache-run. */
static char *library_path(void)
{
    char self[PATH_MAX];
    if (wc_self_dir(self, sizeof self) < 0)
        return NULL;
    return wc_path_join(self, "libwafcache-observe.so");
}

static char *env_entry(const char *name, const char *a, const char *sep, const char *b)
{
    char *s;
    if (asprintf(&s, "%s=%s%s%s", name, a, sep, b) < 0)
        return NULL;
    return s;
}

/* 1 when the LD_PRELOAD word at w (len bytes) is the interposer, from any directory. */
static int is_interposer(const char *w, size_t len)
{
    size_t found;
    return wc_preload_word(w, "libwafcache.so", &found) == w && found == len;
}

/* "LD_PRELOAD=" + value without the interposer's words, lib appended unless there: the
 * observer takes the interposer's place, so that an observed process pays for no
 * redirection. The user's own preloads are kept, in their order. */
static char *observed_preload(const char *value, const char *lib)
{
    const size_t start = strlen("LD_PRELOAD=");
    size_t n = strlen(value), k = start;
    char *s = malloc(start + n + strlen(lib) + 2);
    if (!s)
        return NULL;
    memcpy(s, "LD_PRELOAD=", start);
    for (size_t i = 0; i < n;) {
        size_t len = strcspn(value + i, ": ");
        if (len && !is_interposer(value + i, len)) {
            if (k > start)
                s[k++] = ':';
            memcpy(s + k, value + i, len);
            k += len;
        }
        i += len + 1;
    }
    s[k] = '\0';
    if (!wc_preload_has(s + start, "libwafcache-observe.so"))
        sprintf(s + k, "%s%s", k > start ? ":" : "", lib);
    return s;
}

/* The build's environment, with the channel and the observer for the real command. */
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
            env[k] = observed_preload(e + 11, lib);
        } else {
            env[k] = strdup(e);
        }
        if (!env[k++])
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

static void update_manifest(struct runner *r, wc_store *s, struct wc_mf_set *set)
{
    char why[700];
    int rc = wc_cache_record(s, &r->k1, set);
    if (rc < 0) {
        wc_session_count("e");
        wc_tally(&r->rep, WC_STAT_ERRORS, 1);
        wc_log(&r->cfg, "key1=%s: manifest not written: %s", r->key1,
               wc_rc_text(r->store, rc, why, sizeof why));
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
    wc_store *remote = open_cache(r, 1, &err, why, sizeof why);
    int64_t t = wc_now_ns();

    rc = remote ? wc_upload_entry(remote, st->root, hex, meta) : err;
    if (rc == 0)
        rc = wc_cache_record(remote, &r->k1, set);
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
        rc = wc_upload_entry(r->remote ? r->remote : r->store, st.root, hex, meta);
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

/* Any store, as in the original tool: a local directory too (the entry is staged first all the
 * same, since the build may rewrite the outputs while the copy runs). */
static int async_wanted(const struct runner *r)
{
    return r->cfg.async_workers > 0 && (!r->remote || !wc_guard_down(r->remote));
}

static int push(struct runner *r, struct wc_child *c, struct wc_mf_set *set,
                struct wc_entry_meta *meta)
{
    char hex[WC_HASH_HEX_LEN + 1], why[700];
    wc_cache_result(&r->k1, set, hex);
    meta->run_ns = (uint64_t)c->run_ns;
    int rc = async_wanted(r) ? push_async(r, c, set, meta, hex) : -EAGAIN;
    if (rc == 0)
        return 0;
    if (rc == -EAGAIN)
        rc = wc_entry_push(r->store, hex, r->root, meta, c->out, c->out_len, c->err, c->err_len);
    if (rc < 0) {
        wc_log(&r->cfg, "key1=%s result=%s: push failed: %s", r->key1, hex,
               wc_rc_text(r->store, rc, why, sizeof why));
        /* A store found down has said so already (store/guard.c), by this push or before it. */
        if (!(r->remote && wc_guard_down(r->remote)))
            wc_notice(WC_PROBLEM_CACHE,
                      "cannot store in the cache (%s); the build goes on without storing", why);
        wc_verbose(&r->cfg, "error pushing %s: %s", hex, why);
        return rc;
    }
    wc_log(&r->cfg, "key1=%s result=%s: stored (%zu inputs, %zu probes, run %.1f ms)", r->key1, hex,
           set->n_inputs, set->n_probes, (double)meta->run_ns / 1e6);
    update_manifest(r, r->store, set); /* moves the set into the manifest */
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
    struct wc_declared decl = {r->argv, r->cwd, environ};
    if (rc != 0)
        snprintf(why, why_len, "%s", rc < 0 ? "out of memory" : x.why);
    else if (!wc_entry_declared(meta, r->root, &decl))
        snprintf(why, why_len,
                 "an output is not named by the command line (no hit could "
                 "restore it)");
    else if (r->cfg.no_push)
        snprintf(why, why_len, "WAFCACHE_NO_PUSH is set");
    else if (wc_cache_mark_streams(replay_dir(r), &c->out, &c->out_len, &c->err, &c->err_len) < 0)
        snprintf(why, why_len, "out of memory");
    else
        count = push(r, c, &set, meta) == 0 ? "qw" : "qe";
    wc_mf_set_free(&set);
    return count;
}

/* The real command, observed; its run stored when it qualifies. */
static enum wc_outcome miss(struct runner *r)
{
    int chan;
    char observe[96];
    if (wc_channel_create(&chan, observe, sizeof observe) < 0)
        fallback(r, "cannot create the observation channel");
    char **env = child_env(observe);
    if (!env)
        fallback(r, "out of memory");
    if ((r->archiver && wc_prehash_operands(r->cwd, r->argv, r->memo, &r->pre, &r->n_pre) < 0) ||
        wc_prehash_depfiles(r->cwd, environ, r->memo, &r->pre, &r->n_pre) < 0)
        fallback(r, "out of memory");
    prepare_exec(r);
    struct wc_child *c = &r->child;
    *c = (struct wc_child){.path = r->path,
                           .argv = r->exec_argv,
                           .envp = env,
                           .stderr_pty = isatty(2),
                           .runner_ns = r->t0};
    int started = wc_child_run(c);
    remove_argfile(r);
    if (started < 0) {
        close(chan);
        fallback(r, "cannot start the command");
    }
    r->rep.stored = store_run(r, c, chan, &r->meta, r->why, sizeof r->why);
    close(chan);
    r->rep.why = r->why;
    r->rep.meta = &r->meta;
    r->rep.child = c;
    return WC_OUTCOME_MISS;
}

/* Set up, then look the command up and run it on a miss. Returns what became of it. */
static enum wc_outcome run(struct runner *r, int cfg_rc)
{
    setup(r, cfg_rc);
    if (wc_argv_uses_stdio(r->argv))
        return not_cached(r, "reads stdin or writes stdout ('-')");
    if (wc_argv_info_only(r->argv))
        return not_cached(r, "no output file (it only prints information)");
    compute_key1(r);
    enum wc_outcome o = lookup(r);
    return o == WC_OUTCOME_NEXT ? miss(r) : o;
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

/* The static runner cannot load wafcache-remote.so (libcurl and OpenSSL are shared objects;
 * a static program has no dynamic loader): a configuration that names such a store is served
 * by the dynamically linked twin beside us, given our arguments and environment as they came
 * (LD_PRELOAD still renamed). Returns when we are the twin or it cannot be started; opening
 * the store then fails and the real command runs. */
static void exec_twin(const struct wc_config *c, char **argv)
{
    char path[PATH_MAX];
    if (!wc_runner_is_static() || c->disabled || !wc_store_in_module(c) ||
        wc_self_dir(path, sizeof path - sizeof("/" WC_RUNNER_REMOTE)) < 0)
        return;
    strcat(path, "/" WC_RUNNER_REMOTE);
    execve(path, argv, environ);
}

/* wafcache-run [--explain] PATH ARGV0 [ARGS...]: --explain (from `wafcache --explain`) looks
 * the command up and says what it finds, on stdout, without running or restoring anything. */
int main(int argc, char **argv)
{
    struct runner r;
    char **given = argv;
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
    int cfg_rc = wc_config_load(&r.cfg, NULL, NULL);
    if (cfg_rc == 0)
        exec_twin(&r.cfg, given);
    restore_preload();
    r.path = argv[1];
    r.orig_argv = argv + 2;
    r.t0 = wc_now_ns();
    r.rep = (struct wc_report){
        .explain_only = r.explain_only, .path = r.path, .argv = r.orig_argv, .t0 = r.t0};
    if (!r.explain_only)
        wc_session_watch();
    finish(&r, run(&r, cfg_rc));
}
