/* WAFCACHE_BASEDIR parsing and stripping, the per-command base dir, and lexical paths. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashing/basedir.h"

#define T WC_BASEDIR_TOKEN

static char tmpdir[] = "/tmp/wc_test_basedir.XXXXXX";

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/wc_test_basedir.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    /* Our own paths physical, so realpath() adds nothing unexpected. */
    char real[4096];
    ck_assert_ptr_nonnull(realpath(tmpdir, real));
    ck_assert_uint_lt(strlen(real), sizeof(tmpdir));
    strcpy(tmpdir, real);
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void check_norm(const char *in, const char *want)
{
    char *got = wc_path_normalize(in);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcmp(got, want) == 0, "normalize(\"%s\") = \"%s\", want \"%s\"", in, got, want);
    free(got);
}

START_TEST(normalize)
{
    check_norm("/", "/");
    check_norm("//", "/");
    check_norm("/a/b", "/a/b");
    check_norm("/a/b/", "/a/b");
    check_norm("//a//b//", "/a/b");
    check_norm("/a/./b/.", "/a/b");
    check_norm("/a/b/../c", "/a/c");
    check_norm("/a/b/../../c", "/c");
    check_norm("/a/b/../..", "/");
    check_norm("/..", "/");
    check_norm("/../a/../../b", "/b");
    check_norm("/a/..b/c", "/a/..b/c");
    check_norm("/a/.b/./c..", "/a/.b/c..");
    check_norm("/a/b/...", "/a/b/...");
    check_norm("a/b/../c", "a/c");
    check_norm("../a/..", "..");
    check_norm("../../x", "../../x");
    check_norm("a/..", ".");
    check_norm(".", ".");
    check_norm("a/../../b", "../b");
}
END_TEST

static void check_rel(const char *from, const char *to, const char *want)
{
    char *got = wc_path_relative(from, to);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcmp(got, want) == 0, "relative(\"%s\", \"%s\") = \"%s\", want \"%s\"", from,
                  to, got, want);
    free(got);
}

START_TEST(relative)
{
    check_rel("/a/b/c", "/a/d/e", "../../d/e");
    check_rel("/a", "/a", ".");
    check_rel("/", "/", ".");
    check_rel("/a/b", "/a/b/c/d", "c/d");
    check_rel("/a/b/c", "/a/b", "..");
    check_rel("/a/b/c", "/a", "../..");
    check_rel("/a/b", "/", "../..");
    check_rel("/", "/a/b", "a/b");
    check_rel("/a/b", "/a/bc", "../bc"); /* components, not characters */
    check_rel("/a/bc", "/a/b", "../b");
    check_rel("/x/y", "/a/b", "../../a/b");
    check_rel("/a//b/", "/a/b/./c", "c");
}
END_TEST

static void check_strip(const wc_basedirs *b, const char *in, const char *want)
{
    char *got = wc_basedir_strip(b, in);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(strcmp(got, want) == 0, "strip(\"%s\") = \"%s\", want \"%s\"", in, got, want);
    free(got);
}

START_TEST(parse_and_order)
{
    wc_basedirs b;

    ck_assert_int_eq(wc_basedirs_parse(&b, "/nonexistent/a:/nonexistent/a/bb//:/z", "/home/u"), 0);
    ck_assert_uint_eq(b.n, 3);
    ck_assert_str_eq(b.dirs[0], "/nonexistent/a/bb"); /* normalised, longest first */
    ck_assert_str_eq(b.dirs[1], "/nonexistent/a");
    ck_assert_str_eq(b.dirs[2], "/z");
    wc_basedirs_free(&b);
    ck_assert_uint_eq(b.n, 0);

    /* Empty entries are skipped, duplicates merged. */
    ck_assert_int_eq(wc_basedirs_parse(&b, ":/p/q::/p/q/:", NULL), 0);
    ck_assert_uint_eq(b.n, 1);
    ck_assert_str_eq(b.dirs[0], "/p/q");
    wc_basedirs_free(&b);

    ck_assert_int_eq(wc_basedirs_parse(&b, "", NULL), 0);
    ck_assert_uint_eq(b.n, 0);
    wc_basedirs_free(&b);
}
END_TEST

