/* The native S3 store (store/s3.c) against a real S3 clone: s3rver from npm, started by this
 * test on a free 127.0.0.1 port with a fresh directory and a pre-created bucket, behind a
 * SigV4 check (tests/unit/data/sigv4/s3rver-sigv4.js) because s3rver 3.x verifies only V2
 * signatures. s3rver is installed on first use into $WC_S3RVER_DIR (default
 * ~/.cache/wafcache-tests/s3rver) with npm; without node and npm the server tests are
 * skipped with a message (a failure when WC_REQUIRE_S3RVER is set). The tests of opening
 * and of unreachable servers need no server and always run. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/remote.h"
#include "store/sigv4.h"

#define BUCKET "wafcache-test"
#define KEY "0123456789abcdef0123456789abcdef"
#define KEY2 "fedcba9876543210fedcba9876543210"
#define S3RVER_VERSION "s3rver@3.7.1"
#define AWS4_VERSION "aws4@1.13.2"
#define START_TIMEOUT_MS 30000

static pid_t server_pid = -1;
static char server_dir[64]; /* s3rver's data: <dir>/<bucket>/<object>._S3rver_object */
static char server_url[64]; /* http://127.0.0.1:PORT */
static char work_dir[64];   /* files put and got */

/* ---- the server ---- */

static const char *s3rver_home(char *buf, size_t n)
{
    const char *d = getenv("WC_S3RVER_DIR"), *home = getenv("HOME");

    if (d && *d)
        return d;
    snprintf(buf, n, "%s/.cache/wafcache-tests/s3rver", home ? home : "/tmp");
    return buf;
}

static int installed(const char *home)
{
    char a[PATH_MAX + 64], b[PATH_MAX + 64];

    snprintf(a, sizeof(a), "%.*s/node_modules/s3rver/package.json", PATH_MAX, home);
    snprintf(b, sizeof(b), "%.*s/node_modules/aws4/package.json", PATH_MAX, home);
    return access(a, R_OK) == 0 && access(b, R_OK) == 0;
}

/* Installs s3rver and aws4 with npm, bounded in time. 0, or -1 with *why set. */
static int install(const char *home, const char **why)
{
    char *cmd = NULL;
    int rc;

    if (installed(home))
        return 0;
    if (system("command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1") != 0) {
        *why = "node and npm are not installed (Debian packages nodejs and npm)";
        return -1;
    }
    fprintf(stderr, "test_s3: installing " S3RVER_VERSION " into %s\n", home);
    /* Not ck_assert: this runs before any test. */
    if (asprintf(&cmd,
                 "mkdir -p '%s' && timeout 300 npm install --prefix '%s' --no-audit --no-fund "
                 "--loglevel=error " S3RVER_VERSION " " AWS4_VERSION " >&2",
                 home, home) < 0) {
        *why = "out of memory";
        return -1;
    }
    rc = system(cmd);
    free(cmd);
    if (rc != 0 || !installed(home)) {
        *why = "npm install " S3RVER_VERSION " failed";
        return -1;
    }
    return 0;
}

static void exec_server(const char *home, const char *script, int out)
{
    char *node_path = NULL;

    if (asprintf(&node_path, "%s/node_modules", home) < 0)
        _exit(127);
    setenv("NODE_PATH", node_path, 1);
    setpgid(0, 0); /* its own group, so that stop_server reaches anything node starts */
    dup2(out, STDOUT_FILENO);
    execlp("node", "node", script, server_dir, BUCKET, (char *)NULL);
    _exit(127);
}

/* Reads "listening on 127.0.0.1:PORT" from the server, within START_TIMEOUT_MS. */
static int read_port(int fd)
{
    char line[256] = "";
    size_t len = 0;
    const char *colon;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (!strchr(line, '\n') && len < sizeof(line) - 1) {
        ssize_t r;
        if (poll(&p, 1, START_TIMEOUT_MS) != 1)
            return -1;
        r = read(fd, line + len, sizeof(line) - 1 - len);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        line[len] = '\0';
    }
    colon = strrchr(line, ':');
    return strncmp(line, "listening on ", 13) || !colon ? -1 : atoi(colon + 1);
}

