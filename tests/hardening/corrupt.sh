#!/bin/sh
# Corrupt local entries are never served: a flipped byte, a truncated output, an output replaced
# by a directory or by a symlink to /etc/passwd, an unreadable output (as nobody: root reads
# anything), garbage metadata or manifest, metadata claiming more outputs than the entry holds.
# Each time: the real command runs, its outputs are right, the error is counted (wafcache -s),
# and the broken entry is replaced by a good one (the next run hits).
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup corrupt
need_tools python3

SRC=$T/src
mkdir -p "$SRC"
cat > "$SRC/a.c" <<'C'
#include <stdio.h>
int value(void) { return 42; }
int main(void) { printf("%d\n", value()); return 0; }
C
cd "$SRC"
COMPILE="gcc -c a.c -o a.o -MD"
tries=0

compile() {
    rm -f a.o a.d
    # shellcheck disable=SC2086
    wc_build "$1" sh -c "$COMPILE"
}

same_as_ref() {
    cmp -s a.o "$T/ref.o" || fail "$1: a.o differs from the reference"
    cmp -s a.d "$T/ref.d" || fail "$1: a.d differs from the reference"
}

# A good entry first, and the reference outputs (what a miss under wafcache gives).
compile "cold"
expect_stats 1 0 1 "cold"
cp a.o "$T/ref.o"
cp a.d "$T/ref.d"

# corrupted DESC: after a corruption, the run misses, is right, counts an error and stores
# again; the run after it hits.
corrupted() {
    local _e0 _e1
    _e0=$(hd_stat errors)
    compile "$1: run over the corrupt entry"
    expect_stats 1 0 1 "$1: the corrupt entry must not be served (a miss, then a write)"
    same_as_ref "$1"
    _e1=$(hd_stat errors)
    [ "$_e1" -gt "$_e0" ] || fail "$1: the corrupt entry was not counted as an error ($_e0 -> $_e1)"
    compile "$1: run after the repair"
    expect_stats 1 1 0 "$1: the broken entry must have been replaced by a good one"
    same_as_ref "$1 (repaired)"
    hd_no_temps "$WAFCACHE" "$1"
    hd_no_temps "$SRC" "$1"
    tries=$((tries + 1))
}

# Output 0 is a.d or a.o; which one does not matter, every output is verified.
E=$(hd_one_result)
size0=$(wc -c < "$E/0")

hd_flip "$E/0" $((size0 / 2))
corrupted "flipped byte in an output"

E=$(hd_one_result)
hd_flip "$E/1" 0
corrupted "flipped first byte of the other output"

E=$(hd_one_result)
head -c $((size0 / 3)) "$E/0" > "$E/0.cut" && mv "$E/0.cut" "$E/0"
corrupted "truncated output"

E=$(hd_one_result)
: > "$E/1"
corrupted "output truncated to nothing"

E=$(hd_one_result)
rm -f "$E/0" && mkdir "$E/0" && echo x > "$E/0/x"
corrupted "output replaced by a directory"

E=$(hd_one_result)
rm -f "$E/0" && ln -s /etc/passwd "$E/0"
corrupted "output replaced by a symlink to /etc/passwd"
! grep -q root: a.o a.d || fail "/etc/passwd was served as an output"

E=$(hd_one_result)
rm -f "$E/1"
corrupted "output missing"

E=$(hd_one_result)
python3 - "$E/meta" <<'PY'
import sys, re
p = sys.argv[1]
t = open(p).read()
n = int(re.search(r'^outputs (\d+)$', t, re.M).group(1))
t = t.replace('outputs %d\n' % n, 'outputs %d\n' % (n + 1))
t = t.replace('end\n', 'o 0644 4 00112233445566778899aabbccddeeff extra.o\nend\n')
open(p, 'w').write(t)
PY
corrupted "metadata claims more outputs than the entry holds"
[ ! -e extra.o ] || fail "an output the entry does not hold was created"

E=$(hd_one_result)
sed -i '$d' "$E/meta"
corrupted "metadata truncated (no end line)"

E=$(hd_one_result)
head -c 4000 /dev/urandom > "$E/meta"
corrupted "metadata replaced by random bytes"

E=$(hd_one_result)
rm -f "$E/meta" && mkdir "$E/meta"
corrupted "metadata replaced by a directory"

