#!/bin/sh
# The mutation matrix (make, the generated project, one shared cache, WAFCACHE_BASEDIR = the
# project root of each case's own copy).
#
# MUST MISS: a cached build first (100 % hits), then the mutation, then `make clean` + build: the
# affected commands miss (exact counts where they follow from the project, at least one miss
# always) and every output equals the same build run by wafcache with an empty cache (the SPEC's
# reference for a right output).
#   header_edit     include2/shadow.h changes        -> c03, c13, ar, link miss (22 of 26 hit)
#   header_shadow   include/shadow.h added (earlier -I dir than include2/) -> same 4 miss
#   header_shadow_settled  the same in a tree older than 2 s when stored (include/ stamped)
#   define_change   -DX=1 -> -DX=2                   -> all 26 miss; back to -DX=1: all hit
#   include_order   -Iinclude2 before -Iinclude      -> all 26 miss (order.h differs)
#   cpath           CPATH names a dir with wc_cpath.h -> all 26 miss: the 24 compiles read CPATH;
#                   ar and the link do not, but c07.o, hence libwc.a, changed under them
#   compiler_swap   CC=gcc -> CC=clang               -> 21 C compiles, ar, link miss, 3 C++ hit;
#                   back to gcc: all hit; clang again: all hit
#   date_sde        src/date.c uses __DATE__, SOURCE_DATE_EPOCH changes -> misses, new date
#   response_file   gcc @flags.rsp, same argv, the file's content changes -> 21 C compiles,
#                   ar, link miss
#   lib_relink      a library source changes, incremental make: compile, ar, link all miss
#                   (the link's argv is the same; only libwc.a's content changed)
#   header_deleted  include2/extra.h removed: the compile FAILS (twice, like the reference), no hit
#   march_native    -march=native caches and hits on this machine
#   (issue 12: response files and rewriting, in their own block below)
#   rsp_debug_checkouts  -g inside @flags.rsp, a second checkout: its own DW_AT_comp_dir
#   rsp_outputs     -o and -MF inside an @file (wafcache gcc ...): the second run hits
#   rsp_native      -march=native in a nested @file: the CPU is in key1; hits on this machine
#   rsp_too_long    an @file expanding past ARG_MAX/2: run through the runner's own @file
#   plugin_abs      -fplugin=$PWD/p.so (wafcache gcc ... and make): still finds the plugin
#   stderr_checkout_path  a hit in another checkout prints that checkout's paths
#   (issue 15: spurious misses)
#   depfile_env_checkouts  DEPENDENCIES_OUTPUT / SUNPRO_DEPENDENCIES naming an absolute .d: a
#                   second checkout hits with the .d the real command writes; another target
#                   in the variable misses
#   depfile_env_append  DEPENDENCIES_OUTPUT names a file that already holds rules (gcc appends):
#                   cached, a second checkout with the same old rules hits, other old rules miss
#   rsp_outputs_checkouts  absolute -o and -MF inside an @file: a second checkout hits, its own
#                   outputs restored
#   (issue 15: generators -- bison, flex, gperf, strip, objcopy -- in their own block below)
# MUST HIT:
#   header_touch    touch a header without changing it -> 25 of 26 hit (ar finds libwc.a there: an
#                   input), same outputs; touched again -> 26 of 26 hit
#   tree_moved      rename the project directory -> 26 of 26 hit, same outputs
#   out_of_tree_moved  mkdir build && cd build && make -f ../Makefile, then the tree is renamed
#                   -> 26 of 26 hit, same outputs
#
# Every case runs even when one fails; the summary lists the failed ones. WC_CASES="a b" runs only
# those cases (after the baseline).
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup mutations
need_tools make gcc g++ ar clang

gen_project "$T/tmpl"
SHARED=$T/cache
REFN=0

# fresh_tree NAME: a pristine copy of the project for one case; cd into it.
fresh_tree() {
    P=$T/cases/$1/p
    mkdir -p "$T/cases/$1"
    cp -a "$T/tmpl" "$P"
    cd "$P"
    WAFCACHE_BASEDIR=$P
    export WAFCACHE_BASEDIR
}

# cached DESC MAKEARGS...: make -j2 under wafcache with the shared cache; must succeed.
cached() {
    local _d
    _d=$1
    shift
    WAFCACHE=$SHARED
    wc_build "$_d" make -j2 "$@"
}

# clean_cached DESC MAKEARGS...: make clean, then cached.
clean_cached() {
    local _cd
    _cd=$1
    shift
    plain "make clean" make "$@" clean
    cached "$_cd" "$@"
}

# prebuild MAKEARGS...: the cached build before a mutation; the cache already knows this
# configuration when EXPECT_PRE_HITS=1 (the default configuration was cached by the baseline).
prebuild() {
    cached "cached build before the mutation" "$@"
    if [ "${EXPECT_PRE_HITS:-1}" = 1 ]; then
        expect_all_hits "cached build before the mutation" "$NCMDS"
    fi
}

# against_reference DESC MAKEARGS...: the current outputs must equal those of `make clean` +
# the same build under wafcache with an empty cache (run with the same environment).
against_reference() {
    local _d
    _d=$1
    shift
    snapshot_outputs . "$T/got"
    plain "make clean" make "$@" clean
    REFN=$((REFN + 1))
    WAFCACHE=$T/refcache.$REFN
    # Each case is a subshell: REFN does not go up from case to case, and a case that failed
    # before its clean-up below must not leave the next case a cache that is not empty.
    rm -rf "$WAFCACHE"
    wc_build "$_d: reference build with an empty cache" make -j2 "$@"
    expect_cold "$_d: reference build with an empty cache"
    compare_trees "$T/got" . "$_d: cached build vs empty-cache reference"
    rm -rf "$T/refcache.$REFN"
    WAFCACHE=$SHARED
}

case_baseline() {
    fresh_tree baseline
    cached "baseline cold build"
    expect_cold "baseline cold build" "$NCMDS"
    expect_program ./prog "baseline cold build"
    clean_cached "baseline rebuild"
    expect_all_hits "baseline rebuild" "$NCMDS"
}

case_header_edit() {
    fresh_tree header_edit
    prebuild
    sed -i 's/SHADOW_VALUE 3u/SHADOW_VALUE 4u/' include2/shadow.h
    clean_cached "after editing include2/shadow.h"
    expect_stats "$NCMDS" $((NCMDS - 4)) 4 "after editing include2/shadow.h (c03, c13, ar, link must miss)"
    against_reference "header edit"
}

case_header_shadow() {
    fresh_tree header_shadow
    prebuild
    printf '#ifndef WC_SHADOW_H\n#define WC_SHADOW_H\n#define SHADOW_VALUE 9u\n#endif\n' > include/shadow.h
    clean_cached "after adding include/shadow.h"
    expect_stats "$NCMDS" $((NCMDS - 4)) 4 "after adding include/shadow.h in front of include2/ (c03, c13, ar, link must miss)"
    against_reference "shadowing header"
}

