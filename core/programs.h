/* Which programs are cached: WAFCACHE_PROGRAMS, matched on the basename. libc-only code,
 * also linked into libwafcache.so, and safe to call in a vfork child (no allocation). */
#ifndef WC_PROGRAMS_H
#define WC_PROGRAMS_H

/* The default list: compilers (gcc g++ cc c++ clang clang++), linkers (ld ld.bfd ld.gold
 * ld.lld lld), archivers (ar). */
#define WC_DEFAULT_PROGRAMS "gcc,g++,cc,c++,clang,clang++,ld,ld.bfd,ld.gold,ld.lld,ar"

/* 1 when basename (no '/') is one of the names in list (comma- or colon-separated), with an
 * optional target prefix ("x86_64-linux-gnu-gcc") and version suffix ("gcc-12",
 * "clang++-14", "gcc-12.2"). list NULL = the default. */
int wc_program_matches(const char *list, const char *basename);

#endif
