/* Response files, expanded as gcc, ld, ar (libiberty) and clang (LLVM) do. See atfile.h. */
#include "hashing/atfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/programs.h"

unsigned wc_atfile_flags_for(const char *basename)
{
    return wc_program_matches("clang,clang++", basename) ? WC_ATFILE_NESTED_RELATIVE : 0;
}

/* ---- buildargv ---------------------------------------------------------------------------- */

/* libiberty's ISSPACE (safe-ctype): the C locale's whitespace. */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* A growing argument vector, always NULL-terminated. */
struct vec {
    char **v;
    size_t n, cap, max;
};

static int vec_push(struct vec *a, char *s)
{
    if (!s)
        return -ENOMEM;
    if (a->n >= a->max) {
        free(s);
        return -E2BIG;
    }
    if (a->n + 1 >= a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            free(s);
            return -ENOMEM;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
    return 0;
}

static void vec_free(struct vec *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* The end of a build: an empty vector still gets its NULL terminator; on error (rc < 0)
 * everything is freed. rc either way. */
static int vec_finish(struct vec *a, int rc)
{
    if (rc == 0 && !a->v && !(a->v = calloc(1, sizeof *a->v)))
        rc = -ENOMEM;
    if (rc < 0)
        vec_free(a);
    return rc;
}

/* One argument from *p (past leading whitespace) into buf; *p moves past it. The state
 * machine is buildargv's: a backslash escapes inside quotes as well. */
static size_t scan_arg(const char **p, const char *end, char *buf)
{
    int squote = 0, dquote = 0, bsquote = 0;
    size_t k = 0;
    const char *s = *p;
    for (; s < end; s++) {
        char c = *s;
        if (is_space(c) && !squote && !dquote && !bsquote)
            break;
        if (bsquote)
            bsquote = 0, buf[k++] = c;
        else if (c == '\\')
            bsquote = 1;
        else if (squote)
            squote = c != '\'' ? (buf[k++] = c, 1) : 0;
        else if (dquote)
            dquote = c != '"' ? (buf[k++] = c, 1) : 0;
        else if (c == '\'')
            squote = 1;
        else if (c == '"')
            dquote = 1;
        else
            buf[k++] = c;
    }
    *p = s;
    return k;
}

int wc_atfile_split(const char *text, size_t len, size_t max_args, char ***argv, size_t *argc)
{
    const char *nul = memchr(text, '\0', len);
    const char *p = text, *end = nul ? nul : text + len;
    struct vec a = {NULL, 0, 0, max_args};
    char *buf = malloc((size_t)(end - text) + 1);
    int rc = buf ? 0 : -ENOMEM;
    *argv = NULL;
    *argc = 0;
    while (rc == 0) {
        while (p < end && is_space(*p))
            p++;
        if (p == end)
            break;
        size_t k = scan_arg(&p, end, buf);
        rc = vec_push(&a, strndup(buf, k));
    }
    free(buf);
    if ((rc = vec_finish(&a, rc)) < 0)
        return rc;
    *argv = a.v;
    *argc = a.n;
    return 0;
}

/* ---- expandargv --------------------------------------------------------------------------- */

/* The content of a regular file, at most max bytes. 1 when path is not a regular file that
 * can be opened (the tools leave such an "@path" as it is: missing, unreadable, a directory;
 * a FIFO or a terminal is not read here either, since whatever we consumed the command could
 * not read again), 0 with *buf, or -E2BIG / -ENOMEM. */
static int read_regular(const char *path, size_t max, char **buf, size_t *len)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return 1;
    int rc = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ? 1 : 0;
    if (rc == 0 && (uint64_t)st.st_size > max)
        rc = -E2BIG;
    size_t n = 0, cap = rc == 0 ? (size_t)st.st_size + 1 : 0;
    char *b = rc == 0 ? malloc(cap) : NULL;
    if (rc == 0 && !b)
        rc = -ENOMEM;
    while (rc == 0) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap) /* grew since fstat: bounded by what fstat said, plus one byte */
            rc = -E2BIG;
    }
    close(fd);
    if (rc != 0) {
        free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* clang's rule: a relative nested "@name" from file dir/f.rsp means "@dir/name". */
static int relocate_nested(char **args, size_t n, const char *file)
{
    const char *slash = strrchr(file, '/');
    if (!slash)
        return 0;
    int dir_len = (int)(slash - file);
    for (size_t i = 0; i < n; i++) {
        if (args[i][0] != '@' || args[i][1] == '/')
            continue;
        char *s = NULL;
        size_t m = (size_t)dir_len + strlen(args[i]) + 2;
        if (!(s = malloc(m)))
            return -ENOMEM;
        snprintf(s, m, "@%.*s/%s", dir_len, file, args[i] + 1);
        free(args[i]);
        args[i] = s;
    }
    return 0;
}

/* Replace a->v[i] ("@file") by the n arguments of args (taken over, freed). */
static int splice_args(struct vec *a, size_t i, char **args, size_t n)
{
    if (a->n - 1 + n > a->max) {
        for (size_t k = 0; k < n; k++)
            free(args[k]);
        free(args);
        return -E2BIG;
    }
    if (a->n + n >= a->cap) {
        size_t cap = a->n + n + 16;
        char **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            for (size_t k = 0; k < n; k++)
                free(args[k]);
            free(args);
            return -ENOMEM;
        }
        a->v = v;
        a->cap = cap;
    }
    free(a->v[i]);
    memmove(a->v + i + n, a->v + i + 1, (a->n - i) * sizeof *a->v); /* with the NULL */
    memcpy(a->v + i, args, n * sizeof *args);
    free(args);
    a->n = a->n - 1 + n;
    return 0;
}

