"""cachesize.py -- what a cache directory holds after a build, for bench/run's "Cache size".

Every regular file under the directory is counted (symbolic links are not followed), twice:
its apparent size (st_size, what `du -sb` adds up) and the space it takes on disk
(st_blocks, what `du -s` adds up: small files round up to a block, sparse files such as
wafcache's memo count only what is allocated). Files are sorted into three kinds:

  manifests  wafcache: a file named manifest* in an entry directory (`<sig[:2]>/<sig>/`);
             ccache: a file whose name ends in M (ccache 4's `<hash>M`)
  entries    every other file in an entry directory: outputs, metadata, streams (ccache: the
             `<hash>R` result files); the original tool: everything in its cache
  other      the cache's own files: wafcache's memo, statistics, locks, configuration;
             ccache's stats files, CACHEDIR.TAG, its configuration

Usage as a program: cachesize.py KIND DIR  (KIND: wafcache, ccache, original), or --self-test
"""

import os
import re
import stat
import sys

KINDS = ("manifests", "entries", "other")
HEX2 = re.compile(r"^[0-9a-f]{2}$")
CCACHE_ENTRY = re.compile(r"^[0-9a-z]{10,}[MR]$")


def classify(kind, rel):
    """Which of KINDS the file at rel (relative to the cache, '/'-separated) is."""
    parts = rel.split("/")
    name = parts[-1]
    if kind == "wafcache":
        if len(parts) >= 3 and HEX2.match(parts[0]):
            return "manifests" if name.startswith("manifest") else "entries"
        return "other"
    if kind == "ccache":
        if CCACHE_ENTRY.match(name):
            return "manifests" if name.endswith("M") else "entries"
        return "other"
    return "entries"


def measure(kind, root):
    """{kind of file: [apparent bytes, disk bytes, files]} and "total", or None when root is not
    a directory."""
    if not os.path.isdir(root):
        return None
    sizes = {k: [0, 0, 0] for k in KINDS + ("total",)}
    for d, dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(d, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue  # removed while walking
            if not stat.S_ISREG(st.st_mode):
                continue
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            for k in (classify(kind, rel), "total"):
                sizes[k][0] += st.st_size
                sizes[k][1] += st.st_blocks * 512
                sizes[k][2] += 1
    return sizes


# Paths as each tool lays its cache out, and the kind each must be counted as.
SAMPLE = [
    ("wafcache", "ab/ab0123456789abcdef0123456789abcd/manifest", "manifests"),
    ("wafcache", "ab/ab0123456789abcdef0123456789abcd/meta", "entries"),
    ("wafcache", "ab/ab0123456789abcdef0123456789abcd/0", "entries"),
    ("wafcache", "memo", "other"),
    ("wafcache", "stats/3", "other"),
    ("wafcache", "all.lock", "other"),
    ("ccache", "3/7/f95ub9b1pf0f2jdq41i2uleehfg46ucM", "manifests"),
    ("ccache", "3/2/793u7vund7jenu513vn2phqie6l0e72R", "entries"),
    ("ccache", "3/b/stats", "other"),
    ("ccache", "3/CACHEDIR.TAG", "other"),
    ("original", "0b/0b180f82246d726ece37c8ccd0fb1cde/0", "entries"),
]


def self_test():
    """None when every SAMPLE path is classified right, else the first that is not."""
    for kind, rel, want in SAMPLE:
        got = classify(kind, rel)
        if got != want:
            return "cachesize.py counts %s's %s as %s, expected %s" % (kind, rel, got, want)
    return None


def mb(n):
    return "%.2f MB" % (n / 1e6)


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) != 3 or sys.argv[1] not in ("wafcache", "ccache", "original"):
        sys.exit("usage: cachesize.py wafcache|ccache|original DIR")
    s = measure(sys.argv[1], sys.argv[2])
    if s is None:
        sys.exit("%s: not a directory" % sys.argv[2])
    for k in KINDS + ("total",):
        print("%-10s %s apparent, %s on disk, %d files" % (k, mb(s[k][0]), mb(s[k][1]), s[k][2]))
