/* The manifest: file "manifest" of the store entry named by key1 (hex). Written in three
 * files: the text format (manifest_text.c), the input sets and their lookup (manifest.c),
 * the explanations (manifest_explain.c). It records key1's
 * ingredients (for --explain) and the input sets seen before for that key, most recent first;
 * the first set whose inputs and probes still hold names the result entry.
 *
 * Stored compressed with zstd, one frame (manifest_store.c); a text manifest, as written before
 * that, is read too. Text format, version 4 (one item a line; strings escaped: "\\\\", "\\n",
 * "\\t", "\\r"; version 3, still read, is the same without "at" lines):
 *   wafcache-manifest 4
 *   key1 <hex>
 *   program <hex>
 *   cwd <str>
 *   abscwd <str>                   optional
 *   debugdir <str>                 optional
 *   tty <0|1> <columns>
 *   cpu <str>                      optional
 *   arg <str>                      argc times, in order
 *   set <result hex> <date 0|1> <n inputs> <n probes>
 *   at <dir>                       before any input or probe: the directory of the paths
 *                                  given as a name (no '/', not the base-dir token) below
 *   in <hex> <path>                n inputs times, sorted by path; or, stamped (memo.h),
 *   ins <hex> <dev> <ino> <size> <mtime_ns> <ctime_ns> <path>
 *   probe <path>                   n probes times, sorted
 *   pdir <dev> <ino> <size> <mtime_ns> <ctime_ns> <path>
 *                                  optional, at most n probes times, sorted
 *   pgone <path>                   optional, sorted: a missing directory of probes that the
 *                                  nearest pdir above it answers for
 *   env <NAME>=<value>             a variable the command read, with the value it had
 *   envc <NAME>=<value>            ... in its canonical form (wc_env_canonical)
 *   envu <NAME>                    ... that was unset; all optional, sorted by name, unique
 *   absent <path>                  optional, sorted: a file the command created after trying
 *                                  to read it; it must still be missing
 *   odir <path>                    optional, sorted: a directory an output is written into;
 *                                  it must exist (without it the command fails)
 *   output <path>                  optional, sorted: an output; it must be missing or a
 *                                  regular file (the command would write through a link)
 *   denied <path>                  optional, sorted: a path the command could not reach (a
 *                                  directory on the way denied this user the search); it
 *                                  must still be unreachable (wc_path_unreachable)
 *   end
 * A path is absolute, or WC_BASEDIR_TOKEN followed by "/..." for one under the first base dir;
 * an input or probe a few levels above it is recorded twice, absolute and as WC_BASEDIR_TOKEN
 * "/../x" (basedir.h wc_basedir_near, preload/runner/collect.c).
 * It may come from a store someone else controls: the parser bounds every size and refuses
 * anything it does not expect. */
#ifndef WC_MANIFEST_H
#define WC_MANIFEST_H

#include <stddef.h>
#include "hashing/basedir.h"
#include "hashing/hash.h"
#include "hashing/memo.h"
#include "hashing/signature.h"

#define WC_MANIFEST_MAX_SETS 16
#define WC_MANIFEST_MAX_LEN (64u << 20)
#define WC_MANIFEST_MAX_ITEMS (1u << 20) /* inputs, probes, arguments or variables */

struct wc_mf_input {
    char *path;
    wc_hash hash;
    int stamped;           /* stamp is known: the file's version when it had hash */
    struct wc_stamp stamp; /* not part of the result key: it only saves a memo lookup */
};

/* A directory holding probes, stamped when the set was recorded (memo.h): while it is that
 * same version, no entry was created in it since, and its probes are all still missing. */
struct wc_mf_dir {
    char *path;
    struct wc_stamp stamp;
};

/* What a set says about the places of the outputs, one list (sorted) of each. */
enum wc_mf_place {
    WC_MF_ABSENT, /* outputs a process tried to read first: an existing one is updated */
    WC_MF_ODIR,   /* directories outputs are written into: they must exist */
    WC_MF_OUTPUT, /* outputs: each missing or a regular file, no symbolic link to write through */
    WC_MF_DENIED, /* paths probed and denied: still unreachable (not an output's place, but
                   * checked the same way: one stat each, never answered by a stamp) */
    WC_MF_PLACES
};

