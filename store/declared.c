/* What a command line says it writes (store/entry.h, wc_output_declared).
 *
 * An entry from a store is untrusted input: whoever can write the store must not be able to
 * make a restore write anything but the command's own outputs. Those are the files the
 * command line names (-o, -MF, ar's archive, a linker map) and those the compiler derives
 * from them -- for gcc 12, `gcc -c src/a.c -o obj/a.o` with
 *
 *     -MD / -MMD       obj/a.d            -gsplit-dwarf  obj/a.dwo
 *     --coverage       obj/a.gcno         -fstack-usage  obj/a.su
 *     -save-temps      obj/a.i, obj/a.s   -fdump-tree-*  obj/a.c.005t.original
 *
 * "obj/a" is gcc's auxiliary base: the object's name less its extension when compiling,
 * "<dir of -o>/<stem of -o>-<stem of source>" when linking sources at once (gcc >= 11;
 * "a-" for a.out), and the source's stem in the working directory without -o or with
 * -save-temps=cwd. An input of the same command (a non-option operand) is never an output,
 * and a path whose ".." follows a name is never matched (the kernel, not a string, decides
 * where it leads). */
#include "store/entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/programs.h"
#include "hashing/signature.h"

enum {
    DERIVE_MD = 1,
    DERIVE_DWO = 2,
    DERIVE_GCNO = 4,
    DERIVE_SU = 8,
    DERIVE_CI = 16,
    DERIVE_JSON = 32,
    DERIVE_TEMPS = 64,
    DERIVE_DUMP = 128,
    TEMPS_CWD = 256
};

/* What one pass over a compiler driver's arguments found. */
struct driver {
    const char *o;  /* -o, NULL when absent */
    int compile;    /* -c or -S: one object (or .s) per source, no link */
    int preprocess; /* -E: output to stdout or -o */
    int has_mf;
    unsigned derive;
};

/* cwd + arg, lexically normalised: "." and empty components dropped, a leading ".." takes
 * one component off cwd (which is physical, from getcwd). NULL for a ".." after a name, an
 * empty arg, or no memory. */
static char *absolute(const char *cwd, const char *arg)
{
    size_t n = strlen(cwd) + strlen(arg) + 2, len;
    char *out = malloc(n);
    int named = 0;

    if (!out || !*arg) {
        free(out);
        return NULL;
    }
    snprintf(out, n, "%s", arg[0] == '/' ? "" : cwd);
    len = strlen(out);
    while (len > 0 && out[len - 1] == '/')
        out[--len] = '\0';
    for (const char *s = arg; *s;) {
        size_t c = strcspn(s, "/");
        if (c == 2 && s[0] == '.' && s[1] == '.') {
            char *slash = strrchr(out, '/');
            if (named || !slash) {
                free(out);
                return NULL;
            }
            *slash = '\0';
            len = (size_t)(slash - out);
        } else if (c > 0 && !(c == 1 && s[0] == '.')) {
            out[len++] = '/';
            memcpy(out + len, s, c);
            len += c;
            out[len] = '\0';
            named = 1;
        }
        s += c;
        s += *s == '/';
    }
    if (len == 0)
        snprintf(out, n, "/");
    return out;
}

int wc_arg_names(const char *cwd, const char *arg, const char *path)
{
    char *a = arg ? absolute(cwd, arg) : NULL;
    int same = a && strcmp(a, path) == 0;

    free(a);
    return same;
}

