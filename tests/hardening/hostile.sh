#!/bin/sh
# Hostile entries: metadata naming an output path with "..", an absolute path outside the build,
# or a file the command does not write; a symlink in the way at the destination. Nothing is
# written outside the command's own outputs, the hostile entry is not served (an error, then a
# good entry in its place), and the build's outputs are right.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup hostile
need_tools python3

SRC=$T/src
mkdir -p "$SRC" "$T/outside"
printf 'int value(void) { return 7; }\n' > "$SRC/a.c"
cd "$SRC"
COMPILE="gcc -c a.c -o a.o -MD"
wc_build "cold" sh -c "$COMPILE"
expect_stats 1 0 1 "cold"
cp a.o "$T/ref.o"

# rename_output NEWPATH: the metadata of the only entry names NEWPATH instead of a.o (size and
# hash unchanged: only the path is hostile).
rename_output() {
    python3 - "$(hd_one_result)/meta" "$1" <<'PY'
import sys
p, new = sys.argv[1], sys.argv[2]
t = open(p).read()
assert ' a.o\n' in t
open(p, 'w').write(t.replace(' a.o\n', ' ' + new.replace('%', '%25').replace(' ', '%20') + '\n'))
PY
}

# hostile DESC CHECK...: the run over the hostile entry misses, is right, counts an error, and
# CHECK (a command) says nothing was written where it must not be; the next run hits.
hostile() {
    local _desc _e0
    _desc=$1
    shift
    _e0=$(hd_stat errors)
    rm -f a.o a.d
    wc_build "$_desc" sh -c "$COMPILE"
    expect_stats 1 0 1 "$_desc: a hostile entry must not be served"
    cmp -s a.o "$T/ref.o" || fail "$_desc: a.o differs from the reference"
    [ "$(hd_stat errors)" -gt "$_e0" ] || fail "$_desc: the hostile entry was not counted as an error"
    "$@" || fail "$_desc: something was written outside the command's outputs"
    rm -f a.o a.d
    wc_build "$_desc: after" sh -c "$COMPILE"
    expect_stats 1 1 0 "$_desc: the hostile entry was replaced by a good one"
    cmp -s a.o "$T/ref.o" || fail "$_desc: a.o differs after the repair"
}

absent() {
    [ ! -e "$1" ] && [ ! -L "$1" ]
}

rename_output "../escape.o"
hostile "output path with .." absent "$T/escape.o"

rename_output "sub/../../escape.o"
hostile "output path with .. inside" absent "$T/escape.o"

rename_output "$T/outside/a.o"
hostile "absolute output path outside the build" absent "$T/outside/a.o"

rename_output "$T/outside/evil file.o"
hostile "absolute output path the command does not name" absent "$T/outside/evil file.o"

echo 'all: ; @echo precious' > Makefile
rename_output "Makefile"
hostile "relative output the command does not name" grep -q precious Makefile

# An input of the same command, and names that only share the output's stem.
cp a.c "$T/a.c.orig"
rename_output "a.c"
hostile "output that is the command's own source" cmp -s a.c "$T/a.c.orig"

mkdir -p planted/deep
rename_output "planted/deep/a.o"
hostile "output in a directory the command does not name" absent planted/deep/a.o

rename_output "a.sh"
hostile "output with the stem of the source" absent a.sh

# A mode that says set-user-ID, set-group-ID and sticky, and a store file that is: the restore
# gives what gcc would (0666 less the umask), whoever owns the cache.
mode_output() {
    python3 - "$(hd_one_result)/meta" "$1" <<'PY'
import re, sys
p, mode = sys.argv[1], sys.argv[2]
t = open(p).read()
t2 = re.sub(r'^o [0-7]+ ', 'o %s ' % mode, t, count=1, flags=re.M)
assert t2 != t
open(p, 'w').write(t2)
PY
}
mode_output 7755
chmod 7755 "$(hd_one_result)/0"
rm -f a.o a.d
umask 022
wc_run sh -c "$COMPILE"
expect_stats 1 1 0 "set-user-ID entry: served, with a safe mode"
[ "$(stat -c %a a.o)" = 644 ] || fail "set-user-ID entry: a.o restored with mode $(stat -c %a a.o)"

# With hard links on, a store file that is a symbolic link is corrupt: neither linked nor
# chmod-ed through (a copy of a program of the victim's must not become set-user-ID).
printf 'precious\n' > "$T/victim-exe"
chmod 0700 "$T/victim-exe"
_e0=$(hd_stat errors)
rm -f "$(hd_one_result)/0"
ln -s "$T/victim-exe" "$(hd_one_result)/0"
rm -f a.o a.d
WAFCACHE_HARDLINK=1 wc_build "hard links: linked store file" sh -c "$COMPILE"
expect_stats 1 0 1 "hard links: a linked store file is not served"
[ "$(stat -c %a "$T/victim-exe")" = 700 ] || fail "hard links: the link's target was chmod-ed"
[ "$(hd_stat errors)" -gt "$_e0" ] || fail "hard links: the linked store file was not an error"
cmp -s a.o "$T/ref.o" || fail "hard links: a.o differs from the reference"

# A symlink where an output goes: no entry is served over it (issue 12: a set's outputs must
# not be links at lookup, the command may write through one); the real command runs, and the
# assembler replaces the link with a new file, as without the cache.
echo precious > "$T/victim"
rm -f a.o a.d
ln -s "$T/victim" a.o
wc_build "symlink in the way" sh -c "ln -sf '$T/victim' a.o && exec true"
rm -f a.d
ln -sf "$T/victim" a.o
wc_run sh -c "$COMPILE"
[ "$WC_STATUS" = 0 ] || fail "symlink in the way: the build failed"
expect_stats 1 0 1 "symlink in the way: run for real, not served"
[ "$(cat "$T/victim")" = precious ] || fail "symlink in the way: the victim behind the link was written"
[ -f a.o ] && [ ! -L a.o ] || fail "symlink in the way: a.o is not a regular file"
cmp -s a.o "$T/ref.o" || fail "symlink in the way: a.o differs"

hd_no_temps "$T" "hostile entries"
finish
