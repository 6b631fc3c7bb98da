/* The manifest: a round trip through its text, garbage refused, lookups against real files,
 * the bounded most-recent-first list, and the result key. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "hashing/manifest.h"

static char dir[256]; /* a temporary "checkout", the base dir */
static wc_basedirs bd;

static void rm_rf(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
    strcpy(dir, "/tmp/wc-test-manifest.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(wc_basedirs_parse(&bd, dir, "/nonexistent-home"), 0);
}

static void teardown(void)
{
    wc_basedirs_free(&bd);
    rm_rf(dir);
}

static char *path_in(const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void write_text(const char *name, const char *text)
{
    char *p = path_in(name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void key1_fill(wc_key1 *k)
{
    memset(k, 0, sizeof *k);
    static char *argv[] = {"@WAFCACHE_BASEDIR@/tools/gcc", "-c", "x\ny\tz\\w", "-o", "x.o", NULL};
    k->argc = 5;
    k->argv = argv;
    k->cwd = "@WAFCACHE_BASEDIR@/build";
    k->program.lo = 42;
    k->key.hi = 99;
}

/* A set of the given input files (hashed now) and probes, in the temp dir. */
static void make_set(struct wc_mf_set *s, const char *const *inputs, const char *const *probes)
{
    memset(s, 0, sizeof *s);
    size_t ni = 0, np = 0;
    while (inputs && inputs[ni])
        ni++;
    while (probes && probes[np])
        np++;
    s->inputs = calloc(ni + 1, sizeof *s->inputs);
    s->probes = calloc(np + 1, sizeof *s->probes);
    for (size_t i = 0; i < ni; i++) {
        char *p = path_in(inputs[i]);
        ck_assert_int_eq(wc_memo_hash(NULL, p, &s->inputs[i].hash, NULL, NULL), 0);
        s->inputs[i].path = wc_mf_path_store(&bd, p);
        free(p);
    }
    for (size_t i = 0; i < np; i++) {
        char *p = path_in(probes[i]);
        s->probes[i] = wc_mf_path_store(&bd, p);
        free(p);
    }
    s->n_inputs = ni;
    s->n_probes = np;
    wc_mf_set_canonical(s);
}

static void manifest_init(wc_manifest *m)
{
    wc_key1 k;
    memset(m, 0, sizeof *m);
    key1_fill(&k);
    ck_assert_int_eq(wc_manifest_set_key1(m, &k), 0);
}

static char *format(const wc_manifest *m, size_t *len)
{
    char *t = wc_manifest_format(m, len);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(strlen(t), *len);
    return t;
}

/* Formatting what was parsed gives back the same bytes. */
static void expect_same_format(const wc_manifest *back, const char *t, size_t len)
{
    size_t len2;
    char *t2 = format(back, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert_int_eq(memcmp(t, t2, len), 0);
    free(t2);
}

static void add_env(struct wc_mf_set *s, const char *name, const char *value)
{
    s->env = realloc(s->env, (s->n_env + 1) * sizeof *s->env);
    s->env[s->n_env].name = strdup(name);
    s->env[s->n_env].value = value ? strdup(value) : NULL;
    s->env[s->n_env].canonical = 0;
    s->n_env++;
}

START_TEST(round_trip)
{
    wc_manifest m, back;
    manifest_init(&m);
    free(m.k1.cpu);
    m.k1.cpu = strdup("model name\t: X\nflags\t: a b\n");
    m.k1.abs_cwd = strdup("/abs/build");
    m.k1.stderr_tty = 1;
    m.k1.tty_columns = 132;
    write_text("a.h", "int a;\n");
    write_text("b with space\nand newline.h", "int b;\n");
    const char *in1[] = {"b with space\nand newline.h", "a.h", NULL};
    const char *pr1[] = {"inc/a.h", "zz/missing.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in1, pr1);
    s.date = 1;
    s.result.lo = 5;
    wc_manifest_add(&m, &s);
    make_set(&s, NULL, pr1);
    add_env(&s, "CPATH", "/inc\nwith=equals\tand tab");
    add_env(&s, "AAA", NULL);
    add_env(&s, "ZZZ", "");
    wc_mf_set_env_canonical(&s);
    wc_manifest_add(&m, &s);

    size_t len;
    char *t = format(&m, &len);
    ck_assert_int_eq(wc_manifest_parse(t, len, &back), 0);
    ck_assert(wc_hash_equal(&back.k1.key, &m.k1.key));
    ck_assert(wc_hash_equal(&back.k1.program, &m.k1.program));
    ck_assert_uint_eq(back.k1.argc, 5);
    ck_assert_str_eq(back.k1.argv[2], "x\ny\tz\\w");
    ck_assert_str_eq(back.k1.cwd, "@WAFCACHE_BASEDIR@/build");
    ck_assert_str_eq(back.k1.abs_cwd, "/abs/build");
    ck_assert_ptr_null(back.k1.debug_dir);
    ck_assert_str_eq(back.k1.cpu, m.k1.cpu);
    ck_assert_int_eq(back.k1.stderr_tty, 1);
    ck_assert_uint_eq(back.k1.tty_columns, 132);
    ck_assert_uint_eq(back.n_sets, 2);
    ck_assert_uint_eq(back.sets[0].n_inputs, 0);
    ck_assert_uint_eq(back.sets[0].n_env, 3);
    ck_assert_str_eq(back.sets[0].env[0].name, "AAA");
    ck_assert_ptr_null(back.sets[0].env[0].value);
    ck_assert_str_eq(back.sets[0].env[1].name, "CPATH");
    ck_assert_str_eq(back.sets[0].env[1].value, "/inc\nwith=equals\tand tab");
    ck_assert_str_eq(back.sets[0].env[2].value, "");
    ck_assert_uint_eq(back.sets[1].n_env, 0);
    ck_assert_uint_eq(back.sets[1].n_inputs, 2);
    ck_assert_uint_eq(back.sets[1].n_probes, 2);
    ck_assert_int_eq(back.sets[1].date, 1);
    ck_assert_uint_eq(back.sets[1].result.lo, 5);
    /* canonical: sorted by path */
    ck_assert(strcmp(back.sets[1].inputs[0].path, back.sets[1].inputs[1].path) < 0);
    ck_assert_ptr_nonnull(strstr(back.sets[1].inputs[1].path, "space\nand"));
    expect_same_format(&back, t, len);
    free(t);
    wc_manifest_free(&back);
    wc_manifest_free(&m);
}
END_TEST

static int parses(const char *text)
{
    wc_manifest m;
    int rc = wc_manifest_parse(text, strlen(text), &m);
    wc_manifest_free(&m);
    return rc;
}

#define HEAD                                                                                       \
    "wafcache-manifest 3\nkey1 0123456789abcdef0123456789abcdef\n"                                 \
    "program 0123456789abcdef0123456789abcdef\ncwd .\ntty 0 0\narg gcc\n"
#define HEX "0123456789abcdef0123456789abcdef"

START_TEST(minimal_and_garbage)
{
    ck_assert_int_eq(parses(HEAD "end\n"), 0);
    ck_assert_int_eq(parses(HEAD "set " HEX " 0 0 0\nenv A=\nenv B==x\nenvu C\nend\n"), 0);
    ck_assert_int_eq(
        parses(HEAD "set " HEX " 0 1 1\nin " HEX " /a\nprobe @WAFCACHE_BASEDIR@/b\nend\n"), 0);
    const char *bad[] = {
        "",
        "end\n",
        "wafcache-manifest 1\n" HEAD "end\n",
        "wafcache-manifest 2\n" HEAD "end\n",       /* version 2 knew no "envc" nor "denied" */
        HEAD "set " HEX " 0 0 0\nenvc PATH\nend\n", /* a canonical form without a value */
        HEAD "set " HEX " 0 0 0\ndenied rel/x\nend\n",
        HEAD "set " HEX " 0 0 0\ndenied /a\noutput /b\nend\n", /* denied lines come last */
        HEAD "set " HEX " 0 0 0\nenv CPATH\nend\n",            /* env without a value */
        HEAD "set " HEX " 0 0 0\nenvu CPATH=x\nend\n",         /* unset with a value */
        HEAD "set " HEX " 0 0 0\nenv =x\nend\n",               /* empty name */
        HEAD "set " HEX " 0 0 0\nenvu \nend\n",                /* empty name */
        HEAD "set " HEX " 0 0 0\nenv B=1\nenv A=1\nend\n",     /* not sorted */
        HEAD "set " HEX " 0 0 0\nenv A=1\nenvu A\nend\n",      /* not unique */
        HEAD "set " HEX " 0 0 0\nenv A=\\q\nend\n",            /* bad escape */
        HEAD "env A=1\nend\n",                                 /* outside a set */
        HEAD,                                                  /* no end */
        HEAD "end",                                            /* no final newline */
        HEAD "end\nmore\n",
        HEAD "end\n\n",
        HEAD "set " HEX " 0 1 0\nend\n",                /* fewer inputs than said */
        HEAD "set " HEX " 0 0 0\nin " HEX " /a\nend\n", /* more */
        HEAD "set " HEX " 2 0 0\nend\n",                /* date is 0 or 1 */
        HEAD "set " HEX " 0 -1 0\nend\n",
        HEAD "set " HEX " 0 99999999999 0\nend\n",            /* count beyond the bound */
        HEAD "set " HEX " 0 1000 0\nin " HEX " /a\nend\n",    /* count beyond the buffer */
        HEAD "set 0123 0 0 0\nend\n",                         /* short hex */
        HEAD "set " HEX " 0 1 0\nin " HEX " relative\nend\n", /* relative path */
        HEAD "set " HEX " 0 0 1\nprobe @WAFCACHE_BASEDIR@x\nend\n",
        HEAD "set " HEX " 0 0 1\nprobe /a\\q\nend\n", /* bad escape */
        HEAD "set " HEX " 0 0 1\nprobe /a\\\nend\n",  /* escape at the end */
        HEAD "set " HEX " 0 0 1\nprobe /a\tb\nend\n", /* raw tab */
        HEAD "set " HEX " 0  0 0\nend\n",
        HEAD "set " HEX " 0 0 0 \nend\n",
        HEAD "set " HEX " 0 1 0\nin " HEX "/a\nend\n",
        HEAD "set zzzz456789abcdef0123456789abcdef 0 0 0\nend\n",
        "wafcache-manifest 3\nkey1 " HEX "\nprogram " HEX "\ncwd .\ntty 0 0\nend\n", /* no argv */
        "wafcache-manifest 3\nkey1 " HEX "\nprogram " HEX "\ntty 0 0\narg gcc\nend\n",
        "wafcache-manifest 3\nkey1 " HEX "\nprogram " HEX "\ncwd .\ntty 3 0\narg gcc\nend\n",
        NULL};
    for (size_t i = 0; bad[i]; i++)
        ck_assert_msg(parses(bad[i]) == -EINVAL, "accepted garbage #%zu", i);
    /* An embedded NUL. */
    char nul[] = HEAD "set " HEX " 0 0 1\nprobe /a\0b\nend\n";
    wc_manifest m;
    ck_assert_int_eq(wc_manifest_parse(nul, sizeof nul - 1, &m), -EINVAL);
}
END_TEST

START_TEST(too_many_sets_refused)
{
    struct {
        char *p;
        size_t len, cap;
    } b = {NULL, 0, 0};
    FILE *f = open_memstream(&b.p, &b.len);
    fputs(HEAD, f);
    for (int i = 0; i < WC_MANIFEST_MAX_SETS + 1; i++)
        fputs("set " HEX " 0 0 0\n", f);
    fputs("end\n", f);
    fclose(f);
    wc_manifest m;
    ck_assert_int_eq(wc_manifest_parse(b.p, b.len, &m), -EINVAL);
    free(b.p);
}
END_TEST

/* Every truncation of a valid manifest is refused: a half-written file is never half used. */
START_TEST(every_prefix_refused)
{
    wc_manifest m;
    manifest_init(&m);
    write_text("a.h", "x");
    const char *in[] = {"a.h", NULL}, *pr[] = {"nope.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in, pr);
    wc_manifest_add(&m, &s);
    size_t len;
    char *t = format(&m, &len);
    for (size_t n = 0; n < len; n++) {
        wc_manifest x;
        int rc = wc_manifest_parse(t, n, &x);
        ck_assert_msg(rc == -EINVAL, "prefix of %zu bytes accepted", n);
        wc_manifest_free(&x);
    }
    free(t);
    wc_manifest_free(&m);
}
END_TEST

/* Version 4 writes the paths of inputs and probes as names under "at" directories; whole
 * paths stay whole where a name could be mistaken for one, and every path comes back byte
 * for byte. */
START_TEST(at_directories_round_trip)
{
    wc_manifest m, back;
    manifest_init(&m);
    struct wc_mf_set s;
    const char *pr[] = {"inc/a.h", "inc/b.h", "inc2/a.h", NULL};
    make_set(&s, NULL, pr);
    const char *odd[] = {"/top",
                         "/x//y.h",
                         "/d/@WAFCACHE_BASEDIR@z",
                         "/d/",
                         "/new\nline/t\\b.h",
                         "@WAFCACHE_BASEDIR@/../up.h",
                         "/inc/a.h",
                         NULL};
    for (size_t i = 0; odd[i]; i++) {
        s.probes = realloc(s.probes, (s.n_probes + 1) * sizeof *s.probes);
        s.probes[s.n_probes++] = strdup(odd[i]);
    }
    wc_mf_set_canonical(&s);
    size_t n_probes = s.n_probes;
    wc_manifest_add(&m, &s);
    size_t len;
    char *t = format(&m, &len);
    ck_assert_int_eq(strncmp(t, "wafcache-manifest 4\n", 20), 0);
    ck_assert_ptr_nonnull(strstr(t, "\nat @WAFCACHE_BASEDIR@/inc\nprobe a.h\nprobe b.h\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nat /x/\nprobe y.h\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nprobe /top\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nprobe /d/@WAFCACHE_BASEDIR@z\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nprobe /d/\n"));
    ck_assert_ptr_nonnull(strstr(t, "\nat /new\\nline\nprobe t\\\\b.h\n"));
    ck_assert_int_eq(wc_manifest_parse(t, len, &back), 0);
    ck_assert_uint_eq(back.sets[0].n_probes, n_probes);
    for (size_t i = 0; i < n_probes; i++)
        ck_assert_str_eq(back.sets[0].probes[i], m.sets[0].probes[i]);
    expect_same_format(&back, t, len);
    free(t);
    wc_manifest_free(&back);
    wc_manifest_free(&m);
}
END_TEST

#define HEAD4                                                                                      \
    "wafcache-manifest 4\nkey1 0123456789abcdef0123456789abcdef\n"                                 \
    "program 0123456789abcdef0123456789abcdef\ncwd .\ntty 0 0\narg gcc\n"

START_TEST(at_directories_garbage_refused)
{
    ck_assert_int_eq(parses(HEAD4 "set " HEX " 0 1 2\nat /a\nin " HEX " x\nprobe y\nat /b\n"
                                  "at @WAFCACHE_BASEDIR@\nprobe z\nend\n"),
                     0);
    const char *bad[] = {
        HEAD4 "set " HEX " 0 0 1\nprobe name\nend\n",         /* a name without a directory */
        HEAD4 "set " HEX " 0 0 1\nat rel\nprobe name\nend\n", /* a relative directory */
        HEAD4 "set " HEX " 0 0 1\nat /a\nprobe b/c\nend\n",   /* a name with a '/' */
        HEAD4 "set " HEX " 0 0 1\nat /a\nprobe \nend\n",      /* an empty name */
        HEAD4 "set " HEX " 0 0 1\nat /a\\q\nprobe b\nend\n",  /* a bad escape */
        HEAD4 "set " HEX " 0 0 1\nprobe /a\nat /b\nend\n",    /* "at" after the items */
        HEAD4 "at /a\nset " HEX " 0 0 1\nprobe b\nend\n",     /* outside a set */
        HEAD4 "set " HEX " 0 0 1\nat /a\nend\nset " HEX " 0 0 1\nprobe b\nend\n",
        HEAD4 "set " HEX " 0 0 1\nat /a\nprobe b\nset " HEX " 0 0 1\nprobe c\nend\n", /* per set */
        NULL};
    for (size_t i = 0; bad[i]; i++)
        ck_assert_msg(parses(bad[i]) == -EINVAL, "accepted garbage #%zu", i);
}
END_TEST

/* The stored form: zstd, much smaller than the text, decoded back to the same manifest; a
 * text manifest (stored before compression) is read as it is; a damaged or hostile frame is
 * refused, never a crash. */
START_TEST(stored_form_round_trip)
{
    wc_manifest m, back;
    manifest_init(&m);
    const char *pr[] = {"inc/a.h", "inc/b.h", "inc/c.h", "inc2/a.h", "inc2/b.h", "inc2/c.h", NULL};
    struct wc_mf_set s;
    make_set(&s, NULL, pr);
    wc_manifest_add(&m, &s);
    size_t tlen, zlen;
    char *t = format(&m, &tlen), *z = wc_manifest_encode(&m, &zlen);
    ck_assert_ptr_nonnull(z);
    ck_assert_uint_lt(zlen, tlen);
    ck_assert_int_ne(memcmp(z, "wafcache-manifest", 17), 0);
    ck_assert_int_eq(wc_manifest_decode(z, zlen, &back), 0);
    expect_same_format(&back, t, tlen);
    wc_manifest_free(&back);
    ck_assert_int_eq(wc_manifest_decode(t, tlen, &back), 0); /* text: read as before */
    expect_same_format(&back, t, tlen);
    wc_manifest_free(&back);
    free(t);
    free(z);
    wc_manifest_free(&m);
}
END_TEST

static int decodes(const char *buf, size_t len)
{
    wc_manifest m;
    int rc = wc_manifest_decode(buf, len, &m);
    wc_manifest_free(&m);
    return rc;
}

START_TEST(stored_form_damage_refused)
{
    wc_manifest m;
    manifest_init(&m);
    size_t zlen;
    char *z = wc_manifest_encode(&m, &zlen);
    ck_assert_ptr_nonnull(z);
    ck_assert_int_eq(decodes(z, zlen), 0);
    for (size_t n = 0; n < zlen; n++) /* every truncation */
        ck_assert_int_eq(decodes(z, n), -EINVAL);
    char *more = malloc(zlen * 2); /* a second frame after the first */
    memcpy(more, z, zlen);
    memcpy(more + zlen, z, zlen);
    ck_assert_int_eq(decodes(more, zlen * 2), -EINVAL);
    for (size_t i = 4; i < zlen; i++) { /* every byte flipped: refused or parsed, no crash */
        memcpy(more, z, zlen);
        more[i] ^= 0x5a;
        int rc = decodes(more, zlen);
        ck_assert(rc == 0 || rc == -EINVAL);
    }
    free(more);
    /* A frame that claims more than WC_MANIFEST_MAX_LEN: refused before allocating. */
    static const unsigned char big[] = {0x28, 0xb5, 0x2f, 0xfd, 0xa4, 0x00, 0x00,
                                        0x00, 0x10, 0x01, 0x00, 0x00, 0x00};
    ck_assert_int_eq(decodes((const char *)big, sizeof big), -EINVAL);
    ck_assert_int_eq(decodes("\x28\xb5\x2f\xfd", 4), -EINVAL);
    free(z);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(lookup_with_real_files)
{
    wc_manifest m;
    manifest_init(&m);
    ck_assert_int_eq(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
    write_text("x.c", "#include \"a.h\"\n");
    write_text("a.h", "int a;\n");
    const char *in[] = {"x.c", "a.h", NULL}, *pr[] = {"inc/a.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in, pr);
    wc_hash expect;
    wc_result_key(&m.k1.key, &s, "2024-01-01", &expect);
    wc_manifest_add(&m, &s);

    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    ck_assert(wc_hash_equal(&res, &expect));

    /* A changed input: no match. */
    write_text("a.h", "int a2;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    write_text("a.h", "int a;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);

    /* A removed input: no match. */
    char *a = path_in("a.h");
    ck_assert_int_eq(unlink(a), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    write_text("a.h", "int a;\n");
    free(a);

    /* A header created where the compiler looked first: no match. */
    char *inc = path_in("inc");
    ck_assert_int_eq(mkdir(inc, 0700), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    write_text("inc/a.h", "int other;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    rm_rf(inc);
    free(inc);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    wc_manifest_free(&m);
}
END_TEST

/* write_text, creating the directories on the way. */
static void write_deep(const char *name, const char *text)
{
    char *p = path_in(name);
    *strrchr(p, '/') = '\0';
    ck_assert_int_eq(wc_mkdir_p(p, 0700), 0);
    free(p);
    write_text(name, text);
}

/* Probes grouped under a missing directory are answered by one stat of the directory: every
 * way a grouped probe can come to exist must still be seen. */
START_TEST(probes_under_missing_directories)
{
    wc_manifest m;
    manifest_init(&m);
    ck_assert_int_eq(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
    write_text("x.c", "int x;\n");
    const char *in[] = {"x.c", NULL};
    const char *pr[] = {"i1/bits/a.h", "i1/bits/b.h", "i1/bits/sub/c.h", "i1/d.h",
                        "i2/e.h",      "i2/f.h",      "plain/g.h",       NULL};
    struct wc_mf_set s;
    make_set(&s, in, pr);
    wc_manifest_add(&m, &s);
    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);

    /* The second file of a group appears (its directory with it). */
    write_deep("i2/f.h", "int f;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    char *i2 = path_in("i2");
    rm_rf(i2);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);

    /* The directory exists, empty: the group is checked file by file and still holds. */
    ck_assert_int_eq(mkdir(i2, 0700), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    rm_rf(i2);
    free(i2);

    /* A nested group after its parent's files, then a file of the parent group again. */
    write_deep("i1/bits/sub/c.h", "int c;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    char *i1 = path_in("i1");
    rm_rf(i1);
    write_deep("i1/d.h", "int d;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    rm_rf(i1);
    free(i1);

    /* The "directory" is a regular file: every probe under it is still missing (ENOTDIR). */
    write_text("plain", "not a directory\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(lookup_after_moving_the_checkout)
{
    wc_manifest m;
    manifest_init(&m);
    write_text("x.c", "int x;\n");
    const char *in[] = {"x.c", NULL};
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    ck_assert_str_eq(s.inputs[0].path, "@WAFCACHE_BASEDIR@/x.c");
    wc_manifest_add(&m, &s);
    /* The same tree at another path, with the base dir set to it. */
    char moved[300];
    snprintf(moved, sizeof moved, "%s.moved", dir);
    ck_assert_int_eq(rename(dir, moved), 0);
    wc_basedirs b2;
    ck_assert_int_eq(wc_basedirs_parse(&b2, moved, "/nonexistent-home"), 0);
    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&m, &b2, NULL, NULL, "d", &res), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "d", &res), -1);
    ck_assert_int_eq(rename(moved, dir), 0);
    wc_basedirs_free(&b2);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(most_recent_first_bounded)
{
    wc_manifest m;
    manifest_init(&m);
    write_text("v.h", "0");
    const char *in[] = {"v.h", NULL};
    char text[32];
    /* 20 versions of v.h, each recorded in turn */
    for (int i = 0; i < 20; i++) {
        snprintf(text, sizeof text, "v%d", i);
        write_text("v.h", text);
        struct wc_mf_set s;
        make_set(&s, in, NULL);
        s.result.lo = (uint64_t)i;
        wc_manifest_add(&m, &s);
    }
    ck_assert_uint_eq(m.n_sets, WC_MANIFEST_MAX_SETS);
    ck_assert_uint_eq(m.sets[0].result.lo, 19);
    ck_assert_uint_eq(m.sets[WC_MANIFEST_MAX_SETS - 1].result.lo, 20 - WC_MANIFEST_MAX_SETS);
    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "d", &res), 0); /* v19 */
    write_text("v.h", "v10");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "d", &res), 9);
    write_text("v.h", "v1"); /* dropped: the oldest */
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "d", &res), -1);

    /* The same set again moves to the front, without a duplicate. */
    write_text("v.h", "v10");
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    s.result.lo = 1000;
    wc_manifest_add(&m, &s);
    ck_assert_uint_eq(m.n_sets, WC_MANIFEST_MAX_SETS);
    ck_assert_uint_eq(m.sets[0].result.lo, 1000);
    for (size_t i = 1; i < m.n_sets; i++)
        ck_assert_uint_ne(m.sets[i].result.lo, 10);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "d", &res), 0);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(result_key)
{
    write_text("a.h", "a");
    write_text("b.h", "b");
    const char *ab[] = {"a.h", "b.h", NULL}, *ba[] = {"b.h", "a.h", NULL};
    const char *p1[] = {"p1", "p2", NULL}, *p2[] = {"p2", "p1", NULL}, *p3[] = {"p1", NULL};
    wc_hash key1 = {1, 2}, other = {1, 3};
    struct wc_mf_set s1, s2, s3;
    make_set(&s1, ab, p1);
    make_set(&s2, ba, p2);
    make_set(&s3, ab, p3);
    wc_hash r1, r2, r3, r4;
    wc_result_key(&key1, &s1, "2024-01-01", &r1);
    wc_result_key(&key1, &s2, "2024-01-01", &r2);
    ck_assert(wc_hash_equal(&r1, &r2)); /* canonical order */
    wc_result_key(&key1, &s3, "2024-01-01", &r3);
    ck_assert(!wc_hash_equal(&r1, &r3)); /* a probe less */
    wc_result_key(&other, &s1, "2024-01-01", &r3);
    ck_assert(!wc_hash_equal(&r1, &r3)); /* another key1 */
    wc_result_key(&key1, &s1, "2024-01-02", &r3);
    ck_assert(wc_hash_equal(&r1, &r3)); /* the date only counts when the set depends on it */
    s1.date = 1;
    wc_result_key(&key1, &s1, "2024-01-01", &r3);
    wc_result_key(&key1, &s1, "2024-01-02", &r4);
    ck_assert(!wc_hash_equal(&r1, &r3));
    ck_assert(!wc_hash_equal(&r3, &r4));
    s1.date = 0;
    s1.inputs[0].hash.lo ^= 1;
    wc_result_key(&key1, &s1, "2024-01-01", &r3);
    ck_assert(!wc_hash_equal(&r1, &r3)); /* an input's content */
    wc_mf_set_free(&s1);
    wc_mf_set_free(&s2);
    wc_mf_set_free(&s3);
}
END_TEST

/* A set matches only when every recorded variable has its value, or is still unset. */
START_TEST(lookup_on_the_environment)
{
    wc_manifest m;
    wc_hash res;
    manifest_init(&m);
    write_text("a.h", "a");
    const char *in[] = {"a.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    add_env(&s, "PATH", "/usr/bin");
    add_env(&s, "CPATH", NULL);
    wc_mf_set_env_canonical(&s);
    wc_manifest_add(&m, &s);
    char *same[] = {"TERM=dumb", "PATH=/usr/bin", "UNRELATED=1", NULL};
    char *path[] = {"PATH=/opt/bin:/usr/bin", NULL};
    char *cpath[] = {"PATH=/usr/bin", "CPATH=/inc", NULL};
    char *empty[] = {"PATH=/usr/bin", "CPATH=", NULL};
    char *none[] = {NULL};
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, same, "d", &res), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, path, "d", &res), -1);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, cpath, "d", &res), -1);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, empty, "d", &res), -1); /* set != unset */
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, none, "d", &res), -1);
    /* A second set recorded under the other PATH: each environment finds its own. */
    make_set(&s, in, NULL);
    add_env(&s, "PATH", "/opt/bin:/usr/bin");
    s.result.lo = 77;
    wc_manifest_add(&m, &s);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, path, "d", &res), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, same, "d", &res), 1);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(result_key_holds_the_environment)
{
    write_text("a.h", "a");
    const char *in[] = {"a.h", NULL};
    wc_hash key1 = {1, 2}, r1, r2, r3, r4;
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    wc_result_key(&key1, &s, "d", &r1);
    add_env(&s, "CPATH", NULL);
    wc_result_key(&key1, &s, "d", &r2);
    ck_assert(!wc_hash_equal(&r1, &r2));
    free(s.env[0].value);
    s.env[0].value = strdup("");
    wc_result_key(&key1, &s, "d", &r3);
    ck_assert(!wc_hash_equal(&r2, &r3)); /* unset is not empty */
    free(s.env[0].value);
    s.env[0].value = strdup("/x");
    wc_result_key(&key1, &s, "d", &r4);
    ck_assert(!wc_hash_equal(&r3, &r4));
    wc_mf_set_free(&s);
}
END_TEST

