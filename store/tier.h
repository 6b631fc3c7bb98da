/* A local store in front of a remote one (SPEC §6, WAFCACHE_LOCAL): hits are served
 * locally, remote hits are kept locally, pushes go to both. */
#ifndef WC_STORE_TIER_H
#define WC_STORE_TIER_H

#include "store/store.h"

/* Takes ownership of both stores (close() closes them). NULL only when out of memory (the
 * two stores are then closed too).
 *
 *   get/read: local first; on any local failure the remote. A remote hit is then copied
 *       into the local store, best effort: a local failure (full disk, removed directory)
 *       never fails the get, the caller still has the file. The copy is made before the
 *       caller verifies the hash: an entry found corrupt must be removed (remove() removes
 *       it from both tiers) or it would keep shadowing the remote one.
 *   put/write: local, then remote. 0 when either succeeded: a remote that is down must not
 *       cost the local cache its entry, and the reverse. Once a side failed for a key, later
 *       files of that key are not sent to that side, so the side never gets "meta" (written
 *       last) for an entry whose outputs it lacks. wc_tier_last tells which side failed.
 *   exists: local, else remote.
 *   touch: both; 0 when either succeeded.
 *   remove: both; 0 when either removed it, -ENOENT when neither had it, else an error.
 *   close: both. */
wc_store *wc_tier_open(wc_store *local, wc_store *remote);

/* The results of the last operation on each side (0 or -errno; a side that was not asked
 * reports 0). For WAFCACHE_VERBOSITY ("uploaded locally, remote push failed"). */
void wc_tier_last(wc_store *tier, int *local_rc, int *remote_rc);

/* The local store inside (as wc_store_side(tier, WC_STORE_LOCAL)). */
wc_store *wc_tier_local(wc_store *tier);

#endif
