#!/bin/sh
# libwafcache.so on its own: build tools keep working under it, cached programs are redirected
# to <libdir>/wafcache-run with the right argv, libwafcache-observe.so reports what a real
# compile touches, WAFCACHE_HARDLINK never writes through a shared inode, and the top-level process
# prints the WAFCACHE_STATS line. Needs WC_LIB (the directory of libwafcache.so).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
set -u

LIB="${WC_LIB:?WC_LIB must name the directory of libwafcache.so}/libwafcache.so"
OBS="$WC_LIB/libwafcache-observe.so"
[ -f "$LIB" ] && [ -f "$OBS" ] || { echo "no $LIB or $OBS"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
unset WAFCACHE_SESSION WAFCACHE_BUILD WAFCACHE_OBSERVE_FD WAFCACHE_DISABLE WAFCACHE_STATS
unset WAFCACHE_PROGRAMS WAFCACHE_HARDLINK
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

expect_eq() { # what got want
    [ "$2" = "$3" ] || fail "$1: got [$2], want [$3]"
}

# ---- build tools keep working ----

out=$(LD_PRELOAD=$LIB sh -c 'i=0; while [ $i -lt 1000 ]; do sh -c true || exit 1; i=$((i+1)); done; echo done')
expect_eq "sh -c true x1000" "$out" "done"

out=$(LD_PRELOAD=$LIB bash -c 'for i in 1 2 3; do /bin/echo $i; done | wc -l')
expect_eq "bash pipeline" "$out" "3"

if command -v python3 >/dev/null; then
    out=$(LD_PRELOAD=$LIB python3 -c '
import subprocess
a = subprocess.run(["echo", "a"], capture_output=True, text=True).stdout
b = subprocess.run("echo b | tr b c", shell=True, capture_output=True, text=True).stdout
c = subprocess.run(["no-such-program-wc"], capture_output=True).returncode if False else 0
try:
    subprocess.run(["no-such-program-wc"])
    d = "ran"
except FileNotFoundError:
    d = "enoent"
print(a.strip() + b.strip() + d)')
    expect_eq "python subprocess" "$out" "acenoent"
fi

mkdir -p mk/sub
printf 'all:\n\t@$(MAKE) -s -C sub\n\t@cat sub/out\n' > mk/Makefile
printf 'all:\n\t@echo deep > out\n' > mk/sub/Makefile
out=$(LD_PRELOAD=$LIB make -s -C mk 2>&1)
expect_eq "make recursion" "$out" "deep"

out=$(LD_PRELOAD=$LIB sh -c 'no-such-program-wc 2>/dev/null; echo $?')
expect_eq "missing program status" "$out" "127"

# ---- redirection to the runner ----
# A copy of the library beside a stand-in runner that logs its argv and environment, then
# runs the program the way the real runner would on a miss.

mkdir -p rl bin other
cp "$LIB" rl/libwafcache.so
cp "$OBS" rl/libwafcache-observe.so
cat > rl/wafcache-run <<'RUN'
#!/bin/sh
{
    echo "argv:$*"
    echo "preload:${WAFCACHE_PRELOAD:-}"
    echo "runner preload:${LD_PRELOAD:-}"
    echo "programs:${WAFCACHE_PROGRAMS:-}"
} >> @RUNLOG@
prog=$1
shift 2
exec "$prog" "$@"
RUN
printf '#!/bin/sh\necho "fakecc:$*"\n' > bin/fakecc
printf '#!/bin/sh\necho "other:$*"\n' > other/plain
RUNLOG="$T/runlog"
# Baked in: some cases run the runner with an empty environment.
sed -i "s|@RUNLOG@|$RUNLOG|" rl/wafcache-run
chmod +x rl/wafcache-run bin/fakecc other/plain
RL="$T/rl/libwafcache.so"
RO="$T/rl/libwafcache-observe.so"
BINPATH="$T/bin:$PATH"

redirected() { # name, command...: runs the command, checks one logged run with argv
    local name=$1
    shift
    : > "$RUNLOG"
    out=$("$@" 2>&1)
    expect_eq "$name: output" "$out" "fakecc:x y"
    expect_eq "$name: runner argv" "$(grep '^argv:' "$RUNLOG")" "argv:$T/bin/fakecc fakecc x y"
    # The runner starts without the library (WAFCACHE_PRELOAD holds LD_PRELOAD for the
    # real command), and with it when the command's environment had lost it.
    expect_eq "$name: LD_PRELOAD kept" "$(grep '^preload:' "$RUNLOG")" "preload:$RL"
    expect_eq "$name: runner unloaded" "$(grep '^runner preload:' "$RUNLOG")" "runner preload:"
    expect_eq "$name: settings kept" "$(grep '^programs:' "$RUNLOG")" "programs:fakecc"
}

run_rl() {
    env PATH="$BINPATH" WAFCACHE_PROGRAMS=fakecc LD_PRELOAD="$RL" "$@"
}

redirected "sh" run_rl sh -c 'fakecc x y'
redirected "bash" run_rl bash -c 'fakecc x y; true'
redirected "env (execvp)" run_rl sh -c 'env fakecc x y'
redirected "env -i (lost environment)" run_rl sh -c "env -i PATH='$BINPATH' fakecc x y"
if command -v python3 >/dev/null; then
    redirected "python list" run_rl python3 -c 'import subprocess; subprocess.run(["fakecc", "x", "y"])'
    redirected "python shell" run_rl python3 -c 'import subprocess; subprocess.run("fakecc x y", shell=True)'
    redirected "python cleared env" run_rl python3 -c "import subprocess; subprocess.run(['fakecc', 'x', 'y'], executable='$T/bin/fakecc', env={})"
fi
# posix_spawn and posix_spawnp, as make and ninja start their jobs (without the library's
# help for the PATH search: glibc's posix_spawnp never calls the exported execve).
cat > spawner.c <<'C'
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv)
{
    char *args[] = {"fakecc", "x", "y", NULL};
    pid_t pid;
    int st, r;
    if (argc > 1 && strcmp(argv[1], "p") == 0)
        r = posix_spawnp(&pid, "fakecc", NULL, NULL, args, environ);
    else
        r = posix_spawn(&pid, argv[2], NULL, NULL, args, environ);
    if (r != 0 || waitpid(pid, &st, 0) != pid)
        return 2;
    return WEXITSTATUS(st);
}
C
gcc -o spawner spawner.c || fail "cannot build spawner"
redirected "posix_spawnp" run_rl ./spawner p
redirected "posix_spawn" run_rl ./spawner a "$T/bin/fakecc"

printf 'all:\n\t@fakecc x y\n' > Makefile.fake
redirected "make" run_rl make -s -f Makefile.fake

# Not redirected: another program, a disabled library, a name that is not executable.
: > "$RUNLOG"
out=$(run_rl sh -c "$T/other/plain z")
expect_eq "other program runs" "$out" "other:z"
out=$(WAFCACHE_DISABLE=1 run_rl sh -c 'fakecc x y')
expect_eq "disabled: program runs" "$out" "fakecc:x y"
out=$(run_rl sh -c "WAFCACHE_DISABLE=1 fakecc x y")
expect_eq "disabled for one command" "$out" "fakecc:x y"
expect_eq "no runner when not cached" "$(cat "$RUNLOG")" ""

# ---- observe mode ----
# The channel as the runner makes it: an unlinked file opened O_APPEND, its dev:ino in the
# environment, and libwafcache-observe.so in LD_PRELOAD in place of the interposer. Inside a
# real command nothing is ever redirected.

mkdir -p src/inc src/probe
printf '#include "h.h"\n#include <stdio.h>\nint main(void) { return X; }\n' > src/x.c
printf '#define X 0\n' > src/inc/h.h
echo hello > src/data.txt

observe() { # output file, command...
    local outfile=$1 ch="$T/chan.$RANDOM" spec
    shift
    : > "$ch"
    exec 150>>"$ch"
    spec="150:$(stat -c %d:%i "$ch")"
    rm -f "$ch"
    WAFCACHE_OBSERVE_FD=$spec LD_PRELOAD=$RO PATH="$BINPATH" WAFCACHE_PROGRAMS=fakecc,gcc "$@"
    cat /proc/$BASHPID/fd/150 > "$outfile"
    exec 150>&-
}

# Every pid: hellos and byes alternate, end with a bye, and an exec ("x" then "B") is
# followed by a hello. Prints the first violation.
check_frames() {
    awk '
    { pid = $1; k = $2 }
    k == "H" { if (open[pid]) { print "double hello " pid; exit } open[pid] = 1; xb[pid] = 0; said[pid] = 1; next }
    k == "B" { if (!open[pid]) { print "bye without hello " pid; exit } open[pid] = 0; if (x[pid]) xb[pid] = 1; x[pid] = 0; next }
    k == "x" { x[pid] = 1 }
    { seen[pid] = 1 }
    END {
        for (p in open) if (open[p]) { print "no bye " p; exit }
        for (p in xb) if (xb[p]) { print "exec without hello " p; exit }
        for (p in seen) if (!said[p]) { print "no hello " p; exit }
    }' "$1"
}

: > "$RUNLOG"
observe chan.cat cat src/data.txt > /dev/null
grep -qx "[0-9]* r $T/src/data.txt" chan.cat || fail "observe cat: no read of data.txt"
grep -qx "[0-9]* H [0-9]* $(readlink -f "$(command -v cat)")" chan.cat || fail "observe cat: no hello"
grep -q " l /.*libc.so" chan.cat || fail "observe cat: libc not reported"
expect_eq "observe cat frames" "$(check_frames chan.cat)" ""
if grep -q ' i$' chan.cat; then fail "observe cat: stdin reported without a read"; fi

observe chan.stdin sh -c 'echo data | cat > /dev/null'
grep -q ' i$' chan.stdin || fail "observe: stdin read not reported"
observe chan.null sh -c 'cat < /dev/null'
if grep -q ' i$' chan.null; then fail "observe: /dev/null stdin reported"; fi

(cd src && observe ../chan.gcc gcc -Iprobe -Iinc -c x.c -o x.o)
[ -s src/x.o ] || fail "observe gcc: no object"
expect_eq "observe gcc frames" "$(check_frames chan.gcc)" ""
grep -qx "[0-9]* r $T/src/x.c" chan.gcc || fail "observe gcc: no read of x.c"
grep -qx "[0-9]* r $T/src/inc/h.h" chan.gcc || fail "observe gcc: no read of inc/h.h"
grep -qx "[0-9]* o $T/src/probe/h.h" chan.gcc || fail "observe gcc: probe of probe/h.h not reported"
grep -qx "[0-9]* w $T/src/x.o" chan.gcc || fail "observe gcc: no write of x.o"
grep -qE "^[0-9]+ x /.*/cc1$" chan.gcc || fail "observe gcc: exec of cc1 not reported"
grep -qE "^[0-9]+ [xs] /.*/as$" chan.gcc || fail "observe gcc: exec of as not reported"
[ "$(grep -c ' H ' chan.gcc)" -ge 3 ] || fail "observe gcc: fewer than 3 hellos"

observe chan.fake sh -c 'fakecc x y' > /dev/null
expect_eq "observe: never redirected" "$(cat "$RUNLOG")" ""
grep -qx "[0-9]* x $T/bin/fakecc" chan.fake || fail "observe: exec of fakecc not reported"
expect_eq "observe sh frames" "$(check_frames chan.fake)" ""

observe chan.spawn ./spawner p > /dev/null
grep -qx "[0-9]* s $T/bin/fakecc" chan.spawn || fail "observe: posix_spawnp not reported"
expect_eq "observe spawn frames" "$(check_frames chan.spawn)" ""
child=$(awk '$2 == "s" { print $1 }' chan.spawn)
grep -q "^$child H " chan.spawn || fail "observe: spawned child did not say hello"

(cd src && observe ../chan.mv sh -c 'echo t > tmp1 && mv tmp1 tmp2 && rm tmp2')
grep -qx "[0-9]* n $T/src/tmp1	$T/src/tmp2" chan.mv || fail "observe: rename not reported"
grep -qx "[0-9]* u $T/src/tmp2" chan.mv || fail "observe: unlink not reported"
grep -qx "[0-9]* w $T/src/tmp1" chan.mv || fail "observe: redirection write not reported"

# ".." is kept for the kernel to resolve: through a symbolic link it is the target's parent.
mkdir -p real/inc
echo common > real/common.h
echo wrong > common.h
ln -s real/inc inclink
observe chan.dotdot cat inclink/../common.h > /dev/null
grep -qx "[0-9]* r $T/inclink/../common.h" chan.dotdot || fail "observe: '..' not kept"

# An open for reading that finds nothing is "o"; a stat probe stays "m".
observe chan.o sh -c 'cat absent.a 2>/dev/null; test -e absent.b; true'
grep -qx "[0-9]* o $T/absent.a" chan.o || fail "observe: failed read-open not reported as o"
grep -qx "[0-9]* m $T/absent.b" chan.o || fail "observe: stat probe not reported as m"

# Reads of things that are not files: "z" (the run is refused); /dev/null is a file.
observe chan.z1 head -c 4 /dev/urandom > /dev/null
grep -qx "[0-9]* z /dev/urandom" chan.z1 || fail "observe: /dev/urandom read not reported as z"
observe chan.z2 bash -c 'cat <(echo x) > /dev/null'
grep -qE "^[0-9]+ z /(dev|proc/self)/fd/[0-9]+$" chan.z2 || fail "observe: <(...) not reported as z"
observe chan.z3 sh -c 'cat /dev/null; echo x > fifo.out' > /dev/null
if grep -q ' z ' chan.z3; then fail "observe: /dev/null reported as z"; fi
if grep -q ' z ' chan.gcc; then fail "observe: gcc -c reported a non-file read"; fi
# Standard input, whichever process reads it and however: a child, by name, or fortified.
observe chan.i1 sh -c 'cat /dev/stdin > /dev/null' < src/data.txt
grep -q ' i$' chan.i1 || fail "observe: /dev/stdin by name not reported as a stdin read"
observe chan.i2 sh -c 'sh -c "sed -n 1p > /dev/null"' < src/data.txt
grep -q ' i$' chan.i2 || fail "observe: a grandchild's stdin read not reported"
# A regular file through a descriptor alias is recorded under its real name.
observe chan.fd3 sh -c 'cat /dev/fd/3 > /dev/null' 3< src/data.txt
grep -qx "[0-9]* r $T/src/data.txt" chan.fd3 || fail "observe: /dev/fd/3 not resolved to its file"

# Environment reads: getenv, secure_getenv, setlocale(LC_ALL, ""), once per pair and process;
# a read made by a needed library's constructor (which runs before ours) too; the library's
# own settings never; execvp's PATH walk is a read of PATH.
cat > envreader.c <<'C'
#include <locale.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 1000; i++)
        getenv("WC_HOT");
    secure_getenv("WC_SECURE");
    setlocale(LC_ALL, "");
    setenv("WC_HOT", "derived", 1);
    getenv("WC_HOT");
    execlp("true", "true", (char *)0);
    return 1;
}
C
cat > early.c <<'C'
#include <stdlib.h>
static const char *v;
__attribute__((constructor)) static void early(void) { v = getenv("WC_EARLY"); }
const char *early_value(void) { return v; }
C
printf 'const char *early_value(void);
int main(void) { return !early_value(); }
' > emain.c
gcc -o envreader envreader.c || fail "cannot build envreader"
gcc -shared -fPIC -o libearly.so early.c && gcc -o emain emain.c -L. -learly -Wl,-rpath,"$T" ||
    fail "cannot build emain"