static void stamp_now(const char *path, struct wc_stamp *sp)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    sp->dev = (uint64_t)st.st_dev;
    sp->ino = (uint64_t)st.st_ino;
    sp->size = (uint64_t)st.st_size;
    sp->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    sp->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
}

/* Give input i of s the stamp of its file as it is now (old enough not to be racy). */
static void stamp_input(struct wc_mf_set *s, size_t i)
{
    char *p = wc_mf_path_resolve(&bd, s->inputs[i].path);
    ck_assert_ptr_nonnull(p);
    stamp_now(p, &s->inputs[i].stamp);
    s->inputs[i].stamped = 1;
    free(p);
}

START_TEST(stamps_round_trip_and_stay_out_of_the_key)
{
    wc_manifest m, back;
    manifest_init(&m);
    write_text("a.h", "int a;\n");
    write_text("b.h", "int b;\n");
    const char *in[] = {"a.h", "b.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    wc_hash plain, stamped;
    wc_result_key(&m.k1.key, &s, NULL, &plain);
    stamp_input(&s, 1);
    s.inputs[1].stamp.mtime_ns = -5; /* before 1970: signed */
    wc_result_key(&m.k1.key, &s, NULL, &stamped);
    ck_assert(wc_hash_equal(&plain, &stamped));
    struct wc_stamp want = s.inputs[1].stamp;
    wc_manifest_add(&m, &s);
    size_t len;
    char *t = format(&m, &len);
    ck_assert_ptr_nonnull(strstr(t, "\nins "));
    ck_assert_ptr_nonnull(strstr(t, "\nin "));
    ck_assert_int_eq(wc_manifest_parse(t, len, &back), 0);
    ck_assert_int_eq(back.sets[0].inputs[0].stamped, 0);
    ck_assert_int_eq(back.sets[0].inputs[1].stamped, 1);
    ck_assert(memcmp(&back.sets[0].inputs[1].stamp, &want, sizeof want) == 0);
    ck_assert(back.sets[0].inputs[1].stamp.mtime_ns == -5);
    expect_same_format(&back, t, len);
    free(t);
    wc_manifest_free(&back);
    wc_manifest_free(&m);

    /* Malformed stamps are refused. */
    const char *bad[] = {
        HEAD "set " HEX " 0 1 0\nins " HEX " 1 2 3 4 /a\nend\n",         /* four numbers */
        HEAD "set " HEX " 0 1 0\nins " HEX " 1 2 3 4 5\nend\n",          /* no path */
        HEAD "set " HEX " 0 1 0\nins " HEX " -1 2 3 4 5 /a\nend\n",      /* negative dev */
        HEAD "set " HEX " 0 1 0\nins " HEX " 1 2 3 x 5 /a\nend\n",       /* not a number */
        HEAD "set " HEX " 0 1 0\nins " HEX " 1 2 3 4  5 /a\nend\n",      /* empty word */
        HEAD "set " HEX " 0 1 0\nins " HEX " 1 2 3 4 5 relative\nend\n", /* bad path */
        NULL};
    for (size_t i = 0; bad[i]; i++)
        ck_assert_msg(parses(bad[i]) == -EINVAL, "accepted: %s", bad[i]);
    ck_assert_int_eq(parses(HEAD "set " HEX " 0 1 0\nins " HEX " 1 2 3 -4 5 /a\nend\n"), 0);
}
END_TEST

/* A matching stamp stands for the recorded hash (no lookup); any change to the file changes
 * its stamp, and then the content decides as before. */
START_TEST(stamp_spares_the_hash_until_the_file_changes)
{
    wc_manifest m;
    manifest_init(&m);
    ck_assert_int_eq(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
    write_text("a.h", "int a;\n");
    const char *in[] = {"a.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    stamp_input(&s, 0);
    /* A hash that is not the file's: only the stamp can make this set hold. */
    s.inputs[0].hash.lo ^= 1;
    wc_manifest_add(&m, &s);
    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    /* Same bytes written again: a new ctime (a clock tick later: what the racy rule of
     * wc_stamp_of guarantees in real use), so the stamp no longer matches, and the (wrong)
     * hash is compared: no match. */
    usleep(20000);
    write_text("a.h", "int a;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    wc_manifest_free(&m);

    /* With the right hash and a stale stamp, the content still matches. */
    manifest_init(&m);
    make_set(&s, in, NULL);
    stamp_input(&s, 0);
    s.inputs[0].stamp.ino ^= 1;
    wc_manifest_add(&m, &s);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    wc_manifest_free(&m);
}
END_TEST

/* A directory stamped at record time answers for its probes with one stat; a header created
 * in it changes the directory, and the probes are checked one by one again. */
START_TEST(dir_stamp_answers_for_its_probes)
{
    wc_manifest m;
    manifest_init(&m);
    ck_assert_int_eq(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
    write_text("x.c", "int x;\n");
    char *inc = path_in("inc");
    ck_assert_int_eq(mkdir(inc, 0700), 0);
    const char *in[] = {"x.c", NULL},
               *pr[] = {"inc/a.h", "inc/b.h", "inc/sub/c.h", "inc/z.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in, pr);
    /* The test directory is too fresh for wc_mf_set_stamp_dirs (racy): stamp it by hand. */
    s.dirs = calloc(1, sizeof *s.dirs);
    s.dirs[0].path = wc_mf_path_store(&bd, inc);
    stamp_now(inc, &s.dirs[0].stamp);
    s.n_dirs = 1;
    wc_manifest_add(&m, &s);

    size_t len;
    char *t = format(&m, &len);
    ck_assert_ptr_nonnull(strstr(t, "\npdir "));
    wc_manifest back;
    ck_assert_int_eq(wc_manifest_parse(t, len, &back), 0);
    ck_assert_uint_eq(back.sets[0].n_dirs, 1);
    ck_assert_str_eq(back.sets[0].dirs[0].path, m.sets[0].dirs[0].path);
    free(t);

    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&back, &bd, NULL, NULL, "2024-01-01", &res), 0);
    /* Only the stamp can say this (b.h exists): proof that the stamp is what answered. A real
     * creation changes the directory's ctime, which nobody can set back. */
    char *b = path_in("inc/b.h");
    usleep(20000); /* a clock tick after the stamp: what the racy rule ensures in real use */
    write_text("inc/b.h", "int b;\n");
    stamp_now(inc, &back.sets[0].dirs[0].stamp);
    ck_assert_int_eq(wc_manifest_lookup(&back, &bd, NULL, NULL, "2024-01-01", &res), 0);
    /* The stamp as recorded (before b.h): the directory changed, b.h is seen. */
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    ck_assert_int_eq(unlink(b), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    free(b);
    free(inc);
    wc_manifest_free(&back);
    wc_manifest_free(&m);
}
END_TEST

/* A header created where a set probed it misses, whether a directory stamp answers for the
 * probes or not: in a missing subdirectory of a stamped directory ("gone"), behind a dangling
 * symbolic link (never "gone": its target can appear without the directory changing), and
 * with no stamps at all. */
START_TEST(header_created_under_a_stamped_directory_misses)
{
    wc_manifest m;
    manifest_init(&m);
    ck_assert_int_eq(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
    write_text("x.c", "int x;\n");
    char *inc = path_in("inc"), *target = path_in("target"), *link = path_in("inc/link");
    ck_assert_int_eq(mkdir(inc, 0700), 0);
    ck_assert_int_eq(symlink(target, link), 0);
    sleep(3); /* inc settles: wc_mf_set_stamp_dirs stamps nothing changed in the last 2 s */
    const char *in[] = {"x.c", NULL}, *pr[] = {"inc/sub/deeper/a.h", "inc/link/b.h", NULL};
    struct wc_mf_set s;
    make_set(&s, in, pr);
    ck_assert_int_eq(wc_mf_set_stamp_dirs(&s, &bd), 0);
    ck_assert_uint_eq(s.n_dirs, 1);
    ck_assert_uint_eq(s.n_gone, 1);
    ck_assert_str_eq(s.gone[0], "@WAFCACHE_BASEDIR@/inc/sub/deeper");
    struct wc_mf_set bare;
    make_set(&bare, in, pr); /* the same probes, no stamps */
    bare.result.lo = 1;
    wc_manifest_add(&m, &bare);
    wc_manifest_add(&m, &s);
    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);

    /* The link's target appears: inc does not change, its stamp still holds, and only the
     * probe itself tells. */
    ck_assert_int_eq(mkdir(target, 0700), 0);
    write_text("target/b.h", "int b;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    char *b = path_in("target/b.h");
    ck_assert_int_eq(unlink(b), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);

    /* inc/sub/deeper/a.h appears: inc changed, the stamp no longer answers, a.h is seen by
     * the stamped set and the bare one alike. */
    char *sub = path_in("inc/sub"), *deeper = path_in("inc/sub/deeper");
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(mkdir(deeper, 0700), 0);
    write_text("inc/sub/deeper/a.h", "int a;\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), -1);
    /* Proof that the stamp is what answered before: stamped as inc is now, the set takes the
     * missing directory's word (a real creation changes ctime, which nobody sets back). */
    stamp_now(inc, &m.sets[0].dirs[0].stamp);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    free(b);
    free(sub);
    free(deeper);
    free(inc);
    free(target);
    free(link);
    wc_manifest_free(&m);
}
END_TEST

/* Recording: existing, settled directories are stamped (a system directory here), missing
 * ones and fresh ones are not. */
START_TEST(stamp_dirs_records_settled_directories)
{
    struct wc_mf_set s;
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(mkdir(dir, 0700) == 0 || errno == EEXIST, 1);
    char *fresh = path_in("fresh");
    ck_assert_int_eq(mkdir(fresh, 0700), 0);
    char *fresh_probe = path_in("fresh/a.h"), *gone_probe = path_in("gone/a.h");
    const char *abs[] = {"/usr/include/wafcache-no-such-header.h",
                         "/usr/include/wafcache-no-such-header-2.h",
                         "/usr/include/wafcache-no-such-dir/x.h",
                         "/usr/wafcache-no-such-dir/sub/x.h",
                         fresh_probe,
                         gone_probe};
    s.n_probes = 6;
    s.probes = calloc(7, sizeof *s.probes);
    for (size_t i = 0; i < 6; i++)
        s.probes[i] = wc_mf_path_store(&bd, abs[i]);
    wc_mf_set_canonical(&s);
    ck_assert_int_eq(wc_mf_set_stamp_dirs(&s, &bd), 0);
    /* /usr holds no probe: it is stamped for the missing directories below it. */
    ck_assert_uint_eq(s.n_dirs, 2);
    ck_assert_str_eq(s.dirs[0].path, "/usr");
    ck_assert_str_eq(s.dirs[1].path, "/usr/include");
    struct stat st;
    ck_assert_int_eq(stat("/usr/include", &st), 0);
    ck_assert(wc_stamp_matches(&s.dirs[1].stamp, &st));
    /* The missing directories that those answer for; not "fresh" nor "gone" (their directory
     * is too fresh to be stamped). */
    ck_assert_uint_eq(s.n_gone, 2);
    ck_assert_str_eq(s.gone[0], "/usr/include/wafcache-no-such-dir");
    ck_assert_str_eq(s.gone[1], "/usr/wafcache-no-such-dir/sub");
    wc_mf_set_free(&s);
    free(fresh);
    free(fresh_probe);
    free(gone_probe);
}
END_TEST

START_TEST(bad_dir_stamps_refused)
{
    const char *bad[] = {
        /* unsorted */
        HEAD "set " HEX " 0 0 2\nprobe /a/x\nprobe /b/y\npdir 1 2 3 4 5 /b\npdir 1 2 3 4 5 "
             "/a\nend\n",
        /* repeated */
        HEAD "set " HEX " 0 0 2\nprobe /a/x\nprobe /a/y\npdir 1 2 3 4 5 /a\npdir 1 2 3 4 5 "
             "/a\nend\n",
        /* more than the probes */
        HEAD "set " HEX " 0 0 1\nprobe /a/x\npdir 1 2 3 4 5 /a\npdir 1 2 3 4 5 /b\nend\n",
        /* none allowed without probes */
        HEAD "set " HEX " 0 0 0\npdir 1 2 3 4 5 /a\nend\n",
        HEAD "set " HEX " 0 0 1\nprobe /a/x\npdir 1 2 3 4 /a\nend\n",
        HEAD "set " HEX " 0 0 1\nprobe /a/x\npdir 1 2 3 4 5 a\nend\n",
        /* missing directories: sorted, unique, absolute, after the stamps */
        HEAD "set " HEX " 0 0 1\nprobe /a/x\npgone /b\npgone /a\nend\n",
        HEAD "set " HEX " 0 0 1\nprobe /a/x\npgone /a\npgone /a\nend\n",
        HEAD "set " HEX " 0 0 1\nprobe /a/x\npgone a\nend\n",
        HEAD "set " HEX " 0 0 1\nprobe /a/x\npgone /b\npdir 1 2 3 4 5 /a\nend\n", NULL};
    for (size_t i = 0; bad[i]; i++)
        ck_assert_msg(parses(bad[i]) == -EINVAL, "accepted: %s", bad[i]);
    ck_assert_int_eq(parses(HEAD "set " HEX
                                 " 0 0 2\nprobe /a/x\nprobe /b/y\npdir 1 2 3 4 5 /a\npdir 1 2 3 "
                                 "-4 -5 /b\nend\n"),
                     0);
    ck_assert_int_eq(parses(HEAD "set " HEX " 0 0 1\nprobe /a/b/x\npdir 1 2 3 4 5 /a\npgone "
                                 "/a/b\nend\n"),
                     0);
}
END_TEST

/* wc_stamp_of refuses a file changed in the last two seconds (the memo's racy rule). */
START_TEST(no_stamp_for_a_fresh_file)
{
    struct stat st;
    struct wc_stamp sp;
    write_text("fresh.h", "int f;\n");
    char *p = path_in("fresh.h");
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(wc_stamp_of(&st, &sp), 0);
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, p, old, 0), 0);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(wc_stamp_of(&st, &sp), 0); /* ctime is still now */
    st.st_ctim = old[0];
    ck_assert_int_eq(wc_stamp_of(&st, &sp), 1);
    ck_assert(wc_stamp_matches(&sp, &st));
    st.st_size++;
    ck_assert(!wc_stamp_matches(&sp, &st));
    free(p);
}
END_TEST

START_TEST(date_dependent_lookup_uses_today)
{
    wc_manifest m;
    manifest_init(&m);
    write_text("d.c", "const char *d = __DATE__;\n");
    const char *in[] = {"d.c", NULL};
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    s.date = 1;
    wc_hash day1, day2, res;
    wc_result_key(&m.k1.key, &s, "2024-01-01", &day1);
    wc_result_key(&m.k1.key, &s, "2024-01-02", &day2);
    wc_manifest_add(&m, &s);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-01", &res), 0);
    ck_assert(wc_hash_equal(&res, &day1));
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, "2024-01-02", &res), 0);
    ck_assert(wc_hash_equal(&res, &day2));
    char today[11];
    wc_today(today);
    ck_assert_uint_eq(strlen(today), 10);
    ck_assert(today[4] == '-' && today[7] == '-');
    /* NULL stands for today (looked up only when a set needs it). */
    wc_hash now_key, null_key;
    wc_result_key(&m.k1.key, &m.sets[0], today, &now_key);
    wc_result_key(&m.k1.key, &m.sets[0], NULL, &null_key);
    ck_assert(wc_hash_equal(&now_key, &null_key));
    wc_manifest_free(&m);
}
END_TEST

START_TEST(paths_only_first_basedir_stripped)
{
    char list[600];
    snprintf(list, sizeof list, "%s:/other/base/longer/than/the/first/one/surely/yes", dir);
    wc_basedirs two;
    ck_assert_int_eq(wc_basedirs_parse(&two, list, "/nonexistent-home"), 0);
    char *p = path_in("x.h");
    const char *first = two.dirs[0];
    const char *second = two.dirs[1];
    char *in_first = malloc(strlen(first) + 8), *in_second = malloc(strlen(second) + 8);
    sprintf(in_first, "%s/x.h", first);
    sprintf(in_second, "%s/x.h", second);
    char *a = wc_mf_path_store(&two, in_first);
    char *b = wc_mf_path_store(&two, in_second);
    ck_assert_str_eq(a, "@WAFCACHE_BASEDIR@/x.h");
    ck_assert_str_eq(b, in_second);
    char *ra = wc_mf_path_resolve(&two, a), *rb = wc_mf_path_resolve(&two, b);
    ck_assert_str_eq(ra, in_first);
    ck_assert_str_eq(rb, in_second);
    free(a), free(b), free(ra), free(rb), free(p), free(in_first), free(in_second);
    /* no base dir: nothing to resolve the token with */
    wc_basedirs none = {NULL, 0, 0};
    ck_assert_ptr_null(wc_mf_path_resolve(&none, "@WAFCACHE_BASEDIR@/x.h"));
    wc_basedirs_free(&two);
}
END_TEST

static void add_place(struct wc_mf_set *s, enum wc_mf_place k, const char *abs)
{
    struct wc_mf_paths *p = &s->places[k];
    p->v = realloc(p->v, (p->n + 1) * sizeof *p->v);
    p->v[p->n++] = wc_mf_path_store(&bd, abs);
}

/* issue 12: "absent", "odir" and "output" lines survive a round trip, sorted and unique. */
START_TEST(output_places_round_trip)
{
    wc_manifest m, back;
    manifest_init(&m);
    struct wc_mf_set s;
    make_set(&s, NULL, NULL);
    s.places[WC_MF_ABSENT].v = calloc(3, sizeof(char *));
    s.places[WC_MF_ABSENT].v[0] = strdup("@WAFCACHE_BASEDIR@/lib.a");
    s.places[WC_MF_ABSENT].v[1] = strdup("/abs/out.a");
    s.places[WC_MF_ABSENT].v[2] = strdup("@WAFCACHE_BASEDIR@/lib.a");
    s.places[WC_MF_ABSENT].n = 3;
    s.places[WC_MF_ODIR].v = calloc(2, sizeof(char *));
    s.places[WC_MF_ODIR].v[0] = strdup("@WAFCACHE_BASEDIR@/obj");
    s.places[WC_MF_ODIR].v[1] = strdup("@WAFCACHE_BASEDIR@");
    s.places[WC_MF_ODIR].n = 2;
    add_place(&s, WC_MF_OUTPUT, "/abs/out.a");
    wc_mf_set_canonical(&s);
    ck_assert_uint_eq(s.places[WC_MF_ABSENT].n, 2);
    wc_manifest_add(&m, &s);
    size_t len;
    char *t = format(&m, &len);
    ck_assert_ptr_nonnull(strstr(t, "\nabsent /abs/out.a\nabsent @WAFCACHE_BASEDIR@/lib.a\n"
                                    "odir @WAFCACHE_BASEDIR@\nodir @WAFCACHE_BASEDIR@/obj\n"
                                    "output /abs/out.a\nend\n"));
    ck_assert_int_eq(wc_manifest_parse(t, len, &back), 0);
    ck_assert_uint_eq(back.sets[0].places[WC_MF_ABSENT].n, 2);
    ck_assert_uint_eq(back.sets[0].places[WC_MF_ODIR].n, 2);
    ck_assert_str_eq(back.sets[0].places[WC_MF_ODIR].v[1], "@WAFCACHE_BASEDIR@/obj");
    expect_same_format(&back, t, len);
    free(t);
    wc_manifest_free(&back);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(output_places_garbage_refused)
{
    const char *set = HEAD "set " HEX " 0 0 0\n";
    const char *tails[] = {"absent relative\nend\n",
                           "odir relative/dir\nend\n",
                           "absent /b\nabsent /a\nend\n",       /* not sorted */
                           "odir /a\nodir /a\nend\n",           /* repeated */
                           "odir /a\nabsent /b\nend\n",         /* absent lines come first */
                           "absent @WAFCACHE_BASEDIR@x\nend\n", /* token glued to a name */
                           "absent /a\\q\nend\n",               /* bad escape */
                           "absent\nend\n",                     /* no path */
                           "odir /a\nprobe /b\nend\n",          /* a probe after the places */
                           "output /a\nodir /b\nend\n",         /* output lines come last */
                           "output a\nend\n",
                           NULL};
    char text[512];
    for (size_t i = 0; tails[i]; i++) {
        snprintf(text, sizeof text, "%s%s", set, tails[i]);
        ck_assert_msg(parses(text) == -EINVAL, "accepted garbage #%zu: %s", i, tails[i]);
    }
    snprintf(text, sizeof text, "%sabsent /a\nabsent /b\nodir /\nodir /a\noutput /a/x\nend\n", set);
    ck_assert_int_eq(parses(text), 0);
}
END_TEST

/* They are part of the result key, and a lookup checks them: an output directory that is gone
 * or an output that exists now makes the set fail; a directory stamp does not answer for
 * them. */
START_TEST(output_places_in_key_and_lookup)
{
    wc_manifest m;
    manifest_init(&m);
    write_text("x.c", "int x;\n");
    char *obj = path_in("obj"), *lib = path_in("obj/lib.a");
    ck_assert_int_eq(mkdir(obj, 0755), 0);
    const char *in[] = {"x.c", NULL};
    struct wc_mf_set s, plain;
    make_set(&s, in, NULL);
    make_set(&plain, in, NULL);
    add_place(&s, WC_MF_ABSENT, lib);
    add_place(&s, WC_MF_ODIR, obj);
    wc_hash k_places, k_plain, res;
    wc_result_key(&m.k1.key, &s, NULL, &k_places);
    wc_result_key(&m.k1.key, &plain, NULL, &k_plain);
    ck_assert(!wc_hash_equal(&k_places, &k_plain));
    wc_mf_set_free(&plain);
    wc_manifest_add(&m, &s);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), 0);
    ck_assert(wc_hash_equal(&res, &k_places));
    write_text("obj/lib.a", "!<arch>\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), -1);
    ck_assert_int_eq(unlink(lib), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), 0);
    ck_assert_int_eq(rmdir(obj), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), -1);
    write_text("obj", "a file, not a directory\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), -1);
    free(obj);
    free(lib);
    wc_manifest_free(&m);
}
END_TEST

/* An output may exist as a regular file (it is replaced), never as a symbolic link (the
 * command writes through it) or a directory. */
START_TEST(output_place_refuses_links)
{
    wc_manifest m;
    manifest_init(&m);
    write_text("x.c", "int x;\n");
    char *out = path_in("x.o"), *target = path_in("elsewhere.o");
    const char *in[] = {"x.c", NULL};
    struct wc_mf_set s;
    make_set(&s, in, NULL);
    add_place(&s, WC_MF_OUTPUT, out);
    wc_manifest_add(&m, &s);
    wc_hash res;
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), 0);
    write_text("x.o", "old object\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), 0);
    ck_assert_int_eq(unlink(out), 0);
    ck_assert_int_eq(symlink(target, out), 0); /* dangling: still a link */
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), -1);
    write_text("elsewhere.o", "old object\n");
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), -1);
    ck_assert_int_eq(unlink(out), 0);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, NULL, NULL, &res), -1);
    free(out);
    free(target);
    wc_manifest_free(&m);
}
END_TEST

