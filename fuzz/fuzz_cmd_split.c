/* libFuzzer target: WAFCACHE_CMD splitting and placeholder expansion (store/cmd.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1), **argv = NULL, **exp = NULL;
    int n;

    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    n = wc_cmd_split(line, &argv);
    if (n >= 0) {
        if (!argv || argv[n] != NULL)
            abort();
        for (int i = 0; i < n; i++)
            if (!argv[i] || strlen(argv[i]) > size)
                abort();
        if (wc_cmd_expand(argv, "/tmp/src %{TGT}", "s3://b/k", &exp) == 0)
            wc_cmd_free(exp);
    }
    wc_cmd_free(argv);
    free(line);
    return 0;
}
