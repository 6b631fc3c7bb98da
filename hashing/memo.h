/* A persistent file-hash memo, shared by every process of every build on one cache, keyed by
 * (device, inode, size, mtime_ns, ctime_ns) as ccache's inode cache: a process started fresh
 * for every compile does not re-read unchanged headers. */
#ifndef WC_MEMO_H
#define WC_MEMO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "hashing/hash.h"

/* Flags found while hashing a file's content (kept in the memo with the hash). */
#define WC_CONTENT_DATE 1u      /* mentions __DATE__ */
#define WC_CONTENT_TIME 2u      /* mentions __TIME__ */
#define WC_CONTENT_TIMESTAMP 4u /* mentions __TIMESTAMP__ (a file's mtime, not the date) */
/* All are matched as whole identifiers ("MY__DATE__" is not __DATE__), anywhere in the
 * bytes (comments and strings included), in any file: which inputs they matter for is the
 * caller's decision. */

/* The same flags for bytes in memory (a command's argument: -DSTAMP=__TIME__). */
unsigned wc_content_flags(const void *buf, size_t len);

/* Slots in a memo file made by wc_memo_open: 65536 records of 64 bytes, ~4 MiB. */
#define WC_MEMO_SLOTS 65536u

typedef struct wc_memo wc_memo;

/* Open (creating if needed) the memo file at path. Never fails: on any problem the memo
 * works without persistence (it still hashes). NULL path = no persistence. */
wc_memo *wc_memo_open(const char *path);
/* The same with another slot count (tests use a tiny memo to force collisions). A file made
 * with another count is rebuilt. */
wc_memo *wc_memo_open_slots(const char *path, unsigned slots);

/* stat path into st (may be NULL) and give its content hash and flags (may be NULL), from the
 * memo when (dev, ino, size, mtime, ctime) match a record, else by reading the file and
 * recording it -- unless the file changed in the last two seconds (the racy-git problem).
 * 0 or -errno (-ENOENT for a missing file, -EISDIR for a directory, -EINVAL for a device,
 * fifo or socket). m may be NULL (no persistence: hash every time). */
int wc_memo_hash(wc_memo *m, const char *path, wc_hash *out, struct stat *st, unsigned *flags);

/* The same with path already stat'ed into *st by the caller; *st is then updated to the
 * version that was hashed. */
int wc_memo_hash_stat(wc_memo *m, const char *path, struct stat *st, wc_hash *out, unsigned *flags);

/* One version of a file, as the memo keys it. A manifest keeps the stamp of an input beside
 * its hash: on the machine that recorded it, a hit that finds the same stamp knows the hash
 * without a memo lookup (a pread each: a tenth of a hit's system calls). */
struct wc_stamp {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
};

/* 1 and *out when st may stand for its content: not changed within the last two seconds
 * (the memo's racy rule, see wc_memo_hash); else 0. */
int wc_stamp_of(const struct stat *st, struct wc_stamp *out);
/* 1 when st is the version stamp names. */
int wc_stamp_matches(const struct wc_stamp *stamp, const struct stat *st);

void wc_memo_close(wc_memo *m);

#endif