static int start_server(const char **why)
{
    char home_buf[PATH_MAX], script[PATH_MAX];
    const char *home = s3rver_home(home_buf, sizeof(home_buf)), *src = getenv("WC_TESTS_SRC");
    int fds[2], port;

    snprintf(script, sizeof(script), "%s/unit/data/sigv4/s3rver-sigv4.js", src ? src : "tests");
    if (install(home, why) < 0)
        return -1;
    strcpy(server_dir, "/tmp/wc-s3rver-XXXXXX");
    if (!mkdtemp(server_dir) || pipe(fds) != 0) {
        *why = "no temporary directory or pipe";
        return -1;
    }
    server_pid = fork();
    if (server_pid == 0) {
        close(fds[0]);
        exec_server(home, script, fds[1]);
    }
    close(fds[1]);
    port = server_pid > 0 ? read_port(fds[0]) : -1;
    close(fds[0]);
    if (port <= 0) {
        *why = "s3rver did not start (see its messages above)";
        return -1;
    }
    snprintf(server_url, sizeof(server_url), "http://127.0.0.1:%d", port);
    return 0;
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(-server_pid, SIGTERM);
        kill(server_pid, SIGTERM);
        for (int i = 0; i < 50 && waitpid(server_pid, NULL, WNOHANG) == 0; i++)
            usleep(100000);
        kill(-server_pid, SIGKILL);
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
    if (server_dir[0])
        wc_rm_rf(server_dir);
}

/* ---- helpers ---- */

static void use_server_env(const char *endpoint)
{
    setenv("AWS_ENDPOINT_URL_S3", endpoint, 1);
    setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL");
}

static wc_store *open_s3(const char *cache, unsigned timeout_ms)
{
    struct wc_config c;
    char why[256];
    int err = 0;
    wc_store *s;

    memset(&c, 0, sizeof(c));
    c.cache = (char *)cache;
    c.kind = WC_STORE_S3;
    c.timeout_ms = timeout_ms;
    s = wc_s3_open(&c, &err, why, sizeof(why));
    ck_assert_msg(s != NULL, "wc_s3_open %s: %s (%s)", cache, why, strerror(-err));
    return s;
}

static int open_fails(const char *cache, char *why, size_t n)
{
    struct wc_config c;
    int err = 0;
    wc_store *s;

    memset(&c, 0, sizeof(c));
    c.cache = (char *)cache;
    c.kind = WC_STORE_S3;
    c.timeout_ms = 1000;
    s = wc_s3_open(&c, &err, why, n);
    ck_assert_ptr_null(s);
    return err;
}

static char *wpath(const char *name)
{
    static char buf[4][PATH_MAX];
    static int i;
    char *b = buf[i++ % 4];

    snprintf(b, PATH_MAX, "%s/%s", work_dir, name);
    return b;
}

static void write_text(const char *path, const char *text)
{
    ck_assert_int_eq(wc_write_file_atomic(path, text, strlen(text), 0644), 0);
}

static char *slurp(const char *path)
{
    char *buf;
    size_t len;

    ck_assert_int_eq(wc_read_file(path, 1 << 24, &buf, &len), 0);
    return buf;
}

