/* Which programs are cached (core/programs.h). Runs in every exec of the build, in vfork
 * children too: plain string compares, no allocation, no locale. */
#include "core/programs.h"

#include <stddef.h>
#include <string.h>

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "", or a version suffix: "-12", "-12.2". A digit right after the name is not one: it
 * would turn "cc" into "cc1", gcc's own compiler proper. */
static int is_version_suffix(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (n < 2 || s[0] != '-' || !is_digit(s[1]) || s[n - 1] == '.')
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!is_digit(s[i]) && s[i] != '.')
            return 0;
    return 1;
}

static int is_triplet_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '.' || c == '-';
}

/* The word of a prefix that names a tool rather than a target: "gcc-ar" and "llvm-ar" are
 * wrappers of their own, not an "ar" for the target "gcc". */
static int is_tool_word(const char *s, size_t n)
{
    static const char *const tools[] = {"gcc", "g++", "cc", "c++", "clang", "clang++", "llvm"};

    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
        if (strlen(tools[i]) == n && memcmp(tools[i], s, n) == 0)
            return 1;
    return 0;
}

/* "", or a target prefix: "x86_64-linux-gnu-", "arm-none-eabi-" -- at least two words, each
 * followed by '-', the last one not a tool name. */
static int is_target_prefix(const char *s, size_t n)
{
    size_t dashes = 0, last = 0;

    if (n == 0)
        return 1;
    if (s[n - 1] != '-' || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_triplet_char(s[i]))
            return 0;
        if (s[i] == '-' && i + 1 < n) {
            if (s[i + 1] == '-')
                return 0;
            dashes++;
            last = i + 1;
        }
    }
    return dashes >= 1 && !is_tool_word(s + last, n - 1 - last);
}

/* basename = prefix + name + suffix, for some occurrence of name. */
static int matches_name(const char *name, size_t nlen, const char *base, size_t blen)
{
    if (nlen == 0 || nlen > blen)
        return 0;
    for (size_t at = 0; at + nlen <= blen; at++) {
        if (memcmp(base + at, name, nlen) != 0)
            continue;
        if (is_target_prefix(base, at) && is_version_suffix(base + at + nlen, blen - at - nlen))
            return 1;
    }
    return 0;
}

int wc_program_matches(const char *list, const char *basename)
{
    size_t blen;

    if (!basename || !*basename || strchr(basename, '/'))
        return 0;
    if (!list)
        list = WC_DEFAULT_PROGRAMS;
    blen = strlen(basename);
    while (*list) {
        size_t n = strcspn(list, ",:");
        const char *name = list;
        size_t nlen = n;
        /* Tolerate "gcc, clang" as written by hand. */
        while (nlen && (*name == ' ' || *name == '\t')) {
            name++;
            nlen--;
        }
        while (nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
            nlen--;
        if (matches_name(name, nlen, basename, blen))
            return 1;
        list += n;
        if (*list)
            list++;
    }
    return 0;
}
