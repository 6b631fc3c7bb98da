#!/bin/sh
# Asynchronous uploads (WAFCACHE_ASYNC_WORKERS=4) to a slow seed server (each POST waits):
#   wait         the build's top-level process returns only once every upload is done: right
#                after it, the server holds every entry, and a build elsewhere is 100 % hits
#   nowait       WAFCACHE_ASYNC_NOWAIT: the build returns while uploads still run; they finish
#                on their own, and a build elsewhere is 100 % hits with the right outputs. Under
#                ninja when it is installed: ninja reads each job's output until EOF, so an
#                uploader holding the pipe would hold the build.
#   interrupted  the server dies while uploads run: no entry without all its files is ever
#                visible, and a build elsewhere (same files, new server) has the right outputs
#   sigint       kill -INT of the top-level make while its uploads run: every upload handed to
#                the background still completes, no entry is visible without its outputs, and
#                the next build has the right outputs (hits for every entry uploaded)
#   local        a local directory store (no server): the copies into the cache run in the
#                background too, the build returns once they are done, and every entry is
#                whole: a build elsewhere is 100 % hits with the right outputs
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup remote_async
. "$WC_TESTS/lib/remote_servers.sh"
need_tools make gcc g++ ar
WAFCACHE_TIMEOUT=2
WAFCACHE_ASYNC_WORKERS=4
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
    # A slot for every command: with all slots busy a runner uploads itself, and on a loaded
    # machine the last command's upload would then be done before the build returns.
    WAFCACHE_ASYNC_WORKERS=32
    export WAFCACHE WAFCACHE_ASYNC_NOWAIT WAFCACHE_ASYNC_WORKERS
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

# Handed-off uploads of the log whose entry is not (yet) on the server.
missing_uploads() {
    local _r _n
    _n=0
    for _r in $(sed -n 's/.* result=\([0-9a-f]*\): staged, upload handed to the background$/\1/p' "$WAFCACHE_LOG"); do
        [ -n "$(find "$SEED_ROOT" -path "*/$_r/meta")" ] || _n=$((_n + 1))
    done
    echo "$_n"
}

case_sigint() {
    remote_scope
    remote_start_seed slow 0.2
    WAFCACHE=$SEED_URL
    export WAFCACHE
    remote_machine a
    remote_project p1
    : >"$WAFCACHE_LOG"
    # A background job of a script starts with SIGINT ignored: make gets it back by default.
    # The compilers read PATH and the locale (the environment is an input): make must get the
    # test's own, not what a python shim (pyenv puts its directories first in PATH) or python's
    # C-locale coercion (LC_CTYPE=C.UTF-8) would hand it, or the build elsewhere, without
    # python, would rightly miss this build's entries.
    PYTHONCOERCECLOCALE=0 python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.environ["LD_PRELOAD"] = sys.argv[1]
os.environ["PATH"] = sys.argv[2]
os.execvp("make", ["make", "-j2"])' "$WC_LIB/libwafcache.so" "$PATH" >"$T/sigint.out" 2>&1 &
    _pid=$!
    _i=0
    until grep -q 'upload handed to the background' "$WAFCACHE_LOG" 2>/dev/null; do
        _i=$((_i + 1))
        [ "$_i" -lt 300 ] || fail "sigint: no upload was handed to the background"
        sleep 0.02
    done
    kill -INT "$_pid"
    _st=0
    wait "$_pid" || _st=$?
    [ "$_st" != 0 ] || fail "sigint: make was not interrupted (it finished the build)"
    _i=0
    while [ "$(missing_uploads)" != 0 ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 200 ] || fail "sigint: $(missing_uploads) handed-off uploads never completed"
        sleep 0.1
    done
    _n=$(grep -c 'upload handed to the background' "$WAFCACHE_LOG")
    note "sigint: $_n uploads handed off before the interrupt, all completed"
    entries_complete "sigint"
    # The interrupted tree, rebuilt as a user would (make deleted what it was building).
    wc_build "sigint: build after the interrupt" make -j2
    expect_program ./prog "sigint: build after the interrupt"
    hits_elsewhere b "sigint: build elsewhere"
}

case_local() {
    WAFCACHE=$T/local-cache
    export WAFCACHE
    remote_machine la
    remote_project p1
    wc_build "async local: cold build" make -j2
    expect_cold "async local: cold build" "$NCMDS"
    _bg=$(grep -c 'uploaded in the background' "$WAFCACHE_LOG" || true)
    note "async local: $_bg of $NCMDS copies ran in the background"
    [ "$_bg" -gt 0 ] || fail "async local: no copy into the cache ran in the background"
    ! ls "$TMPDIR"/wafcache-uploads-* >/dev/null 2>&1 || fail "async local: the slot directory was left behind"
    # Every entry whole once the build has returned (meta is copied last).
    for _m in $(find "$WAFCACHE" -name meta); do
        [ -f "$(dirname "$_m")/0" ] || fail "async local: entry $_m without its output 0"
    done
    hits_elsewhere lb "async local: build elsewhere"
}

for _c in ${WC_CASES:-wait nowait interrupted sigint local}; do
    run_case "$_c"
done
finish
