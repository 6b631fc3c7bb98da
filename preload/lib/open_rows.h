/* The open wrappers' rows of wrap.def (WC_OPEN, WC_OPEN_MODE, WC_FOPEN), for both libraries:
 * each wrapper calls the includer's
 *     static int open_pre(int dirfd, const char *path, int flags);
 *     static void open_post(int dirfd, const char *path, int flags, int pre, int fd);
 * around the next definition (pre is what open_pre returned, fd the result or -1). The
 * interposer's (cow.c) only copy a shared inode before a write; the observer's (observe.c)
 * also report the open. Included before wrap.def; no include guard. */
#define WC_OPEN(field, sym, params, args, dirfd, flags)                                            \
    int sym params;                                                                                \
    WC_EXPORT int sym params                                                                       \
    {                                                                                              \
        int how = flags;                                                                           \
        wc_ensure_real();                                                                          \
        int pre = open_pre(dirfd, path, how);                                                      \
        int fd = wc_real.field args;                                                               \
        open_post(dirfd, path, how, pre, fd);                                                      \
        return fd;                                                                                 \
    }
#define WC_OPEN_MODE(field, sym, params, args, dirfd)                                              \
    int sym params;                                                                                \
    WC_EXPORT int sym params                                                                       \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, flags);                                                                       \
        mode_t mode = wc_open_mode(flags, ap);                                                     \
        va_end(ap);                                                                                \
        wc_ensure_real();                                                                          \
        int pre = open_pre(dirfd, path, flags);                                                    \
        int fd = wc_real.field args;                                                               \
        open_post(dirfd, path, flags, pre, fd);                                                    \
        return fd;                                                                                 \
    }
#define WC_FOPEN(field, sym, params, args)                                                         \
    FILE *sym params;                                                                              \
    WC_EXPORT FILE *sym params                                                                     \
    {                                                                                              \
        int how = wc_fopen_flags(mode);                                                            \
        wc_ensure_real();                                                                          \
        int pre = open_pre(AT_FDCWD, path, how);                                                   \
        FILE *f = wc_real.field args;                                                              \
        open_post(AT_FDCWD, path, how, pre, f ? fileno(f) : -1);                                   \
        return f;                                                                                  \
    }
