/* XXH3-128 of buffers, files and streamed signature material. */
#ifndef WC_HASH_H
#define WC_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <xxhash.h>

typedef struct wc_hash {
    uint64_t lo, hi;
} wc_hash;

#define WC_HASH_HEX_LEN 32 /* hex digits, plus one for the NUL */

void wc_hash_buffer(const void *data, size_t len, wc_hash *out);
/* Hash everything readable from fd (mmap for large regular files, else reads). */
int wc_hash_fd(int fd, wc_hash *out);
/* Open, fstat into st (may be NULL), hash. 0 or -errno. Counts in wc_hash_file_reads. */
int wc_hash_path(const char *path, wc_hash *out, struct stat *st);
void wc_hash_to_hex(const wc_hash *h, char hex[WC_HASH_HEX_LEN + 1]);
int wc_hash_from_hex(const char *hex, wc_hash *out); /* 0 or -1 */
int wc_hash_equal(const wc_hash *a, const wc_hash *b);

/* Number of files opened and read by wc_hash_path (tests check that a memo hit reads none). */
extern unsigned long wc_hash_file_reads;

/* A streaming signature builder. Every item is length-prefixed, so ("ab","c") and
 * ("a","bc") give different signatures. */
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
