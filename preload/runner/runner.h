/* Internal interfaces of the runner (wafcache-run): running the real command
 * (run_child.c), turning what it did into a manifest set and an entry (collect.c), telling
 * the outcome (report.c), the remote store's guard (guard.c) and background uploads
 * (upload.c). runner.c holds the decisions; what a manifest says is store/cache.c's. */
#ifndef WC_RUNNER_H
#define WC_RUNNER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/stats.h"
#include "hashing/basedir.h"
#include "hashing/manifest.h"
#include "hashing/memo.h"
#include "preload/channel.h"
#include "store/dir.h"
#include "store/entry.h"
#include "store/tier.h"

/* ---- linkage.c ---------------------------------------------------------------------------- */

/* The runner's dynamically linked twin, beside it: it serves stores in wafcache-remote.so. */
#define WC_RUNNER_REMOTE "wafcache-run-remote"
/* 1 in wafcache-run (static-pie: no dlopen), 0 in wafcache-run-remote. */
int wc_runner_is_static(void);

/* ---- run_child.c -------------------------------------------------------------------------- */

/* Most bytes of stdout (and of stderr) recorded; beyond, the run is passed through but not
 * cached. */
#define WC_MAX_RECORDED (64u << 20)
/* Longest observation channel read back. */
#define WC_MAX_CHANNEL (256u << 20)

/* Replace this process by the program with the raw system call: the libwafcache.so loaded in
 * the runner would otherwise send the exec back to a runner. Returns only if it fails; then
 * the caller exits as a shell would (126 or 127). */
void wc_exec_raw(const char *path, char *const *argv, char *const *envp);
/* wc_exec_raw, and on failure a message and exit(126 or 127). */
void wc_exec_or_die(const char *path, char *const *argv, char *const *envp)
    __attribute__((noreturn));

/* 1 when exec takes argv with envp: no string beyond the kernel's limit on one, and the
 * whole within half of ARG_MAX. */
int wc_exec_fits(char *const *argv, char *const *envp);
/* A response file holding argv[1...] quoted as libiberty reads it (mode 0600, in TMPDIR or
 * /tmp, spelt as the kernel resolves it so that collect can recognise it); its path in *path
 * (malloc'd; NULL on failure). 0 or -errno. */
int wc_argfile_write(char *const *argv, char **path);

/* The observation channel: an unlinked temporary file opened O_APPEND, at a descriptor >= 100
 * without O_CLOEXEC. *value gets "<fd>:<dev>:<ino>" for WC_ENV_OBSERVE. 0 or -errno. */
int wc_channel_create(int *fd, char *value, size_t n);
/* Everything written to the channel. 0, -EFBIG beyond max, or -errno. */
int wc_channel_read(int fd, size_t max, char **buf, size_t *len);

struct wc_child {
    const char *path; /* what to execute */
    char *const *argv;
    char *const *envp;
    int stderr_pty;    /* give the child a terminal for stderr (ours is one) */
    int64_t runner_ns; /* wc_now_ns() when the runner started; 0: when the child starts */

    /* results */
    int status;       /* from waitpid */
    int64_t start_ns; /* on the file systems' coarse clock: compared with mtimes */
    int64_t run_ns;   /* how long it ran, by a precise monotonic clock */
    char *out, *err;  /* recorded stdout and stderr (malloc'd, may be NULL when empty) */
    size_t out_len, err_len;
    int overflow;   /* more than WC_MAX_RECORDED on a stream */
    int pty_failed; /* stderr_pty was asked and could not be given */
};

/* Run c->path as a child, passing its stdout and stderr through to ours while recording
 * them, forwarding SIGINT, SIGTERM, SIGHUP and SIGQUIT, and wait for it. 0 once the child has
 * run (c->status is set), or -errno when it could not be started. */
int wc_child_run(struct wc_child *c);
void wc_child_free(struct wc_child *c);

/* Exit as the child did: its exit code, or the signal that killed it, raised again. */
void wc_exit_like(int status) __attribute__((noreturn));

/* ---- collect.c ---------------------------------------------------------------------------- */

/* A file's content as it was before the run. */
struct wc_prehash {
    char *path; /* absolute, lexically normal */
    wc_hash hash;
};

struct wc_collect {
    const char *cwd;
    const char *root;           /* outputs are stored relative to this directory (dirs[0] or cwd) */
    const wc_basedirs *bd;      /* every base dir */
    const wc_basedirs *primary; /* the one manifest paths are relative to (root) */
    wc_memo *memo;
    const char *ignore;    /* the runner's own response file (not the command's input), or NULL */
    int64_t start_ns;      /* when the real command started */
    int source_date_epoch; /* SOURCE_DATE_EPOCH is set */
    char *const *argv;     /* the real command's arguments: scanned for __TIME__ and friends */
    int archiver;          /* the program updates an existing archive (ar): see collect.c */
    const struct wc_prehash *pre; /* from wc_prehash_operands and wc_prehash_depfiles */
    size_t n_pre;
    char why[256];     /* why the run is not cached */
    char *const *envp; /* the runner's environment, which the command inherited */
    int printed;       /* the command wrote on its stdout or stderr */
};