# The same, in a tree whose directories have settled (older than two seconds) when the
# manifest is written: the include directories are then stamped, and a hit answers for their
# probes with one stat each (hashing/manifest.h). A header created in one must still be seen.
case_header_shadow_settled() {
    fresh_tree header_shadow_settled
    sleep 2.2
    EXPECT_PRE_HITS=0 prebuild DEFS=-DX=5
    expect_cold "a configuration never built before" "$NCMDS"
    for _m in "$SHARED"/*/*/manifest; do zstd -q -dcf "$_m"; done |
        grep -q "^pdir .*@WAFCACHE_BASEDIR@/include$" ||
        fail "no manifest stamps the settled include/ directory"
    clean_cached "settled tree rebuilt" DEFS=-DX=5
    expect_all_hits "settled tree rebuilt" "$NCMDS"
    printf '#ifndef WC_SHADOW_H\n#define WC_SHADOW_H\n#define SHADOW_VALUE 9u\n#endif\n' > include/shadow.h
    clean_cached "after adding include/shadow.h to a stamped directory" DEFS=-DX=5
    expect_stats "$NCMDS" $((NCMDS - 4)) 4 "after adding include/shadow.h to a stamped include/ (c03, c13, ar, link must miss)"
    against_reference "shadowing header, stamped directory" DEFS=-DX=5
}

case_define_change() {
    fresh_tree define_change
    prebuild
    clean_cached "-DX=2" DEFS=-DX=2
    expect_stats "$NCMDS" 0 "$NCMDS" "-DX=1 -> -DX=2 (every compile's argv changed; ar and link inputs changed)"
    against_reference "-DX=2" DEFS=-DX=2
    clean_cached "back to -DX=1"
    expect_all_hits "back to -DX=1" "$NCMDS"
}

case_include_order() {
    fresh_tree include_order
    prebuild
    clean_cached "-I reordered" 'INCLUDES=-I$(SRC)include2 -I$(SRC)include'
    expect_stats "$NCMDS" 0 "$NCMDS" "-Iinclude2 before -Iinclude (every compile's argv changed)"
    against_reference "-I reordered" 'INCLUDES=-I$(SRC)include2 -I$(SRC)include'
}

case_cpath() {
    fresh_tree cpath
    prebuild
    mkdir cpathdir
    printf '#define WC_CPATH_VALUE 40u\n' > cpathdir/wc_cpath.h
    CPATH=$P/cpathdir
    export CPATH
    clean_cached "with CPATH"
    # Every compile read CPATH (unset before); ar and the link did not, but c07.o changed
    # (it includes wc_cpath.h), so libwc.a did, so did the link's inputs: 26 misses still.
    expect_stats "$NCMDS" 0 "$NCMDS" "CPATH set (the compiles read it; c07.o, libwc.a, prog change)"
    against_reference "CPATH"
}

case_compiler_swap() {
    fresh_tree compiler_swap
    prebuild
    clean_cached "CC=clang" CC=clang
    expect_stats "$NCMDS" 3 $((NCMDS - 3)) "gcc -> clang (21 C compiles, ar, link miss; the 3 C++ compiles with g++ hit)"
    against_reference "CC=clang" CC=clang
    clean_cached "back to gcc"
    expect_all_hits "back to gcc" "$NCMDS"
    clean_cached "clang again" CC=clang
    expect_all_hits "clang again" "$NCMDS"
}

case_date_sde() {
    fresh_tree date_sde
    SOURCE_DATE_EPOCH=1000000000
    export SOURCE_DATE_EPOCH
    EXPECT_PRE_HITS=0 prebuild WITH_DATE=1
    clean_cached "__DATE__ with SOURCE_DATE_EPOCH, again" WITH_DATE=1
    expect_all_hits "__DATE__ with the same SOURCE_DATE_EPOCH" $((NCMDS + 1))
    cp obj/date.o "$T/date-before.o"
    SOURCE_DATE_EPOCH=1100000000
    clean_cached "SOURCE_DATE_EPOCH changed" WITH_DATE=1
    expect_some_miss "SOURCE_DATE_EPOCH changed with a file using __DATE__"
    ! cmp -s obj/date.o "$T/date-before.o" || fail "SOURCE_DATE_EPOCH changed but obj/date.o is the old one"
    against_reference "SOURCE_DATE_EPOCH" WITH_DATE=1
}

case_response_file() {
    fresh_tree response_file
    echo '-DRSPVAL=1' > flags.rsp
    EXPECT_PRE_HITS=0 prebuild RSP=@flags.rsp
    need_stats "first build with @flags.rsp"
    [ "$STAT_WRITES" -ge 21 ] ||
        fail "first build with @flags.rsp: the 21 C compiles reading a response file were not all stored ($STAT_LINE)"
    clean_cached "gcc @flags.rsp, again" RSP=@flags.rsp
    expect_all_hits "gcc @flags.rsp, unchanged" "$NCMDS"
    echo '-DRSPVAL=2' > flags.rsp
    clean_cached "flags.rsp changed" RSP=@flags.rsp
    expect_stats "$NCMDS" 3 $((NCMDS - 3)) "response file changed (21 C compiles read it; ar, link inputs changed; C++ hits)"
    against_reference "response file" RSP=@flags.rsp
}

case_lib_relink() {
    fresh_tree lib_relink
    prebuild
    sed -i 's/{ 19u, 27u }/{ 19u, 1027u }/' src/c09.c
    cached "incremental build after changing src/c09.c"
    # `ar rcs` updating an existing archive reads and writes libwc.a: storing it is optional.
    expect_stats 3 0 - "library member changed: its compile, ar, and the link (same argv, new libwc.a) must miss"
    against_reference "library rebuilt before a link"
}

case_header_deleted() {
    fresh_tree header_deleted
    prebuild
    # make reruns the compile only through obj/c05.d (-MP): the hit must have restored it.
    grep -q 'extra\.h' obj/c05.d || fail "obj/c05.d does not name extra.h after the cached build"
    rm include2/extra.h
    for _i in 1 2; do
        WAFCACHE=$SHARED
        wc_run make -j2
        [ "$WC_STATUS" != 0 ] || fail "header deleted, run $_i: make succeeded (the compile of src/c05.c must fail, not hit)"
        grep -q 'extra\.h' "$WC_ERR" || fail "header deleted, run $_i: no message about extra.h on stderr"
        expect_stats 1 0 0 "header deleted, run $_i (src/c05.c's compile must run and fail)"
        stderr_without_stats "$WC_ERR" > "$T/deleted.err.$_i"
        echo "$WC_STATUS" > "$T/deleted.st.$_i"
    done
    cmp -s "$T/deleted.err.1" "$T/deleted.err.2" || fail "header deleted: the two failing runs printed different messages"
    WAFCACHE=$T/refcache.deleted
    wc_run make -j2
    [ "$WC_STATUS" = "$(cat "$T/deleted.st.1")" ] ||
        fail "header deleted: exit status $(cat "$T/deleted.st.1") with the cache, $WC_STATUS with an empty cache"
    stderr_without_stats "$WC_ERR" > "$T/deleted.err.ref"
    cmp -s "$T/deleted.err.1" "$T/deleted.err.ref" || fail "header deleted: the message differs from an empty-cache run"
    WAFCACHE=$SHARED
}

# The key includes the CPU's identity when an argument says native, so another CPU would miss;
# a machine cannot pretend to be another CPU from a test (the identity comes from the hardware),
# so that half is not tested here: only that -march=native is cached and hits on this machine.
case_march_native() {
    fresh_tree march_native
    prebuild
    clean_cached "-march=native" 'CFLAGS=-O2 -Wall -march=native'
    # The 21 C compiles miss (new argv); ar and the link may hit when -march=native happens to
    # make the same code as the default on this CPU.
    expect_some_miss "-march=native added to CFLAGS"
    [ "$STAT_WRITES" -ge 21 ] || fail "-march=native: expected the 21 C compiles to miss and be written ($STAT_LINE)"
    clean_cached "-march=native, again" 'CFLAGS=-O2 -Wall -march=native'
    expect_all_hits "-march=native on the same machine" "$NCMDS"
    against_reference "-march=native" 'CFLAGS=-O2 -Wall -march=native'
}

