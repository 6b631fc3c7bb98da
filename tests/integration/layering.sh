#!/bin/sh
# The layering of ARCHITECTURE.md, checked on the sources: a file includes project headers
# only from its own folder and the folders below it, never from one above it (core/ knows
# nothing of the runner, the interposer knows nothing of stores or hashing), and
# libwafcache.so and libwafcache-observe.so need nothing beyond libc and libdl.
#
#   core/            -> core
#   hashing/         -> core hashing
#   store/           -> core hashing store
#   preload/ (top)   -> core preload        the channel and the session file, shared
#   preload/lib/     -> core preload preload/lib
#   preload/runner/  -> core hashing store preload preload/runner
#   cli/             -> core hashing store preload cli
#
# Environment: WC_SRC (source root), WC_LIB (dir of the two libraries).
set -eu
: "${WC_SRC:?WC_SRC must name the source root}"
cd "$WC_SRC"
bad=0
checked=0

allowed() {
    case "$1" in
    core) echo "core" ;;
    hashing) echo "core hashing" ;;
    store) echo "core hashing store" ;;
    preload) echo "core preload" ;;
    preload/lib) echo "core preload preload/lib" ;;
    preload/runner) echo "core hashing store preload preload/runner" ;;
    cli) echo "core hashing store preload cli" ;;
    *) return 1 ;;
    esac
}

for folder in core hashing store preload preload/lib preload/runner cli; do
    ok=$(allowed "$folder")
    for f in "$folder"/*.c "$folder"/*.h "$folder"/*.def; do
        [ -f "$f" ] || continue
        # Project includes are quoted and name a folder: "core/util.h".
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
            checked=$((checked + 1))
            dir=$(dirname "$inc")
            case " $ok " in
            *" $dir "*) ;;
            *)
                echo "FAIL: $f includes $inc (a $folder/ file may include from: $ok)" >&2
                bad=1
                ;;
            esac
        done
    done
done
[ "$checked" -gt 50 ] || { echo "FAIL: only $checked includes seen: the walk is broken" >&2; exit 1; }

# The two preload libraries run inside every process of the build (the interposer) and of a
# real command (the observer): libc and libdl only (DESIGN.md). Both must be there.
if [ -n "${WC_LIB:-}" ] && command -v readelf >/dev/null; then
    for so in libwafcache.so libwafcache-observe.so; do
        if [ ! -f "$WC_LIB/$so" ]; then
            echo "FAIL: no $WC_LIB/$so" >&2
            bad=1
            continue
        fi
        needed=$(readelf -d "$WC_LIB/$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
        for lib in $needed; do
            case "$lib" in
            libc.so.*|libdl.so.*|ld-linux*) ;;
            *) echo "FAIL: $so needs $lib" >&2; bad=1 ;;
            esac
        done
    done
fi
# The runner starts once per cached command: static-pie, no dynamic loader to run (issue 16);
# its dynamically linked twin, which loads wafcache-remote.so, needs nothing else either.
if [ -n "${WC_LIB:-}" ] && [ -f "$WC_LIB/wafcache-run" ] && command -v readelf >/dev/null; then
    if readelf -l "$WC_LIB/wafcache-run" | grep -q INTERP; then
        echo "FAIL: wafcache-run has a program interpreter: it is not linked static-pie" >&2
        bad=1
    fi
    readelf -h "$WC_LIB/wafcache-run" | grep -q 'DYN' ||
        { echo "FAIL: wafcache-run is not position-independent" >&2; bad=1; }
    [ -x "$WC_LIB/wafcache-run-remote" ] ||
        { echo "FAIL: no wafcache-run-remote beside wafcache-run" >&2; bad=1; }
fi
[ "$bad" = 0 ] || exit 1
echo "layering: $checked includes checked, none upward"
