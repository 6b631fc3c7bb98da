#!/bin/sh
# A bad setting: one clear line on stderr for the whole build (not one per command), the build
# still succeeds, uncached, with the same outputs; each kind of bad value is tried.
#   WAFCACHE_EVICT_MAX_BYTES=10G+   not a size
#   WAFCACHE=relative/dir          a relative cache path
#   WAFCACHE=ftp://host/x          an unknown scheme
#   WAFCACHE_TRIM_MAX_FOLDER=many  not a number
#   WAFCACHE_BASEDIR=relative/dir  a relative base-dir bound
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup bad_config
need_tools make gcc g++ ar

gen_project "$T/p"
cd "$T/p"
plain "plain build" make -j2
snapshot_outputs . "$T/plain"
plain "make clean" make clean

try_bad() {
    local _var _val _want _n
    _var=$1
    _val=$2
    _want=$3
    note "$_var=$_val"
    (
        export "$_var=$_val"
        wc_run make -j2
        [ "$WC_STATUS" = 0 ] || fail "$_var=$_val: the build failed ($WC_STATUS)"
        _n=$(grep -c '^wafcache: ' "$WC_ERR" || true)
        [ "$_n" = 1 ] || {
            cat "$WC_ERR" >&2
            fail "$_var=$_val: expected exactly one 'wafcache:' line, got $_n"
        }
        grep -q "^wafcache: $_var=\"$_want\" .*; cache disabled for this build\$" "$WC_ERR" ||
            fail "$_var=$_val: the line does not name the variable and value: $(grep '^wafcache: ' "$WC_ERR")"
        [ ! -e "$WAFCACHE" ] || fail "$_var=$_val: the cache was used ($WAFCACHE exists)"
    )
    compare_trees "$T/plain" . "$_var=$_val build vs plain build"
    expect_program ./prog "$_var=$_val build"
    plain "make clean" make clean
}

try_bad WAFCACHE_EVICT_MAX_BYTES 10G+ '10G+'
try_bad WAFCACHE relative/dir 'relative/dir'
try_bad WAFCACHE ftp://host/x 'ftp://host/x'
try_bad WAFCACHE_TRIM_MAX_FOLDER many 'many'
try_bad WAFCACHE_BASEDIR relative/dir 'relative/dir'

note "ok"
