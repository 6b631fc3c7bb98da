/* What a generator's command line says it writes (store/entry.h, wc_output_declared; the
 * compilers, linkers and archivers are in declared.c).
 *
 * The same rule as for compilers: an entry may only restore a file the command line names or
 * that the tool derives from it, as bison 3.8, flex 2.6, gperf 3.1, nasm 2.16, binutils 2.40
 * and xxd do:
 *
 *     any generator   -o F, -oF, --output[=]F, --outfile=F, --output-file=F, --target[=]F,
 *                     --defines=F, --header=F, --header-file=F, --tables-file=F,
 *                     --report-file=F, --graph=F, --xml=F, -MF F, -MD F (nasm)
 *     bison, yacc     -d/-H/--defines/--header: the output with .c -> .h (.cc -> .hh ...);
 *                     -v: <stem>.output; -g: <stem>.gv; -x: <stem>.xml; without -o:
 *                     <input's stem>.tab.c in the working directory, y.tab.c under -y
 *     flex, lex       without -o: lex.yy.c (lex.<prefix>.c with -P<prefix>)
 *     nasm, yasm      without -o: the input less its extension, + ".o", beside it
 *     xxd, windres    the second operand
 *     objcopy         the last operand (in place when it is the only one)
 *     strip           every operand (in place), unless -o names the output
 *     protoc          files under a --*_out=DIR directory
 *
 * A program added through WAFCACHE_PROGRAMS ("+python3") is not known: any operand or
 * option value may name its output (README, "Threat model"). */
#include "store/entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/programs.h"
#include "core/util.h"
#include "hashing/basedir.h"

static const char *base_of(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Options whose separate value names an output, and their joined "=" forms. */
static const char *const out_opts[] = {"-o", "--output", "--target", "-MF", "-MD", NULL};
static const char *const out_eq_opts[] = {
    "--output=",         "--outfile=", "--output-file=", "--target=",
    "--defines=",        "--header=",  "--header-file=", "--tables-file=",
    "--report-file=",    "--graph=",   "--xml=",         "--descriptor_set_out=",
    "--dependency_out=", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* An output option naming path: "-o F", "-oF", "--output=F". */
static int option_names(const char *cwd, char *const *argv, const char *path)
{
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (in_list(out_opts, a) && wc_arg_names(cwd, argv[i + 1], path))
            return 1;
        if (a[0] == '-' && a[1] == 'o' && a[2] && wc_arg_names(cwd, a + 2, path))
            return 1;
        if (starts(a, "-MF") && a[3] && wc_arg_names(cwd, a + 3, path))
            return 1;
        for (size_t k = 0; out_eq_opts[k]; k++)
            if (starts(a, out_eq_opts[k]) && wc_arg_names(cwd, a + strlen(out_eq_opts[k]), path))
                return 1;
    }
    return 0;
}

/* The value of the last "-o F", "-oF" or "--output=F", or NULL. */
static const char *output_of(char *const *argv)
{
    const char *o = NULL;
    for (size_t i = 1; argv[i]; i++) {
        if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && argv[i + 1])
            o = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] == 'o' && argv[i][2])
            o = argv[i] + 2;
        else if (starts(argv[i], "--output="))
            o = argv[i] + strlen("--output=");
    }
    return o;
}

/* Options whose value is the next argument, per tool: not operands. A value taken for an
 * operand could be declared an output, an operand taken for a value only costs a hit. */
static const char *const plain_next[] = {"-o", NULL};
static const char *const bison_next[] = {"-o", "-D", "-F", "-S", "-b", "-p", "-M", "-L", NULL};
static const char *const nasm_next[] = {"-o",  "-f",  "-I",  "-P", "-D", "-U", "-l", "-MF",
                                        "-MD", "-MT", "-MQ", "-F", "-L", "-X", NULL};
static const char *const xxd_next[] = {"-c", "-g", "-l", "-s", "-o", "-n", NULL};
static const char *const binutils_next[] = {"-o", "-F", "-I", "-O", "-B", "-R", "-K", "-N",
                                            "-j", "-G", "-W", "-L", "-b", "-i", NULL};
