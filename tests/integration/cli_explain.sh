#!/bin/sh
# wafcache --explain COMMAND and WAFCACHE_EXPLAIN=1: a miss names what changed -- the header in
# a header-edit miss, the define in a -D miss, the header that now exists earlier on the include
# path -- and a command that would hit says so. Nothing is run or restored by --explain.
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cli_explain
need_tools make gcc g++ ar
W="$WC_BIN/wafcache"

P=$T/p
gen_project "$P"
default_basedir "$P"
cd "$P"

# The compile command make would run for an object (forced, so it is printed even when up
# to date), with make's variables as given.
cmd_of() {
    local _obj
    _obj=$1
    shift
    make -n -B "$@" "$_obj" | grep -- "-o $_obj\$" | head -n 1
}

# explain DESC ARGS...: `wafcache --explain ARGS...` must succeed; its stdout in $T/x.
explain() {
    local _desc
    _desc=$1
    shift
    rc=0
    "$W" --explain "$@" >"$T/x" 2>"$T/x.err" || rc=$?
    [ "$rc" = 0 ] || fail "$_desc: --explain exited $rc: $(cat "$T/x.err")"
}

wc_build "cold build" make -j4
expect_cold "cold build" "$NCMDS"

note "a command that would hit"
c01=$(cmd_of obj/c01.o)
[ -n "$c01" ] || fail "no compile command for obj/c01.o from make -n"
explain "hit" "$c01"
grep -q '^  hit: key1 [0-9a-f]\{32\}, result [0-9a-f]\{32\}$' "$T/x" || fail "hit: $(cat "$T/x")"
# The same, as separate words after --.
# shellcheck disable=SC2086
explain "hit, words" -- $c01
grep -q '^  hit: ' "$T/x" || fail "hit (words): $(cat "$T/x")"

note "a header-edit miss names the header"
before=$(cksum <obj/c01.o)
echo '#define WC_EDITED 1' >>include/common.h
explain "header edit" "$c01"
grep -q '^  miss: key1 .* no recorded input set matches' "$T/x" || fail "header edit: $(cat "$T/x")"
grep -q '^      changed: include/common.h$' "$T/x" || fail "header edit does not name common.h: $(cat "$T/x")"
[ "$(grep -c 'changed:' "$T/x")" = 1 ] || fail "header edit names more than the header: $(cat "$T/x")"
[ "$(cksum <obj/c01.o)" = "$before" ] || fail "--explain changed obj/c01.o"
stats_before=$("$W" --json)

note "WAFCACHE_EXPLAIN=1 during the build says the same on stderr"
WAFCACHE_EXPLAIN=1
export WAFCACHE_EXPLAIN
wc_build "rebuild after the edit" make -j4
unset WAFCACHE_EXPLAIN
grep -q '^wafcache: explain:       changed: include/common.h$' "$WC_ERR" ||
    fail "WAFCACHE_EXPLAIN did not name the header: $(grep explain "$WC_ERR" | head)"
grep -q '^wafcache: explain: gcc .*-o obj/c01.o$' "$WC_ERR" || fail "WAFCACHE_EXPLAIN did not name the command"
explain "hit after the rebuild" "$c01"
grep -q '^  hit: ' "$T/x" || fail "after the rebuild: $(cat "$T/x")"
[ "$stats_before" != "$("$W" --json)" ] || fail "the rebuild did not count"

note "a -D miss names the define"
c06=$(cmd_of obj/c06.o DEFS=-DX=2)
echo "$c06" | grep -q -- '-DX=2' || fail "no -DX=2 in '$c06'"
explain "-D change" "$c06"
grep -q '^  miss: no manifest for key1 ' "$T/x" || fail "-D: $(cat "$T/x")"
grep -q '^    argument [0-9]*: "-DX=2" (recorded: "-DX=1")$' "$T/x" ||
    fail "-D miss does not name the define: $(cat "$T/x")"
[ "$(grep -c '^    argument' "$T/x")" = 1 ] || fail "-D miss names other arguments: $(cat "$T/x")"
explain "-D added" "$(cmd_of obj/c06.o DEFS='-DX=1 -DY=3')"
grep -q '^    argument added: "-DY=3"$' "$T/x" || fail "-D added: $(cat "$T/x")"
WAFCACHE_EXPLAIN=1 wc_build "-D build" make -B DEFS=-DX=2 obj/c06.o
grep -q '^wafcache: explain:     argument [0-9]*: "-DX=2" (recorded: "-DX=1")$' "$WC_ERR" ||
    fail "WAFCACHE_EXPLAIN on a -D miss: $(grep explain "$WC_ERR" | head)"

note "a header that now exists earlier on the include path"
c03=$(cmd_of obj/c03.o)
printf '#define SHADOW_VALUE 4u\n' >include/shadow.h
explain "shadowing header" "$c03"
grep -q '^      now exists (was missing when recorded): include/shadow.h$' "$T/x" ||
    fail "shadow: $(cat "$T/x")"
rm include/shadow.h

note "a new output: nothing to compare with"
explain "new output" "gcc -I./include -c src/c01.c -o obj/new.o"
grep -q 'no command with the same output was stored before' "$T/x" || fail "new: $(cat "$T/x")"
[ ! -e obj/new.o ] || fail "--explain ran the compiler"

note "bad input"
rc=0
"$W" --explain >/dev/null 2>"$T/e" || rc=$?
[ "$rc" = 1 ] || fail "--explain alone: exit $rc"
grep -q "^wafcache: option '--explain' needs a command" "$T/e" || fail "--explain alone: $(cat "$T/e")"
rc=0
"$W" --explain make all >/dev/null 2>"$T/e" || rc=$?
[ "$rc" = 1 ] || fail "--explain make: exit $rc"
grep -q '^wafcache: --explain: make is not a cached program' "$T/e" || fail "--explain make: $(cat "$T/e")"
rc=0
WAFCACHE=$T/nothing "$W" --explain "$c01" >/dev/null 2>"$T/e" || rc=$?
[ "$rc" = 2 ] || fail "--explain, missing cache: exit $rc"
grep -q "^wafcache: $T/nothing: no such cache directory" "$T/e" || fail "missing cache: $(cat "$T/e")"

finish
