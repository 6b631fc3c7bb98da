#!/bin/sh
# Generators through the cache (issue 15): a make build that runs real bison (given an absolute
# grammar path, as waf does), flex, gperf, xxd -i, nasm, m4, then compiles and links what they
# wrote, and runs objcopy and strip (once into another file, once in place).
#
#   cold            checkout A, empty cache: every cached command misses and is stored
#   second_checkout checkout B at another path, the cache A filled: every cached command hits,
#                   and every output (bytes and modes) equals B built with an empty cache --
#                   the SPEC's reference; bison's #line names the grammar as B's run names it
#   grammar_edit    B's grammar changes: bison and what reads its outputs miss, the rest hit,
#                   the outputs equal the reference of the changed tree
#   strip_twice     strip in place on an already stripped file misses (its old content is the
#                   input) and gives what strip gives
#   m4_stdout       m4 writing to stdout (no output file) is never cached, its output is right
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup generators
need_tools make gcc bison flex m4 gperf xxd nasm objcopy strip stat

# The project: src/ holds the inputs, build/Makefile the rules.
make_project() {
    mkdir -p "$1/src" "$1/build"
    cat > "$1/src/p.y" <<'EOF'
%{
#include <stdio.h>
int yylex(void);
void yyerror(const char *s);
int total;
%}
%token NUM
%%
input: %empty | input NUM { total++; } ;
%%
void yyerror(const char *s) { fprintf(stderr, "%s\n", s); }
EOF
    cat > "$1/src/s.l" <<'EOF'
%option noyywrap nounput noinput
%{
#include "p.tab.h"
%}
%%
[0-9]+ { return NUM; }
.|\n ;
%%
EOF
    cat > "$1/src/k.gperf" <<'EOF'
%{
#include <stddef.h>
#include <string.h>
%}
%%
alpha
beta
gamma
%%
EOF
    printf 'hello\0world\n' > "$1/src/blob.bin"
    printf 'section .note.GNU-stack noalloc noexec nowrite progbits\nsection .text\nglobal answer\nanswer:\n    mov eax, 42\n    ret\n' > "$1/src/f.asm"
    cat > "$1/src/msg.m4" <<'EOF'
define(`GREETING', `"hi"')dnl
static const char msg[] = GREETING;
EOF
    cat > "$1/src/main.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "blob.h"
#include "msg.h"
extern int total;
extern FILE *yyin;
int yyparse(void);
int answer(void);
const char *in_word_set(const char *, size_t);
int main(void)
{
    static char text[] = "1 22 333";
    yyin = fmemopen(text, strlen(text), "r");
    yyparse();
    printf("%d %u %s %d %s\n", total, blob_bin_len, in_word_set("beta", 4) ? "yes" : "no",
           answer(), msg);
    return 0;
}
EOF
    cat > "$1/build/Makefile" <<'EOF'
SRC := $(abspath ../src)
OBJS = main.o p.tab.o s.o k.o f.o
all: prog prog.nodebug prog.stripped
p.tab.c p.tab.h: $(SRC)/p.y
	bison -d -o p.tab.c $(SRC)/p.y
s.c: ../src/s.l p.tab.h
	flex -o s.c ../src/s.l
k.c: $(SRC)/k.gperf
	gperf --output-file=k.c $(SRC)/k.gperf
blob.h: ../src/blob.bin
	cd ../src && xxd -i blob.bin ../build/blob.h
msg.h: ../src/msg.m4
	m4 ../src/msg.m4 > msg.h
f.o: $(SRC)/f.asm
	nasm -f elf64 -o f.o $(SRC)/f.asm
CFLAGS = -g -fdebug-prefix-map=$(abspath ..)=. -O2 -I.
main.o: ../src/main.c blob.h msg.h
	gcc $(CFLAGS) -c ../src/main.c -o main.o
%.o: %.c
	gcc $(CFLAGS) -c $< -o $@
prog: $(OBJS)
	gcc -o prog $(OBJS)
prog.nodebug: prog
	objcopy --strip-debug prog prog.nodebug
prog.stripped: prog
	cp prog prog.stripped
	strip prog.stripped
clean:
	rm -f *.o *.c *.h prog prog.nodebug prog.stripped
EOF
}

# What a build leaves in build/, with each file's mode.
outputs_of() {
    (cd "$1/build" && for f in $(ls | grep -v '^Makefile$' | sort); do
        echo "$f $(stat -c %a "$f")"
    done)
}

# same_outputs DIR REF DESC: the same files, modes and bytes.
same_outputs() {
    outputs_of "$1" > "$T/got.list"
    outputs_of "$2" > "$T/want.list"
    if ! cmp -s "$T/got.list" "$T/want.list"; then
        diff "$T/want.list" "$T/got.list" >&2 || true
        fail "$3: the outputs or their modes differ"
    fi
    for f in $(cut -d' ' -f1 "$T/want.list"); do
        cmp -s "$1/build/$f" "$2/build/$f" || fail "$3: $f differs from the reference"
    done
}

# reference NAME: a copy of checkout B as it is now, built by wafcache with an empty cache.
reference() {
    rm -rf "$T/ref-$1" "$T/cache-$1"
    mkdir -p "$T/ref-$1"
    cp -a "$T/b/." "$T/ref-$1/"
    # The reference lives at B's own path: moved there for its build, then moved aside.
    mv "$T/b" "$T/b.away"
    mv "$T/ref-$1" "$T/b"
    (cd "$T/b/build" && make clean >/dev/null)
    WAFCACHE=$T/cache-$1 WAFCACHE_BASEDIR=$T/b wc_build "reference $1" make -C "$T/b/build"
    mv "$T/b" "$T/ref-$1"
    mv "$T/b.away" "$T/b"
}

# build DIR DESC: make in DIR/build under the library, with the shared cache.
build() {
    WAFCACHE=$T/cache WAFCACHE_BASEDIR=$1 wc_build "$2" make -C "$1/build"
}

expect_run() {
    _got=$("$1/build/prog")
    [ "$_got" = "$2" ] || fail "$1/build/prog printed '$_got', expected '$2'"
}

make_project "$T/a"
make_project "$T/b"
# Cached: bison flex gperf xxd nasm, 4 compiles, the link, objcopy, strip; m4 is a request
# that is never cached (it writes to stdout).
NREQ=13
NCACHED=12

case_cold() {
    build "$T/a" "cold build in A"
    expect_stats "$NREQ" 0 "$NCACHED" "cold build in A"
    expect_run "$T/a" '3 12 yes 42 hi'
    ! grep -q 'standard input' "$T/wafcache.log" ||
        fail "a generator was refused for reading its standard input"
}

case_second_checkout() {
    reference b
    build "$T/b" "B with A's cache"
    expect_stats "$NREQ" "$NCACHED" 0 "B with A's cache"
    same_outputs "$T/b" "$T/ref-b" "B against its reference"
    grep -q "#line [0-9]* \"\\.\\./src/p.y\"" "$T/b/build/p.tab.c" ||
        fail "bison's #line does not name the grammar as the rewritten command gave it"
    expect_run "$T/b" '3 12 yes 42 hi'
}

case_grammar_edit() {
    sed -i 's/{ total++; }/{ total += 2; }/' "$T/b/src/p.y"
    (cd "$T/b/build" && make clean >/dev/null)
    reference edit
    build "$T/b" "B after the grammar edit"
    # bison, the compiles of p.tab.c and s.c (p.tab.h is theirs: its content did not change
    # for s.c, but p.tab.c did), the link, objcopy and strip miss.
    expect_some_miss "B after the grammar edit"
    same_outputs "$T/b" "$T/ref-edit" "B after the edit against its reference"
    expect_run "$T/b" '6 12 yes 42 hi'
}

case_strip_twice() {
    cd "$T/b/build"
    cp prog.stripped twice
    strip -o want twice
    WAFCACHE=$T/cache WAFCACHE_BASEDIR=$T/b wc_build "strip a stripped file" sh -c 'strip twice'
    expect_stats 1 0 1 "strip a stripped file"
    cmp -s twice want || fail "strip in place gave other bytes than strip"
    cp prog.stripped twice
    WAFCACHE=$T/cache WAFCACHE_BASEDIR=$T/b wc_build "the same again" sh -c 'strip twice'
    expect_all_hits "the same again" 1
    cmp -s twice want || fail "strip in place, served: other bytes than strip"
    rm -f twice want
}

case_m4_stdout() {
    cd "$T/b/build"
    rm -f msg.h
    WAFCACHE=$T/cache WAFCACHE_BASEDIR=$T/b wc_build "m4 to stdout" sh -c 'm4 ../src/msg.m4 > msg.h'
    grep -q 'msg\[\] = "hi";' msg.h || fail "m4's output is wrong under the library"
    grep -q 'not cached.*m4.*no output file\|m4.*no output file' "$T/wafcache.log" ||
        fail "m4 writing to stdout was not reported as uncached"
}

run_case cold
run_case second_checkout
run_case grammar_edit
run_case strip_twice
run_case m4_stdout
finish
