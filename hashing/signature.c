/* key1 and the base-dir rewrite of argv. See signature.h. */
#include "hashing/signature.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "core/programs.h"

/* ---- what the arguments mean ------------------------------------------------------------ */

/* Rewriting a path must not change what the command does (issue 12, class 8). gcc's and ld's
 * manuals sort path arguments into three kinds, each handled by one rule (rewrite_path):
 *
 * - PATH: taken from the working directory whatever its spelling; any relative form works.
 * - SEARCHED: a name the tool may look up along a search list when it is not found as
 *   written: -fplugin=NAME without a '/' is a plugin of gcc's own plugin directory;
 *   -include/-imacros continue along the #include "..." chain when the file is not in the
 *   working directory; ld tries a -T script in every -L directory when ./script is missing.
 *   Rewritten only to a file that exists now (the working directory then finds it first)
 *   and always with a '/' ("./p.so", never a bare "p.so").
 * - KEPT: never rewritten. -specs= is looked up along gcc's startfile prefixes (the -B
 *   directories first) *before* the working directory, whatever its spelling; -B and
 *   -iprefix are string prefixes ("-B/usr/bin/arm-" names arm-as); -iwithprefix[before] and
 *   -imultilib are relative to a prefix or to gcc's own directories, not to the cwd; clang's
 *   -resource-dir and --gcc-toolchain name a toolchain. -fprofile-use=, -fprofile-generate=
 *   and -fauto-profile= are in none of the lists, so they stay as written as well: the
 *   directory given to -fprofile-generate is compiled into the program.
 *
 * Separate forms ("-I" "/x") are in the lists below; gcc and clang also take them joined
 * ("-I/x", "-isystem/x"). */
static const char *const path_opts[] = {
    "-I",        "-isystem",    "-iquote",      "-idirafter",
    "-isysroot", "-iframework", "-L",           "-o",
    "-MF",       "-F",          "-include-pch", "--sysroot",
    "-dumpdir",  "-aux-info",   "-MJ",          "-serialize-diagnostics",
    NULL};
static const char *const searched_opts[] = {"-include", "-imacros", "-T", NULL};
static const char *const kept_opts[] = {
    "-B",         "-iprefix",      "-iwithprefix",    "-iwithprefixbefore",
    "-imultilib", "-resource-dir", "--gcc-toolchain", "--specs",
    NULL};

/* Joined "=" forms. */
static const char *const path_eq_opts[] = {"--sysroot=", "-iplugindir=", NULL};
static const char *const searched_eq_opts[] = {"-fplugin=", NULL};

/* Options whose separate value is not a path, or is one that must stay as written (an rpath
 * ends up in the binary). Their value is copied untouched. */
static const char *const value_opts[] = {"-D",
                                         "-U",
                                         "-MT",
                                         "-MQ",
                                         "-x",
                                         "-Xlinker",
                                         "-Xassembler",
                                         "-Xpreprocessor",
                                         "-Xclang",
                                         "-Xopenmp-target",
                                         "-mllvm",
                                         "-u",
                                         "-e",
                                         "-z",
                                         "-l",
                                         "-A",
                                         "-arch",
                                         "-target",
                                         "--target",
                                         "-rpath",
                                         "-R",
                                         "--param",
                                         "-dumpbase",
                                         "-wrapper",
                                         "-working-directory",
                                         "-install_name",
                                         "-framework",
                                         "-ccc-gcc-name",
                                         NULL};

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

enum path_kind { PATH_NONE, PATH_PLAIN, PATH_SEARCHED };

/* The longest option of list that s starts with, joined to an absolute value ("-I/x") or,
 * for "=" forms, to any value; its length, or 0. */
static size_t joined_in(const char *const *list, const char *s, int eq)
{
    size_t best = 0;
    for (size_t i = 0; list[i]; i++) {
        size_t n = strlen(list[i]);
        if (n > best && strncmp(s, list[i], n) == 0 && (eq || s[n] == '/'))
            best = n;
    }
    return best;
}

