#!/bin/sh
# The cache never stops working silently (issue 18): each problem that makes every command of a
# build fall back or run without storing is said in ONE line for the whole build (not one per
# command, and not only with WAFCACHE_VERBOSITY), under `wafcache make` and in launcher mode
# (make CC="wafcache gcc"); the build itself succeeds with the right program.
#   bucket_command   minio:// without mc installed
#   log_unopenable   WAFCACHE_LOG in a directory that does not exist
#   launcher_config  a bad setting in launcher mode: once per build, not once per compile
#   launcher_stats   WAFCACHE_STATS in launcher mode: one stats line for the build, when make
#                    ends, with every compile counted; none for a compile run from a shell
#   disk_full        the cache on a full file system (a 64 KiB tmpfs; root only)
#   read_only        the cache on a read-only file system (root only)
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cli_quiet
need_tools make gcc g++ ar
unset WAFCACHE_VERBOSITY
P=$T/p
gen_project "$P"
default_basedir "$P"

# built_quietly DESC PATTERN: the build succeeded, the program is right, and stderr holds
# exactly one line matching PATTERN and no other wafcache line but the stats line.
built_quietly() {
    expect_program "$P/prog" "$1"
    _n=$(grep -c -- "$2" "$WC_ERR" || true)
    [ "$_n" = 1 ] || fail "$1: $_n lines match '$2' (want 1): $(cat "$WC_ERR")"
    _other=$(grep '^wafcache' "$WC_ERR" | grep -v -- "$2" | grep -vc '^wafcache stats:' || true)
    [ "$_other" = 0 ] || fail "$1: other wafcache lines: $(cat "$WC_ERR")"
}

clean_build() {
    (cd "$P" && make clean >/dev/null 2>&1) || true
}

case_bucket_command() {
    if command -v mc >/dev/null 2>&1; then
        fail "mc is installed here: this case needs a machine without it"
    fi
    clean_build
    WAFCACHE=minio://alias/bucket/ wc_build "minio without mc" make -C "$P" -j2
    built_quietly "minio without mc" 'wafcache: cannot open the remote cache: mc: not found'
}

case_log_unopenable() {
    clean_build
    WAFCACHE_LOG=$T/no/such/dir/log wc_build "log unopenable" make -C "$P" -j2
    built_quietly "log unopenable" "wafcache: cannot open WAFCACHE_LOG $T/no/such/dir/log"
}

# Launcher mode: no library, every compile is `wafcache gcc ...` run by make (directly, or
# through sh -c: the build is the nearest ancestor that is not a shell).
case_launcher_config() {
    clean_build
    WAFCACHE_TIMEOUT=bad plain "launcher, bad setting" make -C "$P" -j2 CC="$WC_BIN/wafcache gcc" \
        CXX="$WC_BIN/wafcache g++"
    built_quietly "launcher, bad setting" 'WAFCACHE_TIMEOUT="bad"'
    # A second build says it again: once per build, not once for ever.
    clean_build
    WAFCACHE_TIMEOUT=bad plain "launcher, bad setting again" make -C "$P" -j2 \
        CC="$WC_BIN/wafcache gcc" CXX="$WC_BIN/wafcache g++"
    built_quietly "launcher, bad setting, second build" 'WAFCACHE_TIMEOUT="bad"'
}

