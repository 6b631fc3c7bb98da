#!/bin/sh
# Crashes: kill -9 a whole build (make, runners, compilers) at random short delays, many times
# (WC_KILLS, default 50). After each kill the next build succeeds with the plain build's
# outputs; at the end the temporaries the killed processes left in the cache are swept by the
# trim once old (nothing is left for ever), and `wafcache --verify` finds nothing broken.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup crashes
need_tools make gcc setsid python3
KILLS=${WC_KILLS:-50}

mk_project() {
    mkdir -p "$1"
    for n in 1 2 3 4 5 6; do
        printf '#include "h.h"\nint f%s(int x) { return x * %s + K; }\n' "$n" "$n" > "$1/f$n.c"
    done
    printf '#define K 3\nint f1(int), f2(int), f3(int), f4(int), f5(int), f6(int);\n' > "$1/h.h"
    printf '#include <stdio.h>\n#include "h.h"\nint main(void) { printf("%%d\\n", f1(f2(f3(f4(f5(f6(1))))))); return 0; }\n' > "$1/main.c"
    cat > "$1/Makefile" <<'MK'
OBJS = f1.o f2.o f3.o f4.o f5.o f6.o main.o
prog: libf.a main.o
	gcc -o prog main.o libf.a
libf.a: f1.o f2.o f3.o f4.o f5.o f6.o
	ar rcs libf.a f1.o f2.o f3.o f4.o f5.o f6.o
%.o: %.c h.h
	gcc -O1 -MD -c $< -o $@
clean:
	rm -f $(OBJS) *.d libf.a prog
MK
}

mk_project "$T/ref"
(cd "$T/ref" && plain "plain build" make -j2)
EXPECTED=$(cd "$T/ref" && ./prog)
mk_project "$T/p"
cd "$T/p"
default_basedir "$PWD"

same_as_ref() {
    for f in f1.o f2.o f3.o f4.o f5.o f6.o main.o f1.d main.d prog; do
        cmp -s "$f" "$T/ref/$f" || fail "$1: $f differs from the plain build's"
    done
    expect_program ./prog "$1"
}

# A random delay in [0, 0.6) s: early kills land in the runner's lookup, later ones in the
# compilers, the pushes and the link.
delay() {
    python3 -c 'import random; print("%.3f" % random.uniform(0, 0.6))'
}

k=1
while [ "$k" -le "$KILLS" ]; do
    # Now and then an empty cache, so that kills land in pushes too, not only in hits.
    [ $((k % 4)) != 1 ] || [ ! -d "$WAFCACHE" ] || "$W" -C >/dev/null
    make clean >/dev/null
    setsid sh -c 'LD_PRELOAD="$0"; export LD_PRELOAD; exec make -j2' "$WC_LIB/libwafcache.so" \
        >/dev/null 2>&1 &
    pid=$!
    sleep "$(delay)"
    kill -9 -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # make leaves half-written outputs of a killed compiler behind: clean, as a user would.
    make clean >/dev/null
    wc_build "build after kill $k" make -j2
    same_as_ref "build after kill $k"
    k=$((k + 1))
done
note "$KILLS kills survived"

# What the killed processes left behind. Fresh temporaries are a writer at work for the trim;
# once older than its limit (an hour) they go.
left=$(find "$WAFCACHE" \( -name '*.wctmp.*' -o -name '*.remove.*' -o -name '*.tmp.*' \) | wc -l)
note "$left temporaries left in the cache by the kills"
find "$WAFCACHE" \( -name '*.wctmp.*' -o -name '*.remove.*' -o -name '*.tmp.*' \) \
    -exec touch -h -d '2 hours ago' {} +
"$W" --trim >/dev/null || fail "wafcache --trim failed"
stale=$(find "$WAFCACHE" \( -name '*.wctmp.*' -o -name '*.remove.*' -o -name '*.tmp.*' \) | head -n 5)
[ -z "$stale" ] || fail "old temporaries survive the trim: $stale"
intree=$(find "$T/p" -name '*.wctmp.*' | wc -l)
note "$intree temporaries left beside outputs in the build tree"
"$W" --verify > "$T/verify.out" || fail "wafcache --verify failed: $(cat "$T/verify.out")"
grep -q '; 0 broken' "$T/verify.out" || fail "wafcache --verify found broken entries: $(cat "$T/verify.out")"
finish