/* Length of the path option that s starts with, joined to its value, or 0; *kind says
 * which rule its value follows. The longest match wins ("-include-pch/x" is not
 * "-include"). */
static size_t joined_path_opt(const char *s, enum path_kind *kind)
{
    size_t plain = joined_in(path_opts, s, 0), plain_eq = joined_in(path_eq_opts, s, 1);
    size_t searched = joined_in(searched_opts, s, 0),
           searched_eq = joined_in(searched_eq_opts, s, 1);
    size_t p = plain > plain_eq ? plain : plain_eq,
           q = searched > searched_eq ? searched : searched_eq;
    *kind = p == 0 && q == 0 ? PATH_NONE : p >= q ? PATH_PLAIN : PATH_SEARCHED;
    return p >= q ? p : q;
}

enum wc_tool wc_tool_of(const char *basename)
{
    if (wc_program_matches("gcc,g++,cc,c++,clang,clang++", basename))
        return WC_TOOL_CC;
    if (wc_program_matches("ar", basename))
        return WC_TOOL_AR;
    if (wc_program_matches(WC_GEN_REWRITTEN, basename))
        return WC_TOOL_GEN;
    return WC_TOOL_OTHER;
}

/* ---- the rewrite -------------------------------------------------------------------------- */

/* malloc'd relative form of an absolute path under a base dir, or a copy of p. A path that is
 * not lexically normal ("/a/link/../x") is left alone: with symbolic links ".." is not
 * lexical, and a wrong rewrite would change what the command reads. */
static char *relative_if_under(const char *p, const char *cwd, const wc_basedirs *bd)
{
    if (p[0] != '/' || wc_basedir_prefix(bd, p) == 0)
        return strdup(p);
    char *norm = wc_path_normalize(p);
    if (!norm)
        return NULL;
    int normal = strcmp(norm, p) == 0;
    free(norm);
    if (!normal)
        return strdup(p);
    return wc_path_relative(cwd, p);
}

/* malloc'd prefix[0..n) followed by tail. */
static char *concat(const char *prefix, size_t n, const char *tail)
{
    size_t m = strlen(tail);
    char *s = malloc(n + m + 1);
    if (!s)
        return NULL;
    memcpy(s, prefix, n);
    memcpy(s + n, tail, m + 1);
    return s;
}

/* A SEARCHED path (see the lists above): relative only to a file that exists, so that the
 * working directory finds it before any search list does, and never a bare name. */
static char *relative_searched(const char *p, const char *cwd, const wc_basedirs *bd)
{
    if (p[0] != '/' || access(p, F_OK) != 0)
        return strdup(p);
    char *rel = relative_if_under(p, cwd, bd);
    if (!rel || strchr(rel, '/'))
        return rel;
    char *s = concat("./", 2, rel);
    free(rel);
    return s;
}

static char *rewrite_path(const char *p, enum path_kind kind, const char *cwd,
                          const wc_basedirs *bd)
{
    return kind == PATH_SEARCHED ? relative_searched(p, cwd, bd) : relative_if_under(p, cwd, bd);
}

/* Rewrite one argument of a compiler driver; *next tells what the following one is. */
enum next_kind { NEXT_ANY, NEXT_PATH, NEXT_SEARCHED, NEXT_VALUE };

static char *rewrite_cc_arg(const char *a, const char *cwd, const wc_basedirs *bd,
                            enum next_kind *next)
{
    enum next_kind cur = *next;
    *next = NEXT_ANY;
    if (cur == NEXT_VALUE)
        return strdup(a);
    if (cur == NEXT_SEARCHED)
        return relative_searched(a, cwd, bd);
    if (cur == NEXT_PATH || a[0] != '-')
        return relative_if_under(a, cwd, bd);
    if (in_list(value_opts, a) || in_list(kept_opts, a)) {
        *next = NEXT_VALUE;
        return strdup(a);
    }
    if (in_list(path_opts, a) || in_list(searched_opts, a)) {
        *next = in_list(path_opts, a) ? NEXT_PATH : NEXT_SEARCHED;
        return strdup(a);
    }
    enum path_kind kind;
    size_t n = joined_path_opt(a, &kind);
    if (n == 0)
        return strdup(a);
    char *rel = rewrite_path(a + n, kind, cwd, bd);
    if (!rel)
        return NULL;
    char *s = concat(a, n, rel);
    free(rel);
    return s;
}