case_launcher_stats() {
    clean_build
    # Through a pipe: the line is in the output once make and the watcher are both done.
    WAFCACHE=$T/lcache WAFCACHE_STATS=1 make -C "$P" -j2 CC="$WC_BIN/wafcache gcc" CXX="$WC_BIN/wafcache g++" \
        2>&1 >/dev/null | cat >"$T/launch.err"
    expect_program "$P/prog" "launcher stats, cold"
    _lines=$(grep -c '^wafcache stats:' "$T/launch.err" || true)
    [ "$_lines" = 1 ] || fail "launcher stats, cold: $_lines stats lines: $(cat "$T/launch.err")"
    parse_stats "$T/launch.err"
    [ "$STAT_REQ" -gt 0 ] && [ "$STAT_WRITES" = "$STAT_REQ" ] ||
        fail "launcher stats, cold: $(cat "$T/launch.err")"
    _cold=$STAT_REQ
    clean_build
    WAFCACHE=$T/lcache WAFCACHE_STATS=1 make -C "$P" -j2 CC="$WC_BIN/wafcache gcc" CXX="$WC_BIN/wafcache g++" \
        2>&1 >/dev/null | cat >"$T/launch.err"
    parse_stats "$T/launch.err"
    [ "$STAT_REQ" = "$_cold" ] && [ "$STAT_HITS" = "$_cold" ] ||
        fail "launcher stats, warm: want $_cold hits: $(cat "$T/launch.err")"
    # ninja reads each job's stderr (a pipe) until EOF: the watcher must not hold it, or the
    # job and the build it waits for would never end. The line goes to ninja's own stderr.
    if command -v ninja >/dev/null 2>&1; then
        mkdir -p "$T/nj"
        for _i in 1 2 3; do echo "int f$_i(void) { return $_i; }" >"$T/nj/f$_i.c"; done
        {
            printf 'rule cc\n  command = %s gcc -c $in -o $out\n' "$WC_BIN/wafcache"
            for _i in 1 2 3; do printf 'build f%s.o: cc f%s.c\n' "$_i" "$_i"; done
        } >"$T/nj/build.ninja"
        _st=0
        (cd "$T/nj" && WAFCACHE=$T/njcache WAFCACHE_STATS=1 timeout 60 ninja) >"$T/nj.out" 2>&1 ||
            _st=$?
        [ "$_st" = 0 ] || fail "launcher stats under ninja: exit $_st (124: the build hung): $(cat "$T/nj.out")"
        # The watcher prints once ninja has exited: give it a moment (a file is no pipe to wait on).
        _i=0
        while ! grep -q '^wafcache stats:' "$T/nj.out" && [ "$_i" -lt 50 ]; do
            sleep 0.1
            _i=$((_i + 1))
        done
        parse_stats "$T/nj.out"
        [ "$STAT_REQ" = 3 ] && [ "$STAT_WRITES" = 3 ] ||
            fail "launcher stats under ninja: $(cat "$T/nj.out")"
    else
        fail "ninja is not installed: CI installs it (tools/setup-deps)"
    fi
    # CMake's Makefiles run make recursively: still one build, one line, every compile in it.
    need_tools cmake
    mkdir -p "$T/cm/src"
    for _i in 1 2 3; do echo "int f$_i(void) { return $_i; }" >"$T/cm/src/f$_i.c"; done
    printf 'cmake_minimum_required(VERSION 3.10)\nproject(p C)\nadd_library(a STATIC src/f1.c src/f2.c)\nadd_library(b STATIC src/f3.c)\n' \
        >"$T/cm/CMakeLists.txt"
    plain "cmake configure" cmake -S "$T/cm" -B "$T/cm/b" -G "Unix Makefiles" \
        -DCMAKE_C_COMPILER_LAUNCHER="$WC_BIN/wafcache"
    WAFCACHE=$T/cmcache WAFCACHE_STATS=1 cmake --build "$T/cm/b" -j2 2>&1 >/dev/null | cat >"$T/cm.err"
    parse_stats "$T/cm.err"
    [ "$STAT_REQ" = 3 ] && [ "$STAT_WRITES" = 3 ] ||
        fail "launcher stats, CMake's recursive make: $STAT_LINE $(cat "$T/cm.err")"
    # A compile run from a shell has no build to wait for: no line, and nothing left waiting.
    _out=$(cd "$P" && WAFCACHE_STATS=1 sh -c "$WC_BIN/wafcache gcc -Iinclude -Iinclude2 -c -o $T/x.o src/c01.c" 2>&1)
    [ -z "$_out" ] || fail "a compile from a shell printed: $_out"
}

# small_fs NAME OPTIONS: a 64 KiB tmpfs at $T/NAME, unmounted at the end of the test.
small_fs() {
    mkdir -p "$T/$1"
    mount -t tmpfs -o "size=64k,$2" "wc-$1" "$T/$1" 2>/dev/null || return 1
    MOUNTS="${MOUNTS:-} $T/$1"
}

cleanup_mounts() {
    for m in ${MOUNTS:-}; do umount "$m" 2>/dev/null || true; done
}
trap cleanup_mounts EXIT

case_disk_full() {
    if [ "$(id -u)" != 0 ] || ! small_fs full mode=0755; then
        note "SKIP disk_full: mounting a small tmpfs needs root"
        return 0
    fi
    mkdir "$T/full/cache"
    head -c 60000 /dev/zero >"$T/full/filler" 2>/dev/null || true
    clean_build
    WAFCACHE=$T/full/cache wc_build "disk full" make -C "$P" -j2
    built_quietly "disk full" 'No space left on device'
}

case_read_only() {
    if [ "$(id -u)" != 0 ] || ! small_fs ro ro; then
        note "SKIP read_only: mounting a read-only tmpfs needs root"
        return 0
    fi
    clean_build
    WAFCACHE=$T/ro/cache wc_build "read-only file system" make -C "$P" -j2
    built_quietly "read-only file system" 'wafcache: cannot open the cache'
}

run_case bucket_command
run_case log_unopenable
run_case launcher_config
run_case launcher_stats
run_case disk_full
run_case read_only
finish
