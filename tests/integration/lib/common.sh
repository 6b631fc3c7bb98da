# common.sh -- shared helpers of the integration tests (POSIX sh plus `local`, which dash, bash
# and busybox sh all have; source it, do not run it).
#
#   . "$WC_TESTS/lib/common.sh"
#   wc_setup build_make          # temp dir $T (removed on exit), WAFCACHE=$T/cache, stats on
#   need_tools make gcc g++ ar   # exit 77 when one is missing
#   wc_build "cold build" make -j2      # run under libwafcache.so; fails on a non-zero exit
#   expect_cold "cold build" 26          # 26 requests, 0 hits, 26 writes
#
# Environment from CMake (tests/integration/CMakeLists.txt): WC_BIN (dir of `wafcache`),
# WC_LIB (dir of libwafcache.so and wafcache-run), WC_SRC (source root), WC_TESTS (this dir's
# parent). Optional: WC_TIMEOUT (seconds per build step, default 300), WC_KEEP=1 (keep the temp
# dir for a post-mortem), WC_LAUNCH=cli (run builds through `wafcache CMD` instead of LD_PRELOAD).

WC_TEST=${WC_TEST:-integration}
WC_TIMEOUT=${WC_TIMEOUT:-300}
WC_STATUS=0
WC_OUT=
WC_ERR=
STAT_REQ=
STAT_HITS=
STAT_WRITES=
STAT_RATIO=
STAT_LINE=

note() {
    echo "== $WC_TEST: $*" >&2
}

# Print the tail of the last build's stderr and of the debug log, to explain a failure.
wc_postmortem() {
    if [ -n "$WC_ERR" ] && [ -s "$WC_ERR" ]; then
        echo "---- last command's stderr (tail) ----" >&2
        tail -n 25 "$WC_ERR" >&2
    fi
    if [ -n "${WAFCACHE_LOG:-}" ] && [ -s "$WAFCACHE_LOG" ]; then
        echo "---- $WAFCACHE_LOG (tail) ----" >&2
        tail -n 25 "$WAFCACHE_LOG" >&2
    fi
}

fail() {
    echo "FAIL: $WC_TEST: $*" >&2
    wc_postmortem
    exit 1
}

# run_case NAME: run case_NAME in a subshell (errexit on inside it), record a failure in $failed
# and go on, so that one script reports every failing case.
failed=''
run_case() {
    local _st
    note "case $1"
    set +e
    (
        set -e
        "case_$1"
    )
    _st=$?
    set -e
    [ "$_st" = 0 ] || failed="$failed $1"
}

# finish: exit 1 naming the failed cases, if any.
finish() {
    if [ -n "$failed" ]; then
        echo "FAIL: $WC_TEST: failed cases:$failed" >&2
        exit 1
    fi
    note "ok"
}

skip() {
    echo "SKIP: $WC_TEST: $*" >&2
    exit 77
}

need_tools() {
    local _t
    for _t in "$@"; do
        command -v "$_t" >/dev/null 2>&1 || skip "required tool '$_t' is not installed"
    done
}

# need_waf: set wafdir to the directory holding a real waf and waflib (lib/get-waf.sh), or skip.
need_waf() {
    local _st
    _st=0
    wafdir=$(sh "$WC_TESTS/lib/get-waf.sh") || _st=$?
    if [ "$_st" = 77 ]; then
        skip "waf is not available (see the message above)"
    elif [ "$_st" != 0 ]; then
        fail "lib/get-waf.sh failed with status $_st"
    fi
}

# wc_setup NAME: the test's own temp dir $T, removed on exit (kept with WC_KEEP=1), its own
# cache, a clean WAFCACHE_* environment, and a check that the product was built.
wc_setup() {
    WC_TEST=$1
    : "${WC_LIB:?WC_LIB is not set (dir of libwafcache.so); run through ctest or set it}"
    : "${WC_BIN:?WC_BIN is not set (dir of the wafcache command)}"
    : "${WC_TESTS:?WC_TESTS is not set (tests/integration)}"
    need_tools timeout cmp find sort
    [ -f "$WC_LIB/libwafcache.so" ] || fail "no $WC_LIB/libwafcache.so: build the product first"
    [ -x "$WC_LIB/wafcache-run" ] || fail "no $WC_LIB/wafcache-run: build the product first"
    # Settings from the caller's environment would change what the tests see.
    for _v in $(env | sed -n 's/^\(WAFCACHE[A-Z_]*\)=.*/\1/p'); do
        unset "$_v"
    done
    unset CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH LIBRARY_PATH GCC_EXEC_PREFIX COMPILER_PATH \
        SOURCE_DATE_EPOCH MAKEFLAGS MFLAGS MAKELEVEL GCC_COLORS
    LC_ALL=C
    export LC_ALL
    T=$(mktemp -d "${TMPDIR:-/tmp}/wc-$WC_TEST.XXXXXX")
    T=$(cd "$T" && pwd -P)
    if [ "${WC_KEEP:-}" = 1 ]; then
        trap 'echo "kept $T" >&2' EXIT
    else
        trap 'rm -rf "$T"' EXIT
    fi
    trap 'exit 130' INT TERM
    WAFCACHE=$T/cache
    WAFCACHE_LOG=$T/wafcache.log
    export WAFCACHE WAFCACHE_LOG
    WC_OUT=$T/last.out
    WC_ERR=$T/last.err
}

