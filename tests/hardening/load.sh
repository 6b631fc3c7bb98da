#!/bin/sh
# Load: 4 builds of the generated project at once (4 trees, one cache, make -j2 each), with a
# byte limit small enough that trims run during the builds (WAFCACHE_EVICT_INTERVAL_MINUTES=0),
# for several rounds. Every build succeeds, every output equals the plain build's, and
# `wafcache --verify` finds no broken entry afterwards.
# WC_LOAD_ROUNDS (default 3) and WC_LOAD_TREES (default 4) scale it.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup load
need_tools make gcc g++ ar
ROUNDS=${WC_LOAD_ROUNDS:-3}
TREES=${WC_LOAD_TREES:-4}

gen_project "$T/tmpl"
cp -a "$T/tmpl" "$T/plainp"
(cd "$T/plainp" && plain "plain build" make -j2)
snapshot_outputs "$T/plainp" "$T/plain"

# The limit: about a third of what one full build stores, so that every round evicts.
cp -a "$T/tmpl" "$T/sizer"
(cd "$T/sizer" && default_basedir "$PWD" && wc_build "sizing build" make -j2)
full=$(hd_stat bytes)
"$W" -C >/dev/null
WAFCACHE_EVICT_MAX_BYTES=$((full / 3))
WAFCACHE_EVICT_INTERVAL_MINUTES=0
export WAFCACHE_EVICT_MAX_BYTES WAFCACHE_EVICT_INTERVAL_MINUTES
note "one build stores $full bytes; limit $WAFCACHE_EVICT_MAX_BYTES bytes"

i=1
while [ "$i" -le "$TREES" ]; do
    cp -a "$T/tmpl" "$T/p$i"
    i=$((i + 1))
done

builds=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
    i=1
    while [ "$i" -le "$TREES" ]; do
        (cd "$T/p$i" && plain "make clean" make clean)
        (
            cd "$T/p$i"
            default_basedir "$PWD"
            WC_OUT=$T/out.$i
            WC_ERR=$T/err.$i
            wc_run make -j2
            echo "$WC_STATUS" > "$T/status.$i"
        ) &
        i=$((i + 1))
    done
    wait
    i=1
    while [ "$i" -le "$TREES" ]; do
        st=$(cat "$T/status.$i" 2>/dev/null || echo none)
        if [ "$st" != 0 ]; then
            WC_ERR=$T/err.$i
            fail "round $round: build $i exited with $st"
        fi
        parse_stats "$T/err.$i"
        need_stats "round $round, build $i"
        compare_trees "$T/plain" "$T/p$i" "round $round, build $i vs the plain build"
        expect_program "$T/p$i/prog" "round $round, build $i"
        note "round $round, build $i: $STAT_LINE"
        builds=$((builds + 1))
        i=$((i + 1))
    done
    round=$((round + 1))
done

# Trims ran: the cache is near its limit, not holding every round's entries.
sleep 1
size=$(hd_stat bytes)
note "cache size after the rounds: $size bytes (limit $WAFCACHE_EVICT_MAX_BYTES)"
[ "$size" -lt "$full" ] || fail "no trim ran: the cache holds $size bytes, a whole build's $full"
"$W" --verify > "$T/verify.out" || fail "wafcache --verify failed: $(cat "$T/verify.out")"
grep -q '; 0 broken' "$T/verify.out" || fail "wafcache --verify found broken entries: $(cat "$T/verify.out")"
note "$(cat "$T/verify.out")"
grep -q ' 0 results' "$T/verify.out" && fail "no result left in the cache: the limit is too small to test anything"
note "$builds builds under load, all right"
finish
