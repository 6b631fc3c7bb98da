#!/bin/sh
# The maintenance side of the command line: -M / -F and wafcache.conf (resolution order, -p's
# sources, a garbage line), --trim, -C, --verify, bad input (unknown flag, -M banana, -M -1, a
# missing or read-only cache directory), --help / --version, exit codes, and the man page
# (renders without warnings; installed by cmake --install).
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cli_maint
need_tools make gcc g++ ar
W="$WC_BIN/wafcache"
. "$WC_TESTS/lib/cli.sh"
CONF=$WAFCACHE/wafcache.conf

# expect RC FIRST-LINE-OF-STDERR DESC (the line may be '-' to leave it unchecked).
expect() {
    [ "$rc" = "$1" ] || fail "$3: exit $rc, expected $1 (stderr: $(cat "$T/e"))"
    [ "$2" = - ] || [ "$(head -n 1 "$T/e")" = "$2" ] ||
        fail "$3: stderr '$(head -n 1 "$T/e")', expected '$2'"
}

P=$T/p
gen_project "$P"
default_basedir "$P"

case_usage() {
    try "$W" --bogus
    expect 1 "wafcache: unknown option '--bogus'" "unknown flag"
    grep -q -- "--help" "$T/e" || fail "unknown flag: no hint"
    [ ! -s "$T/o" ] || fail "unknown flag wrote to stdout"
    try "$W" -M banana
    expect 1 'wafcache: -M: "banana" is not a size (such as 10G, 500M, 64Ki or 0 for no limit)' "-M banana"
    try "$W" -M -1
    expect 1 'wafcache: -M: "-1" is not a size (such as 10G, 500M, 64Ki or 0 for no limit)' "-M -1"
    try "$W" -M
    expect 1 "wafcache: option '-M' needs a value" "-M alone"
    try "$W" --max-size=banana
    expect 1 'wafcache: --max-size: "banana" is not a size (such as 10G, 500M, 64Ki or 0 for no limit)' \
        "--max-size=banana"
    try "$W" -F 1.5
    expect 1 'wafcache: -F: "1.5" is not a number of entries (0 for no limit)' "-F 1.5"
    try "$W" -M 1G 2G
    expect 1 "wafcache: option '-M' takes one value" "-M 1G 2G"
    try "$W" --trim now
    expect 1 "wafcache: option '--trim' takes no argument" "--trim now"
    [ ! -e "$WAFCACHE" ] || fail "a usage error created the cache directory"
    try "$W" --version
    expect 0 - "--version"
    grep -Eqx 'wafcache [0-9]+\.[0-9]+\.[0-9]+' "$T/o" || fail "--version: $(cat "$T/o")"
    try "$W" --help
    expect 0 - "--help"
    for o in -s --show-stats --json -z --zero-stats -p --show-config -M --max-size -F --max-files \
        --trim -C --clear --verify --explain --help --version; do
        grep -q -- "$o[ ,]" "$T/o" || fail "--help does not list $o"
    done
}

case_missing_dir() {
    WAFCACHE=$T/none
    export WAFCACHE
    for o in --trim -C --verify; do
        try "$W" $o
        expect 2 "wafcache: $T/none: no such cache directory" "$o on a missing cache"
    done
    try "$W" -s
    expect 0 - "-s on a missing cache"
    grep -q '(does not exist yet)' "$T/o" || fail "-s on a missing cache: $(cat "$T/o")"
    [ ! -e "$T/none" ] || fail "a missing cache was created by a read-only action"
    printf x >"$T/file"
    WAFCACHE=$T/file
    try "$W" -C
    expect 2 "wafcache: $T/file: not a directory" "-C on a file"
    WAFCACHE=relative
    try "$W" -s
    expect 2 'wafcache: WAFCACHE="relative" is not an absolute directory or a URL; cache disabled for this build' \
        "-s with a relative WAFCACHE"
}

