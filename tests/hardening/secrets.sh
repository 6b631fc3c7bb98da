#!/bin/sh
# Secrets and permissions: credentials from URLs and AWS_* never appear in WAFCACHE_LOG, the
# verbosity lines, error messages or `wafcache -p`; cache directories are created 0700 whatever
# the umask; the library does nothing inside a setuid program; valgrind's memcheck is clean on
# the runner for a miss and a hit.
set -eu
. "$WC_HARDENING/lib.sh"
hd_setup secrets

SRC=$T/src
mkdir -p "$SRC"
printf 'int value(void) { return 1; }\n' > "$SRC/a.c"
cd "$SRC"
PW=hardenPassw0rd
KEY=hardenSecretAccessKeyValue
TOK=hardenSessionTokenValue

# no_secret DESC FILE...: none of the secrets in the files.
no_secret() {
    local _d
    _d=$1
    shift
    if grep -l -e "$PW" -e "$KEY" -e "$TOK" "$@" 2>/dev/null; then
        grep -h -e "$PW" -e "$KEY" -e "$TOK" "$@" | head -n 3 >&2
        fail "$_d: a secret was written out"
    fi
}

note "HTTP store with credentials in the URL, unreachable"
(
    WAFCACHE="http://bob:$PW@127.0.0.1:1/cache"
    WAFCACHE_VERBOSITY=1
    WAFCACHE_TIMEOUT=1
    export WAFCACHE WAFCACHE_VERBOSITY WAFCACHE_TIMEOUT
    rm -f a.o
    wc_build "http with credentials" sh -c "gcc -c a.c -o a.o"
    [ -f a.o ] || fail "http with credentials: no output"
    no_secret "http store" "$WC_OUT" "$WC_ERR" "$WAFCACHE_LOG"
    "$W" -p > "$T/p.out" 2>&1 || true
    no_secret "wafcache -p" "$T/p.out"
    WAFCACHE="ftp://bob:$PW@host/x" "$W" -p > "$T/p2.out" 2>&1 || true
    WAFCACHE="ftp://bob:$PW@host/x" wc_run sh -c "gcc -c a.c -o a.o"
    grep -q 'not a supported URL' "$WC_ERR" || fail "bad URL: no message"
    no_secret "bad URL message" "$WC_OUT" "$WC_ERR" "$T/p2.out" "$WAFCACHE_LOG"
)

note "S3 store with AWS_* credentials, unreachable endpoint"
(
    WAFCACHE="s3://bucket/prefix/"
    AWS_ACCESS_KEY_ID=AKIAHARDENTEST
    AWS_SECRET_ACCESS_KEY=$KEY
    AWS_SESSION_TOKEN=$TOK
    AWS_ENDPOINT_URL="http://127.0.0.1:1"
    AWS_REGION=us-east-1
    WAFCACHE_VERBOSITY=1
    WAFCACHE_TIMEOUT=1
    export WAFCACHE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL \
        AWS_REGION WAFCACHE_VERBOSITY WAFCACHE_TIMEOUT
    rm -f a.o
    wc_build "s3 with credentials" sh -c "gcc -c a.c -o a.o"
    [ -f a.o ] || fail "s3 with credentials: no output"
    "$W" -p > "$T/p3.out" 2>&1 || true
    no_secret "s3 store" "$WC_OUT" "$WC_ERR" "$WAFCACHE_LOG" "$T/p3.out"
)

note "one secret in each place, every command and error path, every byte printed"
(
    UPW=userinfoPassw0rd
    QTOK=queryAccessTok3n
    HTOK=httpTokenVa1ue
    CPW=cmdUserPassw0rd
    all_secrets() { grep -l -e "$UPW" -e "$QTOK" -e "$HTOK" -e "$CPW" "$@" 2>/dev/null || true; }
    WAFCACHE_HTTP_TOKEN=$HTOK
    WAFCACHE_TIMEOUT=1
    WAFCACHE_VERBOSITY=1
    WAFCACHE_EXPLAIN=1
    export WAFCACHE_HTTP_TOKEN WAFCACHE_TIMEOUT WAFCACHE_VERBOSITY WAFCACHE_EXPLAIN
    n=0
    for store in "http://alice:$UPW@127.0.0.1:1/x?access_token=$QTOK" \
        "gs://bucket/p/?sig=$QTOK" "ftp://alice:$UPW@h/x?token=$QTOK" "$T/local-cache"; do
        for cmdline in "curl -u admin:$CPW -T %{SRC} %{TGT}" \
            "curl --user admin:$CPW -H 'Authorization: Bearer $HTOK' %{SRC} -o %{TGT}"; do
            for bad in "" zz; do
                n=$((n + 1))
                (
                    WAFCACHE=$store
                    WAFCACHE_CMD=$cmdline
                    WAFCACHE_EVICT_MAX_BYTES=$bad
                    export WAFCACHE WAFCACHE_CMD WAFCACHE_EVICT_MAX_BYTES
                    for c in -s "-s --json" --json -z -C --trim --verify "-M 1G" "-F 100" -p \
                        "--explain gcc -c a.c -o a.o" --bogus; do
                        # shellcheck disable=SC2086
                        "$W" $c > "$T/s.$n.$(printf %s "$c" | tr -c 'a-zA-Z0-9' _)" 2>&1 || true
                    done
                    rm -f a.o
                    wc_run sh -c "gcc -c a.c -o a.o"
                    [ -f a.o ] || fail "secrets ($store): the build failed"
                    cp "$WC_OUT" "$T/s.$n.build.out"
                    cp "$WC_ERR" "$T/s.$n.build.err"
                )
            done
        done
    done
    found=$(all_secrets "$T"/s.* "$WAFCACHE_LOG")
    if [ -n "$found" ]; then
        grep -h -e "$UPW" -e "$QTOK" -e "$HTOK" -e "$CPW" $found | head -n 5 >&2
        fail "a secret was printed in: $found"
    fi
    # The tool did print something for each: the checks above saw real output.
    [ -s "$T/s.1._p" ] || fail "wafcache -p printed nothing"
    grep -q 'alice:\*\*\*@' "$T/s.1._p" || fail "wafcache -p does not show the redacted URL: $(cat "$T/s.1._p")"
    grep -q 'curl -u \*\*\*' "$T/s.1._p" || fail "wafcache -p does not show the redacted command"
)

