/* The entry point of wafcache-remote.so: picks the backend for the configured scheme. */
#include <errno.h>
#include <stdio.h>

#include "store/remote.h"

__attribute__((visibility("default"))) wc_store *wc_remote_open(const struct wc_config *c,
                                                                int *err, char *errbuf,
                                                                size_t errlen)
{
    switch (c->kind) {
    case WC_STORE_HTTP:
        return wc_http_open(c, err, errbuf, errlen);
    case WC_STORE_S3:
        return wc_s3_open(c, err, errbuf, errlen);
    default:
        snprintf(errbuf, errlen, "not a remote store kind");
        *err = -EINVAL;
        return NULL;
    }
}
