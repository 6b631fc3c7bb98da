#!/bin/sh
# wafcache -s / --json / -z: the statistics kept in the cache directory, counted right across a
# parallel build (make -j4): requests = hits + misses, and hits = the commands really served
# (the WAFCACHE_VERBOSITY "fetched" lines and the build's WAFCACHE_STATS line agree); the
# uncacheable reasons; zeroing.
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cli_stats
need_tools make gcc g++ ar
W="$WC_BIN/wafcache"
. "$WC_TESTS/lib/cli.sh"

# The counters must add up, whatever the build did.
check_sums() {
    local _r _h _m
    _r=$(jget requests)
    _h=$(jget hits)
    _m=$(jget misses)
    [ "$_r" = $((_h + _m)) ] || fail "$1: requests $_r != hits $_h + misses $_m"
}

# build DESC: make -j4 under the library with one verbose line per cached command; sets
# FETCHED (the commands served) and the STAT_* of the build's own stats line.
build() {
    WAFCACHE_VERBOSITY=1
    export WAFCACHE_VERBOSITY
    wc_build "$1" make -j4
    unset WAFCACHE_VERBOSITY
    FETCHED=$(grep -c '^wafcache: fetched ' "$WC_ERR" || true)
}

P=$T/p
gen_project "$P"
default_basedir "$P"
cd "$P"

# A cache that has never been used: all zeros, and -s still works.
[ "$(jget requests)" = 0 ] || fail "a new cache has requests"
"$W" -s >"$T/s" || fail "-s on a new cache failed"
grep -q '^Cache directory  *'"$WAFCACHE"' (does not exist yet)$' "$T/s" || fail "-s: $(cat "$T/s")"
[ ! -e "$WAFCACHE" ] || fail "-s created the cache directory"

note "cold build, make -j4"
build "cold build"
expect_cold "cold build" "$NCMDS"
[ "$FETCHED" = 0 ] || fail "cold build fetched $FETCHED"
[ "$(jget requests)" = "$NCMDS" ] || fail "cold: requests $(jget requests), expected $NCMDS"
[ "$(jget hits)" = 0 ] || fail "cold: hits $(jget hits)"
[ "$(jget misses)" = "$NCMDS" ] || fail "cold: misses"
[ "$(jget writes)" = "$NCMDS" ] || fail "cold: writes $(jget writes), expected $NCMDS"
[ "$(jget errors)" = 0 ] || fail "cold: errors $(jget errors)"
[ "$(jget bytes_written)" -gt 10000 ] || fail "cold: bytes_written $(jget bytes_written)"
[ "$(jget results)" = "$NCMDS" ] || fail "cold: $(jget results) results in the store"
[ "$(jget bytes)" -gt "$(jget bytes_written)" ] || fail "cold: store bytes below bytes written"
check_sums "cold"

note "warm build, make -j4"
make clean >/dev/null
build "warm build"
expect_all_hits "warm build" "$NCMDS"
[ "$FETCHED" = "$NCMDS" ] || fail "warm build fetched $FETCHED of $NCMDS"
[ "$(jget requests)" = $((2 * NCMDS)) ] || fail "warm: requests $(jget requests)"
[ "$(jget hits)" = "$FETCHED" ] || fail "warm: hits $(jget hits), fetched $FETCHED"
[ "$(jget writes)" = "$NCMDS" ] || fail "warm: a hit was counted as a write"
[ "$(jget time_saved_ns)" -gt 0 ] || fail "warm: no time saved"
check_sums "warm"