START_TEST(parse_refuses)
{
    wc_basedirs b;

    ck_assert_int_eq(wc_basedirs_parse(&b, "relative/dir", NULL), -1);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_int_eq(wc_basedirs_parse(&b, "/ok:relative", NULL), -1);
    ck_assert_uint_eq(b.n, 0);
    ck_assert_int_eq(wc_basedirs_parse(&b, "./x", NULL), -1);
    ck_assert_int_eq(wc_basedirs_parse(&b, "/", NULL), -1);
    ck_assert_int_eq(wc_basedirs_parse(&b, "/ok://", NULL), -1);
    ck_assert_int_eq(wc_basedirs_parse(&b, "/a/..", NULL), -1); /* "/" in disguise */
    ck_assert_uint_eq(b.n, 0);

    /* Home, below or above it is fine: a bound of the per-command decision (issue 15). */
    ck_assert_int_eq(wc_basedirs_parse(&b, "/home/u/src:/home", "/home/u"), 0);
    ck_assert_uint_eq(b.n, 2);
    wc_basedirs_free(&b);
    ck_assert_int_eq(wc_basedirs_parse(&b, "/home/u/", "/home/u"), 0);
    ck_assert_uint_eq(b.n, 1);
    wc_basedirs_free(&b);
}
END_TEST

START_TEST(parse_adds_physical_path)
{
    char real[4200], link[4200];
    wc_basedirs b;

    snprintf(real, sizeof(real), "%s/real", tmpdir);
    snprintf(link, sizeof(link), "%s/link", tmpdir);
    ck_assert_int_eq(mkdir(real, 0700), 0);
    ck_assert_int_eq(symlink(real, link), 0);
    ck_assert_int_eq(wc_basedirs_parse(&b, link, NULL), 0);
    ck_assert_uint_eq(b.n, 2);
    ck_assert_uint_eq(wc_basedir_prefix(&b, real), strlen(real));
    ck_assert_uint_eq(wc_basedir_prefix(&b, link), strlen(link));
    wc_basedirs_free(&b);
}
END_TEST

START_TEST(prefix_components)
{
    wc_basedirs b;

    ck_assert_int_eq(wc_basedirs_parse(&b, "/a/b:/a/b/c", NULL), 0);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/b"), 4);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/b/"), 4);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/b/x.c"), 4);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/b/c"), 6); /* longest wins */
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/b/c/d"), 6);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/b/cd"), 4);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/bc"), 0);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a/b.c"), 0);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "/a"), 0);
    ck_assert_uint_eq(wc_basedir_prefix(&b, "a/b"), 0);
    ck_assert_uint_eq(wc_basedir_prefix(&b, ""), 0);
    wc_basedirs_free(&b);
    ck_assert_uint_eq(wc_basedir_prefix(NULL, "/a/b"), 0);
}
END_TEST

