#!/bin/sh
# CMake with the "Ninja" generator under libwafcache.so: see lib/cmake-case.sh for the steps
# (plain build, cold build, clean + rebuild with 100 % hits, copy elsewhere with 100 % hits).
set -eu
. "$WC_TESTS/lib/common.sh"
. "$WC_TESTS/lib/cmake-case.sh"
wc_setup build_cmake_ninja
need_tools cmake ninja cc c++ ar
cmake_case "Ninja"
note "ok"
