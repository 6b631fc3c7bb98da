#!/bin/sh
# ccache's -o KEY=VALUE, -k KEY and -d DIR / --dir DIR (issue 18), for every setting
# wafcache.conf can hold; wafcache.conf accepts exactly what the README says; `wafcache -p`
# with a bad setting still prints every setting, the bad one marked with its error.
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cli_config
need_tools make gcc g++ ar
W="$WC_BIN/wafcache"
. "$WC_TESTS/lib/cli.sh"
CONF=$WAFCACHE/wafcache.conf

# The variables of the README's table, and those it says come from the environment only.
README_VARS=$(sed -n 's/^| `\(WAFCACHE[A-Z_]*\)` |.*/\1/p' "$WC_SRC/README.md")
[ "$(echo "$README_VARS" | wc -l)" -gt 15 ] || fail "cannot read the README's variables"
ENV_ONLY=$(sed -n '/can be in the file except/,/environment only/p' "$WC_SRC/README.md" |
    grep -o '`WAFCACHE[A-Z_]*`' | tr -d '`')
[ -n "$ENV_ONLY" ] || fail "cannot read the README's environment-only variables"
env_only() { echo "$ENV_ONLY" | grep -qx "$1"; }

case_conf_accepts_what_the_readme_says() {
    mkdir -p "$WAFCACHE"
    for v in $README_VARS; do
        printf '%s = \n' "$v" >"$CONF"
        try "$W" -p
        if env_only "$v"; then
            [ "$rc" = 2 ] || fail "wafcache.conf accepts $v, which the README says it does not"
            try "$W" -o "$v=x"
            [ "$rc" = 1 ] && grep -q "cannot be in wafcache.conf" "$T/e" || fail "-o $v: exit $rc $(cat "$T/e")"
        else
            [ "$rc" = 0 ] || fail "wafcache.conf refuses $v, which the README lists: $(cat "$T/e")"
            try "$W" -o "$v="
            [ "$rc" = 0 ] || fail "-o $v= refused: $(cat "$T/e")"
            try "$W" -k "$v"
            [ "$rc" = 0 ] || fail "-k $v refused: $(cat "$T/e")"
        fi
    done
    for k in max_size max_files; do
        printf '%s = 1\n' "$k" >"$CONF"
        try "$W" -p
        [ "$rc" = 0 ] || fail "wafcache.conf refuses $k"
    done
    for k in cache_dir WAFCACHE_BOGUS compression; do
        printf '%s = 1\n' "$k" >"$CONF"
        try "$W" -p
        [ "$rc" = 2 ] || fail "wafcache.conf accepts $k, which the README does not list"
    done
    : >"$CONF"
}

case_set_and_get() {
    try "$W" -o max_size=5
    [ "$rc" = 0 ] || fail "-o max_size=5: $(cat "$T/e")"
    [ "$("$W" -k max_size)" = 5000000000 ] || fail "-k max_size: $("$W" -k max_size)"
    [ "$("$W" -k WAFCACHE_EVICT_MAX_BYTES)" = 5000000000 ] || fail "-k WAFCACHE_EVICT_MAX_BYTES"
    try "$W" --set-config=max_files=7
    [ "$rc" = 0 ] && [ "$("$W" --get-config max_files)" = 7 ] || fail "--set-config=max_files=7"
    "$W" -o WAFCACHE_TIMEOUT=2.5 >/dev/null || fail "-o WAFCACHE_TIMEOUT=2.5"
    [ "$("$W" -k WAFCACHE_TIMEOUT)" = 2.5 ] || fail "-k WAFCACHE_TIMEOUT: $("$W" -k WAFCACHE_TIMEOUT)"
    [ "$(WAFCACHE_TIMEOUT=9 "$W" -k WAFCACHE_TIMEOUT)" = 9 ] || fail "-k: the environment does not win"
    cp "$CONF" "$T/conf.before"
    try "$W" -o WAFCACHE_TIMEOUT=abc
    [ "$rc" = 1 ] || fail "-o WAFCACHE_TIMEOUT=abc: exit $rc"
    [ "$(head -n 1 "$T/e")" = 'wafcache: -o: WAFCACHE_TIMEOUT="abc" is not a number of seconds greater than 0' ] ||
        fail "-o bad value: $(cat "$T/e")"
    cmp -s "$CONF" "$T/conf.before" || fail "a bad -o changed wafcache.conf"
    for bad in nonsense =1 bogus_key=1; do
        try "$W" -o "$bad"
        [ "$rc" = 1 ] && [ "$(wc -l <"$T/e")" = 2 ] || fail "-o $bad: exit $rc: $(cat "$T/e")"
    done
    try "$W" -k bogus_key
    [ "$rc" = 1 ] || fail "-k bogus_key: exit $rc"
    : >"$CONF"
}

