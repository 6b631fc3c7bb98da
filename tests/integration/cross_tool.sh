#!/bin/sh
# One cache shared by make, CMake+ninja and waf builds of the same project (issue 15 item 4),
# with no WAFCACHE_BASEDIR: the same compile with the same flags in the same relative layout
# hits, whichever tool ran it first.
#
# A command hits only when its key is the same: the program, the arguments after the base-dir
# rewrite and the working directory relative to the base dir. So the three build descriptions
# below are written to give the same command lines as far as the tools allow:
#   CMake (Ninja generator) is what it is: from build/, "/usr/bin/gcc -DX=1 -I/P/include
#     -I/P/include2 -O2 -Wall -MD -MT CMakeFiles/wc.dir/src/c01.c.o -MF ....o.d -o ....o
#     -c /P/src/c01.c". Its absolute paths meet build/ at the project P, which becomes the
#     base dir, and are rewritten to ../include, ../src/c01.c.
#   make (Makefile.cross, run in build/) writes exactly that, with relative paths and
#     CMake's object names; ar as "ar qc libwc.a OBJS" after removing it, the link as
#     "g++ OBJS -o prog libwc.a".
#   waf (wscript.cross) uses rule-based task generators with the same lines: waf's own c/cxx
#     tools cannot name objects CMake's way (src/c01.c.1.o) and put "-Iinclude -I../include"
#     for each include dir and "../src/c01.c -c -o/abs/obj": those would share nothing with
#     the other two, so they are not what this test counts.
# The compilers are named as CMake finds them (command -v gcc g++ ar): argv[0] is in the key.
#
#   make, first path, cold                    -> 26 misses (24 compiles, ar, link), 26 writes
#   CMake+ninja at a second path              -> 26 hits: every compile, ar and the link
#   waf at a third path                       -> 26 hits
#   each hit's outputs equal the same tool's build with an empty cache at the same path
#   ninja with -g added at the third tool's path -> 24 compile misses (other flags), ar and
#                                               link miss (other objects)
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cross_tool
need_tools make gcc g++ ar cmake ninja python3
unset WAFCACHE_BASEDIR

need_waf

gen_project "$T/tmpl"
under_vcs "$T" && note "a checkout encloses $T: its root is then the base dir, the counts hold"
# The interpreter itself, not a version manager's shim (pyenv's prepends its own directories to
# PATH, which gcc reads to find `as`: a real difference that would make waf's compiles miss).
PY=$(python3 -c 'import sys; print(sys.executable)')
CC=$(command -v gcc)
CXX=$(command -v g++)
AR=$(command -v ar)
export CC CXX AR
LIB_NAMES='c01 c02 c03 c04 c05 c06 c07 c08 c09 c10'
PROG_C='main c11 c12 c13 c14 c15 c16 c17 c18 c19 c20'
PROG_CXX='cpp1 cpp2 cpp3'

# The object of source NAME.EXT in CMake's target dir DIR (wc.dir, prog.dir).
obj() {
    echo "CMakeFiles/$1/src/$2.o"
}

write_makefile() {
    local _n _lib _prog
    _lib=''
    _prog=''
    for _n in $LIB_NAMES; do _lib="$_lib $(obj wc.dir "$_n.c")"; done
    for _n in $PROG_C; do _prog="$_prog $(obj prog.dir "$_n.c")"; done
    for _n in $PROG_CXX; do _prog="$_prog $(obj prog.dir "$_n.cpp")"; done
    cat > "$1/Makefile.cross" <<EOF
# Run in build/. Command lines as CMake's Ninja generator writes them (see cross_tool.sh).
FLAGS = -DX=1 -I../include -I../include2 -O2 -Wall
LIB_OBJS =$_lib
PROG_OBJS =$_prog

prog: \$(PROG_OBJS) libwc.a
	\$(CXX) \$(PROG_OBJS) -o prog libwc.a

libwc.a: \$(LIB_OBJS)
	rm -f libwc.a && \$(AR) qc libwc.a \$(LIB_OBJS) && ranlib libwc.a

CMakeFiles/wc.dir/src/%.c.o CMakeFiles/prog.dir/src/%.c.o: ../src/%.c
	@mkdir -p \$(dir \$@)
	\$(CC) \$(FLAGS) -MD -MT \$@ -MF \$@.d -o \$@ -c \$<

CMakeFiles/prog.dir/src/%.cpp.o: ../src/%.cpp
	@mkdir -p \$(dir \$@)
	\$(CXX) \$(FLAGS) -MD -MT \$@ -MF \$@.d -o \$@ -c \$<

clean:
	rm -rf CMakeFiles prog libwc.a
EOF
}