/* Output options of the generators, joined with '=' ("--output=/a/p.c"); "-o" is taken
 * separate (an operand then) or joined ("-o/a/p.c"). Anything else stays as written: a
 * value that is not a path must not change ("-Dapi.prefix=/x"). */
static const char *const gen_eq_opts[] = {"--output=",
                                          "--outfile=",
                                          "--output-file=",
                                          "--defines=",
                                          "--header=",
                                          "--header-file=",
                                          "--tables-file=",
                                          "--report-file=",
                                          "--graph=",
                                          "--xml=",
                                          NULL};

/* Rewrite one argument of a generator: an operand (the grammar, the object, the value of a
 * separate -o), or the path of a known output option. */
static char *rewrite_gen_arg(const char *a, const char *cwd, const wc_basedirs *bd)
{
    if (a[0] != '-')
        return relative_if_under(a, cwd, bd);
    size_t n = joined_in(gen_eq_opts, a, 1);
    if (n == 0 && strncmp(a, "-o/", 3) == 0)
        n = 2;
    if (n == 0)
        return strdup(a);
    char *rel = relative_if_under(a + n, cwd, bd);
    if (!rel)
        return NULL;
    char *s = concat(a, n, rel);
    free(rel);
    return s;
}

static int cwd_under_basedir(const char *cwd, const wc_basedirs *bd)
{
    return bd && bd->n > 0 && wc_basedir_prefix(bd, cwd) > 0;
}

char **wc_argv_rewrite(char *const *argv, const char *cwd, const wc_basedirs *bd, enum wc_tool tool)
{
    size_t n = 0;
    while (argv[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out)
        return NULL;
    int rewrite = tool != WC_TOOL_OTHER && cwd_under_basedir(cwd, bd);
    enum next_kind next = NEXT_ANY;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || !rewrite)
            out[i] = strdup(argv[i]);
        else if (tool == WC_TOOL_AR)
            out[i] = argv[i][0] == '-' ? strdup(argv[i]) : relative_if_under(argv[i], cwd, bd);
        else if (tool == WC_TOOL_GEN)
            out[i] = rewrite_gen_arg(argv[i], cwd, bd);
        else
            out[i] = rewrite_cc_arg(argv[i], cwd, bd, &next);
        if (!out[i]) {
            wc_argv_free(out);
            return NULL;
        }
    }
    return out;
}

void wc_argv_free(char **argv)
{
    if (!argv)
        return;
    for (size_t i = 0; argv[i]; i++)
        free(argv[i]);
    free(argv);
}

int wc_argv_uses_stdio(char *const *argv)
{
    for (size_t i = 1; argv[i]; i++)
        if (strcmp(argv[i], "-") == 0)
            return 1;
    return 0;
}

/* Options that make a driver, linker or archiver print something and stop. */
static int is_info_option(const char *a)
{
    static const char *const exact[] = {
        "--version",        "-v",           "-V",         "--help",    "-dumpversion",
        "-dumpfullversion", "-dumpmachine", "-dumpspecs", "-qversion", NULL};
    for (size_t i = 0; exact[i]; i++)
        if (strcmp(a, exact[i]) == 0)
            return 1;
    return strncmp(a, "-print-", 7) == 0 || strncmp(a, "--print-", 8) == 0 ||
           strncmp(a, "--help=", 7) == 0;
}

int wc_argv_info_only(char *const *argv)
{
    if (!argv[0] || !argv[1])
        return 0;
    for (size_t i = 1; argv[i]; i++)
        if (!is_info_option(argv[i]))
            return 0;
    return 1;
}