static const char *const windres_next[] = {"-i", "-o", "-J", "-O", "-F", "-I",
                                           "-D", "-U", "-l", "-c", NULL};

/* The n-th operand (0-based), or with n < 0 the last; NULL when there is none. */
static const char *operand(char *const *argv, const char *const *next, int n)
{
    const char *last = NULL;
    int k = 0;
    for (size_t i = 1; argv[i]; i++) {
        if (in_list(next, argv[i]) && argv[i + 1]) {
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            continue;
        if (k++ == n)
            return argv[i];
        last = argv[i];
    }
    return n < 0 ? last : NULL;
}

static int has_flag(char *const *argv, const char *const *flags)
{
    for (size_t i = 1; argv[i]; i++)
        for (size_t k = 0; flags[k]; k++) {
            size_t n = strlen(flags[k]);
            /* "-d", "--defines", and clustered short flags "-dv" */
            if (!strncmp(argv[i], flags[k], n) &&
                (argv[i][n] == '\0' || (flags[k][1] != '-' && argv[i][1] != '-')))
                return 1;
        }
    return 0;
}

/* p less its last extension, and the extension with its dot ("" when none). */
static size_t stem_of(const char *p, const char **ext)
{
    const char *slash = strrchr(p, '/'), *base = slash ? slash + 1 : p;
    const char *dot = strrchr(base, '.');
    *ext = dot && dot > base ? dot : p + strlen(p);
    return (size_t)(*ext - p);
}

/* stem + suffix names path. */
static int stem_names(const char *cwd, const char *stem, size_t n, const char *suffix,
                      const char *path)
{
    char buf[4096];
    int w = snprintf(buf, sizeof buf, "%.*s%s", (int)n, stem, suffix);
    return w > 0 && (size_t)w < sizeof buf && wc_arg_names(cwd, buf, path);
}

/* bison's header: the output's extension with every 'c' made an 'h' (.c -> .h, .cc -> .hh,
 * .cpp -> .hpp, .cxx -> .hxx), ".h" added when there is none. */
static int bison_header(const char *cwd, const char *out, const char *path)
{
    const char *ext;
    size_t n = stem_of(out, &ext);
    char suffix[64];
    if (!ext[0] || strlen(ext) >= sizeof suffix)
        return stem_names(cwd, out, n, ".h", path);
    for (size_t i = 0; i <= strlen(ext); i++)
        suffix[i] = ext[i] == 'c' ? 'h' : ext[i];
    return stem_names(cwd, out, n, suffix, path);
}

/* -v, -g, -x name <stem>.output, .gv, .xml, where bison's stem drops a ".tab" too. */
static int bison_reports(const char *cwd, char *const *argv, const char *out, const char *path)
{
    static const char *const verbose[] = {"-v", "--verbose", "--report", NULL};
    static const char *const graph[] = {"-g", "--graph", NULL};
    static const char *const xml[] = {"-x", "--xml", NULL};
    const char *ext;
    size_t n = stem_of(out, &ext);
    for (int pass = 0; pass < 2; pass++) {
        if ((has_flag(argv, verbose) && stem_names(cwd, out, n, ".output", path)) ||
            (has_flag(argv, graph) && stem_names(cwd, out, n, ".gv", path)) ||
            (has_flag(argv, xml) && stem_names(cwd, out, n, ".xml", path)))
            return 1;
        if (n < 4 || strncmp(out + n - 4, ".tab", 4) != 0)
            break;
        n -= 4;
    }
    return 0;
}

static int bison_declares(const char *cwd, char *const *argv, const char *path)
{
    static const char *const header[] = {"-d", "-H", "--defines", "--header", NULL};
    static const char *const yacc[] = {"-y", "--yacc", NULL};
    const char *out = output_of(argv), *in = operand(argv, bison_next, -1);
    char dflt[4096];
    if (!out) {
        const char *ext, *slash = in ? strrchr(in, '/') : NULL;
        const char *base = slash ? slash + 1 : in;
        if (has_flag(argv, yacc) || wc_program_matches("yacc", base_of(argv[0])))
            base = "y.y";
        if (!base)
            return 0;
        size_t n = stem_of(base, &ext);
        int w = snprintf(dflt, sizeof dflt, "%.*s.tab.c", (int)n, base);
        if (w <= 0 || (size_t)w >= sizeof dflt)
            return 0;
        out = dflt;
        if (wc_arg_names(cwd, out, path))
            return 1;
    }
    return (has_flag(argv, header) && bison_header(cwd, out, path)) ||
           bison_reports(cwd, argv, out, path);
}

static int flex_declares(const char *cwd, char *const *argv, const char *path)
{
    if (output_of(argv))
        return 0;
    const char *prefix = NULL;
    for (size_t i = 1; argv[i]; i++) {
        if (!strcmp(argv[i], "-P") && argv[i + 1])
            prefix = argv[i + 1];
        else if (starts(argv[i], "-P") && argv[i][2])
            prefix = argv[i] + 2;
        else if (starts(argv[i], "--prefix="))
            prefix = argv[i] + strlen("--prefix=");
    }
    char buf[4096];
    int w = snprintf(buf, sizeof buf, "lex.%s.c", prefix ? prefix : "yy");
    return w > 0 && (size_t)w < sizeof buf && wc_arg_names(cwd, buf, path);
}

static int nasm_declares(const char *cwd, char *const *argv, const char *path)
{
    const char *in = operand(argv, nasm_next, -1), *ext;
    if (output_of(argv) || !in)
        return 0;
    return stem_names(cwd, in, stem_of(in, &ext), ".o", path);
}

/* protoc writes every file of a --*_out=[OPTIONS:]DIR under DIR. */
static int protoc_declares(const char *cwd, char *const *argv, const char *path)
{
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (!starts(a, "--") || !eq || eq - a < 6 || strncmp(eq - 4, "_out", 4) != 0)
            continue;
        const char *colon = strrchr(eq + 1, ':'), *dir = colon ? colon + 1 : eq + 1;
        char *joined = dir[0] == '/' ? strdup(dir) : wc_path_join(cwd, dir);
        char *norm = joined ? wc_path_normalize(joined) : NULL;
        size_t n = norm ? strlen(norm) : 0;
        int under = norm && strncmp(path, norm, n) == 0 && path[n] == '/';
        free(joined);
        free(norm);
        if (under)
            return 1;
    }
    return 0;
}