note "a header edit: some hits, some misses, in parallel"
echo '/* edited */' >>include2/extra.h
make clean >/dev/null
h0=$(jget hits)
r0=$(jget requests)
build "after a header edit"
expect_some_miss "after a header edit"
[ "$STAT_HITS" -gt 0 ] || fail "after a header edit: no hit at all ($STAT_LINE)"
[ $(($(jget hits) - h0)) = "$FETCHED" ] || fail "edit: hits grew by $(($(jget hits) - h0)), fetched $FETCHED"
[ $(($(jget hits) - h0)) = "$STAT_HITS" ] || fail "edit: hits disagree with '$STAT_LINE'"
[ $(($(jget requests) - r0)) = "$STAT_REQ" ] || fail "edit: requests disagree with '$STAT_LINE'"
check_sums "after a header edit"

note "-s, human readable"
"$W" -s >"$T/s" || fail "-s failed"
grep -q "^Requests  *$(jget requests)\$" "$T/s" || fail "-s Requests: $(cat "$T/s")"
grep -q "^  Hits  *$(jget hits) (" "$T/s" || fail "-s Hits: $(cat "$T/s")"
grep -q "^  Misses  *$(jget misses)\$" "$T/s" || fail "-s Misses"
grep -q "^Entries  *$(jget results) results (and $(jget manifests) manifests)" "$T/s" || fail "-s Entries"
grep -q '^Time saved  *[0-9]' "$T/s" || fail "-s Time saved"
"$W" --show-stats --json >"$T/json2" || fail "--show-stats --json failed"
"$W" -s --json >"$T/json3" || fail "-s --json failed"
cmp -s "$T/json2" "$T/json3" || fail "-s --json and --show-stats --json differ"
if command -v python3 >/dev/null 2>&1; then
    python3 -m json.tool "$T/json2" >/dev/null || fail "--json is not valid JSON: $(cat "$T/json2")"
fi

note "uncacheable commands, by reason"
printf 'int ok(void) { return 1; }\n' >"$P/ok.c"
printf 'int bad(void) { return }\n' >"$P/bad.c"
rc=0
"$W" gcc -c "$P/bad.c" -o "$P/bad.o" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "a broken source compiled"
[ "$(jget uncacheable_failed)" = 1 ] || fail "uncacheable_failed is $(jget uncacheable_failed)"
printf 'int s;\n' | "$W" gcc -x c -c - -o "$P/stdin.o" || fail "compile from stdin failed"
[ "$(jget uncacheable_stdin)" = 1 ] || fail "uncacheable_stdin is $(jget uncacheable_stdin)"
"$W" gcc -fsyntax-only "$P/ok.c" || fail "-fsyntax-only failed"
[ "$(jget uncacheable_no_output)" = 1 ] || fail "uncacheable_no_output is $(jget uncacheable_no_output)"
WAFCACHE_NO_PUSH=1 "$W" gcc -c "$P/ok.c" -o "$P/ok.o" || fail "NO_PUSH compile failed"
[ "$(jget uncacheable_no_push)" = 1 ] || fail "uncacheable_no_push is $(jget uncacheable_no_push)"
[ "$(jget uncacheable)" -ge 4 ] || fail "uncacheable total $(jget uncacheable)"
check_sums "uncacheable"

note "-z"
entries=$(jget entries)
"$W" -z >"$T/z" 2>&1 || fail "-z failed: $(cat "$T/z")"
for k in requests hits misses writes errors uncacheable bytes_written time_saved_ns; do
    [ "$(jget $k)" = 0 ] || fail "-z left $k at $(jget $k)"
done
[ "$(jget zeroed_at)" -gt 0 ] || fail "-z did not record when"
[ "$(jget entries)" = "$entries" ] || fail "-z changed the entries"
"$W" -s | grep -q '^Statistics zeroed  *[0-9]' || fail "-s does not show when it was zeroed"
"$W" --zero-stats >/dev/null || fail "--zero-stats failed"

note "usage errors"
rc=0
"$W" -s extra >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 1 ] || fail "-s extra: exit $rc"
grep -q "^wafcache: option '-s' takes no argument" "$T/err" || fail "-s extra: $(cat "$T/err")"
rc=0
"$W" -z extra >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "-z extra: exit $rc"

finish