WC_HOT='a b' observe chan.env ./envreader
expect_eq "getenv reported once per value" "$(grep -c ' e WC_HOT=a b$' chan.env)" 1
grep -qx "[0-9]* e WC_HOT=derived" chan.env || fail "observe: a changed value not reported"
grep -qx "[0-9]* e WC_SECURE" chan.env || fail "observe: secure_getenv of an unset variable"
for v in LC_ALL LC_CTYPE LC_MESSAGES LANG LANGUAGE; do
    grep -q "^[0-9]* e $v\(=\|$\)" chan.env || fail "observe: setlocale did not report $v"
done
grep -q "^[0-9]* e PATH=" chan.env || fail "observe: execlp's PATH walk not reported"
if grep -q " e WAFCACHE_" chan.env; then fail "observe: the library's own settings reported"; fi
WC_EARLY=1 observe chan.early ./emain || fail "observe: emain lost its variable"
grep -qx "[0-9]* e WC_EARLY=1" chan.early || fail "observe: a constructor's read not reported"

# ---- WAFCACHE_HARDLINK: a shared inode is copied before it is written ----

echo old > hl.a
ln hl.a hl.b
WAFCACHE_HARDLINK=1 LD_PRELOAD=$LIB sh -c 'echo new > hl.a'
expect_eq "hardlink: written file" "$(cat hl.a)" "new"
expect_eq "hardlink: other link untouched" "$(cat hl.b)" "old"
ln -f hl.b hl.c
WAFCACHE_HARDLINK=1 LD_PRELOAD=$LIB sh -c 'echo more >> hl.b'
expect_eq "hardlink: appended copy" "$(cat hl.b)" "$(printf 'old\nmore')"
expect_eq "hardlink: appended other link untouched" "$(cat hl.c)" "old"
ln -f hl.c hl.d
LD_PRELOAD=$LIB sh -c 'echo through > hl.c'
expect_eq "hardlink off: shared write (control)" "$(cat hl.d)" "through"
ls | grep -q wccow && fail "hardlink: temporary copy left behind"

# ---- the top-level process: session and stats ----

err=$(WAFCACHE_STATS=1 LD_PRELOAD=$LIB sh -c '
    f=${WAFCACHE_SESSION#*:}
    printf qqh >> "$f"
    sh -c "printf qw >> \"\${WAFCACHE_SESSION#*:}\""
    echo "$f" > session.name
    echo "$$ $WAFCACHE_BUILD" > build.id
    exec sh -c "echo \$WAFCACHE_BUILD > build.inner"' 2>&1)
expect_eq "stats line" "$err" "wafcache stats: 3 requests, 1 hits (ratio: 33.33%), 1 writes"
[ -e "$(cat session.name)" ] && fail "stats: session file not removed"
# The build's identity: set by its first process ("<pid>.<ns>"), inherited unchanged below.
read -r _top_pid _top_id < build.id
case "$_top_id" in
"$_top_pid".[0-9]*) ;;
*) fail "build identity: '$_top_id' is not '<pid of the top-level process>.<ns>'" ;;
esac
expect_eq "build identity inherited" "$(cat build.inner)" "$_top_id"
err=$(LD_PRELOAD=$LIB sh -c 'true' 2>&1)
expect_eq "no stats unless asked" "$err" ""

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "preload_basic: all passed"
