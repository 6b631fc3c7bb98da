#!/bin/sh
# Where the cache lives (issue 13): a cache directory another user made (mode 0777, an entry
# planted in it) is refused with one line and the build runs uncached; links planted at
# stats/0..15 and all.lock of a cache shared with WAFCACHE_UMASK=000 are never written
# through. The other user is made for this test (a unique name) and removed afterwards.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup cachedir
wc_add_user wcatk
ATK=$NEW_USER
wc_public_product
as_atk() { runuser -u "$ATK" -- "$@"; }

mkdir -p "$T/src"
cd "$T/src"
printf 'int value(void) { return 7; }\n' > a.c
COMPILE='gcc -c a.c -o a.o'
WAFCACHE_DISABLE=1 wc_build "reference" sh -c "$COMPILE"
cp a.o "$T/ref.o"

# only_line DESC PATTERN: the build's stderr is exactly one line, matching PATTERN.
only_line() {
    [ "$(wc -l < "$WC_ERR")" = 1 ] || fail "$1: expected one line on stderr, got: $(cat "$WC_ERR")"
    grep -q "$2" "$WC_ERR" || fail "$1: unexpected message: $(cat "$WC_ERR")"
}

# 1. The attacker's directory, mode 0777, with a whole entry of ours copied in.
wc_build "a cache of our own" sh -c "$COMPILE"
mkdir "$T/shared" && chmod 1777 "$T/shared"
as_atk mkdir "$T/shared/cache"
as_atk chmod 0777 "$T/shared/cache"
cp -R "$WAFCACHE"/. "$T/shared/cache/"
chown -R "$ATK" "$T/shared/cache"
rm -f a.o
WAFCACHE=$T/shared/cache wc_run sh -c "$COMPILE"
[ "$WC_STATUS" = 0 ] || fail "another user's cache: the build failed"
only_line "another user's cache" "^wafcache: the cache directory $T/shared/cache is owned by another user"
cmp -s a.o "$T/ref.o" || fail "another user's cache: a.o differs"
grep -q " hit " "$WAFCACHE_LOG" 2>/dev/null && fail "another user's cache: an entry was served"
# Ours, but writable by everyone: refused too, unless WAFCACHE_UMASK says it is shared.
chown -R root "$T/shared/cache"
WAFCACHE=$T/shared/cache wc_run sh -c "$COMPILE"
only_line "a 0777 cache" "is writable by other users"
WAFCACHE=$T/shared/cache WAFCACHE_UMASK=000 wc_build "a 0777 cache, shared on purpose" sh -c "$COMPILE"
expect_stats 1 1 0 "a 0777 cache, shared on purpose"

# 2. Links planted by the attacker in a cache shared with everyone.
V=$T/vcache
WAFCACHE=$V WAFCACHE_UMASK=000 wc_build "a shared cache" sh -c "$COMPILE"
chmod 0777 "$V" "$V/stats" # what a share with everyone gives the attacker
printf 'precious\n' > "$T/victim"
chmod 644 "$T/victim"
for n in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    rm -f "$V/stats/$n"
    as_atk ln -s "$T/victim" "$V/stats/$n"
done
rm -f "$V/all.lock"
as_atk ln -s "$T/victim" "$V/all.lock"
rm -f a.o
WAFCACHE=$V WAFCACHE_UMASK=000 WAFCACHE_EVICT_INTERVAL_MINUTES=0 wc_run sh -c "$COMPILE"
[ "$WC_STATUS" = 0 ] || fail "planted links: the build failed"
only_line "planted links" "is a symbolic link"
WAFCACHE=$V WAFCACHE_UMASK=000 "$W" -z >/dev/null 2>&1 || true
WAFCACHE=$V WAFCACHE_UMASK=000 "$W" --trim >/dev/null 2>&1 || true
[ "$(cat "$T/victim")" = precious ] || fail "planted links: the victim's file was written through a link"
cmp -s a.o "$T/ref.o" || fail "planted links: a.o differs"

# 3. An entry directory of the attacker's in our own cache is not used.
rm -rf "$V"
WAFCACHE=$V wc_build "a private cache" sh -c "$COMPILE"
E=$(WAFCACHE=$V hd_one_result)
chown -R "$ATK" "$E"
chmod 0777 "$E"
rm -f a.o
WAFCACHE=$V wc_build "an entry directory of another user" sh -c "$COMPILE"
expect_stats 1 0 - "an entry directory of another user is not served"
cmp -s a.o "$T/ref.o" || fail "an entry directory of another user: a.o differs"
# 4. wafcache.conf planted as a link to a file only we can read, in a cache shared with
#    everyone: never read through the link, so none of that file's bytes reach a message.
S=$T/scache
WAFCACHE=$S WAFCACHE_UMASK=000 wc_build "a shared cache for the conf link" sh -c "$COMPILE"
chmod 0777 "$S"
printf 'max_size = Pr1vateSecret\n' > "$T/private.conf"
chmod 600 "$T/private.conf"
as_atk ln -s "$T/private.conf" "$S/wafcache.conf"
rm -f a.o
WAFCACHE=$S WAFCACHE_UMASK=000 wc_run sh -c "$COMPILE"
[ "$WC_STATUS" = 0 ] || fail "a linked wafcache.conf: the build failed"
grep -q Pr1vateSecret "$WC_ERR" "$WC_OUT" && fail "a linked wafcache.conf was read through the link"
only_line "a linked wafcache.conf" "symbolic link"
cmp -s a.o "$T/ref.o" || fail "a linked wafcache.conf: a.o differs"
WAFCACHE=$S WAFCACHE_UMASK=000 "$W" -p > "$T/p.out" 2>&1 || true
grep -q Pr1vateSecret "$T/p.out" && fail "a linked wafcache.conf: wafcache -p read through the link"
# 5. The default directory is found without NSS (the runner is static: glibc's getpwuid does
#    not work there): with HOME set and USER unset, neither a miss nor a hit of the runner
#    itself opens /etc/nsswitch.conf or /etc/passwd, or asks nscd.
if command -v strace >/dev/null 2>&1; then
    mkdir -p "$T/nss/home/.cache/wafcache"
    chmod 700 "$T/nss/home/.cache/wafcache"
    cp a.c "$T/nss/" && cd "$T/nss"
    for what in miss hit; do
        rm -f a.o
        env -u WAFCACHE -u USER -u XDG_CACHE_HOME HOME="$T/nss/home" \
            strace -o "$T/nss.$what" -e trace=open,openat,connect,stat,newfstatat \
            "$WC_LIB/wafcache-run" "$(command -v gcc)" gcc -c a.c -o a.o ||
            fail "no NSS: the $what failed"
        cmp -s a.o "$T/ref.o" || fail "no NSS: a.o differs after the $what"
        if grep -E 'nsswitch|/etc/passwd|nscd' "$T/nss.$what" >&2; then
            fail "no NSS: the runner's $what looked the user up"
        fi
    done
    [ -n "$(find "$T/nss/home/.cache/wafcache" -name meta)" ] || fail "no NSS: nothing stored"
    cd "$T/src"
else
    note "strace is not installed: the NSS check is not run"
fi
finish
