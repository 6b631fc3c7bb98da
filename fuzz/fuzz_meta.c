/* libFuzzer target: the entry metadata parser (store/entry.c), whose input comes from a store
 * someone else may control. A text that parses must survive format -> parse unchanged, and
 * every output path it accepts must be safe to restore (no "..", not empty). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/entry.h"

static void check_paths(const struct wc_entry_meta *m)
{
    for (size_t i = 0; i < m->n_outputs; i++) {
        const char *p = m->outputs[i].path;
        if (!p[0] || strstr(p, "/../") || !strncmp(p, "../", 3) || !strcmp(p, "..") ||
            (strlen(p) >= 3 && !strcmp(p + strlen(p) - 3, "/..")))
            abort();
    }
}

static void check_roundtrip(const struct wc_entry_meta *m)
{
    struct wc_entry_meta again;
    size_t len, len2;
    char *text = wc_meta_format(m, &len), *text2;

    if (!text)
        return;
    if (wc_meta_parse(text, len, &again) != 0)
        abort();
    text2 = wc_meta_format(&again, &len2);
    if (!text2 || len != len2 || memcmp(text, text2, len) != 0)
        abort();
    free(text2);
    wc_meta_free(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wc_entry_meta m;

    if (wc_meta_parse((const char *)data, size, &m) != 0)
        return 0;
    check_paths(&m);
    check_roundtrip(&m);
    wc_meta_free(&m);
    return 0;
}
