/* The stored form of a manifest: its text (manifest_text.c, the logical format that the
 * parser, --explain and the fuzz target work on) compressed into one zstd frame. Text is
 * read too, so that manifests written before compression keep their hits. */
#include "hashing/manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* ccache's default: a 22 KB manifest in ~0.1 ms, a fifth of its size. */
#define MF_ZSTD_LEVEL 3

static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

char *wc_manifest_encode(const wc_manifest *m, size_t *len)
{
    size_t tlen;
    char *text = wc_manifest_format(m, &tlen);
    if (!text)
        return NULL;
    size_t cap = ZSTD_compressBound(tlen);
    char *out = malloc(cap);
    size_t n = out ? ZSTD_compress(out, cap, text, tlen, MF_ZSTD_LEVEL) : 0;
    free(text);
    if (!out || ZSTD_isError(n)) {
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}

/* The text of one whole zstd frame, bounded before anything is allocated: the frame must
 * say its size (we always write it), at most WC_MANIFEST_MAX_LEN, fill buf exactly, and
 * decompress to exactly that size. malloc'd, or NULL with *err. */
static char *inflate(const char *buf, size_t len, size_t *out_len, int *err)
{
    unsigned long long size = ZSTD_getFrameContentSize(buf, len);
    size_t whole = ZSTD_findFrameCompressedSize(buf, len);
    *err = -EINVAL;
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
        size > WC_MANIFEST_MAX_LEN || ZSTD_isError(whole) || whole != len)
        return NULL;
    char *text = malloc(size ? (size_t)size : 1);
    if (!text) {
        *err = -ENOMEM;
        return NULL;
    }
    size_t n = ZSTD_decompress(text, (size_t)size, buf, len);
    if (ZSTD_isError(n) || n != size) {
        free(text);
        return NULL;
    }
    *out_len = n;
    return text;
}

int wc_manifest_decode(const char *buf, size_t len, wc_manifest *m)
{
    memset(m, 0, sizeof *m);
    if (len < sizeof zstd_magic || memcmp(buf, zstd_magic, sizeof zstd_magic) != 0)
        return wc_manifest_parse(buf, len, m);
    int err;
    size_t tlen = 0;
    char *text = inflate(buf, len, &tlen, &err);
    if (!text)
        return err;
    err = wc_manifest_parse(text, tlen, m);
    free(text);
    return err;
}
