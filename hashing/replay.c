/* Base-dir tokens in recorded stdout and stderr. See replay.h. */
#include "hashing/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A byte that continues a file name: a base dir followed by one is a longer name. */
static int name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '+' || c == '~';
}

/* basedir's length without trailing slashes; 0 for none or "/" (which would mark every
 * absolute path). */
static size_t dir_len(const char *basedir)
{
    size_t n = basedir ? strlen(basedir) : 0;
    while (n > 0 && basedir[n - 1] == '/')
        n--;
    return n;
}

/* 1 when in[i..) starts a whole-path occurrence of dir[0..m). */
static int dir_at(const char *in, size_t n, size_t i, const char *dir, size_t m)
{
    if (m == 0 || n - i < m || memcmp(in + i, dir, m) != 0)
        return 0;
    if (i > 0 && (name_char((unsigned char)in[i - 1]) || in[i - 1] == '/'))
        return 0;
    return i + m == n || !name_char((unsigned char)in[i + m]);
}

int wc_replay_mark(const char *in, size_t n, const char *basedir, char **out, size_t *out_n)
{
    size_t m = dir_len(basedir), k = 0;
    /* At worst every byte is an escape: twice the input. */
    char *s = malloc(2 * n + 1);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < n;) {
        if (dir_at(in, n, i, basedir, m)) {
            s[k++] = WC_REPLAY_ESC;
            s[k++] = 'B';
            i += m;
            continue;
        }
        if (in[i] == WC_REPLAY_ESC)
            s[k++] = WC_REPLAY_ESC;
        s[k++] = in[i++];
    }
    *out = s;
    *out_n = k;
    return 0;
}

/* Bytes the unmarked text takes, or -1 when in is malformed. */
static long long unmarked_len(const char *in, size_t n, size_t m, int have_dir)
{
    long long len = 0;
    for (size_t i = 0; i < n; i++, len++) {
        if (in[i] != WC_REPLAY_ESC)
            continue;
        if (++i == n || (in[i] != WC_REPLAY_ESC && in[i] != 'B'))
            return -1;
        if (in[i] == 'B' && !have_dir)
            return -1;
        if (in[i] == 'B')
            len += (long long)m - 1;
    }
    return len;
}

int wc_replay_unmark(const char *in, size_t n, const char *basedir, char **out, size_t *out_n)
{
    size_t m = dir_len(basedir), k = 0;
    long long len = unmarked_len(in, n, m, m > 0);
    if (len < 0)
        return -EINVAL;
    char *s = malloc((size_t)len + 1);
    if (!s)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != WC_REPLAY_ESC) {
            s[k++] = in[i];
        } else if (in[++i] == 'B') {
            memcpy(s + k, basedir, m);
            k += m;
        } else {
            s[k++] = WC_REPLAY_ESC;
        }
    }
    *out = s;
    *out_n = k;
    return 0;
}
