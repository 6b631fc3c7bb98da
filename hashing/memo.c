/* The persistent file-hash memo (after ccache's inode cache).
 *
 * One file of fixed size: a 4 KiB header, then buckets of four 64-byte records. A record
 * lives in the bucket chosen by (dev, ino) and holds that file's size, mtime, ctime, content
 * hash and content flags, and a checksum of all of it. Many processes read and write the
 * file at once without any lock:
 *
 *  - a lookup is one pread of one bucket; a store is one pwrite of one record. Last writer
 *    wins, and a collision just replaces some other file's record: a lost record costs one
 *    re-read, never a wrong answer.
 *  - a read racing a write may see a torn record (part old, part new). The checksum makes
 *    it invalid, so it is ignored like an empty slot.
 *  - the file is never resized in place: a missing or bad memo is rebuilt under a temporary
 *    name and renamed over, so a process still using the old one keeps a whole file.
 *
 * We pread rather than mmap: a mapping of a file that someone truncates raises SIGBUS and
 * would kill the runner, and the build must never fail because of the cache. */
#include "hashing/memo.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define MEMO_MAGIC "WCMEMO\r\n"
/* 2: __TIMESTAMP__ has a flag of its own (it was counted as __DATE__). */
#define MEMO_VERSION 2u
#define MEMO_HEADER_SIZE 4096
#define MEMO_WAYS 4u
#define MEMO_SEED 0x7763616368656d6fULL
#define MEMO_BYTE_ORDER 0x0102030405060708ULL

/* A file whose mtime or ctime is this recent may change again within the same timestamp
 * tick, keeping (size, mtime, ctime) while its content differs: hash it, never record it. */
#define MEMO_RACY_NS 2000000000LL

struct memo_header {
    char magic[8];
    uint32_t version;
    uint32_t record_size;
    uint32_t nbuckets;
    uint32_t ways;
    uint64_t byte_order;
    uint64_t check; /* XXH3-64 of the fields above */
};

/* No padding: every field sits at its natural alignment. Linux device numbers fit in 32
 * bits (12 major + 20 minor); a file on a larger one is simply not recorded. */
struct memo_record {
    uint64_t ino;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint64_t hash_lo;
    uint64_t hash_hi;
    uint32_t dev;
    uint32_t flags;
    uint64_t check; /* XXH3-64 of the fields above */
};

_Static_assert(sizeof(struct memo_record) == 64, "memo record must be 64 bytes");
_Static_assert(sizeof(struct memo_header) <= MEMO_HEADER_SIZE, "memo header too large");

struct wc_memo {
    int fd; /* -1: no persistence */
    int writable;
    uint32_t nbuckets;
};

static uint64_t header_check(const struct memo_header *h)
{
    return XXH3_64bits_withSeed(h, offsetof(struct memo_header, check), MEMO_SEED);
}

static uint64_t record_check(const struct memo_record *r)
{
    return XXH3_64bits_withSeed(r, offsetof(struct memo_record, check), MEMO_SEED);
}

static void header_init(struct memo_header *h, uint32_t nbuckets)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, MEMO_MAGIC, sizeof(h->magic));
    h->version = MEMO_VERSION;
    h->record_size = sizeof(struct memo_record);
    h->nbuckets = nbuckets;
    h->ways = MEMO_WAYS;
    h->byte_order = MEMO_BYTE_ORDER;
    h->check = header_check(h);
}

static off_t memo_file_size(uint32_t nbuckets)
{
    return MEMO_HEADER_SIZE + (off_t)nbuckets * MEMO_WAYS * sizeof(struct memo_record);
}

/* A memo file is trusted only when it has exactly the header and size we would write. */
static int memo_valid(int fd, uint32_t nbuckets)
{
    struct stat st;
    struct memo_header want, got;

    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != memo_file_size(nbuckets))
        return 0;
    if (pread(fd, &got, sizeof(got), 0) != (ssize_t)sizeof(got))
        return 0;
    header_init(&want, nbuckets);
    return memcmp(&want, &got, sizeof(want)) == 0;
}

/* Build a fresh memo beside path and rename it into place. The new file is sparse: empty
 * slots are zeros, whose checksum is wrong, so they read as invalid records. The temporary
 * has the store's temporary name (wc_tmp_name): one left by a process killed here is swept
 * by the trim like any other. */
