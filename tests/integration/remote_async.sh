#!/bin/sh
# Asynchronous uploads (WAFCACHE_ASYNC_WORKERS=2) to a slow seed server (each POST waits):
#   wait         the build's top-level process returns only once every upload is done: right
#                after it, the server holds every entry, and a build elsewhere is 100 % hits
#   nowait       WAFCACHE_ASYNC_NOWAIT: the build returns while uploads still run; they finish
#                on their own, and a build elsewhere is 100 % hits with the right outputs. Under
#                ninja when it is installed: ninja reads each job's output until EOF, so an
#                uploader holding the pipe would hold the build.
#   interrupted  the server dies while uploads run: no entry without all its files is ever
#                visible, and a build elsewhere (same files, new server) has the right outputs
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup remote_async
. "$WC_TESTS/lib/remote_servers.sh"
need_tools make gcc g++ ar
WAFCACHE_TIMEOUT=2
WAFCACHE_ASYNC_WORKERS=2
export WAFCACHE_TIMEOUT WAFCACHE_ASYNC_WORKERS

# Entries on the seed server: their "meta" files.
entries() {
    find "$SEED_ROOT" -name meta | wc -l
}

# Every entry the server shows has all its outputs (meta is uploaded last).
entries_complete() {
    local _m _d
    for _m in $(find "$SEED_ROOT" -name meta); do
        _d=$(dirname "$_m")
        [ -f "$_d/0" ] || fail "$1: entry $_d is visible without its output 0"
    done
}

# hits_elsewhere MACHINE DESC [TOOL]: a copy built on another machine is 100 % hits.
hits_elsewhere() {
    remote_machine "$1"
    remote_project "$1"
    wc_build "$2" "${3:-make}" -j2
    expect_all_hits "$2" "$NCMDS"
    _out=.
    [ "${3:-make}" != ninja ] || _out=build # build.ninja builds into build/
    expect_program "$_out/prog" "$2"
    compare_trees "$T/p1/$_out" "$_out" "$2: outputs" objects
}

case_wait() {
    remote_scope
    remote_start_seed slow 0.05
    WAFCACHE=$SEED_URL
    export WAFCACHE
    remote_machine a
    remote_project p1
    wc_build "async: cold build" make -j2
    expect_cold "async: cold build" "$NCMDS"
    _n=$(entries)
    [ "$_n" = "$NCMDS" ] || fail "async: the build returned with $_n of $NCMDS entries uploaded"
    _bg=$(grep -c 'uploaded in the background' "$WAFCACHE_LOG" || true)
    note "async: $_bg of $NCMDS uploads ran in the background"
    [ "$_bg" -gt 0 ] || fail "async: no upload ran in the background"
    ! ls "$TMPDIR"/wafcache-uploads-* >/dev/null 2>&1 || fail "async: the slot directory was left behind"
    entries_complete "async"
    hits_elsewhere b "async: build elsewhere"
}

case_nowait() {
    remote_scope
    remote_start_seed slow 0.3
    WAFCACHE=$SEED_URL
    WAFCACHE_ASYNC_NOWAIT=1
    export WAFCACHE WAFCACHE_ASYNC_NOWAIT
    remote_machine a
    remote_project p1
    _tool=make
    ! command -v ninja >/dev/null 2>&1 || _tool=ninja
    wc_build "nowait: cold build ($_tool)" "$_tool" -j2
    expect_cold "nowait: cold build" "$NCMDS"
    _n=$(entries)
    note "nowait: $_n of $NCMDS entries on the server when the build returned"
    [ "$_n" -lt "$NCMDS" ] || fail "nowait: the build waited for its uploads"
    _i=0
    while [ "$(entries)" -lt "$NCMDS" ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 300 ] || fail "nowait: uploads did not finish ($(entries) of $NCMDS)"
        sleep 0.1
    done
    entries_complete "nowait"
    unset WAFCACHE_ASYNC_NOWAIT
    hits_elsewhere b "nowait: build elsewhere" "$_tool"
}

case_interrupted() {
    remote_scope
    remote_start_seed slow 0.3
    WAFCACHE=$SEED_URL
    WAFCACHE_ASYNC_NOWAIT=1
    export WAFCACHE WAFCACHE_ASYNC_NOWAIT
    remote_machine a
    remote_project p1
    wc_build "interrupted: cold build" make -j2
    remote_stop "$SEED_PID"
    _n=$(entries)
    note "interrupted: $_n of $NCMDS entries on the server when it stopped"
    sleep 1 # the uploaders meet the closed port and give up
    entries_complete "interrupted"
    remote_start_seed ok 1 "$SEED_ROOT"
    WAFCACHE=$SEED_URL
    unset WAFCACHE_ASYNC_NOWAIT
    remote_machine b
    remote_project p2
    wc_build "interrupted: build elsewhere" make -j2
    expect_stats "$NCMDS" - - "interrupted: build elsewhere"
    expect_program ./prog "interrupted: build elsewhere"
    compare_trees "$T/p1" . "interrupted: outputs" objects
}

for _c in ${WC_CASES:-wait nowait interrupted}; do
    run_case "$_c"
done
finish
