/* The persistent file-hash memo: hits skip the read, any change of identity invalidates,
 * racy files are not recorded, a bad memo file is never trusted, flags are found, and many
 * writers at once leave only correct records. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hashing/memo.h"

/* Files made once for the whole suite and aged: mtime an hour ago, and a sleep so that
 * their ctime (which no call can set back) is out of the racy window too. Each test uses
 * its own files from this pool, so their changes do not meet. */
static char pool[] = "/tmp/wc_test_memo_pool.XXXXXX";
/* A fresh directory per test, for memo files and files that must be new. */
static char tmpdir[] = "/tmp/wc_test_memo.XXXXXX";

#define NCONC 300 /* files hashed by the concurrent writers */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* A few rotating buffers: keep a copy of any result used after 16 more calls. */
static char *join(const char *dir, const char *name)
{
    static char buf[16][4096];
    static int n;
    char *b = buf[n++ % 16];
    snprintf(b, sizeof(buf[0]), "%s/%s", dir, name);
    return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void write_str(const char *path, const char *s)
{
    write_file(path, s, strlen(s));
}

static void set_mtime(const char *path, time_t sec, long nsec)
{
    struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void conc_content(int i, char *buf, size_t n)
{
    snprintf(buf, n, "/* file %d */\nint f%d(void) { return %d; }\n%s", i, i, i * 7,
             i % 5 == 0 ? "const char *d = __DATE__;\n" : "");
}

static const char *pool_files[] = {"hit", "mtime",  "size",    "same_size", "rename",
                                   "old", "future", "corrupt", "flip",      "persist"};

static void pool_setup(void)
{
    char buf[256];
    time_t hour_ago = time(NULL) - 3600;

    ck_assert_ptr_nonnull(mkdtemp(pool));
    for (size_t i = 0; i < sizeof(pool_files) / sizeof(pool_files[0]); i++) {
        snprintf(buf, sizeof(buf), "content of %s\nconst char *t = __DATE__;\n", pool_files[i]);
        write_str(join(pool, pool_files[i]), buf);
        set_mtime(join(pool, pool_files[i]), hour_ago, 123456789);
    }
    /* A future mtime is as untrustworthy as a recent one. */
    set_mtime(join(pool, "future"), time(NULL) + 3600, 0);
    for (int i = 0; i < NCONC; i++) {
        char name[32];
        snprintf(name, sizeof(name), "c%03d.h", i);
        conc_content(i, buf, sizeof(buf));
        write_str(join(pool, name), buf);
        set_mtime(join(pool, name), hour_ago, 0);
    }
    usleep(2300 * 1000);
}

static void pool_teardown(void)
{
    nftw(pool, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/wc_test_memo.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The true hash of a file, read directly. */
static wc_hash true_hash(const char *path)
{
    wc_hash h;
    ck_assert_int_eq(wc_hash_path(path, &h, NULL), 0);
    return h;
}

/* Hash through the memo; check the result against the file; give the number of reads. */
static unsigned long memo_reads(wc_memo *m, const char *path, unsigned *flags)
{
    wc_hash h, want = true_hash(path);
    struct stat st, real;
    unsigned long before = wc_hash_file_reads;

    ck_assert_int_eq(wc_memo_hash(m, path, &h, &st, flags), 0);
    unsigned long reads = wc_hash_file_reads - before;
    ck_assert_msg(wc_hash_equal(&h, &want), "wrong hash for %s", path);
    ck_assert_int_eq(stat(path, &real), 0);
    ck_assert_uint_eq(st.st_ino, real.st_ino);
    ck_assert_int_eq(st.st_size, real.st_size);
    return reads;
}

START_TEST(hit_avoids_read)
{
    wc_memo *m = wc_memo_open(join(tmpdir, "memo"));
    const char *f = join(pool, "hit");
    unsigned flags = 99;

    ck_assert_uint_eq(memo_reads(m, f, &flags), 1);
    ck_assert_uint_eq(flags, WC_CONTENT_DATE);
    flags = 99;
    ck_assert_uint_eq(memo_reads(m, f, &flags), 0);
    ck_assert_uint_eq(flags, WC_CONTENT_DATE); /* flags come back from the record */
    ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
    wc_memo_close(m);

    /* Persistent: another handle (another process, in real use) hits too. */
    m = wc_memo_open(join(tmpdir, "memo"));
    ck_assert_uint_eq(memo_reads(m, f, &flags), 0);
    wc_memo_close(m);
    struct stat st;
    ck_assert_int_eq(stat(join(tmpdir, "memo"), &st), 0);
    ck_assert_int_le(st.st_size, 5 * 1024 * 1024);
}
END_TEST

START_TEST(mtime_change_invalidates)
{
    wc_memo *m = wc_memo_open(join(tmpdir, "memo"));
    const char *f = join(pool, "mtime");

    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
    set_mtime(f, time(NULL) - 7200, 0);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    wc_memo_close(m);
}
END_TEST

START_TEST(content_change_invalidates)
{
    wc_memo *m = wc_memo_open(join(tmpdir, "memo"));
    const char *f = join(pool, "size");
    const char *g = join(pool, "same_size");
    struct stat st;

    /* New size, old mtime put back. */
    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    ck_assert_int_eq(stat(f, &st), 0);
    write_str(f, "a longer content than before, with no macro in it at all\n");
    set_mtime(f, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    unsigned flags = 99;
    ck_assert_uint_eq(memo_reads(m, f, &flags), 1);
    ck_assert_uint_eq(flags, 0);

    /* Same size, same mtime, other bytes: the ctime still tells. */
    ck_assert_uint_eq(memo_reads(m, g, NULL), 1);
    ck_assert_int_eq(stat(g, &st), 0);
    char *buf = calloc(1, (size_t)st.st_size + 1);
    memset(buf, 'x', (size_t)st.st_size);
    write_str(g, buf);
    free(buf);
    set_mtime(g, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    ck_assert_uint_eq(memo_reads(m, g, NULL), 1);
    wc_memo_close(m);
}
END_TEST

START_TEST(rename_invalidates)
{
    wc_memo *m = wc_memo_open(join(tmpdir, "memo"));
    const char *f = join(pool, "rename");
    char tmp[4096];
    struct stat st;

    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
    ck_assert_int_eq(stat(f, &st), 0);
    /* Same size and mtime, another inode. */
    snprintf(tmp, sizeof(tmp), "%s.new", f);
    char *buf = calloc(1, (size_t)st.st_size + 1);
    memset(buf, 'y', (size_t)st.st_size);
    write_str(tmp, buf);
    free(buf);
    set_mtime(tmp, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    ck_assert_int_eq(rename(tmp, f), 0);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    wc_memo_close(m);
}
END_TEST

START_TEST(racy_not_memoized)
{
    wc_memo *m = wc_memo_open(join(tmpdir, "memo"));
    const char *fresh = join(tmpdir, "fresh");

    /* Just written: ctime (and mtime) are now. */
    write_str(fresh, "int fresh;\n");
    ck_assert_uint_eq(memo_reads(m, fresh, NULL), 1);
    ck_assert_uint_eq(memo_reads(m, fresh, NULL), 1);

    /* Old ctime, mtime set into the past only now: ctime is new again. */
    write_str(fresh, "int fresh2;\n");
    set_mtime(fresh, time(NULL) - 3600, 0);
    ck_assert_uint_eq(memo_reads(m, fresh, NULL), 1);
    ck_assert_uint_eq(memo_reads(m, fresh, NULL), 1);

    /* Old ctime, mtime in the future. */
    ck_assert_uint_eq(memo_reads(m, join(pool, "future"), NULL), 1);
    ck_assert_uint_eq(memo_reads(m, join(pool, "future"), NULL), 1);

    /* The control: an old file in the same memo is recorded. */
    ck_assert_uint_eq(memo_reads(m, join(pool, "old"), NULL), 1);
    ck_assert_uint_eq(memo_reads(m, join(pool, "old"), NULL), 0);
    wc_memo_close(m);
}
END_TEST

/* Write a memo with a record for `f`, then damage the memo file with `damage`. Opening it
 * again must not trust it (the file is read again) and must work afterwards (a hit). */
static void check_damaged(const char *f, void (*damage)(const char *memo))
{
    char memo[4096];
    snprintf(memo, sizeof(memo), "%s/memo", tmpdir);
    wc_memo *m = wc_memo_open(memo);
    memo_reads(m, f, NULL);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
    wc_memo_close(m);

    damage(memo);
    m = wc_memo_open(memo);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
    wc_memo_close(m);
    unlink(memo);
}

static void damage_truncate(const char *memo)
{
    struct stat st;
    ck_assert_int_eq(stat(memo, &st), 0);
    ck_assert_int_eq(truncate(memo, st.st_size / 2), 0);
}

static void damage_extend(const char *memo)
{
    struct stat st;
    ck_assert_int_eq(stat(memo, &st), 0);
    ck_assert_int_eq(truncate(memo, st.st_size + 64), 0);
}

static void damage_magic(const char *memo)
{
    int fd = open(memo, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "XX", 2, 0), 2);
    close(fd);
}

static void damage_header_field(const char *memo)
{
    /* Past the magic: the version or geometry, covered by the header checksum. */
    int fd = open(memo, O_RDWR);
    unsigned char c;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, 12), 1);
    c ^= 0x10;
    ck_assert_int_eq(pwrite(fd, &c, 1, 12), 1);
    close(fd);
}

static void damage_random(const char *memo)
{
    struct stat st;
    ck_assert_int_eq(stat(memo, &st), 0);
    unsigned char *b = malloc((size_t)st.st_size);
    uint32_t x = 12345;
    for (off_t i = 0; i < st.st_size; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (unsigned char)(x >> 16);
    }
    write_file(memo, b, (size_t)st.st_size);
    free(b);
}

static void damage_empty(const char *memo)
{
    ck_assert_int_eq(truncate(memo, 0), 0);
}

START_TEST(corrupt_memo_ignored)
{
    const char *f = join(pool, "corrupt");

    check_damaged(f, damage_truncate);
    check_damaged(f, damage_extend);
    check_damaged(f, damage_magic);
    check_damaged(f, damage_header_field);
    check_damaged(f, damage_random);
    check_damaged(f, damage_empty);

    /* Random bytes of any size where no memo was: correct hashes. */
    unsigned char junk[1000];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 31 + 7);
    write_file(join(tmpdir, "junk"), junk, sizeof(junk));
    wc_memo *m = wc_memo_open(join(tmpdir, "junk"));
    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    wc_memo_close(m);
}
END_TEST

START_TEST(unusable_memo_still_hashes)
{
    const char *f = join(pool, "old");
    wc_memo *ms[4];

    ck_assert_int_eq(mkdir(join(tmpdir, "adir"), 0700), 0);
    ms[0] = wc_memo_open(join(tmpdir, "adir"));
    ms[1] = wc_memo_open(join(tmpdir, "no/such/dir/memo"));
    ms[2] = wc_memo_open(NULL);
    ms[3] = NULL;
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(memo_reads(ms[i], f, NULL), 1);
        ck_assert_uint_eq(memo_reads(ms[i], f, NULL), 1);
        wc_memo_close(ms[i]);
    }
}
END_TEST

START_TEST(errors)
{
    wc_memo *m = wc_memo_open(join(tmpdir, "memo"));
    wc_hash h;

    ck_assert_int_eq(wc_memo_hash(m, join(tmpdir, "missing"), &h, NULL, NULL), -ENOENT);
    ck_assert_int_eq(wc_memo_hash(m, tmpdir, &h, NULL, NULL), -EISDIR);
    ck_assert_int_eq(mkfifo(join(tmpdir, "fifo"), 0600), 0);
    ck_assert_int_eq(wc_memo_hash(m, join(tmpdir, "fifo"), &h, NULL, NULL), -EINVAL);
    ck_assert_int_eq(wc_memo_hash(m, "/dev/null", &h, NULL, NULL), -EINVAL);
    ck_assert_int_eq(wc_memo_hash(m, "/dev/zero", &h, NULL, NULL), -EINVAL);
    wc_memo_close(m);
}
END_TEST

/* Offset of the first record in use: the memo has a 4 KiB header, then 64-byte records
 * (zeros while unused). */
static off_t find_record(const char *memo)
{
    char *buf;
    size_t len;
    FILE *f = fopen(memo, "rb");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    len = (size_t)ftell(f);
    rewind(f);
    buf = malloc(len);
    ck_assert_uint_eq(fread(buf, 1, len, f), len);
    fclose(f);
    for (size_t off = 4096; off + 64 <= len; off++) {
        if (buf[off]) {
            free(buf);
            return (off_t)(off & ~(size_t)63);
        }
    }
    free(buf);
    ck_abort_msg("no record in memo");
    return -1;
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    unsigned char c;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, off), 1);
    c ^= 0x01;
    ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

START_TEST(flipped_record_not_trusted)
{
    const char *memo = join(tmpdir, "memo");
    const char *f = join(pool, "flip");

    /* Every byte of the record, in turn: the hash, the key, the flags, the checksum. */
    for (int i = 0; i < 64; i += 3) {
        unlink(memo);
        wc_memo *m = wc_memo_open_slots(memo, 64);
        ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
        ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
        flip_byte(memo, find_record(memo) + i);
        ck_assert_msg(memo_reads(m, f, NULL) == 1, "flipped byte %d trusted", i);
        wc_memo_close(m);
    }
}
END_TEST

struct flag_case {
    const char *text;
    unsigned flags;
};

static const struct flag_case flag_cases[] = {
    {"int x;\n", 0},
    {"const char *d = __DATE__;\n", WC_CONTENT_DATE},
    {"const char *d = __TIMESTAMP__;\n", WC_CONTENT_TIMESTAMP},
    {"const char *t = __TIME__;\n", WC_CONTENT_TIME},
    {"__DATE__ __TIME__", WC_CONTENT_DATE | WC_CONTENT_TIME},
    {"__TIME__", WC_CONTENT_TIME},
    {"x(__TIME__)", WC_CONTENT_TIME},
    {"\"__TIME__\"", WC_CONTENT_TIME},
    {"MY__TIME__ = 1;", 0},
    {"__TIME__X = 1;", 0},
    {"___TIME__", 0},
    {"__TIME___", 0},
    {"__TIME", 0},
    {"__DATE_", 0},
    {"int MY__DATE__; int __TIMESTAMPS__;", 0},
    {"__TIMESTAMP__ only", WC_CONTENT_TIMESTAMP},
};

START_TEST(flags_detected)
{
    wc_memo *m = wc_memo_open(NULL);
    const char *f = join(tmpdir, "src.c");

    for (size_t i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
        unsigned flags = 99;
        write_str(f, flag_cases[i].text);
        memo_reads(m, f, &flags);
        ck_assert_msg(flags == flag_cases[i].flags, "\"%s\": flags %u, want %u", flag_cases[i].text,
                      flags, flag_cases[i].flags);
    }
    wc_memo_close(m);
}
END_TEST

/* The same scanner on bytes in memory (a command's arguments), "-DSTAMP=__TIME__" included. */
START_TEST(flags_of_strings)
{
    for (size_t i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
        const char *t = flag_cases[i].text;
        ck_assert_msg(wc_content_flags(t, strlen(t)) == flag_cases[i].flags, "\"%s\"", t);
    }
    ck_assert_uint_eq(wc_content_flags("-DSTAMP=__TIME__", 16), WC_CONTENT_TIME);
    ck_assert_uint_eq(wc_content_flags("-DSTAMP=__TIME__", 15), 0);
    ck_assert_uint_eq(wc_content_flags("-DS=__TIMESTAMP__", 17), WC_CONTENT_TIMESTAMP);
}
END_TEST

/* A name placed across the 64 KiB read boundary, with what is around it. */
static unsigned flags_at(size_t total, size_t pos, const char *text)
{
    char *buf = malloc(total);
    unsigned flags = 99;
    const char *f = join(tmpdir, "big.c");

    memset(buf, ' ', total);
    memcpy(buf + pos, text, strlen(text));
    write_file(f, buf, total);
    free(buf);
    wc_memo *m = wc_memo_open(NULL);
    memo_reads(m, f, &flags);
    wc_memo_close(m);
    return flags;
}

START_TEST(flags_across_chunks)
{
    const size_t k64 = 64 * 1024, total = 200 * 1024;

    /* Split at every point of the name, including at its edges. */
    for (size_t cut = 0; cut <= 14; cut++) {
        ck_assert_uint_eq(flags_at(total, k64 - cut, "__TIME__"), WC_CONTENT_TIME);
        ck_assert_uint_eq(flags_at(total, k64 - cut, "__TIMESTAMP__"), WC_CONTENT_TIMESTAMP);
        ck_assert_uint_eq(flags_at(total, k64 - cut, "x__TIME__"), 0);
        ck_assert_uint_eq(flags_at(total, k64 - cut, "__TIME__x"), 0);
    }
    /* At the very end and the very start of a file. */
    ck_assert_uint_eq(flags_at(total, total - 8, "__TIME__"), WC_CONTENT_TIME);
    ck_assert_uint_eq(flags_at(total, total - 9, "x__TIME__"), 0);
    ck_assert_uint_eq(flags_at(total, 0, "__DATE__"), WC_CONTENT_DATE);
    /* A file above the mmap threshold, seen in one piece. */
    ck_assert_uint_eq(flags_at(3 * 1024 * 1024, 2 * 1024 * 1024 + 5, "__DATE__"), WC_CONTENT_DATE);
    ck_assert_uint_eq(flags_at(3 * 1024 * 1024, 3 * 1024 * 1024 - 8, "__TIME__"), WC_CONTENT_TIME);
    ck_assert_uint_eq(flags_at(3 * 1024 * 1024, 3 * 1024 * 1024 - 9, "__TIME__x"), 0);
}
END_TEST

static void child_hash_all(const char *memo, int seed, wc_hash *want)
{
    wc_memo *m = wc_memo_open_slots(memo, 64);
    for (int pass = 0; pass < 4; pass++) {
        for (int k = 0; k < NCONC; k++) {
            int i = (k * 7 + seed * 31 + pass * 13) % NCONC;
            char name[32];
            wc_hash h;
            snprintf(name, sizeof(name), "c%03d.h", i);
            if (wc_memo_hash(m, join(pool, name), &h, NULL, NULL) != 0 ||
                !wc_hash_equal(&h, &want[i]))
                _exit(1);
        }
    }
    wc_memo_close(m);
    _exit(0);
}

START_TEST(concurrent_writers)
{
    char memo[4096];
    wc_hash want[NCONC];
    char buf[256];
    pid_t pids[8];

    snprintf(memo, sizeof(memo), "%s/memo", tmpdir);
    for (int i = 0; i < NCONC; i++) {
        conc_content(i, buf, sizeof(buf));
        wc_hash_buffer(buf, strlen(buf), &want[i]);
    }
    /* A 64-slot memo for 300 files: every store collides with another writer's. */
    for (int p = 0; p < 8; p++) {
        pids[p] = fork();
        ck_assert_int_ge(pids[p], 0);
        if (pids[p] == 0)
            child_hash_all(memo, p, want);
    }
    for (int p = 0; p < 8; p++) {
        int status;
        ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d saw a bad hash", p);
    }

    /* Every record left behind is right, and there are many. Each file is looked up in a
     * fresh copy of what the writers left, so that the misses of this check (which store
     * records too) do not evict what is still to be checked. */
    char *snap;
    size_t snap_len;
    FILE *f = fopen(memo, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    snap_len = (size_t)ftell(f);
    rewind(f);
    snap = malloc(snap_len);
    ck_assert_uint_eq(fread(snap, 1, snap_len, f), snap_len);
    fclose(f);
    ck_assert_uint_eq(snap_len, 4096 + 64 * 64);

    unsigned long hits = 0;
    for (int i = 0; i < NCONC; i++) {
        char name[32];
        wc_hash h;
        unsigned flags;
        write_file(memo, snap, snap_len);
        wc_memo *m = wc_memo_open_slots(memo, 64);
        snprintf(name, sizeof(name), "c%03d.h", i);
        unsigned long before = wc_hash_file_reads;
        ck_assert_int_eq(wc_memo_hash(m, join(pool, name), &h, NULL, &flags), 0);
        hits += wc_hash_file_reads == before;
        ck_assert(wc_hash_equal(&h, &want[i]));
        ck_assert_uint_eq(flags, i % 5 == 0 ? WC_CONTENT_DATE : 0);
        wc_memo_close(m);
    }
    free(snap);
    /* 64 slots, all filled by 300 files; a slot may hold a duplicate of a racing writer. */
    ck_assert_uint_ge(hits, 32);
    ck_assert_uint_le(hits, 64);
}
END_TEST

START_TEST(slot_count_mismatch_rebuilds)
{
    const char *memo = join(tmpdir, "memo");
    const char *f = join(pool, "persist");
    struct stat st;

    wc_memo *m = wc_memo_open_slots(memo, 64);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
    wc_memo_close(m);
    m = wc_memo_open(memo);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 1);
    ck_assert_uint_eq(memo_reads(m, f, NULL), 0);
    wc_memo_close(m);
    ck_assert_int_eq(stat(memo, &st), 0);
    ck_assert_int_eq(st.st_size, 4096 + (off_t)WC_MEMO_SLOTS * 64);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memo");
    TCase *tc = tcase_create("memo");
    tcase_add_unchecked_fixture(tc, pool_setup, pool_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, hit_avoids_read);
    tcase_add_test(tc, mtime_change_invalidates);
    tcase_add_test(tc, content_change_invalidates);
    tcase_add_test(tc, rename_invalidates);
    tcase_add_test(tc, racy_not_memoized);
    tcase_add_test(tc, corrupt_memo_ignored);
    tcase_add_test(tc, unusable_memo_still_hashes);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, flipped_record_not_trusted);
    tcase_add_test(tc, flags_detected);
    tcase_add_test(tc, flags_of_strings);
    tcase_add_test(tc, flags_across_chunks);
    tcase_add_test(tc, concurrent_writers);
    tcase_add_test(tc, slot_count_mismatch_rebuilds);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
