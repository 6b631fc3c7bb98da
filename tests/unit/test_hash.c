/* XXH3-128 of buffers, files and signature items. Expected values come from `xxhsum -H2`
 * (xxHash 0.8.1), which prints the canonical big-endian form. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashing/hash.h"

static char tmpdir[] = "/tmp/wc_test_hash.XXXXXX";

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/wc_test_hash.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_path(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
    return buf;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static unsigned char *pattern(size_t len, unsigned seed)
{
    unsigned char *p = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)(x >> 16);
    }
    return p;
}

static void hex_of_buffer(const void *data, size_t len, char hex[WC_HASH_HEX_LEN + 1])
{
    wc_hash h;
    wc_hash_buffer(data, len, &h);
    wc_hash_to_hex(&h, hex);
}

START_TEST(known_vectors)
{
    static const struct {
        const char *in;
        const char *hex;
    } v[] = {
        {"", "99aa06d3014798d86001c324468d497f"},
        {"a", "a96faf705af16834e6c632b61e964e1f"},
        {"abc", "06b05ab6733a618578af5f94892f3950"},
        {"The quick brown fox jumps over the lazy dog", "ddd650205ca3e7fa24a1cc2e3a8a7651"},
    };
    char hex[WC_HASH_HEX_LEN + 1];

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        hex_of_buffer(v[i].in, strlen(v[i].in), hex);
        ck_assert_str_eq(hex, v[i].hex);
    }
    /* 300 bytes i % 251: longer than XXH3's 240-byte short-input path. */
    unsigned char b[300];
    for (int i = 0; i < 300; i++)
        b[i] = (unsigned char)(i % 251);
    hex_of_buffer(b, sizeof(b), hex);
    ck_assert_str_eq(hex, "948c8677fbb606fcfdda6967cf021dbc");
}
END_TEST

START_TEST(hex_round_trip)
{
    wc_hash h, back;
    char hex[WC_HASH_HEX_LEN + 1];

    h.lo = 0x0123456789abcdefULL;
    h.hi = 0xfedcba9876543210ULL;
    wc_hash_to_hex(&h, hex);
    /* Canonical form is big-endian, high half first. */
    ck_assert_str_eq(hex, "fedcba98765432100123456789abcdef");
    ck_assert_int_eq(wc_hash_from_hex(hex, &back), 0);
    ck_assert(wc_hash_equal(&h, &back));

    ck_assert_int_eq(wc_hash_from_hex("FEDCBA98765432100123456789ABCDEF", &back), 0);
    ck_assert(wc_hash_equal(&h, &back));
    ck_assert_int_eq(wc_hash_from_hex("fedcba98765432100123456789abcdef some/path", &back), 0);
    ck_assert(wc_hash_equal(&h, &back));

    ck_assert_int_eq(wc_hash_from_hex("", &back), -1);
    ck_assert_int_eq(wc_hash_from_hex("fedcba98765432100123456789abcde", &back), -1);
    ck_assert_int_eq(wc_hash_from_hex("fedcba98765432100123456789abcdef0", &back), -1);
    ck_assert_int_eq(wc_hash_from_hex("fedcba98765432100123456789abcdeg", &back), -1);
    ck_assert_int_eq(wc_hash_from_hex("xedcba98765432100123456789abcdef", &back), -1);

    wc_hash other = h;
    other.lo ^= 1;
    ck_assert(!wc_hash_equal(&h, &other));
    other = h;
    other.hi ^= 1ULL << 63;
    ck_assert(!wc_hash_equal(&h, &other));
}
END_TEST

static void check_file_matches_buffer(size_t len, unsigned seed)
{
    unsigned char *data = pattern(len, seed);
    const char *p = tmp_path("f");
    wc_hash hf, hb;
    struct stat st;

    write_file(p, data, len);
    unsigned long before = wc_hash_file_reads;
    ck_assert_int_eq(wc_hash_path(p, &hf, &st), 0);
    ck_assert_uint_eq(wc_hash_file_reads, before + 1);
    ck_assert_int_eq((long long)st.st_size, (long long)len);
    ck_assert(S_ISREG(st.st_mode));
    wc_hash_buffer(data, len, &hb);
    ck_assert_msg(wc_hash_equal(&hf, &hb), "file and buffer differ for %zu bytes", len);

    int fd = open(p, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wc_hash_fd(fd, &hf), 0);
    close(fd);
    ck_assert(wc_hash_equal(&hf, &hb));
    free(data);
}

START_TEST(file_matches_buffer_small)
{
    check_file_matches_buffer(0, 1);
    check_file_matches_buffer(3, 2);
    check_file_matches_buffer(300, 3);
    /* Crosses the 64 KiB read chunk several times, not a multiple of it. */
    check_file_matches_buffer(200 * 1024 + 17, 4);
}
END_TEST

