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

/* One entry of a list: *sign is '+', '-' or 0 (a plain name), name and nlen the name less
 * its sign and the blanks around it. Advances *list past the entry and its separator;
 * 0 at the end of the list. */
static int next_entry(const char **list, char *sign, const char **name, size_t *nlen)
{
    const char *l = *list;
    if (!*l)
        return 0;
    size_t n = strcspn(l, ",:");
    *name = l;
    *nlen = n;
    *list = l[n] ? l + n + 1 : l + n;
    /* Tolerate "gcc, clang" as written by hand. */
    while (*nlen && (**name == ' ' || **name == '\t')) {
        (*name)++;
        (*nlen)--;
    }
    while (*nlen && ((*name)[*nlen - 1] == ' ' || (*name)[*nlen - 1] == '\t'))
        (*nlen)--;
    *sign = *nlen && (**name == '+' || **name == '-') ? **name : 0;
    if (*sign) {
        (*name)++;
        (*nlen)--;
    }
    return 1;
}

/* Does some entry of list with this sign match basename? *adjusts is set when the list is
 * made of "+name" and "-name" entries (empty ones aside), clear when it names a program
 * plainly or holds no entry at all ("" caches nothing, as before signs existed). */
static int entry_matches(const char *list, char want, const char *base, size_t blen, int *adjusts)
{
    int has_plain = 0, has_signed = 0;
    const char *name;
    size_t nlen;
    char sign;
    int hit = 0;

    while (next_entry(&list, &sign, &name, &nlen)) {
        has_plain |= !sign && nlen;
        has_signed |= sign != 0;
        if (sign == want && !hit)
            hit = matches_name(name, nlen, base, blen);
    }
    *adjusts = has_signed && !has_plain;
    return hit;
}

int wc_program_matches(const char *list, const char *basename)
{
    size_t blen;
    int adjusts = 0, ignored;

    if (!basename || !*basename || strchr(basename, '/'))
        return 0;
    if (!list)
        list = WC_DEFAULT_PROGRAMS;
    blen = strlen(basename);
    /* A removal wins over everything else, in any order. */
    if (entry_matches(list, '-', basename, blen, &adjusts))
        return 0;
    if (entry_matches(list, 0, basename, blen, &adjusts) ||
        entry_matches(list, '+', basename, blen, &adjusts))
        return 1;
    /* Only "+name" and "-name" entries: they adjust the default list, not replace it. */
    return adjusts && entry_matches(WC_DEFAULT_PROGRAMS, 0, basename, blen, &ignored);
}

/* A name the matching above could never use, or one that would mean something else. */
static int bad_name(const char *name, size_t nlen)
{
    if (nlen == 0 || name[0] == '+' || name[0] == '-')
        return 1;
    for (size_t i = 0; i < nlen; i++)
        if (name[i] == '/' || name[i] == ' ' || name[i] == '\t')
            return 1;
    return 0;
}

int wc_programs_check(const char *list, const char **bad, size_t *bad_len)
{
    const char *name, *entry = list;
    size_t nlen;
    char sign;

    while (list && next_entry(&list, &sign, &name, &nlen)) {
        /* An empty plain entry (",,") is tolerated; "+" or "-" alone is not. */
        if ((sign || nlen) && bad_name(name, nlen)) {
            *bad = entry;
            *bad_len = strcspn(entry, ",:");
            return -1;
        }
        entry = list;
    }
    return 0;
}
