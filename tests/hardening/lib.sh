# lib.sh -- helpers shared by the hardening tests, on top of the integration tests' common.sh
# (source it after setting nothing; it sources common.sh itself).
#
#   . "$WC_HARDENING/lib.sh"
#   hd_setup corrupt             # wc_setup, plus $W (the wafcache command) and a tiny source
#   hd_stat errors               # one counter of `wafcache -s --json`
#   hd_result_dir                # the entry directory of the (only) result in the cache

: "${WC_TESTS:?WC_TESTS is not set (tests/integration)}"
. "$WC_TESTS/lib/common.sh"

hd_setup() {
    wc_setup "hardening.$1"
    need_tools gcc
    W=$WC_BIN/wafcache
    WAFCACHE_EVICT_INTERVAL_MINUTES=1000
    export WAFCACHE_EVICT_INTERVAL_MINUTES
}

# hd_stat NAME: counter NAME from `wafcache -s --json` of the current WAFCACHE.
hd_stat() {
    "$W" -s --json | sed -n "s/^ *\"$1\": *\\([0-9][0-9]*\\),\\{0,1\\}\$/\\1/p"
}

# hd_result_dirs: every result entry directory (one holding "meta") of the cache, one a line.
hd_result_dirs() {
    find "$WAFCACHE" -mindepth 3 -maxdepth 3 -name meta | sed 's,/meta$,,' | sort
}

# hd_text FILE: a manifest's text (stored compressed with zstd, hashing/manifest_store.c;
# a text one, as written before, passes through).
hd_text() {
    zstd -q -dcf "$1"
}

# hd_manifests: every manifest file of the cache.
hd_manifests() {
    find "$WAFCACHE" -mindepth 3 -maxdepth 3 -name manifest | sort
}

# hd_one_result: the only result entry's directory; fails when there is not exactly one.
hd_one_result() {
    local _n
    _n=$(hd_result_dirs | wc -l)
    [ "$_n" = 1 ] || fail "expected one result entry in $WAFCACHE, found $_n"
    hd_result_dirs
}

# hd_no_temps DIR DESC: no temporary file of ours left below DIR.
hd_no_temps() {
    local _left
    _left=$(find "$1" \( -name '*.wctmp.*' -o -name '*.remove.*' \) 2>/dev/null | head -n 5)
    [ -z "$_left" ] || fail "$2: temporary files left behind: $_left"
}

# hd_flip FILE OFFSET: invert the bits of one byte of FILE in place.
hd_flip() {
    python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
with open(p, 'r+b') as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xff]))
PY
}