case_conf() {
    try "$W" -M 5G
    expect 0 - "-M 5G"
    grep -qx 'WAFCACHE_EVICT_MAX_BYTES = 5G' "$CONF" || fail "-M 5G wrote: $(cat "$CONF")"
    "$W" -p >"$T/pout" || fail "-p failed"
    grep -qx '(wafcache.conf) WAFCACHE_EVICT_MAX_BYTES = 5000000000' "$T/pout" || fail "-p: $(cat "$T/pout")"
    grep -qx '(default) WAFCACHE_TRIM_MAX_FOLDER = 1000000' "$T/pout" || fail "-p default"
    grep -qx "(environment) WAFCACHE = $WAFCACHE" "$T/pout" || fail "-p environment"
    WAFCACHE_EVICT_MAX_BYTES=1M "$W" -p >"$T/pout" || fail "-p with the variable set"
    grep -qx '(environment) WAFCACHE_EVICT_MAX_BYTES = 1000000' "$T/pout" || fail "the environment does not win"
    WAFCACHE_EVICT_MAX_BYTES=1M try "$W" -M 3G
    expect 0 "wafcache: note: WAFCACHE_EVICT_MAX_BYTES is set in the environment, which overrides wafcache.conf" \
        "-M with the variable set"
    try "$W" --max-size=2Gi
    expect 0 - "--max-size=2Gi"
    try "$W" -F5000
    expect 0 - "-F5000"
    try "$W" --max-files 7000
    expect 0 - "--max-files 7000"
    [ "$(grep -c . "$CONF")" = 2 ] || fail "wafcache.conf should hold two lines: $(cat "$CONF")"
    [ "$(jget max_bytes)" = $((2 * 1024 * 1024 * 1024)) ] || fail "max_bytes $(jget max_bytes)"
    [ "$(jget max_entries)" = 7000 ] || fail "max_entries $(jget max_entries)"

    note "a garbage line: one clear line, and the cache is bypassed"
    printf '# comment\ngarbage\n' >>"$CONF"
    line=$(grep -n '^garbage' "$CONF" | cut -d: -f1)
    msg="wafcache: $CONF:$line: expected \"NAME = value\", got \"garbage\"; cache disabled for this build"
    try "$W" -p
    expect 2 "$msg" "-p with garbage"
    try "$W" -s
    expect 2 "$msg" "-s with garbage"
    (cd "$P" && try "$W" gcc -c src/c01.c -Iinclude -o c01.o && echo "$rc" >"$T/rc")
    [ "$(cat "$T/rc")" = 0 ] || fail "a compile with a garbage wafcache.conf failed: $(cat "$T/e")"
    [ -s "$P/c01.o" ] || fail "no output with a garbage wafcache.conf"
    grep -qxF "$msg" "$T/e" || fail "the compile did not say why: $(cat "$T/e")"
    [ ! -d "$WAFCACHE/stats" ] || fail "the cache was used in spite of the garbage"
    try "$W" -M 4G
    expect 2 "$msg" "-M with garbage elsewhere still tells it"
    grep -qx 'WAFCACHE_EVICT_MAX_BYTES = 4G' "$CONF" || fail "-M did not write with garbage elsewhere"
    sed -i '/^garbage$/d' "$CONF"
    try "$W" -p
    expect 0 - "-p once the garbage is gone"
    printf 'WAFCACHE_EVICT_MAX_BYTES = lots\n' >>"$CONF"
    try "$W" -p
    expect 2 "wafcache: $CONF:$(grep -c '' "$CONF"): WAFCACHE_EVICT_MAX_BYTES=\"lots\" is not a size; cache disabled for this build" \
        "a bad value in wafcache.conf"
    try "$W" -M 10G
    expect 0 - "-M fixes a bad size line"
    [ "$(grep -c 'WAFCACHE_EVICT_MAX_BYTES' "$CONF")" = 1 ] || fail "-M left two size lines: $(cat "$CONF")"
    printf 'WAFCACHE_EVICT_MAX_BYTES = 10G\nWAFCACHE_TRIM_MAX_FOLDER = 1000000\n' >"$CONF"
}

