#!/bin/sh
# The environment is an input observed like files (issue 12, class 5), with real gcc, clang and
# binutils on the generated project:
#   a  PATH changed to a directory holding another `as` (one that defines a symbol): miss, and
#      the object is the other as's; the old PATH hits again with the old object
#   b  a compiler wrapper script (CC=./mycc) that reads $EXTRA_CFLAGS: changing it misses,
#      with the object the flags give; an unrelated variable still hits (the shell's whole
#      environment counts, less the skip list: the unrelated variable misses once)
#   c  a whole make build: an unrelated variable added, TERM and COLUMNS changed -> 26 of 26
#      hit (nothing printed: diagnostics-only variables do not count); LIBRARY_PATH changed
#      -> every -c compile and ar hit, the link (which reads it) misses
#   d  the table: gcc, g++, cc1, cc1plus, as, clang, collect2, ld, ar run under observation;
#      the variables each was seen reading must all be in README.md's table ("What the
#      environment contributes"); the table is printed for pasting
# Outputs are compared with the same command run by wafcache with an empty cache.
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup env_reads
need_tools make gcc g++ ar as ld clang nm awk

gen_project "$T/p"
cd "$T/p"
WAFCACHE_BASEDIR=$T/p
export WAFCACHE_BASEDIR
INC="-Iinclude -Iinclude2"
REFN=0

# one DESC hit|miss CMD...: CMD through `wafcache CMD` (the runner for one command), which must
# hit, or miss and store its result; told by the runner's line in WAFCACHE_LOG.
one() {
    local _d _want _n _got
    _d=$1
    _want=$2
    shift 2
    _n=0
    [ ! -f "$WAFCACHE_LOG" ] || _n=$(wc -l < "$WAFCACHE_LOG")
    WC_LAUNCH=cli wc_build "$_d" "$@"
    _got=$(tail -n +$((_n + 1)) "$WAFCACHE_LOG" | sed -n 's/^[^ ]* [^ ]* [0-9]* \(hit\|miss\) key1=.*/\1/p')
    [ "$_got" = "$_want" ] || fail "$_d: expected a $_want, got '${_got:-nothing}'"
    if [ "$_want" = miss ] && ! tail -n +$((_n + 1)) "$WAFCACHE_LOG" | grep -q ' miss key1=.*: stored'; then
        fail "$_d: the miss was not stored"
    fi
}

# reference OUT CMD...: the same command run by wafcache with an empty cache, in a scratch
# copy of the project; its output OUT is left in $T/ref.$REFN/OUT, named by REF.
reference() {
    local _out _saved
    _out=$1
    shift
    REFN=$((REFN + 1))
    rm -rf "$T/ref.$REFN"
    cp -a "$T/p" "$T/ref.$REFN"
    _saved=$WAFCACHE
    WAFCACHE=$T/refcache.$REFN
    (cd "$T/ref.$REFN" && WAFCACHE_BASEDIR=$T/ref.$REFN WC_LAUNCH=cli wc_build "reference" "$@")
    WAFCACHE=$_saved
    REF=$T/ref.$REFN/$_out
}

same_as_reference() { # DESC FILE
    cmp -s "$2" "$REF" || fail "$1: $2 differs from the empty-cache reference"
}

# ---- a: PATH selects another assembler ----

case_a() {
    local _as
    _as=$(command -v as)
    mkdir -p wrap
    printf '#!/bin/sh\nexec %s --defsym wc_wrapped_as=1 "$@"\n' "$_as" > wrap/as
    chmod +x wrap/as
    one "a: cold" miss gcc $INC -c src/c01.c -o c01.o
    cp c01.o "$T/c01.plain.o"
    one "a: warm" hit gcc $INC -c src/c01.c -o c01.o
    (
        PATH=$T/p/wrap:$PATH
        export PATH
        one "a: PATH names another as" miss gcc $INC -c src/c01.c -o c01.o
        nm c01.o | grep -q wc_wrapped_as || fail "a: the object is not the other as's"
        reference c01.o gcc $INC -c src/c01.c -o c01.o
        same_as_reference "a: other as" c01.o
        one "a: PATH with the other as, again" hit gcc $INC -c src/c01.c -o c01.o
        same_as_reference "a: other as, hit" c01.o
    )
    one "a: the first PATH again" hit gcc $INC -c src/c01.c -o c01.o
    cmp -s c01.o "$T/c01.plain.o" || fail "a: back to the first PATH: not the first object"
}

# ---- b: a wrapper script reads a variable ----