/* A path with ".." takes the base-dir token only when its normal form stays under the base
 * dir; either way it is kept as the kernel resolves it. */

/* issue 15: PATH's canonical form drops the absolute entries that are missing (or denied:
 * only a non-root user sees those, tests/hardening/denied_path.sh); DEPENDENCIES_OUTPUT's
 * keeps its target and stores its file like any path. */
START_TEST(canonical_forms)
{
    char *form, *abs = path_in("x.d"), value[600];
    ck_assert_int_eq(
        wc_env_canonical("PATH", "/nonexistent/bin:/usr/bin::.:/etc/passwd", &bd, &form), 1);
    ck_assert_str_eq(form, "/usr/bin::.");
    free(form);
    snprintf(value, sizeof value, "%s tgt.o", abs);
    ck_assert_int_eq(wc_env_canonical("DEPENDENCIES_OUTPUT", value, &bd, &form), 1);
    ck_assert_str_eq(form, "@WAFCACHE_BASEDIR@/x.d tgt.o");
    free(form);
    ck_assert_int_eq(wc_env_canonical("SUNPRO_DEPENDENCIES", "rel.d", &bd, &form), 1);
    ck_assert_str_eq(form, "rel.d");
    free(form);
    ck_assert_int_eq(wc_env_canonical("CPATH", "/x", &bd, &form), 0);
    ck_assert_ptr_null(form);
    free(abs);
}
END_TEST

