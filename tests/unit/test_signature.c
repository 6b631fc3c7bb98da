/* key1 and the base-dir rewrite: each ingredient changes key1, a checkout at another
 * absolute path does not, and what the rewrite cannot make relative stays in the key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashing/signature.h"

#define HOME "/nonexistent-home"

/* Two checkouts of one project: A at /w/a/proj, B at /w/elsewhere/longer/proj. */
#define BASE_A "/w/a/proj"
#define BASE_B "/w/elsewhere/longer/proj"

static const char *cpu1 = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                          "model\t\t: 85\nmodel name\t: Xeon A\ncpu MHz\t\t: 2000.1\n"
                          "flags\t\t: fpu sse avx\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n"
                          "model name\t: Xeon A\ncpu MHz\t\t: 2400.7\nflags\t\t: fpu sse avx\n";

struct cmd {
    const char *base;
    const char *cwd;
    char **argv; /* rewritten */
    wc_hash program;
    int tty;
    unsigned cols;
    int hash_dir;
    const char *cpuinfo;
    const char *pwd;
};

static wc_basedirs parse_bd(const char *base)
{
    wc_basedirs bd;
    ck_assert_int_eq(wc_basedirs_parse(&bd, base, HOME), 0);
    return bd;
}

/* key1 of argv (with "@" standing for the base dir) run in base + rel_cwd. */
static wc_hash key_of(struct cmd *c)
{
    wc_basedirs bd = parse_bd(c->base);
    wc_key1 k;
    struct wc_key1_params p = {c->argv, c->cwd,  c->pwd,      &bd,       c->program,
                               c->tty,  c->cols, c->hash_dir, c->cpuinfo};
    ck_assert_int_eq(wc_key1_build(&k, &p), 0);
    wc_hash h = k.key, again;
    wc_key1_hash(&k, &again);
    ck_assert(wc_hash_equal(&h, &again));
    wc_key1_free(&k);
    wc_basedirs_free(&bd);
    return h;
}

/* argv template with "@" for the base dir; rewritten as the runner does. */
static char **make_argv(const char *base, const char *cwd, const char *const *tmpl)
{
    size_t n = 0;
    while (tmpl[n])
        n++;
    char **raw = calloc(n + 1, sizeof *raw);
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(tmpl[i], '@');
        if (!at) {
            raw[i] = strdup(tmpl[i]);
            continue;
        }
        raw[i] = malloc(strlen(tmpl[i]) + strlen(base) + 1);
        memcpy(raw[i], tmpl[i], (size_t)(at - tmpl[i]));
        strcpy(raw[i] + (at - tmpl[i]), base);
        strcat(raw[i], at + 1);
    }
    wc_basedirs bd = parse_bd(base);
    const char *name = strrchr(raw[0], '/');
    char **out = wc_argv_rewrite(raw, cwd, &bd, wc_tool_of(name ? name + 1 : raw[0]));
    ck_assert_ptr_nonnull(out);
    wc_basedirs_free(&bd);
    wc_argv_free(raw);
    return out;
}

static char cwd_a[256], cwd_b[256];

/* The same command in both checkouts: key1 equal (1) or not (0). */
static int same_in_both(const char *const *tmpl, int hash_dir)
{
    struct cmd a = {.base = BASE_A, .cwd = cwd_a, .hash_dir = hash_dir};
    struct cmd b = {.base = BASE_B, .cwd = cwd_b, .hash_dir = hash_dir};
    a.argv = make_argv(BASE_A, cwd_a, tmpl);
    b.argv = make_argv(BASE_B, cwd_b, tmpl);
    wc_hash ka = key_of(&a), kb = key_of(&b);
    wc_argv_free(a.argv);
    wc_argv_free(b.argv);
    return wc_hash_equal(&ka, &kb);
}

static void setup(void)
{
    strcpy(cwd_a, BASE_A "/build");
    strcpy(cwd_b, BASE_B "/build");
}

