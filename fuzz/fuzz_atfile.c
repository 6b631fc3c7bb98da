/* libFuzzer target: response-file text (hashing/atfile.c) and recorded-stream tokens
 * (hashing/replay.c). Invariants: every split argument quotes and splits back to itself;
 * marking then unmarking with the same base dir gives the input back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashing/atfile.h"
#include "hashing/replay.h"

static void check_quote(const char *arg)
{
    char *q = wc_atfile_quote(arg), **back = NULL;
    size_t n = 0;
    if (!q)
        return;
    if (wc_atfile_split(q, strlen(q), 4, &back, &n) == 0) {
        if (n != 1 || strcmp(back[0], arg) != 0)
            abort();
        free(back[0]);
        free(back);
    }
    free(q);
}

static void check_replay(const uint8_t *data, size_t size)
{
    char *m = NULL, *u = NULL;
    size_t mn = 0, un = 0;
    if (wc_replay_mark((const char *)data, size, "/w/a", &m, &mn) < 0)
        return;
    if (wc_replay_unmark(m, mn, "/w/a", &u, &un) != 0 || un != size || memcmp(u, data, size))
        abort();
    free(m);
    free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char **argv = NULL;
    size_t n = 0;
    if (wc_atfile_split((const char *)data, size, 1000, &argv, &n) == 0) {
        if (argv[n] != NULL)
            abort();
        for (size_t i = 0; i < n; i++) {
            check_quote(argv[i]);
            free(argv[i]);
        }
        free(argv);
    }
    check_replay(data, size);
    return 0;
}