case_header_touch() {
    fresh_tree header_touch
    prebuild
    snapshot_outputs . "$T/touch.before"
    sleep 1
    touch include/common.h
    cached "after touching include/common.h"
    # issue 12: ar finds libwc.a there, an input the recording (made after `make clean`) did
    # not have; it misses once, stored with the archive's content as an input.
    expect_stats "$NCMDS" $((NCMDS - 1)) 1 "header touched, content unchanged (make recompiles everything; ar updates the existing libwc.a)"
    compare_trees "$T/touch.before" . "header touched"
    sleep 1
    touch include/common.h
    cached "after touching include/common.h again"
    expect_all_hits "header touched again (libwc.a's content is the recorded one)" "$NCMDS"
    compare_trees "$T/touch.before" . "header touched again"
    against_reference "header touched, libwc.a updated in place"
}

case_tree_moved() {
    fresh_tree tree_moved
    prebuild
    snapshot_outputs . "$T/moved.before"
    cd "$T/cases/tree_moved"
    mv p renamed-project
    cd renamed-project
    WAFCACHE_BASEDIR=$PWD
    clean_cached "after renaming the project directory"
    expect_all_hits "tree moved to $PWD" "$NCMDS"
    compare_trees "$T/moved.before" . "tree moved"
    expect_program ./prog "tree moved"
}

case_out_of_tree_moved() {
    fresh_tree out_of_tree
    mkdir build
    cd build
    # cwd build/, sources ../src: other command lines than the in-tree builds'.
    cached "out-of-tree build" -f ../Makefile
    expect_program ./prog "out-of-tree build"
    snapshot_outputs . "$T/oot.before"
    cd "$T/cases/out_of_tree"
    mv p moved
    cd moved/build
    WAFCACHE_BASEDIR=$T/cases/out_of_tree/moved
    clean_cached "out-of-tree build, tree moved" -f ../Makefile
    expect_all_hits "out-of-tree build after moving its tree" "$NCMDS"
    compare_trees "$T/oot.before" . "out-of-tree build moved with its tree"
    expect_program ./prog "out-of-tree build, tree moved"
}

# ---- issue 12: response files and rewriting ------------------------------------------------
# What an @file says is part of the command line (class 7), and rewriting absolute paths to
# relative ones must not change what the command does (class 8). Some cases run make, the
# others call `wafcache gcc ...` directly, each compared with the same command
# run with an empty cache.

# direct_wc DESC CMD...: `wafcache CMD...` with the shared cache; must succeed. (wc_run gives it
# the library, so that it is the top-level process that prints the stats line.)
direct_wc() {
    local _d
    _d=$1
    shift
    WAFCACHE=$SHARED
    wc_build "$_d" "$WC_BIN/wafcache" "$@"
}

# direct_against_reference DESC CMD...: the outputs in . and the stderr of the last run equal
# those of CMD run by `wafcache` with an empty cache.
direct_against_reference() {
    local _d
    _d=$1
    shift
    snapshot_outputs . "$T/got"
    stderr_without_stats "$WC_ERR" > "$T/got.err"
    remove_outputs .
    REFN=$((REFN + 1))
    rm -rf "$T/refcache.$REFN"
    WAFCACHE=$T/refcache.$REFN
    wc_build "$_d: reference run with an empty cache" "$WC_BIN/wafcache" "$@"
    expect_cold "$_d: reference run with an empty cache"
    compare_trees "$T/got" . "$_d: cached run vs empty-cache reference"
    stderr_without_stats "$WC_ERR" > "$T/ref.err"
    cmp -s "$T/got.err" "$T/ref.err" ||
        fail "$_d: stderr differs from the empty-cache reference: '$(cat "$T/got.err")' vs '$(cat "$T/ref.err")'"
    rm -rf "$T/refcache.$REFN"
    WAFCACHE=$SHARED
}

# comp_dir OBJECT: the DW_AT_comp_dir gcc wrote into OBJECT.
comp_dir() {
    readelf --debug-dump=info "$1" | sed -n 's/.*DW_AT_comp_dir.*: //p' | head -n 1
}

# -g inside a response file, two checkouts at different paths: the second must get its own
# DW_AT_comp_dir, not the first one's (the -g was invisible to key1 before).
case_rsp_debug_checkouts() {
    fresh_tree rsp_debug_a
    echo '-g' > flags.rsp
    EXPECT_PRE_HITS=0 prebuild RSP=@flags.rsp
    [ "$(comp_dir obj/c01.o)" = "$P" ] || fail "checkout A: comp_dir '$(comp_dir obj/c01.o)', expected '$P'"
    _first=$P
    fresh_tree rsp_debug_b_at_a_longer_path
    echo '-g' > flags.rsp
    cached "checkout B with -g in flags.rsp" RSP=@flags.rsp
    [ "$(comp_dir obj/c01.o)" = "$P" ] ||
        fail "checkout B was served comp_dir '$(comp_dir obj/c01.o)' (checkout A is $_first), expected '$P'"
    against_reference "-g inside a response file, second checkout" RSP=@flags.rsp
}

# -o and -MF inside a response file: the entry's outputs are the ones the @file declares, so
# the second run hits (before, every entry was rejected as naming undeclared outputs).
case_rsp_outputs() {
    fresh_tree rsp_outputs
    mkdir obj
    printf -- '-o obj/c01.o\n-MD -MF "obj/c01.d"\n' > out.rsp
    set -- gcc -O2 -Iinclude -Iinclude2 -c src/c01.c @out.rsp
    direct_wc "-o and -MF inside out.rsp, cold" "$@"
    expect_cold "-o and -MF inside out.rsp, cold" 1
    rm -f obj/c01.o obj/c01.d
    direct_wc "-o and -MF inside out.rsp, again" "$@"
    expect_all_hits "-o and -MF inside a response file" 1
    [ -f obj/c01.o ] && [ -f obj/c01.d ] || fail "-o and -MF inside a response file: outputs not restored"
    direct_against_reference "-o and -MF inside a response file" "$@"
}

# -march=native inside a (nested) response file: key1 holds the CPU, as for a bare argument.
case_rsp_native() {
    fresh_tree rsp_native
    # -DRSP_NATIVE: a command line of its own (march_native's would otherwise be the same,
    # once expanded, and its manifests would answer).
    echo '-march=native -DRSP_NATIVE=1' > native.rsp
    echo '@native.rsp' > flags.rsp
    EXPECT_PRE_HITS=0 prebuild RSP=@flags.rsp
    _m=
    for _f in "$SHARED"/*/*/manifest; do
        zstd -q -dcf "$_f" > "$T/manifest.txt"
        grep -q '^arg -DRSP_NATIVE=1$' "$T/manifest.txt" && _m=$T/manifest.txt && break
    done
    [ -n "$_m" ] || fail "no manifest holds the arguments of the nested response file"
    grep -q '^arg -march=native$' "$_m" || fail "$_m: -march=native from the response file is not in key1"
    grep -q '^cpu ' "$_m" || fail "$_m: -march=native from a response file, and no CPU identity in key1"
    clean_cached "-march=native in a response file, again" RSP=@flags.rsp
    expect_all_hits "-march=native in a response file, same machine" "$NCMDS"
    against_reference "-march=native in a response file" RSP=@flags.rsp
}