static const char *const cc_cmake[] = {
    "/usr/bin/cc", "-I@/include", "-isystem", "@/ext", "-O2", "-o", "CMakeFiles/x.dir/x.c.o",
    "-c",          "@/src/x.c",   NULL};

START_TEST(rewrite_under_basedir)
{
    const char *const t[] = {"/usr/bin/gcc",
                             "-I@/include",
                             "-isystem",
                             "@/ext",
                             "-o",
                             "@/build/x.o",
                             "-MT",
                             "@/build/x.o",
                             "-DDIR=\"@/data\"",
                             "-c",
                             "@/src/x.c",
                             "/usr/include/other.h",
                             "--sysroot=@/sysroot",
                             "-Wl,-rpath,@/lib",
                             "-Xlinker",
                             "@/lib2",
                             "@/a/../b.c",
                             NULL};
    char **v = make_argv(BASE_A, cwd_a, t);
    const char *want[] = {"/usr/bin/gcc",
                          "-I../include",
                          "-isystem",
                          "../ext",
                          "-o",
                          "x.o",
                          "-MT",
                          BASE_A "/build/x.o",
                          "-DDIR=\"" BASE_A "/data\"",
                          "-c",
                          "../src/x.c",
                          "/usr/include/other.h",
                          "--sysroot=../sysroot",
                          "-Wl,-rpath," BASE_A "/lib",
                          "-Xlinker",
                          BASE_A "/lib2",
                          BASE_A "/a/../b.c",
                          NULL};
    for (size_t i = 0; want[i]; i++)
        ck_assert_str_eq(v[i], want[i]);
    ck_assert_ptr_null(v[17]);
    wc_argv_free(v);
}
END_TEST

/* Generators (issue 15): operands and output options rewritten, a value that only looks
 * like a path kept; xxd and m4 keep their paths (xxd -i names its array after it). */
START_TEST(rewrite_generators)
{
    const char *const bison[] = {"/usr/bin/bison",
                                 "-d",
                                 "-Dapi.prefix=@/x",
                                 "@/src/p.y",
                                 "-o",
                                 "@/build/p.tab.c",
                                 "--defines=@/build/p.h",
                                 "-o@/build/q.c",
                                 NULL};
    char **v = make_argv(BASE_A, cwd_a, bison);
    const char *want[] = {"/usr/bin/bison", "-d",    "-Dapi.prefix=" BASE_A "/x",
                          "../src/p.y",     "-o",    "p.tab.c",
                          "--defines=p.h",  "-oq.c", NULL};
    for (size_t i = 0; want[i]; i++)
        ck_assert_str_eq(v[i], want[i]);
    wc_argv_free(v);
    const char *const strip[] = {"x86_64-linux-gnu-strip", "@/build/f.o", NULL};
    v = make_argv(BASE_A, cwd_a, strip);
    ck_assert_str_eq(v[1], "f.o");
    wc_argv_free(v);
    const char *const xxd[] = {"xxd", "-i", "@/src/blob.bin", "blob.h", NULL};
    v = make_argv(BASE_A, cwd_a, xxd);
    ck_assert_str_eq(v[2], BASE_A "/src/blob.bin");
    wc_argv_free(v);
}
END_TEST

/* A generator given absolute paths (waf's bison) shares its key with another checkout; one
 * whose path stays in its output (xxd -i) or in a value (-D) does not. */
START_TEST(generators_in_two_checkouts)
{
    const char *const bison[] = {"bison", "-d", "@/src/p.y", "-o", "p.tab.c", NULL};
    const char *const flex[] = {"flex", "--outfile=@/build/s.c", "@/src/s.l", NULL};
    const char *const objcopy[] = {"objcopy", "-O", "binary", "@/build/f.o", "@/build/f.bin", NULL};
    const char *const xxd[] = {"xxd", "-i", "@/src/blob.bin", "blob.h", NULL};
    const char *const define[] = {"bison", "-Dapi.prefix=@/x", "../src/p.y", NULL};
    const char *const m4[] = {"m4", "@/src/x.m4", NULL};
    ck_assert(same_in_both(bison, 1));
    ck_assert(same_in_both(flex, 1));
    ck_assert(same_in_both(objcopy, 1));
    ck_assert(!same_in_both(xxd, 1));
    ck_assert(!same_in_both(define, 1));
    ck_assert(!same_in_both(m4, 1));
}
END_TEST