static void add_canonical(struct wc_mf_set *s, const char *name, const char *value)
{
    add_env(s, name, value);
    s->env[s->n_env - 1].canonical = 1;
}

/* A canonical form is compared as a form: PATH with a missing entry more holds, one with
 * another existing entry does not; a form and the same text taken literally are two keys. */
START_TEST(canonical_env_lookup_and_key)
{
    wc_manifest m, back;
    wc_hash res, lit, key1 = {1, 2};
    manifest_init(&m);
    struct wc_mf_set s;
    make_set(&s, NULL, NULL);
    add_canonical(&s, "PATH", "/usr/bin");
    char *dep = path_in("x.d"), depenv[600];
    snprintf(depenv, sizeof depenv, "DEPENDENCIES_OUTPUT=%s", dep);
    add_canonical(&s, "DEPENDENCIES_OUTPUT", "@WAFCACHE_BASEDIR@/x.d");
    wc_mf_set_env_canonical(&s);
    wc_result_key(&key1, &s, "d", &res);
    wc_manifest_add(&m, &s);
    char *more[] = {"PATH=/nonexistent/bin:/usr/bin", depenv, NULL};
    char *other[] = {"PATH=/bin:/usr/bin", depenv, NULL};
    char *elsewhere[] = {"PATH=/usr/bin", "DEPENDENCIES_OUTPUT=/elsewhere/x.d", NULL};
    char *target[] = {"PATH=/usr/bin", "DEPENDENCIES_OUTPUT=x.d t", NULL};
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, more, "d", &res), 0);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, other, "d", &res), -1);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, elsewhere, "d", &res), -1);
    ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, target, "d", &res), -1);
    size_t len;
    char *t = format(&m, &len);
    ck_assert_ptr_nonnull(strstr(t, "\nenvc DEPENDENCIES_OUTPUT=@WAFCACHE_BASEDIR@/x.d\n"
                                    "envc PATH=/usr/bin\n"));
    ck_assert_int_eq(wc_manifest_parse(t, len, &back), 0);
    ck_assert_int_eq(back.sets[0].env[1].canonical, 1);
    expect_same_format(&back, t, len);
    make_set(&s, NULL, NULL);
    add_env(&s, "DEPENDENCIES_OUTPUT", "@WAFCACHE_BASEDIR@/x.d");
    add_env(&s, "PATH", "/usr/bin");
    wc_result_key(&key1, &s, "d", &lit);
    wc_result_key(&key1, &back.sets[0], "d", &res);
    ck_assert(!wc_hash_equal(&lit, &res));
    wc_mf_set_free(&s);
    free(t);
    free(dep);
    wc_manifest_free(&back);
    wc_manifest_free(&m);
}
END_TEST