E=$(hd_one_result)
sed -i 's/^stderr 0 /stderr 5 /' "$E/meta"
corrupted "metadata claims a recorded stderr that is not there"

# A manifest with garbage: a miss (never a guess), the command runs and the manifest is written
# again.
for M in $(hd_manifests); do
    head -c 3000 /dev/urandom > "$M"
done
e0=$(hd_stat errors)
compile "garbage manifest"
# SPEC: counted as an error. The runner (preload/runner/runner.c, lookup) logs an unusable manifest but
# does not count it yet: reported, not failed, until it does.
[ "$(hd_stat errors)" -gt "$e0" ] || fail "a garbage manifest was not counted as an error"
expect_stats 1 0 1 "garbage manifest: a miss, then a write"
same_as_ref "garbage manifest"
compile "after the garbage manifest"
expect_stats 1 1 0 "garbage manifest: replaced by a good one"
tries=$((tries + 1))

# A manifest whose recorded input hashes are wrong matches nothing: a miss, never a hit. A
# stamped input ("ins", hashing/manifest.h) still holds by its stamp, but the result key is
# made of the recorded hashes: it names no entry.
for M in $(hd_manifests); do
    # Written back as text, which is read too (manifests stored before compression).
    hd_text "$M" > "$M.txt" && mv "$M.txt" "$M"
    grep -q '^ins\? ' "$M" || fail "no input in $M"
    sed -i -E 's/^(ins?) [0-9a-f]{32} /\1 00000000000000000000000000000000 /' "$M"
done
compile "manifest with wrong input hashes"
expect_stats 1 0 1 "manifest with wrong input hashes"
same_as_ref "manifest with wrong input hashes"
tries=$((tries + 1))

# Unreadable output, as an unprivileged user (CI is root, and root reads a mode-000 file).
if command -v runuser >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
    NB=$T/nobody
    mkdir -p "$NB"
    cp a.c "$NB/"
    wc_public_product # nobody may not enter the build tree (a clone in /root)
    chown -R nobody "$NB"
    as_nobody() {
        runuser -u nobody -- env WAFCACHE="$NB/cache" WAFCACHE_LOG="$NB/log" WAFCACHE_STATS=1 \
            LD_PRELOAD="$PUB_LIB/libwafcache.so" sh -c 'cd "$0" && rm -f a.o a.d && gcc -c a.c -o a.o -MD' "$NB" \
            >"$WC_OUT" 2>"$WC_ERR" || fail "as nobody: $1: the build failed: $(cat "$WC_ERR")"
        parse_stats "$WC_ERR"
    }
    # nobody's cache is refused to root (another user's): its counters are read as nobody.
    nb_errors() {
        runuser -u nobody -- env WAFCACHE="$NB/cache" "$PUB_BIN/wafcache" -s --json |
            sed -n 's/^ *"errors": *\([0-9][0-9]*\),\{0,1\}$/\1/p'
    }
    as_nobody "cold"
    expect_stats 1 0 1 "as nobody: cold"
    cp "$NB/a.o" "$T/nb-ref.o"
    E=$(WAFCACHE=$NB/cache hd_one_result)
    chmod 000 "$E/0"
    e0=$(nb_errors)
    as_nobody "unreadable output"
    expect_stats 1 0 1 "as nobody: an unreadable output is not served"
    cmp -s "$NB/a.o" "$T/nb-ref.o" || fail "as nobody: a.o differs after an unreadable entry"
    e1=$(nb_errors)
    [ "$e1" -gt "$e0" ] || fail "as nobody: the unreadable entry was not counted as an error"
    as_nobody "after the unreadable output"
    expect_stats 1 1 0 "as nobody: the unreadable entry was replaced"
    E=$(WAFCACHE=$NB/cache hd_one_result)
    chmod 000 "$E/meta"
    as_nobody "unreadable metadata"
    expect_stats 1 0 - "as nobody: unreadable metadata is not served"
    cmp -s "$NB/a.o" "$T/nb-ref.o" || fail "as nobody: a.o differs after unreadable metadata"
    tries=$((tries + 2))
else
    note "runuser or the nobody user is missing: unreadable-entry cases not run"
fi

note "$tries corruptions tried, none served"
finish