case_verify() {
    fill_cache
    results=$(jget results)
    [ "$results" -gt 5 ] || fail "too few results to verify: $results"
    try "$W" --verify
    expect 0 - "--verify on a good cache"
    grep -q "^Verified $WAFCACHE: $results results, [0-9]* manifests; 0 broken (removed 0)\$" "$T/o" ||
        fail "--verify summary: $(cat "$T/o")"
    # One byte flipped in one output of one result.
    victim=$(grep -l '^o ' "$WAFCACHE"/*/*/meta | head -n 1)
    entry=$(dirname "$victim")
    key=$(basename "$entry")
    [ -s "$entry/0" ] || fail "no output 0 in $entry"
    b=$(od -An -tu1 -j 100 -N 1 "$entry/0" | tr -d ' ')
    printf "$(printf '\\%03o' $(((b + 1) % 256)))" |
        dd of="$entry/0" bs=1 seek=100 count=1 conv=notrunc 2>/dev/null
    (cd "$WAFCACHE" && find . -path "./*/$key" -prune -o -type f -print | grep -v '^./memo$' |
        sort | xargs sha256sum) >"$T/before"
    try "$W" --verify
    expect 0 - "--verify with a corrupted entry"
    grep -q "^Broken entry $key: output 0 (.*): wrong content hash: removed\$" "$T/o" ||
        fail "--verify did not report $key: $(cat "$T/o")"
    grep -q "; 1 broken (removed 1)\$" "$T/o" || fail "--verify summary: $(cat "$T/o")"
    [ ! -e "$entry" ] || fail "--verify left the broken entry"
    [ "$(jget results)" = $((results - 1)) ] || fail "--verify removed more than the broken entry"
    (cd "$WAFCACHE" && find . -path "./*/$key" -prune -o -type f -print | grep -v '^./memo$' |
        sort | xargs sha256sum) >"$T/after"
    cmp -s "$T/before" "$T/after" || fail "--verify touched good entries: $(diff "$T/before" "$T/after")"
    try "$W" --verify
    grep -q "; 0 broken (removed 0)\$" "$T/o" || fail "second --verify: $(cat "$T/o")"
    # The removed entry is stored again by the next build.
    (cd "$P" && make clean >/dev/null && wc_build "after --verify" make -j2)
    [ "$(jget results)" = "$results" ] || fail "the broken entry was not stored again"
}

case_trim() {
    fill_cache
    [ "$(jget entries)" -gt 10 ] || fail "too few entries to trim"
    try "$W" -F 10
    expect 0 - "-F 10"
    try "$W" --trim
    expect 0 - "--trim"
    grep -q "^Trimmed $WAFCACHE: removed [1-9][0-9]* entries (.*), kept 10 results and [0-9]* manifests (.*)\$" "$T/o" ||
        fail "--trim: $(cat "$T/o")"
    [ "$(jget results)" = 10 ] || fail "--trim kept $(jget results) results"
    # Forced: again at once, whatever the interval.
    try "$W" -F 4
    try "$W" --trim
    expect 0 - "--trim again"
    [ "$(jget results)" = 4 ] || fail "the second --trim kept $(jget results) results"
    try "$W" -F 1000000
}

case_clear() {
    fill_cache
    requests=$(jget requests)
    [ "$(jget entries)" -gt 0 ] || fail "nothing to clear"
    try "$W" -C
    expect 0 - "-C"
    grep -q "^Cleared $WAFCACHE: removed [1-9][0-9]* entries" "$T/o" || fail "-C: $(cat "$T/o")"
    [ "$(jget entries)" = 0 ] || fail "-C left $(jget entries) entries"
    [ "$(jget requests)" = "$requests" ] || fail "-C changed the statistics"
    [ -f "$CONF" ] || fail "-C removed wafcache.conf"
    [ ! -e "$WAFCACHE/memo" ] || fail "-C left the memo"
    [ -z "$(ls "$WAFCACHE" | grep -E '^[0-9a-f]{2}')" ] || fail "-C left buckets: $(ls "$WAFCACHE")"
    try "$W" --clear
    expect 0 - "--clear on an empty cache"
    (cd "$P" && make clean >/dev/null && wc_build "after -C" make -j2 && expect_cold "after -C")
}