case_dir_option() {
    try "$W" -d "$T/other" -o max_files=3
    [ "$rc" = 0 ] || fail "-d DIR -o: $(cat "$T/e")"
    grep -qx 'WAFCACHE_TRIM_MAX_FOLDER = 3' "$T/other/wafcache.conf" || fail "-d: wrote elsewhere"
    [ ! -s "$CONF" ] || fail "-d DIR wrote the cache of WAFCACHE"
    [ "$("$W" --dir "$T/other" -k max_files)" = 3 ] || fail "--dir DIR -k"
    [ "$("$W" --dir="$T/other" -k WAFCACHE)" = "$T/other" ] || fail "--dir=DIR"
    [ "$(cd "$T" && "$W" -d other -k WAFCACHE)" = "$T/other" ] || fail "-d with a relative DIR"
    P=$T/p
    gen_project "$P"
    default_basedir "$P"
    (cd "$P" && "$W" -d "$T/other" make -j2 >"$T/o" 2>&1) || fail "-d DIR make: $(cat "$T/o")"
    "$W" -d "$T/other" --json | grep -q '"results": [1-9]' || fail "-d DIR make stored nothing in DIR"
    [ ! -d "$WAFCACHE/stats" ] || fail "-d DIR make used the cache of WAFCACHE"
    try "$W" -d
    [ "$rc" = 1 ] || fail "-d alone: exit $rc"
}

# A bad setting: -p prints every setting all the same, the bad one marked.
case_show_config_with_a_bad_setting() {
    n=$("$W" -p | wc -l)
    try env WAFCACHE_EVICT_MAX_BYTES=10G+ "$W" -p
    [ "$rc" = 2 ] || fail "-p with a bad setting: exit $rc"
    [ "$(wc -l <"$T/o")" = "$n" ] || fail "-p with a bad setting printed $(wc -l <"$T/o") of $n settings"
    grep -qx '(environment) WAFCACHE_EVICT_MAX_BYTES = "10G+" (error: is not a size)' "$T/o" ||
        fail "-p does not mark the bad setting: $(cat "$T/o")"
    [ "$(cat "$T/e")" = 'wafcache: WAFCACHE_EVICT_MAX_BYTES="10G+" is not a size; cache disabled for this build' ] ||
        fail "-p with a bad setting, stderr: $(cat "$T/e")"
    printf 'WAFCACHE_TIMEOUT = 3\nWAFCACHE_UMASK = 9\n' >"$CONF"
    try "$W" -p
    [ "$rc" = 2 ] && [ "$(wc -l <"$T/o")" = "$n" ] || fail "-p with a bad wafcache.conf line"
    grep -q '^(wafcache.conf) WAFCACHE_UMASK = "9" (error: ' "$T/o" || fail "-p: $(cat "$T/o")"
    grep -qx '(wafcache.conf) WAFCACHE_TIMEOUT = 3' "$T/o" || fail "-p lost the good lines: $(cat "$T/o")"
    : >"$CONF"
}

run_case conf_accepts_what_the_readme_says
run_case set_and_get
run_case dir_option
run_case show_config_with_a_bad_setting
finish
