#!/bin/sh
# Remote HTTP stores with real servers started here (bounded, stopped at the end):
#   nginx_put   nginx WebDAV, WAFCACHE_HTTP_METHOD=put: a cold build pushes; a copy of the
#               project elsewhere, on a "machine" with a fresh local state, is 100 % hits
#   seed_post   the seed's POST protocol (lib/seed_http_server.py): the same
#   tier        WAFCACHE_LOCAL in front of the server: remote hits land locally, and the next
#               build hits locally with the server stopped
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup remote_http
. "$WC_TESTS/lib/remote_servers.sh"
need_tools make gcc g++ ar
WAFCACHE_TIMEOUT=2
export WAFCACHE_TIMEOUT

# cold_then_elsewhere URL DESC: a cold build on machine a, then a copy on machine b.
cold_then_elsewhere() {
    WAFCACHE=$1
    export WAFCACHE
    remote_machine a
    remote_project p1
    wc_build "$2: cold build" make -j2
    expect_cold "$2: cold build" "$NCMDS"
    expect_program ./prog "$2: cold build"
    remote_machine b
    remote_project p2
    wc_build "$2: build elsewhere" make -j2
    expect_all_hits "$2: build elsewhere" "$NCMDS"
    expect_program ./prog "$2: build elsewhere"
    compare_trees "$T/p1" "$T/p2" "$2: hits vs cold build" objects
}

case_nginx_put() {
    remote_scope
    remote_start_nginx
    WAFCACHE_HTTP_METHOD=put
    export WAFCACHE_HTTP_METHOD
    cold_then_elsewhere "$NGINX_URL" "nginx PUT"
    [ "$(remote_files "$NGINX_ROOT")" -gt "$NCMDS" ] || fail "nginx holds too few files"
}

case_seed_post() {
    remote_scope
    remote_start_seed ok
    cold_then_elsewhere "$SEED_URL" "seed POST"
}

case_tier() {
    remote_scope
    remote_start_seed ok
    WAFCACHE=$SEED_URL
    export WAFCACHE
    remote_machine a
    remote_project p1
    wc_build "tier: cold build" make -j2
    expect_cold "tier: cold build" "$NCMDS"
    remote_machine b
    WAFCACHE_LOCAL=$T/m-b/local
    export WAFCACHE_LOCAL
    remote_project p2
    wc_build "tier: remote hits" make -j2
    expect_all_hits "tier: remote hits" "$NCMDS"
    _n=$(find "$WAFCACHE_LOCAL" -name meta | wc -l)
    [ "$_n" = "$NCMDS" ] || fail "tier: $_n entries landed locally, expected $NCMDS"
    remote_stop "$SEED_PID"
    remove_outputs .
    wc_build "tier: local hits, server stopped" make -j2
    expect_all_hits "tier: local hits, server stopped" "$NCMDS"
    expect_program ./prog "tier: local hits"
    compare_trees "$T/p1" "$T/p2" "tier: local hits vs cold build" objects
    ! grep -q 'remote cache unavailable' "$WC_ERR" || fail "tier: a local hit asked the stopped server"
}

run_case nginx_put
run_case seed_post
run_case tier
finish