struct wc_mf_paths {
    size_t n;
    char **v;
};

/* An environment variable the command read and inherited (preload/runner/collect.c). */
struct wc_mf_env {
    char *name;
    char *value;   /* NULL: unset */
    int canonical; /* value is wc_env_canonical's form, and so is compared */
};

#define WC_MANIFEST_MAX_ENV 65536

struct wc_mf_set {
    wc_hash result; /* the result key computed when the set was recorded */
    int date;       /* an input uses __DATE__/__TIMESTAMP__ and SOURCE_DATE_EPOCH was unset */
    size_t n_inputs;
    struct wc_mf_input *inputs;
    size_t n_probes;
    char **probes;
    size_t n_dirs;          /* not part of the result key: they only save a stat per probe */
    struct wc_mf_dir *dirs; /* sorted by path */
    /* Not part of the result key either: directories of probes that were missing, each
     * answered by the stamped directory nearest above it (wc_mf_set_stamp_dirs). Sorted. */
    size_t n_gone;
    char **gone;
    /* The outputs' places before the run (issue 12), part of the result key: a hit must end
     * as the real command would. Never answered by a directory stamp (the outputs were
     * created in those directories before the stamps were taken). */
    struct wc_mf_paths places[WC_MF_PLACES];
    size_t n_env;
    struct wc_mf_env *env; /* sorted by name, unique (wc_mf_set_env_canonical) */
};

typedef struct wc_manifest {
    wc_key1 k1; /* key1's ingredients; k1.key is key1 */
    size_t n_sets;
    struct wc_mf_set sets[WC_MANIFEST_MAX_SETS];
} wc_manifest;

/* malloc'd text; NULL on OOM. */
char *wc_manifest_format(const wc_manifest *m, size_t *len);
/* The stored form (manifest_store.c): the text compressed with zstd. malloc'd; NULL on OOM. */
char *wc_manifest_encode(const wc_manifest *m, size_t *len);
/* A stored manifest, compressed or (as written before compression) text: as
 * wc_manifest_parse. */
int wc_manifest_decode(const char *buf, size_t len, wc_manifest *m);
/* 0, -EINVAL (garbage, or a version we do not know) or -ENOMEM; m is freeable either way. */
int wc_manifest_parse(const char *buf, size_t len, wc_manifest *m);
void wc_manifest_free(wc_manifest *m);

/* Deep copy of key1's ingredients into m->k1. 0 or -ENOMEM. */
int wc_manifest_set_key1(wc_manifest *m, const wc_key1 *k);

/* Put set s (moved: *s is zeroed) first; drop an older set with the same inputs and probes,
 * and the oldest beyond WC_MANIFEST_MAX_SETS. */
void wc_manifest_add(wc_manifest *m, struct wc_mf_set *s);

/* Sort a set's inputs, probes, absent outputs and output directories by path and drop
 * repeats: the canonical order that the result key and the manifest use. */
void wc_mf_set_canonical(struct wc_mf_set *s);
/* Sort a set's variables by name; of two with one name the first added stays. */
void wc_mf_set_env_canonical(struct wc_mf_set *s);
void wc_mf_set_free(struct wc_mf_set *s);

/* The result key: key1, the set's inputs, probes and variables (canonical order), and date
 * ("YYYY-MM-DD", or NULL for today) when the set depends on the date. */
void wc_result_key(const wc_hash *key1, const struct wc_mf_set *s, const char *date, wc_hash *out);

/* Stamp the existing directories that hold s's probes (canonical), after the probes were
 * found still missing; for a missing one, stamp the nearest existing directory above it and,
 * when the first missing component has no entry there (lstat), list it in s->gone. Only
 * settled directories are stamped (the memo's racy rule). 0 or -ENOMEM. */
int wc_mf_set_stamp_dirs(struct wc_mf_set *s, const wc_basedirs *bd);

/* Today's date as __DATE__ sees it (local time), "YYYY-MM-DD". */
void wc_today(char buf[11]);

