#!/bin/sh
# Long maintenance work shows progress (issue 18): --trim, -C and --verify print a progress line
# on a terminal (run under `script`, from bsdutils) and nothing when stderr is not one; and an
# interrupted -C or --trim leaves no half-removed entry (removal is rename, then delete).
set -eu
. "$WC_TESTS/lib/common.sh"
wc_setup cli_progress
need_tools make gcc g++ ar script python3
W="$WC_BIN/wafcache"
. "$WC_TESTS/lib/cli.sh"

P=$T/p
gen_project "$P"
default_basedir "$P"

# many N: N more results, copies of a real one under keys of their own (numbered on from
# the last call's). One process: a fork per copy takes minutes on a loaded machine.
copies=0
many() {
    src=$(dirname "$(grep -l '^o ' "$WAFCACHE"/*/*/meta | head -n 1)")
    python3 - "$src" "$WAFCACHE" "$copies" "$1" <<'PY'
import os, shutil, sys
src, root, first, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
width = len(os.path.basename(src)) - 2
for i in range(first + 1, first + n + 1):
    kk = "%02x" % (i % 256)
    shutil.copytree(src, os.path.join(root, kk, kk + "%0*x" % (width, i)))
PY
    copies=$((copies + $1))
}

# on_tty CMD...: run CMD with a terminal for stdin, stdout and stderr; all it wrote in $T/tty.
on_tty() {
    script -qec "$*" /dev/null >"$T/tty" 2>&1 </dev/null
}

case_progress_on_a_terminal_only() {
    fill_cache
    many 400
    for o in --verify --trim -C; do
        on_tty "'$W' $o" || fail "$o under script: $(cat "$T/tty")"
        grep -q "[A-Z][a-z]*ing: *[0-9]*%" "$T/tty" || fail "$o shows no progress on a terminal: $(cat "$T/tty")"
        [ "$o" = -C ] || many 400
        "$W" $o >"$T/o" 2>"$T/e" || fail "$o: $(cat "$T/e")"
        [ ! -s "$T/e" ] || fail "$o wrote to a stderr that is not a terminal: $(cat "$T/e")"
        ! grep -q "%" "$T/o" || fail "$o wrote progress to a file: $(cat "$T/o")"
    done
}

# Interrupted at any point, what is left is whole entries (and renamed leftovers, swept later).
case_interrupted() {
    for o in -C --trim; do
        fill_cache
        many 3000
        [ "$o" = -C ] || "$W" -F 10 >/dev/null
        timeout -s INT 0.2 "$W" $o >/dev/null 2>&1 || :
        "$W" -F 0 >/dev/null
        "$W" --verify >"$T/o" 2>&1 || fail "--verify after an interrupted $o: $(cat "$T/o")"
        grep -q "; 0 broken (removed 0)\$" "$T/o" || fail "an interrupted $o left a broken entry: $(cat "$T/o")"
    done
}

run_case progress_on_a_terminal_only
run_case interrupted
finish
