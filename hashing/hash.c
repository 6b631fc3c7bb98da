/* XXH3-128 of buffers, files and streamed signature material. */
#include "hashing/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Files are always read, never mapped: a file truncated by someone else while mapped raises
 * SIGBUS, which would kill the runner and fail the build; XXH3 keeps up with a read loop. */
#define WC_HASH_CHUNK (64 * 1024)

unsigned long wc_hash_file_reads;

static void hash_from_xxh(XXH128_hash_t h, wc_hash *out)
{
    out->lo = h.low64;
    out->hi = h.high64;
}

void wc_hash_buffer(const void *data, size_t len, wc_hash *out)
{
    hash_from_xxh(XXH3_128bits(data, len), out);
}

static int hash_read(int fd, wc_hash *out, wc_hash_scan_fn scan, void *ctx)
{
    XXH3_state_t state;
    unsigned char buf[WC_HASH_CHUNK];

    XXH3_128bits_reset(&state);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        XXH3_128bits_update(&state, buf, (size_t)n);
        if (scan)
            scan(ctx, buf, (size_t)n);
    }
    hash_from_xxh(XXH3_128bits_digest(&state), out);
    return 0;
}

int wc_hash_fd_scan(int fd, wc_hash *out, wc_hash_scan_fn scan, void *ctx)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    return hash_read(fd, out, scan, ctx);
}

int wc_hash_fd(int fd, wc_hash *out)
{
    return wc_hash_fd_scan(fd, out, NULL, NULL);
}

int wc_hash_path(const char *path, wc_hash *out, struct stat *st)
{
    struct stat sb;
    int rc;

    /* O_NONBLOCK: opening a fifo must not wait for a writer; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb) < 0) {
        rc = -errno;
    } else if (S_ISDIR(sb.st_mode)) {
        rc = -EISDIR;
    } else if (!S_ISREG(sb.st_mode)) {
        rc = -EINVAL;
    } else {
        wc_hash_file_reads++;
        rc = wc_hash_fd(fd, out);
        if (rc == 0 && st)
            *st = sb;
    }
    close(fd);
    return rc;
}

void wc_hash_to_hex(const wc_hash *h, char hex[WC_HASH_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    XXH128_hash_t x = {.low64 = h->lo, .high64 = h->hi};
    XXH128_canonical_t c;

    XXH128_canonicalFromHash(&c, x);
    for (size_t i = 0; i < sizeof(c.digest); i++) {
        hex[2 * i] = digits[c.digest[i] >> 4];
        hex[2 * i + 1] = digits[c.digest[i] & 15];
    }
    hex[WC_HASH_HEX_LEN] = '\0';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int wc_hash_from_hex(const char *hex, wc_hash *out)
{
    XXH128_canonical_t c;

    for (size_t i = 0; i < sizeof(c.digest); i++) {
        int a = hex_digit(hex[2 * i]);
        if (a < 0)
            return -1;
        int b = hex_digit(hex[2 * i + 1]);
        if (b < 0)
            return -1;
        c.digest[i] = (unsigned char)(a << 4 | b);
    }
    if (hex_digit(hex[WC_HASH_HEX_LEN]) >= 0)
        return -1;
    hash_from_xxh(XXH128_hashFromCanonical(&c), out);
    return 0;
}

int wc_hash_equal(const wc_hash *a, const wc_hash *b)
{
    return a->lo == b->lo && a->hi == b->hi;
}

/* Signature items are encoded as a kind byte, then (for variable-length kinds) a 64-bit
 * little-endian length, then the bytes. The kind byte keeps a NULL string apart from "",
 * and a u64 apart from eight bytes; the length makes the item sequence unambiguous. Fixed
 * byte order keeps signatures equal across hosts sharing a remote cache. */
enum { SIG_BYTES = 'b', SIG_STR = 's', SIG_NULL = 'n', SIG_U64 = 'u', SIG_HASH = 'h' };

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void sig_item(wc_sig *s, int kind, const void *data, size_t len)
{
    unsigned char head[9];

    head[0] = (unsigned char)kind;
    put_le64(head + 1, len);
    XXH3_128bits_update(&s->state, head, sizeof(head));
    if (len)
        XXH3_128bits_update(&s->state, data, len);
}

void wc_sig_init(wc_sig *s)
{
    XXH3_128bits_reset(&s->state);
}

void wc_sig_add(wc_sig *s, const void *data, size_t len)
{
    sig_item(s, SIG_BYTES, data, len);
}

void wc_sig_add_str(wc_sig *s, const char *str)
{
    if (!str)
        sig_item(s, SIG_NULL, NULL, 0);
    else
        sig_item(s, SIG_STR, str, strlen(str));
}

void wc_sig_add_u64(wc_sig *s, uint64_t v)
{
    unsigned char b[8];

    put_le64(b, v);
    sig_item(s, SIG_U64, b, sizeof(b));
}

void wc_sig_add_hash(wc_sig *s, const wc_hash *h)
{
    unsigned char b[16];

    put_le64(b, h->lo);
    put_le64(b + 8, h->hi);
    sig_item(s, SIG_HASH, b, sizeof(b));
}

void wc_sig_final(wc_sig *s, wc_hash *out)
{
    hash_from_xxh(XXH3_128bits_digest(&s->state), out);
}
