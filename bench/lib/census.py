"""census.py -- count every command a build runs, from an strace of its execs and forks.

Why strace: wafcache's library logs only the programs it hands to its runner, so the steps it
does not intercept (bison, sh/python scripts, mkdir...) leave no trace in WAFCACHE_LOG, and
make/ninja/waf each print their commands differently (waf prints none for its Python-function
tasks, make hides `@` recipes). The kernel sees every exec whatever runs it, and strace records
it with its argv and with the fork that made the process, which is what is needed to tell a
build step from the programs that step itself runs (gcc's cc1, as, collect2, ld).

What counts as one command: a successful exec made by the build tool itself, i.e. by a process
whose ancestors since the build started are only "drivers": the traced top process (make,
`python3 waf`), make/gmake/ninja (recursive builds), `sh -c`/`bash -c` (make's recipe
shells, waf's shell=True rules) and waf's process pool (`python -c <waf's processor.py>`, which
runs the tasks' commands for waf): these are looked through, the programs they run are the
commands. Everything a command runs in turn (gcc's cc1, a script's children) is part of that
one command. Configure-style `$(shell ...)` probes of a Makefile count: the build runs them.

Usage as a program: census.py TRACE   prints the count and the commands by program.
"""

import collections
import os
import re
import sys

# strace -f prefixes each line with the pid; -s: long enough for argv[2] of waf's pool.
STRACE_ARGS = ["strace", "-f", "-q", "--seccomp-bpf", "-s", "100", "-e", "signal=none",
               "-e", "trace=execve,execveat,clone,clone3,fork,vfork"]

LINE = re.compile(r"^(\d+)\s+(.*)$")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
RESULT = re.compile(r"\)\s*=\s*(-?\d+)")
FORKS = ("clone(", "clone3(", "fork(", "vfork(")
DRIVERS = {"make", "gmake", "ninja"}
SHELLS = {"sh", "bash", "dash"}
INTERPRETERS = ("python", "perl", "sh", "bash", "dash")


def parse_exec(rest):
    """filename and argv of an `execve("f", ["a", ...], ...` line (argv may be cut by -s)."""
    strings = QUOTED.findall(rest)
    if not strings:
        return None
    bracket = rest.find("[")
    argv = QUOTED.findall(rest[bracket:]) if bracket >= 0 else []
    if rest.startswith("execveat("):  # execveat(dirfd, "path", [argv], ...)
        return strings[0], argv
    return strings[0], argv


def read_trace(lines):
    """(execs, forks, root): execs[(pid, life)] = [(index, filename, argv)] of successful
    execs; forks[(child, life)] = (parent key, index of the fork's return); root = first key.
    A pid that exited and came back (pid reuse) is a new life."""
    life = collections.Counter()
    execs = collections.defaultdict(list)
    forks = {}
    pending = {}
    root = None
    for i, line in enumerate(lines):
        m = LINE.match(line)
        if not m:
            continue
        pid, rest = int(m.group(1)), m.group(2)
        key = (pid, life[pid])
        if root is None:
            root = key
        if rest.startswith("+++ exited") or rest.startswith("+++ killed"):
            life[pid] += 1
            continue
        if rest.startswith(("execve(", "execveat(")):
            pending[pid] = parse_exec(rest)
            if rest.endswith("<unfinished ...>"):
                continue
        elif rest.startswith("<... execve") or rest.startswith("<... execveat"):
            pass
        elif rest.startswith(FORKS) or rest.startswith(tuple("<... " + f[:-1] for f in FORKS)):
            if rest.endswith("<unfinished ...>"):
                continue
            r = RESULT.search(rest)
            if r and int(r.group(1)) > 0:
                child = int(r.group(1))
                forks[(child, life[child])] = (key, i)
            continue
        else:
            continue
        r = RESULT.search(rest)
        got = pending.pop(pid, None)
        if r and int(r.group(1)) == 0 and got:
            execs[key].append((i, got[0], got[1]))
    return execs, forks, root


def is_driver(filename, argv):
    name = os.path.basename(filename)
    if name in DRIVERS:
        return True
    # `sh -c '...'` (also -ec, -xc): a recipe's shell; `sh script` is a command
    if name in SHELLS and len(argv) > 1 and argv[1].startswith("-") and "c" in argv[1]:
        return True
    # waf's process pool: `python -c <waflib/processor.py>` runs the tasks' commands for waf
    return name.startswith("python") and argv[1:2] == ["-c"] and "waf.io" in "".join(argv[2:3])