# A command line that the expansion makes too long for exec (> ARG_MAX/2): the runner passes it
# through a response file of its own, which is no input of the command (so the second run hits)
# and is gone afterwards.
case_rsp_too_long() {
    fresh_tree rsp_too_long
    TMPDIR=$T/tmp.too_long
    export TMPDIR
    mkdir -p "$TMPDIR" in
    # Inputs named so that remove_outputs (*.o, *.a) leaves them for the reference run.
    plain "compile c01" gcc -O2 -Iinclude -c src/c01.c -o in/x.obj
    printf 'unsigned c01(unsigned);\nint main(void) { return (int)c01(0u) & 0; }\n' > m.c
    plain "compile m.c" gcc -c m.c -o in/m.obj
    plain "archive" ar rcs in/x.lib in/x.obj
    # 12000 mentions of one archive (ld takes them all, quickly), 99 bytes each.
    awk 'BEGIN { p = "in/x.lib"; for (i = 0; i < 45; i++) p = "./" p;
                 for (i = 0; i < 12000; i++) printf "%s ", p; print "" }' > libs.rsp
    WAFCACHE_LOG=$T/too_long.log
    export WAFCACHE_LOG
    set -- gcc -o prog in/m.obj @libs.rsp
    direct_wc "1.2 MB of arguments in libs.rsp" "$@"
    expect_cold "1.2 MB of arguments in libs.rsp" 1
    grep -q "command line too long for exec: passed through $TMPDIR/" "$WAFCACHE_LOG" ||
        fail "the expanded command line did not go through the runner's response file"
    rm -f prog
    direct_wc "1.2 MB of arguments, again" "$@"
    expect_all_hits "1.2 MB of arguments in a response file" 1
    ! ls "$TMPDIR"/wafcache-args-* >/dev/null 2>&1 || fail "the runner's response file was left in $TMPDIR"
    direct_against_reference "1.2 MB of arguments in a response file" "$@"
    unset WAFCACHE_LOG TMPDIR
}

# -fplugin=$PWD/p.so: a bare "p.so" would be a plugin of gcc's own directory (the command
# failed with the cache where it passed without); rewritten, it keeps its "./".
case_plugin_abs() {
    _pd=$(gcc -print-file-name=plugin)
    [ -f "$_pd/include/gcc-plugin.h" ] ||
        fail "no gcc plugin headers in $_pd (install gcc-12-plugin-dev: tools/setup-deps --test)"
    fresh_tree plugin_abs
    printf '%s\n' '#include "gcc-plugin.h"' 'int plugin_is_GPL_compatible;' \
        'int plugin_init(struct plugin_name_args *i, struct plugin_gcc_version *v)' \
        '{ (void)i; (void)v; return 0; }' > wcplug.c
    plain "build the plugin" g++ -shared -fPIC -fno-rtti -O0 -I"$_pd/include" wcplug.c -o wcplug.so
    mkdir obj
    set -- gcc -fplugin="$PWD/wcplug.so" -O2 -Iinclude -Iinclude2 -c "$PWD/src/c01.c" -o obj/c01.o
    direct_wc "-fplugin=\$PWD/wcplug.so" "$@"
    expect_cold "-fplugin=\$PWD/wcplug.so" 1
    rm -f obj/c01.o
    direct_wc "-fplugin=\$PWD/wcplug.so, again" "$@"
    expect_all_hits "-fplugin with an absolute path" 1
    direct_against_reference "-fplugin with an absolute path" "$@"
    rm -f obj/c01.o
    EXPECT_PRE_HITS=0 prebuild "CFLAGS=-O2 -Wall -fplugin=$PWD/wcplug.so"
    expect_program ./prog "make with -fplugin=\$PWD/wcplug.so"
    against_reference "make with -fplugin" "CFLAGS=-O2 -Wall -fplugin=$PWD/wcplug.so"
}

# A message naming the recording checkout's absolute path (a compiler wrapper of the project
# printing its own path, as a toolchain kept in the tree prints its headers' paths), replayed
# by a hit in another checkout, names that checkout.
case_stderr_checkout_path() {
    fresh_tree stderr_a
    mkdir -p tools obj
    printf '%s\n' '#!/bin/sh' 'echo "$0: warning: compiled by the project wrapper" >&2' \
        'exec gcc "$@"' > tools/gcc
    chmod +x tools/gcc
    direct_wc "wrapper in checkout A" "$P/tools/gcc" -O2 -Iinclude -Iinclude2 -c src/c01.c -o obj/c01.o
    expect_cold "wrapper in checkout A" 1
    grep -q "^$P/tools/gcc: warning" "$WC_ERR" || fail "checkout A: the wrapper's warning is missing"
    cp tools/gcc "$T/wrapper"
    fresh_tree stderr_b_elsewhere
    mkdir -p tools obj
    cp "$T/wrapper" tools/gcc
    set -- "$P/tools/gcc" -O2 -Iinclude -Iinclude2 -c src/c01.c -o obj/c01.o
    direct_wc "wrapper in checkout B" "$@"
    expect_all_hits "the same command in checkout B" 1
    grep -q "^$P/tools/gcc: warning" "$WC_ERR" ||
        fail "checkout B: the replayed warning does not name checkout B: $(stderr_without_stats "$WC_ERR")"
    direct_against_reference "a message naming the checkout" "$@"
}


# ---- issue 12, runner side ------------------------------------------------------------------
# Each case puts one command in a state of the world, runs it with the shared cache, and compares
# how it ends with the same command run in the same state with an empty cache (SPEC §4's
# reference): exit status, stdout, stderr (without the stats line), and for every file in $WATCH
# its kind, mode and bytes. Most run the command directly (`wafcache CMD`: the runner itself);
# the make cases use against_reference. Expected counts are those of the cached run.
#   ar_update          ar r into an existing archive: the archive is an input (miss, then hit),
#                      the recording made without it never serves it (class 1)
#   ar_quick_append    ar q onto an existing archive (class 1)
#   ld_r_existing      ld -r over a stale output: ld replaces it, so the recording still hits
#   dotdot_symlink     -Iinc with inc a link, "../common.h" from there: the real one is an input
#   outdir_missing     -o obj/x.o with obj/ gone: fails as gcc does (class 4a)
#   depfile_symlink    -MF through a symbolic link: not cached, the link's target updated (4b)
#   tmp_output         -MF into /tmp outside the tree: not cached rather than served without it
#   umask_077          make under umask 077: same bytes and modes as the reference (4d)
#   timestamp_touch    __TIMESTAMP__, SOURCE_DATE_EPOCH set: never cached (class 6)
#   time_in_args       -DSTAMP=__TIME__ / __DATE__ on the command line count as file contents
#   pch_time           a .gch whose header defines STAMP as __TIME__: no stale hit (class 6)
#   procsub_include    -include <(...) from bash: ran for real each time (class 3)
#   fifo_include       -include of a FIFO: ran for real each time (class 3)
#   stdin_include      -include /dev/stdin: ran for real each time (class 3)