static void setup(void)
{
    strcpy(work_dir, "/tmp/wc-s3-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(work_dir));
    use_server_env(server_url);
}

static void teardown(void)
{
    wc_rm_rf(work_dir);
}

/* ---- with the server ---- */

START_TEST(round_trip)
{
    wc_store *s = open_s3("s3://" BUCKET "/ci", 5000);
    char *buf, *got, obj[PATH_MAX];
    size_t len;

    ck_assert_str_eq(s->name, "s3");
    write_text(wpath("src"), "an object file\n");
    ck_assert_int_eq(s->put(s, KEY, "0", wpath("src")), 0);
    ck_assert_int_eq(s->write(s, KEY, "meta", "meta text", 9), 0);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, wpath("dest")), 0);
    got = slurp(wpath("dest"));
    ck_assert_str_eq(got, "an object file\n");
    free(got);
    ck_assert_int_eq(s->read(s, KEY, "meta", 1024, &buf, &len), 0);
    ck_assert_uint_eq(len, 9);
    ck_assert_str_eq(buf, "meta text");
    free(buf);
    ck_assert_int_eq(s->exists(s, KEY, "0"), 0);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), 0);
    ck_assert_int_eq(s->touch(s, KEY), 0);
    ck_assert_str_eq(s->reason(s), "");
    /* The seed's layout below the prefix, "ci" made "ci/". */
    snprintf(obj, sizeof(obj), "%s/" BUCKET "/ci/01/" KEY "/0._S3rver_object", server_dir);
    ck_assert_msg(access(obj, F_OK) == 0, "%s missing", obj);
    ck_assert_int_eq(s->remove(s, KEY), 0);
    ck_assert_int_eq(s->exists(s, KEY, "0"), -ENOENT);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), -ENOENT);
    ck_assert_int_eq(s->remove(s, KEY), -ENOENT);
    s->close(s);
}
END_TEST

/* An empty object, and a file larger than one curl buffer. */
START_TEST(sizes)
{
    wc_store *s = open_s3("s3://" BUCKET "/sizes/", 5000);
    size_t big = 3 * 1024 * 1024 + 17;
    char *data = malloc(big), *buf;
    size_t len;

    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 31 + i / 4093);
    ck_assert_int_eq(wc_write_file_atomic(wpath("big"), data, big, 0644), 0);
    ck_assert_int_eq(s->put(s, KEY, "1", wpath("big")), 0);
    ck_assert_int_eq(s->get(s, KEY, "1", WC_STORE_UNBOUNDED, wpath("big.back")), 0);
    ck_assert_int_eq(wc_read_file(wpath("big.back"), big, &buf, &len), 0);
    ck_assert_uint_eq(len, big);
    ck_assert(memcmp(buf, data, big) == 0);
    free(buf);
    ck_assert_int_eq(s->write(s, KEY, "stdout", "", 0), 0);
    ck_assert_int_eq(s->read(s, KEY, "stdout", 10, &buf, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(buf, "");
    free(buf);
    ck_assert_int_eq(s->remove(s, KEY), 0);
    free(data);
    s->close(s);
}
END_TEST

START_TEST(missing_is_enoent)
{
    wc_store *s = open_s3("s3://" BUCKET "/ci/", 5000);
    char *buf = (char *)1;
    size_t len = 1;

    ck_assert_int_eq(s->get(s, KEY2, "0", WC_STORE_UNBOUNDED, wpath("dest")), -ENOENT);
    ck_assert_int_eq(access(wpath("dest"), F_OK), -1); /* nothing left behind */
    ck_assert_int_eq(s->read(s, KEY2, "meta", 1024, &buf, &len), -ENOENT);
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(s->exists(s, KEY2, "meta"), -ENOENT);
    s->close(s);
    /* A bucket that does not exist: a miss, with the reason. */
    s = open_s3("s3://no-such-bucket/", 5000);
    ck_assert_int_eq(s->read(s, KEY2, "meta", 1024, &buf, &len), -ENOENT);
    ck_assert_ptr_nonnull(strstr(s->reason(s), "no-such-bucket"));
    s->close(s);
}
END_TEST

START_TEST(read_is_bounded_and_get_refuses_existing)
{
    wc_store *s = open_s3("s3://" BUCKET "/bounded/", 5000);
    char text[101], *buf;
    size_t len;

    memset(text, 'x', 100);
    text[100] = '\0';
    ck_assert_int_eq(s->write(s, KEY, "meta", text, 100), 0);
    ck_assert_int_eq(s->read(s, KEY, "meta", 10, &buf, &len), -EFBIG);
    ck_assert_ptr_null(buf);
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), 0);
    ck_assert_str_eq(buf, text);
    free(buf);
    write_text(wpath("there"), "mine");
    ck_assert_int_eq(s->get(s, KEY, "meta", WC_STORE_UNBOUNDED, wpath("there")), -EEXIST);
    buf = slurp(wpath("there"));
    ck_assert_str_eq(buf, "mine");
    free(buf);
    ck_assert_int_eq(s->exists(s, KEY, "../x"), -EINVAL);
    ck_assert_int_eq(s->exists(s, "not-a-key", "meta"), -EINVAL);
    ck_assert_int_eq(s->remove(s, KEY), 0);
    s->close(s);
}
END_TEST