START_TEST(rewrite_only_inside_basedir_and_for_known_tools)
{
    /* cwd outside every base dir: nothing is rewritten. */
    const char *const t[] = {"gcc", "-c", "@/src/x.c", NULL};
    char **v = make_argv(BASE_A, "/elsewhere", t);
    ck_assert_str_eq(v[2], BASE_A "/src/x.c");
    wc_argv_free(v);
    /* ld: -I is the dynamic linker, -rpath a run-time path; never rewritten. */
    const char *const l[] = {"ld", "-I@/ld.so", "-o", "@/build/prog", NULL};
    v = make_argv(BASE_A, cwd_a, l);
    ck_assert_str_eq(v[1], "-I" BASE_A "/ld.so");
    ck_assert_str_eq(v[3], BASE_A "/build/prog");
    wc_argv_free(v);
    /* ar: every operand is a file. */
    const char *const a[] = {"x86_64-linux-gnu-ar", "rcs", "@/build/libx.a", "@/build/o/a.o", NULL};
    v = make_argv(BASE_A, cwd_a, a);
    ck_assert_str_eq(v[1], "rcs");
    ck_assert_str_eq(v[2], "libx.a");
    ck_assert_str_eq(v[3], "o/a.o");
    wc_argv_free(v);
}
END_TEST

START_TEST(tool_kinds)
{
    ck_assert_int_eq(wc_tool_of("gcc-12"), WC_TOOL_CC);
    ck_assert_int_eq(wc_tool_of("x86_64-linux-gnu-g++-12"), WC_TOOL_CC);
    ck_assert_int_eq(wc_tool_of("clang++"), WC_TOOL_CC);
    ck_assert_int_eq(wc_tool_of("ar"), WC_TOOL_AR);
    ck_assert_int_eq(wc_tool_of("ld.gold"), WC_TOOL_OTHER);
    ck_assert_int_eq(wc_tool_of("make"), WC_TOOL_OTHER);
}
END_TEST

START_TEST(stdio_dash)
{
    char *a[] = {"gcc", "-x", "c", "-c", "-", NULL};
    char *b[] = {"gcc", "-c", "x.c", NULL};
    ck_assert(wc_argv_uses_stdio(a));
    ck_assert(!wc_argv_uses_stdio(b));
}
END_TEST

