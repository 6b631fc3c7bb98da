/* libFuzzer target: the manifest parser (hashing/manifest_text.c). A manifest comes from a store
 * someone else may control. One that parses must format back to text that parses to the
 * same manifest (format -> parse -> format is stable). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashing/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wc_manifest m, again;
    size_t len, len2;
    char *text, *text2;

    if (wc_manifest_parse((const char *)data, size, &m) != 0) {
        wc_manifest_free(&m);
        return 0;
    }
    text = wc_manifest_format(&m, &len);
    if (text) {
        if (wc_manifest_parse(text, len, &again) != 0)
            abort();
        text2 = wc_manifest_format(&again, &len2);
        if (!text2 || len != len2 || memcmp(text, text2, len) != 0)
            abort();
        free(text2);
        wc_manifest_free(&again);
        free(text);
    }
    wc_manifest_free(&m);
    return 0;
}