# True when DIR or one of its ancestors holds a version-control marker (the default base dir
# would then be that checkout, not the build's working directory).
under_vcs() {
    local _d _m
    _d=$1
    while :; do
        for _m in .git .hg .svn; do
            [ -e "$_d/$_m" ] && return 0
        done
        [ "$_d" = / ] && return 1
        _d=$(dirname "$_d")
    done
}

# gen_project DIR: the generated project (lib/gen-project.sh); sets NCMDS and EXPECTED.
gen_project() {
    sh "$WC_TESTS/lib/gen-project.sh" "$1" || fail "gen-project.sh $1 failed"
    NCMDS=$(sed -n 's/^NCMDS=//p' "$1/project.env")
    EXPECTED=$(cat "$1/expected-output.txt")
}

# plain DESC CMD...: run without the library (bounded); fail with its output when it fails.
plain() {
    local _desc
    _desc=$1
    shift
    WC_STATUS=0
    (
        unset LD_PRELOAD WAFCACHE_STATS
        exec timeout -k 10 "$WC_TIMEOUT" "$@"
    ) >"$WC_OUT" 2>"$WC_ERR" || WC_STATUS=$?
    if [ "$WC_STATUS" != 0 ]; then
        cat "$WC_OUT" >&2
        fail "$_desc (without wafcache): '$*' exited with $WC_STATUS"
    fi
}

# wc_run CMD...: run CMD under the library, stdout to $WC_OUT, stderr to $WC_ERR; the exit status
# goes to WC_STATUS (wc_run itself always succeeds) and the stats line to STAT_*. The library is
# given only to CMD: `timeout` and the small sh that sets LD_PRELOAD run without it, so CMD is the
# build's top-level process and prints the stats line.
wc_run() {
    WC_STATUS=0
    if [ "${WC_LAUNCH:-preload}" = cli ]; then
        (
            WAFCACHE_STATS=1
            export WAFCACHE_STATS
            exec timeout -k 10 "$WC_TIMEOUT" "$WC_BIN/wafcache" "$@"
        ) >"$WC_OUT" 2>"$WC_ERR" || WC_STATUS=$?
    else
        (
            WAFCACHE_STATS=1
            export WAFCACHE_STATS
            exec timeout -k 10 "$WC_TIMEOUT" sh -c '
                LD_PRELOAD="$0${LD_PRELOAD:+:$LD_PRELOAD}"
                export LD_PRELOAD
                exec "$@"' "$WC_LIB/libwafcache.so" "$@"
        ) >"$WC_OUT" 2>"$WC_ERR" || WC_STATUS=$?
    fi
    if [ "$WC_STATUS" = 124 ] || [ "$WC_STATUS" = 137 ]; then
        fail "'$*' timed out after ${WC_TIMEOUT}s"
    fi
    parse_stats "$WC_ERR"
}

# wc_build DESC CMD...: wc_run that must succeed.
wc_build() {
    local _desc
    _desc=$1
    shift
    wc_run "$@"
    if [ "$WC_STATUS" != 0 ]; then
        tail -n 20 "$WC_OUT" >&2
        fail "$_desc: '$*' under wafcache exited with $WC_STATUS"
    fi
}

