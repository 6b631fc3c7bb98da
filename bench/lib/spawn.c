/* spawn.c -- bench/run's per-exec timer (bench/lib/hitcost.py builds it).
 *
 *   spawn LIST OUT
 *
 * LIST holds commands, each "cwd\0argv0\0argv1\0...\0" and one more "\0" after the last
 * argument. Each is started in turn with posix_spawnp (as ninja and make start theirs: under
 * LD_PRELOAD, the library's posix_spawn wrapper decides), waited for, and timed from just
 * before the spawn to the end of the wait. OUT gets one line per command: nanoseconds and
 * the exit status. Exits 1 when a command could not be started or did not exit 0 (every
 * command is still run and timed). */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The whole file, NUL-terminated twice more so that a truncated last record ends. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;
    if (!f || fstat(fileno(f), &st) < 0)
        return NULL;
    buf = calloc((size_t)st.st_size + 2, 1);
    if (buf && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)st.st_size;
    return buf;
}

/* Runs one record at *p (cwd, then argv) and advances *p past it; -1 when it could not start. */
static int run_one(char **p, const char *end, long long *ns, int *status)
{
    char *argv[4096];
    int argc = 0;
    const char *cwd = *p;
    pid_t pid;
    long long t;
    *p += strlen(*p) + 1;
    while (*p < end && **p && argc < 4095) {
        argv[argc++] = *p;
        *p += strlen(*p) + 1;
    }
    (*p)++; /* the empty string that ends the record */
    argv[argc] = NULL;
    if (!argc || chdir(cwd) < 0)
        return -1;
    t = now_ns();
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return -1;
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    *ns = now_ns() - t;
    return 0;
}

int main(int argc, char **argv)
{
    size_t len;
    char *buf, *p, *end;
    FILE *out;
    int bad = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: spawn LIST OUT\n");
        return 2;
    }
    if (!(buf = slurp(argv[1], &len)) || !(out = fopen(argv[2], "w"))) {
        perror("spawn");
        return 2;
    }
    end = buf + len;
    for (p = buf; p < end && *p;) {
        long long ns = -1;
        int status = -1;
        if (run_one(&p, end, &ns, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
            bad = 1;
        fprintf(out, "%lld %d\n", ns, status);
    }
    return fclose(out) || bad;
}