# state_of FILE...: one line each: absent, a directory, a symbolic link and its target, or a
# regular file with its mode and checksum.
state_of() {
    local _f
    for _f in "$@"; do
        if [ -L "$_f" ]; then
            echo "$_f: link to $(readlink "$_f")"
        elif [ -d "$_f" ]; then
            echo "$_f: directory $(stat -c %a "$_f")"
        elif [ -f "$_f" ]; then
            echo "$_f: file $(stat -c %a "$_f") $(cksum < "$_f")"
        else
            echo "$_f: absent"
        fi
    done
}

# capture FILE: how the last wc_run ended.
capture() {
    {
        echo "exit status $WC_STATUS"
        echo "-- stdout"
        cat "$WC_OUT"
        echo "-- stderr"
        stderr_without_stats "$WC_ERR"
        echo "-- files"
        state_of $WATCH
    } > "$1"
}

# in_state PREP: the case's directory $D (the same path every time: messages name it), empty,
# then set up by the function PREP; cd into it.
in_state() {
    D=$T/cases/$CASE/d
    cd "$T"
    rm -rf "$D"
    mkdir -p "$D"
    cd "$D"
    WAFCACHE_BASEDIR=$D
    export WAFCACHE_BASEDIR
    "$1"
}

# log_stats FROM: STAT_* from the debug log's lines after line FROM (a runner called directly
# is no build: it prints no stats line).
log_stats() {
    local _new
    _new=$T/log.new
    tail -n +"$(($1 + 1))" "$WAFCACHE_LOG" > "$_new"
    STAT_HITS=$(grep -c ' hit key1=' "$_new" || true)
    STAT_REQ=$((STAT_HITS + $(grep -c ' miss key1=' "$_new" || true)))
    STAT_WRITES=$(grep -c ' result=[0-9a-f]*: stored (' "$_new" || true)
    STAT_RATIO=$(awk -v h="$STAT_HITS" -v r="$STAT_REQ" 'BEGIN { printf "%.2f", r ? h * 100 / r : 0 }')
    STAT_LINE="(from the log: $STAT_REQ requests, $STAT_HITS hits, $STAT_WRITES writes)"
}

# run_cmd CMD...: `wafcache CMD` (the runner itself), or CMD under the library when it is a
# shell; standard input from $STDIN_FROM.
run_cmd() {
    local _from
    touch "$WAFCACHE_LOG"
    _from=$(wc -l < "$WAFCACHE_LOG")
    if [ "$1" = bash ]; then
        wc_run "$@" < "${STDIN_FROM:-/dev/null}"
    else
        WC_LAUNCH=cli
        wc_run "$@" < "${STDIN_FROM:-/dev/null}"
        WC_LAUNCH=preload
    fi
    log_stats "$_from"
}

# direct PREP CMD...: in the state PREP makes, CMD with the shared cache.
direct() {
    local _prep
    _prep=$1
    shift
    in_state "$_prep"
    WAFCACHE=$SHARED
    run_cmd "$@"
}

# direct_vs_reference DESC PREP CMD...: direct, then the same with an empty cache in the same
# state: both must end the same. STAT_* are left as the cached run's.
direct_vs_reference() {
    local _d _prep _req _hits _writes _line _ratio
    _d=$1
    _prep=$2
    shift
    direct "$@"
    capture "$T/direct.got"
    need_stats "$_d"
    _req=$STAT_REQ _hits=$STAT_HITS _writes=$STAT_WRITES _line=$STAT_LINE _ratio=$STAT_RATIO
    shift
    REFN=$((REFN + 1))
    in_state "$_prep"
    WAFCACHE=$T/refcache.$REFN
    rm -rf "$WAFCACHE"
    run_cmd "$@"
    capture "$T/direct.ref"
    rm -rf "$WAFCACHE"
    WAFCACHE=$SHARED
    if ! cmp -s "$T/direct.got" "$T/direct.ref"; then
        diff "$T/direct.ref" "$T/direct.got" | head -n 30 >&2
        fail "$_d: the cached run ended differently from the empty-cache reference (< reference, > cached)"
    fi
    STAT_REQ=$_req STAT_HITS=$_hits STAT_WRITES=$_writes STAT_LINE=$_line STAT_RATIO=$_ratio
}

# Two objects, made without wafcache (gcc's output depends only on source and flags).
prep_objects() {
    printf 'int a(void) { return 1; }\n' > a.c
    printf 'int b(void) { return 2; }\n' > b.c
    gcc -c a.c b.c
}

prep_ar_existing() {
    prep_objects
    ar r lib.a b.o 2>/dev/null
}

case_ar_update() {
    CASE=ar_update
    WATCH="lib.a"
    # `ar r` (no c) says "creating lib.a" when the archive is absent: replayed only then.
    direct_vs_reference "ar r, archive absent" prep_objects ar r lib.a a.o
    expect_stats 1 0 1 "ar r, archive absent (first run)"
    grep -q "creating lib.a" "$T/direct.got" || fail "ar r, archive absent: no 'creating lib.a' message"
    direct_vs_reference "ar r into an archive holding b.o" prep_ar_existing ar r lib.a a.o
    expect_stats 1 0 1 "ar r into an existing archive (its content is an input: miss, stored)"
    ! grep -q "creating" "$T/direct.got" || fail "ar r into an existing archive: 'creating' replayed"
    direct_vs_reference "ar r into an archive holding b.o, again" prep_ar_existing ar r lib.a a.o
    expect_stats 1 1 0 "ar r into the same existing archive again (must hit)"
    direct_vs_reference "ar r, archive absent, again" prep_objects ar r lib.a a.o
    expect_stats 1 1 0 "ar r, archive absent again (must hit)"
}

prep_ar_quick() {
    prep_objects
    ar q lib.a a.o 2>/dev/null
}

case_ar_quick_append() {
    CASE=ar_quick_append
    WATCH="lib.a"
    direct_vs_reference "ar qc, archive absent" prep_objects ar qc lib.a a.o
    expect_stats 1 0 1 "ar qc, archive absent"
    direct_vs_reference "ar qc onto an archive holding a.o" prep_ar_quick ar qc lib.a a.o
    expect_stats 1 0 1 "ar qc onto an existing archive (miss: two a.o members)"
    direct_vs_reference "ar qc onto an archive holding a.o, again" prep_ar_quick ar qc lib.a a.o
    expect_stats 1 1 0 "ar qc onto the same existing archive again"
}

prep_part_stale() {
    prep_objects
    echo stale > part.o
}

# ld unlinks its output before writing it: a stale one is no input, and the hit rate of
# incremental links must not suffer.
case_ld_r_existing() {
    CASE=ld_r_existing
    WATCH="part.o"
    direct_vs_reference "ld -r, output absent" prep_objects ld -r -o part.o a.o b.o
    expect_stats 1 0 1 "ld -r, output absent"
    direct_vs_reference "ld -r over a stale output" prep_part_stale ld -r -o part.o a.o b.o
    expect_stats 1 1 0 "ld -r over a stale output (ld replaces it: must hit)"
}

# inc -> real/inc; real/inc/h.h includes "../common.h", which the kernel finds in real/, not
# beside inc: the decoy ./common.h is never read.
prep_dotdot() {
    mkdir -p real/inc
    printf '#include "../common.h"\n' > real/inc/h.h
    printf '#define V 1\n' > real/common.h
    printf '#define V 100\n' > common.h
    ln -s real/inc inc
    printf '#include "h.h"\nint v = V;\n' > x.c
}