START_TEST(file_matches_buffer_large)
{
    /* Large: many read chunks. */
    check_file_matches_buffer(3 * 1024 * 1024 + 5, 5);
    check_file_matches_buffer(1024 * 1024, 6);
}
END_TEST

START_TEST(file_known_vector)
{
    unsigned char b[300];
    wc_hash h;
    char hex[WC_HASH_HEX_LEN + 1];

    for (int i = 0; i < 300; i++)
        b[i] = (unsigned char)(i % 251);
    write_file(tmp_path("v"), b, sizeof(b));
    ck_assert_int_eq(wc_hash_path(tmp_path("v"), &h, NULL), 0);
    wc_hash_to_hex(&h, hex);
    ck_assert_str_eq(hex, "948c8677fbb606fcfdda6967cf021dbc");
}
END_TEST

START_TEST(different_content_differs)
{
    unsigned char *a = pattern(5000, 7);
    wc_hash h1, h2;

    write_file(tmp_path("a"), a, 5000);
    ck_assert_int_eq(wc_hash_path(tmp_path("a"), &h1, NULL), 0);
    a[4321] ^= 0x40;
    write_file(tmp_path("a"), a, 5000);
    ck_assert_int_eq(wc_hash_path(tmp_path("a"), &h2, NULL), 0);
    ck_assert(!wc_hash_equal(&h1, &h2));
    free(a);
}
END_TEST

START_TEST(path_errors)
{
    wc_hash h;
    unsigned long before = wc_hash_file_reads;

    ck_assert_int_eq(wc_hash_path(tmp_path("missing"), &h, NULL), -ENOENT);
    ck_assert_int_eq(wc_hash_path(tmpdir, &h, NULL), -EISDIR);
    /* A fifo without a writer would block a plain open: it must be refused at once. */
    ck_assert_int_eq(mkfifo(tmp_path("fifo"), 0600), 0);
    ck_assert_int_eq(wc_hash_path(tmp_path("fifo"), &h, NULL), -EINVAL);
    ck_assert_uint_eq(wc_hash_file_reads, before);

    int fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wc_hash_fd(fd, &h), -EISDIR);
    close(fd);
}
END_TEST

START_TEST(fd_pipe)
{
    int p[2];
    unsigned char *data = pattern(30000, 9);
    wc_hash hp, hb;

    /* Less than a pipe's capacity, so one write then close needs no second process. */
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], data, 30000), 30000);
    close(p[1]);
    ck_assert_int_eq(wc_hash_fd(p[0], &hp), 0);
    close(p[0]);
    wc_hash_buffer(data, 30000, &hb);
    ck_assert(wc_hash_equal(&hp, &hb));
    free(data);
}
END_TEST

struct collect {
    unsigned char *buf;
    size_t len, cap;
    int calls;
};

static void collect_scan(void *ctx, const unsigned char *data, size_t len)
{
    struct collect *c = ctx;
    ck_assert_uint_le(c->len + len, c->cap);
    memcpy(c->buf + c->len, data, len);
    c->len += len;
    c->calls++;
}

