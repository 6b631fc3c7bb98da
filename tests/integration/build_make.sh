#!/bin/sh
# make -j2 under libwafcache.so, in-tree, relying on the default base dir (the build's working
# directory: no checkout above the temp dir).
#   plain build (no library)          -> the program prints the expected checksum
#   cold build                        -> all misses, one write each; objects equal the plain build's
#   make clean + rebuild              -> 100 % hits, every output (.o .a .d prog) byte-identical
#   nothing to do                     -> 0 requests
#   copy of the sources elsewhere     -> 100 % hits, byte-identical outputs, same checksum
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup build_make
need_tools make gcc g++ ar

gen_project "$T/tmpl"
cp -a "$T/tmpl" "$T/p1"
cd "$T/p1"

note "plain build"
plain "plain build" make -j2
expect_program ./prog "plain build"
snapshot_outputs . "$T/plain"
plain "make clean" make clean

default_basedir "$T/p1"
note "cold build"
wc_build "cold build" make -j2
expect_cold "cold build" "$NCMDS"
expect_program ./prog "cold build"
# Relative paths and no -g: what wafcache stored is exactly what the compiler makes alone.
compare_trees "$T/plain" . "cold build vs plain build"
snapshot_outputs . "$T/cold"

note "clean + rebuild"
plain "make clean" make clean
[ ! -e obj ] || fail "make clean left obj/ behind"
wc_build "rebuild after clean" make -j2
expect_all_hits "rebuild after clean" "$NCMDS"
compare_trees "$T/cold" . "rebuild vs cold build"
expect_program ./prog "rebuild after clean"

note "up to date"
wc_build "up-to-date build" make -j2
expect_stats 0 0 0 "up-to-date build"

note "copy at another absolute path"
mkdir -p "$T/elsewhere/a/longer/path"
cp -a "$T/tmpl" "$T/elsewhere/a/longer/path/copy"
cd "$T/elsewhere/a/longer/path/copy"
default_basedir "$PWD"
wc_build "build of the copy" make -j2
expect_all_hits "build of the copy at $PWD" "$NCMDS"
compare_trees "$T/cold" . "copy vs cold build"
expect_program ./prog "build of the copy"

note "ok"
