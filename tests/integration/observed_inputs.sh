#!/bin/sh
# What a command reads is what the kernel gives it (issue 12, classes 2 and 3), end to end
# through `wafcache CMD` with real gcc:
#   dotdot    an include dir reached through a symbolic link, whose header includes
#             "../common.h": the kernel reads the link target's parent's common.h; editing it
#             misses and gives the reference object (a lexical ".." would name ./common.h)
#   procsub   gcc -include <(echo ...): a pipe, never cached (two runs, two real compiles)
#   urandom   a wrapper that reads /dev/urandom: never cached
#   stdin     a wrapper whose child reads standard input: never cached
#   devnull   reading /dev/null is reading a file: cached, and the next run hits
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup observed_inputs
need_tools gcc bash nm

mkdir -p "$T/p"
cd "$T/p"
WAFCACHE_BASEDIR=$T/p
export WAFCACHE_BASEDIR

# one DESC hit|miss|uncached CMD...: CMD through `wafcache CMD`, told by the runner's log line
# (a miss that is not cached says why instead of "stored").
one() {
    local _d _want _n _new
    _d=$1
    _want=$2
    shift 2
    _n=0
    [ ! -f "$WAFCACHE_LOG" ] || _n=$(wc -l < "$WAFCACHE_LOG")
    WC_LAUNCH=cli wc_build "$_d" "$@"
    _new=$(tail -n +$((_n + 1)) "$WAFCACHE_LOG")
    case $_want in
    hit) echo "$_new" | grep -q ' hit key1=' || fail "$_d: expected a hit: $_new" ;;
    miss) echo "$_new" | grep -q ' miss key1=.*: stored' || fail "$_d: expected a stored miss: $_new" ;;
    uncached)
        UNCACHED_WHY=$(echo "$_new" | grep ' miss key1=' | grep -v ': stored' || true)
        [ -n "$UNCACHED_WHY" ] || fail "$_d: expected a miss that is not stored: $_new"
        ;;
    esac
}

case_dotdot() {
    mkdir -p real/inc
    printf '#define COMMON 1\n' > real/common.h
    printf '#define COMMON 99\n' > common.h # what a lexical "inc/../common.h" would name
    printf '#include "../common.h"\n' > real/inc/h.h
    ln -s real/inc inc
    printf '#include "h.h"\nint common_value = COMMON;\n' > x.c
    one "dotdot: cold" miss gcc -Iinc -c x.c -o x.o
    one "dotdot: warm" hit gcc -Iinc -c x.c -o x.o
    printf '#define COMMON 2\n' > real/common.h
    one "dotdot: the real common.h edited" miss gcc -Iinc -c x.c -o x.o
    gcc -Iinc -c x.c -o ref.o
    cmp -s x.o ref.o || fail "dotdot: the object is not the one the real compile gives"
    printf '#define COMMON 98\n' > common.h
    one "dotdot: the lexical namesake edited" hit gcc -Iinc -c x.c -o x.o
}

case_procsub() {
    printf 'int v = X;\n' > v.c
    one "procsub: first" uncached bash -c 'exec gcc -include <(echo "#define X 5") -c v.c -o v.o'
    echo "$UNCACHED_WHY" | grep -q 'not a regular file' || fail "procsub: reason: $UNCACHED_WHY"
    one "procsub: second" uncached bash -c 'exec gcc -include <(echo "#define X 6") -c v.c -o v.o'
    nm v.o > /dev/null || fail "procsub: no object"
}

case_urandom() {
    printf '#!/bin/sh\nhead -c 8 /dev/urandom > /dev/null\nexec gcc "$@"\n' > rnd
    chmod +x rnd
    printf 'int r;\n' > r.c
    WAFCACHE_PROGRAMS=rnd one "urandom: first" uncached ./rnd -c r.c -o r.o
    WAFCACHE_PROGRAMS=rnd one "urandom: second" uncached ./rnd -c r.c -o r.o
}

case_stdin() {
    printf '#!/bin/sh\nsh -c "head -c 1 > /dev/null"\nexec gcc "$@"\n' > rdin
    chmod +x rdin
    printf 'int s;\n' > s.c
    echo data > in.txt
    WAFCACHE_PROGRAMS=rdin one "stdin: first" uncached ./rdin -c s.c -o s.o < in.txt
    echo "$UNCACHED_WHY" | grep -q 'standard input' || fail "stdin: reason: $UNCACHED_WHY"
}

case_devnull() {
    printf '#!/bin/sh\ncat /dev/null\nexec gcc "$@"\n' > nul
    chmod +x nul
    printf 'int n;\n' > n.c
    WAFCACHE_PROGRAMS=nul one "devnull: first" miss ./nul -c n.c -o n.o
    WAFCACHE_PROGRAMS=nul one "devnull: second" hit ./nul -c n.c -o n.o
}

for c in ${WC_CASES:-dotdot procsub urandom stdin devnull}; do
    run_case "$c"
done
finish