/* "denied" lines: a round trip, and a path that is not unreachable (root reaches everything)
 * makes the set fail. */
START_TEST(denied_round_trip_and_lookup)
{
    wc_manifest m, back;
    wc_hash res;
    manifest_init(&m);
    struct wc_mf_set s;
    make_set(&s, NULL, NULL);
    add_place(&s, WC_MF_DENIED, "/root/.cargo/bin/as");
    wc_mf_set_canonical(&s);
    wc_manifest_add(&m, &s);
    size_t len;
    char *t = format(&m, &len);
    ck_assert_ptr_nonnull(strstr(t, "\ndenied /root/.cargo/bin/as\nend\n"));
    ck_assert_int_eq(wc_manifest_parse(t, len, &back), 0);
    ck_assert_uint_eq(back.sets[0].places[WC_MF_DENIED].n, 1);
    expect_same_format(&back, t, len);
    char *none[] = {NULL};
    if (geteuid() == 0 || !wc_path_unreachable("/root/.cargo/bin/as"))
        ck_assert_int_eq(wc_manifest_lookup(&m, &bd, NULL, none, "d", &res), -1);
    ck_assert_int_eq(wc_path_unreachable(dir), 0);
    free(t);
    wc_manifest_free(&back);
    wc_manifest_free(&m);
}
END_TEST