prep_dotdot_edited() {
    prep_dotdot
    printf '#define V 2\n' > real/common.h
}

prep_dotdot_decoy() {
    prep_dotdot
    printf '#define V 101\n' > common.h
}

case_dotdot_symlink() {
    CASE=dotdot_symlink
    WATCH="x.o"
    direct_vs_reference "include through a link, ../common.h" prep_dotdot gcc -c -Iinc x.c -o x.o
    expect_stats 1 0 1 "include through a link (first run)"
    direct_vs_reference "the real common.h edited" prep_dotdot_edited gcc -c -Iinc x.c -o x.o
    expect_stats 1 0 1 "real/common.h edited (must miss)"
    direct_vs_reference "the decoy common.h edited" prep_dotdot_decoy gcc -c -Iinc x.c -o x.o
    expect_stats 1 1 0 "the unread ./common.h edited (must hit)"
}

prep_x() {
    printf 'int x(void) { return 42; }\n' > x.c
}

prep_x_obj() {
    prep_x
    mkdir obj
}

case_outdir_missing() {
    CASE=outdir_missing
    WATCH="obj obj/x.o"
    direct_vs_reference "-o obj/x.o" prep_x_obj gcc -c x.c -o obj/x.o
    expect_stats 1 0 1 "-o obj/x.o (first run)"
    direct_vs_reference "-o obj/x.o with obj/ missing" prep_x gcc -c x.c -o obj/x.o
    [ "$(sed -n 1p "$T/direct.got")" != "exit status 0" ] ||
        fail "-o obj/x.o with obj/ missing: exit status 0 (gcc fails)"
    expect_stats 1 0 0 "-o obj/x.o with obj/ missing (must run, and fail)"
    direct_vs_reference "-o obj/x.o, obj/ back" prep_x_obj gcc -c x.c -o obj/x.o
    expect_stats 1 1 0 "-o obj/x.o, obj/ there again (must hit)"
}

prep_dep_link() {
    prep_x
    mkdir real
    echo stale > real/x.d
    ln -s real/x.d x.d
}

case_depfile_symlink() {
    CASE=depfile_symlink
    WATCH="x.o x.d real/x.d"
    direct_vs_reference "-MF x.d" prep_x gcc -c x.c -o x.o -MMD -MF x.d
    expect_stats 1 0 1 "-MF x.d (first run)"
    direct_vs_reference "-MF x.d, x.d a link to real/x.d" prep_dep_link gcc -c x.c -o x.o -MMD -MF x.d
    expect_stats 1 0 0 "-MF through a symbolic link (must run, not stored)"
}

prep_x_outside() {
    prep_x
    rm -rf "$T/outside"
    mkdir "$T/outside"
}

case_tmp_output() {
    CASE=tmp_output
    WATCH="x.o $T/outside/x.d"
    direct_vs_reference "-MF in /tmp outside the tree" prep_x_outside gcc -c x.c -o x.o -MMD -MF "$T/outside/x.d"
    expect_stats 1 0 0 "-MF in /tmp outside the tree (not stored)"
    direct_vs_reference "-MF in /tmp outside the tree, again" prep_x_outside gcc -c x.c -o x.o -MMD -MF "$T/outside/x.d"
    expect_stats 1 0 0 "-MF in /tmp outside the tree, again (never served without x.d)"
}

# modes_of: each output's mode, by path.
modes_of() {
    list_outputs . | while read -r _f; do echo "$(stat -c %a "$_f") $_f"; done
}

case_umask_077() {
    fresh_tree umask_077
    prebuild
    umask 077
    clean_cached "under umask 077"
    expect_all_hits "under umask 077 (the inputs are the same)" "$NCMDS"
    modes_of > "$T/umask.got"
    against_reference "umask 077"
    modes_of > "$T/umask.ref"
    if ! cmp -s "$T/umask.got" "$T/umask.ref"; then
        diff "$T/umask.ref" "$T/umask.got" | head -n 10 >&2
        fail "umask 077: the restored outputs' modes differ from the reference's (< reference, > cached)"
    fi
}

prep_ts() {
    printf 'const char *s = __TIMESTAMP__;\n' > x.c
    touch -d '2020-01-02 03:04:05' x.c
}

prep_ts_touched() {
    prep_ts
    touch -d '2021-06-07 08:09:10' x.c
}

case_timestamp_touch() {
    CASE=timestamp_touch
    WATCH="x.o"
    SOURCE_DATE_EPOCH=1000000000
    export SOURCE_DATE_EPOCH
    direct_vs_reference "__TIMESTAMP__" prep_ts gcc -c x.c -o x.o
    expect_stats 1 0 0 "__TIMESTAMP__ with SOURCE_DATE_EPOCH (not stored)"
    direct_vs_reference "__TIMESTAMP__, source touched" prep_ts_touched gcc -c x.c -o x.o
    expect_stats 1 0 0 "__TIMESTAMP__, source touched (must run)"
}

prep_stamp() {
    printf 'const char *s = STAMP;\n' > x.c
    touch -d '2020-01-02 03:04:05' x.c
}

case_time_in_args() {
    CASE=time_in_args
    WATCH="x.o"
    direct prep_stamp gcc -c x.c -o x.o -DSTAMP=__TIME__
    expect_stats 1 0 0 "-DSTAMP=__TIME__ without SOURCE_DATE_EPOCH (not stored)"
    direct prep_stamp gcc -c x.c -o x.o -DSTAMP=__TIME__
    expect_stats 1 0 0 "-DSTAMP=__TIME__ without SOURCE_DATE_EPOCH, again (must run)"
    direct_vs_reference "-DSTAMP=__DATE__" prep_stamp gcc -c x.c -o x.o -DSTAMP=__DATE__
    expect_stats 1 0 1 "-DSTAMP=__DATE__ (stored, today's date in the key)"
    direct_vs_reference "-DSTAMP=__DATE__, again" prep_stamp gcc -c x.c -o x.o -DSTAMP=__DATE__
    expect_stats 1 1 0 "-DSTAMP=__DATE__ the same day"
    direct_vs_reference "-DSTAMP=__TIMESTAMP__" prep_stamp gcc -c x.c -o x.o -DSTAMP=__TIMESTAMP__
    expect_stats 1 0 0 "-DSTAMP=__TIMESTAMP__ (never stored)"
    SOURCE_DATE_EPOCH=1000000000
    export SOURCE_DATE_EPOCH
    direct_vs_reference "-DSTAMP=__TIME__ with SOURCE_DATE_EPOCH" prep_stamp gcc -c x.c -o x.o -DSTAMP=__TIME__
    expect_stats 1 0 1 "-DSTAMP=__TIME__ with SOURCE_DATE_EPOCH (stored)"
    direct_vs_reference "-DSTAMP=__TIME__ with SOURCE_DATE_EPOCH, again" prep_stamp gcc -c x.c -o x.o -DSTAMP=__TIME__
    expect_stats 1 1 0 "-DSTAMP=__TIME__ with the same SOURCE_DATE_EPOCH"
}

# A precompiled header whose header defines STAMP as __TIME__, made once without wafcache (two
# builds of one .gch differ in their bytes).
prep_pch() {
    printf '#define STAMP __TIME__\n' > h.h
    [ -f "$T/h.h.gch" ] || gcc -x c-header h.h -o "$T/h.h.gch"
    cp "$T/h.h.gch" h.h.gch
    printf '#include "h.h"\nconst char *s = STAMP;\n' > x.c
}

