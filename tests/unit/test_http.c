/* The HTTP store against real servers started by the test: nginx with WebDAV (PUT mode) and
 * the seed's protocol in python's http.server (POST mode), plus servers that refuse, hang,
 * fail or cut bodies short. Without nginx or python3 the tests that need them say SKIP and
 * pass, except under CI (CI=true), where a missing server is a failure. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/util.h"
#include "store/http.h"
#include "store/remote.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define KEY2 "fedcba9876543210fedcba9876543210"
#define PASSWORD "p@ss%word"
#define PASSWORD_URL "p%40ss%25word"
#define TOKEN "s3cret-token"

static char tmp[PATH_MAX];
static pid_t server = -1;
static int port;

static void setup(void)
{
    const char *t = getenv("TMPDIR");

    snprintf(tmp, sizeof(tmp), "%s/wc-test-http.XXXXXX", t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    unsetenv(WC_HTTP_TOKEN_ENV);
}

static void teardown(void)
{
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        server = -1;
    }
    wc_rm_rf(tmp);
}

static char *path_in(const char *name)
{
    static char buf[8][PATH_MAX + 64];
    static int i;
    char *p = buf[i++ % 8];

    snprintf(p, sizeof(buf[0]), "%s/%s", tmp, name);
    return p;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- servers ---- */

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(int p)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)p),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

    close(fd);
    return ok;
}

/* Runs argv with its output in a log file; the server dies with the test's process even
 * when a failed assertion skips the teardown. */
