#!/bin/sh
# get-waf.sh -- print the directory holding a real `waf` script and its `waflib/`, fetching them
# once from Debian's ntpsec source package (which ships waf 2.0 unpacked) when they are not yet
# in the cache directory. Exit 77 (the tests' "skip") when they cannot be had.
#
#   cache dir: $WC_WAF_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/wafcache-tests/waf
#   WC_WAF_TARBALL=/path/ntpsec_*.orig.tar.xz  use this tarball instead of downloading
#
# The download uses a private apt configuration (a deb-src line for bookworm in a temp file, its
# own lists and cache directories), so it neither needs nor touches the machine's sources.list;
# apt verifies the Release signature with the machine's Debian archive keys.
set -eu

if [ -n "${WC_WAF_CACHE:-}" ]; then
    cache=$WC_WAF_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
    cache=$XDG_CACHE_HOME/wafcache-tests/waf
elif [ -n "${HOME:-}" ] && [ "$HOME" != / ]; then
    cache=$HOME/.cache/wafcache-tests/waf
else
    cache=/tmp/wafcache-tests-$(id -u)/waf
fi

if [ -f "$cache/waf" ] && [ -f "$cache/waflib/Context.py" ]; then
    echo "$cache"
    exit 0
fi

cant() {
    echo "get-waf.sh: cannot get waf: $*" >&2
    exit 77
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wc-getwaf.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

tarball=${WC_WAF_TARBALL:-}
if [ -z "$tarball" ]; then
    command -v apt-get >/dev/null 2>&1 || cant "apt-get is not installed (set WC_WAF_TARBALL)"
    echo 'deb-src http://deb.debian.org/debian bookworm main' > "$tmp/sources.list"
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/dl"
    set -- -q -o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" \
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    if [ "$(id -u)" != 0 ]; then
        set -- "$@" -o Debug::NoLocking=1
    fi
    echo "get-waf.sh: fetching the ntpsec source package (for waf) into $cache" >&2
    timeout 300 apt-get "$@" update >"$tmp/apt.log" 2>&1 || {
        tail -n 5 "$tmp/apt.log" >&2
        cant "apt-get update failed"
    }
    (cd "$tmp/dl" && timeout 300 apt-get "$@" source --download-only ntpsec) >>"$tmp/apt.log" 2>&1 || {
        tail -n 5 "$tmp/apt.log" >&2
        cant "apt-get source --download-only ntpsec failed"
    }
    tarball=$(ls "$tmp"/dl/ntpsec_*.orig.tar.* 2>/dev/null | head -n 1)
    [ -n "$tarball" ] || cant "no ntpsec orig tarball was downloaded"
fi
[ -f "$tarball" ] || cant "$tarball: no such file"

mkdir -p "$tmp/x"
# python3's tarfile, not tar: tar needs the xz program for .tar.xz, python3 has lzma built in
# (and python3 is what runs waf anyway).
command -v python3 >/dev/null 2>&1 || cant "python3 is not installed"
python3 - "$tarball" "$tmp/x" <<'EOF2' 2>"$tmp/tar.log" || {
import sys
import tarfile

src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    want = []
    for m in t.getmembers():
        parts = m.name.split("/", 1)
        if len(parts) == 2 and (parts[1] == "waf" or parts[1].startswith("waflib/")):
            want.append(m)
    try:
        t.extractall(dst, members=want, filter="data")
    except TypeError:  # python < 3.8.17 / 3.11.4: no extraction filters
        t.extractall(dst, members=want)
EOF2
    cat "$tmp/tar.log" >&2
    cant "cannot extract waf and waflib/ from $tarball"
}
top=$(ls -d "$tmp"/x/*/ | head -n 1)
[ -f "$top/waf" ] && [ -f "$top/waflib/Context.py" ] || cant "$tarball holds no waf script or waflib/"
mkdir -p "$tmp/new"
cp -p "$top/waf" "$tmp/new/waf"
cp -pR "$top/waflib" "$tmp/new/waflib"

# Put it in place atomically: concurrent fetches each rename their own complete copy.
mkdir -p "$(dirname "$cache")"
stage=$(mktemp -d "$(dirname "$cache")/.waf.XXXXXX")
cp -pR "$tmp/new/." "$stage/"
if ! mv -T "$stage" "$cache" 2>/dev/null; then
    rm -rf "$stage"
    [ -f "$cache/waf" ] || cant "cannot install waf into $cache"
fi
echo "$cache"
