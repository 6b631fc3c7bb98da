# cmake-case.sh -- the CMake build scenario, shared by build_cmake_make.sh and
# build_cmake_ninja.sh (source it after common.sh; call cmake_case GENERATOR).
#
# CMake passes absolute paths (-I/abs/include, -c /abs/src/x.c) and builds in build/ below the
# project; WAFCACHE_BASEDIR names the project root. Configuring runs without the library: its
# try_compile directories have random names, so those commands could never hit anyway; the
# build (`cmake --build`, which runs make or ninja) runs under it.
#   plain configure + build           -> the program prints the expected checksum
#   cold build                        -> all misses and writes; objects equal the plain build's
#   clean + rebuild                   -> 100 % hits, byte-identical outputs (.o .a .d prog)
#   copy at another path, configured there -> 100 % hits, byte-identical objects

cmake_clean() {
    plain "cmake clean" cmake --build "$1" --target clean
    remove_outputs "$1"
}

cmake_case() {
    _gen=$1
    gen_project "$T/tmpl"
    cp -a "$T/tmpl" "$T/p1"
    cd "$T/p1"
    WAFCACHE_BASEDIR=$T/p1
    export WAFCACHE_BASEDIR

    note "configure ($_gen) and plain build"
    plain "cmake configure" cmake -S . -B build -G "$_gen"
    plain "plain build" cmake --build build -j2
    expect_program build/prog "plain build"
    snapshot_outputs build "$T/plain" objects
    cmake_clean build

    note "cold build"
    wc_build "cold build" cmake --build build -j2
    expect_cold "cold build" "$NCMDS"
    expect_program build/prog "cold build"
    compare_trees "$T/plain" build "cold build vs plain build" objects
    snapshot_outputs build "$T/cold"

    note "clean + rebuild"
    cmake_clean build
    wc_build "rebuild after clean" cmake --build build -j2
    expect_all_hits "rebuild after clean" "$NCMDS"
    compare_trees "$T/cold" build "rebuild vs cold build"
    expect_program build/prog "rebuild after clean"

    note "copy at another absolute path"
    mkdir -p "$T/x/y"
    cp -a "$T/tmpl" "$T/x/y/copy"
    cd "$T/x/y/copy"
    WAFCACHE_BASEDIR=$T/x/y/copy
    plain "cmake configure of the copy" cmake -S . -B build -G "$_gen"
    wc_build "build of the copy" cmake --build build -j2
    expect_all_hits "build of the copy at $PWD" "$NCMDS"
    compare_trees "$T/cold" build "copy vs cold build" objects
    expect_program build/prog "build of the copy"
}