START_TEST(dotdot_paths_stored)
{
    char *inside = path_in("inc/../common.h"), *outside = path_in("../elsewhere/x.h");
    char *up = path_in("sub/..");
    char *a = wc_mf_path_store(&bd, inside), *b = wc_mf_path_store(&bd, outside);
    char *c = wc_mf_path_store(&bd, up);
    ck_assert_str_eq(a, "@WAFCACHE_BASEDIR@/inc/../common.h");
    ck_assert_str_eq(b, outside);
    ck_assert_str_eq(c, "@WAFCACHE_BASEDIR@/sub/..");
    char *ra = wc_mf_path_resolve(&bd, a);
    ck_assert_str_eq(ra, inside);
    free(inside), free(outside), free(up), free(a), free(b), free(c), free(ra);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, at_directories_round_trip);
    tcase_add_test(tc, at_directories_garbage_refused);
    tcase_add_test(tc, stored_form_round_trip);
    tcase_add_test(tc, stored_form_damage_refused);
    tcase_add_test(tc, minimal_and_garbage);
    tcase_add_test(tc, too_many_sets_refused);
    tcase_add_test(tc, every_prefix_refused);
    tcase_add_test(tc, lookup_with_real_files);
    tcase_add_test(tc, probes_under_missing_directories);
    tcase_add_test(tc, lookup_after_moving_the_checkout);
    tcase_add_test(tc, most_recent_first_bounded);
    tcase_add_test(tc, result_key);
    tcase_add_test(tc, lookup_on_the_environment);
    tcase_add_test(tc, result_key_holds_the_environment);
    tcase_add_test(tc, stamps_round_trip_and_stay_out_of_the_key);
    tcase_add_test(tc, stamp_spares_the_hash_until_the_file_changes);
    tcase_add_test(tc, no_stamp_for_a_fresh_file);
    tcase_add_test(tc, dir_stamp_answers_for_its_probes);
    tcase_add_test(tc, stamp_dirs_records_settled_directories);
    tcase_add_test(tc, header_created_under_a_stamped_directory_misses);
    tcase_add_test(tc, bad_dir_stamps_refused);
    tcase_add_test(tc, date_dependent_lookup_uses_today);
    tcase_add_test(tc, paths_only_first_basedir_stripped);
    tcase_add_test(tc, output_places_round_trip);
    tcase_add_test(tc, output_places_garbage_refused);
    tcase_add_test(tc, output_places_in_key_and_lookup);
    tcase_add_test(tc, output_place_refuses_links);
    tcase_add_test(tc, dotdot_paths_stored);
    tcase_add_test(tc, canonical_forms);
    tcase_add_test(tc, canonical_env_lookup_and_key);
    tcase_add_test(tc, denied_round_trip_and_lookup);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
