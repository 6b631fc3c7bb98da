/* The seed's bucket commands: a copy program (gsutil, aws, mc, or WAFCACHE_CMD) moves each
 * file between a local path and CACHE/<key[:2]>/<key>/<name> in a bucket. Kept for
 * compatibility with waf's wafcache; no libcurl, so it lives in the core library. */
#ifndef WC_STORE_CMD_H
#define WC_STORE_CMD_H

#include <stddef.h>

#include "core/config.h"
#include "store/store.h"

/* Split cmdline into words as a POSIX shell would, without any expansion: blanks separate
 * words; '...' keeps everything literally; "..." keeps everything except that a backslash
 * before $ ` " \ or a newline escapes it; an unquoted backslash escapes the next character
 * (backslash-newline vanishes). '' and "" make empty words. $, *, ~ are plain characters.
 * *argv_out gets a NULL-terminated, malloc'd array (free with wc_cmd_free). Returns the
 * number of words (0 for a blank line), -EINVAL for an unbalanced quote or a trailing
 * backslash, -ENOMEM. Pure: no environment, no I/O. */
int wc_cmd_split(const char *cmdline, char ***argv_out);

/* Copy of tmpl (NULL-terminated) with every "%{SRC}" replaced by src and every "%{TGT}" by
 * tgt inside each word; the values are never split again. 0 or -ENOMEM. */
int wc_cmd_expand(char *const *tmpl, const char *src, const char *tgt, char ***argv_out);

/* Frees what wc_cmd_split or wc_cmd_expand returned (NULL is fine). */
void wc_cmd_free(char **argv);

/* Run argv (PATH searched, no shell) with stdin on /dev/null and its stdout and stderr
 * collected into out (outlen bytes, NUL-terminated, the rest discarded), in a process group
 * of its own that is killed after timeout_ms. Returns 0 on exit status 0, -EIO on another
 * status or a signal, -ETIMEDOUT when killed for time, -ENOEXEC when argv[0] could not be
 * executed (out then says why), or -errno of fork/pipe. */
int wc_cmd_run(char *const *argv, unsigned timeout_ms, char *out, size_t outlen);

/* A store for c->cache of kind WC_STORE_GS, WC_STORE_S3 or WC_STORE_MINIO. The command is
 * c->cmd (WAFCACHE_CMD) or by scheme "gsutil cp", "aws s3 cp", "mc cp" with %{SRC} %{TGT}; a
 * WAFCACHE_CMD without either placeholder gets "%{SRC} %{TGT}" appended, one with only one of
 * them is refused. Files live at <cache>/<key[:2]>/<key>/<name> (minio:// is dropped: mc
 * names an alias). Each request is bounded by c->timeout_ms.
 *   get/read: a command that fails is a miss (-ENOENT): the copy programs do not tell "no such
 *             object" from other failures, and either way the build goes on uncached;
 *             reason() says what the command printed. -ETIMEDOUT and -ENOEXEC stay.
 *   put/write: a failure is -EIO.
 *   exists: a download to a temporary file (no portable "stat" across the three tools).
 *   touch: 0 (the bucket's own lifecycle rules evict). remove: -ENOTSUP.
 * NULL with *err = -errno and a one-line reason in errbuf (e.g. the program is not in PATH). */
wc_store *wc_cmd_open(const struct wc_config *c, int *err, char *errbuf, size_t errlen);

#endif
