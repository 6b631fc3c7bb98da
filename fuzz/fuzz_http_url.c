/* libFuzzer target: the http(s):// URL of WAFCACHE as store/http.c takes it apart -- userinfo
 * out to libcurl's credential options (never into a message), query and fragment refused,
 * trailing slashes dropped -- and the object URLs made from it. The helpers are static: the
 * backend's file is included whole. */
#include "store/http.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wc_http_store s;
    char *text = malloc(size + 1), *url = NULL;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&s, 0, sizeof(s));
    if (parse_url(&s, text) == 0) {
        size_t n = strlen(s.url);
        if (n && s.url[n - 1] == '/')
            abort(); /* trailing slashes are dropped */
        if (s.password && s.password[0] && strstr(s.base.why, s.password))
            abort(); /* a password never reaches a message */
        if (object_url(&s, "0123456789abcdef0123456789abcdef", "meta", &url) == 0 &&
            strncmp(url, s.url, n) != 0)
            abort();
        free(url);
    }
    free(s.url);
    free(s.user);
    free(s.password);
    free(text);
    return 0;
}
