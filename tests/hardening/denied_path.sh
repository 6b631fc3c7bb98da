#!/bin/sh
# Probes denied by permissions (issue 15): a PATH entry another user keeps to himself (mode
# 0700, as /root/.cargo/bin) is neither "exists" nor "missing". A user who has it in his PATH
# and one who has not share the entries where the files used are the same; and once such a
# directory becomes searchable and holds a program the command would take, nothing recorded
# while it was denied is served. Root reaches everything: the compiles run as a user made for
# this test, from a copy of the product every user can read.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup denied_path
wc_add_user wcden
U=$NEW_USER
wc_public_product

PRIV=$T/priv # root's, mode 0700: the user's gcc finds it in PATH and cannot look inside
mkdir -p "$PRIV" "$T/u/p"
chmod 700 "$PRIV"
cd "$T/u/p"
printf '#include "x.h"\nint f(void) { return X; }\n' > x.c
printf '#define X 3\n' > x.h
chown -R "$U" "$T/u"

# as_user DESC PATH COMPILER_PATH: `gcc -c x.c -o x.o` through the launcher as the user, with
# this PATH (and COMPILER_PATH, empty: unset); its stats line into STAT_*.
as_user() {
    WC_STATUS=0
    runuser -u "$U" -- env PATH="$2" ${3:+COMPILER_PATH="$3"} WAFCACHE="$T/u/cache" \
        WAFCACHE_LOG="$T/u/log" WAFCACHE_STATS=1 WAFCACHE_BASEDIR="$T/u/p" \
        "$PUB_BIN/wafcache" sh -c "gcc -c x.c -o x.o" >"$WC_OUT" 2>"$WC_ERR" || WC_STATUS=$?
    [ "$WC_STATUS" = 0 ] || fail "$1: exited with $WC_STATUS: $(cat "$WC_ERR")"
    parse_stats "$WC_ERR"
}

runuser -u "$U" -- gcc -c x.c -o "$T/u/ref.o"
SYS=/usr/local/bin:/usr/bin:/bin

# 1. The denied entry in PATH, then not: the second compile hits (the canonical PATH leaves
#    out what this user cannot search), and so does a PATH with a missing entry.
as_user "cold, $PRIV in PATH" "$PRIV:$SYS" ""
expect_stats 1 0 1 "cold, $PRIV in PATH"
for M in "$T"/u/cache/*/*/manifest; do hd_text "$M"; done | grep -q "^denied $PRIV/" ||
    fail "no 'denied' record of $PRIV in the manifest"
rm x.o
as_user "without $PRIV in PATH" "$SYS" ""
expect_stats 1 1 0 "the same compile without the denied PATH entry"
cmp -s x.o "$T/u/ref.o" || fail "without $PRIV in PATH: x.o differs from the plain compile"
rm x.o
as_user "a missing PATH entry" "$T/nonexistent/bin:$SYS" ""
expect_stats 1 1 0 "the same compile with a missing PATH entry"

# 2. A real change of PATH still misses: another searchable directory in front.
mkdir -p "$T/pubbin" && chmod 755 "$T/pubbin"
rm x.o
as_user "another searchable PATH entry" "$T/pubbin:$SYS" ""
expect_stats 1 0 1 "a searchable PATH entry more"

# 3. Soundness: gcc looks for `as` in COMPILER_PATH before PATH. Denied, it is skipped; the
#    variable's value is the same once the directory opens up with an `as` of its own, and
#    only the "denied" records tell that gcc would now take it.
as_user "COMPILER_PATH denied" "$SYS" "$PRIV"
expect_stats 1 0 1 "COMPILER_PATH denied, cold"
rm x.o
as_user "COMPILER_PATH denied, again" "$SYS" "$PRIV"
expect_stats 1 1 0 "COMPILER_PATH denied, again"
printf '#!/bin/sh\ntouch "%s/took-priv-as"\nexec /usr/bin/as "$@"\n' "$T/u" > "$PRIV/as"
chmod 755 "$PRIV/as" "$PRIV"
rm x.o
as_user "COMPILER_PATH searchable, with an as" "$SYS" "$PRIV"
[ "$STAT_HITS" = 0 ] || fail "a directory denied when recorded now holds an as: served from the cache"
[ -f "$T/u/took-priv-as" ] || fail "the real command did not run the as of $PRIV"
finish