static int memo_create(const char *path, uint32_t nbuckets)
{
    char tmp[4096];
    struct memo_header h;

    if (wc_tmp_name(tmp, sizeof(tmp), path) < 0)
        return -1;
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    header_init(&h, nbuckets);
    if (ftruncate(fd, memo_file_size(nbuckets)) < 0 ||
        pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || rename(tmp, path) < 0) {
        unlink(tmp);
        close(fd);
        return -1;
    }
    return fd;
}

static int memo_attach(const char *path, uint32_t nbuckets, int *writable)
{
    /* Never through a link: the memo is written in place. */
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    *writable = 1;
    if (fd < 0 && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        /* A read-only cache still gives hits. */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        *writable = 0;
    }
    if (fd >= 0 && memo_valid(fd, nbuckets))
        return fd;
    if (fd >= 0)
        close(fd);
    *writable = 1;
    return memo_create(path, nbuckets);
}

wc_memo *wc_memo_open_slots(const char *path, unsigned slots)
{
    wc_memo *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->fd = -1;
    m->nbuckets = slots / MEMO_WAYS ? slots / MEMO_WAYS : 1;
    if (path)
        m->fd = memo_attach(path, m->nbuckets, &m->writable);
    return m;
}

wc_memo *wc_memo_open(const char *path)
{
    return wc_memo_open_slots(path, WC_MEMO_SLOTS);
}