/* The check in front of s3rver recomputes the signature with the secret S3RVER. */
START_TEST(wrong_secret_is_eacces_with_reason)
{
    wc_store *s;
    char *buf;
    size_t len;

    setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
    s = open_s3("s3://" BUCKET "/ci/", 5000);
    ck_assert_int_eq(s->write(s, KEY, "meta", "x", 1), -EACCES);
    ck_assert_str_eq(s->reason(s),
                     "S3 refused the request signature (check AWS_SECRET_ACCESS_KEY)");
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), -EACCES);
    ck_assert_str_eq(s->reason(s),
                     "S3 refused the request signature (check AWS_SECRET_ACCESS_KEY)");
    ck_assert_int_eq(s->get(s, KEY, "meta", WC_STORE_UNBOUNDED, wpath("dest")), -EACCES);
    ck_assert_int_eq(access(wpath("dest"), F_OK), -1);
    /* HEAD answers carry no body: the reason still points at the secret. */
    ck_assert_int_eq(s->exists(s, KEY, "meta"), -EACCES);
    ck_assert_ptr_nonnull(strstr(s->reason(s), "AWS_SECRET_ACCESS_KEY"));
    ck_assert_ptr_null(strstr(s->reason(s), "not-the-secret"));
    s->close(s);

    use_server_env(server_url);
    setenv("AWS_ACCESS_KEY_ID", "NOBODY", 1);
    s = open_s3("s3://" BUCKET "/ci/", 5000);
    ck_assert_int_eq(s->write(s, KEY, "meta", "x", 1), -EACCES);
    ck_assert_ptr_nonnull(strstr(s->reason(s), "AWS_ACCESS_KEY_ID"));
    s->close(s);
}
END_TEST

/* A session token is sent and signed (the check rejects a request whose signed headers it
 * cannot find, or whose signature does not cover them). */
START_TEST(session_token_is_signed)
{
    wc_store *s;
    char *buf;
    size_t len;

    setenv("AWS_SESSION_TOKEN", "a-session-token", 1);
    s = open_s3("s3://" BUCKET "/token/", 5000);
    ck_assert_int_eq(s->write(s, KEY, "meta", "tok", 3), 0);
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), 0);
    ck_assert_str_eq(buf, "tok");
    free(buf);
    ck_assert_int_eq(s->remove(s, KEY), 0);
    s->close(s);
}
END_TEST

/* Characters that must be percent-encoded exactly once, in the prefix: the server verifies
 * the signature over the path it decoded, and stores the object under the decoded name. */
START_TEST(odd_prefix_is_encoded_once)
{
    const char *prefix = "odd dir+plus$&=;@,\xc3\xbc~%41(x)";
    char cache[256], obj[PATH_MAX], *buf;
    wc_store *s;
    size_t len;

    snprintf(cache, sizeof(cache), "s3://" BUCKET "/%s/", prefix);
    s = open_s3(cache, 5000);
    write_text(wpath("src"), "odd");
    ck_assert_int_eq(s->put(s, KEY, "0", wpath("src")), 0);
    ck_assert_msg(s->write(s, KEY, "meta", "m", 1) == 0, "%s", s->reason(s));
    snprintf(obj, sizeof(obj), "%s/" BUCKET "/%s/01/" KEY "/meta._S3rver_object", server_dir,
             prefix);
    ck_assert_msg(access(obj, F_OK) == 0, "%s missing", obj);
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), 0);
    ck_assert_str_eq(buf, "m");
    free(buf);
    ck_assert_int_eq(s->exists(s, KEY, "0"), 0);
    ck_assert_int_eq(s->remove(s, KEY), 0);
    ck_assert_int_eq(access(obj, F_OK), -1);
    ck_assert_int_eq(s->exists(s, KEY, "0"), -ENOENT);
    s->close(s);
}
END_TEST

