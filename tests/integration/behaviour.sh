#!/bin/sh
# What a build sees from wafcache beyond the outputs:
#   warning_replay  a compile with a warning: the hit prints the same stderr, byte for byte
#   failing_compile a failing compile is not cached and fails the same way every time (same
#                   status, same message, as without the library), no output left behind
#   depfiles        -MD/-MF (absolute paths, as CMake) and -MMD -MP (relative) dependency files
#                   are restored byte-identical on a hit
#   non_compiler    1000 × `sh -c true` under the library: works, 0 requests; a missing program
#                   still fails with 127 (PATH search not broken); output passes through
#   uncached_whole  a compile+link that is not cached (it reads stdin) runs as one command: its
#                   own ld (started by collect2) is not cached on its own
#   info_query      `gcc --version` prints what it prints without the library, run unobserved
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup behaviour
need_tools gcc sh

W=$T/w
mkdir -p "$W/inc"
cd "$W"
WAFCACHE_BASEDIR=$W
export WAFCACHE_BASEDIR


case_warning_replay() {
    printf 'int f(void)\n{\n    int unused_thing;\n    return 0;\n}\n' > warn.c
    cmd='gcc -Wall -O2 -c warn.c -o warn.o'
    wc_build "compile with a warning" sh -c "$cmd"
    expect_cold "compile with a warning" 1
    grep -q "warning: unused variable 'unused_thing'" "$WC_ERR" ||
        fail "compile with a warning: gcc's warning is not on stderr"
    stderr_without_stats "$WC_ERR" > "$T/warn.cold"
    mv warn.o "$T/warn.o.cold"
    wc_build "the same compile again" sh -c "$cmd"
    expect_all_hits "the same compile again" 1
    stderr_without_stats "$WC_ERR" > "$T/warn.hit"
    if ! cmp -s "$T/warn.cold" "$T/warn.hit"; then
        diff "$T/warn.cold" "$T/warn.hit" >&2 || true
        fail "the hit did not replay the warning byte for byte"
    fi
    cmp -s warn.o "$T/warn.o.cold" || fail "warn.o restored by the hit differs from the cold build's"
}

case_failing_compile() {
    printf 'int g(void)\n{\n    return undeclared_thing;\n}\n' > bad.c
    cmd='gcc -O2 -c bad.c -o bad.o'
    st_plain=0
    (unset LD_PRELOAD; exec sh -c "$cmd") > /dev/null 2> "$T/bad.plain" || st_plain=$?
    [ "$st_plain" != 0 ] || fail "bad.c compiled without the library?"
    for i in 1 2 3; do
        wc_run sh -c "$cmd"
        [ "$WC_STATUS" = "$st_plain" ] ||
            fail "failing compile, run $i: exit status $WC_STATUS under wafcache, $st_plain without"
        stderr_without_stats "$WC_ERR" > "$T/bad.$i"
        if ! cmp -s "$T/bad.plain" "$T/bad.$i"; then
            diff "$T/bad.plain" "$T/bad.$i" >&2 || true
            fail "failing compile, run $i: stderr differs from the compiler's own"
        fi
        expect_stats 1 0 0 "failing compile, run $i (never cached, never a hit)"
        [ ! -e bad.o ] || fail "failing compile, run $i: bad.o exists"
    done
}

case_depfiles() {
    printf '#define DEP_VALUE 42\n' > inc/dep.h
    printf '#include <stdio.h>\n#include "dep.h"\nint dep(void) { return DEP_VALUE; }\n' > dep.c
    cp dep.c dep2.c
    # Absolute paths, as CMake writes them; then relative ones with -MMD -MP and an implicit name.
    cmd="gcc -I$W/inc -O2 -MD -MT dep.o -MF dep.d -c $W/dep.c -o dep.o && gcc -Iinc -O2 -MMD -MP -c dep2.c -o dep2.o"
    wc_build "compiles with dependency files" sh -c "$cmd"
    expect_cold "compiles with dependency files" 2
    for f in dep.d dep2.d dep.o dep2.o; do
        [ -s $f ] || fail "cold compile: no $f"
        mv $f "$T/$f.cold"
    done
    grep -q 'dep\.h' "$T/dep.d.cold" || fail "dep.d does not name dep.h"
    grep -q '^inc/dep\.h:' "$T/dep2.d.cold" || fail "dep2.d has no -MP phony target for inc/dep.h"
    # The relative one must be exactly what gcc writes on its own.
    mkdir "$T/plainw"
    cp -R inc dep2.c "$T/plainw/"
    (cd "$T/plainw" && unset LD_PRELOAD && exec gcc -Iinc -O2 -MMD -MP -c dep2.c -o dep2.o) ||
        fail "dep2.c does not compile without the library"
    cmp -s "$T/plainw/dep2.d" "$T/dep2.d.cold" || fail "dep2.d of the cold build differs from gcc's own"
    wc_build "the same compiles again" sh -c "$cmd"
    expect_all_hits "the same compiles again" 2
    for f in dep.d dep2.d dep.o dep2.o; do
        [ -e $f ] || fail "the hit did not restore $f"
        if ! cmp -s $f "$T/$f.cold"; then
            diff "$T/$f.cold" $f >&2 || true
            fail "$f restored by the hit differs from the cold build's"
        fi
    done
}

case_non_compiler() {
    wc_build "1000 x sh -c true" sh -c '
        i=0
        while [ $i -lt 1000 ]; do
            sh -c true || exit 1
            i=$((i + 1))
        done
        echo "done $i"'
    grep -qx 'done 1000' "$WC_OUT" || fail "1000 x sh -c true: the loop did not finish ($(cat "$WC_OUT"))"
    expect_stats 0 0 0 "1000 x sh -c true (nothing to cache)"
    wc_run sh -c 'printf "%s\n" out; printf "%s\n" err >&2; exit 3'
    [ "$WC_STATUS" = 3 ] || fail "sh -c 'exit 3' under the library exited with $WC_STATUS"
    [ "$(cat "$WC_OUT")" = out ] || fail "stdout of a non-compiler was not passed through"
    [ "$(stderr_without_stats "$WC_ERR")" = err ] || fail "stderr of a non-compiler was not passed through"
    wc_run sh -c 'wc-no-such-program-anywhere'
    [ "$WC_STATUS" = 127 ] || fail "a missing program under the library: status $WC_STATUS, expected 127"
}

case_uncached_whole() {
    printf 'int main(void)\n{\n    return 0;\n}\n' > whole.c
    wc_build "compile+link from stdin" sh -c 'gcc -x c - -o whole < whole.c'
    [ -x whole ] || fail "compile+link from stdin: no program"
    expect_stats 0 0 0 "compile+link from stdin (gcc not cached, its ld part of it)"
    grep -q "not cached .*standard input\|not cached .*stdin" "$WAFCACHE_LOG" ||
        fail "compile+link from stdin: the log does not say why it was not cached"
}

case_info_query() {
    gcc --version > "$T/version.plain"
    wc_build "gcc --version" sh -c "gcc --version"
    cmp -s "$WC_OUT" "$T/version.plain" || fail "gcc --version under the library printed something else"
    expect_stats 0 0 0 "gcc --version (nothing to cache)"
    grep -q "not cached .*only prints information" "$WAFCACHE_LOG" ||
        fail "gcc --version: the log does not say it was run as a query, unobserved"
}

for c in ${WC_CASES:-warning_replay failing_compile depfiles non_compiler uncached_whole info_query}; do
    run_case "$c"
done
finish