START_TEST(strip)
{
    wc_basedirs b;

    ck_assert_int_eq(wc_basedirs_parse(&b, "/a/b:/a/b/c:/x", NULL), 0);
    check_strip(&b, "/a/b", T);
    check_strip(&b, "/a/b/src/x.c", T "/src/x.c");
    check_strip(&b, "/a/b/c/x.c", T "/x.c"); /* longest wins */
    check_strip(&b, "/a/bc/x.c", "/a/bc/x.c");
    check_strip(&b, "/a/b.c", "/a/b.c");
    check_strip(&b, "/a", "/a");
    check_strip(&b, "x/a/b", "x/a/b");       /* not at a path start */
    check_strip(&b, "-DX /a/b", "-DX /a/b"); /* not after a space */
    check_strip(&b, "-I/a/b/inc", "-I" T "/inc");
    check_strip(&b, "-isystem/a/b/inc", "-isystem" T "/inc");
    check_strip(&b, "-L/a/b", "-L" T);
    check_strip(&b, "-I/a/bc", "-I/a/bc");
    check_strip(&b, "--sysroot=/x", "--sysroot=" T);
    check_strip(&b, "-fdebug-prefix-map=/a/b=.", "-fdebug-prefix-map=" T "=.");
    check_strip(&b, "-ffile-prefix-map=/a/b/c=/x", "-ffile-prefix-map=" T "=" T);
    check_strip(&b, "/a/b/inc:/x/inc:/usr/include", T "/inc:" T "/inc:/usr/include");
    check_strip(&b, "-Wl,-rpath,/a/b/lib", "-Wl,-rpath," T "/lib");
    check_strip(&b, "@/a/b/args.rsp", "@" T "/args.rsp");
    check_strip(&b, "-I/usr/include/a/b", "-I/usr/include/a/b");
    check_strip(&b, "-Ifoo/a/b", "-Ifoo/a/b"); /* relative "foo/a/b" */
    check_strip(&b, "-Dfoo/a/b", "-Dfoo/a/b");
    check_strip(&b, "-MF/a/b/x.d", "-MF" T "/x.d");
    check_strip(&b, "-o/a/b/x.o", "-o" T "/x.o");
    check_strip(&b, "-idirafter/x", "-idirafter" T);
    check_strip(&b, "", "");
    check_strip(&b, "/", "/");
    check_strip(&b, "/x/a/b", T "/a/b"); /* only at the start of the path */
    wc_basedirs_free(&b);

    /* No base dirs: unchanged. */
    check_strip(&b, "/a/b/x", "/a/b/x");
    check_strip(NULL, "-I/a/b", "-I/a/b");
}
END_TEST

START_TEST(expand)
{
    wc_basedirs b;
    char *s;

    ck_assert_int_eq(wc_basedirs_parse(&b, "/a/b", NULL), 0);
    s = wc_basedir_expand(&b, T "/src/x.c");
    ck_assert_str_eq(s, "/a/b/src/x.c");
    free(s);
    s = wc_basedir_expand(&b, T);
    ck_assert_str_eq(s, "/a/b");
    free(s);
    s = wc_basedir_expand(&b, "/usr/include/x.h");
    ck_assert_str_eq(s, "/usr/include/x.h");
    free(s);
    s = wc_basedir_expand(&b, T "x");
    ck_assert_str_eq(s, T "x");
    free(s);
    /* Round trip through strip. */
    char *st = wc_basedir_strip(&b, "/a/b/include/y.h");
    s = wc_basedir_expand(&b, st);
    ck_assert_str_eq(s, "/a/b/include/y.h");
    free(s);
    free(st);
    wc_basedirs_free(&b);
    s = wc_basedir_expand(&b, T "/x");
    ck_assert_str_eq(s, T "/x");
    free(s);
}
END_TEST

static char *path_in(const char *rel)
{
    static char buf[4][4200];
    static int n;
    char *b = buf[n++ % 4];
    snprintf(b, sizeof(buf[0]), "%s/%s", tmpdir, rel);
    return b;
}

/* wc_basedir_decide on the real file system (checkout markers in tmpdir) with argv {"cc"}. */
static void check_default(const char *cwd, const char *home, const char *want)
{
    char *const argv[] = {"cc", NULL};
    struct wc_basedir_query q = {.cwd = cwd, .argv = argv, .home = home};
    wc_basedirs b;
    ck_assert_int_eq(wc_basedir_decide(&q, &b), 0);
    if (!want) {
        ck_assert_msg(b.n == 0, "decide(%s) = %s, want none", cwd ? cwd : "(null)",
                      b.n ? b.dirs[0] : "");
        return;
    }
    ck_assert_uint_eq(b.n, 1);
    ck_assert_str_eq(b.dirs[0], want);
    wc_basedirs_free(&b);
}

