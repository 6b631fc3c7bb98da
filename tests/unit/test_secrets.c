/* Secrets (issue 8): credentials in a URL never reach a message or `wafcache -p`. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/redact.h"

static const char *redact(const char *v)
{
    static char buf[256];

    wc_redact_url(v, buf, sizeof(buf));
    return buf;
}

START_TEST(urls_redacted)
{
    ck_assert_str_eq(redact("http://bob:pw@host:8080/c"), "http://bob:***@host:8080/c");
    ck_assert_str_eq(redact("https://tok3n@host/c"), "https://***@host/c");
    ck_assert_str_eq(redact("s3://AKIA:sec:ret@b/p/"), "s3://AKIA:***@b/p/");
    ck_assert_str_eq(redact("http://u:p@q@host/"), "http://u:***@host/");
    ck_assert_str_eq(redact("http://host/path@x"), "http://host/path@x");
    ck_assert_str_eq(redact("/var/cache/wc"), "/var/cache/wc");
    ck_assert_str_eq(redact("ftp://x:y@z"), "ftp://x:***@z");
    ck_assert_str_eq(redact(""), "");
}
END_TEST

struct env {
    const char *const *kv;
};

static const char *get(const char *name, void *ctx)
{
    const struct env *e = ctx;

    for (size_t i = 0; e->kv[i]; i += 2)
        if (strcmp(e->kv[i], name) == 0)
            return e->kv[i + 1];
    return NULL;
}

static void load(const char *const *kv, struct wc_config *c)
{
    struct env e = {kv};

    wc_config_load(c, get, &e);
}

START_TEST(errors_and_settings_hide_passwords)
{
    const char *const bad_scheme[] = {"WAFCACHE", "ftp://bob:s3cr3tpw@host/x", NULL};
    const char *const bad_size[] = {"WAFCACHE", "http://bob:s3cr3tpw@h/x",
                                    "WAFCACHE_EVICT_MAX_BYTES", "zz", NULL};
    const char *const good[] = {"WAFCACHE",
                                "https://bob:s3cr3tpw@h/x",
                                "WAFCACHE_LOCAL",
                                "/tmp/wc-secrets-none",
                                "WAFCACHE_CMD",
                                "curl -T %{SRC} https://u:s3cr3tpw@h/%{TGT}",
                                NULL};
    struct wc_config c;
    const char *name;
    char value[512];

    load(bad_scheme, &c);
    ck_assert(c.disabled);
    ck_assert_ptr_null(strstr(c.error, "s3cr3tpw"));
    ck_assert_ptr_nonnull(strstr(c.error, "ftp://bob:***@host/x"));
    wc_config_free(&c);

    load(bad_size, &c);
    ck_assert(c.disabled);
    ck_assert_ptr_null(strstr(c.error, "s3cr3tpw"));
    wc_config_free(&c);

    load(good, &c);
    ck_assert(!c.disabled);
    ck_assert_str_eq(c.cache, "https://bob:s3cr3tpw@h/x"); /* the store still gets it */
    for (unsigned i = 0; wc_config_setting(&c, i, &name, value, sizeof(value)) == 0; i++)
        ck_assert_msg(!strstr(value, "s3cr3tpw"), "%s shows the password: %s", name, value);
    wc_config_free(&c);
}
END_TEST

static const char *text(const char *v)
{
    static char buf[512];

    wc_redact(v, buf, sizeof(buf));
    return buf;
}

static const char *cmd(const char *v)
{
    static char buf[512];

    wc_redact_command(v, buf, sizeof(buf));
    return buf;
}

/* Credentials anywhere in a line of text: URLs in the middle of a message, query parameters,
 * Authorization headers; the rest of the line untouched. */
START_TEST(text_redacted)
{
    ck_assert_str_eq(text("fetch failed: GET http://alice:S3cr3tPW@host/x/0: 404"),
                     "fetch failed: GET http://alice:***@host/x/0: 404");
    ck_assert_str_eq(text("WAFCACHE=\"https://tok@h/x\" bad"), "WAFCACHE=\"https://***@h/x\" bad");
    ck_assert_str_eq(text("https://h/x?access_token=abc123&n=1"),
                     "https://h/x?access_token=***&n=1");
    ck_assert_str_eq(text("https://b.s3/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=f00d"),
                     "https://b.s3/k?X-Amz-Credential=***&X-Amz-Signature=***");
    ck_assert_str_eq(text("https://a.blob/c?sv=1&sig=Zm9v%3D&se=2"),
                     "https://a.blob/c?sv=1&sig=***&se=2");
    ck_assert_str_eq(text("u?password=hunter2 next"), "u?password=*** next");
    ck_assert_str_eq(text("header 'Authorization: Bearer abc.def' sent"),
                     "header 'Authorization: ***' sent");
    ck_assert_str_eq(text("Bearer abc.def"), "Bearer ***");
    ck_assert_str_eq(text("gcc -H -u main -c a.c -o a.o"), "gcc -H -u main -c a.c -o a.o");
    ck_assert_str_eq(text("/var/cache/wc: 3 entries, 10% hits"),
                     "/var/cache/wc: 3 entries, 10% hits");
    ck_assert_str_eq(text("https://h/x?tokens=1"), "https://h/x?tokens=1");
    ck_assert_str_eq(text(""), "");
}
END_TEST

/* WAFCACHE_CMD: what curl and wget take as credentials. */
START_TEST(commands_redacted)
{
    ck_assert_str_eq(cmd("curl -u admin:hunter2 -T %{SRC} https://h/%{TGT}"),
                     "curl -u *** -T %{SRC} https://h/%{TGT}");
    ck_assert_str_eq(cmd("curl --user admin:hunter2 --password=x -T a b"),
                     "curl --user *** --password=*** -T a b");
    ck_assert_str_eq(cmd("curl -H 'Authorization: Bearer t0k' -o %{TGT} %{SRC}"),
                     "curl -H *** -o %{TGT} %{SRC}");
    ck_assert_str_eq(cmd("curl --header \"X-Token: t0k\" x"), "curl --header *** x");
    ck_assert_str_eq(cmd("gsutil cp %{SRC} %{TGT}"), "gsutil cp %{SRC} %{TGT}");
}
END_TEST

/* The value of WAFCACHE_HTTP_TOKEN, wherever it shows. */
START_TEST(http_token_redacted)
{
    setenv("WAFCACHE_HTTP_TOKEN", "Zq8tokenValue", 1);
    ck_assert_str_eq(text("sent Zq8tokenValue twice: Zq8tokenValue."), "sent *** twice: ***.");
    unsetenv("WAFCACHE_HTTP_TOKEN");
}
END_TEST

int main(void)
{
    Suite *su = suite_create("secrets");
    TCase *tc = tcase_create("secrets");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, urls_redacted);
    tcase_add_test(tc, errors_and_settings_hide_passwords);
    tcase_add_test(tc, text_redacted);
    tcase_add_test(tc, commands_redacted);
    tcase_add_test(tc, http_token_redacted);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
