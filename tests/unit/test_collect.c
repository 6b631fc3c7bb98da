/* collect.c's rules, from channel text about real files in a temporary tree: inputs, probes
 * and what is no input (kernel files, the runner's response file, temporaries); the places
 * of outputs (absent, odir, output), outputs written through a link or left in /tmp; the
 * time macros in arguments; the variables that are inputs; runs that are not cached. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload/runner/runner.h"

static char dir[64];   /* holds proj/ (the base dir and cwd) and elsewhere/ */
static char proj[128]; /* the base dir */
static wc_basedirs bd;
/* The command's environment, whether it printed, and the runner's response file, for the
 * next collect(). */
static char **envp;
static int printed;
static const char *ignore;

static void setup(void)
{
    strcpy(dir, "/tmp/wc-test-collect.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(proj, sizeof proj, "%s/proj", dir);
    ck_assert_int_eq(mkdir(proj, 0755), 0);
    ck_assert_int_eq(wc_basedirs_parse(&bd, proj, "/nonexistent-home"), 0);
    envp = NULL;
    printed = 0;
    ignore = NULL;
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    wc_basedirs_free(&bd);
}

static void write_file(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("x\n", f);
    fclose(f);
}

struct run {
    struct wc_collect x;
    struct wc_mf_set set;
    struct wc_entry_meta meta;
    int rc;
};

/* Collect the events (lines after the hello, "%s" standing for proj) of one process. */
static void collect(struct run *r, const char *events, char *const *argv, int archiver, int sde)
{
    char text[4096], body[3000];
    snprintf(body, sizeof body, events, proj, proj, proj, proj);
    snprintf(text, sizeof text, "10 H 1 /bin/true\n%s10 B\n", body);
    struct wc_observation obs;
    ck_assert_int_eq(wc_channel_parse(text, strlen(text), &obs), 0);
    ck_assert_msg(obs.complete, "%s", obs.reason);
    memset(r, 0, sizeof *r);
    r->x.cwd = proj;
    r->x.root = proj;
    r->x.bd = &bd;
    r->x.primary = &bd;
    r->x.start_ns = INT64_MAX / 2;
    r->x.source_date_epoch = sde;
    r->x.argv = argv;
    r->x.archiver = archiver;
    r->x.envp = envp;
    r->x.printed = printed;
    r->x.ignore = ignore;
    r->rc = wc_collect(&r->x, &obs, &r->set, &r->meta);
    wc_observation_free(&obs);
}

static void done(struct run *r)
{
    wc_mf_set_free(&r->set);
    wc_meta_free(&r->meta);
}

static int has_place(const struct run *r, enum wc_mf_place k, const char *stored)
{
    for (size_t i = 0; i < r->set.places[k].n; i++)
        if (strcmp(r->set.places[k].v[i], stored) == 0)
            return 1;
    return 0;
}

static char *in_proj(const char *name)
{
    static char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", proj, name);
    return p;
}

/* A stat that found nothing, then the file created: an input only for an archiver (ar stat()s
 * the archive to choose between creating and updating it) or after an open for reading. */
START_TEST(absent_outputs)
{
    struct run r;
    mkdir(in_proj("obj"), 0755);
    write_file(in_proj("obj/lib.a"));
    collect(&r, "10 m %s/obj/lib.a\n10 w %s/obj/lib.a\n", NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert_uint_eq(r.set.places[WC_MF_ABSENT].n, 0);
    ck_assert(has_place(&r, WC_MF_ODIR, "@WAFCACHE_BASEDIR@/obj"));
    ck_assert(has_place(&r, WC_MF_OUTPUT, "@WAFCACHE_BASEDIR@/obj/lib.a"));
    ck_assert_uint_eq(r.meta.n_outputs, 1);
    ck_assert_str_eq(r.meta.outputs[0].path, "obj/lib.a");
    done(&r);
    collect(&r, "10 m %s/obj/lib.a\n10 w %s/obj/lib.a\n", NULL, 1, 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert(has_place(&r, WC_MF_ABSENT, "@WAFCACHE_BASEDIR@/obj/lib.a"));
    done(&r);
    collect(&r, "10 o %s/obj/lib.a\n10 w %s/obj/lib.a\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert(has_place(&r, WC_MF_ABSENT, "@WAFCACHE_BASEDIR@/obj/lib.a"));
    done(&r);
    /* A probe after the write says nothing about the world before. */
    collect(&r, "10 w %s/obj/lib.a\n10 o %s/obj/lib.a\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_uint_eq(r.set.places[WC_MF_ABSENT].n, 0);
    done(&r);
}
END_TEST

/* Read then written: cached only with the content hashed before the run. */
START_TEST(inplace_needs_a_prehash)
{
    struct run r;
    write_file(in_proj("lib.a"));
    collect(&r, "10 r %s/lib.a\n10 w %s/lib.a\n", NULL, 1, 0);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_ptr_nonnull(strstr(r.x.why, "both read and written"));
    done(&r);
    char *argv[] = {"ar", "r", "lib.a", "missing.o", NULL};
    struct wc_prehash *pre;
    size_t n;
    ck_assert_int_eq(wc_prehash_operands(proj, argv, NULL, &pre, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(pre[0].path, in_proj("lib.a"));
    memset(&r, 0, sizeof r);
    struct wc_observation obs;
    char text[1024];
    snprintf(text, sizeof text, "10 H 1 /bin/true\n10 r %s/lib.a\n10 w %s/lib.a\n10 B\n", proj,
             proj);
    ck_assert_int_eq(wc_channel_parse(text, strlen(text), &obs), 0);
    struct wc_collect x = {.cwd = proj,
                           .root = proj,
                           .bd = &bd,
                           .primary = &bd,
                           .start_ns = INT64_MAX / 2,
                           .archiver = 1,
                           .pre = pre,
                           .n_pre = n};
    ck_assert_int_eq(wc_collect(&x, &obs, &r.set, &r.meta), 0);
    int found = 0;
    for (size_t i = 0; i < r.set.n_inputs; i++)
        if (strcmp(r.set.inputs[i].path, "@WAFCACHE_BASEDIR@/lib.a") == 0) {
            found = 1;
            ck_assert(wc_hash_equal(&r.set.inputs[i].hash, &pre[0].hash));
            ck_assert_int_eq(r.set.inputs[i].stamped, 0);
        }
    ck_assert(found);
    wc_observation_free(&obs);
    wc_prehash_free(pre, n);
    done(&r);
}
END_TEST

START_TEST(outputs_through_links_refused)
{
    struct run r;
    char target[PATH_MAX], link_dir[PATH_MAX];
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    ck_assert_int_eq(mkdir(target, 0755), 0);
    strcat(target, "/x.d");
    write_file(target);
    ck_assert_int_eq(symlink(target, in_proj("x.d")), 0);
    collect(&r, "10 w %s/x.d\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_ptr_nonnull(strstr(r.x.why, "symbolic link"));
    done(&r);
    /* "inc/../x.o" with inc a link: the kernel wrote elsewhere/../x.o, not proj/x.o. */
    snprintf(link_dir, sizeof link_dir, "%s/elsewhere", dir);
    ck_assert_int_eq(symlink(link_dir, in_proj("inc")), 0);
    write_file(in_proj("inc/../x.o"));
    collect(&r, "10 w %s/inc/../x.o\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    done(&r);
    /* Through a real directory, ".." is harmless: stored normal. */
    mkdir(in_proj("sub"), 0755);
    write_file(in_proj("y.o"));
    collect(&r, "10 w %s/sub/../y.o\n", NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert_str_eq(r.meta.outputs[0].path, "y.o");
    done(&r);
}
END_TEST

/* Written, still there, outside the tree in /tmp: the entry would lack it. */
START_TEST(output_left_in_tmp_refused)
{
    struct run r;
    char out[256], events[1024];
    snprintf(out, sizeof out, "%s/x.d", dir);
    write_file(out);
    write_file(in_proj("x.o"));
    snprintf(events, sizeof events, "10 w %%s/x.o\n10 w %s\n", out);
    collect(&r, events, NULL, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_ptr_nonnull(strstr(r.x.why, "temporary directory"));
    done(&r);
    /* A temporary written and removed is no output. */
    snprintf(events, sizeof events, "10 w %%s/x.o\n10 w %s\n10 u %s\n", out, out);
    collect(&r, events, NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    done(&r);
}
END_TEST

START_TEST(time_macros_in_arguments)
{
    struct run r;
    write_file(in_proj("x.o"));
    char *t[] = {"gcc", "-c", "x.c", "-DSTAMP=__TIME__", NULL};
    char *d[] = {"gcc", "-c", "x.c", "-DSTAMP=__DATE__", NULL};
    char *ts[] = {"gcc", "-c", "x.c", "-DSTAMP=__TIMESTAMP__", NULL};
    collect(&r, "10 w %s/x.o\n", t, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    done(&r);
    collect(&r, "10 w %s/x.o\n", t, 0, 1);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.set.date, 0);
    done(&r);
    collect(&r, "10 w %s/x.o\n", d, 0, 0);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_eq(r.set.date, 1);
    done(&r);
    collect(&r, "10 w %s/x.o\n", ts, 0, 1);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_ptr_nonnull(strstr(r.x.why, "__TIMESTAMP__"));
    done(&r);
}
END_TEST

static int has_input(const struct run *r, const char *stored)
{
    for (size_t i = 0; i < r->set.n_inputs; i++)
        if (strcmp(r->set.inputs[i].path, stored) == 0)
            return 1;
    return 0;
}

static int has_probe(const struct run *r, const char *stored)
{
    for (size_t i = 0; i < r->set.n_probes; i++)
        if (strcmp(r->set.probes[i], stored) == 0)
            return 1;
    return 0;
}

/* The value recorded for a variable: 1 with *value (NULL: recorded unset), 0 if not recorded. */
static int has_env(const struct run *r, const char *name, const char **value)
{
    for (size_t i = 0; i < r->set.n_env; i++)
        if (strcmp(r->set.env[i].name, name) == 0) {
            *value = r->set.env[i].value;
            return 1;
        }
    return 0;
}

/* Read files are inputs with their hashes, missing ones probes; kernel files, the runner's
 * own response file and temporaries written and removed are neither. */
START_TEST(inputs_and_probes)
{
    struct run r;
    char events[1024];
    write_file(in_proj("x.c"));
    write_file(in_proj("args"));
    write_file(in_proj("x.o"));
    snprintf(events, sizeof events,
             "10 r %%s/x.c\n10 m %%s/missing.h\n10 r /proc/self/maps\n10 r %%s/args\n"
             "10 w /tmp/ccTEMP.s\n10 u /tmp/ccTEMP.s\n10 w %%s/x.o\n");
    collect(&r, events, NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert(has_input(&r, "@WAFCACHE_BASEDIR@/x.c"));
    ck_assert(has_input(&r, "@WAFCACHE_BASEDIR@/args"));
    ck_assert(has_probe(&r, "@WAFCACHE_BASEDIR@/missing.h"));
    ck_assert_uint_eq(r.set.n_inputs, 3); /* and /bin/true, the program */
    ck_assert_uint_eq(r.set.n_probes, 1);
    wc_hash h;
    ck_assert_int_eq(wc_memo_hash(NULL, in_proj("x.c"), &h, NULL, NULL), 0);
    for (size_t i = 0; i < r.set.n_inputs; i++)
        if (strcmp(r.set.inputs[i].path, "@WAFCACHE_BASEDIR@/x.c") == 0)
            ck_assert(wc_hash_equal(&r.set.inputs[i].hash, &h));
    ck_assert_uint_eq(r.meta.n_outputs, 1);
    ck_assert_str_eq(r.meta.outputs[0].path, "x.o");
    done(&r);
    /* The response file the runner wrote for a long command line is not the command's. */
    char args[PATH_MAX];
    snprintf(args, sizeof args, "%s", in_proj("args"));
    ignore = args;
    collect(&r, events, NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert(!has_input(&r, "@WAFCACHE_BASEDIR@/args"));
    ck_assert_uint_eq(r.set.n_inputs, 2);
    done(&r);
}
END_TEST

/* A variable read is an input with the value the command inherited; the build tool's
 * bookkeeping never; the diagnostics' only when something was printed; the link's search
 * path only when something linked; a value a process of the command set is derived. */
START_TEST(environment)
{
    struct run r;
    const char *v;
    char *env[] = {"CPATH=/inc",    "MAKEFLAGS=-j2",       "TERM=xterm", "LIBRARY_PATH=/lib",
                   "OWN=inherited", "WAFCACHE_LOG=/tmp/x", NULL};
    envp = env;
    write_file(in_proj("x.o"));
    const char *events = "10 e CPATH=/inc\n10 e MAKEFLAGS=-j2\n10 e TERM=xterm\n"
                         "10 e LIBRARY_PATH=/lib\n10 e UNSET_ONE\n10 e OWN=set by gcc\n"
                         "10 e WAFCACHE_LOG=/tmp/x\n10 w %s/x.o\n";
    collect(&r, events, NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert(has_env(&r, "CPATH", &v));
    ck_assert_str_eq(v, "/inc");
    ck_assert(has_env(&r, "UNSET_ONE", &v));
    ck_assert_ptr_null(v);
    ck_assert(!has_env(&r, "MAKEFLAGS", &v));
    ck_assert(!has_env(&r, "TERM", &v));
    ck_assert(!has_env(&r, "LIBRARY_PATH", &v));
    ck_assert(!has_env(&r, "OWN", &v));
    ck_assert(!has_env(&r, "WAFCACHE_LOG", &v));
    ck_assert_uint_eq(r.set.n_env, 2);
    ck_assert_str_eq(r.set.env[0].name, "CPATH"); /* sorted */
    done(&r);
    printed = 1;
    collect(&r, events, NULL, 0, 0);
    ck_assert(has_env(&r, "TERM", &v));
    done(&r);
    printed = 0;
    char linked[512];
    write_file(in_proj("ld"));
    snprintf(linked, sizeof linked, "10 x %%s/ld\n10 B\n10 H 1 %%s/ld\n%s", events);
    collect(&r, linked, NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert(has_env(&r, "LIBRARY_PATH", &v));
    done(&r);
}
END_TEST

/* issue 15: the PATH and DEPENDENCIES_OUTPUT a compiler or linker read are kept in canonical
 * form, another program's as they are; a path denied during the run that is not unreachable
 * after it (here: missing) is not cached. */
START_TEST(canonical_env_and_denied)
{
    struct run r;
    const char *v;
    char path[300], dep[300], events[1024];
    snprintf(path, sizeof path, "PATH=%s/nonexistent:/usr/bin", dir);
    snprintf(dep, sizeof dep, "DEPENDENCIES_OUTPUT=%s/x.d x.o", proj);
    char *env[] = {path, dep, NULL};
    envp = env;
    write_file(in_proj("x.o"));
    write_file(in_proj("ld"));
    snprintf(events, sizeof events,
             "10 x %%s/ld\n10 B\n10 H 1 %%s/ld\n10 e %s\n10 e %s\n10 w %%s/x.o\n", path, dep);
    collect(&r, events, NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert(has_env(&r, "PATH", &v));
    ck_assert_str_eq(v, "/usr/bin");
    ck_assert(has_env(&r, "DEPENDENCIES_OUTPUT", &v));
    ck_assert_str_eq(v, "@WAFCACHE_BASEDIR@/x.d x.o");
    ck_assert_int_eq(r.set.env[0].canonical, 1);
    done(&r);
    snprintf(events, sizeof events, "10 e %s\n10 w %%s/x.o\n", path);
    collect(&r, events, NULL, 0, 0);
    ck_assert_msg(r.rc == 0, "%s", r.x.why);
    ck_assert(has_env(&r, "PATH", &v));
    ck_assert_str_eq(v, path + 5);
    ck_assert_int_eq(r.set.env[0].canonical, 0);
    done(&r);
    collect(&r, "10 a %s/gone/x.h\n10 w %s/x.o\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_ptr_nonnull(strstr(r.x.why, "denied during the run"));
    done(&r);
}
END_TEST

/* Runs that are not cached, and why. */
START_TEST(not_cached_runs)
{
    struct run r;
    write_file(in_proj("x.c"));
    collect(&r, "10 r %s/x.c\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_str_eq(r.x.why, "no output file");
    done(&r);
    write_file(in_proj("x.o"));
    collect(&r, "10 i\n10 w %s/x.o\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_ptr_nonnull(strstr(r.x.why, "standard input"));
    done(&r);
    collect(&r, "10 z /dev/tty\n10 w %s/x.o\n", NULL, 0, 0);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_ptr_nonnull(strstr(r.x.why, "/dev/tty"));
    done(&r);

    struct wc_observation obs;
    const char *cut = "10 H 1 /bin/true\n10 r /x.c\n"; /* no bye: the process was not seen end */
    ck_assert_int_eq(wc_channel_parse(cut, strlen(cut), &obs), 0);
    struct wc_collect x = {.cwd = proj, .root = proj, .bd = &bd, .primary = &bd};
    ck_assert_int_eq(wc_collect(&x, &obs, &r.set, &r.meta), 1);
    ck_assert_ptr_nonnull(strstr(x.why, "incomplete observation"));
    wc_observation_free(&obs);
    done(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("collect");
    TCase *tc = tcase_create("collect");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, absent_outputs);
    tcase_add_test(tc, inplace_needs_a_prehash);
    tcase_add_test(tc, outputs_through_links_refused);
    tcase_add_test(tc, output_left_in_tmp_refused);
    tcase_add_test(tc, time_macros_in_arguments);
    tcase_add_test(tc, inputs_and_probes);
    tcase_add_test(tc, environment);
    tcase_add_test(tc, canonical_env_and_denied);
    tcase_add_test(tc, not_cached_runs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
