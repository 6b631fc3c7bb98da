/* Hostile entries (issue 8): metadata from a store someone else controls must not make a fetch
 * write anything the command does not account for -- a ".." path, an absolute path outside the
 * build, a symlink in the way -- and the regressions the fuzz targets (fuzz/) found. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/dir.h"
#include "store/entry.h"

#define KEY "0123456789abcdef0123456789abcdef"

static char tmpdir[64];

/* What fetch() checks outputs against: the command line of the command being served, or
 * nothing (NULL, the check off). */
static struct wc_declared declaration;
static const struct wc_declared *declared;

static void declare(char *const *argv, const char *cwd)
{
    declaration = (struct wc_declared){argv, cwd, NULL};
    declared = argv ? &declaration : NULL;
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/wc-hostile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    declare(NULL, NULL);
    wc_rm_rf(tmpdir);
}

static char *tpath(const char *name)
{
    static char buf[8][PATH_MAX];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", tmpdir, name);
    return b;
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int has_text(const char *path, const char *text)
{
    char *buf;
    size_t len;
    int ok;

    if (wc_read_file(path, 1 << 20, &buf, &len) != 0)
        return 0;
    ok = len == strlen(text) && memcmp(buf, text, len) == 0;
    free(buf);
    return ok;
}

static wc_store *open_store(void)
{
    struct wc_dir_options opt = {.hardlink = 0, .dir_mode = 0700};
    int err = 0;
    wc_store *s = wc_dir_open(tpath("cache"), &opt, &err);
    ck_assert_msg(s != NULL, "wc_dir_open: %s", strerror(-err));
    return s;
}

/* Pushes one output (tree/<rel>, content text) as KEY, then rewrites its metadata path to
 * stored: what a hostile store would serve. */
static void push_with_path(wc_store *s, const char *rel, const char *text, const char *stored)
{
    struct wc_output o = {.path = (char *)rel};
    struct wc_entry_meta m = {.n_outputs = 1, .outputs = &o};
    char *buf, *p;
    size_t len;
    char meta[PATH_MAX], line[PATH_MAX];

    mkdir(tpath("tree"), 0755);
    write_file(tpath("tree/a.o"), text);
    ck_assert_int_eq(wc_entry_push(s, KEY, tpath("tree"), &m, "", 0, "", 0), 0);
    snprintf(meta, sizeof(meta), "%s/%.2s/%s/meta", tpath("cache"), KEY, KEY);
    ck_assert_int_eq(wc_read_file(meta, 1 << 20, &buf, &len), 0);
    p = strstr(buf, " a.o\n");
    ck_assert_ptr_nonnull(p);
    *p = '\0';
    snprintf(line, sizeof(line), "%s %s\nend\n", buf, stored);
    free(buf);
    unlink(meta);
    write_file(meta, line);
}

static int fetch(wc_store *s)
{
    struct wc_entry_meta m;
    struct wc_stream out, err;
    int rc = wc_entry_fetch(s, KEY, tpath("tree"), declared, &m, &out, &err);

    if (rc == 0) {
        wc_stream_free(&out);
        wc_stream_free(&err);
        wc_meta_free(&m);
    }
    return rc;
}

#define D(path, argv) wc_output_declared(path, argv, "/b")

/* What gcc 12 writes for these command lines (checked by hand in a scratch directory). */
START_TEST(declared_outputs)
{
    char *gcc[] = {"gcc", "-c", "src/a.c", "-o", "obj/a.o", "-MD", NULL};
    char *cmake[] = {"cc", "-MD",    "-MF", "x.dir/a.c.o.d", "-o", "x.dir/a.c.o",
                     "-c", "/s/a.c", NULL};
    char *link[] = {"gcc", "-o", "/opt/out/prog", "a.o", "-Wl,-Map,prog.map", NULL};
    char *ar[] = {"ar", "rcs", "libwc.a", "c01.o", NULL};
    char *all[] = {"gcc",
                   "-c",
                   "src/a.c",
                   "-o",
                   "obj/a.o",
                   "-MD",
                   "-gsplit-dwarf",
                   "--coverage",
                   "-save-temps",
                   "-fstack-usage",
                   "-fdump-tree-original",
                   NULL};
    char *plain[] = {"gcc", "-c", "src/a.c", "src/b.c", "-MMD", "-save-temps=cwd", NULL};
    char *multi[] = {"gcc", "--coverage", "src/a.c", "src/m.c", "-o", "obj/prog", NULL};
    char *ld[] = {"ld", "-o", "out/prog", "-Map", "out/prog.map", "a.o", NULL};

    ck_assert(D("/b/obj/a.o", gcc));
    ck_assert(D("/b/obj/a.d", gcc));
    ck_assert(D("/b/x.dir/a.c.o.d", cmake));
    ck_assert(D("/b/x.dir/a.c.o", cmake));
    ck_assert(D("/b/libwc.a", ar));
    ck_assert(D("/opt/out/prog", link));
    ck_assert(D("/b/prog.map", link));
    for (const char *const *p = (const char *const[]){"a.o", "a.d", "a.dwo", "a.gcno", "a.i", "a.s",
                                                      "a.su", "a.c.005t.original", NULL};
         *p; p++) {
        char full[64];
        snprintf(full, sizeof(full), "/b/obj/%s", *p);
        ck_assert_msg(D(full, all), "%s", full);
    }
    ck_assert(D("/b/a.o", plain) && D("/b/b.o", plain) && D("/b/a.d", plain));
    ck_assert(D("/b/a.i", plain) && D("/b/b.s", plain));
    ck_assert(D("/b/obj/prog", multi) && D("/b/obj/prog-a.gcno", multi));
    ck_assert(D("/b/obj/prog-m.gcno", multi));
    ck_assert(D("/b/out/prog", ld) && D("/b/out/prog.map", ld));
    /* What the command line does not account for. */
    ck_assert(!D("/b/src/a.s", gcc)); /* no -save-temps */
    ck_assert(!D("/b/obj/a.dwo", gcc));
    ck_assert(!D("/b/src/a.c", all)); /* an input, whatever the flags */
    ck_assert(!D("/b/src/a.c", plain));
    ck_assert(!D("/b/obj/a.h", all));
    ck_assert(!D("/b/obj/a.sh", all));
    ck_assert(!D("/b/a.txt", gcc));
    ck_assert(!D("/b/planted/deep/a.o", gcc));
    ck_assert(!D("/b/main.sh", gcc));
    ck_assert(!D("/b/x.dir/a.c.d", cmake)); /* -MF names the depfile */
    ck_assert(!D("/b/.bashrc", gcc));
    ck_assert(!D("/b/Makefile", gcc));
    ck_assert(!D("/etc/a.o", gcc));
    ck_assert(!D("/a.o", gcc));
    ck_assert(!D("/tmp/evil/prog", link));
    ck_assert(!D("/b/c01.o", ar)); /* a member */
    ck_assert(!D("/b/a.o", ld));
    ck_assert(!D("/b/obj/../obj/a.o", gcc)); /* not normalised */
    ck_assert(!D("obj/a.o", gcc));           /* not absolute */
    ck_assert(!D("/b/a.o", NULL));
}
END_TEST

/* What bison 3.8, flex 2.6, gperf 3.1, nasm 2.16, xxd, objcopy and strip (binutils 2.40)
 * write for these command lines (checked by hand in a scratch directory). */
START_TEST(declared_generators)
{
    char *bison[] = {"bison", "-d", "-v", "-o", "p.tab.c", "/s/p.y", NULL};
    char *bison_cc[] = {"bison", "--defines", "--output=gen/p.cc", "p.yy", NULL};
    char *bison_dflt[] = {"bison", "-d", "../src/p.y", NULL};
    char *yacc[] = {"yacc", "-d", "p.y", NULL};
    char *bison_h[] = {"bison", "--header=inc/p.h", "-o", "p.c", "p.y", NULL};
    char *flex[] = {"flex", "-o", "s.c", "s.l", NULL};
    char *flex_dflt[] = {"flex", "-Pfoo", "s.l", NULL};
    char *gperf[] = {"gperf", "--output-file=k.c", "k.gperf", NULL};
    char *nasm[] = {"nasm", "-f", "elf64", "-o", "f.o", "-MD", "f.d", "f.asm", NULL};
    char *nasm_dflt[] = {"nasm", "-f", "elf64", "src/f.asm", NULL};
    char *xxd[] = {"xxd", "-i", "-c", "8", "blob.bin", "blob.h", NULL};
    char *objcopy[] = {"objcopy", "-O", "binary", "--only-section", ".text", "f.o", "f.bin", NULL};
    char *objcopy_in[] = {"x86_64-linux-gnu-objcopy", "--strip-debug", "f.o", NULL};
    char *strip[] = {"strip", "-R", ".comment", "a.o", "b.o", NULL};
    char *strip_o[] = {"strip", "-o", "out/a", "a", NULL};
    char *protoc[] = {"protoc", "-I.", "--cpp_out=gen", "a.proto", NULL};
    char *script[] = {"python3", "gen.py", "in.txt", "out.c", NULL};
    char *up[] = {"bison", "-o", "link/../p.c", "p.y", NULL};

    ck_assert(D("/b/p.tab.c", bison) && D("/b/p.tab.h", bison) && D("/b/p.output", bison));
    ck_assert(D("/b/gen/p.cc", bison_cc) && D("/b/gen/p.hh", bison_cc));
    ck_assert(D("/b/p.tab.c", bison_dflt) && D("/b/p.tab.h", bison_dflt));
    ck_assert(D("/b/y.tab.c", yacc) && D("/b/y.tab.h", yacc));
    ck_assert(D("/b/inc/p.h", bison_h) && D("/b/p.c", bison_h));
    ck_assert(D("/b/s.c", flex) && D("/b/lex.foo.c", flex_dflt));
    ck_assert(D("/b/k.c", gperf));
    ck_assert(D("/b/f.o", nasm) && D("/b/f.d", nasm) && D("/b/src/f.o", nasm_dflt));
    ck_assert(D("/b/blob.h", xxd));
    ck_assert(D("/b/f.bin", objcopy) && D("/b/f.o", objcopy_in));
    ck_assert(D("/b/a.o", strip) && D("/b/b.o", strip) && D("/b/out/a", strip_o));
    ck_assert(D("/b/gen/a.pb.cc", protoc) && D("/b/gen/sub/a.pb.h", protoc));
    ck_assert(D("/b/out.c", script) && D("/b/in.txt", script)); /* an added program: any operand */
    /* What they do not write. */
    ck_assert(!D("/s/p.y", bison) && !D("/b/p.y", bison) && !D("/b/p.tab.gv", bison));
    ck_assert(!D("/b/p.tab.h", flex) && !D("/b/lex.yy.c", flex) && !D("/b/s.l", flex));
    ck_assert(!D("/b/lex.yy.c", flex_dflt));
    ck_assert(!D("/b/k.gperf", gperf) && !D("/b/k.h", gperf));
    ck_assert(!D("/b/f.asm", nasm) && !D("/b/src/f.o", nasm));
    ck_assert(!D("/b/blob.bin", xxd) && !D("/b/8", xxd));
    ck_assert(!D("/b/f.o", objcopy) && !D("/b/binary", objcopy) && !D("/b/.text", objcopy));
    ck_assert(!D("/b/.comment", strip) && !D("/b/a", strip_o));
    ck_assert(!D("/b/a.proto", protoc) && !D("/b/gen", protoc) && !D("/b/a.pb.cc", protoc));
    ck_assert(!D("/b/.bashrc", bison) && !D("/etc/passwd", strip));
    ck_assert(!D("/b/p.c", up)); /* a ".." after a name names nothing */
}
END_TEST

/* "ar x" writes members the entry would name: nothing is declared. A ".." after a name
 * leads where the kernel says, never matched; a leading ".." is cwd's parent. */
START_TEST(declared_outputs_edges)
{
    char *arx[] = {"ar", "x", "libwc.a", NULL};
    char *arq[] = {"ar", "qcs", "libwc.a", "libwc.a", NULL};
    char *up[] = {"gcc", "-c", "a.c", "-o", "../out/a.o", NULL};
    char *via[] = {"gcc", "-c", "a.c", "-o", "link/../a.o", NULL};
    char *same[] = {"gcc", "-c", "a.c", "-o", "a.c", NULL};

    ck_assert(!D("/b/libwc.a", arx));
    ck_assert(!D("/b/libwc.a", arq)); /* also an input member */
    ck_assert(D("/out/a.o", up));
    ck_assert(!D("/b/a.o", via));
    ck_assert(!D("/b/a.c", same));
}
END_TEST

START_TEST(absolute_path_outside_not_restored)
{
    wc_store *s = open_store();
    char *argv[] = {"gcc", "-c", "a.c", "-o", "a.o", NULL};
    char stored[PATH_MAX];

    mkdir(tpath("outside"), 0755);
    snprintf(stored, sizeof(stored), "%s", tpath("outside/a.o"));
    push_with_path(s, "a.o", "object", stored);
    unlink(tpath("tree/a.o"));
    declare(argv, tpath("tree"));
    ck_assert_int_eq(fetch(s), -EBADMSG);
    ck_assert_int_ne(access(tpath("outside/a.o"), F_OK), 0);
    ck_assert_int_ne(access(tpath("tree/a.o"), F_OK), 0);
    /* Without the declaration (the check off), the same metadata is restored where it says:
     * the check above is what stops it. */
    declare(NULL, NULL);
    ck_assert_int_eq(fetch(s), 0);
    ck_assert(has_text(tpath("outside/a.o"), "object"));
    s->close(s);
}
END_TEST

START_TEST(undeclared_relative_path_not_restored)
{
    wc_store *s = open_store();
    char *argv[] = {"gcc", "-c", "a.c", "-o", "a.o", NULL};

    push_with_path(s, "a.o", "object", "Makefile");
    write_file(tpath("tree/Makefile"), "all:\n");
    declare(argv, tpath("tree"));
    ck_assert_int_eq(fetch(s), -EBADMSG);
    ck_assert(has_text(tpath("tree/Makefile"), "all:\n"));
    s->close(s);
}
END_TEST

START_TEST(dotdot_path_refused)
{
    wc_store *s = open_store();
    char *argv[] = {"gcc", "-c", "a.c", "-o", "../a.o", NULL};

    push_with_path(s, "a.o", "object", "../a.o");
    declare(argv, tpath("tree"));
    ck_assert_int_eq(fetch(s), -EBADMSG);
    declare(NULL, NULL);
    ck_assert_int_eq(fetch(s), -EBADMSG); /* the parser refuses it on its own */
    ck_assert_int_ne(access(tpath("a.o"), F_OK), 0);
    s->close(s);
}
END_TEST

/* A symlink where the output goes is replaced, never written through. */
START_TEST(symlink_at_destination_replaced)
{
    wc_store *s = open_store();
    char *argv[] = {"gcc", "-c", "a.c", "-o", "a.o", NULL};
    struct stat st;

    push_with_path(s, "a.o", "object", "a.o");
    write_file(tpath("victim"), "precious");
    unlink(tpath("tree/a.o"));
    ck_assert_int_eq(symlink(tpath("victim"), tpath("tree/a.o")), 0);
    declare(argv, tpath("tree"));
    ck_assert_int_eq(fetch(s), 0);
    ck_assert(has_text(tpath("victim"), "precious"));
    ck_assert_int_eq(lstat(tpath("tree/a.o"), &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert(has_text(tpath("tree/a.o"), "object"));
    s->close(s);
}
END_TEST

/* Metadata texts a fuzz target (fuzz/fuzz_meta) or a review found interesting: each must be
 * refused or parse to something safe, without a crash under the sanitizers. */
START_TEST(meta_parser_regressions)
{
    static const char *const bad[] = {
        "",
        "wafcache-entry 1\n",
        "wafcache-entry 1\nrun_ns 18446744073709551616\n",
        "wafcache-entry 1\nrun_ns 0\nstdout 0 99aa06d3014798d86001c324468d497f\nstderr 0 "
        "99aa06d3014798d86001c324468d497f\noutputs 4097\nend\n",
        "wafcache-entry 1\nrun_ns 0\nstdout 0 99aa06d3014798d86001c324468d497f\nstderr 0 "
        "99aa06d3014798d86001c324468d497f\noutputs 1\no 0644 1 99aa06d3014798d86001c324468d497f "
        "a%00b\nend\n",
        "wafcache-entry 1\nrun_ns 0\nstdout 0 99aa06d3014798d86001c324468d497f\nstderr 0 "
        "99aa06d3014798d86001c324468d497f\noutputs 1\no 0644 1 99aa06d3014798d86001c324468d497f "
        "a%2\nend\n",
        "wafcache-entry 1\nrun_ns 0\nstdout 0 99aa06d3014798d86001c324468d497f\nstderr 0 "
        "99aa06d3014798d86001c324468d497f\noutputs 1\no 0644 1 99aa06d3014798d86001c324468d497f "
        "x/%2E%2E/y\nend\n",
        "wafcache-entry 1\nrun_ns 0\nstdout 0 99aa06d3014798d86001c324468d497f\nstderr 0 "
        "99aa06d3014798d86001c324468d497f\noutputs 1\no 17777 1 99aa06d3014798d86001c324468d497f "
        "a\nend\n",
    };
    struct wc_entry_meta m;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(wc_meta_parse(bad[i], strlen(bad[i]), &m) == -EINVAL, "case %zu", i);
}
END_TEST

static void write_old(const char *path, int old)
{
    struct timespec ts[2] = {{time(NULL) - 7200, 0}, {time(NULL) - 7200, 0}};

    write_file(path, "partial");
    if (old)
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* What a writer killed between its write and its rename leaves -- in an entry, beside the
 * memo, in explain/ and stats/ -- is swept by the trim once it is old; a fresh one is a
 * writer at work and stays. */
START_TEST(stale_temps_swept)
{
    struct wc_trim_limits lim = {.max_entries = 1000, .max_bytes = 1u << 30};
    struct wc_trim_result res;

    mkdir(tpath("c"), 0700);
    mkdir(tpath("c/explain"), 0700);
    mkdir(tpath("c/stats"), 0700);
    mkdir(tpath("c/01"), 0700);
    mkdir(tpath("c/01/0123456789abcdef0123456789abcdef"), 0700);
    write_old(tpath("c/memo.wctmp.1.0"), 1);
    write_old(tpath("c/explain/ab.wctmp.1.0"), 1);
    write_old(tpath("c/stats/3.wctmp.1.0"), 1);
    write_old(tpath("c/01/0123456789abcdef0123456789abcdef/0.wctmp.1.0"), 1);
    write_old(tpath("c/explain/cd.wctmp.2.0"), 0);
    ck_assert_int_eq(wc_dir_trim(tpath("c"), &lim, 1, &res), 0);
    ck_assert_int_ne(access(tpath("c/memo.wctmp.1.0"), F_OK), 0);
    ck_assert_int_ne(access(tpath("c/explain/ab.wctmp.1.0"), F_OK), 0);
    ck_assert_int_ne(access(tpath("c/stats/3.wctmp.1.0"), F_OK), 0);
    ck_assert_int_ne(access(tpath("c/01/0123456789abcdef0123456789abcdef/0.wctmp.1.0"), F_OK), 0);
    ck_assert_int_eq(access(tpath("c/explain/cd.wctmp.2.0"), F_OK), 0);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("hostile");
    TCase *tc = tcase_create("hostile");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, declared_outputs);
    tcase_add_test(tc, declared_outputs_edges);
    tcase_add_test(tc, declared_generators);
    tcase_add_test(tc, absolute_path_outside_not_restored);
    tcase_add_test(tc, undeclared_relative_path_not_restored);
    tcase_add_test(tc, dotdot_path_refused);
    tcase_add_test(tc, symlink_at_destination_replaced);
    tcase_add_test(tc, meta_parser_regressions);
    tcase_add_test(tc, stale_temps_swept);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
