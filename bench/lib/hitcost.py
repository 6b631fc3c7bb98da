"""hitcost.py -- what one hit costs, against an exec of a static no-op program (issue 16, goal 3).

The project's compile commands (cwd and argv each), after its warm builds, are run one by one by
bench/lib/spawn.c (posix_spawnp then wait, timed per command, as ninja starts its commands)
under `LD_PRELOAD=libwafcache.so`, with the cache the last round's cold build filled:

  hit, same tree      in the tree of the last warm build: every input's stamp is in the memo
  hit, fresh checkout in a copy of that tree at another absolute path made just before (cp -a:
                      every file a new inode, no stamp matches: the CI case); the copy's first
                      and only pass, so a header shared by several commands is hashed by the
                      first one only if the runners share what they hashed
  static no-op        the same commands with argv[0] replaced by a static `int main(void)
                      { return 0; }` (bench/lib/noop.c): what starting the smallest program
                      costs the build, through the library (its posix_spawn wrapper runs, the
                      no-op itself loads nothing)
  static no-op, bare  the same without LD_PRELOAD (the spawner then loads no library at all)

The variants alternate, their order rotating, `reps` times; each pass runs every command once.
Per-exec times are pooled over the passes: median and p95. Every hit pass must be all hits
(the cache's statistics, `wafcache -s --json`, before and after): a pass that is not is kept
out and said, and its variant is not run again (its misses run the compiler: minutes a pass).
"""

import json
import os
import shutil
import subprocess

VARIANTS = ("hit-same", "hit-fresh", "noop", "noop-bare")
LABELS = {
    "hit-same": "hit, same tree",
    "hit-fresh": "hit, fresh checkout at another path",
    "noop": "static no-op, through the library",
    "noop-bare": "static no-op, no LD_PRELOAD",
}


def build_tools(d, run):
    """Compiles the spawner and the static no-op into d; returns (spawn, noop) or an error."""
    here = os.path.dirname(os.path.abspath(__file__))
    spawn, noop = os.path.join(d, "spawn"), os.path.join(d, "noop")
    logf = os.path.join(d, "cc.log")
    if run(["cc", "-O2", "-o", spawn, os.path.join(here, "spawn.c")], out=logf, check=False):
        return None, "cannot compile bench/lib/spawn.c (see %s)" % logf
    if run(["cc", "-O2", "-static", "-o", noop, os.path.join(here, "noop.c")], out=logf, check=False):
        return None, "cannot link a static program (libc6-dev's libc.a?) (see %s)" % logf
    return (spawn, noop), None


def write_list(path, commands):
    """commands: [(cwd, argv)] -> spawn.c's LIST format."""
    with open(path, "wb") as f:
        for cwd, argv in commands:
            for s in [cwd] + list(argv):
                f.write(s.encode() + b"\0")
            f.write(b"\0")


def relocate(commands, old, new):
    """The commands with every occurrence of the tree's path old replaced by new."""
    def r(s):
        return s.replace(old, new)
    return [(r(cwd), [r(a) for a in argv]) for cwd, argv in commands]


def cache_hits(cli, cache, env):
    p = subprocess.run([cli, "-d", cache, "-s", "--json"], env=env, capture_output=True, text=True)
    try:
        return int(json.loads(p.stdout)["hits"])
    except (ValueError, KeyError, TypeError):
        return None


class HitCost:
    def __init__(self, work, spawn, noop, cli):
        self.work, self.spawn, self.noop, self.cli = work, spawn, noop, cli
        self.times = {v: [] for v in VARIANTS}  # seconds per exec, pooled over passes
        self.notes = []
        self.commands = 0
        # variants whose pass missed: each miss runs the compiler, a pass would take minutes
        self.given_up = set()

    def one_pass(self, variant, commands, env, cache):
        """Runs the commands once with spawn.c; their times, or None (said in notes)."""
        lst = os.path.join(self.work, "list")
        out = os.path.join(self.work, "times")
        write_list(lst, commands)
        before = cache_hits(self.cli, cache, env) if variant.startswith("hit") else None
        rc = subprocess.call([self.spawn, lst, out], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        ns = [int(line.split()[0]) for line in open(out)]
        if rc != 0:
            self.notes.append("%s: a command failed (spawn exit %d); pass left out" % (variant, rc))
            return None
        if before is not None:
            after = cache_hits(self.cli, cache, env)
            if after is None or after - before != len(commands):
                self.notes.append("%s: %s hits of %d commands; pass left out, and the later passes "
                                  "of this variant not run" % (
                                      variant, "?" if after is None else after - before, len(commands)))
                self.given_up.add(variant)
                return None
        return [x / 1e9 for x in ns]

    def measure(self, tree, commands, env_for, cache, reps, copytree, rmtree):
        """env_for(tree, preload) -> the environment of a pass in tree."""
        self.commands = len(commands)
        noop_cmds = [(cwd, [self.noop] + argv[1:]) for cwd, argv in commands]
        for rep in range(reps):
            k = rep % len(VARIANTS)
            for variant in VARIANTS[k:] + VARIANTS[:k]:
                if variant in self.given_up:
                    continue
                where, cmds = tree, commands
                if variant == "hit-fresh":
                    where = os.path.join(self.work, "fresh-%d" % rep, "another", "checkout")
                    copytree(tree, where)
                    cmds = relocate(commands, tree, where)
                elif variant.startswith("noop"):
                    cmds = noop_cmds
                env = env_for(where, variant != "noop-bare")
                got = self.one_pass(variant, cmds, env, cache)
                if got:
                    self.times[variant] += got
                if variant == "hit-fresh":
                    rmtree(os.path.dirname(os.path.dirname(where)))
