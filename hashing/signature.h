/* key1: the first level of a command's signature (DESIGN.md "Signature: two levels"). It
 * names the command's manifest; the manifest's input sets name the results. This file also
 * holds the rewrite of absolute paths under the base dirs into relative ones (ccache's
 * base_dir), since what the rewrite leaves behind decides what key1 must keep. */
#ifndef WC_SIGNATURE_H
#define WC_SIGNATURE_H

#include <stddef.h>
#include "hashing/basedir.h"
#include "hashing/hash.h"

/* Bumped whenever the meaning of key1 or of the result key changes. */
#define WC_SIGNATURE_VERSION                                                                       \
    4 /* 2: the environment observed, or @files expanded and                                       \
       * streams marked (replay.h); 3: both; 4: the base dir decided per command */

/* How a program's arguments are understood by the rewrite. */
enum wc_tool {
    WC_TOOL_OTHER, /* nothing rewritten (ld: -I, -R, -rpath take paths that must stay) */
    WC_TOOL_CC,    /* gcc, g++, cc, c++, clang, clang++ drivers */
    WC_TOOL_AR,    /* ar: every operand is a file */
    WC_TOOL_GEN    /* generators that write the paths they are given only as provenance
                    * (#line, comments, a debug file name): bison, yacc, flex, lex, gperf,
                    * nasm, yasm, objcopy, strip. Operands and output options rewritten. */
};

/* The generators of WC_TOOL_GEN. Not xxd (-i names its array after the path it is given),
 * m4 (__file__), protoc (a proto path is a string prefix of its file's name), moc, uic,
 * rcc, the glib tools, windres: they are cached with their paths as written. */
#define WC_GEN_REWRITTEN "bison,yacc,flex,lex,gperf,nasm,yasm,objcopy,strip"

/* The kind of tool from a program's basename (either what the build asked for or the
 * resolved one; the runner tries both). */
enum wc_tool wc_tool_of(const char *basename);

/* A malloc'd, NULL-terminated copy of argv in which absolute paths under a base dir become
 * paths relative to cwd, as the real command is then run: standalone operands, the values of
 * path options ("-I" "/a/inc", "-o" "/a/x.o") and their joined forms ("-I/a/inc",
 * "--sysroot=/a"). Only when cwd is under a base dir; argv[0] is never touched; values of
 * options that take a non-path argument (-D, -MT, -Xlinker ...) are left alone. NULL on OOM. */
char **wc_argv_rewrite(char *const *argv, const char *cwd, const wc_basedirs *bd,
                       enum wc_tool tool);
void wc_argv_free(char **argv);

/* 1 when an argument is "-": the command reads stdin or writes stdout in place of a file. */
int wc_argv_uses_stdio(char *const *argv);
/* 1 when every argument only asks for information (--version, -v, -dumpmachine, -print-...):
 * nothing to cache, and observing the run would cost more than the run (build systems ask
 * `cc --version` at every build). */
int wc_argv_info_only(char *const *argv);

/* What the caller knows about the command. */
struct wc_key1_params {
    char *const *argv;     /* after wc_argv_rewrite */
    const char *cwd;       /* physical (getcwd), absolute */
    const char *pwd;       /* $PWD when it names cwd (gcc writes it as -g's comp_dir), or NULL */
    const wc_basedirs *bd; /* may have n == 0 */
    wc_hash program;       /* content hash of the resolved program */
    int stderr_tty;        /* isatty(2) */
    unsigned tty_columns;  /* the terminal's width when stderr_tty, else 0 */
    int hash_dir;          /* WAFCACHE_HASHDIR: -g keeps the working directory in the key */
    const char *cpuinfo;   /* /proc/cpuinfo's text (tests); NULL = read it when needed */
};

/* key1's ingredients, kept so the manifest can record them for `wafcache --explain`. */
typedef struct wc_key1 {
    wc_hash program; /* the program's content hash */
    size_t argc;
    char **argv;     /* as hashed: base dirs stripped where that is safe, else as run */
    char *cwd;       /* relative to the base dir (WC_BASEDIR_TOKEN form), or absolute */
    char *abs_cwd;   /* the absolute cwd when outputs may depend on it, else NULL */
    char *debug_dir; /* -g's compile directory after prefix maps, else NULL */
    int stderr_tty;
    unsigned tty_columns;
    char *cpu;   /* host CPU identity when an argument says =native, else NULL */
    wc_hash key; /* the hash of all of the above */
} wc_key1;

/* Fill k from p and compute k->key. 0, or -ENOMEM (k is then freeable). */
int wc_key1_build(wc_key1 *k, const struct wc_key1_params *p);

/* The hash of k's ingredients (what wc_key1_build stores in k->key). */
void wc_key1_hash(const wc_key1 *k, wc_hash *out);

void wc_key1_free(wc_key1 *k);

/* The host CPU identity from cpuinfo's text: vendor, family, model, model name, flags (or
 * their ARM equivalents) of the first processor. malloc'd, "" when none is found. */
char *wc_cpu_identity(const char *cpuinfo);

#endif
