/* The rows of wrap.def this library wraps, as `ROW(field, sym, ret, params)`: every row in
 * the observer; the exec family and the opens (WAFCACHE_HARDLINK's copy-on-write, cow.c) in
 * the interposer. An includer defines ROW, includes this file then wrap.def (which undefines
 * the row macros), and undefines ROW. No include guard: it is included once per table. */
#ifdef WC_OBSERVE_LIB
#define WC_WRAP(field, sym, ret, params) ROW(field, sym, ret, params)
#else
#define WC_EXEC(field, sym, ret, params) ROW(field, sym, ret, params)
#define WC_OPEN(field, sym, params, args, dirfd, flags) ROW(field, sym, int, params)
#define WC_OPEN_MODE(field, sym, params, args, dirfd) ROW(field, sym, int, params)
#define WC_FOPEN(field, sym, params, args) ROW(field, sym, FILE *, params)
#define WC_WRAP(field, sym, ret, params)
#endif
