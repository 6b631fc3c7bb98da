# The sources of wafcache_core (hashing, store, config: what the runner and the command line
# share), relative to the source root. One list for the main build and the fuzz project.
set(WC_CORE_SOURCES
  core/util.c
  core/cachedir.c
  core/redact.c
  core/config.c
  core/stats.c
  hashing/hash.c
  hashing/memo.c
  hashing/basedir.c
  hashing/signature.c
  hashing/atfile.c
  hashing/replay.c
  hashing/manifest.c
  store/dir.c
  store/trim.c
  store/entry.c
  store/cache.c
  store/declared.c
  store/cmd.c
  store/tier.c
  store/open.c
  preload/channel.c
  core/programs.c
  preload/session_print.c
)