/* ---- what must stay absolute -------------------------------------------------------------- */

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Options whose purpose is to remove a directory from the output: stripping the base dir in
 * them is what makes two checkouts agree. */
static int is_prefix_map(const char *a)
{
    return starts_with(a, "-fdebug-prefix-map=") || starts_with(a, "-ffile-prefix-map=") ||
           starts_with(a, "-fmacro-prefix-map=") || starts_with(a, "-fprofile-prefix-map=") ||
           starts_with(a, "-fdebug-compilation-dir") || starts_with(a, "-fprofile-prefix-path=");
}

/* 1 when the relative path rel, taken from cwd, leaves every base dir (lexically). */
static int escapes_basedirs(const char *rel, const char *cwd, const wc_basedirs *bd, int *oom)
{
    if (rel[0] == '/' || rel[0] == '\0')
        return 0;
    if (strcmp(rel, "..") != 0 && !starts_with(rel, "../") && !strstr(rel, "/../") &&
        !(strlen(rel) >= 3 && strcmp(rel + strlen(rel) - 3, "/..") == 0))
        return 0;
    char *joined = wc_path_join(cwd, rel);
    char *norm = joined ? wc_path_normalize(joined) : NULL;
    free(joined);
    if (!norm) {
        *oom = 1;
        return 0;
    }
    int out = wc_basedir_prefix(bd, norm) == 0;
    free(norm);
    return out;
}

/* 1 when some relative path in argument a ("../inc", "-I../inc", "--sysroot=../s",
 * "-Wl,-rpath,../lib") leads out of the base dirs: two checkouts would then reach different
 * files through the same text, and only the absolute cwd tells them apart. Over-approximates:
 * every piece after '=' or ',' counts. */
static int arg_escapes(const char *a, const char *cwd, const wc_basedirs *bd, int *oom)
{
    /* Every path option this argument could start with: "-isystem../x" is "-i" + "system../x"
     * for nobody, but trying each prefix costs nothing and misses none. */
    const char *const *lists[] = {path_opts, searched_opts, kept_opts};
    for (size_t l = 0; a[0] == '-' && l < 3; l++)
        for (size_t i = 0; lists[l][i]; i++) {
            size_t n = strlen(lists[l][i]);
            if (strncmp(a, lists[l][i], n) == 0 && a[n] && escapes_basedirs(a + n, cwd, bd, oom))
                return 1;
        }
    if (escapes_basedirs(a, cwd, bd, oom))
        return 1;
    for (const char *p = a; *p; p++) {
        if (*p != '=' && *p != ',')
            continue;
        size_t len = strcspn(p + 1, ",");
        char *piece = strndup(p + 1, len);
        if (!piece) {
            *oom = 1;
            return 0;
        }
        int e = escapes_basedirs(piece, cwd, bd, oom);
        free(piece);
        if (e)
            return 1;
    }
    return 0;
}

/* gcc writes the working directory into the object when it compiles with debug information
 * (DW_AT_comp_dir), and into .gcno files for coverage. */
static int wants_debug_dir(char *const *argv)
{
    int debug = 0;
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-g0") == 0)
            debug = 0;
        else if (starts_with(a, "-g") && !starts_with(a, "-gno-") && !starts_with(a, "-gz") &&
                 !starts_with(a, "-gsplit-dwarf") && !starts_with(a, "-gcc-toolchain"))
            debug = 1;
    }
    return debug;
}

static int wants_coverage(char *const *argv)
{
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--coverage") == 0 || strcmp(a, "-ftest-coverage") == 0 ||
            strcmp(a, "-fprofile-arcs") == 0 || starts_with(a, "-fprofile-generate"))
            return 1;
    }
    return 0;
}

/* The directory -g records, after -fdebug-prefix-map=OLD=NEW / -ffile-prefix-map (the last
 * matching one wins, as in gcc) or -fdebug-compilation-dir. malloc'd. */
