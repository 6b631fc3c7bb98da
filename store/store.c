/* The store front (store/store.h): the contract every backend shares -- which keys and
 * names exist, and where a backend keeps the reason of its last failure. */
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int wc_store_key_valid(const char *key)
{
    size_t i;

    if (!key)
        return 0;
    for (i = 0; i < WC_STORE_KEY_LEN; i++)
        if (!is_hex(key[i]))
            return 0;
    return key[i] == '\0';
}

int wc_store_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int wc_store_check(const char *key, const char *name)
{
    if (!wc_store_key_valid(key) || (name && !wc_store_name_valid(name)))
        return -EINVAL;
    return 0;
}

int wc_store_fail(wc_store *s, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->why, sizeof(s->why), fmt, ap);
    va_end(ap);
    return rc;
}

const char *wc_store_last_reason(wc_store *s)
{
    return s->why;
}

wc_store *wc_store_side(wc_store *s, enum wc_store_side which)
{
    if (s->side)
        return s->side(s, which);
    return s->local == (which == WC_STORE_LOCAL) ? s : NULL;
}