case_pch_time() {
    CASE=pch_time
    WATCH="x.o"
    direct prep_pch gcc -c x.c -o x.o -Winvalid-pch
    expect_stats 1 0 0 "a .gch defining STAMP as __TIME__, without SOURCE_DATE_EPOCH (not stored)"
    grep -q 'h\.h\.gch' "$WAFCACHE_LOG" || fail "pch_time: the compile did not use h.h.gch (nothing in the log names it)"
    direct prep_pch gcc -c x.c -o x.o -Winvalid-pch
    expect_stats 1 0 0 "the same, again (must run: no stale __TIME__)"
    SOURCE_DATE_EPOCH=1000000000
    export SOURCE_DATE_EPOCH
    direct_vs_reference "a .gch with SOURCE_DATE_EPOCH" prep_pch gcc -c x.c -o x.o -Winvalid-pch
    expect_stats 1 0 1 "a .gch with SOURCE_DATE_EPOCH (stored)"
    direct_vs_reference "a .gch with SOURCE_DATE_EPOCH, again" prep_pch gcc -c x.c -o x.o -Winvalid-pch
    expect_stats 1 1 0 "a .gch with the same SOURCE_DATE_EPOCH"
}

prep_v() {
    printf 'int v = V;\n' > x.c
}

case_procsub_include() {
    CASE=procsub_include
    WATCH="x.o"
    need_tools bash
    direct_vs_reference "-include <(echo V 1)" prep_v bash -c 'gcc -c x.c -o x.o -include <(echo "#define V 1")'
    expect_stats 1 0 0 "-include <(...) (not stored)"
    direct_vs_reference "-include <(echo V 2)" prep_v bash -c 'gcc -c x.c -o x.o -include <(echo "#define V 2")'
    expect_stats 1 0 0 "-include <(...) with another content (must run)"
}

prep_fifo() {
    prep_v
    mkfifo v.h
    # The writer waits for gcc to open the FIFO; bounded, and holding none of our output.
    timeout 60 sh -c 'printf "#define V %s\n" "$0" > v.h' "$FIFO_V" </dev/null >/dev/null 2>&1 &
}

case_fifo_include() {
    CASE=fifo_include
    WATCH="x.o"
    FIFO_V=1
    direct_vs_reference "-include a FIFO" prep_fifo gcc -c x.c -o x.o -include v.h
    expect_stats 1 0 0 "-include a FIFO (not stored)"
    FIFO_V=2
    direct_vs_reference "-include a FIFO, another content" prep_fifo gcc -c x.c -o x.o -include v.h
    expect_stats 1 0 0 "-include a FIFO with another content (must run)"
}

case_stdin_include() {
    CASE=stdin_include
    WATCH="x.o"
    printf '#define V 1\n' > "$T/v1.h"
    printf '#define V 2\n' > "$T/v2.h"
    STDIN_FROM=$T/v1.h
    direct_vs_reference "-include /dev/stdin" prep_v gcc -c x.c -o x.o -include /dev/stdin
    expect_stats 1 0 0 "-include /dev/stdin (not stored)"
    STDIN_FROM=$T/v2.h
    direct_vs_reference "-include /dev/stdin, another content" prep_v gcc -c x.c -o x.o -include /dev/stdin
    expect_stats 1 0 0 "-include /dev/stdin with another content (must run)"
}

# ---- issue 15: generators -------------------------------------------------------------------
# Each through the runner (`wafcache CMD`), against the same command with an empty cache:
#   gen_bison_input    bison -d: miss, hit, the grammar changes -> miss (new outputs)
#   gen_flex_input     flex -o: the same with the scanner
#   gen_gperf_stdin    gperf reading its keywords from stdin: never stored (two contents run
#                      for real); from a file (which gperf freopen()s onto stdin): stored, hit
#   gen_strip_inplace  strip a.o in place: miss, hit; on an already stripped a.o -> miss
#   gen_objcopy        objcopy --strip-debug in place, and -O binary into another file

prep_grammar() {
    printf '%%token NUM\n%%%%\ninput: %%empty | input NUM { n += %s; } ;\n%%%%\nint n;\n' "$GV" > p.y
}

# edit_cycle DESC PREP CMD...: the input PREP writes from $GV: 1, a miss then a hit; 2, a miss.
edit_cycle() {
    local _d
    _d=$1
    shift
    GV=1
    direct_vs_reference "$_d" "$@"
    expect_stats 1 0 1 "$_d, first run"
    direct_vs_reference "$_d again" "$@"
    expect_stats 1 1 0 "$_d, the same input (must hit)"
    GV=2
    direct_vs_reference "$_d, input changed" "$@"
    expect_stats 1 0 1 "$_d, the input changed (must miss)"
}

case_gen_bison_input() {
    CASE=gen_bison_input
    WATCH="p.tab.c p.tab.h"
    need_tools bison
    edit_cycle "bison" prep_grammar bison -d -o p.tab.c p.y
}

prep_scanner() {
    printf '%%option noyywrap\n%%%%\n[0-9]+ { return %s; }\n%%%%\n' "$GV" > s.l
}

case_gen_flex_input() {
    CASE=gen_flex_input
    WATCH="s.c"
    need_tools flex
    edit_cycle "flex" prep_scanner flex -o s.c s.l
}

prep_keywords() {
    printf '%%%%\nalpha\nbeta\n%%%%\n' > k.gperf
}

case_gen_gperf_stdin() {
    CASE=gen_gperf_stdin
    WATCH="k.c"
    need_tools gperf
    printf '%%%%\nalpha\n%%%%\n' > "$T/k1"
    printf '%%%%\ngamma\n%%%%\n' > "$T/k2"
    STDIN_FROM=$T/k1
    direct_vs_reference "gperf from stdin" prep_keywords gperf --output-file=k.c
    expect_stats 1 0 0 "gperf reading stdin (not stored)"
    STDIN_FROM=$T/k2
    direct_vs_reference "gperf from stdin, another content" prep_keywords gperf --output-file=k.c
    expect_stats 1 0 0 "gperf reading another stdin (must run)"
    STDIN_FROM=
    direct_vs_reference "gperf from a file" prep_keywords gperf --output-file=k.c k.gperf
    expect_stats 1 0 1 "gperf from a file (stored)"
    direct_vs_reference "gperf from a file again" prep_keywords gperf --output-file=k.c k.gperf
    expect_stats 1 1 0 "gperf from the same file (must hit)"
}

prep_debug_object() {
    printf 'int a(void) { return 1; }\n' > a.c
    gcc -g -c a.c
}

prep_stripped_object() {
    prep_debug_object
    strip a.o
}

case_gen_strip_inplace() {
    CASE=gen_strip_inplace
    WATCH="a.o"
    direct_vs_reference "strip in place" prep_debug_object strip a.o
    expect_stats 1 0 1 "strip in place, first run"
    direct_vs_reference "strip in place again" prep_debug_object strip a.o
    expect_stats 1 1 0 "strip in place, the same object (must hit)"
    direct_vs_reference "strip a stripped object" prep_stripped_object strip a.o
    expect_stats 1 0 1 "strip in place, an object already stripped (must miss)"
}