/* remove() deletes every file of the entry and nothing of its neighbours. */
START_TEST(remove_takes_the_whole_entry_only)
{
    wc_store *s = open_s3("s3://" BUCKET "/rm/", 5000);
    char name[16];

    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "%d", i);
        ck_assert_int_eq(s->write(s, KEY, name, name, strlen(name)), 0);
    }
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(s->write(s, KEY2, "meta", "other", 5), 0);
    ck_assert_int_eq(s->remove(s, KEY), 0);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), -ENOENT);
    ck_assert_int_eq(s->exists(s, KEY, "11"), -ENOENT);
    ck_assert_int_eq(s->exists(s, KEY2, "meta"), 0);
    ck_assert_int_eq(s->remove(s, KEY2), 0);
    s->close(s);
}
END_TEST

/* ---- without a server ---- */

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A port nobody listens on: refused at once. */
START_TEST(closed_port_fails_fast)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64], *buf;
    size_t len;
    wc_store *s;
    double t0;

    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd); /* the port is free now, and nothing listens on it */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    use_server_env(url);
    s = open_s3("s3://" BUCKET "/", 1000);
    t0 = now_s();
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), -ECONNREFUSED);
    ck_assert_double_lt(now_s() - t0, 1.0);
    ck_assert_ptr_nonnull(strstr(s->reason(s), "127.0.0.1"));
    s->close(s);
}
END_TEST

/* A server that accepts connections and never answers: each request ends at the timeout. */
START_TEST(silent_server_times_out)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    wc_store *s;
    double t0, dt;

    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 8), 0); /* the kernel completes handshakes; nobody reads */
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
    use_server_env(url);
    s = open_s3("s3://" BUCKET "/", 500);
    t0 = now_s();
    ck_assert_int_eq(s->exists(s, KEY, "meta"), -ETIMEDOUT);
    ck_assert_int_eq(s->write(s, KEY, "meta", "x", 1), -ETIMEDOUT);
    dt = now_s() - t0;
    ck_assert_msg(dt >= 0.9 && dt < 3.0, "two requests took %.2f s with a 0.5 s timeout", dt);
    s->close(s);
    close(fd);
}
END_TEST

/* A one-shot HTTP proxy: accepts one connection and sends its request line to the pipe. */
static pid_t fake_proxy(int *port, int *line_fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), p[2];
    pid_t pid;

    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 1), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    if (pid == 0) {
        char buf[512];
        int c = accept(fd, NULL, NULL);
        ssize_t n = c >= 0 ? read(c, buf, sizeof(buf) - 1) : -1;
        char *eol = n > 0 ? memchr(buf, '\r', (size_t)n) : NULL;
        if (eol && write(p[1], buf, (size_t)(eol - buf)) < 0)
            _exit(1);
        static const char no[] = "HTTP/1.1 403 Forbidden\r\n\r\n";
        if (c >= 0 && write(c, no, sizeof(no) - 1) < 0)
            _exit(1);
        _exit(0);
    }
    close(fd);
    close(p[1]);
    *port = ntohs(a.sin_port);
    *line_fd = p[0];
    return pid;
}