def label(filename, argv):
    """The program's name; for an interpreter running a script, `python3 script`."""
    name = os.path.basename(filename)
    if name.startswith(INTERPRETERS) and len(argv) > 1:
        if "-c" in argv[1:3]:
            return name + " -c"
        if not argv[1].startswith("-"):
            return "%s %s" % (name, os.path.basename(argv[1]))
    return name


class Census:
    def __init__(self, lines):
        self.execs, self.forks, self.root = read_trace(lines)
        self.timeline = {}  # key -> [(index, inside a command after that exec)]
        self.commands = collections.Counter()
        for key in set(self.execs) | set(self.forks):
            self._walk(key)

    def _state_at(self, key, index):
        """Inside a command at that point of the trace?"""
        state = self._inherited(key)
        for i, inside in self._walk(key):
            if i < index:
                state = inside
        return state

    def _inherited(self, key):
        if key not in self.forks:
            return False
        parent, index = self.forks[key]
        return self._state_at(parent, index)

    def _walk(self, key):
        if key in self.timeline:
            return self.timeline[key]
        self.timeline[key] = []  # a cycle (garbled trace) ends here
        state, out = self._inherited(key), []
        for i, filename, argv in self.execs.get(key, []):
            if not state and key != self.root and not is_driver(filename, argv):
                self.commands[label(filename, argv)] += 1
                state = True
            out.append((i, state))
        self.timeline[key] = out
        return out

    def total(self):
        return sum(self.commands.values())

    def summary(self, top=12):
        """`N commands: gcc 180, python3 x 3, ...` (the most frequent first)."""
        most = self.commands.most_common()
        words = ["%s %d" % (name, n) for name, n in most[:top]]
        if len(most) > top:
            words.append("%d others %d" % (len(most) - top, sum(n for _, n in most[top:])))
        return "%d commands: %s" % (self.total(), ", ".join(words))


# A trace with what strace does to a build's lines: a call cut by another process's line
# (<unfinished ...> / <... resumed>), the child's exec printed before its parent's vfork
# returns, execvp's failed tries, a recipe shell, waf's pool, and a pid used twice.
SAMPLE = r"""10 execve("/usr/bin/make", ["make", "-j2"], 0x1 /* 3 vars */) = 0
10 vfork( <unfinished ...>
11 execve("/bin/sh", ["/bin/sh", "-c", "bison x.y && cc -c x.c"], 0x2 /* 3 vars */ <unfinished ...>
10 <... vfork resumed>)              = 11
11 <... execve resumed>)             = 0
11 clone(child_stack=NULL, flags=SIGCHLD) = 12
12 execve("/usr/local/bin/bison", ["bison", "x.y"], 0x3 /* 3 vars */) = -1 ENOENT (No such file)
12 execve("/usr/bin/bison", ["bison", "x.y"], 0x3 /* 3 vars */) = 0
12 clone(child_stack=NULL, flags=SIGCHLD) = 13
13 execve("/usr/bin/m4", ["m4"], 0x3 /* 3 vars */) = 0
13 +++ exited with 0 +++
12 +++ exited with 0 +++
11 clone(child_stack=NULL, flags=SIGCHLD) = 13
13 execve("/usr/bin/cc", ["cc", "-c", "x.c"], 0x3 /* 3 vars */) = 0
13 clone(child_stack=NULL, flags=SIGCHLD) = 14
14 execve("/usr/lib/gcc/cc1", ["cc1"], 0x3 /* 3 vars */) = 0
10 clone(child_stack=NULL, flags=SIGCHLD) = 15
15 execve("/usr/bin/python3", ["python3", "-c", "# WARNING! Do not edit! https://waf.io/book/"], 0x4) = 0
15 clone(child_stack=NULL, flags=SIGCHLD) = 16
16 execve("/usr/bin/python3", ["python3", "gen.py"], 0x4 /* 3 vars */) = 0
"""
SAMPLE_WANT = {"bison": 1, "cc": 1, "python3 gen.py": 1}


def self_test():
    """None when the census counts SAMPLE right, else what it counted."""
    got = dict(Census(SAMPLE.splitlines()).commands)
    return None if got == SAMPLE_WANT else "census.py counts %r in its sample, expected %r" % (got, SAMPLE_WANT)


def census_of(path):
    with open(path, errors="replace") as f:
        return Census(f.read().splitlines())


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) != 2:
        sys.exit("usage: census.py STRACE_OUTPUT | --self-test")
    c = census_of(sys.argv[1])
    print(c.summary(top=1000))