static char *debug_dir_of(char *const *argv, const char *dir)
{
    const char *old = NULL, *new = NULL;
    size_t old_len = 0;
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (starts_with(a, "-fdebug-compilation-dir="))
            return strdup(a + strlen("-fdebug-compilation-dir="));
        if (strcmp(a, "-fdebug-compilation-dir") == 0 && argv[i + 1])
            return strdup(argv[i + 1]);
        const char *map = NULL;
        if (starts_with(a, "-fdebug-prefix-map="))
            map = a + strlen("-fdebug-prefix-map=");
        else if (starts_with(a, "-ffile-prefix-map="))
            map = a + strlen("-ffile-prefix-map=");
        const char *eq = map ? strchr(map, '=') : NULL;
        if (!eq)
            continue;
        size_t n = (size_t)(eq - map);
        if (strncmp(dir, map, n) == 0 && (dir[n] == '\0' || dir[n] == '/' || n == 0)) {
            old = map;
            old_len = n;
            new = eq + 1;
        }
    }
    if (!old)
        return strdup(dir);
    return concat(new, strlen(new), dir + old_len);
}

static int wants_native(char *const *argv)
{
    for (size_t i = 1; argv[i]; i++)
        if (strstr(argv[i], "=native"))
            return 1;
    return 0;
}

/* The environment is not part of key1: the variables a command reads are observed and kept
 * in its input sets (preload/runner/collect.c, manifest.h), so that a variable no process of the
 * command reads cannot make it miss, and one that a wrapper script reads cannot be missed. */

/* ---- the CPU ------------------------------------------------------------------------------ */

static const char *const cpu_fields[] = {"vendor_id",
                                         "cpu family",
                                         "model",
                                         "model name",
                                         "flags",
                                         "Features",
                                         "CPU implementer",
                                         "CPU architecture",
                                         "CPU variant",
                                         "CPU part",
                                         "isa",
                                         "uarch",
                                         NULL};