# parse_stats FILE: the `wafcache stats: N requests, H hits (ratio: R%), W writes` line. Exactly
# one must be there (the top-level process prints it once); otherwise STAT_* stay empty and
# STAT_LINE says why.
parse_stats() {
    local _n _re
    STAT_REQ=
    STAT_HITS=
    STAT_WRITES=
    STAT_RATIO=
    _n=$(grep -c '^wafcache stats:' "$1" || true)
    if [ "$_n" != 1 ]; then
        STAT_LINE="($_n 'wafcache stats:' lines on stderr, expected exactly 1)"
        return 0
    fi
    STAT_LINE=$(grep '^wafcache stats:' "$1")
    _re='^wafcache stats: \([0-9][0-9]*\) requests, \([0-9][0-9]*\) hits (ratio: \([0-9][0-9]*\.[0-9][0-9]\)%), \([0-9][0-9]*\) writes$'
    if ! echo "$STAT_LINE" | grep -q "$_re"; then
        STAT_LINE="(malformed: '$STAT_LINE')"
        return 0
    fi
    STAT_REQ=$(echo "$STAT_LINE" | sed "s/$_re/\\1/")
    STAT_HITS=$(echo "$STAT_LINE" | sed "s/$_re/\\2/")
    STAT_RATIO=$(echo "$STAT_LINE" | sed "s/$_re/\\3/")
    STAT_WRITES=$(echo "$STAT_LINE" | sed "s/$_re/\\4/")
}

# Output without the stats line (what the build itself printed on stderr).
stderr_without_stats() {
    grep -v '^wafcache stats:' "$1" || true
}

need_stats() {
    local _bad
    [ -n "$STAT_REQ" ] || fail "$1: no usable stats line $STAT_LINE"
    # The ratio must agree with the counts (2 decimals; allow rounding either way).
    if [ "$STAT_REQ" -gt 0 ]; then
        _bad=$(awk -v h="$STAT_HITS" -v r="$STAT_REQ" -v p="$STAT_RATIO" \
            'BEGIN { d = h * 100 / r - p; if (d < 0) d = -d; print (d > 0.0051) ? 1 : 0 }')
        [ "$_bad" = 0 ] || fail "$1: ratio $STAT_RATIO% does not match $STAT_HITS/$STAT_REQ in '$STAT_LINE'"
    fi
}

# expect_stats REQUESTS HITS WRITES [DESC]: '-' leaves a field unchecked.
expect_stats() {
    local _desc
    _desc=${4:-stats}
    need_stats "$_desc"
    [ "$1" = - ] || [ "$STAT_REQ" = "$1" ] || fail "$_desc: expected $1 requests, got $STAT_REQ ($STAT_LINE)"
    [ "$2" = - ] || [ "$STAT_HITS" = "$2" ] || fail "$_desc: expected $2 hits, got $STAT_HITS ($STAT_LINE)"
    [ "$3" = - ] || [ "$STAT_WRITES" = "$3" ] || fail "$_desc: expected $3 writes, got $STAT_WRITES ($STAT_LINE)"
}

# expect_cold DESC [N]: every request missed and was written (N requests when given).
expect_cold() {
    need_stats "$1"
    [ "$STAT_REQ" -gt 0 ] || fail "$1: expected cached commands, got 0 requests ($STAT_LINE)"
    [ -z "${2:-}" ] || [ "$STAT_REQ" = "$2" ] || fail "$1: expected $2 requests, got $STAT_REQ ($STAT_LINE)"
    [ "$STAT_HITS" = 0 ] || fail "$1: expected 0 hits, got $STAT_HITS ($STAT_LINE)"
    [ "$STAT_WRITES" = "$STAT_REQ" ] || fail "$1: expected $STAT_REQ writes (one per miss), got $STAT_WRITES ($STAT_LINE)"
}

# expect_all_hits DESC [N]: 100 % hits, nothing written.
expect_all_hits() {
    need_stats "$1"
    [ "$STAT_REQ" -gt 0 ] || fail "$1: expected cached commands, got 0 requests ($STAT_LINE)"
    [ -z "${2:-}" ] || [ "$STAT_REQ" = "$2" ] || fail "$1: expected $2 requests, got $STAT_REQ ($STAT_LINE)"
    [ "$STAT_HITS" = "$STAT_REQ" ] || fail "$1: expected 100% hits, got $STAT_HITS of $STAT_REQ ($STAT_LINE)"
    [ "$STAT_RATIO" = 100.00 ] || fail "$1: expected ratio 100.00%, got $STAT_RATIO% ($STAT_LINE)"
    [ "$STAT_WRITES" = 0 ] || fail "$1: expected 0 writes on a full hit, got $STAT_WRITES ($STAT_LINE)"
}

# expect_some_miss DESC: at least one request missed.
expect_some_miss() {
    need_stats "$1"
    [ "$STAT_REQ" -gt 0 ] || fail "$1: expected cached commands, got 0 requests ($STAT_LINE)"
    [ "$STAT_HITS" -lt "$STAT_REQ" ] || fail "$1: expected at least one miss, got $STAT_HITS hits of $STAT_REQ ($STAT_LINE)"
}

