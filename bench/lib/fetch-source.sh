#!/bin/sh
# fetch-source.sh CACHE_DIR PACKAGE... -- download Debian source packages (bookworm) into
# CACHE_DIR/PACKAGE/ with `apt-get source --download-only`, unless a *.orig.tar.* is already
# there. Like tests/integration/lib/get-waf.sh: a private apt configuration (a deb-src line in a
# temp file, its own lists and cache directories), so it neither needs nor touches the
# machine's sources.list; apt checks the Release signature with the machine's Debian keys.
# Prints, one a line, "PACKAGE ORIG_TARBALL" for each package. Exit 77 when it cannot.
set -eu

cache=${1:?usage: fetch-source.sh CACHE_DIR PACKAGE...}
shift
mkdir -p "$cache"

cant() {
    echo "fetch-source.sh: $*" >&2
    exit 77
}

# The orig tarball (not its .asc signature) of source package $1 in the cache, if there.
orig() { ls "$cache/$1"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n 1; }
have() { [ -n "$(orig "$1")" ]; }

packages="$*"
missing=''
for p in $packages; do
    have "$p" || missing="$missing $p"
done

if [ -n "$missing" ]; then
    command -v apt-get >/dev/null 2>&1 || cant "apt-get is not installed"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/wc-bench-apt.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM
    echo 'deb-src http://deb.debian.org/debian bookworm main' > "$tmp/sources.list"
    mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
    set -- -q -o Dir::Etc::SourceList="$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" \
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    if [ "$(id -u)" != 0 ]; then
        set -- "$@" -o Debug::NoLocking=1
    fi
    echo "fetch-source.sh: apt-get update (private sources list)" >&2
    timeout 300 apt-get "$@" update >"$tmp/apt.log" 2>&1 || {
        tail -n 5 "$tmp/apt.log" >&2
        cant "apt-get update failed"
    }
    for p in $missing; do
        echo "fetch-source.sh: apt-get source --download-only $p" >&2
        mkdir -p "$tmp/dl-$p"
        (cd "$tmp/dl-$p" && timeout 600 apt-get "$@" source --download-only "$p") \
            >>"$tmp/apt.log" 2>&1 || {
            tail -n 5 "$tmp/apt.log" >&2
            cant "apt-get source --download-only $p failed"
        }
        ls "$tmp/dl-$p"/*.orig.tar.* >/dev/null 2>&1 || cant "no $p orig tarball was downloaded"
        # Into place atomically: a half-downloaded directory is never taken for a cached one.
        rm -rf "$cache/.$p.new"
        mv "$tmp/dl-$p" "$cache/.$p.new"
        rm -rf "$cache/$p"
        mv "$cache/.$p.new" "$cache/$p"
    done
fi

for p in $packages; do
    have "$p" || cant "$p: no tarball in $cache/$p"
    echo "$p $(orig "$p")"
done