START_TEST(default_dir)
{
    char proj[4200], home[4200], want[4200];

    /* No VCS anywhere below tmpdir (and none above /tmp, we assume: checked below). */
    ck_assert_int_eq(mkdir(path_in("plain"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("plain/sub"), 0700), 0);
    strcpy(proj, path_in("plain/sub"));
    check_default(proj, NULL, proj);

    /* .git directory, found from below. */
    ck_assert_int_eq(mkdir(path_in("g"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("g/.git"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("g/src"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("g/src/deep"), 0700), 0);
    strcpy(want, path_in("g"));
    check_default(path_in("g/src/deep"), NULL, want);
    check_default(path_in("g"), NULL, want);
    check_default(path_in("g/src/deep/.."), NULL, want);

    /* A .git file (worktree), .hg, .svn; the nearest wins. */
    ck_assert_int_eq(mkdir(path_in("g/wt"), 0700), 0);
    FILE *f = fopen(path_in("g/wt/.git"), "w");
    ck_assert_ptr_nonnull(f);
    fputs("gitdir: /elsewhere\n", f);
    fclose(f);
    ck_assert_int_eq(mkdir(path_in("g/wt/x"), 0700), 0);
    strcpy(want, path_in("g/wt"));
    check_default(path_in("g/wt/x"), NULL, want);
    ck_assert_int_eq(mkdir(path_in("h"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("h/.hg"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("h/a"), 0700), 0);
    strcpy(want, path_in("h"));
    check_default(path_in("h/a"), NULL, want);
    ck_assert_int_eq(mkdir(path_in("s"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("s/.svn"), 0700), 0);
    strcpy(want, path_in("s"));
    check_default(want, NULL, want);

    /* A repository at home (dotfiles) is not the base dir of a project below it. */
    strcpy(home, path_in("home"));
    ck_assert_int_eq(mkdir(home, 0700), 0);
    ck_assert_int_eq(mkdir(path_in("home/.git"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("home/proj"), 0700), 0);
    strcpy(proj, path_in("home/proj"));
    check_default(proj, home, proj);
    /* ... but a repository below home is. */
    ck_assert_int_eq(mkdir(path_in("home/proj/.git"), 0700), 0);
    ck_assert_int_eq(mkdir(path_in("home/proj/src"), 0700), 0);
    check_default(path_in("home/proj/src"), home, proj);

    /* Never home or "/". */
    check_default(home, home, NULL);
    check_default("/", NULL, NULL);
    check_default("relative", NULL, NULL);
    check_default(NULL, NULL, NULL);
}
END_TEST

/* ---- the pure decision: checkouts named by a list, no file system ---------------------------- */

static int listed_vcs(const char *dir, void *ctx)
{
    for (const char *const *v = ctx; *v; v++)
        if (strcmp(*v, dir) == 0)
            return 1;
    return 0;
}

/* decide(cwd, argv "cc ARGS...", home, WAFCACHE_BASEDIR list or NULL, checkouts) -> want
 * (NULL: none) with up levels to the bound. */
static void check_decide(const char *cwd, const char *args, const char *home, const char *list,
                         const char *const *vcs, const char *want, size_t up)
{
    static const char *const none[] = {NULL};
    char buf[1024], *argv[32];
    size_t n = 0;
    argv[n++] = "cc";
    snprintf(buf, sizeof buf, "%s", args);
    for (char *save = NULL, *a = strtok_r(buf, " ", &save); a && n < 31;
         a = strtok_r(NULL, " ", &save))
        argv[n++] = a;
    argv[n] = NULL;
    wc_basedirs bounds, b;
    if (list)
        ck_assert_int_eq(wc_basedirs_parse(&bounds, list, home), 0);
    struct wc_basedir_query q = {
        cwd, argv, home, list ? &bounds : NULL, listed_vcs, (void *)(vcs ? vcs : none)};
    ck_assert_int_eq(wc_basedir_decide(&q, &b), 0);
    if (list)
        wc_basedirs_free(&bounds);
    if (!want) {
        ck_assert_msg(b.n == 0, "decide(%s, %s) = %s, want none", cwd, args, b.n ? b.dirs[0] : "");
        return;
    }
    ck_assert_msg(b.n == 1, "decide(%s, %s): none, want %s", cwd, args, want);
    ck_assert_msg(strcmp(b.dirs[0], want) == 0, "decide(%s, %s) = %s, want %s", cwd, args,
                  b.dirs[0], want);
    ck_assert_uint_eq(b.up, up);
    wc_basedirs_free(&b);
}

#define HOME "/nonexistent-home/u"
#define H HOME

START_TEST(decide_relative_reach)
{
    /* `cd build && make`, sources in ../src: one level up. */
    check_decide("/w/p/build", "-c ../src/a.c -o a.o", NULL, NULL, NULL, "/w/p", 1);
    /* Joined options and pieces after '=' or ',' reach too. */
    check_decide("/w/p/a/b", "-I../../inc -c x.c", NULL, NULL, NULL, "/w/p", 1);
    check_decide("/w/p/a/b", "-Wl,-T,../x.ld x.o", NULL, NULL, NULL, "/w/p/a", 2);
    check_decide("/w/p/a/b", "--sysroot=../../../s x.c", NULL, NULL, NULL, "/w", 0);
    /* Nothing above the cwd: the cwd. "a/../b" stays below it. */
    check_decide("/w/p/build", "-c a.c -Iinc -o sub/../a.o", NULL, NULL, NULL, "/w/p/build", 2);
    /* A reach beyond the bound ("/w" by default: never "/") is ignored here; signature.c then
     * keeps the absolute cwd in key1. */
    check_decide("/w/p", "-I../../../etc x.c", NULL, NULL, NULL, "/w/p", 1);
    /* "1..2" is no "..". */
    check_decide("/w/p", "-DV=1..2 x.c", NULL, NULL, NULL, "/w/p", 1);
}
END_TEST

START_TEST(decide_absolute_args)
{
    /* CMake from a build dir: absolute sources under the project. */
    check_decide("/w/p/build", "-I/w/p/inc -c /w/p/src/a.c -o CMakeFiles/a.o", NULL, NULL, NULL,
                 "/w/p", 1);
    /* System paths meet the cwd at "/": ignored. */
    check_decide("/w/p/build", "-I/usr/include -c a.c", NULL, NULL, NULL, "/w/p/build", 2);
    /* A prefix map names the checkout it rewrites: its OLD part reaches like a path. */
    check_decide("/w/p/build", "-g -fdebug-prefix-map=/w/p=. -c a.c", NULL, NULL, NULL, "/w/p", 1);
    /* Under home: paths that meet the cwd at home or above are ignored. */
    check_decide(H "/src/A", "-I" H "/.local/include -c a.c", HOME, NULL, NULL, H "/src/A", 1);
    check_decide(H "/src/A/b", "-c " H "/src/A/x.c", HOME, NULL, NULL, H "/src/A", 1);
}
END_TEST

START_TEST(decide_checkouts)
{
    const char *const p[] = {"/w/p", NULL};
    /* The checkout around the cwd, then widened by the arguments if they reach further. */
    check_decide("/w/p/a/b", "-c x.c", NULL, NULL, p, "/w/p", 1);
    check_decide("/w/p/a", "-I../../q/inc -c x.c", NULL, NULL, p, "/w", 0);
    /* A checkout at home or "/" is not used (dotfiles); one right below home is. */
    const char *const dot[] = {HOME, "/", NULL};
    check_decide(H "/src/A", "-c x.c", HOME, NULL, dot, H "/src/A", 1);
    const char *const below[] = {H "/A", NULL};
    check_decide(H "/A/x", "-c x.c", HOME, NULL, below, H "/A", 0);
    /* A build started in another checkout does not matter: only the cwd does. */
    check_decide("/elsewhere/proj", "-c x.c", NULL, NULL, p, "/elsewhere/proj", 1);
}
END_TEST

START_TEST(decide_never_home_or_root)
{
    check_decide(HOME, "-c x.c", HOME, NULL, NULL, NULL, 0);
    check_decide("/nonexistent-home", "-c x.c", HOME, NULL, NULL, NULL, 0);
    check_decide("/", "-c x.c", NULL, NULL, NULL, NULL, 0);
    /* `make -C ~/src/A` from home: the command's cwd is ~/src/A. */
    check_decide(H "/src/A", "-c a.c -o a.o", HOME, NULL, NULL, H "/src/A", 1);
    check_decide(H "/src/A", "-c ../../x.c", HOME, NULL, NULL, H "/src/A", 1);
}
END_TEST

START_TEST(decide_configured_bounds)
{
    /* A common parent of checkouts: each command's base dir is below it, so that the cwd
     * relative to it is not in the key. The bound itself may be the base dir. */
    check_decide("/ws/A/build", "-c ../src/a.c", NULL, "/ws", NULL, "/ws/A", 1);
    check_decide("/ws/A/build", "-c ../../shared/a.c", NULL, "/ws", NULL, "/ws", 0);
    check_decide("/ws/A/build", "-c a.c", NULL, "/ws:/other", NULL, "/ws/A/build", 2);
    /* A cwd under no entry has no base dir. */
    check_decide("/elsewhere/A", "-c a.c", NULL, "/ws", NULL, NULL, 0);
    /* $HOME as a bound: accepted, home itself only when an argument reaches it. */
    check_decide(H "/src/A", "-c a.c", HOME, HOME, NULL, H "/src/A", 2);
    check_decide(H "/src/A", "-I" H "/inc -c a.c", HOME, HOME, NULL, HOME, 0);
    /* A checkout above the bound is not used. */
    const char *const top[] = {"/ws", NULL};
    check_decide("/ws/A/build", "-c a.c", NULL, "/ws/A", top, "/ws/A/build", 1);
}
END_TEST

static void check_near(const char *base, size_t up, const char *path, const char *want)
{
    char *dirs[] = {(char *)base};
    wc_basedirs b = {dirs, 1, up};
    int oom = 0;
    char *got = wc_basedir_near(&b, path, &oom);
    ck_assert_int_eq(oom, 0);
    if (!want) {
        ck_assert_msg(got == NULL, "near(%s, %s) = %s, want none", base, path, got);
        return;
    }
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(near_paths)
{
    check_near("/w/p/src", 2, "/w/p/inc/x.h", T "/../inc/x.h");
    check_near("/w/p/src", 2, "/w/q/x.h", T "/../../q/x.h");
    check_near("/w/p/src", 2, "/w/p/src/../inc/./x.h", T "/../inc/x.h");
    check_near("/w/p/src", 1, "/w/q/x.h", NULL);         /* above the bound */
    check_near("/w/p/src", 2, "/usr/include/x.h", NULL); /* meets it at "/" */
    check_near("/w/p/src", 2, "/w/p/src/x.h", NULL);     /* under it: the token form */
    check_near("/w/p/src", 0, "/w/p/inc/x.h", NULL);
    check_near("/w/p/src", 2, "/w/p", T "/..");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("basedir");
    TCase *tc = tcase_create("basedir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, normalize);
    tcase_add_test(tc, relative);
    tcase_add_test(tc, parse_and_order);
    tcase_add_test(tc, parse_refuses);
    tcase_add_test(tc, parse_adds_physical_path);
    tcase_add_test(tc, prefix_components);
    tcase_add_test(tc, strip);
    tcase_add_test(tc, expand);
    tcase_add_test(tc, default_dir);
    tcase_add_test(tc, decide_relative_reach);
    tcase_add_test(tc, decide_absolute_args);
    tcase_add_test(tc, decide_checkouts);
    tcase_add_test(tc, decide_never_home_or_root);
    tcase_add_test(tc, decide_configured_bounds);
    tcase_add_test(tc, near_paths);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
