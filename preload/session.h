/* The build session: how runners count what they did, so that the top-level process of the
 * build can print the WAFCACHE_STATS line (SPEC §3) when it ends.
 *
 * The top-level process (the first one of the build that loads libwafcache.so in intercept
 * mode, when WAFCACHE_STATS is set) creates a session file and exports
 *   WAFCACHE_SESSION="<pid>:<absolute path of the session file>"
 * Every runner appends ONE byte per event to that file, opened O_WRONLY|O_APPEND (so that
 * concurrent runners never overwrite each other):
 *   'q'  a lookup (request) in the cache
 *   'h'  a hit
 *   'w'  a write (push) to the cache
 *   'e'  an error
 * At its exit the top-level process prints on stderr
 *   wafcache stats: N requests, H hits (ratio: R%), W writes
 * with R = 100 * H / N as "%.2f" (0.00 when N is 0), and removes the file.
 *
 * The client side is the runner's wc_session_count() (preload/runner/runner.h, report.c), which
 * writes its bytes with one write() to the file opened O_WRONLY|O_APPEND. */
#ifndef WC_SESSION_H
#define WC_SESSION_H

#include <string.h>

/* Asynchronous uploads (WAFCACHE_ASYNC_WORKERS without WAFCACHE_ASYNC_NOWAIT): the top-level
 * process also creates a directory of upload slots and exports
 *   WAFCACHE_UPLOADS="<pid>:<absolute path of the directory>"
 * A runner hands a push to a detached uploader holding the lock (flock) of one slot file
 * "slot-<i>" of that directory (preload/runner/upload.c); at its exit the top-level process takes
 * every slot's lock in turn, so it returns only once the build's uploads are done (bounded by
 * WC_UPLOADS_WAIT_S), then removes the directory. The variable must be in the environment for
 * this: the library reads no wafcache.conf. */
#define WC_ENV_UPLOADS "WAFCACHE_UPLOADS"
#define WC_UPLOADS_WAIT_S 300

#define WC_SESSION_REQUEST 'q'
#define WC_SESSION_HIT 'h'
#define WC_SESSION_WRITE 'w'
#define WC_SESSION_ERROR 'e'

/* The session file named by a WAFCACHE_SESSION value, or NULL when there is none. */
static inline const char *wc_session_path(const char *value)
{
    const char *colon = value ? strchr(value, ':') : NULL;

    return colon && colon[1] == '/' ? colon + 1 : NULL;
}

/* Print the WAFCACHE_STATS line for the session file (libc and raw syscalls only: shared by
 * the top-level process and a runner that is the top-level itself, when the build's first
 * process exec'd a compiler). 0, or -1 when the file cannot be read. */
int wc_session_print(const char *session_file);

#endif