static pid_t spawn(char *const *argv, const char *log)
{
    pid_t parent = getpid(), pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent || fd < 0)
            _exit(127);
        dup2(fd, 1);
        dup2(fd, 2);
        close(0);
        open("/dev/null", O_RDONLY);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static const char *find_exe(const char *name)
{
    static char buf[PATH_MAX];
    const char *dirs[] = {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", NULL};
    const char *path = getenv("PATH");
    char *copy = path ? strdup(path) : NULL, *save = NULL;

    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
        snprintf(buf, sizeof(buf), "%s/%s", d, name);
        if (access(buf, X_OK) == 0) {
            free(copy);
            return buf;
        }
    }
    free(copy);
    for (int i = 0; dirs[i]; i++) {
        snprintf(buf, sizeof(buf), "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0)
            return buf;
    }
    return NULL;
}

/* 1 when the test can go on; 0 (after saying SKIP) when the server is not installed. */
static int have(const char *exe)
{
    const char *ci = getenv("CI");

    if (find_exe(exe))
        return 1;
    ck_assert_msg(!(ci && !strcmp(ci, "true")), "%s is not installed (CI must install it)", exe);
    fprintf(stderr, "SKIP: %s is not installed; HTTP test not run\n", exe);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    ck_assert_int_eq(wc_write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void nginx_conf(const char *conf)
{
    static char text[12 * PATH_MAX];
    const char *d = tmp;

    snprintf(text, sizeof(text),
             "%s"
             "daemon off;\nmaster_process off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
             "events { worker_connections 64; }\n"
             "http {\n"
             "  access_log off;\n  client_max_body_size 0;\n"
             "  client_body_temp_path %s/t/body;\n  proxy_temp_path %s/t/proxy;\n"
             "  fastcgi_temp_path %s/t/fcgi;\n  uwsgi_temp_path %s/t/uwsgi;\n"
             "  scgi_temp_path %s/t/scgi;\n"
             "  server {\n    listen 127.0.0.1:%d;\n    root %s/www;\n"
             "    dav_methods PUT DELETE;\n    create_full_put_path on;\n"
             "    dav_access user:rw group:r all:r;\n"
             "    location /auth/ { auth_basic wafcache; auth_basic_user_file %s/htpasswd; }\n"
             "    location /token/ {\n"
             "      if ($http_authorization != \"Bearer " TOKEN "\") { return 401; }\n"
             "    }\n  }\n}\n",
             geteuid() == 0 ? "user root;\n" : "", d, d, d, d, d, d, d, port, d, d);
    write_text(conf, text);
    write_text(path_in("htpasswd"), "wc:{PLAIN}" PASSWORD "\n");
}

static void wait_up(const char *what)
{
    int64_t until = now_ms() + 10000;
    int status;

    while (!port_open(port)) {
        ck_assert_msg(waitpid(server, &status, WNOHANG) == 0, "%s exited at start", what);
        ck_assert_msg(now_ms() < until, "%s did not start", what);
        usleep(10000);
    }
}

static int start_nginx(void)
{
    char *conf = path_in("nginx.conf");
    char *argv[] = {(char *)find_exe("nginx"), "-p", tmp, "-c", conf, "-e",
                    path_in("error.log"),      NULL};

    if (!have("nginx"))
        return 0;
    port = free_port();
    ck_assert_int_eq(wc_mkdir_p(path_in("www/auth"), 0755), 0);
    ck_assert_int_eq(wc_mkdir_p(path_in("www/token"), 0755), 0);
    ck_assert_int_eq(wc_mkdir_p(path_in("t"), 0755), 0);
    nginx_conf(conf);
    server = spawn(argv, path_in("nginx.log"));
    wait_up("nginx");
    return 1;
}

static const char *seed_script(void)
{
    static char buf[PATH_MAX];
    const char *src = getenv("WC_TESTS_SRC");

    const char *here = __FILE__; /* absolute in a CMake build: .../tests/unit/test_http.c */
    int dir = (int)(strrchr(here, '/') ? strrchr(here, '/') - here : 1);

    if (src)
        snprintf(buf, sizeof(buf), "%s/integration/lib/seed_http_server.py", src);
    else
        snprintf(buf, sizeof(buf), "%.*s/../integration/lib/seed_http_server.py", dir, here);
    return buf;
}

static int start_seed(const char *mode)
{
    char *pf = path_in("port");
    char *argv[] = {"python3", (char *)seed_script(), "--root", path_in("seed"), "--port-file", pf,
                    "--mode",  (char *)mode,          NULL};
    int64_t until = now_ms() + 10000;
    char *buf;
    size_t len;

    if (!have("python3"))
        return 0;
    ck_assert_int_eq(wc_mkdir_p(path_in("seed"), 0755), 0);
    server = spawn(argv, path_in("seed.log"));
    while (wc_read_file(pf, 100, &buf, &len) != 0) {
        int status;
        ck_assert_msg(waitpid(server, &status, WNOHANG) == 0, "the seed server exited at start");
        ck_assert_msg(now_ms() < until, "the seed server did not start");
        usleep(10000);
    }
    port = atoi(buf);
    free(buf);
    return 1;
}

/* ---- stores ---- */

static wc_store *open_url(const char *url, int put, unsigned timeout_ms)
{
    struct wc_config c = {
        .cache = (char *)url, .kind = WC_STORE_HTTP, .http_put = put, .timeout_ms = timeout_ms};
    char errbuf[256];
    int err = 1;
    wc_store *s = wc_http_open(&c, &err, errbuf, sizeof(errbuf));

    ck_assert_msg(s != NULL, "open %s: %d %s", url, err, errbuf);
    ck_assert_int_eq(err, 0);
    return s;
}

static wc_store *open_store(const char *path, int put, unsigned timeout_ms)
{
    char url[512];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    return open_url(url, put, timeout_ms);
}

/* A file of n pseudo-random bytes: large enough to go out in many chunks. */
static char *random_file(const char *name, size_t n)
{
    char *p = path_in(name), *buf = malloc(n);
    unsigned x = 12345;

    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (char)(x >> 16);
    }
    ck_assert_int_eq(wc_write_file_atomic(p, buf, n, 0644), 0);
    free(buf);
    return p;
}

static void expect_same(const char *a, const char *b)
{
    char *x, *y;
    size_t lx, ly;

    ck_assert_int_eq(wc_read_file(a, 1 << 26, &x, &lx), 0);
    ck_assert_int_eq(wc_read_file(b, 1 << 26, &y, &ly), 0);
    ck_assert_uint_eq(lx, ly);
    ck_assert_msg(memcmp(x, y, lx) == 0, "%s and %s differ", a, b);
    free(x);
    free(y);
}

/* put/get/read/write/exists, common to both modes; stored is where the server keeps files. */
static void round_trip(wc_store *s, const char *stored)
{
    char *big = random_file("big.o", 3 << 20), *dest = path_in("dest.o"), *buf;
    char on_server[PATH_MAX + 128];
    size_t len;

    ck_assert_int_eq(s->put(s, KEY, "0", big), 0);
    snprintf(on_server, sizeof(on_server), "%s/%s/0", stored, KEY); /* the seed's layout */
    expect_same(big, on_server);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, dest), 0);
    expect_same(big, dest);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, dest), -EEXIST);

    ck_assert_int_eq(s->write(s, KEY, "meta", "meta\ntext", 9), 0);
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), 0);
    ck_assert_uint_eq(len, 9);
    ck_assert_str_eq(buf, "meta\ntext");
    free(buf);
    ck_assert_int_eq(s->write(s, KEY, "stdout", "", 0), 0);
    ck_assert_int_eq(s->read(s, KEY, "stdout", 100, &buf, &len), 0);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(buf, "");
    free(buf);
    ck_assert_int_eq(s->read(s, KEY, "0", 1 << 20, &buf, &len), -EFBIG);
    ck_assert_ptr_null(buf);

    ck_assert_int_eq(s->exists(s, KEY, "meta"), 0);
    ck_assert_int_eq(s->exists(s, KEY, "1"), -ENOENT);
    ck_assert_int_eq(s->exists(s, KEY2, "meta"), -ENOENT);
    ck_assert_int_eq(s->get(s, KEY2, "0", WC_STORE_UNBOUNDED, path_in("miss")), -ENOENT);
    ck_assert_int_eq(access(path_in("miss"), F_OK), -1);
    ck_assert_int_eq(s->read(s, KEY2, "meta", 100, &buf, &len), -ENOENT);
    ck_assert_int_eq(s->touch(s, KEY), 0);
    ck_assert_int_eq(s->get(s, KEY, "../meta", WC_STORE_UNBOUNDED, path_in("bad")), -EINVAL);
    ck_assert_int_eq(s->get(s, "0123", "meta", WC_STORE_UNBOUNDED, path_in("bad")), -EINVAL);
}

