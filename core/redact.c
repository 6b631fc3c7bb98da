/* One redaction for everything printed (core/redact.h). A small left-to-right rewriter: it
 * copies the text, and at each place where a credential starts it writes "***" and skips the
 * credential's bytes. */
#include "core/redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MASK "***"

struct out {
    char *buf;
    size_t n, len;
};

static void put(struct out *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len && o->len + 1 < o->n; i++)
        o->buf[o->len++] = s[i];
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Length of the word at s (to the next blank). */
static size_t word_len(const char *s)
{
    size_t i = 0;
    while (s[i] && !is_space(s[i]))
        i++;
    return i;
}

/* The credential of a quoted or bare value at s: to the matching quote, or to the end of the
 * word. */
static size_t value_len(const char *s)
{
    if (*s == '\'' || *s == '"') {
        const char *end = strchr(s + 1, *s);
        return end ? (size_t)(end - s) : strlen(s);
    }
    return word_len(s);
}

/* Parameter names that carry credentials, compared without case. */
static int credential_name(const char *name, size_t len)
{
    static const char *const names[] = {"access_token",
                                        "x-amz-signature",
                                        "x-amz-credential",
                                        "x-amz-security-token",
                                        "sig",
                                        "signature",
                                        "token",
                                        "password",
                                        "passwd",
                                        "pwd",
                                        "secret",
                                        "client_secret",
                                        "api_key",
                                        "apikey",
                                        "key",
                                        "auth",
                                        "session_token",
                                        "refresh_token",
                                        "id_token",
                                        "x-goog-signature",
                                        "x-goog-credential"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return 1;
    return 0;
}

/* At s, just past '?' or '&': "name=value" with a credential name. Returns how many bytes
 * of s were written (name and '='), with *skip set to the value's length; 0 when not one. */
static size_t query_param(const char *s, size_t *skip)
{
    size_t name = strcspn(s, "=&# \t\n'\"");
    if (s[name] != '=' || !credential_name(s, name))
        return 0;
    *skip = strcspn(s + name + 1, "&# \t\n'\"");
    return name + 1;
}

/* At the start of a word: "scheme://user:pass@host". Returns the bytes to copy before the
 * mask (scheme://user: or scheme://) and sets *skip to the credential's length. */
static size_t url_userinfo(const char *s, size_t *skip)
{
    const char *sep = strstr(s, "://"), *start, *end, *at = NULL, *colon;
    size_t w = word_len(s);

    if (!sep || (size_t)(sep - s) > w || sep == s)
        return 0;
    for (const char *p = s; p < sep; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '+' || *p == '-' || *p == '.'))
            return 0;
    start = sep + 3;
    end = start + strcspn(start, "/?# \t\n'\"");
    for (const char *p = start; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return 0;
    colon = memchr(start, ':', (size_t)(at - start));
    *skip = (size_t)(at - (colon ? colon + 1 : start));
    return (size_t)((colon ? colon + 1 : start) - s);
}

/* Options whose next word is a credential (curl's -u/--user, wget's --password, a header). */
static int secret_option(const char *s, size_t len)
{
    static const char *const opts[] = {"-u",           "--user",         "--password",
                                       "-H",           "--header",       "--http-password",
                                       "--proxy-user", "--oauth2-bearer"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strlen(opts[i]) == len && strncmp(opts[i], s, len) == 0)
            return 1;
    return 0;
}

/* "--user=x", "--password=x": the bytes up to and with '='. */
static size_t secret_option_joined(const char *s)
{
    static const char *const opts[] = {
        "--user=", "--password=", "--http-password=", "--header=", "--proxy-user="};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strncmp(s, opts[i], strlen(opts[i])) == 0)
            return strlen(opts[i]);
    return 0;
}

static int word_start(const char *text, const char *s)
{
    return s == text || is_space(s[-1]) || s[-1] == '\'' || s[-1] == '"' || s[-1] == '=';
}

/* One step at s: writes what is there, masked or not, and returns the bytes consumed. */
static size_t step(const char *text, const char *s, struct out *o, int *mask_next, int command)
{
    size_t keep, skip = 0;

    if (*mask_next && !is_space(*s)) {
        *mask_next = 0;
        skip = value_len(s);
        put(o, MASK, 3);
        return skip + (skip < strlen(s) && (*s == '\'' || *s == '"'));
    }
    if (strncasecmp(s, "authorization:", 14) == 0 || strncasecmp(s, "bearer ", 7) == 0) {
        keep = s[0] == 'b' || s[0] == 'B' ? 7 : 14;
        put(o, s, keep);
        while (s[keep] == ' ')
            put(o, s + keep++, 1);
        skip = strcspn(s + keep, "'\"\n");
        put(o, MASK, 3);
        return keep + skip;
    }
    if (word_start(text, s)) {
        size_t w = word_len(s);
        if ((keep = url_userinfo(s, &skip)) || (command && (keep = secret_option_joined(s)))) {
            if (!skip)
                skip = value_len(s + keep);
            put(o, s, keep);
            put(o, MASK, 3);
            return keep + skip;
        }
        if (command && secret_option(s, w)) {
            *mask_next = 1;
            put(o, s, w);
            return w;
        }
    }
    if ((*s == '?' || *s == '&') && (keep = query_param(s + 1, &skip))) {
        put(o, s, keep + 1);
        put(o, MASK, 3);
        return keep + 1 + skip;
    }
    put(o, s, 1);
    return 1;
}

/* The value of WAFCACHE_HTTP_TOKEN, replaced wherever it is (after the other rules). */
static void mask_token(char *buf)
{
    const char *tok = getenv("WAFCACHE_HTTP_TOKEN");
    size_t tl = tok ? strlen(tok) : 0;
    char *p;

    if (tl < 4)
        return; /* too short to mask without masking ordinary text */
    while ((p = strstr(buf, tok)) != NULL) {
        memcpy(p, MASK, 3);
        memmove(p + 3, p + tl, strlen(p + tl) + 1);
    }
}

static void redact(const char *text, char *buf, size_t n, int command)
{
    struct out o = {buf, n, 0};
    int mask_next = 0;

    if (n == 0)
        return;
    text = text ? text : "";
    for (const char *s = text; *s;)
        s += step(text, s, &o, &mask_next, command);
    buf[o.len] = '\0';
    mask_token(buf);
}

void wc_redact(const char *text, char *buf, size_t n)
{
    redact(text, buf, n, 0);
}

void wc_redact_command(const char *text, char *buf, size_t n)
{
    redact(text, buf, n, 1);
}