START_TEST(info_queries)
{
    char *yes[][4] = {{"gcc", "--version", NULL},
                      {"cc", "-v", NULL},
                      {"gcc", "-print-prog-name=cc1", "-dumpmachine", NULL},
                      {"ld", "-V", NULL},
                      {"clang", "--print-resource-dir", NULL}};
    char *no[][5] = {{"gcc", NULL},
                     {"gcc", "-v", "-c", "x.c", NULL},
                     {"gcc", "-v", "x.c", NULL},
                     {"gcc", "--version", "-o", "out", NULL},
                     {"gcc", "-vv", NULL}};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        ck_assert_msg(wc_argv_info_only(yes[i]), "%s %s", yes[i][0], yes[i][1]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        ck_assert_msg(!wc_argv_info_only(no[i]), "%s %s", no[i][0], no[i][1] ? no[i][1] : "");
}
END_TEST

START_TEST(checkout_path_does_not_change_key1)
{
    ck_assert(same_in_both(cc_cmake, 1));
    /* Relative paths inside the base dir, as make and waf write them. */
    const char *const t[] = {"gcc", "-I../include", "-c", "../src/x.c", "-o", "x.o", NULL};
    ck_assert(same_in_both(t, 1));
    /* A prefix map that removes the base dir makes -g shareable too. */
    const char *const g[] = {"gcc", "-g", "-fdebug-prefix-map=@=.", "-c", "@/src/x.c", NULL};
    ck_assert(same_in_both(g, 1));
    /* The compiler's own path in the checkout (a vendored toolchain) is stripped. */
    const char *const v[] = {"@/tools/bin/gcc", "-c", "../src/x.c", NULL};
    ck_assert(same_in_both(v, 1));
}
END_TEST

START_TEST(what_reaches_the_output_keeps_the_checkout)
{
    /* -g records the working directory, unless WAFCACHE_HASHDIR is off. */
    const char *const g[] = {"gcc", "-g", "-c", "../src/x.c", NULL};
    ck_assert(!same_in_both(g, 1));
    ck_assert(same_in_both(g, 0));
    const char *const g0[] = {"gcc", "-g", "-g0", "-c", "../src/x.c", NULL};
    ck_assert(same_in_both(g0, 1));
    /* Coverage notes record it too. */
    const char *const cov[] = {"gcc", "--coverage", "-c", "../src/x.c", NULL};
    ck_assert(!same_in_both(cov, 1));
    /* A relative path out of the base dir reaches different files in each checkout. */
    const char *const out[] = {"gcc", "-I../../include", "-c", "../src/x.c", NULL};
    ck_assert(!same_in_both(out, 1));
    const char *const out2[] = {"gcc", "-I", "../../include", "-c", "x.c", NULL};
    ck_assert(!same_in_both(out2, 1));
    const char *const out3[] = {"gcc", "-isystem../../include", "-c", "x.c", NULL};
    ck_assert(!same_in_both(out3, 1));
    const char *const out4[] = {"gcc", "-Wl,-rpath,../../lib", "x.o", NULL};
    ck_assert(!same_in_both(out4, 1));
    const char *const in1[] = {"gcc", "-isystem../ext", "-I..", "-c", "x.c", NULL};
    ck_assert(same_in_both(in1, 1));
    /* An absolute path the rewrite must leave alone ends up in the binary. */
    const char *const rp[] = {"gcc", "-Wl,-rpath,@/lib", "-o", "prog", "x.o", NULL};
    ck_assert(!same_in_both(rp, 1));
}
END_TEST

/* Reference command; each test below changes one thing and compares. */
static wc_hash reference(struct cmd *c)
{
    memset(c, 0, sizeof *c);
    c->base = BASE_A;
    c->cwd = cwd_a;
    c->hash_dir = 1;
    c->argv = make_argv(BASE_A, cwd_a, cc_cmake);
    c->program.lo = 1;
    c->cpuinfo = cpu1;
    return key_of(c);
}

START_TEST(each_ingredient_changes_key1)
{
    struct cmd c;
    wc_hash ref = reference(&c), k;

    c.program.hi = 7;
    k = key_of(&c);
    ck_assert(!wc_hash_equal(&ref, &k));
    c.program.hi = 0;

    free(c.argv[4]);
    c.argv[4] = strdup("-O3");
    k = key_of(&c);
    ck_assert(!wc_hash_equal(&ref, &k));
    free(c.argv[4]);
    c.argv[4] = strdup("-O2");
    k = key_of(&c);
    ck_assert(wc_hash_equal(&ref, &k));

    c.cwd = BASE_A "/build2";
    k = key_of(&c);
    ck_assert(!wc_hash_equal(&ref, &k));
    c.cwd = "/outside/build"; /* absolute when outside the base dir */
    k = key_of(&c);
    ck_assert(!wc_hash_equal(&ref, &k));
    c.cwd = cwd_a;

    c.tty = 1;
    k = key_of(&c);
    ck_assert(!wc_hash_equal(&ref, &k));
    c.cols = 80;
    wc_hash k80 = key_of(&c);
    ck_assert(!wc_hash_equal(&k, &k80));
    c.tty = 0;
    c.cols = 0;

    wc_argv_free(c.argv);
}
END_TEST

/* The environment is observed per input set (manifest), never hashed into key1: whatever
 * the runner's environment holds, key1 is the same. */
START_TEST(key1_ignores_the_environment)
{
    const char *vars[][2] = {{"CPATH", "/x"},      {"LIBRARY_PATH", "/x"},  {"TERM", "dumb"},
                             {"COLUMNS", "33"},    {"LANG", "fr_FR.UTF-8"}, {"GCC_COLORS", ""},
                             {"PATH", "/nowhere"}, {"UNRELATED", "1"}};
    struct cmd c;
    wc_hash ref = reference(&c);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        char *old = getenv(vars[i][0]) ? strdup(getenv(vars[i][0])) : NULL;
        setenv(vars[i][0], vars[i][1], 1);
        wc_hash k = key_of(&c);
        ck_assert_msg(wc_hash_equal(&ref, &k), "%s changes key1", vars[i][0]);
        if (old)
            setenv(vars[i][0], old, 1);
        else
            unsetenv(vars[i][0]);
        free(old);
    }
    wc_argv_free(c.argv);
}
END_TEST

