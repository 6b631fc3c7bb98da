#!/bin/sh
# Misbehaving compilers (fake ones, named in WAFCACHE_PROGRAMS): one that forks a daemon and
# exits, writes an output after it exits, reads stdin, is killed by a signal, produces an output
# then deletes it, has its output deleted by someone else while it runs (make removing the target
# of an interrupted job), runs a while. The build sees exactly what the program did (status, output,
# signal), nothing hangs on our side, and nothing whose result is not fully known is cached.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup misbehave
need_tools setsid

B=$T/bin
mkdir -p "$B" "$T/w"
WAFCACHE_PROGRAMS=daemoncc,latecc,stdincc,killcc,vanishcc,robbedcc,slowcc,goodcc
export WAFCACHE_PROGRAMS
fake() {
    { printf '#!/bin/sh\n# usage: %s -o OUT SRC\nout=$2; src=$3\n' "$1"; cat; } > "$B/$1"
    chmod +x "$B/$1"
}
fake goodcc <<'SH'
cat "$src" > "$out"
SH
fake daemoncc <<'SH'
cat "$src" > "$out"
setsid sh -c 'sleep 4; echo daemon-done > "$0.daemon"' "$out" </dev/null >/dev/null 2>&1 &
SH
fake latecc <<'SH'
cat "$src" > "$out"
(sleep 1; cat "$src" > "$out.late") </dev/null >/dev/null 2>&1 &
SH
fake stdincc <<'SH'
{ cat "$src"; cat; } > "$out"
SH
fake killcc <<'SH'
cat "$src" > "$out"
kill -TERM $$
SH
fake vanishcc <<'SH'
cat "$src" > "$out"
rm -f "$out"
SH
# -MF names its second output: an entry may only restore what the command line names.
fake robbedcc <<'SH'
cat "$src" > "$out"
cat "$src" > "$5"
sleep 1
SH
fake slowcc <<'SH'
sleep 2
cat "$src" > "$out"
echo "slow done"
SH
cd "$T/w"
echo "source text" > in.txt

# twice CC DESC [SH-PREFIX]: the same command twice (a fresh output each time).
run_cc() {
    rm -f out.o out.o.late
    wc_run sh -c "${3:-}$B/$1 -o out.o in.txt"
}

# A sanity check of the fakes themselves: a well-behaved one is cached.
run_cc goodcc
expect_stats 1 0 1 "goodcc: cached"
run_cc goodcc
expect_stats 1 1 0 "goodcc: a hit"

note "a daemon that outlives the command"
start=$(date +%s)
run_cc daemoncc
[ "$WC_STATUS" = 0 ] || fail "daemoncc: exited $WC_STATUS"
[ $(($(date +%s) - start)) -lt 4 ] || fail "daemoncc: the build waited for the daemon"
grep -q "source text" out.o || fail "daemoncc: no output"
run_cc daemoncc
expect_stats 1 0 0 "daemoncc: a command that left a daemon running is not cached"

note "an output written after the command exits"
run_cc latecc
[ "$WC_STATUS" = 0 ] || fail "latecc: exited $WC_STATUS"
sleep 1.5
[ -f out.o.late ] || fail "latecc: its late output never came"
run_cc latecc
expect_stats 1 0 0 "latecc: a command whose process outlived it is not cached"
sleep 1.5

note "reads stdin"
run_cc stdincc desc "echo from-stdin | "
[ "$WC_STATUS" = 0 ] || fail "stdincc: exited $WC_STATUS"
grep -q from-stdin out.o || fail "stdincc: stdin did not reach the program"
run_cc stdincc desc "echo other-stdin | "
expect_stats 1 0 0 "stdincc: a command that read stdin is not cached"
grep -q other-stdin out.o || fail "stdincc: an output made from another stdin was served"

note "killed by a signal"
rm -f out.o
wc_run sh -c "$B/killcc -o out.o in.txt; echo status=\$?"
grep -q 'status=143' "$WC_OUT" || fail "killcc: the build did not see SIGTERM (got $(cat "$WC_OUT"))"
wc_run sh -c "$B/killcc -o out.o in.txt; echo status=\$?"
grep -q 'status=143' "$WC_OUT" || fail "killcc: second run did not see SIGTERM"
expect_stats 1 0 0 "killcc: a killed command is not cached"

note "an output produced and then deleted"
run_cc vanishcc
[ "$WC_STATUS" = 0 ] || fail "vanishcc: exited $WC_STATUS"
run_cc vanishcc
expect_stats 1 0 0 "vanishcc: nothing to cache"
[ ! -e out.o ] || fail "vanishcc: an output appeared that the program deletes"

note "an output deleted by someone else during the run"
rm -f out.o out.o.d
wc_run sh -c "$B/robbedcc -o out.o in.txt -MF out.o.d & sleep 0.5; rm -f out.o; wait"
[ "$WC_STATUS" = 0 ] || fail "robbedcc: exited $WC_STATUS"
expect_stats 1 0 0 "robbedcc: a run that lost an output is not stored"
grep -q "output .*out.o vanished during the run" "$WAFCACHE_LOG" ||
    fail "robbedcc: the log does not say the output vanished"
rm -f out.o out.o.d
wc_run sh -c "$B/robbedcc -o out.o in.txt -MF out.o.d"
expect_stats 1 0 1 "robbedcc left alone: a miss, stored"
[ -f out.o ] || fail "robbedcc left alone: no output"

note "runs a while"
run_cc slowcc
[ "$WC_STATUS" = 0 ] || fail "slowcc: exited $WC_STATUS"
grep -q "source text" out.o || fail "slowcc: the runner did not wait for the output"
grep -q "slow done" "$WC_OUT" || fail "slowcc: its stdout was lost"
expect_stats 1 0 1 "slowcc: cached once it finished"
start=$(date +%s)
run_cc slowcc
expect_stats 1 1 0 "slowcc: a hit"
[ $(($(date +%s) - start)) -lt 2 ] || fail "slowcc: the hit ran the program"
grep -q "slow done" "$WC_OUT" || fail "slowcc: its stdout was not replayed"

sleep 3 # the daemon's end, before the temp dir goes
finish
