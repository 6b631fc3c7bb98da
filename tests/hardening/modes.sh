#!/bin/sh
# File modes and directories of a hit are what the real command gives (issue 12 class 4,
# issue 13): an object, a program and an archive recorded under umask 022 and served under
# umask 077 get the modes of a build under umask 077 with an empty cache; an output whose
# directory is missing makes the cached command fail as gcc does, creating nothing.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup modes
need_tools ar stat

mkdir -p "$T/src"
cd "$T/src"
printf 'int value(void) { return 7; }\n' > a.c
printf 'int value(void);\nint main(void) { return value() - 7; }\n' > m.c
BUILD='gcc -c a.c -o obj/a.o -MD && gcc -c m.c -o obj/m.o && gcc obj/a.o obj/m.o -o obj/prog && ar rcs obj/liba.a obj/a.o'

modes() {
    (cd obj && for f in a.o a.d m.o prog liba.a; do printf '%s %s\n' "$f" "$(stat -c %a "$f")"; done)
}

# The reference: the same commands under umask 077, nothing cached.
rm -rf obj && mkdir obj
umask 077
WAFCACHE_DISABLE=1 wc_build "reference" sh -c "$BUILD"
modes > "$T/ref.modes"
grep -q '^prog 700$' "$T/ref.modes" || fail "reference: unexpected modes: $(cat "$T/ref.modes")"

rm -rf obj && mkdir obj
umask 022
wc_build "cold under umask 022" sh -c "$BUILD"
expect_stats 4 0 4 "cold under umask 022"
rm -rf obj && mkdir obj
umask 077
wc_build "warm under umask 077" sh -c "$BUILD"
expect_stats 4 4 0 "warm under umask 077"
modes > "$T/hit.modes"
diff "$T/ref.modes" "$T/hit.modes" >&2 || fail "hits under umask 077 do not have the reference's modes"
umask 022

# The output directory is missing: gcc fails ("cannot open output file"), and so must a hit.
rm -rf obj
WAFCACHE_DISABLE=1 wc_run sh -c 'gcc -c a.c -o obj/a.o -MD'
REF_STATUS=$WC_STATUS
[ "$REF_STATUS" != 0 ] || fail "reference: gcc succeeded without its output directory"
wc_run sh -c 'gcc -c a.c -o obj/a.o -MD'
[ "$WC_STATUS" = "$REF_STATUS" ] || fail "missing directory: exited $WC_STATUS, gcc exits $REF_STATUS"
[ ! -e obj ] || fail "missing directory: the cached run created obj/"
# The entry is still good for a build that has the directory.
mkdir obj
wc_build "directory back" sh -c 'gcc -c a.c -o obj/a.o -MD'
expect_stats 1 1 0 "directory back: a hit"

# An output directory that is a symbolic link is not written through by a restore.
rm -rf obj "$T/elsewhere" && mkdir "$T/elsewhere" && ln -s "$T/elsewhere" obj
wc_run sh -c 'gcc -c a.c -o obj/a.o -MD'
[ "$WC_STATUS" = 0 ] || fail "linked directory: the command failed"
expect_stats 1 0 - "linked directory: not restored through the link"

hd_no_temps "$T" "modes"
finish
