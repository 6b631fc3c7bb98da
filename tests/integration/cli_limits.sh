#!/bin/sh
# Sizes and limits as ccache means them (issue 18): a bare number is gigabytes for -M and
# max_size, suffixes k M G T and Ki Mi Gi Ti, 0 is no limit in every place (-M, -F, wafcache.conf,
# the variables); -F counts results, not manifests; sizes are space used on disk, as du says;
# a cache that does not exist yet is taken alike by -z, -s and -M.
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cli_limits
need_tools make gcc g++ ar stat
W="$WC_BIN/wafcache"
. "$WC_TESTS/lib/cli.sh"
CONF=$WAFCACHE/wafcache.conf

P=$T/p
gen_project "$P"
default_basedir "$P"

case_missing_cache() {
    WAFCACHE=$T/none
    export WAFCACHE
    try "$W" -z
    [ "$rc" = 0 ] || fail "-z on a cache that does not exist yet: exit $rc: $(cat "$T/e")"
    grep -qx 'Statistics zeroed' "$T/o" || fail "-z: $(cat "$T/o")"
    try "$W" -s
    [ "$rc" = 0 ] || fail "-s on a cache that does not exist yet: exit $rc"
    [ ! -e "$T/none" ] || fail "-z or -s created the cache"
    try "$W" -M 5
    [ "$rc" = 0 ] || fail "-M on a cache that does not exist yet: exit $rc: $(cat "$T/e")"
    [ -f "$T/none/wafcache.conf" ] || fail "-M did not create the cache and its wafcache.conf"
}

case_suffixes() {
    for pair in 5:5000000000 1.5:1500000000 5G:5000000000 500M:500000000 64k:64000 \
        2Ki:2048 3Mi:3145728 1Gi:1073741824 1T:1000000000000 1Ti:1099511627776 0:0; do
        try "$W" -M "${pair%%:*}"
        [ "$rc" = 0 ] || fail "-M ${pair%%:*}: exit $rc: $(cat "$T/e")"
        [ "$(jget max_bytes)" = "${pair#*:}" ] || fail "-M ${pair%%:*}: max_bytes $(jget max_bytes)"
    done
    printf 'max_size = 3\n' >"$CONF"
    [ "$(jget max_bytes)" = 3000000000 ] || fail "max_size = 3: $(jget max_bytes), expected 3G"
    printf 'max_size = 0\nmax_files = 0\n' >"$CONF"
    [ "$(jget max_bytes)" = 0 ] || fail "max_size = 0 refused"
    # The original tool's variable counts bytes, as its name says.
    WAFCACHE_EVICT_MAX_BYTES=1000 "$W" --json | grep -qx '  "max_bytes": 1000' ||
        fail "WAFCACHE_EVICT_MAX_BYTES=1000 is not 1000 bytes"
    try "$W" -F 0
    [ "$rc" = 0 ] || fail "-F 0 refused: $(cat "$T/e")"
    : >"$CONF"
}

# 0 is no limit everywhere: no trim, forced or from a build, removes anything.
case_zero_is_no_limit() {
    fill_cache
    entries=$(jget entries)
    [ "$entries" -gt 5 ] || fail "too few entries: $entries"
    "$W" -M 0 >/dev/null && "$W" -F 0 >/dev/null || fail "-M 0 / -F 0 refused"
    "$W" --trim >"$T/o" || fail "--trim with -M 0 -F 0"
    [ "$(jget entries)" = "$entries" ] || fail "--trim with -M 0 -F 0 removed entries: $(cat "$T/o")"
    : >"$CONF"
    WAFCACHE_EVICT_MAX_BYTES=0 WAFCACHE_TRIM_MAX_FOLDER=0 "$W" --trim >/dev/null || fail "--trim (env 0)"
    [ "$(jget entries)" = "$entries" ] || fail "WAFCACHE_EVICT_MAX_BYTES=0 emptied the cache"
    printf 'max_size = 0\nmax_files = 0\n' >"$CONF"
    WAFCACHE_EVICT_INTERVAL_MINUTES=0
    export WAFCACHE_EVICT_INTERVAL_MINUTES
    (cd "$P" && make clean >/dev/null && wc_build "a build with the limits at 0" make -j2 &&
        expect_all_hits "a build with the limits at 0")
    [ "$(jget entries)" = "$entries" ] || fail "a build's trim with max_size = 0 removed entries"
    : >"$CONF"
}

# -F N keeps N results; the manifests are not counted (ccache counts results).
case_max_files_counts_results() {
    fill_cache
    manifests=$(jget manifests)
    [ "$(jget results)" -gt 3 ] && [ "$manifests" -gt 0 ] || fail "need results and manifests"
    "$W" -F 2 >/dev/null || fail "-F 2"
    "$W" --trim >"$T/o" || fail "--trim"
    [ "$(jget results)" = 2 ] || fail "-F 2 kept $(jget results) results: $(cat "$T/o")"
    [ "$(jget manifests)" = "$manifests" ] || fail "-F 2 removed manifests"
    : >"$CONF"
}

# The size shown (and limited) is what du counts: the blocks of every entry's directory and files.
case_disk_usage() {
    fill_cache
    du=0
    for n in $(find "$WAFCACHE"/[0-9a-f][0-9a-f]/ -mindepth 1 -exec stat -c %b {} +); do
        du=$((du + n * 512))
    done
    [ "$(jget bytes)" = "$du" ] || fail "bytes $(jget bytes), du says $du"
    # A limit just under the space used must remove something.
    "$W" -M "$((du - 1))B" >/dev/null || fail "-M ${du}B"
    "$W" --trim >"$T/o" || fail "--trim"
    grep -q "removed [1-9]" "$T/o" || fail "a limit under the space used removed nothing: $(cat "$T/o")"
    : >"$CONF"
}

run_case missing_cache
run_case suffixes
run_case zero_is_no_limit
run_case max_files_counts_results
run_case disk_usage
finish
