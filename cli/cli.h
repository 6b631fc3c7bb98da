/* Shared by the `wafcache` command line's files: exit codes, messages, the cache directory.
 *
 * Exit codes: 0 ok, 1 usage error (a bad option or argument), 2 cache error (a bad setting, a
 * cache directory that is missing or not writable, a failed operation). Every error is one
 * line on stderr starting with "wafcache: ". */
#ifndef WC_CLI_H
#define WC_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define CLI_OK 0
#define CLI_USAGE 1
#define CLI_CACHE 2

/* "wafcache: <message>" and the hint to --help; returns CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "wafcache: <message>"; returns CLI_CACHE. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The option takes no argument beyond argv[0]: 0, or CLI_USAGE after the message. */
int cli_no_argument(int argc, char **argv);

/* Load the settings; on a bad one print its line and return CLI_CACHE (c is still freeable). */
int cli_load(struct wc_config *c);

/* The local cache directory of c (WAFCACHE, or WAFCACHE_LOCAL before a remote store). With
 * must_exist, a directory that does not exist is an error. 0 or CLI_CACHE after the message. */
int cli_cache_dir(const struct wc_config *c, const char *action, int must_exist, const char **dir);

/* "1.5 GB", "320 kB", "12 bytes" (decimal units, as ccache). */
void cli_format_size(uint64_t bytes, char *buf, size_t n);

/* What a walk of the local store finds (cli/maint.c). */
struct cli_usage_info {
    uint64_t entries;   /* entry directories, as the trim counts them */
    uint64_t results;   /* with metadata: restorable results */
    uint64_t manifests; /* key1 manifests */
    uint64_t bytes;     /* every file of every entry */
};
/* 0, or -errno when the directory cannot be read (a missing one is empty). */
int cli_store_usage(const char *dir, struct cli_usage_info *u);

/* A progress line on stderr when it is a terminal ("Verifying: 45%"), at most ten updates a
 * second, erased at the end; nothing at all when stderr is not a terminal. */
struct cli_progress {
    const char *what;
    int on, last_pct;
    int64_t last_ns;
};
void cli_progress_start(struct cli_progress *p, const char *what);
void cli_progress_update(struct cli_progress *p, uint64_t done, uint64_t total);
/* Before another line is printed; the next update draws it again. */
void cli_progress_erase(struct cli_progress *p);
void cli_progress_end(struct cli_progress *p);

/* A bucket of the store's layout: two lower-case hex digits. */
int cli_is_bucket(const char *name);
/* The entries of the store at dir counted by name (no stat: cheap), for a progress total;
 * *buckets (may be NULL) gets the number of buckets. */
uint64_t cli_count_entries(const char *dir, uint64_t *buckets);

/* The actions. argv[0] is the option as typed; they return an exit code. */
int cmd_show_stats(int argc, char **argv);
int cmd_json(int argc, char **argv);
int cmd_zero_stats(int argc, char **argv);
int cmd_trim(int argc, char **argv);
int cmd_clear(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_show_config(int argc, char **argv);
int cmd_get_config(int argc, char **argv);
int cmd_set_config(int argc, char **argv);
int cmd_max_size(int argc, char **argv);
int cmd_max_files(int argc, char **argv);

#endif