/* ---- PUT mode, nginx WebDAV ---- */

START_TEST(put_mode_round_trip)
{
    wc_store *s;

    if (!start_nginx())
        return;
    s = open_store("/cache", 1, 5000);
    round_trip(s, path_in("www/cache"));
    ck_assert_int_eq(s->remove(s, KEY), 0);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), -ENOENT);
    ck_assert_int_eq(s->exists(s, KEY, "0"), -ENOENT); /* the collection went too */
    ck_assert_int_eq(s->remove(s, KEY), -ENOENT);
    s->close(s);

    s = open_store("/cache/", 1, 5000); /* a trailing slash: the same files */
    ck_assert_int_eq(s->write(s, KEY2, "0", "x", 1), 0);
    ck_assert_int_eq(access(path_in("www/cache/" KEY2 "/0"), F_OK), 0);
    s->close(s);
}
END_TEST

START_TEST(put_mode_basic_auth)
{
    char url[256];
    wc_store *s;

    if (!start_nginx())
        return;
    snprintf(url, sizeof(url), "http://wc:%s@127.0.0.1:%d/auth/", PASSWORD_URL, port);
    s = open_url(url, 1, 5000);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), 0);
    ck_assert_int_eq(s->get(s, KEY, "1", WC_STORE_UNBOUNDED, path_in("x")), -ENOENT);
    ck_assert_ptr_null(strstr(s->reason(s), "p@ss"));
    ck_assert_ptr_null(strstr(s->reason(s), PASSWORD_URL));
    ck_assert_ptr_nonnull(strstr(s->reason(s), "127.0.0.1"));
    s->close(s);

    snprintf(url, sizeof(url), "http://wc:wrongpass@127.0.0.1:%d/auth", port);
    s = open_url(url, 1, 5000);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), -EACCES);
    ck_assert_ptr_null(strstr(s->reason(s), "wrongpass"));
    s->close(s);

    s = open_store("/auth", 1, 5000);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), -EACCES);
    s->close(s);
}
END_TEST

START_TEST(put_mode_bearer_token)
{
    wc_store *s;

    if (!start_nginx())
        return;
    s = open_store("/token", 1, 5000);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), -EACCES);
    s->close(s);
    setenv(WC_HTTP_TOKEN_ENV, TOKEN, 1);
    s = open_store("/token", 1, 5000);
    ck_assert_int_eq(s->write(s, KEY, "meta", "m", 1), 0);
    ck_assert_int_eq(s->exists(s, KEY, "meta"), 0);
    s->close(s);
}
END_TEST

/* ---- POST mode, the seed's protocol ---- */

START_TEST(post_mode_round_trip)
{
    wc_store *s;

    if (!start_seed("ok"))
        return;
    s = open_store("/files", 0, 5000);
    /* The server checks the multipart field and its filename "<key>/<name>". */
    round_trip(s, path_in("seed/files"));
    ck_assert_int_eq(s->remove(s, KEY), -ENOTSUP);
    s->close(s);
}
END_TEST

/* ---- faults ---- */