static const char *base_of(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

/* Length of p's stem: p less its last extension ("obj/a.c.o" -> "obj/a.c"). */
static size_t stem_len(const char *p)
{
    const char *base = base_of(p), *dot = strrchr(base, '.');
    return dot && dot > base ? (size_t)(dot - p) : strlen(p);
}

/* Options of gcc and clang whose argument is the next word: not an operand. */
static int takes_next(const char *a)
{
    static const char *const opts[] = {"-o",
                                       "-MF",
                                       "-MT",
                                       "-MQ",
                                       "-MJ",
                                       "-I",
                                       "-include",
                                       "-imacros",
                                       "-isystem",
                                       "-idirafter",
                                       "-iprefix",
                                       "-iquote",
                                       "-isysroot",
                                       "-iwithprefix",
                                       "-iwithprefixbefore",
                                       "-x",
                                       "-Xlinker",
                                       "-Xassembler",
                                       "-Xpreprocessor",
                                       "-Xclang",
                                       "-L",
                                       "-l",
                                       "-T",
                                       "-u",
                                       "-z",
                                       "-aux-info",
                                       "-D",
                                       "-U",
                                       "-A",
                                       "-e",
                                       "-arch",
                                       "-target",
                                       "--param",
                                       "-dumpbase",
                                       "-dumpdir",
                                       "-dumpbase-ext",
                                       "-B",
                                       "-G",
                                       "-specs",
                                       "--sysroot"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strcmp(a, opts[i]) == 0)
            return 1;
    return 0;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static unsigned derive_flag(const char *a)
{
    if (!strcmp(a, "-MD") || !strcmp(a, "-MMD"))
        return DERIVE_MD;
    if (starts(a, "-gsplit-dwarf"))
        return DERIVE_DWO;
    if (!strcmp(a, "--coverage") || !strcmp(a, "-ftest-coverage"))
        return DERIVE_GCNO;
    if (!strcmp(a, "-fstack-usage"))
        return DERIVE_SU;
    if (!strcmp(a, "-fcallgraph-info") || starts(a, "-fcallgraph-info="))
        return DERIVE_CI;
    if (starts(a, "-ftime-trace"))
        return DERIVE_JSON;
    if (!strcmp(a, "-save-temps") || !strcmp(a, "--save-temps") || !strcmp(a, "-save-temps=cwd"))
        return DERIVE_TEMPS | TEMPS_CWD;
    if (!strcmp(a, "-save-temps=obj"))
        return DERIVE_TEMPS;
    if (starts(a, "-fdump-") || (a[0] == '-' && a[1] == 'd' && a[2] && strchr("aPR", a[2])))
        return DERIVE_DUMP;
    return 0;
}

static void scan_driver(char *const *argv, struct driver *d)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") && argv[i + 1])
            d->o = argv[i + 1];
        else if (starts(a, "-o") && a[2])
            d->o = a + 2;
        else if (!strcmp(a, "-c") || !strcmp(a, "-S"))
            d->compile = 1;
        else if (!strcmp(a, "-E"))
            d->preprocess = 1;
        else if (starts(a, "-MF"))
            d->has_mf = 1;
        d->derive |= derive_flag(a);
        if (takes_next(a) && argv[i + 1])
            i++;
    }
}

/* Calls fn on each operand (an input: a source, an object, a library named as a file). */
static int any_operand(char *const *argv, int (*fn)(const char *op, void *ctx), void *ctx)
{
    for (size_t i = 1; argv[i]; i++) {
        if (takes_next(argv[i]) && argv[i + 1])
            i++;
        else if (argv[i][0] != '-' && argv[i][0] != '@' && fn(argv[i], ctx))
            return 1;
    }
    return 0;
}

struct query {
    const char *cwd, *path;
    const struct driver *d;
};

static int is_input(const char *op, void *ctx)
{
    const struct query *q = ctx;
    return wc_arg_names(q->cwd, op, q->path);
}