# list_outputs DIR [objects]: sorted relative paths of DIR's outputs (only *.o, *.a and the
# program with 'objects').
list_outputs() {
    if [ "${2:-}" = objects ]; then
        (cd "$1" && find . -type f \( -name '*.o' -o -name '*.a' -o -name prog \) | sort)
    else
        (cd "$1" && find . -type f \( -name '*.o' -o -name '*.a' -o -name '*.d' -o -name prog \) | sort)
    fi
}

# snapshot_outputs DIR DEST [objects]: copy DIR's outputs into DEST (same relative paths).
snapshot_outputs() {
    rm -rf "$2"
    mkdir -p "$2"
    list_outputs "$1" "${3:-}" > "$2.list"
    [ -s "$2.list" ] || fail "snapshot of $1: no build outputs found"
    (cd "$1" && tar cf - -T "$2.list") | (cd "$2" && tar xf -) || fail "snapshot of $1 failed"
}

# compare_trees A B DESC [objects]: the same outputs, byte for byte.
compare_trees() {
    local _f
    list_outputs "$1" "${4:-}" > "$T/cmp.a"
    list_outputs "$2" "${4:-}" > "$T/cmp.b"
    if ! cmp -s "$T/cmp.a" "$T/cmp.b"; then
        diff "$T/cmp.a" "$T/cmp.b" | head -n 20 >&2
        fail "$3: the sets of outputs differ ($1 vs $2)"
    fi
    [ -s "$T/cmp.a" ] || fail "$3: no outputs to compare in $1"
    while read -r _f; do
        cmp -s "$1/$_f" "$2/$_f" || fail "$3: $_f differs ($1 vs $2)"
    done < "$T/cmp.a"
}

# remove_outputs DIR: delete every output below DIR (what a 'clean' leaves behind too).
remove_outputs() {
    (cd "$1" && find . -type f \( -name '*.o' -o -name '*.a' -o -name '*.d' -o -name prog \) -exec rm -f {} +)
}

# expect_program PATH DESC [EXPECTED]: run the built program, compare its output.
expect_program() {
    local _got
    [ -x "$1" ] || fail "$2: no program $1"
    _got=$(timeout 30 "$1") || fail "$2: $1 exited with $?"
    [ "$_got" = "${3:-$EXPECTED}" ] || fail "$2: $1 printed '$_got', expected '${3:-$EXPECTED}'"
}

# default_basedir DIR: rely on the default base dir, which is DIR (the build's working directory)
# when no checkout encloses it. If the temp dir lies inside a checkout, the default would be that
# checkout: then name DIR explicitly, so the test still means something.
default_basedir() {
    unset WAFCACHE_BASEDIR
    if under_vcs "$1"; then
        note "a VCS checkout encloses $1: setting WAFCACHE_BASEDIR instead of relying on the default"
        WAFCACHE_BASEDIR=$1
        export WAFCACHE_BASEDIR
    fi
}

# wc_public_product: the built product (bin/wafcache, lib/wafcache/*) copied to $T/pub, which
# every user can read, with $T made traversable (not listable). A test that runs something as
# another user runs it from there: the build tree may lie in a private directory (a clone in
# /root, mode 0700) that the other user cannot enter. Sets PUB_BIN and PUB_LIB.
wc_public_product() {
    PUB_BIN=$T/pub/bin
    PUB_LIB=$T/pub/lib/wafcache
    mkdir -p "$PUB_BIN" "$PUB_LIB"
    cp "$WC_BIN/wafcache" "$PUB_BIN/"
    cp "$WC_LIB"/* "$PUB_LIB/"
    chmod -R a+rX "$T/pub"
    chmod 711 "$T"
}

# wc_add_user PREFIX: a new system user with a name unique to this test run (other tests may
# add users at the same time), removed when the test exits. Prints nothing; sets NEW_USER.
# Skips (77) when useradd/runuser are missing or we are not root.
wc_add_user() {
    [ "$(id -u)" = 0 ] || skip "not root: cannot add a user"
    need_tools useradd userdel runuser
    NEW_USER=$(printf '%s%s' "$1" "$$" | cut -c1-30)
    useradd -M -N -r -s /bin/sh "$NEW_USER" >/dev/null 2>&1 || fail "useradd $NEW_USER failed"
    WC_USERS="${WC_USERS:-} $NEW_USER"
    trap 'for _u in $WC_USERS; do userdel "$_u" >/dev/null 2>&1; done; [ "${WC_KEEP:-}" = 1 ] || rm -rf "$T"' EXIT
}
