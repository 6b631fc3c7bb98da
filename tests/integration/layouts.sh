#!/bin/sh
# Path independence with no setting, in the layouts people use (issue 15 item 2): the base dir is
# decided per command, from its own working directory and the paths its arguments reach, not
# from the build's top-level directory. Every case builds the generated project at a first
# path (cold), then at a second path:
#   reference  the second copy built with an empty cache: what a hit must reproduce
#   shared     the second copy built again with the first copy's cache -> 100 % hits, outputs
#              byte-identical to the reference
#   change     one source of the second copy changed -> a miss
# Cases:
#   build_dir        no checkout, `cd build && make -f ../Makefile` (sources in ../src)
#   home             `make -C src/A` run from $HOME (a fake one)
#   other_repo       `make -C /elsewhere/proj` started from inside another git checkout
#   parent_basedir   WAFCACHE_BASEDIR = a common parent of the checkouts
#   home_basedir     WAFCACHE_BASEDIR = $HOME: accepted as a bound, not a silent bypass
#   relative_include soundness: a source's #include "../include/x.h" reaches outside the
#                    command's base dir: a second copy whose header differs must miss
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup layouts
need_tools make gcc g++ ar

gen_project "$T/tmpl"
if under_vcs "$T"; then
    skip "a checkout encloses $T: the layouts without one cannot be built here"
fi

# copy_project DEST: a fresh copy of the generated project.
copy_project() {
    mkdir -p "$(dirname "$1")"
    cp -a "$T/tmpl" "$1"
}

# second_copy CASE OUTDIR CMD...: the second copy's three steps (see the header). Run from the
# directory the build is started in; OUTDIR holds the outputs; CMD cleans with `clean` appended.
second_copy() {
    local _case _out _shared
    _case=$1
    _out=$2
    shift 2
    _shared=$WAFCACHE
    WAFCACHE=$T/ref-$_case
    wc_build "$_case: reference (empty cache)" "$@"
    expect_cold "$_case: reference" "$NCMDS"
    snapshot_outputs "$_out" "$T/ref-$_case.out"
    plain "$_case: clean" "$@" clean
    WAFCACHE=$_shared
    wc_build "$_case: second copy, shared cache" "$@"
    expect_all_hits "$_case: second copy at $PWD" "$NCMDS"
    compare_trees "$T/ref-$_case.out" "$_out" "$_case: hit vs reference"
}

# change_source DIR: a real change to one source of the copy at DIR (its object differs).
change_source() {
    sed -i 's/return x \* c12_k.mul/return 3u + x * c12_k.mul/' "$1/src/c12.c"
    grep -q 'return 3u + x' "$1/src/c12.c" || fail "could not change $1/src/c12.c"
}

case_build_dir() {
    local _d
    for _d in "$T/l1/A" "$T/l1/deeper/path/B"; do
        copy_project "$_d"
        mkdir -p "$_d/build"
    done
    cd "$T/l1/A/build"
    WAFCACHE=$T/cache-l1
    wc_build "build_dir: first copy" make -f ../Makefile
    expect_cold "build_dir: first copy" "$NCMDS"
    cd "$T/l1/deeper/path/B/build"
    second_copy build_dir . make -f ../Makefile
    expect_program ./prog "build_dir: second copy"
    change_source "$T/l1/deeper/path/B"
    wc_build "build_dir: changed source" make -f ../Makefile
    expect_some_miss "build_dir: changed source"
}

case_home() {
    local _home
    _home=$T/l2/home
    copy_project "$_home/src/A"
    copy_project "$_home/src/B"
    HOME=$_home
    export HOME
    WAFCACHE=$T/cache-l2
    cd "$HOME"
    wc_build "home: make -C src/A" make -C src/A
    expect_cold "home: make -C src/A" "$NCMDS"
    second_copy home src/B make -C src/B
    change_source src/B
    wc_build "home: changed source" make -C src/B
    expect_some_miss "home: changed source"
}