case_b() {
    printf '#!/bin/sh\nexec gcc $EXTRA_CFLAGS "$@"\n' > mycc
    chmod +x mycc
    (
        WAFCACHE_PROGRAMS=mycc
        EXTRA_CFLAGS=-DX=1
        export WAFCACHE_PROGRAMS EXTRA_CFLAGS
        one "b: cold" miss ./mycc $INC -c src/c06.c -o c06.o
        one "b: warm" hit ./mycc $INC -c src/c06.c -o c06.o
        EXTRA_CFLAGS=-DX=2
        one "b: EXTRA_CFLAGS changed" miss ./mycc $INC -c src/c06.c -o c06.o
        reference c06.o ./mycc $INC -c src/c06.c -o c06.o
        same_as_reference "b: EXTRA_CFLAGS=-DX=2" c06.o
        EXTRA_CFLAGS=-DX=3
        WAFCACHE_EXPLAIN=1 WC_LAUNCH=cli wc_build "b: explained" ./mycc $INC -c src/c06.c -o c06.o
        grep -q 'environment: EXTRA_CFLAGS="-DX=3" (recorded: "-DX=' "$WC_ERR" ||
            fail "b: the explanation does not name EXTRA_CFLAGS: $(cat "$WC_ERR")"
        EXTRA_CFLAGS=-DX=1
        one "b: EXTRA_CFLAGS back" hit ./mycc $INC -c src/c06.c -o c06.o
        reference c06.o ./mycc $INC -c src/c06.c -o c06.o
        same_as_reference "b: EXTRA_CFLAGS=-DX=1" c06.o
    )
}

# ---- c: what no process reads does not count ----

case_c() {
    rm -rf "$T/cache.c"
    WAFCACHE=$T/cache.c
    (cd "$T/p" && make clean >/dev/null)
    TERM=xterm COLUMNS=80 wc_build "c: cold" make -j2
    expect_cold "c: cold" "$NCMDS"
    snapshot_outputs . "$T/c.ref"
    make clean >/dev/null
    WC_UNRELATED_CI_VARIABLE=1 TERM=dumb COLUMNS=33 wc_build "c: unrelated variable, TERM, COLUMNS" make -j2
    expect_all_hits "c: unrelated variable added, TERM and COLUMNS changed" "$NCMDS"
    compare_trees . "$T/c.ref" "c: hits"
    make clean >/dev/null
    LIBRARY_PATH=$T/p/nolib TERM=xterm COLUMNS=80 wc_build "c: LIBRARY_PATH" make -j2
    expect_stats "$NCMDS" $((NCMDS - 1)) 1 "c: LIBRARY_PATH changed (compiles and ar hit, the link misses)"
    compare_trees . "$T/c.ref" "c: LIBRARY_PATH"
    WAFCACHE=$T/cache
}

# ---- d: the table ----

# observe OUT CMD...: CMD with the library in observe mode; the channel's text into OUT.
observe() {
    local _out _ch
    _out=$1
    shift
    _ch=$T/chan.$$
    : > "$_ch"
    exec 7>>"$_ch"
    WAFCACHE_OBSERVE_FD="7:$(stat -c %d:%i "$_ch")" LD_PRELOAD=$WC_LIB/libwafcache-observe.so "$@" \
        > /dev/null 2>&1 || fail "d: '$*' failed under observation"
    exec 7>&-
    cat "$_ch" >> "$_out"
    rm -f "$_ch"
}

# "tool variable" pairs from a channel: the program's name without target prefix or version.
tool_reads() {
    awk '$2 == "H" { exe[$1] = $4; next }
         $2 == "e" { n = $3; sub(/=.*/, "", n); t = exe[$1]; sub(/.*\//, "", t)
                     sub(/^.*-linux-gnu-/, "", t); sub(/-[0-9.]+$/, "", t); sub(/^ld\..*/, "ld", t)
                     print t, n }' "$1" | sort -u
}

case_d() {
    local _tool _vars _row _v _missing
    _missing=""
    mkdir -p d
    gcc $INC -S src/c03.c -o d/c03.s
    gcc $INC -c src/c04.c -o d/c04.o
    : > d/chan
    observe d/chan gcc $INC -c src/c01.c -o d/c01.o
    observe d/chan g++ $INC -c src/cpp1.cpp -o d/cpp1.o
    observe d/chan clang $INC -c src/c02.c -o d/c02.o
    observe d/chan as -o d/c03.o d/c03.s
    observe d/chan ar rcs d/lib.a d/c01.o d/c02.o
    observe d/chan ld -r -o d/r.o d/c01.o d/c03.o
    printf 'int main(void) { return 0; }\n' > d/m.c
    gcc -c d/m.c -o d/m.o
    observe d/chan g++ -o d/prog d/m.o d/lib.a
    tool_reads d/chan > d/pairs
    [ -s d/pairs ] || fail "d: no environment read was observed at all"
    for _tool in gcc g++ cc1 cc1plus clang as collect2 ld ar; do
        grep -q "^$_tool " d/pairs || fail "d: $_tool was not seen reading anything"
    done
    echo "What the environment contributes, as observed on this machine:"
    echo "| program | variables it was seen reading |"
    echo "|---|---|"
    for _tool in $(cut -d' ' -f1 d/pairs | sort -u); do
        _vars=$(awk -v t="$_tool" '$1 == t { printf "`%s` ", $2 }' d/pairs)
        echo "| \`$_tool\` | ${_vars% } |"
        _row=$(grep "^| \`$_tool\` |" "$WC_SRC/README.md" || true)
        for _v in $(awk -v t="$_tool" '$1 == t { print $2 }' d/pairs); do
            case $_row in
            *"\`$_v\`"*) ;;
            *) _missing="$_missing $_tool:$_v" ;;
            esac
        done
    done
    [ -z "$_missing" ] || fail "d: read, but not in README.md's table:$_missing"
}

for c in ${WC_CASES:-a b c d}; do
    run_case "$c"
done
finish