void wc_memo_close(wc_memo *m)
{
    if (!m)
        return;
    if (m->fd >= 0)
        close(m->fd);
    free(m);
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* The record a file with this stat would have (hash, flags and check left empty).
 * 0 when the file cannot be recorded. */
static int record_key(struct memo_record *r, const struct stat *st)
{
    if ((uint64_t)st->st_dev > UINT32_MAX)
        return 0;
    memset(r, 0, sizeof(*r));
    r->dev = (uint32_t)st->st_dev;
    r->ino = (uint64_t)st->st_ino;
    r->size = (uint64_t)st->st_size;
    r->mtime_ns = ts_ns(&st->st_mtim);
    r->ctime_ns = ts_ns(&st->st_ctim);
    return 1;
}

static int same_file(const struct memo_record *a, const struct memo_record *b)
{
    return a->dev == b->dev && a->ino == b->ino;
}

static int same_version(const struct memo_record *a, const struct memo_record *b)
{
    return same_file(a, b) && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

static off_t bucket_offset(const wc_memo *m, const struct memo_record *key)
{
    uint64_t id[2] = {key->dev, key->ino};
    uint64_t b = XXH3_64bits(id, sizeof(id)) % m->nbuckets;
    return MEMO_HEADER_SIZE + (off_t)(b * MEMO_WAYS * sizeof(struct memo_record));
}

static int read_bucket(const wc_memo *m, off_t off, struct memo_record *bucket)
{
    size_t len = MEMO_WAYS * sizeof(*bucket);
    return pread(m->fd, bucket, len, off) == (ssize_t)len;
}

static int memo_lookup(const wc_memo *m, const struct memo_record *key, struct memo_record *out)
{
    struct memo_record bucket[MEMO_WAYS];

    if (!read_bucket(m, bucket_offset(m, key), bucket))
        return 0;
    for (unsigned i = 0; i < MEMO_WAYS; i++) {
        if (bucket[i].check == record_check(&bucket[i]) && same_version(&bucket[i], key)) {
            *out = bucket[i];
            return 1;
        }
    }
    return 0;
}

/* Which way of the bucket to overwrite: this file's old record, else an invalid slot, else
 * any. Another writer may choose the same slot at the same time; one of them wins. */
static unsigned choose_way(const struct memo_record *bucket, const struct memo_record *rec)
{
    static unsigned spin;

    for (unsigned i = 0; i < MEMO_WAYS; i++)
        if (bucket[i].check == record_check(&bucket[i]) && same_file(&bucket[i], rec))
            return i;
    for (unsigned i = 0; i < MEMO_WAYS; i++)
        if (bucket[i].check != record_check(&bucket[i]))
            return i;
    return (unsigned)(rec->mtime_ns ^ rec->ino ^ (uint64_t)getpid() ^ spin++) % MEMO_WAYS;
}

static void memo_store(const wc_memo *m, struct memo_record *rec)
{
    struct memo_record bucket[MEMO_WAYS];
    off_t off = bucket_offset(m, rec);

    if (!read_bucket(m, off, bucket))
        return;
    off += (off_t)(choose_way(bucket, rec) * sizeof(*rec));
    rec->check = record_check(rec);
    /* One aligned 64-byte write. A failed or short one leaves a record whose checksum is
     * wrong, which readers ignore: nothing to undo. */
    ssize_t n = pwrite(m->fd, rec, sizeof(*rec), off);
    (void)n;
}

/* Timestamps in the future count as recent too (clock skew, network file systems). */
static int is_racy(const struct memo_record *r)
{
    int64_t limit = wc_now_ns() - MEMO_RACY_NS;
    return r->mtime_ns >= limit || r->ctime_ns >= limit;
}

/* Content flags are found by a scanner fed the bytes as they are hashed, in chunks. It keeps
 * the last bytes of the previous chunk (and the byte before them) so that a macro name split
 * across two chunks, and the identifier boundary around it, are still seen. */
#define SCAN_TAIL 16 /* > longest name (13) + the byte after it */
#define SCAN_HEAD 14 /* longest name + the byte after it */

struct scanner {
    unsigned flags;
    unsigned char tail[SCAN_TAIL];
    size_t tail_len;
    int before_tail; /* the byte before tail[0], or -1 at the start of the file */
};

static const struct {
    const char *name;
    size_t len;
    unsigned flag;
} temporal_macros[] = {
    {"__DATE__", 8, WC_CONTENT_DATE},
    {"__TIMESTAMP__", 13, WC_CONTENT_TIMESTAMP},
    {"__TIME__", 8, WC_CONTENT_TIME},
};

static int is_ident(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$';
}

/* Find the macros in buf as whole identifiers. prev is the byte before buf (-1: none). A
 * name that ends buf counts only at the end of the file: otherwise the byte after it is in
 * the next chunk, and the next call (which starts with our tail) decides. */
static void scan_buf(struct scanner *sc, const unsigned char *buf, size_t len, int prev, int at_eof)
{
    const unsigned char *p = buf, *end = buf + len;

    while ((p = memmem(p, (size_t)(end - p), "__", 2)) != NULL) {
        int before = p > buf ? p[-1] : prev;
        if (is_ident(before)) {
            p++;
            continue;
        }
        for (size_t i = 0; i < sizeof(temporal_macros) / sizeof(temporal_macros[0]); i++) {
            size_t n = temporal_macros[i].len;
            if ((size_t)(end - p) < n || memcmp(p, temporal_macros[i].name, n) != 0)
                continue;
            if ((size_t)(end - p) == n ? at_eof : !is_ident(p[n]))
                sc->flags |= temporal_macros[i].flag;
        }
        p++;
    }
}

static void scanner_keep_tail(struct scanner *sc, const unsigned char *data, size_t len)
{
    if (len >= SCAN_TAIL) {
        sc->before_tail = len > SCAN_TAIL ? data[len - SCAN_TAIL - 1]
                          : sc->tail_len  ? sc->tail[sc->tail_len - 1]
                                          : sc->before_tail;
        memcpy(sc->tail, data + len - SCAN_TAIL, SCAN_TAIL);
        sc->tail_len = SCAN_TAIL;
        return;
    }
    unsigned char joint[2 * SCAN_TAIL];
    size_t n = sc->tail_len + len, keep = n < SCAN_TAIL ? n : SCAN_TAIL;
    memcpy(joint, sc->tail, sc->tail_len);
    memcpy(joint + sc->tail_len, data, len);
    if (n > keep)
        sc->before_tail = joint[n - keep - 1];
    memcpy(sc->tail, joint + n - keep, keep);
    sc->tail_len = keep;
}

static void scan_chunk(void *ctx, const unsigned char *data, size_t len)
{
    struct scanner *sc = ctx;

    if (sc->tail_len) {
        unsigned char joint[SCAN_TAIL + SCAN_HEAD];
        size_t head = len < SCAN_HEAD ? len : SCAN_HEAD;
        memcpy(joint, sc->tail, sc->tail_len);
        memcpy(joint + sc->tail_len, data, head);
        scan_buf(sc, joint, sc->tail_len + head, sc->before_tail, 0);
    }
    scan_buf(sc, data, len, sc->tail_len ? sc->tail[sc->tail_len - 1] : sc->before_tail, 0);
    scanner_keep_tail(sc, data, len);
}

static void scanner_finish(struct scanner *sc)
{
    scan_buf(sc, sc->tail, sc->tail_len, sc->before_tail, 1);
}

unsigned wc_content_flags(const void *buf, size_t len)
{
    struct scanner sc = {.before_tail = -1};
    scan_buf(&sc, buf, len, -1, 1);
    return sc.flags;
}

/* Read and hash a regular file. *stable says whether it looked the same (fstat) before and
 * after: a file changed while we read it must not be recorded. */
static int hash_file(const char *path, wc_hash *out, struct stat *st, unsigned *flags, int *stable)
{
    struct stat after;
    struct scanner sc = {.before_tail = -1};
    int rc;

    /* O_NONBLOCK: a path that became a fifo since our stat must not block us. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0)
        rc = -errno;
    else if (S_ISDIR(st->st_mode))
        rc = -EISDIR;
    else if (!S_ISREG(st->st_mode))
        rc = -EINVAL;
    else {
        wc_hash_file_reads++;
        rc = wc_hash_fd_scan(fd, out, scan_chunk, &sc);
    }
    if (rc == 0) {
        struct memo_record a, b;
        scanner_finish(&sc);
        *flags = sc.flags;
        *stable = fstat(fd, &after) == 0 && record_key(&a, st) && record_key(&b, &after) &&
                  same_version(&a, &b);
    }
    close(fd);
    return rc;
}

static int memo_usable(const wc_memo *m)
{
    return m && m->fd >= 0;
}

int wc_memo_hash(wc_memo *m, const char *path, wc_hash *out, struct stat *st, unsigned *flags)
{
    struct stat sb;

    if (stat(path, &sb) < 0)
        return -errno;
    int rc = wc_memo_hash_stat(m, path, &sb, out, flags);
    if (rc == 0 && st)
        *st = sb;
    return rc;
}

int wc_memo_hash_stat(wc_memo *m, const char *path, struct stat *st, wc_hash *out, unsigned *flags)
{
    struct stat sb = *st;
    struct memo_record key, rec;
    unsigned fl = 0;
    int stable = 0;

    if (S_ISDIR(sb.st_mode))
        return -EISDIR;
    if (!S_ISREG(sb.st_mode))
        return -EINVAL;
    if (memo_usable(m) && record_key(&key, &sb) && memo_lookup(m, &key, &rec)) {
        out->lo = rec.hash_lo;
        out->hi = rec.hash_hi;
        fl = rec.flags;
    } else {
        int rc = hash_file(path, out, &sb, &fl, &stable);
        if (rc < 0)
            return rc;
        if (stable && memo_usable(m) && m->writable && record_key(&rec, &sb) && !is_racy(&rec)) {
            rec.hash_lo = out->lo;
            rec.hash_hi = out->hi;
            rec.flags = fl;
            memo_store(m, &rec);
        }
    }
    *st = sb; /* what was hashed, when it was read */
    if (flags)
        *flags = fl;
    return 0;
}

int wc_stamp_of(const struct stat *st, struct wc_stamp *out)
{
    struct memo_record r;
    if (!record_key(&r, st) || is_racy(&r))
        return 0;
    out->dev = r.dev;
    out->ino = r.ino;
    out->size = r.size;
    out->mtime_ns = r.mtime_ns;
    out->ctime_ns = r.ctime_ns;
    return 1;
}

int wc_stamp_matches(const struct wc_stamp *stamp, const struct stat *st)
{
    struct memo_record r;
    return record_key(&r, st) && r.dev == stamp->dev && r.ino == stamp->ino &&
           r.size == stamp->size && r.mtime_ns == stamp->mtime_ns && r.ctime_ns == stamp->ctime_ns;
}
