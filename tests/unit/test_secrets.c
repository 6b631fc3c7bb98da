/* Secrets (issue 8): credentials in a URL never reach a message or `wafcache -p`. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

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

int main(void)
{
    Suite *su = suite_create("secrets");
    TCase *tc = tcase_create("secrets");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, urls_redacted);
    tcase_add_test(tc, errors_and_settings_hide_passwords);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