write_wscript() {
    cat > "$1/wscript" <<EOF
# Command lines as CMake's Ninja generator writes them (see cross_tool.sh). Rule tasks run in
# build/, and \${SRC} is then ../src/x.c.
import os
top = '.'
out = 'build'
FLAGS = '-DX=1 -I../include -I../include2 -O2 -Wall'
LIB = '$LIB_NAMES'.split()
PROG_C = '$PROG_C'.split()
PROG_CXX = '$PROG_CXX'.split()

def configure(conf):
    pass

def compile(bld, cc, d, src):
    o = 'CMakeFiles/%s/src/%s.o' % (d, src)
    bld(rule='%s %s -MD -MT %s -MF %s.d -o %s -c \${SRC}' % (cc, FLAGS, o, o, o),
        source='src/' + src, target=[o, o + '.d'], shell=False)
    return o

def build(bld):
    cc, cxx, ar = os.environ['CC'], os.environ['CXX'], os.environ['AR']
    lib = [compile(bld, cc, 'wc.dir', n + '.c') for n in LIB]
    prog = [compile(bld, cc, 'prog.dir', n + '.c') for n in PROG_C]
    prog += [compile(bld, cxx, 'prog.dir', n + '.cpp') for n in PROG_CXX]
    bld(rule='rm -f libwc.a && %s qc libwc.a %s && ranlib libwc.a' % (ar, ' '.join(lib)),
        source=lib, target='libwc.a', shell=True)
    bld(rule='%s %s -o prog libwc.a' % (cxx, ' '.join(prog)),
        source=prog + ['libwc.a'], target='prog', shell=True)
EOF
}

# The outputs every tool writes under build/, by CMake's names.
list_cross_outputs() {
    local _n
    for _n in $LIB_NAMES; do echo "$(obj wc.dir "$_n.c")"; done
    for _n in $PROG_C; do echo "$(obj prog.dir "$_n.c")"; done
    for _n in $PROG_CXX; do echo "$(obj prog.dir "$_n.cpp")"; done
}

# same_outputs A B DESC: A's and B's objects, libwc.a and prog, byte for byte, and their
# depfiles where both have them (ninja deletes a depfile once it has read it: deps = gcc).
same_outputs() {
    local _f
    for _f in $(list_cross_outputs) libwc.a prog; do
        cmp -s "$1/$_f" "$2/$_f" || fail "$3: $_f differs ($1 vs $2)"
    done
    for _f in $(list_cross_outputs); do
        [ -f "$1/$_f.d" ] && [ -f "$2/$_f.d" ] || continue
        cmp -s "$1/$_f.d" "$2/$_f.d" || fail "$3: $_f.d differs ($1 vs $2)"
    done
}

# tool_build TOOL DIR DESC: configure without the library where there is a configure step, then
# build DIR's project under the library.
tool_build() {
    case $1 in
    make)
        mkdir -p "$2/build"
        cd "$2/build"
        wc_build "$3" make -j2 -f ../Makefile.cross
        ;;
    cmake)
        [ -f "$2/build/build.ninja" ] || plain "cmake configure" cmake -S "$2" -B "$2/build" -G Ninja
        cd "$2/build"
        wc_build "$3" ninja -j2
        ;;
    waf)
        cd "$2"
        [ -d build ] || plain "waf configure" "$PY" waf configure
        wc_build "$3" "$PY" waf build -j2
        cd build
        ;;
    esac
}

tool_clean() {
    case $1 in
    make) plain "make clean" make -f ../Makefile.cross clean ;;
    cmake) plain "ninja clean" ninja clean ;;
    waf) (cd .. && plain "waf clean" "$PY" waf clean) ;;
    esac
    rm -f prog libwc.a
}

# project TOOL DIR: a copy of the generated project with the build descriptions.
project() {
    mkdir -p "$(dirname "$2")"
    cp -a "$T/tmpl" "$2"
    write_makefile "$2"
    write_wscript "$2"
    if [ "$1" = waf ]; then
        cp -p "$wafdir/waf" "$2/waf"
        cp -pR "$wafdir/waflib" "$2/waflib"
    fi
}

# second_tool TOOL DIR: the reference (TOOL with an empty cache at DIR), then the shared cache:
# every command hits and the outputs equal the reference.
second_tool() {
    local _shared
    project "$1" "$2"
    _shared=$WAFCACHE
    WAFCACHE=$T/ref-$1
    tool_build "$1" "$2" "$1: reference (empty cache)"
    expect_cold "$1: reference" "$NCMDS"
    rm -rf "$T/ref-$1.out"
    cp -a . "$T/ref-$1.out"
    tool_clean "$1"
    WAFCACHE=$_shared
    tool_build "$1" "$2" "$1 at $2, shared cache"
    expect_all_hits "$1 at $2 after make elsewhere" "$NCMDS"
    same_outputs "$T/ref-$1.out" . "$1: hit vs reference"
    expect_program ./prog "$1"
}

note "make at a first path"
project make "$T/first/proj"
tool_build make "$T/first/proj" "make, cold"
expect_cold "make, cold" "$NCMDS"
expect_program ./prog "make"
MAKE_OUT=$PWD

note "CMake+ninja at a second path"
second_tool cmake "$T/second/deeper/proj"
same_outputs "$MAKE_OUT" . "cmake vs make"

note "waf at a third path"
second_tool waf "$T/third/proj"
same_outputs "$MAKE_OUT" . "waf vs make"

# A real difference in the command lines: -g. Every compile misses (other arguments), and so
# do ar and the link (other objects).
note "CMake+ninja with -g"
project cmake "$T/fourth/proj"
plain "cmake configure -g" cmake -S "$T/fourth/proj" -B "$T/fourth/proj/build" -G Ninja \
    -DCMAKE_C_FLAGS=-g -DCMAKE_CXX_FLAGS=-g
tool_build cmake "$T/fourth/proj" "cmake -g"
expect_cold "cmake with -g" "$NCMDS"
note "ok"
