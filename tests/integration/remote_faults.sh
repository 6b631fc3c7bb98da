#!/bin/sh
# A remote store that is down, slow or answers garbage: every build succeeds with the right
# outputs, and the store costs about one timeout per command at most (with WAFCACHE_TIMEOUT=1
# and the runner's "store is down" marker, about one per parallel job for the whole build).
#   not_listening   nothing on the port
#   status_500      every request answers 500
#   hang            a server that accepts and never answers
#   truncated       entry files cut short mid-body (the server had the entries)
#   garbage         entry files replaced by other bytes of the same length
#   tier_disk_full  remote hits while the local tier (a 64 KiB tmpfs, filled) cannot take them
#   huge            entry files answered with a 1 GiB Content-Length and a stream of zeros
#   endless         entry files answered with a chunked body that never ends
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup remote_faults
. "$WC_TESTS/lib/remote_servers.sh"
need_tools make gcc g++ ar date
WAFCACHE_TIMEOUT=1
export WAFCACHE_TIMEOUT

now_ms() {
    date +%s%3N
}

# A plain build's time, for the bounds below.
remote_machine base
remote_project base
_t0=$(now_ms)
plain "plain build" make -j2
PLAIN_MS=$(($(now_ms) - _t0))
note "plain build: $PLAIN_MS ms"

# faulty_build DESC EXTRA_MS: a clean build of a fresh copy on a fresh machine must succeed
# with the right outputs within twice the plain build's time plus EXTRA_MS.
faulty_build() {
    local _t0 _ms _limit
    remote_machine "$2"
    remote_project "$2"
    _t0=$(now_ms)
    wc_build "$1" make -j2
    _ms=$(($(now_ms) - _t0))
    _limit=$((2 * PLAIN_MS + $3))
    note "$1: $_ms ms (limit $_limit ms)"
    [ "$_ms" -le "$_limit" ] || fail "$1: the build took $_ms ms, more than $_limit ms"
    expect_program ./prog "$1"
    compare_trees "$T/base" . "$1: outputs vs plain build" objects
    expect_stats "$NCMDS" 0 - "$1"
}

case_not_listening() {
    _port=$(_remote_free_port)
    WAFCACHE=http://127.0.0.1:$_port/cache
    export WAFCACHE
    faulty_build "not listening" nl 4000
    expect_stats - - 0 "not listening"
    # The trail says what happened: a refused connection, then operations not tried; never
    # "Host is down" (the errno of a skipped operation), never "stored" for a push that failed.
    ! grep -q 'Host is down' "$WAFCACHE_LOG" || fail "not listening: 'Host is down' in the log"
    ! grep -q 'miss key1=.*: stored (' "$WAFCACHE_LOG" || fail "not listening: a miss logged as stored"
    grep -q 'not tried' "$WAFCACHE_LOG" || fail "not listening: no operation logged as not tried"
    grep -q 'not stored' "$WAFCACHE_LOG" || fail "not listening: no miss logged as not stored"
}

case_status_500() {
    remote_scope
    remote_start_seed 500
    WAFCACHE=$SEED_URL
    export WAFCACHE
    faulty_build "every request 500" s500 4000
    expect_stats - - 0 "every request 500"
}

case_hang() {
    remote_scope
    remote_start_seed hang
    WAFCACHE=$SEED_URL
    export WAFCACHE
    # About one timeout per parallel job, then the marker: far less than one per command.
    faulty_build "server never answers" hang 5000
    _n=$(grep -c '^wafcache: remote cache unavailable' "$WC_ERR" || true)
    [ "$_n" = 1 ] || fail "server never answers: expected one line about the store, got $_n"
}

# fill_server: a cold build through a good server, whose files the faulty ones then serve.
fill_server() {
    remote_start_seed ok
    FILLED_ROOT=$SEED_ROOT
    WAFCACHE=$SEED_URL
    export WAFCACHE
    remote_machine fill
    remote_project fill
    wc_build "cold build" make -j2
    expect_cold "cold build" "$NCMDS"
    remote_stop "$SEED_PID"
}

case_truncated() {
    remote_scope
    fill_server
    remote_start_seed truncate 1 "$FILLED_ROOT"
    WAFCACHE=$SEED_URL
    faulty_build "truncated bodies" trunc 4000
}

case_garbage() {
    remote_scope
    fill_server
    remote_start_seed garbage 1 "$FILLED_ROOT"
    WAFCACHE=$SEED_URL
    faulty_build "other bytes" garbage 4000
    grep -q 'corrupt' "$WAFCACHE_LOG" || fail "other bytes: no corrupt entry in the log"
}

case_tier_disk_full() {
    remote_scope
    if [ "$(id -u)" != 0 ]; then
        note "SKIP tier_disk_full: mounting a small tmpfs needs root"
        return 0
    fi
    fill_server
    remote_start_seed ok 1 "$FILLED_ROOT"
    WAFCACHE=$SEED_URL
    mkdir -p "$T/full"
    if ! mount -t tmpfs -o size=64k wc-full "$T/full" 2>/dev/null; then
        note "SKIP tier_disk_full: cannot mount a tmpfs here"
        return 0
    fi
    trap 'umount "$T/full" 2>/dev/null || true; remote_stop_all; true' EXIT
    dd if=/dev/zero of="$T/full/filler" bs=4k 2>/dev/null || true
    WAFCACHE_LOCAL=$T/full
    export WAFCACHE_LOCAL
    remote_machine dfull
    WAFCACHE_LOCAL=$T/full # remote_machine unsets it
    export WAFCACHE_LOCAL
    remote_project dfull
    wc_build "remote hits, local tier full" make -j2
    expect_all_hits "remote hits, local tier full" "$NCMDS"
    expect_program ./prog "remote hits, local tier full"
    compare_trees "$T/base" . "remote hits, local tier full: outputs" objects
}

# hostile_body MODE DESC: outputs served as MODE's endless zeros. The download stops at the size
# the entry's metadata declares: the build runs under a file size limit far below what the
# server sends within one timeout (a runner writing past it dies of SIGXFSZ and fails the
# build), and no partial download is left beside the outputs.
hostile_body() {
    remote_scope
    fill_server
    remote_start_seed "$1" 1 "$FILLED_ROOT"
    WAFCACHE=$SEED_URL
    ulimit -f 16384 # 8 or 16 MiB (dash counts 512-byte blocks, bash 1024)
    faulty_build "$2" "$1" 4000
    grep -q 'corrupt' "$WAFCACHE_LOG" || fail "$2: no corrupt entry in the log"
    _left=$(find . -name '*.wctmp.*' | head -n 3)
    [ -z "$_left" ] || fail "$2: partial downloads left behind: $_left"
}

case_huge() {
    hostile_body huge "1 GiB bodies"
}

case_endless() {
    hostile_body endless "endless chunked bodies"
}

# WC_CASES="hang garbage" runs only those (for a developer).
for _c in ${WC_CASES:-not_listening status_500 hang truncated garbage tier_disk_full huge endless}; do
    run_case "$_c"
done
finish