/* path is base + one of the suffixes that derive enables. */
static int derived_suffix(const char *rest, unsigned derive)
{
    static const struct {
        unsigned flag;
        const char *suffix;
    } known[] = {{DERIVE_MD, ".d"},           {DERIVE_DWO, ".dwo"},
                 {DERIVE_GCNO, ".gcno"},      {DERIVE_SU, ".su"},
                 {DERIVE_CI, ".ci"},          {DERIVE_JSON, ".json"},
                 {DERIVE_TEMPS, ".i"},        {DERIVE_TEMPS, ".ii"},
                 {DERIVE_TEMPS, ".s"},        {DERIVE_TEMPS, ".o"},
                 {DERIVE_TEMPS, ".bc"},       {DERIVE_TEMPS, ".res"},
                 {DERIVE_TEMPS, ".mi"},       {DERIVE_TEMPS, ".mii"},
                 {DERIVE_TEMPS, ".ld1_args"}, {DERIVE_TEMPS, ".lto_wrapper_args"}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if ((derive & known[i].flag) && strcmp(rest, known[i].suffix) == 0)
            return 1;
    return 0;
}

/* gcc's dump files: "<aux base><source extension>.<3 digits><pass kind>.<pass>". */
static int dump_suffix(const char *rest, const char *src_ext)
{
    size_t e = strlen(src_ext);

    if (strncmp(rest, src_ext, e) != 0 || rest[e] != '.')
        return 0;
    rest += e + 1;
    for (int k = 0; k < 3; k++)
        if (rest[k] < '0' || rest[k] > '9')
            return 0;
    return rest[3] >= 'a' && rest[3] <= 'z' && rest[4] == '.' && rest[5];
}

/* 1 when q->path is aux (an absolute auxiliary base of length n) + a derived suffix. */
static int from_aux(const struct query *q, const char *aux, size_t n, const char *src)
{
    const char *ext = strrchr(base_of(src), '.');

    if (strncmp(q->path, aux, n) != 0)
        return 0;
    if (derived_suffix(q->path + n, q->d->derive))
        return 1;
    return (q->d->derive & DERIVE_DUMP) && ext && dump_suffix(q->path + n, ext);
}

/* The auxiliary bases of one source (see the comment at the top), tried in turn. */
static int derived_from_source(const char *src, void *ctx)
{
    const struct query *q = ctx;
    const struct driver *d = q->d;
    const char *o = d->o && !(d->compile || d->preprocess) ? d->o : "a.out";
    char *obj = absolute(q->cwd, d->o ? d->o : o), *own = absolute(q->cwd, base_of(src));
    char aux[4096];
    int hit = 0;

    if (!obj || !own)
        goto out;
    if (d->o && (d->compile || d->preprocess)) {
        hit = from_aux(q, obj, stem_len(obj), src);
    } else if (!d->compile && !d->preprocess) {
        int w = snprintf(aux, sizeof(aux), "%.*s-%.*s", (int)stem_len(obj), obj,
                         (int)stem_len(base_of(src)), base_of(src));
        hit = w > 0 && (size_t)w < sizeof(aux) && from_aux(q, aux, (size_t)w, src);
    }
    /* No -o, -save-temps=cwd, or an older gcc linking: the source's stem in cwd. */
    if (!hit && (!d->o || (d->derive & TEMPS_CWD) || !(d->compile || d->preprocess)))
        hit = from_aux(q, own, stem_len(own), src);
out:
    free(obj);
    free(own);
    return hit;
}

static int is_source(const char *op)
{
    static const char *const exts[] = {".c",  ".cc", ".cpp", ".cxx", ".c++", ".C",
                                       ".m",  ".mm", ".i",   ".ii",  ".s",   ".S",
                                       ".sx", ".f",  ".F",   ".f90", ".F90", ".cu"};
    const char *ext = strrchr(base_of(op), '.');

    for (size_t i = 0; ext && i < sizeof(exts) / sizeof(exts[0]); i++)
        if (strcmp(ext, exts[i]) == 0)
            return 1;
    return 0;
}

static int derived_if_source(const char *op, void *ctx)
{
    return is_source(op) && derived_from_source(op, ctx);
}

/* The object (or .s) that -c (-S) without -o writes for each source: in cwd. */
static int default_object(const char *op, void *ctx)
{
    const struct query *q = ctx;
    char buf[4096];
    const char *b = base_of(op);
    int w;

    if (!is_source(op))
        return 0;
    w = snprintf(buf, sizeof(buf), "%.*s.o", (int)stem_len(b), b);
    return w > 0 && (size_t)w < sizeof(buf) && wc_arg_names(q->cwd, buf, q->path);
}

/* A linker argument naming an output: -o, -Map, --dependency-file, --out-implib. next is
 * the following argument (NULL at the end). */
static int linker_output(const struct query *q, const char *a, const char *next)
{
    static const char *const joined[] = {
        "-Map=", "--Map=", "--dependency-file=", "--out-implib=", "--output="};
    static const char *const separate[] = {"-o", "-Map", "--Map", "--out-implib", "--output"};

    for (size_t i = 0; i < sizeof(joined) / sizeof(joined[0]); i++)
        if (starts(a, joined[i]) && wc_arg_names(q->cwd, a + strlen(joined[i]), q->path))
            return 1;
    for (size_t i = 0; i < sizeof(separate) / sizeof(separate[0]); i++)
        if (!strcmp(a, separate[i]) && wc_arg_names(q->cwd, next, q->path))
            return 1;
    return 0;
}

/* The linker arguments a driver passes on: -Wl,a,b,c and -Xlinker a. */
static int driver_linker_output(const struct query *q, char *const *argv)
{
    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-Xlinker") && argv[i + 1]) {
            const char *next = argv[i + 2] && !strcmp(argv[i + 2], "-Xlinker") ? argv[i + 3] : NULL;
            if (linker_output(q, argv[i + 1], next))
                return 1;
        } else if (starts(a, "-Wl,")) {
            char *copy = strdup(a + 4), *save = NULL;
            char *w = copy ? strtok_r(copy, ",", &save) : NULL;
            int hit = 0;
            while (w && !hit) {
                char *next = strtok_r(NULL, ",", &save);
                hit = linker_output(q, w, next);
                w = next;
            }
            free(copy);
            if (hit)
                return 1;
        }
    }
    return 0;
}