/* The manifest form of an absolute path: WC_BASEDIR_TOKEN + rest when under the first base
 * dir (the one wc_basedir_expand gives back), else the path. A path with ".." components is
 * kept as the kernel resolves it, and takes the token only when its lexical normal form is
 * under that base dir too: "<base>/../other/x.h" names a file outside the checkout, which
 * the token would move along with it. malloc'd. */
char *wc_mf_path_store(const wc_basedirs *bd, const char *abs);
/* The inverse. malloc'd. */
char *wc_mf_path_resolve(const wc_basedirs *bd, const char *stored);

/* Walk the sets: for each, every recorded variable must have its value (or be unset) in envp,
 * every input must hash (memo) to its recorded hash and every probe must still be missing.
 * Returns the index of the first set that matches, with its result key (recomputed with date
 * when the set depends on it) in *result, or -1. */
int wc_manifest_lookup(const wc_manifest *m, const wc_basedirs *bd, wc_memo *memo,
                       char *const *envp, const char *date, wc_hash *result);

/* One recorded item against the files and the environment now, as a lookup checks it (for
 * the explanations): a variable with its recorded value (or still unset), a probe still
 * missing, a place of the outputs as recorded. 1 when it holds. */
int wc_mf_env_holds(const struct wc_mf_env *e, char *const *envp, const wc_basedirs *bd);
int wc_mf_probe_holds(const char *stored, const wc_basedirs *bd);
int wc_mf_place_holds(enum wc_mf_place k, const char *stored, const wc_basedirs *bd);

/* The canonical form of a variable's value, for the variables that have one, when the
 * processes that read it are compilers and linkers (wc_channel_is_tool) -- what of the value
 * can change their outputs:
 *   PATH: without the absolute entries that are missing or that this user cannot search
 *     (another user's "/root/.cargo/bin"): the programs looked for there are probes of the
 *     set, and the entries are checked again at each lookup, so one that appears or becomes
 *     searchable changes the form;
 *   DEPENDENCIES_OUTPUT, SUNPRO_DEPENDENCIES ("file" or "file target"): the file, where gcc
 *     writes the dependency rules, in stored form (wc_mf_path_store: it is an output, restored
 *     relative to the base dir); the target, which is written into the file, as it is.
 * *out gets a malloc'd string. 1, 0 when name has no canonical form, -ENOMEM. */
int wc_env_canonical(const char *name, const char *value, const wc_basedirs *bd, char **out);

/* path cannot be reached by this user as a call on it resolved it: stat fails with EACCES (a
 * directory on the way denies the search), or it is a directory that denies it ("dir/." as
 * the observer reports it, "." removed). 1 when so. */
int wc_path_unreachable(const char *path);

/* NAME's value in envp ("NAME=value" strings), or NULL. */
const char *wc_env_value(char *const *envp, const char *name);

/* ---- wafcache --explain / WAFCACHE_EXPLAIN -------------------------------------------------- */

/* Receives one line of an explanation (no newline, no prefix). */
typedef void (*wc_explain_fn)(void *ctx, const char *line);

/* What names "the same command" across changes of its arguments, for the explain index
 * (<cache>/explain/<id>, the last key1 stored for it): key1's relative working directory and
 * the output argument ("-o x.o", "-ox.o", "--output=x.o"), or, without one, every argument
 * that is not an option (the sources of `gcc -c x.c`, the operands of `ar`). The program is
 * left out, so that a changed compiler is explained too. */
void wc_explain_id(const wc_key1 *k, wc_hash *out);

/* Tell every difference between key1's ingredients as recorded (was) and now: program
 * content, arguments (changed, added, removed), working directory, terminal, CPU. (The
 * environment is in the input sets.) Returns how many lines were said. */
size_t wc_key1_diff(const wc_key1 *was, const wc_key1 *now, wc_explain_fn say, void *ctx);

/* Walk m's input sets as a lookup does, and tell about the closest one (fewest differences,
 * the most recent on a tie): which variables differ from envp, which inputs changed or
 * vanished, which probed paths now exist. Paths are shown relative to cwd when given. Returns
 * the index of a set that matches (then nothing is said), or -1. */
int wc_manifest_explain(const wc_manifest *m, const wc_basedirs *bd, wc_memo *memo,
                        char *const *envp, const char *cwd, wc_explain_fn say, void *ctx);

#endif
