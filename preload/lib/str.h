/* String helpers for the constructor's path, which every process of a build runs. Not
 * libc's: the first call of each libc function from this library costs the process a lazy
 * binding (~750 instructions, issue 16), more than these loops on the environment's short
 * strings. The libraries are built with -fno-tree-loop-distribute-patterns so that the
 * compiler does not turn the loops back into calls. Safe anywhere: no state. */
#ifndef WC_STR_H
#define WC_STR_H

#include <stddef.h>

static inline size_t wc_strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

/* 1 when s begins with prefix. */
static inline int wc_starts(const char *s, const char *prefix)
{
    while (*prefix && *s == *prefix)
        s++, prefix++;
    return *prefix == '\0';
}

static inline int wc_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static inline void wc_memcpy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* What follows the last '/' of path, or path. */
static inline const char *wc_basename(const char *path)
{
    const char *base = path;

    for (; *path; path++)
        if (*path == '/')
            base = path + 1;
    return base;
}

#endif