START_TEST(native_adds_the_cpu)
{
    struct cmd c;
    wc_hash ref = reference(&c);
    /* Without =native the CPU does not matter. */
    c.cpuinfo = "model name\t: Other\n";
    wc_hash k = key_of(&c);
    ck_assert(wc_hash_equal(&ref, &k));
    wc_argv_free(c.argv);

    const char *const t[] = {"gcc", "-march=native", "-c", "x.c", NULL};
    c.argv = make_argv(BASE_A, cwd_a, t);
    c.cpuinfo = cpu1;
    wc_hash n1 = key_of(&c);
    /* The clock speed is not the identity; the model and the flags are. */
    c.cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                "model name\t: Xeon A\ncpu MHz\t\t: 800.0\nflags\t\t: fpu sse avx\n";
    wc_hash n2 = key_of(&c);
    ck_assert(wc_hash_equal(&n1, &n2));
    c.cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                "model name\t: Xeon A\ncpu MHz\t\t: 800.0\nflags\t\t: fpu sse avx avx512f\n";
    wc_hash n3 = key_of(&c);
    ck_assert(!wc_hash_equal(&n1, &n3));
    wc_argv_free(c.argv);
}
END_TEST

START_TEST(cpu_identity_fields)
{
    char *id = wc_cpu_identity(cpu1);
    ck_assert_ptr_nonnull(strstr(id, "model name\t: Xeon A\n"));
    ck_assert_ptr_nonnull(strstr(id, "flags\t\t: fpu sse avx\n"));
    ck_assert_ptr_null(strstr(id, "MHz"));
    ck_assert_ptr_null(strstr(id, "processor"));
    /* the first processor only */
    ck_assert_ptr_eq(strstr(id, "model name"), strrchr(id, 'X') - strlen("model name\t: "));
    free(id);
}
END_TEST

START_TEST(debug_dir_follows_pwd_and_prefix_maps)
{
    const char *const g[] = {"gcc", "-g", "-c", "../src/x.c", NULL};
    struct cmd c = {.base = BASE_A, .cwd = cwd_a, .hash_dir = 1};
    c.argv = make_argv(BASE_A, cwd_a, g);
    wc_hash k1 = key_of(&c);
    c.pwd = "/symlinked/build"; /* gcc writes $PWD when it names the cwd */
    wc_hash k2 = key_of(&c);
    ck_assert(!wc_hash_equal(&k1, &k2));
    wc_argv_free(c.argv);

    /* -fdebug-compilation-dir fixes it whatever the directory. */
    const char *const d[] = {"clang", "-g", "-fdebug-compilation-dir=.", "-c", "x.c", NULL};
    c.argv = make_argv(BASE_A, cwd_a, d);
    c.pwd = NULL;
    k1 = key_of(&c);
    c.pwd = "/symlinked/build";
    k2 = key_of(&c);
    ck_assert(wc_hash_equal(&k1, &k2));
    wc_argv_free(c.argv);
}
END_TEST

