/* XXH3-128 of buffers, files and streamed signature material. */
#ifndef WC_HASH_H
#define WC_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
/* Debian's xxhash.h compiled in (XXH_INLINE_ALL, which also makes XXH3_state_t a complete
 * type, embeddable in wc_sig) rather than libxxhash.so linked: the runner starts for every
 * compile, and one shared library less to load is a measurable part of a hit. */
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

typedef struct wc_hash {
    uint64_t lo, hi;
} wc_hash;

#define WC_HASH_HEX_LEN 32 /* hex digits, plus one for the NUL */

void wc_hash_buffer(const void *data, size_t len, wc_hash *out);
/* Hash everything readable from fd (read in chunks; never mapped, see hash.c). */
int wc_hash_fd(int fd, wc_hash *out);
/* Open, fstat into st (may be NULL), hash. 0 or -errno. Counts in wc_hash_file_reads.
 * Only regular files: -EISDIR for a directory, -EINVAL for a device, fifo or socket (they
 * could block or never end). */
int wc_hash_path(const char *path, wc_hash *out, struct stat *st);
/* Lowercase hex of the canonical (big-endian) form: what `xxhsum -H2` prints. */
void wc_hash_to_hex(const wc_hash *h, char hex[WC_HASH_HEX_LEN + 1]);
/* 0 or -1. Takes exactly 32 hex digits (either case), followed by the end of the string or
 * by a character that is not a hex digit (so "<hex> <path>" lines parse in place). */
int wc_hash_from_hex(const char *hex, wc_hash *out);
int wc_hash_equal(const wc_hash *a, const wc_hash *b);

/* Number of files opened and read by wc_hash_path (tests check that a memo hit reads none). */
extern unsigned long wc_hash_file_reads;

/* Like wc_hash_fd, and calls scan (if not NULL) with every run of bytes hashed, in file
 * order, in chunks of at most 64 KiB. */
typedef void (*wc_hash_scan_fn)(void *ctx, const unsigned char *data, size_t len);
int wc_hash_fd_scan(int fd, wc_hash *out, wc_hash_scan_fn scan, void *ctx);

/* A streaming signature builder. Every item is length-prefixed, so ("ab","c") and
 * ("a","bc") give different signatures. Items of different kinds (bytes, string, NULL,
 * u64, hash) never collide either. XXH3_state_t wants 64-byte alignment: embed a wc_sig
 * in a struct or on the stack, or allocate it with aligned_alloc(64, ...). */
typedef struct wc_sig {
    XXH3_state_t state;
} wc_sig;

void wc_sig_init(wc_sig *s);
void wc_sig_add(wc_sig *s, const void *data, size_t len);
void wc_sig_add_str(wc_sig *s, const char *str); /* NULL is distinct from "" */
void wc_sig_add_u64(wc_sig *s, uint64_t v);
void wc_sig_add_hash(wc_sig *s, const wc_hash *h);
void wc_sig_final(wc_sig *s, wc_hash *out);

#endif