static void expect_connect(const char *cache, const char *want)
{
    char proxy[64], line[512] = "";
    int port, fd;
    pid_t pid = fake_proxy(&port, &fd);
    wc_store *s;
    ssize_t n;

    snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
    setenv("https_proxy", proxy, 1);
    s = open_s3(cache, 2000);
    ck_assert_int_lt(s->exists(s, KEY, "meta"), 0);
    s->close(s);
    n = read(fd, line, sizeof(line) - 1);
    ck_assert_int_gt(n, 0);
    line[n] = '\0';
    ck_assert_str_eq(line, want);
    close(fd);
    waitpid(pid, NULL, 0);
}

/* Without an endpoint: AWS itself, over TLS, virtual-host style, in the region asked for
 * (seen through a proxy, the one place a test sees where a TLS request goes). */
START_TEST(aws_addressing)
{
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_REGION");
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
    expect_connect("s3://" BUCKET "/x/",
                   "CONNECT " BUCKET ".s3.eu-west-3.amazonaws.com:443 HTTP/1.1");
    setenv("AWS_REGION", "ap-south-1", 1); /* AWS_REGION wins over AWS_DEFAULT_REGION */
    expect_connect("s3://my.dotted.bucket/", "CONNECT s3.ap-south-1.amazonaws.com:443 HTTP/1.1");
}
END_TEST

START_TEST(open_needs_keys)
{
    char why[256];

    use_server_env("http://127.0.0.1:9");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    ck_assert_int_eq(open_fails("s3://" BUCKET "/", why, sizeof(why)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "AWS_SECRET_ACCESS_KEY"));
    ck_assert_ptr_null(strstr(why, "AWS_ACCESS_KEY_ID"));
    setenv("AWS_SECRET_ACCESS_KEY", "", 1); /* empty counts as unset */
    unsetenv("AWS_ACCESS_KEY_ID");
    ck_assert_int_eq(open_fails("s3://" BUCKET "/", why, sizeof(why)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"));
}
END_TEST

START_TEST(open_refuses_bad_urls)
{
    char why[256];

    use_server_env("127.0.0.1:9000");
    ck_assert_int_eq(open_fails("s3://" BUCKET "/", why, sizeof(why)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "AWS_ENDPOINT_URL_S3"));
    unsetenv("AWS_ENDPOINT_URL_S3");
    setenv("AWS_ENDPOINT_URL", "ftp://127.0.0.1/", 1);
    ck_assert_int_eq(open_fails("s3://" BUCKET "/", why, sizeof(why)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why, "AWS_ENDPOINT_URL"));
    use_server_env("http://127.0.0.1:9");
    ck_assert_int_eq(open_fails("s3://", why, sizeof(why)), -EINVAL);
    ck_assert_int_eq(open_fails("s3://a b/x", why, sizeof(why)), -EINVAL);
    ck_assert_int_eq(open_fails("http://x/", why, sizeof(why)), -EINVAL);
}
END_TEST

static TCase *server_tests(void)
{
    TCase *tc = tcase_create("s3rver");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, missing_is_enoent);
    tcase_add_test(tc, read_is_bounded_and_get_refuses_existing);
    tcase_add_test(tc, wrong_secret_is_eacces_with_reason);
    tcase_add_test(tc, session_token_is_signed);
    tcase_add_test(tc, odd_prefix_is_encoded_once);
    tcase_add_test(tc, remove_takes_the_whole_entry_only);
    return tc;
}

static TCase *offline_tests(void)
{
    TCase *tc = tcase_create("offline");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, closed_port_fails_fast);
    tcase_add_test(tc, silent_server_times_out);
    tcase_add_test(tc, aws_addressing);
    tcase_add_test(tc, open_needs_keys);
    tcase_add_test(tc, open_refuses_bad_urls);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("s3");
    const char *why = NULL;
    int failed, have_server = start_server(&why) == 0;
    SRunner *r;

    if (!have_server) {
        fprintf(stderr, "test_s3: SKIPPING the s3rver tests: %s\n", why);
        if (getenv("WC_REQUIRE_S3RVER")) {
            stop_server();
            return EXIT_FAILURE;
        }
    }
    suite_add_tcase(s, offline_tests());
    if (have_server)
        suite_add_tcase(s, server_tests());
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    stop_server();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
