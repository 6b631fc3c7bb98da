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
  hashing/manifest_text.c
  hashing/manifest_explain.c
  hashing/manifest_store.c
  store/store.c
  store/dir.c
  store/dir_walk.c
  store/trim.c
  store/entry.c
  store/cache.c
  store/declared.c
  store/declared_gen.c
  store/tier.c
  store/guard.c
  store/open.c
  store/module.c
  preload/channel.c
  core/programs.c
  preload/session_print.c
)

# The backends' own files come from core/backends.def, so that a new backend is its file and
# one line there: each row's constructor wc_NAME_open lives in store/NAME.c, in the core
# (IN_CORE) or in the remote module (IN_MODULE, WC_REMOTE_BACKEND_SOURCES).
set(WC_REMOTE_BACKEND_SOURCES)
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/../core/backends.def" wc_backend_rows REGEX "^WC_BACKEND\\(")
foreach(row ${wc_backend_rows})
  if(NOT row MATCHES "^WC_BACKEND\\([^,]+,[^,]+,[^,]+, *wc_([a-z0-9_]+)_open, *(IN_CORE|IN_MODULE)")
    message(FATAL_ERROR "core/backends.def: cannot read the row: ${row}")
  endif()
  if(CMAKE_MATCH_2 STREQUAL "IN_CORE")
    list(APPEND WC_CORE_SOURCES store/${CMAKE_MATCH_1}.c)
  else()
    list(APPEND WC_REMOTE_BACKEND_SOURCES store/${CMAKE_MATCH_1}.c)
  endif()
endforeach()
list(REMOVE_DUPLICATES WC_CORE_SOURCES)
list(REMOVE_DUPLICATES WC_REMOTE_BACKEND_SOURCES)