/* From a complete observation: the input set (inputs with their hashes, probes; canonical)
 * and the outputs (paths only; wc_entry_push fills the rest). 0 when the run qualifies, 1
 * when it does not (x->why says why), -ENOMEM. set and meta are freeable either way. */
int wc_collect(struct wc_collect *x, const struct wc_observation *obs, struct wc_mf_set *set,
               struct wc_entry_meta *meta);

/* Before an archiver runs: hash each operand of argv (relative to cwd) that is a regular file,
 * so that an archive it then updates can be recorded with its old content as an input. 0 or
 * -ENOMEM; *pre is freeable either way. */
int wc_prehash_operands(const char *cwd, char *const *argv, wc_memo *memo, struct wc_prehash **pre,
                        size_t *n);
/* Before any command runs with DEPENDENCIES_OUTPUT or SUNPRO_DEPENDENCIES set: hash the file
 * it names, which gcc appends to, added to *pre. 0 or -ENOMEM. */
int wc_prehash_depfiles(const char *cwd, char *const *envp, wc_memo *memo, struct wc_prehash **pre,
                        size_t *n);
void wc_prehash_free(struct wc_prehash *pre, size_t n);

/* ---- report.c ----------------------------------------------------------------------------- */

/* What became of the command: the runner decides it, wc_report tells it (statistics, log,
 * verbose line, explanation, session file), then the runner acts on it once (finish()). */
enum wc_outcome {
    WC_OUTCOME_NEXT,       /* no decision yet: the runner goes on */
    WC_OUTCOME_HIT,        /* the entry is restored and its streams replayed: exit 0 */
    WC_OUTCOME_MISS,       /* the real command ran, observed: exit as it did */
    WC_OUTCOME_EXPLAINED,  /* `wafcache --explain`: the lookup is told, nothing runs */
    WC_OUTCOME_UNCACHED,   /* not cacheable, for a reason that is no error: the real command */
    WC_OUTCOME_FALLBACK,   /* an error inside the cache: the real command, as if we were not */
    WC_OUTCOME_DISABLED,   /* WAFCACHE_DISABLE: the real command */
    WC_OUTCOME_BAD_CONFIG, /* the settings cannot be read: the real command */
};

struct wc_lookup;

/* What a report tells from: the command, key1 and where it was looked up, and the facts of
 * the outcome. The runner fills it as it goes. */
struct wc_report {
    const struct wc_config *cfg; /* the settings, once loaded (else NULL) */
    int explain_only;            /* `wafcache --explain`: explanations on stdout, nothing else */
    int explained;               /* the explanation's first line is out */
    const char *path;            /* the program the build asked for */
    char *const *argv;           /* the command as shown: the build's, then the rewritten one */
    const char *root, *cwd;      /* outputs are stored relative to root, shown relative to cwd */
    int64_t t0;                  /* when the runner started */
    struct wc_stats stats;       /* this run's counters, added to the cache's once */

    const wc_key1 *k1; /* key1 and where it was looked up, once known */
    const char *key1;
    wc_store *store;
    const wc_basedirs *primary;
    wc_memo *memo;

    const char *why;     /* FALLBACK: the error; UNCACHED: the reason; MISS: why it is not
                          * stored; BAD_CONFIG: the settings' message */
    const char *problem; /* FALLBACK: the problem wc_notice says once per build (NULL: why);
                          * WC_PROBLEM_CACHE for the cache itself */
    const struct wc_lookup *lookup;   /* HIT: the restored entry */
    const char *stored;               /* MISS: the session's counters, "q", "qw" or "qe" */
    const struct wc_entry_meta *meta; /* MISS: the outputs */
    const struct wc_child *child;     /* MISS: the run */
};

/* Tell an outcome, once, on the way out: counters (flushed to the cache's statistics), the
 * session file, the log, the verbose line, the explanation. */
void wc_report(struct wc_report *rep, enum wc_outcome o);
/* Tell what a lookup that is no hit found (a hit is told by wc_report). */
void wc_report_lookup(struct wc_report *rep, const struct wc_lookup *l);

/* Add n to one of this run's counters. */
void wc_tally(struct wc_report *rep, enum wc_stat s, uint64_t n);

/* "<strerror>: <the store's own words for its last failure>" into buf. */
const char *wc_rc_text(wc_store *s, int rc, char *buf, size_t n);

