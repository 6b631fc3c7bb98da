#!/bin/sh
# Builds started by different kinds of process get hits on their second run:
#   bash            a bash script: compiles from a function, a subshell, a link
#   exec_compiler   bash -c 'gcc -c ...': the top-level process execs the compiler itself
#   python3         subprocess with shell=True, with an argv list (python walks PATH itself with
#                   execve), and with an absolute path and close_fds=False (posix_spawn)
#   make_recursion  a Makefile that runs $(MAKE) -C sub: one stats line for the whole build
# Each: cold run -> all misses and writes; outputs removed; second run -> 100 % hits, the same
# bytes, the program prints what it should.
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup launchers
need_tools bash python3 make gcc

W=$T/w
mkdir -p "$W"
cd "$W"
WAFCACHE_BASEDIR=$W
export WAFCACHE_BASEDIR

# unit NAME VALUE [DIR]: DIR/NAME.c defining int NAME(void) { return VALUE; }
unit() {
    printf 'int %s(void)\n{\n    return %s;\n}\n' "$1" "$2" > "${3:-.}/$1.c"
}

# twice DESC N OUTPUTS PROGRAM EXPECTED CMD...: cold run, remove OUTPUTS, hit run (PROGRAM -:
# nothing to run).
twice() {
    local _desc _n _outs _prog _exp _o
    _desc=$1 _n=$2 _outs=$3 _prog=$4 _exp=$5
    shift 5
    wc_build "$_desc, first run" "$@"
    expect_cold "$_desc, first run" "$_n"
    [ "$_prog" = - ] || expect_program "$_prog" "$_desc, first run" "$_exp"
    mkdir -p "$T/$_desc"
    for _o in $_outs; do
        mv "$_o" "$T/$_desc/" || fail "$_desc: the first run did not make $_o"
    done
    wc_build "$_desc, second run" "$@"
    expect_all_hits "$_desc, second run" "$_n"
    for _o in $_outs; do
        cmp -s "$_o" "$T/$_desc/$(basename "$_o")" || fail "$_desc: $_o differs between the runs"
    done
    [ "$_prog" = - ] || expect_program "$_prog" "$_desc, second run" "$_exp"
}

case_bash() {
    unit b1 11
    unit b2 22
    printf '#include <stdio.h>\nint b1(void), b2(void);\nint main(void) { printf("%%d\\n", b1() + b2()); return 0; }\n' > bmain.c
    cat > build.bash <<'EOF2'
set -euo pipefail
cc_one() { gcc -O2 -c "$1.c" -o "$1.o"; }
cc_one b1
( gcc -O2 -c b2.c -o b2.o )
gcc -O2 bmain.c b1.o b2.o -o bprog
echo built
EOF2
    twice bash 3 "b1.o b2.o bprog" ./bprog 33 bash build.bash
}

# The build's top-level process itself becomes the compiler: bash -c runs its last command with
# exec, without a fork. The stats line must still come, once.
case_exec_compiler() {
    unit e1 7
    twice exec_compiler 1 "e1.o" - - bash -c 'gcc -O2 -c e1.c -o e1.o'
}

case_python3() {
    unit p1 100
    unit p2 20
    unit p3 3
    printf '#include <stdio.h>\nint p1(void), p2(void), p3(void);\nint main(void) { printf("%%d\\n", p1() + p2() + p3()); return 0; }\n' > pmain.c
    cat > build.py <<'EOF'
import shutil
import subprocess

subprocess.check_call("gcc -O2 -c p1.c -o p1.o", shell=True)
subprocess.check_call(["gcc", "-O2", "-c", "p2.c", "-o", "p2.o"])
subprocess.check_call([shutil.which("gcc"), "-O2", "-c", "p3.c", "-o", "p3.o"], close_fds=False)
subprocess.check_call(["gcc", "-O2", "pmain.c", "p1.o", "p2.o", "p3.o", "-o", "pyprog"])
EOF
    twice python3 4 "p1.o p2.o p3.o pyprog" ./pyprog 123 python3 build.py
}

case_make_recursion() {
    mkdir -p sub
    unit m1 5 sub
    unit m2 6 sub
    printf '#include <stdio.h>\nint m1(void), m2(void);\nint main(void) { printf("%%d\\n", m1() * m2()); return 0; }\n' > sub/mmain.c
    printf 'all:\n\t$(MAKE) -C sub\n' > Makefile.top
    cat > sub/Makefile <<'EOF'
CC = gcc
all: mprog
mprog: mmain.o m1.o m2.o
	$(CC) -o $@ mmain.o m1.o m2.o
%.o: %.c
	$(CC) -O2 -c $< -o $@
EOF
    twice make_recursion 4 "sub/m1.o sub/m2.o sub/mmain.o sub/mprog" sub/mprog 30 make -j2 -f Makefile.top
}

for c in ${WC_CASES:-bash exec_compiler python3 make_recursion}; do
    run_case "$c"
done
finish
