/* Which programs are cached: WAFCACHE_PROGRAMS, matched on the basename. libc-only code,
 * also linked into libwafcache.so, and safe to call in a vfork child (no allocation). */
#ifndef WC_PROGRAMS_H
#define WC_PROGRAMS_H

#include <stddef.h>

/* The toolchain: compilers (gcc g++ cc c++ clang clang++), linkers (ld ld.bfd ld.gold
 * ld.lld), archivers (ar). They all read @file arguments (libiberty's expandargv, clang's own). */
#define WC_TOOLCHAIN_PROGRAMS "gcc,g++,cc,c++,clang,clang++,ld,ld.bfd,ld.gold,ld.lld,ar"

/* Generators whose output is a function of their inputs and arguments (issue 15): parser
 * and scanner generators, macro processors, hash and resource compilers, binary editors,
 * assemblers. Interpreters (python3, perl, sh) are not here: a script may read the clock,
 * the network or its working directory, which observation does not see ("+python3" adds
 * them, README "Which programs are cached"). */
#define WC_GENERATOR_PROGRAMS                                                                      \
    "bison,yacc,flex,lex,m4,gperf,protoc,moc,uic,rcc,glib-compile-resources,glib-mkenums,"         \
    "glib-genmarshal,objcopy,strip,nasm,yasm,xxd,windres"

/* The default list. */
#define WC_DEFAULT_PROGRAMS WC_TOOLCHAIN_PROGRAMS "," WC_GENERATOR_PROGRAMS

/* 1 when basename (no '/') is cached under list, a comma- or colon-separated list of
 * names, each matched with an optional target prefix ("x86_64-linux-gnu-gcc") and version
 * suffix ("gcc-12", "clang++-14", "gcc-12.2"). list NULL = the default. An entry "+name" adds
 * name, "-name" removes it (a removal wins); a list with at least one plain name replaces
 * the default list, one with none adjusts it. Allocation-free: it runs in vfork children. */
int wc_program_matches(const char *list, const char *basename);

/* 0 when every entry of list is usable; else -1 with *bad and *bad_len the first bad entry
 * as written ("+", "-", a name with '/' or a blank inside, "+-x"). An empty entry is fine. */
int wc_programs_check(const char *list, const char **bad, size_t *bad_len);

#endif
