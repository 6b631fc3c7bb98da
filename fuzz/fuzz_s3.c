/* libFuzzer target: what store/s3.c parses of a server's answers and of WAFCACHE -- the <Code>
 * of an error document, the <Key>s of a ListObjectsV2 page (entities decoded in place), and
 * the s3://bucket/prefix URL -- plus wc_redact_url, which every message about a URL goes
 * through. The parsers are static helpers of the backend: the file is included whole, so
 * that the fuzzer exercises exactly the code the store runs. */
#include "store/s3.c"

#include <stdint.h>

static void error_document(const uint8_t *data, size_t size)
{
    static struct xfer x;
    char code[64];
    size_t n = size < WC_SINK_ERROR_KEEP ? size : WC_SINK_ERROR_KEEP;

    memcpy(x.down.error_body, data, n);
    x.down.error_body[n] = '\0';
    x.down.error_len = n;
    error_code(&x, code, sizeof(code));
    if (strlen(code) >= sizeof(code))
        abort();
}

static void list_document(const char *text, size_t size)
{
    char *doc = strdup(text), *cur = doc, *k;

    if (!doc)
        return;
    while ((k = next_key(&cur)))
        if (strlen(k) > size || cur < doc || cur > doc + size + 1)
            abort();
    free(doc);
}

static void cache_url(const char *text)
{
    struct s3_store s;
    char err[256], *url;

    memset(&s, 0, sizeof(s));
    if (asprintf(&url, "s3://%s", text) < 0)
        return;
    if (parse_cache_url(&s, url, err, sizeof(err)) == 0 &&
        (!s.prefix || (s.prefix[0] && s.prefix[strlen(s.prefix) - 1] != '/')))
        abort(); /* a prefix is "" or ends in '/' */
    free(s.bucket);
    free(s.prefix);
    free(url);
}

static void redacted(const char *text)
{
    char out[128];

    wc_redact_url(text, out, sizeof(out));
    if (strlen(out) >= sizeof(out))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    error_document(data, size);
    list_document(text, strlen(text));
    cache_url(text);
    redacted(text);
    free(text);
    return 0;
}
