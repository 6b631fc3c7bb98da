#!/bin/sh
# The preload library is two (issue 16): libwafcache.so, in every process of the build, wraps
# the exec family and the opens (WAFCACHE_HARDLINK's copy-on-write) and nothing else;
# libwafcache-observe.so, which the runner puts in the real command's LD_PRELOAD in place of
# the interposer, observes. So that the split cannot silently regress:
#   exports   the interposer exports no probe, stdin, environment or dlopen wrapper; the
#             observer exports them all
#   observed  a compile through `wafcache` and through LD_PRELOAD runs with the observer and
#             without the interposer (its wrapper prints LD_PRELOAD on stderr), a child
#             started with an empty environment gets the observer back, and its inputs are
#             recorded: an edited header misses, the next run hits
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup preload_split
need_tools gcc nm

LIB=$WC_LIB/libwafcache.so
OBS=$WC_LIB/libwafcache-observe.so

exports() { # library: its defined dynamic symbols, one a line
    nm -D --defined-only "$1" | awk '{ print $NF }'
}

case_exports() {
    [ -f "$OBS" ] || fail "no $OBS"
    exports "$LIB" > lib.syms
    exports "$OBS" > obs.syms
    for s in execve execvp posix_spawn posix_spawnp _exit open openat __open_2 fopen creat; do
        grep -qx "$s" lib.syms || fail "exports: libwafcache.so does not wrap $s"
    done
    for s in stat lstat __xstat statx access faccessat getenv secure_getenv setlocale dlopen \
        read fread getc realpath opendir readlink rename unlink; do
        if grep -qx "$s" lib.syms; then
            fail "exports: libwafcache.so wraps $s (an observe wrapper in every build process)"
        fi
        grep -qx "$s" obs.syms || fail "exports: libwafcache-observe.so does not wrap $s"
    done
}

# A compiler wrapper that says which libraries its process has, and which one a child started
# with an empty environment has, then compiles.
make_wrapper() {
    cat > cc-split <<'SH'
#!/bin/sh
echo "preload=$LD_PRELOAD" >&2
env -i /bin/sh -c 'echo "child=$LD_PRELOAD" >&2'
exec gcc "$@"
SH
    chmod +x cc-split
    printf '#define V 1\n' > v.h
    printf '#include "v.h"\nint v = V;\n' > x.c
}

# run DESC LAUNCH: one compile started by a shell under the library, the runner's log line
# for it into $LINE.
run() {
    local _n=0
    [ ! -f "$WAFCACHE_LOG" ] || _n=$(wc -l < "$WAFCACHE_LOG")
    WAFCACHE_PROGRAMS=cc-split WC_LAUNCH=$2 wc_build "$1" sh -c './cc-split -c x.c -o x.o'
    LINE=$(tail -n +$((_n + 1)) "$WAFCACHE_LOG")
}

check_preloads() { # desc: on a miss, the wrapper's lines in the captured stderr
    grep -q "^preload=.*/libwafcache-observe\.so" "$WC_ERR" || fail "$1: not observed: $(cat "$WC_ERR")"
    if grep -q "^preload=\(.*[:/ ]\)\?libwafcache\.so" "$WC_ERR"; then
        fail "$1: the real command has the interposer: $(grep '^preload=' "$WC_ERR")"
    fi
    grep -q "^child=.*/libwafcache-observe\.so" "$WC_ERR" ||
        fail "$1: an empty environment lost the observer: $(grep '^child=' "$WC_ERR")"
}

observed_case() { # launch (cli or preload)
    mkdir -p "$1" && cd "$1"
    make_wrapper
    run "$1: cold" "$1"
    echo "$LINE" | grep -q ' miss key1=.*: stored' || fail "$1: cold: not a stored miss: $LINE"
    check_preloads "$1: cold"
    run "$1: warm" "$1"
    echo "$LINE" | grep -q ' hit key1=' || fail "$1: warm: not a hit: $LINE"
    printf '#define V 2\n' > v.h
    run "$1: header edited" "$1"
    echo "$LINE" | grep -q ' miss key1=' || fail "$1: the edited header was not an input: $LINE"
    nm x.o > /dev/null || fail "$1: no object"
}

case_observed_cli() {
    cd "$T"
    observed_case cli
}

case_observed_preload() {
    cd "$T"
    observed_case preload
}

cd "$T"
for c in ${WC_CASES:-exports observed_cli observed_preload}; do
    run_case "$c"
done
finish