/* Append counter bytes ("q", "h", "w", "e") to the build's session file, if there is one. */
void wc_session_count(const char *bytes);
/* Print the stats line at exit when this runner is the build's top-level process. */
void wc_session_watch(void);

/* One line on stderr, when WAFCACHE_VERBOSITY is set: "wafcache: <what>". */
void wc_verbose(const struct wc_config *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line appended to WAFCACHE_LOG, when set: "<time> <pid> <what>". */
void wc_log(const struct wc_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Space-separated output paths of meta (stored relative to root; shown relative to cwd), or
 * argv, for messages; malloc'd (NULL on OOM). */
char *wc_describe_outputs(const struct wc_entry_meta *meta, const char *root, const char *cwd);
char *wc_describe_argv(char *const *argv);

/* The local directory that keeps the statistics, the explain index and wafcache.conf: the
 * cache itself, or WAFCACHE_LOCAL in front of a remote one; NULL when there is none. */
const char *wc_local_dir(const struct wc_config *c);

/* Add this runner's counters to the cache's statistics (core/stats.h); a failure is logged,
 * never fatal. */
void wc_stats_flush(const struct wc_config *c, const struct wc_stats *delta);

/* The explain index (see wc_explain_id): record key1 as the last one stored for k's
 * command, or read the last one back into hex. 0 or -errno. */
int wc_explain_record(const struct wc_config *c, const wc_key1 *k, const char *key1_hex);
int wc_explain_last(const struct wc_config *c, const wc_key1 *k, char hex[WC_HASH_HEX_LEN + 1]);

/* Run the LRU trim of the local store at root in a detached process, if one is due. */
void wc_trim_in_background(const struct wc_config *c);

/* ---- notice.c ----------------------------------------------------------------------------- */

/* Say a problem that makes the cache stop working (a full disk, a directory we cannot write, a
 * missing bucket command, a log that cannot be opened) on stderr, "wafcache: <line>", once per
 * build: only the first runner of the build to meet problem `what` (a short fixed name, or the
 * reason itself) says it. Redacted. */
/* The cache itself cannot be used (opened, written, its statistics updated): one problem,
 * whichever of them shows it first. */
#define WC_PROBLEM_CACHE "cache"
void wc_notice(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when this runner is the first of its build to meet problem what (and so says it). */
int wc_notice_first(const char *what);
/* The marker file of (this build, what) into path: 1 when this call created it (empty, 0600),
 * 0 when it existed, -1 when it cannot be made. *process: the build's process in launcher
 * mode when it is make or ninja, else 0 (under the library, or run from a shell). Markers a day old are removed. */
int wc_build_marker(const char *what, char *path, size_t n, pid_t *process);

/* ---- launcher.c --------------------------------------------------------------------------- */

/* Launcher mode (CC="wafcache gcc": no library, so no top-level process to print the stats
 * line): with WAFCACHE_STATS, join the build's session -- a file named by the build's identity
 * -- and, in the build's first runner, start a watcher that prints the stats line when the
 * build's process exits. Sets WAFCACHE_SESSION for wc_session_count. */
void wc_launcher_session(void);

/* ---- upload.c ----------------------------------------------------------------------------- */

/* ${TMPDIR:-/tmp}/wafcache-<uid>, created 0700; refused unless it is ours. 0 or -errno. */
int wc_user_tmp_dir(char *buf, size_t n);

/* Become a daemon that holds nothing of the build's: setsid, stdio on /dev/null, every other
 * descriptor closed but keep_fd (moved to fd 3; -1 for none). */
void wc_detach(int keep_fd);

/* One of c->async_workers upload slots, locked (flock): the build's (WAFCACHE_UPLOADS) or
 * the user's. -1 when all are busy or uploads cannot be handed off (this runner is the
 * build's top-level process). */
int wc_upload_slot(const struct wc_config *c);
/* Start a detached uploader holding slot: 0 in the uploader, 1 in the caller (which no
 * longer holds the slot), -1 when no process could be started (the slot is released). */
int wc_upload_fork(int slot);

/* Where an entry waits for its upload: a directory store. */
struct wc_stage {
    wc_store *store;
    char root[PATH_MAX];
    int private_dir; /* a staging directory of this upload's own, removed after it */
};
/* The tier's local side when store is a tier, else a fresh private staging directory. */
int wc_stage_open(const struct wc_config *c, wc_store *store, struct wc_stage *st);
/* Close a private stage (remove: delete its directory too); a tier's side stays open. */
void wc_stage_close(struct wc_stage *st, int remove);
/* Copy entry key from the stage at root to remote: outputs, stdout, stderr, "meta" last.
 * 0 or the first -errno. */
int wc_upload_entry(wc_store *remote, const char *root, const char *key,
                    const struct wc_entry_meta *meta);

#endif