/* The field name of a "name<tabs>: value" line, or -1. */
static int cpu_field(const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return -1;
    size_t n = (size_t)(colon - line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    for (int i = 0; cpu_fields[i]; i++)
        if (strlen(cpu_fields[i]) == n && strncmp(line, cpu_fields[i], n) == 0)
            return i;
    return -1;
}

char *wc_cpu_identity(const char *cpuinfo)
{
    size_t cap = strlen(cpuinfo) + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    unsigned seen = 0;
    const char *p = cpuinfo;
    while (*p) {
        size_t l = strcspn(p, "\n");
        int f = cpu_field(p, l);
        if (f >= 0 && !(seen & (1u << f))) {
            seen |= 1u << f;
            memcpy(out + len, p, l);
            len += l;
            out[len++] = '\n';
        }
        p += l + (p[l] == '\n');
    }
    out[len] = '\0';
    return out;
}

static char *read_cpu_identity(const char *cpuinfo)
{
    if (cpuinfo)
        return wc_cpu_identity(cpuinfo);
    char *buf = NULL;
    size_t len;
    if (wc_read_file("/proc/cpuinfo", 16u << 20, &buf, &len) < 0)
        return strdup("unknown");
    char *id = wc_cpu_identity(buf);
    free(buf);
    return id;
}

/* ---- key1 --------------------------------------------------------------------------------- */

/* The argument as key1 holds it. argv[0] and prefix maps are stripped of the base dir; any
 * other argument is kept as run: after the rewrite a base dir is left only where it could not
 * be made relative (-Wl,-rpath,/abs, -DDIR="/abs"), and there it may well reach the output,
 * so another checkout must not share it (ccache hashes such arguments as they are, too). */
static char *key_arg(const char *a, size_t i, const wc_basedirs *bd)
{
    if (i == 0 || is_prefix_map(a))
        return wc_basedir_strip(bd, a);
    return strdup(a);
}

/* The working directory as key1 holds it: relative to the base dir, or absolute. */
static char *key_cwd(const char *cwd, const wc_basedirs *bd)
{
    if (cwd_under_basedir(cwd, bd))
        return wc_basedir_strip(bd, cwd);
    return strdup(cwd);
}

/* Does the absolute cwd have to be in the key (see arg_escapes, wants_coverage)? */
static int need_abs_cwd(const struct wc_key1_params *p, int *oom)
{
    if (!cwd_under_basedir(p->cwd, p->bd))
        return 0; /* k->cwd is absolute already */
    if (wants_coverage(p->argv))
        return 1;
    for (size_t i = 1; p->argv[i]; i++)
        if (arg_escapes(p->argv[i], p->cwd, p->bd, oom))
            return 1;
    return 0;
}

static int fill_argv(wc_key1 *k, const struct wc_key1_params *p)
{
    while (p->argv[k->argc])
        k->argc++;
    k->argv = calloc(k->argc + 1, sizeof *k->argv);
    if (!k->argv)
        return -ENOMEM;
    for (size_t i = 0; i < k->argc; i++)
        if (!(k->argv[i] = key_arg(p->argv[i], i, p->bd)))
            return -ENOMEM;
    return 0;
}

static int fill_dirs(wc_key1 *k, const struct wc_key1_params *p)
{
    int oom = 0;
    if (!(k->cwd = key_cwd(p->cwd, p->bd)))
        return -ENOMEM;
    if (need_abs_cwd(p, &oom) && !(k->abs_cwd = strdup(p->cwd)))
        return -ENOMEM;
    if (oom)
        return -ENOMEM;
    /* Kept as it is: after a prefix map that names the base dir it reads the same in every
     * checkout ("./build"); unmapped, the absolute directory really is in the object. */
    if (p->hash_dir && wants_debug_dir(p->argv) &&
        !(k->debug_dir = debug_dir_of(p->argv, p->pwd ? p->pwd : p->cwd)))
        return -ENOMEM;
    return 0;
}

int wc_key1_build(wc_key1 *k, const struct wc_key1_params *p)
{
    static const wc_basedirs none = {NULL, 0, 0};
    struct wc_key1_params q = *p;
    if (!q.bd)
        q.bd = &none;
    memset(k, 0, sizeof *k);
    k->program = q.program;
    k->stderr_tty = q.stderr_tty ? 1 : 0;
    k->tty_columns = q.stderr_tty ? q.tty_columns : 0;
    int rc = fill_argv(k, &q);
    if (rc == 0)
        rc = fill_dirs(k, &q);
    if (rc == 0 && wants_native(q.argv) && !(k->cpu = read_cpu_identity(q.cpuinfo)))
        rc = -ENOMEM;
    if (rc == 0)
        wc_key1_hash(k, &k->key);
    return rc;
}

void wc_key1_hash(const wc_key1 *k, wc_hash *out)
{
    wc_sig s;
    wc_sig_init(&s);
    wc_sig_add_str(&s, "wafcache key1");
    wc_sig_add_u64(&s, WC_SIGNATURE_VERSION);
    wc_sig_add_hash(&s, &k->program);
    wc_sig_add_u64(&s, k->argc);
    for (size_t i = 0; i < k->argc; i++)
        wc_sig_add_str(&s, k->argv[i]);
    wc_sig_add_str(&s, k->cwd);
    wc_sig_add_str(&s, k->abs_cwd);
    wc_sig_add_str(&s, k->debug_dir);
    wc_sig_add_u64(&s, (uint64_t)k->stderr_tty);
    wc_sig_add_u64(&s, k->tty_columns);
    wc_sig_add_str(&s, k->cpu);
    wc_sig_final(&s, out);
}

static void free_vec(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void wc_key1_free(wc_key1 *k)
{
    free_vec(k->argv, k->argc);
    free(k->cwd);
    free(k->abs_cwd);
    free(k->debug_dir);
    free(k->cpu);
    memset(k, 0, sizeof *k);
}
