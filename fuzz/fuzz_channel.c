/* libFuzzer target: the observation channel parser (preload/channel.c). Whatever a process of
 * the real command writes there -- a torn record, garbage from a program that scribbled on
 * the descriptor -- must give a result, never a crash; a channel that is not whole must not
 * claim to be complete. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload/channel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wc_observation obs;

    if (wc_channel_parse((const char *)data, size, &obs) != 0)
        return 0;
    for (size_t i = 0; i < obs.n; i++)
        if (!obs.paths[i].path || obs.paths[i].path[0] != '/')
            abort();
    /* A hello without a bye never makes a complete observation. */
    if (obs.complete && obs.processes == 0 && obs.n > 0)
        abort();
    wc_observation_free(&obs);
    return 0;
}