note "cache directories are 0700, whatever the umask"
(
    umask 000
    rm -f a.o
    wc_build "umask 000" sh -c "gcc -c a.c -o a.o -MD"
    expect_stats 1 0 1 "umask 000"
    open=$(find "$WAFCACHE" -type d ! -perm 700 | head -n 3)
    [ -z "$open" ] || fail "cache directories not 0700: $open"
)

note "setuid programs"
if id nobody >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then
    # A setuid-nobody program run by root is a secure-mode process (AT_SECURE): the loader drops
    # LD_PRELOAD paths with a slash, and the library itself refuses to act there.
    printf '#include <unistd.h>\nint main(int c, char **v) { (void)c; execvp(v[1], v + 1); return 127; }\n' > "$T/suid.c"
    gcc -o "$T/suidexec" "$T/suid.c"
    chown nobody "$T/suidexec"
    chmod 4755 "$T/suidexec"
    chmod 711 "$T"
    mkdir -p "$T/suidcache" "$T/suidsrc"
    chmod 777 "$T/suidcache" "$T/suidsrc"
    cp a.c "$T/suidsrc/"
    (
        cd "$T/suidsrc"
        WAFCACHE=$T/suidcache WAFCACHE_LOG=$T/suidcache/log LD_PRELOAD=$WC_LIB/libwafcache.so \
            "$T/suidexec" gcc -c a.c -o a.o
    ) || fail "setuid: the command failed"
    [ -f "$T/suidsrc/a.o" ] || fail "setuid: no output"
    [ -z "$(ls -A "$T/suidcache")" ] || fail "setuid: the library acted in a setuid program: $(ls -A "$T/suidcache")"
    # The same with the library where the loader does preload it into a setuid program: a
    # trusted directory, the library itself setuid, named without a slash.
    sysdir=$(dirname "$(gcc -print-file-name=libc.so.6)")
    name=libwafcache-hardtest-$$.so
    if [ -d "$sysdir" ] && [ ! -e "$sysdir/wafcache-run" ] && [ -w "$sysdir" ]; then
        cp "$WC_LIB/libwafcache.so" "$sysdir/$name"
        chmod 4755 "$sysdir/$name"
        ln -s "$WC_LIB/wafcache-run" "$sysdir/wafcache-run"
        st=0
        (
            cd "$T/suidsrc"
            rm -f a.o
            WAFCACHE=$T/suidcache WAFCACHE_LOG=$T/suidcache/log LD_PRELOAD=$name \
                "$T/suidexec" gcc -c a.c -o a.o
        ) || st=$?
        rm -f "$sysdir/$name" "$sysdir/wafcache-run"
        [ "$st" = 0 ] || fail "setuid (trusted library): the command failed"
        [ -z "$(ls -A "$T/suidcache")" ] || fail "setuid: the library acted in a setuid program: $(ls -A "$T/suidcache")"
    else
        note "no writable trusted library directory: the preloaded-setuid case is not run"
    fi
else
    skip "runuser or the nobody user is missing"
fi

note "valgrind memcheck on the runner"
if command -v valgrind >/dev/null 2>&1; then
    mkdir -p "$T/vg"
    cp a.c "$T/vg/"
    cd "$T/vg"
    # On the dynamically linked twin: memcheck replaces malloc only in a dynamic program
    # (static glibc's own start-up looks like errors to it); both are built from one set of
    # objects.
    for what in miss hit; do
        rm -f a.o a.d
        WAFCACHE=$T/vgcache WAFCACHE_VERBOSITY=1 valgrind -q --error-exitcode=99 \
            --leak-check=full --errors-for-leak-kinds=definite \
            "$WC_LIB/wafcache-run-remote" "$(command -v gcc)" gcc -c a.c -o a.o -MD \
            > "$T/vg.$what.out" 2> "$T/vg.$what.err" ||
            { cat "$T/vg.$what.err" >&2; fail "valgrind: memcheck errors on a $what"; }
        [ -f a.o ] || fail "valgrind $what: no output"
        case $what in
        miss) grep -q 'uploaded' "$T/vg.$what.err" || fail "valgrind: the first run did not store" ;;
        hit) grep -q 'fetched' "$T/vg.$what.err" || fail "valgrind: the second run was not a hit" ;;
        esac
    done
else
    note "valgrind is not installed: memcheck not run"
fi
finish