/* An argument that names a file the driver writes: -o, -MF, -aux-info, clang's -MJ,
 * -Wp,-MD,<file>. */
static int driver_named_output(const struct query *q, char *const *argv)
{
    static const char *const separate[] = {"-o", "-MF", "-aux-info", "-MJ"};

    for (size_t i = 1; argv[i]; i++) {
        const char *a = argv[i];
        for (size_t k = 0; k < sizeof(separate) / sizeof(separate[0]); k++) {
            size_t n = strlen(separate[k]);
            if (!strcmp(a, separate[k]) && wc_arg_names(q->cwd, argv[i + 1], q->path))
                return 1;
            if (n == 2 || n == 3) /* -oFILE, -MFFILE */
                if (!strncmp(a, separate[k], n) && a[n] && wc_arg_names(q->cwd, a + n, q->path))
                    return 1;
        }
        if ((starts(a, "-Wp,-MD,") && wc_arg_names(q->cwd, a + 8, q->path)) ||
            (starts(a, "-Wp,-MMD,") && wc_arg_names(q->cwd, a + 9, q->path)))
            return 1;
        if (takes_next(a) && argv[i + 1])
            i++;
    }
    return 0;
}

static int driver_declares(const struct query *q, char *const *argv)
{
    struct driver d;
    struct query dq = *q;

    scan_driver(argv, &d);
    dq.d = &d;
    if (d.o && !strcmp(d.o, "-"))
        d.o = NULL; /* stdout */
    if (driver_named_output(&dq, argv) || driver_linker_output(&dq, argv))
        return 1;
    if (!d.o && !d.compile && !d.preprocess && wc_arg_names(q->cwd, "a.out", q->path))
        return 1;
    if (!d.o && d.compile && any_operand(argv, default_object, &dq))
        return 1;
    if (d.has_mf)
        d.derive &= ~(unsigned)DERIVE_MD;
    return d.derive && any_operand(argv, derived_if_source, &dq);
}

/* ld's options whose argument is the next word (not an input). */
static int ld_takes_next(const char *a)
{
    static const char *const opts[] = {
        "-o",  "-Map",    "--Map", "--out-implib", "--output", "-T", "-L", "-l",
        "-e",  "-soname", "-h",    "-rpath",       "-m",       "-z", "-u", "-y",
        "-dT", "-F",      "-f",    "-A",           "-b",       "-R"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strcmp(a, opts[i]) == 0)
            return 1;
    return 0;
}

