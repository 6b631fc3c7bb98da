#!/bin/sh
# The `wafcache` command line, first version: --version, --help, unknown options, running a
# command with the library preloaded, handing a cached program to the runner, -p.
# Environment: WC_BIN (dir of the wafcache binary), WC_LIB (dir of libwafcache.so).
set -eu

: "${WC_BIN:?WC_BIN must name the directory of the wafcache binary}"
: "${WC_LIB:?WC_LIB must name the directory of libwafcache.so}"
W="$WC_BIN/wafcache"
LIB=$(cd "$WC_LIB" && pwd -P)/libwafcache.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset WAFCACHE_LIBDIR LD_PRELOAD 2>/dev/null || true
export WAFCACHE="$tmp/cache"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Run "$@", keeping stdout, stderr and the exit status in $tmp/out, $tmp/err, $rc.
run() {
    rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

expect_rc() {
    [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1 (stderr: $(cat "$tmp/err"))"
}

# --version
run "$W" --version
expect_rc 0 "--version"
grep -Eqx 'wafcache [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out" || fail "--version printed: $(cat "$tmp/out")"
run "$W" -V
expect_rc 0 "-V"

# --help
run "$W" --help
expect_rc 0 "--help"
grep -q '^Usage: wafcache' "$tmp/out" || fail "--help has no usage line"
grep -q -- '--show-config' "$tmp/out" || fail "--help does not list --show-config"

# Unknown option: one line naming it, a hint, exit 1.
run "$W" -x
expect_rc 1 "unknown option"
[ "$(head -n 1 "$tmp/err")" = "wafcache: unknown option '-x'" ] ||
    fail "unknown option message: $(cat "$tmp/err")"
grep -q -- '--help' "$tmp/err" || fail "no hint to --help"
[ ! -s "$tmp/out" ] || fail "unknown option wrote to stdout"

# No arguments: usage on stderr, exit 1.
run "$W"
expect_rc 1 "no arguments"
grep -q '^Usage: wafcache' "$tmp/err" || fail "no usage on stderr without arguments"

# A command runs, with its exit status passed through.
run "$W" true
expect_rc 0 "wafcache true"
run "$W" false
expect_rc 1 "wafcache false"
run "$W" -- sh -c 'exit 7'
expect_rc 7 "wafcache -- sh -c 'exit 7'"

# The library is preloaded, after what LD_PRELOAD already held, and only once.
run "$W" sh -c 'echo "$LD_PRELOAD"'
expect_rc 0 "LD_PRELOAD shown"
[ "$(cat "$tmp/out")" = "$LIB" ] || fail "LD_PRELOAD is '$(cat "$tmp/out")', expected '$LIB'"

other=$(ldd /bin/sh | awk '/libc\.so/ { print $3 }')
[ -n "$other" ] || fail "cannot find libc for a pre-existing LD_PRELOAD entry"
LD_PRELOAD="$other" run "$W" sh -c 'echo "$LD_PRELOAD"'
expect_rc 0 "LD_PRELOAD kept"
[ "$(cat "$tmp/out")" = "$other:$LIB" ] ||
    fail "LD_PRELOAD is '$(cat "$tmp/out")', expected '$other:$LIB'"

run "$W" sh -c "\"$W\" sh -c 'echo \"\$LD_PRELOAD\"'"
expect_rc 0 "nested wafcache"
[ "$(cat "$tmp/out")" = "$LIB" ] || fail "nested wafcache duplicated: '$(cat "$tmp/out")'"

# A command that does not exist: as a shell would say it.
run "$W" wc-no-such-command-here
expect_rc 127 "missing command"
[ "$(cat "$tmp/err")" = "wafcache: wc-no-such-command-here: command not found" ] ||
    fail "missing command message: $(cat "$tmp/err")"

# A cached program goes to <libdir>/wafcache-run <resolved path> <argv...>.
mkdir "$tmp/lib"
ln -s "$LIB" "$tmp/lib/libwafcache.so"
printf '#!/bin/sh\necho "runner: $*"\n' >"$tmp/lib/wafcache-run"
chmod +x "$tmp/lib/wafcache-run"
mkdir "$tmp/path"
printf '#!/bin/sh\nexit 0\n' >"$tmp/path/gcc"
chmod +x "$tmp/path/gcc"
PATH="$tmp/path:$PATH" WAFCACHE_LIBDIR="$tmp/lib" run "$W" gcc -c x.c
expect_rc 0 "cached program"
[ "$(cat "$tmp/out")" = "runner: $tmp/path/gcc gcc -c x.c" ] ||
    fail "runner called as '$(cat "$tmp/out")'"
PATH="$tmp/path:$PATH" WAFCACHE_LIBDIR="$tmp/lib" WAFCACHE_PROGRAMS=clang run "$W" gcc -c x.c
expect_rc 0 "program not in WAFCACHE_PROGRAMS"
[ ! -s "$tmp/out" ] || fail "gcc went to the runner although WAFCACHE_PROGRAMS=clang"

# -p: every setting with its source.
WAFCACHE_STATS=1 run "$W" -p
expect_rc 0 "-p"
grep -qx "(environment) WAFCACHE = $tmp/cache" "$tmp/out" || fail "-p WAFCACHE: $(cat "$tmp/out")"
grep -qx '(environment) WAFCACHE_STATS = yes' "$tmp/out" || fail "-p WAFCACHE_STATS"
grep -qx '(default) WAFCACHE_EVICT_MAX_BYTES = 10000000000' "$tmp/out" ||
    fail "-p WAFCACHE_EVICT_MAX_BYTES"
[ "$(grep -c '^(\(default\|environment\)) WAFCACHE[A-Z_]* = ' "$tmp/out")" -ge 20 ] ||
    fail "-p lists too few settings"
run "$W" --show-config
expect_rc 0 "--show-config"

# A bad setting: its one line, exit 2.
WAFCACHE=relative/path run "$W" -p
expect_rc 2 "-p with a relative WAFCACHE"
[ "$(cat "$tmp/err")" = 'wafcache: WAFCACHE="relative/path" is not an absolute directory or a URL; cache disabled for this build' ] ||
    fail "bad WAFCACHE message: $(cat "$tmp/err")"
WAFCACHE_EVICT_MAX_BYTES=10G+ run "$W" -p
expect_rc 2 "-p with a bad size"
[ "$(cat "$tmp/err")" = 'wafcache: WAFCACHE_EVICT_MAX_BYTES="10G+" is not a size; cache disabled for this build' ] ||
    fail "bad size message: $(cat "$tmp/err")"

echo "cli_basic: ok"