case_gen_objcopy() {
    CASE=gen_objcopy
    WATCH="a.o a.bin"
    direct_vs_reference "objcopy in place" prep_debug_object objcopy --strip-debug a.o
    expect_stats 1 0 1 "objcopy in place, first run"
    direct_vs_reference "objcopy in place again" prep_debug_object objcopy --strip-debug a.o
    expect_stats 1 1 0 "objcopy in place, the same object (must hit)"
    direct_vs_reference "objcopy in place, stripped" prep_stripped_object objcopy --strip-debug a.o
    expect_stats 1 0 1 "objcopy in place, another object (must miss)"
    direct_vs_reference "objcopy -O binary" prep_debug_object objcopy -O binary -j .text a.o a.bin
    expect_stats 1 0 1 "objcopy into another file, first run"
    direct_vs_reference "objcopy -O binary again" prep_debug_object objcopy -O binary -j .text a.o a.bin
    expect_stats 1 1 0 "objcopy into another file (must hit)"
}

# ---- issue 15: spurious misses ----------------------------------------------------------------

# dep_env VAR VALUE DESC CMD...: direct_wc with VAR=VALUE in the environment (and the other of
# the two depfile variables unset), unset again afterwards.
dep_env() {
    local _var _val _d
    _var=$1
    _val=$2
    _d=$3
    shift 3
    unset DEPENDENCIES_OUTPUT SUNPRO_DEPENDENCIES
    export "$_var=$_val"
    direct_wc "$_d" "$@"
    unset "$_var"
}

# gcc writes its rules to the file the variable names; the variable's value holds the checkout's
# path. A second checkout must hit, with the .d the real command writes there.
case_depfile_env_checkouts() {
    set -- gcc -O2 -Iinclude -Iinclude2 -c src/c01.c -o obj/c01.o
    for _var in DEPENDENCIES_OUTPUT SUNPRO_DEPENDENCIES; do
        fresh_tree "depfile_env_a_$_var"
        mkdir obj
        dep_env "$_var" "$P/obj/c01.d" "$_var, checkout A" "$@"
        expect_stats 1 0 1 "$_var naming $P/obj/c01.d, checkout A"
        fresh_tree "depfile_env_b_$_var"
        mkdir obj
        dep_env "$_var" "$P/obj/c01.d" "$_var, checkout B" "$@"
        expect_stats 1 1 0 "$_var naming a .d in checkout B"
        [ -s obj/c01.d ] || fail "$_var, checkout B: obj/c01.d not restored"
        export "$_var=$P/obj/c01.d"
        direct_against_reference "$_var at a second checkout" "$@"
        # The target is written into the file: another one must miss.
        export "$_var=$P/obj/c01.d c01-target"
        remove_outputs .
        direct_wc "$_var with a target" "$@"
        expect_stats 1 0 1 "$_var with a target (must miss)"
        grep -q '^c01-target:' obj/c01.d || fail "$_var with a target: obj/c01.d lacks the target"
        direct_against_reference "$_var with a target" "$@"
        unset "$_var"
    done
}

# gcc appends to the file: its old content is an input, and what is restored is what the real
# command leaves there (the old rules and the new).
case_depfile_env_append() {
    set -- gcc -O2 -Iinclude -Iinclude2 -c src/c02.c -o obj/c02.o
    fresh_tree depfile_append_a
    mkdir obj
    printf 'old: rules\n' > deps.mk
    dep_env DEPENDENCIES_OUTPUT "$P/deps.mk" "appending, checkout A" "$@"
    expect_stats 1 0 1 "DEPENDENCIES_OUTPUT appending to deps.mk, checkout A"
    fresh_tree depfile_append_b
    mkdir obj
    printf 'old: rules\n' > deps.mk
    dep_env DEPENDENCIES_OUTPUT "$P/deps.mk" "appending, checkout B" "$@"
    expect_stats 1 1 0 "DEPENDENCIES_OUTPUT appending to the same old rules, checkout B"
    cp deps.mk "$T/got.mk"
    cp obj/c02.o "$T/got.o"
    printf 'old: rules\n' > deps.mk
    rm -f obj/c02.o
    rm -rf "$T/refcache.append"
    WAFCACHE=$T/refcache.append
    DEPENDENCIES_OUTPUT=$P/deps.mk
    export DEPENDENCIES_OUTPUT
    wc_build "appending: reference with an empty cache" "$WC_BIN/wafcache" "$@"
    unset DEPENDENCIES_OUTPUT
    WAFCACHE=$SHARED
    expect_cold "DEPENDENCIES_OUTPUT appending: reference with an empty cache" 1
    cmp -s deps.mk "$T/got.mk" || fail "appending: deps.mk differs from the reference: $(cat "$T/got.mk")"
    cmp -s obj/c02.o "$T/got.o" || fail "appending: obj/c02.o differs from the reference"
    printf 'other: rules\n' > deps.mk
    dep_env DEPENDENCIES_OUTPUT "$P/deps.mk" "appending to other rules" "$@"
    expect_stats 1 0 1 "DEPENDENCIES_OUTPUT appending to other old rules (must miss)"
    grep -q '^other: rules$' deps.mk || fail "appending to other rules: the old rules are gone"
}

# -o and -MF with absolute paths inside the @file: the runner keys the expansion with the base
# dir stripped, so a second checkout hits and gets its outputs in its own tree.
case_rsp_outputs_checkouts() {
    set -- gcc -O2 -Iinclude -Iinclude2 -c src/c03.c @out.rsp
    fresh_tree rsp_outputs_a
    mkdir obj
    printf -- '-o %s/obj/c03.o\n-MD -MF "%s/obj/c03.d"\n' "$P" "$P" > out.rsp
    direct_wc "absolute outputs inside out.rsp, checkout A" "$@"
    expect_cold "absolute outputs inside out.rsp, checkout A" 1
    fresh_tree rsp_outputs_b_elsewhere
    mkdir obj
    printf -- '-o %s/obj/c03.o\n-MD -MF "%s/obj/c03.d"\n' "$P" "$P" > out.rsp
    direct_wc "absolute outputs inside out.rsp, checkout B" "$@"
    expect_all_hits "absolute outputs inside a response file, second checkout" 1
    [ -f obj/c03.o ] && [ -f obj/c03.d ] || fail "second checkout: outputs not restored in $P/obj"
    direct_against_reference "absolute outputs inside a response file, second checkout" "$@"
}


run_case baseline
if [ -n "$failed" ]; then
    echo "FAIL: $WC_TEST: the baseline (cold build, then 100 % hits) failed: the other cases need it" >&2
    exit 1
fi
for c in ${WC_CASES:-header_edit header_shadow header_shadow_settled define_change include_order cpath compiler_swap \
    date_sde response_file lib_relink header_deleted march_native header_touch tree_moved \
    out_of_tree_moved \
    ar_update ar_quick_append ld_r_existing dotdot_symlink outdir_missing \
    depfile_symlink tmp_output umask_077 timestamp_touch time_in_args pch_time procsub_include \
    fifo_include stdin_include \
    rsp_debug_checkouts rsp_outputs rsp_native rsp_too_long plugin_abs stderr_checkout_path \
    depfile_env_checkouts depfile_env_append rsp_outputs_checkouts \
    gen_bison_input gen_flex_input gen_gperf_stdin gen_strip_inplace gen_objcopy}; do
    run_case "$c"
done
finish