/* Any operand names path (strip's in-place files, a script's arguments). */
static int any_operand_names(const char *cwd, char *const *argv, const char *const *next,
                             const char *path)
{
    for (int k = 0;; k++) {
        const char *op = operand(argv, next, k);
        if (!op)
            return 0;
        if (wc_arg_names(cwd, op, path))
            return 1;
    }
}

/* The second and last operand: xxd's and windres's output. */
static int second_operand_names(const char *cwd, char *const *argv, const char *const *next,
                                const char *path)
{
    return !operand(argv, next, 2) && wc_arg_names(cwd, operand(argv, next, 1), path);
}

int wc_generator_declares(const char *path, char *const *argv, const char *cwd)
{
    const char *prog = base_of(argv[0]);
    if (option_names(cwd, argv, path))
        return 1;
    if (wc_program_matches("bison,yacc", prog))
        return bison_declares(cwd, argv, path);
    if (wc_program_matches("flex,lex", prog))
        return flex_declares(cwd, argv, path);
    if (wc_program_matches("nasm,yasm", prog))
        return nasm_declares(cwd, argv, path);
    if (wc_program_matches("xxd", prog))
        return second_operand_names(cwd, argv, xxd_next, path);
    if (wc_program_matches("windres", prog))
        return second_operand_names(cwd, argv, windres_next, path);
    if (wc_program_matches("objcopy", prog))
        return wc_arg_names(cwd, operand(argv, binutils_next, -1), path);
    if (wc_program_matches("strip", prog))
        return !output_of(argv) && any_operand_names(cwd, argv, binutils_next, path);
    if (wc_program_matches("protoc", prog))
        return protoc_declares(cwd, argv, path);
    if (wc_program_matches(WC_GENERATOR_PROGRAMS, prog))
        return 0;
    return any_operand_names(cwd, argv, plain_next, path);
}