/* Expand a->v[i] if it names a response file: 1 when it stays as it is, 0 when replaced. */
static int expand_one(struct vec *a, size_t i, unsigned flags, size_t *bytes_left)
{
    char *text = NULL, **args = NULL;
    size_t len = 0, n = 0;
    const char *file = a->v[i] + 1;
    int rc = read_regular(file, *bytes_left, &text, &len);
    if (rc != 0)
        return rc;
    *bytes_left -= len;
    rc = wc_atfile_split(text, len, a->max, &args, &n);
    free(text);
    if (rc == 0 && (flags & WC_ATFILE_NESTED_RELATIVE))
        rc = relocate_nested(args, n, file);
    if (rc < 0) {
        for (size_t k = 0; args && k < n; k++)
            free(args[k]);
        free(args);
        return rc;
    }
    return splice_args(a, i, args, n);
}

static int copy_argv(char *const *argv, struct vec *a)
{
    for (size_t i = 0; argv[i]; i++) {
        int rc = vec_push(a, strdup(argv[i]));
        if (rc < 0)
            return rc;
    }
    return 0;
}

int wc_atfile_expand(char *const *argv, unsigned flags, char ***out, size_t *expanded)
{
    struct vec a = {NULL, 0, 0, SIZE_MAX};
    size_t bytes_left = WC_ATFILE_MAX_BYTES, files = 0;
    int rc = copy_argv(argv, &a);
    if (rc == 0)
        a.max = a.n > WC_ATFILE_MAX_ARGS ? a.n : WC_ATFILE_MAX_ARGS;
    /* As expandargv: an expanded file's arguments are scanned again from where it was, so
     * nested files expand too; the file count bounds a file that names itself. */
    for (size_t i = 1; rc == 0 && i < a.n;) {
        if (a.v[i][0] != '@') {
            i++;
            continue;
        }
        if (files == WC_ATFILE_MAX_FILES) {
            rc = -ELOOP;
            break;
        }
        rc = expand_one(&a, i, flags, &bytes_left);
        if (rc == 1) {
            rc = 0;
            i++;
        } else if (rc == 0) {
            files++;
        }
    }
    if ((rc = vec_finish(&a, rc)) < 0)
        return rc;
    *out = a.v;
    *expanded = files;
    return 0;
}

/* ---- writeargv ---------------------------------------------------------------------------- */

char *wc_atfile_quote(const char *arg)
{
    size_t n = strlen(arg);
    char *s = malloc(2 * n + 3), *p = s;
    if (!s)
        return NULL;
    if (n == 0)
        return strcpy(s, "\"\"");
    for (const char *c = arg; *c; c++) {
        if (is_space(*c) || *c == '\\' || *c == '\'' || *c == '"')
            *p++ = '\\';
        *p++ = *c;
    }
    *p = '\0';
    return s;
}
