/* A guard in front of a remote store (a store decorator, as store/tier.h): once the store has
 * shown it is down or refuses our credentials, every later operation fails at once instead of
 * costing another timeout, here and, through a marker file, in the other processes of this
 * user that use the same store. */
#ifndef WC_STORE_GUARD_H
#define WC_STORE_GUARD_H

#include "store/store.h"

/* How long a remote store found down (or refusing our credentials) is skipped by every
 * process of this user, before one of them tries it again. */
#define WC_GUARD_TTL_S 30

/* Told the guard's one line ("remote cache unavailable (<reason>); not used for 30 s") by
 * the one process that found the store down first; the caller says it. */
typedef void (*wc_guard_say_fn)(void *ctx, const char *line);

/* Wrap remote (taking ownership): after a failure that says the store is down (timeout,
 * refused connection, unknown host; refused credentials on a request that touches nothing
 * local), every operation fails at once with -EHOSTDOWN, here and, through a marker file
 * <marker_dir>/down-<hash of cache> for WC_GUARD_TTL_S seconds, in the other processes.
 * marker_dir NULL: no marker, the verdict stays in this process. The process that creates
 * the marker hands its line to say (NULL: nobody is told). NULL on OOM (remote closed). */
wc_store *wc_guard_open(wc_store *remote, const char *cache, const char *marker_dir,
                        wc_guard_say_fn say, void *ctx);

/* 1 when the guard skips its store. */
int wc_guard_down(wc_store *guard);

#endif
