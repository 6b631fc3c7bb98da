#!/bin/sh
# ninja through the command line (`wafcache ninja -C ..`), started from a subdirectory of a git
# checkout (src/): the default base dir must be the checkout's root, not that working directory,
# since ninja runs the commands one level up. No WAFCACHE_BASEDIR is set here.
#   plain build (no library)          -> the program prints the expected checksum
#   cold build                        -> all misses and writes; objects equal the plain build's
#   ninja -t clean + rebuild          -> 100 % hits, byte-identical outputs
#   copy of the checkout elsewhere    -> 100 % hits, byte-identical objects, same checksum
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup build_ninja
need_tools ninja gcc g++ ar

gen_project "$T/tmpl"
# A checkout: `git init` when git is there, else the bare marker the SPEC names (a .git dir).
mkcheckout() {
    cp -a "$T/tmpl" "$1"
    if command -v git >/dev/null 2>&1; then
        git -C "$1" init -q || fail "git init $1 failed"
    else
        mkdir "$1/.git"
    fi
}
mkcheckout "$T/p1"
cd "$T/p1"

note "plain build"
plain "plain build" ninja -j2
expect_program build/prog "plain build"
snapshot_outputs build "$T/plain"
plain "ninja -t clean" ninja -t clean

unset WAFCACHE_BASEDIR
WC_LAUNCH=cli
cd "$T/p1/src"
note "cold build (wafcache ninja -C ..)"
wc_build "cold build" ninja -C .. -j2
expect_cold "cold build" "$NCMDS"
expect_program ../build/prog "cold build"
compare_trees "$T/plain" ../build "cold build vs plain build"
snapshot_outputs ../build "$T/cold"

note "clean + rebuild"
plain "ninja -t clean" ninja -C .. -t clean
[ ! -e ../build/prog ] || fail "ninja -t clean left build/prog behind"
wc_build "rebuild after clean" ninja -C .. -j2
expect_all_hits "rebuild after clean" "$NCMDS"
compare_trees "$T/cold" ../build "rebuild vs cold build"
expect_program ../build/prog "rebuild after clean"

note "up to date"
wc_build "up-to-date build" ninja -C .. -j2
expect_stats 0 0 0 "up-to-date build"

note "copy of the checkout at another absolute path"
mkdir -p "$T/other"
mkcheckout "$T/other/checkout-copy"
cd "$T/other/checkout-copy/src"
wc_build "build of the copy" ninja -C .. -j2
expect_all_hits "build of the copy at $T/other/checkout-copy" "$NCMDS"
compare_trees "$T/cold" ../build "copy vs cold build" objects
expect_program ../build/prog "build of the copy"

note "ok"