static void check_scan_sees_all(size_t len)
{
    unsigned char *data = pattern(len, 11);
    struct collect c = {.buf = malloc(len + 1), .cap = len};
    wc_hash h, hb;

    write_file(tmp_path("s"), data, len);
    int fd = open(tmp_path("s"), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(wc_hash_fd_scan(fd, &h, collect_scan, &c), 0);
    close(fd);
    ck_assert_uint_eq(c.len, len);
    ck_assert_int_eq(memcmp(c.buf, data, len), 0);
    wc_hash_buffer(data, len, &hb);
    ck_assert(wc_hash_equal(&h, &hb));
    free(c.buf);
    free(data);
}

START_TEST(scan_sees_every_byte)
{
    check_scan_sees_all(100);
    check_scan_sees_all(300 * 1024 + 3);
    check_scan_sees_all(2 * 1024 * 1024 + 3);
}
END_TEST

static void sig_of_strs(const char **items, size_t n, wc_hash *out)
{
    wc_sig s;
    wc_sig_init(&s);
    for (size_t i = 0; i < n; i++)
        wc_sig_add_str(&s, items[i]);
    wc_sig_final(&s, out);
}

START_TEST(sig_ambiguity)
{
    const char *ab_c[] = {"ab", "c"};
    const char *a_bc[] = {"a", "bc"};
    const char *abc[] = {"abc"};
    const char *null1[] = {NULL};
    const char *empty1[] = {""};
    const char *none[] = {NULL};
    wc_hash h1, h2, h3, h4, h5, h6;

    sig_of_strs(ab_c, 2, &h1);
    sig_of_strs(a_bc, 2, &h2);
    sig_of_strs(abc, 1, &h3);
    ck_assert(!wc_hash_equal(&h1, &h2));
    ck_assert(!wc_hash_equal(&h1, &h3));
    ck_assert(!wc_hash_equal(&h2, &h3));

    sig_of_strs(null1, 1, &h4);
    sig_of_strs(empty1, 1, &h5);
    sig_of_strs(none, 0, &h6);
    ck_assert(!wc_hash_equal(&h4, &h5));
    ck_assert(!wc_hash_equal(&h4, &h6));
    ck_assert(!wc_hash_equal(&h5, &h6));

    /* Deterministic: the same items give the same signature. */
    sig_of_strs(ab_c, 2, &h2);
    ck_assert(wc_hash_equal(&h1, &h2));

    /* Raw bytes are length-prefixed too. */
    wc_sig s;
    wc_sig_init(&s);
    wc_sig_add(&s, "ab", 2);
    wc_sig_add(&s, "c", 1);
    wc_sig_final(&s, &h1);
    wc_sig_init(&s);
    wc_sig_add(&s, "a", 1);
    wc_sig_add(&s, "bc", 2);
    wc_sig_final(&s, &h2);
    ck_assert(!wc_hash_equal(&h1, &h2));

    /* One item that holds what a separator between two items would look like (here: the
     * bytes kind 'b' and a zero length) must still differ from the two items. */
    static const char forged[] = "a"
                                 "b\0\0\0\0\0\0\0\0"
                                 "b";
    wc_sig_init(&s);
    wc_sig_add(&s, forged, sizeof(forged) - 1);
    wc_sig_final(&s, &h1);
    wc_sig_init(&s);
    wc_sig_add(&s, "a", 1);
    wc_sig_add(&s, "b", 1);
    wc_sig_final(&s, &h2);
    ck_assert(!wc_hash_equal(&h1, &h2));
}
END_TEST

START_TEST(sig_kinds_and_values)
{
    wc_sig s;
    wc_hash a, b, c, d;
    wc_hash x = {.lo = 1, .hi = 2}, y = {.lo = 2, .hi = 1};

    wc_sig_init(&s);
    wc_sig_add_u64(&s, 1);
    wc_sig_final(&s, &a);
    wc_sig_init(&s);
    wc_sig_add_u64(&s, 2);
    wc_sig_final(&s, &b);
    ck_assert(!wc_hash_equal(&a, &b));

    /* A u64 is not the same item as its eight bytes. */
    unsigned char le1[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    wc_sig_init(&s);
    wc_sig_add(&s, le1, 8);
    wc_sig_final(&s, &c);
    ck_assert(!wc_hash_equal(&a, &c));

    wc_sig_init(&s);
    wc_sig_add_hash(&s, &x);
    wc_sig_final(&s, &c);
    wc_sig_init(&s);
    wc_sig_add_hash(&s, &y);
    wc_sig_final(&s, &d);
    ck_assert(!wc_hash_equal(&c, &d));

    /* Order matters. */
    wc_sig_init(&s);
    wc_sig_add_u64(&s, 1);
    wc_sig_add_u64(&s, 2);
    wc_sig_final(&s, &a);
    wc_sig_init(&s);
    wc_sig_add_u64(&s, 2);
    wc_sig_add_u64(&s, 1);
    wc_sig_final(&s, &b);
    ck_assert(!wc_hash_equal(&a, &b));

    /* With no items a signature is XXH3-128 of nothing; with items, it is not the plain
     * hash of their bytes (the framing is hashed too). */
    wc_sig_init(&s);
    wc_sig_final(&s, &a);
    wc_hash_buffer("", 0, &b);
    ck_assert(wc_hash_equal(&a, &b));
    wc_sig_init(&s);
    wc_sig_add(&s, "abc", 3);
    wc_sig_final(&s, &a);
    wc_hash_buffer("abc", 3, &b);
    ck_assert(!wc_hash_equal(&a, &b));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("hash");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, known_vectors);
    tcase_add_test(tc, hex_round_trip);
    tcase_add_test(tc, file_matches_buffer_small);
    tcase_add_test(tc, file_matches_buffer_large);
    tcase_add_test(tc, file_known_vector);
    tcase_add_test(tc, different_content_differs);
    tcase_add_test(tc, path_errors);
    tcase_add_test(tc, fd_pipe);
    tcase_add_test(tc, scan_sees_every_byte);
    tcase_add_test(tc, sig_ambiguity);
    tcase_add_test(tc, sig_kinds_and_values);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
