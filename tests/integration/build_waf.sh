#!/bin/sh
# waf (the real waf 2.0 from Debian's ntpsec sources, lib/get-waf.sh) under libwafcache.so:
# python3 runs the compilers through subprocess; waf passes -o with absolute output paths.
# Default base dir (the project root, where waf is started).
#   plain configure + build           -> the program prints the expected checksum
#   configure under the library       -> works, stores nothing (gcc -dM -E - reads stdin)
#   cold build                        -> all misses and writes; objects equal the plain build's
#   waf clean + rebuild               -> 100 % hits, byte-identical outputs
#   copy elsewhere, `waf configure build` in one run -> every build command hits, no writes
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup build_waf
need_tools python3 gcc g++ ar

need_waf

gen_project "$T/tmpl"
cp -p "$wafdir/waf" "$T/tmpl/waf"
cp -pR "$wafdir/waflib" "$T/tmpl/waflib"
cp -a "$T/tmpl" "$T/p1"
cd "$T/p1"

note "plain configure + build"
plain "plain waf configure build" python3 waf configure build
expect_program build/prog "plain build"
snapshot_outputs build "$T/plain" objects
plain "waf distclean" python3 waf distclean
[ ! -e build ] || fail "waf distclean left build/ behind"

default_basedir "$T/p1"
note "configure under the library"
wc_build "waf configure" python3 waf configure
expect_stats - 0 0 "waf configure (nothing cacheable)"

note "cold build"
wc_build "cold build" python3 waf build
expect_cold "cold build" "$NCMDS"
expect_program build/prog "cold build"
compare_trees "$T/plain" build "cold build vs plain build" objects
snapshot_outputs build "$T/cold"

note "clean + rebuild"
plain "waf clean" python3 waf clean
remove_outputs build
wc_build "rebuild after clean" python3 waf build
expect_all_hits "rebuild after clean" "$NCMDS"
compare_trees "$T/cold" build "rebuild vs cold build"
expect_program build/prog "rebuild after clean"

note "copy at another absolute path: waf configure build"
mkdir -p "$T/another/place"
cp -a "$T/tmpl" "$T/another/place/copy"
cd "$T/another/place/copy"
default_basedir "$PWD"
wc_build "configure + build of the copy" python3 waf configure build
expect_stats - "$NCMDS" 0 "configure + build of the copy at $PWD (every build command hits)"
compare_trees "$T/cold" build "copy vs cold build" objects
expect_program build/prog "build of the copy"

note "ok"