# A cache another user cannot write: reads work, writes say why and exit 2, and a build
# through it still succeeds.
case_read_only() {
    if [ "$(id -u)" = 0 ]; then
        command -v runuser >/dev/null 2>&1 || { note "no runuser: skipped"; return 0; }
        as_other() { runuser -u nobody -- env WAFCACHE="$WAFCACHE" WAFCACHE_LOG= "$@"; }
        # nobody may not enter the build tree (a clone in /root): a copy it can run.
        wc_public_product
        W=$PUB_BIN/wafcache
    else
        as_other() { "$@"; }
    fi
    fill_cache
    chmod 755 "$T"
    chmod -R a+rX,go-w "$WAFCACHE"
    [ "$(id -u)" = 0 ] || chmod -R a-w "$WAFCACHE"
    try as_other "$W" -s
    expect 0 - "-s on a read-only cache"
    try as_other "$W" --verify
    expect 0 - "--verify on a read-only cache"
    try as_other "$W" -z
    expect 2 "wafcache: cannot zero the statistics in $WAFCACHE/stats: Permission denied" "-z read-only"
    try as_other "$W" -M 1G
    expect 2 "wafcache: cannot write $CONF: Permission denied" "-M read-only"
    try as_other "$W" -C
    expect 2 - "-C read-only"
    grep -q "^wafcache: cannot clear $WAFCACHE: Permission denied" "$T/e" || fail "-C read-only: $(cat "$T/e")"
    try as_other "$W" --trim
    expect 2 - "--trim read-only"
    [ "$(jget entries)" -gt 0 ] || fail "a read-only action removed entries"
    mkdir "$T/ro"
    cp "$P/src/c01.c" "$P/include/common.h" "$T/ro/"
    chmod 777 "$T/ro"
    try as_other sh -c "cd '$T/ro' && '$W' gcc -c c01.c -o c01.o"
    expect 0 - "a compile through a read-only cache"
    [ -s "$T/ro/c01.o" ] || fail "no output from a compile through a read-only cache"
    chmod -R u+w "$WAFCACHE"
}

case_man_page() {
    need_tools groff
    groff -man -Tutf8 -ww -z "$WC_SRC/doc/wafcache.1" >"$T/groff" 2>&1 || fail "groff failed"
    [ ! -s "$T/groff" ] || fail "groff warns: $(cat "$T/groff")"
    if command -v man >/dev/null 2>&1; then
        MANWIDTH=80 man -l "$WC_SRC/doc/wafcache.1" >"$T/man" 2>"$T/man.err" || fail "man -l failed"
        [ ! -s "$T/man.err" ] || fail "man -l warns: $(cat "$T/man.err")"
        grep -q 'wafcache.conf' "$T/man" || fail "the man page has no wafcache.conf"
    fi
    for v in $(sed -n 's/^| `\(WAFCACHE[A-Z_]*\)` |.*/\1/p' "$WC_SRC/README.md"); do
        grep -x -A1 '\.TP' "$WC_SRC/doc/wafcache.1" | grep -qx "\.B $v" ||
            fail "the man page does not list $v"
    done
    cmake --install "$WC_BIN/.." --prefix "$T/inst" >"$T/install" 2>&1 ||
        fail "cmake --install failed: $(cat "$T/install")"
    [ -f "$T/inst/share/man/man1/wafcache.1" ] || fail "cmake --install did not install the man page"
}

# Every error is one line; a usage error adds the "Try" line.
case_one_line_errors() {
    nl=$(printf 'a\nb')
    for args in "--bogus" "-M|$nl" "-o|x" "-o|WAFCACHE_TIMEOUT=$nl" "-k|nope" "-d" "-F|-1" \
        "--explain" "--trim|x"; do
        # shellcheck disable=SC2086
        (IFS='|' && try "$W" $args && echo "$rc" >"$T/rc")
        [ "$(cat "$T/rc")" = 1 ] || fail "$args: exit $(cat "$T/rc")"
        [ "$(wc -l <"$T/e")" = 2 ] && [ "$(sed -n 2p "$T/e")" = "Try 'wafcache --help' for more information." ] ||
            fail "usage error $args is not one line and the hint: $(cat "$T/e")"
    done
    for bad in "WAFCACHE_TIMEOUT=$nl" WAFCACHE=relative WAFCACHE_UMASK=777; do
        for o in -s -z -p -C --trim --verify; do
            try env "$bad" "$W" $o
            [ "$rc" = 2 ] && [ "$(wc -l <"$T/e")" = 1 ] || fail "$bad $o: exit $rc, stderr: $(cat "$T/e")"
        done
    done
}

run_case usage
run_case one_line_errors
run_case missing_dir
run_case conf
run_case verify
run_case trim
run_case clear
run_case read_only
run_case man_page
finish