/* Issue 12, class 8: a rewritten path must find what the absolute one found. Real files in
 * a temporary base dir, since a SEARCHED path is rewritten only when it exists. */
START_TEST(rewrite_keeps_what_searches_find)
{
    char base[] = "/tmp/wc-test-sig-XXXXXX", cwd[64], cmd[512];
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(cwd, sizeof cwd, "%s/build", base);
    snprintf(cmd, sizeof cmd, "mkdir -p %s %s/plug && cd %s && touch p.so x.ld pre.h ../plug/q.so",
             cwd, base, cwd);
    ck_assert_int_eq(system(cmd), 0);
    const char *const t[] = {"gcc",
                             "-fplugin=@/build/p.so",
                             "-fplugin=@/plug/q.so",
                             "-T",
                             "@/build/x.ld",
                             "-T@/build/x.ld",
                             "-include",
                             "@/build/pre.h",
                             "-imacros@/build/pre.h",
                             "-include",
                             "@/build/missing.h",
                             "-fplugin=@/build/missing.so",
                             "-specs=@/build/my.specs",
                             "--specs=@/build/my.specs",
                             "--specs",
                             "@/build/my.specs",
                             "-B@/tools/",
                             "-B",
                             "@/tools",
                             "-iprefix",
                             "@/pfx",
                             "-iwithprefix",
                             "@/inc",
                             "-imultilib",
                             "@/ml",
                             "-fprofile-use=@/prof",
                             "-iplugindir=@/plug",
                             "-include-pch",
                             "@/build/pre.h.pch",
                             NULL};
    char **v = make_argv(base, cwd, t);
    char keep[40][160];
    for (size_t i = 0; t[i]; i++) {
        const char *at = strchr(t[i], '@');
        snprintf(keep[i], sizeof keep[i], "%.*s%s%s", (int)(at ? at - t[i] : (long)strlen(t[i])),
                 t[i], at ? base : "", at ? at + 1 : "");
    }
    const char *want[] = {"gcc",          "-fplugin=./p.so", "-fplugin=../plug/q.so",
                          "-T",           "./x.ld",          "-T./x.ld",
                          "-include",     "./pre.h",         "-imacros./pre.h",
                          "-include",     keep[10],          keep[11],
                          keep[12],       keep[13],          "--specs",
                          keep[15],       keep[16],          "-B",
                          keep[18],       "-iprefix",        keep[20],
                          "-iwithprefix", keep[22],          "-imultilib",
                          keep[24],       keep[25],          "-iplugindir=../plug",
                          "-include-pch", "pre.h.pch",       NULL};
    for (size_t i = 0; want[i]; i++)
        ck_assert_str_eq(v[i], want[i]);
    ck_assert_ptr_null(v[29]);
    wc_argv_free(v);
    /* A relative -B that leaves the base dir still puts the absolute cwd in key1. */
    const char *const esc[] = {"gcc", "-B../../outside/", "-c", "x.c", NULL};
    strcpy(cwd_b, BASE_B "/build");
    ck_assert(!same_in_both(esc, 0));
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("signature");
    TCase *tc = tcase_create("key1");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, rewrite_under_basedir);
    tcase_add_test(tc, rewrite_generators);
    tcase_add_test(tc, generators_in_two_checkouts);
    tcase_add_test(tc, rewrite_only_inside_basedir_and_for_known_tools);
    tcase_add_test(tc, rewrite_keeps_what_searches_find);
    tcase_add_test(tc, tool_kinds);
    tcase_add_test(tc, stdio_dash);
    tcase_add_test(tc, info_queries);
    tcase_add_test(tc, checkout_path_does_not_change_key1);
    tcase_add_test(tc, what_reaches_the_output_keeps_the_checkout);
    tcase_add_test(tc, each_ingredient_changes_key1);
    tcase_add_test(tc, key1_ignores_the_environment);
    tcase_add_test(tc, native_adds_the_cpu);
    tcase_add_test(tc, cpu_identity_fields);
    tcase_add_test(tc, debug_dir_follows_pwd_and_prefix_maps);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
