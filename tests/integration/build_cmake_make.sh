#!/bin/sh
# CMake with the "Unix Makefiles" generator under libwafcache.so: see lib/cmake-case.sh for the steps
# (plain build, cold build, clean + rebuild with 100 % hits, copy elsewhere with 100 % hits).
set -eu
. "$WC_TESTS/lib/common.sh"
. "$WC_TESTS/lib/cmake-case.sh"
wc_setup build_cmake_make
need_tools cmake make cc c++ ar
cmake_case "Unix Makefiles"
note "ok"
