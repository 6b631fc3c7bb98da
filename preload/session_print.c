/* The WAFCACHE_STATS line (preload/session.h), counted from a session file. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/session.h"

struct counts {
    unsigned long requests, hits, writes;
};

static int read_counts(const char *session_file, struct counts *c)
{
    char chunk[4096];
    ssize_t n;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, session_file, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    memset(c, 0, sizeof(*c));
    while ((n = syscall(SYS_read, fd, chunk, sizeof(chunk))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            c->requests += chunk[i] == WC_SESSION_REQUEST;
            c->hits += chunk[i] == WC_SESSION_HIT;
            c->writes += chunk[i] == WC_SESSION_WRITE;
        }
    }
    syscall(SYS_close, fd);
    return 0;
}

int wc_session_print(const char *session_file)
{
    struct counts c;

    if (read_counts(session_file, &c) < 0)
        return -1;
    double ratio = c.requests ? 100.0 * (double)c.hits / (double)c.requests : 0.0;
    dprintf(2, "wafcache stats: %lu requests, %lu hits (ratio: %.2f%%), %lu writes\n", c.requests,
            c.hits, ratio, c.writes);
    return 0;
}
