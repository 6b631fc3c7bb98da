# cli.sh -- helpers of the cli_*.sh tests (source it after common.sh and wc_setup; $W is the
# wafcache command, $P the generated project).

# try CMD...: run, keeping stdout, stderr and the exit status in $T/o, $T/e, $rc.
try() {
    rc=0
    "$@" >"$T/o" 2>"$T/e" || rc=$?
}

# jget KEY: one number of `wafcache --json`; fails when it is not there.
jget() {
    "$W" --json >"$T/json" 2>"$T/json.err" || fail "--json failed: $(cat "$T/json.err")"
    sed -n "s/^  \"$1\": \([0-9][0-9]*\),\{0,1\}\$/\1/p" "$T/json" | grep . ||
        fail "--json has no \"$1\": $(cat "$T/json")"
}

# fill_cache: builds the project into the cache (cold), or again from it.
fill_cache() {
    (cd "$P" && make clean >/dev/null && wc_build "fill the cache" make -j2) || fail "fill the cache"
}
