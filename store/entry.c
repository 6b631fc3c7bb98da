/* A cache entry: its metadata text format, and how an entry is pushed to and fetched from a
 * store.
 *
 * The metadata, one item a line, every line ending in '\n':
 *
 *     wafcache-entry 1
 *     run_ns <decimal>
 *     stdout <size> <hash>
 *     stderr <size> <hash>
 *     outputs <count>
 *     o <octal mode> <size> <hash> <path>      (count lines; path last, percent-escaped)
 *     end
 *
 * Hashes are 32 hex digits (XXH3-128). The path is last so that it may hold spaces once
 * unescaped; bytes <= 0x20, '%' and 0x7f are written as %XX. The closing "end" line tells
 * a whole file from a truncated one. */
#include "store/entry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#define META_MAGIC "wafcache-entry 1"

/* ---- formatting ---- */

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_grow(struct sbuf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 256;
    char *p;

    if (b->oom || b->len + need + 1 <= b->cap)
        return;
    while (cap < b->len + need + 1)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    sb_grow(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static int needs_escape(unsigned char c)
{
    return c <= 0x20 || c == '%' || c == 0x7f;
}

static void sb_path(struct sbuf *b, const char *path)
{
    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if (needs_escape(*s))
            sb_printf(b, "%%%02X", *s);
        else
            sb_printf(b, "%c", *s);
    }
}

static void sb_hash(struct sbuf *b, const wc_hash *h)
{
    char hex[WC_HASH_HEX_LEN + 1];

    wc_hash_to_hex(h, hex);
    sb_printf(b, "%s", hex);
}

char *wc_meta_format(const struct wc_entry_meta *meta, size_t *len)
{
    struct sbuf b = {0};

    sb_printf(&b, META_MAGIC "\nrun_ns %llu\n", (unsigned long long)meta->run_ns);
    sb_printf(&b, "stdout %llu ", (unsigned long long)meta->stdout_size);
    sb_hash(&b, &meta->stdout_hash);
    sb_printf(&b, "\nstderr %llu ", (unsigned long long)meta->stderr_size);
    sb_hash(&b, &meta->stderr_hash);
    sb_printf(&b, "\noutputs %zu\n", meta->n_outputs);
    for (size_t i = 0; i < meta->n_outputs; i++) {
        const struct wc_output *o = &meta->outputs[i];
        sb_printf(&b, "o %04o %llu ", o->mode & 07777, (unsigned long long)o->size);
        sb_hash(&b, &o->hash);
        sb_printf(&b, " ");
        sb_path(&b, o->path);
        sb_printf(&b, "\n");
    }
    sb_printf(&b, "end\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

/* ---- parsing: the input may be hostile, every step is bounded ---- */

/* A cursor over one line (without its '\n'). */
struct cur {
    const char *p, *end;
};

/* Takes the next '\n'-terminated line; a missing terminator is a truncated file. */
static int next_line(struct cur *text, struct cur *line)
{
    const char *nl = memchr(text->p, '\n', (size_t)(text->end - text->p));

    if (!nl)
        return -1;
    line->p = text->p;
    line->end = nl;
    text->p = nl + 1;
    return 0;
}

static int take_word(struct cur *c, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int take_u64(struct cur *c, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = c->p;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        c->p++;
    }
    if (c->p == start || c->p - start > 20)
        return -1;
    *out = v;
    return 0;
}

static int take_mode(struct cur *c, unsigned *out)
{
    unsigned v = 0;
    const char *start = c->p;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '7' && c->p - start < 6) {
        v = v * 8 + (unsigned)(*c->p - '0');
        c->p++;
    }
    if (c->p == start || v > 07777)
        return -1;
    *out = v;
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int take_hash(struct cur *c, wc_hash *out)
{
    char hex[WC_HASH_HEX_LEN + 1];

    if (c->end - c->p < WC_HASH_HEX_LEN)
        return -1;
    for (int i = 0; i < WC_HASH_HEX_LEN; i++) {
        if (hexval(c->p[i]) < 0)
            return -1;
        hex[i] = c->p[i];
    }
    hex[WC_HASH_HEX_LEN] = '\0';
    c->p += WC_HASH_HEX_LEN;
    return wc_hash_from_hex(hex, out) == 0 ? 0 : -1;
}

static int at_end(const struct cur *c)
{
    return c->p == c->end;
}

/* "<word> <size> <hash>" */
static int parse_stream(struct cur *text, const char *word, uint64_t *size, wc_hash *h)
{
    struct cur l;

    if (next_line(text, &l) || take_word(&l, word) || take_word(&l, " ") || take_u64(&l, size))
        return -1;
    if (take_word(&l, " ") || take_hash(&l, h) || !at_end(&l))
        return -1;
    return 0;
}

/* A path that could leave the directory it is restored to through "..", or that is empty,
 * is refused. */
static int path_safe(const char *p)
{
    if (!*p)
        return 0;
    for (const char *s = p; *s;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 0;
        if (!slash)
            break;
        s = slash + 1;
    }
    /* A trailing '/' names a directory, never an output file. */
    return p[strlen(p) - 1] != '/';
}

static char *unescape_path(const struct cur *c)
{
    size_t n = (size_t)(c->end - c->p), j = 0;
    char *out = malloc(n + 1);

    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c->p[i];
        if (ch == '%') {
            int hi = i + 2 < n ? hexval(c->p[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(c->p[i + 2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0))
                goto bad;
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (needs_escape(ch)) {
            goto bad;
        } else {
            out[j++] = (char)ch;
        }
    }
    out[j] = '\0';
    if (!path_safe(out))
        goto bad;
    return out;
bad:
    free(out);
    return NULL;
}

static int parse_output(struct cur *text, struct wc_output *o)
{
    struct cur l;

    if (next_line(text, &l) || take_word(&l, "o ") || take_mode(&l, &o->mode))
        return -1;
    if (take_word(&l, " ") || take_u64(&l, &o->size) || take_word(&l, " "))
        return -1;
    if (take_hash(&l, &o->hash) || take_word(&l, " "))
        return -1;
    o->path = unescape_path(&l);
    return o->path ? 0 : -1;
}

static int cmp_path_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two outputs restored to one path would race each other; such metadata is not ours. */
static int paths_unique(const struct wc_entry_meta *m)
{
    char **v;
    int ok = 1;

    if (m->n_outputs < 2)
        return 1;
    v = malloc(m->n_outputs * sizeof(*v));
    if (!v)
        return 0;
    for (size_t i = 0; i < m->n_outputs; i++)
        v[i] = m->outputs[i].path;
    qsort(v, m->n_outputs, sizeof(*v), cmp_path_ptr);
    for (size_t i = 1; i < m->n_outputs && ok; i++)
        ok = strcmp(v[i - 1], v[i]) != 0;
    free(v);
    return ok;
}

static int parse_header(struct cur *text, struct wc_entry_meta *m, uint64_t *count)
{
    struct cur l;

    if (next_line(text, &l) || take_word(&l, META_MAGIC) || !at_end(&l))
        return -1;
    if (next_line(text, &l) || take_word(&l, "run_ns ") || take_u64(&l, &m->run_ns) || !at_end(&l))
        return -1;
    if (parse_stream(text, "stdout", &m->stdout_size, &m->stdout_hash) ||
        parse_stream(text, "stderr", &m->stderr_size, &m->stderr_hash))
        return -1;
    if (next_line(text, &l) || take_word(&l, "outputs ") || take_u64(&l, count) || !at_end(&l) ||
        *count > WC_META_MAX_OUTPUTS)
        return -1;
    return 0;
}

static int parse_meta(struct cur *text, struct wc_entry_meta *m)
{
    uint64_t count;
    struct cur l;

    if (parse_header(text, m, &count))
        return -1;
    if (count > 0) {
        m->outputs = calloc((size_t)count, sizeof(*m->outputs));
        if (!m->outputs)
            return -1;
    }
    for (uint64_t i = 0; i < count; i++) {
        if (parse_output(text, &m->outputs[i]))
            return -1;
        m->n_outputs++;
    }
    if (next_line(text, &l) || take_word(&l, "end") || !at_end(&l) || text->p != text->end)
        return -1;
    return paths_unique(m) ? 0 : -1;
}

int wc_meta_parse(const char *buf, size_t len, struct wc_entry_meta *meta)
{
    struct cur text = {buf, buf + len};

    memset(meta, 0, sizeof(*meta));
    if (!buf || len > WC_META_MAX_LEN || memchr(buf, '\0', len)) {
        return -EINVAL;
    }
    if (parse_meta(&text, meta) != 0) {
        wc_meta_free(meta);
        return -EINVAL;
    }
    return 0;
}

void wc_meta_free(struct wc_entry_meta *meta)
{
    if (!meta)
        return;
    for (size_t i = 0; i < meta->n_outputs; i++)
        free(meta->outputs[i].path);
    free(meta->outputs);
    memset(meta, 0, sizeof(*meta));
}

/* ---- push ---- */

static char *resolve(const char *cwd, const char *path)
{
    if (path[0] == '/' || !cwd)
        return strdup(path);
    return wc_path_join(cwd, path);
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Hashes the output, stores it, and checks it did not change meanwhile: the hash in the
 * metadata must describe the bytes that were stored. */
static int push_output(wc_store *s, const char *key, const char *cwd, size_t i, struct wc_output *o)
{
    char name[32];
    struct stat st, after;
    char *full = resolve(cwd, o->path);
    int rc;

    if (!full)
        return -ENOMEM;
    rc = wc_hash_path(full, &o->hash, &st);
    if (rc == 0 && !S_ISREG(st.st_mode))
        rc = -EINVAL;
    if (rc == 0) {
        o->mode = st.st_mode & 07777;
        o->size = (uint64_t)st.st_size;
        snprintf(name, sizeof(name), "%zu", i);
        rc = s->put(s, key, name, full);
    }
    if (rc == 0 && (stat(full, &after) != 0 || !same_file_state(&st, &after)))
        rc = -EAGAIN;
    free(full);
    return rc;
}

int wc_entry_push(wc_store *s, const char *key, const char *cwd, struct wc_entry_meta *meta,
                  const void *out, size_t out_len, const void *err, size_t err_len)
{
    char *text;
    size_t len;
    int rc;

    if (meta->n_outputs > WC_META_MAX_OUTPUTS)
        return -E2BIG;
    for (size_t i = 0; i < meta->n_outputs; i++) {
        rc = push_output(s, key, cwd, i, &meta->outputs[i]);
        if (rc < 0)
            return rc;
    }
    meta->stdout_size = out_len;
    wc_hash_buffer(out_len ? out : "", out_len, &meta->stdout_hash);
    meta->stderr_size = err_len;
    wc_hash_buffer(err_len ? err : "", err_len, &meta->stderr_hash);
    if (out_len && (rc = s->write(s, key, "stdout", out, out_len)) < 0)
        return rc;
    if (err_len && (rc = s->write(s, key, "stderr", err, err_len)) < 0)
        return rc;
    /* Last: an entry without metadata does not exist, so until this rename no reader can
     * pick up a half-written entry. */
    text = wc_meta_format(meta, &len);
    if (!text)
        return -ENOMEM;
    rc = s->write(s, key, "meta", text, len);
    free(text);
    return rc;
}

/* ---- what the command accounts for ---- */

/* Every output, resolved against root as the restore will resolve it, must be one the
 * command line declares (store/declared.c). */
int wc_entry_declared(const struct wc_entry_meta *meta, const char *root,
                      const struct wc_declared *decl)
{
    for (size_t i = 0; decl && i < meta->n_outputs; i++) {
        char *full = resolve(root, meta->outputs[i].path);
        int ok = full && (wc_output_declared(full, decl->argv, decl->cwd) ||
                          wc_env_declares(full, decl->argv, decl->envp, decl->cwd));
        free(full);
        if (!ok)
            return 0;
    }
    return 1;
}

/* ---- fetch ---- */

/* What a store answers for a damaged entry becomes -EBADMSG; errors of our own side (a
 * full disk, a read-only destination) keep their errno. */
static int corrupt_if_store_error(int rc)
{
    if (rc == -ENOENT || rc == -EINVAL || rc == -EFBIG || rc == -EISDIR)
        return -EBADMSG;
    return rc;
}

/* The mode the real command gives a file it creates: gcc, as and ar open theirs with 0666,
 * ld makes its output executable with 0777, and the kernel takes the umask away from both.
 * So a restored file gets (executable ? 0777 : 0666) & ~umask, the umask being the one in
 * force now: never the recorded bits as such (recorded under another umask, or set-user-ID,
 * set-group-ID and sticky bits planted in a store). */
mode_t wc_restored_mode(unsigned recorded)
{
    mode_t mask = umask(0);

    umask(mask); /* the runner is single-threaded while it restores */
    return ((recorded & 0111) ? 0777 : 0666) & ~mask;
}

/* The directory an output goes into must exist already (a restore never creates one: the
 * real gcc fails with "cannot open output file" when it is missing), and no directory of
 * the path below base may be a symbolic link (a hostile entry's output must not land
 * elsewhere through one). -ENOTDIR otherwise: the command runs for real. */
static int parent_usable(const char *base, const char *dest)
{
    size_t blen = base ? strlen(base) : 0, from, len;
    const char *last = strrchr(dest, '/');
    struct stat st;
    char *dir;
    int rc = 0;

    if (!last || last == dest)
        return 0;
    from = blen > 1 && strncmp(dest, base, blen) == 0 && dest[blen] == '/' ? blen : 0;
    dir = strndup(dest, (size_t)(last - dest));
    if (!dir)
        return -ENOMEM;
    len = strlen(dir);
    if (from == len && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = -ENOTDIR;
    for (size_t k = from + 1; k <= len && rc == 0; k++) {
        char c = dir[k];
        if (c != '/' && c != '\0')
            continue;
        dir[k] = '\0';
        if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = -ENOTDIR;
        dir[k] = c;
    }
    free(dir);
    return rc;
}

/* A hard link into the store keeps the store file's mode, and chmod would change the cached
 * file itself: when that mode is not the one wanted, the link is replaced by a private copy. */
static int detach_link(const char *tmp, mode_t mode)
{
    char copy[PATH_MAX];
    int rc = wc_tmp_name(copy, sizeof(copy), tmp);

    if (rc == 0)
        rc = wc_copy_file(tmp, copy, mode);
    if (rc == 0 && rename(copy, tmp) != 0) {
        rc = -errno;
        unlink(copy);
    }
    return rc;
}

/* Checks what landed at tmp against the metadata (through a descriptor: a symbolic link
 * there is corrupt, never followed), then gives it its mode and a fresh mtime (a restored
 * output must look newer than its inputs to make). -EMLINK: a hard link of another mode. */
static int verify_landed(const char *tmp, const struct wc_output *o, mode_t mode)
{
    struct stat st;
    wc_hash h;
    int fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return errno == ELOOP ? -EBADMSG : -errno;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != o->size)
        rc = -EBADMSG;
    else if ((rc = wc_hash_fd(fd, &h)) == 0 && !wc_hash_equal(&h, &o->hash))
        rc = -EBADMSG;
    if (rc == 0 && st.st_nlink > 1 && (st.st_mode & 07777) != mode)
        rc = -EMLINK;
    else if (rc == 0 && st.st_nlink == 1 && fchmod(fd, mode) != 0)
        rc = -errno;
    if (rc == 0 && futimens(fd, NULL) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

static int fetch_output(wc_store *s, const char *key, const char *cwd, size_t i,
                        const struct wc_output *o, char **destp, char **tmpp)
{
    char name[32], tmp[PATH_MAX];
    char *dest = resolve(cwd, o->path);
    mode_t mode = wc_restored_mode(o->mode);
    int rc;

    if (!dest)
        return -ENOMEM;
    *destp = dest;
    rc = parent_usable(cwd, dest);
    if (rc == 0)
        rc = wc_tmp_name(tmp, sizeof(tmp), dest);
    if (rc < 0)
        return rc;
    snprintf(name, sizeof(name), "%zu", i);
    /* The declared size bounds the download: a hostile server's endless body stops there. */
    rc = s->get(s, key, name, (size_t)o->size, tmp);
    if (rc < 0)
        return corrupt_if_store_error(rc);
    *tmpp = strdup(tmp);
    if (!*tmpp) {
        unlink(tmp);
        return -ENOMEM;
    }
    rc = verify_landed(tmp, o, mode);
    if (rc == -EMLINK && (rc = detach_link(tmp, mode)) == 0)
        rc = verify_landed(tmp, o, mode);
    return rc;
}

void wc_stream_free(struct wc_stream *st)
{
    free(st->buf);
    if (st->fd >= 0)
        close(st->fd);
    *st = (struct wc_stream){.fd = -1};
}

int wc_stream_replay(const struct wc_stream *st, int to)
{
    if (st->fd < 0)
        return wc_write_all(to, st->buf, st->len);
    if (lseek(st->fd, 0, SEEK_SET) != 0)
        return -errno;
    /* read/write, never a reflink or copy_file_range: `to` may be a log file that the
     * build's stdout appends to, which a clone would overwrite as a whole. */
    for (;;) {
        char buf[65536];
        ssize_t n = read(st->fd, buf, sizeof(buf));
        int rc;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : 0;
        if ((rc = wc_write_all(to, buf, (size_t)n)) < 0)
            return rc;
    }
}

/* A private, unlinked file holding what the store has for `name`: get() lands it in a
 * directory of our own (mkdtemp, 0700) so no other user can put anything in the way. */
static int get_to_tmpfile(wc_store *s, const char *key, const char *name, uint64_t size)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX], file[PATH_MAX + 8];
    int fd, rc;

    int w = snprintf(dir, sizeof(dir), "%s/wafcache-stream.XXXXXX", tmp && *tmp ? tmp : "/tmp");

    if (w < 0 || (size_t)w >= sizeof(dir))
        return -ENAMETOOLONG;
    if (!mkdtemp(dir))
        return -errno;
    snprintf(file, sizeof(file), "%s/%s", dir, name);
    rc = s->get(s, key, name, (size_t)size, file);
    fd = rc < 0 ? rc : open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
        fd = -errno;
    unlink(file);
    rmdir(dir);
    return rc < 0 ? corrupt_if_store_error(rc) : fd;
}

/* stdout or stderr: small ones in memory, larger ones (up to what the metadata declares,
 * never more) streamed through a temporary file, so memory does not follow a hostile size. */
static int fetch_stream(wc_store *s, const char *key, const char *name, uint64_t size,
                        const wc_hash *want, struct wc_stream *st)
{
    struct stat sb;
    wc_hash h;
    int rc;

    if (size == 0) {
        st->buf = calloc(1, 1);
        return st->buf ? 0 : -ENOMEM;
    }
    if (size > WC_STREAM_INLINE_MAX) {
        st->fd = get_to_tmpfile(s, key, name, size);
        if (st->fd < 0)
            return st->fd;
        if (fstat(st->fd, &sb) != 0 || (uint64_t)sb.st_size != size)
            return -EBADMSG;
        rc = wc_hash_fd(st->fd, &h);
        st->len = (size_t)size;
        return rc < 0 ? rc : wc_hash_equal(&h, want) ? 0 : -EBADMSG;
    }
    rc = s->read(s, key, name, (size_t)size, &st->buf, &st->len);
    if (rc < 0)
        return corrupt_if_store_error(rc);
    wc_hash_buffer(st->buf, st->len, &h);
    if (st->len != size || !wc_hash_equal(&h, want))
        return -EBADMSG;
    return 0;
}

/* Every output is already verified beside its destination; now they take their places. */
static int install_outputs(size_t n, char **tmps, char **dests)
{
    for (size_t i = 0; i < n; i++) {
        int rc = wc_replace_at(AT_FDCWD, tmps[i], AT_FDCWD, dests[i]);
        if (rc < 0)
            return rc;
        /* rename() of two links to one inode does nothing and leaves tmp behind: that is
         * a hard-linked restore over the same hard-linked restore. */
        unlink(tmps[i]);
        free(tmps[i]);
        tmps[i] = NULL;
    }
    return 0;
}

static int fetch_all(wc_store *s, const char *key, const char *cwd, struct wc_entry_meta *meta,
                     char **tmps, char **dests, struct wc_stream *out, struct wc_stream *err)
{
    int rc = 0;

    for (size_t i = 0; i < meta->n_outputs && rc == 0; i++)
        rc = fetch_output(s, key, cwd, i, &meta->outputs[i], &dests[i], &tmps[i]);
    if (rc == 0)
        rc = fetch_stream(s, key, "stdout", meta->stdout_size, &meta->stdout_hash, out);
    if (rc == 0)
        rc = fetch_stream(s, key, "stderr", meta->stderr_size, &meta->stderr_hash, err);
    if (rc == 0)
        rc = install_outputs(meta->n_outputs, tmps, dests);
    return rc;
}

static int read_meta(wc_store *s, const char *key, struct wc_entry_meta *meta)
{
    char *text;
    size_t len;
    int rc = s->read(s, key, "meta", WC_META_MAX_LEN, &text, &len);

    if (rc == -ENOENT)
        return -ENOENT;
    if (rc < 0)
        return corrupt_if_store_error(rc);
    rc = wc_meta_parse(text, len, meta);
    free(text);
    return rc < 0 ? -EBADMSG : 0;
}

int wc_entry_fetch(wc_store *s, const char *key, const char *cwd, const struct wc_declared *decl,
                   struct wc_entry_meta *meta, struct wc_stream *out, struct wc_stream *err)
{
    char **tmps = NULL, **dests = NULL;
    size_t n;
    int rc;

    *out = *err = (struct wc_stream){.fd = -1};
    rc = read_meta(s, key, meta);
    if (rc < 0)
        return rc;
    if (!wc_entry_declared(meta, cwd, decl)) {
        wc_meta_free(meta);
        return -EBADMSG;
    }
    n = meta->n_outputs;
    tmps = calloc(n + 1, sizeof(*tmps));
    dests = calloc(n + 1, sizeof(*dests));
    rc = tmps && dests ? fetch_all(s, key, cwd, meta, tmps, dests, out, err) : -ENOMEM;
    for (size_t i = 0; tmps && dests && i < n; i++) {
        if (tmps[i])
            unlink(tmps[i]);
        free(tmps[i]);
        free(dests[i]);
    }
    free(tmps);
    free(dests);
    /* A file gone with the metadata gone too is an entry trimmed while we read it: a plain
     * miss, not a corrupt entry. */
    if (rc == -EBADMSG && s->exists(s, key, "meta") == -ENOENT)
        rc = -ENOENT;
    if (rc < 0) {
        wc_stream_free(out);
        wc_stream_free(err);
        wc_meta_free(meta);
        return rc;
    }
    s->touch(s, key);
    return 0;
}