START_TEST(not_listening)
{
    wc_store *s;
    int64_t t0 = now_ms();
    int rc;

    port = free_port();
    s = open_store("/", 1, 2000);
    rc = s->get(s, KEY, "0", WC_STORE_UNBOUNDED, path_in("d"));
    ck_assert_msg(rc == -ECONNREFUSED, "get: %d %s", rc, s->reason(s));
    ck_assert_int_eq(access(path_in("d"), F_OK), -1);
    ck_assert_int_eq(s->write(s, KEY, "0", "x", 1), -ECONNREFUSED);
    ck_assert_int_lt(now_ms() - t0, 2000);
    s->close(s);
}
END_TEST

START_TEST(server_never_answers)
{
    wc_store *s;
    char *buf;
    size_t len;
    int64_t t0;

    if (!start_seed("hang"))
        return;
    s = open_store("/", 0, 500);
    t0 = now_ms();
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, path_in("d")), -ETIMEDOUT);
    ck_assert_int_eq(access(path_in("d"), F_OK), -1);
    ck_assert_int_eq(s->read(s, KEY, "meta", 100, &buf, &len), -ETIMEDOUT);
    ck_assert_int_eq(s->write(s, KEY, "0", "x", 1), -ETIMEDOUT);
    ck_assert_int_eq(s->exists(s, KEY, "0"), -ETIMEDOUT);
    ck_assert_int_lt(now_ms() - t0, 4 * 500 + 1500);
    s->close(s);
}
END_TEST

START_TEST(server_error_500)
{
    wc_store *s;
    char *buf;
    size_t len;

    if (!start_seed("500"))
        return;
    s = open_store("/", 0, 5000);
    ck_assert_int_eq(s->write(s, KEY, "0", "x", 1), -EIO);
    ck_assert_ptr_nonnull(strstr(s->reason(s), "500"));
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, path_in("d")), -EIO);
    ck_assert_int_eq(access(path_in("d"), F_OK), -1);
    ck_assert_int_eq(s->read(s, KEY, "0", 100, &buf, &len), -EIO);
    ck_assert_int_eq(s->exists(s, KEY, "0"), -EIO);
    s->close(s);
}
END_TEST

START_TEST(truncated_body)
{
    wc_store *s;
    char *buf;
    size_t len;

    if (!start_seed("truncate"))
        return;
    s = open_store("/", 0, 5000);
    ck_assert_int_eq(s->get(s, KEY, "0", WC_STORE_UNBOUNDED, path_in("d")), -EIO);
    ck_assert_int_eq(access(path_in("d"), F_OK), -1);
    ck_assert_int_eq(s->read(s, KEY, "0", 1 << 20, &buf, &len), -EIO);
    ck_assert_ptr_null(buf);
    s->close(s);
}
END_TEST

START_TEST(open_errors)
{
    struct wc_config c = {.kind = WC_STORE_HTTP, .timeout_ms = 1000};
    const char *bad[] = {"http://u:secret@[::1", "http://host/x?q=1", "http://host/x#frag",
                         "ftp://host/x", "not a url"};
    char errbuf[256];
    int err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c.cache = (char *)bad[i];
        ck_assert_msg(wc_http_open(&c, &err, errbuf, sizeof(errbuf)) == NULL, "%s", bad[i]);
        ck_assert_int_eq(err, -EINVAL);
        ck_assert_ptr_null(strstr(errbuf, "secret"));
        ck_assert_uint_gt(strlen(errbuf), 0);
    }
    setenv(WC_HTTP_TOKEN_ENV, "a\r\nX-Evil: 1", 1);
    c.cache = "http://host/";
    ck_assert_ptr_null(wc_http_open(&c, &err, errbuf, sizeof(errbuf)));
    ck_assert_int_eq(err, -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *put = tcase_create("put"), *post = tcase_create("post"),
          *faults = tcase_create("faults");
    SRunner *r;
    int failed;

    signal(SIGPIPE, SIG_IGN);
    tcase_add_checked_fixture(put, setup, teardown);
    tcase_add_test(put, put_mode_round_trip);
    tcase_add_test(put, put_mode_basic_auth);
    tcase_add_test(put, put_mode_bearer_token);
    suite_add_tcase(s, put);

    tcase_add_checked_fixture(post, setup, teardown);
    tcase_add_test(post, post_mode_round_trip);
    suite_add_tcase(s, post);

    tcase_add_checked_fixture(faults, setup, teardown);
    tcase_add_test(faults, not_listening);
    tcase_add_test(faults, server_never_answers);
    tcase_add_test(faults, server_error_500);
    tcase_add_test(faults, truncated_body);
    tcase_add_test(faults, open_errors);
    suite_add_tcase(s, faults);

    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