case_other_repo() {
    mkdir -p "$T/l3/repo"
    if command -v git >/dev/null 2>&1; then
        git init -q "$T/l3/repo"
    else
        mkdir "$T/l3/repo/.git"
    fi
    copy_project "$T/l3/elsewhere/proj"
    copy_project "$T/l3/another/place/proj"
    WAFCACHE=$T/cache-l3
    cd "$T/l3/repo"
    wc_build "other_repo: first copy" make -C "$T/l3/elsewhere/proj"
    expect_cold "other_repo: first copy" "$NCMDS"
    second_copy other_repo "$T/l3/another/place/proj" make -C "$T/l3/another/place/proj"
    change_source "$T/l3/another/place/proj"
    wc_build "other_repo: changed source" make -C "$T/l3/another/place/proj"
    expect_some_miss "other_repo: changed source"
}

case_parent_basedir() {
    copy_project "$T/l4/ws/A"
    copy_project "$T/l4/ws/B"
    WAFCACHE=$T/cache-l4
    WAFCACHE_BASEDIR=$T/l4/ws
    export WAFCACHE_BASEDIR
    cd "$T/l4/ws/A"
    wc_build "parent_basedir: A" make
    expect_cold "parent_basedir: A" "$NCMDS"
    cd "$T/l4/ws/B"
    second_copy parent_basedir . make
    change_source .
    wc_build "parent_basedir: changed source" make
    expect_some_miss "parent_basedir: changed source"
}

case_home_basedir() {
    local _home
    _home=$T/l5/home
    copy_project "$_home/src/A"
    copy_project "$_home/work/B"
    HOME=$_home
    WAFCACHE_BASEDIR=$_home
    export HOME WAFCACHE_BASEDIR
    WAFCACHE=$T/cache-l5
    cd "$_home/src/A"
    wc_build "home_basedir: A" make
    expect_cold "home_basedir: A" "$NCMDS"
    [ -z "$(stderr_without_stats "$WC_ERR")" ] ||
        fail "home_basedir: unexpected messages: $(stderr_without_stats "$WC_ERR")"
    cd "$_home/work/B"
    second_copy home_basedir . make
    change_source .
    wc_build "home_basedir: changed source" make
    expect_some_miss "home_basedir: changed source"
}

# One compile in A/src: `gcc -c x.c`, where x.c includes "../include/v.h". Its base dir is
# A/src (nothing in argv reaches above it), so v.h lies outside it; a copy B whose v.h differs
# must not get A's object, and one whose v.h is the same hits.
case_relative_include() {
    local _d _v
    for _d in A B C; do
        mkdir -p "$T/l6/$_d/src" "$T/l6/$_d/include"
        printf '#include "../include/v.h"\nint v(void) { return V; }\n' > "$T/l6/$_d/src/x.c"
    done
    printf '#define V 1\n' > "$T/l6/A/include/v.h"
    printf '#define V 2\n' > "$T/l6/B/include/v.h"
    printf '#define V 1\n' > "$T/l6/C/include/v.h"
    WAFCACHE=$T/cache-l6
    for _d in A B C; do
        cd "$T/l6/$_d/src"
        plain "relative_include: reference $_d" gcc -O2 -c x.c -o ref.o
        wc_build "relative_include: $_d" sh -c "gcc -O2 -c x.c"
        cmp -s x.o ref.o || fail "relative_include: $_d's x.o differs from its own compile"
        case $_d in
        A) expect_cold "relative_include: A" 1 ;;
        B) expect_stats 1 0 1 "relative_include: B (another v.h)" ;;
        C) expect_stats 1 1 0 "relative_include: C (the same v.h)" ;;
        esac
    done
}

run_case build_dir
run_case home
run_case other_repo
run_case parent_basedir
run_case home_basedir
run_case relative_include
finish