static int linker_declares(const struct query *q, char *const *argv)
{
    int has_o = 0;

    for (size_t i = 1; argv[i]; i++) {
        if (ld_takes_next(argv[i]) && argv[i + 1])
            i++;
        else if (argv[i][0] != '-' && wc_arg_names(q->cwd, argv[i], q->path))
            return 0; /* an input */
    }
    for (size_t i = 1; argv[i]; i++) {
        has_o |= !strcmp(argv[i], "-o") || starts(argv[i], "--output");
        if (linker_output(q, argv[i], argv[i + 1]))
            return 1;
        if (starts(argv[i], "-o") && argv[i][2] && wc_arg_names(q->cwd, argv[i] + 2, q->path))
            return 1;
    }
    return !has_o && wc_arg_names(q->cwd, "a.out", q->path);
}

/* ar [--plugin p] [--target t] [-X32_64] key [relpos] [count] archive member...: the archive
 * is the output of the operations that write one (r, q, d, m, s); "x" writes members, which
 * an entry cannot name safely, so it declares nothing. */
static int ar_declares(const struct query *q, char *const *argv)
{
    size_t i = 1;
    const char *key;

    while (argv[i] && (starts(argv[i], "--") || starts(argv[i], "-X"))) {
        int sep = (!strcmp(argv[i], "--plugin") || !strcmp(argv[i], "--target")) && argv[i + 1];
        i += 1 + (size_t)sep;
    }
    key = argv[i];
    if (!key || !argv[i + 1])
        return 0;
    if (!strpbrk(key, "rqdms") || strchr(key, 'x') || strchr(key, 't') || strchr(key, 'p'))
        return 0;
    i++;
    if (strpbrk(key, "abi") && argv[i])
        i++;
    if (strchr(key, 'N') && argv[i])
        i++;
    if (!argv[i] || !wc_arg_names(q->cwd, argv[i], q->path))
        return 0;
    for (i++; argv[i]; i++)
        if (wc_arg_names(q->cwd, argv[i], q->path))
            return 0; /* also a member: an input */
    return 1;
}

int wc_output_declared(const char *path, char *const *argv, const char *cwd)
{
    struct query q = {cwd, path, NULL};
    const char *prog;
    char *norm;
    int ok;

    if (!argv || !argv[0] || !cwd || !path || path[0] != '/' || cwd[0] != '/')
        return 0;
    /* The path as given must be the path as normalised: no "..", no ".", no "//". */
    norm = absolute("/", path);
    ok = norm && strcmp(norm, path) == 0;
    free(norm);
    if (!ok)
        return 0;
    prog = base_of(argv[0]);
    if (wc_program_matches("ar,gcc-ar,llvm-ar", prog))
        return ar_declares(&q, argv);
    if (wc_program_matches("ld,ld.bfd,ld.gold,ld.lld,collect2", prog))
        return linker_declares(&q, argv);
    if (wc_program_matches(WC_GENERATOR_PROGRAMS, prog))
        return wc_generator_declares(path, argv, cwd);
    ok = !any_operand(argv, is_input, &q) && driver_declares(&q, argv);
    /* A program added through WAFCACHE_PROGRAMS may be a compiler or a script. */
    if (ok || wc_program_matches(WC_TOOLCHAIN_PROGRAMS, prog))
        return ok;
    return wc_generator_declares(path, argv, cwd);
}

/* "file" or "file target": the file is path. */
static int names_env_file(const struct query *q, const char *value)
{
    size_t n = strcspn(value, " ");
    char *file = n > 0 ? strndup(value, n) : NULL;
    int ok = file && wc_arg_names(q->cwd, file, q->path);
    free(file);
    return ok;
}

int wc_env_declares(const char *path, char *const *argv, char *const *envp, const char *cwd)
{
    static const char *const vars[] = {"DEPENDENCIES_OUTPUT=", "SUNPRO_DEPENDENCIES="};
    struct query q = {cwd, path, NULL};

    if (!argv || !argv[0] || !envp || !cwd || !path || path[0] != '/' || cwd[0] != '/')
        return 0;
    if (wc_tool_of(base_of(argv[0])) != WC_TOOL_CC)
        return 0;
    if (any_operand(argv, is_input, &q))
        return 0;
    for (size_t i = 0; envp[i]; i++)
        for (size_t k = 0; k < 2; k++)
            if (strncmp(envp[i], vars[k], strlen(vars[k])) == 0 &&
                names_env_file(&q, envp[i] + strlen(vars[k])))
                return 1;
    return 0;
}
