#!/bin/sh
# Crashes of background uploaders: cold builds against a slow seed server with
# WAFCACHE_ASYNC_WORKERS=2, and kill -9 of their detached uploaders at random points of their
# uploads, until WC_UPLOAD_KILLS (default 20) of them died before finishing (at most four times as
# many builds: under load a kill may come too early or too late). Each time: the build succeeds with the
# right outputs, no entry is visible on the server without its outputs, and the next build (hits
# for what was uploaded whole, misses for the rest) has the same outputs. At the end the
# private stage directories the killed uploaders left ($TMPDIR/wafcache-<uid>/stage-*), and a
# build's slot directory whose top-level was killed, are swept by the next uploader.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup upload_crashes
. "$WC_TESTS/lib/remote_servers.sh"
need_tools make gcc setsid python3 ps
KILLS=${WC_UPLOAD_KILLS:-20}

remote_start_seed slow 0.3
WAFCACHE=$SEED_URL
WAFCACHE_ASYNC_WORKERS=2
WAFCACHE_TIMEOUT=2
export WAFCACHE WAFCACHE_ASYNC_WORKERS WAFCACHE_TIMEOUT
remote_machine m
STAGES=$TMPDIR/wafcache-$(id -u)

# A tiny project (4 commands, 2 outputs each for the compiles): a changed K makes every
# command miss, so every build uploads.
mkdir -p "$T/p"
cd "$T/p"
default_basedir "$PWD"
for n in 1 2; do
    printf '#include "h.h"\nint f%s(int x) { return x * %s + K; }\n' "$n" "$n" >"f$n.c"
done
printf '#include <stdio.h>\n#include "h.h"\nint main(void) { printf("%%d\\n", f1(f2(1))); return 0; }\n' >main.c
cat >Makefile <<'MK'
prog: f1.o f2.o main.o
	gcc -o prog f1.o f2.o main.o
%.o: %.c h.h
	gcc -O1 -MD -c $< -o $@
clean:
	rm -f *.o *.d prog
MK

set_k() {
    printf '#define K %s\nint f1(int), f2(int);\n' "$1" >h.h
    EXPECTED=$(((1 * 2 + $1) * 1 + $1))
}

# Detached uploaders of this test: runner processes leading their own session (a remote
# store's runner is wafcache-run-remote, whose name the kernel cuts to 15 bytes), with
# this test's TMPDIR (other tests may run uploaders of their own at the same time).
uploaders() {
    ps -eo pid=,sid=,comm= | while read -r _p _s _c; do
        case $_c in wafcache-run | wafcache-run-re*) ;; *) continue ;; esac
        [ "$_p" = "$_s" ] || continue
        # (a zombie's environ cannot be read: the redirection fails, quietly)
        { tr '\0' '\n' <"/proc/$_p/environ"; } 2>/dev/null | grep -qxF "TMPDIR=$TMPDIR" &&
            echo "$_p"
    done
}

# Every entry on the server has its outputs ("meta" is uploaded last).
entries_complete() {
    local _m _d
    for _m in $(find "$SEED_ROOT" -name meta); do
        _d=$(dirname "$_m")
        [ -f "$_d/0" ] || fail "$1: entry $_d is visible without its output 0"
    done
}

# Waits (1 s at most) for an uploader, then kills it after a random delay of up to 0.15 s;
# prints its pid.
kill_one_uploader() {
    local _i _p
    _i=0
    while [ "$_i" -lt 100 ]; do
        _p=$(uploaders | head -n 1)
        if [ -n "$_p" ]; then
            sleep "$(python3 -c 'import random; print("%.3f" % random.uniform(0, 0.4))')"
            kill -9 "$_p" 2>/dev/null && echo "$_p"
            return 0
        fi
        sleep 0.01
        _i=$((_i + 1))
    done
    return 1
}

killed=0
k=1
while [ "$killed" -lt "$KILLS" ]; do
    [ "$k" -le $((4 * KILLS)) ] || fail "only $killed uploaders killed mid-upload in $k builds"
    set_k "$k"
    make clean >/dev/null
    setsid sh -c 'LD_PRELOAD="$0"; export LD_PRELOAD; exec make -j2' "$WC_LIB/libwafcache.so" \
        >"$T/killed.out" 2>&1 &
    pid=$!
    victim=$(kill_one_uploader)
    st=0
    wait "$pid" || st=$?
    # A kill counts when it landed before the uploader was done (it had not logged its end;
    # a kill that came too late found a process about to exit).
    if [ -n "$victim" ] && ! grep -q " $victim key1=.*uploaded in the background" "$WAFCACHE_LOG"; then
        killed=$((killed + 1))
    fi
    [ "$st" = 0 ] || fail "kill $k: the build whose uploader was killed exited with $st: $(tail -n 5 "$T/killed.out")"
    [ "$(./prog)" = "$EXPECTED" ] || fail "kill $k: wrong program output"
    rm -rf "$T/saved" && mkdir "$T/saved" && cp -p ./*.o ./*.d prog "$T/saved/"
    entries_complete "kill $k"
    make clean >/dev/null
    wc_build "build after kill $k" make -j2
    [ "$(./prog)" = "$EXPECTED" ] || fail "build after kill $k: wrong program output"
    for f in f1.o f2.o main.o f1.d main.d prog; do
        cmp -s "$f" "$T/saved/$f" || fail "build after kill $k: $f differs from the real build's"
    done
    k=$((k + 1))
done
note "$killed uploaders killed mid-upload in $((k - 1)) builds, every build after them correct"

# What the killed uploaders left: stages no process holds any more. Backdated past the grace
# for a stage being made, and a build's slot directory of a killed top-level, past the hour.
left=$(find "$STAGES" -maxdepth 1 -name 'stage-*' | wc -l)
note "$left stage directories left by killed uploaders (before the sweep)"
find "$STAGES" -maxdepth 1 -name 'stage-*' -exec touch -d '1 minute ago' {} +
mkdir "$TMPDIR/wafcache-uploads-dead1" && : >"$TMPDIR/wafcache-uploads-dead1/slot-0"
touch -d '2 hours ago' "$TMPDIR/wafcache-uploads-dead1"
set_k 1000
make clean >/dev/null
wc_build "sweeping build" make -j2
[ "$(./prog)" = "$EXPECTED" ] || fail "sweeping build: wrong program output"
stale=$(find "$STAGES" -maxdepth 1 -name 'stage-*' | head -n 3)
[ -z "$stale" ] || fail "stale stage directories survive the next uploads: $stale"
[ ! -e "$TMPDIR/wafcache-uploads-dead1" ] || fail "a dead build's slot directory survives"
entries_complete "sweeping build"
finish
