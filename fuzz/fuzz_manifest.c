/* libFuzzer target: a stored manifest, compressed (hashing/manifest_store.c) or text
 * (hashing/manifest_text.c). A manifest comes from a store someone else may control. One that
 * decodes must format back to text that parses to the same manifest (format -> parse ->
 * format is stable), and its stored form must decode to it too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashing/manifest.h"

/* m's text, and abort() unless decode(buf) formats to the same text. */
static void expect_same(const wc_manifest *m, const char *buf, size_t len, int text)
{
    wc_manifest again;
    size_t l1, l2;
    char *t1 = wc_manifest_format(m, &l1), *t2;
    int rc = text ? wc_manifest_parse(buf, len, &again) : wc_manifest_decode(buf, len, &again);
    if (!t1)
        goto out;
    if (rc != 0)
        abort();
    t2 = wc_manifest_format(&again, &l2);
    if (!t2 || l1 != l2 || memcmp(t1, t2, l1) != 0)
        abort();
    free(t2);
out:
    free(t1);
    wc_manifest_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wc_manifest m;
    size_t len;
    char *buf;

    if (wc_manifest_decode((const char *)data, size, &m) != 0) {
        wc_manifest_free(&m);
        return 0;
    }
    if ((buf = wc_manifest_format(&m, &len))) {
        expect_same(&m, buf, len, 1);
        free(buf);
    }
    if ((buf = wc_manifest_encode(&m, &len))) {
        expect_same(&m, buf, len, 0);
        free(buf);
    }
    wc_manifest_free(&m);
    return 0;
}
